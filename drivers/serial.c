/*
 * serial.c — COM1, a 16550-compatible UART, driven by polling.
 *
 * Initialisation programs 115200 baud 8N1 with the FIFOs on and checks the
 * chip with its loopback mode: a port that does not echo a test byte is
 * treated as absent and output to it is dropped, so a machine without COM1
 * does not spin forever on the line-status register.
 *
 * Output is always polled (it is also the panic path).  Input starts polled
 * and becomes interrupt-driven with serial_enable_irq(): the IRQ 4 handler
 * drains the receive FIFO into a ring that serial_trygetc() reads.  The
 * handler is the ring's only producer and the console its only consumer,
 * so the ring needs no lock.  When the ring is full the handler turns the
 * receive interrupt off and leaves further bytes in the UART (whose sender
 * then waits), and the reader turns it back on once there is room: input
 * is delayed, never dropped.
 */
#include "drivers/serial.h"
#include "errno.h"
#include "kernel/console.h"
#include "kernel/irq.h"
#include "kernel/x86.h"
#include "lib/ring.h"

#define COM1 0x3F8
#define REG_DATA 0
#define REG_IER 1
#define IER_RX_AVAILABLE 0x01
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
static bool serial_irq_mode;
static u8 rx_storage[1024];
static struct ring rx_ring;

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

static int serial_poll(void)
{
	if (!serial_ok || !(inb(COM1 + REG_LSR) & LSR_DATA_READY))
		return -1;
	return inb(COM1 + REG_DATA);
}

static volatile bool rx_paused; /* ring full: RX interrupt off, bytes wait in the UART */

int serial_trygetc(void)
{
	u8 c;

	if (!serial_irq_mode)
		return serial_poll();
	if (ring_get(&rx_ring, &c))
		return -1;
	if (rx_paused && ring_free(&rx_ring) >= 16) {
		u64 flags = read_rflags();

		cli();
		rx_paused = false;
		outb(COM1 + REG_IER, IER_RX_AVAILABLE); /* what waited raises it again */
		if (flags & RFLAGS_IF)
			sti();
	}
	return c;
}

static enum irq_result serial_irq(void *arg)
{
	bool any = false;
	int c;

	while (!ring_full(&rx_ring) && (c = serial_poll()) >= 0) {
		any = true;
		if (c == CONSOLE_CTRL_C && console_interrupt())
			continue; /* it stopped the running command */
		ring_put(&rx_ring, (u8)c);
	}
	if (ring_full(&rx_ring)) {
		/* Leave the rest in the UART: the sender is held back, nothing is lost. */
		rx_paused = true;
		outb(COM1 + REG_IER, 0);
	}
	if (any)
		console_input_ready();
	return any ? IRQ_HANDLED : IRQ_NONE;
}

int serial_enable_irq(void)
{
	int rc;

	if (!serial_ok)
		return -ENODEV;
	ring_init(&rx_ring, rx_storage, sizeof(rx_storage));
	serial_irq_mode = true;
	rc = irq_request_isa(4, serial_irq, NULL, "serial");
	if (rc) {
		serial_irq_mode = false;
		return rc;
	}
	outb(COM1 + REG_IER, IER_RX_AVAILABLE);
	return 0;
}
