/*
 * test_sched.c — boot tests of tasks, the scheduler and the synchronisation
 * primitives, on every CPU the machine has.
 *
 * Tolerances are about correctness under emulation (a TCG CPU can stall for
 * a long time when the host is busy), never about speed: fairness asks
 * every task for at least a quarter of the mean CPU time; sleeps and timers
 * are never early, exactly, and may be late by up to what an idle host needs
 * times selftest_slack() (`selftest.slack=N`).  How late they really are is
 * logged, and `make bench` reports it.
 */
#include "errno.h"
#include "drivers/lapic.h"
#include "kernel/irq.h"
#include "kernel/ktimer.h"
#include "kernel/mutex.h"
#include "kernel/percpu.h"
#include "kernel/random.h"
#include "kernel/sched.h"
#include "kernel/selftest.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"

#define MS 1000000ULL

static u64 free_pages_now(void)
{
	struct page_stats st;

	kmalloc_shrink();
	page_alloc_stats(&st);
	return st.free;
}

static void exit_with_arg(void *arg)
{
	task_exit((int)(uintptr_t)arg);
}

static void create_and_join(unsigned n)
{
	struct task *t[24];

	for (unsigned i = 0; i < n; i++)
		t[i] = task_create("warm-up", exit_with_arg, NULL, TASK_ANY_CPU);
	for (unsigned i = 0; i < n; i++)
		if (t[i])
			task_join(t[i]);
}

KTEST(sched, tasks_exit_are_joined_and_freed)
{
	struct task *t[24];
	u64 before;
	int last_pid = 0;

	/* Page tables for new stack slots stay once made: make them first. */
	create_and_join(ARRAY_SIZE(t));
	before = free_pages_now();
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++) {
		t[i] = task_create("exit-test", exit_with_arg, (void *)(uintptr_t)(i + 7),
				   TASK_ANY_CPU);
		KT_ASSERT(t[i] != NULL);
		KT_EXPECT(t[i]->pid > last_pid); /* pids only grow */
		last_pid = t[i]->pid;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
		KT_EXPECT_EQ(task_join(t[i]), (int)i + 7);
	KT_EXPECT_EQ(free_pages_now(), before);
}

struct spin_share {
	volatile bool stop;
	volatile u64 loops;
};

static void spin_until_stop(void *arg)
{
	struct spin_share *s = arg;

	while (!s->stop)
		__atomic_fetch_add(&s->loops, 1, __ATOMIC_RELAXED);
}

KTEST(sched, busy_tasks_all_get_cpu_time)
{
	static struct spin_share share;
	struct task *t[12];
	unsigned n = 3 * smp_cpu_count();
	u64 ns[12], sum = 0, min = ~0ULL;

	if (n > ARRAY_SIZE(t))
		n = ARRAY_SIZE(t);
	share.stop = false;
	for (unsigned i = 0; i < n; i++)
		KT_ASSERT((t[i] = task_create("busy", spin_until_stop, &share, TASK_ANY_CPU)));
	sched_sleep_ns(600 * MS);
	for (unsigned i = 0; i < n; i++) {
		ns[i] = task_cpu_ns(t[i]);
		sum += ns[i];
		min = MIN(min, ns[i]);
	}
	share.stop = true;
	for (unsigned i = 0; i < n; i++)
		task_join(t[i]);
	/* Nobody starves: everyone got at least a quarter of the mean. */
	KT_EXPECT(min * 4 * n >= sum);
	if (kt->failures)
		ktest_log(kt, "min %llu ns, mean %llu ns over %u tasks", (unsigned long long)min,
			  (unsigned long long)(sum / n), n);
}

struct counter_share {
	struct mutex lock;
	u64 value;
	unsigned rounds;
};

static void count_under_mutex(void *arg)
{
	struct counter_share *c = arg;

	for (unsigned i = 0; i < c->rounds; i++) {
		mutex_lock(&c->lock);
		u64 v = c->value;

		if (i % 64 == 0)
			sched_yield(); /* hold the mutex across a switch now and then */
		c->value = v + 1;
		mutex_unlock(&c->lock);
	}
}

KTEST(sync, mutex_increments_are_exact)
{
	static struct counter_share c;
	struct task *t[8];

	mutex_init(&c.lock, "test");
	c.value = 0;
	c.rounds = 2000;
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
		KT_ASSERT((t[i] = task_create("mutex", count_under_mutex, &c, TASK_ANY_CPU)));
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
		task_join(t[i]);
	KT_EXPECT_EQ(c.value, ARRAY_SIZE(t) * 2000ULL);
	KT_EXPECT(!mutex_held(&c.lock));
	KT_EXPECT(mutex_trylock(&c.lock));
	mutex_unlock(&c.lock);
}

#define VECTOR_TEST 0xE8

static spinlock_t shared_lock = SPINLOCK_INIT("shared");
static volatile u64 irq_side, task_side;

static enum irq_result test_irq(void *arg)
{
	u64 flags = spin_lock_irqsave(&shared_lock);

	irq_side++;
	spin_unlock_irqrestore(&shared_lock, flags);
	return IRQ_HANDLED;
}

/* The task holds the lock with interrupts off and sends itself the
 * interrupt that wants it: irqsave must make the handler wait, not spin. */
KTEST(sync, spinlock_shared_with_an_irq_handler)
{
	static bool registered;

	if (!registered)
		KT_ASSERT_EQ(irq_request_vector(VECTOR_TEST, test_irq, NULL, "selftest"), 0);
	registered = true;
	irq_side = task_side = 0;
	for (unsigned i = 0; i < 2000; i++) {
		u64 flags = spin_lock_irqsave(&shared_lock);

		lapic_send_ipi(this_cpu()->apic_id, IPI_FIXED, VECTOR_TEST);
		task_side++;
		spin_unlock_irqrestore(&shared_lock, flags);
	}
	sched_sleep_ns(20 * MS);
	KT_EXPECT_EQ(task_side, 2000);
	KT_EXPECT(irq_side >= 1); /* self-IPIs sent while one is pending merge */
}

static void sleep_then_done(void *arg)
{
	struct waitgroup *wg = arg;

	sched_sleep_ns((5 + time_ns() % 20) * MS);
	waitgroup_done(wg);
}

KTEST(sync, waitgroup_with_and_without_timeout)
{
	struct waitgroup wg;
	struct task *t[6];
	u64 t0;

	waitgroup_init(&wg);
	waitgroup_add(&wg, ARRAY_SIZE(t));
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
		KT_ASSERT((t[i] = task_create("wg", sleep_then_done, &wg, TASK_ANY_CPU)));
	KT_EXPECT_EQ(waitgroup_wait(&wg, 0), 0);
	KT_EXPECT_EQ(waitgroup_count(&wg), 0);
	for (unsigned i = 0; i < ARRAY_SIZE(t); i++)
		task_join(t[i]);
	waitgroup_add(&wg, 1);
	t0 = time_ns();
	KT_EXPECT_EQ(waitgroup_wait(&wg, 50 * MS), -ETIMEDOUT);
	KT_EXPECT(time_ns() - t0 >= 50 * MS);
	waitgroup_done(&wg);
	KT_EXPECT_EQ(waitgroup_wait(&wg, 50 * MS), 0);
}

/* Never early; how late is only logged ("sleep late max ..." for bench). */
KTEST(sched, sleep_lasts_at_least_its_duration)
{
	u64 late_max = 0, late_sum = 0;
	unsigned n = 0;

	for (unsigned ms = 1; ms <= 40; ms += 13) {
		u64 t0 = time_ns(), took;

		sched_sleep_ns(ms * MS);
		took = time_ns() - t0;
		KT_EXPECT(took >= ms * MS);
		if (took >= ms * MS) {
			late_max = MAX(late_max, took - ms * MS);
			late_sum += took - ms * MS;
			n++;
		}
	}
	if (n)
		ktest_log(kt, "sleep late max %llu us, mean %llu us over %u sleeps",
			  (unsigned long long)(late_max / 1000),
			  (unsigned long long)(late_sum / n / 1000), n);
}

struct fired {
	unsigned order[5];
	u64 late[5];
	u64 start;
	unsigned n;
	struct waitgroup wg;
};

static struct fired fired;

static void record_fire(struct ktimer *t, void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;

	fired.late[i] = time_ns() - t->expires;
	fired.order[fired.n++] = i;
	waitgroup_done(&fired.wg);
}

KTEST(timer, one_shots_fire_in_order_never_early)
{
	static const unsigned delay_ms[5] = { 50, 10, 40, 20, 30 };
	static const unsigned expect[5] = { 1, 3, 4, 2, 0 };
	static struct ktimer tm[5];
	u64 late_max = 0, late_sum = 0;

	memset(&fired, 0, sizeof(fired));
	waitgroup_init(&fired.wg);
	waitgroup_add(&fired.wg, 5);
	for (unsigned i = 0; i < 5; i++) {
		ktimer_init(&tm[i], record_fire, (void *)(uintptr_t)i);
		ktimer_start(&tm[i], delay_ms[i] * MS, 0);
	}
	KT_ASSERT_EQ(waitgroup_wait(&fired.wg, 2000 * MS * selftest_slack()), 0);
	for (unsigned i = 0; i < 5; i++) {
		KT_EXPECT_EQ(fired.order[i], expect[i]);
		/* fired, and not much later than due */
		KT_EXPECT(fired.late[i] < 300 * MS * selftest_slack());
		late_max = MAX(late_max, fired.late[i]);
		late_sum += fired.late[i];
	}
	ktest_log(kt, "timer late max %llu us, mean %llu us over 5 one-shots",
		  (unsigned long long)(late_max / 1000), (unsigned long long)(late_sum / 5 / 1000));
}

static volatile unsigned periodic_hits;

static void periodic_fire(struct ktimer *t, void *arg)
{
	periodic_hits++;
}

KTEST(timer, periodic_fires_until_cancelled)
{
	static struct ktimer tm;
	u64 give_up = time_ns() + 120 * MS * selftest_slack();
	unsigned seen;

	periodic_hits = 0;
	ktimer_init(&tm, periodic_fire, NULL);
	ktimer_start(&tm, 10 * MS, 10 * MS);
	sched_sleep_ns(120 * MS);
	while (periodic_hits < 3 && time_ns() < give_up) /* a stalled host */
		sched_sleep_ns(10 * MS);
	KT_EXPECT(ktimer_cancel(&tm) || periodic_hits > 0);
	seen = periodic_hits;
	KT_EXPECT(seen >= 3);
	sched_sleep_ns(60 * MS);
	KT_EXPECT_EQ(periodic_hits, seen); /* nothing after the cancel */
	/* A cancelled one-shot never fires. */
	periodic_hits = 0;
	ktimer_start(&tm, 20 * MS, 0);
	KT_EXPECT(ktimer_cancel(&tm));
	sched_sleep_ns(50 * MS);
	KT_EXPECT_EQ(periodic_hits, 0);
}

/*
 * ktimer_cancel() against the timer SoftIrq on another CPU.  A task on one
 * CPU arms a batch of timers due at once on its own queue; a task on a
 * second CPU cancels them one by one at a random moment, while the SoftIrq
 * is popping and running them (each callback takes a while).  A cancel that
 * returns false must mean the callback has finished: the moment the batch is
 * cancelled, fired + removed is exactly the batch, and no callback starts
 * after its cancel returned.
 */
#define RACE_TIMERS 32
#define RACE_ROUNDS 20

struct cancel_race {
	struct ktimer tm[RACE_TIMERS];
	bool cancelled[RACE_TIMERS];   /* its ktimer_cancel() has returned */
	unsigned fired;                /* callbacks finished this round */
	unsigned after_cancel;         /* callbacks that began after their cancel */
	unsigned removed, mismatched;  /* totals over the rounds */
	int phase;                     /* RACE_IDLE → RACE_ARM → RACE_ARMED */
};

enum { RACE_IDLE, RACE_ARM, RACE_ARMED, RACE_STOP };

static void race_fire(struct ktimer *t, void *arg)
{
	struct cancel_race *r = arg;
	unsigned i = (unsigned)(t - r->tm);

	if (__atomic_load_n(&r->cancelled[i], __ATOMIC_ACQUIRE))
		__atomic_fetch_add(&r->after_cancel, 1, __ATOMIC_RELAXED);
	time_udelay(30);
	__atomic_fetch_add(&r->fired, 1, __ATOMIC_RELEASE);
}

static int race_phase(struct cancel_race *r)
{
	return __atomic_load_n(&r->phase, __ATOMIC_ACQUIRE);
}

static void race_set_phase(struct cancel_race *r, int phase)
{
	__atomic_store_n(&r->phase, phase, __ATOMIC_RELEASE);
}

static void race_armer(void *arg)
{
	struct cancel_race *r = arg;
	int phase;

	while ((phase = race_phase(r)) != RACE_STOP) {
		if (phase != RACE_ARM) {
			sched_yield();
			continue;
		}
		for (unsigned i = 0; i < RACE_TIMERS; i++)
			ktimer_start(&r->tm[i], 0, 0);
		race_set_phase(r, RACE_ARMED);
	}
}

/* One round; returns how many cancels removed a queued timer. */
static unsigned race_round(struct cancel_race *r)
{
	u64 wait_until = rdtsc() + random_u64() % (time_tsc_hz() / TIME_TICK_HZ * 3 / 2);
	unsigned removed = 0;

	memset(r->cancelled, 0, sizeof(r->cancelled));
	__atomic_store_n(&r->fired, 0, __ATOMIC_RELEASE);
	race_set_phase(r, RACE_ARM);
	while (race_phase(r) != RACE_ARMED)
		cpu_relax();
	while (rdtsc() < wait_until)
		cpu_relax();
	for (unsigned i = 0; i < RACE_TIMERS; i++) {
		removed += ktimer_cancel(&r->tm[i]);
		__atomic_store_n(&r->cancelled[i], true, __ATOMIC_RELEASE);
		time_udelay(20);
	}
	return removed;
}

static void race_canceller(void *arg)
{
	struct cancel_race *r = arg;

	for (unsigned round = 0; round < RACE_ROUNDS; round++) {
		unsigned removed = race_round(r);

		r->removed += removed;
		if (__atomic_load_n(&r->fired, __ATOMIC_ACQUIRE) + removed != RACE_TIMERS)
			r->mismatched++;
		race_set_phase(r, RACE_IDLE);
	}
	race_set_phase(r, RACE_STOP);
}

KTEST(timer, a_cancel_that_returns_means_the_callback_is_over)
{
	struct cancel_race *r = kzalloc(sizeof(*r));
	struct task *armer, *canceller;

	KT_ASSERT(r);
	if (smp_cpu_count() < 2 || !smp_cpu_online(0) || !smp_cpu_online(1)) {
		ktest_log(kt, "one CPU: nothing to race against");
		kfree(r);
		return;
	}
	for (unsigned i = 0; i < RACE_TIMERS; i++)
		ktimer_init(&r->tm[i], race_fire, r);
	KT_ASSERT((armer = task_create("race-arm", race_armer, r, 0)));
	KT_ASSERT((canceller = task_create("race-cancel", race_canceller, r, 1)));
	task_join(canceller);
	task_join(armer);
	KT_EXPECT_EQ(r->mismatched, 0);
	KT_EXPECT_EQ(r->after_cancel, 0);
	ktest_log(kt, "%u rounds of %u timers: %u removed while queued, the rest run first",
		  RACE_ROUNDS, RACE_TIMERS, r->removed);
	for (unsigned i = 0; i < RACE_TIMERS; i++) /* none may be left armed */
		KT_EXPECT(!ktimer_cancel(&r->tm[i]));
	kfree(r);
}

/*
 * A timer callback is not preempted on its CPU.  The callback wakes a task
 * pinned to the same CPU, passes a preemption point, and only then notes
 * that it is over; the woken task must find it over.  (Preempted mid-callback, the timer stayed marked
 * running while another task ran on that CPU: a ktimer_cancel() there with
 * preemption off — tcp_timer_sync() under its spinlock — spun for ever.)
 */
struct preempt_probe {
	struct ktimer tm;
	struct waitgroup wg;
	volatile bool cb_over;
	bool woke, saw_over;
};

static spinlock_t probe_lock = SPINLOCK_INIT("timer probe"); /* a lock a callback takes */

static void probe_fire(struct ktimer *t, void *arg)
{
	struct preempt_probe *p = arg;

	waitgroup_done(&p->wg); /* wakes probe_waiter, on this CPU */
	/* A preemption point, as an interrupt here or any lock the callback takes is. */
	spin_lock(&probe_lock);
	spin_unlock(&probe_lock);
	WRITE_ONCE(p->cb_over, true);
}

static void probe_waiter(void *arg)
{
	struct preempt_probe *p = arg;

	p->woke = waitgroup_wait(&p->wg, 2000 * MS * selftest_slack()) == 0;
	p->saw_over = READ_ONCE(p->cb_over);
}

static void probe_armer(void *arg)
{
	struct preempt_probe *p = arg;

	sched_sleep_ns(20 * MS); /* the waiter is asleep by now */
	ktimer_start(&p->tm, 10 * MS, 0);
}

KTEST(timer, a_callback_is_not_preempted_by_a_task_it_wakes)
{
	struct preempt_probe *p = kzalloc(sizeof(*p));
	struct task *waiter, *armer;

	KT_ASSERT(p);
	ktimer_init(&p->tm, probe_fire, p);
	waitgroup_init(&p->wg);
	waitgroup_add(&p->wg, 1);
	KT_ASSERT((waiter = task_create("probe-wait", probe_waiter, p, 0)));
	KT_ASSERT((armer = task_create("probe-arm", probe_armer, p, 0)));
	task_join(armer);
	task_join(waiter);
	ktimer_cancel(&p->tm);
	KT_EXPECT(p->woke);
	KT_EXPECT(p->saw_over);
	kfree(p);
}

static void pinned_where(void *arg)
{
	*(unsigned *)arg = this_cpu()->cpu;
}

KTEST(sched, affinity_pins_a_task)
{
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		unsigned where = ~0u;
		struct task *t;

		if (!smp_cpu_online(c))
			continue;
		KT_ASSERT((t = task_create("pinned", pinned_where, &where, (int)c)));
		task_join(t);
		KT_EXPECT_EQ(where, c);
	}
}

/* Whether the frame of the function calling this one is aligned; a call of
 * its own, so the check covers a frame the compiler laid out normally. */
static __attribute__((noinline)) bool caller_frame_aligned(void)
{
	return frame_aligned();
}

static void record_alignment(void *arg)
{
	*(bool *)arg = frame_aligned() && caller_frame_aligned();
}

/*
 * Every task starts on a stack aligned as the ABI has it, on every CPU (a
 * task's first frame is built by hand in sched.c, an AP's by the
 * trampoline): an 8-byte slip went unnoticed until clang's folding of
 * p + 9 into p | 9 on a 16-aligned array put TCP option bytes 8 off.
 */
KTEST(sched, tasks_start_on_aligned_stacks)
{
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		bool aligned = false;
		struct task *t;

		if (!smp_cpu_online(c))
			continue;
		KT_ASSERT((t = task_create("aligned", record_alignment, &aligned, (int)c)));
		task_join(t);
		KT_EXPECT(aligned);
	}
	KT_EXPECT(caller_frame_aligned());
}
