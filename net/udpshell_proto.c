/*
 * udpshell_proto.c — parsing, building and tagging UDP shell datagrams
 * (the layout is in udpshell_proto.h and docs/udpshell.md).
 *
 * The parser reads a datagram from the network, so it assumes nothing:
 * every length is compared with what is actually there before anything
 * is read past the header, in the order the header's own fields depend on
 * each other (len decides where the trailer starts, AUTH whether there is
 * one).  Lengths are added in size_t from 16-bit fields, so no sum can
 * wrap.
 *
 * Tags are checked with crypto_memeq(): how long a check takes says
 * nothing about how many bytes of a forged tag were right.
 */
#include "net/udpshell_proto.h"
#include "lib/byteorder.h"
#include "lib/string.h"

static const char *const ush_bad_names[USH_BAD_COUNT] = {
	[USH_OK] = "ok",
	[USH_BAD_SHORT] = "short",
	[USH_BAD_MAGIC] = "bad magic",
	[USH_BAD_RESERVED] = "bad reserved",
	[USH_BAD_FLAGS] = "bad flags",
	[USH_BAD_LEN] = "bad length",
	[USH_BAD_TRAILER] = "bad trailer",
	[USH_BAD_EXTRA] = "bad extra bytes",
	[USH_BAD_CHUNK] = "bad chunk",
	[USH_BAD_REPLY] = "bad reply bit",
	[USH_BAD_NUL] = "bad nul byte",
};

const char *ush_bad_name(enum ush_bad why)
{
	return (unsigned)why < USH_BAD_COUNT ? ush_bad_names[why] : "?";
}

void ush_key_init(struct ush_key *k, const u8 bytes[USH_KEY_LEN])
{
	memcpy(k->bytes, bytes, USH_KEY_LEN);
	hmac_sha256_init(&k->base, k->bytes, USH_KEY_LEN);
}

/* The tag of the @n bytes at @msg under @k (a fork of the keyed state). */
static void ush_tag(const struct ush_key *k, const u8 *msg, size_t n, u8 out[USH_TAG_LEN])
{
	struct hmac_sha256_ctx c = k->base;

	hmac_sha256_update(&c, msg, n);
	hmac_sha256_final(&c, out);
}

/* The header's fields, before anything else is looked at. */
static enum ush_bad ush_parse_hdr(const u8 *buf, struct ush_hdr *h)
{
	if (get_be32(buf) != USH_MAGIC)
		return USH_BAD_MAGIC;
	if (get_be16(buf + 14) != 0)
		return USH_BAD_RESERVED;
	h->seq = get_be32(buf + 4);
	h->chunk = get_be16(buf + 8);
	h->flags = get_be16(buf + 10);
	h->len = get_be16(buf + 12);
	if (h->flags & ~USH_F_KNOWN)
		return USH_BAD_FLAGS;
	return USH_OK;
}

enum ush_bad ush_parse(const u8 *buf, size_t n, struct ush_pkt *out)
{
	size_t body, need;
	enum ush_bad why;

	if (!buf || n < USH_HDR_LEN)
		return USH_BAD_SHORT;
	why = ush_parse_hdr(buf, &out->h);
	if (why)
		return why;
	body = n - USH_HDR_LEN;
	if (out->h.len > body)
		return USH_BAD_LEN;
	need = out->h.len;
	if (out->h.flags & USH_F_AUTH) {
		need += USH_TRAILER_LEN;
		if (need > body)
			return USH_BAD_TRAILER;
	}
	if (need != body)
		return USH_BAD_EXTRA;
	out->raw = buf;
	out->payload = buf + USH_HDR_LEN;
	out->counter = 0;
	out->tag = NULL;
	if (out->h.flags & USH_F_AUTH) {
		out->counter = get_be64(out->payload + out->h.len);
		out->tag = out->payload + out->h.len + USH_COUNTER_LEN;
	}
	return USH_OK;
}

enum ush_bad ush_check_request(const struct ush_pkt *p)
{
	if (p->h.chunk != 0)
		return USH_BAD_CHUNK;
	if (p->h.flags & USH_F_REPLY)
		return USH_BAD_REPLY;
	if (memchr(p->payload, '\0', p->h.len))
		return USH_BAD_NUL;
	return USH_OK;
}

bool ush_verify(const struct ush_key *k, const struct ush_pkt *p)
{
	u8 want[USH_TAG_LEN];
	bool ok;

	if (!(p->h.flags & USH_F_AUTH) || !p->tag)
		return false;
	ush_tag(k, p->raw, USH_HDR_LEN + p->h.len + USH_COUNTER_LEN, want);
	ok = crypto_memeq(want, p->tag, USH_TAG_LEN);
	crypto_memzero(want, sizeof(want));
	return ok;
}

size_t ush_seal(u8 *pkt, const struct ush_hdr *h, const struct ush_key *k, u64 counter)
{
	u16 flags = (u16)(h->flags & ~USH_F_AUTH);
	size_t n = USH_HDR_LEN + h->len;

	if (k)
		flags |= USH_F_AUTH;
	put_be32(pkt, USH_MAGIC);
	put_be32(pkt + 4, h->seq);
	put_be16(pkt + 8, h->chunk);
	put_be16(pkt + 10, flags);
	put_be16(pkt + 12, h->len);
	put_be16(pkt + 14, 0);
	if (!k)
		return n;
	put_be64(pkt + n, counter);
	ush_tag(k, pkt, n + USH_COUNTER_LEN, pkt + n + USH_COUNTER_LEN);
	return n + USH_TRAILER_LEN;
}

size_t ush_build(u8 *pkt, const struct ush_hdr *h, const void *payload, const struct ush_key *k,
		 u64 counter)
{
	if (h->len > USH_CHUNK_MAX)
		return 0;
	if (h->len)
		memmove(pkt + USH_HDR_LEN, payload, h->len);
	return ush_seal(pkt, h, k, counter);
}
