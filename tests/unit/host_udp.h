/*
 * host_udp.h — what the host tests of UDP and the protocols above it
 * share (host_udp.c, host_dhcp_client.c, host_dns_resolver.c): writing a
 * UDP datagram into a frame to inject, and reading the UDP datagrams the
 * stack sent.  The checksum here is computed from RFC 768's pseudo-header
 * written out byte by byte — not with ip_pseudo_sum() — so a wrong
 * checksum in the stack cannot agree with a wrong one in the test.
 * Host only; builds on host_net.h.
 */
#ifndef NOS_HOST_UDP_H
#define NOS_HOST_UDP_H

#include "tests/unit/host_net.h"
#include "net/udp.h"

/* The UDP checksum of the @len-byte datagram @udp (its csum field as it is) from @src to @dst. */
static inline u16 tu_csum(u32 src, u32 dst, const u8 *udp, u32 len)
{
	u8 ph[12];

	put_be32(ph, src);
	put_be32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = IP_PROTO_UDP;
	put_be16(ph + 10, (u16)len);
	return inet_csum_fold(inet_csum_add(inet_csum_add(0, ph, sizeof(ph)), udp, len));
}

/*
 * A frame from @smac/@src:@sport to @f's MAC, @dst:@dport carrying @len
 * bytes of @data, with a correct checksum (or none when !@csum): its length.
 */
static inline u32 tu_frame(u8 *fr, const struct fake_netdev *f, const struct mac_addr *smac,
			   u32 src, u16 sport, u32 dst, u16 dport, const void *data, u32 len,
			   bool csum)
{
	u8 udp[FAKE_FRAME_MAX];
	u16 sum;

	put_be16(udp, sport);
	put_be16(udp + 2, dport);
	put_be16(udp + 4, (u16)(UDP_HLEN + len));
	put_be16(udp + 6, 0);
	memcpy(udp + UDP_HLEN, data, len);
	if (csum) {
		sum = tu_csum(src, dst, udp, UDP_HLEN + len);
		put_be16(udp + 6, sum ? sum : 0xffff);
	}
	return fake_frame_ipv4(fr, &f->dev.mac, smac, src, dst, IP_PROTO_UDP, udp, UDP_HLEN + len);
}

/* Inject that frame from the peer. */
static inline int tu_inject(struct fake_netdev *f, u32 src, u16 sport, u32 dst, u16 dport,
			    const void *data, u32 len)
{
	u8 fr[FAKE_FRAME_MAX];
	u32 n = tu_frame(fr, f, &peer_mac, src, sport, dst, dport, data, len, true);

	return fake_netdev_inject(f, fr, n);
}

/* A UDP datagram the stack sent, as the test sees it. */
struct tu_sent {
	struct mac_addr eth_dst;
	u32 src, dst;
	u16 sport, dport, csum;
	bool csum_ok;               /* the checksum verifies (or is 0) */
	u32 len;                    /* payload bytes */
	u8 data[FAKE_FRAME_MAX];
};

/* Read @nb (a frame popped from the fake) as UDP into @out: false when it is not UDP. */
static inline bool tu_read(const struct netbuf *nb, struct tu_sent *out)
{
	const u8 *ip = fr_l3(nb), *udp;
	u32 l4;

	if (fr_type(nb) != ETH_P_IPV4 || ip[9] != IP_PROTO_UDP)
		return false;
	udp = fr_l4(nb);
	l4 = fr_l4_len(nb);
	if (l4 < UDP_HLEN || get_be16(udp + 4) != l4)
		return false;
	memcpy(out->eth_dst.b, nb->data, MAC_LEN);
	out->src = get_be32(ip + 12);
	out->dst = get_be32(ip + 16);
	out->sport = get_be16(udp);
	out->dport = get_be16(udp + 2);
	out->csum = get_be16(udp + 6);
	out->csum_ok = !out->csum || tu_csum(out->src, out->dst, udp, l4) == 0;
	out->len = l4 - UDP_HLEN;
	memcpy(out->data, udp + UDP_HLEN, out->len);
	return true;
}

/* The next UDP datagram sent to port @dport (others are dropped on the way): false if none. */
static inline bool tu_pop(struct fake_netdev *f, u16 dport, struct tu_sent *out)
{
	struct netbuf *nb;

	while ((nb = fake_netdev_pop(f))) {
		bool ok = tu_read(nb, out) && out->dport == dport;

		nb_put(nb);
		if (ok)
			return true;
	}
	return false;
}

#endif
