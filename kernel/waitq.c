/*
 * waitq.c — wait queues (see waitq.h).
 */
#include "kernel/waitq.h"
#include "kernel/lock_order.h"
#include "kernel/sched.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/time.h"

void waitq_init(struct waitq *wq)
{
	spin_lock_init_ranked(&wq->lock, "waitq", LOCK_RANK_WAITQ);
	list_init(&wq->waiters);
}

void waitq_prepare(struct waitq *wq, struct waitq_entry *e)
{
	u64 flags = spin_lock_irqsave(&wq->lock);

	e->task = task_current();
	list_add_tail(&e->link, &wq->waiters);
	sched_set_blocked();
	spin_unlock_irqrestore(&wq->lock, flags);
}

void waitq_finish(struct waitq *wq, struct waitq_entry *e)
{
	u64 flags;

	sched_set_running();
	flags = spin_lock_irqsave(&wq->lock);
	list_del(&e->link);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void waitq_wake_all(struct waitq *wq)
{
	u64 flags = spin_lock_irqsave(&wq->lock);
	struct waitq_entry *e;

	list_for_each_entry(e, &wq->waiters, link)
		task_wake(e->task);
	spin_unlock_irqrestore(&wq->lock, flags);
}

void waitq_wake_one(struct waitq *wq)
{
	u64 flags = spin_lock_irqsave(&wq->lock);

	if (!list_empty(&wq->waiters))
		task_wake(list_first_entry(&wq->waiters, struct waitq_entry, link)->task);
	spin_unlock_irqrestore(&wq->lock, flags);
}

static void waitq_deadline(struct ktimer *tm, void *arg)
{
	task_wake(arg);
}

static int waitq_wait_common(struct waitq *wq, waitq_cond_fn cond, void *arg,
			     u64 timeout_ns, bool interruptible)
{
	u64 deadline = timeout_ns ? time_ns() + timeout_ns : ~0ULL;
	struct waitq_entry e;
	struct ktimer timer;
	int rc;

	ktimer_init(&timer, waitq_deadline, task_current());
	if (timeout_ns)
		ktimer_start(&timer, timeout_ns, 0);
	for (;;) {
		waitq_prepare(wq, &e);
		if (cond(arg))
			rc = 0;
		else if (interruptible && task_interrupted())
			rc = -EINTR;
		else if (time_ns() >= deadline)
			rc = -ETIMEDOUT;
		else
			rc = 1;
		if (rc <= 0)
			break;
		schedule();
		waitq_finish(wq, &e);
	}
	waitq_finish(wq, &e);
	ktimer_cancel(&timer); /* waits out a callback that is still running */
	return rc;
}

int waitq_wait_timeout(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 timeout_ns)
{
	return waitq_wait_common(wq, cond, arg, timeout_ns, false);
}

int waitq_wait_interruptible(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 timeout_ns)
{
	return waitq_wait_common(wq, cond, arg, timeout_ns, true);
}
