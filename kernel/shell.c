/*
 * shell.c — the interactive shell on the console.
 *
 * This is the only part of the shell that touches a device.  It glues three
 * pure pieces to the console: the line editor (shell_line.c) turns input
 * bytes into lines and says what to echo, the dispatcher (shell_exec.c)
 * runs a line in a session, and the session's output goes back to the
 * console.  See kernel/shell_priv.h for how the core is split and why.
 *
 * console_getc() waits for the next byte (keyboard or serial).  A command
 * runs as the console's foreground task: Ctrl-C typed meanwhile interrupts
 * it (see console_interrupt() and task_interrupt()).  While it runs,
 * console_set_shell_active(true) keeps kernel messages off the screen (they
 * still go to dmesg) so they do not tear through the line being typed.
 *
 * A command ends the loop with shell_request_exit() on the console session
 * (shutdown and reboot paths); the loop finishes that command, restores
 * kernel messages on the console and returns.
 *
 * The editor (about 35 KiB with its history) is static: there is one
 * console, and kernel stacks are far smaller than that.  History survives
 * a return from shell_run_console() and a later call.
 */
#include "kernel/shell.h"
#include "kernel/shell_line.h"
#include "kernel/shell_priv.h"
#include "kernel/console.h"
#include "kernel/sched.h"

static struct shell_line shell_console_line;
static bool shell_console_ready;

/* Echo and session output both go to every enabled console. */
static void shell_console_write(void *ctx, const char *buf, size_t len)
{
	console_write(buf, len);
}

/* The session's sink: the console never refuses output. */
static int shell_console_sink(void *ctx, const char *buf, size_t len)
{
	console_write(buf, len);
	return 0;
}

/* Feed console input to the editor until it finishes or drops a line. */
static enum shell_line_event shell_console_read(struct shell_line *sl)
{
	enum shell_line_event ev = SHELL_LINE_PENDING;
	int c;

	while (ev == SHELL_LINE_PENDING) {
		c = console_getc();
		if (c >= 0)
			ev = shell_line_feed(sl, (u8)c);
	}
	return ev;
}

/*
 * Run one command as the console's foreground task, so that Ctrl-C
 * interrupts it (console_interrupt()): its waits return -EINTR and its
 * loops stop, and the prompt comes back with "^C" on the line.
 */
static void shell_console_run(struct sh *sh, const char *line)
{
	task_clear_interrupt();
	console_set_foreground(task_current());
	shell_exec(sh, line);
	console_set_foreground(NULL);
	if (task_interrupted())
		sh_write(sh, "^C\n", 3);
	task_clear_interrupt();
}

static void shell_console_step(struct sh *sh, struct shell_line *sl)
{
	console_write("$ ", 2);
	switch (shell_console_read(sl)) {
	case SHELL_LINE_READY:
		shell_console_run(sh, shell_line_text(sl));
		break;
	case SHELL_LINE_TOO_LONG:
		sh_report_too_long(sh);
		break;
	default: /* cancelled: the editor already echoed "^C" */
		break;
	}
}

void shell_run_console(void)
{
	struct sh sh;

	if (!shell_console_ready) {
		shell_line_init(&shell_console_line, shell_console_write, NULL);
		shell_console_ready = true;
	}
	sh_init(&sh, shell_console_sink, NULL);
	console_set_shell_active(true);
	while (!shell_exit_requested(&sh))
		shell_console_step(&sh, &shell_console_line);
	console_set_shell_active(false);
}
