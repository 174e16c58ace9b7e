/*
 * waitgroup.c — see waitgroup.h.  A timed wait arms a one-shot timer that
 * wakes the waiter; the waiter re-checks the count each time it wakes, so
 * a wake-up from the timer and one from the last done() are alike.
 */
#include "kernel/waitgroup.h"
#include "kernel/lock_order.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/panic.h"
#include "kernel/sched.h"
#include "kernel/time.h"

void waitgroup_init(struct waitgroup *wg)
{
	spin_lock_init_ranked(&wg->lock, "waitgroup", LOCK_RANK_WAITGROUP);
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

static bool wg_zero(void *arg)
{
	return READ_ONCE(((struct waitgroup *)arg)->count) == 0;
}

static int wg_wait(struct waitgroup *wg, u64 timeout_ns, bool interruptible)
{
	int rc = interruptible ? waitq_wait_interruptible(&wg->wait, wg_zero, wg, timeout_ns)
			       : waitq_wait_timeout(&wg->wait, wg_zero, wg, timeout_ns);

	/* Wait out a done() that is still inside waitgroup_add(). */
	spin_unlock_irqrestore(&wg->lock, spin_lock_irqsave(&wg->lock));
	return rc;
}

int waitgroup_wait(struct waitgroup *wg, u64 timeout_ns)
{
	return wg_wait(wg, timeout_ns, false);
}

int waitgroup_wait_interruptible(struct waitgroup *wg, u64 timeout_ns)
{
	return wg_wait(wg, timeout_ns, true);
}
