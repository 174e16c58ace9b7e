/*
 * test_btree.c — lib/btree against a sorted-array model.
 *
 * Random inserts, removals, lookups and lower-bound searches are applied to
 * the tree and to the model, with keys drawn from a small range so that
 * duplicates and misses are common; after every operation btree_check()
 * verifies the tree's shape and every answer must equal the model's.
 *
 * The tree allocates through a counting allocator (struct test_alloc) that
 * can also be told to fail.  It proves two things: every node is freed by
 * the end (live == 0), and an insert that hits -ENOMEM leaves the tree
 * valid and exactly as it was.
 */
#include "lib/ktest.h"
#include "lib/btree.h"
#include "errno.h"

#define MODEL_MAX 2048

static u64 model[MODEL_MAX];
static size_t model_len;

/* A value derived from the key, so a value from the wrong key shows. */
static void *val_of(u64 key)
{
	return (void *)(uintptr_t)(key * 7 + 3);
}

/* Index of the first model key >= @key. */
static size_t model_lower(u64 key)
{
	size_t lo = 0, hi = model_len;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (model[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool model_has(u64 key)
{
	size_t i = model_lower(key);

	return i < model_len && model[i] == key;
}

static void model_insert(u64 key)
{
	size_t i = model_lower(key), j;

	for (j = model_len; j > i; j--)
		model[j] = model[j - 1];
	model[i] = key;
	model_len++;
}

static void model_remove(u64 key)
{
	size_t i = model_lower(key);

	for (; i + 1 < model_len; i++)
		model[i] = model[i + 1];
	model_len--;
}

/* ---- the test allocator -------------------------------------------------- */

struct test_alloc {
	long live;       /* blocks allocated and not yet freed */
	long fail_in;    /* fail the allocation after this many more; <0: never */
	unsigned fail_pct; /* else fail this percentage at random (0: never) */
	struct ktest_ctx *kt;
};

static void *test_alloc_fn(void *ctx, size_t size)
{
	struct test_alloc *a = ctx;
	void *p;

	if (a->fail_in == 0)
		return NULL;
	if (a->fail_in > 0)
		a->fail_in--;
	if (a->fail_pct && ktest_rand(a->kt) % 100 < a->fail_pct)
		return NULL;
	p = lib_alloc(size);
	if (p)
		a->live++;
	return p;
}

static void test_free_fn(void *ctx, void *p)
{
	struct test_alloc *a = ctx;

	if (p) {
		a->live--;
		lib_free(p);
	}
}

static void test_alloc_init(struct test_alloc *a, struct lib_allocator *la,
			    struct ktest_ctx *kt)
{
	a->live = 0;
	a->fail_in = -1;
	a->fail_pct = 0;
	a->kt = kt;
	la->alloc = test_alloc_fn;
	la->free = test_free_fn;
	la->ctx = a;
}

/* ---- iteration helpers ----------------------------------------------------- */

struct collect {
	u64 keys[MODEL_MAX];
	size_t n;
	size_t stop_after; /* stop when n reaches this (0: never) */
	bool bad_value;
};

static struct collect col;

static int collect_fn(void *arg, u64 key, void *val)
{
	struct collect *c = arg;

	if (val != val_of(key))
		c->bad_value = true;
	c->keys[c->n++] = key;
	return c->stop_after && c->n == c->stop_after ? 42 : 0;
}

/* Iterate from @from and compare with the model's suffix. */
static bool iterate_matches(const struct btree *t, u64 from, size_t stop_after)
{
	size_t start = model_lower(from), want, i;
	int rc;

	col.n = 0;
	col.stop_after = stop_after;
	col.bad_value = false;
	rc = btree_iterate(t, from, collect_fn, &col);
	want = model_len - start;
	if (stop_after && stop_after <= want) {
		if (rc != 42)
			return false;
		want = stop_after;
	} else if (rc != 0) {
		return false;
	}
	if (col.n != want || col.bad_value)
		return false;
	for (i = 0; i < want; i++) {
		if (col.keys[i] != model[start + i])
			return false;
	}
	return true;
}

/* ---- one random step --------------------------------------------------- */

static void step_insert(struct ktest_ctx *kt, struct btree *t, u64 key)
{
	bool had = model_has(key);
	int err = btree_insert(t, key, val_of(key));

	if (had) {
		KT_EXPECT_EQ(err, -EEXIST);
	} else if (err == -ENOMEM) {
		KT_EXPECT_EQ(btree_lookup(t, key, NULL), -ENOENT);
	} else {
		KT_EXPECT_EQ(err, 0);
		if (!err && model_len < MODEL_MAX)
			model_insert(key);
	}
}

static void step_remove(struct ktest_ctx *kt, struct btree *t, u64 key)
{
	void *v = NULL;
	int err = btree_remove(t, key, &v);

	if (model_has(key)) {
		KT_EXPECT_EQ(err, 0);
		KT_EXPECT(v == val_of(key));
		model_remove(key);
	} else {
		KT_EXPECT_EQ(err, -ENOENT);
	}
}

static void step_query(struct ktest_ctx *kt, const struct btree *t, u64 key)
{
	size_t i = model_lower(key);
	void *v = NULL;
	u64 found = 0;

	if (model_has(key)) {
		KT_EXPECT_EQ(btree_lookup(t, key, &v), 0);
		KT_EXPECT(v == val_of(key));
	} else {
		KT_EXPECT_EQ(btree_lookup(t, key, &v), -ENOENT);
	}
	if (i < model_len) {
		KT_EXPECT_EQ(btree_lower_bound(t, key, &found, &v), 0);
		KT_EXPECT_EQ(found, model[i]);
		KT_EXPECT(v == val_of(found));
	} else {
		KT_EXPECT_EQ(btree_lower_bound(t, key, &found, &v), -ENOENT);
	}
}

/*
 * @ops random operations on keys below @range; inserts are favoured in the
 * first half so the tree gets deep, removals in the second so it shrinks.
 */
static void run_random(struct ktest_ctx *kt, struct btree *t, int ops, u64 range)
{
	int op;

	for (op = 0; op < ops; op++) {
		u64 key = ktest_rand(kt) % range;
		unsigned pick = (unsigned)(ktest_rand(kt) % 100);
		unsigned insert_pct = op < ops / 2 ? 60 : 25;

		if (pick < insert_pct)
			step_insert(kt, t, key);
		else if (pick < 80)
			step_remove(kt, t, key);
		else
			step_query(kt, t, key);
		KT_EXPECT_EQ(btree_check(t), 0);
		KT_EXPECT_EQ(btree_count(t), model_len);
		if (kt->failures) {
			ktest_log(kt, "op %d key %llu", op, (unsigned long long)key);
			return;
		}
	}
}

KTEST(btree, random_against_model)
{
	struct test_alloc ta;
	struct lib_allocator la;
	struct btree t;

	test_alloc_init(&ta, &la, kt);
	btree_init(&t, &la);
	model_len = 0;
	run_random(kt, &t, 6000, 1500);
	KT_EXPECT(iterate_matches(&t, 0, 0));
	KT_EXPECT(iterate_matches(&t, 700, 0));
	KT_EXPECT(iterate_matches(&t, 300, 25));
	btree_destroy(&t, NULL, NULL);
	KT_EXPECT_EQ(ta.live, 0);
	KT_EXPECT_EQ(btree_count(&t), 0);
}

KTEST(btree, grow_then_drain_completely)
{
	struct test_alloc ta;
	struct lib_allocator la;
	struct btree t;
	u64 k;

	test_alloc_init(&ta, &la, kt);
	btree_init(&t, &la);
	model_len = 0;
	/* Ascending inserts then removal from the middle outwards. */
	for (k = 0; k < 2000; k++)
		KT_ASSERT_EQ(btree_insert(&t, k * 2, val_of(k * 2)), 0);
	KT_ASSERT_EQ(btree_check(&t), 0);
	for (k = 0; k < 1000; k++) {
		KT_ASSERT_EQ(btree_remove(&t, (1000 + k) * 2, NULL), 0);
		KT_ASSERT_EQ(btree_remove(&t, (999 - k) * 2, NULL), 0);
		KT_ASSERT_EQ(btree_check(&t), 0);
	}
	KT_EXPECT_EQ(btree_count(&t), 0);
	KT_EXPECT(t.root == NULL);
	KT_EXPECT_EQ(ta.live, 0);
}

KTEST(btree, extreme_keys_and_null_values)
{
	struct btree t;
	void *v = (void *)1;
	u64 found;

	btree_init(&t, NULL);
	KT_EXPECT_EQ(btree_lookup(&t, 0, &v), -ENOENT);
	KT_EXPECT_EQ(btree_remove(&t, 0, &v), -ENOENT);
	KT_EXPECT_EQ(btree_lower_bound(&t, 0, &found, &v), -ENOENT);
	KT_EXPECT_EQ(btree_iterate(&t, 0, collect_fn, &col), 0);
	KT_EXPECT_EQ(btree_insert(&t, 0, NULL), 0);
	KT_EXPECT_EQ(btree_insert(&t, ~0ULL, val_of(~0ULL)), 0);
	KT_EXPECT_EQ(btree_insert(&t, 0, val_of(0)), -EEXIST);
	KT_EXPECT_EQ(btree_lookup(&t, 0, &v), 0);
	KT_EXPECT(v == NULL); /* the first value was kept */
	KT_EXPECT_EQ(btree_lower_bound(&t, 1, &found, NULL), 0);
	KT_EXPECT_EQ(found, ~0ULL);
	KT_EXPECT_EQ(btree_lookup(&t, 5, NULL), -ENOENT);
	KT_EXPECT_EQ(btree_check(&t), 0);
	btree_destroy(&t, NULL, NULL);
	KT_EXPECT_EQ(btree_check(&t), 0);
}

KTEST(btree, enomem_leaves_tree_intact)
{
	struct test_alloc ta;
	struct lib_allocator la;
	struct btree t;
	int round;

	test_alloc_init(&ta, &la, kt);
	btree_init(&t, &la);
	model_len = 0;
	/* The very first node cannot be had: nothing changes, nothing leaks. */
	ta.fail_in = 0;
	KT_EXPECT_EQ(btree_insert(&t, 1, val_of(1)), -ENOMEM);
	KT_EXPECT(t.root == NULL);
	KT_EXPECT_EQ(ta.live, 0);
	/* Then one in four allocations fails, through growth and shrinkage. */
	ta.fail_in = -1;
	ta.fail_pct = 25;
	for (round = 0; round < 3 && !kt->failures; round++)
		run_random(kt, &t, 3000, 3000);
	KT_EXPECT(iterate_matches(&t, 0, 0));
	btree_destroy(&t, NULL, NULL);
	KT_EXPECT_EQ(ta.live, 0);
}

/*
 * Insert @k, first letting allocation number @fail (0-based) of the insert
 * fail.  Checks that the failed attempt changed nothing, then inserts for
 * real.  Returns whether the failure was hit.
 */
static bool insert_with_failure(struct ktest_ctx *kt, struct btree *t,
				struct test_alloc *ta, u64 k, long fail)
{
	int err;

	ta->fail_in = fail;
	err = btree_insert(t, k, val_of(k));
	ta->fail_in = -1;
	if (err == -ENOMEM) {
		KT_EXPECT_EQ(btree_check(t), 0);
		KT_EXPECT_EQ(btree_count(t), model_len);
		KT_EXPECT_EQ(btree_lookup(t, k, NULL), -ENOENT);
		err = btree_insert(t, k, val_of(k));
		KT_EXPECT_EQ(err, 0);
		model_insert(k);
		return true;
	}
	KT_EXPECT_EQ(err, 0);
	model_insert(k);
	return false;
}

KTEST(btree, enomem_at_every_split_depth)
{
	struct test_alloc ta;
	struct lib_allocator la;
	struct btree t;
	long fail;
	u64 k;

	/*
	 * Ascending inserts split the right edge of the tree over and over.
	 * Make the first allocation of every insert fail (a leaf or internal
	 * split), then the second (the split under a freshly allocated root,
	 * which must give that root back).
	 */
	for (fail = 0; fail < 2; fail++) {
		int hits = 0;

		test_alloc_init(&ta, &la, kt);
		btree_init(&t, &la);
		model_len = 0;
		for (k = 0; k < 2000 && !kt->failures; k++)
			hits += insert_with_failure(kt, &t, &ta, k, fail);
		KT_EXPECT(hits > 0);
		KT_EXPECT(iterate_matches(&t, 0, 0));
		btree_destroy(&t, NULL, NULL);
		KT_EXPECT_EQ(ta.live, 0);
	}
}

static int count_and_free(void *arg, u64 key, void *val)
{
	u64 *sum = arg;

	*sum += key;
	return 1; /* ignored by btree_destroy() */
}

KTEST(btree, destroy_visits_every_value)
{
	struct btree t;
	u64 sum = 0, k;

	btree_init(&t, NULL);
	for (k = 1; k <= 500; k++)
		KT_ASSERT_EQ(btree_insert(&t, k, val_of(k)), 0);
	btree_destroy(&t, count_and_free, &sum);
	KT_EXPECT_EQ(sum, 500 * 501 / 2);
	KT_EXPECT_EQ(btree_count(&t), 0);
	/* The tree is reusable after destroy. */
	KT_EXPECT_EQ(btree_insert(&t, 9, NULL), 0);
	btree_destroy(&t, NULL, NULL);
}

KTEST(btree, check_catches_corruption)
{
	struct btree t;
	u64 k;

	btree_init(&t, NULL);
	for (k = 0; k < 100; k++)
		KT_ASSERT_EQ(btree_insert(&t, k, NULL), 0);
	KT_ASSERT_EQ(btree_check(&t), 0);
	t.count++;
	KT_EXPECT_EQ(btree_check(&t), -EINVAL);
	t.count--;
	btree_destroy(&t, NULL, NULL);
}
