/*
 * time.h — the kernel's clock, for now the TSC calibrated against the PIT.
 *
 * time_ns() counts nanoseconds since kernel entry (the TSC value boot.asm
 * read first thing); it reads 0 until time_init() has calibrated the TSC.
 * The interrupts/time issue layers kvmclock, the calibrated TSC and the PIT
 * tick behind this same interface.
 */
#ifndef NOS_TIME_H
#define NOS_TIME_H

#include "types.h"

void time_init(u64 entry_tsc);
u64 time_ns(void);
/* Convert a TSC difference to nanoseconds (0 before calibration). */
u64 time_tsc_to_ns(u64 cycles);
u64 time_tsc_hz(void);
/* Busy-wait at least @us microseconds. */
void time_udelay(u64 us);

#endif
