/*
 * waitgroup.h — wait for a number of things to finish.
 *
 * waitgroup_add(n) before starting n pieces of work, waitgroup_done() as
 * each finishes (any context, IRQ handlers included), waitgroup_wait() in
 * the task that needs them all.  Done without a matching add (the count
 * going below zero) is a kernel bug and panics.
 */
#ifndef NOS_WAITGROUP_H
#define NOS_WAITGROUP_H

#include "types.h"
#include "kernel/spinlock.h"
#include "kernel/waitq.h"

struct waitgroup {
	spinlock_t lock;   /* count */
	s64 count;         /* [lock] */
	struct waitq wait; /* tasks in waitgroup_wait() */
};

void waitgroup_init(struct waitgroup *wg);
void waitgroup_add(struct waitgroup *wg, s64 n);
void waitgroup_done(struct waitgroup *wg);
/* Wait until the count is 0: 0, or -ETIMEDOUT after @timeout_ns (0: no limit). */
int waitgroup_wait(struct waitgroup *wg, u64 timeout_ns);
/* The same, and -EINTR when the task is interrupted (Ctrl-C); the work
 * still in flight must then be waited out or cancelled by the caller. */
int waitgroup_wait_interruptible(struct waitgroup *wg, u64 timeout_ns);
s64 waitgroup_count(struct waitgroup *wg);

#endif
