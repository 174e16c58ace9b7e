/*
 * ioapic.h — routing global system interrupts (GSIs) to CPUs.
 */
#ifndef NOS_IOAPIC_H
#define NOS_IOAPIC_H

#include "types.h"

/* Register the IOAPIC at @phys serving GSIs from @gsi_base; all lines masked. */
int ioapic_add(u8 id, u64 phys, u32 gsi_base);
/*
 * Route @gsi to @vector on the CPU with APIC id @dest, level- or
 * edge-triggered, active low or high; the line stays masked.
 * -ENOENT when no IOAPIC serves @gsi.
 */
int ioapic_route(u32 gsi, u8 vector, u32 dest, bool level, bool active_low);
int ioapic_mask(u32 gsi, bool masked);
unsigned ioapic_count(void);

#endif
