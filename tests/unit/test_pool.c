/*
 * test_pool.c — mm/pool on top of mm/buddy, wired the way the kernel glue
 * wires them.
 *
 * A 1 MiB static array, 16 KiB aligned, plays RAM: a struct buddy manages its
 * 256 frames, and the pool's alloc_slab takes an order-2 block from it, marks
 * the four frames BUDDY_FLAG_SLAB and returns the address; free_slab checks
 * the flag and the allocation before handing the frames back.  A slab limit
 * lets a test run the page level dry on purpose.
 *
 * The random test keeps a table of live objects, writes a pattern over the
 * requested bytes of each and verifies it before freeing: two live objects
 * that overlapped, or an allocator that wrote into a live object, would break
 * a pattern.  Allocation may fail only when the page level refused a slab
 * during that call.  At the end every slab must have gone back to the buddy
 * allocator, which must be in its starting state.  Other tests cover the
 * rejection of bad frees without any change of state, the one-spare-slab
 * policy, and the poison: a freed object reads as 0x6B and a write after free
 * is reported on the next allocation of that object.
 */
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/buddy.h"
#include "mm/pool.h"
#include "errno.h"

#define TP_PAGE 4096
#define TP_SLABS 64
#define TP_PAGES (TP_SLABS * POOL_SLAB_PAGES)
#define TP_BASE_PFN 0x400 /* any multiple of 4 keeps pfn and address alignment in step */
#define TP_MAX_LIVE 700

/* What the fake page level saw. */
struct tp_env {
	unsigned slab_limit;  /* alloc_slab refuses beyond this many slabs out */
	unsigned slabs_out;
	unsigned slab_allocs;
	unsigned slab_frees;
	unsigned refused;     /* alloc_slab calls answered with NULL */
	unsigned bad_frees;   /* free_slab calls for something not a slab */
	unsigned corrupt_calls;
	void *corrupt_obj;
	size_t corrupt_off;
};

struct tp_obj {
	u8 *p;
	size_t size;
	u32 gen;
};

static u8 tp_ram[TP_PAGES * TP_PAGE] __aligned(POOL_SLAB_SIZE);
static struct buddy_page tp_meta[TP_PAGES];
static struct buddy tp_buddy;
static struct pool tp_pool;
static struct tp_env tp_env;
static struct tp_obj tp_live[TP_MAX_LIVE];
static unsigned tp_nlive;
static u32 tp_gen;

static void *tp_frame_ptr(void *ctx, u64 pfn)
{
	return tp_ram + (pfn - TP_BASE_PFN) * TP_PAGE;
}

static u64 tp_pfn(const void *addr)
{
	return TP_BASE_PFN + (u64)((const u8 *)addr - tp_ram) / TP_PAGE;
}

static void *tp_alloc_slab(void *ctx)
{
	struct tp_env *env = ctx;
	u64 pfn;

	if (env->slabs_out >= env->slab_limit ||
	    buddy_alloc(&tp_buddy, POOL_SLAB_PAGES, &pfn)) {
		env->refused++;
		return NULL;
	}
	buddy_set_flags(&tp_buddy, pfn, POOL_SLAB_PAGES, BUDDY_FLAG_SLAB);
	env->slabs_out++;
	env->slab_allocs++;
	return tp_frame_ptr(NULL, pfn);
}

static void tp_free_slab(void *ctx, void *slab)
{
	struct tp_env *env = ctx;
	u64 pfn = tp_pfn(slab);

	if (buddy_flags(&tp_buddy, pfn) != BUDDY_FLAG_SLAB ||
	    buddy_free(&tp_buddy, pfn, POOL_SLAB_PAGES)) {
		env->bad_frees++;
		return;
	}
	env->slabs_out--;
	env->slab_frees++;
}

static void tp_corrupt(void *ctx, void *obj, size_t off)
{
	struct tp_env *env = ctx;

	env->corrupt_calls++;
	env->corrupt_obj = obj;
	env->corrupt_off = off;
}

static const struct pool_ops tp_ops = {
	.alloc_slab = tp_alloc_slab,
	.free_slab = tp_free_slab,
	.corrupt = tp_corrupt,
	.ctx = &tp_env,
};

/* Fresh buddy over the whole array and a fresh pool on top. */
static void tp_setup(void)
{
	memset(&tp_env, 0, sizeof(tp_env));
	tp_env.slab_limit = TP_SLABS;
	buddy_init(&tp_buddy, TP_BASE_PFN, TP_PAGES, tp_meta);
	buddy_add_free(&tp_buddy, TP_BASE_PFN, TP_PAGES);
	pool_init(&tp_pool, &tp_ops);
	tp_nlive = 0;
	tp_gen = 0;
}

/* Everything back: no slab out, the buddy allocator whole again. */
static void tp_expect_all_returned(struct ktest_ctx *kt)
{
	pool_shrink(&tp_pool);
	KT_EXPECT(pool_check(&tp_pool));
	KT_EXPECT_EQ(tp_env.slabs_out, 0);
	KT_EXPECT_EQ(tp_env.bad_frees, 0);
	KT_EXPECT_EQ(buddy_free_pages(&tp_buddy), TP_PAGES);
	KT_EXPECT_EQ(buddy_largest_free(&tp_buddy), TP_PAGES);
	KT_EXPECT(buddy_check(&tp_buddy));
}

static bool tp_all_poison(const u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] != POOL_POISON)
			return false;
	}
	return true;
}

static size_t tp_class_size(unsigned idx)
{
	return (size_t)POOL_MIN_SIZE << idx;
}

/* @obj must be a valid object of @size requested bytes: placement and page flag. */
static void tp_expect_placed(struct ktest_ctx *kt, const u8 *obj, size_t size)
{
	int idx = pool_class_index(size);
	size_t csize = tp_class_size((unsigned)idx);
	uintptr_t slab = (uintptr_t)obj & ~(uintptr_t)(POOL_SLAB_SIZE - 1);
	size_t off = (uintptr_t)obj - slab;

	KT_EXPECT(obj >= tp_ram && obj + csize <= tp_ram + sizeof(tp_ram));
	KT_EXPECT(IS_ALIGNED((uintptr_t)obj, csize));
	KT_EXPECT(off >= tp_pool.classes[idx].first_off && off + csize <= POOL_SLAB_SIZE);
	KT_EXPECT_EQ(pool_obj_size(obj), csize);
	KT_EXPECT_EQ(buddy_flags(&tp_buddy, tp_pfn(obj)), BUDDY_FLAG_SLAB);
}

static bool tp_stats_equal(void)
{
	static struct pool_class_stats saved[POOL_NR_CLASSES];
	struct pool_class_stats now;
	bool same = true;
	unsigned i;

	for (i = 0; i < POOL_NR_CLASSES; i++) {
		pool_class_stats(&tp_pool, i, &now);
		same = same && !memcmp(&now, &saved[i], sizeof(now));
		saved[i] = now;
	}
	return same;
}

KTEST(pool, class_index)
{
	static const struct { size_t size; int idx; } cases[] = {
		{ 1, 0 }, { 31, 0 }, { 32, 0 }, { 33, 1 }, { 64, 1 }, { 65, 2 },
		{ 128, 2 }, { 129, 3 }, { 256, 3 }, { 257, 4 }, { 512, 4 },
		{ 513, 5 }, { 1024, 5 }, { 1025, 6 }, { 2047, 6 }, { 2048, 6 },
		{ 0, -EINVAL }, { 2049, -EINVAL }, { (size_t)-1, -EINVAL },
	};
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KT_EXPECT_EQ(pool_class_index(cases[i].size), cases[i].idx);
	tp_setup();
	KT_EXPECT(pool_alloc(&tp_pool, 0) == NULL);
	KT_EXPECT(pool_alloc(&tp_pool, POOL_MAX_SIZE + 1) == NULL);
	KT_EXPECT_EQ(tp_env.slab_allocs, 0);
}

KTEST(pool, every_class)
{
	static const size_t sizes[] = {
		1, 24, 32, 33, 64, 100, 128, 200, 256, 300, 512, 600, 1024, 1500, 2048,
	};
	struct pool_class_stats st;
	unsigned i;

	tp_setup();
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		u8 *obj = pool_alloc(&tp_pool, sizes[i]);
		size_t csize = tp_class_size((unsigned)pool_class_index(sizes[i]));

		KT_ASSERT(obj != NULL);
		tp_expect_placed(kt, obj, sizes[i]);
		KT_EXPECT(tp_all_poison(obj, csize)); /* fresh slabs are poisoned */
		memset(obj, 0x5a, sizes[i]);
		KT_EXPECT_EQ(pool_free(&tp_pool, obj), 0);
		KT_EXPECT(tp_all_poison(obj, csize));
	}
	KT_EXPECT_EQ(tp_env.corrupt_calls, 0);
	for (i = 0; i < POOL_NR_CLASSES; i++) {
		KT_EXPECT_EQ(pool_class_stats(&tp_pool, i, &st), 0);
		KT_EXPECT_EQ(st.size, tp_class_size(i));
		KT_EXPECT_EQ(st.in_use, 0);
		KT_EXPECT(st.objs_per_slab * st.size <= POOL_SLAB_SIZE);
		/* The header costs at most three objects (the 32-byte class). */
		KT_EXPECT(st.objs_per_slab + 3 >= POOL_SLAB_SIZE / st.size);
	}
	KT_EXPECT_EQ(pool_class_stats(&tp_pool, POOL_NR_CLASSES, &st), -EINVAL);
	KT_EXPECT(pool_check(&tp_pool));
	tp_expect_all_returned(kt);
}

/* A full slab's objects are distinct and consecutive; the next needs a new slab. */
KTEST(pool, fill_slab)
{
	static u8 *objs[POOL_SLAB_SIZE / 64];
	struct pool_class_stats st;
	unsigned n, i;
	u8 *extra;

	tp_setup();
	n = tp_pool.classes[1].objs_per_slab;
	KT_ASSERT(n > 200 && n <= ARRAY_SIZE(objs));
	for (i = 0; i < n; i++) {
		objs[i] = pool_alloc(&tp_pool, 64);
		KT_ASSERT(objs[i] != NULL);
		if (i)
			KT_EXPECT(objs[i] == objs[i - 1] + 64);
	}
	pool_class_stats(&tp_pool, 1, &st);
	KT_EXPECT_EQ(st.slabs, 1);
	KT_EXPECT_EQ(st.in_use, n);
	KT_EXPECT_EQ(st.free, 0);
	extra = pool_alloc(&tp_pool, 50);
	KT_ASSERT(extra != NULL);
	KT_EXPECT(((uintptr_t)extra ^ (uintptr_t)objs[0]) >= POOL_SLAB_SIZE);
	KT_EXPECT_EQ(tp_env.slab_allocs, 2);
	KT_EXPECT(pool_check(&tp_pool));
	for (i = 0; i < n; i++)
		KT_EXPECT_EQ(pool_free(&tp_pool, objs[i]), 0);
	KT_EXPECT_EQ(pool_free(&tp_pool, extra), 0);
	pool_class_stats(&tp_pool, 1, &st);
	KT_EXPECT_EQ(st.slabs, 1); /* the spare */
	KT_EXPECT_EQ(st.free, n);
	KT_EXPECT_EQ(tp_env.slab_frees, 1);
	tp_expect_all_returned(kt);
}

/* One empty slab per class is kept; further empties go back at once. */
KTEST(pool, spare_slab)
{
	static u8 *objs[3 * (POOL_SLAB_SIZE / 512)];
	unsigned n, i;
	u8 *again;

	tp_setup();
	n = 3 * tp_pool.classes[4].objs_per_slab;
	KT_ASSERT(n <= ARRAY_SIZE(objs));
	for (i = 0; i < n; i++) {
		objs[i] = pool_alloc(&tp_pool, 512);
		KT_ASSERT(objs[i] != NULL);
	}
	KT_EXPECT_EQ(tp_env.slab_allocs, 3);
	KT_EXPECT(pool_check(&tp_pool));
	for (i = 0; i < n; i++)
		KT_EXPECT_EQ(pool_free(&tp_pool, objs[i]), 0);
	KT_EXPECT_EQ(tp_env.slab_frees, 2);
	KT_EXPECT_EQ(tp_env.slabs_out, 1);
	/* The spare goes back to work without asking the page level. */
	again = pool_alloc(&tp_pool, 400);
	KT_ASSERT(again != NULL);
	KT_EXPECT_EQ(tp_env.slab_allocs, 3);
	KT_EXPECT_EQ(pool_free(&tp_pool, again), 0);
	KT_EXPECT_EQ(tp_env.slabs_out, 1);
	tp_expect_all_returned(kt);
	KT_EXPECT_EQ(tp_env.slab_frees, 3);
}

KTEST(pool, bad_free)
{
	static struct pool other;
	u8 *a, *b, *big, *spare_obj, *slab, *not_slab;
	unsigned i;

	tp_setup();
	a = pool_alloc(&tp_pool, 100);  /* class 128 */
	b = pool_alloc(&tp_pool, 100);
	big = pool_alloc(&tp_pool, 2000);
	spare_obj = pool_alloc(&tp_pool, 32);
	KT_ASSERT(a && b && big && spare_obj);
	for (i = 0; i < 100; i++)
		a[i] = (u8)i;
	KT_EXPECT_EQ(pool_free(&tp_pool, spare_obj), 0); /* its slab becomes the spare */
	KT_EXPECT_EQ(pool_free(&tp_pool, b), 0);
	pool_init(&other, &tp_ops);
	tp_stats_equal();

	KT_EXPECT_EQ(pool_free(&tp_pool, NULL), -EINVAL);
	KT_EXPECT_EQ(pool_free(&tp_pool, a + 1), -EINVAL);
	KT_EXPECT_EQ(pool_free(&tp_pool, a + 64), -EINVAL);
	KT_EXPECT_EQ(pool_free(&tp_pool, a - 8), -EINVAL);
	KT_EXPECT_EQ(pool_free(&tp_pool, b), -EINVAL);          /* double free */
	KT_EXPECT_EQ(pool_free(&tp_pool, spare_obj), -EINVAL);  /* in the spare */
	KT_EXPECT_EQ(pool_free(&tp_pool, big - 1024), -EINVAL); /* header padding */
	KT_EXPECT_EQ(pool_free(&tp_pool, big + 1024), -EINVAL);
	/* The slab header itself, and a 16 KiB block that is no slab at all. */
	slab = (u8 *)((uintptr_t)a & ~(uintptr_t)(POOL_SLAB_SIZE - 1));
	KT_EXPECT_EQ(pool_free(&tp_pool, slab), -EINVAL);
	not_slab = tp_ram + sizeof(tp_ram) - POOL_SLAB_SIZE;
	KT_EXPECT_EQ(pool_free(&tp_pool, not_slab + 128), -EINVAL);
	/* A live object, but of another pool. */
	KT_EXPECT_EQ(pool_free(&other, a), -EINVAL);

	KT_EXPECT(tp_stats_equal());
	KT_EXPECT(pool_check(&tp_pool));
	for (i = 0; i < 100; i++)
		KT_EXPECT_EQ(a[i], i); /* the rejected frees left a alone */
	KT_EXPECT_EQ(pool_free(&tp_pool, a), 0);
	KT_EXPECT_EQ(pool_free(&tp_pool, big), 0);
	KT_EXPECT_EQ(pool_free(&tp_pool, a), -EINVAL);
	tp_expect_all_returned(kt);
}

KTEST(pool, poison)
{
	u8 *a, *b, *again;

	tp_setup();
	a = pool_alloc(&tp_pool, 128);
	b = pool_alloc(&tp_pool, 128);
	KT_ASSERT(a && b);
	memset(a, 0x11, 128);
	memset(b, 0x22, 128);
	KT_EXPECT_EQ(pool_free(&tp_pool, a), 0);
	KT_EXPECT(tp_all_poison(a, 128));
	KT_EXPECT(pool_check(&tp_pool));

	/* Write after free: the checker sees it, the next allocation reports it. */
	a[17] = 0;
	KT_EXPECT(!pool_check(&tp_pool));
	again = pool_alloc(&tp_pool, 128);
	KT_EXPECT(again == a); /* lowest free object first */
	KT_EXPECT_EQ(tp_env.corrupt_calls, 1);
	KT_EXPECT(tp_env.corrupt_obj == a);
	KT_EXPECT_EQ(tp_env.corrupt_off, 17);
	KT_EXPECT_EQ(tp_pool.corruptions, 1);

	/* An object freed and reused without tampering reports nothing. */
	KT_EXPECT_EQ(pool_free(&tp_pool, b), 0);
	b = pool_alloc(&tp_pool, 128);
	KT_EXPECT_EQ(tp_env.corrupt_calls, 1);

	/* Damage in the last byte is found too. */
	KT_EXPECT_EQ(pool_free(&tp_pool, b), 0);
	b[127] = 0x6a;
	KT_EXPECT(pool_alloc(&tp_pool, 100) == b);
	KT_EXPECT_EQ(tp_env.corrupt_calls, 2);
	KT_EXPECT_EQ(tp_env.corrupt_off, 127);

	/* Without a corrupt callback the pool only counts. */
	tp_pool.ops.corrupt = NULL;
	KT_EXPECT_EQ(pool_free(&tp_pool, b), 0);
	b[0] = 1;
	KT_EXPECT(pool_alloc(&tp_pool, 128) == b);
	KT_EXPECT_EQ(tp_pool.corruptions, 3);
	KT_EXPECT_EQ(tp_env.corrupt_calls, 2);

	KT_EXPECT_EQ(pool_free(&tp_pool, a), 0);
	KT_EXPECT_EQ(pool_free(&tp_pool, b), 0);
	tp_expect_all_returned(kt);
}

/* With the page level capped, allocation fails cleanly and recovers. */
KTEST(pool, exhaustion)
{
	static u8 *objs[2 * (POOL_SLAB_SIZE / 2048)];
	unsigned n = 0, i;

	tp_setup();
	tp_env.slab_limit = 2;
	while (n < ARRAY_SIZE(objs) && (objs[n] = pool_alloc(&tp_pool, 2048)) != NULL)
		n++;
	KT_EXPECT_EQ(n, 2 * tp_pool.classes[6].objs_per_slab);
	KT_EXPECT(pool_alloc(&tp_pool, 2048) == NULL);
	KT_EXPECT(pool_alloc(&tp_pool, 8) == NULL);
	KT_EXPECT(tp_env.refused >= 2);
	KT_EXPECT(pool_check(&tp_pool));
	/* Freeing one object makes room again without a new slab. */
	KT_EXPECT_EQ(pool_free(&tp_pool, objs[3]), 0);
	objs[3] = pool_alloc(&tp_pool, 1500);
	KT_EXPECT(objs[3] != NULL);
	for (i = 0; i < n; i++)
		KT_EXPECT_EQ(pool_free(&tp_pool, objs[i]), 0);
	tp_expect_all_returned(kt);
}

/* A page level that hands out a misaligned slab gets it straight back. */
static void *tp_misaligned_slab(void *ctx)
{
	return tp_ram + TP_PAGE;
}

static void tp_record_free(void *ctx, void *slab)
{
	*(void **)ctx = slab;
}

KTEST(pool, misaligned_slab)
{
	static struct pool p;
	void *returned = NULL;
	const struct pool_ops ops = {
		.alloc_slab = tp_misaligned_slab,
		.free_slab = tp_record_free,
		.ctx = &returned,
	};

	pool_init(&p, &ops);
	KT_EXPECT(pool_alloc(&p, 64) == NULL);
	KT_EXPECT(returned == tp_ram + TP_PAGE);
	KT_EXPECT(pool_check(&p));
}

static u8 tp_pattern(u32 gen, size_t i)
{
	return (u8)(gen * 131 + i * 7 + 1);
}

/* Pick a class, then a size in its upper half (1..32 for the smallest). */
static size_t tp_pick_size(struct ktest_ctx *kt)
{
	size_t csize = tp_class_size(ktest_rand(kt) % POOL_NR_CLASSES);
	size_t low = csize == POOL_MIN_SIZE ? 1 : csize / 2 + 1;

	return low + ktest_rand(kt) % (csize - low + 1);
}

static void tp_random_alloc(struct ktest_ctx *kt)
{
	unsigned refused = tp_env.refused;
	size_t size = tp_pick_size(kt), i;
	struct tp_obj *o;
	u8 *p = pool_alloc(&tp_pool, size);

	if (!p) {
		KT_EXPECT(tp_env.refused > refused);
		return;
	}
	tp_expect_placed(kt, p, size);
	o = &tp_live[tp_nlive++];
	o->p = p;
	o->size = size;
	o->gen = ++tp_gen;
	for (i = 0; i < size; i++)
		p[i] = tp_pattern(o->gen, i);
}

static void tp_random_free(struct ktest_ctx *kt, unsigned slot)
{
	struct tp_obj o = tp_live[slot];
	size_t i;

	for (i = 0; i < o.size; i++) {
		if (o.p[i] != tp_pattern(o.gen, i)) {
			KT_EXPECT(o.p[i] == tp_pattern(o.gen, i));
			break;
		}
	}
	if (ktest_rand(kt) % 8 == 0)
		KT_EXPECT_EQ(pool_free(&tp_pool, o.p + 16), -EINVAL);
	KT_EXPECT_EQ(pool_free(&tp_pool, o.p), 0);
	if (ktest_rand(kt) % 8 == 0)
		KT_EXPECT_EQ(pool_free(&tp_pool, o.p), -EINVAL);
	tp_live[slot] = tp_live[--tp_nlive];
}

/* The sum over classes of live objects must match the table. */
static void tp_expect_counts(struct ktest_ctx *kt)
{
	struct pool_class_stats st;
	u64 in_use = 0, slabs = 0;
	unsigned i;

	for (i = 0; i < POOL_NR_CLASSES; i++) {
		pool_class_stats(&tp_pool, i, &st);
		in_use += st.in_use;
		slabs += st.slabs;
	}
	KT_EXPECT_EQ(in_use, tp_nlive);
	KT_EXPECT_EQ(slabs, tp_env.slabs_out);
	KT_EXPECT(pool_check(&tp_pool));
}

KTEST(pool, random)
{
	unsigned i;

	tp_setup();
	for (i = 0; i < 5000; i++) {
		/* Alternate a roomy page level with a tight one. */
		unsigned phase = (i / 500) % 3;

		tp_env.slab_limit = phase == 2 ? 12 : TP_SLABS;
		if (tp_nlive < TP_MAX_LIVE &&
		    (tp_nlive == 0 || ktest_rand(kt) % 100 < (phase == 1 ? 30 : 70)))
			tp_random_alloc(kt);
		else
			tp_random_free(kt, ktest_rand(kt) % tp_nlive);
		if (i % 256 == 0)
			tp_expect_counts(kt);
	}
	tp_expect_counts(kt);
	while (tp_nlive)
		tp_random_free(kt, tp_nlive - 1);
	KT_EXPECT_EQ(tp_env.corrupt_calls, 0);
	KT_EXPECT(tp_env.refused > 0);
	ktest_log(kt, "%u objects, %u slabs taken, %u refused", (unsigned)tp_gen,
		  tp_env.slab_allocs, tp_env.refused);
	tp_expect_all_returned(kt);
}
