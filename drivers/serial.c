/*
 * serial.c — COM1, a 16550-compatible UART, driven by polling.
 *
 * Initialisation programs 115200 baud 8N1 with the FIFOs on and checks the
 * chip with its loopback mode: a port that does not echo a test byte is
 * treated as absent and output to it is dropped, so a machine without COM1
 * does not spin forever on the line-status register.
 */
#include "drivers/serial.h"
#include "kernel/x86.h"

#define COM1 0x3F8
#define REG_DATA 0
#define REG_IER 1
#define REG_FCR 2
#define REG_LCR 3
#define REG_MCR 4
#define REG_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define MCR_DTR_RTS_OUT2 0x0B
#define MCR_LOOPBACK 0x10

static bool serial_ok;

void serial_init(void)
{
	outb(COM1 + REG_IER, 0);
	outb(COM1 + REG_LCR, LCR_DLAB);
	outb(COM1 + REG_DATA, 1); /* divisor 1: 115200 baud */
	outb(COM1 + REG_IER, 0);
	outb(COM1 + REG_LCR, LCR_8N1);
	outb(COM1 + REG_FCR, 0xC7); /* enable + clear FIFOs, 14-byte trigger */
	outb(COM1 + REG_MCR, MCR_LOOPBACK | 0x0E);
	outb(COM1 + REG_DATA, 0xAE);
	serial_ok = inb(COM1 + REG_DATA) == 0xAE;
	outb(COM1 + REG_MCR, MCR_DTR_RTS_OUT2);
}

bool serial_present(void)
{
	return serial_ok;
}

static void serial_putc(char c)
{
	unsigned spins = 0;

	/* Bounded wait: a wedged UART must not hang the kernel. */
	while (!(inb(COM1 + REG_LSR) & LSR_THR_EMPTY) && ++spins < 1000000)
		;
	outb(COM1 + REG_DATA, (u8)c);
}

void serial_write(const char *buf, size_t len)
{
	if (!serial_ok)
		return;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n')
			serial_putc('\r');
		serial_putc(buf[i]);
	}
}

int serial_trygetc(void)
{
	if (!serial_ok || !(inb(COM1 + REG_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + REG_DATA);
}
