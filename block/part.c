/*
 * part.c — MBR partitions become block devices of their own.
 *
 * The parser (block/mbr.c) judges each of the four primary entries; here
 * the valid ones are registered as "<disk><index>" (vda1) and the others
 * are reported.  A partition shares its disk's queue: blk_submit() checks
 * a request against the partition's bounds and moves it by the partition's
 * start.  Extended partitions and GPT are not read.
 */
#include "block/blk_internal.h"
#include "block/mbr.h"
#include "errno.h"
#include "kernel/printk.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

static int add_partition(struct blkdev *disk, const struct mbr_part *p)
{
	struct blkdev *part = kzalloc(sizeof(*part));

	size_t n = strlen(disk->name);

	if (!part) {
		pr_warn("%s: no memory for partition %u; not added", disk->name, p->index);
		return -ENOMEM;
	}
	/* A name that ends in a digit takes a 'p' first (disk "nvme0" gives
	 * "nvme0p1"), so a partition never takes another disk's name. */
	snprintf(part->name, sizeof(part->name), "%s%s%u", disk->name,
		 n && disk->name[n - 1] >= '0' && disk->name[n - 1] <= '9' ? "p" : "", p->index);
	snprintf(part->model, sizeof(part->model), "partition %u, type 0x%02x%s", p->index,
		 p->type, p->bootable ? ", boot" : "");
	part->sector_size = disk->sector_size;
	part->sectors = p->count;
	part->read_only = disk->read_only;
	part->parent = disk;
	part->start = p->start;
	part->part_index = p->index;
	part->priv = disk->priv;
	blkdev_add(part);
	pr_info("%s: sectors %llu-%llu (%llu MiB)", part->name, (unsigned long long)p->start,
		(unsigned long long)(p->start + p->count - 1),
		(unsigned long long)(blkdev_bytes(part) >> 20));
	return 0;
}

static int add_partitions(struct blkdev *disk, const u8 *mbr)
{
	struct mbr_part parts[MBR_PARTS];
	int n = mbr_parse(mbr, disk->sectors, parts), added = 0;

	if (n < 0)
		return 0; /* no partition table: the whole disk is the device */
	for (unsigned i = 0; i < MBR_PARTS; i++) {
		const struct mbr_part *p = &parts[i];

		if (p->verdict == MBR_OK)
			added += add_partition(disk, p) == 0;
		else if (p->verdict != MBR_EMPTY)
			pr_warn("%s: partition %u (type 0x%02x, sectors %llu+%llu) skipped: %s",
				disk->name, p->index, p->type, (unsigned long long)p->start,
				(unsigned long long)p->count, mbr_verdict_str(p->verdict));
	}
	return added;
}

int blk_scan_partitions(struct blkdev *disk)
{
	u8 *sector = kmalloc(disk->sector_size);
	int rc;

	if (!sector) {
		pr_warn("%s: no memory to read the partition table", disk->name);
		return -ENOMEM;
	}
	rc = blk_read(disk, 0, 1, sector);
	if (rc)
		pr_warn("%s: cannot read the partition table: %s", disk->name, errno_name(rc));
	else
		rc = add_partitions(disk, sector);
	kfree(sector);
	return rc;
}
