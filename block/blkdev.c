/*
 * blkdev.c — the registry of block devices, their names, their claims, and
 * what users may read of them.
 *
 * The registry is a singly linked list that only grows at its end.  A
 * device is complete before the release store that links it in, so readers
 * walk the list without a lock (acquire loads); reg_lock serialises the
 * writers, and a disk's name is picked and the disk linked in under one
 * hold of it, so two drivers registering at once on two CPUs cannot both
 * find "vdb" free.
 *
 * Claims (see blkdev.h) live in the devices: `holder` on each device, and
 * on a disk the number of its partitions that are claimed, so deciding a
 * claim never walks the registry.  claim_lock guards both; it is also
 * held while `disks` copies a holder's name, so a holder that releases
 * can free its name as soon as blkdev_release() returns.
 *
 * Locks: reg_lock and claim_lock are leaves, never held together nor with
 * a disk's queue lock.
 */
#include "block/blk_internal.h"
#include "errno.h"
#include "kernel/printk.h"
#include "lib/format.h"
#include "lib/string.h"

static struct blkdev *head;           /* [reg_lock] writers */
static spinlock_t reg_lock = SPINLOCK_INIT("blk-registry");
static spinlock_t claim_lock = SPINLOCK_INIT("blk-claims");

/* ---------------------------------------------------------------- registry */

/* Link @dev in at the end.  Caller holds reg_lock. */
static void add_locked(struct blkdev *dev)
{
	struct blkdev **link = &head;

	while (*link)
		link = &(*link)->next;
	dev->next = NULL;
	__atomic_store_n(link, dev, __ATOMIC_RELEASE);
}

void blkdev_add(struct blkdev *dev)
{
	u64 flags = spin_lock_irqsave(&reg_lock);

	add_locked(dev);
	spin_unlock_irqrestore(&reg_lock, flags);
}

struct blkdev *blkdev_next(const struct blkdev *prev)
{
	return __atomic_load_n(prev ? &prev->next : &head, __ATOMIC_ACQUIRE);
}

struct blkdev *blkdev_find(const char *name)
{
	for (struct blkdev *d = blkdev_next(NULL); d; d = blkdev_next(d))
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/* "vd" + the first free letter: vda, vdb, ... (26 disks per prefix).  Caller holds reg_lock. */
static int pick_name_locked(struct blkdev *disk, const char *prefix)
{
	for (char c = 'a'; c <= 'z'; c++) {
		snprintf(disk->name, sizeof(disk->name), "%s%c", prefix, c);
		if (!blkdev_find(disk->name))
			return 0;
	}
	disk->name[0] = 0;
	return -ENOSPC;
}

/* Name @disk (unless the driver did) and publish it, atomically. */
static int name_and_add(struct blkdev *disk, const char *prefix)
{
	u64 flags = spin_lock_irqsave(&reg_lock);
	int rc = 0;

	if (!disk->name[0])
		rc = pick_name_locked(disk, prefix);
	else if (blkdev_find(disk->name))
		rc = -EEXIST;
	if (!rc)
		add_locked(disk);
	spin_unlock_irqrestore(&reg_lock, flags);
	return rc;
}

static bool sector_size_ok(u32 s)
{
	return s >= 512 && s <= 4096 && (s & (s - 1)) == 0;
}

int blkdev_register(struct blkdev *disk, const char *prefix)
{
	bool clamped = false;
	int rc;

	if (!disk->ops || !disk->ops->submit || !disk->ops->poll || !sector_size_ok(disk->sector_size))
		return -EINVAL;
	if (disk->sectors > ~0ULL / disk->sector_size) {
		disk->sectors = ~0ULL / disk->sector_size; /* byte counts must not wrap */
		clamped = true;
	}
	disk->parent = NULL;
	disk->start = 0;
	disk->holder = NULL;
	disk->claimed_parts = 0;
	blk_disk_init(disk);
	rc = name_and_add(disk, prefix);
	if (rc)
		return rc;
	blk_disk_start(disk);
	if (clamped)
		pr_warn("%s: capacity is beyond 2^64 bytes; using the %llu sectors that fit",
			disk->name, (unsigned long long)disk->sectors);
	pr_info("%s: %llu sectors of %u bytes (%llu MiB)%s, %s", disk->name,
		(unsigned long long)disk->sectors, disk->sector_size,
		(unsigned long long)(blkdev_bytes(disk) >> 20), disk->read_only ? ", read-only" : "",
		disk->model);
	if (disk->sectors)
		blk_scan_partitions(disk); /* an empty disk has no sector 0 to read */
	return 0;
}

/* ---------------------------------------------------------------- accessors */

const char *blkdev_name(const struct blkdev *d)
{
	return d->name;
}

const char *blkdev_model(const struct blkdev *d)
{
	return d->model;
}

u64 blkdev_sectors(const struct blkdev *d)
{
	return d->sectors;
}

u32 blkdev_sector_size(const struct blkdev *d)
{
	return d->sector_size;
}

u64 blkdev_bytes(const struct blkdev *d)
{
	return d->sectors * d->sector_size; /* registration keeps it within 64 bits */
}

bool blkdev_read_only(const struct blkdev *d)
{
	return d->read_only;
}

struct blkdev *blkdev_disk(struct blkdev *d)
{
	return d->parent ? d->parent : d;
}

bool blkdev_is_partition(const struct blkdev *d)
{
	return d->parent != NULL;
}

u64 blkdev_start(const struct blkdev *d)
{
	return d->start;
}

void blkdev_get_stats(const struct blkdev *d, struct blkdev_stats *out)
{
	const struct blkdev *disk = d->parent ? d->parent : d;

	out->reads = __atomic_load_n(&disk->reads, __ATOMIC_RELAXED);
	out->writes = __atomic_load_n(&disk->writes, __ATOMIC_RELAXED);
	out->flushes = __atomic_load_n(&disk->flushes, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&disk->errors, __ATOMIC_RELAXED);
	out->interrupts = __atomic_load_n(&disk->interrupts, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------- claims */

/* Whether a claim on @d would overlap one already made.  Caller holds claim_lock. */
static bool busy_locked(const struct blkdev *d)
{
	if (d->holder)
		return true;
	return d->parent ? d->parent->holder != NULL : d->claimed_parts != 0;
}

int blkdev_claim(struct blkdev *d, const void *holder)
{
	u64 flags;
	int rc = 0;

	if (!holder)
		return -EINVAL;
	flags = spin_lock_irqsave(&claim_lock);
	if (busy_locked(d)) {
		rc = -EBUSY;
	} else {
		d->holder = holder;
		if (d->parent)
			d->parent->claimed_parts++;
	}
	spin_unlock_irqrestore(&claim_lock, flags);
	return rc;
}

void blkdev_release(struct blkdev *d, const void *holder)
{
	u64 flags = spin_lock_irqsave(&claim_lock);
	const void *had = d->holder;

	if (had && had == holder) {
		d->holder = NULL;
		if (d->parent)
			d->parent->claimed_parts--;
	}
	spin_unlock_irqrestore(&claim_lock, flags);
	if (!had || had != holder)
		pr_warn("%s: released by %p (called from %p), but %s; left as it was", d->name,
			holder, __builtin_return_address(0), had ? "someone else holds it" :
			"nobody holds it");
}

/* Copy at most @cap - 1 bytes of the NUL-terminated @src, never reading past them. */
static void copy_name(char *buf, size_t cap, const char *src)
{
	size_t i = 0;

	for (; i + 1 < cap && src[i]; i++)
		buf[i] = src[i];
	buf[i] = 0;
}

bool blkdev_claimed_by(const struct blkdev *d, char *buf, size_t cap)
{
	u64 flags = spin_lock_irqsave(&claim_lock);
	const void *holder = d->holder;

	if (holder && cap)
		copy_name(buf, cap, holder);
	spin_unlock_irqrestore(&claim_lock, flags);
	return holder != NULL;
}
