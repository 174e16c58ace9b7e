/*
 * kmalloc.h — kernel heap allocation.
 *
 * kmalloc(size) returns memory aligned to at least 32 bytes (to the size
 * class for pool objects, to a page above 2 KiB), or NULL when @size is 0,
 * larger than 128 pages, or memory is short.  kfree(NULL) does nothing.
 * The caller owns what it allocates and frees it exactly once; freeing
 * anything else panics (kernel bug).  Usable once mm_init() has run; any
 * context; never sleeps.
 */
#ifndef NOS_KMALLOC_H
#define NOS_KMALLOC_H

#include "types.h"

struct pool_class_stats;

/* Set up the pools; mm_init() calls it once the page allocator works. */
void kmalloc_init(void);

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

/* Give the pools' cached empty slabs back to the page allocator. */
void kmalloc_shrink(void);
/* Statistics of pool class @idx (0 = 32 bytes ... 6 = 2 KiB); -EINVAL past the last. */
int kmalloc_class_stats(unsigned idx, struct pool_class_stats *st);

#endif
