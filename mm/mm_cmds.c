/*
 * mm_cmds.c — `memusage`: where every byte of RAM is.
 *
 * The accounts come from the memory map (mm/memmap.h) and always sum to the
 * RAM the firmware reported; the page allocator's share is split into free
 * and used, and the used part shows the pools' slabs per size class.
 * Cached empty slabs are handed back first, so "used" is what is really in
 * use.
 */
#include "kernel/shell.h"
#include "mm/kmalloc.h"
#include "mm/memmap.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"
#include "mm/pool.h"

static unsigned long long kib(u64 bytes)
{
	return (unsigned long long)(bytes >> 10);
}

static void show_pools(struct sh *sh)
{
	struct pool_class_stats st;

	sh_printf(sh, "  pools:  class   slabs  in use    free   KiB\n");
	for (unsigned i = 0; kmalloc_class_stats(i, &st) == 0; i++)
		sh_printf(sh, "         %5u %7llu %7llu %7llu %5llu\n", st.size,
			  (unsigned long long)st.slabs, (unsigned long long)st.in_use,
			  (unsigned long long)st.free, kib(st.bytes));
}

static int cmd_memusage(struct sh *sh, int argc, char **argv)
{
	struct page_stats ps;
	u64 sum = 0;

	kmalloc_shrink();
	page_alloc_stats(&ps);
	sh_printf(sh, "total: %llu KiB of RAM\n", kib(memmap.total_ram));
	for (unsigned a = 0; a < MEM_ACCOUNTS; a++) {
		sh_printf(sh, "  %-20s %10llu KiB\n", memmap_account_name(a), kib(memmap.account[a]));
		sum += memmap.account[a];
	}
	sh_printf(sh, "free: %llu KiB\n", kib(ps.free * PAGE_SIZE));
	sh_printf(sh, "used: %llu KiB (page allocator: %llu KiB handed out)\n",
		  kib(memmap.total_ram - ps.free * PAGE_SIZE),
		  kib((ps.managed - ps.free) * PAGE_SIZE));
	sh_printf(sh, "largest free block: %llu KiB\n", kib(ps.largest_free * PAGE_SIZE));
	show_pools(sh);
	sh_printf(sh, "firmware-reserved (not RAM): %llu KiB\n", kib(memmap.firmware_reserved));
	if (sum != memmap.total_ram)
		sh_printf(sh, "WARNING: accounts sum to %llu KiB, not the total\n", kib(sum));
	return 0;
}
SHELL_CMD("memusage", "", "show memory use: totals, allocator, pools", 0, 0, cmd_memusage);
