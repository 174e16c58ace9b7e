/*
 * waitgroup.c — see waitgroup.h.  A timed wait arms a one-shot timer that
 * wakes the waiter; the waiter re-checks the count each time it wakes, so
 * a wake-up from the timer and one from the last done() are alike.
 */
#include "kernel/waitgroup.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/time.h"

void waitgroup_init(struct waitgroup *wg)
{
	wg->lock = (spinlock_t)SPINLOCK_INIT;
	wg->count = 0;
	waitq_init(&wg->wait);
}

/*
 * The wake-up happens under wg->lock, and waitgroup_wait() takes the lock
 * before returning: a waiter that saw the count reach 0 cannot return (and
 * free the wait group) while the last done() still touches it.
 */
void waitgroup_add(struct waitgroup *wg, s64 n)
{
	u64 flags = spin_lock_irqsave(&wg->lock);

	wg->count += n;
	if (wg->count < 0)
		panic("waitgroup: count went negative (%lld)", (long long)wg->count);
	if (!wg->count)
		waitq_wake_all(&wg->wait);
	spin_unlock_irqrestore(&wg->lock, flags);
}

void waitgroup_done(struct waitgroup *wg)
{
	waitgroup_add(wg, -1);
}

s64 waitgroup_count(struct waitgroup *wg)
{
	return READ_ONCE(wg->count);
}

static void wg_timeout(struct ktimer *t, void *arg)
{
	task_wake(arg);
}

int waitgroup_wait(struct waitgroup *wg, u64 timeout_ns)
{
	u64 deadline = timeout_ns ? time_ns() + timeout_ns : ~0ULL;
	struct waitq_entry e;
	struct ktimer timer;
	int rc = 0;

	ktimer_init(&timer, wg_timeout, task_current());
	if (timeout_ns)
		ktimer_start(&timer, timeout_ns, 0);
	for (;;) {
		waitq_prepare(&wg->wait, &e);
		if (READ_ONCE(wg->count) == 0)
			break;
		if (time_ns() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		schedule();
		waitq_finish(&wg->wait, &e);
	}
	waitq_finish(&wg->wait, &e);
	ktimer_cancel(&timer);
	/* Wait out a done() that is still inside waitgroup_add(). */
	spin_unlock_irqrestore(&wg->lock, spin_lock_irqsave(&wg->lock));
	return rc;
}
