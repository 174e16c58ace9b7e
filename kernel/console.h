/*
 * console.h — the kernel console: where kernel messages and the interactive
 * shell meet the serial port and the VGA screen + PS/2 keyboard.
 *
 * Output goes to every enabled console device (kernel parameter
 * `console=serial|vga` picks one; the default is both).  Input is read from
 * every enabled input device.  Keyboard keys that have no ASCII code are
 * turned into the ANSI sequences a serial terminal sends (Up = ESC [ A,
 * Down = ESC [ B, Right = ESC [ C, Left = ESC [ D), so the shell sees one
 * byte stream whatever the device.
 *
 * While a shell session is active (console_set_shell_active(true)) kernel
 * messages go only to dmesg, not to the screen.
 */
#ifndef NOS_CONSOLE_H
#define NOS_CONSOLE_H

#include "types.h"

void console_init(void);
/* Write bytes to every enabled console ('\n' becomes CR LF on serial). */
void console_write(const char *buf, size_t len);
/* Take input from the devices' interrupts from now on (needs the IRQ layer). */
void console_enable_irq(void);
/* Called by an input device's IRQ handler when bytes arrived. */
void console_input_ready(void);

struct task;
/*
 * Ctrl-C.  While a console command runs, the shell names its task as the
 * console's foreground task; an input driver that receives Ctrl-C (byte 3)
 * calls console_interrupt(), which interrupts that task (task_interrupt())
 * and returns true: the byte is consumed.  With no foreground task it
 * returns false and the byte is input like any other (the line editor
 * cancels the line).  Any context.
 */
#define CONSOLE_CTRL_C 0x03
void console_set_foreground(struct task *t);
bool console_interrupt(void);
/*
 * console_write() without the lock, for the panic report only: the other
 * CPUs are stopped by then, perhaps while holding it.
 */
void console_write_panic(const char *buf, size_t len);
/* Next input byte, waiting for one (sleeping when input is IRQ-driven). */
int console_getc(void);
/* Next input byte, or -1 when none is waiting. */
int console_trygetc(void);
/* Clear the screen (VGA) / terminal (serial, via ANSI). */
void console_clear(void);
void console_set_shell_active(bool active);
bool console_shell_active(void);

#endif
