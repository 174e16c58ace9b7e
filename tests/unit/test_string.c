/*
 * test_string.c — lib/string: the six routines against their C references
 * and against a model written here, plus the C-only helpers.
 *
 * In the kernel memset, memcpy, ... are the assembly routines, so these
 * tests are what holds string_asm.asm to the C versions: every length from
 * 0 past a few quadwords, at every alignment of source and destination,
 * with guard bytes around the destination to catch a write one byte too
 * far.  On the host both sides are C, and the tests check the references
 * themselves against the byte-by-byte models below.
 *
 * Buffers are static, not on the stack: the kernel runs these on a task
 * stack of modest size.
 */
#include "lib/ktest.h"
#include "lib/string.h"

#define BUF 512
#define GUARD 16

static u8 buf_a[BUF], buf_b[BUF], buf_src[BUF];

static int sgn(int v)
{
	return (v > 0) - (v < 0);
}

static void fill_random(struct ktest_ctx *kt, u8 *p, size_t n)
{
	while (n--)
		*p++ = (u8)ktest_rand(kt);
}

static bool same_bytes(const u8 *a, const u8 *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i] != b[i])
			return false;
	}
	return true;
}

/* ---- memset / memcpy ----------------------------------------------------- */

KTEST(string, memset_lengths_and_alignments)
{
	size_t off, len, i;

	for (off = 0; off < 16; off++) {
		for (len = 0; len < 140; len++) {
			u8 c = (u8)ktest_rand(kt);
			void *ret;

			fill_random(kt, buf_a, BUF);
			for (i = 0; i < BUF; i++)
				buf_b[i] = buf_a[i];
			ret = memset(buf_a + GUARD + off, c, len);
			memset_c(buf_b + GUARD + off, c, len);
			KT_ASSERT(ret == buf_a + GUARD + off);
			KT_ASSERT(same_bytes(buf_a, buf_b, BUF));
			for (i = 0; i < len; i++)
				KT_ASSERT_EQ(buf_a[GUARD + off + i], c);
		}
	}
}

KTEST(string, memset_int_argument_is_truncated)
{
	memset(buf_a, 0x1234, 8);
	KT_EXPECT_EQ(buf_a[0], 0x34);
	KT_EXPECT_EQ(buf_a[7], 0x34);
	memset(buf_a, -1, 8);
	KT_EXPECT_EQ(buf_a[3], 0xff);
}

KTEST(string, memcpy_lengths_and_alignments)
{
	size_t so, doff, len, i;

	for (so = 0; so < 9; so++) {
		for (doff = 0; doff < 9; doff++) {
			for (len = 0; len < 100; len++) {
				void *ret;

				fill_random(kt, buf_src, BUF);
				fill_random(kt, buf_a, BUF);
				for (i = 0; i < BUF; i++)
					buf_b[i] = buf_a[i];
				ret = memcpy(buf_a + GUARD + doff, buf_src + so, len);
				memcpy_c(buf_b + GUARD + doff, buf_src + so, len);
				KT_ASSERT(ret == buf_a + GUARD + doff);
				KT_ASSERT(same_bytes(buf_a, buf_b, BUF));
				KT_ASSERT(same_bytes(buf_a + GUARD + doff, buf_src + so, len));
			}
		}
	}
}

KTEST(string, memcpy_large)
{
	fill_random(kt, buf_src, BUF);
	memcpy(buf_a, buf_src, BUF);
	KT_EXPECT(same_bytes(buf_a, buf_src, BUF));
	memcpy(buf_a + 3, buf_src + 5, BUF - 8);
	KT_EXPECT(same_bytes(buf_a + 3, buf_src + 5, BUF - 8));
}

/* ---- memcmp -------------------------------------------------------------- */

static int model_memcmp(const u8 *a, const u8 *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

KTEST(string, memcmp_random)
{
	int iter;

	for (iter = 0; iter < 3000; iter++) {
		size_t len = ktest_rand(kt) % 200;
		size_t oa = ktest_rand(kt) % 8, ob = ktest_rand(kt) % 8;
		size_t i;
		int want;

		fill_random(kt, buf_a + oa, len);
		for (i = 0; i < len; i++)
			buf_b[ob + i] = buf_a[oa + i];
		if (len && ktest_rand(kt) % 4)
			buf_b[ob + ktest_rand(kt) % len] ^= (u8)(1 + ktest_rand(kt) % 255);
		want = model_memcmp(buf_a + oa, buf_b + ob, len);
		KT_ASSERT_EQ(sgn(memcmp(buf_a + oa, buf_b + ob, len)), want);
		KT_ASSERT_EQ(sgn(memcmp_c(buf_a + oa, buf_b + ob, len)), want);
		KT_ASSERT_EQ(sgn(memcmp(buf_b + ob, buf_a + oa, len)), -want);
	}
}

KTEST(string, memcmp_edges)
{
	static const u8 lo[] = { 0x01, 0x02, 0x03 };
	static const u8 hi[] = { 0x01, 0x02, 0x83 };

	KT_EXPECT_EQ(memcmp(lo, hi, 0), 0);
	KT_EXPECT_EQ(memcmp(lo, hi, 2), 0);
	/* Bytes compare as unsigned: 0x83 is larger than 0x03. */
	KT_EXPECT(memcmp(lo, hi, 3) < 0);
	KT_EXPECT(memcmp(hi, lo, 3) > 0);
	KT_EXPECT(memcmp_c(hi, lo, 3) > 0);
	KT_EXPECT_EQ(memcmp(lo, lo, 3), 0);
}

/* ---- strlen / strcmp / strstr ------------------------------------------ */

KTEST(string, strlen_lengths_and_alignments)
{
	size_t off, len, i;

	for (off = 0; off < 16; off++) {
		for (len = 0; len < 200; len++) {
			for (i = 0; i < len; i++)
				buf_a[off + i] = (u8)(1 + ktest_rand(kt) % 255);
			buf_a[off + len] = 0;
			buf_a[off + len + 1] = 'x'; /* must not be counted */
			KT_ASSERT_EQ(strlen((char *)buf_a + off), len);
			KT_ASSERT_EQ(strlen_c((char *)buf_a + off), len);
		}
	}
}

KTEST(string, strcmp_cases)
{
	static const struct {
		const char *a, *b;
		int sign;
	} cases[] = {
		{ "", "", 0 },
		{ "a", "", 1 },
		{ "", "a", -1 },
		{ "abc", "abc", 0 },
		{ "abc", "abd", -1 },
		{ "abd", "abc", 1 },
		{ "ab", "abc", -1 },
		{ "abc", "ab", 1 },
		{ "\x80", "\x7f", 1 }, /* unsigned comparison */
		{ "x\xff", "x\x01", 1 },
		{ "hello world", "hello world", 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		KT_EXPECT_EQ(sgn(strcmp(cases[i].a, cases[i].b)), cases[i].sign);
		KT_EXPECT_EQ(sgn(strcmp_c(cases[i].a, cases[i].b)), cases[i].sign);
	}
}

/* Random strings over a 3-letter alphabet, so prefixes and matches abound. */
static void random_word(struct ktest_ctx *kt, char *s, size_t max)
{
	size_t n = ktest_rand(kt) % max, i;

	for (i = 0; i < n; i++)
		s[i] = (char)('a' + ktest_rand(kt) % 3);
	s[n] = '\0';
}

static int model_strcmp(const char *a, const char *b)
{
	size_t i = 0;

	while (a[i] && a[i] == b[i])
		i++;
	return sgn((u8)a[i] - (u8)b[i]);
}

KTEST(string, strcmp_random)
{
	char *a = (char *)buf_a, *b = (char *)buf_b;
	int iter;

	for (iter = 0; iter < 3000; iter++) {
		random_word(kt, a, 12);
		random_word(kt, b, 12);
		KT_ASSERT_EQ(sgn(strcmp(a, b)), model_strcmp(a, b));
		KT_ASSERT_EQ(sgn(strcmp_c(a, b)), model_strcmp(a, b));
	}
}

static const char *model_strstr(const char *h, const char *n)
{
	size_t i, j;

	for (i = 0;; i++) {
		for (j = 0; n[j] && h[i + j] == n[j]; j++)
			;
		if (!n[j])
			return h + i;
		if (!h[i])
			return NULL;
	}
}

KTEST(string, strstr_cases)
{
	static const char hay[] = "aaab needle in a haystack";

	KT_EXPECT(strstr(hay, "") == hay);
	KT_EXPECT(strstr("", "") != NULL);
	KT_EXPECT(strstr("", "a") == NULL);
	KT_EXPECT(strstr(hay, "aab") == hay + 1);
	KT_EXPECT(strstr(hay, "needle") == hay + 5);
	KT_EXPECT(strstr(hay, "stack") == hay + 20);
	KT_EXPECT(strstr(hay, "k") == hay + 24);
	KT_EXPECT(strstr(hay, "stacks") == NULL);
	KT_EXPECT(strstr("ab", "abc") == NULL);
	KT_EXPECT(strstr_c(hay, "needle") == hay + 5);
	KT_EXPECT(strstr_c(hay, "") == hay);
	KT_EXPECT(strstr_c("ab", "abc") == NULL);
}

KTEST(string, strstr_random)
{
	char *h = (char *)buf_a, *n = (char *)buf_b;
	int iter;

	for (iter = 0; iter < 5000; iter++) {
		const char *want;

		random_word(kt, h, 40);
		random_word(kt, n, 5);
		want = model_strstr(h, n);
		KT_ASSERT(strstr(h, n) == want);
		KT_ASSERT(strstr_c(h, n) == want);
	}
}

/* ---- C-only helpers ------------------------------------------------------ */

KTEST(string, memmove_overlap)
{
	int iter;

	for (iter = 0; iter < 2000; iter++) {
		size_t len = ktest_rand(kt) % 100;
		size_t from = ktest_rand(kt) % 150, to = ktest_rand(kt) % 150;
		size_t i;

		fill_random(kt, buf_a, 256);
		for (i = 0; i < 256; i++)
			buf_b[i] = buf_a[i];
		for (i = 0; i < len; i++)
			buf_src[i] = buf_a[from + i];
		for (i = 0; i < len; i++)
			buf_b[to + i] = buf_src[i];
		KT_ASSERT(memmove(buf_a + to, buf_a + from, len) == buf_a + to);
		KT_ASSERT(same_bytes(buf_a, buf_b, 256));
	}
}

KTEST(string, memchr_strnlen)
{
	static const u8 data[] = { 1, 2, 0, 3, 0xff, 3 };
	static const char raw[2] = { 'a', 'b' };

	KT_EXPECT(memchr(data, 3, sizeof(data)) == data + 3);
	KT_EXPECT(memchr(data, 0x1ff, sizeof(data)) == data + 4); /* (u8)c */
	KT_EXPECT(memchr(data, 3, 3) == NULL);
	KT_EXPECT(memchr(data, 1, 0) == NULL);
	KT_EXPECT_EQ(strnlen("hello", 10), 5);
	KT_EXPECT_EQ(strnlen("hello", 3), 3);
	KT_EXPECT_EQ(strnlen("hello", 0), 0);
	/* Must stop at @max: @raw has no terminator to find. */
	KT_EXPECT_EQ(strnlen(raw, sizeof(raw)), 2);
}

KTEST(string, strncmp_strcasecmp)
{
	KT_EXPECT_EQ(strncmp("abcdef", "abcxyz", 3), 0);
	KT_EXPECT(strncmp("abcdef", "abcxyz", 4) < 0);
	KT_EXPECT_EQ(strncmp("abc", "abc", 100), 0);
	KT_EXPECT(strncmp("ab", "abc", 3) < 0);
	KT_EXPECT_EQ(strncmp("x", "y", 0), 0);
	KT_EXPECT(strncmp("\x90", "a", 1) > 0);
	KT_EXPECT_EQ(strcasecmp("Content-Length", "content-LENGTH"), 0);
	KT_EXPECT(strcasecmp("abc", "ABD") < 0);
	KT_EXPECT(strcasecmp("b", "A") > 0);
	KT_EXPECT(strcasecmp("ab", "AB ") < 0);
	KT_EXPECT_EQ(strncasecmp("HOST: x", "host: y", 5), 0);
	KT_EXPECT(strncasecmp("HOST: x", "host: y", 7) < 0);
	/* Only ASCII letters fold: '[' (0x5b) is not '{' (0x7b). */
	KT_EXPECT(strcasecmp("[", "{") != 0);
}

KTEST(string, strchr_strrchr)
{
	static const char s[] = "a/b/c";

	KT_EXPECT(strchr(s, '/') == s + 1);
	KT_EXPECT(strrchr(s, '/') == s + 3);
	KT_EXPECT(strchr(s, 'z') == NULL);
	KT_EXPECT(strrchr(s, 'z') == NULL);
	KT_EXPECT(strchr(s, '\0') == s + 5);
	KT_EXPECT(strrchr(s, '\0') == s + 5);
	KT_EXPECT(strchr(s, 'a') == s);
	KT_EXPECT(strrchr(s, 'a') == s);
	KT_EXPECT(strchr("", 'a') == NULL);
}

KTEST(string, strspn_strcspn)
{
	KT_EXPECT_EQ(strspn("  \tcmd arg", " \t"), 3);
	KT_EXPECT_EQ(strspn("cmd", " "), 0);
	KT_EXPECT_EQ(strspn("aaa", "a"), 3);
	KT_EXPECT_EQ(strspn("abc", ""), 0);
	KT_EXPECT_EQ(strcspn("cmd arg", " \t"), 3);
	KT_EXPECT_EQ(strcspn("cmd", " "), 3);
	KT_EXPECT_EQ(strcspn("", "x"), 0);
	KT_EXPECT_EQ(strcspn("abc", ""), 3);
}

KTEST(string, strlcpy_truncation)
{
	char d[8];

	memset(d, 'x', sizeof(d));
	KT_EXPECT_EQ(strlcpy(d, "hello", sizeof(d)), 5);
	KT_EXPECT_STREQ(d, "hello");
	KT_EXPECT_EQ(strlcpy(d, "hello world", sizeof(d)), 11);
	KT_EXPECT_STREQ(d, "hello w");
	KT_EXPECT_EQ(strlcpy(d, "", sizeof(d)), 0);
	KT_EXPECT_STREQ(d, "");
	d[0] = 'q';
	KT_EXPECT_EQ(strlcpy(d, "abc", 0), 3);
	KT_EXPECT_EQ(d[0], 'q'); /* size 0 writes nothing */
	KT_EXPECT_EQ(strlcpy(d, "abc", 1), 3);
	KT_EXPECT_STREQ(d, "");
}

KTEST(string, strlcat_truncation)
{
	char d[8];

	strlcpy(d, "ab", sizeof(d));
	KT_EXPECT_EQ(strlcat(d, "cd", sizeof(d)), 4);
	KT_EXPECT_STREQ(d, "abcd");
	KT_EXPECT_EQ(strlcat(d, "efghij", sizeof(d)), 10);
	KT_EXPECT_STREQ(d, "abcdefg");
	KT_EXPECT_EQ(strlcat(d, "z", sizeof(d)), 8);
	KT_EXPECT_STREQ(d, "abcdefg");
	/* No NUL within size: nothing written, size + strlen(src) returned. */
	memset(d, 'x', sizeof(d));
	KT_EXPECT_EQ(strlcat(d, "abc", 4), 7);
	KT_EXPECT_EQ(d[3], 'x');
	KT_EXPECT_EQ(d[4], 'x');
}
