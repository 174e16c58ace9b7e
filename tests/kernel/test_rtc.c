/*
 * test_rtc.c — boot tests of the wall clock and the paravirtual clock on
 * the real (virtual) machine: the CMOS RTC reads a plausible date, ticks
 * once a second against the calibrated monotonic clock, and its two read
 * functions agree; kvmclock is present exactly when CPUID says this is a
 * KVM guest with a clock, and then reads a monotonic nanosecond clock that
 * runs at the same rate as time_ns().
 *
 * The decoding corner cases (BCD, 12-hour, century) are host-tested in
 * tests/unit/test_calendar.c; here only the hardware path is exercised.
 */
#include "config.h"
#include "drivers/kvmclock.h"
#include "drivers/rtc.h"
#include "errno.h"
#include "kernel/cpu.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "lib/calendar.h"
#include "lib/ktest.h"
#include "lib/string.h"

KTEST(rtc, reads_plausible_date)
{
	struct civil_time t;
	char text[CALENDAR_FMT_SIZE];

	KT_ASSERT_EQ(rtc_read(&t), 0);
	KT_EXPECT(calendar_valid(&t));
	KT_EXPECT(t.year >= 2020 && t.year <= 2100);
	KT_ASSERT_EQ(calendar_format(&t, text, sizeof(text)), 0);
	ktest_log(kt, "rtc: %s UTC", text);
}

KTEST(rtc, unix_agrees_with_civil)
{
	struct civil_time t;
	s64 from_civil, direct;

	KT_ASSERT_EQ(rtc_read(&t), 0);
	KT_ASSERT_EQ(rtc_read_unix(&direct), 0);
	KT_ASSERT_EQ(calendar_to_unix(&t, &from_civil), 0);
	/* The second read may land just after a second boundary. */
	KT_EXPECT(direct - from_civil >= 0 && direct - from_civil <= 1);
}

#define NS_PER_S 1000000000ULL

/*
 * The RTC counts whole seconds, so over an interval of L seconds it moves
 * floor(L) or ceil(L).  The interval between the two readings is bracketed
 * by the monotonic clock — at least @inner (first read done -> second read
 * begun), at most @outer (first read begun -> second read done) — so the
 * RTC must move at least floor(inner) and at most ceil(outer) seconds,
 * however long the host stalled the vCPU anywhere in between.  5% of
 * margin covers the TSC calibration.
 */
KTEST(rtc, ticks_with_monotonic_clock)
{
	s64 before, after, moved;
	u64 t0, t1, t2, t3, lo, hi;

	KT_ASSERT(time_ns() != 0);
	t0 = time_ns();
	KT_ASSERT_EQ(rtc_read_unix(&before), 0);
	t1 = time_ns();
	while (time_ns() - t1 < 1200000000ULL)
		cpu_relax();
	t2 = time_ns();
	KT_ASSERT_EQ(rtc_read_unix(&after), 0);
	t3 = time_ns();
	moved = after - before;
	lo = (t2 - t1) * 95 / 100 / NS_PER_S;
	hi = ((t3 - t0) * 105 / 100 + NS_PER_S - 1) / NS_PER_S;
	if (moved < (s64)lo || moved > (s64)hi)
		ktest_log(kt, "rtc moved %lld s between readings %llu..%llu ms apart",
			  (long long)moved, (unsigned long long)((t2 - t1) / 1000000),
			  (unsigned long long)((t3 - t0) / 1000000));
	KT_EXPECT(lo >= 1); /* 1.2 s, less the margin */
	KT_EXPECT(moved >= (s64)lo && moved <= (s64)hi);
}

/* What CPUID says, found here without the driver's help. */
static bool cpuid_has_kvm_clock(void)
{
	static const char sig[12] = "KVMKVMKVM\0\0";

	if (!(cpuid(1, 0).ecx & (1u << 31)))
		return false;
	for (u32 base = 0x40000000u; base < 0x40010000u; base += 0x100) {
		struct cpuid_regs r = cpuid(base, 0);
		u32 words[3] = { r.ebx, r.ecx, r.edx };

		if (!memcmp(words, sig, sizeof(sig)))
			return cpuid(base + 1, 0).eax & ((1u << 0) | (1u << 3));
	}
	return false;
}

KTEST(kvmclock, absent_without_kvm)
{
	if (cpuid_has_kvm_clock()) {
		ktest_log(kt, "KVM clock offered; checked by kvmclock.monotonic");
		return;
	}
	KT_EXPECT_EQ(kvmclock_init(), -ENODEV);
	KT_EXPECT(!kvmclock_available());
	KT_EXPECT_EQ(kvmclock_init_cpu(cpu_id()), -ENODEV);
	KT_EXPECT_EQ(kvmclock_ns(cpu_id()), 0);
	KT_EXPECT_EQ(kvmclock_ns(CONFIG_MAX_CPUS), 0);
}

KTEST(kvmclock, monotonic)
{
	unsigned cpu = cpu_id();
	u64 prev, now, k0, t0, t1, dk, inner, outer;

	if (!cpuid_has_kvm_clock()) {
		ktest_log(kt, "no KVM clock in CPUID (TCG or bare metal): see absent_without_kvm");
		return;
	}
	KT_ASSERT_EQ(kvmclock_init(), 0);
	KT_EXPECT_EQ(kvmclock_init(), 0); /* idempotent */
	KT_EXPECT(kvmclock_available());
	KT_EXPECT_EQ(kvmclock_init_cpu(CONFIG_MAX_CPUS), -EINVAL);
	prev = kvmclock_ns(cpu);
	KT_ASSERT(prev != 0);
	for (int i = 0; i < 100000; i++) {
		now = kvmclock_ns(cpu);
		KT_ASSERT(now >= prev);
		prev = now;
	}
	/*
	 * Over 20 ms it runs at the rate of time_ns(), within a factor of 2.
	 * Each kvmclock reading is bracketed by two of time_ns(), so a stall
	 * of the vCPU between readings of the two clocks cannot skew it.
	 */
	t0 = time_ns();
	k0 = kvmclock_ns(cpu);
	t1 = time_ns();
	while (time_ns() - t1 < 20000000ULL)
		cpu_relax();
	inner = time_ns() - t1;   /* no longer than the kvmclock interval */
	dk = kvmclock_ns(cpu) - k0;
	outer = time_ns() - t0;   /* no shorter than it */
	ktest_log(kt, "kvmclock %llu ns over time_ns %llu..%llu ns", (unsigned long long)dk,
		  (unsigned long long)inner, (unsigned long long)outer);
	KT_EXPECT(dk >= inner / 2 && dk <= outer * 2);
}
