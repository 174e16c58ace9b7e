/*
 * blkdev.h — block devices and their asynchronous requests.
 *
 * A driver fills a struct blkdev (name, sector size, capacity, ops) and
 * registers it; the block layer then scans it for MBR partitions, each of
 * which becomes a blkdev of its own ("vda1") bounded to its range and
 * served by the whole disk.  Users find devices by name and submit
 * requests; nothing above this header knows which driver is underneath.
 *
 * A request (struct blk_req) carries its own completion: blk_submit()
 * returns at once, and when the device is done the layer calls req->done
 * and then waitgroup_done(req->wg) (either may be NULL), in SoftIrq
 * context.  The caller owns the request and its buffer, and must not touch
 * either until then.  Data moves by DMA straight from the caller's buffer
 * when it is page-aligned in the direct map, otherwise through a bounce
 * buffer from a pool of DMA slots.  A request that finds the device's ring
 * full or no free slot waits in the disk's queue and is retried from the
 * SoftIrq when a completion frees room.
 *
 * Drivers whose device has no interrupt are polled: by a periodic timer
 * (each tick, when requests are in flight), and, for a caller that cannot
 * sleep (interrupts off, as in early boot), by the synchronous wrappers
 * themselves, which then finish only that caller's requests.
 *
 * Lock order: blkdev.lock (a disk's queue) before the driver's queue lock;
 * the completion list's lock is taken alone.
 */
#ifndef NOS_BLKDEV_H
#define NOS_BLKDEV_H

#include "types.h"
#include "kernel/ktimer.h"
#include "kernel/spinlock.h"
#include "lib/list.h"

#define BLK_NAME_MAX 16
#define BLK_MODEL_MAX 64
/* The most one request moves: the size of a DMA slot. */
#define BLK_MAX_BYTES (64u * 1024)

struct blkdev;
struct waitgroup;

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

struct blk_req {
	/* The caller's, filled before blk_submit(). */
	enum blk_op op;
	u64 sector;              /* in the device's sectors, from its start */
	u32 count;               /* sectors (0 for a flush) */
	void *buf;               /* count * sector_size bytes */
	void (*done)(struct blk_req *req); /* SoftIrq context; may be NULL */
	struct waitgroup *wg;    /* done once completed; may be NULL */
	void *priv;              /* the caller's */
	int status;              /* on completion: 0 or -errno */

	/* The block layer's and the driver's. */
	struct list_head node;   /* on the disk's queue or the completion list */
	struct blkdev *disk;     /* the whole device serving it */
	u64 lba;                 /* first sector on @disk */
	u64 dma;                 /* bus address of the data */
	struct blk_slot *slot;   /* bounce buffer, or NULL for direct DMA */
	bool mapped;             /* dma is set up */
};

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

struct blkdev {
	/* The driver's, filled before blkdev_register(). */
	char name[BLK_NAME_MAX];       /* [I] "vda", "sdb", "vda1" */
	char model[BLK_MODEL_MAX];     /* [I] for `disks` */
	u32 sector_size;               /* [I] a power of two, 512..4096 */
	u64 sectors;                   /* [I] capacity */
	bool read_only;                /* [I] */
	bool polled;                   /* [I] no interrupt: the layer polls */
	const struct blkdev_ops *ops;  /* [I] NULL for a partition */
	void *priv;                    /* [I] the driver's */

	/* The block layer's. */
	struct blkdev *parent;         /* [I] a partition's disk, else NULL */
	u64 start;                     /* [I] a partition's first sector on parent */
	u8 part_index;                 /* [I] 1..4 for a partition */
	struct blkdev *next;           /* [I] registry order */
	spinlock_t lock;               /* queue, inflight, the driver's submit */
	struct list_head queue;        /* [lock] requests waiting for room */
	u32 inflight;                  /* [atomic] taken by the driver */
	struct ktimer poller;          /* polled disks: polls each tick */
	u64 reads, writes, flushes, errors; /* [atomic] completed requests */
	u64 interrupts;                /* [atomic] the driver counts them (diskbench) */
};

/*
 * Register @disk (a whole device), name it from @prefix ("vd" gives vda,
 * vdb, ...) when disk->name is empty, and add its MBR partitions.
 * Returns 0 or -errno.
 */
int blkdev_register(struct blkdev *disk, const char *prefix);
/* The device called @name, or NULL when none is. */
struct blkdev *blkdev_find(const char *name);
/* The registered devices in order (disks, each followed by its partitions). */
struct blkdev *blkdev_next(const struct blkdev *prev);

/*
 * Queue @req on @dev.  Returns 0 when it was accepted (its completion
 * follows), or, with no completion: -EINVAL for a request past the end of
 * the device, empty, or larger than BLK_MAX_BYTES; -EROFS for a write to
 * a read-only device.
 */
int blk_submit(struct blkdev *dev, struct blk_req *req);
/* The driver: @req finished with @status.  Any context, hard IRQ included. */
void blk_complete(struct blk_req *req, int status);

/*
 * Synchronous wrappers: split into requests of at most BLK_MAX_BYTES,
 * wait for all of them, return 0 or the first error.  They sleep unless
 * interrupts are off, in which case they poll the device.
 */
int blk_read(struct blkdev *dev, u64 sector, u32 count, void *buf);
int blk_write(struct blkdev *dev, u64 sector, u32 count, const void *buf);
int blk_flush(struct blkdev *dev);

/* Size in bytes. */
static inline u64 blkdev_bytes(const struct blkdev *dev)
{
	return dev->sectors * dev->sector_size;
}

void blk_init(void);

#endif
