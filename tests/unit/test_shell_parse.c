/*
 * test_shell_parse.c — the shell tokenizer: words, quotes, escapes, limits,
 * and random lines that must never make it read or write out of bounds.
 *
 * Built for the host (ASan/UBSan) and for the kernel's boot tests.
 */
#include "lib/ktest.h"
#include "lib/string.h"
#include "errno.h"
#include "kernel/shell_parse.h"

static char tp_line[2048];
static struct shell_args tp_args;

/* Parse a copy of @s (the parser works in place). */
static int tp_parse(const char *s)
{
	strlcpy(tp_line, s, sizeof(tp_line));
	return shell_parse(tp_line, &tp_args);
}

/*
 * Expect @s to split into the @n words of @want.  A macro so that a
 * failure reports the caller's line.
 */
#define TP_EXPECT_WORDS(s, ...)                                                \
	do {                                                                   \
		static const char *const want_[] = { __VA_ARGS__ };            \
		int i_;                                                        \
		KT_ASSERT_EQ(tp_parse(s), 0);                                  \
		KT_ASSERT_EQ(tp_args.argc, (int)ARRAY_SIZE(want_));            \
		for (i_ = 0; i_ < tp_args.argc; i_++)                          \
			KT_EXPECT_STREQ(tp_args.argv[i_], want_[i_]);          \
		KT_EXPECT(tp_args.argv[tp_args.argc] == NULL);                 \
	} while (0)

KTEST(shell_parse, empty_and_blank)
{
	KT_EXPECT_EQ(tp_parse(""), 0);
	KT_EXPECT_EQ(tp_args.argc, 0);
	KT_EXPECT(tp_args.argv[0] == NULL);
	KT_EXPECT_EQ(tp_parse(" \t \r\n\v\f "), 0);
	KT_EXPECT_EQ(tp_args.argc, 0);
}

KTEST(shell_parse, blanks_separate)
{
	TP_EXPECT_WORDS("ls", "ls");
	TP_EXPECT_WORDS("  mount  /dev/vda1\t/mnt  ", "mount", "/dev/vda1", "/mnt");
	TP_EXPECT_WORDS("a b c d", "a", "b", "c", "d");
}

KTEST(shell_parse, quotes_group)
{
	TP_EXPECT_WORDS("echo \"hello world\" 'a  b'", "echo", "hello world", "a  b");
	TP_EXPECT_WORDS("ab\"c d\"e", "abc de");
	TP_EXPECT_WORDS("'it'\"'\"'s'", "it's");
	TP_EXPECT_WORDS("\"\" ''", "", "");
	TP_EXPECT_WORDS("x '' y", "x", "", "y");
	TP_EXPECT_WORDS("'a \"b\" c'", "a \"b\" c");
	TP_EXPECT_WORDS("\"a 'b' c\"", "a 'b' c");
}

KTEST(shell_parse, backslashes)
{
	TP_EXPECT_WORDS("a\\ b c", "a b", "c");
	TP_EXPECT_WORDS("\\\"q\\\"", "\"q\"");
	TP_EXPECT_WORDS("\"say \\\"hi\\\"\"", "say \"hi\"");
	TP_EXPECT_WORDS("\"C:\\dir\\\\x\"", "C:\\dir\\x");
	TP_EXPECT_WORDS("'no\\escape'", "no\\escape");
	TP_EXPECT_WORDS("\\'", "'");
}

KTEST(shell_parse, malformed)
{
	KT_EXPECT_EQ(tp_parse("echo \"abc"), -EINVAL);
	KT_EXPECT_STREQ(tp_args.error, "unterminated double quote");
	KT_EXPECT_EQ(tp_parse("echo 'abc"), -EINVAL);
	KT_EXPECT_STREQ(tp_args.error, "unterminated single quote");
	KT_EXPECT_EQ(tp_parse("echo abc\\"), -EINVAL);
	KT_EXPECT_STREQ(tp_args.error, "backslash at end of line");
	KT_EXPECT_EQ(tp_parse("\"\\\""), -EINVAL); /* the quote is escaped */
}

KTEST(shell_parse, word_limit)
{
	char line[SHELL_ARGV_MAX * 3 + 4];
	int i;

	line[0] = '\0';
	for (i = 0; i < SHELL_ARGV_MAX; i++)
		strlcat(line, "w ", sizeof(line));
	KT_EXPECT_EQ(tp_parse(line), 0);
	KT_EXPECT_EQ(tp_args.argc, SHELL_ARGV_MAX);
	KT_EXPECT(tp_args.argv[SHELL_ARGV_MAX] == NULL);
	strlcat(line, "w", sizeof(line));
	KT_EXPECT_EQ(tp_parse(line), -E2BIG);
	KT_EXPECT_STREQ(tp_args.error, "too many words (max 32)");
}

/* Every word must lie inside the line and be terminated inside it. */
static bool tp_words_in_line(size_t len)
{
	int i;

	for (i = 0; i < tp_args.argc; i++) {
		char *w = tp_args.argv[i];

		if (w < tp_line || w > tp_line + len)
			return false;
		if (w + strlen(w) > tp_line + len)
			return false;
	}
	return true;
}

KTEST(shell_parse, random_lines)
{
	static const char alphabet[] = "ab \t\"'\\\x01\xff";
	size_t len, i;
	int round, ret;

	for (round = 0; round < 20000; round++) {
		len = ktest_rand(kt) % 80;
		for (i = 0; i < len; i++) {
			if (round % 2)
				tp_line[i] = (char)(1 + ktest_rand(kt) % 255);
			else
				tp_line[i] = alphabet[ktest_rand(kt) %
						      (sizeof(alphabet) - 1)];
		}
		tp_line[len] = '\0';
		ret = shell_parse(tp_line, &tp_args);
		KT_ASSERT(ret == 0 || ret == -EINVAL || ret == -E2BIG);
		KT_ASSERT(ret == 0 || tp_args.error != NULL);
		KT_ASSERT(tp_args.argc >= 0 && tp_args.argc <= SHELL_ARGV_MAX);
		KT_ASSERT(ret != 0 || tp_words_in_line(len));
	}
}
