/*
 * test_buddy.c — mm/buddy against a model that records the owner of every
 * frame.
 *
 * The allocator keeps all its state in the metadata array and never touches
 * the frames it manages.  The "RAM" here is a 64-byte stand-in per frame
 * (2048 frames cost 128 KiB of .bss, and the same file runs at boot): the
 * test tags allocated frames and clears them when it frees them, so every
 * free frame must read as zero — anything else was written by the
 * allocator.
 *
 * The model (tb_owner[]) holds, per frame of the span, TB_HOLE for frames
 * never added, 0 for free ones, or the generation number of the live
 * allocation that holds it.  Every successful allocation must lie inside the
 * span, be aligned to 2^ceil(log2 n) frames and cover only model-free frames;
 * its frames are then tagged in their stand-in bytes, and the tags must be
 * intact when it is freed (the allocator must not write into allocated
 * frames).  -ENOMEM is accepted only when the model has no aligned run of
 * 2^ceil(log2 n) free frames: with every free buddy pair merged, such a run
 * would be one free block.  Freeing everything must bring the exact starting
 * statistics back, and buddy_check() is run along the way.
 */
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/buddy.h"
#include "errno.h"

#define TB_PAGES 2048
#define TB_FRAME_WORDS 8   /* 64 bytes stand in for each 4 KiB frame */
#define TB_HOLE 0xffffffffu
#define TB_MAX_LIVE TB_PAGES

struct tb_alloc {
	u64 pfn;
	unsigned n;
	u32 gen;
};

static u64 tb_frames[TB_PAGES][TB_FRAME_WORDS];
static struct buddy_page tb_meta[TB_PAGES];
static u32 tb_owner[TB_PAGES];
static struct tb_alloc tb_live[TB_MAX_LIVE];
static unsigned tb_nlive;
static u32 tb_gen;
static u64 tb_model_free;
static unsigned tb_nomem;   /* -ENOMEM answers seen */
static struct buddy tb;

/* Frames not held by a live allocation must still read as zero. */
static bool tb_free_frames_untouched(void)
{
	for (unsigned i = 0; i < TB_PAGES; i++) {
		if (tb_owner[i] != 0 && tb_owner[i] != TB_HOLE)
			continue;
		for (unsigned w = 0; w < TB_FRAME_WORDS; w++)
			if (tb_frames[i][w])
				return false;
	}
	return true;
}

/* Fresh allocator over TB_PAGES frames from @base, nothing added. */
static void tb_setup(u64 base)
{
	unsigned i;

	buddy_init(&tb, base, TB_PAGES, tb_meta);
	for (i = 0; i < TB_PAGES; i++)
		tb_owner[i] = TB_HOLE;
	memset(tb_frames, 0, sizeof(tb_frames));
	tb_nlive = 0;
	tb_gen = 0;
	tb_model_free = 0;
	tb_nomem = 0;
}

/* Add frames [base + @off, base + @off + @count) to both allocator and model. */
static int tb_add(u64 off, u64 count)
{
	u64 i;
	int rc = buddy_add_free(&tb, tb.base_pfn + off, count);

	if (rc)
		return rc;
	for (i = off; i < off + count; i++)
		tb_owner[i] = 0;
	tb_model_free += count;
	return 0;
}

static unsigned tb_order(unsigned n)
{
	unsigned k = 0;

	while ((1u << k) < n)
		k++;
	return k;
}

static bool tb_stats_equal(const struct buddy_stats *a, const struct buddy_stats *b)
{
	unsigned i;

	if (a->managed_pages != b->managed_pages || a->free_pages != b->free_pages ||
	    a->live_allocs != b->live_allocs || a->largest_free != b->largest_free)
		return false;
	for (i = 0; i < BUDDY_NR_ORDERS; i++) {
		if (a->free_blocks[i] != b->free_blocks[i])
			return false;
	}
	return true;
}

/* True when the model has 2^@order free frames starting at an aligned pfn. */
static bool tb_model_has_run(unsigned order)
{
	u64 size = 1ULL << order, pfn, i;
	u64 end = tb.base_pfn + TB_PAGES;

	for (pfn = ALIGN_UP(tb.base_pfn, size); pfn + size <= end; pfn += size) {
		for (i = 0; i < size && tb_owner[pfn - tb.base_pfn + i] == 0; i++)
			;
		if (i == size)
			return true;
	}
	return false;
}

static u64 tb_tag(u32 gen, unsigned page)
{
	return ((u64)gen << 16) | page;
}

/* Allocate @n frames and check the result against the model; false on -ENOMEM. */
static bool tb_alloc_one(struct ktest_ctx *kt, unsigned n)
{
	unsigned k = tb_order(n), i;
	struct tb_alloc *a;
	u64 pfn = ~0ULL, off;
	int rc = buddy_alloc(&tb, n, &pfn);

	if (rc == -ENOMEM) {
		KT_EXPECT(!tb_model_has_run(k));
		tb_nomem++;
		return false;
	}
	if (rc) {
		KT_EXPECT_EQ(rc, 0);
		return false;
	}
	KT_EXPECT(buddy_contains(&tb, pfn) && buddy_contains(&tb, pfn + n - 1));
	KT_EXPECT(IS_ALIGNED(pfn, 1ULL << k));
	KT_EXPECT_EQ(buddy_alloc_count(&tb, pfn), n);
	off = pfn - tb.base_pfn;
	a = &tb_live[tb_nlive++];
	a->pfn = pfn;
	a->n = n;
	a->gen = ++tb_gen;
	for (i = 0; i < n && off + i < TB_PAGES; i++) {
		KT_EXPECT_EQ(tb_owner[off + i], 0);
		tb_owner[off + i] = a->gen;
		tb_frames[off + i][0] = tb_tag(a->gen, i);
		tb_frames[off + i][TB_FRAME_WORDS - 1] = ~tb_tag(a->gen, i);
	}
	tb_model_free -= n;
	return true;
}

/* Free live allocation @slot after checking that its frames were left alone. */
static void tb_free_slot(struct ktest_ctx *kt, unsigned slot)
{
	struct tb_alloc a = tb_live[slot];
	u64 off = a.pfn - tb.base_pfn;
	unsigned i;

	for (i = 0; i < a.n; i++) {
		KT_EXPECT_EQ(tb_owner[off + i], a.gen);
		KT_EXPECT(tb_frames[off + i][0] == tb_tag(a.gen, i));
		KT_EXPECT(tb_frames[off + i][TB_FRAME_WORDS - 1] == ~tb_tag(a.gen, i));
		tb_owner[off + i] = 0;
		memset(tb_frames[off + i], 0, sizeof(tb_frames[off + i]));
	}
	KT_EXPECT_EQ(buddy_free(&tb, a.pfn, a.n), 0);
	tb_model_free += a.n;
	tb_live[slot] = tb_live[--tb_nlive];
}

/* Mostly small counts, sometimes up to the maximum. */
static unsigned tb_pick_count(struct ktest_ctx *kt)
{
	unsigned r = ktest_rand(kt) % 10;

	if (r < 5)
		return 1 + ktest_rand(kt) % 8;
	if (r < 8)
		return 1 + ktest_rand(kt) % 32;
	return 1 + ktest_rand(kt) % BUDDY_MAX_ALLOC;
}

/* A wrong free of live allocation @slot must fail and change nothing. */
static void tb_try_bad_free(struct ktest_ctx *kt, unsigned slot)
{
	const struct tb_alloc *a = &tb_live[slot];
	struct buddy_stats before, after;

	buddy_get_stats(&tb, &before);
	KT_EXPECT_EQ(buddy_free(&tb, a->pfn, a->n + 1), -EINVAL);
	KT_EXPECT_EQ(buddy_free(&tb, a->pfn, 0), -EINVAL);
	if (a->n > 1) {
		KT_EXPECT_EQ(buddy_free(&tb, a->pfn, a->n - 1), -EINVAL);
		KT_EXPECT_EQ(buddy_free(&tb, a->pfn + 1, a->n - 1), -EINVAL);
	}
	buddy_get_stats(&tb, &after);
	KT_EXPECT(tb_stats_equal(&before, &after));
}

/*
 * @ops random operations.  The allocation rate swings between phases so
 * that the region both runs dry and drains.
 */
static void tb_random_ops(struct ktest_ctx *kt, unsigned ops)
{
	unsigned i;

	for (i = 0; i < ops; i++) {
		unsigned alloc_pct = (i / 400) % 2 ? 35 : 80;

		if (tb_nlive < TB_MAX_LIVE &&
		    (tb_nlive == 0 || ktest_rand(kt) % 100 < alloc_pct)) {
			tb_alloc_one(kt, tb_pick_count(kt));
		} else {
			unsigned slot = ktest_rand(kt) % tb_nlive;

			if (ktest_rand(kt) % 16 == 0)
				tb_try_bad_free(kt, slot);
			tb_free_slot(kt, slot);
		}
		KT_EXPECT_EQ(buddy_free_pages(&tb), tb_model_free);
		if (i % 64 == 0)
			KT_EXPECT(buddy_check(&tb));
	}
}

static void tb_free_all(struct ktest_ctx *kt)
{
	while (tb_nlive)
		tb_free_slot(kt, tb_nlive - 1);
}

KTEST(buddy, empty)
{
	struct buddy_stats st;
	u64 pfn = 7;

	tb_setup(0x1000);
	KT_EXPECT_EQ(buddy_alloc(&tb, 1, &pfn), -ENOMEM);
	KT_EXPECT_EQ(pfn, 7);
	KT_EXPECT_EQ(buddy_alloc(&tb, 0, &pfn), -EINVAL);
	KT_EXPECT_EQ(buddy_alloc(&tb, BUDDY_MAX_ALLOC + 1, &pfn), -EINVAL);
	KT_EXPECT_EQ(buddy_free(&tb, 0x1000, 1), -EINVAL);
	buddy_get_stats(&tb, &st);
	KT_EXPECT_EQ(st.managed_pages, 0);
	KT_EXPECT_EQ(st.free_pages, 0);
	KT_EXPECT_EQ(st.largest_free, 0);
	KT_EXPECT(buddy_check(&tb));
}

/*
 * Frames [3, 2043) of a 1024-aligned span cut into the largest aligned
 * blocks: orders 0,2,3,...,9 climbing to 1024, then 9,8,...,3,1,0 down.
 */
static const u64 tb_expect_blocks[BUDDY_NR_ORDERS] = { 2, 1, 1, 2, 2, 2, 2, 2, 2, 2, 0 };

static void tb_expect_decomposed(struct ktest_ctx *kt)
{
	struct buddy_stats st;
	unsigned i;

	buddy_get_stats(&tb, &st);
	for (i = 0; i < BUDDY_NR_ORDERS; i++)
		KT_EXPECT_EQ(st.free_blocks[i], tb_expect_blocks[i]);
	KT_EXPECT_EQ(st.free_pages, 2040);
	KT_EXPECT_EQ(st.managed_pages, 2040);
	KT_EXPECT_EQ(st.largest_free, 512);
	KT_EXPECT(buddy_check(&tb));
}

KTEST(buddy, add_free_decomposes)
{
	tb_setup(0x40000);
	KT_ASSERT_EQ(tb_add(3, 2040), 0);
	tb_expect_decomposed(kt);

	/* Added in pieces, in reverse order, the result must be the same. */
	tb_setup(0x40000);
	KT_ASSERT_EQ(tb_add(1500, 543), 0);
	KT_ASSERT_EQ(tb_add(700, 800), 0);
	KT_ASSERT_EQ(tb_add(4, 696), 0);
	KT_ASSERT_EQ(tb_add(3, 1), 0);
	tb_expect_decomposed(kt);
	KT_EXPECT(tb_free_frames_untouched());
}

KTEST(buddy, add_free_rejects)
{
	struct buddy_stats before, after;

	tb_setup(0x40000);
	KT_ASSERT_EQ(tb_add(100, 100), 0);
	buddy_get_stats(&tb, &before);
	KT_EXPECT_EQ(buddy_add_free(&tb, 0x40000 + 150, 100), -EINVAL);
	KT_EXPECT_EQ(buddy_add_free(&tb, 0x40000 + 50, 51), -EINVAL);
	KT_EXPECT_EQ(buddy_add_free(&tb, 0x40000 + 199, 1), -EINVAL);
	KT_EXPECT_EQ(buddy_add_free(&tb, 0x40000 + 300, 0), -EINVAL);
	KT_EXPECT_EQ(buddy_add_free(&tb, 0x40000 - 1, 2), -EINVAL);
	KT_EXPECT_EQ(buddy_add_free(&tb, 0x40000 + TB_PAGES - 1, 2), -EINVAL);
	KT_EXPECT_EQ(buddy_add_free(&tb, 0x40000 + TB_PAGES, 1), -EINVAL);
	KT_EXPECT_EQ(buddy_add_free(&tb, ~0ULL, 2), -EINVAL);
	buddy_get_stats(&tb, &after);
	KT_EXPECT(tb_stats_equal(&before, &after));
	KT_EXPECT(buddy_check(&tb));
	/* The frames right next to the range are still free to add. */
	KT_EXPECT_EQ(tb_add(99, 1), 0);
	KT_EXPECT_EQ(tb_add(200, 1), 0);
	KT_EXPECT(buddy_check(&tb));
}

KTEST(buddy, every_count)
{
	struct buddy_stats start, now;
	unsigned n;

	tb_setup(0x80000);
	KT_ASSERT_EQ(tb_add(0, TB_PAGES), 0);
	buddy_get_stats(&tb, &start);
	KT_EXPECT_EQ(start.free_blocks[BUDDY_MAX_ORDER], 2);
	for (n = 1; n <= BUDDY_MAX_ALLOC; n++) {
		KT_ASSERT(tb_alloc_one(kt, n));
		KT_EXPECT_EQ(buddy_free_pages(&tb), TB_PAGES - n);
		KT_EXPECT(buddy_check(&tb));
		tb_free_slot(kt, 0);
		buddy_get_stats(&tb, &now);
		KT_EXPECT(tb_stats_equal(&start, &now));
	}
	KT_EXPECT(tb_free_frames_untouched());
}

KTEST(buddy, tail_is_given_back)
{
	u64 a, b;

	/* 5 frames take an order-3 block; the other 3 stay usable. */
	tb_setup(0x80000);
	KT_ASSERT_EQ(tb_add(0, 8), 0);
	KT_ASSERT_EQ(buddy_alloc(&tb, 5, &a), 0);
	KT_EXPECT_EQ(a, 0x80000);
	KT_EXPECT_EQ(buddy_free_pages(&tb), 3);
	KT_ASSERT_EQ(buddy_alloc(&tb, 2, &b), 0);
	KT_EXPECT_EQ(b, 0x80006);
	KT_ASSERT_EQ(buddy_alloc(&tb, 1, &b), 0);
	KT_EXPECT_EQ(b, 0x80005);
	KT_EXPECT_EQ(buddy_alloc(&tb, 1, &b), -ENOMEM);
	KT_EXPECT(buddy_check(&tb));
	KT_EXPECT_EQ(buddy_free(&tb, 0x80005, 1), 0);
	KT_EXPECT_EQ(buddy_free(&tb, 0x80006, 2), 0);
	KT_EXPECT_EQ(buddy_free(&tb, 0x80000, 5), 0);
	KT_EXPECT_EQ(buddy_largest_free(&tb), 8);
	KT_EXPECT(buddy_check(&tb));
}

KTEST(buddy, bad_free)
{
	struct buddy_stats before, after;
	u64 a, b;

	tb_setup(0x80000);
	KT_ASSERT_EQ(tb_add(16, 1000), 0);
	KT_ASSERT_EQ(buddy_alloc(&tb, 6, &a), 0);
	KT_ASSERT_EQ(buddy_alloc(&tb, 1, &b), 0);
	KT_EXPECT_EQ(b, a + 6); /* the lowest piece of a's unused end, split */
	buddy_get_stats(&tb, &before);
	KT_EXPECT_EQ(buddy_free(&tb, a, 5), -EINVAL);       /* wrong count */
	KT_EXPECT_EQ(buddy_free(&tb, a, 7), -EINVAL);
	KT_EXPECT_EQ(buddy_free(&tb, a, 8), -EINVAL);       /* the block size */
	KT_EXPECT_EQ(buddy_free(&tb, a + 1, 5), -EINVAL);   /* interior frame */
	KT_EXPECT_EQ(buddy_free(&tb, a + 5, 1), -EINVAL);   /* last frame */
	KT_EXPECT_EQ(buddy_free(&tb, a + 7, 1), -EINVAL);   /* free, a's block */
	KT_EXPECT_EQ(buddy_free(&tb, 0x80000, 1), -EINVAL); /* never added */
	KT_EXPECT_EQ(buddy_free(&tb, 0x80000 + 1500, 1), -EINVAL); /* free frame */
	KT_EXPECT_EQ(buddy_free(&tb, 0x7ffff, 1), -EINVAL); /* below the span */
	KT_EXPECT_EQ(buddy_free(&tb, 0x80000 + TB_PAGES, 1), -EINVAL);
	KT_EXPECT_EQ(buddy_free(&tb, b, 0), -EINVAL);
	KT_EXPECT_EQ(buddy_free(&tb, b, 1000), -EINVAL);
	buddy_get_stats(&tb, &after);
	KT_EXPECT(tb_stats_equal(&before, &after));
	KT_EXPECT(buddy_check(&tb));

	KT_EXPECT_EQ(buddy_free(&tb, a, 6), 0);
	KT_EXPECT_EQ(buddy_free(&tb, a, 6), -EINVAL);       /* double free */
	KT_EXPECT_EQ(buddy_free(&tb, b, 1), 0);
	KT_EXPECT_EQ(buddy_free(&tb, b, 1), -EINVAL);
	KT_EXPECT_EQ(buddy_alloc_count(&tb, a), 0);
	KT_EXPECT_EQ(buddy_free_pages(&tb), 1000);
	KT_EXPECT(buddy_check(&tb));
}

KTEST(buddy, random)
{
	struct buddy_stats start, end;

	tb_setup(0x100000);
	KT_ASSERT_EQ(tb_add(0, TB_PAGES), 0);
	buddy_get_stats(&tb, &start);
	tb_random_ops(kt, 6000);
	KT_EXPECT(buddy_check(&tb));
	tb_free_all(kt);
	buddy_get_stats(&tb, &end);
	KT_EXPECT(tb_stats_equal(&start, &end));
	KT_EXPECT(buddy_check(&tb));
	KT_EXPECT(tb_free_frames_untouched());
	KT_EXPECT(tb_nomem > 0); /* the run must have reached exhaustion */
	ktest_log(kt, "%u allocations, %u refused", (unsigned)tb_gen, tb_nomem);
}

/*
 * An odd base and several ranges with holes between them: holes of one frame
 * in the middle of what would otherwise be large blocks, frames added singly,
 * and a range ending at the end of the span.  Blocks must never cover a hole
 * (the model's TB_HOLE frames can never be handed out).
 */
KTEST(buddy, holes)
{
	static const u64 ranges[][2] = {
		{ 5, 250 }, { 256, 255 }, { 512, 1 }, { 514, 500 },
		{ 1020, 3 }, { 1024, 400 }, { 1430, 1 }, { 1440, 608 },
	};
	struct buddy_stats start, end;
	unsigned i;

	tb_setup(0x12345);
	for (i = 0; i < ARRAY_SIZE(ranges); i++)
		KT_ASSERT_EQ(tb_add(ranges[i][0], ranges[i][1]), 0);
	KT_EXPECT(buddy_check(&tb));
	buddy_get_stats(&tb, &start);
	KT_EXPECT_EQ(start.free_pages, tb_model_free);
	tb_random_ops(kt, 4000);
	tb_free_all(kt);
	buddy_get_stats(&tb, &end);
	KT_EXPECT(tb_stats_equal(&start, &end));
	KT_EXPECT(buddy_check(&tb));
	KT_EXPECT(tb_free_frames_untouched());
}

/* Fill the region with single frames, free them in random order. */
KTEST(buddy, coalesce)
{
	u64 n = 0;
	unsigned i;

	tb_setup(0x200000);
	KT_ASSERT_EQ(tb_add(0, TB_PAGES), 0);
	while (tb_nlive < TB_MAX_LIVE && tb_alloc_one(kt, 1))
		n++;
	KT_EXPECT_EQ(n, TB_PAGES);
	KT_EXPECT_EQ(buddy_free_pages(&tb), 0);
	KT_EXPECT_EQ(buddy_largest_free(&tb), 0);
	KT_EXPECT(buddy_check(&tb));
	for (i = tb_nlive; i > 0; i--)
		tb_free_slot(kt, ktest_rand(kt) % i);
	KT_EXPECT_EQ(buddy_free_pages(&tb), TB_PAGES);
	KT_EXPECT_EQ(tb.nfree_blocks[BUDDY_MAX_ORDER], 2);
	KT_EXPECT_EQ(buddy_largest_free(&tb), 1u << BUDDY_MAX_ORDER);
	KT_EXPECT(buddy_check(&tb));
}

KTEST(buddy, flags)
{
	u64 a, b;

	tb_setup(0x80000);
	KT_ASSERT_EQ(tb_add(0, 64), 0);
	KT_ASSERT_EQ(buddy_alloc(&tb, 4, &a), 0);
	KT_ASSERT_EQ(buddy_alloc(&tb, 4, &b), 0);
	KT_EXPECT_EQ(buddy_set_flags(&tb, a, 4, BUDDY_FLAG_SLAB), 0);
	KT_EXPECT_EQ(buddy_flags(&tb, a), BUDDY_FLAG_SLAB);
	KT_EXPECT_EQ(buddy_flags(&tb, a + 3), BUDDY_FLAG_SLAB);
	KT_EXPECT_EQ(buddy_flags(&tb, b), 0);
	KT_EXPECT_EQ(buddy_flags(&tb, 0x7ffff), 0);
	KT_EXPECT_EQ(buddy_set_flags(&tb, 0x80000 + TB_PAGES - 1, 2, 1), -EINVAL);
	KT_EXPECT_EQ(buddy_set_flags(&tb, 0x7ffff, 1, 1), -EINVAL);
	/* Flags on an allocation do not disturb the checker... */
	KT_EXPECT(buddy_check(&tb));
	/* ...and freeing clears them, so a reused frame starts clean. */
	KT_EXPECT_EQ(buddy_free(&tb, a, 4), 0);
	KT_EXPECT_EQ(buddy_flags(&tb, a), 0);
	KT_EXPECT_EQ(buddy_flags(&tb, a + 3), 0);
	KT_EXPECT(buddy_check(&tb));
	KT_EXPECT_EQ(buddy_free(&tb, b, 4), 0);
}
