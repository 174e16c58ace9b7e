/*
 * mm.h — bringing up memory management.
 */
#ifndef NOS_MM_H
#define NOS_MM_H

/*
 * Build the memory map, the page allocator and the kernel page tables (W^X
 * image, direct map of all RAM), in that order.  Panics when the machine
 * has no usable RAM or the tables cannot be built: there is no kernel
 * without them.
 */
void mm_init(void);

#endif
