/*
 * waitq.h — wait queues: where tasks sleep until something happens.
 *
 * A waiter marks itself BLOCKED and joins the queue under the queue's lock,
 * drops it, checks its condition and schedules; waitq_wake_all() makes
 * every queued task runnable.  Because the state is set before the check,
 * a wake-up between the check and schedule() is not lost (see sched.h).
 *
 * Most callers want the whole loop: waitq_wait_timeout() sleeps until a
 * condition holds or a deadline passes, and waitq_wait_interruptible()
 * also gives up when the task is interrupted (Ctrl-C in the shell, see
 * task_interrupt() in sched.h).  Every wait in a command a user runs
 * should be the interruptible one: a user must always get the prompt back.
 *
 * Lock order: a waitq's lock is taken before a task's lock (waking takes
 * it inside the queue's lock): see kernel/lock_order.h.
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

/* A wait's condition: true when the waiter may go on.  Called with no lock
 * held, possibly many times; it must not sleep. */
typedef bool (*waitq_cond_fn)(void *arg);

/*
 * Sleep on @wq until @cond(@arg) is true.  Returns 0 once it is, or
 * -ETIMEDOUT when @timeout_ns (0: no limit) pass first.  The condition is
 * checked once more at the deadline, so a wake-up racing the timeout wins.
 * Task context only.
 */
int waitq_wait_timeout(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 timeout_ns);
/* The same, and -EINTR as soon as the task is interrupted (task_interrupted()). */
int waitq_wait_interruptible(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 timeout_ns);
void waitq_wake_one(struct waitq *wq);

#endif
