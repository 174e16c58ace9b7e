/*
 * test_format.c — lib/format against expected strings written out by hand.
 *
 * These run in the kernel too, where there is no libc to compare with, so
 * every expectation is spelled out.  The exhaustive comparison with the
 * host's snprintf lives in host_format.c.
 */
#include "lib/ktest.h"
#include "lib/format.h"
#include "lib/string.h"

/*
 * Format into a buffer and check both the text and the return value, which
 * must equal the text's length whenever the buffer was big enough.
 */
#define EXPECT_FMT(want, ...)                                                  \
	do {                                                                   \
		char b_[128];                                                  \
		int n_ = snprintf(b_, sizeof(b_), __VA_ARGS__);                \
		KT_EXPECT_STREQ(b_, want);                                     \
		KT_EXPECT_EQ(n_, strlen(want));                                \
	} while (0)

/*
 * The same with the format in a variable, for cases the compiler's format
 * check rightly calls odd but which must still work (an int passed for
 * %hhd, '+' and ' ' together).
 */
#define EXPECT_FMT_RT(want, fmt, ...)                                          \
	do {                                                                   \
		const char *f_ = fmt;                                          \
		EXPECT_FMT(want, f_, __VA_ARGS__);                             \
	} while (0)

KTEST(format, integers)
{
	EXPECT_FMT("0", "%d", 0);
	EXPECT_FMT("-1", "%d", -1);
	EXPECT_FMT("2147483647", "%d", 2147483647);
	EXPECT_FMT("-2147483648", "%i", (int)-2147483647 - 1);
	EXPECT_FMT("4294967295", "%u", 0xffffffffu);
	EXPECT_FMT("-9223372036854775808", "%lld", (long long)INT64_MIN);
	EXPECT_FMT("18446744073709551615", "%llu", 0xffffffffffffffffULL);
	EXPECT_FMT("9223372036854775807", "%ld", (long)INT64_MAX);
	EXPECT_FMT("12345", "%zu", (size_t)12345);
	EXPECT_FMT("-5", "%zd", (size_t)-5);
	/* hh and h narrow the int that was passed, as C says they must. */
	EXPECT_FMT_RT("-1 255", "%hhd %hhu", 255, 255);
	EXPECT_FMT_RT("-1 65535", "%hd %hu", 65535, 65535);
	EXPECT_FMT_RT("44 300", "%hhu %hu", 300, 300);
}

KTEST(format, hex_and_octal)
{
	EXPECT_FMT("deadbeef", "%x", 0xdeadbeefu);
	EXPECT_FMT("DEADBEEF", "%X", 0xdeadbeefu);
	EXPECT_FMT("0xff 0XFF", "%#x %#X", 255, 255);
	EXPECT_FMT("0", "%#x", 0); /* no prefix on zero */
	EXPECT_FMT("ffffffffffffffff", "%llx", 0xffffffffffffffffULL);
	EXPECT_FMT("0x0000002a", "%#010x", 42);
	EXPECT_FMT("755 0755 0", "%o %#o %#o", 0755, 0755, 0);
}

KTEST(format, width_and_flags)
{
	EXPECT_FMT("   42", "%5d", 42);
	EXPECT_FMT("42   |", "%-5d|", 42);
	EXPECT_FMT("00042", "%05d", 42);
	EXPECT_FMT("-0042", "%05d", -42);
	EXPECT_FMT("+42 -42", "%+d %+d", 42, -42);
	EXPECT_FMT(" 42", "% d", 42);
	EXPECT_FMT_RT("+42", "%+ d", 42); /* '+' beats ' ' */
	EXPECT_FMT_RT("42   ", "%-05d", 42); /* '-' beats '0' */
	EXPECT_FMT("   42", "%*d", 5, 42);
	EXPECT_FMT("42   |", "%*d|", -5, 42);
	EXPECT_FMT("12", "%1d", 12); /* width never truncates */
}

KTEST(format, precision)
{
	EXPECT_FMT("00042", "%.5d", 42);
	EXPECT_FMT("  -00042", "%8.5d", -42);
	EXPECT_FMT("   00042", "%08.5d", 42); /* precision disables '0' */
	EXPECT_FMT("", "%.0d", 0);
	EXPECT_FMT("    ", "%4.0u", 0);
	EXPECT_FMT("0x00ff", "%#.4x", 255);
	EXPECT_FMT("007", "%.*d", 3, 7);
	EXPECT_FMT("7", "%.*d", -3, 7); /* negative precision: as if none */
	EXPECT_FMT("hel", "%.3s", "hello");
	EXPECT_FMT("  hel", "%5.3s", "hello");
	EXPECT_FMT("hel  |", "%-5.*s|", 3, "hello");
}

KTEST(format, strings_chars_pointers)
{
	EXPECT_FMT("hello", "%s", "hello");
	EXPECT_FMT("(null)", "%s", (char *)NULL);
	EXPECT_FMT("   ab", "%5s", "ab");
	EXPECT_FMT("ab   |", "%-5s|", "ab");
	EXPECT_FMT("x", "%c", 'x');
	EXPECT_FMT("  x", "%3c", 'x');
	EXPECT_FMT("100%", "%d%%", 100);
	EXPECT_FMT("0x1000", "%p", (void *)0x1000);
	EXPECT_FMT("(nil)", "%p", (void *)0);
	EXPECT_FMT("0xffff800000000000", "%p", (void *)0xffff800000000000ULL);
	EXPECT_FMT("a  b", "a%*sb", 2, "");
}

KTEST(format, unknown_and_truncated_specs)
{
	char b[32];

	/* Built at run time so the compiler's format check does not object. */
	const char *bad = "<%-4y>", *tail = "abc%", *tail2 = "abc%-0";

	KT_EXPECT_EQ(snprintf(b, sizeof(b), bad, 1), 6);
	KT_EXPECT_STREQ(b, "<%-4y>");
	KT_EXPECT_EQ(snprintf(b, sizeof(b), tail, 1), 4);
	KT_EXPECT_STREQ(b, "abc%");
	KT_EXPECT_EQ(snprintf(b, sizeof(b), tail2, 1), 6);
	KT_EXPECT_STREQ(b, "abc%-0");
}

KTEST(format, truncation_and_return_value)
{
	char b[8];
	size_t size;

	memset(b, 'x', sizeof(b));
	KT_EXPECT_EQ(snprintf(b, 0, "hello"), 5);
	KT_EXPECT_EQ(b[0], 'x'); /* size 0 writes nothing */
	KT_EXPECT_EQ(snprintf(NULL, 0, "%d-%s", 1234, "abc"), 8);
	KT_EXPECT_EQ(snprintf(b, 1, "hello"), 5);
	KT_EXPECT_STREQ(b, "");
	KT_EXPECT_EQ(snprintf(b, sizeof(b), "%s", "hello world"), 11);
	KT_EXPECT_STREQ(b, "hello w");
	KT_EXPECT_EQ(snprintf(b, sizeof(b), "%20d", 1), 20);
	KT_EXPECT_STREQ(b, "       ");
	/* Every size cuts the same output at a different place. */
	for (size = 1; size <= sizeof(b); size++) {
		KT_EXPECT_EQ(snprintf(b, size, "%x", 0x1234567u), 7);
		KT_EXPECT_EQ(strlen(b), MIN(size - 1, 7));
		KT_EXPECT_EQ(strncmp(b, "1234567", size - 1), 0);
	}
}

KTEST(format, huge_width_is_counted_not_written)
{
	char b[4];

	KT_EXPECT_EQ(snprintf(b, sizeof(b), "%100000d", 1), 100000);
	KT_EXPECT_STREQ(b, "   ");
	KT_EXPECT_EQ(snprintf(b, sizeof(b), "%-*s|", 70000, "a"), 70001);
	KT_EXPECT_STREQ(b, "a  ");
}

KTEST(format, scnprintf_counts_stored_bytes)
{
	char b[10];
	int len = 0;

	len += scnprintf(b + len, sizeof(b) - len, "%s", "abcd");
	KT_EXPECT_EQ(len, 4);
	len += scnprintf(b + len, sizeof(b) - len, "%s", "efghijkl");
	KT_EXPECT_EQ(len, 9);
	KT_EXPECT_STREQ(b, "abcdefghi");
	len += scnprintf(b + len, sizeof(b) - len, "%s", "more");
	KT_EXPECT_EQ(len, 9);
	KT_EXPECT_EQ(scnprintf(b, 0, "abc"), 0);
}

KTEST(format, ipv4_and_mac)
{
	static const u8 mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
	char b[FORMAT_MAC_MAX];

	KT_EXPECT_EQ(format_ipv4(b, sizeof(b), 0x0a00020f), 9);
	KT_EXPECT_STREQ(b, "10.0.2.15");
	KT_EXPECT_EQ(format_ipv4(b, FORMAT_IPV4_MAX, 0xffffffff), 15);
	KT_EXPECT_STREQ(b, "255.255.255.255");
	KT_EXPECT_EQ(format_mac(b, sizeof(b), mac), 17);
	KT_EXPECT_STREQ(b, "52:54:00:ab:cd:ef");
}
