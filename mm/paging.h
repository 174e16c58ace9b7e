/*
 * paging.h — the kernel's page tables.
 *
 * One set of 4-level tables serves every CPU.  paging_init() builds it:
 * the direct map of all RAM (RW, NX; 2 MiB pages where a whole 2 MiB is RAM
 * with one protection), the kernel image with W^X (.text RX, .rodata R,
 * .data/.bss RW), and turns on EFER.NXE and CR0.WP.  After that the
 * functions below change single 4 KiB pages; a change inside a 2 MiB page
 * splits it first.
 *
 * Unmapping a page or changing its protection invalidates it on every CPU
 * before the call returns (TLB shootdown); call those with interrupts
 * enabled once other CPUs run.
 *
 * Lock: paging_lock (paging.c) serialises every change to the tables.
 */
#ifndef NOS_PAGING_H
#define NOS_PAGING_H

#include "types.h"

#define PAGE_SIZE 4096ULL
#define PAGE_SHIFT 12

/* Protection of a mapping; readable is implied. */
#define MAP_WRITE 0x1
#define MAP_EXEC 0x2
#define MAP_UNCACHED 0x4

/* Virtual ranges outside the direct map. */
#define VA_STACKS 0xFFFFA00000000000ULL /* guarded stacks, 1 GiB */
#define VA_STACKS_END (VA_STACKS + (1ULL << 30))
#define VA_MMIO 0xFFFFC00000000000ULL   /* device memory, 1 GiB */
#define VA_MMIO_END (VA_MMIO + (1ULL << 30))
#define VA_TEST 0xFFFFE00000000000ULL   /* scratch range for boot tests */

int paging_init(void);
/*
 * Map the 4 KiB page at @va to @pa with @prot (MAP_*).  -EEXIST when @va
 * is already mapped, -ENOMEM when a table cannot be allocated, -EINVAL for
 * unaligned or non-canonical addresses.
 */
int paging_map(u64 va, u64 pa, unsigned prot);
/* Remove the mapping of @va; -EFAULT when it was not mapped. */
int paging_unmap(u64 va);
/* Change the protection of the mapped page @va; -EFAULT when unmapped. */
int paging_protect(u64 va, unsigned prot);
/*
 * Translate @va by walking the tables.  Returns 0 and sets *@pa, or
 * -EFAULT when @va is not mapped (the walk never guesses).
 */
int paging_virt_to_phys(u64 va, u64 *pa);
/* Physical address of the top-level table (the value loaded in CR3). */
u64 paging_root(void);

/*
 * Map @size bytes of device memory at physical @pa, uncached, in the MMIO
 * range.  Returns a pointer to @pa's byte, or NULL when the range is full
 * or a table cannot be allocated.
 */
void *mmio_map(u64 pa, u64 size);

#endif
