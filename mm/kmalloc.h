/*
 * kmalloc.h — kernel heap allocation.
 *
 * kmalloc(size) returns 16-byte-aligned memory or NULL when the heap is
 * exhausted; kfree(NULL) does nothing.  The caller owns what it allocates
 * and frees it exactly once.  Any context may call these (a spinlock with
 * interrupts off guards the heap); they never sleep.
 */
#ifndef NOS_KMALLOC_H
#define NOS_KMALLOC_H

#include "types.h"

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);
/* Bytes currently free in the heap (for tests and memusage). */
size_t kmalloc_free_bytes(void);

#endif
