/*
 * page_alloc.c — the kernel's page allocator: mm/buddy.c's bookkeeping over
 * the usable RAM from the memory map, behind one lock.
 *
 * The buddy metadata (16 bytes per frame, from frame 0 to the highest RAM
 * address, free-list links included) is taken from the memory map before
 * any frame is handed over, below 4 GiB where the boot page tables reach
 * it.  The allocator never touches the frames themselves, so handing the
 * RAM above 4 GiB over in page_alloc_add_high() needs no mapping either;
 * it waits for paging_init() only so that callers can use those frames.
 * Misuse the buddy reports (-EINVAL from buddy_free) is a kernel bug: panic.
 */
#include "mm/page_alloc.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/lock_order.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/buddy.h"
#include "mm/memmap.h"
#include "mm/paging.h"

#define LOW_4G (4ULL << 30)

static struct buddy buddy;
static bool buddy_ready;
static spinlock_t page_lock = SPINLOCK_INIT_RANKED("page", LOCK_RANK_PAGE); /* buddy */

/* Hand the usable RAM in [lo, hi) to the buddy. */
static void add_ranges(u64 lo, u64 hi)
{
	for (unsigned i = 0; i < memmap.usable_count; i++) {
		u64 base = MAX(memmap.usable[i].base, lo), end = MIN(memmap.usable[i].end, hi);

		if (base < end && buddy_add_free(&buddy, base >> PAGE_SHIFT,
						 (end - base) >> PAGE_SHIFT))
			pr_err("page_alloc: range 0x%llx-0x%llx refused", (unsigned long long)base,
			       (unsigned long long)end);
	}
}

void page_alloc_init(void)
{
	u64 npages = memmap.highest_ram >> PAGE_SHIFT;
	u64 meta_bytes = npages * sizeof(struct buddy_page);
	u64 meta = memmap_steal(meta_bytes, LOW_4G);

	if (!meta)
		panic("page_alloc: no room below 4 GiB for %llu KiB of page metadata",
		      (unsigned long long)(meta_bytes >> 10));
	buddy_init(&buddy, 0, npages, phys_to_virt(meta));
	buddy_ready = true;
	add_ranges(0, LOW_4G);
}

void page_alloc_add_high(void)
{
	add_ranges(LOW_4G, ~0ULL);
	pr_info("page_alloc: %llu frames managed, %llu free",
		(unsigned long long)buddy.managed_pages, (unsigned long long)buddy.free_pages);
}

void *page_alloc(unsigned n)
{
	u64 pfn, flags;
	int rc;

	if (!buddy_ready)
		return NULL; /* before mm_init(): nothing to give */
	flags = spin_lock_irqsave(&page_lock);
	rc = buddy_alloc(&buddy, n, &pfn);

	spin_unlock_irqrestore(&page_lock, flags);
	return rc ? NULL : phys_to_virt(pfn << PAGE_SHIFT);
}

void *page_zalloc(unsigned n)
{
	void *p = page_alloc(n);

	if (p)
		memset(p, 0, n * PAGE_SIZE);
	return p;
}

void page_free(void *p, unsigned n)
{
	u64 flags = spin_lock_irqsave(&page_lock);
	int rc = buddy_free(&buddy, virt_to_phys(p) >> PAGE_SHIFT, n);

	spin_unlock_irqrestore(&page_lock, flags);
	if (rc)
		panic("page_free: %p (%u pages) is not a live allocation (double free?)", p, n);
}

void page_alloc_stats(struct page_stats *st)
{
	u64 flags = spin_lock_irqsave(&page_lock);

	st->managed = buddy.managed_pages;
	st->free = buddy.free_pages;
	st->largest_free = buddy_largest_free(&buddy);
	spin_unlock_irqrestore(&page_lock, flags);
}

void page_set_slab(void *p, unsigned n, bool slab)
{
	u64 flags = spin_lock_irqsave(&page_lock);

	buddy_set_flags(&buddy, virt_to_phys(p) >> PAGE_SHIFT, n, slab ? BUDDY_FLAG_SLAB : 0);
	spin_unlock_irqrestore(&page_lock, flags);
}

bool page_is_slab(const void *p)
{
	return buddy_flags(&buddy, virt_to_phys(p) >> PAGE_SHIFT) & BUDDY_FLAG_SLAB;
}

unsigned page_alloc_count(const void *p)
{
	u64 flags = spin_lock_irqsave(&page_lock);
	unsigned n = buddy_alloc_count(&buddy, virt_to_phys(p) >> PAGE_SHIFT);

	spin_unlock_irqrestore(&page_lock, flags);
	return n;
}
