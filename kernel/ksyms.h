/*
 * ksyms.h — the kernel's own function symbols, for backtraces.
 *
 * The table is generated from the first link pass (scripts/gen-ksyms.sh)
 * and linked into the final image, so every text symbol of the running
 * kernel has a name here.
 */
#ifndef NOS_KSYMS_H
#define NOS_KSYMS_H

#include "types.h"

/*
 * Find the function containing @addr.  Returns its name and sets @offset
 * (addr - start) and @size (for an assembly label without a recorded size,
 * the distance to the next symbol); NULL when @addr lies in no known
 * function.
 */
const char *ksyms_lookup(u64 addr, u64 *offset, u64 *size);

/* Start address of the function called @name, or 0. */
u64 ksyms_address(const char *name);

/* Number of symbols in the table. */
u64 ksyms_count_get(void);

#endif
