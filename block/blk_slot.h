/*
 * blk_slot.h — the DMA slot pool: bounce buffers for requests whose
 * buffer cannot be handed to a device directly (not page-aligned, or not
 * in the direct map, such as a task's stack).
 *
 * BLK_SLOTS buffers of BLK_MAX_BYTES each, physically contiguous,
 * allocated once by blk_slots_init().  A slot is taken by the block layer
 * when a request is started and given back when it completes; when none
 * is free the request waits in its disk's queue.
 */
#ifndef NOS_BLK_SLOT_H
#define NOS_BLK_SLOT_H

#include "types.h"

#define BLK_SLOTS 16

struct blk_slot {
	void *mem;            /* [I] BLK_MAX_BYTES, direct map */
	u64 phys;             /* [I] */
	struct blk_slot *next_free;
};

int blk_slots_init(void);
/* A free slot, or NULL when all are in use. */
struct blk_slot *blk_slot_get(void);
void blk_slot_put(struct blk_slot *s);
unsigned blk_slots_free(void);

#endif
