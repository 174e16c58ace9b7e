/*
 * host_blk.c — the block layer (block/blk.c, blkdev.c, blk_slot.c, part.c,
 * mbr.c: the real files) on the host, over fake disks
 * (tests/unit/shim/fake_disk.h) and the host shim, under ASan and UBSan.
 *
 * These follow the boot tests (tests/kernel/test_block.c) and add what only
 * the host can do: every wait is simulated, so a broken layer panics or
 * times out in simulated time instead of hanging; every lock is checked;
 * every allocation is accounted (a test fails for a leaked request buffer
 * or slot); exact log lines are asserted; allocation failures are injected;
 * and hostile partition tables are thrown at registration by the hundred.
 *
 * The fakes, like the kernel's disks, are registered once for the whole run
 * (there is no unregister), on first use, so the tests look at their
 * counters as differences.  Tests that need a disk of their own register
 * one with a name nobody else uses.  On the host every request is bounced
 * through a DMA slot (see tests/unit/shim/mm/addr.h); the boot tests cover
 * direct DMA.  Host only: it calls the shim.
 */
#include "tests/unit/shim/fake_disk.h"
#include "tests/unit/shim/shim.h"
#include "block/blk_slot.h"
#include "block/blkdev_driver.h"
#include "block/mbr.h"
#include "errno.h"
#include "kernel/waitgroup.h"
#include "kernel/x86.h"
#include "lib/byteorder.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

#define SEC 512
#define WAIT_NS (10ULL * 1000000000ULL)
#define PER_MAX (BLK_MAX_BYTES / SEC)

enum { HDA, HDB, HDC, HDI, HDK, NFAKES };
static struct fake_disk *fk[NFAKES];
static int fakes_rc = 1; /* 1: not tried yet */

/* MBR entry @slot (1..4) of @sector. */
static void mbr_entry(u8 *sector, unsigned slot, u8 status, u8 type, u32 start, u32 count)
{
	u8 *e = sector + 446 + (slot - 1) * 16;

	e[0] = status;
	e[4] = type;
	put_le32(e + 8, start);
	put_le32(e + 12, count);
	sector[510] = 0x55;
	sector[511] = 0xAA;
}

static int make_fake(unsigned i, const char *name, u64 sectors, u32 ssize,
		     enum fake_disk_mode mode, unsigned ring, bool ro)
{
	fk[i] = fake_disk_new(name, sectors, ssize, mode, ring, ro);
	if (!fk[i])
		return -ENOMEM;
	fake_pat_fill(fake_disk_at(fk[i], 1), ssize, 0, 1, (u32)sectors - 1);
	if (i == HDA) {
		mbr_entry(fk[i]->mem, 1, 0x80, 0x83, 64, 128);
		mbr_entry(fk[i]->mem, 2, 0, 0x83, 100, 50);   /* overlaps 1 */
		mbr_entry(fk[i]->mem, 3, 0, 0x0c, 256, 128);
		mbr_entry(fk[i]->mem, 4, 0, 0x83, 1000, 100); /* past the end */
	}
	if (i == HDC)
		mbr_entry(fk[i]->mem, 1, 0, 0x83, 8, 8);
	return fake_disk_register(fk[i]);
}

/*
 * hda: 1024 sectors, polled, ring 4, partitions 1 and 3 (2 and 4 bad).
 * hdb: 1024 sectors, interrupts, ring 24 (more than BLK_SLOTS), no table.
 * hdc: 16 sectors, read-only, polled, partition 1 at 8..15.
 * hdi: 1024 sectors, completes inside submit, ring 4.
 * hdk: 64 sectors of 4 KiB, interrupts, ring 8.
 */
static int fakes_setup(void)
{
	if (fakes_rc == 1) {
		fakes_rc = make_fake(HDA, "hda", 1024, SEC, FAKE_DISK_POLLED, 4, false);
		if (!fakes_rc)
			fakes_rc = make_fake(HDB, "hdb", 1024, SEC, FAKE_DISK_IRQ, 24, false);
		if (!fakes_rc)
			fakes_rc = make_fake(HDC, "hdc", 16, SEC, FAKE_DISK_POLLED, 4, true);
		if (!fakes_rc)
			fakes_rc = make_fake(HDI, "hdi", 1024, SEC, FAKE_DISK_INSTANT, 4, false);
		if (!fakes_rc)
			fakes_rc = make_fake(HDK, "hdk", 64, 4096, FAKE_DISK_IRQ, 8, false);
	}
	for (unsigned i = 0; !fakes_rc && i < NFAKES; i++)
		fk[i]->bad_sector = FAKE_DISK_NO_SECTOR;
	return fakes_rc;
}

#define SETUP() KT_ASSERT_EQ(fakes_setup(), 0)

static struct blkdev *dev(unsigned i)
{
	return &fk[i]->disk;
}

static struct blkdev_stats stats_of(struct blkdev *d)
{
	struct blkdev_stats st;

	blkdev_get_stats(d, &st);
	return st;
}

/* ------------------------------------------------- asynchronous batches */

#define BATCH_MAX 160

/* Requests submitted together; the done callback checks its context. */
struct batch {
	struct waitgroup wg;
	unsigned n;
	struct blk_req req[BATCH_MAX];
	unsigned calls[BATCH_MAX];
	unsigned wrong_ctx, wg_early;
};

static void batch_done(struct blk_req *req)
{
	struct batch *b = req->priv;

	b->calls[req - b->req]++;
	if (shim_context() != SHIM_CTX_SOFTIRQ || !(read_rflags() & RFLAGS_IF) ||
	    strcmp(task_current()->name, "softirq/0"))
		b->wrong_ctx++;
	if (waitgroup_count(&b->wg) <= 0)
		b->wg_early++; /* the wait group must be told after the callback */
}

static struct batch *batch_new(void)
{
	struct batch *b = kzalloc(sizeof(*b));

	if (b)
		waitgroup_init(&b->wg);
	return b;
}

static int batch_add(struct batch *b, struct blkdev *d, enum blk_op op, u64 sector, u32 count,
		     void *buf)
{
	struct blk_req *r = &b->req[b->n++];
	int rc;

	*r = (struct blk_req){ .op = op, .sector = sector, .count = count, .buf = buf,
			       .done = batch_done, .wg = &b->wg, .priv = b };
	waitgroup_add(&b->wg, 1);
	rc = blk_submit(d, r);
	if (rc)
		waitgroup_done(&b->wg); /* refused: no completion comes */
	return rc;
}

/* Wait for the batch and expect one callback per request, in SoftIrq context. */
static bool batch_finish(struct ktest_ctx *kt, struct batch *b)
{
	unsigned bad_calls = 0;

	KT_CHECK_EQ_(waitgroup_wait(&b->wg, WAIT_NS), 0, return false);
	for (unsigned i = 0; i < b->n; i++)
		bad_calls += b->calls[i] != 1;
	KT_EXPECT_EQ(bad_calls, 0);
	KT_EXPECT_EQ(b->wrong_ctx, 0);
	KT_EXPECT_EQ(b->wg_early, 0);
	return true;
}

static void expect_idle(struct ktest_ctx *kt, unsigned i)
{
	struct blkdev *d = dev(i);

	KT_EXPECT_EQ(d->inflight, 0);
	KT_EXPECT(list_empty(&d->queue));
	KT_EXPECT_EQ(fake_disk_busy(fk[i]), 0);
	KT_EXPECT_EQ(fk[i]->violations, 0);
	KT_EXPECT_EQ(fk[i]->uncommitted, 0); /* every submit was told to the device */
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
}

/* -------------------------------------------------------------- tests */

KTEST(block, fakes_registered_in_order)
{
	SETUP();
	KT_EXPECT(blkdev_find("hda") == dev(HDA));
	KT_EXPECT(blkdev_next(dev(HDA)) == blkdev_find("hda1"));
	KT_EXPECT(blkdev_next(blkdev_find("hda1")) == blkdev_find("hda3"));
	KT_EXPECT(blkdev_next(blkdev_find("hda3")) == dev(HDB));
	KT_EXPECT(blkdev_find("hda2") == NULL); /* overlaps hda1 */
	KT_EXPECT(blkdev_find("hda4") == NULL); /* past the end */
	KT_EXPECT(blkdev_find("hdb1") == NULL); /* no table: the whole disk only */
	KT_EXPECT_EQ(blkdev_bytes(dev(HDA)), 1024 * SEC);
	KT_EXPECT_EQ(blkdev_bytes(dev(HDK)), 64 * 4096);
	KT_EXPECT(blkdev_read_only(blkdev_find("hdc1")));
	for (unsigned i = 0; i < NFAKES; i++)
		expect_idle(kt, i);
}

/*
 * Write @count sectors at @sector of fake @i from @buf and read them back,
 * checking the storage both ways and the bytes around: the sectors on
 * either side stay, and so do the 16 bytes after @buf.
 */
static void round_trip(struct ktest_ctx *kt, unsigned i, u64 sector, u32 count, u8 *buf,
		       u32 seed)
{
	struct fake_disk *f = fk[i];
	u32 ss = blkdev_sector_size(dev(i));
	size_t bytes = (size_t)count * ss;

	fake_pat_fill(fake_disk_at(f, sector - 1), ss, seed + 9, sector - 1, count + 2);
	fake_pat_fill(buf, ss, seed, sector, count);
	memset(buf + bytes, 0xA5, 16);
	KT_EXPECT_EQ(blk_write(dev(i), sector, count, buf), 0);
	KT_EXPECT(fake_pat_check(fake_disk_at(f, sector), ss, seed, sector, count));
	KT_EXPECT(fake_pat_check(fake_disk_at(f, sector - 1), ss, seed + 9, sector - 1, 1));
	KT_EXPECT(fake_pat_check(fake_disk_at(f, sector + count), ss, seed + 9, sector + count, 1));
	KT_EXPECT_EQ(f->last_dma % PAGE_SIZE, 0); /* from a DMA slot */

	fake_pat_fill(fake_disk_at(f, sector), ss, seed + 1, sector, count);
	memset(buf, 0, bytes);
	KT_EXPECT_EQ(blk_read(dev(i), sector, count, buf), 0);
	KT_EXPECT(fake_pat_check(buf, ss, seed + 1, sector, count));
	for (unsigned k = 0; k < 16; k++)
		KT_EXPECT_EQ(buf[bytes + k], 0xA5);
}

KTEST(block, round_trips_on_every_kind_of_disk)
{
	u8 *heap, *pages;

	SETUP();
	KT_ASSERT((heap = kmalloc(16 * 4096 + 32)) != NULL);
	KT_ASSERT((pages = page_alloc(5)) != NULL);
	for (unsigned i = 0; i < NFAKES; i++) {
		if (i == HDC)
			continue; /* read-only */
		round_trip(kt, i, 8, 4, heap + 3, 10 + i);
		round_trip(kt, i, 20, 1, heap + 510, 20 + i);
		round_trip(kt, i, 30, 4, pages, 30 + i);
		expect_idle(kt, i);
	}
	kfree(heap);
	page_free(pages, 5);
}

KTEST(block, large_io_is_split_into_slot_sized_requests)
{
	u64 accepted;
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = kmalloc(700 * SEC)) != NULL);
	for (unsigned i = HDA; i <= HDB; i++) {
		fake_pat_fill(fake_disk_at(fk[i], 1), SEC, 40 + i, 1, 700);
		accepted = fk[i]->accepted;
		KT_EXPECT_EQ(blk_read(dev(i), 1, 700, buf), 0);
		KT_EXPECT(fake_pat_check(buf, SEC, 40 + i, 1, 700));
		KT_EXPECT_EQ(fk[i]->accepted - accepted, (700 + PER_MAX - 1) / PER_MAX);
		expect_idle(kt, i);
	}
	kfree(buf);
}

static unsigned bad_done_calls;

static void count_bad_done(struct blk_req *req)
{
	bad_done_calls++;
}

static void expect_refused(struct ktest_ctx *kt, struct blkdev *d, enum blk_op op, u64 sector,
			   u32 count, void *buf, int err)
{
	struct blk_req r = { .op = op, .sector = sector, .count = count, .buf = buf,
			     .done = count_bad_done };

	KT_EXPECT_EQ(blk_submit(d, &r), err);
}

KTEST(block, bad_requests_are_refused_without_reaching_the_driver)
{
	struct blkdev *a = dev(HDA), *p1;
	u64 accepted;
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = kmalloc(PER_MAX * SEC + SEC)) != NULL);
	KT_ASSERT((p1 = blkdev_find("hda1")) != NULL);
	accepted = fk[HDA]->accepted;
	bad_done_calls = 0;
	expect_refused(kt, a, BLK_READ, 1024, 1, buf, -EINVAL);       /* past the end */
	expect_refused(kt, a, BLK_READ, 1020, 5, buf, -EINVAL);       /* runs past it */
	expect_refused(kt, a, BLK_READ, ~0ULL, 2, buf, -EINVAL);      /* wraps */
	expect_refused(kt, a, BLK_READ, 0, 0, buf, -EINVAL);          /* empty */
	expect_refused(kt, a, BLK_WRITE, 0, 1, NULL, -EINVAL);        /* no buffer */
	expect_refused(kt, a, BLK_READ, 0, PER_MAX + 1, buf, -EINVAL); /* too big */
	expect_refused(kt, a, (enum blk_op)7, 0, 1, buf, -EINVAL);    /* no such op */
	expect_refused(kt, a, BLK_FLUSH, 0, 1, buf, -EINVAL);         /* a flush moves nothing */
	expect_refused(kt, p1, BLK_READ, 128, 1, buf, -EINVAL);       /* past the partition */
	expect_refused(kt, dev(HDC), BLK_WRITE, 0, 1, buf, -EROFS);
	expect_refused(kt, blkdev_find("hdc1"), BLK_WRITE, 0, 1, buf, -EROFS);
	KT_EXPECT_EQ(blk_read(a, 1000, 30, buf), -EINVAL);
	KT_EXPECT_EQ(blk_read(a, 0, 0, buf), -EINVAL);
	KT_EXPECT_EQ(blk_write(dev(HDC), 0, 1, buf), -EROFS);
	KT_EXPECT_EQ(blk_read(dev(HDC), 15, 1, buf), 0); /* reading it is fine */
	shim_softirq_run();
	KT_EXPECT_EQ(fk[HDA]->accepted, accepted);
	KT_EXPECT_EQ(bad_done_calls, 0);
	expect_idle(kt, HDA);
	expect_idle(kt, HDC);
	kfree(buf);
}

/* @n one-sector writes at @base of fake @i, all in flight at once, then reads. */
static void queue_round_trip(struct ktest_ctx *kt, unsigned i, u64 base, unsigned n, u32 seed)
{
	struct fake_disk *f = fk[i];
	struct batch *b = batch_new();
	u8 *bufs = kmalloc(n * (SEC + 1));
	unsigned bad = 0;

	if (!b || !bufs)
		goto out;
	for (unsigned k = 0; k < n; k++) {
		u8 *p = bufs + k * (SEC + 1) + 1; /* odd addresses: bounced */

		fake_pat_fill(p, SEC, seed, base + k, 1);
		KT_EXPECT_EQ(batch_add(b, dev(i), BLK_WRITE, base + k, 1, p), 0);
	}
	if (!batch_finish(kt, b))
		goto out;
	for (unsigned k = 0; k < n; k++)
		bad += b->req[k].status || !fake_pat_check(fake_disk_at(f, base + k), SEC, seed,
							   base + k, 1);
	KT_EXPECT_EQ(bad, 0);

	fake_pat_fill(fake_disk_at(f, base), SEC, seed + 1, base, n);
	memset(b, 0, sizeof(*b));
	waitgroup_init(&b->wg);
	for (unsigned k = 0; k < n; k++)
		KT_EXPECT_EQ(batch_add(b, dev(i), BLK_READ, base + k, 1,
				       bufs + k * (SEC + 1) + 1), 0);
	if (!batch_finish(kt, b))
		goto out;
	bad = 0;
	for (unsigned k = 0; k < n; k++)
		bad += b->req[k].status || !fake_pat_check(b->req[k].buf, SEC, seed + 1, base + k, 1);
	KT_EXPECT_EQ(bad, 0);
out:
	KT_EXPECT(b && bufs);
	kfree(bufs);
	kfree(b);
}

/* 80 requests on a ring of 4: most wait in the queue for -EAGAIN retries. */
KTEST(block, queue_past_a_full_ring)
{
	struct fake_disk *f;
	u64 eagain, commits, accepted;

	SETUP();
	f = fk[HDA];
	eagain = f->eagain;
	commits = f->commits;
	accepted = f->accepted;
	f->max_nr = 0;
	queue_round_trip(kt, HDA, 400, 80, 80);
	/* Several requests reach the device per commit (one notification). */
	KT_EXPECT(f->commits - commits < f->accepted - accepted);
	KT_EXPECT(f->eagain > eagain);
	KT_EXPECT_EQ(f->max_nr, f->ring_size);
	expect_idle(kt, HDA);
}

/*
 * A device may finish a request inside submit(): the layer must not touch
 * the request after handing it over.
 */
KTEST(block, completion_before_submit_returns)
{
	SETUP();
	queue_round_trip(kt, HDI, 600, 40, 90);
	queue_round_trip(kt, HDI, 700, 1, 91);
	expect_idle(kt, HDI);
}

/* With all but two DMA slots held, never more than two requests reach the device. */
KTEST(block, queue_waits_for_dma_slots)
{
	struct blk_slot *held[BLK_SLOTS];
	unsigned nheld = 0;
	struct fake_disk *f;

	SETUP();
	f = fk[HDB];
	while (nheld < BLK_SLOTS - 2 && (held[nheld] = blk_slot_get()))
		nheld++;
	KT_EXPECT_EQ(nheld, BLK_SLOTS - 2);
	f->max_nr = 0;
	queue_round_trip(kt, HDB, 600, 40, 100);
	KT_EXPECT(f->max_nr <= 2);
	while (nheld)
		blk_slot_put(held[--nheld]);
	f->max_nr = 0;
	queue_round_trip(kt, HDB, 600, 80, 110); /* more than the slots at once */
	KT_EXPECT_EQ(f->max_nr, BLK_SLOTS);
	expect_idle(kt, HDB);
}

/*
 * With interrupts off nothing else runs (no timer, no SoftIrq, no
 * interrupt): the wrappers must poll the device themselves, retries
 * included, and leave interrupts off.
 */
KTEST(block, sync_io_with_interrupts_off)
{
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = kmalloc(1024 * SEC)) != NULL);
	for (unsigned i = HDA; i <= HDB; i++) {
		struct fake_disk *f = fk[i];
		u64 irqs = f->irqs;

		fake_pat_fill(fake_disk_at(f, 1), SEC, 300 + i, 1, 1023);
		cli();
		KT_EXPECT_EQ(blk_read(dev(i), 1, 1023, buf + 1), 0);
		KT_EXPECT(!(read_rflags() & RFLAGS_IF));
		KT_EXPECT(fake_pat_check(buf + 1, SEC, 300 + i, 1, 1023));
		fake_pat_fill(buf + 8, SEC, 310 + i, 20, 30);
		KT_EXPECT_EQ(blk_write(dev(i), 20, 30, buf + 8), 0);
		KT_EXPECT_EQ(blk_flush(dev(i)), 0);
		sti();
		KT_EXPECT(fake_pat_check(fake_disk_at(f, 20), SEC, 310 + i, 20, 30));
		KT_EXPECT_EQ(f->irqs, irqs); /* no interrupt could come */
		shim_softirq_run(); /* what the completions raised runs now, finding nothing */
		expect_idle(kt, i);
	}
	kfree(buf);
}

KTEST(block, injected_error_fails_only_its_request)
{
	char line[80];
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = kmalloc(300 * SEC + 8)) != NULL);
	for (unsigned i = HDA; i <= HDB; i++) {
		struct fake_disk *f = fk[i];
		struct blkdev *d = dev(i);
		u64 errors = stats_of(d).errors;

		fake_pat_fill(fake_disk_at(f, 1), SEC, 400 + i, 1, 299);
		f->bad_sector = 50;
		KT_EXPECT_EQ(blk_read(d, 48, 4, buf + 1), -EIO);
		snprintf(line, sizeof(line), "%s: read of 4 sectors at 48 failed", blkdev_name(d));
		KT_EXPECT_LOGGED(line);
		KT_EXPECT_EQ(blk_read(d, 50, 1, buf + 1), -EIO);
		KT_EXPECT_EQ(blk_read(d, 40, 10, buf + 1), 0);
		KT_EXPECT(fake_pat_check(buf + 1, SEC, 400 + i, 40, 10));
		KT_EXPECT_EQ(blk_read(d, 51, 4, buf + 1), 0);
		memset(buf, 0x11, SEC);
		KT_EXPECT_EQ(blk_write(d, 50, 1, buf), -EIO);
		KT_EXPECT(fake_pat_check(fake_disk_at(f, 50), SEC, 400 + i, 50, 1)); /* not written */
		KT_EXPECT_EQ(stats_of(d).errors - errors, 3);
		/* Split in three, the last one fails; the others still land. */
		f->bad_sector = 290;
		memset(buf, 0, 300 * SEC + 8);
		KT_EXPECT_EQ(blk_read(d, 1, 299, buf + 8), -EIO);
		KT_EXPECT(fake_pat_check(buf + 8, SEC, 400 + i, 1, 2 * PER_MAX));
		KT_EXPECT_EQ(stats_of(d).errors - errors, 4);
		f->bad_sector = FAKE_DISK_NO_SECTOR;
		KT_EXPECT_EQ(blk_read(d, 48, 4, buf + 1), 0);
		expect_idle(kt, i);
	}
	kfree(buf);
}

KTEST(block, error_in_a_batch)
{
	SETUP();
	for (unsigned i = HDA; i <= HDB; i++) {
		struct fake_disk *f = fk[i];
		struct batch *b = batch_new();
		u8 *data = kmalloc(24 * SEC + 1);
		unsigned bad = 0;

		KT_ASSERT(b && data);
		fake_pat_fill(fake_disk_at(f, 40), SEC, 500 + i, 40, 24);
		f->bad_sector = 51;
		for (unsigned k = 0; k < 12; k++) /* 2 sectors each: 40..63 */
			KT_EXPECT_EQ(batch_add(b, dev(i), BLK_READ, 40 + 2 * k, 2,
					       data + 1 + k * 2 * SEC), 0);
		if (batch_finish(kt, b)) {
			for (unsigned k = 0; k < 12; k++) {
				if (k == 5)
					KT_EXPECT_EQ(b->req[k].status, -EIO);
				else
					bad += b->req[k].status ||
					       !fake_pat_check(b->req[k].buf, SEC, 500 + i,
							       40 + 2 * k, 2);
			}
		}
		f->bad_sector = FAKE_DISK_NO_SECTOR;
		KT_EXPECT_EQ(bad, 0);
		expect_idle(kt, i);
		kfree(data);
		kfree(b);
	}
}

KTEST(block, partitions_are_bounded_and_offset)
{
	struct fake_disk *f;
	struct blkdev *p1, *p3;
	u8 buf[2 * SEC + 3];

	SETUP();
	f = fk[HDA];
	KT_ASSERT((p1 = blkdev_find("hda1")) != NULL);
	KT_ASSERT((p3 = blkdev_find("hda3")) != NULL);
	KT_EXPECT(blkdev_is_partition(p1) && blkdev_disk(p1) == dev(HDA));
	KT_EXPECT_EQ(blkdev_start(p1), 64);
	KT_EXPECT_EQ(blkdev_sectors(p1), 128);
	KT_EXPECT_EQ(blkdev_start(p3), 256);
	KT_EXPECT_EQ(blkdev_sectors(p3), 128);
	KT_EXPECT(!blkdev_read_only(p1));

	fake_pat_fill(buf, SEC, 600, 64, 1);
	KT_EXPECT_EQ(blk_write(p1, 0, 1, buf), 0);
	KT_EXPECT(fake_pat_check(fake_disk_at(f, 64), SEC, 600, 64, 1));
	fake_pat_fill(fake_disk_at(f, 191), SEC, 601, 191, 1);
	KT_EXPECT_EQ(blk_read(p1, 127, 1, buf), 0);
	KT_EXPECT(fake_pat_check(buf, SEC, 601, 191, 1));
	fake_pat_fill(fake_disk_at(f, 383), SEC, 602, 383, 1);
	KT_EXPECT_EQ(blk_read(p3, 127, 1, buf + 3), 0);
	KT_EXPECT(fake_pat_check(buf + 3, SEC, 602, 383, 1));
	KT_EXPECT_EQ(blk_read(p1, 128, 1, buf), -EINVAL);
	KT_EXPECT_EQ(blk_read(p1, 127, 2, buf), -EINVAL);
	KT_EXPECT_EQ(blk_write(p3, 128, 1, buf), -EINVAL);
	expect_idle(kt, HDA);
}

KTEST(block, flush_reaches_the_driver)
{
	for (unsigned i = HDA; i <= HDB; i++) {
		u64 before, counted;

		SETUP();
		before = fk[i]->flushes;
		counted = stats_of(dev(i)).flushes;
		KT_EXPECT_EQ(blk_flush(dev(i)), 0);
		KT_EXPECT_EQ(fk[i]->flushes - before, 1);
		KT_EXPECT_EQ(stats_of(dev(i)).flushes - counted, 1);
	}
	/* Through a partition, to its disk. */
	u64 flushes = fk[HDA]->flushes;
	KT_EXPECT_EQ(blk_flush(blkdev_find("hda3")), 0);
	KT_EXPECT_EQ(fk[HDA]->flushes - flushes, 1);
	expect_idle(kt, HDA);
}

/*
 * Whatever the driver's context (the poll timer for hda, a hard IRQ for
 * hdb, inside submit for hdi), done callbacks run in SoftIrq context with
 * interrupts on, once each, before their wait group is told.
 */
KTEST(block, completions_run_in_softirq)
{
	struct batch *b;
	u8 *data;
	u64 irqs;

	SETUP();
	b = batch_new();
	data = kmalloc(24 * SEC);
	KT_ASSERT(b && data);
	irqs = fk[HDB]->irqs;
	fk[HDB]->bad_sector = 3;
	for (unsigned k = 0; k < 24; k++) {
		unsigned i = k % 3 == 0 ? HDA : k % 3 == 1 ? HDB : HDI;
		enum blk_op op = k % 4 == 3 ? BLK_FLUSH : BLK_READ;

		KT_EXPECT_EQ(batch_add(b, dev(i), op, op == BLK_FLUSH ? 0 : k / 3,
				       op == BLK_FLUSH ? 0 : 1, data + k * SEC), 0);
	}
	KT_EXPECT_EQ(b->req[10].op, BLK_READ);
	if (batch_finish(kt, b))
		KT_EXPECT_EQ(b->req[10].status, -EIO); /* hdb, sector 3 */
	fk[HDB]->bad_sector = FAKE_DISK_NO_SECTOR;
	KT_EXPECT(fk[HDB]->irqs > irqs);
	expect_idle(kt, HDA);
	expect_idle(kt, HDB);
	kfree(data);
	kfree(b);
}

/* --------------------------------------- registration and hostile disks */

static unsigned disk_names;

/*
 * A fresh instant fake of @sectors with a name nobody has ("hxaa", "hxab",
 * ...: letters, so that no disk is called like another's partition); NULL
 * when host memory runs out.
 */
static struct fake_disk *fresh_disk(u64 sectors)
{
	char name[BLK_NAME_MAX];
	unsigned n = disk_names++;

	snprintf(name, sizeof(name), "hx%c%c", 'a' + n / 26 % 26, 'a' + n % 26);
	return fake_disk_new(name, sectors, SEC, FAKE_DISK_INSTANT, 4, false);
}

KTEST(block, bad_partition_entries_are_skipped_with_a_warning)
{
	struct fake_disk *f;

	SETUP();
	KT_ASSERT((f = fresh_disk(1000)) != NULL);
	mbr_entry(f->mem, 1, 0x80, 0x83, 10, 100);
	mbr_entry(f->mem, 2, 0, 0x83, 50, 100);   /* overlaps 1 */
	mbr_entry(f->mem, 3, 0x42, 0x83, 300, 10); /* bad status byte */
	mbr_entry(f->mem, 4, 0, 0x83, 900, 200);  /* past the end */
	KT_ASSERT_EQ(fake_disk_register(f), 0);
	KT_EXPECT(blkdev_next(&f->disk) != NULL);
	KT_EXPECT_EQ(blkdev_sectors(blkdev_next(&f->disk)), 100);
	KT_EXPECT_LOGGED("partition 2 (type 0x83, sectors 50+100) skipped");
	KT_EXPECT_LOGGED("partition 3 (type 0x83, sectors 300+10) skipped");
	KT_EXPECT_LOGGED("partition 4 (type 0x83, sectors 900+200) skipped");
	KT_EXPECT_EQ(shim_log_count(LOG_WARN, "skipped"), 3);
}

KTEST(block, registration_refuses_bad_drivers_and_names)
{
	struct fake_disk *f, *g;

	SETUP();
	KT_ASSERT((f = fresh_disk(8)) != NULL);
	f->disk.sector_size = 1000;
	KT_EXPECT_EQ(fake_disk_register(f), -EINVAL);
	f->disk.sector_size = 8192;
	KT_EXPECT_EQ(fake_disk_register(f), -EINVAL);
	f->disk.sector_size = SEC;
	KT_ASSERT((g = fresh_disk(8)) != NULL);
	strlcpy(g->disk.name, "hda", sizeof(g->disk.name));
	KT_EXPECT_EQ(fake_disk_register(g), -EEXIST);
	KT_EXPECT(blkdev_find("hda") == dev(HDA));
	fake_disk_free(g);
	KT_EXPECT_EQ(fake_disk_register(f), 0);
	KT_EXPECT(blkdev_find(f->disk.name) == &f->disk);
}

KTEST(block, an_empty_disk_takes_no_io)
{
	struct fake_disk *f;
	u8 buf[SEC];

	SETUP();
	KT_ASSERT((f = fresh_disk(0)) != NULL);
	KT_ASSERT_EQ(fake_disk_register(f), 0);
	KT_EXPECT_EQ(blkdev_sectors(&f->disk), 0);
	KT_EXPECT_EQ(f->accepted, 0); /* no partition table read from sector 0 */
	KT_EXPECT_EQ(blk_read(&f->disk, 0, 1, buf), -EINVAL);
	KT_EXPECT_EQ(blk_write(&f->disk, 0, 1, buf), -EINVAL);
}

/* Memory running out while the partitions are added: the disk still works. */
KTEST(block, out_of_memory_during_the_partition_scan)
{
	u8 buf[SEC];

	SETUP();
	for (unsigned nth = 1; nth <= 3; nth++) {
		struct fake_disk *f = fresh_disk(100);
		struct blkdev *p;

		KT_ASSERT(f != NULL);
		mbr_entry(f->mem, 1, 0, 0x83, 10, 20);
		mbr_entry(f->mem, 2, 0, 0x83, 40, 20);
		shim_mem_fail_nth(nth);
		KT_EXPECT_EQ(fake_disk_register(f), 0);
		shim_mem_fail_nth(0);
		p = blkdev_next(&f->disk);
		/* 1: the sector buffer, 2: partition 1, 3: partition 2 failed. */
		KT_EXPECT_EQ(p && blkdev_is_partition(p) ? blkdev_start(p) : 0,
			     nth == 1 ? 0 : nth == 2 ? 40 : 10);
		KT_EXPECT_EQ(blk_read(&f->disk, 99, 1, buf), 0);
	}
}

/*
 * Random partition tables, mostly near-valid: registration never fails or
 * panics, and every partition it makes lies inside its disk, overlaps no
 * other and takes I/O at both ends.
 */
KTEST(block, random_partition_tables)
{
	u8 buf[SEC];
	unsigned parts = 0, bad = 0;

	SETUP();
	for (unsigned round = 0; round < 60; round++) {
		u64 sectors = 1 + ktest_rand(kt) % 400;
		struct fake_disk *f = fresh_disk(sectors);
		struct blkdev *p;

		KT_ASSERT(f != NULL);
		for (unsigned slot = 1; slot <= 4; slot++) {
			u64 r = ktest_rand(kt);
			u32 start = (u32)(r % (sectors + 8)), count = (u32)((r >> 16) % (sectors + 8));

			if (r >> 60 == 0)
				start = (u32)(r >> 20); /* now and then, anything */
			mbr_entry(f->mem, slot, r >> 58 ? 0 : 0x80, (r >> 40) % 7 ? 0x83 : (u8)(r >> 44),
				  start, count);
		}
		KT_ASSERT_EQ(fake_disk_register(f), 0);
		for (p = blkdev_next(&f->disk); p && blkdev_is_partition(p); p = blkdev_next(p)) {
			struct blkdev *q;

			parts++;
			bad += blkdev_start(p) == 0 || !blkdev_sectors(p) ||
			       blkdev_start(p) + blkdev_sectors(p) > sectors;
			for (q = blkdev_next(p); q && blkdev_is_partition(q); q = blkdev_next(q))
				bad += blkdev_start(q) < blkdev_start(p) + blkdev_sectors(p) &&
				       blkdev_start(p) < blkdev_start(q) + blkdev_sectors(q);
			bad += blk_read(p, 0, 1, buf) != 0;
			bad += blk_read(p, blkdev_sectors(p) - 1, 1, buf) != 0;
			bad += blk_read(p, blkdev_sectors(p), 1, buf) != -EINVAL;
		}
		KT_EXPECT_EQ(f->violations, 0);
	}
	KT_EXPECT_EQ(bad, 0);
	KT_EXPECT(parts > 20); /* the tables were not all rejected */
}
