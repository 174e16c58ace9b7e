/*
 * host_dhcp_client.c — the DHCP client (net/dhcp.c, the real file) on the
 * host: the test plays the server through the fake netdev, and the shim's
 * clock plays time.
 *
 * The whole exchange (DISCOVER, OFFER, REQUEST, ACK) and what the device
 * is configured with; the messages' fields; renewal at T1 unicast to the
 * server, rebinding at T2 broadcast, expiry dropping the address, NAK
 * restarting (and dropping a renewed address); T1/T2 from options or the
 * 0.5/0.875 defaults; the retransmission backoff and its cap; REQUEST
 * given up after its tries; replies that are not ours ignored; an
 * infinite lease never renewed; the interface MTU (option 26) set, clamped,
 * refused and put back; waiting for a lease (and Ctrl-C); boot with ip=
 * and dhcp=.  Each test stops its client, so no timer outlives
 * it, and holds no netbuf at its end.
 */
#include "tests/unit/host_udp.h"
#include "errno.h"
#include "lib/format.h"
#include "kernel/ktimer.h"
#include "kernel/time.h"
#include "net/dhcp.h"
#include "net/dhcp_msg.h"

#define SRV_IP GW_IP                    /* the server is the router, 10.0.0.254 */
#define LEASE_IP 0x0A000032u            /* 10.0.0.50 */
#define DNS2_IP 0x0A0000FDu             /* 10.0.0.253 */

static const struct mac_addr srv_mac = { { 0x02, 0, 0, 0, 0xaa, 0xfe } };

/* The next DHCP message the client sent, decoded, with its IP addresses. */
struct sent_msg {
	struct dhcp_msg m;
	struct tu_sent u;
};

static bool pop_msg(struct fake_netdev *f, struct sent_msg *out)
{
	while (tu_pop(f, DHCP_SERVER_PORT, &out->u))
		if (out->u.sport == DHCP_CLIENT_PORT && out->u.csum_ok &&
		    !dhcp_msg_parse(out->u.data, out->u.len, &out->m))
			return true;
	return false;
}

/* How many DHCP messages wait in sent (all popped; the last into @last). */
static unsigned pop_all(struct fake_netdev *f, struct sent_msg *last)
{
	unsigned n = 0;

	while (pop_msg(f, last))
		n++;
	return n;
}

/* A reply of @type to @xid for @f, with the server's usual options and a lease of @lease s. */
static void reply_init(struct dhcp_msg *m, const struct fake_netdev *f, u8 type, u32 xid,
		       u32 lease)
{
	memset(m, 0, sizeof(*m));
	m->op = DHCP_OP_REPLY;
	m->type = type;
	m->xid = xid;
	m->yiaddr = type == DHCP_NAK ? 0 : LEASE_IP;
	m->chaddr = f->dev.mac;
	m->has = DHCP_HAS_SERVER_ID;
	m->server_id = SRV_IP;
	if (type == DHCP_NAK)
		return;
	m->has |= DHCP_HAS_MASK | DHCP_HAS_ROUTER | DHCP_HAS_LEASE;
	m->mask = 0xffffff00;
	m->router = GW_IP;
	m->lease_s = lease;
	m->ndns = 2;
	m->dns[0] = SRV_IP;
	m->dns[1] = DNS2_IP;
}

/* Send @m from the server to @dst (port 68). */
static void serve(struct fake_netdev *f, const struct dhcp_msg *m, u32 dst)
{
	u8 msg[DHCP_MSG_MAX], fr[FAKE_FRAME_MAX];
	int len = dhcp_msg_build(m, msg, sizeof(msg));
	u32 n;

	if (len < 0)
		return;
	n = tu_frame(fr, f, &srv_mac, SRV_IP, DHCP_SERVER_PORT, dst, DHCP_CLIENT_PORT, msg,
		     (u32)len, true);
	if (dst == IP_BROADCAST)
		memset(fr, 0xff, MAC_LEN);
	fake_netdev_inject(f, fr, n);
}

static struct netdev_ipv4 cfg_now(struct fake_netdev *f)
{
	struct netdev_ipv4 c;

	netdev_get_ipv4(&f->dev, &c);
	return c;
}

static bool has_addr(struct fake_netdev *f)
{
	struct netdev_ipv4 c = cfg_now(f);

	return ip_is_v4(&c.addr);
}

static enum dhcp_state state_of(struct fake_netdev *f)
{
	struct dhcp_info in;

	dhcp_get_info(&f->dev, &in);
	return in.state;
}

/* The server answers ARP for itself (renewals are unicast to it). */
static void server_on_link(struct fake_netdev *f)
{
	fake_netdev_peer(f, SRV_IP, &srv_mac, false);
}

/* Start the client and take it to BOUND with a lease of @lease s (T1/T2 from @t1/@t2 if not 0). */
static bool bring_up(struct ktest_ctx *kt, struct fake_netdev *f, u32 lease, u32 t1, u32 t2)
{
	struct sent_msg s;
	struct dhcp_msg r;

	server_on_link(f);
	KT_EXPECT_EQ(dhcp_start(&f->dev), 0);
	if (!pop_msg(f, &s) || s.m.type != DHCP_DISCOVER)
		return false;
	reply_init(&r, f, DHCP_OFFER, s.m.xid, lease);
	serve(f, &r, IP_BROADCAST);
	if (!pop_msg(f, &s) || s.m.type != DHCP_REQUEST)
		return false;
	reply_init(&r, f, DHCP_ACK, s.m.xid, lease);
	if (t1)
		r.has |= DHCP_HAS_T1, r.t1_s = t1;
	if (t2)
		r.has |= DHCP_HAS_T2, r.t2_s = t2;
	serve(f, &r, LEASE_IP);
	fake_netdev_clear(f); /* the gratuitous ARP */
	return state_of(f) == DHCP_BOUND;
}

/* Was "dhcp: <dev>: @rest" logged in this test? */
static bool logged(const struct fake_netdev *f, const char *rest)
{
	char b[200];

	snprintf(b, sizeof(b), "dhcp: %s: %s", f->dev.name, rest);
	return shim_log_count(SHIM_LOG_ANY, b) > 0;
}

#define DHCP_BEGIN()                                                           \
	NET_BEGIN(NULL);                                                       \
	dhcp_set_mode(DHCP_MODE_AUTO)

#define DHCP_END()                                                             \
	do {                                                                   \
		dhcp_stop(&f->dev);                                            \
		NET_END();                                                     \
	} while (0)

KTEST(dhcp, discover_offer_request_ack)
{
	DHCP_BEGIN();
	struct sent_msg s;
	struct dhcp_msg r;
	struct netdev_ipv4 c;
	u32 xid;

	server_on_link(f);
	KT_ASSERT_EQ(dhcp_start(&f->dev), 0);
	KT_ASSERT(pop_msg(f, &s));
	KT_EXPECT_EQ(s.m.type, DHCP_DISCOVER);
	KT_EXPECT_EQ(s.m.op, DHCP_OP_REQUEST);
	KT_EXPECT(mac_eq(&s.m.chaddr, &f->dev.mac));
	KT_EXPECT(mac_eq(&s.u.eth_dst, &mac_broadcast));
	KT_EXPECT_EQ(s.u.src, 0);
	KT_EXPECT_EQ(s.u.dst, IP_BROADCAST);
	KT_EXPECT_STREQ(s.m.hostname, "nos");
	KT_EXPECT(s.m.has & DHCP_HAS_CLIENT_ID);
	KT_EXPECT(memchr(s.m.params, DHCP_OPT_DNS, s.m.nparams) &&
		  memchr(s.m.params, DHCP_OPT_T2, s.m.nparams) &&
		  memchr(s.m.params, DHCP_OPT_MTU, s.m.nparams));
	KT_EXPECT_EQ(state_of(f), DHCP_SELECTING);
	xid = s.m.xid;

	reply_init(&r, f, DHCP_OFFER, xid, 100);
	serve(f, &r, LEASE_IP); /* unicast to the address offered: we take it though unconfigured */
	KT_ASSERT(pop_msg(f, &s));
	KT_EXPECT_EQ(s.m.type, DHCP_REQUEST);
	KT_EXPECT_EQ(s.m.xid, xid);
	KT_EXPECT_EQ(s.m.requested_ip, LEASE_IP);
	KT_EXPECT_EQ(s.m.server_id, SRV_IP);
	KT_EXPECT_EQ(s.m.ciaddr, 0);
	KT_EXPECT_EQ(s.u.dst, IP_BROADCAST);
	KT_EXPECT_EQ(state_of(f), DHCP_REQUESTING);

	reply_init(&r, f, DHCP_ACK, xid, 100);
	serve(f, &r, IP_BROADCAST);
	KT_EXPECT_EQ(state_of(f), DHCP_BOUND);
	c = cfg_now(f);
	KT_EXPECT_EQ(c.addr.v4, LEASE_IP);
	KT_EXPECT_EQ(c.prefix, 24);
	KT_EXPECT_EQ(c.gw.v4, GW_IP);
	KT_EXPECT_EQ(c.dns[0].v4, SRV_IP);
	KT_EXPECT_EQ(c.dns[1].v4, DNS2_IP);
	KT_EXPECT_EQ(c.source, NET_CFG_DHCP);
	KT_EXPECT(logged(f, "bound to 10.0.0.50/24 gw 10.0.0.254 dns 10.0.0.254,10.0.0.253 "
			    "lease 100 s"));
	DHCP_END();
	KT_EXPECT(!has_addr(f)); /* stopping removed the address */
}

/* Start the client and answer its DISCOVER: its REQUEST into @s, and an
 * ACK for it (lease 100 s) into @ack for the caller to shape and serve. */
static bool requested(struct fake_netdev *f, struct sent_msg *s, struct dhcp_msg *ack)
{
	struct dhcp_msg r;

	server_on_link(f);
	if (dhcp_start(&f->dev) || !pop_msg(f, s))
		return false;
	reply_init(&r, f, DHCP_OFFER, s->m.xid, 100);
	serve(f, &r, IP_BROADCAST);
	if (!pop_msg(f, s))
		return false;
	reply_init(ack, f, DHCP_ACK, s->m.xid, 100);
	return true;
}

/* Take the client to BOUND by an ACK with @mask and @router. */
static bool bind_with(struct fake_netdev *f, u32 mask, u32 router)
{
	struct sent_msg s;
	struct dhcp_msg r;

	if (!requested(f, &s, &r))
		return false;
	r.mask = mask;
	r.router = router;
	serve(f, &r, LEASE_IP);
	return state_of(f) == DHCP_BOUND;
}

/* A /32 lease with the router beside it, as Compute Engine gives. */
KTEST(dhcp, a_32_bit_lease_keeps_its_router_and_routes_through_it)
{
	DHCP_BEGIN();
	struct ip_route rt;
	struct ip_addr far = ip_v4(0x08080808);

	KT_ASSERT(bind_with(f, 0xffffffff, GW_IP));
	KT_EXPECT_EQ(cfg_now(f).prefix, 32);
	KT_EXPECT_EQ(cfg_now(f).gw.v4, GW_IP);
	KT_ASSERT_EQ(ip_route(&far, &rt), 0);
	KT_EXPECT(rt.dev == &f->dev && rt.nexthop.v4 == GW_IP && rt.src.v4 == LEASE_IP);
	far = ip_v4(GW_IP);                     /* the router itself: by ARP, on this link */
	KT_ASSERT_EQ(ip_route(&far, &rt), 0);
	KT_EXPECT(rt.dev == &f->dev && rt.nexthop.v4 == GW_IP && !rt.broadcast);
	DHCP_END();
}

/* A router that is our own address, 0, or a broadcast address is no router. */
KTEST(dhcp, a_router_that_cannot_be_one_is_dropped)
{
	static const u32 bad[] = { LEASE_IP, 0, IP_BROADCAST, 0x0A0000FFu };

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		DHCP_BEGIN();
		struct netdev_ipv4 c;

		KT_EXPECT(bind_with(f, 0xffffff00, bad[i]));
		c = cfg_now(f);
		KT_EXPECT(!ip_is_v4(&c.gw));
		DHCP_END();
	}
}

/* Take the client to BOUND by an ACK with option 26 = @mtu (none when 0), lease 100 s. */
static bool bind_mtu(struct fake_netdev *f, u16 mtu)
{
	struct sent_msg s;
	struct dhcp_msg r;

	fake_netdev_clear(f); /* an earlier lease's resends */
	if (!requested(f, &s, &r))
		return false;
	if (mtu)
		r.has |= DHCP_HAS_MTU, r.mtu = mtu;
	serve(f, &r, LEASE_IP);
	fake_netdev_clear(f);
	return state_of(f) == DHCP_BOUND;
}

/* Wait for the renewal at T1 and ACK it with option 26 = @mtu (none when 0). */
static bool renew_mtu(struct fake_netdev *f, u16 mtu)
{
	struct sent_msg s;
	struct dhcp_msg r;

	shim_clock_advance(51 * NS_S);
	if (!pop_all(f, &s) || state_of(f) != DHCP_RENEWING)
		return false;
	reply_init(&r, f, DHCP_ACK, s.m.xid, 100);
	if (mtu)
		r.has |= DHCP_HAS_MTU, r.mtu = mtu;
	serve(f, &r, LEASE_IP);
	return state_of(f) == DHCP_BOUND;
}

KTEST(dhcp, interface_mtu_is_set_and_put_back)
{
	DHCP_BEGIN();

	KT_ASSERT_EQ(f->dev.mtu, 1500);
	KT_ASSERT(bind_mtu(f, 1460));
	KT_EXPECT_EQ(f->dev.mtu, 1460);
	KT_EXPECT(logged(f, "MTU 1460 (option 26), was 1500"));
	KT_ASSERT(renew_mtu(f, 1460)); /* the same: no change, no line */
	KT_EXPECT_EQ(shim_log_count(SHIM_LOG_ANY, "MTU 1460"), 1);
	KT_ASSERT(renew_mtu(f, 0)); /* a lease without it: the driver's */
	KT_EXPECT_EQ(f->dev.mtu, 1500);
	KT_EXPECT(logged(f, "MTU back to the driver's 1500"));
	KT_ASSERT(renew_mtu(f, 1400));
	KT_EXPECT_EQ(f->dev.mtu, 1400);
	KT_ASSERT(renew_mtu(f, 9000)); /* more than the driver's: its most */
	KT_EXPECT_EQ(f->dev.mtu, 1500);
	KT_EXPECT(logged(f, "MTU 1500 (option 26 said 9000, the driver's most), was 1400"));
	KT_ASSERT(renew_mtu(f, 1400));
	dhcp_stop(&f->dev); /* a lease given up: the driver's again */
	KT_EXPECT_EQ(f->dev.mtu, 1500);

	/* Expiry and NAK put it back too. */
	KT_ASSERT(bind_mtu(f, 1400));
	KT_EXPECT_EQ(f->dev.mtu, 1400);
	shim_clock_advance(101 * NS_S);
	KT_EXPECT(!has_addr(f));
	KT_EXPECT_EQ(f->dev.mtu, 1500);
	dhcp_stop(&f->dev);
	KT_ASSERT(bind_mtu(f, 1400));
	KT_ASSERT(renew_mtu(f, 1400));
	shim_clock_advance(51 * NS_S);
	{
		struct sent_msg s;
		struct dhcp_msg r;

		KT_ASSERT(pop_all(f, &s));
		reply_init(&r, f, DHCP_NAK, s.m.xid, 0);
		serve(f, &r, LEASE_IP);
	}
	KT_EXPECT_EQ(state_of(f), DHCP_INIT);
	KT_EXPECT_EQ(f->dev.mtu, 1500);
	DHCP_END();
}

/* Below the 576 every host must take: refused with a warning, the MTU kept. */
KTEST(dhcp, an_interface_mtu_below_576_is_refused)
{
	DHCP_BEGIN();

	KT_ASSERT(bind_mtu(f, 500));
	KT_EXPECT_EQ(state_of(f), DHCP_BOUND); /* the lease itself is good */
	KT_EXPECT_EQ(f->dev.mtu, 1500);
	KT_EXPECT(shim_log_count(LOG_WARN, "MTU 500 refused (below 576); keeping 1500") > 0);
	dhcp_stop(&f->dev);
	KT_ASSERT(bind_mtu(f, 1400));
	KT_ASSERT(renew_mtu(f, 576)); /* the least we take */
	KT_EXPECT_EQ(f->dev.mtu, 576);
	KT_ASSERT(renew_mtu(f, 575)); /* refused: the lease's earlier MTU stays */
	KT_EXPECT_EQ(f->dev.mtu, 576);
	DHCP_END();
	KT_EXPECT_EQ(f->dev.mtu, 1500);
}

KTEST(dhcp, renew_at_t1_unicast_to_the_server)
{
	DHCP_BEGIN();
	struct sent_msg s;
	struct dhcp_msg r;
	struct dhcp_info in;

	KT_ASSERT(bring_up(kt, f, 100, 0, 0));
	dhcp_get_info(&f->dev, &in);
	KT_EXPECT_EQ(in.t1_s, 50);
	KT_EXPECT_EQ(in.t2_s, 87);
	shim_clock_advance(49 * NS_S);
	KT_EXPECT_EQ(pop_all(f, &s), 0);
	shim_clock_advance(2 * NS_S);
	KT_ASSERT(pop_msg(f, &s));
	KT_EXPECT_EQ(state_of(f), DHCP_RENEWING);
	KT_EXPECT_EQ(s.m.type, DHCP_REQUEST);
	KT_EXPECT_EQ(s.m.ciaddr, LEASE_IP);
	KT_EXPECT(!(s.m.has & DHCP_HAS_REQUESTED_IP));
	KT_EXPECT_EQ(s.u.src, LEASE_IP);
	KT_EXPECT_EQ(s.u.dst, SRV_IP);
	KT_EXPECT(mac_eq(&s.u.eth_dst, &srv_mac));
	reply_init(&r, f, DHCP_ACK, s.m.xid, 100);
	serve(f, &r, LEASE_IP);
	KT_EXPECT_EQ(state_of(f), DHCP_BOUND);
	KT_EXPECT(logged(f, "renewed 10.0.0.50, lease 100 s"));
	dhcp_get_info(&f->dev, &in);
	KT_EXPECT_EQ(in.binds, 2);
	KT_EXPECT(in.t1_in_ns > 49 * NS_S); /* a new T1 from the renewal */
	KT_EXPECT_EQ(cfg_now(f).addr.v4, LEASE_IP);
	DHCP_END();
}

KTEST(dhcp, rebind_at_t2_broadcast_then_expiry_drops_the_address)
{
	DHCP_BEGIN();
	struct sent_msg s;
	unsigned renews;

	KT_ASSERT(bring_up(kt, f, 100, 30, 60));
	shim_clock_advance(31 * NS_S);
	KT_EXPECT_EQ(state_of(f), DHCP_RENEWING);
	renews = pop_all(f, &s);
	shim_clock_advance(28 * NS_S); /* 59 s: still renewing, resent meanwhile */
	renews += pop_all(f, &s);
	KT_EXPECT(renews >= 2);
	KT_EXPECT_EQ(s.u.dst, SRV_IP);
	KT_EXPECT_EQ(state_of(f), DHCP_RENEWING);
	shim_clock_advance(2 * NS_S);
	KT_EXPECT_EQ(state_of(f), DHCP_REBINDING);
	KT_ASSERT(pop_msg(f, &s));
	KT_EXPECT_EQ(s.m.type, DHCP_REQUEST);
	KT_EXPECT_EQ(s.u.dst, IP_BROADCAST);
	KT_EXPECT_EQ(s.u.src, LEASE_IP);
	KT_EXPECT_EQ(s.m.ciaddr, LEASE_IP);
	KT_EXPECT_EQ(cfg_now(f).addr.v4, LEASE_IP);
	shim_clock_advance(38 * NS_S); /* 99 s */
	KT_EXPECT_EQ(cfg_now(f).addr.v4, LEASE_IP);
	shim_clock_advance(2 * NS_S);
	KT_EXPECT(!has_addr(f));
	KT_EXPECT_EQ(state_of(f), DHCP_SELECTING);
	KT_EXPECT(logged(f, "lease of 10.0.0.50 expired: address removed"));
	pop_all(f, &s);
	KT_EXPECT_EQ(s.m.type, DHCP_DISCOVER);
	KT_EXPECT_EQ(s.u.src, 0);
	DHCP_END();
}

KTEST(dhcp, ack_while_rebinding_binds_again)
{
	DHCP_BEGIN();
	struct sent_msg s;
	struct dhcp_msg r;

	KT_ASSERT(bring_up(kt, f, 100, 0, 0));
	shim_clock_advance(88 * NS_S);
	KT_EXPECT_EQ(state_of(f), DHCP_REBINDING);
	pop_all(f, &s);
	reply_init(&r, f, DHCP_ACK, s.m.xid, 200);
	serve(f, &r, LEASE_IP);
	KT_EXPECT_EQ(state_of(f), DHCP_BOUND);
	shim_clock_advance(99 * NS_S);
	KT_EXPECT_EQ(state_of(f), DHCP_BOUND); /* the new lease's T1 is 100 s away */
	DHCP_END();
}

KTEST(dhcp, nak_restarts_and_drops_a_renewed_address)
{
	DHCP_BEGIN();
	struct sent_msg s;
	struct dhcp_msg r;
	u32 xid;

	/* NAK to the first REQUEST. */
	server_on_link(f);
	KT_ASSERT_EQ(dhcp_start(&f->dev), 0);
	KT_ASSERT(pop_msg(f, &s));
	xid = s.m.xid;
	reply_init(&r, f, DHCP_OFFER, xid, 100);
	serve(f, &r, IP_BROADCAST);
	KT_ASSERT(pop_msg(f, &s));
	reply_init(&r, f, DHCP_NAK, xid, 0);
	serve(f, &r, IP_BROADCAST);
	KT_EXPECT_EQ(state_of(f), DHCP_INIT);
	KT_EXPECT_LOGGED("NAK from 10.0.0.254 in REQUESTING");
	/* Steps of 10 ms: the shim's clock stays on the tick other tests' timers keep. */
	shim_clock_advance(DHCP_NAK_DELAY_NS - 10 * NS_MS);
	KT_EXPECT_EQ(pop_all(f, &s), 0);
	shim_clock_advance(20 * NS_MS);
	KT_ASSERT(pop_msg(f, &s));
	KT_EXPECT_EQ(s.m.type, DHCP_DISCOVER);
	KT_EXPECT(s.m.xid != xid);
	dhcp_stop(&f->dev);

	/* NAK to a renewal: the address goes at once. */
	KT_ASSERT(bring_up(kt, f, 100, 0, 0));
	shim_clock_advance(51 * NS_S);
	KT_ASSERT(pop_msg(f, &s));
	reply_init(&r, f, DHCP_NAK, s.m.xid, 0);
	serve(f, &r, LEASE_IP);
	KT_EXPECT_EQ(state_of(f), DHCP_INIT);
	KT_EXPECT(!has_addr(f));
	DHCP_END();
}

KTEST(dhcp, discover_backoff_doubles_to_64_s)
{
	DHCP_BEGIN();
	struct sent_msg s;
	u64 at[8];
	unsigned n = 0;

	KT_ASSERT_EQ(dhcp_start(&f->dev), 0);
	at[n++] = time_ns();
	pop_all(f, &s);
	while (n < ARRAY_SIZE(at)) {
		shim_clock_advance(100 * NS_MS);
		if (pop_all(f, &s))
			at[n++] = time_ns();
	}
	for (unsigned i = 1; i < n; i++) {
		u64 want = (u64)MIN(4u << (i - 1), 64u) * NS_S, d = at[i] - at[i - 1];

		if (d + 1100 * NS_MS < want || d > want + 1100 * NS_MS)
			ktest_fail(kt, __FILE__, __LINE__, "resend %u came %llu ms after the last, "
				   "want %llu s +-1", i, (unsigned long long)(d / NS_MS),
				   (unsigned long long)(want / NS_S));
	}
	KT_EXPECT_EQ(state_of(f), DHCP_SELECTING);
	DHCP_END();
}

KTEST(dhcp, request_given_up_after_its_tries)
{
	DHCP_BEGIN();
	struct sent_msg s;
	struct dhcp_msg r;
	unsigned requests = 0;
	u32 xid;

	KT_ASSERT_EQ(dhcp_start(&f->dev), 0);
	KT_ASSERT(pop_msg(f, &s));
	xid = s.m.xid;
	reply_init(&r, f, DHCP_OFFER, xid, 100);
	serve(f, &r, IP_BROADCAST);
	for (int i = 0; i < 200 && state_of(f) == DHCP_REQUESTING; i++) {
		while (pop_msg(f, &s))
			requests += s.m.type == DHCP_REQUEST;
		shim_clock_advance(NS_S);
	}
	KT_EXPECT_EQ(requests, DHCP_REQUEST_TRIES);
	KT_EXPECT_EQ(state_of(f), DHCP_SELECTING);
	KT_ASSERT(pop_msg(f, &s));
	KT_EXPECT_EQ(s.m.type, DHCP_DISCOVER);
	KT_EXPECT(s.m.xid != xid);
	DHCP_END();
}

KTEST(dhcp, replies_that_are_not_ours_are_ignored)
{
	DHCP_BEGIN();
	struct sent_msg s;
	struct dhcp_msg r;
	u8 fr[FAKE_FRAME_MAX], junk[300];
	u32 n;

	KT_ASSERT_EQ(dhcp_start(&f->dev), 0);
	KT_ASSERT(pop_msg(f, &s));
	reply_init(&r, f, DHCP_OFFER, s.m.xid + 1, 100); /* another xid */
	serve(f, &r, IP_BROADCAST);
	reply_init(&r, f, DHCP_OFFER, s.m.xid, 100);
	r.chaddr.b[5] ^= 1; /* another client */
	serve(f, &r, IP_BROADCAST);
	reply_init(&r, f, DHCP_ACK, s.m.xid, 100); /* an ACK while selecting */
	serve(f, &r, IP_BROADCAST);
	reply_init(&r, f, DHCP_OFFER, s.m.xid, 100);
	r.op = DHCP_OP_REQUEST; /* a client's message */
	serve(f, &r, IP_BROADCAST);
	memset(junk, 0x63, sizeof(junk)); /* garbage on port 68 */
	n = tu_frame(fr, f, &srv_mac, SRV_IP, DHCP_SERVER_PORT, IP_BROADCAST, DHCP_CLIENT_PORT, junk,
		     sizeof(junk), true);
	memset(fr, 0xff, MAC_LEN);
	fake_netdev_inject(f, fr, n);
	KT_EXPECT_EQ(state_of(f), DHCP_SELECTING);
	KT_EXPECT_EQ(pop_all(f, &s), 0);
	DHCP_END();
}

KTEST(dhcp, lease_times_from_options_and_their_sanity)
{
	DHCP_BEGIN();
	struct dhcp_info in;

	KT_ASSERT(bring_up(kt, f, 1000, 100, 200));
	dhcp_get_info(&f->dev, &in);
	KT_EXPECT_EQ(in.t1_s, 100);
	KT_EXPECT_EQ(in.t2_s, 200);
	dhcp_stop(&f->dev);
	KT_ASSERT(bring_up(kt, f, 1000, 900, 800)); /* T1 after T2: the defaults */
	dhcp_get_info(&f->dev, &in);
	KT_EXPECT_EQ(in.t1_s, 500);
	KT_EXPECT_EQ(in.t2_s, 875);
	dhcp_stop(&f->dev);
	KT_ASSERT(bring_up(kt, f, 0, 0, 0)); /* a zero lease is taken as the minimum */
	dhcp_get_info(&f->dev, &in);
	KT_EXPECT_EQ(in.lease_s, 10);
	dhcp_stop(&f->dev);
	KT_ASSERT(bring_up(kt, f, DHCP_LEASE_INFINITE, 0, 0));
	shim_clock_advance(10ull * 86400 * NS_S);
	KT_EXPECT_EQ(state_of(f), DHCP_BOUND);
	KT_EXPECT_EQ(pop_all(f, &(struct sent_msg){ 0 }), 0);
	DHCP_END();
}

/* A server in a timer: answers DISCOVER with OFFER and REQUEST with ACK. */
static void server_tick(struct ktimer *t, void *arg)
{
	struct fake_netdev *f = arg;
	struct sent_msg s;
	struct dhcp_msg r;

	while (pop_msg(f, &s)) {
		reply_init(&r, f, s.m.type == DHCP_DISCOVER ? DHCP_OFFER : DHCP_ACK, s.m.xid, 600);
		serve(f, &r, IP_BROADCAST);
	}
}

static void interrupt_test(struct ktimer *t, void *arg)
{
	task_interrupt(shim_test_task());
}

KTEST(dhcp, wait_for_a_lease_times_out_and_stops_on_ctrl_c)
{
	DHCP_BEGIN();
	struct ktimer server, intr;
	u64 t0;

	KT_ASSERT_EQ(dhcp_start(&f->dev), 0);
	t0 = time_ns();
	KT_EXPECT_EQ(dhcp_wait_bound(&f->dev, 3 * NS_S), -ETIMEDOUT);
	KT_EXPECT(time_ns() - t0 >= 3 * NS_S);
	ktimer_init(&intr, interrupt_test, NULL);
	ktimer_start(&intr, 500 * NS_MS, 0);
	KT_EXPECT_EQ(dhcp_wait_bound(&f->dev, 10 * NS_S), -EINTR);
	task_clear_interrupt();
	ktimer_init(&server, server_tick, f);
	ktimer_start(&server, 100 * NS_MS, 100 * NS_MS);
	KT_EXPECT_EQ(dhcp_wait_bound(&f->dev, 10 * NS_S), 0);
	ktimer_cancel(&server);
	KT_EXPECT_EQ(cfg_now(f).addr.v4, LEASE_IP);
	DHCP_END();
	KT_EXPECT_EQ(dhcp_wait_bound(&f->dev, NS_S), -ESRCH);
}

KTEST(dhcp, boot_with_ip_and_dhcp_parameters)
{
	DHCP_BEGIN();
	struct fake_netdev *others[FAKE_NETDEV_MAX];
	enum dhcp_mode m;

	if (netdev_at(0) != &f->dev) { /* another test's device registered first */
		ktest_log(kt, "skipped: eth0 is not the first fake");
		DHCP_END();
		return;
	}
	for (unsigned i = 1; i < FAKE_NETDEV_MAX; i++) {
		others[i] = fake_netdev_get(i);
		fake_netdev_reset(others[i]);
	}
	netdev_set_link(&others[2]->dev, false);
	/* ip= on eth0, DHCP on the others that have their link up. */
	KT_EXPECT_EQ(dhcp_boot("10.0.0.9/24,10.0.0.254,10.0.0.53", NULL), FAKE_NETDEV_MAX - 2);
	KT_EXPECT_EQ(cfg_now(f).addr.v4, 0x0A000009u);
	KT_EXPECT_EQ(cfg_now(f).dns[0].v4, 0x0A000035u);
	KT_EXPECT_EQ(cfg_now(f).source, NET_CFG_STATIC);
	KT_EXPECT_EQ(state_of(f), DHCP_STOPPED);
	KT_EXPECT_EQ(state_of(others[1]), DHCP_SELECTING);
	KT_EXPECT_EQ(state_of(others[2]), DHCP_STOPPED);
	for (unsigned i = 1; i < FAKE_NETDEV_MAX; i++) {
		dhcp_stop(&others[i]->dev);
		fake_netdev_reset(others[i]);
	}
	/* A bad ip= is reported and ignored; dhcp=on starts nothing; off refuses. */
	fake_netdev_reset(f);
	KT_EXPECT_EQ(dhcp_boot("10.0.0.9/24,192.168.1.1", "on"), 0);
	KT_EXPECT_LOGGED("net: ip=10.0.0.9/24,192.168.1.1: gateway not on the subnet; ignored");
	KT_EXPECT(!has_addr(f));
	KT_EXPECT_EQ(dhcp_get_mode(), DHCP_MODE_ON);
	KT_EXPECT_EQ(dhcp_boot(NULL, "off"), 0);
	KT_EXPECT_EQ(dhcp_start(&f->dev), -EPERM);
	KT_EXPECT_EQ(dhcp_parse_mode("sometimes", &m), -EINVAL);
	KT_EXPECT_EQ(dhcp_parse_mode(NULL, &m), 0);
	KT_EXPECT_EQ(m, DHCP_MODE_AUTO);
	dhcp_set_mode(DHCP_MODE_AUTO);
	fake_netdev_clear(f);
	DHCP_END();
}
