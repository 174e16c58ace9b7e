/*
 * test_ring.c — lib/ring against a model queue, under thousands of random
 * single-byte and bulk operations, for several sizes and with the 32-bit
 * counters started just below their wrap-around.
 */
#include "lib/ktest.h"
#include "lib/ring.h"
#include "errno.h"

#define MODEL_MAX 256

/* The model: a plain array holding the queued bytes oldest first. */
static u8 model[MODEL_MAX];
static size_t model_len;
static u8 storage[MODEL_MAX];

static void model_push(u8 b)
{
	model[model_len++] = b;
}

static void model_pop(size_t n)
{
	size_t i;

	for (i = n; i < model_len; i++)
		model[i - n] = model[i];
	model_len -= n;
}

static bool same(const u8 *a, const u8 *b, size_t n)
{
	while (n--) {
		if (*a++ != *b++)
			return false;
	}
	return true;
}

static void op_put_get(struct ktest_ctx *kt, struct ring *r, size_t size)
{
	u8 b = (u8)ktest_rand(kt), out = 0;

	switch (ktest_rand(kt) % 3) {
	case 0:
		KT_EXPECT_EQ(ring_put(r, b), model_len < size ? 0 : -ENOSPC);
		if (model_len < size)
			model_push(b);
		break;
	case 1:
		KT_EXPECT_EQ(ring_get(r, &out), model_len ? 0 : -EAGAIN);
		if (model_len) {
			KT_EXPECT_EQ(out, model[0]);
			model_pop(1);
		}
		break;
	default:
		KT_EXPECT_EQ(ring_peek(r, &out), model_len ? 0 : -EAGAIN);
		if (model_len)
			KT_EXPECT_EQ(out, model[0]);
		break;
	}
}

static void op_bulk(struct ktest_ctx *kt, struct ring *r, size_t size)
{
	u8 buf[MODEL_MAX + 8];
	size_t len = ktest_rand(kt) % (size + 4), n, i;

	switch (ktest_rand(kt) % 4) {
	case 0:
		for (i = 0; i < len; i++)
			buf[i] = (u8)ktest_rand(kt);
		n = ring_write(r, buf, len);
		KT_EXPECT_EQ(n, MIN(len, size - model_len));
		for (i = 0; i < n; i++)
			model_push(buf[i]);
		break;
	case 1:
		n = ring_read(r, buf, len);
		KT_EXPECT_EQ(n, MIN(len, model_len));
		KT_EXPECT(same(buf, model, n));
		model_pop(n);
		break;
	case 2:
		n = ring_peek_bytes(r, buf, len);
		KT_EXPECT_EQ(n, MIN(len, model_len));
		KT_EXPECT(same(buf, model, n));
		break;
	default:
		n = ring_discard(r, len);
		KT_EXPECT_EQ(n, MIN(len, model_len));
		model_pop(n);
		break;
	}
}

static void run_random(struct ktest_ctx *kt, size_t size, u32 start)
{
	struct ring r;
	int op;

	KT_ASSERT_EQ(ring_init(&r, storage, size), 0);
	r.head = r.tail = start; /* exercise counter wrap-around */
	model_len = 0;
	for (op = 0; op < 4000; op++) {
		if (ktest_rand(kt) % 2)
			op_put_get(kt, &r, size);
		else
			op_bulk(kt, &r, size);
		KT_EXPECT_EQ(ring_used(&r), model_len);
		KT_EXPECT_EQ(ring_free(&r), size - model_len);
		KT_EXPECT_EQ(ring_empty(&r), model_len == 0);
		KT_EXPECT_EQ(ring_full(&r), model_len == size);
		if (kt->failures) {
			ktest_log(kt, "size %zu start %#x op %d", size, start, op);
			return;
		}
	}
}

KTEST(ring, random_against_model)
{
	static const size_t sizes[] = { 1, 2, 8, 64, 256 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		run_random(kt, sizes[i], 0);
		run_random(kt, sizes[i], 0xffffffffu - 100);
	}
}

KTEST(ring, init_rejects_bad_sizes)
{
	struct ring r;

	KT_EXPECT_EQ(ring_init(&r, storage, 0), -EINVAL);
	KT_EXPECT_EQ(ring_init(&r, storage, 3), -EINVAL);
	KT_EXPECT_EQ(ring_init(&r, storage, 100), -EINVAL);
	KT_EXPECT_EQ(ring_init(&r, storage, (size_t)RING_SIZE_MAX * 2), -EINVAL);
	KT_EXPECT_EQ(ring_init(&r, storage, 16), 0);
	KT_EXPECT_EQ(ring_size(&r), 16);
}

KTEST(ring, fill_drain_and_wrap)
{
	struct ring r;
	u8 out[8];
	int i;

	ring_init(&r, storage, 8);
	KT_EXPECT_EQ(ring_write(&r, "abcdef", 6), 6);
	KT_EXPECT_EQ(ring_read(&r, out, 4), 4);
	KT_EXPECT_EQ(ring_write(&r, "ghijklmn", 8), 6); /* wraps; 2 left over */
	KT_EXPECT(ring_full(&r));
	KT_EXPECT_EQ(ring_put(&r, 'z'), -ENOSPC);
	KT_EXPECT_EQ(ring_read(&r, out, 8), 8);
	KT_EXPECT(same(out, (const u8 *)"efghijkl", 8));
	KT_EXPECT(ring_empty(&r));
	for (i = 0; i < 3; i++)
		KT_EXPECT_EQ(ring_put(&r, (u8)('0' + i)), 0);
	ring_reset(&r);
	KT_EXPECT(ring_empty(&r));
	KT_EXPECT_EQ(ring_get(&r, out), -EAGAIN);
}
