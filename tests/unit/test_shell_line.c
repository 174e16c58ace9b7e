/*
 * test_shell_line.c — the line editor driven by scripted and random bytes.
 *
 * The echo goes into a model of a dumb terminal (struct tl_term): printable
 * bytes and ' ' write at the cursor, '\b' moves it left, '\n' starts a new
 * row, anything else is a violation.  After every byte the editor's buffer
 * must be exactly what the current row shows, with the cursor right behind
 * it and only blanks after it; that is what a user sees, so checking it
 * byte by byte catches an erase too many or too few, as well as any escape
 * or control byte leaking to a screen that cannot interpret it.
 *
 * Built for the host (ASan/UBSan) and for the kernel's boot tests: only
 * lib/ and ktest.h.  The editor is large, so it lives in static storage.
 */
#include "lib/ktest.h"
#include "lib/format.h"
#include "lib/string.h"
#include "kernel/shell_line.h"

#include "tests/unit/tl_term.h"

static struct shell_line tl_line;
static struct tl_term tl_term;

static void tl_echo(void *ctx, const char *buf, size_t len)
{
	struct tl_term *t = ctx;
	size_t i;

	for (i = 0; i < len; i++) {
		if (t->raw_len < TL_RAW_MAX - 1)
			t->raw[t->raw_len++] = buf[i];
		tl_term_byte(t, buf[i]);
	}
	t->raw[t->raw_len] = '\0';
}

static struct shell_line *tl_setup(void)
{
	memset(&tl_term, 0, sizeof(tl_term));
	shell_line_init(&tl_line, tl_echo, &tl_term);
	return &tl_line;
}

/* Forget the echo so far (keeps the screen row). */
static void tl_clear_raw(void)
{
	tl_term.raw_len = 0;
	tl_term.raw[0] = '\0';
}

/* Does the editor agree with the screen and with its own invariants? */
static bool tl_consistent(const struct shell_line *sl, const struct tl_term *t)
{
	size_t i;

	if (t->bad || sl->len > CONFIG_SHELL_LINE_MAX || sl->buf[sl->len])
		return false;
	for (i = 0; i < sl->len; i++)
		if (sl->buf[i] < 0x20 || sl->buf[i] >= 0x7f)
			return false;
	if (sl->finished)
		return t->col == 0 && t->end == 0; /* the row was ended */
	if (t->col != sl->len || memcmp(t->row, sl->buf, sl->len) != 0)
		return false;
	for (i = t->col; i < t->end; i++)
		if (t->row[i] != ' ')
			return false;
	return true;
}

/* Feed @n bytes; returns the last event, checking consistency throughout. */
static enum shell_line_event tl_feed(struct ktest_ctx *kt, const char *s, size_t n)
{
	enum shell_line_event ev = SHELL_LINE_PENDING;
	size_t i;

	for (i = 0; i < n; i++) {
		ev = shell_line_feed(&tl_line, (u8)s[i]);
		if (!tl_consistent(&tl_line, &tl_term)) {
			ktest_fail(kt, __FILE__, __LINE__,
				   "inconsistent after byte %zu (0x%02x)", i,
				   (u8)s[i]);
			break;
		}
	}
	return ev;
}

static enum shell_line_event tl_type(struct ktest_ctx *kt, const char *s)
{
	return tl_feed(kt, s, strlen(s));
}

KTEST(shell_line, enter_gives_the_line)
{
	tl_setup();
	KT_EXPECT_EQ(tl_type(kt, "ls -l"), SHELL_LINE_PENDING);
	KT_EXPECT_EQ(tl_type(kt, "\r"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "ls -l");
	KT_EXPECT_STREQ(tl_term.raw, "ls -l\n");
	/* the next byte starts a fresh line */
	KT_EXPECT_EQ(tl_type(kt, "x\n"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "x");
}

KTEST(shell_line, crlf_is_one_enter)
{
	unsigned ready = 0;
	const char *in = "a\r\nb\r\n\r\nc\n\r";
	size_t i;

	tl_setup();
	for (i = 0; in[i]; i++)
		if (tl_feed(kt, &in[i], 1) == SHELL_LINE_READY)
			ready++;
	/* "a", "b", "" (the bare CRLF), "c", and the CR after LF is an Enter */
	KT_EXPECT_EQ(ready, 5);
	KT_EXPECT_EQ(tl_term.rows, 5);
	KT_EXPECT_EQ(tl_line.hist_count, 3);
}

KTEST(shell_line, backspace)
{
	tl_setup();
	tl_type(kt, "\x7f\x08\x7f"); /* on an empty line: nothing at all */
	KT_EXPECT_EQ(tl_line.len, 0);
	KT_EXPECT_EQ(tl_term.raw_len, 0);
	tl_type(kt, "abc\x7f\x08" "d");
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "ad");
	KT_EXPECT_STREQ(tl_term.raw, "abc\b \b\b \bd");
}

KTEST(shell_line, ctrl_u_erases_the_line)
{
	tl_setup();
	tl_type(kt, "hello\x15");
	KT_EXPECT_EQ(tl_line.len, 0);
	KT_EXPECT_STREQ(tl_term.raw, "hello\b \b\b \b\b \b\b \b\b \b");
	tl_type(kt, "\x15");
	KT_EXPECT_EQ(tl_type(kt, "ok\r"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "ok");
}

KTEST(shell_line, ctrl_c_cancels)
{
	tl_setup();
	KT_EXPECT_EQ(tl_type(kt, "rm it\x03"), SHELL_LINE_CANCELLED);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "");
	KT_EXPECT_STREQ(tl_term.raw, "rm it^C\n");
	KT_EXPECT_EQ(tl_line.hist_count, 0);
	KT_EXPECT_EQ(tl_type(kt, "\x03"), SHELL_LINE_CANCELLED);
	KT_EXPECT_EQ(tl_type(kt, "y\r"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "y");
}

KTEST(shell_line, history_walk)
{
	static const char up[] = "\x1b[A", down[] = "\x1b[B";

	tl_setup();
	tl_type(kt, "one\rtwo\rthree\rdraft");
	tl_type(kt, up);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "three");
	tl_type(kt, up);
	tl_type(kt, up);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "one");
	tl_clear_raw();
	tl_type(kt, up); /* past the oldest: nothing happens */
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "one");
	KT_EXPECT_EQ(tl_term.raw_len, 0);
	tl_type(kt, down);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "two");
	tl_type(kt, down);
	tl_type(kt, down); /* back to what was being typed */
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "draft");
	tl_clear_raw();
	tl_type(kt, down); /* past the newest: nothing happens */
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "draft");
	KT_EXPECT_EQ(tl_term.raw_len, 0);
}

KTEST(shell_line, history_recall_and_run)
{
	tl_setup();
	tl_type(kt, "abc\r");
	tl_clear_raw();
	tl_type(kt, "xy\x1bOA"); /* SS3 form, as in application cursor mode */
	KT_EXPECT_STREQ(tl_term.raw, "xy\b \b\b \babc");
	KT_EXPECT_EQ(tl_type(kt, "d\r"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "abcd");
	KT_EXPECT_STREQ(shell_line_history(&tl_line, 0), "abcd");
	KT_EXPECT_STREQ(shell_line_history(&tl_line, 1), "abc");
	KT_EXPECT(shell_line_history(&tl_line, 2) == NULL);
	/* a new line starts outside the history again */
	tl_type(kt, "\x1b[B");
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "");
}

KTEST(shell_line, history_rules)
{
	char cmd[16];
	int i;

	tl_setup();
	tl_type(kt, "a\ra\r\r   \r");
	KT_EXPECT_EQ(tl_line.hist_count, 2); /* "a" once, "   " is not empty */
	tl_setup();
	for (i = 0; i < CONFIG_SHELL_HISTORY + 8; i++) {
		snprintf(cmd, sizeof(cmd), "cmd%d\r", i);
		tl_type(kt, cmd);
	}
	KT_EXPECT_EQ(tl_line.hist_count, CONFIG_SHELL_HISTORY);
	snprintf(cmd, sizeof(cmd), "cmd%d", CONFIG_SHELL_HISTORY + 7);
	KT_EXPECT_STREQ(shell_line_history(&tl_line, 0), cmd);
	KT_EXPECT_STREQ(shell_line_history(&tl_line, CONFIG_SHELL_HISTORY - 1),
			"cmd8");
	KT_EXPECT(shell_line_history(&tl_line, CONFIG_SHELL_HISTORY) == NULL);
}

KTEST(shell_line, escape_sequences_are_swallowed)
{
	/* Ctrl-Right, Delete, F1, F5, Alt-x, Right, Left, Home, mouse-ish */
	static const char in[] = "a\x1b[1;5C" "b\x1b[3~" "c\x1bOP" "d\x1b[15~"
				 "e\x1bx" "f\x1b[C\x1b[D\x1b[H" "g\x1b[<0;1;2M" "h";

	tl_setup();
	tl_type(kt, "old\r");
	tl_clear_raw();
	tl_type(kt, in);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "abcdefgh");
	KT_EXPECT_STREQ(tl_term.raw, "abcdefgh");
	/* a parameterised A (Shift-Up) is not Up */
	tl_type(kt, "\x1b[1;2A");
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "abcdefgh");
}

KTEST(shell_line, control_byte_ends_a_sequence)
{
	tl_setup();
	/* a lone ESC, then Enter: the Enter must not be eaten */
	KT_EXPECT_EQ(tl_type(kt, "ab\x1b\r"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "ab");
	KT_EXPECT_EQ(tl_type(kt, "cd\x1b[12\r"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "cd");
	/* ESC ESC [ A: the second ESC restarts the sequence, which is Up */
	tl_type(kt, "\x1b\x1b[A");
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "cd");
}

KTEST(shell_line, other_bytes_are_ignored)
{
	unsigned c;
	u8 b;

	tl_setup();
	for (c = 0; c < 256; c++) {
		b = (u8)c;
		if (c == '\r' || c == '\n' || c == 0x03 || c == 0x1b ||
		    (c >= 0x20 && c < 0x7f))
			continue;
		KT_EXPECT_EQ(tl_feed(kt, (const char *)&b, 1), SHELL_LINE_PENDING);
	}
	KT_EXPECT_EQ(tl_line.len, 0);
	KT_EXPECT_EQ(tl_term.raw_len, 0);
}

KTEST(shell_line, long_line_is_refused)
{
	static char big[4096];
	size_t i;

	tl_setup();
	memset(big, 'x', sizeof(big));
	tl_feed(kt, big, sizeof(big));
	KT_EXPECT_EQ(tl_line.len, CONFIG_SHELL_LINE_MAX);
	KT_EXPECT_EQ(tl_term.raw_len, CONFIG_SHELL_LINE_MAX); /* no bells */
	KT_EXPECT_EQ(tl_type(kt, "\r"), SHELL_LINE_TOO_LONG);
	KT_EXPECT_EQ(tl_line.hist_count, 0);
	for (i = 0; i < tl_term.raw_len - 1; i++)
		KT_ASSERT(tl_term.raw[i] == 'x');
	/* the editor recovers on the next line */
	KT_EXPECT_EQ(tl_type(kt, "ok\r"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "ok");
}

KTEST(shell_line, longest_line_fits)
{
	static char line[CONFIG_SHELL_LINE_MAX];

	tl_setup();
	memset(line, 'y', sizeof(line));
	tl_feed(kt, line, sizeof(line));
	KT_EXPECT_EQ(tl_type(kt, "\n"), SHELL_LINE_READY);
	KT_EXPECT_EQ(strlen(shell_line_text(&tl_line)), CONFIG_SHELL_LINE_MAX);
	/* one byte more overflows; backspace does not undo that, Ctrl-U does */
	tl_feed(kt, line, sizeof(line));
	tl_type(kt, "z\x7f");
	KT_EXPECT_EQ(tl_type(kt, "\n"), SHELL_LINE_TOO_LONG);
	tl_feed(kt, line, sizeof(line));
	tl_type(kt, "z\x15" "fine");
	KT_EXPECT_EQ(tl_type(kt, "\n"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "fine");
}

/* Recalling history leaves an overflowed line; Down brings it back. */
KTEST(shell_line, overflow_and_history)
{
	static char big[CONFIG_SHELL_LINE_MAX + 10];

	tl_setup();
	tl_type(kt, "short\r");
	memset(big, 'o', sizeof(big));
	tl_feed(kt, big, sizeof(big));
	tl_type(kt, "\x1b[A");
	KT_EXPECT_EQ(tl_type(kt, "\r"), SHELL_LINE_READY);
	KT_EXPECT_STREQ(shell_line_text(&tl_line), "short");
	tl_feed(kt, big, sizeof(big));
	tl_type(kt, "\x1b[A\x1b[B");
	KT_EXPECT_EQ(tl_line.len, CONFIG_SHELL_LINE_MAX);
	KT_EXPECT_EQ(tl_type(kt, "\r"), SHELL_LINE_TOO_LONG);
}

/* Random bytes of every value: the invariants hold after each one. */
KTEST(shell_line, random_binary_garbage)
{
	static char chunk[4096];
	size_t i;
	int round;

	tl_setup();
	for (round = 0; round < 16; round++) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = (char)(ktest_rand(kt) >> 24);
		tl_feed(kt, chunk, sizeof(chunk));
	}
	KT_EXPECT(tl_line.hist_count <= CONFIG_SHELL_HISTORY);
}

/*
 * Random streams over the bytes that drive the state machine, so that
 * escapes, history walks and overflows interleave far more than with
 * uniform bytes.  Long runs of 'x' push lines over the limit now and then.
 */
KTEST(shell_line, random_key_soup)
{
	static const char keys[] = "\x1b[AOB~1;\r\n\x7f\x08\x15\x03xy \x80\xff";
	char c;
	int i, run;

	tl_setup();
	for (i = 0; i < 60000; i++) {
		c = keys[ktest_rand(kt) % (sizeof(keys) - 1)];
		run = c == 'x' && ktest_rand(kt) % 64 == 0 ? 1100 : 1;
		while (run--)
			tl_feed(kt, &c, 1);
		if (kt->failures)
			return;
	}
	KT_EXPECT(tl_line.hist_count > 0);
}
