/*
 * inet.c — address helpers and the Internet checksum (see inet.h).
 */
#include "net/inet.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/parse.h"
#include "lib/string.h"

const struct mac_addr mac_broadcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
const struct mac_addr mac_zero = { { 0, 0, 0, 0, 0, 0 } };

bool ip_eq(const struct ip_addr *a, const struct ip_addr *b)
{
	if (a->family != b->family)
		return false;
	if (a->family == IP_V4)
		return a->v4 == b->v4;
	if (a->family == IP_V6)
		return memcmp(a->v6, b->v6, sizeof(a->v6)) == 0;
	return true;
}

int ip_v4_prefix(u32 mask)
{
	int n = 0;

	while (n < 32 && (mask & (1u << (31 - n))))
		n++;
	return ip_v4_mask((unsigned)n) == mask ? n : -1;
}

int ip_parse(const char *s, struct ip_addr *out)
{
	u32 addr;

	if (!s || parse_ipv4(s, &addr))
		return -EINVAL;
	*out = ip_v4(addr);
	return 0;
}

char *ip_format(const struct ip_addr *a, char *buf)
{
	if (a->family == IP_V4)
		snprintf(buf, IP_STR_MAX, "%u.%u.%u.%u", a->v4 >> 24, (a->v4 >> 16) & 0xff,
			 (a->v4 >> 8) & 0xff, a->v4 & 0xff);
	else
		strlcpy(buf, a->family == IP_V6 ? "(ipv6)" : "?", IP_STR_MAX);
	return buf;
}

char *mac_format(const struct mac_addr *m, char *buf)
{
	snprintf(buf, MAC_STR_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", m->b[0], m->b[1], m->b[2],
		 m->b[3], m->b[4], m->b[5]);
	return buf;
}

int mac_parse(const char *s, struct mac_addr *out)
{
	struct mac_addr m;

	if (!s || parse_mac(s, m.b))
		return -EINVAL;
	*out = m;
	return 0;
}

static u32 fold16(u64 acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (u32)acc;
}

/*
 * The ones' complement sum does not care about byte order as long as it is
 * the same throughout (RFC 1071, 2.B): sum little-endian 32-bit pieces,
 * eight bytes a step, and swap the folded result into network order once.
 */
u32 inet_csum_add(u32 sum, const void *p, size_t len)
{
	const u8 *b = p;
	u64 acc = __builtin_bswap16((u16)fold16(sum));

	for (; len >= 8; b += 8, len -= 8) {
		u64 q;

		__builtin_memcpy(&q, b, 8);
		acc += (q & 0xffffffffu) + (q >> 32);
	}
	for (; len >= 2; b += 2, len -= 2)
		acc += (u32)b[1] << 8 | b[0];
	if (len)
		acc += b[0];
	return __builtin_bswap16((u16)fold16(acc));
}

u16 inet_csum_fold(u32 sum)
{
	return (u16)~fold16(sum);
}

u16 inet_csum(const void *p, size_t len)
{
	return inet_csum_fold(inet_csum_add(0, p, len));
}
