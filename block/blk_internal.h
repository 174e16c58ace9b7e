/*
 * blk_internal.h — what block/ files share among themselves and nobody else.
 */
#ifndef NOS_BLK_INTERNAL_H
#define NOS_BLK_INTERNAL_H

#include "block/blkdev_driver.h"

/* Set up the layer's part of a disk (queue, lock, poll timer), unpublished. */
void blk_disk_init(struct blkdev *disk);
/* Start serving a published disk: a polled disk's timer starts polling. */
void blk_disk_start(struct blkdev *disk);
/* Read @disk's MBR and register each valid partition; returns how many. */
int blk_scan_partitions(struct blkdev *disk);
/* Add @dev to the registry (its name already set). */
void blkdev_add(struct blkdev *dev);

#endif
