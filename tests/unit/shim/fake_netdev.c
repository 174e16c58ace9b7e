/*
 * fake_netdev.c — the recording network driver of host unit tests (see
 * fake_netdev.h).
 *
 * xmit takes every frame off the device's transmit queue, completes it
 * with netdev_tx_done() (so the device counters move as with a real NIC)
 * while keeping a reference of its own in `sent`, and shows it to the
 * peer.  The peer's answers are injected with netdev_rx() from where xmit
 * runs (they are processed by the next NET_RX SoftIrq, never inside the
 * sender's call), or queued and delivered by a one-shot ktimer when a
 * delay is set.  poll has nothing to do: frames come only from the test.
 */
#include "tests/unit/shim/fake_netdev.h"
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "kernel/panic.h"
#include "kernel/x86.h"
#include "lib/byteorder.h"
#include "lib/string.h"
#include "net/arp.h"
#include "net/eth.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/net.h"

static struct fake_netdev fakes[FAKE_NETDEV_MAX];
static bool made;

struct mac_addr fake_netdev_mac(unsigned i)
{
	struct mac_addr m = { { 0x02, 0, 0, 0, 0, (u8)(i + 1) } };

	return m;
}

/* ---------------------------------------------------------- the peer */

static void peer_deliver(struct fake_netdev *f, struct netbuf *nb)
{
	f->peer_answers++;
	if (!f->peer_delay_ns) {
		netdev_rx(&f->dev, nb);
		return;
	}
	nb->tsc = 0; /* stamped on arrival */
	list_add_tail(&nb->link, &f->delayed);
	ktimer_start(&f->delay_timer, f->peer_delay_ns, 0);
}

static void peer_timer(struct ktimer *t, void *arg)
{
	struct fake_netdev *f = arg;

	while (!list_empty(&f->delayed)) {
		struct netbuf *nb = list_first_entry(&f->delayed, struct netbuf, link);

		list_del_init(&nb->link);
		nb->tsc = f->rx_no_tsc ? 0 : rdtsc();
		netdev_rx(&f->dev, nb);
	}
}

/* A netbuf holding @len bytes of @frame as the device would hand it up. */
static struct netbuf *rx_buf(struct fake_netdev *f, const void *frame, u32 len)
{
	struct netbuf *nb = nb_alloc(f->rx_headroom);

	if (!nb)
		return NULL;
	if (nb_append_bytes(nb, frame, len)) {
		nb_put(nb);
		return NULL;
	}
	nb->tsc = f->rx_no_tsc ? 0 : rdtsc();
	return nb;
}

static void peer_answer(struct fake_netdev *f, const u8 *frame, u32 len)
{
	u8 out[FAKE_FRAME_MAX];
	struct netbuf *nb;
	u32 n;

	n = fake_frame_arp(out, &f->dev.mac, ARP_OP_REPLY, &f->peer_mac, f->peer_ip,
			   &f->dev.mac, get_be32(frame + ETH_HLEN + 14));
	if ((nb = rx_buf(f, out, n)))
		peer_deliver(f, nb);
}

/* "Host unreachable" about the request at @ip (header @ihl long), as a router says it. */
static u32 peer_unreach(struct fake_netdev *f, u8 *out, const u8 *ip, u32 ihl)
{
	u8 msg[ICMP_HLEN + 60 + 8];

	memset(msg, 0, ICMP_HLEN);
	msg[0] = ICMP_DEST_UNREACH;
	msg[1] = ICMP_UNREACH_HOST;
	memcpy(msg + ICMP_HLEN, ip, ihl + 8);
	put_be16(msg + 2, inet_csum(msg, ICMP_HLEN + ihl + 8));
	return fake_frame_ipv4(out, &f->dev.mac, &f->peer_mac, f->peer_ip, get_be32(ip + 12),
			       IP_PROTO_ICMP, msg, ICMP_HLEN + ihl + 8);
}

/* The peer's view of one frame the stack sent. */
static void peer_sees(struct fake_netdev *f, const u8 *frame, u32 len)
{
	u16 type = get_be16(frame + 12);
	const u8 *p = frame + ETH_HLEN;
	struct netbuf *nb;
	u8 out[FAKE_FRAME_MAX];
	u32 ihl, n;

	if (type == ETH_P_ARP && f->peer_arp && len >= ETH_HLEN + ARP_HLEN &&
	    get_be16(p + 6) == ARP_OP_REQUEST && get_be32(p + 24) == f->peer_ip) {
		peer_answer(f, frame, len);
		return;
	}
	if (type != ETH_P_IPV4 || !f->peer_echo || len < ETH_HLEN + IP_HLEN + ICMP_HLEN)
		return;
	ihl = (p[0] & 0xf) * 4u;
	if (p[9] != IP_PROTO_ICMP || get_be32(p + 16) != f->peer_ip || p[ihl] != ICMP_ECHO_REQUEST)
		return;
	if (f->peer_unreach)
		n = peer_unreach(f, out, p, ihl);
	else
		n = fake_frame_echo(out, &f->dev.mac, &f->peer_mac, f->peer_ip, get_be32(p + 12),
				    ICMP_ECHO_REPLY, get_be16(p + ihl + 4), get_be16(p + ihl + 6),
				    get_be16(p + 2) - ihl - ICMP_HLEN);
	if ((nb = rx_buf(f, out, n)))
		peer_deliver(f, nb);
}

/* --------------------------------------------------------- the driver */

static void fake_xmit(struct netdev *dev)
{
	struct fake_netdev *f = (struct fake_netdev *)dev;
	struct netbuf *nb;

	while ((nb = netdev_tx_dequeue(dev))) {
		list_add_tail(&nb_get(nb)->link, &f->sent);
		f->nsent++;
		f->xmits++;
		netdev_tx_done(dev, nb, true);
		peer_sees(f, nb->data, nb->len);
	}
}

static int fake_poll(struct netdev *dev, int budget)
{
	return 0;
}

static const struct netdev_ops fake_ops = { .xmit = fake_xmit, .poll = fake_poll };

/* The stack and the fakes: boot-lifetime state. */
static void fake_net_make(void)
{
	shim_forever_begin();
	netdev_init();
	net_init();
	for (unsigned i = 0; i < FAKE_NETDEV_MAX; i++) {
		struct fake_netdev *f = &fakes[i];

		f->dev.mac = fake_netdev_mac(i);
		f->dev.mtu = 1500;
		f->dev.ops = &fake_ops;
		f->dev.link_up = true;
		list_init(&f->sent);
		list_init(&f->delayed);
		ktimer_init(&f->delay_timer, peer_timer, f);
		if (netdev_register(&f->dev) != (int)i)
			panic("fake_netdev: eth%u did not register as such", i);
	}
	shim_forever_end();
	made = true;
}

struct fake_netdev *fake_netdev_get(unsigned i)
{
	if (i >= FAKE_NETDEV_MAX)
		panic("fake_netdev_get(%u): there are %u fakes", i, FAKE_NETDEV_MAX);
	if (!made)
		fake_net_make();
	return &fakes[i];
}

void fake_net_run(void)
{
	shim_softirq_run();
}

u32 fake_net_in_use(void)
{
	struct nb_pool_stats st;

	nb_pool_stats(&st);
	return st.in_use;
}

struct netbuf *fake_netdev_pop(struct fake_netdev *f)
{
	struct netbuf *nb;

	fake_net_run();
	if (list_empty(&f->sent))
		return NULL;
	nb = list_first_entry(&f->sent, struct netbuf, link);
	list_del_init(&nb->link);
	f->nsent--;
	return nb;
}

void fake_netdev_clear(struct fake_netdev *f)
{
	struct netbuf *nb;

	while ((nb = fake_netdev_pop(f)))
		nb_put(nb);
}

void fake_netdev_reset(struct fake_netdev *f)
{
	struct netdev_ipv4 none;

	fake_net_run();
	ktimer_cancel(&f->delay_timer);
	while (!list_empty(&f->delayed)) {
		struct netbuf *nb = list_first_entry(&f->delayed, struct netbuf, link);

		list_del_init(&nb->link);
		nb_put(nb);
	}
	f->peer_arp = f->peer_echo = f->peer_unreach = false;
	f->peer_delay_ns = 0;
	f->peer_answers = 0;
	f->rx_headroom = 32;
	f->rx_no_tsc = false;
	netdev_set_link(&f->dev, true);
	memset(&none, 0, sizeof(none));
	netdev_set_ipv4(&f->dev, &none);
	arp_flush();
	fake_netdev_clear(f);
	nb_pool_shrink();
}

int fake_netdev_set_ipv4(struct fake_netdev *f, const char *spec)
{
	struct netdev_ipv4 cfg;
	int rc = net_parse_static(spec, &cfg, NULL);

	if (!rc)
		netdev_set_ipv4(&f->dev, &cfg);
	return rc;
}

void fake_netdev_peer(struct fake_netdev *f, u32 ip, const struct mac_addr *mac, bool echo)
{
	f->peer_ip = ip;
	f->peer_mac = *mac;
	f->peer_arp = true;
	f->peer_echo = echo;
}

int fake_netdev_inject(struct fake_netdev *f, const void *frame, u32 len)
{
	struct netbuf *nb = rx_buf(f, frame, len);

	if (!nb)
		return -ENOBUFS;
	netdev_rx(&f->dev, nb);
	fake_net_run();
	return 0;
}

/* ---------------------------------------------------------- builders */

u32 fake_frame_eth(u8 *frame, const struct mac_addr *dst, const struct mac_addr *src, u16 type)
{
	memcpy(frame, dst->b, MAC_LEN);
	memcpy(frame + 6, src->b, MAC_LEN);
	put_be16(frame + 12, type);
	return ETH_HLEN;
}

u32 fake_frame_arp(u8 *frame, const struct mac_addr *eth_dst, u16 op, const struct mac_addr *sha,
		   u32 spa, const struct mac_addr *tha, u32 tpa)
{
	u8 *a = frame + fake_frame_eth(frame, eth_dst, sha, ETH_P_ARP);

	put_be16(a, ARP_HTYPE_ETHER);
	put_be16(a + 2, ETH_P_IPV4);
	a[4] = MAC_LEN;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, sha->b, MAC_LEN);
	put_be32(a + 14, spa);
	memcpy(a + 18, tha->b, MAC_LEN);
	put_be32(a + 24, tpa);
	return ETH_HLEN + ARP_HLEN;
}

u32 fake_frame_ipv4(u8 *frame, const struct mac_addr *dst, const struct mac_addr *src, u32 saddr,
		    u32 daddr, u8 proto, const void *payload, u32 len)
{
	u8 *ih = frame + fake_frame_eth(frame, dst, src, ETH_P_IPV4);

	memset(ih, 0, IP_HLEN);
	ih[0] = 0x45;
	put_be16(ih + 2, (u16)(IP_HLEN + len));
	put_be16(ih + 4, 1);
	put_be16(ih + 6, 0x4000);
	ih[8] = 64;
	ih[9] = proto;
	put_be32(ih + 12, saddr);
	put_be32(ih + 16, daddr);
	put_be16(ih + 10, inet_csum(ih, IP_HLEN));
	memcpy(ih + IP_HLEN, payload, len);
	return ETH_HLEN + IP_HLEN + len;
}

u32 fake_frame_echo(u8 *frame, const struct mac_addr *dst, const struct mac_addr *src, u32 saddr,
		    u32 daddr, u8 type, u16 id, u16 seq, u32 len)
{
	u8 msg[FAKE_FRAME_MAX];

	if (len > FAKE_FRAME_MAX - ETH_HLEN - IP_HLEN - ICMP_HLEN)
		len = FAKE_FRAME_MAX - ETH_HLEN - IP_HLEN - ICMP_HLEN;
	memset(msg, 0, ICMP_HLEN);
	msg[0] = type;
	put_be16(msg + 4, id);
	put_be16(msg + 6, seq);
	for (u32 i = 0; i < len; i++)
		msg[ICMP_HLEN + i] = (u8)(0x10 + i);
	put_be16(msg + 2, inet_csum(msg, ICMP_HLEN + len));
	return fake_frame_ipv4(frame, dst, src, saddr, daddr, IP_PROTO_ICMP, msg, ICMP_HLEN + len);
}
