/*
 * smp.c — AP start-up, the cross-CPU call, and stopping CPUs on a panic.
 *
 * Start-up of one AP (Intel SDM vol. 3, "MP initialization"): the BSP
 * allocates the AP's guarded idle stack, fills the trampoline's parameter
 * block (kernel CR3 and EFER, stack, entry point, CPU index), sends INIT,
 * waits 10 ms, sends a start-up IPI, and a second one if the AP has not
 * reached the trampoline 1 ms later.  The AP reports progress through the
 * trampoline's step byte and then through its percpu state; the BSP waits
 * up to AP_TIMEOUT_MS for CPU_ONLINE.  APs start one after the other
 * because they share the trampoline.  The trampoline page is
 * identity-mapped only while APs start.
 *
 * The call mechanism: each CPU has one call slot, guarded by its own
 * lock so that callers to the same CPU queue up.  The caller fills the slot,
 * sends VECTOR_IPI_CALL and spins until the target marks it done; a call
 * the target has not started when the wait times out is cancelled (see
 * struct call_slot).
 */
#include "kernel/smp.h"
#include "compiler.h"
#include "config.h"
#include "drivers/acpi.h"
#include "drivers/lapic.h"
#include "errno.h"
#include "kernel/cpu.h"
#include "kernel/irq.h"
#include "kernel/panic.h"
#include "kernel/params.h"
#include "kernel/percpu.h"
#include "kernel/platform.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/paging.h"
#include "mm/stack.h"

#define TRAMPOLINE_PHYS 0x8000ULL
#define AP_STACK_PAGES 4
#define AP_TIMEOUT_MS 200
#define CALL_TIMEOUT_NS 1000000000ULL

struct trampoline_params {
	u64 cr3, efer, stack, entry;
	u32 cpu;
	volatile u32 step;
} __packed;

/*
 * A cross-CPU call's life: the caller posts it (POSTED) and sends the IPI;
 * the target claims it (RUNNING), runs it, and marks it DONE.  A caller
 * whose wait times out cancels it if the target has not claimed it yet, so
 * a target that wakes up late never runs a function whose caller has gone
 * (with its arguments, often on the caller's stack).  A call already
 * running is waited out.  The claim and the cancel are one compare-and-swap
 * each, so exactly one of them wins.
 */
enum call_state { CALL_IDLE, CALL_POSTED, CALL_RUNNING, CALL_DONE };

struct call_slot {
	spinlock_t lock;        /* one caller at a time */
	smp_fn fn;              /* [lock] */
	void *arg;              /* [lock] */
	volatile int state;     /* [a] enum call_state */
};

extern const u8 trampoline_start[], trampoline_end[], trampoline_params[];

static struct call_slot call_slots[CONFIG_MAX_CPUS];
static struct kstack ap_stacks[CONFIG_MAX_CPUS];
static unsigned cpus_listed = 1, cpus_online = 1;
static volatile bool stopping;

static const char *const step_names[] = {
	"no response to INIT/SIPI", "real mode", "protected mode", "long mode",
};

bool smp_stopping(void)
{
	return stopping;
}

unsigned smp_cpu_count(void)
{
	return cpus_online;
}

unsigned smp_cpus_listed(void)
{
	return cpus_listed;
}

bool smp_cpu_online(unsigned cpu)
{
	return cpu < CONFIG_MAX_CPUS && percpu_of(cpu)->state == CPU_ONLINE;
}

static bool call_claim(struct call_slot *s, int from, int to)
{
	int expect = from;

	return __atomic_compare_exchange_n(&s->state, &expect, to, false, __ATOMIC_ACQ_REL,
					   __ATOMIC_ACQUIRE);
}

static enum irq_result ipi_call(void *arg)
{
	struct call_slot *s = &call_slots[this_cpu()->cpu];

	if (!call_claim(s, CALL_POSTED, CALL_RUNNING))
		return IRQ_HANDLED; /* cancelled by a caller that gave up, or already run */
	s->fn(s->arg);
	__atomic_store_n(&s->state, CALL_DONE, __ATOMIC_RELEASE);
	return IRQ_HANDLED;
}

/* The AP's first C code: tables, per-CPU data, local APIC, then idle. */
static __noreturn void ap_main(unsigned cpu)
{
	struct percpu *pc = percpu_of(cpu);

	cpu_init_tables(cpu);
	BUG_ON(!frame_aligned()); /* after the tables: a panic needs this CPU's */
	platform_init_cpu();
	__atomic_store_n(&pc->state, CPU_ONLINE, __ATOMIC_RELEASE);
	sched_run_idle();
}

static void trampoline_install(void)
{
	memcpy(phys_to_virt(TRAMPOLINE_PHYS), trampoline_start,
	       (size_t)(trampoline_end - trampoline_start));
	paging_map(TRAMPOLINE_PHYS, TRAMPOLINE_PHYS, MAP_WRITE | MAP_EXEC);
}

static struct trampoline_params *trampoline_block(void)
{
	return phys_to_virt(TRAMPOLINE_PHYS + (u64)(trampoline_params - trampoline_start));
}

static bool wait_online(struct percpu *pc, u64 deadline)
{
	while (time_ns() < deadline) {
		if (__atomic_load_n(&pc->state, __ATOMIC_ACQUIRE) == CPU_ONLINE)
			return true;
		cpu_relax();
	}
	return false;
}

static void send_startup(u32 apic_id, struct trampoline_params *tp)
{
	lapic_send_ipi(apic_id, IPI_INIT, 0);
	time_udelay(10000);
	lapic_send_ipi(apic_id, IPI_STARTUP, TRAMPOLINE_PHYS >> 12);
	time_udelay(1000);
	if (!tp->step)
		lapic_send_ipi(apic_id, IPI_STARTUP, TRAMPOLINE_PHYS >> 12);
}

static void ap_start(unsigned cpu, u32 apic_id)
{
	struct trampoline_params *tp = trampoline_block();
	struct percpu *pc = percpu_of(cpu);
	u64 t0;

	pc->apic_id = apic_id;
	if (stack_alloc(&ap_stacks[cpu], "idle", AP_STACK_PAGES)) {
		pc->state = CPU_FAILED;
		pc->fail_step = "no memory for its stack";
		return;
	}
	*tp = (struct trampoline_params){ paging_root(), rdmsr(MSR_EFER) & ~EFER_LMA,
					  ap_stacks[cpu].top,
					  (u64)ap_main, cpu, 0 };
	pc->state = CPU_STARTING;
	t0 = time_ns();
	send_startup(apic_id, tp);
	if (wait_online(pc, t0 + AP_TIMEOUT_MS * 1000000ULL)) {
		pc->startup_ns = time_ns() - t0;
		cpus_online++;
		return;
	}
	pc->state = CPU_FAILED;
	pc->fail_step = step_names[MIN(tp->step, ARRAY_SIZE(step_names) - 1)];
	pr_err("smp: cpu%u (apic %u) did not come up; it stopped after: %s", cpu, apic_id,
	       pc->fail_step);
}

static void start_aps(const u32 *ids, unsigned n)
{
	u32 self = percpu_of(0)->apic_id;
	unsigned cpu = 1;

	trampoline_install();
	for (unsigned i = 0; i < n && cpu < CONFIG_MAX_CPUS; i++)
		if (ids[i] != self)
			ap_start(cpu++, ids[i]);
	paging_unmap(TRAMPOLINE_PHYS);
	for (unsigned c = 1; c < cpu; c++)
		if (percpu_of(c)->state == CPU_ONLINE)
			pr_info("smp: cpu%u (apic %u) online in %llu us", c, percpu_of(c)->apic_id,
				(unsigned long long)(percpu_of(c)->startup_ns / 1000));
}

void smp_init(void)
{
	u32 ids[64];
	unsigned n = acpi_cpu_apic_ids(ids, ARRAY_SIZE(ids));

	percpu_of(0)->state = CPU_ONLINE;
	irq_request_vector(VECTOR_IPI_CALL, ipi_call, NULL, "ipi-call");
	cpus_listed = n ? n : 1;
	if (n > CONFIG_MAX_CPUS)
		pr_warn("smp: %u CPUs listed, using the first %d", n, CONFIG_MAX_CPUS);
	if (param_is("smp", "off"))
		pr_info("smp: smp=off, running on the boot CPU only");
	else if (n > 1)
		start_aps(ids, n);
	pr_info("smp: %u of %u CPUs online", cpus_online, cpus_listed);
}

/* Wait for the call in @s; on timeout cancel it, or wait out a call that is running. */
static int call_wait(struct call_slot *s, u64 deadline)
{
	while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != CALL_DONE) {
		if (time_ns() > deadline && call_claim(s, CALL_POSTED, CALL_IDLE))
			return -ETIMEDOUT;
		cpu_relax();
	}
	return 0;
}

static void call_post(unsigned cpu, smp_fn fn, void *arg)
{
	struct call_slot *s = &call_slots[cpu];

	spin_lock(&s->lock);
	s->fn = fn;
	s->arg = arg;
	__atomic_store_n(&s->state, CALL_POSTED, __ATOMIC_RELEASE);
	lapic_send_ipi(percpu_of(cpu)->apic_id, IPI_FIXED, VECTOR_IPI_CALL);
}

int smp_call(unsigned cpu, smp_fn fn, void *arg)
{
	int rc;

	if (!smp_cpu_online(cpu))
		return -EINVAL;
	if (cpu == this_cpu()->cpu) {
		fn(arg);
		return 0;
	}
	call_post(cpu, fn, arg);
	rc = call_wait(&call_slots[cpu], time_ns() + CALL_TIMEOUT_NS);
	spin_unlock(&call_slots[cpu].lock);
	return rc;
}

/* Post @fn to every other online CPU, run @local here meanwhile, wait. */
static int call_others_and(smp_fn fn, void *arg, smp_fn local)
{
	unsigned self = this_cpu()->cpu;
	u64 deadline;
	int rc = 0;

	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		if (c != self && smp_cpu_online(c))
			call_post(c, fn, arg);
	if (local)
		local(arg);
	deadline = time_ns() + CALL_TIMEOUT_NS;
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		if (c == self || !smp_cpu_online(c))
			continue;
		if (call_wait(&call_slots[c], deadline))
			rc = -ETIMEDOUT;
		spin_unlock(&call_slots[c].lock);
	}
	return rc;
}

int smp_call_others(smp_fn fn, void *arg)
{
	return call_others_and(fn, arg, NULL);
}

int smp_call_all(smp_fn fn, void *arg)
{
	return call_others_and(fn, arg, fn);
}

void smp_stop_others(void)
{
	stopping = true;
	/* An AP panicking while it starts is not counted online yet, but the
	 * boot CPU runs on and must stop too. */
	if (cpus_online > 1 || this_cpu()->cpu != 0)
		lapic_send_ipi_others(IPI_NMI, 0);
}
