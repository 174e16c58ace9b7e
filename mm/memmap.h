/*
 * memmap.h — the physical memory map: which RAM the kernel may hand out.
 *
 * memmap_init() reads the firmware's map (through Multiboot2), keeps the RAM
 * it reports as available, and carves out what is already in use: the low
 * 1 MiB (BIOS data, VGA, the future AP trampoline), the kernel image, the
 * Multiboot2 information and, once the page allocator is set up, its
 * metadata.  What is left — page-aligned — is the usable RAM the page
 * allocator owns.  Every byte of available RAM lands in exactly one
 * account, so `memusage` can show that the numbers add up.
 */
#ifndef NOS_MEMMAP_H
#define NOS_MEMMAP_H

#include "types.h"

#define MEMMAP_MAX_RANGES 64

enum mem_account {
	MEM_LOW,        /* available RAM below 1 MiB, left alone */
	MEM_KERNEL,     /* the kernel image */
	MEM_BOOTINFO,   /* the Multiboot2 information */
	MEM_METADATA,   /* page allocator metadata */
	MEM_FRAGMENTS,  /* slivers lost to page alignment */
	MEM_ALLOCATOR,  /* handed to the page allocator */
	MEM_ACCOUNTS
};

struct mem_range {
	u64 base, end; /* [base, end), page-aligned for usable ranges */
};

struct memmap {
	u64 total_ram;                     /* available RAM the firmware reported */
	u64 firmware_reserved;             /* everything else it reported (not RAM we own) */
	u64 account[MEM_ACCOUNTS];         /* bytes of total_ram per account */
	struct mem_range usable[MEMMAP_MAX_RANGES];
	unsigned usable_count;
	u64 highest_ram;                   /* end of the highest available range */
};

extern struct memmap memmap;

/* Build memmap from boot_info; returns -ENOMEM when no usable RAM is left. */
int memmap_init(void);
/*
 * Take @bytes (page-aligned) from the usable ranges below @limit for the
 * allocator's own metadata.  Returns the physical address, or 0 when no
 * range is large enough.
 */
u64 memmap_steal(u64 bytes, u64 limit);
const char *memmap_account_name(enum mem_account a);

struct mb2_mmap_entry;
/*
 * How the direct map covers a firmware range: MAP_WRITE for RAM and ACPI
 * memory, -1 for ranges it leaves out (reserved, device memory).
 */
int memmap_entry_prot(const struct mb2_mmap_entry *e);
/* True when [phys, phys + len) lies in the direct map (low 1 MiB included):
 * the test for reading firmware tables at addresses firmware gave us. */
bool memmap_readable(u64 phys, u64 len);

#endif
