/*
 * addr.h (host shim) — physical addresses for host unit tests.  Shadows
 * mm/addr.h (see tests/unit/shim/kernel/spinlock.h for how).
 *
 * On the host, "physical memory" is what the shim's kmalloc() and
 * page_alloc() handed out and has not taken back: virt_to_phys() of
 * anything else (a stack buffer, a static, freed memory) panics, because a
 * device could not reach it.  A physical address is the virtual one with
 * bit 62 flipped, so it is never a usable pointer: code that dereferences a
 * bus address instead of calling phys_to_virt() faults at once, and
 * phys_to_virt() of a number virt_to_phys() did not make panics.
 *
 * One difference shows in block/blk.c: the kernel hands a page-aligned
 * buffer in the direct map (KERNEL_DIRECT_MAP..VA_STACKS) to the device as
 * it is, and no host pointer lies in that range, so on the host every
 * request goes through a DMA slot (bounce buffer).  The boot tests cover the
 * direct path.
 */
#ifndef NOS_MM_ADDR_H
#define NOS_MM_ADDR_H

#include "types.h"
#include "config.h"

phys_addr_t shim_virt_to_phys(const void *va);
void *shim_phys_to_virt(phys_addr_t pa);

static inline void *phys_to_virt(phys_addr_t pa)
{
	return shim_phys_to_virt(pa);
}

static inline phys_addr_t virt_to_phys(const void *va)
{
	return shim_virt_to_phys(va);
}

#endif
