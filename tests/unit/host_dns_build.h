/*
 * host_dns_build.h — a small writer of DNS messages for the host tests
 * (host_dns.c, host_dns_resolver.c): the test plays the server, and can
 * write every byte wrong on purpose.  Nothing here checks anything; a
 * writer past the buffer's end is a test bug and aborts.
 */
#ifndef NOS_TESTS_HOST_DNS_BUILD_H
#define NOS_TESTS_HOST_DNS_BUILD_H

#include "kernel/panic.h"
#include "lib/byteorder.h"
#include "lib/string.h"
#include "net/dns_msg.h"

#define DNSB_RESPONSE 0x8180u   /* QR, RD, RA, rcode 0 */

struct dnsb {
	u8 b[1024];
	size_t n;
	size_t rdlen_at;            /* the last record's rdlength field */
};

static inline void dnsb_room(struct dnsb *m, size_t n)
{
	if (m->n + n > sizeof(m->b))
		panic("dnsb: message too long for the test buffer");
}

static inline void dnsb_u8(struct dnsb *m, u8 v)
{
	dnsb_room(m, 1);
	m->b[m->n++] = v;
}

static inline void dnsb_u16(struct dnsb *m, u16 v)
{
	dnsb_room(m, 2);
	put_be16(m->b + m->n, v);
	m->n += 2;
}

static inline void dnsb_u32(struct dnsb *m, u32 v)
{
	dnsb_room(m, 4);
	put_be32(m->b + m->n, v);
	m->n += 4;
}

static inline void dnsb_bytes(struct dnsb *m, const void *p, size_t n)
{
	dnsb_room(m, n);
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

/* Start a message: the header with these counts. */
static inline void dnsb_header(struct dnsb *m, u16 id, u16 flags, u16 qd, u16 an, u16 ns, u16 ar)
{
	m->n = 0;
	dnsb_u16(m, id);
	dnsb_u16(m, flags);
	dnsb_u16(m, qd);
	dnsb_u16(m, an);
	dnsb_u16(m, ns);
	dnsb_u16(m, ar);
}

/* @text as uncompressed labels and the root. */
static inline void dnsb_name(struct dnsb *m, const char *text)
{
	while (*text) {
		size_t l = strcspn(text, ".");

		dnsb_u8(m, (u8)l);
		dnsb_bytes(m, text, l);
		text += l;
		if (*text == '.')
			text++;
	}
	dnsb_u8(m, 0);
}

/* A compression pointer to offset @off. */
static inline void dnsb_ptr(struct dnsb *m, size_t off)
{
	dnsb_u16(m, (u16)(0xc000u | off));
}

static inline void dnsb_question(struct dnsb *m, const char *name, u16 type)
{
	dnsb_name(m, name);
	dnsb_u16(m, type);
	dnsb_u16(m, DNS_CLASS_IN);
}

/* A record's type, class IN, TTL and rdlength (after its name). */
static inline void dnsb_rr_head(struct dnsb *m, u16 type, u32 ttl, u16 rdlen)
{
	dnsb_u16(m, type);
	dnsb_u16(m, DNS_CLASS_IN);
	dnsb_u32(m, ttl);
	m->rdlen_at = m->n;
	dnsb_u16(m, rdlen);
}

static inline void dnsb_patch_rdlen(struct dnsb *m, u16 rdlen)
{
	put_be16(m->b + m->rdlen_at, rdlen);
}

static inline void dnsb_rr_a(struct dnsb *m, u32 ttl, u32 addr)
{
	dnsb_rr_head(m, DNS_TYPE_A, ttl, 4);
	dnsb_u32(m, addr);
}

static inline void dnsb_rr_cname(struct dnsb *m, u32 ttl, const char *target)
{
	size_t start;

	dnsb_rr_head(m, DNS_TYPE_CNAME, ttl, 0);
	start = m->n;
	dnsb_name(m, target);
	dnsb_patch_rdlen(m, (u16)(m->n - start));
}

/* A SOA (ns.test, admin.test) with TTL @ttl and MINIMUM @minimum. */
static inline void dnsb_rr_soa(struct dnsb *m, u32 ttl, u32 minimum)
{
	size_t start;

	dnsb_rr_head(m, DNS_TYPE_SOA, ttl, 0);
	start = m->n;
	dnsb_name(m, "ns.test");
	dnsb_name(m, "admin.test");
	dnsb_u32(m, 1);         /* serial */
	dnsb_u32(m, 3600);      /* refresh */
	dnsb_u32(m, 600);       /* retry */
	dnsb_u32(m, 86400);     /* expire */
	dnsb_u32(m, minimum);
	dnsb_patch_rdlen(m, (u16)(m->n - start));
}

#endif
