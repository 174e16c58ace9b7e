/*
 * blkdev.c — the registry of block devices and their names.
 *
 * Devices are only ever added, at the end, and a device is complete
 * before the release store that publishes it, so readers walk the list
 * without a lock; reg_lock serialises writers and naming.
 */
#include "block/blk_internal.h"
#include "errno.h"
#include "kernel/printk.h"
#include "lib/format.h"
#include "lib/string.h"

static struct blkdev *head;           /* [reg_lock] writers */
static spinlock_t reg_lock = SPINLOCK_INIT("reg");

void blkdev_add(struct blkdev *dev)
{
	u64 flags = spin_lock_irqsave(&reg_lock);
	struct blkdev **link = &head;

	while (*link)
		link = &(*link)->next;
	dev->next = NULL;
	__atomic_store_n(link, dev, __ATOMIC_RELEASE);
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

/* "vd" + the first free letter: vda, vdb, ... (26 disks per prefix). */
static int pick_name(struct blkdev *disk, const char *prefix)
{
	for (char c = 'a'; c <= 'z'; c++) {
		snprintf(disk->name, sizeof(disk->name), "%s%c", prefix, c);
		if (!blkdev_find(disk->name))
			return 0;
	}
	disk->name[0] = 0;
	return -ENOSPC;
}

static bool sector_size_ok(u32 s)
{
	return s >= 512 && s <= 4096 && (s & (s - 1)) == 0;
}

int blkdev_register(struct blkdev *disk, const char *prefix)
{
	int rc;

	if (!disk->ops || !disk->ops->submit || !disk->ops->poll || !sector_size_ok(disk->sector_size))
		return -EINVAL;
	if (!disk->name[0] && (rc = pick_name(disk, prefix)) != 0)
		return rc;
	if (disk->sectors > ~0ULL / disk->sector_size) {
		pr_warn("%s: capacity of %llu sectors is beyond 2^64 bytes; using what fits",
			disk->name, (unsigned long long)disk->sectors);
		disk->sectors = ~0ULL / disk->sector_size; /* byte counts must not wrap */
	}
	disk->parent = NULL;
	disk->start = 0;
	blk_disk_init(disk);
	blkdev_add(disk);
	pr_info("%s: %llu sectors of %u bytes (%llu MiB)%s, %s", disk->name,
		(unsigned long long)disk->sectors, disk->sector_size,
		(unsigned long long)(blkdev_bytes(disk) >> 20), disk->read_only ? ", read-only" : "",
		disk->model);
	blk_scan_partitions(disk);
	return 0;
}
