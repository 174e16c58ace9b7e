/*
 * time.c — calibrated TSC time.
 *
 * Calibration times a PIT channel 2 interval of CAL_MS milliseconds with the
 * TSC, CAL_ROUNDS times, and takes the median, which discards a round that a
 * host hiccup (common under emulation) stretched.  The result is kept as a
 * 32.32 fixed-point multiplier, nanoseconds per cycle, so time_ns() is one
 * multiply with no division.
 */
#include "kernel/time.h"
#include "drivers/pit.h"
#include "kernel/printk.h"
#include "kernel/x86.h"

#define CAL_MS 2
#define CAL_ROUNDS 5

static u64 tsc_base;
static u64 tsc_hz;
static u64 ns_per_cycle_32; /* nanoseconds per cycle, << 32 */

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

static void sort_u64(u64 *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j && v[j - 1] > v[j]; j--) {
			u64 t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

void time_init(u64 entry_tsc)
{
	u64 hz[CAL_ROUNDS];

	tsc_base = entry_tsc;
	for (unsigned i = 0; i < CAL_ROUNDS; i++)
		hz[i] = tsc_measure_round();
	sort_u64(hz, CAL_ROUNDS);
	tsc_hz = hz[CAL_ROUNDS / 2];
	if (!tsc_hz) {
		pr_err("time: TSC does not advance; the clock reads 0");
		return;
	}
	ns_per_cycle_32 = (1000000000ULL << 32) / tsc_hz;
	pr_info("time: TSC %llu.%03llu MHz (median of %d PIT rounds, spread %llu kHz)",
		(unsigned long long)(tsc_hz / 1000000), (unsigned long long)(tsc_hz / 1000 % 1000),
		CAL_ROUNDS, (unsigned long long)((hz[CAL_ROUNDS - 1] - hz[0]) / 1000));
}

u64 time_tsc_to_ns(u64 cycles)
{
	return (u64)(((unsigned __int128)cycles * ns_per_cycle_32) >> 32);
}

u64 time_ns(void)
{
	if (!tsc_hz)
		return 0;
	return time_tsc_to_ns(rdtsc() - tsc_base);
}

u64 time_tsc_hz(void)
{
	return tsc_hz;
}

void time_udelay(u64 us)
{
	u64 end = time_ns() + us * 1000;

	while (time_ns() < end)
		cpu_relax();
}
