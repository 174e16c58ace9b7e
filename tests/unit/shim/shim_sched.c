/*
 * shim_sched.c — the scheduler a host unit test runs under: one test task,
 * one SoftIrq task, and waits that let the world run instead of sleeping.
 *
 * The kernel's rule is kept as written in kernel/sched.h: a waiter marks
 * itself BLOCKED before it checks its condition, and only task_wake() makes
 * it RUNNING again.  schedule() with the test task BLOCKED is where the
 * kernel would switch away; here the world runs instead — pending SoftIrqs
 * first, then the clock jumps to the next timer — until something wakes
 * the task.  If nothing is left that could (no SoftIrq pending, no timer
 * armed) the task would sleep forever, and that panics, as does a sleep
 * that ten minutes of simulated time do not end.
 *
 * Because waking is simulated faithfully, so are its bugs.  A waker that
 * changes the condition but forgets to wake leaves the waiter asleep: with
 * no deadline that is the panic above, and with one the waiter is woken by
 * its deadline timer alone and finds the condition true — which the
 * kernel would hide as a late return, and the shim panics on as a lost
 * wake-up.
 *
 * Sleeping where the kernel must not (SoftIrq or IRQ context, a spinlock
 * held, interrupts off, preemption disabled) panics before the sleep.  A
 * wait whose condition already holds does not sleep and is allowed anywhere
 * a task could call it, as in the kernel.
 *
 * waitq and waitgroup follow kernel/waitq.h and kernel/waitgroup.h, with
 * the kernel's locks and ranks, so the lock checks see the same nesting.
 */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/shim_priv.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/lock_order.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "kernel/waitq.h"

#include <string.h>

#define SLEEP_MAX_NS (600ULL * 1000000000ULL)

static struct task test_task = {
	.lock = SPINLOCK_INIT_RANKED("task", LOCK_RANK_TASK),
	.pid = 1,
	.name = "unit-test",
	.state = TASK_RUNNING,
	.affinity = TASK_ANY_CPU,
};

static struct task softirq_task = {
	.lock = SPINLOCK_INIT_RANKED("task", LOCK_RANK_TASK),
	.pid = 2,
	.name = "softirq/0",
	.state = TASK_RUNNING,
	.affinity = 0,
};

static unsigned wake_calls; /* task_wake() of the test task during its sleep */

struct task *shim_test_task(void)
{
	return &test_task;
}

struct task *shim_softirq_task(void)
{
	return &softirq_task;
}

struct task *task_current(void)
{
	return shim_cpu.curr ? shim_cpu.curr : &test_task;
}

void task_wake(struct task *t)
{
	u64 flags = spin_lock_irqsave(&t->lock);

	if (t == &test_task)
		wake_calls++;
	if (t->state == TASK_BLOCKED)
		t->state = TASK_RUNNING;
	spin_unlock_irqrestore(&t->lock, flags);
}

void sched_set_blocked(void)
{
	WRITE_ONCE(task_current()->state, TASK_BLOCKED);
}

void sched_set_running(void)
{
	WRITE_ONCE(task_current()->state, TASK_RUNNING);
}

void task_interrupt(struct task *t)
{
	WRITE_ONCE(t->interrupted, true);
	task_wake(t);
}

bool task_interrupted(void)
{
	return shim_context() != SHIM_CTX_IRQ && READ_ONCE(task_current()->interrupted);
}

void task_clear_interrupt(void)
{
	WRITE_ONCE(task_current()->interrupted, false);
}

/* Let the world run until the test task is woken. */
static void sleep_until_woken(void)
{
	u64 start = time_ns();

	while (READ_ONCE(test_task.state) == TASK_BLOCKED) {
		if (!shim_world_step(start + SLEEP_MAX_NS)) {
			if (time_ns() - start >= SLEEP_MAX_NS || shim_clock_next() != ~0ULL)
				panic("a sleep went on for %llu s of simulated time and nothing woke "
				      "it", (unsigned long long)(SLEEP_MAX_NS / 1000000000ULL));
			panic("the task would sleep forever: nothing is left to wake it (no "
			      "SoftIrq pending, no timer armed)");
		}
	}
}

void schedule(void)
{
	shim_check_may_sleep("schedule()");
	if (READ_ONCE(test_task.state) == TASK_BLOCKED)
		sleep_until_woken();
	else
		shim_softirq_run(); /* a yield: whatever else is ready runs */
}

void sched_yield(void)
{
	schedule();
}

static void sleep_wake(struct ktimer *t, void *arg)
{
	task_wake(arg);
}

static int sleep_ns(u64 ns, bool interruptible)
{
	u64 deadline = time_ns() + ns;
	struct ktimer timer;
	int rc = 0;

	shim_check_may_sleep("sched_sleep_ns()");
	ktimer_init(&timer, sleep_wake, &test_task);
	ktimer_start(&timer, ns, 0);
	for (;;) {
		sched_set_blocked();
		if (interruptible && task_interrupted()) {
			rc = -EINTR;
			break;
		}
		if (time_ns() >= deadline)
			break;
		schedule();
	}
	sched_set_running();
	ktimer_cancel(&timer);
	return rc;
}

void sched_sleep_ns(u64 ns)
{
	sleep_ns(ns, false);
}

int sched_sleep_interruptible(u64 ns)
{
	return sleep_ns(ns, true);
}

void shim_sched_frame_end(struct shim_frame *f)
{
	if (!f->outer) {
		test_task.interrupted = false; /* the shell clears it before each command */
		test_task.state = TASK_RUNNING;
	}
}

/* ---------------------------------------------------------- wait queues */

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

struct deadline {
	struct task *task;
	bool fired;
	struct waitq *wq;       /* for the cleanup after a panic in the wait */
	struct waitq_entry *e;
	bool queued;            /* e is on wq */
};

/* A panic inside the wait: leave the queue (the timer is disarmed anyway). */
static void wait_unwind(void *arg)
{
	struct deadline *d = arg;

	if (d->queued)
		list_del(&d->e->link);
	d->task->state = TASK_RUNNING;
}

static void wait_join(struct deadline *d)
{
	waitq_prepare(d->wq, d->e);
	d->queued = true;
}

static void wait_leave(struct deadline *d)
{
	waitq_finish(d->wq, d->e);
	d->queued = false;
}

static void deadline_fn(struct ktimer *t, void *arg)
{
	struct deadline *d = arg;

	d->fired = true;
	task_wake(d->task);
}

/* One round: 0 / -EINTR / -ETIMEDOUT to return, 1 to sleep. */
static int wait_verdict(waitq_cond_fn cond, void *arg, bool interruptible, u64 deadline)
{
	if (cond(arg))
		return 0;
	if (interruptible && task_interrupted())
		return -EINTR;
	if (time_ns() >= deadline)
		return -ETIMEDOUT;
	return 1;
}

static int wait_common(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 timeout_ns,
		       bool interruptible)
{
	u64 deadline = timeout_ns ? time_ns() + timeout_ns : ~0ULL;
	struct waitq_entry e;
	struct deadline d = { task_current(), false, wq, &e, false };
	struct shim_cleanup cleanup;
	struct ktimer timer;
	int rc;

	shim_cleanup_push(&cleanup, wait_unwind, &d);
	ktimer_init(&timer, deadline_fn, &d);
	if (timeout_ns)
		ktimer_start(&timer, timeout_ns, 0);
	for (;;) {
		wait_join(&d);
		rc = wait_verdict(cond, arg, interruptible, deadline);
		if (rc <= 0)
			break;
		d.fired = false;
		wake_calls = 0;
		schedule();
		wait_leave(&d);
		if (d.fired && wake_calls == 1 && cond(arg))
			panic("lost wake-up: the wait's condition became true, but only its "
			      "deadline woke the waiter");
	}
	wait_leave(&d);
	ktimer_cancel(&timer);
	shim_cleanup_pop(&cleanup);
	return rc;
}

int waitq_wait_timeout(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 timeout_ns)
{
	return wait_common(wq, cond, arg, timeout_ns, false);
}

int waitq_wait_interruptible(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 timeout_ns)
{
	return wait_common(wq, cond, arg, timeout_ns, true);
}

/* ---------------------------------------------------------- wait groups */

void waitgroup_init(struct waitgroup *wg)
{
	spin_lock_init_ranked(&wg->lock, "waitgroup", LOCK_RANK_WAITGROUP);
	wg->count = 0;
	waitq_init(&wg->wait);
}

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

int waitgroup_wait(struct waitgroup *wg, u64 timeout_ns)
{
	return waitq_wait_timeout(&wg->wait, wg_zero, wg, timeout_ns);
}

int waitgroup_wait_interruptible(struct waitgroup *wg, u64 timeout_ns)
{
	return waitq_wait_interruptible(&wg->wait, wg_zero, wg, timeout_ns);
}
