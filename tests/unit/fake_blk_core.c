/*
 * fake_blk_core.c — the driver shared by the kernel's and the host's fake
 * block devices (fake_blk_core.h says what it does and why it is shared).
 *
 * In order: the media and the injected errors, the one request's work,
 * the ring and the three ops, then construction and the test pattern.
 * Counters and injection fields are touched with relaxed atomics: in the
 * kernel a poll on one CPU races with the tests' task and with submits on
 * another; on the host, where one CPU runs everything, they cost nothing.
 */
#include "tests/unit/fake_blk_core.h"
#include "block/blk_slot.h"
#include "errno.h"
#include "lib/string.h"
#include "mm/addr.h"

static void inc(u64 *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

u64 fake_core_load(const u64 *field)
{
	return __atomic_load_n(field, __ATOMIC_RELAXED);
}

void fake_core_store(u64 *field, u64 value)
{
	__atomic_store_n(field, value, __ATOMIC_RELAXED);
}

void fake_core_clear_errors(struct fake_core *c)
{
	fake_core_store(&c->bad_sector, FAKE_CORE_NO_SECTOR);
	fake_core_store(&c->bad_write_sector, FAKE_CORE_NO_SECTOR);
	fake_core_store(&c->fail_nth, 0);
}

u8 *fake_core_at(struct fake_core *c, u64 sector)
{
	return c->chunk[sector / c->chunk_sectors] +
	       (sector % c->chunk_sectors) * c->disk.sector_size;
}

/* Copy @count sectors at @lba between the media and @buf, chunk by chunk. */
static void media_copy(struct fake_core *c, u64 lba, u32 count, u8 *buf, bool to_media)
{
	u32 ss = c->disk.sector_size;

	while (count) {
		u32 n = (u32)MIN((u64)count, c->chunk_sectors - lba % c->chunk_sectors);
		u8 *m = fake_core_at(c, lba);

		if (to_media)
			memcpy(m, buf, (size_t)n * ss);
		else
			memcpy(buf, m, (size_t)n * ss);
		lba += n;
		count -= n;
		buf += (size_t)n * ss;
	}
}

static bool covers(const struct blk_req *req, u64 sector)
{
	return sector >= req->lba && sector - req->lba < req->count;
}

/* Is this the fail_nth-th request?  Counts it down; two CPUs may race here. */
static bool nth_fails(struct fake_core *c)
{
	u64 n = fake_core_load(&c->fail_nth);

	while (n && !__atomic_compare_exchange_n(&c->fail_nth, &n, n - 1, false,
						 __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return n == 1;
}

static bool injected(struct fake_core *c, const struct blk_req *req)
{
	if (nth_fails(c))
		return true;
	if (req->op == BLK_FLUSH)
		return false;
	return covers(req, fake_core_load(&c->bad_sector)) ||
	       (req->op == BLK_WRITE && covers(req, fake_core_load(&c->bad_write_sector)));
}

/* The device's work for one request: its status. */
static int do_request(struct fake_core *c, struct blk_req *req)
{
	if (injected(c, req)) {
		inc(&c->failed);
		return -EIO;
	}
	if (req->op == BLK_FLUSH) {
		inc(&c->flushes);
	} else if (req->op == BLK_READ) {
		media_copy(c, req->lba, req->count, phys_to_virt(req->dma), false);
		inc(&c->reads);
	} else {
		media_copy(c, req->lba, req->count, phys_to_virt(req->dma), true);
		inc(&c->writes);
	}
	return 0;
}

/* ------------------------------------------------------------- the ring */

/* What a well-behaved block layer hands a driver. */
static bool req_sane(const struct fake_core *c, const struct blk_req *req)
{
	const struct blkdev *d = &c->disk;

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

/* Take @req into the ring: 0, -EAGAIN when full, -EIO when already there. */
static int ring_take(struct fake_core *c, struct blk_req *req)
{
	u64 flags = spin_lock_irqsave(&c->lock);
	int rc = c->nr < c->ring_size ? 0 : -EAGAIN;

	for (unsigned i = 0; i < c->nr; i++)
		if (c->ring[i] == req)
			rc = -EIO;
	if (!rc) {
		c->ring[c->nr++] = req;
		c->max_nr = MAX(c->max_nr, c->nr);
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return rc;
}

void fake_core_complete_all(struct fake_core *c)
{
	struct blk_req *done[FAKE_CORE_RING_MAX];
	u64 flags = spin_lock_irqsave(&c->lock);
	unsigned n = c->nr;

	memcpy(done, c->ring, n * sizeof(done[0]));
	c->nr = 0;
	spin_unlock_irqrestore(&c->lock, flags);
	for (unsigned i = 0; i < n; i++)
		blk_complete(done[i], do_request(c, done[i]));
}

unsigned fake_core_busy(struct fake_core *c)
{
	u64 flags = spin_lock_irqsave(&c->lock);
	unsigned n = c->nr;

	spin_unlock_irqrestore(&c->lock, flags);
	return n;
}

void fake_core_reset_max(struct fake_core *c)
{
	u64 flags = spin_lock_irqsave(&c->lock);

	c->max_nr = 0;
	spin_unlock_irqrestore(&c->lock, flags);
}

static int core_submit(struct blkdev *disk, struct blk_req *req)
{
	struct fake_core *c = disk->priv;
	int rc;

	if (!req_sane(c, req)) {
		inc(&c->violations);
		return -EIO;
	}
	rc = ring_take(c, req);
	inc(rc == -EAGAIN ? &c->eagain : rc ? &c->violations : &c->accepted);
	if (rc)
		return rc;
	inc(&c->uncommitted);
	if (req->op != BLK_FLUSH)
		fake_core_store(&c->last_dma, req->dma);
	if (__atomic_load_n(&c->instant, __ATOMIC_RELAXED))
		fake_core_complete_all(c); /* done before submit returns */
	return 0;
}

/* The layer tells the device once after a run of submits, never idly. */
static void core_commit(struct blkdev *disk)
{
	struct fake_core *c = disk->priv;

	if (!__atomic_exchange_n(&c->uncommitted, 0, __ATOMIC_ACQ_REL))
		inc(&c->violations);
	inc(&c->commits);
}

static void core_poll(struct blkdev *disk)
{
	fake_core_complete_all(disk->priv);
}

const struct blkdev_ops fake_core_ops = {
	.submit = core_submit,
	.commit = core_commit,
	.poll = core_poll,
};

/* --------------------------------------------------------- construction */

void fake_core_init(struct fake_core *c, u64 sectors, u32 sector_size, unsigned ring_size,
		    bool read_only, bool polled)
{
	c->disk.sector_size = sector_size;
	c->disk.sectors = sectors;
	c->disk.read_only = read_only;
	c->disk.polled = polled;
	c->disk.ops = &fake_core_ops;
	c->disk.priv = c;
	c->ring_size = MIN(MAX(ring_size, 1u), (unsigned)FAKE_CORE_RING_MAX);
	spin_lock_init(&c->lock, "fake-blk");
	fake_core_clear_errors(c);
}

/* ------------------------------------------------------------ test data */

/* Bytes 8*@word..8*@word+7 of @sector for @seed. */
static u64 pat_word(u32 seed, u64 sector, u32 word)
{
	u64 x = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ (sector + 1) * 0xBF58476D1CE4E5B9ULL ^
		(word + 1ULL) * 0x94D049BB133111EBULL;

	x ^= x >> 31;
	x *= 0xD6E8FEB86659FD93ULL;
	return x ^ (x >> 29);
}

/* One sector's pattern into @out (@sector_size is a multiple of 8). */
static void pat_sector(u8 *out, u32 sector_size, u32 seed, u64 sector)
{
	for (u32 w = 0; w < sector_size / 8; w++) {
		u64 x = pat_word(seed, sector, w);

		for (u32 b = 0; b < 8; b++)
			*out++ = (u8)(x >> (b * 8));
	}
}

void fake_core_pat_fill(void *buf, u32 sector_size, u32 seed, u64 sector, u32 count)
{
	for (u32 s = 0; s < count; s++)
		pat_sector((u8 *)buf + (size_t)s * sector_size, sector_size, seed, sector + s);
}

bool fake_core_pat_check(const void *buf, u32 sector_size, u32 seed, u64 sector, u32 count)
{
	const u8 *p = buf;

	for (u32 s = 0; s < count; s++) {
		for (u32 w = 0; w < sector_size / 8; w++) {
			u64 x = pat_word(seed, sector + s, w);

			for (u32 b = 0; b < 8; b++)
				if (*p++ != (u8)(x >> (b * 8)))
					return false;
		}
	}
	return true;
}

void fake_core_pat_fill_media(struct fake_core *c, u32 seed)
{
	for (u64 s = 0; s < c->disk.sectors; s += c->chunk_sectors)
		fake_core_pat_fill(fake_core_at(c, s), c->disk.sector_size, seed, s,
				   (u32)MIN(c->chunk_sectors, c->disk.sectors - s));
}
