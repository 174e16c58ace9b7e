/*
 * udpshell_proto.h — the UDP shell's wire format (docs/udpshell.md), as
 * pure functions: parse a datagram, check that it is a request, build a
 * reply, make and check the tag.
 *
 * Every datagram is a 16-byte big-endian header, the payload, and — only
 * with USH_F_AUTH — a 40-byte trailer:
 *
 *     0       4       8     10    12    14    16         16+len      +8        +40
 *     | magic |  seq  |chunk|flags| len | rsvd| payload   | counter  |   tag    |
 *                                                         '-- trailer (AUTH) ---'
 *
 * The tag is HMAC-SHA256 under the shared 32-byte key over everything
 * before it: header, payload and counter, which lie back to back in the
 * datagram, so tagging and checking are one pass over contiguous bytes.
 *
 * ush_parse() checks the framing that both directions share; a datagram
 * it accepts has every field in range and its parts inside the buffer.
 * ush_check_request() adds what only a request must satisfy.  Each
 * rejection has its own reason (enum ush_bad), which the server counts.
 * The LAST flag is ignored on a request: an old client may set it on its
 * one-packet request, and it changes nothing.
 *
 * Nothing here keeps state, locks or allocates: any context, and the host
 * tests call it directly.  The key is passed in as a struct ush_key made
 * by ush_key_init(), which precomputes the HMAC's two key-only blocks.
 */
#ifndef NOS_NET_UDPSHELL_PROTO_H
#define NOS_NET_UDPSHELL_PROTO_H

#include "compiler.h"
#include "types.h"
#include "lib/hmac.h"

#define USH_MAGIC 0x4E4F5348u   /* "NOSH" */
#define USH_HDR_LEN 16u
#define USH_COUNTER_LEN 8u
#define USH_TAG_LEN SHA256_DIGEST_SIZE
#define USH_TRAILER_LEN (USH_COUNTER_LEN + USH_TAG_LEN)
#define USH_KEY_LEN 32u
#define USH_CHUNK_MAX 1024u     /* payload bytes in one reply chunk at most */
#define USH_PKT_MAX (USH_HDR_LEN + USH_CHUNK_MAX + USH_TRAILER_LEN)

/* flags */
#define USH_F_LAST (1u << 0)    /* the reply's last chunk */
#define USH_F_AUTH (1u << 1)    /* a trailer (counter, tag) follows the payload */
#define USH_F_REPLY (1u << 2)   /* sent by the kernel */
#define USH_F_KNOWN (USH_F_LAST | USH_F_AUTH | USH_F_REPLY)

/* The header as it is on the wire (big-endian fields). */
struct ush_wire_hdr {
	u32 magic;
	u32 seq;
	u16 chunk;
	u16 flags;
	u16 len;
	u16 reserved;
} __packed;
_Static_assert(sizeof(struct ush_wire_hdr) == USH_HDR_LEN, "the UDP shell header is 16 bytes");

/* A header in host byte order (magic and reserved are implied). */
struct ush_hdr {
	u32 seq;
	u16 chunk;
	u16 flags;
	u16 len;                    /* payload bytes */
};

/* A parsed datagram: pointers into the caller's buffer, valid as long as it is. */
struct ush_pkt {
	struct ush_hdr h;
	const u8 *raw;              /* the datagram's first byte (the header) */
	const u8 *payload;          /* h.len bytes */
	u64 counter;                /* with USH_F_AUTH, else 0 */
	const u8 *tag;              /* with USH_F_AUTH, else NULL */
};

/* Why a datagram was refused; USH_OK (0) when it was not. */
enum ush_bad {
	USH_OK = 0,
	USH_BAD_SHORT,              /* shorter than the header */
	USH_BAD_MAGIC,              /* not "NOSH" */
	USH_BAD_RESERVED,           /* reserved field not 0 */
	USH_BAD_FLAGS,              /* a flag bit that means nothing */
	USH_BAD_LEN,                /* the payload runs past the datagram */
	USH_BAD_TRAILER,            /* AUTH, but no room for the trailer */
	USH_BAD_EXTRA,              /* bytes after payload and trailer */
	USH_BAD_CHUNK,              /* a request whose chunk is not 0 */
	USH_BAD_REPLY,              /* a request with the REPLY bit (a reflected reply) */
	USH_BAD_NUL,                /* a NUL byte in a request's command line */
	USH_BAD_COUNT
};

/* A short name for @why ("short", "bad magic" ...), for counters and logs. */
const char *ush_bad_name(enum ush_bad why);

/* The shared key and the HMAC state it implies (the caller's to keep and wipe). */
struct ush_key {
	u8 bytes[USH_KEY_LEN];
	struct hmac_sha256_ctx base; /* hmac_sha256_init() done under bytes */
};

void ush_key_init(struct ush_key *k, const u8 bytes[USH_KEY_LEN]);

/*
 * Read the @n bytes at @buf as a datagram into *@out: USH_OK, or why not
 * (then *@out is unspecified).  Checks, in this order: the header fits,
 * magic, reserved, flags, len within the datagram, the trailer fits, no
 * bytes left over.
 */
enum ush_bad ush_parse(const u8 *buf, size_t n, struct ush_pkt *out);

/* What a parsed datagram must also be to be a request: chunk 0, no REPLY, no NUL. */
enum ush_bad ush_check_request(const struct ush_pkt *p);

/* True when @p carries AUTH and its tag is right under @k (constant time). */
bool ush_verify(const struct ush_key *k, const struct ush_pkt *p);

/*
 * Finish a datagram in @pkt whose payload (@h->len bytes, at most
 * USH_CHUNK_MAX) is already at pkt + USH_HDR_LEN: write the header and,
 * when @k is not NULL, set AUTH and append counter and tag.  @pkt has room
 * for USH_PKT_MAX bytes.  Returns the datagram's length.
 */
size_t ush_seal(u8 *pkt, const struct ush_hdr *h, const struct ush_key *k, u64 counter);

/*
 * The same from a separate payload: copies @h->len bytes of @payload
 * (which may overlap @pkt) into place first.  0 when @h->len is over
 * USH_CHUNK_MAX, else the length.
 */
size_t ush_build(u8 *pkt, const struct ush_hdr *h, const void *payload, const struct ush_key *k,
		 u64 counter);

#endif
