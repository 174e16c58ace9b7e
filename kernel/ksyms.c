/*
 * ksyms.c — lookups in the symbol table made by scripts/gen-ksyms.sh.
 *
 * The table is sorted by address, so a lookup is a binary search for the
 * last symbol at or below the address.  A symbol whose size the assembler
 * did not record (size 0) is taken to extend to the next symbol; one with a
 * size must contain the address, so an address in padding between functions
 * is reported as unknown instead of being blamed on its neighbour.  The
 * size reported is the one used: the recorded size, or the distance to the
 * next symbol.
 */
#include "kernel/ksyms.h"
#include "compiler.h"
#include "lib/string.h"

struct ksym {
	u64 addr;
	u32 size;
	u32 name_off;
} __packed;

extern const u64 ksyms_count;
extern const struct ksym ksyms_table[];
extern const char ksyms_names[];

u64 ksyms_count_get(void)
{
	return ksyms_count;
}

/* Index of the last symbol with addr <= @addr, or -1. */
static long ksyms_find(u64 addr)
{
	long lo = 0, hi = (long)ksyms_count - 1, best = -1;

	while (lo <= hi) {
		long mid = lo + (hi - lo) / 2;

		if (ksyms_table[mid].addr <= addr) {
			best = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return best;
}

const char *ksyms_lookup(u64 addr, u64 *offset, u64 *size)
{
	long i = ksyms_find(addr);
	u64 len;

	if (i < 0)
		return NULL;
	len = ksyms_table[i].size;
	if (!len && (u64)i + 1 < ksyms_count)
		len = ksyms_table[i + 1].addr - ksyms_table[i].addr;
	if (addr - ksyms_table[i].addr >= len)
		return NULL;
	*offset = addr - ksyms_table[i].addr;
	*size = len;
	return ksyms_names + ksyms_table[i].name_off;
}

u64 ksyms_address(const char *name)
{
	for (u64 i = 0; i < ksyms_count; i++)
		if (strcmp(ksyms_names + ksyms_table[i].name_off, name) == 0)
			return ksyms_table[i].addr;
	return 0;
}
