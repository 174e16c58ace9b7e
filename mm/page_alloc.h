/*
 * page_alloc.h — physically contiguous page frames for the whole kernel.
 *
 * page_alloc(n) hands out 1..128 contiguous 4 KiB frames and returns their
 * direct-map address (virt_to_phys() gives the physical one, for DMA).  The
 * block is aligned to n rounded up to a power of two pages.  The caller
 * owns the frames until page_free(p, n) with the same n; freeing anything
 * else (a double free, a frame never handed out, a different n) is a kernel
 * bug and panics.  Any context; never sleeps.
 */
#ifndef NOS_PAGE_ALLOC_H
#define NOS_PAGE_ALLOC_H

#include "types.h"

#define PAGE_ALLOC_MAX 128

/* Set up from the memory map; RAM above 4 GiB joins in page_alloc_add_high(). */
void page_alloc_init(void);
void page_alloc_add_high(void);

/* NULL when n is 0 or above PAGE_ALLOC_MAX, or memory is short. */
void *page_alloc(unsigned n);
/* page_alloc() with the frames zeroed. */
void *page_zalloc(unsigned n);
void page_free(void *p, unsigned n);

struct page_stats {
	u64 managed;       /* frames the allocator owns */
	u64 free;          /* of which free */
	u64 largest_free;  /* frames in the largest free block */
};
void page_alloc_stats(struct page_stats *st);

/* Pages in the page_alloc() block starting at @p; 0 when @p starts none. */
unsigned page_alloc_count(const void *p);

/* Mark / test frames as belonging to a pool slab (see mm/kmalloc.c). */
void page_set_slab(void *p, unsigned n, bool slab);
bool page_is_slab(const void *p);

#endif
