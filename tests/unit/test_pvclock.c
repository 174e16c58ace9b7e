/*
 * test_pvclock.c — lib/pvclock: the scaling arithmetic against a reference
 * built from 32-bit halves (no 128-bit product), shifts in both directions
 * and past the word, real TSC rates, and the version-seqlock read driven by
 * a fake hypervisor that rewrites the record from inside the TSC callback.
 */
#include "lib/ktest.h"
#include "lib/pvclock.h"
#include "errno.h"

/*
 * The scale computed the long way: the shift as a multiply or divide by a
 * power of two, and the 64x32 product as two 32x32 ones:
 * (hi * 2^32 + lo) * mul >> 32 == hi * mul + (lo * mul >> 32), exactly.
 */
static u64 model_scale(u64 delta, u32 mul, int shift)
{
	u64 d = delta, hi, lo;

	if (shift >= 64 || shift <= -64)
		return 0;
	if (shift >= 0)
		d = delta * ((u64)1 << shift); /* wraps like the ABI's shift */
	else
		d = delta / ((u64)1 << -shift);
	hi = d >> 32;
	lo = d & 0xffffffffu;
	return hi * mul + ((lo * mul) >> 32);
}

KTEST(pvclock, scale_known_values)
{
	KT_EXPECT_EQ(pvclock_scale(0, 0xffffffffu, 0), 0);
	KT_EXPECT_EQ(pvclock_scale(1000, 1u << 31, 0), 500);  /* 0.5 ns/tick */
	KT_EXPECT_EQ(pvclock_scale(1000, 1u << 31, 1), 1000); /* 1 GHz */
	KT_EXPECT_EQ(pvclock_scale(1000, 1u << 31, -1), 250);
	KT_EXPECT_EQ(pvclock_scale(1000, 0, 5), 0);
	KT_EXPECT_EQ(pvclock_scale(~0ULL, 0xffffffffu, 0), 0xfffffffeffffffffULL);
	/* Shifts of a whole word or more leave nothing, without UB. */
	KT_EXPECT_EQ(pvclock_scale(~0ULL, 0xffffffffu, 64), 0);
	KT_EXPECT_EQ(pvclock_scale(~0ULL, 0xffffffffu, -64), 0);
	KT_EXPECT_EQ(pvclock_scale(~0ULL, 0xffffffffu, 127), 0);
	KT_EXPECT_EQ(pvclock_scale(~0ULL, 0xffffffffu, -128), 0);
	KT_EXPECT_EQ(pvclock_scale(1, 1u << 31, 63), 1ULL << 62);
	KT_EXPECT_EQ(pvclock_scale(3, 1u << 31, 63), 1ULL << 62); /* bit 64 dropped */
	KT_EXPECT_EQ(pvclock_scale(~0ULL, 1u << 31, -63), 0);     /* 1 * 0.5 */
}

/* A second of TSC ticks at common rates scales to a second of ns (±1). */
KTEST(pvclock, scale_real_rates)
{
	static const struct {
		u64 hz;
		u32 mul;
		s8 shift;
	} rates[] = {
		{ 2500000000ULL, 3435973836u, -1 }, /* 0.4 ns: 0.8 * 2^32, halved */
		{ 3000000000ULL, 2863311530u, -1 }, /* 1/3 ns */
		{ 1000000000ULL, 1u << 31, 1 },     /* 1 ns */
		{ 100000000ULL, 2684354560u, 4 },   /* 10 ns: 0.625 * 2^32 << 4 */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(rates); i++) {
		u64 ns = pvclock_scale(rates[i].hz, rates[i].mul, rates[i].shift);

		KT_EXPECT(ns >= 999999999ULL && ns <= 1000000000ULL);
		/* An hour, to show nothing overflows at realistic deltas. */
		ns = pvclock_scale(rates[i].hz * 3600, rates[i].mul, rates[i].shift);
		KT_EXPECT(ns >= 3599999999000ULL && ns <= 3600000000000ULL);
	}
}

KTEST(pvclock, scale_matches_model)
{
	for (int i = 0; i < 50000; i++) {
		u64 delta = ktest_rand(kt);
		u32 mul = (u32)ktest_rand(kt);
		int shift = (int)(ktest_rand(kt) % 80) - 40;

		if (i & 1)
			delta >>= ktest_rand(kt) % 64; /* small deltas too */
		KT_ASSERT_EQ(pvclock_scale(delta, mul, (s8)shift), model_scale(delta, mul, shift));
	}
}

/* ----------------------------------------------- the fake hypervisor -- */

struct fake_host {
	struct pvclock_vcpu_time_info rec;
	u64 tsc;          /* what the "TSC" reads */
	unsigned calls;   /* read_tsc calls seen */
	unsigned update_on_call; /* rewrite the record during this call (1-based) */
	bool finish_on_call1;    /* an odd version becomes even on the first call */
	bool churn;              /* bump the version on every call */
};

/* The host's write protocol: odd, fields, even. */
static void fake_update(struct fake_host *h, u64 ts, u64 sys, u32 mul, s8 shift)
{
	h->rec.version++;
	h->rec.tsc_timestamp = ts;
	h->rec.system_time = sys;
	h->rec.tsc_to_system_mul = mul;
	h->rec.tsc_shift = shift;
	h->rec.version++;
}

static u64 fake_read_tsc(void *arg)
{
	struct fake_host *h = arg;

	h->calls++;
	if (h->calls == h->update_on_call)
		fake_update(h, 2000, 9000000000ULL, 1u << 31, 1);
	if (h->calls == 1 && h->finish_on_call1)
		h->rec.version++;
	if (h->churn)
		h->rec.version += 2;
	return h->tsc;
}

static void fake_init(struct fake_host *h)
{
	*h = (struct fake_host){ 0 };
	fake_update(h, 1000, 5000000000ULL, 1u << 31, 0); /* 0.5 ns per tick */
	h->rec.flags = PVCLOCK_TSC_STABLE_BIT;
	h->tsc = 3000;
}

KTEST(pvclock, read_consistent_record)
{
	static struct fake_host h;
	u64 ns = 0;
	u8 flags = 0;

	fake_init(&h);
	KT_ASSERT_EQ(pvclock_read(&h.rec, fake_read_tsc, &h, &ns, &flags), 0);
	KT_EXPECT_EQ(ns, 5000000000ULL + 1000);
	KT_EXPECT_EQ(flags, PVCLOCK_TSC_STABLE_BIT);
	KT_EXPECT_EQ(h.calls, 1);
	KT_EXPECT_EQ(pvclock_read(&h.rec, fake_read_tsc, &h, &ns, NULL), 0);
	/* A TSC behind the record's timestamp is no time at all, not 2^64. */
	h.tsc = 10;
	KT_ASSERT_EQ(pvclock_read(&h.rec, fake_read_tsc, &h, &ns, NULL), 0);
	KT_EXPECT_EQ(ns, 5000000000ULL);
}

/* The host rewrites the record mid-read: the reader must use the new one. */
KTEST(pvclock, read_retries_after_update)
{
	static struct fake_host h;
	u64 ns = 0;

	fake_init(&h);
	h.update_on_call = 1;
	KT_ASSERT_EQ(pvclock_read(&h.rec, fake_read_tsc, &h, &ns, NULL), 0);
	KT_EXPECT_EQ(h.calls, 2);
	KT_EXPECT_EQ(ns, 9000000000ULL + 1000); /* (3000 - 2000) << 1 * 0.5 */
}

/* A reader that arrives while the version is odd waits for the even one. */
KTEST(pvclock, read_waits_for_odd_version)
{
	static struct fake_host h;
	u64 ns = 0;

	fake_init(&h);
	h.rec.version++; /* the host is mid-write */
	h.finish_on_call1 = true;
	KT_ASSERT_EQ(pvclock_read(&h.rec, fake_read_tsc, &h, &ns, NULL), 0);
	KT_EXPECT_EQ(h.calls, 2);
	KT_EXPECT_EQ(h.rec.version & 1, 0);
	KT_EXPECT_EQ(ns, 5000000000ULL + 1000);
}

/* Odd forever, or a new version on every read: give up, touch nothing. */
KTEST(pvclock, read_gives_up)
{
	static struct fake_host h;
	u64 ns = 12345;

	fake_init(&h);
	h.rec.version = 7;
	KT_EXPECT_EQ(pvclock_read(&h.rec, fake_read_tsc, &h, &ns, NULL), -EAGAIN);
	KT_EXPECT_EQ(h.calls, PVCLOCK_READ_TRIES);
	KT_EXPECT_EQ(ns, 12345);
	fake_init(&h);
	h.churn = true;
	KT_EXPECT_EQ(pvclock_read(&h.rec, fake_read_tsc, &h, &ns, NULL), -EAGAIN);
	KT_EXPECT_EQ(ns, 12345);
}

/* The version counter wraps from 0xffffffff to 0 without a false match. */
KTEST(pvclock, read_version_wraps)
{
	static struct fake_host h;
	u64 ns = 0;

	fake_init(&h);
	h.rec.version = 0xfffffffeu;
	h.update_on_call = 1; /* -> 0xffffffff -> 0 */
	KT_ASSERT_EQ(pvclock_read(&h.rec, fake_read_tsc, &h, &ns, NULL), 0);
	KT_EXPECT_EQ(h.rec.version, 0);
	KT_EXPECT_EQ(h.calls, 2);
	KT_EXPECT_EQ(ns, 9000000000ULL + 1000);
}

KTEST(pvclock, monotonic_clamp)
{
	u64 last = 0;

	KT_EXPECT_EQ(pvclock_monotonic(&last, 100), 100);
	KT_EXPECT_EQ(pvclock_monotonic(&last, 90), 100);
	KT_EXPECT_EQ(last, 100);
	KT_EXPECT_EQ(pvclock_monotonic(&last, 100), 100);
	KT_EXPECT_EQ(pvclock_monotonic(&last, 101), 101);
	KT_EXPECT_EQ(last, 101);
	for (int i = 0; i < 1000; i++) {
		u64 prev = last, got = pvclock_monotonic(&last, ktest_rand(kt) >> 1);

		KT_ASSERT(got >= prev);
		KT_ASSERT_EQ(got, last);
	}
}
