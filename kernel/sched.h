/*
 * sched.h — kernel tasks and the per-CPU preemptive scheduler.
 *
 * A task is a kernel thread: a name, an entry function, a guarded stack of
 * its own, and a pid that is never reused while the task can be seen (pids
 * only grow).  Each CPU has a run queue of ready tasks, served round-robin
 * with a 10 ms time slice (one tick); the tick sets need_resched and the
 * switch happens on the way out of the interrupt, or at preempt_enable().
 * An idle task per CPU halts when nothing is ready, and first tries to pull
 * a ready task from a busier CPU.  New tasks go to the least-loaded CPU
 * unless pinned with an affinity.
 *
 * States: RUNNING (on a CPU or on a run queue), BLOCKED (waiting to be
 * woken), DEAD (exited, waiting to be joined).  task_wake() makes a BLOCKED
 * task RUNNING again; waking a task that is not blocked does nothing, so a
 * wake-up can never be lost to a race with the task going to sleep: a task
 * marks itself BLOCKED *before* it checks its condition and calls
 * schedule(), and a wake in between just leaves it RUNNING.
 *
 * Locks: task->lock (state, on_rq, cpu) is taken before a run queue's
 * lock; never hold two run-queue locks.  schedule() must not be called with
 * a spinlock held (preempt_count must be 0): that is a kernel bug.
 */
#ifndef NOS_SCHED_H
#define NOS_SCHED_H

#include "types.h"
#include "config.h"
#include "kernel/spinlock.h"
#include "kernel/waitq.h"
#include "lib/list.h"
#include "mm/stack.h"

#define TASK_NAME_MAX 16
#define TASK_STACK_PAGES 4
#define TASK_ANY_CPU (-1)

enum task_state { TASK_RUNNING, TASK_BLOCKED, TASK_DEAD };

typedef void (*task_fn)(void *arg);

/* Legend: [I] set at creation; [t] task->lock; [r] the run queue's lock;
 * [c] only the CPU running the task; [a] atomic. */
struct task {
	u64 rsp;                   /* [c] saved stack pointer while switched out */
	spinlock_t lock;
	int pid;                   /* [I] */
	char name[TASK_NAME_MAX];  /* [I] */
	volatile int state;        /* [t] enum task_state */
	bool on_rq;                /* [t][r] queued on cpu's run queue */
	volatile bool on_cpu;      /* [a] its context is live on some CPU */
	int cpu;                   /* [t] CPU it runs or is queued on */
	int affinity;              /* [I] a CPU, or TASK_ANY_CPU */
	bool idle;                 /* [I] one of the idle tasks */
	task_fn entry;             /* [I] */
	void *arg;                 /* [I] */
	struct kstack stack;       /* [I] (not for the boot tasks) */
	bool has_stack;            /* [I] */
	u64 cpu_ns;                /* [c] time spent running */
	u64 run_start;             /* [c] when it last got a CPU */
	u64 switches;              /* [c] times it was switched in */
	unsigned slice_ticks;      /* [c] ticks into its time slice */
	volatile bool interrupted; /* [a] see task_interrupt() */
	int exit_code;             /* [t] */
	bool joined;               /* [t] */
	struct waitq exit_wait;    /* joiners */
	struct list_head rq_link;  /* [r] */
	struct list_head all_link; /* task_list_lock */
};

void sched_init(void);
/* The calling AP's idle task (after its per-CPU set-up); never returns. */
__noreturn void sched_run_idle(void);
/* Turn the boot CPU's current context into its idle task; never returns. */
__noreturn void sched_become_idle(void);

/*
 * Create a task running @entry(@arg) on @affinity (TASK_ANY_CPU: the least
 * loaded CPU) and make it ready.  @name is copied.  Returns the task, or
 * NULL when memory or stack slots run out.  The creator must task_join()
 * it (its stack and struct are freed then).
 */
struct task *task_create(const char *name, task_fn entry, void *arg, int affinity);
/* End the calling task with @code; wakes its joiners. */
__noreturn void task_exit(int code);
/* Wait for @t to exit, free it, return its exit code. */
int task_join(struct task *t);
struct task *task_current(void);
/* Make @t runnable if it is blocked.  Any context. */
void task_wake(struct task *t);

/* Give up the CPU; the caller decides first whether it is BLOCKED. */
void schedule(void);
/* Mark the current task BLOCKED (then check your condition, then schedule()). */
void sched_set_blocked(void);
void sched_set_running(void);
void sched_yield(void);
/* Sleep at least @ns nanoseconds. */
void sched_sleep_ns(u64 ns);
/* The same, but 0 after the full time or -EINTR once the task is interrupted. */
int sched_sleep_interruptible(u64 ns);

/*
 * Interruption — how Ctrl-C reaches a running command.  task_interrupt()
 * (any context, IRQ handlers included) marks @t interrupted and wakes it
 * if it sleeps; interruptible waits then return -EINTR and long loops see
 * task_interrupted() and stop.  The mark stays until the owner clears it
 * (the shell clears it before each command), so it is never missed.
 */
void task_interrupt(struct task *t);
/* True when the current task has been interrupted (false outside a task). */
bool task_interrupted(void);
void task_clear_interrupt(void);

void preempt_disable(void);
void preempt_enable(void);

/* The timer tick (from the local APIC timer, every CPU). */
void sched_tick(void);
/* Called on the way out of an interrupt: switch if a switch is due. */
void sched_irq_exit(void);

/* Iterate over every task (for ps): fn is called with task_list_lock held. */
void sched_for_each_task(void (*fn)(struct task *t, void *arg), void *arg);
/* Find a task by pid (NULL if gone).  Valid only while @fn runs. */
int sched_with_task(int pid, void (*fn)(struct task *t, void *arg), void *arg);
unsigned sched_nr_ready(unsigned cpu);
const char *task_state_name(const struct task *t);
/* CPU time of @t so far, the current slice included. */
u64 task_cpu_ns(const struct task *t);

#endif
