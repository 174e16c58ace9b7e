/*
 * selftest.h — running the in-kernel tests (lib/ktest.h) on the machine.
 */
#ifndef NOS_SELFTEST_H
#define NOS_SELFTEST_H

#include "compiler.h"

/*
 * Kernel parameter `selftest`: run every test, print the results on the
 * console, and leave QEMU through isa-debug-exit with DEBUG_EXIT_PASS or
 * DEBUG_EXIT_FAIL (config.h).  Never returns.
 */
__noreturn void selftest_boot_and_exit(void);

#endif
