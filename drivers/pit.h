/*
 * pit.h — the 8254 programmable interval timer: channel 0 as the periodic
 * tick, and channel 2, whose output can be read back through port 0x61, as
 * a stopwatch that needs no interrupts (TSC calibration).
 */
#ifndef NOS_PIT_H
#define NOS_PIT_H

#include "types.h"

#define PIT_HZ 1193182u

/* Program channel 0 to interrupt (IRQ 0) @hz times a second. */
void pit_start_periodic(unsigned hz);

/* Start channel 2 counting down @ticks once (1 ≤ ticks ≤ 65535). */
void pit_ch2_start(u16 ticks);
/* True once the count started by pit_ch2_start() reached zero. */
bool pit_ch2_done(void);

#endif
