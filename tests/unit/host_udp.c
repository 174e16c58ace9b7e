/*
 * host_udp.c — UDP (net/udp.c, the real file) on the host, through the
 * fake netdev and the real IPv4 below it.
 *
 * The bind table: ports in use refused, ephemeral ports unique and in
 * range, unbind frees the port.  Input: the queue form (its bound, its
 * timeout and Ctrl-C in simulated time, what udp_meta says), the handler
 * form (called in SoftIrq context, even closing its own socket), checksum
 * verification (0 means none), length checks and trimming, ICMP port
 * unreachable for a closed port but never for a broadcast.  Output: the
 * header, the checksum (0 goes out as 0xffff), broadcast from 0.0.0.0,
 * loopback to ourselves, the size limit.  Every test ends holding no
 * netbuf and no socket.
 */
#include "tests/unit/host_udp.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/time.h"

#define PORT 5000

static struct udp_stats ustats(void)
{
	struct udp_stats s;

	udp_get_stats(&s);
	return s;
}

static const u8 hello[5] = { 'h', 'e', 'l', 'l', 'o' };

KTEST(udp, bind_table)
{
	struct udp_sock *a, *b, *eph[200];
	unsigned socks = ustats().sockets;

	KT_ASSERT_EQ(udp_open(PORT, 0, &a), 0);
	KT_EXPECT_EQ(udp_port(a), PORT);
	KT_EXPECT_EQ(udp_open(PORT, 0, &b), -EADDRINUSE);
	KT_EXPECT_EQ(udp_bind(PORT, NULL, NULL, &b), -EINVAL);
	KT_EXPECT_EQ(ustats().sockets, socks + 1);
	udp_close(a);
	KT_ASSERT_EQ(udp_open(PORT, 0, &a), 0);
	udp_close(a);
	for (unsigned i = 0; i < ARRAY_SIZE(eph); i++) {
		KT_ASSERT_EQ(udp_open(0, 0, &eph[i]), 0);
		KT_EXPECT(udp_port(eph[i]) >= UDP_EPHEMERAL_MIN);
		for (unsigned j = 0; j < i; j++)
			KT_EXPECT(udp_port(eph[j]) != udp_port(eph[i]));
	}
	/* Not all from one place: the search starts at random. */
	KT_EXPECT(udp_port(eph[1]) != udp_port(eph[0]) + 1 || udp_port(eph[2]) != udp_port(eph[1]) + 1);
	for (unsigned i = 0; i < ARRAY_SIZE(eph); i++)
		udp_close(eph[i]);
	KT_EXPECT_EQ(ustats().sockets, socks);
	udp_close(NULL);
}

KTEST(udp, queue_delivers_with_meta)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	struct netbuf *nb;
	struct udp_meta m;
	struct udp_sock_stats st;
	u64 rx = proto_rx(f, NP_UDP).packets;

	KT_ASSERT_EQ(udp_open(PORT, 4, &s), 0);
	KT_ASSERT_EQ(tu_inject(f, PEER_IP, 1234, OUR_IP, PORT, hello, sizeof(hello)), 0);
	KT_ASSERT_EQ(udp_recv(s, &nb, &m, NS_S), 0);
	KT_EXPECT_EQ(nb->len, sizeof(hello));
	KT_EXPECT(!memcmp(nb->data, hello, sizeof(hello)));
	KT_EXPECT(m.dev == &f->dev);
	KT_EXPECT_EQ(m.src.v4, PEER_IP);
	KT_EXPECT_EQ(m.dst.v4, OUR_IP);
	KT_EXPECT_EQ(m.sport, 1234);
	KT_EXPECT_EQ(m.dport, PORT);
	nb_put(nb);
	udp_sock_get_stats(s, &st);
	KT_EXPECT_EQ(st.rx, 1);
	KT_EXPECT_EQ(st.rx_bytes, sizeof(hello));
	KT_EXPECT_EQ(proto_rx(f, NP_UDP).packets, rx + 1);
	udp_close(s);
	NET_END();
}

KTEST(udp, queue_is_bounded_and_close_frees_it)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	struct netbuf *nb;
	struct udp_sock_stats st;
	u64 full = ustats().queue_full, drops = proto_rx(f, NP_UDP).drops;

	KT_ASSERT_EQ(udp_open(PORT, 4, &s), 0);
	for (int i = 0; i < 7; i++)
		KT_ASSERT_EQ(tu_inject(f, PEER_IP, 1234, OUR_IP, PORT, hello, sizeof(hello)), 0);
	udp_sock_get_stats(s, &st);
	KT_EXPECT_EQ(st.queued, 4);
	KT_EXPECT_EQ(st.drops, 3);
	KT_EXPECT_EQ(ustats().queue_full, full + 3);
	KT_EXPECT_EQ(proto_rx(f, NP_UDP).drops, drops + 3);
	KT_ASSERT_EQ(udp_recv(s, &nb, NULL, NS_S), 0);
	nb_put(nb);
	udp_close(s); /* three still queued: freed here */
	NET_END();
}

KTEST(udp, recv_times_out_in_simulated_time)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	struct netbuf *nb;
	u64 t0 = time_ns();

	KT_ASSERT_EQ(udp_open(PORT, 0, &s), 0);
	KT_EXPECT_EQ(udp_recv(s, &nb, NULL, 2 * NS_S), -ETIMEDOUT);
	KT_EXPECT(time_ns() - t0 >= 2 * NS_S);
	udp_close(s);
	NET_END();
}

static void interrupt_test(struct ktimer *t, void *arg)
{
	task_interrupt(shim_test_task());
}

static void inject_later(struct ktimer *t, void *arg)
{
	tu_inject(arg, PEER_IP, 1234, OUR_IP, PORT, hello, sizeof(hello));
}

KTEST(udp, recv_waits_for_data_and_stops_on_ctrl_c)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	struct netbuf *nb = NULL;
	struct ktimer t;
	u64 t0 = time_ns();

	KT_ASSERT_EQ(udp_open(PORT, 0, &s), 0);
	ktimer_init(&t, inject_later, f);
	ktimer_start(&t, 300 * NS_MS, 0);
	KT_EXPECT_EQ(udp_recv(s, &nb, NULL, 0), 0); /* no limit: woken by the datagram */
	KT_EXPECT(time_ns() - t0 >= 300 * NS_MS);
	nb_put(nb);
	ktimer_init(&t, interrupt_test, NULL);
	ktimer_start(&t, 500 * NS_MS, 0);
	KT_EXPECT_EQ(udp_recv(s, &nb, NULL, 0), -EINTR);
	task_clear_interrupt();
	udp_close(s);
	NET_END();
}

static struct {
	unsigned calls;
	enum shim_ctx ctx;
	u32 len;
	u16 sport;
	struct udp_sock *self;
	bool close_self;
} h;

static void handler(void *arg, struct netbuf *nb, const struct udp_meta *from)
{
	h.calls++;
	h.ctx = shim_context();
	h.len = nb->len;
	h.sport = from->sport;
	nb_put(nb);
	if (h.close_self) {
		udp_close(h.self);
		h.self = NULL;
	}
}

KTEST(udp, handler_runs_in_softirq_and_may_close_itself)
{
	NET_BEGIN(OUR_SPEC);

	learn_peer(f); /* the port unreachable at the end needs no ARP */
	memset(&h, 0, sizeof(h));
	KT_ASSERT_EQ(udp_bind(PORT, handler, NULL, &h.self), 0);
	KT_ASSERT_EQ(tu_inject(f, PEER_IP, 777, OUR_IP, PORT, hello, sizeof(hello)), 0);
	KT_EXPECT_EQ(h.calls, 1);
	KT_EXPECT_EQ(h.ctx, SHIM_CTX_SOFTIRQ);
	KT_EXPECT_EQ(h.len, sizeof(hello));
	KT_EXPECT_EQ(h.sport, 777);
	h.close_self = true;
	KT_ASSERT_EQ(tu_inject(f, PEER_IP, 777, OUR_IP, PORT, hello, sizeof(hello)), 0);
	KT_EXPECT_EQ(h.calls, 2);
	KT_EXPECT(h.self == NULL);
	/* The port is free again: the next datagram gets a port unreachable. */
	fake_netdev_clear(f);
	KT_ASSERT_EQ(tu_inject(f, PEER_IP, 777, OUR_IP, PORT, hello, sizeof(hello)), 0);
	KT_EXPECT_EQ(h.calls, 2);
	NET_END();
}

KTEST(udp, checksums_verified_zero_means_none)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	struct udp_sock_stats st;
	u8 fr[FAKE_FRAME_MAX];
	u64 bad = ustats().bad_csum, errors = proto_rx(f, NP_UDP).errors;
	u32 n;

	KT_ASSERT_EQ(udp_open(PORT, 8, &s), 0);
	n = tu_frame(fr, f, &peer_mac, PEER_IP, 1, OUR_IP, PORT, hello, sizeof(hello), false);
	fake_netdev_inject(f, fr, n); /* no checksum: accepted */
	n = tu_frame(fr, f, &peer_mac, PEER_IP, 1, OUR_IP, PORT, hello, sizeof(hello), true);
	fr[n - 1] ^= 0x40; /* the payload changed after the checksum was made */
	fake_netdev_inject(f, fr, n);
	n = tu_frame(fr, f, &peer_mac, PEER_IP, 1, OUR_IP, PORT, hello, sizeof(hello), true);
	fr[ETH_HLEN + IP_HLEN + 7] ^= 1; /* the checksum itself */
	fake_netdev_inject(f, fr, n);
	udp_sock_get_stats(s, &st);
	KT_EXPECT_EQ(st.rx, 1);
	KT_EXPECT_EQ(ustats().bad_csum, bad + 2);
	KT_EXPECT_EQ(proto_rx(f, NP_UDP).errors, errors + 2);
	udp_close(s);
	NET_END();
}

/* A datagram whose UDP length field says @ulen (checksum off), @len payload bytes carried. */
static void inject_ulen(struct fake_netdev *f, u16 ulen, u32 len)
{
	u8 fr[FAKE_FRAME_MAX], pay[64] = { 0 };
	u32 n = tu_frame(fr, f, &peer_mac, PEER_IP, 1, OUR_IP, PORT, pay, len, false);

	put_be16(fr + ETH_HLEN + IP_HLEN + 4, ulen);
	fake_netdev_inject(f, fr, n);
}

KTEST(udp, lengths_checked_and_trimmed)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	struct netbuf *nb;
	u64 bad = ustats().bad_len;
	u8 fr[FAKE_FRAME_MAX];
	u32 n;

	KT_ASSERT_EQ(udp_open(PORT, 8, &s), 0);
	inject_ulen(f, 7, 10);       /* shorter than the header */
	inject_ulen(f, 8 + 11, 10);  /* longer than the packet */
	KT_EXPECT_EQ(ustats().bad_len, bad + 2);
	inject_ulen(f, 8 + 3, 10);   /* shorter than the packet: trimmed to 3 */
	KT_ASSERT_EQ(udp_recv(s, &nb, NULL, NS_S), 0);
	KT_EXPECT_EQ(nb->len, 3);
	nb_put(nb);
	/* An IP packet too short for a UDP header at all. */
	n = fake_frame_ipv4(fr, &f->dev.mac, &peer_mac, PEER_IP, OUR_IP, IP_PROTO_UDP, hello, 5);
	fake_netdev_inject(f, fr, n);
	KT_EXPECT_EQ(ustats().bad_len, bad + 3);
	udp_close(s);
	NET_END();
}

KTEST(udp, closed_port_is_unreachable_but_not_for_broadcasts)
{
	NET_BEGIN(OUR_SPEC);
	struct netbuf *nb;
	u64 no_port = ustats().no_port;
	unsigned unreach = 0;
	u8 fr[FAKE_FRAME_MAX];
	u32 n;

	shim_clock_advance(NS_S); /* a fresh second of ICMP's error rate limit */
	learn_peer(f);
	KT_ASSERT_EQ(tu_inject(f, PEER_IP, 1, OUR_IP, 5999, hello, sizeof(hello)), 0);
	while ((nb = fake_netdev_pop(f))) {
		const u8 *icmp = fr_l4(nb);

		if (fr_type(nb) == ETH_P_IPV4 && fr_l3(nb)[9] == IP_PROTO_ICMP &&
		    icmp[0] == ICMP_DEST_UNREACH && icmp[1] == ICMP_UNREACH_PORT &&
		    get_be32(fr_l3(nb) + 16) == PEER_IP)
			unreach++;
		nb_put(nb);
	}
	KT_EXPECT_EQ(unreach, 1);
	KT_EXPECT_EQ(ustats().no_port, no_port + 1);
	/* To the broadcast: counted, never answered. */
	n = tu_frame(fr, f, &peer_mac, PEER_IP, 1, IP_BROADCAST, 5999, hello, sizeof(hello), true);
	memset(fr, 0xff, MAC_LEN);
	fake_netdev_inject(f, fr, n);
	KT_EXPECT(fake_netdev_pop(f) == NULL);
	KT_EXPECT_EQ(ustats().no_port, no_port + 2);
	NET_END();
}

KTEST(udp, send_header_and_checksum)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	struct tu_sent out;
	u64 tx = ustats().tx, dev_tx = f->dev.stats.proto_tx[NP_UDP].packets;

	learn_peer(f);
	KT_ASSERT_EQ(udp_open(PORT, 0, &s), 0);
	KT_ASSERT_EQ(udp_sendto_bytes(s, &(struct ip_addr){ .family = IP_V4, .v4 = PEER_IP }, 53,
				      hello, sizeof(hello)), 0);
	KT_ASSERT(tu_pop(f, 53, &out));
	KT_EXPECT(mac_eq(&out.eth_dst, &peer_mac));
	KT_EXPECT_EQ(out.src, OUR_IP);
	KT_EXPECT_EQ(out.dst, PEER_IP);
	KT_EXPECT_EQ(out.sport, PORT);
	KT_EXPECT_EQ(out.len, sizeof(hello));
	KT_EXPECT(out.csum != 0 && out.csum_ok);
	KT_EXPECT(!memcmp(out.data, hello, sizeof(hello)));
	KT_EXPECT_EQ(ustats().tx, tx + 1);
	KT_EXPECT_EQ(f->dev.stats.proto_tx[NP_UDP].packets, dev_tx + 1);
	KT_EXPECT_EQ(udp_sendto_bytes(s, &(struct ip_addr){ .family = IP_V4, .v4 = PEER_IP }, 53,
				      hello, UDP_PAYLOAD_MAX + 1), -EMSGSIZE);
	udp_close(s);
	NET_END();
}

/* A two-byte payload whose checksum computes to 0: it must go out as 0xffff. */
KTEST(udp, a_zero_checksum_is_sent_as_ffff)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	struct tu_sent out;
	u8 udp[UDP_HLEN + 2];
	bool found = false;

	learn_peer(f);
	KT_ASSERT_EQ(udp_open(PORT, 0, &s), 0);
	put_be16(udp, PORT);
	put_be16(udp + 2, 9);
	put_be16(udp + 4, sizeof(udp));
	put_be16(udp + 6, 0);
	for (u32 v = 0; v <= 0xffff && !found; v++) {
		put_be16(udp + UDP_HLEN, (u16)v);
		found = tu_csum(OUR_IP, PEER_IP, udp, sizeof(udp)) == 0;
	}
	KT_ASSERT(found);
	KT_ASSERT_EQ(udp_sendto_bytes(s, &(struct ip_addr){ .family = IP_V4, .v4 = PEER_IP }, 9,
				      udp + UDP_HLEN, 2), 0);
	KT_ASSERT(tu_pop(f, 9, &out));
	KT_EXPECT_EQ(out.csum, 0xffff);
	KT_EXPECT(out.csum_ok);
	udp_close(s);
	NET_END();
}

KTEST(udp, broadcast_from_nowhere_and_loopback)
{
	NET_BEGIN(NULL);
	struct ip_addr zero = ip_v4(0), bcast = ip_v4(IP_BROADCAST), self = ip_v4(OUR_IP);
	struct udp_sock *s;
	struct tu_sent out;
	struct netbuf *nb;
	struct udp_meta m;

	/* Before the device has an address: 0.0.0.0 to 255.255.255.255, as DHCP sends. */
	nb = nb_alloc_tx();
	KT_ASSERT(nb && !nb_append_bytes(nb, hello, sizeof(hello)));
	KT_ASSERT_EQ(udp_output(&f->dev, &zero, 68, &bcast, 67, nb), 0);
	KT_ASSERT(tu_pop(f, 67, &out));
	KT_EXPECT(mac_eq(&out.eth_dst, &mac_broadcast));
	KT_EXPECT_EQ(out.src, 0);
	KT_EXPECT_EQ(out.dst, IP_BROADCAST);
	KT_EXPECT(out.csum_ok);
	/* To ourselves: back up through the device's input. */
	KT_ASSERT_EQ(fake_netdev_set_ipv4(f, OUR_SPEC), 0);
	fake_netdev_clear(f);
	KT_ASSERT_EQ(udp_open(PORT, 0, &s), 0);
	KT_ASSERT_EQ(udp_sendto_bytes(s, &self, PORT, hello, sizeof(hello)), 0);
	fake_net_run();
	KT_ASSERT_EQ(udp_recv(s, &nb, &m, NS_S), 0);
	KT_EXPECT_EQ(m.src.v4, OUR_IP);
	KT_EXPECT_EQ(m.sport, PORT);
	KT_EXPECT_EQ(nb->len, sizeof(hello));
	nb_put(nb);
	udp_close(s);
	NET_END();
}

KTEST(udp, random_datagrams_leave_nothing_behind)
{
	NET_BEGIN(OUR_SPEC);
	struct udp_sock *s;
	u8 fr[FAKE_FRAME_MAX], pay[200];

	KT_ASSERT_EQ(udp_open(PORT, 16, &s), 0);
	for (int i = 0; i < 3000; i++) {
		u32 len = (u32)(ktest_rand(kt) % sizeof(pay)), n;

		for (u32 j = 0; j < len; j++)
			pay[j] = (u8)ktest_rand(kt);
		n = tu_frame(fr, f, &peer_mac, PEER_IP, 1, OUR_IP, (u16)(PORT + i % 2), pay, len,
			     i % 3 != 0);
		if (i % 5 == 0) /* a random length field */
			put_be16(fr + ETH_HLEN + IP_HLEN + 4, (u16)ktest_rand(kt));
		if (i % 7 == 0) /* a random checksum */
			put_be16(fr + ETH_HLEN + IP_HLEN + 6, (u16)ktest_rand(kt));
		fake_netdev_inject(f, fr, n);
		fake_netdev_clear(f);
	}
	udp_close(s);
	NET_END();
}
