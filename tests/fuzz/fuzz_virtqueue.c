/*
 * fuzz_virtqueue.c — drivers/virtio/virtqueue.c's used-ring handling
 * against a device that lies.
 *
 * The queue is set up as virtio_pci_queue() sets one up: a zeroed block of
 * virtq_bytes(size) and an array of size cookies, both from kzalloc (so
 * ASan sees a read past either), then virtq_init().  The input is a script
 * of steps; byte 0 picks the size (1 << (b % 7): 1 to 64), then each step
 * is an opcode byte and its operands (a step cut short by the end of the
 * input reads zeros):
 *
 *   0 add      n = 1 + b % 8 descriptors, of which b >> 4 % (n + 1) writable,
 *              then n lengths of 2 bytes (little-endian): virtq_add()
 *   1 push     the device writes {id: 2 bytes, len: 4 bytes} at used->idx
 *              and moves used->idx one on (ids out of range, not in flight,
 *              repeated, a chain's middle descriptor: whatever the input says)
 *   2 poke     {slot: 1 byte, id: 2, len: 4} into any used slot, idx unmoved
 *   3 move     used->idx += 2 bytes (backwards, far ahead)
 *   4 complete the device completes in-flight chain number b % in-flight
 *              truthfully (its head, a length up to its writable bytes)
 *   5 poll     the driver takes used chains until virtq_get_used() says NULL
 *   6 irq      virtq_irq_off(), or virtq_irq_on() and a poll when it says so
 *   7 flags    used->flags = 1 byte, then virtq_publish()
 *
 * The driver side is held to: a cookie handed back is one of ours and in
 * flight, never twice; the length never exceeds the chain's writable bytes;
 * one call moves last_used by at most size entries (a huge idx jump is
 * never a long spin); num_free plus the in-flight chains' descriptors is
 * always size; a failed add changes nothing; dev_errors never goes down.
 * At the end the free list is walked (num_free distinct descriptors, none
 * in a chain in flight), then the queue is torn down the way a driver does
 * after a device reset: every non-NULL cookie must be exactly a chain in
 * flight, and every allocation is freed (the shim fails a leak).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "drivers/virtio/virtqueue.h"
#include "errno.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define MAX_SIZE 64
#define MAX_CHAIN 8
#define MAX_TOKENS 256
#define MAX_STEPS 4096

struct token {
	bool in_flight;
	u16 head;
	u16 ndesc;
	u64 room;               /* device-writable bytes of the chain */
	u64 descs;              /* bit i: descriptor i belongs to the chain */
};

struct run {
	struct ktest_ctx *kt;
	struct virtq q;
	struct token tok[MAX_TOKENS];
	unsigned ntok, in_flight, in_flight_descs;
	size_t pos;
	u64 errors_seen;
};

static u64 take(struct run *r, unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n; i++, r->pos++)
		if (r->pos < fuzz_size)
			v |= (u64)fuzz_data[r->pos] << (8 * i);
	return v;
}

/* The descriptors of the chain at @head, as virtq_add() just linked them. */
static u64 chain_descs(const struct virtq *q, u16 head, unsigned n)
{
	u64 set = 0;
	u16 i = head;

	for (unsigned k = 0; k < n; k++) {
		set |= 1ull << i;
		i = q->desc[i].next & (q->size - 1);
	}
	return set;
}

static void step_add(struct run *r)
{
	struct ktest_ctx *kt = r->kt;
	struct virtq_sg sg[MAX_CHAIN];
	u8 b = (u8)take(r, 1);
	unsigned n = 1 + b % MAX_CHAIN, nin = (b >> 4) % (n + 1);
	u16 head = r->q.free_head, before = r->q.num_free;
	struct token *t;
	u64 room = 0;
	int rc;

	for (unsigned k = 0; k < n; k++) {
		sg[k] = (struct virtq_sg){ 0x10000ull * (k + 1), (u32)take(r, 2) };
		if (k >= n - nin)
			room += sg[k].len;
	}
	if (r->ntok == MAX_TOKENS)
		return;
	t = &r->tok[r->ntok];
	rc = virtq_add(&r->q, sg, n - nin, nin, t);
	if (rc) {
		KT_EXPECT_EQ(rc, -ENOSPC);
		KT_EXPECT(before < n);
		KT_EXPECT_EQ(r->q.num_free, before);
		KT_EXPECT_EQ(r->q.free_head, head);
		return;
	}
	r->ntok++;
	*t = (struct token){ true, head, (u16)n, room, chain_descs(&r->q, head, n) };
	r->in_flight++;
	r->in_flight_descs += n;
}

static void device_put(struct virtq *q, u16 slot, u32 id, u32 len)
{
	q->used->ring[slot & (q->size - 1)] = (struct virtq_used_elem){ id, len };
}

static struct token *nth_in_flight(struct run *r, unsigned k)
{
	for (unsigned i = 0; i < r->ntok; i++)
		if (r->tok[i].in_flight && k-- == 0)
			return &r->tok[i];
	return NULL;
}

static void step_complete(struct run *r)
{
	u8 b = (u8)take(r, 1);
	u32 len = (u32)take(r, 4);
	struct token *t = r->in_flight ? nth_in_flight(r, b % r->in_flight) : NULL;

	if (!t)
		return;
	device_put(&r->q, r->q.used->idx, t->head, t->room ? (u32)(len % (t->room + 1)) : 0);
	r->q.used->idx++;
}

/* One virtq_get_used() call, checked; false when it returned NULL. */
static bool take_one(struct run *r)
{
	struct ktest_ctx *kt = r->kt;
	u16 before = r->q.last_used;
	u32 len = 0xDEADBEEF;
	struct token *t = virtq_get_used(&r->q, &len);

	if ((u16)(r->q.last_used - before) > r->q.size)
		ktest_fail(kt, __FILE__, __LINE__, "one call consumed %u used entries (size %u)",
			   (u16)(r->q.last_used - before), r->q.size);
	KT_EXPECT(r->q.dev_errors >= r->errors_seen);
	r->errors_seen = r->q.dev_errors;
	if (!t)
		return false;
	if (t < r->tok || t >= r->tok + r->ntok) {
		ktest_fail(kt, __FILE__, __LINE__, "a cookie that was never added: %p", (void *)t);
		return false;
	}
	if (!t->in_flight) {
		ktest_fail(kt, __FILE__, __LINE__, "token %d handed back twice",
			   (int)(t - r->tok));
		return false;
	}
	if (len > t->room)
		ktest_fail(kt, __FILE__, __LINE__, "length %u for a chain of %llu writable bytes",
			   len, (unsigned long long)t->room);
	t->in_flight = false;
	r->in_flight--;
	r->in_flight_descs -= t->ndesc;
	return true;
}

static void poll_all(struct run *r)
{
	struct ktest_ctx *kt = r->kt;

	/* Each success retires a chain in flight: more would be a bug. */
	for (unsigned n = 0; take_one(r); n++)
		KT_ASSERT(n <= MAX_TOKENS);
}

static void step(struct run *r, u8 op)
{
	struct ktest_ctx *kt = r->kt;
	struct virtq *q = &r->q;
	u16 slot;
	u32 id;

	switch (op % 8) {
	case 0:
		step_add(r);
		break;
	case 1:
		id = (u32)take(r, 2);
		device_put(q, q->used->idx, id, (u32)take(r, 4));
		q->used->idx++;
		break;
	case 2:
		slot = (u16)take(r, 1);
		id = (u32)take(r, 2);
		device_put(q, slot, id, (u32)take(r, 4));
		break;
	case 3:
		q->used->idx = (u16)(q->used->idx + take(r, 2));
		break;
	case 4:
		step_complete(r);
		break;
	case 5:
		poll_all(r);
		break;
	case 6:
		if (take(r, 1) & 1)
			virtq_irq_off(q);
		else if (virtq_irq_on(q))
			poll_all(r);
		break;
	default:
		q->used->flags = (u16)take(r, 1);
		(void)virtq_publish(q);
		break;
	}
	KT_EXPECT_EQ(q->num_free + r->in_flight_descs, q->size);
}

/* The free list holds num_free distinct descriptors, none of a chain in flight. */
static void check_free_list(struct run *r)
{
	struct ktest_ctx *kt = r->kt;
	u64 busy = 0, seen = 0;
	u16 i = r->q.free_head;

	for (unsigned k = 0; k < r->ntok; k++)
		if (r->tok[k].in_flight)
			busy |= r->tok[k].descs;
	for (unsigned k = 0; k < r->q.num_free; k++) {
		if (i >= r->q.size || ((seen | busy) & (1ull << i))) {
			ktest_fail(kt, __FILE__, __LINE__, "free list entry %u is descriptor %u "
				   "(size %u, seen %#llx, in flight %#llx)", k, i, r->q.size,
				   (unsigned long long)seen, (unsigned long long)busy);
			return;
		}
		seen |= 1ull << i;
		i = r->q.desc[i].next;
	}
}

/* As after a device reset: what the cookies hold is exactly what is in flight. */
static void check_cookies(struct run *r)
{
	struct ktest_ctx *kt = r->kt;
	unsigned found = 0;

	for (u16 i = 0; i < r->q.size; i++) {
		struct token *t = r->q.cookies[i];

		if (!t)
			continue;
		found++;
		if (t < r->tok || t >= r->tok + r->ntok || !t->in_flight || t->head != i)
			ktest_fail(kt, __FILE__, __LINE__, "cookie slot %u holds a chain not in "
				   "flight there", i);
	}
	KT_EXPECT_EQ(found, r->in_flight);
}

KTEST(fuzz, virtqueue)
{
	static struct run r;
	u16 size = (u16)(1u << ((fuzz_size ? fuzz_data[0] : 0) % 7));
	void *mem = kzalloc(virtq_bytes(size));
	void **cookies = kzalloc(sizeof(void *) * size);

	KT_ASSERT(mem && cookies);
	memset(&r, 0, sizeof(r));
	r.kt = kt;
	r.pos = 1;
	virtq_init(&r.q, 0, size, mem, cookies);
	for (unsigned n = 0; r.pos < fuzz_size && n < MAX_STEPS && !kt->failures; n++)
		step(&r, (u8)take(&r, 1));
	check_free_list(&r);
	check_cookies(&r);
	kfree(cookies);
	kfree(mem);
}
