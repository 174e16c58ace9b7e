/*
 * vga.c — VGA text mode, 80 columns × 25 rows at physical 0xB8000.
 *
 * Each cell is a character byte and an attribute byte.  Until the kernel
 * page tables exist the buffer is reached through the boot direct map;
 * vga_remap() then moves it to an uncached MMIO mapping, as device memory
 * should be.  The hardware
 * cursor follows the write position through the CRT controller (ports
 * 0x3D4/0x3D5).  Control characters: '\n' new line, '\r' column 0, '\b'
 * one column back (the shell erases with "\b \b"), '\t' to the next
 * multiple of 8; other bytes below 0x20 are not drawn.
 */
#include "drivers/vga.h"
#include "kernel/x86.h"
#include "mm/addr.h"
#include "mm/paging.h"

#define VGA_PHYS 0xB8000
#define COLS 80
#define ROWS 25
#define ATTR 0x07 /* light grey on black */
#define CRTC_INDEX 0x3D4
#define CRTC_DATA 0x3D5

static volatile u16 *vga_mem;
static unsigned vga_row, vga_col;

static u16 vga_cell(char c)
{
	return (u16)(u8)c | (ATTR << 8);
}

static void vga_move_cursor(void)
{
	unsigned pos = vga_row * COLS + vga_col;

	outb(CRTC_INDEX, 0x0F);
	outb(CRTC_DATA, pos & 0xFF);
	outb(CRTC_INDEX, 0x0E);
	outb(CRTC_DATA, (pos >> 8) & 0xFF);
}

static void vga_scroll(void)
{
	for (unsigned i = 0; i < (ROWS - 1) * COLS; i++)
		vga_mem[i] = vga_mem[i + COLS];
	for (unsigned i = (ROWS - 1) * COLS; i < ROWS * COLS; i++)
		vga_mem[i] = vga_cell(' ');
	vga_row = ROWS - 1;
}

static void vga_newline(void)
{
	vga_col = 0;
	if (++vga_row == ROWS)
		vga_scroll();
}

static void vga_putc(char c)
{
	switch (c) {
	case '\n':
		vga_newline();
		return;
	case '\r':
		vga_col = 0;
		return;
	case '\b':
		if (vga_col)
			vga_col--;
		return;
	case '\t':
		vga_col = (vga_col + 8) & ~7u;
		break;
	default:
		if ((u8)c < 0x20)
			return;
		vga_mem[vga_row * COLS + vga_col++] = vga_cell(c);
	}
	if (vga_col >= COLS)
		vga_newline();
}

void vga_write(const char *buf, size_t len)
{
	if (!vga_mem)
		return;
	for (size_t i = 0; i < len; i++)
		vga_putc(buf[i]);
	vga_move_cursor();
}

void vga_clear(void)
{
	for (unsigned i = 0; i < ROWS * COLS; i++)
		vga_mem[i] = vga_cell(' ');
	vga_row = vga_col = 0;
	vga_move_cursor();
}

void vga_init(void)
{
	vga_mem = phys_to_virt(VGA_PHYS);
	vga_clear();
}

void vga_remap(void)
{
	volatile u16 *m = mmio_map(VGA_PHYS, ROWS * COLS * 2);

	if (m)
		vga_mem = m;
}
