/*
 * test_shell_exec.c — dispatch, error lines, `help`, the command table,
 * sh_printf()'s long-output path, numeric arguments and a sink that fails,
 * through a session that captures output.
 *
 * The commands below are registered with SHELL_CMD like any other, so in a
 * kernel that links the boot tests they exist too; their names start with
 * "_test" so that `help` hides them and nobody mistakes them for features.
 *
 * Built for the host (ASan/UBSan) and for the kernel's boot tests.
 */
#include "lib/ktest.h"
#include "lib/format.h"
#include "lib/string.h"
#include "errno.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"

extern const struct sh_cmd *const __start_shell_cmds[];
extern const struct sh_cmd *const __stop_shell_cmds[];

#define TE_OUT_MAX 16384

/*
 * The capturing sink.  With fail_after set it takes that many calls, then
 * refuses every one with -EPIPE (a peer that went away) and counts them.
 */
struct te_sink {
	char buf[TE_OUT_MAX];
	size_t len;
	bool overflow;
	long fail_after; /* calls to accept; < 0: all */
	long calls;      /* calls so far */
	long refused;    /* calls answered with an error */
};

static struct te_sink te_out;
static struct sh te_sh;

static int te_write(void *ctx, const char *buf, size_t len)
{
	struct te_sink *s = ctx;

	if (s->fail_after >= 0 && s->calls++ >= s->fail_after) {
		s->refused++;
		return -EPIPE;
	}
	if (len > TE_OUT_MAX - 1 - s->len) {
		s->overflow = true;
		len = TE_OUT_MAX - 1 - s->len;
	}
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return 0;
}

static struct sh *te_setup(void)
{
	te_out.len = 0;
	te_out.buf[0] = '\0';
	te_out.overflow = false;
	te_out.fail_after = -1;
	te_out.calls = te_out.refused = 0;
	sh_init(&te_sh, te_write, &te_out);
	return &te_sh;
}

/* A session whose sink takes @calls writes and then fails. */
static struct sh *te_setup_failing(long calls)
{
	struct sh *sh = te_setup();

	te_out.fail_after = calls;
	return sh;
}

/* ------------------------------------------------------ test commands */

static int te_cmd_echo(struct sh *sh, int argc, char **argv)
{
	int i;

	sh_printf(sh, "argc=%d", argc);
	for (i = 1; i < argc; i++)
		sh_printf(sh, "%c%s", i == 1 ? ' ' : '|', argv[i]);
	sh_write(sh, "\n", 1);
	return 0;
}
SHELL_CMD("_test_echo", "[word...]", "print the words it was given", 0, 4,
	  te_cmd_echo);

static int te_cmd_value(struct sh *sh, int argc, char **argv)
{
	if (strcmp(argv[1], "ok") != 0)
		return sh_error(sh, "bad value '%s'", argv[1]);
	sh_printf(sh, "fine\n");
	return 0;
}
SHELL_CMD("_test_value", "<ok>", "accept only ok", 1, 1, te_cmd_value);

static int te_cmd_io(struct sh *sh, int argc, char **argv)
{
	return -EIO;
}
SHELL_CMD("_test_io", "", "fail with -EIO", 0, 0, te_cmd_io);

static int te_cmd_exit(struct sh *sh, int argc, char **argv)
{
	shell_request_exit(sh);
	return 0;
}
SHELL_CMD("_test_exit", "", "ask the session to end", 0, 0, te_cmd_exit);

/* Runs a line, then reports an error: the prefix must be its own name. */
static int te_cmd_nested(struct sh *sh, int argc, char **argv)
{
	shell_exec(sh, argv[1]);
	sh_error(sh, "after");
	return 0;
}
SHELL_CMD("_test_nested", "<line>", "run a line from a command", 1, 1,
	  te_cmd_nested);

/* Prints its number (1-30 unless a second argument says "wide"). */
static int te_cmd_num(struct sh *sh, int argc, char **argv)
{
	u64 max = argc > 2 && strcmp(argv[2], "wide") == 0 ? ~0ULL : 30;
	u64 v;
	int rc = sh_parse_uint(sh, argv[1], "n", 1, max, &v);

	if (rc)
		return rc;
	sh_printf(sh, "n=%llu\n", (unsigned long long)v);
	return 0;
}
SHELL_CMD("_test_num", "<n> [wide]", "print a number from 1-30", 1, 2, te_cmd_num);

/* Prints many lines, as a table or a log would, until the sink fails. */
static int te_cmd_lines(struct sh *sh, int argc, char **argv)
{
	int i;

	for (i = 0; i < 1000 && !sh_output_error(sh); i++)
		sh_printf(sh, "line %d\n", i);
	return sh_output_error(sh);
}
SHELL_CMD("_test_lines", "", "print 1000 lines", 0, 0, te_cmd_lines);

/* Ignores the sink's errors and reports success. */
static int te_cmd_careless(struct sh *sh, int argc, char **argv)
{
	for (int i = 0; i < 10; i++)
		sh_printf(sh, "line %d\n", i);
	return 0;
}
SHELL_CMD("_test_careless", "", "print 10 lines, ignore errors", 0, 0, te_cmd_careless);

/* Fails with -EINVAL after its output failed: no usage line may follow. */
static int te_cmd_bad_late(struct sh *sh, int argc, char **argv)
{
	sh_printf(sh, "some output\n");
	return sh_error(sh, "bad after all");
}
SHELL_CMD("_test_bad_late", "", "print, then fail with -EINVAL", 0, 0, te_cmd_bad_late);

/* ----------------------------------------------------------- dispatch */

KTEST(shell_exec, runs_a_command)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, "_test_echo a b"), 0);
	KT_EXPECT_STREQ(te_out.buf, "argc=3 a|b\n");
}

KTEST(shell_exec, quoting_reaches_the_handler)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, "  _test_echo \"a b\" 'c  d' e\\ f \"\"  "), 0);
	KT_EXPECT_STREQ(te_out.buf, "argc=5 a b|c  d|e f|\n");
}

KTEST(shell_exec, empty_line_does_nothing)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, ""), 0);
	KT_EXPECT_EQ(shell_exec(sh, " \t "), 0);
	KT_EXPECT_EQ(te_out.len, 0);
}

KTEST(shell_exec, unknown_command)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, "frobnicate now"), -ENOENT);
	KT_EXPECT_STREQ(te_out.buf,
			"frobnicate: unknown command (type 'help' for a list)\n");
}

/* A name that would not read back as typed is shown quoted (hostile finding #7). */
KTEST(shell_exec, unknown_command_names_are_quoted_when_needed)
{
	static const struct {
		const char *line, *shown;
	} cases[] = {
		{ "''", "''" },
		{ "\"\" x", "''" },
		{ "'a b'", "'a b'" },
		{ "a\\'b", "'a\\'b'" },
		{ "'\x1b[2J'", "'\\x1b[2J'" },
		{ "'\xff'", "'\\xff'" },
		{ "\"back\\\\slash\"", "'back\\\\slash'" },
		{ "x=1", "x=1" },
	};
	char want[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sh *sh = te_setup();

		snprintf(want, sizeof(want), "%s: unknown command (type 'help' for a list)\n",
			 cases[i].shown);
		KT_EXPECT_EQ(shell_exec(sh, cases[i].line), -ENOENT);
		KT_EXPECT_STREQ(te_out.buf, want);
	}
}

KTEST(shell_exec, wrong_argument_count)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, "_test_value"), -EINVAL);
	KT_EXPECT_STREQ(te_out.buf, "_test_value: wrong number of arguments; "
				    "usage: _test_value <ok>\n");
	te_setup();
	KT_EXPECT_EQ(shell_exec(sh, "_test_echo 1 2 3 4 5"), -EINVAL);
	KT_EXPECT_STREQ(te_out.buf, "_test_echo: wrong number of arguments; "
				    "usage: _test_echo [word...]\n");
	te_setup();
	KT_EXPECT_EQ(shell_exec(sh, "_test_io x"), -EINVAL); /* empty usage */
	KT_EXPECT_STREQ(te_out.buf, "_test_io: wrong number of arguments; "
				    "usage: _test_io\n");
}

KTEST(shell_exec, bad_argument_prints_usage)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, "_test_value nope"), -EINVAL);
	KT_EXPECT_STREQ(te_out.buf, "_test_value: bad value 'nope'\n"
				    "usage: _test_value <ok>\n");
	te_setup();
	KT_EXPECT_EQ(shell_exec(sh, "_test_value ok"), 0);
	KT_EXPECT_STREQ(te_out.buf, "fine\n");
}

KTEST(shell_exec, other_errors_pass_through)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, "_test_io"), -EIO);
	KT_EXPECT_EQ(te_out.len, 0); /* the handler's business, no usage */
}

KTEST(shell_exec, malformed_lines)
{
	static char big[4096];
	char line[SHELL_ARGV_MAX * 2 + 16] = "_test_echo";
	struct sh *sh = te_setup();
	int i;

	KT_EXPECT_EQ(shell_exec(sh, "_test_echo \"open"), -EINVAL);
	KT_EXPECT_STREQ(te_out.buf, "shell: unterminated double quote\n");
	te_setup();
	for (i = 0; i < SHELL_ARGV_MAX; i++)
		strlcat(line, " x", sizeof(line));
	KT_EXPECT_EQ(shell_exec(sh, line), -E2BIG);
	KT_EXPECT_STREQ(te_out.buf, "shell: too many words (max 32)\n");
	te_setup();
	memset(big, 'a', sizeof(big) - 1);
	KT_EXPECT_EQ(shell_exec(sh, big), -EINVAL);
	KT_EXPECT_STREQ(te_out.buf, "shell: line too long (max 1024 characters)\n");
}

KTEST(shell_exec, exit_request)
{
	struct sh *sh = te_setup();

	KT_EXPECT(!shell_exit_requested(sh));
	KT_EXPECT_EQ(shell_exec(sh, "_test_exit"), 0);
	KT_EXPECT(shell_exit_requested(sh));
}

KTEST(shell_exec, errors_name_the_running_command)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, "_test_nested '_test_value bad'"), 0);
	KT_EXPECT_STREQ(te_out.buf, "_test_value: bad value 'bad'\n"
				    "usage: _test_value <ok>\n"
				    "_test_nested: after\n");
	te_setup();
	KT_EXPECT_EQ(sh_error(sh, "outside %d", 1), -EINVAL);
	KT_EXPECT_STREQ(te_out.buf, "shell: outside 1\n");
}

/* Random bytes as a command line (as the UDP shell may get): no crash. */
KTEST(shell_exec, random_lines)
{
	static char line[1200];
	struct sh *sh = te_setup();
	size_t len, i;
	int round, ret;

	for (round = 0; round < 2000; round++) {
		len = ktest_rand(kt) % sizeof(line);
		for (i = 0; i < len; i++)
			line[i] = (char)(1 + ktest_rand(kt) % 255);
		line[len] = '\0';
		te_setup();
		ret = shell_exec(sh, line);
		KT_ASSERT(ret == 0 || ret == -ENOENT || ret == -EINVAL ||
			  ret == -E2BIG);
		KT_ASSERT(ret == 0 || te_out.len > 0);
	}
}

/* ------------------------------------------------------ command table */

KTEST(shell_exec, find)
{
	KT_EXPECT(shell_find("help") != NULL);
	KT_EXPECT(shell_find("_test_echo") != NULL);
	KT_EXPECT_STREQ(shell_find("_test_echo")->usage, "[word...]");
	KT_EXPECT(shell_find("_test_ech") == NULL);
	KT_EXPECT(shell_find("") == NULL);
}

static bool te_has_blank(const char *s)
{
	for (; *s; s++)
		if (*s == ' ' || *s == '\t')
			return true;
	return false;
}

/* Every linked command, ours or any subsystem's, is well formed. */
KTEST(shell_exec, table_is_sane)
{
	const struct sh_cmd *c, *prev = NULL;
	long n = 0;

	for (c = shell_next_cmd(NULL); c; prev = c, c = shell_next_cmd(c), n++) {
		KT_ASSERT(c->name && c->usage && c->help && c->fn);
		KT_EXPECT(c->name[0] && !te_has_blank(c->name));
		KT_EXPECT(c->help[0]);
		KT_EXPECT(c->min_args >= 0 && c->min_args <= c->max_args);
		KT_EXPECT(c->max_args <= SHELL_ARGV_MAX - 1);
		if (prev && strcmp(prev->name, c->name) >= 0)
			ktest_fail(kt, __FILE__, __LINE__,
				   "'%s' and '%s' out of order or duplicated",
				   prev->name, c->name);
		KT_ASSERT(n <= __stop_shell_cmds - __start_shell_cmds);
	}
	KT_EXPECT_EQ(n, __stop_shell_cmds - __start_shell_cmds);
}

/* ---------------------------------------------------------------- help */

/* Does some line of @out start with @prefix? */
static bool te_has_line(const char *out, const char *prefix)
{
	size_t n = strlen(prefix);

	for (; *out; out = strchr(out, '\n') + 1) {
		if (strncmp(out, prefix, n) == 0)
			return true;
		if (!strchr(out, '\n'))
			break;
	}
	return false;
}

KTEST(shell_exec, help_lists_visible_commands_in_order)
{
	const struct sh_cmd *c;
	const char *line;
	struct sh *sh = te_setup();
	int visible = 0, lines = 0;

	KT_ASSERT_EQ(shell_exec(sh, "help"), 0);
	KT_EXPECT(!te_has_line(te_out.buf, "_"));
	KT_EXPECT(te_has_line(te_out.buf, "help [command]  "));
	for (c = shell_next_cmd(NULL); c; c = shell_next_cmd(c))
		visible += c->name[0] != '_';
	for (line = te_out.buf; (line = strchr(line, '\n')); line++)
		lines++;
	KT_EXPECT_EQ(lines, visible);
	/* in name order: each listed command is the next visible one */
	line = te_out.buf;
	for (c = shell_next_cmd(NULL); c; c = shell_next_cmd(c)) {
		if (c->name[0] == '_')
			continue;
		KT_ASSERT(strncmp(line, c->name, strlen(c->name)) == 0);
		KT_ASSERT(strstr(line, c->help) != NULL);
		line = strchr(line, '\n') + 1;
	}
}

KTEST(shell_exec, help_for_one_command)
{
	struct sh *sh = te_setup();

	KT_EXPECT_EQ(shell_exec(sh, "help _test_value"), 0);
	KT_EXPECT_STREQ(te_out.buf, "usage: _test_value <ok>\naccept only ok\n");
	te_setup();
	KT_EXPECT_EQ(shell_exec(sh, "help nosuch"), -ENOENT);
	KT_EXPECT_STREQ(te_out.buf, "help: nosuch: unknown command\n");
	te_setup();
	KT_EXPECT_EQ(shell_exec(sh, "help ''"), -ENOENT);
	KT_EXPECT_STREQ(te_out.buf, "help: '': unknown command\n");
	te_setup();
	KT_EXPECT_EQ(shell_exec(sh, "help a b"), -EINVAL);
	KT_EXPECT_STREQ(te_out.buf, "help: wrong number of arguments; "
				    "usage: help [command]\n");
}

/* ----------------------------------------------------------- sh_printf */

static char te_long[1500];
static char te_want[TE_OUT_MAX];

/* sh_printf() must produce what snprintf() would with a big enough buffer. */
#define TE_EXPECT_PRINTF(...)                                                  \
	do {                                                                   \
		int want_n_ = snprintf(te_want, sizeof(te_want), __VA_ARGS__); \
		int got_n_;                                                    \
		te_setup();                                                    \
		got_n_ = sh_printf(&te_sh, __VA_ARGS__);                       \
		KT_EXPECT_EQ(got_n_, want_n_);                                 \
		KT_EXPECT_EQ(te_out.len, (size_t)want_n_);                     \
		KT_EXPECT(strcmp(te_out.buf, te_want) == 0);                   \
	} while (0)

KTEST(shell_exec, printf_short)
{
	TE_EXPECT_PRINTF("%d %s %5u|%-4x|%c%%", -3, "ok", 7u, 0xau, 'z');
}

KTEST(shell_exec, printf_long_output_is_complete)
{
	const char *nul = NULL;
	void *ptr = &te_out;

	memset(te_long, 'L', sizeof(te_long) - 1);
	TE_EXPECT_PRINTF("[%s]", te_long);
	TE_EXPECT_PRINTF("%s|%d|%5d|%-5d|%05d|%+d|% d|%x|%#x|%X|%o|%#o|%u", te_long,
			 -42, 42, 42, -42, 42, 42, 0xbeefu, 0xbeefu, 0xbeefu,
			 8u, 8u, 4000000000u);
	TE_EXPECT_PRINTF("%s|%ld|%lu|%lld|%llx|%zu|%zd|%hhd|%hu|%c|%%", te_long,
			 -1L, 2UL, -3LL, 0x123456789abcdefULL, (size_t)77,
			 (ptrdiff_t)-5, (signed char)-3,
			 (unsigned short)65000, 'q');
	TE_EXPECT_PRINTF("%s|%.3s|%10.2s|%-10s|%.*s|%s", te_long, "abcdef", "xyz",
			 "left", 2, "star", nul);
	TE_EXPECT_PRINTF("%s|%*d|%-*d|%*d|%.5d|%08.3d|%.0d|%p|%p", te_long, 6, 1,
			 6, 2, -6, 3, 42, 7, 0, ptr, (void *)NULL);
	TE_EXPECT_PRINTF("%600d|%-700s|%0*d|%#0*x", 5, "pad", 900, -1, 20, 0xfu);
	TE_EXPECT_PRINTF("%s%s%s%s%s", te_long, te_long, te_long, te_long, te_long);
	TE_EXPECT_PRINTF("%s|%hd|%hhu|%jd|%ju|%td", te_long, (short)-7,
			 (unsigned char)200, (intmax_t)-8, (uintmax_t)9,
			 (ptrdiff_t)-10);
}

/* An unknown conversion is printed as written, on both paths. */
KTEST(shell_exec, printf_unknown_conversion)
{
	const char *fmt = "%s|%-4y|%d";

	memset(te_long, 'L', sizeof(te_long) - 1);
	TE_EXPECT_PRINTF(fmt, "short", 5);
	TE_EXPECT_PRINTF(fmt, te_long, 5);
}

/* ------------------------------------------------------ sh_parse_uint */

KTEST(shell_exec, numbers_are_checked_in_full_width)
{
	static const struct {
		const char *line, *out;
		int ret;
	} cases[] = {
		{ "_test_num 7", "n=7\n", 0 },
		{ "_test_num 0x1e", "n=30\n", 0 },
		{ "_test_num 1", "n=1\n", 0 },
		{ "_test_num 31", "_test_num: n must be 1-30, not '31'\n", -EINVAL },
		{ "_test_num 0", "_test_num: n must be 1-30, not '0'\n", -EINVAL },
		/* 2^32 + 7 and 2^64 + 7 must not wrap to 7 */
		{ "_test_num 4294967303",
		  "_test_num: n must be 1-30, not '4294967303'\n", -EINVAL },
		{ "_test_num 18446744073709551623",
		  "_test_num: n must be 1-30, not '18446744073709551623'\n", -EINVAL },
		{ "_test_num 0x100000007",
		  "_test_num: n must be 1-30, not '0x100000007'\n", -EINVAL },
		{ "_test_num -1", "_test_num: n must be 1-30, not '-1'\n", -EINVAL },
		{ "_test_num ''", "_test_num: n must be 1-30, not ''\n", -EINVAL },
		{ "_test_num 0x", "_test_num: n must be 1-30, not '0x'\n", -EINVAL },
		{ "_test_num ' 7'", "_test_num: n must be 1-30, not ' 7'\n", -EINVAL },
		{ "_test_num 7x", "_test_num: n must be 1-30, not '7x'\n", -EINVAL },
		{ "_test_num \"it's\"", "_test_num: n must be 1-30, not 'it\\'s'\n", -EINVAL },
		{ "_test_num 18446744073709551615 wide", "n=18446744073709551615\n", 0 },
		{ "_test_num 18446744073709551616 wide",
		  "_test_num: n must be 1-18446744073709551615, not '18446744073709551616'\n",
		  -EINVAL },
	};
	char want[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sh *sh = te_setup();

		snprintf(want, sizeof(want), "%s%s", cases[i].out,
			 cases[i].ret ? "usage: _test_num <n> [wide]\n" : "");
		KT_EXPECT_EQ(shell_exec(sh, cases[i].line), cases[i].ret);
		KT_EXPECT_STREQ(te_out.buf, want);
	}
}

/* ------------------------------------------------------- failing sink */

KTEST(shell_exec, a_failing_sink_stops_the_output)
{
	struct sh *sh = te_setup_failing(3);

	KT_EXPECT_EQ(sh_output_error(sh), 0);
	KT_EXPECT_EQ(shell_exec(sh, "_test_lines"), -EPIPE);
	KT_EXPECT_STREQ(te_out.buf, "line 0\nline 1\nline 2\n");
	KT_EXPECT_EQ(te_out.refused, 1); /* never asked again after it failed */
	KT_EXPECT_EQ(sh_output_error(sh), -EPIPE);
	KT_EXPECT_EQ(sh_write(sh, "x", 1), -EPIPE);
	KT_EXPECT_EQ(sh_printf(sh, "%d", 5), -EPIPE);
	KT_EXPECT_EQ(te_out.refused, 1);
}

KTEST(shell_exec, help_stops_when_the_sink_fails)
{
	struct sh *sh = te_setup_failing(2);

	KT_EXPECT_EQ(shell_exec(sh, "help"), -EPIPE);
	KT_EXPECT_EQ(te_out.refused, 1);
	KT_EXPECT_EQ(te_out.calls, 3);
}

/* A command that ignores the errors still leaves the error to shell_exec(). */
KTEST(shell_exec, the_sinks_error_is_the_lines_result)
{
	struct sh *sh = te_setup_failing(2);

	KT_EXPECT_EQ(shell_exec(sh, "_test_careless"), -EPIPE);
	KT_EXPECT_EQ(te_out.refused, 1);
	/* -EINVAL stays the result, but no usage line is attempted */
	sh = te_setup_failing(0);
	KT_EXPECT_EQ(shell_exec(sh, "_test_bad_late"), -EINVAL);
	KT_EXPECT_EQ(te_out.refused, 1);
	KT_EXPECT_EQ(te_out.len, 0);
	/* the unknown-command line too */
	sh = te_setup_failing(0);
	KT_EXPECT_EQ(shell_exec(sh, "nosuch"), -ENOENT);
	KT_EXPECT_EQ(te_out.refused, 1);
}

/* The next line starts with a clean slate; a nested line shares the error. */
KTEST(shell_exec, the_error_lasts_one_line)
{
	struct sh *sh = te_setup_failing(1);

	KT_EXPECT_EQ(shell_exec(sh, "_test_nested '_test_echo a'"), -EPIPE);
	KT_EXPECT_STREQ(te_out.buf, "argc=2");
	te_out.fail_after = -1; /* the peer is back */
	KT_EXPECT_EQ(shell_exec(sh, "_test_echo b"), 0);
	KT_EXPECT_STREQ(te_out.buf, "argc=2argc=2 b\n");
	KT_EXPECT_EQ(sh_output_error(sh), 0);
}

/* The long path of sh_printf() stops at the first refused write, too. */
KTEST(shell_exec, long_printf_stops_when_the_sink_fails)
{
	struct sh *sh = te_setup_failing(1);

	memset(te_long, 'L', sizeof(te_long) - 1);
	KT_EXPECT_EQ(sh_printf(sh, "%s|%s|%d|%s", te_long, te_long, 5, te_long), -EPIPE);
	KT_EXPECT_EQ(te_out.len, sizeof(te_long) - 1);
	KT_EXPECT_EQ(te_out.refused, 1);
}
