/*
 * time.c — clocks: the TSC calibration, the PIT tick, and one monotonic
 * nanosecond clock on top of the best source.
 *
 * Calibration times a PIT channel 2 interval of CAL_MS milliseconds with the
 * TSC, round after round, until CAL_CLUSTER rounds agree within
 * 1/CAL_AGREE of each other, and takes the median of those.  A host hiccup
 * (common under emulation, and the rule on a loaded host) stretches or
 * shrinks a round at random, but undisturbed rounds all land on the true
 * rate: so among CAL_MAX_ROUNDS rounds the tightest group of CAL_CLUSTER
 * is the answer even when most rounds were disturbed — a plain median of
 * five once calibrated a 2 GHz TSC at 5.6 GHz on a busy machine, and the
 * clock ran at a third of its speed for the whole boot.  On a quiet host
 * the first three rounds usually agree (6 ms).  The result is kept as a
 * 32.32 fixed-point multiplier, nanoseconds per cycle, so reading the clock
 * is one multiply with no division.
 *
 * Sources, best first: kvmclock (when KVM offers it), the calibrated TSC,
 * and the PIT tick count (10 ms resolution) when the TSC cannot be
 * calibrated.  Whatever the source, time_ns() never goes backwards, on any
 * CPU: the last value handed out is kept in one atomic word and a reading
 * below it returns it instead (TSCs of different CPUs may disagree by a few
 * cycles; the monotonic clock must not show that).
 *
 * Wall time is the monotonic clock plus the Unix time of kernel entry,
 * which the platform sets once from the RTC (time_set_wall); so wall time
 * moves exactly as the monotonic clock does.
 *
 * The PIT interrupts 100 times a second on the boot CPU; its handler is the
 * one writer of `jiffies`, which readers get through a seqcount.
 */
#include "kernel/time.h"
#include "drivers/pit.h"
#include "errno.h"
#include "kernel/irq.h"
#include "kernel/printk.h"
#include "kernel/seqlock.h"
#include "kernel/x86.h"
#include "lib/cluster.h"

#define CAL_MS 2
#define CAL_CLUSTER 3      /* rounds that must agree */
#define CAL_AGREE 100      /* ... within 1/100 (1 %) of their median */
#define CAL_MAX_ROUNDS 25  /* at most 50 ms, on a host too busy to agree */
#define CPUID_INVARIANT_TSC (1u << 8)

static u64 tsc_base;
static u64 tsc_hz;
static u64 ns_per_cycle_32; /* nanoseconds per cycle, << 32 */
static bool tsc_invariant;
static enum time_source source = TIME_SOURCE_NONE;
static u64 (*source_read)(void); /* the source's ns since kernel entry */
static u64 last_ns;               /* [a] the monotonic floor */
static s64 wall_base_ns;          /* Unix time at kernel entry, in ns */
static bool wall_known;

static struct seqcount tick_seq;
static u64 jiffies;  /* [tick_seq] PIT interrupts since time_tick_start() */

static u64 tsc_measure_round(void)
{
	u64 t0, t1;
	unsigned spins = 0;

	pit_ch2_start((u16)(PIT_HZ * CAL_MS / 1000));
	t0 = rdtsc();
	while (!pit_ch2_done() && ++spins < 100000000)
		;
	t1 = rdtsc();
	return (t1 - t0) * (1000 / CAL_MS);
}

static u64 tsc_read_ns(void)
{
	return time_tsc_to_ns(rdtsc() - tsc_base);
}

static u64 pit_read_ns(void)
{
	return time_ticks() * (1000000000ULL / TIME_TICK_HZ);
}

/* The TSC rate in Hz (0 when it does not advance); @rounds, @spread say how it went. */
static u64 tsc_calibrate(unsigned *rounds, u64 *spread)
{
	u64 hz[CAL_MAX_ROUNDS], median = 0;
	unsigned n = 0;

	*spread = 0;
	while (n < CAL_MAX_ROUNDS) {
		hz[n++] = tsc_measure_round();
		if (n < CAL_CLUSTER)
			continue;
		cluster_sort(hz, n); /* the order of the rounds does not matter */
		median = cluster_median(hz, n, CAL_CLUSTER, spread);
		if (*spread <= median / CAL_AGREE)
			break;
	}
	*rounds = n;
	return median;
}

void time_init(u64 entry_tsc)
{
	unsigned rounds;
	u64 spread;

	tsc_base = entry_tsc;
	tsc_hz = tsc_calibrate(&rounds, &spread);
	if (!tsc_hz) {
		pr_err("time: TSC does not advance; the clock reads 0 until the PIT ticks");
		return;
	}
	ns_per_cycle_32 = (1000000000ULL << 32) / tsc_hz;
	if (cpuid(0x80000000, 0).eax >= 0x80000007)
		tsc_invariant = cpuid(0x80000007, 0).edx & CPUID_INVARIANT_TSC;
	time_set_source(TIME_SOURCE_TSC, tsc_read_ns);
	pr_info("time: TSC %llu.%03llu MHz (%d of %u PIT rounds within %llu kHz), %s",
		(unsigned long long)(tsc_hz / 1000000), (unsigned long long)(tsc_hz / 1000 % 1000),
		CAL_CLUSTER, rounds, (unsigned long long)(spread / 1000),
		tsc_invariant ? "invariant" : "not invariant");
	if (spread > tsc_hz / CAL_AGREE)
		pr_warn("time: the TSC rounds never agreed (host too busy?): the clock may be off "
			"by up to %llu.%llu %%", (unsigned long long)(spread * 100 / tsc_hz),
			(unsigned long long)(spread * 1000 / tsc_hz % 10));
}

static const char *const source_names[] = {
	[TIME_SOURCE_NONE] = "none", [TIME_SOURCE_PIT] = "PIT",
	[TIME_SOURCE_TSC] = "TSC", [TIME_SOURCE_KVMCLOCK] = "kvmclock",
};

void time_set_source(enum time_source src, u64 (*read_ns)(void))
{
	source_read = read_ns;
	__atomic_store_n(&source, src, __ATOMIC_RELEASE);
}

const char *time_source_name(void)
{
	return source_names[source];
}

static enum irq_result pit_tick(void *arg)
{
	seq_write_begin(&tick_seq);
	jiffies++;
	seq_write_end(&tick_seq);
	return IRQ_HANDLED;
}

int time_tick_start(void)
{
	int rc = irq_request_isa(0, pit_tick, NULL, "pit");

	if (rc)
		return rc;
	pit_start_periodic(TIME_TICK_HZ);
	if (source == TIME_SOURCE_NONE)
		time_set_source(TIME_SOURCE_PIT, pit_read_ns);
	return 0;
}

u64 time_ticks(void)
{
	u64 v;
	u32 s;

	do {
		s = seq_read_begin(&tick_seq);
		v = jiffies;
	} while (seq_read_retry(&tick_seq, s));
	return v;
}

u64 time_tsc_to_ns(u64 cycles)
{
	return (u64)(((unsigned __int128)cycles * ns_per_cycle_32) >> 32);
}

u64 time_ns(void)
{
	u64 now, last;

	if (source == TIME_SOURCE_NONE)
		return 0;
	now = source_read();
	last = __atomic_load_n(&last_ns, __ATOMIC_RELAXED);
	do {
		if (now <= last)
			return last;
	} while (!__atomic_compare_exchange_n(&last_ns, &last, now, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return now;
}

void time_set_wall(s64 unix_secs)
{
	wall_base_ns = unix_secs * 1000000000LL - (s64)time_ns();
	wall_known = true;
}

int time_wall(s64 *unix_ns)
{
	if (!wall_known)
		return -ENODATA;
	*unix_ns = wall_base_ns + (s64)time_ns();
	return 0;
}

int time_boot_wall(s64 *unix_ns)
{
	if (!wall_known)
		return -ENODATA;
	*unix_ns = wall_base_ns;
	return 0;
}

u64 time_tsc_hz(void)
{
	return tsc_hz;
}

bool time_tsc_invariant(void)
{
	return tsc_invariant;
}

void time_udelay(u64 us)
{
	u64 end = time_ns() + us * 1000;

	while (time_ns() < end)
		cpu_relax();
}
