/*
 * blkdev_driver.h — block devices for their drivers: the device struct, the
 * ops a driver plugs in, registration and completion.  Users (filesystems,
 * commands) include block/blkdev.h only.
 *
 * A driver fills a struct blkdev (a name or a prefix, model, sector size,
 * capacity, read-only, polled, ops) and registers it; the block layer then
 * scans it for MBR partitions, each of which becomes a blkdev of its own
 * ("vda1") served by the whole disk.  Registration checks the required ops
 * and the sector size, and names the disk under the registry's lock, so
 * drivers probing on several CPUs at once never get the same name.  There
 * is no unregistration: a registered disk stays for the rest of the boot.
 *
 * The driver's side of a request: the layer calls ops->submit with the
 * disk's queue lock held, the request's sectors on the whole disk (lba)
 * and a bus address for its data (dma); the driver starts it and, in any
 * context, calls blk_complete() exactly once.  A request that finds the
 * device's ring full (-EAGAIN) waits in the disk's queue and is retried
 * from the SoftIrq when a completion frees room.
 *
 * Drivers whose device has no interrupt set `polled`: a periodic timer
 * polls them while requests are in flight, and a synchronous caller with
 * interrupts off polls them itself.
 *
 * Lock order: blkdev.lock (a disk's queue) before the driver's queue lock;
 * the completion list's lock, the registry's and the claims' are each
 * taken alone.
 */
#ifndef NOS_BLKDEV_DRIVER_H
#define NOS_BLKDEV_DRIVER_H

#include "block/blkdev.h"
#include "kernel/ktimer.h"
#include "kernel/spinlock.h"

struct blkdev_ops {
	/*
	 * Start @req (req->lba, req->count, data at bus address req->dma; a
	 * flush has neither).  0 when the device took it: the driver calls
	 * blk_complete() once.  -EAGAIN when its ring is full (the layer
	 * retries after a completion); another -errno fails the request.
	 * Called with the disk's queue lock held, any context.
	 */
	int (*submit)(struct blkdev *disk, struct blk_req *req);
	/*
	 * Optional: tell the device about the requests submit() queued since
	 * the last commit, once for all of them (a driver without commit
	 * tells it in submit).  Same context and lock as submit.
	 */
	void (*commit)(struct blkdev *disk);
	/* Collect completions without an interrupt (polled devices). */
	void (*poll)(struct blkdev *disk);
};

/*
 * Legend: [I] set before registration and never changed; [lock] the
 * disk's queue lock; [c] the claims' lock (blkdev.c); [a] atomic.
 */
struct blkdev {
	/* The driver's, filled before blkdev_register(). */
	char name[BLK_NAME_MAX];       /* [I] "vda", "sdb", "vda1"; or empty */
	char model[BLK_MODEL_MAX];     /* [I] for `disks` */
	u32 sector_size;               /* [I] a power of two, 512..4096 */
	u64 sectors;                   /* [I] capacity, may be 0 */
	bool read_only;                /* [I] */
	bool polled;                   /* [I] no interrupt: the layer polls */
	const struct blkdev_ops *ops;  /* [I] NULL for a partition */
	void *priv;                    /* [I] the driver's */

	/* The block layer's. */
	struct blkdev *parent;         /* [I] a partition's disk, else NULL */
	u64 start;                     /* [I] a partition's first sector on parent */
	u8 part_index;                 /* [I] 1..4 for a partition */
	struct blkdev *next;           /* [I] registry order (published once) */
	const void *holder;            /* [c] the claim, or NULL */
	unsigned claimed_parts;        /* [c] a disk: how many partitions are claimed */
	spinlock_t lock;               /* queue, inflight, the driver's submit */
	struct list_head queue;        /* [lock] requests waiting for room */
	u32 inflight;                  /* [a] taken by the driver */
	struct ktimer poller;          /* polled disks: polls each tick */
	u64 reads, writes, flushes, errors; /* [a] completed requests */
	u64 interrupts;                /* [a] the driver counts them (diskbench) */
};

/*
 * Register @disk (a whole device): name it from @prefix ("vd" gives vda,
 * vdb, ...) when disk->name is empty, publish it, and add its MBR
 * partitions.  Returns 0, -EINVAL for missing ops or a bad sector size,
 * -EEXIST when disk->name is taken, -ENOSPC when the prefix has no free
 * letter left; on failure the disk is not published.  Task context, or
 * interrupts off in early boot: the partition scan reads sector 0 and
 * waits for it.
 */
int blkdev_register(struct blkdev *disk, const char *prefix);

/* The driver: @req finished with @status.  Any context, hard IRQ included. */
void blk_complete(struct blk_req *req, int status);

#endif
