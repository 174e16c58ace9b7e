/*
 * vga.h — the 80×25 VGA text screen.
 */
#ifndef NOS_VGA_H
#define NOS_VGA_H

#include "types.h"

void vga_init(void);
/* Reach the buffer through an uncached MMIO mapping (after paging_init). */
void vga_remap(void);
/* Write bytes: handles '\n', '\r', '\b', '\t'; scrolls at the bottom. */
void vga_write(const char *buf, size_t len);
void vga_clear(void);

#endif
