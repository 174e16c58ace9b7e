/*
 * ktimer.c — per-CPU timer queues run from the timer SoftIrq.
 *
 * Each CPU has a timerq under its own lock.  The tick only compares the
 * clock with the earliest expiry and raises SOFTIRQ_TIMER; the SoftIrq pops
 * expired timers one at a time and calls them without the lock held, so a
 * callback may start or cancel timers, and with preemption off, so a
 * callback marked running is always making progress on some CPU.
 * ktimer_cancel() waits for a callback that is running on another task, so
 * a cancelled timer may be freed at once; a one-shot timer is not touched
 * after its callback returns, so the callback itself may free it (sleepers'
 * timers live on their stacks).
 */
#include "kernel/ktimer.h"
#include "kernel/percpu.h"
#include "kernel/sched.h"
#include "kernel/softirq.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"

struct cpu_timers {
	spinlock_t lock;
	struct timerq q;             /* [lock] */
	struct ktimer *running;      /* [a] callback in progress */
	struct task *running_task;   /* [a] the softirq task running it */
};

static struct cpu_timers cpu_timers[CONFIG_MAX_CPUS];
static bool ktimer_ready;

void ktimer_init(struct ktimer *t, ktimer_fn fn, void *arg)
{
	t->fn = fn;
	t->arg = arg;
	t->queued = false;
	t->cpu = -1;
	list_init(&t->link);
}

bool ktimer_cancel(struct ktimer *t)
{
	int cpu = READ_ONCE(t->cpu);
	struct cpu_timers *ct;
	bool removed;
	u64 flags;

	if (cpu < 0)
		return false;
	ct = &cpu_timers[cpu];
	flags = spin_lock_irqsave(&ct->lock);
	t->period = 0; /* a periodic timer whose callback is running stops too */
	removed = t->cpu == cpu && timerq_remove(&ct->q, t);
	spin_unlock_irqrestore(&ct->lock, flags);
	/* A callback in progress finishes before @t may be reused or freed
	 * (unless we are that callback). */
	while (READ_ONCE(ct->running) == t && READ_ONCE(ct->running_task) != task_current())
		cpu_relax();
	return removed;
}

void ktimer_start(struct ktimer *t, u64 delay_ns, u64 period_ns)
{
	struct cpu_timers *ct;
	u64 flags;

	ktimer_cancel(t);
	flags = read_rflags();
	cli();
	ct = &cpu_timers[this_cpu()->cpu];
	spin_lock(&ct->lock);
	t->expires = time_ns() + delay_ns;
	t->period = period_ns;
	t->cpu = (int)this_cpu()->cpu;
	timerq_add(&ct->q, t);
	spin_unlock(&ct->lock);
	if (flags & RFLAGS_IF)
		sti();
}

void ktimer_tick(void)
{
	struct cpu_timers *ct = &cpu_timers[this_cpu()->cpu];

	if (ktimer_ready && timerq_next(&ct->q) <= time_ns())
		softirq_raise(SOFTIRQ_TIMER);
}

/*
 * Take the next expired timer off the queue and mark it running in the same
 * critical section: a ktimer_cancel() that finds it neither queued nor
 * running may then trust that its callback is over.  (Marking it after the
 * lock was dropped left a window in which the cancel returned while the
 * callback was still to come — into a sleeper's stack frame that was gone.)
 */
static struct ktimer *pop_expired(struct cpu_timers *ct)
{
	u64 flags = spin_lock_irqsave(&ct->lock);
	struct ktimer *t = timerq_pop_expired(&ct->q, time_ns());

	if (t) {
		WRITE_ONCE(ct->running_task, task_current());
		WRITE_ONCE(ct->running, t);
	}
	spin_unlock_irqrestore(&ct->lock, flags);
	return t;
}

static void rearm(struct cpu_timers *ct, struct ktimer *t)
{
	u64 flags = spin_lock_irqsave(&ct->lock);

	if (!t->queued && t->period) { /* not re-armed or cancelled meanwhile */
		t->expires += t->period;
		timerq_add(&ct->q, t);
	}
	spin_unlock_irqrestore(&ct->lock, flags);
}

static void timer_softirq(void)
{
	struct cpu_timers *ct = &cpu_timers[this_cpu()->cpu];
	struct ktimer *t;

	/*
	 * No task switch while a callback is marked running: ktimer_cancel()
	 * spins until it is over, and a canceller on this CPU with preemption
	 * off (under a spinlock, as tcp_timer_sync() is) would otherwise spin
	 * for ever against this task, preempted mid-callback (a wake-up in
	 * the callback or an interrupt is enough).
	 */
	for (;;) {
		u64 period;

		preempt_disable();
		t = pop_expired(ct);
		if (!t) {
			preempt_enable();
			return;
		}
		period = t->period; /* a one-shot may be gone once fn returns */
		t->fn(t, t->arg);
		if (period)
			rearm(ct, t);
		WRITE_ONCE(ct->running, NULL);
		preempt_enable();
	}
}

void ktimer_subsystem_init(void)
{
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		spin_lock_init(&cpu_timers[c].lock, "ktimer");
		timerq_init(&cpu_timers[c].q);
	}
	softirq_register(SOFTIRQ_TIMER, timer_softirq);
	ktimer_ready = true;
}
