/*
 * test_smp.c — boot tests of interrupts, timers and the other CPUs: every
 * online CPU ticks, answers a cross-CPU call, forgets an unmapped page
 * (TLB shootdown), and reads a monotonic clock that never goes backwards.
 * With one CPU (smp=off) the cross-CPU parts check the single-CPU paths.
 *
 * Nothing here may depend on how fast the host is: a TCG vCPU on a busy
 * machine can stall for a long time.  What must happen "within" some time
 * is waited for up to that time times selftest_slack() (`selftest.slack=N`),
 * and counts that a stall can skew have loose bounds scaled the same way.
 */
#include "errno.h"
#include "drivers/lapic.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/probe.h"
#include "kernel/selftest.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

static void wait_ms(u64 ms)
{
	u64 end = time_ns() + ms * 1000000ULL;

	while (time_ns() < end)
		__asm__ __volatile__("sti; hlt" ::: "memory"); /* a tick wakes us */
}

/* Has every online CPU ticked since @before was taken? */
static bool all_ticked(const u64 *before)
{
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		if (smp_cpu_online(c) && percpu_of(c)->ticks <= before[c])
			return false;
	return true;
}

KTEST(smp, every_cpu_ticks)
{
	u64 before[CONFIG_MAX_CPUS], pit = time_ticks(), give_up;

	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		before[c] = percpu_of(c)->ticks;
	give_up = time_ns() + 100 * 1000000ULL * selftest_slack();
	wait_ms(100);
	while ((time_ticks() == pit || !all_ticked(before)) && time_ns() < give_up)
		wait_ms(10); /* a vCPU the host has not run yet */
	KT_EXPECT(time_ticks() > pit);
	if (time_ticks() == pit)
		ktest_log(kt, "PIT silent: ISR[1]=%08x IRR[1]=%08x ISR[7]=%08x", lapic_isr_word(1),
			  lapic_irr_word(1), lapic_isr_word(7));
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		if (!smp_cpu_online(c))
			continue;
		if (percpu_of(c)->ticks <= before[c])
			ktest_log(kt, "cpu%u did not tick", c);
		KT_EXPECT(percpu_of(c)->ticks > before[c]);
	}
}

static void record_cpu(void *arg)
{
	unsigned *where = arg;

	where[this_cpu()->cpu] = this_cpu()->cpu + 100;
}

KTEST(smp, call_reaches_every_cpu)
{
	unsigned seen[CONFIG_MAX_CPUS], online = 0, hits = 0;

	memset(seen, 0, sizeof(seen));
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		if (!smp_cpu_online(c)) {
			KT_EXPECT_EQ(smp_call(c, record_cpu, seen), -EINVAL);
			continue;
		}
		online++;
		KT_EXPECT_EQ(smp_call(c, record_cpu, seen), 0);
		KT_EXPECT_EQ(seen[c], c + 100); /* it ran there, not here */
	}
	KT_EXPECT_EQ(online, smp_cpu_count());
	memset(seen, 0, sizeof(seen));
	KT_EXPECT_EQ(smp_call_others(record_cpu, seen), 0);
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		hits += seen[c] != 0;
	KT_EXPECT_EQ(hits, smp_cpu_count() - 1);
	KT_EXPECT_EQ(seen[this_cpu()->cpu], 0);
}

struct tlb_probe {
	u64 va;
	int rc[CONFIG_MAX_CPUS];
	u8 value[CONFIG_MAX_CPUS];
};

/* Read the test page on this CPU (which also loads its TLB entry). */
static void tlb_read(void *arg)
{
	struct tlb_probe *t = arg;
	unsigned c = this_cpu()->cpu;

	t->rc[c] = probe_read((void *)t->va);
	if (!t->rc[c])
		t->value[c] = *(volatile u8 *)t->va;
}

static void tlb_read_everywhere(struct tlb_probe *t)
{
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		t->rc[c] = 1, t->value[c] = 0;
	tlb_read(t);
	smp_call_others(tlb_read, t);
}

KTEST(smp, tlb_shootdown_reaches_every_cpu)
{
	struct tlb_probe t = { .va = VA_TEST + 0x40000 };
	u8 *a = page_zalloc(1), *b = page_zalloc(1);

	KT_ASSERT(a && b);
	a[0] = 0xAA;
	b[0] = 0xBB;
	KT_ASSERT_EQ(paging_map(t.va, virt_to_phys(a), MAP_WRITE), 0);
	tlb_read_everywhere(&t);
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		if (smp_cpu_online(c))
			KT_EXPECT(t.rc[c] == 0 && t.value[c] == 0xAA);
	KT_ASSERT_EQ(paging_unmap(t.va), 0);
	tlb_read_everywhere(&t);
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		if (smp_cpu_online(c))
			KT_EXPECT_EQ(t.rc[c], -EFAULT); /* no CPU kept the old entry */
	KT_ASSERT_EQ(paging_map(t.va, virt_to_phys(b), MAP_WRITE), 0);
	tlb_read_everywhere(&t);
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		if (smp_cpu_online(c))
			KT_EXPECT(t.rc[c] == 0 && t.value[c] == 0xBB);
	paging_unmap(t.va);
	page_free(a, 1);
	page_free(b, 1);
}

struct clock_run {
	u64 latest;                          /* [a] newest reading of any CPU */
	unsigned backwards[CONFIG_MAX_CPUS]; /* readings below one already seen */
	u64 reads[CONFIG_MAX_CPUS];
};

/*
 * Read the clock in a tight loop for 20 ms, and at least CLOCK_READS times
 * (a vCPU stalled by the host for the whole 20 ms still takes part).  Each
 * reading must not be below the newest reading any CPU published before it:
 * monotonic across CPUs, not only on each.
 */
#define CLOCK_READS 1000

static void clock_loop(void *arg)
{
	struct clock_run *r = arg;
	unsigned c = this_cpu()->cpu;
	u64 end = time_ns() + 20000000ULL, now = 0;

	while (now < end || r->reads[c] < CLOCK_READS) {
		u64 seen = __atomic_load_n(&r->latest, __ATOMIC_ACQUIRE);

		now = time_ns();
		r->backwards[c] += now < seen;
		r->reads[c]++;
		while (seen < now && !__atomic_compare_exchange_n(&r->latest, &seen, now, true,
								   __ATOMIC_RELEASE,
								   __ATOMIC_ACQUIRE))
			;
	}
}

KTEST(time, monotonic_on_every_cpu_at_once)
{
	static struct clock_run r;

	memset(&r, 0, sizeof(r));
	KT_EXPECT_EQ(smp_call_all(clock_loop, &r), 0);
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		KT_EXPECT_EQ(r.backwards[c], 0);
		if (smp_cpu_online(c))
			KT_EXPECT(r.reads[c] >= CLOCK_READS); /* it ran there */
	}
}

KTEST(time, sleeping_lasts_and_the_pit_keeps_pace)
{
	u64 t0 = time_ns(), j0 = time_ticks(), dt, dj;

	wait_ms(300);
	dt = time_ns() - t0;
	dj = time_ticks() - j0;
	KT_EXPECT(dt >= 300000000ULL);
	/*
	 * 100 Hz: the PIT count and the clock describe the same interval.  An
	 * emulator delivers ticks late under load (fewer in the interval) and
	 * then catches up (a burst of the ones it owed), so on an idle host the
	 * count is at least half the interval's and at most three ticks over;
	 * both margins grow with the slack.  With the default slack a PIT three
	 * times too fast, or one that stopped, still fails.
	 */
	KT_EXPECT(dj * 10000000ULL * 2 * selftest_slack() >= dt);
	KT_EXPECT(dj * 10000000ULL <= dt + 30000000ULL * selftest_slack());
	if (kt->failures)
		ktest_log(kt, "%llu ns, %llu ticks", (unsigned long long)dt, (unsigned long long)dj);
}

/* ---------------------------------------------- a call that times out */

#define MS 1000000ULL

static volatile bool late_call_ran;
static volatile bool deaf_running;

static void mark_late_call(void *arg)
{
	late_call_ran = true;
}

/* Keep a CPU deaf (interrupts off) for a little over the call timeout. */
static void stay_deaf(void *arg)
{
	u64 end;

	cli();
	deaf_running = true;
	end = time_ns() + 1500 * MS;
	while (time_ns() < end)
		cpu_relax();
	sti();
}

/* smp_call() to a CPU that does not answer gives up after its timeout and
 * withdraws the call: when the CPU listens again, the function must not
 * run (its argument may have lived on the caller's stack). */
KTEST(smp, a_call_that_times_out_is_withdrawn)
{
	unsigned self = this_cpu()->cpu, other = self == 0 ? 1 : 0;
	struct task *t;

	if (smp_cpu_count() < 2) {
		ktest_log(kt, "one CPU: nothing to call");
		return;
	}
	late_call_ran = deaf_running = false;
	KT_ASSERT((t = task_create("deaf", stay_deaf, NULL, (int)other)));
	while (!deaf_running)
		sched_sleep_ns(1 * MS);
	KT_EXPECT_EQ(smp_call(other, mark_late_call, NULL), -ETIMEDOUT);
	task_join(t);
	sched_sleep_ns(50 * MS); /* the IPI is delivered once interrupts are back on */
	KT_EXPECT(!late_call_ran);
	KT_EXPECT_EQ(smp_call(other, mark_late_call, NULL), 0); /* and the slot works */
	KT_EXPECT(late_call_ran);
}
