/*
 * pvclock.h — the paravirtual clock ABI shared by KVM and Xen, and the
 * arithmetic that turns it into nanoseconds.
 *
 * The hypervisor keeps one struct pvclock_vcpu_time_info per virtual CPU in
 * guest memory (the guest says where, see drivers/kvmclock.c).  It records
 * a TSC value (tsc_timestamp), the hypervisor's system time in nanoseconds
 * at that TSC value (system_time), and the TSC rate as a shift and a 32.32
 * fixed-point multiplier.  At any later TSC value on that CPU:
 *
 *     delta = tsc - tsc_timestamp
 *     delta = tsc_shift >= 0 ? delta << tsc_shift : delta >> -tsc_shift
 *     ns    = system_time + (delta * tsc_to_system_mul) >> 32
 *
 * with the multiply done in 128 bits, so a guest reads a nanosecond clock
 * with one rdtsc and no VM exit.  The host rewrites the record whenever its
 * own clock is adjusted, bracketed by version updates: it makes version odd
 * before writing and even again after, so a reader retries while version is
 * odd or has changed during its read (a seqlock with the hypervisor as the
 * single writer).
 *
 * Everything here is pure: the TSC is read through a callback, so the host
 * unit tests can drive the retry loop with a fake record and a fake
 * hypervisor.  No locks; any context.
 */
#ifndef NOS_LIB_PVCLOCK_H
#define NOS_LIB_PVCLOCK_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

/* The ABI record.  Its layout is fixed by the hypervisor; never change it. */
struct pvclock_vcpu_time_info {
	u32 version;           /* odd while the host is writing the record */
	u32 pad0;
	u64 tsc_timestamp;     /* TSC at the time of system_time */
	u64 system_time;       /* host nanoseconds at tsc_timestamp */
	u32 tsc_to_system_mul; /* ns per (shifted) TSC tick, 32.32 fixed point */
	s8 tsc_shift;          /* pre-shift of the TSC delta, either direction */
	u8 flags;              /* PVCLOCK_* below */
	u8 pad[2];
};

_Static_assert(sizeof(struct pvclock_vcpu_time_info) == 32, "pvclock ABI record is 32 bytes");
_Static_assert(__builtin_offsetof(struct pvclock_vcpu_time_info, tsc_timestamp) == 8,
	       "pvclock ABI: tsc_timestamp at 8");
_Static_assert(__builtin_offsetof(struct pvclock_vcpu_time_info, system_time) == 16,
	       "pvclock ABI: system_time at 16");
_Static_assert(__builtin_offsetof(struct pvclock_vcpu_time_info, tsc_to_system_mul) == 24,
	       "pvclock ABI: tsc_to_system_mul at 24");
_Static_assert(__builtin_offsetof(struct pvclock_vcpu_time_info, flags) == 29,
	       "pvclock ABI: flags at 29");

/*
 * flags: the TSCs of all vCPUs are synchronised, so readings taken on
 * different CPUs are ordered without help (only meaningful when the
 * hypervisor also advertises it, e.g. KVM's CLOCKSOURCE_STABLE_BIT).
 */
#define PVCLOCK_TSC_STABLE_BIT 0x01
/* flags: the host paused the guest (the watchdog should not bark). */
#define PVCLOCK_GUEST_STOPPED 0x02

/* Give up after this many torn reads (the host keeps its writes short). */
#define PVCLOCK_READ_TRIES (1u << 20)

/* Reads the TSC (or a test's stand-in); @arg is pvclock_read()'s. */
typedef u64 (*pvclock_tsc_fn)(void *arg);

/*
 * ((@delta shifted by @shift) * @mul) >> 32, the product in 128 bits.  A
 * left shift drops the bits that leave the 64-bit word, as the ABI defines;
 * shifts of 64 or more either way give 0.
 */
u64 pvclock_scale(u64 delta, u32 mul, s8 shift);

/*
 * Read the clock in @src: take a consistent copy of the record, read the
 * TSC through @read_tsc(@arg) inside the same version window, and store the
 * time in nanoseconds in *@ns and the record's flags in *@flags (@flags may
 * be NULL).  A TSC below tsc_timestamp counts as no time elapsed rather
 * than wrapping to centuries.  Returns 0, or -EAGAIN when no consistent
 * copy was seen in PVCLOCK_READ_TRIES attempts (the version stayed odd or
 * kept changing); *@ns is then untouched.
 *
 * The caller must read the TSC of the CPU @src belongs to (run on it with
 * preemption off), unless the record says the TSCs are stable.
 */
int pvclock_read(const volatile struct pvclock_vcpu_time_info *src, pvclock_tsc_fn read_tsc,
		 void *arg, u64 *ns, u8 *flags);

/*
 * Clamp @now against *@last, the largest value handed out so far, and
 * advance *@last: returns max(@now, *@last).  Lock-free; for clocks read
 * from several CPUs whose records are not synchronised.
 */
u64 pvclock_monotonic(u64 *last, u64 now);

#endif
