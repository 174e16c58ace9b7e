/*
 * kernel_cmds.c — shell commands that show the kernel itself: version,
 * cls, dmesg, cpu, panic and smpbench.
 *
 * dmesg can print thousands of lines: it stops when the session's sink
 * fails or Ctrl-C interrupts it.  smpbench looks at Ctrl-C between batches
 * of its rounds and prints no figure for a measurement it cut short; it
 * maps and unmaps one fixed scratch address, so one session at a time runs
 * it (a second is told so).
 */
#include "config.h"
#include "errno.h"
#include "kernel/console.h"
#include "drivers/lapic.h"
#include "kernel/cpu.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"
#include "lib/string.h"

static int cmd_version(struct sh *sh, int argc, char **argv)
{
	sh_printf(sh, "nos %s x86_64 (clang %s, built %s %s)\n", NOS_VERSION, CLANG_VERSION,
		  __DATE__, __TIME__);
	return 0;
}
SHELL_CMD("version", "", "show the kernel version", 0, 0, cmd_version);

static int cmd_cls(struct sh *sh, int argc, char **argv)
{
	console_clear();
	return 0;
}
SHELL_CMD("cls", "", "clear the screen", 0, 0, cmd_cls);

struct dmesg_filter {
	struct sh *sh;
	const char *filter;
	int rc; /* once set, the rest of the log is skipped */
};

static void dmesg_line(const char *line, enum log_level level, void *arg)
{
	struct dmesg_filter *f = arg;

	if (f->rc)
		return;
	if (task_interrupted())
		f->rc = -EINTR;
	else if (!f->filter || strstr(line, f->filter)) {
		sh_printf(f->sh, "%s\n", line);
		f->rc = sh_output_error(f->sh);
	}
}

static int cmd_dmesg(struct sh *sh, int argc, char **argv)
{
	struct dmesg_filter f = { sh, argc > 1 ? argv[1] : NULL, 0 };

	dmesg_for_each(dmesg_line, &f);
	return f.rc;
}
SHELL_CMD("dmesg", "[filter]", "show kernel messages (only lines containing filter)", 0, 1,
	  cmd_dmesg);

static const struct {
	u8 reg; /* 0: CPUID 1 EDX, 1: CPUID 1 ECX, 2: 0x80000001 EDX, 3: 7.0 EBX */
	u8 bit;
	const char *name;
} cpu_features[] = {
	{ 0, 4, "tsc" }, { 0, 5, "msr" }, { 0, 6, "pae" }, { 0, 9, "apic" },
	{ 0, 13, "pge" }, { 0, 25, "sse" }, { 0, 26, "sse2" }, { 1, 0, "sse3" },
	{ 1, 19, "sse4.1" }, { 1, 20, "sse4.2" }, { 1, 21, "x2apic" }, { 1, 24, "tsc-deadline" },
	{ 1, 28, "avx" }, { 1, 30, "rdrand" }, { 1, 31, "hypervisor" }, { 2, 11, "syscall" },
	{ 2, 20, "nx" }, { 2, 26, "pdpe1gb" }, { 2, 27, "rdtscp" }, { 2, 29, "lm" },
	{ 3, 0, "fsgsbase" }, { 3, 7, "smep" }, { 3, 18, "rdseed" }, { 3, 20, "smap" },
};

static void cpu_print_features(struct sh *sh, const struct cpu_info *ci)
{
	const u32 regs[4] = { ci->feat_edx, ci->feat_ecx, ci->ext_feat_edx, ci->feat7_ebx };

	sh_printf(sh, "  features:");
	for (size_t i = 0; i < ARRAY_SIZE(cpu_features); i++)
		if (regs[cpu_features[i].reg] & (1u << cpu_features[i].bit))
			sh_printf(sh, " %s", cpu_features[i].name);
	sh_printf(sh, "\n");
}

struct cpu_regs {
	u64 cr0, cr3, cr4, efer;
	struct cpu_info info;
};

static void cpu_collect(void *arg)
{
	struct cpu_regs *r = arg;

	r->cr0 = read_cr0();
	r->cr3 = read_cr3();
	r->cr4 = read_cr4();
	r->efer = rdmsr(MSR_EFER);
	cpu_identify(&r->info);
}

static const char *const cpu_state_names[] = {
	[CPU_OFFLINE] = "offline", [CPU_STARTING] = "starting",
	[CPU_ONLINE] = "online", [CPU_FAILED] = "failed",
};

/* A CPU that cannot run the call (offline, failed, or not answering). */
static void cpu_show_state(struct sh *sh, unsigned cpu, int rc)
{
	struct percpu *pc = percpu_of(cpu);

	sh_printf(sh, "cpu%u: apic %u, %s%s%s%s\n", cpu, pc->apic_id, cpu_state_names[pc->state],
		  pc->fail_step ? ": " : "", pc->fail_step ? pc->fail_step : "",
		  rc == -ETIMEDOUT ? " (did not answer: interrupts off?)" : "");
}

static void cpu_show_regs(struct sh *sh, unsigned cpu, const struct cpu_regs *r)
{
	struct percpu *pc = percpu_of(cpu);

	sh_printf(sh, "cpu%u: apic %u, %s, %s, %s, family %u model %u stepping %u\n", cpu,
		  pc->apic_id, cpu_state_names[pc->state], r->info.vendor,
		  r->info.brand[0] ? r->info.brand : "(no brand string)", r->info.family,
		  r->info.model, r->info.stepping);
	sh_printf(sh, "  cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx ticks=%llu\n",
		  (unsigned long long)r->cr0, (unsigned long long)r->cr3,
		  (unsigned long long)r->cr4, (unsigned long long)r->efer,
		  (unsigned long long)pc->ticks);
	if (cpu)
		sh_printf(sh, "  started in %llu us\n",
			  (unsigned long long)(pc->startup_ns / 1000));
	else
		cpu_print_features(sh, &r->info);
}

/* The registers are read on the CPU itself (a call that times out is
 * cancelled by smp_call(), so @r may live on this stack). */
static void cpu_show(struct sh *sh, unsigned cpu)
{
	struct cpu_regs r;
	int rc = smp_call(cpu, cpu_collect, &r);

	if (rc)
		cpu_show_state(sh, cpu, rc);
	else
		cpu_show_regs(sh, cpu, &r);
}

static int cmd_cpu(struct sh *sh, int argc, char **argv)
{
	for (unsigned c = 0; c < CONFIG_MAX_CPUS && !sh_output_error(sh); c++)
		if (c == 0 || percpu_of(c)->state != CPU_OFFLINE)
			cpu_show(sh, c);
	sh_printf(sh, "%u of %u CPUs online; TSC %llu kHz%s; %s\n", smp_cpu_count(),
		  smp_cpus_listed(), (unsigned long long)(time_tsc_hz() / 1000),
		  time_tsc_invariant() ? " (invariant)" : "", lapic_x2apic() ? "x2APIC" : "xAPIC");
	return sh_output_error(sh);
}
SHELL_CMD("cpu", "", "show every CPU: APIC id, state, control registers, ticks", 0, 0, cmd_cpu);

/* Deliberate faults, each in its own function so the backtrace names it. */
#define PANIC_PF_ADDR 0xdead000UL

static __noinline void panic_pagefault(void)
{
	*(volatile u64 *)PANIC_PF_ADDR = 1;
}

static __noinline void panic_divzero(void)
{
	u32 zero = 0;

	/* In assembly: the compiler may not reason away a division by zero. */
	__asm__ __volatile__("movl $1, %%eax; xorl %%edx, %%edx; divl %0"
			     : : "r"(zero) : "eax", "edx");
}

static __noinline void panic_ud(void)
{
	__asm__ __volatile__("ud2");
}

/* W^X: a write into the kernel's own code. */
static __noinline void panic_textwrite(void)
{
	*(volatile u8 *)(void *)&panic_ud = 0xCC;
}

/* W^X: a jump into a data page. */
static __noinline void panic_nxexec(void)
{
	static u8 code[16] = { 0xC3 }; /* ret */

	((void (*)(void))(void *)code)();
}

static volatile unsigned overflow_depth;

/* Recurse until the stack runs into its guard page. */
static __noinline void panic_overflow(void)
{
	volatile u8 pad[512];

	pad[0] = 1;
	if (++overflow_depth)
		panic_overflow();
	pad[1] = pad[0];
}

static const struct {
	const char *name;
	void (*fn)(void);
} panic_types[] = {
	{ "pagefault", panic_pagefault }, { "divzero", panic_divzero },
	{ "ud", panic_ud },               { "textwrite", panic_textwrite },
	{ "nxexec", panic_nxexec },       { "overflow", panic_overflow },
};

static int cmd_panic(struct sh *sh, int argc, char **argv)
{
	const char *type = argc > 1 ? argv[1] : "direct";

	if (strcmp(type, "direct") == 0)
		panic("panic requested from the shell");
	for (size_t i = 0; i < ARRAY_SIZE(panic_types); i++) {
		if (strcmp(type, panic_types[i].name) == 0) {
			panic_types[i].fn();
			return sh_error(sh, "'%s' did not fault", type);
		}
	}
	return sh_error(sh, "unknown type '%s'", type);
}
SHELL_CMD("panic", "[direct|pagefault|divzero|ud|textwrite|nxexec|overflow]",
	  "crash the kernel on purpose (test the panic report)", 0, 1, cmd_panic);

static void smpbench_nothing(void *arg)
{
}

#define SMPBENCH_BATCH 64 /* rounds between looks at Ctrl-C */

/* Mean time of @rounds cross-CPU calls to @target in *@ns; -EINTR on Ctrl-C. */
static int ipi_round_trip_ns(unsigned target, unsigned rounds, u64 *ns)
{
	u64 t0 = time_ns();

	for (unsigned i = 0; i < rounds; i++) {
		if (i % SMPBENCH_BATCH == 0 && task_interrupted())
			return -EINTR;
		smp_call(target, smpbench_nothing, NULL);
	}
	*ns = (time_ns() - t0) / rounds;
	return 0;
}

/* Mean time of unmapping one page (with its shootdown) in *@ns. */
static int shootdown_ns(unsigned rounds, u64 *ns)
{
	u64 va = VA_TEST + 0x80000, t = 0;
	void *page = page_zalloc(1);
	unsigned i;

	if (!page)
		return -ENOMEM;
	for (i = 0; i < rounds; i++) {
		u64 t0;

		if (i % SMPBENCH_BATCH == 0 && task_interrupted())
			break;
		paging_map(va, virt_to_phys(page), MAP_WRITE);
		t0 = time_ns();
		paging_unmap(va);
		t += time_ns() - t0;
	}
	page_free(page, 1);
	*ns = t / rounds;
	return i < rounds ? -EINTR : 0;
}

static bool smpbench_busy; /* [a] a session is running smpbench (its scratch page) */

static int smpbench_run(struct sh *sh, unsigned target)
{
	u64 ns;
	int rc;

	if ((rc = ipi_round_trip_ns(target, 2000, &ns)) != 0)
		return rc;
	sh_printf(sh, "ipi round trip: %llu ns (cpu%u -> cpu%u)\n", (unsigned long long)ns,
		  this_cpu()->cpu, target);
	if ((rc = shootdown_ns(500, &ns)) == -ENOMEM)
		sh_printf(sh, "smpbench: no free page to map\n");
	if (rc)
		return rc;
	sh_printf(sh, "tlb shootdown: %llu ns (one page, %u CPUs)\n", (unsigned long long)ns,
		  smp_cpu_count());
	for (unsigned c = 1; c < CONFIG_MAX_CPUS; c++)
		if (smp_cpu_online(c))
			sh_printf(sh, "ap startup: cpu%u %llu us\n", c,
				  (unsigned long long)(percpu_of(c)->startup_ns / 1000));
	return 0;
}

static int cmd_smpbench(struct sh *sh, int argc, char **argv)
{
	unsigned target = 0;
	int rc;

	for (unsigned c = 1; c < CONFIG_MAX_CPUS && !target; c++)
		if (smp_cpu_online(c))
			target = c;
	if (!target)
		return sh_error(sh, "needs a second CPU online");
	if (__atomic_exchange_n(&smpbench_busy, true, __ATOMIC_ACQUIRE)) {
		sh_printf(sh, "smpbench: already running in another session\n");
		return -EBUSY;
	}
	rc = smpbench_run(sh, target);
	__atomic_store_n(&smpbench_busy, false, __ATOMIC_RELEASE);
	return rc;
}
SHELL_CMD("smpbench", "", "measure IPI round trip, TLB shootdown and AP start-up", 0, 0,
	  cmd_smpbench);
