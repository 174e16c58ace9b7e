/*
 * kbd.c — PS/2 keyboard through the 8042 controller.
 *
 * The controller translates the keyboard's scan codes to set 1, which this
 * driver decodes: a make code per key, the same code | 0x80 on release, and
 * the prefix 0xE0 for the extended keys (arrows, Delete, right Ctrl).  The
 * driver tracks Shift, Ctrl and Caps Lock and turns key presses into bytes;
 * Ctrl+letter gives the control code (Ctrl-C = 3, Ctrl-U = 21).
 *
 * Input is polled until kbd_enable_irq(); then the IRQ 1 handler decodes
 * scan codes as they come and puts the bytes in a ring that kbd_trygetc()
 * reads (one producer, one consumer: no lock).  When polled, bytes of a
 * multi-byte sequence wait in a small pending queue.
 */
#include "drivers/kbd.h"
#include "errno.h"
#include "kernel/console.h"
#include "kernel/irq.h"
#include "kernel/x86.h"
#include "lib/ring.h"
#include "types.h"

#define KBD_DATA 0x60
#define KBD_STATUS 0x64
#define STATUS_OUT_FULL 0x01
#define STATUS_AUX 0x20

#define SC_LSHIFT 0x2A
#define SC_RSHIFT 0x36
#define SC_CTRL 0x1D
#define SC_CAPS 0x3A
#define SC_EXTENDED 0xE0
#define SC_RELEASE 0x80

static const char keymap[128] = {
	0, 27, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', '\b',
	'\t', 'q', 'w', 'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\r',
	0, 'a', 's', 'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`',
	0, '\\', 'z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/', 0,
	'*', 0, ' ',
};

static const char keymap_shift[128] = {
	0, 27, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', '\b',
	'\t', 'Q', 'W', 'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\r',
	0, 'A', 'S', 'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~',
	0, '|', 'Z', 'X', 'C', 'V', 'B', 'N', 'M', '<', '>', '?', 0,
	'*', 0, ' ',
};

static u8 rx_storage[256];
static struct ring rx_ring;

static struct {
	bool present, irq_mode;
	bool shift, ctrl, caps, extended;
	char pending[4];
	unsigned npending, next;
} kbd;

static void kbd_queue(const char *seq)
{
	kbd.npending = kbd.next = 0;
	while (*seq && kbd.npending < sizeof(kbd.pending))
		kbd.pending[kbd.npending++] = *seq++;
}

static bool kbd_modifier(u8 code, bool released)
{
	switch (code) {
	case SC_LSHIFT:
	case SC_RSHIFT:
		kbd.shift = !released;
		return true;
	case SC_CTRL:
		kbd.ctrl = !released;
		return true;
	case SC_CAPS:
		if (!released)
			kbd.caps = !kbd.caps;
		return true;
	}
	return false;
}

static void kbd_extended_key(u8 code)
{
	switch (code) {
	case 0x48: kbd_queue("\033[A"); break;
	case 0x50: kbd_queue("\033[B"); break;
	case 0x4D: kbd_queue("\033[C"); break;
	case 0x4B: kbd_queue("\033[D"); break;
	case 0x53: kbd_queue("\033[3~"); break;
	case 0x1C: kbd_queue("\r"); break; /* keypad Enter */
	}
}

static char kbd_translate(u8 code)
{
	char c = (kbd.shift ? keymap_shift : keymap)[code];
	bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

	if (letter && kbd.caps)
		c ^= 0x20;
	if (kbd.ctrl && letter)
		c &= 0x1F;
	return c;
}

static void kbd_scancode(u8 sc)
{
	bool released = sc & SC_RELEASE;
	u8 code = sc & ~SC_RELEASE;

	if (sc == SC_EXTENDED) {
		kbd.extended = true;
		return;
	}
	if (kbd.extended) {
		kbd.extended = false;
		if (code == SC_CTRL)
			kbd.ctrl = !released;
		else if (!released)
			kbd_extended_key(code);
		return;
	}
	if (kbd_modifier(code, released) || released)
		return;
	char c = kbd_translate(code);
	if (c) {
		char s[2] = { c, 0 };
		kbd_queue(s);
	}
}

void kbd_init(void)
{
	unsigned n = 0;

	/* A missing controller floats the bus: the status reads all ones. */
	kbd.present = inb(KBD_STATUS) != 0xFF;
	while (kbd.present && (inb(KBD_STATUS) & STATUS_OUT_FULL) && n++ < 64)
		(void)inb(KBD_DATA);
}

/* Move the decoded bytes of the last scan code to the ring. */
static void kbd_flush_pending(void)
{
	while (kbd.next < kbd.npending) {
		u8 c = (u8)kbd.pending[kbd.next++];

		if (c == CONSOLE_CTRL_C && console_interrupt())
			continue; /* it stopped the running command */
		ring_put(&rx_ring, c);
	}
}

static enum irq_result kbd_irq(void *arg)
{
	bool any = false;
	u8 status;

	while ((status = inb(KBD_STATUS)) & STATUS_OUT_FULL) {
		u8 sc = inb(KBD_DATA);

		any = true;
		if (status & STATUS_AUX)
			continue;
		kbd_scancode(sc);
		kbd_flush_pending();
	}
	if (any)
		console_input_ready();
	return any ? IRQ_HANDLED : IRQ_NONE;
}

int kbd_enable_irq(void)
{
	int rc;

	if (!kbd.present)
		return -ENODEV;
	ring_init(&rx_ring, rx_storage, sizeof(rx_storage));
	kbd.irq_mode = true;
	rc = irq_request_isa(1, kbd_irq, NULL, "keyboard");
	if (rc)
		kbd.irq_mode = false;
	return rc;
}

int kbd_trygetc(void)
{
	u8 c;

	if (kbd.irq_mode)
		return ring_get(&rx_ring, &c) ? -1 : c;
	while (kbd.next == kbd.npending) {
		u8 status;

		if (!kbd.present)
			return -1;
		status = inb(KBD_STATUS);
		if (!(status & STATUS_OUT_FULL))
			return -1;
		u8 sc = inb(KBD_DATA);
		if (!(status & STATUS_AUX))
			kbd_scancode(sc);
	}
	return (u8)kbd.pending[kbd.next++];
}
