/*
 * blk.c — requests: submission, DMA set-up, the wait queue, completion
 * and the synchronous wrappers (see blkdev.h and blkdev_driver.h).
 *
 * blk_complete() may run in a driver's hard-IRQ handler, under the
 * driver's queue lock, so it takes only done_lock: it appends the request
 * to the completion list and raises SOFTIRQ_BLOCK.  The SoftIrq then
 * copies bounce buffers back, returns the slots, calls the completions and
 * restarts every disk whose queue is waiting for room.
 */
#include "block/blk_internal.h"
#include "block/blk_slot.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/softirq.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "kernel/x86.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/paging.h"

#define POLL_INTERVAL_NS (1000000000ULL / TIME_TICK_HZ) /* the tick: timers are no finer */
#define SYNC_BATCH 8

static struct list_head done_list = LIST_HEAD_INIT(done_list); /* [done_lock] */
static spinlock_t done_lock = SPINLOCK_INIT("done");

static u32 req_bytes(const struct blk_req *req)
{
	return req->count * req->disk->sector_size;
}

static int check(const struct blkdev *dev, const struct blk_req *req)
{
	if (req->op == BLK_FLUSH)
		return req->count ? -EINVAL : 0;
	if (req->op != BLK_READ && req->op != BLK_WRITE)
		return -EINVAL;
	if (!req->count || !req->buf || (u64)req->count * dev->sector_size > BLK_MAX_BYTES)
		return -EINVAL;
	if (req->sector >= dev->sectors || req->count > dev->sectors - req->sector)
		return -EINVAL;
	if (req->op == BLK_WRITE && dev->read_only)
		return -EROFS;
	return 0;
}

/* Page-aligned and in the direct map: physically contiguous, DMA as is. */
static bool direct_dma_ok(const void *buf)
{
	uintptr_t va = (uintptr_t)buf;

	return (va & (PAGE_SIZE - 1)) == 0 && va >= KERNEL_DIRECT_MAP && va < VA_STACKS;
}

/* Give @req a bus address for its data; false when no slot is free. */
static bool map_dma(struct blk_req *req)
{
	if (req->mapped || req->op == BLK_FLUSH)
		return req->mapped = true;
	if (direct_dma_ok(req->buf)) {
		req->dma = virt_to_phys(req->buf);
		return req->mapped = true;
	}
	req->slot = blk_slot_get();
	if (!req->slot)
		return false;
	if (req->op == BLK_WRITE)
		memcpy(req->slot->mem, req->buf, req_bytes(req));
	req->dma = req->slot->phys;
	return req->mapped = true;
}

/* Polled disks: a periodic timer collects their completions. */
static void poller_fn(struct ktimer *t, void *arg)
{
	struct blkdev *disk = arg;

	(void)t;
	if (__atomic_load_n(&disk->inflight, __ATOMIC_ACQUIRE))
		disk->ops->poll(disk);
}

static void push_done(struct blk_req *req, int status)
{
	u64 flags;

	req->status = status;
	flags = spin_lock_irqsave(&done_lock);
	list_add_tail(&req->node, &done_list);
	spin_unlock_irqrestore(&done_lock, flags);
	softirq_raise(SOFTIRQ_BLOCK);
}

/*
 * Hand queued requests to the driver until it or the slot pool is full;
 * returns how many it took.  A request is off the queue and counted before
 * the driver sees it: once submit() returns 0 it may already be complete
 * (and reused by its owner) on another CPU, so it is not touched after.
 */
static unsigned feed(struct blkdev *disk)
{
	unsigned taken = 0;

	while (!list_empty(&disk->queue)) {
		struct blk_req *req = list_first_entry(&disk->queue, struct blk_req, node);
		int rc;

		if (!map_dma(req))
			break; /* a completion will return a slot and kick again */
		list_del(&req->node);
		__atomic_add_fetch(&disk->inflight, 1, __ATOMIC_ACQ_REL);
		rc = disk->ops->submit(disk, req);
		if (!rc) {
			taken++;
			continue;
		}
		__atomic_sub_fetch(&disk->inflight, 1, __ATOMIC_ACQ_REL);
		if (rc == -EAGAIN) {
			list_add(&req->node, &disk->queue); /* ring full: back in front */
			break;                              /* a completion kicks again */
		}
		push_done(req, rc);
	}
	return taken;
}

/* Feed the driver, then let it tell the device once for the whole lot. */
static void kick_locked(struct blkdev *disk)
{
	if (feed(disk) && disk->ops->commit)
		disk->ops->commit(disk);
}

static void kick(struct blkdev *disk)
{
	u64 flags = spin_lock_irqsave(&disk->lock);

	kick_locked(disk);
	spin_unlock_irqrestore(&disk->lock, flags);
}

int blk_submit(struct blkdev *dev, struct blk_req *req)
{
	struct blkdev *disk = dev->parent ? dev->parent : dev;
	int rc = check(dev, req);

	if (rc)
		return rc;
	req->disk = disk;
	req->lba = dev->start + req->sector;
	req->slot = NULL;
	req->dma = 0;
	req->mapped = false;
	req->status = 0;
	u64 flags = spin_lock_irqsave(&disk->lock);
	list_add_tail(&req->node, &disk->queue);
	kick_locked(disk);
	spin_unlock_irqrestore(&disk->lock, flags);
	return 0;
}

void blk_complete(struct blk_req *req, int status)
{
	__atomic_sub_fetch(&req->disk->inflight, 1, __ATOMIC_ACQ_REL);
	push_done(req, status);
}

static const char *op_name(enum blk_op op)
{
	return op == BLK_READ ? "read" : op == BLK_WRITE ? "write" : "flush";
}

static void account(struct blk_req *req)
{
	struct blkdev *disk = req->disk;
	u64 *counter = req->op == BLK_READ ? &disk->reads :
		       req->op == BLK_WRITE ? &disk->writes : &disk->flushes;

	__atomic_add_fetch(req->status ? &disk->errors : counter, 1, __ATOMIC_RELAXED);
	if (req->status)
		pr_err("%s: %s of %u sectors at %llu failed: %s", disk->name, op_name(req->op),
		       req->count, (unsigned long long)req->lba, errno_name(req->status));
}

/* Finish one request: bounce data back, free its slot, tell the caller. */
static void finish(struct blk_req *req)
{
	struct waitgroup *wg = req->wg;

	if (req->slot) {
		if (req->op == BLK_READ && !req->status)
			memcpy(req->buf, req->slot->mem, req_bytes(req));
		blk_slot_put(req->slot);
		req->slot = NULL;
	}
	account(req);
	if (req->done)
		req->done(req); /* may free or reuse @req: touch it no more */
	if (wg)
		waitgroup_done(wg);
}

/* Take the completed requests that @match accepts off the list, in order. */
static void take_done(struct list_head *batch, const struct waitgroup *match)
{
	u64 flags = spin_lock_irqsave(&done_lock);

	if (!match) {
		list_splice_tail_init(&done_list, batch);
	} else {
		struct blk_req *req, *tmp;

		list_for_each_entry_safe(req, tmp, &done_list, node)
			if (req->wg == match)
				list_move_tail(&req->node, batch);
	}
	spin_unlock_irqrestore(&done_lock, flags);
}

static void finish_batch(struct list_head *batch)
{
	while (!list_empty(batch)) {
		struct blk_req *req = list_first_entry(batch, struct blk_req, node);

		list_del(&req->node);
		finish(req);
	}
}

/* The SoftIrq: run every completion, then restart the disks that wait. */
static void run_completions(void)
{
	struct list_head batch = LIST_HEAD_INIT(batch);

	take_done(&batch, NULL);
	finish_batch(&batch);
	for (struct blkdev *d = blkdev_next(NULL); d; d = blkdev_next(d))
		if (!d->parent && !list_empty(&d->queue))
			kick(d);
}

/*
 * Wait for @wg; with interrupts off, poll the device instead of sleeping
 * and finish only our own requests here (other completions stay for the
 * SoftIrq, whose context their callers were promised).
 */
static void sync_wait(struct blkdev *disk, struct waitgroup *wg)
{
	struct list_head batch = LIST_HEAD_INIT(batch);

	if (read_rflags() & RFLAGS_IF) {
		waitgroup_wait(wg, 0);
		return;
	}
	while (waitgroup_count(wg)) {
		disk->ops->poll(disk);
		take_done(&batch, wg);
		finish_batch(&batch);
		kick(disk);
		cpu_relax();
	}
	waitgroup_wait(wg, 0); /* returns at once; lets a last done() finish */
}

/* Submit @n requests at once and wait for them all: the first error, or 0. */
static int sync_batch(struct blkdev *dev, struct blk_req *reqs, unsigned n)
{
	struct waitgroup wg;
	int rc = 0;

	waitgroup_init(&wg);
	waitgroup_add(&wg, n);
	for (unsigned i = 0; i < n; i++) {
		reqs[i].wg = &wg;
		reqs[i].done = NULL;
		int err = blk_submit(dev, &reqs[i]);

		if (err) {
			reqs[i].status = err;
			waitgroup_done(&wg);
		}
	}
	sync_wait(dev->parent ? dev->parent : dev, &wg);
	for (unsigned i = 0; i < n && !rc; i++)
		rc = reqs[i].status;
	return rc;
}

static int blk_sync(struct blkdev *dev, enum blk_op op, u64 sector, u32 count, u8 *buf)
{
	u32 per = BLK_MAX_BYTES / dev->sector_size;
	struct blk_req reqs[SYNC_BATCH];
	int rc = 0;

	while (count && !rc) {
		unsigned n = 0;

		for (; n < SYNC_BATCH && count; n++) {
			u32 c = MIN(count, per);

			reqs[n] = (struct blk_req){ .op = op, .sector = sector, .count = c, .buf = buf };
			sector += c;
			count -= c;
			buf += (size_t)c * dev->sector_size;
		}
		rc = sync_batch(dev, reqs, n);
	}
	return rc;
}

int blk_read(struct blkdev *dev, u64 sector, u32 count, void *buf)
{
	return count ? blk_sync(dev, BLK_READ, sector, count, buf) : -EINVAL;
}

int blk_write(struct blkdev *dev, u64 sector, u32 count, const void *buf)
{
	return count ? blk_sync(dev, BLK_WRITE, sector, count, (u8 *)buf) : -EINVAL;
}

int blk_flush(struct blkdev *dev)
{
	struct blk_req req = { .op = BLK_FLUSH };

	return sync_batch(dev, &req, 1);
}

void blk_disk_init(struct blkdev *disk)
{
	spin_lock_init(&disk->lock, "disk");
	list_init(&disk->queue);
	ktimer_init(&disk->poller, poller_fn, disk);
}

void blk_disk_start(struct blkdev *disk)
{
	if (disk->polled)
		ktimer_start(&disk->poller, POLL_INTERVAL_NS, POLL_INTERVAL_NS);
}

void blk_init(void)
{
	softirq_register(SOFTIRQ_BLOCK, run_completions);
	if (blk_slots_init())
		pr_warn("block: only %u DMA slots", blk_slots_free());
}
