/*
 * test_random.c — boot tests of the CSPRNG (kernel/random.c) and of the
 * entropy registry's bounded raw reads (kernel/entropy.c).
 *
 * random_bytes() is drawn from every context it promises: hard IRQ on the
 * other CPUs (an smp_call IPI) and on this one (a self-IPI landing while
 * the task draws), SoftIrq (a ktimer), interrupts off, under a spinlock,
 * and from a task on every CPU at once.  Every value drawn anywhere must
 * differ from every other, and the bytes must pass a byte-frequency
 * chi-square test with a generous bound (a generator stuck on a pattern or
 * handing out zeros fails it; a good one fails about once in 10^9 runs).
 *
 * The registry is driven with made-up sources that are never registered:
 * a slow one (the deadline must stop the read), a failing and a lying one
 * (errors, not hangs), and an interrupted caller.
 */
#include "errno.h"
#include "drivers/lapic.h"
#include "kernel/entropy.h"
#include "kernel/irq.h"
#include "kernel/ktimer.h"
#include "kernel/percpu.h"
#include "kernel/random.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/x86.h"
#include "lib/ktest.h"
#include "lib/string.h"

#define MS 1000000ULL
#define VECTOR_RANDOM_TEST 0xE9 /* test-only, beside test_sched.c's 0xE8 */
#define DRAWS_PER_CPU 256
#define IRQ_DRAWS 32

/* Index of a value that occurs twice in @v, or -1 when all differ. */
static long find_repeat(const u64 *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (v[i] == v[j])
				return (long)j;
	return -1;
}

static bool all_zero(const u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool irqs_enabled(void)
{
	return read_rflags() & RFLAGS_IF;
}

/* ---- hard IRQ on the other CPUs ----------------------------------------- */

struct ipi_draw {
	u64 val[CONFIG_MAX_CPUS][4];
	bool in_irq[CONFIG_MAX_CPUS];     /* the handler saw irq_depth > 0 */
	bool irqs_off[CONFIG_MAX_CPUS];   /* ... and interrupts off, before and after */
};

static void draw_in_ipi(void *arg)
{
	struct ipi_draw *d = arg;
	unsigned c = this_cpu()->cpu;
	bool off_before = !irqs_enabled();

	random_bytes(d->val[c], sizeof(d->val[c]));
	d->in_irq[c] = this_cpu()->irq_depth > 0;
	d->irqs_off[c] = off_before && !irqs_enabled();
}

KTEST(random, from_hard_irq_on_every_other_cpu)
{
	static struct ipi_draw d;
	u64 all[CONFIG_MAX_CPUS * 4];
	unsigned self = this_cpu()->cpu, n = 0;

	memset(&d, 0, sizeof(d));
	if (smp_cpu_count() == 1)
		ktest_log(kt, "one CPU: no other CPU to interrupt (the self-IPI test covers IRQs)");
	KT_ASSERT_EQ(smp_call_others(draw_in_ipi, &d), 0);
	random_bytes(d.val[self], sizeof(d.val[self]));
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		if (!smp_cpu_online(c))
			continue;
		if (c != self) {
			KT_EXPECT(d.in_irq[c]);
			KT_EXPECT(d.irqs_off[c]);
		}
		memcpy(all + n, d.val[c], sizeof(d.val[c]));
		n += 4;
	}
	KT_EXPECT_EQ(find_repeat(all, n), -1);
}

/* ---- hard IRQ on this CPU, landing while the task draws ------------------- */

static struct {
	volatile bool armed;
	volatile unsigned n;
	volatile unsigned bad_context;
	u64 val[DRAWS_PER_CPU];
} self_irq;

static enum irq_result random_test_irq(void *arg)
{
	if (!self_irq.armed)
		return IRQ_NONE;
	if (this_cpu()->irq_depth == 0 || irqs_enabled())
		self_irq.bad_context++;
	if (self_irq.n < DRAWS_PER_CPU)
		self_irq.val[self_irq.n++] = random_u64();
	return IRQ_HANDLED;
}

KTEST(random, from_an_irq_that_interrupts_a_drawing_task)
{
	static bool registered;
	static u64 all[2 * DRAWS_PER_CPU];
	u8 buf[600];
	unsigned n = 0;

	if (!registered)
		KT_ASSERT_EQ(irq_request_vector(VECTOR_RANDOM_TEST, random_test_irq, NULL,
						"selftest-random"), 0);
	registered = true;
	self_irq.n = self_irq.bad_context = 0;
	self_irq.armed = true;
	preempt_disable(); /* stay on this CPU: the IPIs go to it */
	for (unsigned i = 0; i < DRAWS_PER_CPU; i++) {
		lapic_send_ipi(this_cpu()->apic_id, IPI_FIXED, VECTOR_RANDOM_TEST);
		random_bytes(buf, sizeof(buf)); /* three draws; the IPI lands in or between */
		memcpy(&all[n++], buf + sizeof(buf) - 8, 8);
	}
	preempt_enable();
	sched_sleep_ns(20 * MS); /* the last IPI */
	self_irq.armed = false;
	KT_EXPECT(self_irq.n >= 1); /* self-IPIs sent while one is pending merge */
	KT_EXPECT_EQ(self_irq.bad_context, 0);
	for (unsigned i = 0; i < self_irq.n; i++)
		all[n++] = self_irq.val[i];
	KT_EXPECT_EQ(find_repeat(all, n), -1);
}

/* ---- interrupts off, under a lock, in SoftIrq ----------------------------- */

KTEST(random, with_interrupts_off_and_under_a_spinlock)
{
	static spinlock_t outer = SPINLOCK_INIT("selftest-outer");
	u8 a[300], b[300], c[64];
	u64 flags = read_rflags();
	bool stayed_off;

	cli();
	random_bytes(a, sizeof(a));
	random_bytes(b, sizeof(b));
	stayed_off = !irqs_enabled();
	if (flags & RFLAGS_IF)
		sti();
	KT_EXPECT(stayed_off); /* random_bytes must not turn interrupts on */
	KT_EXPECT(memcmp(a, b, sizeof(a)) != 0);
	KT_EXPECT(!all_zero(a, sizeof(a)));

	flags = spin_lock_irqsave(&outer);
	random_bytes(c, sizeof(c));
	spin_unlock_irqrestore(&outer, flags);
	KT_EXPECT(memcmp(a, c, sizeof(c)) != 0 && memcmp(b, c, sizeof(c)) != 0);
}

struct timer_draw {
	struct ktimer t;
	u8 buf[32];
	volatile bool done;
};

static void draw_in_timer(struct ktimer *t, void *arg)
{
	struct timer_draw *d = arg;

	random_bytes(d->buf, sizeof(d->buf));
	d->done = true;
}

KTEST(random, from_softirq)
{
	static struct timer_draw d;
	u64 deadline = time_ns() + 5000 * MS;

	memset(&d, 0, sizeof(d));
	ktimer_init(&d.t, draw_in_timer, &d);
	ktimer_start(&d.t, 1 * MS, 0);
	while (!d.done && time_ns() < deadline)
		sched_sleep_ns(1 * MS);
	if (!d.done)
		ktimer_cancel(&d.t);
	KT_ASSERT(d.done);
	KT_EXPECT(!all_zero(d.buf, sizeof(d.buf)));
}

/* ---- every CPU at once ---------------------------------------------------- */

static struct {
	volatile bool go;
	u64 task_val[CONFIG_MAX_CPUS][DRAWS_PER_CPU];
	u64 irq_val[CONFIG_MAX_CPUS][IRQ_DRAWS];
	u64 all[CONFIG_MAX_CPUS * (DRAWS_PER_CPU + IRQ_DRAWS)];
} crowd;

static void crowd_task(void *arg)
{
	u64 *out = arg;

	while (!crowd.go)
		cpu_relax();
	for (unsigned i = 0; i < DRAWS_PER_CPU; i++)
		out[i] = random_u64();
}

static void crowd_irq(void *arg)
{
	u64 *out = crowd.irq_val[this_cpu()->cpu];

	for (unsigned i = 0; i < IRQ_DRAWS; i++)
		out[i] = random_u64();
}

static unsigned popcount64(u64 v)
{
	return (unsigned)__builtin_popcountll(v);
}

KTEST(random, every_cpu_at_once_never_repeats)
{
	struct task *t[CONFIG_MAX_CPUS] = { 0 };
	unsigned n = 0;
	u64 ones = 0;

	memset(&crowd, 0, sizeof(crowd));
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++)
		if (smp_cpu_online(c))
			t[c] = task_create("rand-crowd", crowd_task, crowd.task_val[c], (int)c);
	crowd.go = true;
	KT_EXPECT_EQ(smp_call_all(crowd_irq, NULL), 0); /* while the tasks draw */
	for (unsigned c = 0; c < CONFIG_MAX_CPUS; c++) {
		if (!smp_cpu_online(c))
			continue;
		KT_ASSERT(t[c]);
		task_join(t[c]);
		memcpy(crowd.all + n, crowd.task_val[c], sizeof(crowd.task_val[c]));
		n += DRAWS_PER_CPU;
		memcpy(crowd.all + n, crowd.irq_val[c], sizeof(crowd.irq_val[c]));
		n += IRQ_DRAWS;
	}
	KT_EXPECT_EQ(find_repeat(crowd.all, n), -1);
	for (unsigned i = 0; i < n; i++)
		ones += popcount64(crowd.all[i]);
	/* n * 64 fair bits: within 45-55% unless something is badly wrong */
	KT_EXPECT(ones * 100 > (u64)n * 64 * 45);
	KT_EXPECT(ones * 100 < (u64)n * 64 * 55);
}

/* ---- statistics ----------------------------------------------------------- */

KTEST(random, byte_frequencies_pass_chi_square)
{
	static u8 buf[65536];
	u32 counts[256] = { 0 };
	u64 sum_sq = 0, expect = sizeof(buf) / 256, repeats = 0;

	random_bytes(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++) {
		counts[buf[i]]++;
		repeats += i && buf[i] == buf[i - 1];
	}
	for (unsigned v = 0; v < 256; v++) {
		s64 d = (s64)counts[v] - (s64)expect;

		sum_sq += (u64)(d * d);
	}
	/* chi-square = sum_sq / expect, 255 degrees of freedom: mean 255, sd 22.6 */
	ktest_log(kt, "chi-square %llu.%02llu (255 degrees of freedom), %llu repeated bytes",
		  (unsigned long long)(sum_sq / expect),
		  (unsigned long long)(sum_sq % expect * 100 / expect), (unsigned long long)repeats);
	KT_EXPECT(sum_sq < 400 * expect); /* p < 1e-8 for a good generator */
	KT_EXPECT(sum_sq > 150 * expect); /* too even is as suspect as too uneven */
	/* a byte equal to the one before: 65535/256 = 256 expected, sd 16 */
	KT_EXPECT(repeats > 150 && repeats < 370);
}

KTEST(random, below_is_in_range_and_even)
{
	u32 counts[6] = { 0 };
	u64 sum_sq = 0;
	bool high = false;

	KT_EXPECT_EQ(random_below(0), 0);
	for (unsigned i = 0; i < 100; i++)
		KT_ASSERT_EQ(random_below(1), 0);
	for (unsigned i = 0; i < 2000; i++) {
		u32 v = random_below(0x80000001u); /* half of all u32 get rejected */

		KT_ASSERT(v < 0x80000001u);
		high |= v >= 0x40000000u;
	}
	KT_EXPECT(high);
	for (unsigned i = 0; i < 200; i++)
		KT_ASSERT(random_below(0xffffffffu) < 0xffffffffu);
	for (unsigned i = 0; i < 6000; i++) {
		u32 v = random_below(6);

		KT_ASSERT(v < 6);
		counts[v]++;
	}
	for (unsigned v = 0; v < 6; v++) {
		s64 d = (s64)counts[v] - 1000;

		sum_sq += (u64)(d * d);
	}
	KT_EXPECT(sum_sq < 40 * 1000); /* chi-square, 5 degrees of freedom: p < 1e-6 */
}

/* ---- seeding -------------------------------------------------------------- */

KTEST(random, reseed_and_added_entropy_rekey_every_cpu)
{
	struct entropy_source *src[ENTROPY_MAX_SOURCES];
	struct random_stats a, b, c;
	u64 before = random_u64();
	int got;

	random_get_stats(&a);
	random_add_entropy("selftest", 8);
	random_get_stats(&b);
	KT_EXPECT(b.generation > a.generation);
	got = random_reseed();
	random_get_stats(&c);
	KT_EXPECT(got >= 0);
	KT_EXPECT(c.generation > b.generation);
	KT_EXPECT_EQ(c.last_bytes, (unsigned)got);
	if (entropy_sources(src, ENTROPY_MAX_SOURCES) && got > 0) {
		KT_EXPECT_EQ(c.reseeds, b.reseeds + 1);
		KT_EXPECT(c.last_sources >= 1);
	}
	KT_EXPECT(random_u64() != before);
}

/* ---- the registry's raw reads --------------------------------------------- */

struct fake {
	unsigned calls;
	int answer; /* > 0: bytes to claim; <= 0: the error to return */
	u64 sleep_ns;
};

static int fake_read(void *ctx, u8 *buf, size_t len)
{
	struct fake *f = ctx;

	f->calls++;
	if (f->sleep_ns)
		sched_sleep_ns(f->sleep_ns);
	if (f->answer > 0 && (size_t)f->answer <= len)
		memset(buf, 0x5a, (size_t)f->answer);
	return f->answer;
}

KTEST(entropy, raw_read_of_a_slow_source_stops_at_its_deadline)
{
	struct fake f = { .answer = 1, .sleep_ns = 50 * MS };
	struct entropy_source s = { .name = "selftest-slow", .read = fake_read, .ctx = &f };
	static u8 buf[4096];
	size_t got = 99;
	int rc;

	rc = entropy_read_source(&s, buf, sizeof(buf), 300 * MS, &got);
	KT_EXPECT_EQ(rc, -ETIMEDOUT);
	KT_EXPECT(got >= 1);
	KT_EXPECT_EQ(got, f.calls);
	KT_EXPECT(f.calls <= 300 / 50 + 1); /* sleeps are never short */
	KT_EXPECT_EQ(s.bytes, got);
	KT_EXPECT_EQ(buf[0], 0x5a);
}

KTEST(entropy, failing_and_lying_sources_are_errors)
{
	struct fake f = { .answer = -EIO };
	struct entropy_source s = { .name = "selftest-bad", .read = fake_read, .ctx = &f };
	u8 buf[16];
	size_t got = 99;

	KT_EXPECT_EQ(entropy_read_source(&s, buf, sizeof(buf), 1000 * MS, &got), -EIO);
	KT_EXPECT_EQ(got, 0);
	f.answer = 0; /* nothing, but no error either */
	KT_EXPECT_EQ(entropy_read_source(&s, buf, sizeof(buf), 1000 * MS, &got), -EIO);
	f.answer = (int)sizeof(buf) + 1; /* more than it had room for */
	KT_EXPECT_EQ(entropy_read_source(&s, buf, sizeof(buf), 1000 * MS, &got), -EIO);
	KT_EXPECT_EQ(got, 0);
	KT_EXPECT_EQ(s.bytes, 0);
	f.answer = 4;
	KT_EXPECT_EQ(entropy_read_source(&s, buf, sizeof(buf), 1000 * MS, &got), 0);
	KT_EXPECT_EQ(got, sizeof(buf));
}

KTEST(entropy, interrupted_reader_stops_before_asking)
{
	struct fake f = { .answer = 1, .sleep_ns = 10 * MS };
	struct entropy_source s = { .name = "selftest-slow", .read = fake_read, .ctx = &f };
	u8 buf[64];
	size_t got = 99;
	int rc;

	task_interrupt(task_current());
	rc = entropy_read_source(&s, buf, sizeof(buf), 10000 * MS, &got);
	task_clear_interrupt();
	KT_EXPECT_EQ(rc, -EINTR);
	KT_EXPECT_EQ(got, 0);
	KT_EXPECT_EQ(f.calls, 0);
}

KTEST(entropy, nosleep_sources_answer_with_interrupts_off)
{
	struct entropy_source *src[ENTROPY_MAX_SOURCES];
	unsigned n = entropy_sources(src, ENTROPY_MAX_SOURCES), nosleep = 0;
	u8 buf[64] = { 0 };
	u64 flags = read_rflags();
	size_t got = 99;
	int rc;

	for (unsigned i = 0; i < n; i++)
		nosleep += src[i]->nosleep;
	cli();
	rc = entropy_read_nosleep(buf, sizeof(buf), &got);
	if (flags & RFLAGS_IF)
		sti();
	if (!nosleep) {
		ktest_log(kt, "no RDSEED/RDRAND on this CPU");
		KT_EXPECT_EQ(rc, -ENODEV);
		return;
	}
	KT_EXPECT_EQ(rc, 0);
	KT_EXPECT_EQ(got, sizeof(buf));
	KT_EXPECT(!all_zero(buf, sizeof(buf)));
}
