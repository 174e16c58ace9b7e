/*
 * host_net_ip.c — IPv4 (net/ip.c, net/ip_route.c: the real files) on the
 * host, through the fake netdev, under ASan and UBSan.
 *
 * Input: a valid packet reaches its protocol with the header stripped,
 * options skipped and Ethernet padding trimmed; every malformed variant
 * (short, wrong version, IHL below 5 or past the end, total length past
 * the frame or inside the header, bad checksum) and every fragment is
 * counted and dropped without a reply; the destination verdicts (ours,
 * broadcasts, someone else's, multicast, martian sources, anything while
 * unconfigured); protocol unreachable for an unknown protocol.  Output:
 * the header's fields, ids, the MTU, broadcast, loopback, shared netbufs.
 * Routing: on-link, gateway, none, longest prefix across two devices.
 * And a few thousand random frames, which must leave nothing behind.
 */
#include "tests/unit/host_net.h"
#include "errno.h"

#define PROTO_TEST 253          /* RFC 3692 experimentation */
#define PROTO_NONE 200          /* nobody listens */

/* What the test protocol's handler saw last. */
static struct {
	unsigned calls;
	u32 len;
	u8 first;
	u32 src, dst;
} seen;

static void test_proto_input(struct netbuf *nb)
{
	seen.calls++;
	seen.len = nb->len;
	seen.first = nb->len ? nb->data[0] : 0;
	seen.src = ip_src(nb).v4;
	seen.dst = ip_dst(nb).v4;
	nb_put(nb);
}

static void test_proto_setup(void)
{
	static bool done;

	if (!done)
		ip_register_proto(PROTO_TEST, test_proto_input);
	done = true;
	memset(&seen, 0, sizeof(seen));
}

/* A frame from the peer to @dst with protocol @proto and a 4-byte payload. */
static u32 frame_to(u8 *fr, const struct fake_netdev *f, u32 dst, u8 proto)
{
	static const u8 payload[4] = { 0xa1, 0xa2, 0xa3, 0xa4 };

	return fake_frame_ipv4(fr, &f->dev.mac, &peer_mac, PEER_IP, dst, proto, payload, 4);
}

static void recsum(u8 *fr)
{
	u8 *ih = fr + ETH_HLEN;

	put_be16(ih + 10, 0);
	put_be16(ih + 10, inet_csum(ih, (ih[0] & 0xf) * 4u));
}

static struct ip_stats ipstats(void)
{
	struct ip_stats s;

	ip_get_stats(&s);
	return s;
}

KTEST(net_ip, valid_packet_is_delivered_without_its_header)
{
	NET_BEGIN(OUR_SPEC);
	u8 fr[FAKE_FRAME_MAX];
	u32 n;

	test_proto_setup();
	n = frame_to(fr, f, OUR_IP, PROTO_TEST);
	memset(fr + n, 0xee, ETH_MIN_FRAME - n); /* Ethernet padding */
	fake_netdev_inject(f, fr, ETH_MIN_FRAME);
	KT_EXPECT_EQ(seen.calls, 1);
	KT_EXPECT_EQ(seen.len, 4);      /* the padding is gone */
	KT_EXPECT_EQ(seen.first, 0xa1);
	KT_EXPECT_EQ(seen.src, PEER_IP);
	KT_EXPECT_EQ(seen.dst, OUR_IP);
	KT_EXPECT(!fake_netdev_pop(f));
	NET_END();
}

KTEST(net_ip, options_are_skipped)
{
	NET_BEGIN(OUR_SPEC);
	u8 fr[FAKE_FRAME_MAX];
	u8 *ih = fr + ETH_HLEN;
	u32 n;

	test_proto_setup();
	n = frame_to(fr, f, OUR_IP, PROTO_TEST);
	memmove(ih + 24, ih + 20, n - ETH_HLEN - 20); /* 4 bytes of options: NOPs, an end */
	memcpy(ih + 20, "\x01\x01\x01\x00", 4);
	ih[0] = 0x46;
	put_be16(ih + 2, 28);
	recsum(fr);
	fake_netdev_inject(f, fr, n + 4);
	KT_EXPECT_EQ(seen.calls, 1);
	KT_EXPECT_EQ(seen.len, 4);
	KT_EXPECT_EQ(seen.first, 0xa1);
	NET_END();
}

/* One way to break a valid packet: set a byte and fix the checksum (@resum), or flip bits in it. */
struct mutation {
	const char *what;
	unsigned off;
	u8 val;
	bool resum;
	int len_delta;  /* frame length change */
};

static const struct mutation hostile[] = {
	{ "version 6", 0, 0x65, true, 0 },
	{ "IHL 4", 0, 0x44, true, 0 },
	{ "IHL 0", 0, 0x40, true, 0 },
	{ "IHL 15, past the end", 0, 0x4f, true, 0 },
	{ "total length past the frame", 3, 200, true, 0 },
	{ "total length inside the header", 3, 12, true, 0 },
	{ "total length 0", 3, 0, true, 0 },
	{ "bad checksum", 10, 0x5a, false, 0 },
	{ "truncated to 19 bytes", 0, 0x45, true, -(4 + 1) },
	{ "truncated to 0 bytes", 0, 0x45, true, -24 },
};

KTEST(net_ip, hostile_headers_are_counted_and_dropped)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_stats s0 = ipstats();
	u64 errors = proto_rx(f, NP_IPV4).errors;
	u8 fr[FAKE_FRAME_MAX];

	test_proto_setup();
	learn_peer(f); /* a reply, were one (wrongly) sent, would not wait for ARP */
	for (unsigned i = 0; i < ARRAY_SIZE(hostile); i++) {
		const struct mutation *m = &hostile[i];
		u32 n = frame_to(fr, f, OUR_IP, PROTO_TEST);

		if (m->off == 3)
			fr[ETH_HLEN + 2] = 0;
		if (m->resum) {
			fr[ETH_HLEN + m->off] = m->val;
			recsum(fr);
		} else {
			fr[ETH_HLEN + m->off] ^= m->val; /* whatever it was, now wrong */
		}
		fake_netdev_inject(f, fr, (u32)((int)n + m->len_delta));
		if (seen.calls)
			ktest_log(kt, "delivered: %s", m->what);
		KT_EXPECT_EQ(seen.calls, 0);
	}
	KT_EXPECT_EQ(ipstats().rx_hdr_errors - s0.rx_hdr_errors, ARRAY_SIZE(hostile));
	KT_EXPECT_EQ(proto_rx(f, NP_IPV4).errors - errors, ARRAY_SIZE(hostile));
	KT_EXPECT(!fake_netdev_pop(f)); /* no ICMP about garbage */
	NET_END();
}

KTEST(net_ip, fragments_are_counted_and_dropped)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_stats s0 = ipstats();
	static const u16 frags[] = { 0x2000, 0x0001, 0x2010, 0x4000 | 0x0100 };
	u8 fr[FAKE_FRAME_MAX];

	test_proto_setup();
	learn_peer(f);
	for (unsigned i = 0; i < ARRAY_SIZE(frags); i++) {
		u32 n = frame_to(fr, f, OUR_IP, PROTO_NONE);

		put_be16(fr + ETH_HLEN + 6, frags[i]);
		recsum(fr);
		fake_netdev_inject(f, fr, n);
	}
	KT_EXPECT_EQ(ipstats().rx_frags - s0.rx_frags, ARRAY_SIZE(frags));
	KT_EXPECT(!fake_netdev_pop(f)); /* not even protocol unreachable */
	NET_END();
}

KTEST(net_ip, destination_verdicts)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_stats s0 = ipstats();
	u8 fr[FAKE_FRAME_MAX];
	u32 n;

	test_proto_setup();
	fake_netdev_inject(f, fr, frame_to(fr, f, 0xFFFFFFFF, PROTO_TEST));    /* delivered */
	fake_netdev_inject(f, fr, frame_to(fr, f, 0x0A0000FF, PROTO_TEST));    /* delivered */
	KT_EXPECT_EQ(seen.calls, 2);
	fake_netdev_inject(f, fr, frame_to(fr, f, 0x0A000009, PROTO_TEST));    /* not ours */
	fake_netdev_inject(f, fr, frame_to(fr, f, 0xE0000001, PROTO_TEST));    /* multicast */
	KT_EXPECT_EQ(ipstats().rx_not_ours - s0.rx_not_ours, 2);
	n = frame_to(fr, f, OUR_IP, PROTO_TEST);
	put_be32(fr + ETH_HLEN + 12, 0x7F000001);                              /* from 127.0.0.1 */
	recsum(fr);
	fake_netdev_inject(f, fr, n);
	put_be32(fr + ETH_HLEN + 12, 0xFFFFFFFF);                              /* from broadcast */
	recsum(fr);
	fake_netdev_inject(f, fr, n);
	KT_EXPECT_EQ(ipstats().rx_martians - s0.rx_martians, 2);
	KT_EXPECT_EQ(seen.calls, 2);
	NET_END();
}

KTEST(net_ip, unconfigured_device_takes_anything)
{
	NET_BEGIN(NULL);
	u8 fr[FAKE_FRAME_MAX];

	test_proto_setup();
	fake_netdev_inject(f, fr, frame_to(fr, f, 0x0A090909, PROTO_TEST));
	KT_EXPECT_EQ(seen.calls, 1);
	NET_END();
}

KTEST(net_ip, unknown_protocol_gets_protocol_unreachable)
{
	NET_BEGIN(OUR_SPEC);
	u8 fr[FAKE_FRAME_MAX];
	struct netbuf *nb;
	const u8 *ih, *icmp;
	u32 n;

	learn_peer(f);
	n = frame_to(fr, f, OUR_IP, PROTO_NONE);
	fake_netdev_inject(f, fr, n);
	nb = fake_netdev_pop(f);
	KT_ASSERT(nb);
	ih = fr_l3(nb);
	icmp = fr_l4(nb);
	KT_EXPECT(fr_dst_mac_is(nb, &peer_mac));
	KT_EXPECT_EQ(ih[9], IP_PROTO_ICMP);
	KT_EXPECT_EQ(get_be32(ih + 12), OUR_IP);
	KT_EXPECT_EQ(get_be32(ih + 16), PEER_IP);
	KT_EXPECT_EQ(inet_csum(ih, IP_HLEN), 0);
	KT_EXPECT_EQ(icmp[0], ICMP_DEST_UNREACH);
	KT_EXPECT_EQ(icmp[1], ICMP_UNREACH_PROTO);
	KT_EXPECT_EQ(fr_l4_len(nb), ICMP_HLEN + IP_HLEN + 4); /* header + all of 4 bytes */
	KT_EXPECT_EQ(inet_csum(icmp, fr_l4_len(nb)), 0);
	KT_EXPECT(memcmp(icmp + ICMP_HLEN, fr + ETH_HLEN, IP_HLEN + 4) == 0);
	nb_put(nb);
	/* not for a broadcast */
	fake_netdev_inject(f, fr, frame_to(fr, f, 0xFFFFFFFF, PROTO_NONE));
	KT_EXPECT(!fake_netdev_pop(f));
	NET_END();
}

KTEST(net_ip, output_header)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP);
	struct netbuf *nb, *a, *b;
	const u8 *ih;

	learn_peer(f);
	for (int i = 0; i < 2; i++) {
		nb = nb_alloc_tx();
		nb_append_bytes(nb, "0123456789", 10);
		KT_EXPECT_EQ(ip_output(NULL, NULL, &peer, PROTO_TEST, nb), 0);
	}
	a = fake_netdev_pop(f);
	b = fake_netdev_pop(f);
	KT_ASSERT(a && b);
	ih = fr_l3(a);
	KT_EXPECT(fr_dst_mac_is(a, &peer_mac));
	KT_EXPECT_EQ(ih[0], 0x45);
	KT_EXPECT_EQ(get_be16(ih + 2), IP_HLEN + 10);
	KT_EXPECT_EQ(get_be16(ih + 6), 0x4000); /* DF */
	KT_EXPECT_EQ(ih[8], IP_TTL_DEFAULT);
	KT_EXPECT_EQ(ih[9], PROTO_TEST);
	KT_EXPECT_EQ(get_be32(ih + 12), OUR_IP);
	KT_EXPECT_EQ(get_be32(ih + 16), PEER_IP);
	KT_EXPECT_EQ(inet_csum(ih, IP_HLEN), 0);
	KT_EXPECT(memcmp(ih + IP_HLEN, "0123456789", 10) == 0);
	KT_EXPECT_EQ(a->len, ETH_MIN_FRAME); /* padded */
	KT_EXPECT_EQ((u16)(get_be16(fr_l3(b) + 4) - get_be16(ih + 4)), 1);
	nb_put(a);
	nb_put(b);
	NET_END();
}

KTEST(net_ip, output_refusals)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP), stranger = ip_v4(0x0A000063);
	struct netbuf *nb = nb_alloc_tx();

	learn_peer(f);
	nb_append(nb, 1500 - IP_HLEN + 1);
	KT_EXPECT_EQ(ip_output(NULL, NULL, &peer, PROTO_TEST, nb), -EMSGSIZE);
	nb = nb_alloc_tx();
	KT_EXPECT_EQ(ip_output(NULL, &stranger, &peer, PROTO_TEST, nb), -EADDRNOTAVAIL);
	nb = nb_alloc_tx();
	nb_append(nb, 1500 - IP_HLEN);
	KT_EXPECT_EQ(ip_output(NULL, NULL, &peer, PROTO_TEST, nb), 0); /* exactly the MTU */
	nb = fake_netdev_pop(f);
	KT_EXPECT(nb && nb->len == 1500 + ETH_HLEN);
	nb_put(nb);
	NET_END();
}

KTEST(net_ip, output_copies_a_shared_netbuf)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP);
	struct netbuf *nb = nb_alloc_tx(), *sent;

	learn_peer(f);
	nb_append_bytes(nb, "keep", 4);
	KT_EXPECT_EQ(ip_output(NULL, NULL, &peer, PROTO_TEST, nb_get(nb)), 0);
	KT_EXPECT_EQ(nb->len, 4);                       /* ours is untouched */
	KT_EXPECT(memcmp(nb->data, "keep", 4) == 0);
	KT_EXPECT_EQ(nb_headroom(nb), NB_HEADROOM);
	sent = fake_netdev_pop(f);
	KT_EXPECT(sent && sent != nb && memcmp(fr_l4(sent), "keep", 4) == 0);
	nb_put(sent);
	nb_put(nb);
	NET_END();
}

KTEST(net_ip, broadcast_and_loopback_output)
{
	NET_BEGIN(NULL);
	struct ip_addr bcast = ip_v4(IP_BROADCAST), zero = ip_v4(0), us = ip_v4(OUR_IP);
	struct netbuf *nb = nb_alloc_tx();

	test_proto_setup();
	nb_append_bytes(nb, "dhcp", 4);   /* as DHCP before it has an address */
	KT_EXPECT_EQ(ip_output(&f->dev, &zero, &bcast, PROTO_TEST, nb), 0);
	nb = fake_netdev_pop(f);
	KT_ASSERT(nb);
	KT_EXPECT(fr_dst_mac_is(nb, &mac_broadcast));
	KT_EXPECT_EQ(get_be32(fr_l3(nb) + 12), 0);
	KT_EXPECT_EQ(get_be32(fr_l3(nb) + 16), IP_BROADCAST);
	nb_put(nb);
	KT_ASSERT_EQ(fake_netdev_set_ipv4(f, OUR_SPEC), 0);
	fake_netdev_clear(f);
	nb = nb_alloc_tx();
	nb_append_bytes(nb, "self", 4);
	KT_EXPECT_EQ(ip_output(NULL, NULL, &us, PROTO_TEST, nb), 0);
	fake_net_run();
	KT_EXPECT_EQ(seen.calls, 1);      /* looped back, not sent */
	KT_EXPECT_EQ(seen.first, 's');
	KT_EXPECT(!fake_netdev_pop(f));
	NET_END();
}

static int route_of(u32 dst, struct ip_route *rt)
{
	struct ip_addr d = ip_v4(dst);

	return ip_route(&d, rt);
}

KTEST(net_ip, routing)
{
	NET_BEGIN(OUR_SPEC);
	struct fake_netdev *f1 = fake_netdev_get(1);
	struct ip_route rt;

	KT_ASSERT_EQ(route_of(PEER_IP, &rt), 0);
	KT_EXPECT(rt.dev == &f->dev && rt.nexthop.v4 == PEER_IP && rt.src.v4 == OUR_IP);
	KT_EXPECT(!rt.broadcast && !rt.local);
	KT_ASSERT_EQ(route_of(0x08080808, &rt), 0);
	KT_EXPECT(rt.dev == &f->dev && rt.nexthop.v4 == GW_IP);
	KT_ASSERT_EQ(route_of(0x0A0000FF, &rt), 0);
	KT_EXPECT(rt.broadcast);
	KT_ASSERT_EQ(route_of(OUR_IP, &rt), 0);
	KT_EXPECT(rt.local);
	KT_EXPECT_EQ(route_of(0, &rt), -ENETUNREACH);
	KT_EXPECT_EQ(route_of(0x7F000001, &rt), -ENETUNREACH);
	KT_EXPECT_EQ(route_of(0xE0000001, &rt), -ENETUNREACH);
	/* eth1 on a wider subnet around eth0's: the longer prefix wins */
	fake_netdev_reset(f1);
	KT_ASSERT_EQ(fake_netdev_set_ipv4(f1, "10.0.9.1/16"), 0);
	fake_netdev_clear(f1);
	KT_ASSERT_EQ(route_of(0x0A000005, &rt), 0);
	KT_EXPECT(rt.dev == &f->dev);
	KT_ASSERT_EQ(route_of(0x0A000105, &rt), 0);
	KT_EXPECT(rt.dev == &f1->dev && rt.nexthop.v4 == 0x0A000105 && rt.src.v4 == 0x0A000901);
	/* without a gateway, off-link is unreachable */
	KT_ASSERT_EQ(fake_netdev_set_ipv4(f, "10.0.0.1/24"), 0);
	KT_EXPECT_EQ(route_of(0x08080808, &rt), -ENETUNREACH);
	fake_netdev_reset(f1);
	NET_END();
}

KTEST(net_ip, random_frames_leave_nothing_behind)
{
	NET_BEGIN(OUR_SPEC);
	u8 fr[FAKE_FRAME_MAX];

	learn_peer(f);
	for (unsigned i = 0; i < 3000; i++) {
		u32 len = (u32)(ktest_rand(kt) % 1520);

		for (u32 j = 0; j < len; j++)
			fr[j] = (u8)ktest_rand(kt);
		if (len >= ETH_HLEN + 1 && (i & 1)) {        /* half of them look like IPv4 */
			fake_frame_eth(fr, &f->dev.mac, &peer_mac, i & 2 ? ETH_P_IPV4 : ETH_P_ARP);
			fr[ETH_HLEN] = (u8)(0x45 + (i % 11));
		}
		fake_netdev_inject(f, fr, len);
		fake_netdev_clear(f);
	}
	NET_END();
}
