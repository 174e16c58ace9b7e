/*
 * test_wait.c — boot tests of the timed and interruptible waits
 * (kernel/waitq.h, waitgroup.h, sched.h) and of task interruption, the
 * mechanism behind Ctrl-C.
 *
 * Each test has a helper task or a timer do the other side: set the
 * condition, interrupt the waiter, or do nothing so that the deadline is
 * what ends the wait.  Waits must never end early; how late they end is
 * for `make bench`, not for a test.
 */
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "kernel/waitq.h"
#include "lib/ktest.h"

#define MS 1000000ULL

struct wait_case {
	struct waitq wq;
	volatile bool flag;
	struct task *waiter;
	u64 delay_ns;
};

static bool flag_set(void *arg)
{
	return ((struct wait_case *)arg)->flag;
}

static void set_flag_later(void *arg)
{
	struct wait_case *c = arg;

	sched_sleep_ns(c->delay_ns);
	c->flag = true;
	waitq_wake_all(&c->wq);
}

static void interrupt_later(void *arg)
{
	struct wait_case *c = arg;

	sched_sleep_ns(c->delay_ns);
	task_interrupt(c->waiter);
}

static void wait_case_init(struct wait_case *c, u64 delay_ns)
{
	waitq_init(&c->wq);
	c->flag = false;
	c->waiter = task_current();
	c->delay_ns = delay_ns;
}

KTEST(wait, condition_ends_the_wait)
{
	struct wait_case c;
	struct task *t;

	wait_case_init(&c, 20 * MS);
	KT_ASSERT((t = task_create("setter", set_flag_later, &c, TASK_ANY_CPU)));
	KT_EXPECT_EQ(waitq_wait_timeout(&c.wq, flag_set, &c, 5000 * MS), 0);
	KT_EXPECT(c.flag);
	task_join(t);
}

KTEST(wait, a_true_condition_returns_at_once)
{
	struct wait_case c;

	wait_case_init(&c, 0);
	c.flag = true;
	KT_EXPECT_EQ(waitq_wait_timeout(&c.wq, flag_set, &c, 0), 0);
	KT_EXPECT_EQ(waitq_wait_interruptible(&c.wq, flag_set, &c, 1 * MS), 0);
}

KTEST(wait, deadline_ends_the_wait_never_early)
{
	struct wait_case c;

	wait_case_init(&c, 0);
	for (u64 ms = 1; ms <= 31; ms += 15) {
		u64 t0 = time_ns();

		KT_EXPECT_EQ(waitq_wait_timeout(&c.wq, flag_set, &c, ms * MS), -ETIMEDOUT);
		KT_EXPECT(time_ns() - t0 >= ms * MS);
	}
}

KTEST(wait, interrupt_ends_an_interruptible_wait)
{
	struct wait_case c;
	struct task *t;

	task_clear_interrupt();
	wait_case_init(&c, 20 * MS);
	KT_ASSERT((t = task_create("interrupter", interrupt_later, &c, TASK_ANY_CPU)));
	KT_EXPECT_EQ(waitq_wait_interruptible(&c.wq, flag_set, &c, 0), -EINTR);
	KT_EXPECT(task_interrupted());
	task_join(t);
	/* Still marked: the next interruptible wait returns at once ... */
	KT_EXPECT_EQ(waitq_wait_interruptible(&c.wq, flag_set, &c, 0), -EINTR);
	/* ... and an uninterruptible one does not care. */
	KT_EXPECT_EQ(waitq_wait_timeout(&c.wq, flag_set, &c, 5 * MS), -ETIMEDOUT);
	task_clear_interrupt();
	KT_EXPECT(!task_interrupted());
	KT_EXPECT_EQ(waitq_wait_interruptible(&c.wq, flag_set, &c, 5 * MS), -ETIMEDOUT);
}

KTEST(wait, interrupt_ends_an_interruptible_sleep)
{
	struct wait_case c;
	struct task *t;
	u64 t0 = time_ns();

	task_clear_interrupt();
	wait_case_init(&c, 20 * MS);
	KT_ASSERT((t = task_create("interrupter", interrupt_later, &c, TASK_ANY_CPU)));
	KT_EXPECT_EQ(sched_sleep_interruptible(60000 * MS), -EINTR);
	KT_EXPECT(time_ns() - t0 < 60000 * MS);
	task_join(t);
	task_clear_interrupt();
	KT_EXPECT_EQ(sched_sleep_interruptible(2 * MS), 0);
}

KTEST(wait, interrupt_ends_a_waitgroup_wait)
{
	struct wait_case c;
	struct waitgroup wg;
	struct task *t;

	task_clear_interrupt();
	wait_case_init(&c, 20 * MS);
	waitgroup_init(&wg);
	waitgroup_add(&wg, 1);
	KT_ASSERT((t = task_create("interrupter", interrupt_later, &c, TASK_ANY_CPU)));
	KT_EXPECT_EQ(waitgroup_wait_interruptible(&wg, 0), -EINTR);
	task_join(t);
	KT_EXPECT_EQ(waitgroup_wait(&wg, 5 * MS), -ETIMEDOUT); /* uninterruptible */
	task_clear_interrupt();
	waitgroup_done(&wg);
	KT_EXPECT_EQ(waitgroup_wait_interruptible(&wg, 0), 0);
}

/* Many short waits whose deadline and wake-up race: none may be lost,
 * and every timer is gone when its wait returns (the waits' frames are
 * reused at once by the next iteration). */
KTEST(wait, racing_wakeups_and_deadlines)
{
	struct wait_case c;
	struct task *t;
	unsigned woken = 0;

	wait_case_init(&c, 0);
	for (unsigned i = 0; i < 40; i++) {
		int rc;

		c.flag = false;
		c.delay_ns = (i % 4) * MS;
		KT_ASSERT((t = task_create("setter", set_flag_later, &c, TASK_ANY_CPU)));
		rc = waitq_wait_timeout(&c.wq, flag_set, &c, (i % 3) * MS + 1);
		KT_EXPECT(rc == 0 || rc == -ETIMEDOUT);
		woken += rc == 0;
		task_join(t);
		KT_EXPECT(c.flag);
	}
	KT_EXPECT_EQ(waitq_wait_timeout(&c.wq, flag_set, &c, 1 * MS), 0);
	ktest_log(kt, "%u of 40 racing waits saw the condition before the deadline", woken);
}
