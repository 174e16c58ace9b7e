/*
 * watchdog.c — the soft and hard lockup detector.
 *
 * Every CPU's tick stamps its own `ticks` counter, so a CPU whose counter
 * stands still has its interrupts off (or is wedged).  Each tick, a CPU
 * also looks at the others once a second: one whose counter has not moved
 * for WATCHDOG_SECONDS is sent an NMI, which gets through with interrupts
 * off, and its NMI handler prints where it is — a "hard lockup" report.
 * A CPU whose interrupted code had preemption disabled for
 * WATCHDOG_SECONDS worth of consecutive ticks reports itself from its tick
 * (a "soft lockup": interrupts work but no task switch can happen).  Each
 * condition is reported once until it clears.  With a single CPU a hard
 * lockup has no witness; that limit is stated by `watchdog`.
 */
#include "kernel/watchdog.h"
#include "drivers/lapic.h"
#include "kernel/irq.h"
#include "kernel/panic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/regs.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/waitq.h"
#include "kernel/x86.h"
#include "lib/string.h"

#define WATCHDOG_SECONDS 2
#define WATCHDOG_TICKS (WATCHDOG_SECONDS * TIME_TICK_HZ)

struct wd_cpu {
	u64 seen_ticks;          /* its tick count at the last look */
	u64 seen_at;             /* when that count last changed, ns */
	bool hard_reported;      /* [a] NMI sent for the current stall */
	volatile bool nmi_wanted; /* [a] the next NMI is ours */
	unsigned preempt_off_ticks; /* [L] consecutive ticks with preemption off */
	bool soft_reported;
	u64 hard_count, soft_count;
};

static struct wd_cpu wd[CONFIG_MAX_CPUS];
static u64 last_scan_ns;
static spinlock_t scan_lock = SPINLOCK_INIT("scan"); /* one scanner at a time */

static void wd_print(const char *line, void *arg)
{
	pr_err("%s", line);
}

static void report_frame(const char *what, const struct regs *r)
{
	unsigned cpu = this_cpu()->cpu;
	struct task *t = this_cpu()->curr;

	pr_err("watchdog: %s on cpu%u in task '%s' (pid %d)", what, cpu, t ? t->name : "?",
	       t ? t->pid : 0);
	backtrace_print(r->rip, r->rbp, false, wd_print, NULL);
}

static void scan_cpu(unsigned c, u64 now)
{
	struct wd_cpu *w = &wd[c];
	u64 ticks = READ_ONCE(percpu_of(c)->ticks);

	if (ticks != w->seen_ticks || !w->seen_at) {
		w->seen_ticks = ticks;
		w->seen_at = now;
		w->hard_reported = false;
		return;
	}
	if (w->hard_reported || now - w->seen_at < WATCHDOG_SECONDS * 1000000000ULL)
		return;
	w->hard_reported = true;
	w->hard_count++;
	w->nmi_wanted = true;
	lapic_send_ipi(percpu_of(c)->apic_id, IPI_NMI, 0);
}

/* Once a second, from whichever CPU's tick gets here first. */
static void scan_others(void)
{
	u64 now = time_ns();

	if (now - READ_ONCE(last_scan_ns) < 1000000000ULL || !spin_trylock(&scan_lock))
		return;
	last_scan_ns = now;
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		if (smp_cpu_online(c))
			scan_cpu(c, now); /* the scanner itself is plainly ticking */
	spin_unlock(&scan_lock);
}

static void check_self(const struct regs *r)
{
	struct wd_cpu *w = &wd[this_cpu()->cpu];

	if (!this_cpu()->preempt_count || this_cpu()->curr == this_cpu()->idle) {
		w->preempt_off_ticks = 0;
		w->soft_reported = false;
		return;
	}
	if (++w->preempt_off_ticks < WATCHDOG_TICKS || w->soft_reported)
		return;
	w->soft_reported = true;
	w->soft_count++;
	report_frame("soft lockup: preemption off for 2 s", r);
}

void watchdog_tick(const struct regs *interrupted)
{
	check_self(interrupted);
	scan_others();
}

bool watchdog_nmi(const struct regs *r)
{
	struct wd_cpu *w = &wd[this_cpu()->cpu];

	if (!w->nmi_wanted)
		return false;
	w->nmi_wanted = false;
	report_frame("hard lockup: no timer tick for 2 s (interrupts off?)", r);
	return true;
}

static int cmd_watchdog(struct sh *sh, int argc, char **argv)
{
	u64 now = time_ns();

	sh_printf(sh, "watchdog: timeout %d s; %s\n", WATCHDOG_SECONDS,
		  smp_cpu_count() > 1 ? "hard and soft lockups" :
		  "soft lockups only (a hard lockup needs a second CPU to see it)");
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		if (!smp_cpu_online(c))
			continue;
		sh_printf(sh, "cpu%u: ticks %llu, last seen moving %llu ms ago, hard lockups %llu, "
			  "soft lockups %llu\n", c, (unsigned long long)percpu_of(c)->ticks,
			  (unsigned long long)(wd[c].seen_at ? (now - wd[c].seen_at) / 1000000 : 0),
			  (unsigned long long)wd[c].hard_count, (unsigned long long)wd[c].soft_count);
	}
	return sh_output_error(sh);
}
SHELL_CMD("watchdog", "", "lockup detector state and counts", 0, 0, cmd_watchdog);

/*
 * `hang`: a task pinned to the CPU spins for the given time with interrupts
 * or preemption off.  The request lives on the stack of the command, which
 * joins the task.  Ctrl-C marks the command's task (the requester)
 * interrupted; the spinning task watches that mark itself, because the
 * requester may be unable to run — when it shares the stalled CPU with
 * preemption off.  One case cannot be stopped early: interrupts off on the
 * CPU that takes the console's interrupt (cpu0), since the keystroke is
 * never delivered; it ends with its time limit.
 */
struct hang_req {
	u64 ns;
	bool irqoff;
	struct task *requester; /* [I] outlives the hang task (joins it) */
};

static bool hang_stopped(const struct hang_req *h)
{
	return __atomic_load_n(&h->requester->interrupted, __ATOMIC_ACQUIRE);
}

#define HANG_SPINS 1000 /* between looks at the clock */

/*
 * Spin without ticking (irqoff) or without being preemptible.  Most of the
 * time is spent in this function's own loop, not in time_ns(): the
 * watchdog's report walks frame pointers, and an NMI that lands on the
 * first instruction of a callee would leave hang_task out of the trace.
 */
static void hang_task(void *arg)
{
	struct hang_req *h = arg;
	u64 end = time_ns() + h->ns;

	if (h->irqoff)
		cli();
	else
		preempt_disable();
	while (!hang_stopped(h) && time_ns() < end)
		for (unsigned i = 0; i < HANG_SPINS && !hang_stopped(h); i++)
			cpu_relax();
	if (h->irqoff)
		sti();
	else
		preempt_enable();
}

static bool hang_done(void *arg)
{
	return READ_ONCE(((struct task *)arg)->state) == TASK_DEAD;
}

#define HANG_MAX_SECONDS 30

/* The highest online CPU: the top of the range `hang` accepts. */
static unsigned hang_last_cpu(void)
{
	unsigned last = 0;

	for (unsigned c = 1; c < CONFIG_MAX_CPUS; c++)
		if (smp_cpu_online(c))
			last = c;
	return last;
}

static int hang_args(struct sh *sh, int argc, char **argv, u64 *cpu, struct hang_req *h)
{
	u64 secs;
	int rc = sh_parse_uint(sh, argv[1], "cpu", 0, hang_last_cpu(), cpu);

	if (rc)
		return rc;
	if (!smp_cpu_online((unsigned)*cpu))
		return sh_error(sh, "cpu '%s' is not online (see 'cpu')", argv[1]);
	rc = sh_parse_uint(sh, argv[2], "seconds", 1, HANG_MAX_SECONDS, &secs);
	if (rc)
		return rc;
	if (argc > 3 && strcmp(argv[3], "irqoff") && strcmp(argv[3], "preemptoff"))
		return sh_error(sh, "mode must be irqoff or preemptoff, not '%s'", argv[3]);
	h->ns = secs * 1000000000ULL;
	h->irqoff = argc < 4 || strcmp(argv[3], "irqoff") == 0;
	h->requester = task_current();
	return 0;
}

static int cmd_hang(struct sh *sh, int argc, char **argv)
{
	struct hang_req h;
	struct task *t;
	u64 cpu;
	int rc = hang_args(sh, argc, argv, &cpu, &h);

	if (rc)
		return rc;
	t = task_create("hang", hang_task, &h, (int)cpu);
	if (!t)
		return sh_error(sh, "cannot start the task");
	sh_printf(sh, "cpu%llu stuck for %llu s with %s\n", (unsigned long long)cpu,
		  (unsigned long long)(h.ns / 1000000000ULL),
		  h.irqoff ? "interrupts off" : "preemption off");
	/* On Ctrl-C the task sees the mark too and ends at once: then join it. */
	rc = waitq_wait_interruptible(&t->exit_wait, hang_done, t, 0);
	task_join(t);
	return rc;
}
SHELL_CMD("hang", "<cpu> <seconds> [irqoff|preemptoff]",
	  "debug: make a CPU stop ticking (irqoff) or stop switching tasks, to test the watchdog",
	  2, 3, cmd_hang);
