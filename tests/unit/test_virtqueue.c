/*
 * test_virtqueue.c — split-ring bookkeeping against a fake device that
 * consumes the available ring and completes chains in its own order, plus
 * a device that lies: ids out of range, ids never given, repeats, the
 * middle descriptor of a chain, lengths beyond the buffer, and used->idx
 * moved backwards or far ahead.  Each lie is survived (no cookie handed
 * out that is not in flight, none twice, no length past the buffer, the
 * free list whole) and counted in dev_errors.  tests/fuzz/fuzz_virtqueue.c
 * tells every lie at random.
 */
#include "drivers/virtio/virtqueue.h"
#include "errno.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "tests/unit/log_since.h"

#define VQ_SIZE 16

static u8 vq_mem[3 * 4096] __aligned(4096);
static void *vq_cookies[VQ_SIZE];
static struct virtq vq;
static u16 dev_avail_seen;   /* the fake device's view */
static u16 pending[VQ_SIZE];
static unsigned npending;

static void vq_reset(void)
{
	memset(vq_mem, 0, sizeof(vq_mem));
	virtq_init(&vq, 0, VQ_SIZE, vq_mem, vq_cookies);
	dev_avail_seen = 0;
	npending = 0;
}

/* The device takes everything new from the available ring. */
static void dev_fetch(void)
{
	while (dev_avail_seen != vq.avail->idx)
		pending[npending++] = vq.avail->ring[dev_avail_seen++ % VQ_SIZE];
}

/* Complete pending chain @k (any order), reporting the writable length. */
static void dev_complete(unsigned k)
{
	u16 head = pending[k], i = head;
	u32 written = 0;

	for (;;) {
		if (vq.desc[i].flags & VIRTQ_DESC_F_WRITE)
			written += vq.desc[i].len;
		if (!(vq.desc[i].flags & VIRTQ_DESC_F_NEXT))
			break;
		i = vq.desc[i].next;
	}
	vq.used->ring[vq.used->idx % VQ_SIZE] = (struct virtq_used_elem){ head, written };
	vq.used->idx++;
	pending[k] = pending[--npending];
}

KTEST(virtqueue, layout_matches_the_spec)
{
	KT_EXPECT_EQ(virtq_avail_offset(256), 4096);
	KT_EXPECT_EQ(virtq_used_offset(256), 8192);
	KT_EXPECT_EQ(virtq_used_offset(16), 4096);
	KT_EXPECT_EQ(virtq_bytes(16), 8192);
}

KTEST(virtqueue, random_traffic_against_a_fake_device)
{
	static u32 tags[VQ_SIZE * 4];
	unsigned outstanding = 0;
	u32 len;

	vq_reset();
	for (unsigned op = 0; op < 4000; op++) {
		if (ktest_rand(kt) % 2) {
			struct virtq_sg sg[3] = { { 0x1000, 10 }, { 0x2000, 20 }, { 0x3000, 30 } };
			unsigned n = 1 + ktest_rand(kt) % 3, nin = ktest_rand(kt) % (n + 1);
			u32 *tag = &tags[op % ARRAY_SIZE(tags)];
			int rc = virtq_add(&vq, sg, n - nin, nin, tag);

			if (rc == 0) {
				*tag = 0;
				for (unsigned k = n - nin; k < n; k++)
					*tag += sg[k].len; /* what the device will report */
				outstanding++;
			} else {
				KT_ASSERT_EQ(rc, -ENOSPC);
				KT_ASSERT(vq.num_free < n);
			}
			continue;
		}
		dev_fetch();
		if (npending)
			dev_complete((unsigned)(ktest_rand(kt) % npending));
		void *c = virtq_get_used(&vq, &len);
		if (c) {
			KT_ASSERT_EQ(len, *(u32 *)c);
			outstanding--;
		}
	}
	dev_fetch();
	while (npending)
		dev_complete(0);
	while (virtq_get_used(&vq, &len))
		outstanding--;
	KT_EXPECT_EQ(outstanding, 0);
	KT_EXPECT_EQ(vq.num_free, VQ_SIZE); /* every descriptor back */
	KT_EXPECT_EQ(vq.added, vq.completed);
}

KTEST(virtqueue, lying_device_is_not_trusted)
{
	struct virtq_sg sg = { 0x1000, 64 };
	int cookie;
	u32 len;
	u64 mark = log_mark();

	vq_reset();
	KT_ASSERT_EQ(virtq_add(&vq, &sg, 0, 1, &cookie), 0);
	vq.used->ring[0] = (struct virtq_used_elem){ 999, 4 };  /* out of range */
	vq.used->ring[1] = (struct virtq_used_elem){ 7, 4 };    /* never given */
	vq.used->ring[2] = (struct virtq_used_elem){ 0, 64 };   /* the real one */
	vq.used->ring[3] = (struct virtq_used_elem){ 0, 64 };   /* a repeat */
	vq.used->idx = 4;
	KT_EXPECT(virtq_get_used(&vq, &len) == &cookie);
	KT_EXPECT_EQ(vq.dev_errors, 2);
	KT_EXPECT(virtq_get_used(&vq, &len) == NULL);
	KT_EXPECT_EQ(vq.dev_errors, 3);
	/* the first lie is in the log, naming the queue; the others only count */
	KT_EXPECT_EQ(logged_since(mark, "virtq 0: the device wrote an entry for no chain in "
				  "flight (id, length) (999, 4)"), 1);
	KT_EXPECT_EQ(logged_since(mark, "the device wrote"), 1);
	KT_EXPECT_EQ(vq.num_free, VQ_SIZE);
	KT_EXPECT_EQ(virtq_add(&vq, &sg, 0, 0, &cookie), -EINVAL);
	KT_EXPECT_EQ(virtq_add(&vq, &sg, 1, 0, NULL), -EINVAL);
}

KTEST(virtqueue, interrupt_suppression_and_the_race_check)
{
	struct virtq_sg sg = { 0x1000, 8 };
	u32 len;

	vq_reset();
	KT_EXPECT(!virtq_has_used(&vq));
	virtq_irq_off(&vq);
	KT_EXPECT(vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
	KT_ASSERT_EQ(virtq_add(&vq, &sg, 0, 1, &vq), 0);
	dev_fetch();
	/* Nothing completed while interrupts were off: no need to poll again. */
	KT_EXPECT(!virtq_irq_on(&vq));
	KT_EXPECT(!(vq.avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT));
	virtq_irq_off(&vq);
	dev_complete(0);
	KT_EXPECT(virtq_has_used(&vq));
	/* A completion slipped in while they were off: the caller must poll. */
	KT_EXPECT(virtq_irq_on(&vq));
	KT_EXPECT(virtq_get_used(&vq, &len) == &vq);
	KT_EXPECT(!virtq_has_used(&vq));
}

KTEST(virtqueue, publish_honours_the_devices_no_notify_flag)
{
	struct virtq_sg sg = { 0x1000, 8 };

	vq_reset();
	KT_ASSERT_EQ(virtq_add(&vq, &sg, 1, 0, &vq), 0);
	KT_EXPECT(virtq_publish(&vq));
	vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	KT_EXPECT(!virtq_publish(&vq));
}

/* A chain of @n descriptors, device-writable from the @nout-th on, lengths 10, 20, 30 ... */
static void add_chain(struct ktest_ctx *kt, unsigned nout, unsigned n, void *cookie)
{
	struct virtq_sg sg[VQ_SIZE];

	for (unsigned k = 0; k < n; k++)
		sg[k] = (struct virtq_sg){ 0x1000 * (k + 1), 10 * (k + 1) };
	KT_ASSERT_EQ(virtq_add(&vq, sg, nout, n - nout, cookie), 0);
}

static void used_put(u32 id, u32 len)
{
	vq.used->ring[vq.used->idx % VQ_SIZE] = (struct virtq_used_elem){ id, len };
	vq.used->idx++;
}

KTEST(virtqueue, lying_device_naming_a_middle_descriptor_is_not_trusted)
{
	int a;
	u32 len = 0;

	vq_reset();
	add_chain(kt, 1, 3, &a);                /* descriptors 0, 1, 2 */
	used_put(1, 20);                        /* the chain's second descriptor */
	used_put(2, 30);                        /* and its last */
	KT_EXPECT(virtq_get_used(&vq, &len) == NULL);
	KT_EXPECT_EQ(vq.dev_errors, 2);
	KT_EXPECT_EQ(vq.num_free, VQ_SIZE - 3); /* nothing freed by the lie */
	used_put(0, 50);
	KT_EXPECT(virtq_get_used(&vq, &len) == &a);
	KT_EXPECT_EQ(len, 50);
	KT_EXPECT_EQ(vq.num_free, VQ_SIZE);
	KT_EXPECT_EQ(vq.dev_errors, 2);
}

KTEST(virtqueue, lying_device_length_is_cut_to_the_buffer)
{
	int a, b, c;
	u32 len = 0;

	vq_reset();
	add_chain(kt, 1, 3, &a);                /* 10 readable, 20 + 30 writable */
	add_chain(kt, 2, 2, &b);                /* nothing writable */
	add_chain(kt, 0, 1, &c);                /* 10 writable */
	used_put(0, 1000);
	used_put(3, 1);
	used_put(5, 10);                        /* exactly the buffer: the truth */
	KT_EXPECT(virtq_get_used(&vq, &len) == &a);
	KT_EXPECT_EQ(len, 50);
	KT_EXPECT(virtq_get_used(&vq, &len) == &b);
	KT_EXPECT_EQ(len, 0);
	KT_EXPECT_EQ(vq.dev_errors, 2);
	KT_EXPECT(virtq_get_used(&vq, &len) == &c);
	KT_EXPECT_EQ(len, 10);
	KT_EXPECT_EQ(vq.dev_errors, 2);
	used_put(0, 0xFFFFFFFFu);               /* a repeat, with a huge length */
	KT_EXPECT(virtq_get_used(&vq, &len) == NULL);
	KT_EXPECT_EQ(len, 10);                  /* not written for a skipped entry */
	KT_EXPECT_EQ(vq.num_free, VQ_SIZE);
}

KTEST(virtqueue, lying_device_index_far_ahead_is_bounded)
{
	int a;
	u32 len = 0;

	vq_reset();
	add_chain(kt, 0, 1, &a);
	for (unsigned i = 0; i < VQ_SIZE; i++)
		vq.used->ring[i] = (struct virtq_used_elem){ 99, 4 };
	vq.used->ring[5] = (struct virtq_used_elem){ 0, 4 };
	vq.used->idx = 0x8000;
	/* One ring's worth at most per call: the real entry is in it. */
	KT_EXPECT(virtq_get_used(&vq, &len) == &a);
	KT_EXPECT_EQ(vq.last_used, 6);
	KT_EXPECT_EQ(vq.dev_errors, 1 + 5);
	KT_EXPECT(virtq_get_used(&vq, &len) == NULL);
	KT_EXPECT_EQ(vq.last_used, 6 + VQ_SIZE);
	KT_EXPECT(virtq_get_used(&vq, &len) == NULL); /* the stale copy of slot 5 */
	KT_EXPECT_EQ(vq.last_used, 6 + 2 * VQ_SIZE);
	KT_EXPECT_EQ(vq.num_free, VQ_SIZE);
	KT_EXPECT_EQ(vq.completed, 1);
}

KTEST(virtqueue, lying_device_index_going_backwards_is_bounded)
{
	int a, b;
	u32 len = 0;

	vq_reset();
	add_chain(kt, 0, 1, &a);
	used_put(0, 4);
	KT_EXPECT(virtq_get_used(&vq, &len) == &a);
	add_chain(kt, 0, 1, &b);                /* descriptor 0 again, in flight */
	for (unsigned i = 0; i < VQ_SIZE; i++)  /* stale entries, none naming b */
		vq.used->ring[i] = (struct virtq_used_elem){ i ? 99 : 7, 4 };
	vq.used->idx = 0;                       /* one step back: 65,535 "waiting" */
	KT_EXPECT(virtq_get_used(&vq, &len) == NULL);
	KT_EXPECT_EQ(vq.last_used, 1 + VQ_SIZE);
	KT_EXPECT_EQ(vq.dev_errors, 1 + VQ_SIZE);
	KT_EXPECT_EQ(vq.num_free, VQ_SIZE - 1); /* b is still the device's */
	/* The queue still works once the device tells the truth again. */
	vq.used->idx = vq.last_used;
	used_put(0, 4);
	KT_EXPECT(virtq_get_used(&vq, &len) == &b);
	KT_EXPECT_EQ(vq.num_free, VQ_SIZE);
}
