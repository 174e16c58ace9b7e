/*
 * mm_cmds.c — `memusage`: where every byte of RAM is; `membench`: how fast
 * the allocators are (reported by `make bench`, never asserted).
 *
 * The accounts come from the memory map (mm/memmap.h) and always sum to the
 * RAM the firmware reported; the page allocator's share is split into free
 * and used, and the used part shows the pools' slabs per size class.
 * Cached empty slabs are handed back first, so "used" is what is really in
 * use.  membench looks at Ctrl-C between batches of pairs and then prints
 * no figure for the pass it cut short.
 */
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
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
	for (unsigned i = 0; !sh_output_error(sh) && kmalloc_class_stats(i, &st) == 0; i++)
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
	return sh_output_error(sh);
}
SHELL_CMD("memusage", "", "show memory use: totals, allocator, pools", 0, 0, cmd_memusage);

#define MEMBENCH_ROUNDS 200000
#define MEMBENCH_BATCH 1024 /* pairs between looks at Ctrl-C */

/* Alloc/free pairs per second of @fn, @rounds times; -EINTR on Ctrl-C. */
static int pairs_per_second(void (*fn)(unsigned rounds), unsigned rounds, u64 *rate)
{
	u64 t0 = time_ns(), ns;

	for (unsigned done = 0; done < rounds; done += MEMBENCH_BATCH) {
		if (task_interrupted())
			return -EINTR;
		fn(MIN(MEMBENCH_BATCH, rounds - done));
	}
	ns = time_ns() - t0;
	*rate = ns ? (u64)rounds * 1000000000ULL / ns : 0;
	return 0;
}

static void kmalloc64_pairs(unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++)
		kfree(kmalloc(64));
}

static void page_pairs(unsigned rounds)
{
	for (unsigned i = 0; i < rounds; i++)
		page_free(page_alloc(1), 1);
}

static int cmd_membench(struct sh *sh, int argc, char **argv)
{
	u64 rate;
	int rc = pairs_per_second(kmalloc64_pairs, MEMBENCH_ROUNDS, &rate);

	if (rc)
		return rc;
	sh_printf(sh, "kmalloc(64)+kfree: %llu pairs/s\n", (unsigned long long)rate);
	rc = pairs_per_second(page_pairs, MEMBENCH_ROUNDS, &rate);
	if (rc)
		return rc;
	sh_printf(sh, "page_alloc(1)+page_free: %llu pairs/s\n", (unsigned long long)rate);
	return 0;
}
SHELL_CMD("membench", "", "measure kmalloc and page allocator speed", 0, 0, cmd_membench);
