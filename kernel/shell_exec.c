/*
 * shell_exec.c — shell sessions, their output, command dispatch and `help`.
 *
 * Everything here reaches the outside world only through a session's write
 * callback, so the file builds unchanged for the host unit tests; the
 * console loop that feeds it lives in shell.c.
 *
 * Commands.  SHELL_CMD() leaves a pointer to each struct sh_cmd in the
 * "shell_cmds" section.  Because the section name is a C identifier, the
 * linker (or the kernel linker script) defines __start_shell_cmds and
 * __stop_shell_cmds around it, and the section *is* the command table:
 * lookup is a linear scan, which is plenty for a few dozen commands typed
 * by a person.  The table is in link order; shell_next_cmd() gives name
 * order without a heap or a copy by always picking the smallest name after
 * the previous one (quadratic, but only `help` walks the whole table).
 *
 * Dispatch.  shell_exec() copies the line (the caller's stays intact and
 * may be const), tokenizes it, checks the argument count against the
 * command's bounds and calls the handler.  Every failure the core detects
 * prints exactly one line; a handler's -EINVAL adds the usage line, so a
 * "bad argument" message from the handler is followed by how to do it
 * right.
 *
 * Output and back-pressure.  A sink may refuse output (sh_write_fn); the
 * first error sticks in the session until the next top-level line, every
 * later write is dropped and returns it, and shell_exec() hands it back.
 * So a command never has to check each sh_printf(): it checks
 * sh_output_error() where it loops, and a sink never sees output resume
 * after a hole.
 *
 * Text the user typed comes back in the core's error lines quoted where a
 * bare copy would mislead: a command name as typed when that is
 * unambiguous, else (and a rejected number always) in single quotes with
 * unprintable bytes as \xNN — an empty name shows as '', and no control
 * byte from a hostile line reaches the terminal.
 *
 * Formatting.  sh_printf() formats into a 512-byte stack buffer, which holds
 * nearly everything commands print.  When the result does not fit it does
 * not truncate: it walks the format itself, writing literal text and %s/%c
 * arguments straight to the session and formatting one numeric conversion
 * at a time with snprintf(), so a long string argument is printed in full
 * without a heap.  Limits of that path: field widths are capped at
 * SH_WIDTH_MAX and a single numeric conversion at SH_NUM_BUF - 1
 * characters (only an absurd precision reaches it).  Floating point is not
 * supported anywhere in the kernel.
 */
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/shell_priv.h"
#include "lib/format.h"
#include "lib/parse.h"
#include "lib/string.h"
#include "config.h"
#include "errno.h"

extern const struct sh_cmd *const __start_shell_cmds[];
extern const struct sh_cmd *const __stop_shell_cmds[];

#define SH_FMT_BUF 512   /* sh_printf()'s stack buffer */
#define SH_NUM_BUF 128   /* one numeric conversion on the long path */
#define SH_WIDTH_MAX 4096
#define SH_HELP_COLUMN 32 /* widest "name usage" that `help` lines up */

/* ------------------------------------------------------------ sessions */

void sh_init(struct sh *sh, sh_write_fn write, void *ctx)
{
	sh->write = write;
	sh->ctx = ctx;
	sh->cmd = NULL;
	sh->exit_requested = false;
	sh->error = 0;
}

int sh_write(struct sh *sh, const char *buf, size_t len)
{
	int rc;

	if (sh->error || !len)
		return sh->error;
	rc = sh->write(sh->ctx, buf, len);
	if (rc < 0)
		sh->error = rc;
	return sh->error;
}

int sh_output_error(const struct sh *sh)
{
	return sh->error;
}

/* The name error lines start with: the running command's, or the shell's. */
static const char *sh_who(const struct sh *sh)
{
	return sh->cmd ? sh->cmd->name : "shell";
}

void shell_request_exit(struct sh *sh)
{
	sh->exit_requested = true;
}

bool shell_exit_requested(const struct sh *sh)
{
	return sh->exit_requested;
}

/* Write @n copies of @c (spaces for alignment, zeros for %0Nd). */
static void sh_fill(struct sh *sh, char c, size_t n)
{
	char run[32];
	size_t step;

	memset(run, c, sizeof(run));
	while (n && !sh->error) {
		step = MIN(n, sizeof(run));
		sh_write(sh, run, step);
		n -= step;
	}
}

/* ----------------------------------------------- long formatted output */

/* One conversion specification of a format string, parsed. */
struct sh_conv {
	bool left, plus, space, alt, zero; /* flags - + space # 0 */
	int width; /* 0 when absent */
	int prec;  /* -1 when absent */
	char size; /* length modifier: 'H' = hh, 'L' = ll, else as written */
	char conv; /* conversion character; '\0' if the format ended */
};

static bool sh_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

static const char *sh_conv_flags(const char *p, struct sh_conv *cv)
{
	for (;; p++) {
		if (*p == '-')
			cv->left = true;
		else if (*p == '+')
			cv->plus = true;
		else if (*p == ' ')
			cv->space = true;
		else if (*p == '#')
			cv->alt = true;
		else if (*p == '0')
			cv->zero = true;
		else
			return p;
	}
}

/* A width or precision: digits, or '*' taken from the arguments. */
static const char *sh_conv_number(const char *p, int *out, va_list *ap)
{
	int v = 0;

	if (*p == '*') {
		*out = va_arg(*ap, int);
		return p + 1;
	}
	for (; sh_isdigit(*p); p++)
		if (v <= SH_WIDTH_MAX)
			v = v * 10 + (*p - '0');
	*out = v;
	return p;
}

static const char *sh_conv_size(const char *p, struct sh_conv *cv)
{
	if ((p[0] == 'h' || p[0] == 'l') && p[1] == p[0]) {
		cv->size = p[0] == 'h' ? 'H' : 'L';
		return p + 2;
	}
	if (*p == 'h' || *p == 'l' || *p == 'z' || *p == 'j' || *p == 't')
		cv->size = *p++;
	return p;
}

/* Parse the specification at @p (which points at '%'); returns its end. */
static const char *sh_conv_parse(const char *p, struct sh_conv *cv, va_list *ap)
{
	int w;

	*cv = (struct sh_conv){ .prec = -1 };
	p = sh_conv_flags(p + 1, cv);
	if (*p == '*' || sh_isdigit(*p)) {
		p = sh_conv_number(p, &w, ap);
		if (w < 0) { /* "%*d" with a negative width means '-' */
			cv->left = true;
			w = w < -SH_WIDTH_MAX ? SH_WIDTH_MAX : -w;
		}
		cv->width = MIN(w, SH_WIDTH_MAX);
	}
	if (*p == '.') {
		p = sh_conv_number(p + 1, &cv->prec, ap);
		cv->prec = cv->prec < 0 ? -1 : cv->prec; /* negative: as if absent */
	}
	p = sh_conv_size(p, cv);
	cv->conv = *p;
	return *p ? p + 1 : p;
}

/* Write @s (@n bytes) padded to the field width, as printf would. */
static int sh_put_field(struct sh *sh, const struct sh_conv *cv, const char *s,
			size_t n, bool numeric)
{
	size_t width = (size_t)cv->width;
	size_t pad = width > n ? width - n : 0;
	size_t head = 0;

	if (cv->left) {
		sh_write(sh, s, n);
		sh_fill(sh, ' ', pad);
	} else if (numeric && cv->zero && cv->prec < 0) {
		/* zeros go between a sign or 0x prefix and the digits */
		if (head < n && (s[0] == '-' || s[0] == '+' || s[0] == ' '))
			head++;
		if (head + 1 < n && s[head] == '0' && (s[head + 1] | 0x20) == 'x')
			head += 2;
		sh_write(sh, s, head);
		sh_fill(sh, '0', pad);
		sh_write(sh, s + head, n - head);
	} else {
		sh_fill(sh, ' ', pad);
		sh_write(sh, s, n);
	}
	return (int)(n + pad);
}

static long long sh_arg_signed(const struct sh_conv *cv, va_list *ap)
{
	switch (cv->size) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z':
	case 't': return va_arg(*ap, ptrdiff_t);
	case 'j': return va_arg(*ap, intmax_t);
	default: return va_arg(*ap, int);
	}
}

static unsigned long long sh_arg_unsigned(const struct sh_conv *cv, va_list *ap)
{
	switch (cv->size) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned int);
	case 'h': return (unsigned short)va_arg(*ap, unsigned int);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z':
	case 't': return va_arg(*ap, size_t);
	case 'j': return va_arg(*ap, uintmax_t);
	default: return va_arg(*ap, unsigned int);
	}
}

/* The format for snprintf(): the flags and precision of @cv, width-less. */
static void sh_number_spec(const struct sh_conv *cv, char *spec)
{
	*spec++ = '%';
	if (cv->plus)
		*spec++ = '+';
	if (cv->space)
		*spec++ = ' ';
	if (cv->alt)
		*spec++ = '#';
	if (cv->prec >= 0)
		spec += snprintf(spec, 8, ".%d", MIN(cv->prec, SH_NUM_BUF));
	snprintf(spec, 4, "ll%c", cv->conv);
}

/*
 * An integer or pointer conversion: snprintf() formats the value with the
 * flags and precision (as a long long, whatever its size was), and the
 * width is applied here so that it cannot overflow the small buffer.
 */
static int sh_put_number(struct sh *sh, const struct sh_conv *cv, va_list *ap)
{
	char spec[24], out[SH_NUM_BUF];
	int n;

	sh_number_spec(cv, spec);
	if (cv->conv == 'p')
		n = snprintf(out, sizeof(out), "%p", va_arg(*ap, void *));
	else if (cv->conv == 'd' || cv->conv == 'i')
		n = snprintf(out, sizeof(out), spec, sh_arg_signed(cv, ap));
	else
		n = snprintf(out, sizeof(out), spec, sh_arg_unsigned(cv, ap));
	n = n < 0 ? 0 : MIN(n, (int)sizeof(out) - 1);
	return sh_put_field(sh, cv, out, (size_t)n, true);
}

static int sh_put_string(struct sh *sh, const struct sh_conv *cv, const char *s)
{
	size_t n = 0;

	if (!s)
		s = "(null)";
	while (s[n] && (cv->prec < 0 || n < (size_t)cv->prec))
		n++;
	return sh_put_field(sh, cv, s, n, false);
}

/* Output one parsed conversion; @spec..@end is its text in the format. */
static int sh_put_conv(struct sh *sh, const struct sh_conv *cv,
		       const char *spec, const char *end, va_list *ap)
{
	char c;

	switch (cv->conv) {
	case 's':
		return sh_put_string(sh, cv, va_arg(*ap, const char *));
	case 'c':
		c = (char)va_arg(*ap, int);
		return sh_put_field(sh, cv, &c, 1, false);
	case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': case 'p':
		return sh_put_number(sh, cv, ap);
	case '%':
		sh_write(sh, "%", 1);
		return 1;
	default: /* unknown: print it as written, consume nothing more */
		sh_write(sh, spec, (size_t)(end - spec));
		return (int)(end - spec);
	}
}

/* Not inlined: its buffers would burden the stack of every sh_printf(). */
static __noinline int sh_vprintf_long(struct sh *sh, const char *fmt,
				      va_list args)
{
	struct sh_conv cv;
	const char *p = fmt, *start;
	va_list ap;
	int total = 0;

	va_copy(ap, args);
	while (*p && !sh->error) {
		for (start = p; *p && *p != '%'; p++)
			;
		sh_write(sh, start, (size_t)(p - start));
		total += (int)(p - start);
		if (!*p)
			break;
		start = p;
		p = sh_conv_parse(p, &cv, &ap);
		total += sh_put_conv(sh, &cv, start, p, &ap);
	}
	va_end(ap);
	return sh->error ? sh->error : total;
}

static int sh_vprintf(struct sh *sh, const char *fmt, va_list ap)
{
	char buf[SH_FMT_BUF];
	va_list again;
	int n;

	if (sh->error)
		return sh->error; /* the sink failed: nothing more is formatted */
	va_copy(again, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= 0 && (size_t)n < sizeof(buf)) {
		if (sh_write(sh, buf, (size_t)n))
			n = sh->error;
	} else {
		n = sh_vprintf_long(sh, fmt, again);
	}
	va_end(again);
	return n;
}

int sh_printf(struct sh *sh, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = sh_vprintf(sh, fmt, ap);
	va_end(ap);
	return n;
}

int sh_error(struct sh *sh, const char *fmt, ...)
{
	va_list ap;

	sh_printf(sh, "%s: ", sh_who(sh));
	va_start(ap, fmt);
	sh_vprintf(sh, fmt, ap);
	va_end(ap);
	sh_write(sh, "\n", 1);
	return -EINVAL;
}

int sh_report_too_long(struct sh *sh)
{
	return sh_error(sh, "line too long (max %d characters)",
			CONFIG_SHELL_LINE_MAX);
}

/* ------------------------------------------------------- typed text */

/* A byte that reads the same bare as typed: no blank, quote, escape or control. */
static bool sh_plain_byte(char c)
{
	return c > ' ' && c < 0x7F && c != '\'' && c != '"' && c != '\\';
}

static bool sh_plain_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!sh_plain_byte(*s))
			return false;
	return true;
}

/* @s in single quotes, with ' and \ escaped and unprintable bytes as \xNN. */
static void sh_put_quoted(struct sh *sh, const char *s)
{
	sh_write(sh, "'", 1);
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			sh_printf(sh, "\\%c", *s);
		else if ((u8)*s >= ' ' && (u8)*s < 0x7F)
			sh_write(sh, s, 1);
		else
			sh_printf(sh, "\\x%02x", (u8)*s);
	}
	sh_write(sh, "'", 1);
}

/* A command name the user typed: bare when that is unambiguous, else quoted. */
static void sh_put_name(struct sh *sh, const char *name)
{
	if (sh_plain_name(name))
		sh_write(sh, name, strlen(name));
	else
		sh_put_quoted(sh, name);
}

int sh_parse_uint(struct sh *sh, const char *arg, const char *what, u64 min, u64 max,
		  u64 *out)
{
	if (parse_u64_range(arg, min, max, out) == 0)
		return 0;
	if (min == max)
		sh_printf(sh, "%s: %s must be %llu, not ", sh_who(sh), what,
			  (unsigned long long)min);
	else
		sh_printf(sh, "%s: %s must be %llu-%llu, not ", sh_who(sh), what,
			  (unsigned long long)min, (unsigned long long)max);
	sh_put_quoted(sh, arg);
	sh_write(sh, "\n", 1);
	return -EINVAL;
}

/* ------------------------------------------------------ command table */

const struct sh_cmd *shell_find(const char *name)
{
	const struct sh_cmd *const *p;

	for (p = __start_shell_cmds; p < __stop_shell_cmds; p++)
		if (strcmp((*p)->name, name) == 0)
			return *p;
	return NULL;
}

/* Name order; the position in the table breaks ties between equal names. */
static bool sh_sorts_before(const struct sh_cmd *const *a,
			    const struct sh_cmd *const *b)
{
	int d = strcmp((*a)->name, (*b)->name);

	return d < 0 || (d == 0 && a < b);
}

const struct sh_cmd *shell_next_cmd(const struct sh_cmd *prev)
{
	const struct sh_cmd *const *p, *const *from = NULL, *const *best = NULL;

	for (p = __start_shell_cmds; prev && p < __stop_shell_cmds; p++)
		if (*p == prev)
			from = p;
	if (prev && !from)
		return NULL; /* not one of ours */
	for (p = __start_shell_cmds; p < __stop_shell_cmds; p++)
		if ((!from || sh_sorts_before(from, p)) &&
		    (!best || sh_sorts_before(p, best)))
			best = p;
	return best ? *best : NULL;
}

/* ----------------------------------------------------------- dispatch */

/* "name usage" without a newline; returns its length. */
static size_t sh_put_synopsis(struct sh *sh, const struct sh_cmd *cmd)
{
	size_t n = strlen(cmd->name);

	sh_write(sh, cmd->name, n);
	if (!cmd->usage[0])
		return n;
	sh_write(sh, " ", 1);
	sh_write(sh, cmd->usage, strlen(cmd->usage));
	return n + 1 + strlen(cmd->usage);
}

static void sh_put_usage(struct sh *sh, const char *lead,
			 const struct sh_cmd *cmd)
{
	sh_write(sh, lead, strlen(lead));
	sh_put_synopsis(sh, cmd);
	sh_write(sh, "\n", 1);
}

static int sh_run(struct sh *sh, const struct sh_cmd *cmd,
		  struct shell_args *args)
{
	const struct sh_cmd *outer = sh->cmd; /* a command may run a line */
	int nargs = args->argc - 1;
	int ret;

	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		sh_printf(sh, "%s: wrong number of arguments; ", cmd->name);
		sh_put_usage(sh, "usage: ", cmd);
		return -EINVAL;
	}
	sh->cmd = cmd;
	ret = cmd->fn(sh, args->argc, args->argv);
	sh->cmd = outer;
	if (ret == -EINVAL && !sh->error)
		sh_put_usage(sh, "usage: ", cmd);
	return ret;
}

/* Parse and dispatch one line (sh_exec_line() adds the sink's error). */
static int sh_exec_line(struct sh *sh, const char *line)
{
	char buf[CONFIG_SHELL_LINE_MAX + 1];
	struct shell_args args;
	const struct sh_cmd *cmd;
	size_t len = strlen(line);
	int ret;

	if (len > CONFIG_SHELL_LINE_MAX)
		return sh_report_too_long(sh);
	memcpy(buf, line, len + 1);
	ret = shell_parse(buf, &args);
	if (ret < 0) {
		sh_error(sh, "%s", args.error);
		return ret;
	}
	if (args.argc == 0)
		return 0;
	cmd = shell_find(args.argv[0]);
	if (!cmd) {
		sh_put_name(sh, args.argv[0]);
		sh_printf(sh, ": unknown command (type 'help' for a list)\n");
		return -ENOENT;
	}
	return sh_run(sh, cmd, &args);
}

/*
 * A line at the top level starts with a working sink; a line that a
 * command runs (sh->cmd set) shares its caller's output and its error.
 */
int shell_exec(struct sh *sh, const char *line)
{
	int ret;

	if (!sh->cmd)
		sh->error = 0;
	ret = sh_exec_line(sh, line);
	return ret == 0 && sh->error ? sh->error : ret;
}

/* --------------------------------------------------------------- help */

static bool sh_hidden(const struct sh_cmd *cmd)
{
	return cmd->name[0] == '_';
}

/* Width of the "name usage" column: the widest one, within reason. */
static size_t sh_help_column(void)
{
	const struct sh_cmd *c;
	size_t n, width = 0;

	for (c = shell_next_cmd(NULL); c; c = shell_next_cmd(c)) {
		n = strlen(c->name) + (c->usage[0] ? 1 + strlen(c->usage) : 0);
		if (!sh_hidden(c))
			width = MAX(width, n);
	}
	return MIN(width, (size_t)SH_HELP_COLUMN);
}

static int sh_help_one(struct sh *sh, const char *name)
{
	const struct sh_cmd *cmd = shell_find(name);

	if (!cmd) {
		sh_printf(sh, "%s: ", sh_who(sh));
		sh_put_name(sh, name);
		sh_printf(sh, ": unknown command\n");
		return -ENOENT; /* not -EINVAL: our own usage would not help */
	}
	sh_put_usage(sh, "usage: ", cmd);
	sh_printf(sh, "%s\n", cmd->help);
	return 0;
}

/*
 * `help` lists every command but the hidden ones ('_' names, which the
 * unit tests register and which would otherwise show up in every kernel
 * that links the boot tests).
 */
static int sh_cmd_help(struct sh *sh, int argc, char **argv)
{
	const struct sh_cmd *c;
	size_t column, n;

	if (argc == 2)
		return sh_help_one(sh, argv[1]);
	column = sh_help_column();
	for (c = shell_next_cmd(NULL); c && !sh->error; c = shell_next_cmd(c)) {
		if (sh_hidden(c))
			continue;
		n = sh_put_synopsis(sh, c);
		sh_fill(sh, ' ', (column > n ? column - n : 0) + 2);
		sh_printf(sh, "%s\n", c->help);
	}
	return sh->error;
}
SHELL_CMD("help", "[command]", "list the commands, or show how to use one",
	  0, 1, sh_cmd_help);
