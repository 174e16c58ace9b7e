/*
 * sched.c — tasks, run queues and the switch (see sched.h for the model).
 *
 * The switch protocol.  schedule() runs with interrupts off.  Under the
 * previous task's lock and the run queue's lock it decides where the
 * previous task goes (back on the queue if still RUNNING, nowhere if
 * BLOCKED or DEAD) and which task runs next; it marks the next task on_cpu
 * and switches stacks.  The previous task's context is only fully saved
 * once sched_switch() has stored its stack pointer, so the code that runs
 * next on this CPU clears prev->on_cpu (finish_switch); a CPU that picks a
 * task whose on_cpu is still set waits for it.  That lets task_wake()
 * queue a task on any CPU the moment it is woken, even mid-switch.
 *
 * Time slices are one tick (10 ms).  The tick marks need_resched when the
 * slice is used up and others are waiting; the switch happens in
 * sched_irq_exit() after the EOI, or in preempt_enable()/spin_unlock().
 */
#include "kernel/sched.h"
#include "kernel/lock_order.h"
#include "compiler.h"
#include "errno.h"
#include "kernel/irq.h"
#include "kernel/ktimer.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "drivers/lapic.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

struct rq {
	spinlock_t lock;
	struct list_head ready;  /* [lock] RUNNING tasks waiting for this CPU */
	unsigned nr_ready;       /* [lock] */
};

struct task *sched_switch(u64 *prev_rsp, u64 next_rsp, struct task *prev);
void task_first_run(void);
void task_start(struct task *prev);

static struct rq rqs[CONFIG_MAX_CPUS];
static struct task boot_tasks[CONFIG_MAX_CPUS]; /* each CPU's idle task */
static struct list_head task_list = LIST_HEAD_INIT(task_list);
static spinlock_t task_list_lock = SPINLOCK_INIT("task_list"); /* task_list, next_pid */
static int next_pid = 1;
static bool sched_ready;

static struct rq *rq_of(int cpu)
{
	return &rqs[cpu];
}

struct task *task_current(void)
{
	return this_cpu()->curr;
}

const char *task_state_name(const struct task *t)
{
	static const char *const names[] = { "running", "blocked", "dead" };

	if (t->idle && !t->on_cpu)
		return "idle";
	if (t->state == TASK_RUNNING && !t->on_cpu)
		return "ready";
	return names[t->state];
}

/* ------------------------------------------------------- run queues ---- */

static void rq_push(int cpu, struct task *t)
{
	struct rq *rq = rq_of(cpu);

	spin_lock(&rq->lock);
	list_add_tail(&t->rq_link, &rq->ready);
	rq->nr_ready++;
	t->on_rq = true;
	t->cpu = cpu;
	spin_unlock(&rq->lock);
}

/* First task of @cpu's queue that may run on @self, or NULL. */
static struct task *rq_pop(int cpu, int self)
{
	struct rq *rq = rq_of(cpu);
	struct task *t, *found = NULL;

	spin_lock(&rq->lock);
	list_for_each_entry(t, &rq->ready, rq_link) {
		if (t->affinity == TASK_ANY_CPU || t->affinity == self) {
			found = t;
			break;
		}
	}
	if (found) {
		list_del(&found->rq_link);
		rq->nr_ready--;
		found->on_rq = false;
	}
	spin_unlock(&rq->lock);
	return found;
}

unsigned sched_nr_ready(unsigned cpu)
{
	return READ_ONCE(rq_of((int)cpu)->nr_ready);
}

/* Where a task that may run anywhere should go: the least-loaded CPU. */
static int pick_cpu(const struct task *t)
{
	unsigned best = this_cpu()->cpu, load = ~0u;

	if (t->affinity != TASK_ANY_CPU)
		return t->affinity;
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		unsigned l;

		if (!smp_cpu_online(c))
			continue;
		l = sched_nr_ready(c) + (percpu_of(c)->curr != percpu_of(c)->idle);
		if (l < load) {
			load = l;
			best = c;
		}
	}
	return (int)best;
}

/* Ask @cpu to reschedule (its idle task may be halted). */
static void kick_cpu(int cpu)
{
	percpu_of(cpu)->need_resched = true;
	if (cpu != (int)this_cpu()->cpu)
		lapic_send_ipi(percpu_of(cpu)->apic_id, IPI_FIXED, VECTOR_IPI_RESCHED);
}

/* ----------------------------------------------------------- switch ---- */

static void finish_switch(struct task *prev)
{
	__atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
}

static void account(struct task *prev, struct task *next)
{
	u64 now = time_ns();

	prev->cpu_ns += now - prev->run_start;
	next->run_start = now;
	next->switches++;
	next->slice_ticks = 0;
}

/* The next task for this CPU: its own queue first, else its idle task. */
static struct task *pick_next(int self)
{
	struct task *next = rq_pop(self, self);

	return next ? next : this_cpu()->idle;
}

/*
 * Put @prev where its state says; called with prev->lock held.  A task
 * that is preempted goes back on the queue whatever its state: it may have
 * marked itself BLOCKED and then found its condition true, and was about
 * to carry on — parking it would lose it, since its wake-up already came.
 * It runs again, and if it does mean to sleep it calls schedule() itself.
 */
static void place_prev(struct task *prev, int self, bool preempted)
{
	if (prev->state == TASK_DEAD)
		return; /* task_join() may free it as soon as it is switched out */
	if ((prev->state == TASK_RUNNING || preempted) && !prev->on_rq && !prev->idle)
		rq_push(self, prev);
}

static void __schedule(bool preempted)
{
	struct percpu *pc = this_cpu();
	struct task *prev = pc->curr, *next;
	int self = (int)pc->cpu;
	u64 flags = read_rflags();

	cli();
	if (pc->preempt_count)
		panic("schedule() with preemption disabled (count %d) in '%s'", pc->preempt_count,
		      prev->name);
	pc->preempt_count++;
	pc->need_resched = false;
	spin_lock(&prev->lock);
	place_prev(prev, self, preempted);
	spin_unlock(&prev->lock);
	next = pick_next(self);
	if (next != prev) {
		while (__atomic_load_n(&next->on_cpu, __ATOMIC_ACQUIRE))
			cpu_relax(); /* still switching out elsewhere */
		next->on_cpu = true;
		next->cpu = self;
		account(prev, next);
		pc->curr = next;
		prev = sched_switch(&prev->rsp, next->rsp, prev);
		finish_switch(prev);
	}
	this_cpu()->preempt_count--;
	if (flags & RFLAGS_IF)
		sti();
}

void schedule(void)
{
	__schedule(false);
}

/* First C code of a new task (see switch.asm). */
void task_start(struct task *prev)
{
	struct task *self = task_current();

	BUG_ON(!frame_aligned());
	finish_switch(prev);
	this_cpu()->preempt_count--;
	sti();
	self->entry(self->arg);
	task_exit(0);
}

void preempt_resched(void)
{
	if (sched_ready && (read_rflags() & RFLAGS_IF))
		__schedule(true);
}

void preempt_disable(void)
{
	preempt_count_inc();
}

void preempt_enable(void)
{
	preempt_count_dec();
	if (this_cpu()->need_resched && !this_cpu()->preempt_count)
		preempt_resched();
}

void sched_irq_exit(void)
{
	struct percpu *pc = this_cpu();

	if (sched_ready && pc->need_resched && !pc->preempt_count && pc->irq_depth == 0)
		__schedule(true);
}

void sched_tick(void)
{
	struct percpu *pc = this_cpu();
	struct task *t = pc->curr;

	if (!sched_ready || !t)
		return;
	if (t->idle) {
		if (sched_nr_ready(pc->cpu))
			pc->need_resched = true;
		return;
	}
	if (++t->slice_ticks >= 1 && sched_nr_ready(pc->cpu))
		pc->need_resched = true;
}

u64 task_cpu_ns(const struct task *t)
{
	u64 ns = READ_ONCE(t->cpu_ns), start = READ_ONCE(t->run_start);

	if (t->on_cpu) {
		u64 now = time_ns();

		ns += now > start ? now - start : 0;
	}
	return ns;
}

/* ------------------------------------------------------ block, wake ---- */

void sched_set_blocked(void)
{
	struct task *t = task_current();
	u64 flags = spin_lock_irqsave(&t->lock);

	t->state = TASK_BLOCKED;
	spin_unlock_irqrestore(&t->lock, flags);
}

void sched_set_running(void)
{
	struct task *t = task_current();
	u64 flags = spin_lock_irqsave(&t->lock);

	t->state = TASK_RUNNING;
	spin_unlock_irqrestore(&t->lock, flags);
}

void task_wake(struct task *t)
{
	u64 flags = spin_lock_irqsave(&t->lock);
	int cpu = -1;

	if (t->state == TASK_BLOCKED) {
		t->state = TASK_RUNNING;
		if (!t->on_rq) {
			cpu = pick_cpu(t);
			rq_push(cpu, t);
		}
	}
	spin_unlock_irqrestore(&t->lock, flags);
	if (cpu >= 0)
		kick_cpu(cpu);
}

void sched_yield(void)
{
	schedule();
}

struct sleeper {
	struct task *task;
	volatile bool done;
};

/* The sleeper may return the moment done is seen: touch nothing after it. */
static void sleep_expired(struct ktimer *tm, void *arg)
{
	struct sleeper *s = arg;
	struct task *t = s->task;

	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	task_wake(t);
}

static int sleep_common(u64 ns, bool interruptible)
{
	struct sleeper s = { task_current(), false };
	struct ktimer tm;
	int rc = 0;

	ktimer_init(&tm, sleep_expired, &s);
	ktimer_start(&tm, ns, 0);
	for (;;) {
		sched_set_blocked();
		if (__atomic_load_n(&s.done, __ATOMIC_ACQUIRE))
			break;
		if (interruptible && task_interrupted()) {
			rc = -EINTR;
			break;
		}
		schedule();
	}
	sched_set_running();
	ktimer_cancel(&tm); /* a callback still running finishes before we return */
	return rc;
}

void sched_sleep_ns(u64 ns)
{
	sleep_common(ns, false);
}

int sched_sleep_interruptible(u64 ns)
{
	return sleep_common(ns, true);
}

void task_interrupt(struct task *t)
{
	__atomic_store_n(&t->interrupted, true, __ATOMIC_RELEASE);
	task_wake(t);
}

bool task_interrupted(void)
{
	struct task *t = task_current();

	return t && __atomic_load_n(&t->interrupted, __ATOMIC_ACQUIRE);
}

void task_clear_interrupt(void)
{
	struct task *t = task_current();

	if (t)
		__atomic_store_n(&t->interrupted, false, __ATOMIC_RELEASE);
}

/* --------------------------------------------------------- lifecycle --- */

static void task_init_common(struct task *t, const char *name, int affinity)
{
	strlcpy(t->name, name, sizeof(t->name));
	spin_lock_init_ranked(&t->lock, "task", LOCK_RANK_TASK);
	t->affinity = affinity;
	t->state = TASK_RUNNING;
	waitq_init(&t->exit_wait);
	list_init(&t->rq_link);
}

static void task_register(struct task *t)
{
	u64 flags = spin_lock_irqsave(&task_list_lock);

	t->pid = next_pid++;
	list_add_tail(&t->all_link, &task_list);
	spin_unlock_irqrestore(&task_list_lock, flags);
}

/* Build the stack so that the first switch "returns" into task_first_run. */
static void task_prepare_stack(struct task *t)
{
	u64 *sp = (u64 *)t->stack.top;

	/* The top is page-aligned: after the ret into task_first_run its call
	 * leaves task_start's RSP at 8 mod 16, as at any function entry. */
	*--sp = (u64)task_first_run;
	for (int i = 0; i < 6; i++)
		*--sp = 0; /* rbp rbx r12 r13 r14 r15 */
	t->rsp = (u64)sp;
}

struct task *task_create(const char *name, task_fn entry, void *arg, int affinity)
{
	struct task *t = kzalloc(sizeof(*t));

	if (!t)
		return NULL;
	if (affinity != TASK_ANY_CPU && !smp_cpu_online((unsigned)affinity))
		affinity = TASK_ANY_CPU;
	task_init_common(t, name, affinity);
	t->entry = entry;
	t->arg = arg;
	if (stack_alloc(&t->stack, name, TASK_STACK_PAGES)) {
		kfree(t);
		return NULL;
	}
	t->has_stack = true;
	task_prepare_stack(t);
	task_register(t);
	t->state = TASK_BLOCKED;
	task_wake(t);
	return t;
}

__noreturn void task_exit(int code)
{
	struct task *t = task_current();

	/* Not preemptible from here: a dead task is never put back on a run
	 * queue, so it must reach its last schedule() without a detour. */
	cli();
	spin_lock(&t->lock);
	t->exit_code = code;
	t->state = TASK_DEAD;
	spin_unlock(&t->lock);
	waitq_wake_all(&t->exit_wait);
	schedule();
	panic("task '%s' ran after it exited", t->name);
}

int task_join(struct task *t)
{
	struct waitq_entry e;
	u64 flags;
	int code;

	for (;;) {
		waitq_prepare(&t->exit_wait, &e);
		if (READ_ONCE(t->state) == TASK_DEAD)
			break;
		schedule();
		waitq_finish(&t->exit_wait, &e);
	}
	waitq_finish(&t->exit_wait, &e);
	while (__atomic_load_n(&t->on_cpu, __ATOMIC_ACQUIRE))
		cpu_relax(); /* its last switch must finish before its stack goes */
	flags = spin_lock_irqsave(&task_list_lock);
	list_del(&t->all_link);
	spin_unlock_irqrestore(&task_list_lock, flags);
	code = t->exit_code;
	if (t->has_stack)
		stack_free(&t->stack);
	kfree(t);
	return code;
}

/* ----------------------------------------------------------- idle ------ */

/* Take one ready task that may run here from the busiest other CPU. */
static bool idle_pull(int self)
{
	unsigned busiest = 0, most = 0;
	struct task *t;

	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		if (c != (unsigned)self && smp_cpu_online(c) && sched_nr_ready(c) > most) {
			most = sched_nr_ready(c);
			busiest = c;
		}
	}
	if (!most || !(t = rq_pop((int)busiest, self)))
		return false;
	rq_push(self, t);
	return true;
}

static __noreturn void idle_loop(void)
{
	int self = (int)this_cpu()->cpu;

	for (;;) {
		cli();
		if (sched_nr_ready((unsigned)self) || idle_pull(self)) {
			sti();
			schedule();
			continue;
		}
		__asm__ __volatile__("sti; hlt" ::: "memory");
	}
}

static void boot_task_init(unsigned cpu)
{
	struct task *t = &boot_tasks[cpu];
	char name[TASK_NAME_MAX] = "idle/";

	name[5] = (char)('0' + cpu);
	task_init_common(t, name, (int)cpu);
	t->idle = true;
	t->on_cpu = true;
	t->cpu = (int)cpu;
	t->run_start = time_ns();
	percpu_of(cpu)->idle = t;
	percpu_of(cpu)->curr = t;
	task_register(t);
}

static enum irq_result ipi_resched(void *arg)
{
	this_cpu()->need_resched = true;
	return IRQ_HANDLED;
}

void sched_init(void)
{
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		spin_lock_init_ranked(&rqs[c].lock, "runqueue", LOCK_RANK_RUNQUEUE);
		list_init(&rqs[c].ready);
	}
	irq_request_vector(VECTOR_IPI_RESCHED, ipi_resched, NULL, "ipi-resched");
	ktimer_subsystem_init();
	boot_task_init(0);
	sched_ready = true;
}

__noreturn void sched_run_idle(void)
{
	boot_task_init(this_cpu()->cpu);
	idle_loop();
}

__noreturn void sched_become_idle(void)
{
	idle_loop();
}

/* ---------------------------------------------------------- lookup ----- */

void sched_for_each_task(void (*fn)(struct task *t, void *arg), void *arg)
{
	u64 flags = spin_lock_irqsave(&task_list_lock);
	struct task *t;

	list_for_each_entry(t, &task_list, all_link)
		fn(t, arg);
	spin_unlock_irqrestore(&task_list_lock, flags);
}

int sched_with_task(int pid, void (*fn)(struct task *t, void *arg), void *arg)
{
	u64 flags = spin_lock_irqsave(&task_list_lock);
	struct task *t;
	int rc = -ENOENT;

	list_for_each_entry(t, &task_list, all_link) {
		if (t->pid == pid) {
			fn(t, arg);
			rc = 0;
			break;
		}
	}
	spin_unlock_irqrestore(&task_list_lock, flags);
	return rc;
}
