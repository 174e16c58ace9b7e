/*
 * test_parse.c — lib/parse: every parser over a table of good inputs with
 * their values and a table of malformed ones with the error each must give,
 * checking also that a failed parse leaves the output untouched.
 */
#include "lib/ktest.h"
#include "lib/parse.h"
#include "lib/string.h"
#include "errno.h"

struct u64_case {
	const char *s;
	int err;
	u64 v;
};

KTEST(parse, u64_table)
{
	static const struct u64_case cases[] = {
		{ "0", 0, 0 },
		{ "7", 0, 7 },
		{ "010", 0, 10 }, /* no octal */
		{ "18446744073709551615", 0, 0xffffffffffffffffULL },
		{ "0x0", 0, 0 },
		{ "0xff", 0, 255 },
		{ "0XFF", 0, 255 },
		{ "0xDeadBeef", 0, 0xdeadbeef },
		{ "0xffffffffffffffff", 0, 0xffffffffffffffffULL },
		{ "0x0000000000000000001", 0, 1 },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "0x10000000000000000", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "0x", -EINVAL, 0 },
		{ "x10", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "12abc", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ "1.5", -EINVAL, 0 },
		{ "0xfg", -EINVAL, 0 },
		{ "ff", -EINVAL, 0 },
		{ "0b101", -EINVAL, 0 },
		{ "0x 1", -EINVAL, 0 },
		{ "99999999999999999999z", -EINVAL, 0 }, /* shape before value */
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 v = 12345;
		int err = parse_u64(cases[i].s, &v);

		KT_EXPECT_EQ(err, cases[i].err);
		KT_EXPECT_EQ(v, err ? 12345 : cases[i].v);
		if (err != cases[i].err)
			ktest_log(kt, "input \"%s\"", cases[i].s);
	}
	KT_EXPECT_EQ(parse_u64(NULL, NULL), -EINVAL);
}

KTEST(parse, u64n_bounded)
{
	static const char hdr[] = "Content-Length: 1234\r\n";
	u64 v = 0;

	KT_EXPECT_EQ(parse_u64n(hdr + 16, 4, &v), 0);
	KT_EXPECT_EQ(v, 1234);
	KT_EXPECT_EQ(parse_u64n(hdr + 16, 5, &v), -EINVAL); /* takes the '\r' */
	KT_EXPECT_EQ(parse_u64n(hdr + 16, 0, &v), -EINVAL);
	KT_EXPECT_EQ(parse_u64n("12\0" "3", 4, &v), -EINVAL);
	KT_EXPECT_EQ(parse_u64n(NULL, 0, &v), -EINVAL);
	KT_EXPECT_EQ(parse_u64n("0x1f", 4, &v), 0);
	KT_EXPECT_EQ(v, 31);
}

KTEST(parse, s64_table)
{
	static const struct {
		const char *s;
		int err;
		s64 v;
	} cases[] = {
		{ "0", 0, 0 },
		{ "-0", 0, 0 },
		{ "42", 0, 42 },
		{ "-42", 0, -42 },
		{ "-0x10", 0, -16 },
		{ "9223372036854775807", 0, INT64_MAX },
		{ "-9223372036854775808", 0, INT64_MIN },
		{ "-0x8000000000000000", 0, INT64_MIN },
		{ "9223372036854775808", -ERANGE, 0 },
		{ "-9223372036854775809", -ERANGE, 0 },
		{ "0xffffffffffffffff", -ERANGE, 0 },
		{ "-", -EINVAL, 0 },
		{ "--1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ "- 1", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "1-", -EINVAL, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		s64 v = 777;
		int err = parse_s64(cases[i].s, &v);

		KT_EXPECT_EQ(err, cases[i].err);
		KT_EXPECT_EQ(v, err ? 777 : cases[i].v);
	}
	KT_EXPECT_EQ(parse_s64(NULL, NULL), -EINVAL);
}

KTEST(parse, ranges_and_uint)
{
	u64 v = 5;
	unsigned int u = 5;

	KT_EXPECT_EQ(parse_u64_range("10", 1, 10, &v), 0);
	KT_EXPECT_EQ(v, 10);
	KT_EXPECT_EQ(parse_u64_range("11", 1, 10, &v), -ERANGE);
	KT_EXPECT_EQ(parse_u64_range("0", 1, 10, &v), -ERANGE);
	KT_EXPECT_EQ(parse_u64_range("x", 1, 10, &v), -EINVAL);
	KT_EXPECT_EQ(v, 10);
	KT_EXPECT_EQ(parse_uint("4294967295", &u), 0);
	KT_EXPECT_EQ(u, 4294967295u);
	KT_EXPECT_EQ(parse_uint("4294967296", &u), -ERANGE);
	KT_EXPECT_EQ(parse_uint("0x100000000", &u), -ERANGE);
	KT_EXPECT_EQ(parse_uint("-1", &u), -EINVAL);
	KT_EXPECT_EQ(u, 4294967295u);
}

/*
 * The whole width is checked before a range is: a value that only fits
 * once cut to 32 bits (or wrapped past 2^64) is out of range, never the
 * small number it would become (hostile finding #2: "hang 4294967296 1").
 */
KTEST(parse, ranges_see_the_full_width)
{
	static const char *const wrap[] = {
		"4294967296", "4294967297", "0x100000001", "18446744073709551615",
		"18446744073709551616", "18446744073709551617", "0x10000000000000001",
		"340282366920938463463374607431768211457",
	};
	u64 v = 77;

	for (size_t i = 0; i < ARRAY_SIZE(wrap); i++) {
		KT_EXPECT_EQ(parse_u64_range(wrap[i], 0, 7, &v), -ERANGE);
		KT_EXPECT_EQ(v, 77);
	}
	KT_EXPECT_EQ(parse_u64_range("18446744073709551615", 0, ~0ULL, &v), 0);
	KT_EXPECT_EQ(v, ~0ULL);
	KT_EXPECT_EQ(parse_u64_range("18446744073709551616", 0, ~0ULL, &v), -ERANGE);
	KT_EXPECT_EQ(parse_u64_range("", 0, ~0ULL, &v), -EINVAL);
	KT_EXPECT_EQ(parse_u64_range("-1", 0, ~0ULL, &v), -EINVAL);
	KT_EXPECT_EQ(parse_u64_range("-0", 0, ~0ULL, &v), -EINVAL);
	KT_EXPECT_EQ(parse_u64_range("0x", 0, ~0ULL, &v), -EINVAL);
	KT_EXPECT_EQ(parse_u64_range("5", 6, 4, &v), -ERANGE); /* an empty range */
	KT_EXPECT_EQ(v, ~0ULL);
}

KTEST(parse, bool_words)
{
	static const char *const yes[] = { "1", "y", "Y", "yes", "YES", "on", "On", "true" };
	static const char *const no[] = { "0", "n", "no", "off", "OFF", "false", "False" };
	static const char *const bad[] = { "", "2", "yess", "o", "tru", " on", "on ", "01" };
	size_t i;
	bool b;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		b = false;
		KT_EXPECT_EQ(parse_bool(yes[i], &b), 0);
		KT_EXPECT(b);
	}
	for (i = 0; i < ARRAY_SIZE(no); i++) {
		b = true;
		KT_EXPECT_EQ(parse_bool(no[i], &b), 0);
		KT_EXPECT(!b);
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		b = true;
		KT_EXPECT_EQ(parse_bool(bad[i], &b), -EINVAL);
		KT_EXPECT(b);
	}
	KT_EXPECT_EQ(parse_bool(NULL, &b), -EINVAL);
}

KTEST(parse, hex_bytes)
{
	static const char *const bad[] = { "", "a", "abc", "0xab", "ab cd", "ab:cd",
					   "zz", "a g0", "abcdeg" };
	u8 out[4] = { 0 };
	size_t len = 99, i;

	KT_EXPECT_EQ(parse_hex_bytes("deadBEEF", out, sizeof(out), &len), 0);
	KT_EXPECT_EQ(len, 4);
	KT_EXPECT_EQ(out[0], 0xde);
	KT_EXPECT_EQ(out[3], 0xef);
	KT_EXPECT_EQ(parse_hex_bytes("00ff", out, 2, &len), 0);
	KT_EXPECT_EQ(len, 2);
	KT_EXPECT_EQ(out[1], 0xff);
	KT_EXPECT_EQ(out[2], 0xbe); /* untouched beyond the result */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		len = 99;
		out[0] = 0x11;
		KT_EXPECT_EQ(parse_hex_bytes(bad[i], out, sizeof(out), &len), -EINVAL);
		KT_EXPECT_EQ(len, 99);
		KT_EXPECT_EQ(out[0], 0x11);
	}
	KT_EXPECT_EQ(parse_hex_bytes("0102030405", out, sizeof(out), &len), -E2BIG);
	KT_EXPECT_EQ(out[0], 0x11);
	KT_EXPECT_EQ(parse_hex_bytes("0102030405", out, 0, &len), -E2BIG);
	KT_EXPECT_EQ(parse_hex_bytes(NULL, out, sizeof(out), &len), -EINVAL);
}

KTEST(parse, ipv4_good)
{
	static const struct {
		const char *s;
		u32 v;
	} cases[] = {
		{ "0.0.0.0", 0 },
		{ "10.0.2.15", 0x0a00020f },
		{ "127.0.0.1", 0x7f000001 },
		{ "255.255.255.255", 0xffffffff },
		{ "192.168.100.200", 0xc0a864c8 },
		{ "1.2.3.4", 0x01020304 },
	};
	size_t i;
	u32 v;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		v = 0xdeadbeef;
		KT_EXPECT_EQ(parse_ipv4(cases[i].s, &v), 0);
		KT_EXPECT_EQ(v, cases[i].v);
	}
}

KTEST(parse, ipv4_malformed)
{
	static const char *const bad[] = {
		"", ".", "...", "1.2.3", "1.2.3.4.5", "1.2.3.", ".1.2.3", "1..2.3",
		"256.0.0.1", "1.2.3.256", "1.2.3.999", "1.2.3.1000", "0001.2.3.4",
		"01.2.3.4", "1.2.3.04", "1.2.3.00", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4x",
		"a.b.c.d", "1.2.3.-4", "+1.2.3.4", "1,2,3,4", "1.2.3.4/24",
		"0x1.2.3.4", "1.2.3.4\n", "4294967295", "1.2.3.4.", "1 .2.3.4",
	};
	size_t i;
	u32 v;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 0x12345678;
		KT_EXPECT_EQ(parse_ipv4(bad[i], &v), -EINVAL);
		KT_EXPECT_EQ(v, 0x12345678);
		if (v != 0x12345678)
			ktest_log(kt, "accepted \"%s\"", bad[i]);
	}
	KT_EXPECT_EQ(parse_ipv4(NULL, &v), -EINVAL);
}

KTEST(parse, mac)
{
	static const char *const bad[] = {
		"", "52:54:00:12:34", "52:54:00:12:34:56:78", "52:54:00:12:34:5",
		"52:54:00:12:34:567", "52-54:00:12:34:56", "52:54:00:12:34:5g",
		"525400123456", "52.54.00.12.34.56", " 52:54:00:12:34:56",
		"52:54:00:12:34:56 ", "5:254:00:12:34:56", "52::54:00:12:34:56",
	};
	u8 mac[6] = { 0 };
	size_t i;

	KT_EXPECT_EQ(parse_mac("52:54:00:12:34:56", mac), 0);
	KT_EXPECT_EQ(mac[0], 0x52);
	KT_EXPECT_EQ(mac[5], 0x56);
	KT_EXPECT_EQ(parse_mac("AA-bb-CC-dd-EE-ff", mac), 0);
	KT_EXPECT_EQ(mac[0], 0xaa);
	KT_EXPECT_EQ(mac[5], 0xff);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KT_EXPECT_EQ(parse_mac(bad[i], mac), -EINVAL);
		KT_EXPECT_EQ(mac[0], 0xaa);
	}
	KT_EXPECT_EQ(parse_mac(NULL, mac), -EINVAL);
}
