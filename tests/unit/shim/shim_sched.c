/*
 * shim_sched.c — the scheduler a host unit test runs under: one test task,
 * one SoftIrq task, and a schedule() that lets the world run instead of
 * switching away.
 *
 * The waits are the kernel's own: kernel/waitq.c and kernel/waitgroup.c are
 * compiled for the host unchanged, over the primitives defined here
 * (task_current, task_wake, sched_set_blocked/_running, schedule,
 * task_interrupt ...).  The rule of kernel/sched.h holds: a waiter marks
 * itself BLOCKED before it checks its condition, and only task_wake() makes
 * it RUNNING again.  schedule() with the test task BLOCKED is where the
 * kernel would switch away; here the world runs instead — pending SoftIrqs
 * first, then the clock jumps to the next timer — until something wakes
 * the task.  If nothing is left that could (no SoftIrq pending, no timer
 * armed) the task would sleep forever, and that panics, as does a sleep
 * that ten minutes of simulated time do not end.
 *
 * Lost wake-ups.  Because waking is simulated faithfully, so are its bugs:
 * a waker that makes the condition true but forgets to wake leaves the
 * waiter asleep, which the kernel would hide as a late return at the
 * deadline, or a hang.  A wait-queue waiter re-checks its condition every
 * time it is woken (the kernel wakes spuriously too: task_interrupt(), a
 * queue shared by waiters with different conditions), so whenever the world
 * has run everything due and the waiter still sleeps, schedule() returns
 * anyway to let it look.  A waiter that then finds its condition true
 * leaves the wait without having been woken — sched_set_running() from
 * BLOCKED, not from a wake-up — and that panics as a lost wake-up.
 *
 * Panics inside a wait.  A panic longjmps over the waiting frames, whose
 * wait entry is still on the queue.  waitq_prepare() marks the task
 * BLOCKED with the queue's lock held (kernel/waitq.h), so
 * sched_set_blocked() finds the queue as the innermost lock held and the
 * entry as its last waiter, and pushes a cleanup (shim_priv.h) that
 * unlinks it; sched_set_running() (from waitq_finish()) pops it.  The
 * wait's deadline timer is disarmed like every timer armed since the catch
 * point.
 *
 * Sleeping where the kernel must not (SoftIrq or IRQ context, a spinlock
 * held, interrupts off, preemption disabled) panics before the sleep.  A
 * wait whose condition already holds does not sleep and is allowed anywhere
 * a task could call it, as in the kernel.
 *
 * sched_sleep_ns() is not host code in the kernel (kernel/sched.c is the
 * real scheduler); here it is a timed wait on a queue of its own, for a
 * condition that never comes true.
 */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/shim_priv.h"
#include "errno.h"
#include "kernel/lock_order.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "kernel/waitq.h"

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

/* The test task's wait entry between waitq_prepare() and waitq_finish(). */
static struct {
	struct waitq *wq;          /* NULL: on no queue */
	struct waitq_entry *e;
	struct shim_cleanup cleanup;
} queued;

static bool probed;     /* schedule() returned unwoken, for the waiter to look */
static u64 sleep_start; /* when this sleep began (a look does not end it) */

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

	if (t->state == TASK_BLOCKED)
		t->state = TASK_RUNNING;
	spin_unlock_irqrestore(&t->lock, flags);
}

static bool test_task_runs(void)
{
	return task_current() == &test_task && shim_context() == SHIM_CTX_TASK;
}

/* A panic in the wait: take the entry off its queue while its frame exists. */
static void queued_unwind(void *arg)
{
	list_del(&queued.e->link);
	queued.wq = NULL;
}

/* In waitq_prepare(), with the queue's lock held: remember the entry just queued. */
static void note_queued(void)
{
	const struct shim_held *h;
	struct waitq_entry *e;
	struct waitq *wq;

	if (queued.wq || !shim_cpu.nheld)
		return;
	h = &shim_cpu.held[shim_cpu.nheld - 1];
	if (h->mutex || h->rank != LOCK_RANK_WAITQ)
		return;
	wq = container_of((spinlock_t *)(uintptr_t)h->lock, struct waitq, lock);
	if (list_empty(&wq->waiters))
		return;
	e = list_last_entry(&wq->waiters, struct waitq_entry, link);
	if (e->task != &test_task)
		return;
	queued.wq = wq;
	queued.e = e;
	shim_cleanup_push(&queued.cleanup, queued_unwind, NULL);
}

void sched_set_blocked(void)
{
	WRITE_ONCE(task_current()->state, TASK_BLOCKED);
	if (test_task_runs())
		note_queued();
}

void sched_set_running(void)
{
	struct task *t = task_current();

	if (test_task_runs() && probed && t->state == TASK_BLOCKED)
		shim_panic_at(NULL, 0, "lost wake-up: the wait's condition became true, but nothing "
				       "woke the waiter (it found it true at %llu ns, when the shim "
				       "let it look)", (unsigned long long)time_ns());
	if (test_task_runs() && queued.wq) {
		shim_cleanup_pop(&queued.cleanup);
		queued.wq = NULL;
	}
	WRITE_ONCE(t->state, TASK_RUNNING);
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

static __noreturn void sleep_endless(void)
{
	if (time_ns() - sleep_start >= SLEEP_MAX_NS || shim_clock_next() != ~0ULL)
		panic("a sleep went on for %llu s of simulated time and nothing woke it",
		      (unsigned long long)(SLEEP_MAX_NS / 1000000000ULL));
	panic("the task would sleep forever: nothing is left to wake it (no SoftIrq pending, "
	      "no timer armed)");
}

/*
 * Let the world run until the test task is woken — or, for a waiter on a
 * wait queue, until everything due has run after at least one step: then
 * return unwoken, so that it looks at its condition (see the top).
 */
static void sleep_until_woken(void)
{
	bool stepped = false;

	while (READ_ONCE(test_task.state) == TASK_BLOCKED) {
		if (stepped && queued.wq && shim_world_quiet()) {
			probed = true;
			WRITE_ONCE(test_task.state, TASK_RUNNING);
			return;
		}
		if (!shim_world_step(sleep_start + SLEEP_MAX_NS))
			sleep_endless();
		stepped = true;
	}
}

void schedule(void)
{
	shim_check_may_sleep("schedule()");
	if (READ_ONCE(test_task.state) != TASK_BLOCKED) {
		shim_softirq_run(); /* a yield: whatever else is ready runs */
		return;
	}
	if (!probed)
		sleep_start = time_ns();
	probed = false; /* it looked, and sleeps on */
	sleep_until_woken();
}

void sched_yield(void)
{
	schedule();
}

static bool never(void *arg)
{
	return false;
}

static int sleep_ns(u64 ns, bool interruptible)
{
	struct waitq wq;
	int rc;

	shim_check_may_sleep("sched_sleep_ns()");
	waitq_init(&wq);
	ns = MAX(ns, 1); /* a timeout of 0 would be none */
	rc = interruptible ? waitq_wait_interruptible(&wq, never, NULL, ns)
			   : waitq_wait_timeout(&wq, never, NULL, ns);
	return rc == -EINTR ? rc : 0;
}

void sched_sleep_ns(u64 ns)
{
	sleep_ns(ns, false);
}

int sched_sleep_interruptible(u64 ns)
{
	return sleep_ns(ns, true);
}

void shim_sched_save(struct shim_sleep_save *s)
{
	s->state = test_task.state;
	s->probed = probed;
}

void shim_sched_restore(const struct shim_sleep_save *s)
{
	test_task.state = s->state;
	probed = s->probed;
}

void shim_sched_frame_end(struct shim_frame *f)
{
	if (queued.wq) {
		shim_report_test(f->kt, "the test returned on a wait queue (waitq_prepare() "
				 "without waitq_finish())");
		shim_cleanup_pop(&queued.cleanup);
		queued_unwind(NULL);
		test_task.state = TASK_RUNNING;
	}
	if (!f->outer) {
		test_task.interrupted = false; /* the shell clears it before each command */
		test_task.state = TASK_RUNNING;
		probed = false;
	}
}
