/*
 * watchdog.h — noticing a CPU that stopped ticking, or that ran too long
 * with preemption or interrupts off.
 */
#ifndef NOS_WATCHDOG_H
#define NOS_WATCHDOG_H

#include "types.h"

struct regs;

/* From each CPU's timer tick, with the frame of the interrupted code. */
void watchdog_tick(const struct regs *interrupted);
/* From the NMI handler: true when the NMI was the watchdog's request. */
bool watchdog_nmi(const struct regs *r);

#endif
