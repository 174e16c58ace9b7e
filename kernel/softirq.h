/*
 * softirq.h — deferred work raised by interrupt handlers.
 *
 * A hard-IRQ handler does the minimum and raises a SoftIrq; each CPU's
 * softirq task ("softirq/N") then runs the handler of every pending type,
 * with interrupts on and in task context (it may take spinlocks but must
 * not sleep for long: other SoftIrqs wait behind it).  A type raised on a
 * CPU runs on that CPU.  Each type counts its runs per CPU.
 */
#ifndef NOS_SOFTIRQ_H
#define NOS_SOFTIRQ_H

#include "types.h"
#include "config.h"

enum softirq_type {
	SOFTIRQ_TIMER,
	SOFTIRQ_NET_RX,
	SOFTIRQ_NET_TX,
	SOFTIRQ_BLOCK,
	SOFTIRQ_TCP_TIMER,
	SOFTIRQ_TYPES
};

typedef void (*softirq_fn)(void);

/* Set the handler of @type (once, at boot). */
void softirq_register(enum softirq_type type, softirq_fn fn);
/* Mark @type pending on this CPU and wake its softirq task.  Any context. */
void softirq_raise(enum softirq_type type);
/* Start the softirq task of every online CPU. */
void softirq_init(void);
u64 softirq_count(enum softirq_type type, unsigned cpu);
const char *softirq_name(enum softirq_type type);

#endif
