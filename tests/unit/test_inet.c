/*
 * test_inet.c — net/inet.c: address parsing and formatting, masks, and
 * the Internet checksum against a word-at-a-time model of RFC 1071.
 */
#include "lib/ktest.h"
#include "errno.h"
#include "lib/string.h"
#include "net/inet.h"

KTEST(inet, ip_parse_accepts_dotted_quads)
{
	struct ip_addr a;
	char buf[IP_STR_MAX];

	KT_ASSERT_EQ(ip_parse("10.0.2.15", &a), 0);
	KT_EXPECT_EQ(a.family, IP_V4);
	KT_EXPECT_EQ(a.v4, 0x0A00020Fu);
	KT_EXPECT_STREQ(ip_format(&a, buf), "10.0.2.15");
	KT_ASSERT_EQ(ip_parse("255.255.255.255", &a), 0);
	KT_EXPECT_EQ(a.v4, 0xffffffffu);
	KT_ASSERT_EQ(ip_parse("0.0.0.0", &a), 0);
	KT_EXPECT_STREQ(ip_format(&a, buf), "0.0.0.0");
	KT_ASSERT_EQ(ip_parse("1.2.3.4", &a), 0);
	KT_EXPECT_EQ(a.v4, 0x01020304u);
}

KTEST(inet, ip_parse_refuses_everything_else)
{
	static const char *const bad[] = {
		"", "1", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.256", "1..2.3", ".1.2.3",
		"1.2.3.", "1.2.3.4 ", " 1.2.3.4", "+1.2.3.4", "-1.2.3.4", "1.2.3.4/24",
		"0001.2.3.4", "010.0.0.1", "1.2.3.04", "a.b.c.d", "1.2.3.4x", "99999999999.1.1.1",
	};
	struct ip_addr a = ip_v4(7);

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		KT_EXPECT_EQ(ip_parse(bad[i], &a), -EINVAL);
		KT_EXPECT_EQ(a.v4, 7u); /* untouched */
	}
	KT_EXPECT_EQ(ip_parse(NULL, &a), -EINVAL);
}

KTEST(inet, masks_and_prefixes)
{
	KT_EXPECT_EQ(ip_v4_mask(24), 0xffffff00u);
	KT_EXPECT_EQ(ip_v4_mask(32), 0xffffffffu);
	KT_EXPECT_EQ(ip_v4_mask(1), 0x80000000u);
	KT_EXPECT_EQ(ip_v4_mask(0), 0u);
	KT_EXPECT_EQ(ip_v4_mask(33), 0u);
	for (unsigned p = 0; p <= 32; p++)
		KT_EXPECT_EQ(ip_v4_prefix(ip_v4_mask(p)), (int)p);
	KT_EXPECT_EQ(ip_v4_prefix(0xff00ff00u), -1);
	KT_EXPECT_EQ(ip_v4_prefix(0x00ffffffu), -1);
}

KTEST(inet, address_equality_looks_at_the_family)
{
	struct ip_addr a = ip_v4_bytes(10, 0, 2, 2), b = ip_v4(0x0A000202u), none = { 0 };

	KT_EXPECT(ip_eq(&a, &b));
	b.v4++;
	KT_EXPECT(!ip_eq(&a, &b));
	KT_EXPECT(!ip_eq(&a, &none));
	KT_EXPECT(ip_is_v4(&a) && !ip_is_v4(&none));
}

KTEST(inet, mac_parse_and_format)
{
	struct mac_addr m;
	char buf[MAC_STR_MAX];

	KT_ASSERT_EQ(mac_parse("52:54:00:AB:cd:0f", &m), 0);
	KT_EXPECT_STREQ(mac_format(&m, buf), "52:54:00:ab:cd:0f");
	KT_EXPECT(!mac_is_multicast(&m));
	KT_EXPECT(mac_is_multicast(&mac_broadcast));
	KT_EXPECT(mac_eq(&mac_broadcast, &mac_broadcast) && !mac_eq(&m, &mac_zero));
	KT_EXPECT_EQ(mac_parse("52:54:00:ab:cd", &m), -EINVAL);
	KT_EXPECT_EQ(mac_parse("52:54:00:ab:cd:0f:", &m), -EINVAL);
	KT_ASSERT_EQ(mac_parse("52-54-00-AB-cd-0f", &m), 0);    /* the other separator */
	KT_EXPECT_STREQ(mac_format(&m, buf), "52:54:00:ab:cd:0f");
	KT_EXPECT_EQ(mac_parse("52-54:00-ab-cd-0f", &m), -EINVAL); /* mixed */
	KT_EXPECT_EQ(mac_parse("5:54:00:ab:cd:0f", &m), -EINVAL);
	KT_EXPECT_EQ(mac_parse("52:54:00:ab:cd:0g", &m), -EINVAL);
}

/* RFC 1071 word by word, big-endian, end-around carry at every step. */
static u16 model_csum(const u8 *p, size_t len)
{
	u32 sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		sum += (u32)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (u16)~sum;
}

KTEST(inet, checksum_matches_the_model_at_every_offset_and_length)
{
	static u8 buf[1600];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)ktest_rand(kt);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; off + len <= sizeof(buf); len += 1 + len / 3)
			KT_ASSERT_EQ(inet_csum(buf + off, len), model_csum(buf + off, len));
	memset(buf, 0xff, sizeof(buf));                    /* carries everywhere */
	KT_EXPECT_EQ(inet_csum(buf, sizeof(buf)), model_csum(buf, sizeof(buf)));
}

KTEST(inet, checksum_in_pieces_and_a_header_that_sums_to_zero)
{
	/* RFC 1071's example bytes, and an IPv4 header whose sum must verify */
	static const u8 rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	u8 hdr[20] = { 0x45, 0, 0, 0x54, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0,
		       10, 0, 2, 15, 10, 0, 2, 2 };
	static u8 buf[300];
	u16 c;

	KT_EXPECT_EQ(inet_csum(rfc, sizeof(rfc)), (u16)~0xddf2u);
	c = inet_csum(hdr, sizeof(hdr));
	hdr[10] = (u8)(c >> 8);
	hdr[11] = (u8)c;
	KT_EXPECT_EQ(inet_csum(hdr, sizeof(hdr)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)ktest_rand(kt);
	for (size_t split = 0; split <= sizeof(buf); split += 2)
		KT_ASSERT_EQ(inet_csum_fold(inet_csum_add(inet_csum_add(0, buf, split), buf + split,
							  sizeof(buf) - split)),
			     inet_csum(buf, sizeof(buf)));
}
