/*
 * host_udpshell_proto.c — the UDP shell's wire format (net/udpshell_proto.c,
 * the real file) on the host: parsing what docs/udpshell.md draws, every
 * malformed form refused with its own reason, random bytes never read
 * past the datagram (each in an allocation of exactly its size, so ASan
 * sees an overread), tags that verify and fail for every flipped bit and
 * for another key, the bytes a reply is built of, and the key parser.
 */
#include "tests/unit/host_udpshell.h"
#include "errno.h"
#include "lib/ktest.h"
#include "net/udpshell.h"

#include <stdlib.h>

/* A well-formed request for "ls /" (AUTH when @key). */
static u32 good_request(u8 *buf, const u8 *key)
{
	return tq_packet(buf, 0x01020304, 0, 0, "ls /", 4, key, 0x1122334455667788ull);
}

KTEST(udpshell_proto, parses_what_the_doc_draws)
{
	u8 buf[128];
	struct ush_pkt p;
	u32 n = good_request(buf, NULL);

	KT_ASSERT_EQ(ush_parse(buf, n, &p), USH_OK);
	KT_EXPECT_EQ(p.h.seq, 0x01020304);
	KT_EXPECT_EQ(p.h.chunk, 0);
	KT_EXPECT_EQ(p.h.flags, 0);
	KT_EXPECT_EQ(p.h.len, 4);
	KT_EXPECT(p.payload == buf + 16 && !memcmp(p.payload, "ls /", 4));
	KT_EXPECT(p.tag == NULL);
	KT_EXPECT_EQ(ush_check_request(&p), USH_OK);
	n = good_request(buf, key_a);
	KT_ASSERT_EQ(n, 16 + 4 + 40);
	KT_ASSERT_EQ(ush_parse(buf, n, &p), USH_OK);
	KT_EXPECT_EQ(p.h.flags, USH_F_AUTH);
	KT_EXPECT_EQ(p.counter, 0x1122334455667788ull);
	KT_EXPECT(p.tag == buf + 16 + 4 + 8);
	/* LAST on a request is ignored (old clients may set it); an empty line is a line */
	n = tq_packet(buf, 7, 0, USH_F_LAST, "", 0, NULL, 0);
	KT_ASSERT_EQ(ush_parse(buf, n, &p), USH_OK);
	KT_EXPECT_EQ(ush_check_request(&p), USH_OK);
}

/* Parse @n bytes of @buf: the reason, after the request checks when the framing is good. */
static enum ush_bad parse_req(const u8 *buf, size_t n)
{
	struct ush_pkt p;
	enum ush_bad why = ush_parse(buf, n, &p);

	return why ? why : ush_check_request(&p);
}

KTEST(udpshell_proto, refuses_every_malformed_form)
{
	u8 buf[256], b[256];
	u32 n = good_request(buf, NULL), na;

	KT_EXPECT_EQ(ush_parse(NULL, 0, NULL), USH_BAD_SHORT);
	for (u32 i = 0; i < 16; i++)
		KT_EXPECT_EQ(parse_req(buf, i), USH_BAD_SHORT);
	memcpy(b, buf, n);
	b[3] ^= 1;
	KT_EXPECT_EQ(parse_req(b, n), USH_BAD_MAGIC);
	memcpy(b, buf, n);
	b[15] = 1;
	KT_EXPECT_EQ(parse_req(b, n), USH_BAD_RESERVED);
	for (unsigned bit = 3; bit < 16; bit++) {
		memcpy(b, buf, n);
		put_be16(b + 10, (u16)(1u << bit));
		KT_EXPECT_EQ(parse_req(b, n), USH_BAD_FLAGS);
	}
	memcpy(b, buf, n);
	put_be16(b + 12, 5); /* one past the datagram */
	KT_EXPECT_EQ(parse_req(b, n), USH_BAD_LEN);
	put_be16(b + 12, 0xffff);
	KT_EXPECT_EQ(parse_req(b, n), USH_BAD_LEN);
	memcpy(b, buf, n);
	b[n] = 'x'; /* a byte after the payload */
	KT_EXPECT_EQ(parse_req(b, n + 1), USH_BAD_EXTRA);
	na = good_request(buf, key_a);
	for (u32 cut = 16 + 4; cut < na; cut++) /* AUTH with a short trailer */
		KT_EXPECT_EQ(parse_req(buf, cut), USH_BAD_TRAILER);
	buf[na] = 0;
	KT_EXPECT_EQ(parse_req(buf, na + 1), USH_BAD_EXTRA);
	n = tq_packet(b, 1, 1, 0, "x", 1, NULL, 0);
	KT_EXPECT_EQ(parse_req(b, n), USH_BAD_CHUNK);
	n = tq_packet(b, 1, 0, USH_F_REPLY, "x", 1, NULL, 0);
	KT_EXPECT_EQ(parse_req(b, n), USH_BAD_REPLY);
	n = tq_packet(b, 1, 0, 0, "ls\0/", 4, NULL, 0);
	KT_EXPECT_EQ(parse_req(b, n), USH_BAD_NUL);
	for (unsigned why = USH_BAD_SHORT; why < USH_BAD_COUNT; why++)
		KT_EXPECT(strcmp(ush_bad_name((enum ush_bad)why), "?") != 0);
	KT_EXPECT_STREQ(ush_bad_name(USH_BAD_COUNT), "?");
}

KTEST(udpshell_proto, random_bytes_never_read_outside_the_datagram)
{
	u8 buf[200];
	struct ush_pkt p;

	for (unsigned i = 0; i < 20000; i++) {
		u32 n = (u32)(ktest_rand(kt) % sizeof(buf));
		u8 *d = malloc(n ? n : 1); /* exactly n bytes: ASan sees any overread */

		for (u32 j = 0; j < n; j++)
			d[j] = (u8)ktest_rand(kt);
		if (n >= 4 && (i & 1))
			put_be32(d, USH_MAGIC);
		if (n >= 16 && (i & 2))
			put_be16(d + 14, 0);
		if (n >= 16 && (i & 4))
			put_be16(d + 10, (u16)(ktest_rand(kt) & 7));
		if (n >= 16 && (i & 8))
			put_be16(d + 12, (u16)(ktest_rand(kt) % (n - 15)));
		if (ush_parse(d, n, &p) == USH_OK) {
			KT_EXPECT(16u + p.h.len + ((p.h.flags & USH_F_AUTH) ? 40u : 0u) == n);
			ush_check_request(&p);
		}
		free(d);
	}
}

KTEST(udpshell_proto, tags_verify_and_every_flipped_bit_fails)
{
	struct ush_key ka, kb;
	u8 buf[128], b[128];
	struct ush_pkt p;
	u32 n = good_request(buf, key_a);

	ush_key_init(&ka, key_a);
	ush_key_init(&kb, key_b);
	KT_ASSERT_EQ(ush_parse(buf, n, &p), USH_OK);
	KT_EXPECT(ush_verify(&ka, &p));
	KT_EXPECT(!ush_verify(&kb, &p));
	for (u32 bit = 0; bit < n * 8; bit++) {
		memcpy(b, buf, n);
		b[bit / 8] ^= (u8)(1u << (bit % 8));
		if (ush_parse(b, n, &p) == USH_OK) /* flips in magic, len ... do not even parse */
			KT_EXPECT(!ush_verify(&ka, &p));
	}
	n = good_request(buf, NULL);
	KT_ASSERT_EQ(ush_parse(buf, n, &p), USH_OK);
	KT_EXPECT(!ush_verify(&ka, &p)); /* no AUTH: nothing to verify */
}

KTEST(udpshell_proto, seal_and_build_write_the_documented_bytes)
{
	struct ush_hdr h = { .seq = 0xdeadbeef, .chunk = 0x0102, .flags = USH_F_REPLY | USH_F_LAST,
			     .len = 3 };
	u8 pkt[USH_PKT_MAX], want[USH_PKT_MAX];
	struct ush_key k;
	struct ush_pkt p;
	size_t n;

	ush_key_init(&k, key_a);
	n = ush_build(pkt, &h, "abc", NULL, 0);
	KT_ASSERT_EQ(n, 19);
	KT_EXPECT_EQ(tq_packet(want, 0xdeadbeef, 0x0102, 5, "abc", 3, NULL, 0), 19);
	KT_EXPECT(!memcmp(pkt, want, n));
	n = ush_build(pkt, &h, "abc", &k, 42);
	KT_ASSERT_EQ(n, 59);
	KT_EXPECT_EQ(tq_packet(want, 0xdeadbeef, 0x0102, 5, "abc", 3, key_a, 42), 59);
	KT_EXPECT(!memcmp(pkt, want, n));
	KT_ASSERT_EQ(ush_parse(pkt, n, &p), USH_OK);
	KT_EXPECT(ush_verify(&k, &p));
	KT_EXPECT_EQ(ush_check_request(&p), USH_BAD_CHUNK); /* a reply is not a request */
	h.chunk = 0;
	n = ush_build(pkt, &h, "abc", &k, 42);
	KT_ASSERT_EQ(ush_parse(pkt, n, &p), USH_OK);
	KT_EXPECT_EQ(ush_check_request(&p), USH_BAD_REPLY);
	/* the payload may already be in place (overlapping copy) */
	memcpy(pkt + 10, "xyz", 3);
	n = ush_build(pkt, &h, pkt + 10, NULL, 0);
	KT_EXPECT(n == 19 && !memcmp(pkt + 16, "xyz", 3));
	h.len = USH_CHUNK_MAX + 1;
	KT_EXPECT_EQ(ush_build(pkt, &h, want, NULL, 0), 0);
}

KTEST(udpshell, the_key_parser_wants_64_hex_digits)
{
	u8 k[USH_KEY_LEN];

	KT_EXPECT_EQ(udpshell_parse_key("000102030405060708090a0b0c0d0e0f"
					"101112131415161718191a1b1c1d1e1f", k), 0);
	KT_EXPECT(!memcmp(k, key_a, sizeof(k)));
	KT_EXPECT_EQ(udpshell_parse_key("00", k), -EINVAL);
	KT_EXPECT_EQ(udpshell_parse_key(NULL, k), -EINVAL);
	KT_EXPECT_EQ(udpshell_parse_key("000102030405060708090a0b0c0d0e0f"
					"101112131415161718191a1b1c1d1e1g", k), -EINVAL);
	KT_EXPECT_EQ(udpshell_parse_key("000102030405060708090a0b0c0d0e0f"
					"101112131415161718191a1b1c1d1e1f00", k), -EINVAL);
}
