/*
 * test_string_asm.c — the assembly string routines against their C
 * reference versions (lib/string.c), on the machine.
 *
 * The assembly works a quadword at a time and finishes with bytes, so the
 * cases that break such code are the edges: every source and destination
 * misalignment 0-15, every length 0-260 (crossing several quadword
 * boundaries), and a guard zone around each destination that must come out
 * untouched.
 */
#include "lib/ktest.h"
#include "lib/string.h"

#define AREA 384
#define GUARD 0xA5

static u8 src_buf[AREA], dst_asm[AREA], dst_ref[AREA];

static void fill_random(struct ktest_ctx *kt, u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (u8)ktest_rand(kt);
}

KTEST(string_asm, memcpy_every_alignment_and_length)
{
	fill_random(kt, src_buf, AREA);
	for (size_t so = 0; so < 16; so++)
		for (size_t d = 0; d < 16; d++)
			for (size_t n = 0; n <= 260; n += (n < 40 ? 1 : 7)) {
				memset_c(dst_asm, GUARD, AREA);
				memset_c(dst_ref, GUARD, AREA);
				KT_ASSERT(memcpy(dst_asm + d, src_buf + so, n) == dst_asm + d);
				memcpy_c(dst_ref + d, src_buf + so, n);
				KT_ASSERT(memcmp_c(dst_asm, dst_ref, AREA) == 0);
			}
}

KTEST(string_asm, memset_every_alignment_and_length)
{
	for (size_t d = 0; d < 16; d++)
		for (size_t n = 0; n <= 260; n++) {
			int c = (int)(ktest_rand(kt) & 0x1FF); /* only the low byte counts */

			memset_c(dst_asm, GUARD, AREA);
			memset_c(dst_ref, GUARD, AREA);
			KT_ASSERT(memset(dst_asm + d, c, n) == dst_asm + d);
			memset_c(dst_ref + d, c, n);
			KT_ASSERT(memcmp_c(dst_asm, dst_ref, AREA) == 0);
		}
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

KTEST(string_asm, memcmp_finds_first_difference)
{
	fill_random(kt, src_buf, AREA);
	for (size_t a = 0; a < 9; a++)
		for (size_t n = 0; n <= 200; n++) {
			memcpy_c(dst_ref, src_buf + a, n);
			KT_ASSERT_EQ(memcmp(dst_ref, src_buf + a, n), 0);
			if (!n)
				continue;
			size_t at = ktest_rand(kt) % n;
			dst_ref[at] ^= (u8)(1 + ktest_rand(kt) % 255);
			KT_ASSERT_EQ(sign(memcmp(dst_ref, src_buf + a, n)),
				     sign(memcmp_c(dst_ref, src_buf + a, n)));
			KT_ASSERT(memcmp(dst_ref, src_buf + a, n) != 0);
		}
}

/* A NUL-terminated random string of @n non-NUL bytes at @p. */
static void make_string(struct ktest_ctx *kt, char *p, size_t n, u8 alphabet)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (char)('a' + ktest_rand(kt) % alphabet);
	p[n] = '\0';
}

KTEST(string_asm, strlen_every_alignment)
{
	char *s;

	for (size_t a = 0; a < 16; a++)
		for (size_t n = 0; n <= 260; n++) {
			s = (char *)dst_asm + a;
			make_string(kt, s, n, 26);
			KT_ASSERT_EQ(strlen(s), n);
			KT_ASSERT_EQ(strlen(s), strlen_c(s));
		}
}

KTEST(string_asm, strcmp_matches_reference)
{
	char *a = (char *)dst_asm + 3, *b = (char *)dst_ref + 5;

	for (unsigned i = 0; i < 3000; i++) {
		size_t na = ktest_rand(kt) % 40, nb = ktest_rand(kt) % 40;

		make_string(kt, a, na, 3); /* a small alphabet makes long common prefixes */
		make_string(kt, b, nb, 3);
		if (i % 4 == 0)
			memcpy_c(b, a, na + 1);
		KT_ASSERT_EQ(sign(strcmp(a, b)), sign(strcmp_c(a, b)));
	}
	KT_EXPECT(strcmp("\x80", "\x7f") > 0); /* bytes compare as unsigned */
	KT_EXPECT_EQ(strcmp("", ""), 0);
}

KTEST(string_asm, strstr_matches_reference)
{
	char *hay = (char *)dst_asm + 1, *needle = (char *)dst_ref + 2;

	for (unsigned i = 0; i < 3000; i++) {
		make_string(kt, hay, ktest_rand(kt) % 60, 3);
		make_string(kt, needle, ktest_rand(kt) % 5, 3);
		KT_ASSERT(strstr(hay, needle) == strstr_c(hay, needle));
	}
	KT_EXPECT(strstr("abc", "") != NULL);
	KT_EXPECT(strstr("", "a") == NULL);
	KT_EXPECT_STREQ(strstr("aaab", "aab"), "aab");
}
