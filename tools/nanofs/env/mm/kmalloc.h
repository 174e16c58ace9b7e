/*
 * tools/nanofs/env/mm/kmalloc.h — the kernel heap in the host tool: the C
 * library's allocator (tools/nanofs/env.c).  Same contract as the kernel's
 * mm/kmalloc.h: NULL for size 0 or when memory is short; kfree(NULL) is a
 * no-op.
 */
#ifndef NOS_KMALLOC_H
#define NOS_KMALLOC_H

#include "types.h"

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

#endif
