/*
 * ip.h — IPv4 (RFC 791): input validation and demultiplexing, routing,
 * output.
 *
 * Input (from eth, data at the IP header): version 4, IHL >= 5, total
 * length within the frame (the frame is trimmed to it: Ethernet padding
 * goes), header checksum, not a fragment (fragments are counted and
 * dropped — docs/net.md says why), addressed to us: our address on that
 * device, the limited broadcast, the subnet's broadcast, or — only while
 * the device has no address yet, so DHCP can receive its offer — anything.
 * Options are skipped.  The packet then goes to the handler registered for
 * its protocol with data at the transport header and nb->l3_off at the IP
 * header (handlers read the addresses with ip_hdr()); with no handler, a
 * protocol unreachable (ICMP) and a drop.
 *
 * Routing: a packet to an address on a device's subnet goes straight to
 * it; anything else to the default gateway of the first device that has
 * one.  Limited broadcast (255.255.255.255) leaves by the device given, or
 * the default device.
 *
 * Output prepends the 20-byte header (no options, DF set, TTL 64, a fresh
 * identification) and hands the packet to ARP for the next hop (or
 * straight to Ethernet broadcast for a broadcast).  Takes ownership.  A
 * shared netbuf is copied first (output writes headers into it), so a
 * caller that keeps a reference (a retransmission queue) may pass it.
 */
#ifndef NOS_NET_IP_H
#define NOS_NET_IP_H

#include "net/netdev.h"

#define IP_HLEN 20
#define IP_PROTO_ICMP 1
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_TTL_DEFAULT 64
#define IP_BROADCAST 0xffffffffu

struct ip_hdr {
	u8 ver_ihl;                 /* version << 4 | header length in words */
	u8 tos;
	u16 total_len;              /* network byte order, as every field below */
	u16 id;
	u16 frag;                   /* flags << 13 | offset in 8-byte units */
	u8 ttl;
	u8 proto;
	u16 csum;
	u32 src, dst;
} __attribute__((packed));
_Static_assert(sizeof(struct ip_hdr) == IP_HLEN, "ip_hdr is 20 bytes");

/* The IP header of a received packet, from its l3_off. */
static inline const struct ip_hdr *ip_hdr(const struct netbuf *nb)
{
	return (const struct ip_hdr *)(nb->head + nb->l3_off);
}

/* Source and destination of a received packet as addresses. */
struct ip_addr ip_src(const struct netbuf *nb);
struct ip_addr ip_dst(const struct netbuf *nb);

/* A protocol's input: data at its header; takes ownership (SoftIrq context). */
typedef void (*ip_proto_handler)(struct netbuf *nb);

/* Register the input for protocol @proto (at start-up): 0, -EEXIST. */
int ip_register_proto(u8 proto, ip_proto_handler fn);

/* From eth: data at the IP header; takes ownership. */
void ip_input(struct netbuf *nb);

/*
 * Where a packet to @dst goes: the device, the next hop, our source
 * address (0.0.0.0 while the device has none), and whether the next hop
 * is the link's broadcast (limited or the subnet's) or ourselves (one of
 * our own addresses: the packet is looped back into the device's input).
 */
struct ip_route {
	struct netdev *dev;
	struct ip_addr nexthop;
	struct ip_addr src;
	bool broadcast;
	bool local;
};

/*
 * 0, or -ENETUNREACH (no device on that subnet and no gateway; 0.0.0.0,
 * multicast and 127.0.0.0/8 are never routed).  The longest matching
 * prefix wins; off-link destinations go to the first device with a gateway.
 */
int ip_route(const struct ip_addr *dst, struct ip_route *out);

/* The same, restricted to leaving by @dev (its subnet, else its gateway). */
int ip_route_dev(struct netdev *dev, const struct ip_addr *dst, struct ip_route *out);

/*
 * Send @nb (data at the transport header, headroom for IP and Ethernet) to
 * @dst with protocol @proto.  @src may be NULL (the route's source) or an
 * address of ours; @dev may be NULL (routed) or the device to leave by
 * (DHCP before it has an address: src 0.0.0.0, dst 255.255.255.255).
 * Takes ownership.  0 or -errno (-ENETUNREACH, -EHOSTUNREACH, -ENOBUFS,
 * -EMSGSIZE for a packet over the device's MTU).
 */
int ip_output(struct netdev *dev, const struct ip_addr *src, const struct ip_addr *dst, u8 proto,
	      struct netbuf *nb);

/* Is @a one of ours (any device)? */
bool ip_is_local(const struct ip_addr *a);

/*
 * The pseudo-header sum for UDP/TCP checksums (RFC 768/9293): fold it with
 * inet_csum_add() over the transport header and payload.
 */
u32 ip_pseudo_sum(const struct ip_addr *src, const struct ip_addr *dst, u8 proto, u16 len);

/* What the counters of the devices cannot say (atomic, since boot). */
struct ip_stats {
	u64 rx_delivered;           /* handed to a protocol */
	u64 rx_hdr_errors;          /* version, IHL, lengths, checksum */
	u64 rx_frags;               /* fragments: counted and dropped */
	u64 rx_not_ours;            /* for another host, or multicast: dropped */
	u64 rx_martians;            /* impossible source (broadcast, multicast, 127/8) */
	u64 rx_no_proto;            /* no handler: protocol unreachable */
	u64 tx_packets;             /* handed to ARP or Ethernet */
	u64 tx_no_route, tx_too_big, tx_errors;     /* refused */
	u64 tx_looped;              /* to our own address */
};

void ip_get_stats(struct ip_stats *out);

void ip_init(void);

#endif
