/*
 * host_net_arp.c — Ethernet input and ARP (net/eth.c, net/arp.c: the real
 * files) on the host, through the fake netdev (tests/unit/shim/
 * fake_netdev.h), under ASan and UBSan.
 *
 * What is checked: answers to requests for our address and what the cache
 * learns (and does not learn) from them; malformed and hostile packets
 * counted and ignored; resolution — one request, frames held in a bounded
 * queue and sent in order once the answer comes; the retries on the fake
 * clock, the give-up after ARP_TRIES, "unreachable" answered at once for a
 * while, then a new resolution; aging and refresh; gratuitous ARP;
 * arp_resolve_wait() answered, given up on and interrupted.  Each test ends
 * holding no netbuf and with the ARP timer disarmed (the shim fails a test
 * that leaves a timer armed).
 */
#include "tests/unit/host_net.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/time.h"

#define PROTO_TEST 253

/* Send a small IPv4 packet to @dst from eth0's address (routed). */
static int send_to(u32 dst, u8 tag)
{
	struct netbuf *nb = nb_alloc_tx();
	struct ip_addr d = ip_v4(dst);

	if (!nb)
		return -ENOBUFS;
	nb_append_bytes(nb, &tag, 1);
	return ip_output(NULL, NULL, &d, PROTO_TEST, nb);
}

static void inject_arp(struct fake_netdev *f, u16 op, const struct mac_addr *sha, u32 spa, u32 tpa)
{
	u8 fr[FAKE_FRAME_MAX];
	u32 n = fake_frame_arp(fr, op == ARP_OP_REQUEST ? &mac_broadcast : &f->dev.mac, op, sha, spa,
			       op == ARP_OP_REQUEST ? &mac_zero : &f->dev.mac, tpa);

	fake_netdev_inject(f, fr, n);
}

/* Is @nb a broadcast ARP request from eth0 for @tpa? */
static bool is_request_for(const struct netbuf *nb, u32 tpa, const struct mac_addr *to)
{
	const u8 *a;

	if (!nb)
		return false;
	a = fr_l3(nb);
	return fr_type(nb) == ETH_P_ARP && fr_dst_mac_is(nb, to) &&
	       get_be16(a + 6) == ARP_OP_REQUEST && get_be32(a + 24) == tpa &&
	       get_be32(a + 14) == OUR_IP && memcmp(a + 18, mac_zero.b, MAC_LEN) == 0;
}

KTEST(net_arp, request_for_us_is_answered_and_learned)
{
	NET_BEGIN(OUR_SPEC);
	struct arp_entry_info e;
	struct netbuf *nb;
	const u8 *a;

	f->rx_headroom = 0; /* the answer is built in the request's own buffer */
	inject_arp(f, ARP_OP_REQUEST, &peer_mac, PEER_IP, OUR_IP);
	nb = fake_netdev_pop(f);
	KT_ASSERT(nb);
	a = fr_l3(nb);
	KT_EXPECT_EQ(nb->len, ETH_MIN_FRAME);
	KT_EXPECT(fr_dst_mac_is(nb, &peer_mac));
	KT_EXPECT_EQ(fr_type(nb), ETH_P_ARP);
	KT_EXPECT_EQ(get_be16(a + 6), ARP_OP_REPLY);
	KT_EXPECT(memcmp(a + 8, f->dev.mac.b, MAC_LEN) == 0);
	KT_EXPECT_EQ(get_be32(a + 14), OUR_IP);
	KT_EXPECT(memcmp(a + 18, peer_mac.b, MAC_LEN) == 0);
	KT_EXPECT_EQ(get_be32(a + 24), PEER_IP);
	nb_put(nb);
	KT_EXPECT(!fake_netdev_pop(f));
	KT_ASSERT(arp_entry_of(PEER_IP, &e));
	KT_EXPECT_EQ(e.state, ARP_RESOLVED);
	KT_EXPECT(mac_eq(&e.mac, &peer_mac));
	KT_EXPECT(e.dev == &f->dev);
	NET_END();
}

KTEST(net_arp, others_requests_teach_nothing)
{
	NET_BEGIN(OUR_SPEC);
	struct arp_entry_info e;
	struct mac_addr other = { { 0x02, 0, 0, 0, 0xbb, 0x03 } };

	inject_arp(f, ARP_OP_REQUEST, &peer_mac, PEER_IP, 0x0A000003);
	inject_arp(f, ARP_OP_REQUEST, &peer_mac, PEER_IP, PEER_IP); /* gratuitous */
	KT_EXPECT(!fake_netdev_pop(f));
	KT_EXPECT(!arp_entry_of(PEER_IP, &e));
	/* ...but they refresh what we know: the peer moved to another MAC */
	learn_peer(f);
	inject_arp(f, ARP_OP_REQUEST, &other, PEER_IP, PEER_IP);
	KT_ASSERT(arp_entry_of(PEER_IP, &e));
	KT_EXPECT(mac_eq(&e.mac, &other));
	NET_END();
}

KTEST(net_arp, malformed_packets_are_counted_and_ignored)
{
	NET_BEGIN(OUR_SPEC);
	u8 fr[FAKE_FRAME_MAX];
	struct arp_entry_info e;
	u64 errors = proto_rx(f, NP_ARP).errors;
	u32 n;

	static const struct { unsigned off; u8 val; } bad[] = {
		{ 1, 6 },         /* hardware type 6 */
		{ 2, 0x86 },      /* protocol type 0x86dd */
		{ 4, 8 },         /* hardware length 8 */
		{ 5, 16 },        /* protocol length 16 */
		{ 7, 3 },         /* operation 3 */
		{ 8, 0xff },      /* sender MAC multicast */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		n = fake_frame_arp(fr, &mac_broadcast, ARP_OP_REQUEST, &peer_mac, PEER_IP, &mac_zero,
				   OUR_IP);
		fr[ETH_HLEN + bad[i].off] = bad[i].val;
		fake_netdev_inject(f, fr, n);
	}
	n = fake_frame_arp(fr, &mac_broadcast, ARP_OP_REQUEST, &mac_zero, PEER_IP, &mac_zero, OUR_IP);
	fake_netdev_inject(f, fr, n);
	n = fake_frame_arp(fr, &mac_broadcast, ARP_OP_REQUEST, &peer_mac, PEER_IP, &mac_zero, OUR_IP);
	for (u32 len = ETH_HLEN; len < n; len++)
		fake_netdev_inject(f, fr, len); /* every truncation */
	KT_EXPECT_EQ(proto_rx(f, NP_ARP).errors - errors, ARRAY_SIZE(bad) + 1 + ARP_HLEN);
	KT_EXPECT(!fake_netdev_pop(f));
	KT_EXPECT(!arp_entry_of(PEER_IP, &e));
	NET_END();
}

KTEST(net_arp, ethernet_input_checks)
{
	NET_BEGIN(OUR_SPEC);
	u8 fr[FAKE_FRAME_MAX];
	struct mac_addr stranger = { { 0x02, 0, 0, 0, 0xcc, 0x09 } };
	struct net_counters other = proto_rx(f, NP_OTHER);
	u32 n;

	memset(fr, 0, sizeof(fr));
	for (u32 len = 0; len < ETH_HLEN; len++)
		fake_netdev_inject(f, fr, len);                 /* runts: 14 errors */
	fake_netdev_inject(f, fr, 1500 + ETH_HLEN + 5);         /* too long: 1 error */
	n = fake_frame_arp(fr, &stranger, ARP_OP_REQUEST, &peer_mac, PEER_IP, &mac_zero, OUR_IP);
	fake_netdev_inject(f, fr, n);                           /* someone else's: 1 drop */
	fake_frame_eth(fr, &f->dev.mac, &peer_mac, 0x86dd);
	fake_netdev_inject(f, fr, 60);                          /* IPv6: 1 drop */
	KT_EXPECT_EQ(proto_rx(f, NP_OTHER).errors - other.errors, ETH_HLEN + 1);
	KT_EXPECT_EQ(proto_rx(f, NP_OTHER).drops - other.drops, 2);
	KT_EXPECT(!fake_netdev_pop(f)); /* the request to the stranger's MAC was not answered */
	NET_END();
}

KTEST(net_arp, resolution_holds_frames_then_sends_them_in_order)
{
	NET_BEGIN(OUR_SPEC);
	struct arp_entry_info e;
	struct netbuf *nb;

	for (u8 i = 0; i < 3; i++)
		KT_EXPECT_EQ(send_to(PEER_IP, i), 0);
	nb = fake_netdev_pop(f);
	KT_EXPECT(is_request_for(nb, PEER_IP, &mac_broadcast));
	nb_put(nb);
	KT_EXPECT(!fake_netdev_pop(f)); /* one request for three frames */
	KT_ASSERT(arp_entry_of(PEER_IP, &e));
	KT_EXPECT_EQ(e.state, ARP_PENDING);
	KT_EXPECT_EQ(e.queued, 3);
	inject_arp(f, ARP_OP_REPLY, &peer_mac, PEER_IP, OUR_IP);
	for (u8 i = 0; i < 3; i++) {
		nb = fake_netdev_pop(f);
		KT_ASSERT(nb);
		KT_EXPECT(fr_dst_mac_is(nb, &peer_mac));
		KT_EXPECT_EQ(fr_type(nb), ETH_P_IPV4);
		KT_EXPECT_EQ(fr_l4(nb)[0], i);
		nb_put(nb);
	}
	KT_EXPECT(arp_entry_of(PEER_IP, &e) && e.state == ARP_RESOLVED);
	KT_EXPECT_EQ(send_to(PEER_IP, 9), 0); /* now straight out */
	nb = fake_netdev_pop(f);
	KT_EXPECT(nb && fr_dst_mac_is(nb, &peer_mac) && fr_l4(nb)[0] == 9);
	nb_put(nb);
	NET_END();
}

KTEST(net_arp, retries_then_gives_up_then_tries_again)
{
	NET_BEGIN(OUR_SPEC);
	struct arp_stats st0, st1;
	struct arp_entry_info e;
	struct netbuf *nb;
	u32 held = 0;

	arp_get_stats(&st0);
	for (unsigned i = 0; i < ARP_PENDING_MAX; i++)
		KT_EXPECT_EQ(send_to(PEER_IP, (u8)i), 0);
	KT_EXPECT_EQ(send_to(PEER_IP, 99), -ENOBUFS);  /* the queue is bounded */
	for (unsigned i = 0; i < ARP_TRIES; i++) {
		nb = fake_netdev_pop(f);
		KT_EXPECT(is_request_for(nb, PEER_IP, &mac_broadcast));
		nb_put(nb);
		KT_EXPECT(!fake_netdev_pop(f));
		if (i == 0)
			held = fake_net_in_use(); /* the queued frames, nothing else */
		shim_clock_advance(ARP_RETRY_NS - 1);
		KT_EXPECT(!fake_netdev_pop(f)); /* not early */
		shim_clock_advance(1);
	}
	/* the last retry's second has passed: given up, frames dropped */
	KT_EXPECT(!fake_netdev_pop(f));
	KT_EXPECT_EQ(held - fake_net_in_use(), ARP_PENDING_MAX);
	KT_ASSERT(arp_entry_of(PEER_IP, &e));
	KT_EXPECT_EQ(e.state, ARP_FAILED);
	KT_EXPECT_EQ(send_to(PEER_IP, 1), -EHOSTUNREACH);      /* at once, no new request */
	KT_EXPECT(!fake_netdev_pop(f));
	arp_get_stats(&st1);
	KT_EXPECT_EQ(st1.failed - st0.failed, 1);
	KT_EXPECT_EQ(st1.queue_drops - st0.queue_drops, ARP_PENDING_MAX + 2);
	KT_EXPECT_EQ(st1.requests_tx - st0.requests_tx, ARP_TRIES);
	shim_clock_advance(ARP_FAIL_HOLD_NS);
	KT_EXPECT_EQ(send_to(PEER_IP, 1), 0);                  /* a new resolution */
	nb = fake_netdev_pop(f);
	KT_EXPECT(is_request_for(nb, PEER_IP, &mac_broadcast));
	nb_put(nb);
	arp_flush(); /* drops the frame and disarms the timer */
	KT_EXPECT(!arp_entry_of(PEER_IP, &e));
	NET_END();
}

KTEST(net_arp, entries_age_and_are_refreshed_while_used)
{
	NET_BEGIN(OUR_SPEC);
	struct arp_entry_info e;
	struct netbuf *nb;

	learn_peer(f);
	shim_clock_advance(ARP_REFRESH_NS);
	KT_EXPECT_EQ(send_to(PEER_IP, 1), 0);
	nb = fake_netdev_pop(f);                        /* the refresh, to the known MAC */
	KT_EXPECT(is_request_for(nb, PEER_IP, &peer_mac));
	nb_put(nb);
	nb = fake_netdev_pop(f);                        /* the frame did not wait */
	KT_EXPECT(nb && fr_type(nb) == ETH_P_IPV4 && fr_dst_mac_is(nb, &peer_mac));
	nb_put(nb);
	KT_EXPECT_EQ(send_to(PEER_IP, 2), 0);           /* one refresh per second at most */
	nb = fake_netdev_pop(f);
	KT_EXPECT(nb && fr_type(nb) == ETH_P_IPV4);
	nb_put(nb);
	inject_arp(f, ARP_OP_REPLY, &peer_mac, PEER_IP, OUR_IP);
	KT_EXPECT(arp_entry_of(PEER_IP, &e) && e.age_ns == 0);
	shim_clock_advance(ARP_TIMEOUT_NS);             /* unconfirmed for a minute: gone */
	KT_EXPECT(!arp_entry_of(PEER_IP, &e));
	KT_EXPECT_EQ(send_to(PEER_IP, 3), 0);
	nb = fake_netdev_pop(f);
	KT_EXPECT(is_request_for(nb, PEER_IP, &mac_broadcast));
	nb_put(nb);
	arp_flush();
	NET_END();
}

KTEST(net_arp, gratuitous_when_the_address_changes)
{
	NET_BEGIN(NULL);
	struct netbuf *nb;
	const u8 *a;

	KT_ASSERT_EQ(fake_netdev_set_ipv4(f, OUR_SPEC), 0);
	nb = fake_netdev_pop(f);
	KT_ASSERT(nb);
	a = fr_l3(nb);
	KT_EXPECT(fr_dst_mac_is(nb, &mac_broadcast));
	KT_EXPECT_EQ(get_be16(a + 6), ARP_OP_REQUEST);
	KT_EXPECT_EQ(get_be32(a + 14), OUR_IP);
	KT_EXPECT_EQ(get_be32(a + 24), OUR_IP);
	nb_put(nb);
	KT_ASSERT_EQ(fake_netdev_set_ipv4(f, OUR_SPEC), 0);    /* a renewal: quiet */
	KT_EXPECT(!fake_netdev_pop(f));
	NET_END();
}

KTEST(net_arp, someone_claiming_our_address_is_a_conflict)
{
	NET_BEGIN(OUR_SPEC);
	struct arp_stats s0, s1;
	struct arp_entry_info e;

	arp_get_stats(&s0);
	inject_arp(f, ARP_OP_REQUEST, &peer_mac, OUR_IP, OUR_IP);
	arp_get_stats(&s1);
	KT_EXPECT_EQ(s1.conflicts - s0.conflicts, 1);
	KT_EXPECT(!arp_entry_of(OUR_IP, &e));
	KT_EXPECT(!fake_netdev_pop(f));
	NET_END();
}

KTEST(net_arp, resolve_wait_answered)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP);
	struct mac_addr mac;

	fake_netdev_peer(f, PEER_IP, &peer_mac, false);
	f->peer_delay_ns = 300 * NS_MS;
	KT_EXPECT_EQ(arp_resolve_wait(&f->dev, &peer, &mac, 5 * NS_S), 0);
	KT_EXPECT(mac_eq(&mac, &peer_mac));
	KT_EXPECT_EQ(arp_resolve_wait(&f->dev, &peer, &mac, 5 * NS_S), 0); /* cached */
	NET_END();
}

KTEST(net_arp, resolve_wait_gives_up_after_the_retries)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP);
	struct mac_addr mac;
	u64 t0 = time_ns();

	KT_EXPECT_EQ(arp_resolve_wait(&f->dev, &peer, &mac, 10 * NS_S), -EHOSTUNREACH);
	KT_EXPECT_EQ(time_ns() - t0, ARP_TRIES * ARP_RETRY_NS);
	t0 = time_ns();
	KT_EXPECT_EQ(arp_resolve_wait(&f->dev, &peer, &mac, 10 * NS_S), -EHOSTUNREACH);
	KT_EXPECT_EQ(time_ns(), t0); /* known unreachable: at once */
	NET_END();
}

KTEST(net_arp, resolve_wait_timeout_and_interrupt)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP);
	struct mac_addr mac;

	KT_EXPECT_EQ(arp_resolve_wait(&f->dev, &peer, &mac, 1500 * NS_MS), -ETIMEDOUT);
	task_interrupt(shim_test_task());
	KT_EXPECT_EQ(arp_resolve_wait(&f->dev, &peer, &mac, 10 * NS_S), -EINTR);
	task_clear_interrupt();
	arp_flush();
	NET_END();
}

KTEST(net_arp, flush_drops_what_waits)
{
	NET_BEGIN(OUR_SPEC);
	struct arp_entry_info e;

	learn_peer(f);
	KT_EXPECT_EQ(send_to(0x0A000007, 1), 0);
	KT_EXPECT(arp_entry_of(PEER_IP, &e) && arp_entry_of(0x0A000007, &e));
	arp_flush();
	KT_EXPECT_EQ(arp_snapshot(&e, 1), 0);
	NET_END();
}
