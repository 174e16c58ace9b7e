/*
 * host_dhcp.c — DHCP on the host: the message codec (net/dhcp_msg.c) fed
 * valid, truncated, oversized and hostile messages, each in a heap block
 * of exactly its size so ASan sees a read one byte past the end.
 *
 * The state machine's tests (net/dhcp.c over the fake netdev and the fake
 * clock) are in host_dhcp_client.c.
 */
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/dhcp_msg.h"

static const struct mac_addr mac = { { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };

/* Parse a copy of @len bytes of @p in a block of exactly that size. */
static int parse_exact(const u8 *p, size_t len, struct dhcp_msg *m)
{
	u8 *copy = kmalloc(len ? len : 1);
	int rc;

	memcpy(copy, p, len);
	rc = dhcp_msg_parse(copy, len, m);
	kfree(copy);
	return rc;
}

/* A reply's fixed part and cookie in @buf, then @olen option bytes: the length. */
static size_t raw_reply(u8 *buf, size_t cap, const u8 *opts, size_t olen)
{
	memset(buf, 0, cap);
	buf[0] = DHCP_OP_REPLY;
	buf[1] = 1;
	buf[2] = 6;
	put_be32(buf + 4, 0x11223344);
	put_be32(buf + 16, 0x0a00020f);
	memcpy(buf + 28, mac.b, 6);
	put_be32(buf + 236, DHCP_MAGIC);
	memcpy(buf + DHCP_OPTIONS_OFF, opts, olen);
	return DHCP_OPTIONS_OFF + olen;
}

static void fill_ack(struct dhcp_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->op = DHCP_OP_REPLY;
	m->type = DHCP_ACK;
	m->xid = 0xdeadbeef;
	m->yiaddr = 0x0a00020f;
	m->siaddr = 0x0a000202;
	m->chaddr = mac;
	m->has = DHCP_HAS_MASK | DHCP_HAS_ROUTER | DHCP_HAS_LEASE | DHCP_HAS_SERVER_ID |
		 DHCP_HAS_T1 | DHCP_HAS_T2 | DHCP_HAS_MTU;
	m->mask = 0xffffff00;
	m->router = 0x0a000202;
	m->server_id = 0x0a000202;
	m->lease_s = 86400;
	m->t1_s = 40000;
	m->t2_s = 70000;
	m->mtu = 1460;
	m->ndns = 2;
	m->dns[0] = 0x0a000203;
	m->dns[1] = 0x08080808;
}

KTEST(dhcp_msg, client_roundtrip)
{
	struct dhcp_msg m = { 0 }, got;
	u8 buf[DHCP_MSG_MAX];
	int len;

	m.type = DHCP_REQUEST;
	m.xid = 0x01020304;
	m.secs = 3;
	m.chaddr = mac;
	m.has = DHCP_HAS_CLIENT_ID | DHCP_HAS_REQUESTED_IP | DHCP_HAS_SERVER_ID;
	m.requested_ip = 0x0a00020f;
	m.server_id = 0x0a000202;
	strlcpy(m.hostname, "nos", sizeof(m.hostname));
	m.nparams = 3;
	m.params[0] = 1, m.params[1] = 3, m.params[2] = 6;
	len = dhcp_msg_build(&m, buf, sizeof(buf));
	KT_ASSERT_EQ(len, DHCP_MSG_MIN); /* short messages are padded to BOOTP's 300 */
	KT_EXPECT_EQ(buf[0], DHCP_OP_REQUEST);
	KT_EXPECT_EQ(get_be32(buf + 236), DHCP_MAGIC);
	KT_ASSERT_EQ(parse_exact(buf, (size_t)len, &got), 0);
	KT_EXPECT_EQ(got.type, DHCP_REQUEST);
	KT_EXPECT_EQ(got.xid, 0x01020304);
	KT_EXPECT_EQ(got.secs, 3);
	KT_EXPECT(mac_eq(&got.chaddr, &mac));
	KT_EXPECT_EQ(got.requested_ip, 0x0a00020f);
	KT_EXPECT_EQ(got.server_id, 0x0a000202);
	KT_EXPECT(got.has & DHCP_HAS_CLIENT_ID);
	KT_EXPECT_STREQ(got.hostname, "nos");
	KT_ASSERT_EQ(got.nparams, 3);
	KT_EXPECT_EQ(got.params[2], 6);
	KT_EXPECT_STREQ(dhcp_type_name(got.type), "REQUEST");
	KT_EXPECT_STREQ(dhcp_type_name(0), "?");
	KT_EXPECT_STREQ(dhcp_type_name(200), "?");
}

KTEST(dhcp_msg, server_roundtrip)
{
	struct dhcp_msg m, got;
	u8 buf[DHCP_MSG_MAX];
	int len;

	fill_ack(&m);
	len = dhcp_msg_build(&m, buf, sizeof(buf));
	KT_ASSERT(len >= DHCP_MSG_MIN);
	KT_ASSERT_EQ(parse_exact(buf, (size_t)len, &got), 0);
	KT_EXPECT_EQ(got.op, DHCP_OP_REPLY);
	KT_EXPECT_EQ(got.type, DHCP_ACK);
	KT_EXPECT_EQ(got.yiaddr, 0x0a00020f);
	KT_EXPECT_EQ(got.siaddr, 0x0a000202);
	KT_EXPECT_EQ(got.has & ~DHCP_HAS_CLIENT_ID, m.has);
	KT_EXPECT_EQ(got.mask, 0xffffff00);
	KT_EXPECT_EQ(got.router, 0x0a000202);
	KT_EXPECT_EQ(got.lease_s, 86400);
	KT_EXPECT_EQ(got.t1_s, 40000);
	KT_EXPECT_EQ(got.t2_s, 70000);
	KT_EXPECT_EQ(got.mtu, 1460);
	KT_ASSERT_EQ(got.ndns, 2);
	KT_EXPECT_EQ(got.dns[1], 0x08080808);
}

KTEST(dhcp_msg, build_refuses_small_buffers)
{
	struct dhcp_msg m;
	u8 *buf;
	int full;

	fill_ack(&m);
	buf = kmalloc(DHCP_MSG_MAX);
	full = dhcp_msg_build(&m, buf, DHCP_MSG_MAX);
	kfree(buf);
	KT_ASSERT(full > 0);
	/* Every smaller exact-size buffer: -EMSGSIZE, or a valid unpadded message. */
	for (int cap = 0; cap < full; cap++) {
		u8 *b = kmalloc(cap ? (size_t)cap : 1);
		int rc = dhcp_msg_build(&m, b, (size_t)cap);
		struct dhcp_msg got;

		if (rc > 0)
			KT_EXPECT_EQ(parse_exact(b, (size_t)rc, &got), 0);
		else
			KT_EXPECT_EQ(rc, -EMSGSIZE);
		kfree(b);
	}
	m.type = 0;
	buf = kmalloc(DHCP_MSG_MAX);
	KT_EXPECT_EQ(dhcp_msg_build(&m, buf, DHCP_MSG_MAX), -EINVAL);
	kfree(buf);
}

KTEST(dhcp_msg, every_truncation_is_safe)
{
	struct dhcp_msg m, got;
	u8 buf[DHCP_MSG_MAX];
	int len;

	fill_ack(&m);
	len = dhcp_msg_build(&m, buf, sizeof(buf));
	KT_ASSERT(len > 0);
	for (int cut = 0; cut < len; cut++) {
		int rc = parse_exact(buf, (size_t)cut, &got);

		if (cut < DHCP_OPTIONS_OFF + 3) /* the fixed part, the cookie, option 53 */
			KT_EXPECT_EQ(rc, -EBADMSG);
		else
			KT_EXPECT(rc == 0 || rc == -EBADMSG);
	}
}

KTEST(dhcp_msg, bad_fixed_part)
{
	static const u8 opts[] = { 53, 1, DHCP_OFFER, 255 };
	u8 buf[400];
	size_t len = raw_reply(buf, sizeof(buf), opts, sizeof(opts));
	struct dhcp_msg m;

	KT_ASSERT_EQ(parse_exact(buf, len, &m), 0);
	KT_EXPECT_EQ(m.type, DHCP_OFFER);
	buf[236] ^= 1; /* the cookie */
	KT_EXPECT_EQ(parse_exact(buf, len, &m), -EBADMSG);
	buf[236] ^= 1;
	buf[0] = 3; /* op */
	KT_EXPECT_EQ(parse_exact(buf, len, &m), -EBADMSG);
	buf[0] = DHCP_OP_REPLY;
	buf[2] = 16; /* hlen: not Ethernet */
	KT_EXPECT_EQ(parse_exact(buf, len, &m), -EBADMSG);
}

struct opt_case {
	const char *what;
	u8 opts[24];
	size_t len;
	int rc;
};

KTEST(dhcp_msg, hostile_options)
{
	static const struct opt_case cases[] = {
		{ "no type", { 1, 4, 255, 255, 255, 0, 255 }, 7, -EBADMSG },
		{ "zero-length type", { 53, 0, 255 }, 3, -EBADMSG },
		{ "type of length 2", { 53, 2, 5, 5, 255 }, 5, -EBADMSG },
		{ "length past the end", { 53, 1, 5, 6, 200, 1, 2 }, 7, -EBADMSG },
		{ "length byte missing", { 53, 1, 5, 6 }, 4, -EBADMSG },
		{ "no END", { 53, 1, 5 }, 3, 0 },
		{ "only PAD after the type", { 53, 1, 5, 0, 0, 0, 0 }, 7, 0 },
		{ "zero-length options", { 53, 1, 5, 1, 0, 3, 0, 6, 0, 12, 0, 55, 0, 255 }, 14, 0 },
		{ "mask of length 3", { 53, 1, 5, 1, 3, 1, 2, 3, 255 }, 9, 0 },
		{ "dns of length 6", { 53, 1, 5, 6, 6, 1, 2, 3, 4, 5, 6, 255 }, 12, 0 },
		{ "garbage after END", { 53, 1, 5, 255, 7, 200 }, 6, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u8 buf[400];
		size_t len = raw_reply(buf, sizeof(buf), cases[i].opts, cases[i].len);
		struct dhcp_msg m;
		int rc = parse_exact(buf, len, &m);

		if (rc != cases[i].rc)
			ktest_fail(kt, __FILE__, __LINE__, "%s: %d, not %d", cases[i].what, rc,
				   cases[i].rc);
		if (!rc) {
			KT_EXPECT_EQ(m.type, DHCP_ACK);
			KT_EXPECT(!(m.has & DHCP_HAS_MASK)); /* wrong lengths are ignored */
			KT_EXPECT_EQ(m.ndns, 0);
		}
	}
}

/* Option 26: two bytes big-endian, at least 68; anything else is as if absent. */
KTEST(dhcp_msg, interface_mtu)
{
	static const struct opt_case cases[] = {
		{ "1460", { 53, 1, 5, 26, 2, 0x05, 0xb4, 255 }, 8, 0 },
		{ "the least legal, 68", { 53, 1, 5, 26, 2, 0, 68, 255 }, 8, 0 },
		{ "the most, 65535", { 53, 1, 5, 26, 2, 0xff, 0xff, 255 }, 8, 0 },
		{ "67", { 53, 1, 5, 26, 2, 0, 67, 255 }, 8, 0 },
		{ "0", { 53, 1, 5, 26, 2, 0, 0, 255 }, 8, 0 },
		{ "length 1", { 53, 1, 5, 26, 1, 0x05, 255 }, 7, 0 },
		{ "length 3", { 53, 1, 5, 26, 3, 0x05, 0xb4, 0, 255 }, 9, 0 },
		{ "length 4", { 53, 1, 5, 26, 4, 0, 0, 0x05, 0xb4, 255 }, 10, 0 },
		{ "zero length", { 53, 1, 5, 26, 0, 255 }, 6, 0 },
		{ "length past the end", { 53, 1, 5, 26, 2, 0x05 }, 6, -EBADMSG },
	};
	static const u16 want[] = { 1460, 68, 65535, 0, 0, 0, 0, 0, 0, 0 };

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		u8 buf[400];
		size_t len = raw_reply(buf, sizeof(buf), cases[i].opts, cases[i].len);
		struct dhcp_msg m;
		int rc = parse_exact(buf, len, &m);

		if (rc != cases[i].rc || (!rc && !!(m.has & DHCP_HAS_MTU) != !!want[i]) ||
		    (!rc && m.mtu != want[i]))
			ktest_fail(kt, __FILE__, __LINE__, "%s: rc %d mtu %u has %d, want %d %u",
				   cases[i].what, rc, m.mtu, !!(m.has & DHCP_HAS_MTU), cases[i].rc,
				   want[i]);
	}
}

KTEST(dhcp_msg, overload_sname_and_file)
{
	static const u8 opts[] = { 53, 1, DHCP_ACK, 52, 1, 3, 255 };
	u8 buf[400];
	size_t len = raw_reply(buf, sizeof(buf), opts, sizeof(opts));
	struct dhcp_msg m;

	/* file (108..235): the lease and a second overload, which is not followed */
	buf[108] = 51, buf[109] = 4, put_be32(buf + 110, 3600);
	buf[114] = 52, buf[115] = 1, buf[116] = 3;
	buf[117] = 255;
	/* sname (44..107): the mask, padded, no END */
	buf[44] = 0, buf[45] = 1, buf[46] = 4, put_be32(buf + 47, 0xffff0000);
	KT_ASSERT_EQ(parse_exact(buf, len, &m), 0);
	KT_EXPECT_EQ(m.lease_s, 3600);
	KT_EXPECT_EQ(m.mask, 0xffff0000);
	/* An option in sname that runs past sname's 64 bytes, into file. */
	buf[100] = 12, buf[101] = 20;
	KT_EXPECT_EQ(parse_exact(buf, len, &m), -EBADMSG);
	/* Without the overload option the same fields are not options at all. */
	len = raw_reply(buf, sizeof(buf), (const u8[]){ 53, 1, DHCP_ACK, 255 }, 4);
	buf[108] = 51, buf[109] = 4, put_be32(buf + 110, 3600);
	KT_ASSERT_EQ(parse_exact(buf, len, &m), 0);
	KT_EXPECT(!(m.has & DHCP_HAS_LEASE));
}

KTEST(dhcp_msg, oversized_and_lists)
{
	size_t len = 1400;
	u8 *buf = kmalloc(len);
	struct dhcp_msg m;
	size_t at;

	raw_reply(buf, len, (const u8[]){ 53, 1, DHCP_OFFER }, 3);
	at = DHCP_OPTIONS_OFF + 3;
	/* Eight DNS servers in one option: the first DHCP_DNS_MAX are kept. */
	buf[at++] = 6, buf[at++] = 32;
	for (u8 i = 0; i < 8; i++, at += 4)
		put_be32(buf + at, 0x0a000000u + i);
	/* A hostname longer than we keep, with a control byte. */
	buf[at++] = 12, buf[at++] = 100;
	memset(buf + at, 'n', 100);
	buf[at + 1] = '\n';
	at += 100;
	/* Two routers: the first is the one. */
	buf[at++] = 3, buf[at++] = 8;
	put_be32(buf + at, 0x0a000001), put_be32(buf + at + 4, 0x0a000009);
	at += 8;
	memset(buf + at, 0, len - at); /* then PAD to the end, no END */
	KT_EXPECT_EQ(dhcp_msg_parse(buf, len, &m), 0);
	kfree(buf);
	KT_ASSERT_EQ(m.ndns, DHCP_DNS_MAX);
	KT_EXPECT_EQ(m.dns[3], 0x0a000003);
	KT_EXPECT_EQ(strlen(m.hostname), DHCP_HOSTNAME_MAX);
	KT_EXPECT_EQ(m.hostname[1], '?');
	KT_EXPECT_EQ(m.router, 0x0a000001);
}

KTEST(dhcp_msg, random_options_never_crash)
{
	unsigned ok = 0;

	for (int round = 0; round < 4000; round++) {
		size_t olen = (size_t)(ktest_rand(kt) % 120);
		u8 opts[120];
		u8 *buf;
		size_t len;
		struct dhcp_msg m;

		for (size_t i = 0; i < olen; i++)
			opts[i] = (u8)ktest_rand(kt);
		if (olen >= 3 && round % 2) { /* half of them start well */
			opts[0] = 53, opts[1] = 1, opts[2] = DHCP_ACK;
		}
		buf = kmalloc(DHCP_OPTIONS_OFF + olen);
		len = raw_reply(buf, DHCP_OPTIONS_OFF + olen, opts, olen);
		if (round % 3 == 0 && len > DHCP_OPTIONS_OFF)
			buf[DHCP_OPTIONS_OFF + olen - 1] = 52; /* an overload code at the very end */
		if (dhcp_msg_parse(buf, len, &m) == 0) {
			ok++;
			KT_EXPECT(m.type != 0);
			KT_EXPECT(m.ndns <= DHCP_DNS_MAX && m.nparams <= DHCP_PARAMS_MAX);
			KT_EXPECT(strlen(m.hostname) <= DHCP_HOSTNAME_MAX);
		}
		kfree(buf);
	}
	KT_EXPECT(ok > 0); /* the well-started ones mostly parse */
}
