/*
 * power.h — stopping and restarting the machine.
 */
#ifndef NOS_POWER_H
#define NOS_POWER_H

#include "compiler.h"
#include "types.h"

/* Restart the machine; tries each reset method in turn, never returns. */
__noreturn void power_reboot(void);
/* Stop this CPU for good (interrupts off, hlt). */
__noreturn void power_halt(void);
/* Leave QEMU through isa-debug-exit with @code (see config.h); halts when
 * the device is absent. */
__noreturn void power_qemu_exit(u8 code);

#endif
