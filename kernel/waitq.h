/*
 * waitq.h — wait queues: where tasks sleep until something happens.
 *
 * A waiter marks itself BLOCKED and joins the queue under the queue's lock,
 * drops it, checks its condition and schedules; waitq_wake_all() makes
 * every queued task runnable.  Because the state is set before the check,
 * a wake-up between the check and schedule() is not lost (see sched.h).
 */
#ifndef NOS_WAITQ_H
#define NOS_WAITQ_H

#include "types.h"
#include "kernel/spinlock.h"
#include "lib/list.h"

struct task;

struct waitq {
	spinlock_t lock;          /* waiters */
	struct list_head waiters; /* struct waitq_entry */
};

struct waitq_entry {
	struct task *task;
	struct list_head link;
};

void waitq_init(struct waitq *wq);
/* Join @wq as the current task, BLOCKED; then check and schedule(). */
void waitq_prepare(struct waitq *wq, struct waitq_entry *e);
/* Leave @wq (always, after waking), RUNNING again. */
void waitq_finish(struct waitq *wq, struct waitq_entry *e);
void waitq_wake_all(struct waitq *wq);
void waitq_wake_one(struct waitq *wq);

#endif
