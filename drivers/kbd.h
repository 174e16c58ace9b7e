/*
 * kbd.h — the PS/2 keyboard behind the 8042 controller, US layout.
 */
#ifndef NOS_KBD_H
#define NOS_KBD_H

void kbd_init(void);
/* Switch input to the IRQ 1 handler.  0, or -errno (input stays polled). */
int kbd_enable_irq(void);
/*
 * Next byte of keyboard input, or -1 when none is waiting.  Keys without an
 * ASCII code arrive as the ANSI sequences a serial terminal would send
 * (arrows ESC [ A..D, Delete ESC [ 3 ~), one byte per call.
 */
int kbd_trygetc(void);

#endif
