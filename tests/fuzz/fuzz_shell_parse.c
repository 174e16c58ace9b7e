/*
 * fuzz_shell_parse.c — checks kernel/shell_parse.c's tokenizer against a reference on any line, and kernel/shell_line.c's line editor on any keystrokes.
 *
 * Two runs per input:
 *  - The input up to its first NUL, in a heap block of exactly that plus
 *    the NUL, goes to shell_parse(), and the result must equal that of
 *    ref_parse() below, written from shell_parse.h's rules alone: the same
 *    return value and, on success, the same words.  On failure args->error
 *    must be set; on success argv[argc] is NULL and every word lies in the
 *    line.
 *  - Every byte of the input is fed as a keystroke to shell_line_feed().
 *    The echo goes into a model of a dumb terminal (as test_shell_line.c
 *    does): after each byte the screen must show exactly the line being
 *    edited (or an ended row after a finished line), the line is
 *    printable ASCII within CONFIG_SHELL_LINE_MAX, and echo never holds a
 *    byte the terminal cannot show or backs up past the row's start.
 *    Each line handed over (SHELL_LINE_READY) is then parsed as above.
 * The editor is large, so it lives in static storage and is re-initialised
 * per input.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "kernel/shell_line.h"
#include "kernel/shell_parse.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "tests/unit/tl_term.h"

#define FEED_MAX 8192   /* keystrokes looked at per input */


static struct shell_line line_ed;
static struct tl_term term;

static void term_echo(void *ctx, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		tl_term_byte(ctx, buf[i]);
}

static bool ref_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/*
 * shell_parse.h's rules, copying into @out (as long as @s, plus a NUL per
 * word): the word count or -EINVAL / -E2BIG; words NUL-separated in @out.
 */
static int ref_parse(const char *s, char *out)
{
	int n = 0;

	for (;;) {
		while (ref_blank(*s))
			s++;
		if (!*s)
			return n;
		if (n++ == SHELL_ARGV_MAX)
			return -E2BIG;
		while (*s && !ref_blank(*s)) {
			char q = *s;

			if (q == '\\') {
				if (!s[1])
					return -EINVAL;
				*out++ = s[1];
				s += 2;
			} else if (q == '\'' || q == '"') {
				for (s++; *s && *s != q; s++) {
					if (q == '"' && s[0] == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					*out++ = *s;
				}
				if (!*s)
					return -EINVAL;
				s++;
			} else {
				*out++ = *s++;
			}
		}
		*out++ = '\0';
	}
}

/* shell_parse() on @len bytes at @src (no NUL among them) against ref_parse(). */
static void check_parse(struct ktest_ctx *kt, const char *src, size_t len)
{
	char *line = kmalloc(len + 1), *ref = kmalloc(2 * len + 2);
	struct shell_args args;
	int want, rc;

	memcpy(line, src, len);
	line[len] = '\0';
	want = ref_parse(line, ref);
	rc = shell_parse(line, &args);
	if (rc != (want < 0 ? want : 0)) {
		ktest_fail(kt, __FILE__, __LINE__, "\"%.40s\": %d, the rules say %d", src, rc, want);
		goto out;
	}
	if (rc) {
		KT_EXPECT(args.error != NULL);
		goto out;
	}
	KT_ASSERT_EQ(args.argc, want);
	KT_EXPECT(args.argv[args.argc] == NULL);
	for (int i = 0, off = 0; i < args.argc; i++) {
		KT_ASSERT(args.argv[i] >= line && args.argv[i] <= line + len);
		if (strcmp(args.argv[i], ref + off)) {
			ktest_fail(kt, __FILE__, __LINE__, "\"%.40s\": word %d is \"%s\", the rules say \"%s\"",
				   src, i, args.argv[i], ref + off);
			break;
		}
		off += (int)strlen(ref + off) + 1;
	}
out:
	kfree(ref);
	kfree(line);
}

/* Does the editor agree with the screen and with its own invariants? */
static bool consistent(const struct shell_line *sl, const struct tl_term *t)
{
	if (t->bad || sl->len > CONFIG_SHELL_LINE_MAX || sl->buf[sl->len])
		return false;
	for (size_t i = 0; i < sl->len; i++)
		if (sl->buf[i] < 0x20 || sl->buf[i] >= 0x7f)
			return false;
	if (sl->finished)
		return t->col == 0 && t->end == 0;
	if (t->col != sl->len || memcmp(t->row, sl->buf, sl->len))
		return false;
	for (size_t i = t->col; i < t->end; i++)
		if (t->row[i] != ' ')
			return false;
	return true;
}

static void check_editor(struct ktest_ctx *kt)
{
	size_t n = MIN(fuzz_size, (size_t)FEED_MAX);

	memset(&term, 0, sizeof(term));
	shell_line_init(&line_ed, term_echo, &term);
	for (size_t i = 0; i < n; i++) {
		enum shell_line_event ev = shell_line_feed(&line_ed, fuzz_data[i]);
		const char *text = shell_line_text(&line_ed);

		if (!consistent(&line_ed, &term)) {
			ktest_fail(kt, __FILE__, __LINE__,
				   "after byte %zu (%#x): the screen and the line disagree", i,
				   fuzz_data[i]);
			return;
		}
		KT_ASSERT(ev == SHELL_LINE_PENDING || ev == SHELL_LINE_READY ||
			  ev == SHELL_LINE_CANCELLED || ev == SHELL_LINE_TOO_LONG);
		if (ev == SHELL_LINE_READY)
			check_parse(kt, text, strlen(text));
	}
	for (unsigned age = 0; age < CONFIG_SHELL_HISTORY; age++) {
		const char *h = shell_line_history(&line_ed, age);

		if (h)
			KT_EXPECT(h[0] && strlen(h) <= CONFIG_SHELL_LINE_MAX);
	}
}

KTEST(fuzz, shell_parse)
{
	check_parse(kt, (const char *)fuzz_data, strnlen((const char *)fuzz_data, fuzz_size));
	check_editor(kt);
}
