/*
 * waitq.c — wait queues (see waitq.h).
 */
#include "kernel/waitq.h"
#include "kernel/sched.h"

void waitq_init(struct waitq *wq)
{
	wq->lock = (spinlock_t)SPINLOCK_INIT;
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
