/*
 * kvmclock.c — finding KVM's clock and handing the host a record per CPU.
 *
 * Detection.  A hypervisor announces itself with CPUID.1:ECX bit 31 and a
 * 12-byte signature in EBX:ECX:EDX of a leaf at 0x40000000 + n * 0x100;
 * KVM's is "KVMKVMKVM\0\0\0".  It is usually at the first base, but a KVM
 * that also emulates Hyper-V puts Hyper-V there and itself at a later one,
 * so the whole range is scanned.  The leaf after the signature holds KVM's
 * feature bits: CLOCKSOURCE2 (bit 3) offers the system-time MSR in KVM's own
 * range, 0x4b564d01; CLOCKSOURCE (bit 0) the older 0x12 with the same
 * meaning; STABLE_BIT (bit 24) says the record's PVCLOCK_TSC_STABLE_BIT
 * flag may be believed.
 *
 * Registration.  Writing (physical address | 1) to the MSR on a CPU makes
 * the host keep that CPU's struct pvclock_vcpu_time_info at that address
 * up to date; the host fills it before the guest runs its next instruction,
 * which is how kvmclock_init_cpu() checks it worked.  The records sit in one
 * zeroed page, each in a 64-byte slot of its own: the host rewrites a CPU's
 * record while other CPUs read theirs, and separate cache lines keep those
 * from slowing each other down.  The page is never freed: the host writes
 * into it for as long as the MSR points there.
 *
 * Reading is lib/pvclock.c's seqlock loop with an ordered rdtsc (lfence
 * first, so the TSC is not read before the record's fields).  Unless the
 * host promises synchronised TSCs, readings pass through a shared monotonic
 * floor, as different CPUs' records may disagree slightly.
 *
 * Legend: [I] set once under init_lock before anyone can read it (published
 * by the release store of `ready` or of cpu_live[]); [a] atomic;
 * [L] written only by the owning CPU.
 */
#include "drivers/kvmclock.h"
#include "config.h"
#include "errno.h"
#include "kernel/cpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"
#include "lib/pvclock.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/page_alloc.h"

#define CPUID1_ECX_HYPERVISOR (1u << 31)
#define HV_CPUID_FIRST 0x40000000u
#define HV_CPUID_END 0x40010000u
#define HV_CPUID_STEP 0x100u
#define KVM_CPUID_FEATURES 1 /* leaf offset from the signature leaf */

#define KVM_FEATURE_CLOCKSOURCE (1u << 0)
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24)

#define MSR_KVM_SYSTEM_TIME 0x12
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
#define KVMCLOCK_MSR_ENABLE 1

#define KVMCLOCK_SLOT_SIZE 64
#define KVMCLOCK_FILL_POLLS 1000000

struct kvmclock_slot {
	struct pvclock_vcpu_time_info info;
	u8 pad[KVMCLOCK_SLOT_SIZE - sizeof(struct pvclock_vcpu_time_info)];
};

_Static_assert(sizeof(struct kvmclock_slot) == KVMCLOCK_SLOT_SIZE, "one cache line per CPU");
_Static_assert(CONFIG_MAX_CPUS * KVMCLOCK_SLOT_SIZE <= 4096, "the records fit one page");

static spinlock_t init_lock = SPINLOCK_INIT("init"); /* serialises kvmclock_init() */
static struct kvmclock_slot *slots;          /* [I] the page of records */
static u32 system_time_msr;                  /* [I] */
static bool host_stable;                     /* [I] STABLE_BIT offered */
static bool ready;                           /* [a] kvmclock_init() succeeded */
static bool cpu_live[CONFIG_MAX_CPUS];       /* [a][L] the host fills this record */
static u64 last_ns;                          /* [a] monotonic floor */

/* The CPUID base of KVM's leaves, or 0 when this is not a KVM guest. */
static u32 kvm_cpuid_base(void)
{
	static const char sig[12] = "KVMKVMKVM\0\0";
	struct cpuid_regs r;
	char got[12];

	if (!(cpuid(1, 0).ecx & CPUID1_ECX_HYPERVISOR))
		return 0;
	for (u32 base = HV_CPUID_FIRST; base < HV_CPUID_END; base += HV_CPUID_STEP) {
		r = cpuid(base, 0);
		memcpy(got, &r.ebx, 4);
		memcpy(got + 4, &r.ecx, 4);
		memcpy(got + 8, &r.edx, 4);
		/* eax is the last leaf; early KVMs left it 0. */
		if (!memcmp(got, sig, sizeof(sig)) &&
		    (r.eax == 0 || r.eax >= base + KVM_CPUID_FEATURES))
			return base;
	}
	return 0;
}

/* Pick the system-time MSR from KVM's features; 0 when it has no clock. */
static u32 kvmclock_pick_msr(u32 features)
{
	if (features & KVM_FEATURE_CLOCKSOURCE2)
		return MSR_KVM_SYSTEM_TIME_NEW;
	if (features & KVM_FEATURE_CLOCKSOURCE)
		return MSR_KVM_SYSTEM_TIME;
	return 0;
}

/* Detect and allocate, once.  init_lock held. */
static int kvmclock_setup(void)
{
	struct kvmclock_slot *page;
	u32 base, features;

	if (slots)
		return 0;
	base = kvm_cpuid_base();
	if (!base)
		return -ENODEV;
	features = cpuid(base + KVM_CPUID_FEATURES, 0).eax;
	system_time_msr = kvmclock_pick_msr(features);
	if (!system_time_msr)
		return -ENODEV;
	host_stable = features & KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
	page = page_zalloc(1);
	if (!page)
		return -ENOMEM;
	/* Publish last: a CPU that sees slots sees the MSR number too. */
	__atomic_store_n(&slots, page, __ATOMIC_RELEASE);
	return 0;
}

/* Wait (bounded) for the host's first complete write of @info. */
static bool kvmclock_wait_filled(const volatile struct pvclock_vcpu_time_info *info)
{
	for (unsigned i = 0; i < KVMCLOCK_FILL_POLLS; i++) {
		u32 v = info->version;

		if (v && !(v & 1))
			return true;
		cpu_relax();
	}
	return false;
}

int kvmclock_init_cpu(unsigned cpu)
{
	struct pvclock_vcpu_time_info *info;

	if (cpu >= CONFIG_MAX_CPUS)
		return -EINVAL;
	if (!__atomic_load_n(&slots, __ATOMIC_ACQUIRE))
		return -ENODEV;
	info = &slots[cpu].info;
	wrmsr(system_time_msr, virt_to_phys(info) | KVMCLOCK_MSR_ENABLE);
	if (!kvmclock_wait_filled(info)) {
		wrmsr(system_time_msr, 0); /* stop the host writing there */
		pr_err("kvmclock: cpu %u: the host never filled the time record", cpu);
		return -EIO;
	}
	__atomic_store_n(&cpu_live[cpu], true, __ATOMIC_RELEASE);
	return 0;
}

int kvmclock_init(void)
{
	u64 flags = spin_lock_irqsave(&init_lock);
	bool was_ready = __atomic_load_n(&ready, __ATOMIC_RELAXED);
	int rc = kvmclock_setup();

	spin_unlock_irqrestore(&init_lock, flags);
	if (rc || was_ready)
		return rc;
	rc = kvmclock_init_cpu(cpu_id());
	if (rc)
		return rc;
	__atomic_store_n(&ready, true, __ATOMIC_RELEASE);
	pr_info("kvmclock: MSR %#x, host TSC %s", system_time_msr,
		kvmclock_tsc_stable() ? "stable across CPUs" : "not known stable");
	return 0;
}

bool kvmclock_available(void)
{
	return __atomic_load_n(&ready, __ATOMIC_ACQUIRE);
}

/* The host keeps @cpu's record (acquire: its fields are then visible). */
static bool cpu_is_live(unsigned cpu)
{
	return cpu < CONFIG_MAX_CPUS && __atomic_load_n(&cpu_live[cpu], __ATOMIC_ACQUIRE);
}

bool kvmclock_tsc_stable(void)
{
	unsigned cpu = cpu_id();

	if (!host_stable || !cpu_is_live(cpu))
		return false;
	return READ_ONCE(slots[cpu].info.flags) & PVCLOCK_TSC_STABLE_BIT;
}

/* The TSC, not read before the loads that precede it (the record). */
static u64 kvmclock_rdtsc(void *arg)
{
	__asm__ __volatile__("lfence" ::: "memory");
	return rdtsc();
}

u64 kvmclock_ns(unsigned cpu)
{
	u64 ns;
	u8 fl;

	if (!cpu_is_live(cpu))
		return 0;
	/* A host that never finishes an update: time stands at the floor. */
	if (pvclock_read(&slots[cpu].info, kvmclock_rdtsc, NULL, &ns, &fl))
		return __atomic_load_n(&last_ns, __ATOMIC_RELAXED);
	if (host_stable && (fl & PVCLOCK_TSC_STABLE_BIT))
		return ns;
	return pvclock_monotonic(&last_ns, ns);
}
