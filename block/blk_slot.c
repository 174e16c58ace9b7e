/*
 * blk_slot.c — the DMA slot pool (see blk_slot.h).
 */
#include "block/blk_slot.h"
#include "block/blkdev.h"
#include "errno.h"
#include "kernel/spinlock.h"
#include "mm/addr.h"
#include "mm/page_alloc.h"

#define SLOT_PAGES (BLK_MAX_BYTES / 4096)

static struct blk_slot slots[BLK_SLOTS];
static struct blk_slot *free_list; /* [slot_lock] */
static unsigned nfree;             /* [slot_lock] */
static spinlock_t slot_lock = SPINLOCK_INIT("slot");

int blk_slots_init(void)
{
	for (unsigned i = 0; i < BLK_SLOTS; i++) {
		void *mem = page_alloc(SLOT_PAGES);

		if (!mem)
			return -ENOMEM; /* the slots made so far still serve */
		slots[i] = (struct blk_slot){ mem, virt_to_phys(mem), NULL };
		blk_slot_put(&slots[i]);
	}
	return 0;
}

struct blk_slot *blk_slot_get(void)
{
	u64 flags = spin_lock_irqsave(&slot_lock);
	struct blk_slot *s = free_list;

	if (s) {
		free_list = s->next_free;
		nfree--;
	}
	spin_unlock_irqrestore(&slot_lock, flags);
	return s;
}

void blk_slot_put(struct blk_slot *s)
{
	u64 flags = spin_lock_irqsave(&slot_lock);

	s->next_free = free_list;
	free_list = s;
	nfree++;
	spin_unlock_irqrestore(&slot_lock, flags);
}

unsigned blk_slots_free(void)
{
	return __atomic_load_n(&nfree, __ATOMIC_RELAXED);
}
