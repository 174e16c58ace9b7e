/*
 * selftest.h — running the in-kernel tests (lib/ktest.h) on the machine.
 */
#ifndef NOS_SELFTEST_H
#define NOS_SELFTEST_H

#include "compiler.h"
#include "types.h"

/*
 * Kernel parameter `selftest`: run every test, print the results on the
 * console, and leave QEMU through isa-debug-exit with DEBUG_EXIT_PASS or
 * DEBUG_EXIT_FAIL (config.h).  Never returns.
 */
__noreturn void selftest_boot_and_exit(void);

/*
 * How much later than on an idle host a boot test lets a sleep, a timer or
 * a tick be before it calls it a failure: the parameter `selftest.slack=N`
 * (1-1000; a bad value is reported in dmesg), 10 without it.  Tests keep
 * their "never early" checks exact and multiply only their upper bounds by
 * this.  Any context.
 */
u64 selftest_slack(void);

#endif
