/*
 * percpu.h — data that belongs to one CPU, reached through GS.
 *
 * Each CPU's GS base points at its struct percpu, whose first field points
 * at itself, so this_cpu() is one `mov %gs:0`.  The boot CPU sets GS in
 * cpu_init_tables() before its first message; an AP does it first thing in
 * ap_main().
 *
 * Legend: [I] set once at bring-up; [L] touched only by the owning CPU
 * (with interrupts off where an IRQ handler shares it); [a] atomic.
 */
#ifndef NOS_PERCPU_H
#define NOS_PERCPU_H

#include "types.h"
#include "config.h"
#include "kernel/x86.h"

struct task;
struct regs;

/* Most spinlocks one CPU may hold at once (lock debugging). */
#define LOCK_HELD_MAX 16

enum cpu_state { CPU_OFFLINE, CPU_STARTING, CPU_ONLINE, CPU_FAILED };

struct percpu {
	struct percpu *self;      /* [I] this structure (for %gs:0) */
	unsigned cpu;             /* [I] index, 0 = boot CPU */
	u32 apic_id;              /* [I] */
	volatile int state;       /* [a] enum cpu_state */
	volatile u64 ticks;       /* [L] local timer interrupts taken */
	u64 startup_ns;           /* [I] AP: SIPI to online, in ns */
	const char *fail_step;    /* [I] AP: where start-up stopped */
	u64 idle_stack_top;       /* [I] */
	int preempt_count;        /* [L] > 0: no task switch on this CPU */
	volatile bool need_resched; /* [a] switch at the next chance */
	struct task *curr;        /* [L] the task running here */
	struct task *idle;        /* [I] this CPU's idle task */
	volatile u64 softirq_pending; /* [a] bit per softirq type */
	u64 irq_depth;            /* [L] interrupt handlers running */
	struct regs *irq_regs;    /* [L] frame of the interrupted code, in a handler */
	u64 last_tick_ns;         /* [a] watchdog: when the tick last ran */
	u64 irqoff_since;         /* [a] watchdog: 0 or when interrupts went off */
	const void *locks_held[LOCK_HELD_MAX]; /* [L] spinlocks held, innermost last (debug) */
	unsigned nlocks_held;     /* [L] */
};

extern struct percpu percpu_area[CONFIG_MAX_CPUS];

/* The instruction is kernel/x86.h's, so a host build that simulates the
 * CPU there (tests/unit/shim) gets this_cpu() too. */
static inline struct percpu *this_cpu(void)
{
	return (struct percpu *)read_gs_qword0();
}

static inline struct percpu *percpu_of(unsigned cpu)
{
	return &percpu_area[cpu];
}

#endif
