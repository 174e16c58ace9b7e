/*
 * memmap.c — building the usable-RAM list from the firmware map.
 *
 * Firmware maps may list ranges out of order, overlap each other, and mix
 * RAM with holes.  The approach is subtractive: start from every range the
 * firmware calls available, then remove from that list every range it calls
 * anything else (a reserved range wins over an available one it overlaps),
 * then the carve-outs (low memory, kernel image, boot information).  Each
 * removal is a range subtraction over the list, which may split a range in
 * two.  Finally the ranges are shrunk inwards to page boundaries.
 *
 * Accounting follows the removals: whatever is carved out of available RAM
 * is charged to its account, and what survives is charged to the allocator,
 * so the accounts always sum to total_ram.
 */
#include "mm/memmap.h"
#include "boot/mb2.h"
#include "compiler.h"
#include "config.h"
#include "errno.h"
#include "kernel/printk.h"
#include "mm/addr.h"
#include "mm/paging.h"

#define PAGE 4096ULL
#define LOW_MEMORY (1ULL << 20)

extern char __boot_start[], __kernel_end[];

struct memmap memmap;

static const char *const account_names[MEM_ACCOUNTS] = {
	[MEM_LOW] = "low 1 MiB",
	[MEM_KERNEL] = "kernel image",
	[MEM_BOOTINFO] = "boot information",
	[MEM_METADATA] = "page metadata",
	[MEM_FRAGMENTS] = "alignment slivers",
	[MEM_ALLOCATOR] = "page allocator",
};

const char *memmap_account_name(enum mem_account a)
{
	return a < MEM_ACCOUNTS ? account_names[a] : "?";
}

static void range_insert(unsigned at, u64 base, u64 end)
{
	if (memmap.usable_count == MEMMAP_MAX_RANGES) {
		pr_warn("memmap: more than %d ranges; %llu KiB at 0x%llx left unused",
			MEMMAP_MAX_RANGES, (unsigned long long)((end - base) >> 10),
			(unsigned long long)base);
		return;
	}
	for (unsigned i = memmap.usable_count; i > at; i--)
		memmap.usable[i] = memmap.usable[i - 1];
	memmap.usable[at] = (struct mem_range){ base, end };
	memmap.usable_count++;
}

static void range_remove_at(unsigned at)
{
	for (unsigned i = at; i + 1 < memmap.usable_count; i++)
		memmap.usable[i] = memmap.usable[i + 1];
	memmap.usable_count--;
}

/* Remove [base, end) from the usable list; returns the bytes removed. */
static u64 subtract(u64 base, u64 end)
{
	u64 removed = 0;

	for (unsigned i = 0; i < memmap.usable_count; i++) {
		struct mem_range r = memmap.usable[i];
		u64 lo = MAX(r.base, base), hi = MIN(r.end, end);

		if (lo >= hi)
			continue;
		removed += hi - lo;
		range_remove_at(i);
		if (r.end > hi)
			range_insert(i, hi, r.end);
		if (r.base < lo)
			range_insert(i, r.base, lo);
		i--; /* look again at what now sits at i */
	}
	return removed;
}

static void charge(enum mem_account a, u64 base, u64 end)
{
	memmap.account[a] += subtract(base, end);
}

/* Add an available range, keeping the list sorted and merging overlaps. */
static void add_available(u64 base, u64 end)
{
	unsigned i = 0;

	subtract(base, end); /* overlapping duplicates count once */
	while (i < memmap.usable_count && memmap.usable[i].base < base)
		i++;
	range_insert(i, base, end);
}

static void add_firmware_ranges(void)
{
	for (unsigned i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = &boot_info.mmap[i];

		if (e->type == MB2_MEM_AVAILABLE && e->len && e->base + e->len > e->base)
			add_available(e->base, e->base + e->len);
	}
	for (unsigned i = 0; i < memmap.usable_count; i++)
		memmap.total_ram += memmap.usable[i].end - memmap.usable[i].base;
	for (unsigned i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = &boot_info.mmap[i];

		if (e->type != MB2_MEM_AVAILABLE) {
			u64 lost = subtract(e->base, e->base + e->len);

			memmap.total_ram -= lost; /* claimed by both: it is not ours */
			memmap.firmware_reserved += e->len;
		}
	}
}

static void align_ranges(void)
{
	for (unsigned i = 0; i < memmap.usable_count; i++) {
		struct mem_range *r = &memmap.usable[i];
		u64 base = ALIGN_UP(r->base, PAGE), end = ALIGN_DOWN(r->end, PAGE);

		if (base >= end) {
			memmap.account[MEM_FRAGMENTS] += r->end - r->base;
			range_remove_at(i--);
			continue;
		}
		memmap.account[MEM_FRAGMENTS] += (base - r->base) + (r->end - end);
		r->base = base;
		r->end = end;
	}
}

int memmap_entry_prot(const struct mb2_mmap_entry *e)
{
	switch (e->type) {
	case MB2_MEM_AVAILABLE:
	case MB2_MEM_ACPI_RECLAIMABLE:
	case MB2_MEM_NVS:
		return MAP_WRITE;
	default:
		return -1;
	}
}

bool memmap_readable(u64 phys, u64 len)
{
	u64 end = phys + len;

	if (end < phys)
		return false;
	if (end <= LOW_MEMORY)
		return true;
	for (unsigned i = 0; i < boot_info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = &boot_info.mmap[i];

		if (memmap_entry_prot(e) >= 0 && phys >= e->base && end <= e->base + e->len)
			return true;
	}
	return false;
}

int memmap_init(void)
{
	u64 sum = 0;

	add_firmware_ranges();
	charge(MEM_LOW, 0, LOW_MEMORY);
	charge(MEM_KERNEL, (u64)__boot_start, /* .boot is linked at its physical address */
	       virt_to_phys(__kernel_end));
	charge(MEM_BOOTINFO, boot_info.info_phys, boot_info.info_phys + boot_info.info_size);
	align_ranges();
	for (unsigned i = 0; i < memmap.usable_count; i++) {
		sum += memmap.usable[i].end - memmap.usable[i].base;
		memmap.highest_ram = MAX(memmap.highest_ram, memmap.usable[i].end);
	}
	memmap.account[MEM_ALLOCATOR] = sum;
	pr_info("memmap: %llu MiB RAM, %llu MiB usable in %u ranges, %llu KiB firmware-reserved",
		(unsigned long long)(memmap.total_ram >> 20), (unsigned long long)(sum >> 20),
		memmap.usable_count, (unsigned long long)(memmap.firmware_reserved >> 10));
	return sum ? 0 : -ENOMEM;
}

u64 memmap_steal(u64 bytes, u64 limit)
{
	bytes = ALIGN_UP(bytes, PAGE);
	for (unsigned i = 0; i < memmap.usable_count; i++) {
		struct mem_range *r = &memmap.usable[i];

		if (r->end - r->base >= bytes && r->base + bytes <= limit) {
			u64 pa = r->base;

			charge(MEM_METADATA, pa, pa + bytes);
			memmap.account[MEM_ALLOCATOR] -= bytes;
			return pa;
		}
	}
	return 0;
}
