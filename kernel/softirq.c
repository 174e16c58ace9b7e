/*
 * softirq.c — the per-CPU softirq tasks (see softirq.h).
 *
 * Pending types are bits in the CPU's percpu.softirq_pending, set with an
 * atomic OR by softirq_raise() and taken all at once with an atomic
 * exchange by the task, so a type raised while its handler runs is run
 * again, never lost.  The task sleeps as BLOCKED when nothing is pending;
 * it marks itself BLOCKED before looking, so a raise in between wakes it.
 */
#include "kernel/softirq.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/smp.h"

static softirq_fn handlers[SOFTIRQ_TYPES];
static struct task *softirq_tasks[CONFIG_MAX_CPUS];
static u64 counts[SOFTIRQ_TYPES][CONFIG_MAX_CPUS];

static const char *const names[SOFTIRQ_TYPES] = {
	[SOFTIRQ_TIMER] = "timer", [SOFTIRQ_NET_RX] = "net-rx", [SOFTIRQ_NET_TX] = "net-tx",
	[SOFTIRQ_BLOCK] = "block", [SOFTIRQ_TCP_TIMER] = "tcp-timer",
};

const char *softirq_name(enum softirq_type type)
{
	return type < SOFTIRQ_TYPES ? names[type] : "?";
}

void softirq_register(enum softirq_type type, softirq_fn fn)
{
	handlers[type] = fn;
}

void softirq_raise(enum softirq_type type)
{
	struct percpu *pc = this_cpu();
	struct task *t = softirq_tasks[pc->cpu];

	__atomic_fetch_or(&pc->softirq_pending, 1ULL << type, __ATOMIC_RELEASE);
	if (t)
		task_wake(t);
}

u64 softirq_count(enum softirq_type type, unsigned cpu)
{
	return counts[type][cpu];
}

static void softirq_run(u64 pending, unsigned cpu)
{
	for (unsigned i = 0; i < SOFTIRQ_TYPES; i++) {
		if (!(pending & (1ULL << i)) || !handlers[i])
			continue;
		handlers[i]();
		counts[i][cpu]++;
	}
}

static void softirq_task(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;
	struct percpu *pc = percpu_of(cpu);

	for (;;) {
		u64 pending;

		sched_set_blocked();
		pending = __atomic_exchange_n(&pc->softirq_pending, 0, __ATOMIC_ACQUIRE);
		if (!pending) {
			schedule();
			continue;
		}
		sched_set_running();
		softirq_run(pending, cpu);
	}
}

void softirq_init(void)
{
	char name[TASK_NAME_MAX] = "softirq/";

	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		if (!smp_cpu_online(c))
			continue;
		name[8] = (char)('0' + c);
		softirq_tasks[c] = task_create(name, softirq_task, (void *)(uintptr_t)c, (int)c);
		if (!softirq_tasks[c])
			panic("softirq: cannot start %s", name);
	}
}
