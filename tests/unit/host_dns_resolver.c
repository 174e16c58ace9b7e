/*
 * host_dns_resolver.c — the resolver (net/dns.c, the real file) on the
 * host, against a DNS server the test plays from a timer (every 10 ms it
 * answers what the stack sent to port 53), in the shim's simulated time.
 *
 * Positive answers cached for their TTL and asked again after it; TTL 0
 * never cached; NXDOMAIN answered at once and cached for the SOA's
 * negative TTL (or the short default without a SOA); NODATA; CNAME chains;
 * nslookup's no-cache lookups; a silent server costing exactly DNS_TRIES
 * queries and DNS_TIMEOUT_NS; a second server tried when the first is
 * silent; SERVFAIL moving on at once; spoofed and malformed datagrams
 * ignored; Ctrl-C; dns=off; no server; bad names; the cache's size and
 * LRU eviction; dnsflush; names folded to lower case.
 */
#include "tests/unit/host_udp.h"
#include "tests/unit/host_dns_build.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "mm/kmalloc.h"
#include "net/dns.h"

#define DNS_A 0xC0000235u       /* 192.0.2.53: off-link, via the gateway */
#define DNS_B 0xC0000236u       /* 192.0.2.54 */
#define SPEC_ONE "10.0.0.1/24,10.0.0.254,192.0.2.53"

enum srv_mode { SRV_ANSWER, SRV_SILENT, SRV_SERVFAIL, SRV_SPOOF_FIRST };

/* The server: how it behaves, and what it saw. */
static struct {
	struct fake_netdev *f;
	struct ktimer tick;
	enum srv_mode mode;
	u32 silent_server;          /* queries to this address are not answered (0: none) */
	unsigned queries;           /* datagrams to port 53 */
	char last_name[DNS_NAME_MAX + 1];
} srv;

/* Answer @qname per the test's zone: *.test names, see below. */
static void zone_answer(struct dnsb *m, u16 id, const char *qname)
{
	u16 flags = DNSB_RESPONSE;

	if (!strncmp(qname, "gone", 4) || !strncmp(qname, "nosoa", 5))
		flags |= DNS_RCODE_NXDOMAIN;
	if (srv.mode == SRV_SERVFAIL)
		flags |= DNS_RCODE_SERVFAIL;
	if (!strncmp(qname, "gone", 4) || !strncmp(qname, "v6only", 6)) {
		dnsb_header(m, id, flags, 1, 0, 1, 0);
		dnsb_question(m, qname, DNS_TYPE_A);
		dnsb_name(m, "test");
		dnsb_rr_soa(m, 900, 60);
	} else if (!strncmp(qname, "www", 3)) {
		dnsb_header(m, id, flags, 1, 2, 0, 0);
		dnsb_question(m, qname, DNS_TYPE_A);
		dnsb_ptr(m, DNS_HLEN);
		dnsb_rr_cname(m, 600, "real.test");
		dnsb_name(m, "real.test");
		dnsb_rr_a(m, 300, 0x0A000063u);
	} else {
		dnsb_header(m, id, flags, 1, flags == DNSB_RESPONSE ? 2 : 0, 0, 0);
		dnsb_question(m, qname, DNS_TYPE_A);
		if (flags != DNSB_RESPONSE)
			return;
		dnsb_ptr(m, DNS_HLEN);
		dnsb_rr_a(m, !strncmp(qname, "zero", 4) ? 0 : 300, 0x0A000005u);
		dnsb_ptr(m, DNS_HLEN);
		dnsb_rr_a(m, 1000, 0x0A000006u);
	}
}

static void srv_send(const struct tu_sent *q, const void *msg, u32 len, u16 sport)
{
	u8 fr[FAKE_FRAME_MAX];
	u32 n = tu_frame(fr, srv.f, &peer_mac, q->dst, sport, q->src, q->sport, msg, len, true);

	fake_netdev_inject(srv.f, fr, n);
}

static void srv_handle(const struct tu_sent *q)
{
	struct dnsb m;
	u16 id = get_be16(q->data);

	srv.queries++;
	if (dns_name_read(q->data, q->len, DNS_HLEN, srv.last_name, sizeof(srv.last_name), NULL))
		return;
	if (srv.mode == SRV_SILENT || q->dst == srv.silent_server)
		return;
	zone_answer(&m, id, srv.last_name);
	if (srv.mode == SRV_SPOOF_FIRST) {
		static const u8 junk[7] = { 1, 2, 3, 4, 5, 6, 7 };
		struct dnsb wrong = m;

		put_be16(wrong.b, (u16)(id + 1));
		srv_send(q, wrong.b, (u32)wrong.n, DNS_PORT);   /* another id */
		srv_send(q, m.b, (u32)m.n, 5353);               /* another port */
		srv_send(q, junk, sizeof(junk), DNS_PORT);      /* garbage */
	}
	srv_send(q, m.b, (u32)m.n, DNS_PORT);
}

static void srv_tick(struct ktimer *t, void *arg)
{
	struct tu_sent q;

	while (tu_pop(srv.f, DNS_PORT, &q))
		srv_handle(&q);
}

/* A test with eth0 configured by @spec and the server running. */
static struct fake_netdev *srv_begin(struct ktest_ctx *kt, const char *spec)
{
	struct fake_netdev *f = net_begin(kt, spec);

	if (!f)
		return NULL;
	fake_netdev_peer(f, GW_IP, &peer_mac, false);
	memset(&srv, 0, sizeof(srv));
	srv.f = f;
	ktimer_init(&srv.tick, srv_tick, NULL);
	ktimer_start(&srv.tick, 10 * NS_MS, 10 * NS_MS);
	dns_flush();
	dns_set_enabled(true);
	return f;
}

#define DNS_BEGIN(spec)                                                        \
	u32 nb_before = fake_net_in_use();                                     \
	struct fake_netdev *f = srv_begin(kt, (spec));                         \
	struct dns_result *r = kmalloc(sizeof(*r));                            \
	if (!f || !r)                                                          \
		return

#define DNS_END()                                                              \
	do {                                                                   \
		ktimer_cancel(&srv.tick);                                      \
		kfree(r);                                                      \
		dns_flush();                                                   \
		net_end(kt, f, nb_before);                                     \
	} while (0)

KTEST(dns, dotted_quad_needs_no_server)
{
	DNS_BEGIN(NULL);
	struct ip_addr a;

	dns_set_enabled(false);
	KT_ASSERT_EQ(dns_resolve("10.1.2.3", &a, 0), 0);
	KT_EXPECT_EQ(a.v4, 0x0A010203u);
	KT_EXPECT_EQ(srv.queries, 0);
	KT_EXPECT_EQ(dns_resolve("host.test", &a, 0), -EOPNOTSUPP);
	dns_set_enabled(true);
	KT_EXPECT_EQ(dns_resolve("host.test", &a, 0), -ENXIO); /* no server configured */
	KT_EXPECT_EQ(dns_resolve("bad name", &a, 0), -EINVAL);
	KT_EXPECT_EQ(dns_resolve("a..b", &a, 0), -EINVAL);
	DNS_END();
}

KTEST(dns, answer_cached_for_its_ttl)
{
	DNS_BEGIN(SPEC_ONE);
	struct ip_addr a;

	KT_ASSERT_EQ(dns_lookup("host.test", r, 0, 0), 0);
	KT_EXPECT_EQ(r->naddrs, 2);
	KT_EXPECT_EQ(r->addrs[0].v4, 0x0A000005u);
	KT_EXPECT_EQ(r->ttl, 300);
	KT_EXPECT(!r->cached);
	KT_EXPECT_EQ(r->server.v4, DNS_A);
	KT_EXPECT_EQ(srv.queries, 1);
	KT_EXPECT_STREQ(srv.last_name, "host.test");
	shim_clock_advance(299 * NS_S);
	KT_ASSERT_EQ(dns_resolve("HOST.Test.", &a, 0), 0); /* same name, other spelling */
	KT_EXPECT_EQ(a.v4, 0x0A000005u);
	KT_EXPECT_EQ(srv.queries, 1);
	KT_ASSERT_EQ(dns_lookup("host.test", r, 0, 0), 0);
	KT_EXPECT(r->cached);
	KT_EXPECT(r->ttl >= 1 && r->ttl <= 2);
	shim_clock_advance(2 * NS_S);
	KT_ASSERT_EQ(dns_resolve("host.test", &a, 0), 0);
	KT_EXPECT_EQ(srv.queries, 2);
	/* nslookup's way: the server every time. */
	KT_ASSERT_EQ(dns_lookup("host.test", r, 0, DNS_F_NOCACHE), 0);
	KT_EXPECT_EQ(srv.queries, 3);
	/* dnsflush */
	dns_flush();
	KT_ASSERT_EQ(dns_resolve("host.test", &a, 0), 0);
	KT_EXPECT_EQ(srv.queries, 4);
	DNS_END();
}

KTEST(dns, ttl_zero_is_not_cached)
{
	DNS_BEGIN(SPEC_ONE);
	struct ip_addr a;

	KT_ASSERT_EQ(dns_resolve("zero.test", &a, 0), 0);
	KT_ASSERT_EQ(dns_resolve("zero.test", &a, 0), 0);
	KT_EXPECT_EQ(srv.queries, 2);
	DNS_END();
}

KTEST(dns, nxdomain_at_once_and_cached_negatively)
{
	DNS_BEGIN(SPEC_ONE);
	struct dns_stats st;
	u64 t0 = time_ns();

	KT_EXPECT_EQ(dns_lookup("gone.test", r, 0, 0), -ENOENT);
	KT_EXPECT(time_ns() - t0 < 100 * NS_MS); /* the answer, not a timeout */
	KT_EXPECT_EQ(srv.queries, 1);
	KT_EXPECT_EQ(r->ttl, 60); /* min(SOA TTL 900, MINIMUM 60) */
	KT_EXPECT_EQ(dns_lookup("gone.test", r, 0, 0), -ENOENT);
	KT_EXPECT_EQ(srv.queries, 1);
	KT_EXPECT(r->cached);
	dns_get_stats(&st);
	KT_EXPECT(st.negative_hits >= 1);
	shim_clock_advance(61 * NS_S);
	KT_EXPECT_EQ(dns_lookup("gone.test", r, 0, 0), -ENOENT);
	KT_EXPECT_EQ(srv.queries, 2);
	/* Without a SOA: the short default. */
	KT_EXPECT_EQ(dns_lookup("nosoa.test", r, 0, 0), -ENOENT);
	KT_EXPECT_EQ(r->ttl, DNS_NEG_TTL_DEFAULT);
	/* NODATA: the name is there, its A record is not. */
	KT_EXPECT_EQ(dns_lookup("v6only.test", r, 0, 0), -ENODATA);
	KT_EXPECT_EQ(dns_lookup("v6only.test", r, 0, 0), -ENODATA);
	KT_EXPECT_EQ(srv.queries, 4);
	DNS_END();
}

KTEST(dns, cname_chain)
{
	DNS_BEGIN(SPEC_ONE);

	KT_ASSERT_EQ(dns_lookup("www.test", r, 0, DNS_F_NOCACHE), 0);
	KT_ASSERT_EQ(r->ncnames, 1);
	KT_EXPECT_STREQ(r->cnames[0], "real.test");
	KT_ASSERT_EQ(r->naddrs, 1);
	KT_EXPECT_EQ(r->addrs[0].v4, 0x0A000063u);
	KT_EXPECT_EQ(r->ttl, 300);
	DNS_END();
}

KTEST(dns, silent_server_bounded_tries_and_time)
{
	DNS_BEGIN(SPEC_ONE);
	struct ip_addr a;
	u64 t0 = time_ns();

	srv.mode = SRV_SILENT;
	KT_EXPECT_EQ(dns_resolve("host.test", &a, 0), -ETIMEDOUT);
	KT_EXPECT_EQ(srv.queries, DNS_TRIES);
	KT_EXPECT(time_ns() - t0 >= DNS_TIMEOUT_NS);
	KT_EXPECT(time_ns() - t0 < DNS_TIMEOUT_NS + 100 * NS_MS);
	/* A shorter limit from the caller is kept. */
	t0 = time_ns();
	KT_EXPECT_EQ(dns_resolve("host.test", &a, NS_S), -ETIMEDOUT);
	KT_EXPECT(time_ns() - t0 < NS_S + 100 * NS_MS);
	DNS_END();
}

KTEST(dns, second_server_after_a_silent_first)
{
	DNS_BEGIN(SPEC_ONE);
	struct netdev_ipv4 c;

	netdev_get_ipv4(&f->dev, &c);
	c.dns[1] = ip_v4(DNS_B);
	netdev_set_ipv4(&f->dev, &c);
	fake_netdev_clear(f);
	srv.silent_server = DNS_A;
	KT_ASSERT_EQ(dns_lookup("host.test", r, 0, 0), 0);
	KT_EXPECT_EQ(r->server.v4, DNS_B);
	KT_EXPECT_EQ(srv.queries, 2);
	DNS_END();
}

KTEST(dns, servfail_moves_on_at_once)
{
	DNS_BEGIN(SPEC_ONE);
	struct ip_addr a;
	u64 t0 = time_ns();

	srv.mode = SRV_SERVFAIL;
	KT_EXPECT_EQ(dns_resolve("host.test", &a, 0), -EIO);
	KT_EXPECT_EQ(srv.queries, DNS_TRIES);
	KT_EXPECT(time_ns() - t0 < NS_S);
	KT_EXPECT_EQ(dns_resolve("host.test", &a, 0), -EIO); /* failures are not cached */
	KT_EXPECT_EQ(srv.queries, 2 * DNS_TRIES);
	DNS_END();
}

KTEST(dns, spoofed_and_garbage_datagrams_ignored)
{
	DNS_BEGIN(SPEC_ONE);
	struct dns_stats before, after;

	dns_get_stats(&before);
	srv.mode = SRV_SPOOF_FIRST;
	KT_ASSERT_EQ(dns_lookup("host.test", r, 0, 0), 0);
	KT_EXPECT_EQ(r->addrs[0].v4, 0x0A000005u);
	KT_EXPECT_EQ(srv.queries, 1);
	dns_get_stats(&after);
	KT_EXPECT_EQ(after.ignored - before.ignored, 3);
	DNS_END();
}

static void interrupt_test(struct ktimer *t, void *arg)
{
	task_interrupt(shim_test_task());
}

KTEST(dns, ctrl_c_stops_a_lookup)
{
	DNS_BEGIN(SPEC_ONE);
	struct ktimer intr;
	struct ip_addr a;
	u64 t0 = time_ns();

	srv.mode = SRV_SILENT;
	ktimer_init(&intr, interrupt_test, NULL);
	ktimer_start(&intr, 300 * NS_MS, 0);
	KT_EXPECT_EQ(dns_resolve("host.test", &a, 0), -EINTR);
	KT_EXPECT(time_ns() - t0 < NS_S);
	task_clear_interrupt();
	DNS_END();
}

KTEST(dns, cache_holds_32_least_recently_used_goes)
{
	DNS_BEGIN(SPEC_ONE);
	struct dns_stats st;
	struct ip_addr a;
	char name[32];

	for (int i = 0; i < DNS_CACHE_SIZE; i++) {
		snprintf(name, sizeof(name), "n%d.test", i);
		KT_ASSERT_EQ(dns_resolve(name, &a, 0), 0);
		shim_clock_advance(10 * NS_MS);
	}
	dns_get_stats(&st);
	KT_EXPECT_EQ(st.cached, DNS_CACHE_SIZE);
	KT_ASSERT_EQ(dns_resolve("n0.test", &a, 0), 0); /* n0 is now the most recent */
	KT_EXPECT_EQ(srv.queries, DNS_CACHE_SIZE);
	KT_ASSERT_EQ(dns_resolve("extra.test", &a, 0), 0); /* evicts n1, the oldest */
	KT_EXPECT_EQ(srv.queries, DNS_CACHE_SIZE + 1);
	KT_ASSERT_EQ(dns_resolve("n0.test", &a, 0), 0);
	KT_EXPECT_EQ(srv.queries, DNS_CACHE_SIZE + 1);
	KT_ASSERT_EQ(dns_resolve("n1.test", &a, 0), 0);
	KT_EXPECT_EQ(srv.queries, DNS_CACHE_SIZE + 2);
	dns_get_stats(&st);
	KT_EXPECT_EQ(st.cached, DNS_CACHE_SIZE);
	DNS_END();
}
