/*
 * mm_init.c — the order in which memory management comes up.
 *
 * The memory map comes first (what RAM exists and what is taken), then the
 * page allocator over the RAM the boot tables can reach (below 4 GiB), then
 * the real page tables (allocated from it), and only then the RAM above
 * 4 GiB, which the new direct map covers.
 */
#include "mm/mm.h"
#include "kernel/panic.h"
#include "mm/kmalloc.h"
#include "mm/memmap.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

void mm_init(void)
{
	int rc = memmap_init();

	if (rc)
		panic("mm: no usable RAM in the firmware memory map");
	page_alloc_init();
	rc = paging_init();
	if (rc)
		panic("mm: cannot build the kernel page tables (%d)", rc);
	page_alloc_add_high();
	kmalloc_init();
}
