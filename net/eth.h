/*
 * eth.h — Ethernet II framing: the link-layer input and output.
 *
 * eth_input() is the function netdev hands every received frame to (it is
 * registered by net_init()); it checks the header, drops frames for other
 * unicast MACs, and passes the payload (nb->data past the 14-byte header,
 * nb->l2_off recording where the header was) to arp_input() or ip_input()
 * by EtherType; anything else is counted as "other" and dropped.
 *
 * eth_output() prepends the header and hands the frame to netdev_xmit().
 * Both take ownership of @nb (netbuf.h).
 */
#ifndef NOS_NET_ETH_H
#define NOS_NET_ETH_H

#include "net/netdev.h"

#define ETH_HLEN 14
#define ETH_MIN_FRAME 60        /* without the FCS: shorter frames are padded */
#define ETH_P_IPV4 0x0800
#define ETH_P_ARP 0x0806

struct eth_hdr {
	struct mac_addr dst, src;
	u16 type;                   /* network byte order */
} __attribute__((packed));
_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "eth_hdr is 14 bytes");

void eth_input(struct netbuf *nb);

/* Send @nb (data at the payload) to @dst on @dev with EtherType @type: 0 or -errno. */
int eth_output(struct netdev *dev, const struct mac_addr *dst, u16 type, struct netbuf *nb);

#endif
