/*
 * inet.h — link and network addresses: struct mac_addr and struct ip_addr.
 *
 * An ip_addr is tagged with its family so that code which stores, compares
 * or prints addresses (the ARP cache aside, everything above the link
 * layer) works unchanged the day IPv6 comes.  Today only IP_V4 is
 * produced.  An IPv4 address is kept in host byte order — 10.0.2.15 is
 * 0x0A00020F — so masks and ranges are plain integer arithmetic; the
 * conversion to and from the wire happens where a header is read or
 * written (get_be32()/put_be32()), nowhere else.
 *
 * Pure helpers: no state, no locks, any context.
 */
#ifndef NOS_NET_INET_H
#define NOS_NET_INET_H

#include "compiler.h"
#include "types.h"

#define MAC_LEN 6
#define MAC_STR_MAX 18          /* "52:54:00:12:34:56" and the NUL */
#define IP_STR_MAX 46           /* the longest IPv6 text form and the NUL */

struct mac_addr {
	u8 b[MAC_LEN];
};

enum ip_family { IP_NONE = 0, IP_V4 = 4, IP_V6 = 6 };

struct ip_addr {
	u8 family;                  /* enum ip_family */
	union {
		u32 v4;             /* host byte order */
		u8 v6[16];          /* network byte order (unused for now) */
	};
};

static inline struct ip_addr ip_v4(u32 host_order)
{
	struct ip_addr a = { .family = IP_V4 };

	a.v4 = host_order;
	return a;
}

static inline struct ip_addr ip_v4_bytes(u8 a, u8 b, u8 c, u8 d)
{
	return ip_v4(((u32)a << 24) | ((u32)b << 16) | ((u32)c << 8) | d);
}

static inline bool ip_is_v4(const struct ip_addr *a)
{
	return a->family == IP_V4;
}

bool ip_eq(const struct ip_addr *a, const struct ip_addr *b);

/* A prefix length 0..32 as an IPv4 mask (24 -> 0xffffff00); 0 past 32. */
static inline u32 ip_v4_mask(unsigned prefix)
{
	return prefix == 0 || prefix > 32 ? 0 : ~0u << (32 - prefix);
}

/* The prefix length of a contiguous mask, or -1 when it has holes. */
int ip_v4_prefix(u32 mask);

/*
 * Parse dotted-quad IPv4 ("10.0.2.15") into @out: 0 or -EINVAL.  The
 * syntax is lib/parse.h's parse_ipv4(): four decimal parts 0..255, no
 * leading zero, sign, empty part or anything after.
 */
int ip_parse(const char *s, struct ip_addr *out);

/* Format @a into @buf (IP_STR_MAX bytes); returns @buf.  "?" for IP_NONE. */
char *ip_format(const struct ip_addr *a, char *buf);

static inline bool mac_eq(const struct mac_addr *a, const struct mac_addr *b)
{
	return __builtin_memcmp(a->b, b->b, MAC_LEN) == 0;
}

extern const struct mac_addr mac_broadcast;   /* ff:ff:ff:ff:ff:ff */
extern const struct mac_addr mac_zero;        /* 00:00:00:00:00:00 */

static inline bool mac_is_multicast(const struct mac_addr *m)
{
	return m->b[0] & 1;     /* broadcast included */
}

/* "52:54:00:12:34:56" (lower-case hex) into @buf (MAC_STR_MAX); returns @buf. */
char *mac_format(const struct mac_addr *m, char *buf);

/* Parse "52:54:00:12:34:56" or "52-54-00-12-34-56" (either case; parse_mac()): 0 or -EINVAL. */
int mac_parse(const char *s, struct mac_addr *out);

/*
 * The Internet checksum (RFC 1071): the ones' complement of the ones'
 * complement sum of @len bytes at @p (an odd last byte padded with zero),
 * folded with @sum, a partial sum from inet_csum_add() (0 to start; every
 * piece summed before the last must have an even length).
 * inet_csum() returns the 16-bit value to store in a header, in host order
 * (store it with put_be16()); a header that is intact sums to 0.
 */
u32 inet_csum_add(u32 sum, const void *p, size_t len);
u16 inet_csum_fold(u32 sum);
u16 inet_csum(const void *p, size_t len);

#endif
