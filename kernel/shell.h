/*
 * shell.h — the kernel shell: sessions, commands and their output.
 *
 * A shell session (struct sh) is an output sink plus the state of one
 * interactive user.  The console loop (shell_run_console) owns one; the UDP
 * shell creates others.  Commands never write to a device: they print
 * through sh_printf()/sh_write(), so the same command works on serial, VGA
 * and the network.
 *
 * Commands are declared next to the subsystem they show with SHELL_CMD(),
 * which puts a pointer to a struct sh_cmd in the "shell_cmds" linker section;
 * `help` lists whatever the section holds, so a command exists by being
 * linked in.  The core (shell_exec.c) checks the argument count against
 * min_args/max_args before calling the handler, so a handler sees only
 * counts it accepts.  A handler returns 0 or a negative errno; on -EINVAL
 * the core prints the command's usage line.  Handlers report other errors
 * themselves with sh_error().
 *
 * A line holds at most SHELL_ARGV_MAX words (kernel/shell_parse.h), so
 * max_args is at most SHELL_ARGV_MAX - 1; use that for "any number".
 * Names starting with '_' are hidden from `help` (test-only commands);
 * they can still be run.
 *
 * Rules for handlers, because several sessions (the console and each
 * UDP-shell client, each in its own task) may run the same command at
 * once and a user must always get the prompt back:
 *  - No function-level statics for working state: use the stack (a few
 *    hundred bytes) or kmalloc().
 *  - A handler that waits or loops for long can be interrupted (Ctrl-C):
 *    it uses the interruptible waits and checks task_interrupted() in its
 *    loops (kernel/sched.h), and then returns -EINTR — but only after the
 *    I/O it started no longer owns its buffers.
 *  - Long output stops when sh_output_error() says the sink failed.
 *  - Numbers from the user go through sh_parse_uint().
 */
#ifndef NOS_SHELL_H
#define NOS_SHELL_H

#include "types.h"
#include "compiler.h"

struct sh;

struct sh_cmd {
	const char *name;   /* what the user types */
	const char *usage;  /* arguments, e.g. "[direct|pagefault|divzero|ud]" */
	const char *help;   /* one line for `help` */
	int min_args;       /* arguments after the name, inclusive bounds */
	int max_args;
	int (*fn)(struct sh *sh, int argc, char **argv); /* argv[0] = name */
};

#define SHELL_CMD(name_, usage_, help_, min_, max_, fn_)                       \
	static const struct sh_cmd shcmd_desc_##fn_ = {                        \
		.name = name_,                                                 \
		.usage = usage_,                                               \
		.help = help_,                                                 \
		.min_args = min_,                                              \
		.max_args = max_,                                              \
		.fn = fn_,                                                     \
	};                                                                     \
	static const struct sh_cmd *const shcmd_ptr_##fn_                      \
		__section("shell_cmds") __used __aligned(8) = &shcmd_desc_##fn_

/*
 * Output sink of a session: receives raw bytes ('\n' line ends) and returns
 * 0, or a negative errno when it cannot take them (a network sink whose
 * peer is gone or too far behind).  After an error the session drops the
 * rest of the command's output without calling the sink again (see
 * sh_output_error()), so a sink never sees a command's output with a hole
 * in the middle.  Called from the task running the command.
 */
typedef int (*sh_write_fn)(void *ctx, const char *buf, size_t len);

/*
 * A session.  Whoever runs one (console loop, UDP shell) owns the struct
 * and sets it up with sh_init(); commands treat it as opaque and use the
 * functions below.  Used by one task at a time.
 */
struct sh {
	sh_write_fn write;
	void *ctx;
	const struct sh_cmd *cmd; /* the running command, for sh_error() */
	bool exit_requested;      /* see shell_request_exit() */
	int error;                /* the sink's first error in this line, or 0 */
};

/*
 * Output to the session.  sh_write() returns 0 or the sink's error;
 * sh_printf() the number of bytes written, or the sink's error.  Once the
 * sink has failed, both drop their output and return that error until the
 * next line starts (shell_exec() at the top level clears it).
 */
int sh_printf(struct sh *sh, const char *fmt, ...) __printf(2, 3);
int sh_write(struct sh *sh, const char *buf, size_t len);

/*
 * 0 while the session's output gets through, else the sink's error.  A
 * command whose output is long (a table, a log, a hex dump) checks it in
 * its loop and returns the error, so that a gone or stalled peer does not
 * keep it busy formatting lines nobody will read.
 */
int sh_output_error(const struct sh *sh);

/*
 * Parse the numeric argument @arg (decimal or 0x hex, the whole 64-bit
 * width checked) and require @min <= value <= @max.  On success stores it
 * in *@out and returns 0.  Otherwise prints one error line naming the
 * argument, e.g. "hang: seconds must be 1-30, not '99'", and returns
 * -EINVAL, so a handler can `return` it and the usage line follows.
 * @what is the argument's name as the usage line shows it.
 */
int sh_parse_uint(struct sh *sh, const char *arg, const char *what, u64 min, u64 max,
		  u64 *out);
/*
 * One-line error for the running command: "<cmd>: <message>".  Returns
 * -EINVAL so a handler can `return sh_error(sh, "...")`.
 */
int sh_error(struct sh *sh, const char *fmt, ...) __printf(2, 3);

/*
 * Parse and run one command line in session @sh.  Returns the command's
 * result, or -ENOENT for an unknown command, -EINVAL for a malformed line
 * (bad quoting, longer than CONFIG_SHELL_LINE_MAX, wrong number of
 * arguments), -E2BIG for too many words, or the sink's error when the
 * output did not get through (a command that succeeded otherwise).
 * Errors have already been printed to the session.
 */
int shell_exec(struct sh *sh, const char *line);

/* Make a session that writes through @write(@ctx, ...). */
void sh_init(struct sh *sh, sh_write_fn write, void *ctx);

/* Look up a command by name; NULL when there is none. */
const struct sh_cmd *shell_find(const char *name);

/*
 * Walk the commands in name order: the first with @prev == NULL, then the
 * one after @prev; NULL after the last.  Includes the hidden ones.
 */
const struct sh_cmd *shell_next_cmd(const struct sh_cmd *prev);

/*
 * Ask the loop running @sh to end once the current command returns (the
 * console loop then returns from shell_run_console(); other runners close
 * the session).  Used on the shutdown/reboot paths.
 */
void shell_request_exit(struct sh *sh);
bool shell_exit_requested(const struct sh *sh);

/* Run the interactive shell on the console; returns when a command asks the
 * shell to stop (shutdown/reboot paths). */
void shell_run_console(void);

#endif
