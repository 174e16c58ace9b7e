/*
 * dns_msg.c — building A queries and parsing their answers (see dns_msg.h
 * for the format and the rules against hostile input).
 *
 * Every name in a message is read through one walker (struct name_walk),
 * which hands out one label at a time and enforces the rules: bounds,
 * label types, the backwards-only pointers that make loops impossible, the
 * hop and length limits, printable labels.  Decoding a name to text,
 * comparing it with a name we hold and skipping over it are three small
 * loops over that walker, so no path reads a name without the checks.
 *
 * Records are read once into a small table (struct rr: where each one's
 * name and rdata are) and the CNAME chain is then followed over the table,
 * so the answer section may list the records in any order.
 */
#include "net/dns_msg.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/string.h"

#define FLAG_QR 0x8000u
#define FLAG_OPCODE 0x7800u
#define FLAG_TC 0x0200u
#define FLAG_RD 0x0100u
#define RCODE_MASK 0x000fu
#define TTL_MAX 0x7fffffffu     /* RFC 2181 §8: a TTL with the top bit set means 0 */
#define SOA_FIXED 20            /* serial, refresh, retry, expire, minimum */

/* ------------------------------------------------------------ names */

struct name_walk {
	const u8 *msg;
	size_t len;
	size_t pos;         /* the next byte to read */
	size_t limit;       /* a pointer must point below this (the current run's start) */
	size_t next;        /* in the record: the offset just past the name */
	bool jumped;        /* a pointer was followed: next is set */
	unsigned hops;
	size_t wire;        /* bytes of the name on the wire, uncompressed */
};

static void walk_init(struct name_walk *w, const u8 *msg, size_t len, size_t off)
{
	*w = (struct name_walk){ .msg = msg, .len = len, .pos = off, .limit = off };
}

static bool label_byte_ok(u8 c)
{
	return c > 0x20 && c < 0x7f && c != '.';
}

/* Follow the pointer at w->pos: 0, or -EBADMSG when it breaks a rule. */
static int walk_jump(struct name_walk *w)
{
	size_t to;

	if (w->pos + 2 > w->len)
		return -EBADMSG;
	to = (size_t)(w->msg[w->pos] & 0x3f) << 8 | w->msg[w->pos + 1];
	if (!w->jumped) {
		w->next = w->pos + 2;
		w->jumped = true;
	}
	if (to >= w->limit || to < DNS_HLEN || ++w->hops > DNS_PTR_HOPS)
		return -EBADMSG;
	w->pos = w->limit = to;
	return 0;
}

/* The next label: its length with *@label set, 0 at the end of the name, or -EBADMSG. */
static int walk_label(struct name_walk *w, const u8 **label)
{
	for (;;) {
		u8 b;

		if (w->pos >= w->len)
			return -EBADMSG;
		b = w->msg[w->pos];
		if ((b & 0xc0) == 0xc0) {
			if (walk_jump(w))
				return -EBADMSG;
			continue;
		}
		if (b & 0xc0)
			return -EBADMSG; /* the 01 and 10 label types are not in use */
		w->wire += 1u + b;
		if (w->wire > DNS_WIRE_NAME_MAX)
			return -EBADMSG;
		if (!b) {
			if (!w->jumped)
				w->next = w->pos + 1;
			return 0;
		}
		if (b > w->len - w->pos - 1)
			return -EBADMSG;
		for (unsigned i = 1; i <= b; i++)
			if (!label_byte_ok(w->msg[w->pos + i]))
				return -EBADMSG;
		*label = w->msg + w->pos + 1;
		w->pos += 1u + b;
		return b;
	}
}

int dns_name_read(const u8 *msg, size_t len, size_t off, char *out, size_t cap, size_t *next)
{
	struct name_walk w;
	const u8 *label;
	size_t n = 0;
	int l;

	if (!cap)
		return -ENAMETOOLONG;
	walk_init(&w, msg, len, off);
	while ((l = walk_label(&w, &label)) > 0) {
		if (n + (n ? 1 : 0) + (size_t)l + 1 > cap)
			return -ENAMETOOLONG;
		if (n)
			out[n++] = '.';
		memcpy(out + n, label, (size_t)l);
		n += (size_t)l;
	}
	if (l < 0)
		return l;
	out[n] = '\0';
	if (next)
		*next = w.next;
	return 0;
}

/* Skip the name at @off: the offset after it in the record, or -EBADMSG. */
static long name_skip(const u8 *msg, size_t len, size_t off)
{
	struct name_walk w;
	const u8 *label;
	int l;

	walk_init(&w, msg, len, off);
	while ((l = walk_label(&w, &label)) > 0)
		;
	return l < 0 ? l : (long)w.next;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool label_eq(const u8 *label, int l, const char *text, size_t tlen)
{
	if ((size_t)l != tlen)
		return false;
	for (size_t i = 0; i < tlen; i++)
		if (lower((char)label[i]) != lower(text[i]))
			return false;
	return true;
}

/* Is the name at @off @text (ASCII case ignored, a trailing dot in @text allowed)? */
static bool name_eq(const u8 *msg, size_t len, size_t off, const char *text)
{
	struct name_walk w;
	const u8 *label;
	int l;

	walk_init(&w, msg, len, off);
	while ((l = walk_label(&w, &label)) > 0) {
		size_t tlen = strcspn(text, ".");

		if (!label_eq(label, l, text, tlen))
			return false;
		text += tlen;
		if (*text == '.')
			text++;
	}
	return l == 0 && *text == '\0';
}

int dns_name_check(const char *name)
{
	size_t len = strnlen(name, DNS_NAME_MAX + 2), label = 0;

	if (len && name[len - 1] == '.')
		len--;
	if (!len || len > DNS_NAME_MAX)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (name[i] == '.') {
			if (!label)
				return -EINVAL;
			label = 0;
		} else if (!label_byte_ok((u8)name[i]) || ++label > DNS_LABEL_MAX) {
			return -EINVAL;
		}
	}
	return label ? 0 : -EINVAL;
}

/* ------------------------------------------------------------ queries */

/* @name (checked) as labels at @out; the bytes written. */
static size_t name_encode(const char *name, u8 *out)
{
	size_t n = 0;

	while (*name) {
		size_t l = strcspn(name, ".");

		out[n++] = (u8)l;
		memcpy(out + n, name, l);
		n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	out[n++] = 0;
	return n;
}

int dns_msg_query(u8 *buf, size_t cap, u16 id, const char *name)
{
	size_t n;

	if (dns_name_check(name))
		return -EINVAL;
	if (cap < DNS_HLEN + strlen(name) + 2 + 4)
		return -EMSGSIZE;
	memset(buf, 0, DNS_HLEN);
	put_be16(buf, id);
	put_be16(buf + 2, FLAG_RD);
	put_be16(buf + 4, 1); /* one question */
	n = DNS_HLEN + name_encode(name, buf + DNS_HLEN);
	put_be16(buf + n, DNS_TYPE_A);
	put_be16(buf + n + 2, DNS_CLASS_IN);
	return (int)(n + 4);
}

/* ------------------------------------------------------------ answers */

/* Where one resource record's parts are. */
struct rr {
	size_t name;
	u16 type, cls;
	u32 ttl;
	size_t rdata;
	u16 rdlen;
};

/* Read the record at *@off into @rr and step past it: 0 or -EBADMSG. */
static int rr_read(const u8 *p, size_t len, size_t *off, struct rr *rr)
{
	long at = name_skip(p, len, *off);
	size_t a;
	u32 ttl;

	if (at < 0 || (size_t)at + 10 > len)
		return -EBADMSG;
	a = (size_t)at;
	rr->name = *off;
	rr->type = get_be16(p + a);
	rr->cls = get_be16(p + a + 2);
	ttl = get_be32(p + a + 4);
	rr->ttl = ttl > TTL_MAX ? 0 : ttl;
	rr->rdlen = get_be16(p + a + 8);
	rr->rdata = a + 10;
	if (rr->rdlen > len - rr->rdata)
		return -EBADMSG;
	*off = rr->rdata + rr->rdlen;
	return 0;
}

/* The header and the question: -EPROTO unless it answers query @id for @name. */
static int check_question(const u8 *p, size_t len, u16 id, const char *name, size_t *off)
{
	u16 flags;
	long at;

	if (len < DNS_HLEN)
		return -EBADMSG;
	flags = get_be16(p + 2);
	if (get_be16(p) != id || !(flags & FLAG_QR) || (flags & FLAG_OPCODE))
		return -EPROTO;
	if (get_be16(p + 4) != 1)
		return -EPROTO;
	at = name_skip(p, len, DNS_HLEN);
	if (at < 0 || (size_t)at + 4 > len)
		return -EBADMSG;
	if (!name_eq(p, len, DNS_HLEN, name) || get_be16(p + at) != DNS_TYPE_A ||
	    get_be16(p + at + 2) != DNS_CLASS_IN)
		return -EPROTO;
	*off = (size_t)at + 4;
	return 0;
}

/* The answer records, up to DNS_RR_MAX, into @rrs; how many, or -EBADMSG. */
static int read_answers(const u8 *p, size_t len, size_t *off, unsigned count, struct rr *rrs,
			bool truncated)
{
	unsigned n = 0;

	for (unsigned i = 0; i < count; i++) {
		struct rr rr;

		if (rr_read(p, len, off, &rr))
			return truncated ? (int)n : -EBADMSG;
		if (n < DNS_RR_MAX)
			rrs[n++] = rr;
	}
	return (int)n;
}

static u32 ttl_min(u32 a, u32 b)
{
	return a < b ? a : b;
}

/* Follow the CNAMEs from @name through @rrs into @out: 0 or -EBADMSG (too long a chain). */
static int follow_cnames(const u8 *p, size_t len, const struct rr *rrs, unsigned n,
			 const char *name, struct dns_reply *out)
{
	const char *cur = name;

	for (unsigned i = 0; i < n; i++) {
		const struct rr *rr = &rrs[i];

		if (rr->type != DNS_TYPE_CNAME || rr->cls != DNS_CLASS_IN ||
		    !name_eq(p, len, rr->name, cur))
			continue;
		if (out->ncnames == DNS_CNAME_MAX)
			return -EBADMSG;
		if (dns_name_read(p, rr->rdata + rr->rdlen, rr->rdata, out->cnames[out->ncnames],
				  DNS_NAME_MAX + 1, NULL))
			return -EBADMSG;
		cur = out->cnames[out->ncnames++];
		out->ttl = ttl_min(out->ttl, rr->ttl);
		i = (unsigned)-1; /* start over: the next link may come earlier */
	}
	return 0;
}

static void collect_addrs(const u8 *p, size_t len, const struct rr *rrs, unsigned n,
			  const char *cur, struct dns_reply *out)
{
	for (unsigned i = 0; i < n && out->naddrs < DNS_ADDRS_MAX; i++) {
		const struct rr *rr = &rrs[i];

		if (rr->type != DNS_TYPE_A || rr->cls != DNS_CLASS_IN || rr->rdlen != 4 ||
		    !name_eq(p, len, rr->name, cur))
			continue;
		out->addrs[out->naddrs++] = get_be32(p + rr->rdata);
		out->ttl = ttl_min(out->ttl, rr->ttl);
	}
}

/* The SOA's negative TTL from @rr: 0 (out->has_soa set) or -EBADMSG. */
static int take_soa(const u8 *p, const struct rr *rr, struct dns_reply *out)
{
	size_t end = rr->rdata + rr->rdlen;
	long at = name_skip(p, end, rr->rdata);

	if (at >= 0)
		at = name_skip(p, end, (size_t)at);
	if (at < 0 || (size_t)at + SOA_FIXED > end)
		return -EBADMSG;
	out->ttl = ttl_min(rr->ttl, get_be32(p + at + 16));
	out->has_soa = true;
	return 0;
}

/* Look through the authority section for the SOA of a negative answer. */
static int read_authority(const u8 *p, size_t len, size_t off, unsigned count,
			  struct dns_reply *out)
{
	for (unsigned i = 0; i < count; i++) {
		struct rr rr;

		if (rr_read(p, len, &off, &rr))
			return out->truncated ? 0 : -EBADMSG;
		if (rr.type == DNS_TYPE_SOA && rr.cls == DNS_CLASS_IN)
			return take_soa(p, &rr, out);
	}
	return 0;
}

static bool negative(const struct dns_reply *r)
{
	return r->rcode == DNS_RCODE_NXDOMAIN || (r->rcode == DNS_RCODE_NOERROR && !r->naddrs);
}

int dns_msg_parse(const u8 *p, size_t len, u16 id, const char *name, struct dns_reply *out)
{
	struct rr rrs[DNS_RR_MAX];
	size_t off;
	int n, rc;

	memset(out, 0, sizeof(*out));
	rc = check_question(p, len, id, name, &off);
	if (rc)
		return rc;
	out->rcode = (u8)(get_be16(p + 2) & RCODE_MASK);
	out->truncated = get_be16(p + 2) & FLAG_TC;
	out->ttl = TTL_MAX;
	n = read_answers(p, len, &off, get_be16(p + 6), rrs, out->truncated);
	if (n < 0)
		return n;
	rc = follow_cnames(p, len, rrs, (unsigned)n, name, out);
	if (rc)
		return rc;
	collect_addrs(p, len, rrs, (unsigned)n,
		      out->ncnames ? out->cnames[out->ncnames - 1] : name, out);
	if (!out->naddrs)
		out->ttl = 0;
	if (negative(out))
		return read_authority(p, len, off, get_be16(p + 8), out);
	return 0;
}
