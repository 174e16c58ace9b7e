/*
 * pit.c — PIT channel 2 as a one-shot stopwatch.
 *
 * Channel 2's gate is bit 0 of port 0x61 and its output is bit 5.  In mode 0
 * ("interrupt on terminal count") the output goes low when the count is
 * loaded and high when it reaches zero, so polling bit 5 tells when exactly
 * @ticks / PIT_HZ seconds have passed.  Bit 1 (speaker data) stays off.
 */
#include "drivers/pit.h"
#include "kernel/x86.h"

#define PIT_CH0 0x40
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PORT_B 0x61
#define PORTB_GATE2 0x01
#define PORTB_SPEAKER 0x02
#define PORTB_OUT2 0x20
#define CMD_CH2_LOHI_MODE0 0xB0
#define CMD_CH0_LOHI_MODE2 0x34 /* rate generator */

void pit_ch2_start(u16 ticks)
{
	u8 b = inb(PORT_B);

	outb(PORT_B, (b & ~PORTB_SPEAKER) & ~PORTB_GATE2); /* gate low: hold */
	outb(PIT_CMD, CMD_CH2_LOHI_MODE0);
	outb(PIT_CH2, ticks & 0xFF);
	outb(PIT_CH2, ticks >> 8);
	outb(PORT_B, (b & ~PORTB_SPEAKER) | PORTB_GATE2); /* gate high: count */
}

bool pit_ch2_done(void)
{
	return inb(PORT_B) & PORTB_OUT2;
}

void pit_start_periodic(unsigned hz)
{
	u32 div = PIT_HZ / hz;

	outb(PIT_CMD, CMD_CH0_LOHI_MODE2);
	outb(PIT_CH0, div & 0xFF);
	outb(PIT_CH0, (div >> 8) & 0xFF);
}
