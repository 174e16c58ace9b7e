/*
 * console.c — fan-out of output to, and fan-in of input from, the console
 * devices (see console.h).
 *
 * Which devices are used is decided once by the `console=` parameter:
 * `serial` is COM1 only, `vga` is the screen and keyboard only, and the
 * default is both.  Input is polled until console_enable_irq() hands it to
 * the devices' interrupt handlers; from then on a task in console_getc()
 * sleeps on a wait queue that the handlers wake (console_input_ready()).
 */
#include "kernel/console.h"
#include "kernel/lock_order.h"
#include "drivers/kbd.h"
#include "drivers/serial.h"
#include "drivers/vga.h"
#include "kernel/params.h"
#include "kernel/sched.h"
#include "kernel/waitq.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

KPARAM(console, "console", "serial|vga", "use only this console (default: both)");

static bool use_serial = true, use_vga = true;
static volatile bool shell_active;
static spinlock_t console_lock = SPINLOCK_INIT_RANKED("console", LOCK_RANK_CONSOLE); /* serialises device output */

void console_init(void)
{
	serial_init();
	vga_init();
	kbd_init();
}

/* Move device buffers to their MMIO mappings once the page tables exist. */
void console_remap(void);

void console_remap(void)
{
	vga_remap();
}

/* Apply `console=`; called once parameters are parsed. */
void console_apply_params(void);

void console_apply_params(void)
{
	if (param_is("console", "serial"))
		use_vga = false;
	else if (param_is("console", "vga"))
		use_serial = false;
}

static void console_emit(const char *buf, size_t len)
{
	if (use_serial)
		serial_write(buf, len);
	if (use_vga)
		vga_write(buf, len);
}

void console_write(const char *buf, size_t len)
{
	u64 flags = spin_lock_irqsave(&console_lock);

	console_emit(buf, len);
	spin_unlock_irqrestore(&console_lock, flags);
}

void console_write_panic(const char *buf, size_t len)
{
	console_emit(buf, len);
}

int console_trygetc(void)
{
	int c = -1;

	if (use_serial)
		c = serial_trygetc();
	if (c < 0 && use_vga)
		c = kbd_trygetc();
	return c;
}

static bool input_irq;
static struct waitq input_wait; /* tasks in console_getc() */

void console_enable_irq(void)
{
	bool serial, kbd;

	waitq_init(&input_wait);
	serial = !use_serial || serial_enable_irq() == 0;
	kbd = !use_vga || kbd_enable_irq() == 0;
	input_irq = serial && kbd;
}

static struct task *volatile console_fg; /* [a] the task running a command */

void console_set_foreground(struct task *t)
{
	__atomic_store_n(&console_fg, t, __ATOMIC_RELEASE);
}

bool console_interrupt(void)
{
	struct task *t = __atomic_load_n(&console_fg, __ATOMIC_ACQUIRE);

	if (!t)
		return false;
	task_interrupt(t);
	return true;
}

void console_input_ready(void)
{
	if (input_irq)
		waitq_wake_all(&input_wait);
}

int console_getc(void)
{
	struct waitq_entry e;
	int c;

	while (!input_irq || !task_current()) { /* early boot: poll */
		if ((c = console_trygetc()) >= 0)
			return c;
		cpu_relax();
	}
	for (;;) {
		waitq_prepare(&input_wait, &e);
		c = console_trygetc();
		if (c >= 0)
			break;
		schedule();
		waitq_finish(&input_wait, &e);
	}
	waitq_finish(&input_wait, &e);
	return c;
}

void console_clear(void)
{
	if (use_vga)
		vga_clear();
	if (use_serial)
		serial_write("\033[H\033[2J", 7);
}

void console_set_shell_active(bool active)
{
	shell_active = active;
}

bool console_shell_active(void)
{
	return shell_active;
}
