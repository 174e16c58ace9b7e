/*
 * ip.c — IPv4 input and output (see ip.h; routing is in ip_route.c).
 *
 * Input trusts nothing in the header: every length is checked against the
 * frame before anything reads past the fixed 20 bytes, the checksum
 * before anything acts on a field, and the frame is trimmed to the total
 * length (Ethernet pads short frames; a transport must never see the
 * padding as payload).  Fragments are counted and dropped: nothing the
 * stack sends needs them (DF is always set, and DHCP, DNS and ICMP fit in
 * one frame), and reassembly is memory an attacker can fill; docs/net.md
 * says more.  The verdict on the destination:
 *
 *   unicast to the device's address, the limited broadcast or the subnet's
 *   broadcast                               -> delivered
 *   anything, while the device has no address (DHCP's offer comes to an
 *   address we do not have yet)              -> delivered
 *   someone else's address, multicast        -> dropped (we do not forward)
 *
 * and a source that can never be a sender (broadcast, multicast, loopback)
 * is a martian, dropped.  Then the protocol's handler; with none, ICMP
 * protocol unreachable (for a unicast to us) and a drop.
 *
 * The protocol table is written at start-up only (ip_register_proto) and
 * read without a lock.  Counters are atomic.  No lock is held anywhere in
 * this file: input runs in the NET_RX SoftIrq, output in any context.
 */
#include "net/ip.h"
#include "net/arp.h"
#include "net/eth.h"
#include "net/icmp.h"
#include "net/net_priv.h"
#include "net/netdev_driver.h"
#include "errno.h"
#include "kernel/time.h"
#include "lib/byteorder.h"

#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFSET_MASK 0x1fff

static ip_proto_handler protos[256];   /* [I] after start-up */
static struct ip_stats ipst;            /* [a] */
static u16 next_id;                     /* [a] */

#define STAT_INC(field) __atomic_fetch_add(&ipst.field, 1, __ATOMIC_RELAXED)

int ip_register_proto(u8 proto, ip_proto_handler fn)
{
	ip_proto_handler none = NULL;

	if (!__atomic_compare_exchange_n(&protos[proto], &none, fn, false, __ATOMIC_RELEASE,
					 __ATOMIC_RELAXED))
		return -EEXIST;
	return 0;
}

struct ip_addr ip_src(const struct netbuf *nb)
{
	return ip_v4(get_be32(&ip_hdr(nb)->src));
}

struct ip_addr ip_dst(const struct netbuf *nb)
{
	return ip_v4(get_be32(&ip_hdr(nb)->dst));
}

u32 ip_pseudo_sum(const struct ip_addr *src, const struct ip_addr *dst, u8 proto, u16 len)
{
	u8 ph[12];

	put_be32(ph, src->v4);
	put_be32(ph + 4, dst->v4);
	ph[8] = 0;
	ph[9] = proto;
	put_be16(ph + 10, len);
	return inet_csum_add(0, ph, sizeof(ph));
}

void ip_get_stats(struct ip_stats *out)
{
	net_stats_copy(out, &ipst, sizeof(*out));
}

/* -------------------------------------------------------------- input */

/*
 * The header at nb->data, checked: version 4, IHL >= 5, header and total
 * length within the frame, checksum.  Its length and the total length in
 * *@hlen, *@tlen; false when malformed.
 */
static bool ip_header_ok(const struct netbuf *nb, u32 *hlen, u32 *tlen)
{
	const struct ip_hdr *ih = (const struct ip_hdr *)nb->data;

	if (nb->len < IP_HLEN || ih->ver_ihl >> 4 != 4)
		return false;
	*hlen = (ih->ver_ihl & 0xf) * 4u;
	*tlen = get_be16(&ih->total_len);
	if (*hlen < IP_HLEN || *hlen > nb->len || *tlen < *hlen || *tlen > nb->len)
		return false;
	return inet_csum(ih, *hlen) == 0;
}

enum ip_verdict { IP_DELIVER, IP_NOT_OURS, IP_MARTIAN };

static enum ip_verdict ip_classify(struct netdev *dev, u32 src, u32 dst)
{
	struct netdev_ipv4 cfg;
	u32 mask, addr;

	if (src == IP_BROADCAST || ip_v4_is_multi(src) || ip_v4_is_loopback(src))
		return IP_MARTIAN;
	netdev_get_ipv4(dev, &cfg);
	if (!ip_is_v4(&cfg.addr))
		return ip_v4_is_multi(dst) && dst != IP_BROADCAST ? IP_NOT_OURS : IP_DELIVER;
	addr = cfg.addr.v4;
	mask = ip_v4_mask(cfg.prefix);
	if (dst == addr || dst == IP_BROADCAST || (cfg.prefix <= 30 && dst == (addr | ~mask)))
		return IP_DELIVER;
	return IP_NOT_OURS;
}

/* Is the packet at nb->data a fragment (more to come, or not the first)? */
static bool ip_is_fragment(const struct netbuf *nb)
{
	u16 frag = get_be16(&((const struct ip_hdr *)nb->data)->frag);

	return (frag & IP_MF) || (frag & IP_OFFSET_MASK);
}

static void ip_drop(struct netbuf *nb)
{
	netdev_count_drop(nb->dev, NP_IPV4);
	nb_put(nb);
}

void ip_input(struct netbuf *nb)
{
	const struct ip_hdr *ih = (const struct ip_hdr *)nb->data;
	ip_proto_handler fn;
	u32 hlen, tlen;

	if (!ip_header_ok(nb, &hlen, &tlen)) {
		STAT_INC(rx_hdr_errors);
		netdev_count_error(nb->dev, NP_IPV4);
		nb_put(nb);
		return;
	}
	nb_trim(nb, tlen);
	netdev_count_rx(nb->dev, NP_IPV4, tlen);
	if (ip_is_fragment(nb)) {
		STAT_INC(rx_frags);
		ip_drop(nb);
		return;
	}
	switch (ip_classify(nb->dev, get_be32(&ih->src), get_be32(&ih->dst))) {
	case IP_DELIVER:
		break;
	case IP_MARTIAN:
		STAT_INC(rx_martians);
		ip_drop(nb);
		return;
	default:
		STAT_INC(rx_not_ours);
		ip_drop(nb);
		return;
	}
	nb->l3_off = (u16)nb_headroom(nb);
	nb_pull(nb, hlen);
	fn = __atomic_load_n(&protos[ih->proto], __ATOMIC_ACQUIRE);
	if (!fn) {
		STAT_INC(rx_no_proto);
		icmp_send_unreach(nb, ICMP_UNREACH_PROTO);
		ip_drop(nb);
		return;
	}
	STAT_INC(rx_delivered);
	fn(nb);
}

/* ------------------------------------------------------------- output */

static void ip_fill(struct ip_hdr *ih, u32 len, u8 proto, u32 src, u32 dst)
{
	ih->ver_ihl = 0x45;
	ih->tos = 0;
	put_be16(&ih->total_len, (u16)len);
	put_be16(&ih->id, __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED));
	put_be16(&ih->frag, IP_DF);
	ih->ttl = IP_TTL_DEFAULT;
	ih->proto = proto;
	ih->csum = 0;
	put_be32(&ih->src, src);
	put_be32(&ih->dst, dst);
	put_be16(&ih->csum, inet_csum(ih, IP_HLEN));
}

/*
 * A packet to one of our own addresses: back into the device's input, as
 * if it had arrived (after the SoftIrq, never from inside this call, so
 * an answer does not recurse into its question).
 */
static int ip_loop(struct netdev *dev, struct netbuf *nb)
{
	struct eth_hdr *eh = nb_push(nb, ETH_HLEN);

	if (!eh) {
		nb_put(nb);
		return -EMSGSIZE;
	}
	eh->dst = dev->mac;
	eh->src = dev->mac;
	put_be16(&eh->type, ETH_P_IPV4);
	STAT_INC(tx_looped);
	netdev_rx(dev, nb);
	return 0;
}

static int ip_send(const struct ip_route *rt, struct netbuf *nb)
{
	STAT_INC(tx_packets);
	netdev_count_tx(rt->dev, NP_IPV4, nb->len);
	if (rt->local)
		return ip_loop(rt->dev, nb);
	if (rt->broadcast)
		return eth_output(rt->dev, &mac_broadcast, ETH_P_IPV4, nb);
	return arp_output(rt->dev, &rt->nexthop, nb);
}

/* A source the caller chose: 0.0.0.0 (no address yet) or one of ours. */
static bool ip_src_ok(const struct ip_addr *src)
{
	return ip_is_v4(src) && (src->v4 == 0 || ip_is_local(src));
}

static int ip_refuse(struct netbuf *nb, int rc)
{
	if (rc == -EMSGSIZE)
		STAT_INC(tx_too_big);
	else if (rc == -ENETUNREACH)
		STAT_INC(tx_no_route);
	else
		STAT_INC(tx_errors);
	nb_put(nb);
	return rc;
}

int ip_output(struct netdev *dev, const struct ip_addr *src, const struct ip_addr *dst, u8 proto,
	      struct netbuf *nb)
{
	struct ip_route rt;
	struct ip_hdr *ih;
	int rc;

	if (!ip_is_v4(dst))
		return ip_refuse(nb, -EINVAL);
	rc = dev ? ip_route_dev(dev, dst, &rt) : ip_route(dst, &rt);
	if (rc)
		return ip_refuse(nb, rc);
	if (src) {
		if (!ip_src_ok(src))
			return ip_refuse(nb, -EADDRNOTAVAIL);
		rt.src = *src;
	}
	if (nb->len + IP_HLEN > rt.dev->mtu)
		return ip_refuse(nb, -EMSGSIZE);
	nb = nb_unshare(nb);
	if (!nb) {
		STAT_INC(tx_errors);
		return -ENOBUFS;
	}
	ih = nb_push(nb, IP_HLEN);
	if (!ih)
		return ip_refuse(nb, -EMSGSIZE);
	ip_fill(ih, nb->len, proto, rt.src.v4, dst->v4);
	return ip_send(&rt, nb);
}

void ip_init(void)
{
	next_id = (u16)time_ns(); /* not 0 at every boot */
}
