/*
 * blkdev.h — block devices for their users: filesystems, the shell's disk
 * commands, anything that reads and writes sectors.  Drivers see more of a
 * device through block/blkdev_driver.h; nothing here names a driver, so a
 * user works on any disk or partition, whichever driver serves it.
 *
 * A device is found by name (blkdev_find) or by walking the registry
 * (blkdev_next): whole disks ("vda", "sdb"), each followed by its MBR
 * partitions ("vda1"), which are devices of their own, bounded to their
 * range.  Devices are never unregistered, so a pointer to one stays valid
 * for the rest of the boot.  What a user may know of a device is read
 * through the functions below; the struct itself is the layer's and the
 * drivers'.
 *
 * I/O.  A request (struct blk_req) carries its own completion: blk_submit()
 * returns at once, and when the device is done the layer calls req->done
 * and then waitgroup_done(req->wg) (either may be NULL), in SoftIrq
 * context.  The caller owns the request and its buffer and must not touch
 * either until then.  A buffer that is page-aligned in the direct map goes
 * to the device as is; any other is bounced through a DMA slot.  The
 * synchronous blk_read/blk_write/blk_flush are thin wrappers over requests.
 *
 * Claims.  A filesystem that mounts a device, or a command that formats or
 * overwrites one, first claims it with blkdev_claim(): a device is claimed
 * by one holder at a time, and a disk and its partitions exclude each
 * other (a disk cannot be claimed while one of its partitions is, and the
 * other way round), so two users never own overlapping sectors.  Claims
 * are advisory: blk_submit() does not check them, so readers (`diskread`)
 * need none.
 *
 * Contexts: blk_submit(), the lookups and the accessors may be called from
 * any context; the synchronous wrappers sleep unless interrupts are off,
 * in which case they poll the device (early boot).
 */
#ifndef NOS_BLKDEV_H
#define NOS_BLKDEV_H

#include "types.h"
#include "lib/list.h"

#define BLK_NAME_MAX 16
#define BLK_MODEL_MAX 64
/* The most one request moves: the size of a DMA slot. */
#define BLK_MAX_BYTES (64u * 1024)

struct blkdev;      /* opaque here: see blkdev_driver.h */
struct blk_slot;
struct waitgroup;

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

struct blk_req {
	/* The caller's, filled before blk_submit(). */
	enum blk_op op;
	u64 sector;              /* in the device's sectors, from its start */
	u32 count;               /* sectors (0 for a flush) */
	void *buf;               /* count * sector size bytes */
	void (*done)(struct blk_req *req); /* SoftIrq context; may be NULL */
	struct waitgroup *wg;    /* done once completed; may be NULL */
	void *priv;              /* the caller's */
	int status;              /* on completion: 0 or -errno */

	/* The block layer's and the driver's: not for the caller. */
	struct list_head node;   /* on the disk's queue or the completion list */
	struct blkdev *disk;     /* the whole device serving it */
	u64 lba;                 /* first sector on @disk */
	u64 dma;                 /* bus address of the data */
	struct blk_slot *slot;   /* bounce buffer, or NULL for direct DMA */
	bool mapped;             /* dma is set up */
};

/* --------------------------------------------------------- finding devices */

/* The device called @name, or NULL when none is. */
struct blkdev *blkdev_find(const char *name);
/*
 * The registered devices in order, disks each followed by their
 * partitions: the first with @prev == NULL, NULL after the last.
 */
struct blkdev *blkdev_next(const struct blkdev *prev);

/* -------------------------------------------------- what a device is like */

const char *blkdev_name(const struct blkdev *d);
/* For people: the driver, its address and mode, or "partition N, ...". */
const char *blkdev_model(const struct blkdev *d);
/* Capacity in sectors; 0 for an empty disk, which takes no I/O at all. */
u64 blkdev_sectors(const struct blkdev *d);
/* A power of two, 512..4096. */
u32 blkdev_sector_size(const struct blkdev *d);
/* Capacity in bytes (never more than fits in 64 bits). */
u64 blkdev_bytes(const struct blkdev *d);
/* Writes to it fail with -EROFS (a partition is as its disk). */
bool blkdev_read_only(const struct blkdev *d);
/* The whole disk @d belongs to: @d itself unless it is a partition. */
struct blkdev *blkdev_disk(struct blkdev *d);
bool blkdev_is_partition(const struct blkdev *d);
/* A partition's first sector on its disk; 0 for a disk. */
u64 blkdev_start(const struct blkdev *d);

/* Completed requests of a whole disk (a partition's are its disk's). */
struct blkdev_stats {
	u64 reads, writes, flushes, errors;
	u64 interrupts;          /* the driver's count, for diskbench */
};
void blkdev_get_stats(const struct blkdev *d, struct blkdev_stats *out);

/* ------------------------------------------------------------------ claims */

/*
 * Claim @d for @holder: 0, or -EBUSY when @d is claimed already (claims do
 * not nest, not even for the same holder), when @d is a disk one of whose
 * partitions is claimed, or when @d is a partition whose disk is claimed;
 * -EINVAL for a NULL @holder.
 *
 * @holder tells claims apart by its address and points at a NUL-terminated
 * name of the claimant that `disks` shows ("nanofs /data"; a struct whose
 * first member is such a name will do).  Both must stay valid until
 * blkdev_release().  Any context that may take a spinlock.
 */
int blkdev_claim(struct blkdev *d, const void *holder);
/*
 * Give back @holder's claim on @d.  A release by anyone but the holder is
 * a bug: it is reported with a warning and changes nothing.
 */
void blkdev_release(struct blkdev *d, const void *holder);
/*
 * Whether @d is claimed; if so, and @cap > 0, copy the holder's name into
 * @buf (at most @cap - 1 bytes, NUL-terminated).  A snapshot: the claim
 * may be released as soon as this returns.
 */
bool blkdev_claimed_by(const struct blkdev *d, char *buf, size_t cap);

/* --------------------------------------------------------------------- I/O */

/*
 * Queue @req on @dev.  Returns 0 when it was accepted (its completion
 * follows), or, with no completion: -EINVAL for a request past the end of
 * the device, empty, or larger than BLK_MAX_BYTES; -EROFS for a write to
 * a read-only device.
 */
int blk_submit(struct blkdev *dev, struct blk_req *req);

/*
 * Synchronous wrappers: split into requests of at most BLK_MAX_BYTES,
 * wait for all of them, return 0 or the first error (-EINVAL for a range
 * outside the device or a zero count, as blk_submit).  They sleep unless
 * interrupts are off, in which case they poll the device.  blk_flush()
 * returns -EOPNOTSUPP for a device without a cache to flush.
 */
int blk_read(struct blkdev *dev, u64 sector, u32 count, void *buf);
int blk_write(struct blkdev *dev, u64 sector, u32 count, const void *buf);
int blk_flush(struct blkdev *dev);

/* The layer's start-up: once, before any driver registers a device. */
void blk_init(void);

#endif
