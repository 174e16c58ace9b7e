/*
 * addr.h — conversions between physical addresses and the direct map.
 *
 * All RAM is mapped at KERNEL_DIRECT_MAP + phys (DESIGN.md), so for RAM the
 * conversion is an addition.  Addresses outside the direct map (MMIO
 * mappings, later) need the page-table walk instead.
 */
#ifndef NOS_MM_ADDR_H
#define NOS_MM_ADDR_H

#include "types.h"
#include "config.h"

static inline void *phys_to_virt(phys_addr_t pa)
{
	return (void *)(uintptr_t)(pa + KERNEL_DIRECT_MAP);
}

static inline phys_addr_t virt_to_phys(const void *va)
{
	return (phys_addr_t)(uintptr_t)va - KERNEL_DIRECT_MAP;
}

#endif
