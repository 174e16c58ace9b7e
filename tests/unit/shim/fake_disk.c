/*
 * fake_disk.c — the RAM disk driver of the host tests (see fake_disk.h).
 *
 * The driver side first (submit, commit, poll and the "interrupt"), then
 * construction and the test-data pattern.  Counters are plain fields: on
 * the host one CPU runs everything, and a test reads them between calls.
 */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/fake_disk.h"
#include "tests/unit/shim/shim.h"
#include "block/blk_slot.h"
#include "errno.h"
#include "kernel/time.h"
#include "mm/addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TICK_NS (1000000000ULL / TIME_TICK_HZ)

u8 *fake_disk_at(struct fake_disk *f, u64 sector)
{
	return f->mem + sector * f->disk.sector_size;
}

/* What a well-behaved block layer hands a driver. */
static bool req_sane(const struct fake_disk *f, const struct blk_req *req)
{
	const struct blkdev *d = &f->disk;

	if (req->disk != d || !req->mapped)
		return false;
	if (req->op == BLK_FLUSH)
		return req->count == 0;
	if (req->op != BLK_READ && req->op != BLK_WRITE)
		return false;
	if (!req->count || (u64)req->count * d->sector_size > BLK_MAX_BYTES ||
	    req->lba >= d->sectors || req->count > d->sectors - req->lba ||
	    (req->op == BLK_WRITE && d->read_only))
		return false;
	return req->slot ? req->dma == req->slot->phys : req->dma == virt_to_phys(req->buf);
}

/* The device's work for one request: its status. */
static int do_request(struct fake_disk *f, struct blk_req *req)
{
	size_t bytes = (size_t)req->count * f->disk.sector_size;

	if (req->op == BLK_FLUSH) {
		f->flushes++;
		return 0;
	}
	if (f->bad_sector >= req->lba && f->bad_sector - req->lba < req->count) {
		f->failed++;
		return -EIO;
	}
	if (req->op == BLK_READ) {
		memcpy(phys_to_virt(req->dma), fake_disk_at(f, req->lba), bytes);
		f->reads++;
	} else {
		memcpy(fake_disk_at(f, req->lba), phys_to_virt(req->dma), bytes);
		f->writes++;
	}
	return 0;
}

void fake_disk_complete_all(struct fake_disk *f)
{
	struct blk_req *done[FAKE_DISK_RING_MAX];
	u64 flags = spin_lock_irqsave(&f->lock);
	unsigned n = f->nr;

	memcpy(done, f->ring, n * sizeof(done[0]));
	f->nr = 0;
	spin_unlock_irqrestore(&f->lock, flags);
	for (unsigned i = 0; i < n; i++)
		blk_complete(done[i], do_request(f, done[i]));
}

static void fake_poll(struct blkdev *disk)
{
	fake_disk_complete_all(disk->priv);
}

/* Take @req into the ring: 0, -EAGAIN when full, -EIO when already there. */
static int ring_take(struct fake_disk *f, struct blk_req *req)
{
	u64 flags = spin_lock_irqsave(&f->lock);
	int rc = f->nr < f->ring_size ? 0 : -EAGAIN;

	for (unsigned i = 0; i < f->nr; i++)
		if (f->ring[i] == req)
			rc = -EIO;
	if (!rc) {
		f->ring[f->nr++] = req;
		f->max_nr = MAX(f->max_nr, f->nr);
	}
	spin_unlock_irqrestore(&f->lock, flags);
	return rc;
}

static int fake_submit(struct blkdev *disk, struct blk_req *req)
{
	struct fake_disk *f = disk->priv;
	int rc;

	if (!req_sane(f, req)) {
		f->violations++;
		return -EIO;
	}
	rc = ring_take(f, req);
	if (rc == -EAGAIN)
		f->eagain++;
	if (rc == -EIO)
		f->violations++;
	if (rc)
		return rc;
	f->accepted++;
	f->uncommitted++;
	if (req->op != BLK_FLUSH)
		f->last_dma = req->dma;
	if (f->mode == FAKE_DISK_INSTANT)
		fake_disk_complete_all(f); /* done before submit returns */
	return 0;
}

static void fake_commit(struct blkdev *disk)
{
	struct fake_disk *f = disk->priv;

	if (!f->uncommitted)
		f->violations++; /* told about nothing */
	f->uncommitted = 0;
	f->commits++;
}

static const struct blkdev_ops fake_ops = {
	.submit = fake_submit,
	.commit = fake_commit,
	.poll = fake_poll,
};

static void fake_irq(void *arg)
{
	struct fake_disk *f = arg;

	f->irqs++;
	fake_disk_complete_all(f);
}

/* FAKE_DISK_IRQ: each tick, interrupt if requests wait in the ring. */
static void irq_timer_fn(struct ktimer *t, void *arg)
{
	if (fake_disk_busy(arg))
		shim_irq(fake_irq, arg);
}

unsigned fake_disk_busy(struct fake_disk *f)
{
	u64 flags = spin_lock_irqsave(&f->lock);
	unsigned n = f->nr;

	spin_unlock_irqrestore(&f->lock, flags);
	return n;
}

struct fake_disk *fake_disk_new(const char *name, u64 sectors, u32 sector_size,
				enum fake_disk_mode mode, unsigned ring_size, bool read_only)
{
	struct fake_disk *f = calloc(1, sizeof(*f));

	if (!f || !(f->mem = calloc(sectors ? sectors : 1, sector_size))) {
		free(f);
		return NULL;
	}
	snprintf(f->disk.name, sizeof(f->disk.name), "%s", name);
	snprintf(f->disk.model, sizeof(f->disk.model), "host fake, %s",
		 mode == FAKE_DISK_POLLED ? "polled" : mode == FAKE_DISK_IRQ ? "irq" : "instant");
	f->disk.sector_size = sector_size;
	f->disk.sectors = sectors;
	f->disk.read_only = read_only;
	f->disk.polled = mode == FAKE_DISK_POLLED;
	f->disk.ops = &fake_ops;
	f->disk.priv = f;
	f->mode = mode;
	f->ring_size = MIN(MAX(ring_size, 1u), (unsigned)FAKE_DISK_RING_MAX);
	f->bad_sector = FAKE_DISK_NO_SECTOR;
	spin_lock_init(&f->lock, "fake-disk");
	ktimer_init(&f->irq_timer, irq_timer_fn, f);
	return f;
}

int fake_disk_register(struct fake_disk *f)
{
	static bool layer_ready;
	int rc;

	shim_forever_begin();
	if (!layer_ready) { /* the kernel does this once at boot */
		blk_init();
		layer_ready = true;
	}
	if (f->mode == FAKE_DISK_IRQ)
		ktimer_start(&f->irq_timer, TICK_NS, TICK_NS);
	rc = blkdev_register(&f->disk, "");
	if (rc)
		ktimer_cancel(&f->irq_timer);
	shim_forever_end();
	return rc;
}

void fake_disk_free(struct fake_disk *f)
{
	free(f->mem);
	free(f);
}

/* ------------------------------------------------------------ test data */

static u8 pat_byte(u32 seed, u64 sector, u32 off)
{
	u64 x = (seed * 0x9E3779B97F4A7C15ULL) ^ (sector * 0xC2B2AE3D27D4EB4FULL) ^ off;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ULL;
	return (u8)(x >> 32);
}

void fake_pat_fill(void *buf, u32 sector_size, u32 seed, u64 sector, u32 count)
{
	u8 *p = buf;

	for (u32 s = 0; s < count; s++)
		for (u32 i = 0; i < sector_size; i++)
			*p++ = pat_byte(seed, sector + s, i);
}

bool fake_pat_check(const void *buf, u32 sector_size, u32 seed, u64 sector, u32 count)
{
	const u8 *p = buf;

	for (u32 s = 0; s < count; s++)
		for (u32 i = 0; i < sector_size; i++)
			if (*p++ != pat_byte(seed, sector + s, i))
				return false;
	return true;
}
