/*
 * eth.c — Ethernet II framing (see eth.h).
 *
 * Input checks only what the link layer can: that the 14-byte header is
 * there, that the frame is not longer than the device's MTU allows, and
 * that it is addressed to us (our MAC, broadcast or multicast — the device
 * normally filters, but a bridge floods unknown unicast to everyone).  The
 * payload goes to ARP or IPv4 in the same netbuf, header pulled, its
 * offset kept in l2_off for whoever wants the source MAC later.  802.1Q
 * tags, IPv6 and everything else are counted as "other" and dropped.
 *
 * Output pads short frames to the Ethernet minimum with zeros (a virtual
 * NIC does not care, a real one or a bridge to one may), prepends the
 * header and queues the frame on the device.  No state, no locks.
 */
#include "net/eth.h"
#include "net/arp.h"
#include "net/ip.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/string.h"

/*
 * The longest frame we take: the driver's MTU, the header, and a VLAN
 * tag's room.  Not the MTU DHCP may have lowered (netdev_set_mtu()): what
 * we send follows that, what the wire brings is taken as long as the NIC
 * could carry it.
 */
static u32 eth_max_frame(const struct netdev *dev)
{
	return dev->mtu_max + ETH_HLEN + 4;
}

static void eth_drop(struct netbuf *nb, bool malformed)
{
	if (malformed)
		netdev_count_error(nb->dev, NP_OTHER);
	else
		netdev_count_drop(nb->dev, NP_OTHER);
	nb_put(nb);
}

void eth_input(struct netbuf *nb)
{
	const struct eth_hdr *eh = (const struct eth_hdr *)nb->data;
	u16 type;

	if (nb->len < ETH_HLEN || nb->len > eth_max_frame(nb->dev)) {
		eth_drop(nb, true);
		return;
	}
	if (mac_is_multicast(&eh->dst))
		nb->flags |= NB_F_BCAST;
	else if (!mac_eq(&eh->dst, &nb->dev->mac)) {
		eth_drop(nb, false); /* someone else's unicast */
		return;
	}
	type = get_be16(&eh->type);
	nb->l2_off = (u16)nb_headroom(nb);
	nb_pull(nb, ETH_HLEN);
	switch (type) {
	case ETH_P_ARP:
		arp_input(nb);
		break;
	case ETH_P_IPV4:
		ip_input(nb);
		break;
	default:
		netdev_count_rx(nb->dev, NP_OTHER, nb->len);
		eth_drop(nb, false);
	}
}

int eth_output(struct netdev *dev, const struct mac_addr *dst, u16 type, struct netbuf *nb)
{
	struct eth_hdr *eh;
	u32 pad = nb->len + ETH_HLEN < ETH_MIN_FRAME ? ETH_MIN_FRAME - ETH_HLEN - nb->len : 0;
	void *tail;

	if (pad && (tail = nb_append(nb, pad)))
		memset(tail, 0, pad);
	eh = nb_push(nb, ETH_HLEN);
	if (!eh) {
		nb_put(nb);
		return -EMSGSIZE;
	}
	eh->dst = *dst;
	eh->src = dev->mac;
	put_be16(&eh->type, type);
	return netdev_xmit(dev, nb);
}
