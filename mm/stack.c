/*
 * stack.c — guarded stack slots (see stack.h).
 *
 * Slots are STACK_SLOT_PAGES pages of virtual space each; a bitmap says
 * which are taken, and a parallel array keeps each slot's name for the
 * overflow report.  The frames come from page_alloc() (contiguous, so a
 * stack is also one block for the allocator) and are mapped at the top of
 * the slot, leaving the slot's first page — and any unused pages above it —
 * unmapped.
 */
#include "mm/stack.h"
#include "errno.h"
#include "kernel/spinlock.h"
#include "lib/bitmap.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

#define SLOT_BYTES (STACK_SLOT_PAGES * PAGE_SIZE)
#define SLOTS 1024

static u64 slot_map[SLOTS / 64];
static char slot_name[SLOTS][STACK_NAME_MAX];
static unsigned slots_used;
static spinlock_t stack_lock = SPINLOCK_INIT("stack"); /* slot_map, slot_name, slots_used */

static int slot_take(const char *name)
{
	u64 flags = spin_lock_irqsave(&stack_lock);
	int slot = (int)bitmap_find_first_zero(slot_map, SLOTS);

	if (slot < SLOTS) {
		bitmap_set(slot_map, (size_t)slot);
		strlcpy(slot_name[slot], name, STACK_NAME_MAX);
		slots_used++;
	} else {
		slot = -ENOSPC;
	}
	spin_unlock_irqrestore(&stack_lock, flags);
	return slot;
}

static void slot_release(int slot)
{
	u64 flags = spin_lock_irqsave(&stack_lock);

	bitmap_clear(slot_map, (size_t)slot);
	slot_name[slot][0] = '\0';
	slots_used--;
	spin_unlock_irqrestore(&stack_lock, flags);
}

static void unmap_pages(u64 base, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		paging_unmap(base + i * PAGE_SIZE);
}

int stack_alloc(struct kstack *st, const char *name, unsigned pages)
{
	u64 top;
	int slot;

	if (!pages || pages >= STACK_SLOT_PAGES)
		return -EINVAL;
	slot = slot_take(name);
	if (slot < 0)
		return slot;
	st->mem = page_alloc(pages);
	if (!st->mem) {
		slot_release(slot);
		return -ENOMEM;
	}
	top = VA_STACKS + (u64)(slot + 1) * SLOT_BYTES;
	st->slot = slot;
	st->pages = pages;
	st->top = top;
	st->base = top - pages * PAGE_SIZE;
	for (unsigned i = 0; i < pages; i++) {
		int rc = paging_map(st->base + i * PAGE_SIZE,
				    virt_to_phys(st->mem) + i * PAGE_SIZE, MAP_WRITE);
		if (rc) {
			unmap_pages(st->base, i);
			page_free(st->mem, pages);
			slot_release(slot);
			return rc;
		}
	}
	return 0;
}

void stack_free(struct kstack *st)
{
	unmap_pages(st->base, st->pages);
	page_free(st->mem, st->pages);
	slot_release(st->slot);
}

const char *stack_guard_owner(u64 addr)
{
	u64 slot;

	if (addr < VA_STACKS || addr >= VA_STACKS + (u64)SLOTS * SLOT_BYTES)
		return NULL;
	slot = (addr - VA_STACKS) / SLOT_BYTES;
	if (!bitmap_test(slot_map, slot))
		return NULL;
	/* Anything below the mapped pages of a live slot is guard. */
	if (paging_virt_to_phys(addr & ~(PAGE_SIZE - 1), &(u64){ 0 }) == 0)
		return NULL;
	return slot_name[slot];
}

unsigned stack_count(void)
{
	return slots_used;
}
