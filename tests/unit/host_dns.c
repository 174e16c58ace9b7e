/*
 * host_dns.c — the DNS message codec (net/dns_msg.c) on the host: queries
 * byte for byte, answers with compression and CNAME chains, negative
 * answers with and without a SOA, and hostile messages — pointers to
 * themselves, forwards, into the header, round a loop, chains past the hop
 * limit, names and rdata running past the end, every truncation of a valid
 * answer, random corruption.  Each message is parsed from a heap block of
 * exactly its size, so ASan sees any read past the end.
 *
 * The resolver's tests (net/dns.c: cache, TTLs, negative caching, retries)
 * are in host_dns_resolver.c.
 */
#include "tests/unit/shim/shim.h"
#include "tests/unit/host_dns_build.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define ID 0x4242

static int parse_exact(const struct dnsb *m, const char *name, struct dns_reply *r)
{
	u8 *copy = kmalloc(m->n ? m->n : 1);
	int rc;

	memcpy(copy, m->b, m->n);
	rc = dns_msg_parse(copy, m->n, ID, name, r);
	kfree(copy);
	return rc;
}

/* A reply header for one question @name (type A), with the counts given. */
static void reply_start(struct dnsb *m, u16 flags, u16 an, u16 ns, const char *name)
{
	dnsb_header(m, ID, flags, 1, an, ns, 0);
	dnsb_question(m, name, DNS_TYPE_A);
}

KTEST(dns_msg, query_bytes)
{
	static const u8 want[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 1, 0, 1,
	};
	u8 buf[DNS_QUERY_MAX];

	KT_ASSERT_EQ(dns_msg_query(buf, sizeof(buf), 0x1234, "www.example.com"), sizeof(want));
	KT_EXPECT(!memcmp(buf, want, sizeof(want)));
	KT_ASSERT_EQ(dns_msg_query(buf, sizeof(buf), 0x1234, "www.example.com."), sizeof(want));
	KT_EXPECT(!memcmp(buf, want, sizeof(want)));
	KT_EXPECT_EQ(dns_msg_query(buf, 20, 0x1234, "www.example.com"), -EMSGSIZE);
}

KTEST(dns_msg, name_check)
{
	char big[300];

	KT_EXPECT_EQ(dns_name_check("a"), 0);
	KT_EXPECT_EQ(dns_name_check("host.test."), 0);
	KT_EXPECT_EQ(dns_name_check("_srv.x-y.example"), 0);
	KT_EXPECT_EQ(dns_name_check(""), -EINVAL);
	KT_EXPECT_EQ(dns_name_check("."), -EINVAL);
	KT_EXPECT_EQ(dns_name_check("a..b"), -EINVAL);
	KT_EXPECT_EQ(dns_name_check(".a"), -EINVAL);
	KT_EXPECT_EQ(dns_name_check("a b"), -EINVAL);
	KT_EXPECT_EQ(dns_name_check("a\tb"), -EINVAL);
	memset(big, 'a', 64);
	big[64] = '\0';
	KT_EXPECT_EQ(dns_name_check(big), -EINVAL); /* a 64-byte label */
	big[63] = '\0';
	KT_EXPECT_EQ(dns_name_check(big), 0);
	for (int i = 0; i < 254; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[253] = '\0'; /* 253 characters: the longest name */
	KT_EXPECT_EQ(dns_name_check(big), 0);
	big[253] = 'a', big[254] = '\0';
	KT_EXPECT_EQ(dns_name_check(big), -EINVAL);
}

KTEST(dns_msg, compressed_answer)
{
	struct dnsb m;
	struct dns_reply r;

	reply_start(&m, DNSB_RESPONSE, 2, 0, "host.test");
	dnsb_ptr(&m, DNS_HLEN);
	dnsb_rr_a(&m, 300, 0x0a000005);
	dnsb_name(&m, "HOST.test"); /* case differs: still the name asked */
	dnsb_rr_a(&m, 200, 0x0a000006);
	KT_ASSERT_EQ(parse_exact(&m, "host.test", &r), 0);
	KT_EXPECT_EQ(r.rcode, DNS_RCODE_NOERROR);
	KT_ASSERT_EQ(r.naddrs, 2);
	KT_EXPECT_EQ(r.addrs[0], 0x0a000005);
	KT_EXPECT_EQ(r.addrs[1], 0x0a000006);
	KT_EXPECT_EQ(r.ttl, 200);
	KT_EXPECT_EQ(r.ncnames, 0);
	KT_ASSERT_EQ(parse_exact(&m, "Host.Test.", &r), 0);
	KT_EXPECT_EQ(r.naddrs, 2);
}

KTEST(dns_msg, cname_chain_in_any_order)
{
	struct dnsb m;
	struct dns_reply r;

	reply_start(&m, DNSB_RESPONSE, 4, 0, "www.test");
	/* The A record first, then the second link, then the first. */
	dnsb_name(&m, "real.test");
	dnsb_rr_a(&m, 50, 0x0a000007);
	dnsb_name(&m, "web.test");
	dnsb_rr_cname(&m, 400, "real.test");
	dnsb_ptr(&m, DNS_HLEN);
	dnsb_rr_cname(&m, 100, "web.test");
	dnsb_name(&m, "other.test");
	dnsb_rr_a(&m, 10, 0x0a000099); /* not on the chain: ignored */
	KT_ASSERT_EQ(parse_exact(&m, "www.test", &r), 0);
	KT_ASSERT_EQ(r.ncnames, 2);
	KT_EXPECT_STREQ(r.cnames[0], "web.test");
	KT_EXPECT_STREQ(r.cnames[1], "real.test");
	KT_ASSERT_EQ(r.naddrs, 1);
	KT_EXPECT_EQ(r.addrs[0], 0x0a000007);
	KT_EXPECT_EQ(r.ttl, 50);
}

KTEST(dns_msg, cname_loop_and_long_chain)
{
	struct dnsb m;
	struct dns_reply r;
	char a[16], b[16];

	reply_start(&m, DNSB_RESPONSE, 2, 0, "a.test");
	dnsb_name(&m, "a.test");
	dnsb_rr_cname(&m, 60, "b.test");
	dnsb_name(&m, "b.test");
	dnsb_rr_cname(&m, 60, "a.test");
	KT_EXPECT_EQ(parse_exact(&m, "a.test", &r), -EBADMSG);

	/* A chain of exactly DNS_CNAME_MAX links is fine, one more is not. */
	for (int links = DNS_CNAME_MAX; links <= DNS_CNAME_MAX + 1; links++) {
		reply_start(&m, DNSB_RESPONSE, (u16)(links + 1), 0, "n0.test");
		for (int i = 0; i < links; i++) {
			snprintf(a, sizeof(a), "n%d.test", i);
			snprintf(b, sizeof(b), "n%d.test", i + 1);
			dnsb_name(&m, a);
			dnsb_rr_cname(&m, 60, b);
		}
		dnsb_name(&m, b);
		dnsb_rr_a(&m, 60, 0x0a000001);
		if (links == DNS_CNAME_MAX) {
			KT_EXPECT_EQ(parse_exact(&m, "n0.test", &r), 0);
			KT_EXPECT_EQ(r.ncnames, DNS_CNAME_MAX);
			KT_EXPECT_EQ(r.naddrs, 1);
		} else {
			KT_EXPECT_EQ(parse_exact(&m, "n0.test", &r), -EBADMSG);
		}
	}
}

KTEST(dns_msg, negative_answers)
{
	struct dnsb m;
	struct dns_reply r;

	/* NXDOMAIN with a SOA: min(SOA TTL 900, MINIMUM 60). */
	reply_start(&m, DNSB_RESPONSE | DNS_RCODE_NXDOMAIN, 0, 1, "gone.test");
	dnsb_name(&m, "test");
	dnsb_rr_soa(&m, 900, 60);
	KT_ASSERT_EQ(parse_exact(&m, "gone.test", &r), 0);
	KT_EXPECT_EQ(r.rcode, DNS_RCODE_NXDOMAIN);
	KT_EXPECT(r.has_soa);
	KT_EXPECT_EQ(r.ttl, 60);
	KT_EXPECT_EQ(r.naddrs, 0);

	reply_start(&m, DNSB_RESPONSE | DNS_RCODE_NXDOMAIN, 0, 1, "gone.test");
	dnsb_name(&m, "test");
	dnsb_rr_soa(&m, 30, 3600);
	KT_ASSERT_EQ(parse_exact(&m, "gone.test", &r), 0);
	KT_EXPECT_EQ(r.ttl, 30);

	/* Without a SOA. */
	reply_start(&m, DNSB_RESPONSE | DNS_RCODE_NXDOMAIN, 0, 0, "gone.test");
	KT_ASSERT_EQ(parse_exact(&m, "gone.test", &r), 0);
	KT_EXPECT(!r.has_soa);

	/* NODATA: the name exists, no A record. */
	reply_start(&m, DNSB_RESPONSE, 0, 1, "v6only.test");
	dnsb_ptr(&m, DNS_HLEN + 7);
	dnsb_rr_soa(&m, 120, 300);
	KT_ASSERT_EQ(parse_exact(&m, "v6only.test", &r), 0);
	KT_EXPECT_EQ(r.rcode, DNS_RCODE_NOERROR);
	KT_EXPECT_EQ(r.naddrs, 0);
	KT_EXPECT(r.has_soa);
	KT_EXPECT_EQ(r.ttl, 120);

	/* A SOA whose rdata is cut short. */
	reply_start(&m, DNSB_RESPONSE | DNS_RCODE_NXDOMAIN, 0, 1, "gone.test");
	dnsb_name(&m, "test");
	dnsb_rr_soa(&m, 900, 60);
	dnsb_patch_rdlen(&m, 10);
	KT_EXPECT_EQ(parse_exact(&m, "gone.test", &r), -EBADMSG);
}

KTEST(dns_msg, not_our_answer)
{
	struct dnsb m;
	struct dns_reply r;

	reply_start(&m, DNSB_RESPONSE, 0, 0, "host.test");
	KT_EXPECT_EQ(parse_exact(&m, "other.test", &r), -EPROTO);
	KT_EXPECT_EQ(parse_exact(&m, "host.test.x", &r), -EPROTO);
	KT_EXPECT_EQ(parse_exact(&m, "host", &r), -EPROTO);
	dnsb_header(&m, ID, 0, 1, 0, 0, 0); /* a query, not a response */
	dnsb_question(&m, "host.test", DNS_TYPE_A);
	KT_EXPECT_EQ(parse_exact(&m, "host.test", &r), -EPROTO);
	dnsb_header(&m, ID + 1, DNSB_RESPONSE, 1, 0, 0, 0);
	dnsb_question(&m, "host.test", DNS_TYPE_A);
	KT_EXPECT_EQ(parse_exact(&m, "host.test", &r), -EPROTO);
	dnsb_header(&m, ID, DNSB_RESPONSE, 1, 0, 0, 0);
	dnsb_question(&m, "host.test", 28); /* AAAA */
	KT_EXPECT_EQ(parse_exact(&m, "host.test", &r), -EPROTO);
	dnsb_header(&m, ID, DNSB_RESPONSE, 0, 0, 0, 0); /* no question */
	KT_EXPECT_EQ(parse_exact(&m, "host.test", &r), -EPROTO);
	m.n = 11; /* shorter than a header */
	KT_EXPECT_EQ(parse_exact(&m, "host.test", &r), -EBADMSG);
}

/* An answer whose record name is the raw bytes @name (@len of them) at its place. */
static int parse_raw_name(const u8 *name, size_t len)
{
	struct dnsb m;
	struct dns_reply r;

	reply_start(&m, DNSB_RESPONSE, 1, 0, "host.test");
	dnsb_bytes(&m, name, len);
	dnsb_rr_a(&m, 60, 0x0a000001);
	return parse_exact(&m, "host.test", &r);
}

KTEST(dns_msg, hostile_names)
{
	size_t at = DNS_HLEN + 11 + 4; /* where the answer's name starts */
	u8 self[2] = { 0xc0, (u8)at };
	u8 fwd[2] = { 0xc0, (u8)(at + 4) };
	u8 hdr[2] = { 0xc0, 2 };
	u8 run[4] = { 1, 'x', 0xc0, (u8)at };     /* back to the start of its own run */
	u8 reserved[3] = { 0x41, 'x', 0 };
	u8 past[3] = { 40, 'x', 'y' };
	u8 dot[5] = { 3, 'a', '.', 'b', 0 };
	u8 ctl[4] = { 2, 'a', 0x01, 0 };
	u8 good[2] = { 0xc0, DNS_HLEN };

	KT_EXPECT_EQ(parse_raw_name(good, sizeof(good)), 0);
	KT_EXPECT_EQ(parse_raw_name(self, sizeof(self)), -EBADMSG);
	KT_EXPECT_EQ(parse_raw_name(fwd, sizeof(fwd)), -EBADMSG);
	KT_EXPECT_EQ(parse_raw_name(hdr, sizeof(hdr)), -EBADMSG);
	KT_EXPECT_EQ(parse_raw_name(run, sizeof(run)), -EBADMSG);
	KT_EXPECT_EQ(parse_raw_name(reserved, sizeof(reserved)), -EBADMSG);
	KT_EXPECT_EQ(parse_raw_name(past, sizeof(past)), -EBADMSG);
	KT_EXPECT_EQ(parse_raw_name(dot, sizeof(dot)), -EBADMSG);
	KT_EXPECT_EQ(parse_raw_name(ctl, sizeof(ctl)), -EBADMSG);
}

KTEST(dns_msg, pointer_cycle_and_hop_limit)
{
	struct dnsb m;
	char out[DNS_NAME_MAX + 1];
	size_t offs[DNS_PTR_HOPS + 2], next;

	/* Two names pointing at each other: whichever is read, one pointer points forward. */
	dnsb_header(&m, ID, DNSB_RESPONSE, 0, 0, 0, 0);
	dnsb_u8(&m, 1), dnsb_u8(&m, 'a'), dnsb_ptr(&m, DNS_HLEN + 4);
	dnsb_u8(&m, 1), dnsb_u8(&m, 'b'), dnsb_ptr(&m, DNS_HLEN);
	KT_EXPECT_EQ(dns_name_read(m.b, m.n, DNS_HLEN, out, sizeof(out), NULL), -EBADMSG);
	KT_EXPECT_EQ(dns_name_read(m.b, m.n, DNS_HLEN + 4, out, sizeof(out), NULL), -EBADMSG);

	/* A chain of names, each a label and a pointer to the one before. */
	dnsb_header(&m, ID, DNSB_RESPONSE, 0, 0, 0, 0);
	offs[0] = m.n;
	dnsb_name(&m, "root");
	for (int i = 1; i < DNS_PTR_HOPS + 2; i++) {
		offs[i] = m.n;
		dnsb_u8(&m, 1), dnsb_u8(&m, 'a'), dnsb_ptr(&m, offs[i - 1]);
	}
	KT_ASSERT_EQ(dns_name_read(m.b, m.n, offs[DNS_PTR_HOPS], out, sizeof(out), &next), 0);
	KT_EXPECT_EQ(strlen(out), 2 * DNS_PTR_HOPS + 4);
	KT_EXPECT_EQ(next, offs[DNS_PTR_HOPS] + 4);
	KT_EXPECT_EQ(dns_name_read(m.b, m.n, offs[DNS_PTR_HOPS + 1], out, sizeof(out), NULL),
		     -EBADMSG);
	KT_EXPECT_EQ(dns_name_read(m.b, m.n, offs[DNS_PTR_HOPS], out, 10, NULL), -ENAMETOOLONG);
}

KTEST(dns_msg, name_longer_than_255)
{
	struct dnsb m;
	char out[DNS_NAME_MAX + 1];
	u8 label[64];

	/* Four 63-byte labels: 4 * 64 + 1 = 257 bytes on the wire. */
	memset(label, 'z', sizeof(label));
	label[0] = 63;
	dnsb_header(&m, ID, DNSB_RESPONSE, 0, 0, 0, 0);
	for (int i = 0; i < 4; i++)
		dnsb_bytes(&m, label, sizeof(label));
	dnsb_u8(&m, 0);
	KT_EXPECT_EQ(dns_name_read(m.b, m.n, DNS_HLEN, out, sizeof(out), NULL), -EBADMSG);
	/* Three of them and a 61-byte one: 255 exactly. */
	label[0] = 61;
	m.n = DNS_HLEN + 3 * 64;
	dnsb_bytes(&m, label, 62);
	dnsb_u8(&m, 0);
	KT_EXPECT_EQ(dns_name_read(m.b, m.n, DNS_HLEN, out, sizeof(out), NULL), 0);
	KT_EXPECT_EQ(strlen(out), DNS_NAME_MAX);
}

KTEST(dns_msg, rdata_past_the_end)
{
	struct dnsb m;
	struct dns_reply r;

	reply_start(&m, DNSB_RESPONSE, 1, 0, "host.test");
	dnsb_ptr(&m, DNS_HLEN);
	dnsb_rr_a(&m, 60, 0x0a000001);
	dnsb_patch_rdlen(&m, 200);
	KT_EXPECT_EQ(parse_exact(&m, "host.test", &r), -EBADMSG);
	/* More answers announced than there are: malformed, unless truncated (TC). */
	reply_start(&m, DNSB_RESPONSE, 3, 0, "host.test");
	dnsb_ptr(&m, DNS_HLEN);
	dnsb_rr_a(&m, 60, 0x0a000001);
	KT_EXPECT_EQ(parse_exact(&m, "host.test", &r), -EBADMSG);
	put_be16(m.b + 2, DNSB_RESPONSE | 0x0200);
	KT_ASSERT_EQ(parse_exact(&m, "host.test", &r), 0);
	KT_EXPECT(r.truncated);
	KT_EXPECT_EQ(r.naddrs, 1);
	/* An A record of the wrong length is skipped, not read. */
	reply_start(&m, DNSB_RESPONSE, 1, 0, "host.test");
	dnsb_ptr(&m, DNS_HLEN);
	dnsb_rr_head(&m, DNS_TYPE_A, 60, 3);
	dnsb_u8(&m, 1), dnsb_u8(&m, 2), dnsb_u8(&m, 3);
	KT_ASSERT_EQ(parse_exact(&m, "host.test", &r), 0);
	KT_EXPECT_EQ(r.naddrs, 0);
}

KTEST(dns_msg, ttl_top_bit_is_zero)
{
	struct dnsb m;
	struct dns_reply r;

	reply_start(&m, DNSB_RESPONSE, 1, 0, "host.test");
	dnsb_ptr(&m, DNS_HLEN);
	dnsb_rr_a(&m, 0x80000010u, 0x0a000001);
	KT_ASSERT_EQ(parse_exact(&m, "host.test", &r), 0);
	KT_EXPECT_EQ(r.ttl, 0);
}

/* A rich valid answer: a chain, compressed names, an authority SOA; where the SOA starts. */
static size_t rich_answer(struct dnsb *m)
{
	size_t soa;

	reply_start(m, DNSB_RESPONSE, 3, 1, "www.test");
	dnsb_ptr(m, DNS_HLEN);
	dnsb_rr_cname(m, 100, "web.test");
	dnsb_ptr(m, m->n - 10);
	dnsb_rr_a(m, 100, 0x0a000001);
	dnsb_ptr(m, DNS_HLEN + 4);
	dnsb_rr_a(m, 100, 0x0a000002);
	soa = m->n;
	dnsb_ptr(m, DNS_HLEN + 4);
	dnsb_rr_soa(m, 100, 100);
	return soa;
}

KTEST(dns_msg, every_truncation_is_safe)
{
	struct dnsb m;
	struct dns_reply r;
	size_t soa = rich_answer(&m);

	KT_ASSERT_EQ(parse_exact(&m, "www.test", &r), 0);
	KT_EXPECT_EQ(r.ncnames, 1);
	KT_EXPECT_EQ(r.naddrs, 1);
	for (size_t cut = 0; cut < m.n; cut++) {
		struct dnsb t = m;
		int rc;

		t.n = cut;
		rc = parse_exact(&t, "www.test", &r);
		/* A cut before the authority loses what the counts promise; the SOA of a
		 * positive answer is never read. */
		if (cut < soa)
			KT_EXPECT(rc == -EBADMSG);
		else
			KT_EXPECT(rc == 0);
	}
}

KTEST(dns_msg, random_corruption_never_crashes)
{
	struct dnsb base, m;
	struct dns_reply r;

	rich_answer(&base);
	for (int round = 0; round < 20000; round++) {
		int flips = 1 + (int)(ktest_rand(kt) % 4);

		m = base;
		for (int i = 0; i < flips; i++)
			m.b[ktest_rand(kt) % m.n] = (u8)ktest_rand(kt);
		if (parse_exact(&m, "www.test", &r) == 0) {
			KT_EXPECT(r.naddrs <= DNS_ADDRS_MAX && r.ncnames <= DNS_CNAME_MAX);
			for (unsigned c = 0; c < r.ncnames; c++)
				KT_EXPECT(strlen(r.cnames[c]) <= DNS_NAME_MAX);
		}
	}
}
