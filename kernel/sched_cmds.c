/*
 * sched_cmds.c — `ps`, `bt` and `schedbench`.
 *
 * Any number of sessions may run these at once, so nothing here keeps
 * state in statics: bt's 2 KiB capture is kmalloc'd, schedbench's shared
 * flags live on the stack of the command, which joins every task it
 * started before it returns — also when Ctrl-C cuts a measurement short.
 * No output is written while the task list is locked: ps copies its rows
 * out first, because a session's sink may be slow (a network peer).
 *
 * bt of a task that is switched out walks the frame its last
 * sched_switch() left on its stack: six saved registers, rbp among them,
 * then the return address into schedule().  A task running on another CPU
 * is asked through a cross-CPU call, which reads the frame of the code it
 * interrupted; a task running here is the shell itself.  A task can change
 * state between the look and the walk, so the walk checks again and
 * retries a few times.
 */
#include "errno.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/regs.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define SWITCH_FRAME_RBP 5 /* words above the saved rsp: r15 r14 r13 r12 rbx rbp ret */
#define SWITCH_FRAME_RET 6

#define PS_SPARE_ROWS 16 /* tasks that may appear between counting and copying */

/* One task as ps shows it, copied while the task list is locked. */
struct ps_row {
	char name[TASK_NAME_MAX];
	const char *state; /* a string constant */
	u64 ns, switches;
	int pid, cpu;
	bool pinned;
};

struct ps_table {
	struct ps_row *rows;
	unsigned cap, n, missed;
};

static void ps_count(struct task *t, void *arg)
{
	(*(unsigned *)arg)++;
}

static void ps_copy(struct task *t, void *arg)
{
	struct ps_table *tab = arg;
	struct ps_row *r;

	if (tab->n == tab->cap) {
		tab->missed++;
		return;
	}
	r = &tab->rows[tab->n];
	memcpy(r->name, t->name, sizeof(r->name));
	r->state = task_state_name(t);
	r->ns = task_cpu_ns(t);
	r->switches = t->switches;
	r->pid = t->pid;
	r->cpu = t->cpu;
	r->pinned = t->affinity != TASK_ANY_CPU;
	tab->n++;
}

static void ps_print(struct sh *sh, const struct ps_row *r)
{
	sh_printf(sh, "%5d %-16s %-8s %3d %9llu.%03llu %10llu%s\n", r->pid, r->name, r->state,
		  r->cpu, (unsigned long long)(r->ns / 1000000000ULL),
		  (unsigned long long)(r->ns / 1000000 % 1000), (unsigned long long)r->switches,
		  r->pinned ? " (pinned)" : "");
}

static int cmd_ps(struct sh *sh, int argc, char **argv)
{
	struct ps_table tab = { 0 };

	sched_for_each_task(ps_count, &tab.cap);
	tab.cap += PS_SPARE_ROWS;
	tab.rows = kmalloc(tab.cap * sizeof(*tab.rows));
	if (!tab.rows)
		return sh_error(sh, "out of memory for %u rows", tab.cap);
	sched_for_each_task(ps_copy, &tab);
	sh_printf(sh, "  PID NAME             STATE    CPU   CPU TIME(s)   SWITCHES\n");
	for (unsigned i = 0; i < tab.n && !sh_output_error(sh); i++)
		ps_print(sh, &tab.rows[i]);
	if (tab.missed)
		sh_printf(sh, "(%u tasks started meanwhile are not shown)\n", tab.missed);
	kfree(tab.rows);
	return sh_output_error(sh);
}
SHELL_CMD("ps", "", "list tasks: pid, name, state, CPU, CPU time, context switches", 0, 0, cmd_ps);

struct bt_capture {
	char text[2048];
	size_t len;
	int pid;
	int cpu;       /* where it runs, when on_cpu */
	bool running;  /* on a CPU: ask that CPU */
	bool dead;
	int rc;
};

static void bt_line(const char *line, void *arg)
{
	struct bt_capture *c = arg;
	size_t n = strlen(line);

	if (c->len + n < sizeof(c->text)) {
		memcpy(c->text + c->len, line, n + 1);
		c->len += n;
	}
}

/* On the task's CPU, in the IPI: the frame it was interrupted in. */
static void bt_remote(void *arg)
{
	struct bt_capture *c = arg;
	struct regs *r = this_cpu()->irq_regs;

	if (this_cpu()->curr->pid != c->pid || !r) {
		c->rc = -EAGAIN; /* it moved meanwhile */
		return;
	}
	backtrace_print(r->rip, r->rbp, false, bt_line, c);
	c->rc = 0;
}

/*
 * With the task list locked (the task and its stack cannot be freed): walk
 * a switched-out task's stack, or note where a running one runs.
 */
static void bt_look(struct task *t, void *arg)
{
	struct bt_capture *c = arg;
	const u64 *frame = (const u64 *)t->rsp;

	c->running = t->on_cpu;
	c->cpu = t->cpu;
	c->dead = t->state == TASK_DEAD;
	if (c->running || c->dead)
		return;
	backtrace_print(frame[SWITCH_FRAME_RET], frame[SWITCH_FRAME_RBP], true, bt_line, c);
	c->rc = 0;
}

/*
 * 0 with the trace in @c, -ENOENT/-ESRCH for no task/an exited one,
 * -ETIMEDOUT when its CPU did not answer (interrupts off), -EAGAIN when it
 * kept moving, -EINTR on Ctrl-C.
 */
static int bt_collect(struct bt_capture *c)
{
	int rc;

	for (int tries = 0; tries < 5; tries++) {
		c->len = 0;
		c->text[0] = '\0';
		c->rc = -EAGAIN;
		if (sched_with_task(c->pid, bt_look, c))
			return -ENOENT;
		if (c->dead)
			return -ESRCH;
		if (!c->running)
			return c->rc;
		if (c->pid == task_current()->pid) {
			const u64 *fp = __builtin_frame_address(0);

			backtrace_print(fp[1], fp[0], true, bt_line, c); /* from our caller */
			return 0;
		}
		rc = smp_call((unsigned)c->cpu, bt_remote, c);
		if (rc == -ETIMEDOUT)
			return rc; /* cancelled: bt_remote() never runs */
		if (rc == 0 && c->rc == 0)
			return 0;
		if (task_interrupted())
			return -EINTR;
	}
	return -EAGAIN;
}

static void bt_report(struct sh *sh, const struct bt_capture *c, int rc)
{
	if (rc == -ENOENT)
		sh_printf(sh, "bt: no task with pid %d\n", c->pid);
	else if (rc == -ESRCH)
		sh_printf(sh, "bt: task %d has exited\n", c->pid);
	else if (rc == -ETIMEDOUT)
		sh_printf(sh, "bt: task %d runs on cpu%d, which did not answer (interrupts off?)\n",
			  c->pid, c->cpu);
	else if (rc == -EINTR)
		return; /* the shell says ^C */
	else if (rc)
		sh_printf(sh, "bt: task %d kept moving; try again\n", c->pid);
	else
		sh_printf(sh, "task %d%s:\n%s", c->pid, c->running ? " (running)" : "", c->text);
}

static int cmd_bt(struct sh *sh, int argc, char **argv)
{
	struct bt_capture *c; /* 2 KiB: not on the session's stack */
	u64 pid;
	int rc = sh_parse_uint(sh, argv[1], "pid", 0, 0x7FFFFFFF, &pid);

	if (rc)
		return rc;
	c = kzalloc(sizeof(*c));
	if (!c)
		return sh_error(sh, "out of memory");
	c->pid = (int)pid;
	rc = bt_collect(c);
	bt_report(sh, c, rc);
	kfree(c);
	return rc;
}
SHELL_CMD("bt", "<pid>", "stack trace of a task (one running on another CPU is interrupted)",
	  1, 1, cmd_bt);

/* ------------------------------------------------------------ schedbench */

/*
 * Each measurement starts its tasks, sleeps or loops while they run, then
 * stops and joins them.  The sleeps and loops give way to Ctrl-C (the
 * measurement then returns -EINTR), but the stop-and-join always runs: the
 * tasks use the command's stack.
 */

static void busy_spin(void *arg)
{
	volatile bool *stop = arg;

	while (!*stop)
		cpu_relax();
}

#define BENCH_WAKEUPS 500

struct pingpong {
	volatile bool stop;
	volatile u64 yields;
};

static void yielder(void *arg)
{
	struct pingpong *p = arg;

	while (!p->stop) {
		sched_yield();
		__atomic_fetch_add(&p->yields, 1, __ATOMIC_RELAXED);
	}
}

/* Two tasks on one CPU yielding to each other: ns per switch in *@ns. */
static int bench_switch(unsigned cpu, u64 *ns)
{
	struct pingpong p = { false, 0 };
	struct task *a, *b;
	u64 t0, t1, n = 0;
	int rc;

	a = task_create("yield-a", yielder, &p, (int)cpu);
	b = a ? task_create("yield-b", yielder, &p, (int)cpu) : NULL;
	rc = b ? sched_sleep_interruptible(20000000ULL) : -ENOMEM;
	t0 = time_ns();
	n = p.yields;
	if (!rc)
		rc = sched_sleep_interruptible(200000000ULL);
	t1 = time_ns();
	n = p.yields - n;
	p.stop = true;
	if (a)
		task_join(a);
	if (b)
		task_join(b);
	*ns = n ? (t1 - t0) / n : 0;
	return rc;
}

struct wakeup {
	struct task *sleeper;
	volatile u64 woken_at;   /* set by the sleeper when it runs */
	volatile bool stop;
};

static void wake_target(void *arg)
{
	struct wakeup *w = arg;

	while (!w->stop) {
		sched_set_blocked();
		if (w->stop)
			break;
		schedule();
		w->woken_at = time_ns();
	}
	sched_set_running();
}

/* One wake-up of the sleeper; its latency in ns, or 0 if it never ran. */
static u64 wake_once(struct wakeup *w)
{
	u64 t0, deadline;

	w->woken_at = 0;
	t0 = time_ns();
	task_wake(w->sleeper);
	deadline = t0 + 100000000ULL;
	while (!w->woken_at && time_ns() < deadline)
		cpu_relax();
	return w->woken_at ? w->woken_at - t0 : 0;
}

/* Mean time from task_wake() on this CPU to the woken task running on @cpu. */
static int bench_wakeup(unsigned cpu, u64 *ns)
{
	struct wakeup w = { NULL, 0, false };
	u64 total = 0, one;
	unsigned n = 0;
	int rc = 0;

	w.sleeper = task_create("wake-target", wake_target, &w, (int)cpu);
	if (!w.sleeper)
		return -ENOMEM;
	for (unsigned i = 0; i < BENCH_WAKEUPS && !rc; i++) {
		rc = sched_sleep_interruptible(1000000ULL);
		if (!rc && (one = wake_once(&w)) != 0) {
			total += one;
			n++;
		}
	}
	w.stop = true;
	task_wake(w.sleeper);
	task_join(w.sleeper);
	*ns = n ? total / n : 0;
	return rc;
}

/* Busy tasks on every CPU for half a second: (max - min) / mean CPU time, in %. */
static int bench_fairness(unsigned n, u64 *spread)
{
	volatile bool stop = false;
	struct task *busy[8];
	u64 min = ~0ULL, max = 0, sum = 0;
	int rc;

	n = MIN(n, ARRAY_SIZE(busy));
	for (unsigned i = 0; i < n; i++)
		busy[i] = task_create("fair", busy_spin, (void *)&stop, TASK_ANY_CPU);
	rc = sched_sleep_interruptible(500000000ULL);
	for (unsigned i = 0; i < n; i++) {
		u64 ns = busy[i] ? task_cpu_ns(busy[i]) : 0;

		min = MIN(min, ns);
		max = MAX(max, ns);
		sum += ns;
	}
	stop = true;
	for (unsigned i = 0; i < n; i++)
		if (busy[i])
			task_join(busy[i]);
	*spread = sum ? (max - min) * 100 * n / sum : 0;
	return rc;
}

/* A measurement that did not finish: Ctrl-C (the shell says so) or no tasks. */
static int bench_stopped(struct sh *sh, int rc)
{
	if (rc != -EINTR)
		sh_printf(sh, "schedbench: cannot start the tasks (%s)\n", errno_name(rc));
	return rc;
}

static int cmd_schedbench(struct sh *sh, int argc, char **argv)
{
	unsigned n = MIN(2 * smp_cpu_count(), 8u), other = 0;
	u64 v;
	int rc;

	for (unsigned c = 1; c < CONFIG_MAX_CPUS && !other; c++)
		if (smp_cpu_online(c))
			other = c;
	if ((rc = bench_switch(other, &v)) != 0)
		return bench_stopped(sh, rc);
	sh_printf(sh, "context switch: %llu ns (two tasks yielding on cpu%u)\n",
		  (unsigned long long)v, other);
	if (other) {
		if ((rc = bench_wakeup(other, &v)) != 0)
			return bench_stopped(sh, rc);
		sh_printf(sh, "cross-cpu wakeup: %llu ns (cpu%u -> cpu%u)\n",
			  (unsigned long long)v, this_cpu()->cpu, other);
	}
	if ((rc = bench_fairness(n, &v)) != 0)
		return bench_stopped(sh, rc);
	sh_printf(sh, "fairness spread: %llu%% ((max - min) / mean CPU time of %u busy tasks)\n",
		  (unsigned long long)v, n);
	return 0;
}
SHELL_CMD("schedbench", "", "measure context switch, cross-CPU wakeup and fairness", 0, 0,
	  cmd_schedbench);
