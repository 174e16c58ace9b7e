/*
 * sched_cmds.c — `ps`, `bt` and `schedbench`.
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
#include "lib/parse.h"
#include "lib/string.h"

#define SWITCH_FRAME_RBP 5 /* words above the saved rsp: r15 r14 r13 r12 rbx rbp ret */
#define SWITCH_FRAME_RET 6

static void ps_row(struct task *t, void *arg)
{
	struct sh *sh = arg;
	u64 ns = task_cpu_ns(t);

	sh_printf(sh, "%5d %-16s %-8s %3d %9llu.%03llu %10llu%s\n", t->pid, t->name,
		  task_state_name(t), t->cpu, (unsigned long long)(ns / 1000000000ULL),
		  (unsigned long long)(ns / 1000000 % 1000), (unsigned long long)t->switches,
		  t->affinity == TASK_ANY_CPU ? "" : " (pinned)");
}

static int cmd_ps(struct sh *sh, int argc, char **argv)
{
	sh_printf(sh, "  PID NAME             STATE    CPU   CPU TIME(s)   SWITCHES\n");
	sched_for_each_task(ps_row, sh);
	return 0;
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

static int bt_collect(struct bt_capture *c)
{
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
		if (smp_call((unsigned)c->cpu, bt_remote, c) == 0 && c->rc == 0)
			return 0;
	}
	return -EAGAIN;
}

static int cmd_bt(struct sh *sh, int argc, char **argv)
{
	static struct bt_capture c; /* 2 KiB: not on the shell's stack */
	u64 pid;
	int rc;

	if (parse_u64(argv[1], &pid) || pid > 0x7FFFFFFF)
		return sh_error(sh, "'%s' is not a pid", argv[1]);
	c.pid = (int)pid;
	rc = bt_collect(&c);
	if (rc == -ENOENT) {
		sh_printf(sh, "bt: no task with pid %d\n", c.pid);
		return rc;
	}
	if (rc == -ESRCH) {
		sh_printf(sh, "bt: task %d has exited\n", c.pid);
		return rc;
	}
	if (rc) {
		sh_printf(sh, "bt: task %d kept moving; try again\n", c.pid);
		return rc;
	}
	sh_printf(sh, "task %d%s:\n%s", c.pid, c.running ? " (running)" : "", c.text);
	return 0;
}
SHELL_CMD("bt", "<pid>", "stack trace of a task (one running on another CPU is interrupted)",
	  1, 1, cmd_bt);

/* ------------------------------------------------------------ schedbench */

static void busy_spin(void *arg)
{
	volatile bool *stop = arg;

	while (!*stop)
		cpu_relax();
}

#define BENCH_SWITCHES 20000
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

/* Two tasks on one CPU yielding to each other: ns per switch. */
static u64 bench_switch(unsigned cpu)
{
	static struct pingpong p;
	struct task *a, *b;
	u64 t0, t1, n;

	p.stop = false;
	p.yields = 0;
	a = task_create("yield-a", yielder, &p, (int)cpu);
	b = task_create("yield-b", yielder, &p, (int)cpu);
	if (!a || !b)
		return 0;
	sched_sleep_ns(20000000ULL);
	t0 = time_ns();
	n = p.yields;
	sched_sleep_ns(200000000ULL);
	t1 = time_ns();
	n = p.yields - n;
	p.stop = true;
	task_join(a);
	task_join(b);
	return n ? (t1 - t0) / n : 0;
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

/* Mean time from task_wake() on this CPU to the woken task running on @cpu. */
static u64 bench_wakeup(unsigned cpu)
{
	static struct wakeup w;
	u64 total = 0;
	unsigned n = 0;

	w.stop = false;
	w.sleeper = task_create("wake-target", wake_target, &w, (int)cpu);
	if (!w.sleeper)
		return 0;
	for (unsigned i = 0; i < BENCH_WAKEUPS; i++) {
		u64 t0, deadline;

		sched_sleep_ns(1000000ULL);
		w.woken_at = 0;
		t0 = time_ns();
		task_wake(w.sleeper);
		deadline = t0 + 100000000ULL;
		while (!w.woken_at && time_ns() < deadline)
			cpu_relax();
		if (w.woken_at) {
			total += w.woken_at - t0;
			n++;
		}
	}
	w.stop = true;
	task_wake(w.sleeper);
	task_join(w.sleeper);
	return n ? total / n : 0;
}

static int cmd_schedbench(struct sh *sh, int argc, char **argv)
{
	static struct { volatile bool stop; } share;
	struct task *busy[8];
	unsigned n = 2 * smp_cpu_count(), other = 0;
	u64 min = ~0ULL, max = 0, sum = 0;

	for (unsigned c = 1; c < CONFIG_MAX_CPUS && !other; c++)
		if (smp_cpu_online(c))
			other = c;
	sh_printf(sh, "context switch: %llu ns (two tasks yielding on cpu%u)\n",
		  (unsigned long long)bench_switch(other), other);
	if (other)
		sh_printf(sh, "cross-cpu wakeup: %llu ns (cpu%u -> cpu%u)\n",
			  (unsigned long long)bench_wakeup(other), this_cpu()->cpu, other);
	n = MIN(n, ARRAY_SIZE(busy));
	share.stop = false;
	for (unsigned i = 0; i < n; i++)
		busy[i] = task_create("fair", busy_spin, (void *)&share.stop, TASK_ANY_CPU);
	sched_sleep_ns(500000000ULL);
	for (unsigned i = 0; i < n; i++) {
		u64 ns = busy[i] ? task_cpu_ns(busy[i]) : 0;

		min = MIN(min, ns);
		max = MAX(max, ns);
		sum += ns;
	}
	share.stop = true;
	for (unsigned i = 0; i < n; i++)
		if (busy[i])
			task_join(busy[i]);
	sh_printf(sh, "fairness spread: %llu%% ((max - min) / mean CPU time of %u busy tasks)\n",
		  (unsigned long long)(sum ? (max - min) * 100 * n / sum : 0), n);
	return 0;
}
SHELL_CMD("schedbench", "", "measure context switch, cross-CPU wakeup and fairness", 0, 0,
	  cmd_schedbench);
