/*
 * host_udpshell.h — what the host tests of the UDP shell share
 * (host_udpshell_proto.c, host_udpshell.c): two keys and the client's
 * packet builder, written from docs/udpshell.md byte by byte and signed
 * with lib/hmac.c — never with the functions under test, so a mistake in
 * the format cannot agree with itself.  Host only.
 */
#ifndef NOS_HOST_UDPSHELL_H
#define NOS_HOST_UDPSHELL_H

#include "lib/byteorder.h"
#include "lib/hmac.h"
#include "lib/string.h"
#include "net/udpshell_proto.h"

static const u8 key_a[USH_KEY_LEN] __unused = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f,
};
static const u8 key_b[USH_KEY_LEN] __unused = { 0xff };

/* A datagram as docs/udpshell.md draws it; with @key the trailer for @counter. */
static inline u32 tq_packet(u8 *buf, u32 seq, u16 chunk, u16 flags, const void *payload, u16 len,
		     const u8 *key, u64 counter)
{
	u32 n = 16 + len;

	put_be32(buf, 0x4E4F5348);
	put_be32(buf + 4, seq);
	put_be16(buf + 8, chunk);
	put_be16(buf + 10, (u16)(flags | (key ? 2 : 0)));
	put_be16(buf + 12, len);
	put_be16(buf + 14, 0);
	memcpy(buf + 16, payload, len);
	if (!key)
		return n;
	put_be64(buf + n, counter);
	hmac_sha256(key, USH_KEY_LEN, buf, n + 8, buf + n + 8);
	return n + 40;
}

#endif
