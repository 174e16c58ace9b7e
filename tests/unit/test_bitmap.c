/*
 * test_bitmap.c — lib/bitmap against a model that keeps one bool per bit.
 *
 * Random single-bit and range updates are applied to both; after each,
 * every search is asked from random starting points and must give the
 * answer a linear scan of the model gives.  Sizes straddle word boundaries
 * (63, 64, 65, ...) and the unused high bits of the last word are set to
 * garbage on purpose: the scans must never report a bit at or past @nbits.
 */
#include "lib/ktest.h"
#include "lib/bitmap.h"

#define MAX_BITS 1000

static u64 map[BITMAP_WORDS(MAX_BITS)];
static bool model[MAX_BITS];

static size_t model_next(size_t nbits, size_t start, bool value)
{
	size_t i;

	for (i = start; i < nbits; i++) {
		if (model[i] == value)
			return i;
	}
	return nbits;
}

static size_t model_zero_run(size_t nbits, size_t start, size_t count, size_t align)
{
	size_t i, j;

	for (i = ALIGN_UP(start, align); i + count <= nbits; i += align) {
		for (j = 0; j < count && !model[i + j]; j++)
			;
		if (j == count)
			return i;
	}
	return nbits;
}

static size_t model_count(size_t nbits)
{
	size_t i, n = 0;

	for (i = 0; i < nbits; i++)
		n += model[i];
	return n;
}

/* Start with all in-range bits clear and every bit past @nbits set. */
static void reset_both(size_t nbits)
{
	size_t i;

	bitmap_fill(map, MAX_BITS);
	bitmap_clear_range(map, 0, nbits);
	for (i = 0; i < MAX_BITS; i++)
		model[i] = false;
}

static void random_update(struct ktest_ctx *kt, size_t nbits)
{
	size_t a = ktest_rand(kt) % nbits;
	size_t n = ktest_rand(kt) % (nbits - a) + 1, i;
	bool on = ktest_rand(kt) % 2;

	if (ktest_rand(kt) % 2)
		n = 1;
	if (n == 1 && ktest_rand(kt) % 2) {
		if (on)
			bitmap_set(map, a);
		else
			bitmap_clear(map, a);
	} else if (on) {
		bitmap_set_range(map, a, n);
	} else {
		bitmap_clear_range(map, a, n);
	}
	for (i = a; i < a + n; i++)
		model[i] = on;
}

static void check_against_model(struct ktest_ctx *kt, size_t nbits)
{
	size_t start = ktest_rand(kt) % (nbits + 2);
	size_t count = ktest_rand(kt) % 12 + 1;
	size_t align = (size_t)1 << (ktest_rand(kt) % 4);
	size_t bit = ktest_rand(kt) % nbits;

	KT_EXPECT_EQ(bitmap_test(map, bit), model[bit]);
	KT_EXPECT_EQ(bitmap_find_next_set(map, nbits, start),
		     model_next(nbits, start, true));
	KT_EXPECT_EQ(bitmap_find_next_zero(map, nbits, start),
		     model_next(nbits, start, false));
	KT_EXPECT_EQ(bitmap_find_first_set(map, nbits), model_next(nbits, 0, true));
	KT_EXPECT_EQ(bitmap_find_first_zero(map, nbits), model_next(nbits, 0, false));
	KT_EXPECT_EQ(bitmap_find_zero_run(map, nbits, start, count, align),
		     model_zero_run(nbits, start, count, align));
	KT_EXPECT_EQ(bitmap_count(map, nbits), model_count(nbits));
}

KTEST(bitmap, random_against_model)
{
	static const size_t sizes[] = { 1, 2, 63, 64, 65, 127, 128, 129, 200, 1000 };
	size_t s;
	int op;

	for (s = 0; s < ARRAY_SIZE(sizes); s++) {
		size_t nbits = sizes[s];

		reset_both(nbits);
		for (op = 0; op < 600; op++) {
			random_update(kt, nbits);
			check_against_model(kt, nbits);
			if (kt->failures) {
				ktest_log(kt, "nbits %zu, op %d", nbits, op);
				return;
			}
		}
	}
}

KTEST(bitmap, garbage_past_the_end_is_ignored)
{
	reset_both(70);
	/* Bits 70..127 are set in storage but are not part of the bitmap. */
	KT_EXPECT_EQ(bitmap_find_first_set(map, 70), 70);
	KT_EXPECT_EQ(bitmap_count(map, 70), 0);
	bitmap_set_range(map, 0, 70);
	KT_EXPECT_EQ(bitmap_find_first_zero(map, 70), 70);
	KT_EXPECT_EQ(bitmap_count(map, 70), 70);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 70, 0, 1, 1), 70);
}

KTEST(bitmap, zero_run_edges)
{
	reset_both(128);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 128, 1), 0);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 1, 128, 1), 128);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 129, 1), 128);
	bitmap_set(map, 5);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 5, 1), 0);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 6, 1), 6);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 6, 4), 8);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 64, 64), 64);
	bitmap_set(map, 127);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 64, 64), 128);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 121, 1), 6);
	KT_EXPECT_EQ(bitmap_find_zero_run(map, 128, 0, 122, 1), 128);
}

KTEST(bitmap, ranges_across_words)
{
	reset_both(256);
	bitmap_set_range(map, 60, 10);
	KT_EXPECT_EQ(bitmap_find_first_set(map, 256), 60);
	KT_EXPECT_EQ(bitmap_find_next_zero(map, 256, 60), 70);
	KT_EXPECT_EQ(bitmap_count(map, 256), 10);
	bitmap_set_range(map, 64, 128);
	KT_EXPECT_EQ(bitmap_find_next_zero(map, 256, 60), 192);
	bitmap_clear_range(map, 10, 200);
	KT_EXPECT_EQ(bitmap_count(map, 256), 0);
	bitmap_set_range(map, 0, 0);
	KT_EXPECT_EQ(bitmap_count(map, 256), 0);
}
