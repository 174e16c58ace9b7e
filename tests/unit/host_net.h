/*
 * host_net.h — what the host tests of the network stack share
 * (host_net_*.c): the addresses of the test link, a test's frame (set up,
 * leak check), and readers for the frames the stack sent.
 *
 * The link: eth0 is 10.0.0.1/24 with gateway 10.0.0.254; the peer is
 * 10.0.0.2 at 02:00:00:00:aa:02.  NET_BEGIN(spec) resets eth0 (the ARP
 * cache too), configures it (NULL: no address) and notes the netbufs in
 * use; NET_END() resets it again and checks that the test held on to no
 * netbuf.  Host only.
 */
#ifndef NOS_HOST_NET_H
#define NOS_HOST_NET_H

#include "tests/unit/shim/fake_netdev.h"
#include "tests/unit/shim/shim.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "net/arp.h"
#include "net/eth.h"
#include "net/icmp.h"
#include "net/ip.h"

#define OUR_IP 0x0A000001u      /* 10.0.0.1 */
#define PEER_IP 0x0A000002u     /* 10.0.0.2 */
#define GW_IP 0x0A0000FEu       /* 10.0.0.254 */
#define OUR_SPEC "10.0.0.1/24,10.0.0.254"
#define NS_MS 1000000ull
#define NS_S 1000000000ull

static const struct mac_addr peer_mac = { { 0x02, 0, 0, 0, 0xaa, 0x02 } };

static inline struct fake_netdev *net_begin(struct ktest_ctx *kt, const char *spec)
{
	struct fake_netdev *f = fake_netdev_get(0);

	fake_netdev_reset(f);
	if (spec && fake_netdev_set_ipv4(f, spec)) {
		KT_EXPECT(!"bad address spec");
		return NULL;
	}
	fake_netdev_clear(f);
	return f;
}

static inline void net_end(struct ktest_ctx *kt, struct fake_netdev *f, u32 before)
{
	fake_netdev_reset(f);
	KT_EXPECT_EQ(fake_net_in_use(), before);
}

#define NET_BEGIN(spec)                                                        \
	struct fake_netdev *f = net_begin(kt, (spec));                         \
	u32 nb_before = fake_net_in_use();                                     \
	if (!f)                                                                \
		return

#define NET_END() net_end(kt, f, nb_before)

/* Tell the stack who the peer is (an ARP request from it, for us), forgetting the reply. */
static inline void learn_peer(struct fake_netdev *f)
{
	u8 fr[FAKE_FRAME_MAX];
	u32 n = fake_frame_arp(fr, &mac_broadcast, ARP_OP_REQUEST, &peer_mac, PEER_IP, &mac_zero,
			       OUR_IP);

	fake_netdev_inject(f, fr, n);
	fake_netdev_clear(f);
}

/*
 * @n bytes of frame @fr as ip_input() hands them to a protocol: received
 * on @f, data at the transport header, l3_off at the IP header (20 bytes).
 */
static inline struct netbuf *as_delivered(struct fake_netdev *f, const u8 *fr, u32 n)
{
	struct netbuf *nb = nb_alloc(32);

	nb_append_bytes(nb, fr, n);
	nb->dev = &f->dev;
	nb_pull(nb, ETH_HLEN);
	nb->l3_off = (u16)nb_headroom(nb);
	nb_pull(nb, IP_HLEN);
	return nb;
}

/* Pointers into a frame the stack sent (data at the Ethernet header). */
static inline u16 fr_type(const struct netbuf *nb)
{
	return get_be16(nb->data + 12);
}

static inline const u8 *fr_l3(const struct netbuf *nb)
{
	return nb->data + ETH_HLEN;
}

static inline const u8 *fr_l4(const struct netbuf *nb)
{
	return fr_l3(nb) + (fr_l3(nb)[0] & 0xf) * 4;
}

/* The IP total length of a sent frame's packet, and its transport payload length. */
static inline u32 fr_l4_len(const struct netbuf *nb)
{
	return get_be16(fr_l3(nb) + 2) - (fr_l3(nb)[0] & 0xf) * 4u;
}

static inline bool fr_dst_mac_is(const struct netbuf *nb, const struct mac_addr *m)
{
	return memcmp(nb->data, m->b, MAC_LEN) == 0;
}

/* The stack's device counters for @p on eth0 (rx side). */
static inline struct net_counters proto_rx(struct fake_netdev *f, enum net_proto p)
{
	return f->dev.stats.proto_rx[p];
}

/* The ARP entry for @ip, into *@out: false when there is none. */
static inline bool arp_entry_of(u32 ip, struct arp_entry_info *out)
{
	struct arp_entry_info all[ARP_CACHE_SIZE];
	unsigned n = arp_snapshot(all, ARP_CACHE_SIZE);

	for (unsigned i = 0; i < n && i < ARP_CACHE_SIZE; i++)
		if (all[i].ip.v4 == ip) {
			*out = all[i];
			return true;
		}
	return false;
}

#endif
