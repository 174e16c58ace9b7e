/*
 * fuzz_net_input.c — the receive path of the network stack from the
 * driver up (net/netdev.c, eth.c, arp*.c, ip.c, icmp.c, udp.c, tcp*.c)
 * on a stream of arbitrary Ethernet frames, and what it sends back.
 *
 * Per input, from nothing: eth0 is 10.0.0.1/24 (NET_BEGIN()), a UDP
 * handler socket is bound on UDP_HANDLER_PORT (it frees what it gets, so
 * delivery to a handler runs), a queue socket of UDP_QLEN datagrams on
 * UDP_QUEUE_PORT (never read, so it fills and then drops), and a TCP
 * listener on TCP_PORT (a SYN gets a SYN-ACK and a half-open child).  The
 * frames are injected one by one through fake_netdev_inject() — a
 * netbuf handed to netdev_rx() and the NET_RX SoftIrq, as virtio-net
 * does — and every frame the stack sent in answer is popped and checked.
 * At the end the clock runs ~3 s (ARP retries, SYN-ACK retransmission),
 * the sockets and the listener are closed (the half-open children are
 * reset), and NET_END() requires every netbuf back; the runner requires
 * no memory, timer or lock left, like a unit test.
 *
 * Input layout:
 *   byte 0     set-up flags: bit 0 the ARP cache already knows the peer
 *              (10.0.0.2 at peer_mac, learn_peer()); bit 1 the fake plays
 *              the peer (answers ARP for it, so packets queued on ARP go
 *              out)
 *   then, per frame (at most MAX_FRAMES, until the input ends):
 *     ctl      bit 0 destination MAC := eth0's;
 *              bit 1 the destination address := 10.0.0.1 (IPv4 dst, ARP
 *                    target protocol address);
 *              bit 2 the source address := the peer's (IPv4 src, ARP
 *                    sender protocol address), source MAC := peer_mac;
 *              bit 3 leave the checksums as they are (else the IPv4
 *                    header's and, for a first fragment, ICMP's, UDP's
 *                    or TCP's are made right);
 *              bits 4-7 the clock moves (value * 50 ms) before the frame
 *     len      2 bytes, big endian: the frame's length, cut to what is
 *              left of the input and to FAKE_FRAME_MAX
 *     frame    len bytes, from the Ethernet header
 *
 * What the stack sends must be well formed, whatever it was sent: at
 * most MTU + 14 bytes, from eth0's MAC; IPv4 with a right header checksum,
 * a total length inside the frame, from 10.0.0.1, and a right TCP, UDP or
 * ICMP checksum; ARP from eth0's MAC and address.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_tcp_peer.h"
#include "tests/unit/host_udp.h"
#include "errno.h"
#include "kernel/time.h"
#include "net/udp.h"

#define MAX_FRAMES 32
#define UDP_HANDLER_PORT 7
#define UDP_QUEUE_PORT 5353
#define UDP_QLEN 4
#define TCP_PORT 80
#define ARP_TPA_OFF 24          /* in the ARP packet: the target protocol address */
#define ARP_SPA_OFF 14
#define ARP_SHA_OFF 8

enum {
	F_DST_MAC = 1 << 0,
	F_DST_IP = 1 << 1,
	F_SRC_PEER = 1 << 2,
	F_RAW_CSUM = 1 << 3,
};

static void udp_sink(void *arg, struct netbuf *nb, const struct udp_meta *from)
{
	(*(unsigned *)arg)++;
	nb_put(nb);
}

/* ------------------------------------------------------- the rewrites */

/* The IPv4 packet at @ip (@n bytes): its header length, when it fits, else 0. */
static u32 ip_hlen(const u8 *ip, u32 n)
{
	u32 hl = (ip[0] & 0xfu) * 4u;

	return n >= IP_HLEN && hl >= IP_HLEN && hl <= n ? hl : 0;
}

/* Make the transport checksum of the packet at @ip right (first fragments only). */
static void fix_l4_sum(u8 *ip, u32 hl, u32 n)
{
	u32 tl = MIN((u32)get_be16(ip + 2), n), src = get_be32(ip + 12), dst = get_be32(ip + 16);
	u8 *l4 = ip + hl;
	u32 len;
	u16 sum;

	if (tl <= hl || (get_be16(ip + 6) & 0x1fff))
		return;
	len = tl - hl;
	if (ip[9] == IP_PROTO_ICMP && len >= 4) {
		put_be16(l4 + 2, 0);
		put_be16(l4 + 2, inet_csum(l4, len));
	} else if (ip[9] == IP_PROTO_UDP && len >= UDP_HLEN) {
		put_be16(l4 + 6, 0);
		sum = tu_csum(src, dst, l4, len);
		put_be16(l4 + 6, sum ? sum : 0xffff);
	} else if (ip[9] == IP_PROTO_TCP && len >= 18) {
		put_be16(l4 + 16, 0);
		put_be16(l4 + 16, tp_tcp_sum(src, dst, l4, len));
	}
}

static void rewrite_ipv4(u8 *ip, u32 n, u8 ctl)
{
	u32 hl = ip_hlen(ip, n);

	if (!hl)
		return;
	if (ctl & F_DST_IP)
		put_be32(ip + 16, OUR_IP);
	if (ctl & F_SRC_PEER)
		put_be32(ip + 12, PEER_IP);
	if (ctl & F_RAW_CSUM)
		return;
	fix_l4_sum(ip, hl, n);
	put_be16(ip + 10, 0);
	put_be16(ip + 10, inet_csum(ip, hl));
}

static void rewrite_arp(u8 *arp, u32 n, u8 ctl)
{
	if (n < ARP_TPA_OFF + 4)
		return;
	if (ctl & F_DST_IP)
		put_be32(arp + ARP_TPA_OFF, OUR_IP);
	if (ctl & F_SRC_PEER) {
		memcpy(arp + ARP_SHA_OFF, peer_mac.b, MAC_LEN);
		put_be32(arp + ARP_SPA_OFF, PEER_IP);
	}
}

/* The frame @fr (@n bytes) rewritten as @ctl says (see the top). */
static void rewrite(struct fake_netdev *f, u8 *fr, u32 n, u8 ctl)
{
	if (n < ETH_HLEN)
		return;
	if (ctl & F_DST_MAC)
		memcpy(fr, f->dev.mac.b, MAC_LEN);
	if (ctl & F_SRC_PEER)
		memcpy(fr + 6, peer_mac.b, MAC_LEN);
	if (get_be16(fr + 12) == ETH_P_IPV4)
		rewrite_ipv4(fr + ETH_HLEN, n - ETH_HLEN, ctl);
	else if (get_be16(fr + 12) == ETH_P_ARP)
		rewrite_arp(fr + ETH_HLEN, n - ETH_HLEN, ctl);
}

/* ---------------------------------------------------- what went out */

static void check_ipv4_out(struct ktest_ctx *kt, const u8 *ip, u32 n)
{
	u32 hl = ip_hlen(ip, n), tl, len;
	const u8 *l4;

	KT_ASSERT(hl && (ip[0] >> 4) == 4);
	KT_EXPECT_EQ(inet_csum(ip, hl), 0);
	KT_EXPECT_EQ(get_be32(ip + 12), OUR_IP);
	tl = get_be16(ip + 2);
	KT_ASSERT(tl >= hl && tl <= n);
	l4 = ip + hl;
	len = tl - hl;
	if (ip[9] == IP_PROTO_TCP) {
		KT_ASSERT(len >= TCP_HLEN);
		KT_EXPECT_EQ(tp_tcp_sum(OUR_IP, get_be32(ip + 16), l4, len), 0);
	} else if (ip[9] == IP_PROTO_UDP) {
		KT_ASSERT(len >= UDP_HLEN);
		KT_EXPECT(get_be16(l4 + 6) == 0 || tu_csum(OUR_IP, get_be32(ip + 16), l4, len) == 0);
	} else if (ip[9] == IP_PROTO_ICMP) {
		KT_ASSERT(len >= ICMP_HLEN);
		KT_EXPECT_EQ(inet_csum(l4, len), 0);
	}
}

/* Pop and check everything the stack sent since the last call. */
static void check_sent(struct ktest_ctx *kt, struct fake_netdev *f)
{
	struct netbuf *nb;

	while ((nb = fake_netdev_pop(f))) {
		const u8 *fr = nb->data;
		u32 n = nb->len;

		KT_EXPECT(n >= ETH_HLEN && n <= netdev_mtu(&f->dev) + ETH_HLEN);
		if (n >= ETH_HLEN) {
			KT_EXPECT(!memcmp(fr + 6, f->dev.mac.b, MAC_LEN));
			if (get_be16(fr + 12) == ETH_P_IPV4) {
				check_ipv4_out(kt, fr + ETH_HLEN, n - ETH_HLEN);
			} else {
				KT_EXPECT_EQ(get_be16(fr + 12), ETH_P_ARP);
				KT_EXPECT(n >= ETH_HLEN + 28 &&
					  !memcmp(fr + ETH_HLEN + ARP_SHA_OFF, f->dev.mac.b, MAC_LEN) &&
					  get_be32(fr + ETH_HLEN + ARP_SPA_OFF) == OUR_IP);
			}
		}
		nb_put(nb);
	}
}

/* --------------------------------------------------------- the input */

/* Feed every frame of the input (after byte 0). */
static void feed(struct ktest_ctx *kt, struct fake_netdev *f)
{
	static u8 fr[FAKE_FRAME_MAX];
	size_t at = 1;

	for (unsigned i = 0; i < MAX_FRAMES && at + 3 <= fuzz_size; i++) {
		u8 ctl = fuzz_data[at];
		u32 n = get_be16(fuzz_data + at + 1);

		at += 3;
		n = (u32)MIN((size_t)n, fuzz_size - at);
		n = MIN(n, (u32)FAKE_FRAME_MAX);
		memcpy(fr, fuzz_data + at, n);
		at += n;
		if (ctl >> 4)
			shim_clock_advance((ctl >> 4) * 50 * NS_MS);
		check_sent(kt, f);
		rewrite(f, fr, n, ctl);
		KT_EXPECT_EQ(fake_netdev_inject(f, fr, n), 0);
		check_sent(kt, f);
	}
}

KTEST(fuzz, net_input)
{
	NET_BEGIN(OUR_SPEC);
	u8 setup = fuzz_size ? fuzz_data[0] : 0;
	struct udp_sock *hs = NULL, *qs = NULL;
	struct tcp_listener *l = NULL;
	struct tcp_stats st;
	unsigned handled = 0;

	tcp_init(); /* TCP's SoftIrq handler back, as tp_begin() does */
	if (setup & 1)
		learn_peer(f);
	if (setup & 2)
		fake_netdev_peer(f, PEER_IP, &peer_mac, false);
	KT_ASSERT_EQ(udp_bind(UDP_HANDLER_PORT, udp_sink, &handled, &hs), 0);
	KT_EXPECT_EQ(udp_open(UDP_QUEUE_PORT, UDP_QLEN, &qs), 0);
	KT_EXPECT_EQ(tcp_listen(TCP_PORT, 4, &l), 0);
	feed(kt, f);
	shim_clock_advance(3 * NS_S);
	check_sent(kt, f);
	tcp_listener_close(l);
	udp_close(qs);
	udp_close(hs);
	tcp_test_flush();
	fake_net_run();
	check_sent(kt, f);
	tcp_get_stats(&st);
	KT_EXPECT(st.conns == 0 && st.listeners == 0);
	NET_END();
}
