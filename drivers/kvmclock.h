/*
 * kvmclock.h — KVM's paravirtual clock: a nanosecond clock read with one
 * rdtsc and no VM exit, maintained by the host per virtual CPU.
 *
 * Bring-up: kvmclock_init() once on the boot CPU, after the page allocator
 * is up.  It finds KVM through the hypervisor CPUID leaves, allocates the
 * page holding every CPU's record and registers the calling CPU.  Each
 * other CPU then calls kvmclock_init_cpu(its index) on itself while it
 * starts.  Without KVM (bare metal, TCG) kvmclock_init() returns -ENODEV
 * and changes nothing; every other call is then harmless: kvmclock_ns()
 * reads 0 and kvmclock_available() is false.
 *
 * kvmclock_ns() is the host's clock in nanoseconds, zero near when the VM
 * started — not kernel entry; a clock-source layer subtracts a reading
 * taken at boot.  It never goes backwards, on one CPU or across CPUs
 * (across CPUs by a shared floor, or by the host's word when it says the
 * vCPUs' TSCs are synchronised).
 *
 * Locking: init_lock (kvmclock.c) serialises the two init calls; reading
 * takes no lock and may be done from any context, including IRQs.
 */
#ifndef NOS_DRIVERS_KVMCLOCK_H
#define NOS_DRIVERS_KVMCLOCK_H

#include "types.h"

/*
 * Detect KVM's clock, allocate the per-CPU records and register the calling
 * CPU (cpu_id()).  0 on success or when already done; -ENODEV when there is
 * no KVM clock; -ENOMEM; -EIO when the host never fills the record.
 */
int kvmclock_init(void);

/*
 * Point the host at @cpu's record.  Must run on CPU @cpu (it writes that
 * CPU's MSR).  0, or -ENODEV before a successful kvmclock_init(), -EINVAL
 * for @cpu >= CONFIG_MAX_CPUS, -EIO when the host does not fill the record.
 * Calling it again for the same CPU is harmless.
 */
int kvmclock_init_cpu(unsigned cpu);

/* True once kvmclock_init() has succeeded. */
bool kvmclock_available(void);

/* True when the host says the TSCs of all vCPUs are synchronised. */
bool kvmclock_tsc_stable(void);

/*
 * The host clock in ns read through @cpu's record; the caller runs on
 * @cpu with preemption off.  0 when @cpu has no registered record.
 */
u64 kvmclock_ns(unsigned cpu);

#endif
