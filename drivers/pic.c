/*
 * pic.c — the two cascaded 8259 interrupt controllers.
 *
 * nos routes interrupts through the IOAPIC, so the 8259s are only put
 * somewhere harmless: the initialisation sequence (ICW1-ICW4) moves their
 * vectors from the BIOS's 0x08-0x0F, which collide with CPU exceptions, to
 * 0x20-0x2F, then every line is masked.  A spurious IRQ 7 or 15 can still
 * arrive on 0x27/0x2F; the IRQ layer ignores those vectors.
 */
#include "drivers/pic.h"
#include "kernel/x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define ICW1_INIT_ICW4 0x11
#define ICW4_8086 0x01

void pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	io_wait();
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	io_wait();
	outb(PIC1_DATA, 0x20); /* ICW2: vector base */
	outb(PIC2_DATA, 0x28);
	io_wait();
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 0x02);
	io_wait();
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	io_wait();
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
}
