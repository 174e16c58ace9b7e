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

/* Output sink of a session: receives raw bytes ('\n' line ends). */
typedef void (*sh_write_fn)(void *ctx, const char *buf, size_t len);

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
};

/* Formatted output to the session.  Returns the number of bytes written. */
int sh_printf(struct sh *sh, const char *fmt, ...) __printf(2, 3);
void sh_write(struct sh *sh, const char *buf, size_t len);
/*
 * One-line error for the running command: "<cmd>: <message>".  Returns
 * -EINVAL so a handler can `return sh_error(sh, "...")`.
 */
int sh_error(struct sh *sh, const char *fmt, ...) __printf(2, 3);

/*
 * Parse and run one command line in session @sh.  Returns the command's
 * result, or -ENOENT for an unknown command, -EINVAL for a malformed line
 * (bad quoting, longer than CONFIG_SHELL_LINE_MAX, wrong number of
 * arguments), -E2BIG for too many words.  Errors have already been printed
 * to the session.
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
