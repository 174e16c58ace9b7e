/*
 * timerq.h — an ordered queue of timers, the pure part of kernel timers.
 *
 * Timers are kept sorted by expiry; timers with the same expiry keep the
 * order they were added in.  No locking and no clock here: kernel/ktimer.c
 * holds the lock and supplies "now", and the host unit tests drive it.
 */
#ifndef NOS_TIMERQ_H
#define NOS_TIMERQ_H

#include "types.h"
#include "lib/list.h"

struct ktimer;
typedef void (*ktimer_fn)(struct ktimer *t, void *arg);

struct ktimer {
	u64 expires;            /* [q] absolute, in time_ns() nanoseconds */
	u64 period;             /* [q] 0: one-shot */
	ktimer_fn fn;           /* [I] called in SoftIrq context */
	void *arg;              /* [I] */
	bool queued;            /* [q] */
	int cpu;                /* [q] whose queue holds it */
	struct list_head link;  /* [q] */
};

struct timerq {
	struct list_head timers; /* sorted by expires */
	unsigned count;
};

void timerq_init(struct timerq *q);
void timerq_add(struct timerq *q, struct ktimer *t);
/* Remove @t; false when it was not queued. */
bool timerq_remove(struct timerq *q, struct ktimer *t);
/* Remove and return the earliest timer with expires <= @now, or NULL. */
struct ktimer *timerq_pop_expired(struct timerq *q, u64 now);
/* Expiry of the earliest timer, or ~0 when empty. */
u64 timerq_next(const struct timerq *q);

#endif
