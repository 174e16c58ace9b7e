/*
 * test_block.c — boot tests of the block layer over fake disks, with no
 * virtio underneath.
 *
 * The fakes (rta, rtb, rtc), the servers that make the synchronous calls
 * with a timeout, and the batches of asynchronous requests are in
 * blk_fake.h, which says what each fake is and does.  The fakes are
 * registered once per boot, so the tests look at their counters as
 * differences, and every wait is bounded: a broken layer fails a test
 * instead of hanging the run.
 *
 * Claims, registration and the disk commands are tested in
 * test_block_claims.c.
 */
#include "tests/kernel/blk_fake.h"
#include "block/blk_slot.h"
#include "block/blkdev_driver.h"
#include "errno.h"
#include "kernel/sched.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

/* Every test starts here: the fakes are there, with no bad sector. */
#define SETUP()                                                                \
	do {                                                                   \
		KT_ASSERT_EQ(blk_fake_setup(), 0);                             \
	} while (0)

/* The whole disk of fake @i (FAKE_RTA...). */
static struct blkdev *dev_of(unsigned i)
{
	return &blk_fakes[i]->disk;
}

static int rd(struct blkdev *dev, u64 sector, u32 count, void *buf)
{
	return fake_io(dev, BLK_READ, sector, count, buf);
}

static int wr(struct blkdev *dev, u64 sector, u32 count, const void *buf)
{
	return fake_io(dev, BLK_WRITE, sector, count, (void *)buf);
}

KTEST(block, fakes_registered_in_order)
{
	SETUP();
	KT_EXPECT_STREQ(dev_of(FAKE_RTA)->name, "rta");
	KT_EXPECT_STREQ(dev_of(FAKE_RTB)->name, "rtb");
	KT_EXPECT_STREQ(dev_of(FAKE_RTC)->name, "rtc");
	KT_EXPECT(blkdev_find("rta") == dev_of(FAKE_RTA));
	KT_EXPECT(blkdev_find("rtb") == dev_of(FAKE_RTB));
	KT_EXPECT_EQ(blkdev_bytes(dev_of(FAKE_RTA)), 1024 * FAKE_SECTOR);
	/* A disk is followed by its partitions. */
	KT_EXPECT(blkdev_next(dev_of(FAKE_RTA)) == blkdev_find("rta1"));
	KT_EXPECT(blkdev_next(blkdev_find("rta1")) == blkdev_find("rta3"));
	KT_EXPECT(blkdev_next(blkdev_find("rta3")) == dev_of(FAKE_RTB));
	KT_EXPECT(blkdev_find("rtb1") == NULL); /* no table: the whole disk only */
	KT_EXPECT(blkdev_find("rtd") == NULL);
}

/*
 * Write @count sectors at @sector of fake @i from @buf and read them back
 * into @buf, checking the fake's storage both ways and the bytes around:
 * the sectors on either side stay, and so do the 16 bytes after @buf.
 * @direct: the buffer must be handed to the device as is (else bounced).
 */
static void round_trip(struct ktest_ctx *kt, unsigned i, u64 sector, u32 count, u8 *buf,
		       bool direct, u32 seed)
{
	struct fake *f = blk_fakes[i];
	size_t bytes = (size_t)count * FAKE_SECTOR;
	u64 phys = virt_to_phys(buf); /* no bus address for a stack buffer, but unlike a slot's */
	u64 dma;

	fake_pat_fill(fake_at(f, sector - 1), seed + 9, sector - 1, count + 2);
	fake_pat_fill(buf, seed, sector, count);
	memset(buf + bytes, 0xA5, 16);
	KT_EXPECT_EQ(wr(&f->disk, sector, count, buf), 0);
	KT_EXPECT(fake_pat_check(fake_at(f, sector), seed, sector, count));
	KT_EXPECT(fake_pat_check(fake_at(f, sector - 1), seed + 9, sector - 1, 1));
	KT_EXPECT(fake_pat_check(fake_at(f, sector + count), seed + 9, sector + count, 1));
	/* Straight from @buf, or from a (page-aligned) DMA slot. */
	dma = fake_count(&f->last_dma);
	if (direct)
		KT_EXPECT(dma >= phys && dma < phys + bytes);
	else
		KT_EXPECT(dma % PAGE_SIZE == 0 && (dma < phys || dma >= phys + bytes));

	fake_pat_fill(fake_at(f, sector), seed + 1, sector, count);
	memset(buf, 0, bytes);
	KT_EXPECT_EQ(rd(&f->disk, sector, count, buf), 0);
	KT_EXPECT(fake_pat_check(buf, seed + 1, sector, count));
	for (unsigned k = 0; k < 16; k++)
		KT_EXPECT_EQ(buf[bytes + k], 0xA5);
	dma = fake_count(&f->last_dma);
	KT_EXPECT(direct == (dma >= phys && dma < phys + bytes));
}

KTEST(block, round_trip_direct_dma)
{
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = page_alloc(5)) != NULL);
	for (unsigned i = FAKE_RTA; i <= FAKE_RTB; i++) {
		round_trip(kt, i, 8, 32, buf, true, 10 + i);
		round_trip(kt, i, 100, 1, buf, true, 20 + i);
	}
	page_free(buf, 5);
}

KTEST(block, round_trip_bounce_buffers)
{
	u8 stack_buf[4 * FAKE_SECTOR + 16];
	u8 *heap;

	SETUP();
	KT_ASSERT((heap = kmalloc(16 * FAKE_SECTOR + 32)) != NULL);
	for (unsigned i = FAKE_RTA; i <= FAKE_RTB; i++) {
		round_trip(kt, i, 200, 16, heap + 3, false, 30 + i);
		round_trip(kt, i, 230, 1, heap + 510, false, 40 + i);
		round_trip(kt, i, 240, 4, stack_buf, false, 50 + i);
	}
	kfree(heap);
}

/* More than BLK_MAX_BYTES: the wrappers split it (and batch the pieces). */
KTEST(block, large_io_is_split)
{
	const u32 count = 3 * FAKE_SECTORS_PER_MAX + 44, sector = 500;
	unsigned pages = (count * FAKE_SECTOR + 64 + PAGE_SIZE - 1) / PAGE_SIZE;
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = page_alloc(pages)) != NULL);
	for (unsigned i = FAKE_RTA; i <= FAKE_RTB; i++) {
		struct fake *f = blk_fakes[i];
		u64 writes = fake_count(&f->writes), reads = fake_count(&f->reads);

		round_trip(kt, i, sector, count, buf + 40, false, 60 + i);
		KT_EXPECT_EQ(fake_count(&f->writes) - writes, 4);
		KT_EXPECT_EQ(fake_count(&f->reads) - reads, 4);
		round_trip(kt, i, sector, count, buf, true, 70 + i);
	}
	page_free(buf, pages);
}

static unsigned bad_done_calls;

static void count_bad_done(struct blk_req *req)
{
	(void)req;
	__atomic_add_fetch(&bad_done_calls, 1, __ATOMIC_RELAXED);
}

/* blk_submit() must refuse this request with @want and never complete it. */
static void expect_refused(struct ktest_ctx *kt, struct blkdev *dev, enum blk_op op, u64 sector,
			   u32 count, void *buf, int want)
{
	/* Static: they outlive the test should the layer take one after all. */
	static struct blk_req refused[32];
	static unsigned next;
	struct blk_req *r = &refused[next++ % ARRAY_SIZE(refused)];

	*r = (struct blk_req){ .op = op, .sector = sector, .count = count, .buf = buf,
			       .done = count_bad_done };
	KT_EXPECT_EQ(blk_submit(dev, r), want);
}

KTEST(block, bad_requests_are_refused)
{
	struct fake *f;
	struct blkdev *rta;
	u8 *buf, tail[FAKE_SECTOR];
	u64 accepted;
	struct fake_batch *b;

	SETUP();
	f = blk_fakes[FAKE_RTA];
	rta = &f->disk;
	KT_ASSERT((buf = kmalloc(2 * BLK_MAX_BYTES)) != NULL);
	bad_done_calls = 0;
	accepted = fake_count(&f->accepted);
	expect_refused(kt, rta, BLK_READ, 1024, 1, buf, -EINVAL);
	expect_refused(kt, rta, BLK_WRITE, 1023, 2, buf, -EINVAL);
	expect_refused(kt, rta, BLK_READ, ~0ULL, 1, buf, -EINVAL);
	expect_refused(kt, rta, BLK_READ, 1, ~0U, buf, -EINVAL);
	expect_refused(kt, rta, BLK_READ, 0, 0, buf, -EINVAL);
	expect_refused(kt, rta, BLK_READ, 0, FAKE_SECTORS_PER_MAX + 1, buf, -EINVAL);
	expect_refused(kt, rta, BLK_WRITE, 0, 1, NULL, -EINVAL);

	KT_EXPECT_EQ(rd(rta, 1024, 1, buf), -EINVAL);
	KT_EXPECT_EQ(rd(rta, 1023, 2, buf), -EINVAL);
	KT_EXPECT_EQ(rd(rta, 5, 0, buf), -EINVAL);
	KT_EXPECT_EQ(rd(rta, 5, 1, NULL), -EINVAL);
	KT_EXPECT_EQ(wr(rta, 1024, 1, buf), -EINVAL);
	KT_EXPECT_EQ(wr(rta, 1000, 25, buf), -EINVAL);
	KT_EXPECT_EQ(wr(rta, 5, 0, buf), -EINVAL);
	KT_EXPECT_EQ(wr(rta, 5, 1, NULL), -EINVAL);
	/* The wrappers split what blk_submit alone refuses for its size. */
	KT_EXPECT_EQ(rd(rta, 1, 2 * FAKE_SECTORS_PER_MAX, buf), 0);
	/* The last sector is fine. */
	KT_EXPECT_EQ(rd(rta, 1023, 1, tail), 0);
	KT_EXPECT(!memcmp(tail, fake_at(f, 1023), FAKE_SECTOR));

	/* A good request after them: the refused ones must not complete first. */
	KT_EXPECT((b = fake_batch_new()) != NULL);
	if (b) {
		KT_EXPECT_EQ(fake_batch_add(b, rta, BLK_READ, 7, 1, fake_batch_buf(b, 0)), 0);
		if (fake_batch_wait(kt, b)) {
			fake_batch_check_calls(kt, b);
			fake_batch_free(b);
		}
	}
	KT_EXPECT_EQ(bad_done_calls, 0);
	KT_EXPECT_EQ(fake_count(&f->accepted) - accepted, 2 + 1 + 1); /* split read, tail, batch */
	KT_EXPECT_EQ(fake_count(&f->violations), 0);
	kfree(buf);
}

KTEST(block, read_only_refuses_writes)
{
	struct fake *f;
	struct blkdev *rtc, *rtc1;
	u8 buf[8 * FAKE_SECTOR], *before;
	u64 writes;

	SETUP();
	KT_ASSERT((before = kmalloc(16 * FAKE_SECTOR)) != NULL);
	f = blk_fakes[FAKE_RTC];
	rtc = &f->disk;
	KT_ASSERT((rtc1 = blkdev_find("rtc1")) != NULL);
	KT_EXPECT(rtc->read_only && rtc1->read_only);
	KT_EXPECT_EQ(rtc1->start, 8);
	KT_EXPECT_EQ(rtc1->sectors, 8);
	memcpy(before, f->mem, 16 * FAKE_SECTOR);
	writes = fake_count(&f->writes);
	bad_done_calls = 0;
	memset(buf, 0x5A, sizeof(buf));
	expect_refused(kt, rtc, BLK_WRITE, 1, 1, buf, -EROFS);
	expect_refused(kt, rtc1, BLK_WRITE, 0, 1, buf, -EROFS);
	KT_EXPECT_EQ(wr(rtc, 1, 1, buf), -EROFS);
	KT_EXPECT_EQ(wr(rtc1, 0, 8, buf), -EROFS);
	KT_EXPECT_EQ(wr(rtc1, 7, 1, buf), -EROFS);
	KT_EXPECT_EQ(rd(rtc1, 0, 8, buf), 0); /* reading is fine */
	KT_EXPECT(!memcmp(buf, fake_at(f, 8), sizeof(buf)));
	KT_EXPECT(!memcmp(before, f->mem, 16 * FAKE_SECTOR));
	KT_EXPECT_EQ(fake_count(&f->writes), writes);
	KT_EXPECT_EQ(bad_done_calls, 0);
	KT_EXPECT_EQ(fake_count(&f->violations), 0);
	kfree(before);
}

/*
 * @n one-sector writes at @base on fake @i, all submitted at once, then
 * @n reads of them; each from its own odd-addressed buffer.
 */
static void queue_round_trip(struct ktest_ctx *kt, unsigned i, u64 base, unsigned n, u32 seed)
{
	struct fake *f = blk_fakes[i];
	struct fake_batch *b;
	unsigned bad = 0;

	KT_ASSERT((b = fake_batch_new()) != NULL);
	for (unsigned k = 0; k < n; k++) {
		fake_pat_fill(fake_batch_buf(b, k), seed, base + k, 1);
		KT_EXPECT_EQ(fake_batch_add(b, &f->disk, BLK_WRITE, base + k, 1,
					    fake_batch_buf(b, k)), 0);
	}
	if (!fake_batch_wait(kt, b))
		return;
	fake_batch_check_calls(kt, b);
	for (unsigned k = 0; k < n; k++)
		bad += b->req[k].status != 0 ||
		       !fake_pat_check(fake_at(f, base + k), seed, base + k, 1);
	KT_EXPECT_EQ(bad, 0);

	fake_pat_fill(fake_at(f, base), seed + 1, base, n);
	fake_batch_reuse(b);
	for (unsigned k = 0; k < n; k++)
		KT_EXPECT_EQ(fake_batch_add(b, &f->disk, BLK_READ, base + k, 1,
					    fake_batch_buf(b, k)), 0);
	if (!fake_batch_wait(kt, b))
		return;
	fake_batch_check_calls(kt, b);
	bad = 0;
	for (unsigned k = 0; k < n; k++)
		bad += b->req[k].status != 0 ||
		       !fake_pat_check(fake_batch_buf(b, k), seed + 1, base + k, 1);
	KT_EXPECT_EQ(bad, 0);
	fake_batch_free(b);
}

static void expect_idle(struct ktest_ctx *kt, unsigned i)
{
	struct blkdev *d = dev_of(i);

	KT_EXPECT_EQ(__atomic_load_n(&d->inflight, __ATOMIC_ACQUIRE), 0);
	KT_EXPECT(list_empty(&d->queue));
	KT_EXPECT(!fake_busy(blk_fakes[i]));
	KT_EXPECT_EQ(fake_count(&blk_fakes[i]->violations), 0);
	KT_EXPECT_EQ(fake_count(&blk_fakes[i]->uncommitted), 0); /* each submit was told */
}

/* 80 requests on a ring of 4: most wait in the queue for -EAGAIN retries. */
KTEST(block, queue_past_a_full_ring)
{
	struct fake *f;
	u64 eagain, commits, accepted;

	SETUP();
	f = blk_fakes[FAKE_RTA];
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	eagain = fake_count(&f->eagain);
	fake_reset_max(f);
	commits = fake_count(&f->commits);
	accepted = fake_count(&f->accepted);
	queue_round_trip(kt, FAKE_RTA, 400, 80, 80);
	/* Several requests go to the device per commit (one notification). */
	KT_EXPECT(fake_count(&f->commits) - commits < fake_count(&f->accepted) - accepted);
	KT_EXPECT(fake_count(&f->eagain) > eagain);
	KT_EXPECT(f->max_nr <= f->ring_size);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, FAKE_RTA);
}

/*
 * A device may finish a request before its submit() returns (here, inside
 * it): the layer must not touch the request after handing it over, or the
 * completion is lost and the queue keeps a stale head.
 */
KTEST(block, completion_before_submit_returns)
{
	struct fake *f;

	SETUP();
	f = blk_fakes[FAKE_RTA];
	__atomic_store_n(&f->instant, true, __ATOMIC_RELAXED);
	queue_round_trip(kt, FAKE_RTA, 600, 40, 90);
	__atomic_store_n(&f->instant, false, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, FAKE_RTA);
}

/*
 * With all but two DMA slots held here, requests that need a bounce buffer
 * wait for a slot: never more than two reach the device at once.
 */
KTEST(block, queue_waits_for_dma_slots)
{
	struct blk_slot *held[BLK_SLOTS];
	unsigned nheld = 0;
	struct fake *f;

	SETUP();
	f = blk_fakes[FAKE_RTB];
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	while (nheld < BLK_SLOTS - 2 && (held[nheld] = blk_slot_get()))
		nheld++;
	KT_EXPECT_EQ(nheld, BLK_SLOTS - 2);
	fake_reset_max(f);
	queue_round_trip(kt, FAKE_RTB, 600, 40, 90);
	KT_EXPECT(f->max_nr <= 2);
	while (nheld)
		blk_slot_put(held[--nheld]);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	fake_reset_max(f);
	queue_round_trip(kt, FAKE_RTB, 600, 80, 100); /* more than the slots at once */
	KT_EXPECT(f->max_nr <= BLK_SLOTS);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, FAKE_RTB);
}

/* Both disks at once, bounced and direct, reads and writes mixed. */
KTEST(block, queue_two_disks_at_once)
{
	struct fake_batch *b;
	u8 *pages;
	unsigned bad = 0, n = 0;

	SETUP();
	KT_ASSERT((pages = page_alloc(40)) != NULL);
	KT_ASSERT((b = fake_batch_new()) != NULL);
	for (unsigned k = 0; k < 40; k++) {
		struct fake *f = blk_fakes[k % 2 ? FAKE_RTB : FAKE_RTA];
		u64 s = 300 + k * 8;

		/* Odd k writes, even k reads, through bounce buffers and straight. */
		fake_pat_fill(k % 2 ? fake_batch_buf(b, n) : fake_at(f, 700 + k), 200, 700 + k, 1);
		KT_EXPECT_EQ(fake_batch_add(b, &f->disk, k % 2 ? BLK_WRITE : BLK_READ, 700 + k, 1,
					    fake_batch_buf(b, n)), 0);
		n++;
		fake_pat_fill(pages + k * PAGE_SIZE, 201, s, 8);
		KT_EXPECT_EQ(fake_batch_add(b, &f->disk, BLK_WRITE, s, 8,
					    pages + k * PAGE_SIZE), 0);
		n++;
		for (unsigned j = 0; j < 2; j++, n++)
			KT_EXPECT_EQ(fake_batch_add(b, &blk_fakes[FAKE_RTA + j]->disk, BLK_READ,
						    900 + k, 1, fake_batch_buf(b, n)), 0);
	}
	if (!fake_batch_wait(kt, b))
		return;
	fake_batch_check_calls(kt, b);
	for (unsigned i = 0; i < b->n; i++) {
		struct blk_req *r = &b->req[i];
		struct fake *f = r->disk->priv;
		const void *data = r->op == BLK_READ ? r->buf : fake_at(f, r->sector);

		bad += r->status != 0 || memcmp(data, r->op == BLK_READ ? fake_at(f, r->sector) :
								 r->buf, r->count * FAKE_SECTOR);
	}
	KT_EXPECT_EQ(bad, 0);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, FAKE_RTA);
	expect_idle(kt, FAKE_RTB);
	fake_batch_free(b);
	page_free(pages, 40);
}

static int io_irqs_off(struct ktest_ctx *kt, struct blkdev *dev, enum blk_op op, u64 sector,
		       u32 count, void *buf)
{
	struct fake_job j = { .kind = FAKE_JOB_IO, .dev = dev, .op = op, .sector = sector,
			      .count = count, .buf = buf, .irqs_off = true };
	int rc = fake_job_run(&j);

	if (rc != -ETIMEDOUT)
		KT_EXPECT(j.stayed_off);
	return rc;
}

/*
 * With interrupts off no timer, IPI or SoftIrq runs on the caller's CPU:
 * the wrappers must poll the device themselves, retries included.
 */
KTEST(block, sync_io_with_interrupts_off)
{
	u8 *buf;

	SETUP();
	/* What an earlier failure left queued could wedge a CPU here. */
	KT_ASSERT(list_empty(&dev_of(FAKE_RTA)->queue) && list_empty(&dev_of(FAKE_RTB)->queue));
	KT_ASSERT((buf = page_alloc(PAGE_ALLOC_MAX)) != NULL);
	for (unsigned i = FAKE_RTA; i <= FAKE_RTB; i++) {
		struct fake *f = blk_fakes[i];

		/* 8 requests on a ring of 4 (rta); direct DMA. */
		fake_pat_fill(f->mem + FAKE_SECTOR, 300 + i, 1, 1023);
		memset(buf, 0, PAGE_ALLOC_MAX * PAGE_SIZE);
		KT_EXPECT_EQ(io_irqs_off(kt, &f->disk, BLK_READ, 1, 1023, buf), 0);
		KT_EXPECT(fake_pat_check(buf, 300 + i, 1, 1023));
		/* Bounced: 8 requests, 8 slots. */
		memset(buf, 0, PAGE_ALLOC_MAX * PAGE_SIZE);
		KT_EXPECT_EQ(io_irqs_off(kt, &f->disk, BLK_READ, 100, 900, buf + 512), 0);
		KT_EXPECT(fake_pat_check(buf + 512, 300 + i, 100, 900));
		fake_pat_fill(buf + 8, 310 + i, 20, 30);
		KT_EXPECT_EQ(io_irqs_off(kt, &f->disk, BLK_WRITE, 20, 30, buf + 8), 0);
		KT_EXPECT(fake_pat_check(fake_at(f, 20), 310 + i, 20, 30));
		KT_EXPECT_EQ(io_irqs_off(kt, &f->disk, BLK_FLUSH, 0, 0, NULL), 0);
		expect_idle(kt, i);
	}
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	page_free(buf, PAGE_ALLOC_MAX);
}

KTEST(block, injected_error_fails_only_its_request)
{
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = kmalloc(300 * FAKE_SECTOR + 8)) != NULL);
	for (unsigned i = FAKE_RTA; i <= FAKE_RTB; i++) {
		struct fake *f = blk_fakes[i];
		struct blkdev *d = &f->disk;
		u64 errors = d->errors;

		fake_pat_fill(f->mem + FAKE_SECTOR, 400 + i, 1, 299);
		__atomic_store_n(&f->bad_sector, 50, __ATOMIC_RELAXED);
		KT_EXPECT_EQ(rd(d, 48, 4, buf + 1), -EIO);
		KT_EXPECT_EQ(rd(d, 50, 1, buf + 1), -EIO);
		KT_EXPECT_EQ(rd(d, 40, 10, buf + 1), 0);
		KT_EXPECT(fake_pat_check(buf + 1, 400 + i, 40, 10));
		KT_EXPECT_EQ(rd(d, 51, 4, buf + 1), 0);
		memset(buf, 0x11, FAKE_SECTOR);
		KT_EXPECT_EQ(wr(d, 50, 1, buf), -EIO);
		KT_EXPECT(fake_pat_check(fake_at(f, 50), 400 + i, 50, 1)); /* not written */
		KT_EXPECT_EQ(d->errors - errors, 3);
		/* Split in three, the last one fails; the others still land. */
		__atomic_store_n(&f->bad_sector, 290, __ATOMIC_RELAXED);
		memset(buf, 0, 300 * FAKE_SECTOR + 8);
		KT_EXPECT_EQ(rd(d, 1, 299, buf + 8), -EIO);
		KT_EXPECT(fake_pat_check(buf + 8, 400 + i, 1, 2 * FAKE_SECTORS_PER_MAX));
		KT_EXPECT_EQ(d->errors - errors, 4);
		__atomic_store_n(&f->bad_sector, FAKE_NO_SECTOR, __ATOMIC_RELAXED);
		KT_EXPECT_EQ(rd(d, 48, 4, buf + 1), 0);
		expect_idle(kt, i);
	}
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	kfree(buf);
}

KTEST(block, error_in_a_batch)
{
	SETUP();
	for (unsigned i = FAKE_RTA; i <= FAKE_RTB; i++) {
		struct fake *f = blk_fakes[i];
		struct fake_batch *b;
		unsigned bad = 0;

		KT_ASSERT((b = fake_batch_new()) != NULL);
		fake_pat_fill(fake_at(f, 40), 500 + i, 40, 24);
		__atomic_store_n(&f->bad_sector, 51, __ATOMIC_RELAXED);
		for (unsigned k = 0; k < 12; k++) /* 2 sectors each: 40..63 */
			KT_EXPECT_EQ(fake_batch_add(b, &f->disk, BLK_READ, 40 + 2 * k, 2,
						    b->data + 1 + k * 2 * FAKE_SECTOR), 0);
		if (!fake_batch_wait(kt, b))
			return;
		__atomic_store_n(&f->bad_sector, FAKE_NO_SECTOR, __ATOMIC_RELAXED);
		fake_batch_check_calls(kt, b);
		for (unsigned k = 0; k < 12; k++) {
			if (k == 5)
				KT_EXPECT_EQ(b->req[k].status, -EIO);
			else
				bad += b->req[k].status ||
				       !fake_pat_check(b->req[k].buf, 500 + i, 40 + 2 * k, 2);
		}
		KT_EXPECT_EQ(bad, 0);
		expect_idle(kt, i);
		fake_batch_free(b);
	}
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
}

KTEST(block, mbr_partitions)
{
	struct fake *f;
	struct blkdev *p1, *p3;
	u8 buf[2 * FAKE_SECTOR];
	u64 accepted;

	SETUP();
	f = blk_fakes[FAKE_RTA];
	KT_ASSERT((p1 = blkdev_find("rta1")) != NULL);
	KT_ASSERT((p3 = blkdev_find("rta3")) != NULL);
	KT_EXPECT(blkdev_find("rta2") == NULL); /* overlaps rta1 */
	KT_EXPECT(blkdev_find("rta4") == NULL); /* past the end */
	KT_EXPECT(p1->parent == &f->disk && p3->parent == &f->disk);
	KT_EXPECT_EQ(p1->start, 64);
	KT_EXPECT_EQ(p1->sectors, 128);
	KT_EXPECT_EQ(p1->part_index, 1);
	KT_EXPECT_EQ(p3->start, 256);
	KT_EXPECT_EQ(p3->sectors, 128);
	KT_EXPECT_EQ(p3->part_index, 3);
	KT_EXPECT(!p1->read_only);
	KT_EXPECT_EQ(p1->sector_size, FAKE_SECTOR);

	fake_pat_fill(buf, 600, 64, 1);
	KT_EXPECT_EQ(wr(p1, 0, 1, buf), 0);
	KT_EXPECT(fake_pat_check(fake_at(f, 64), 600, 64, 1));
	fake_pat_fill(fake_at(f, 191), 601, 191, 1);
	KT_EXPECT_EQ(rd(p1, 127, 1, buf), 0);
	KT_EXPECT(fake_pat_check(buf, 601, 191, 1));
	fake_pat_fill(fake_at(f, 383), 602, 383, 1);
	KT_EXPECT_EQ(rd(p3, 127, 1, buf + 3), 0);
	KT_EXPECT(fake_pat_check(buf + 3, 602, 383, 1));

	accepted = fake_count(&f->accepted);
	bad_done_calls = 0;
	KT_EXPECT_EQ(rd(p1, 128, 1, buf), -EINVAL);
	KT_EXPECT_EQ(rd(p1, 127, 2, buf), -EINVAL);
	KT_EXPECT_EQ(wr(p3, 128, 1, buf), -EINVAL);
	expect_refused(kt, p1, BLK_READ, 128, 1, buf, -EINVAL);
	KT_EXPECT_EQ(fake_count(&f->accepted), accepted);
	KT_EXPECT_EQ(bad_done_calls, 0);
	KT_EXPECT_EQ(fake_count(&f->violations), 0);
}

KTEST(block, flush_reaches_the_driver)
{
	struct blkdev *p3;
	u64 flushes;

	SETUP();
	for (unsigned i = FAKE_RTA; i <= FAKE_RTB; i++) {
		struct fake *f = blk_fakes[i];
		u64 before = fake_count(&f->flushes), counted = f->disk.flushes;

		KT_EXPECT_EQ(fake_io(&f->disk, BLK_FLUSH, 0, 0, NULL), 0);
		KT_EXPECT_EQ(fake_count(&f->flushes) - before, 1);
		KT_EXPECT_EQ(f->disk.flushes - counted, 1);
	}
	/* Through a partition, to its disk. */
	KT_ASSERT((p3 = blkdev_find("rta3")) != NULL);
	flushes = fake_count(&blk_fakes[FAKE_RTA]->flushes);
	KT_EXPECT_EQ(fake_io(p3, BLK_FLUSH, 0, 0, NULL), 0);
	KT_EXPECT_EQ(fake_count(&blk_fakes[FAKE_RTA]->flushes) - flushes, 1);
	KT_EXPECT_EQ(fake_count(&blk_fakes[FAKE_RTA]->violations), 0);
}

/*
 * Whatever the driver's context (the poll timer for rta, a hard IRQ on the
 * other CPU for rtb), done callbacks run in SoftIrq context with
 * interrupts on, once each, before their wait group is told.
 */
KTEST(block, completions_run_in_softirq)
{
	struct fake_batch *b;
	u64 irqs;

	SETUP();
	KT_ASSERT((b = fake_batch_new()) != NULL);
	irqs = fake_count(&blk_fakes[FAKE_RTB]->irqs);
	__atomic_store_n(&blk_fakes[FAKE_RTB]->bad_sector, 3, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < 24; k++) {
		struct fake *f = blk_fakes[k % 2 ? FAKE_RTB : FAKE_RTA];
		enum blk_op op = k % 3 == 2 ? BLK_FLUSH : BLK_READ;

		KT_EXPECT_EQ(fake_batch_add(b, &f->disk, op, op == BLK_FLUSH ? 0 : k / 2,
					    op == BLK_FLUSH ? 0 : 1, fake_batch_buf(b, k)), 0);
	}
	if (!fake_batch_wait(kt, b))
		return;
	__atomic_store_n(&blk_fakes[FAKE_RTB]->bad_sector, FAKE_NO_SECTOR, __ATOMIC_RELAXED);
	fake_batch_check_calls(kt, b);
	KT_EXPECT_EQ(b->req[7].status, -EIO); /* rtb, sector 3 */
	KT_EXPECT(fake_count(&blk_fakes[FAKE_RTB]->irqs) > irqs);
	fake_batch_free(b);
}

/* Several tasks at once, each on its own sectors of either disk. */
struct worker {
	unsigned id;
	u64 rng;
	unsigned errors;        /* mismatches and failed calls */
};

static u64 worker_rand(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static void worker_fn(void *arg)
{
	struct worker *w = arg;
	u8 *buf = page_alloc(16);
	struct fake *f = blk_fakes[w->id % 2 ? FAKE_RTB : FAKE_RTA];
	u64 base = 400 + (w->id / 2) * 300;

	for (unsigned it = 0; buf && it < 24; it++) {
		u32 count = 1 + (u32)(worker_rand(w) % 64);
		u64 sector = base + worker_rand(w) % (300 - count);
		u8 *p = buf + (worker_rand(w) % 2 ? 0 : 1 + worker_rand(w) % 500);
		u32 seed = 1000 + w->id * 100 + it;

		fake_pat_fill(p, seed, sector, count);
		w->errors += blk_write(&f->disk, sector, count, p) != 0;
		w->errors += !fake_pat_check(fake_at(f, sector), seed, sector, count);
		memset(p, 0, count * FAKE_SECTOR);
		w->errors += blk_read(&f->disk, sector, count, p) != 0;
		w->errors += !fake_pat_check(p, seed, sector, count);
	}
	w->errors += buf == NULL;
	if (buf)
		page_free(buf, 16);
}

KTEST(block, concurrent_tasks)
{
	static struct worker w[4]; /* static: a late worker may still write */
	struct fake_server *s[4];

	SETUP();
	for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
		struct fake_job j = { .kind = FAKE_JOB_FN, .fn = worker_fn, .arg = &w[i] };

		w[i] = (struct worker){ i, ktest_rand(kt) | 1, 0 };
		KT_ASSERT((s[i] = fake_server_get(TASK_ANY_CPU, 1 + i)) != NULL);
		fake_server_post(s[i], &j);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
		struct fake_job j;

		KT_EXPECT_EQ(fake_server_wait(s[i], &j), 0);
		KT_EXPECT_EQ(w[i].errors, 0);
	}
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, FAKE_RTA);
	expect_idle(kt, FAKE_RTB);
}
