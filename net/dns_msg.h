/*
 * dns_msg.h — the DNS message codec (RFC 1035 §4, with RFC 2181's TTL rule
 * and RFC 2308's negative TTL): build an A query, parse the answer to it.
 * Pure functions over bytes, no state, no locks, any context; the resolver
 * (net/dns.c) and the host tests share them.
 *
 * The message: a 12-byte header (id, flags QR|opcode|AA|TC|RD|RA|rcode,
 * then the counts of questions, answers, authority and additional
 * records), the question (name, type, class), then resource records
 * (name, type, class, TTL, rdlength, rdata).  A name is a sequence of
 * labels (a length byte 1..63 and the bytes) ending in a zero byte or in a
 * compression pointer: two bytes 11xxxxxx xxxxxxxx giving the offset of
 * the rest of the name elsewhere in the message.
 *
 * Hostile input is expected.  Every read is bounded by the message's
 * length.  A pointer must point strictly before the start of the run of
 * labels it ends — the offsets visited then only decrease, so a chain of
 * pointers cannot loop (a pointer to itself, forwards, or round a cycle is
 * -EBADMSG) — and at most DNS_PTR_HOPS are followed anyway.  A name longer
 * than 255 bytes on the wire, a label type other than 00/11, a label
 * holding a dot or a byte that is not printable ASCII is -EBADMSG.  An
 * rdata that runs past the message is -EBADMSG; records past the first
 * DNS_RR_MAX answers are ignored.
 *
 * Answers: starting from the name asked, CNAME records are followed (in any
 * order in the answer section, at most DNS_CNAME_MAX), then the A records of
 * the last name are collected (DNS_ADDRS_MAX at most).  The answer's TTL is
 * the smallest of the records used.  For NXDOMAIN, and for NOERROR without
 * an A record (NODATA), the negative TTL is min(SOA TTL, SOA MINIMUM) of the
 * SOA in the authority section, if there is one.
 */
#ifndef NOS_NET_DNS_MSG_H
#define NOS_NET_DNS_MSG_H

#include "compiler.h"
#include "types.h"

#define DNS_PORT 53
#define DNS_HLEN 12
#define DNS_NAME_MAX 253        /* text form, without a trailing dot */
#define DNS_LABEL_MAX 63
#define DNS_WIRE_NAME_MAX 255
#define DNS_PTR_HOPS 16
#define DNS_CNAME_MAX 8
#define DNS_ADDRS_MAX 8
#define DNS_RR_MAX 32           /* answer records looked at */
#define DNS_QUERY_MAX (DNS_HLEN + DNS_WIRE_NAME_MAX + 4)

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA 6
#define DNS_CLASS_IN 1

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3
#define DNS_RCODE_NOTIMP 4
#define DNS_RCODE_REFUSED 5

/* A parsed answer.  Addresses are IPv4 in host byte order. */
struct dns_reply {
	u8 rcode;                       /* DNS_RCODE_* */
	bool truncated;                 /* TC: the server cut the answer short */
	bool has_soa;                   /* a SOA was in the authority section */
	u32 ttl;                        /* positive: min of the records used; negative: the SOA's */
	unsigned naddrs;
	u32 addrs[DNS_ADDRS_MAX];
	unsigned ncnames;               /* the CNAME chain from the name asked, in order */
	char cnames[DNS_CNAME_MAX][DNS_NAME_MAX + 1];
};

/*
 * Check @name as a host name to look up: 1..DNS_NAME_MAX characters
 * (one trailing dot allowed), labels of 1..63 printable characters with no
 * space.  0 or -EINVAL.
 */
int dns_name_check(const char *name);

/*
 * Build a recursive query for the A record of @name with id @id into @buf
 * (@cap bytes; DNS_QUERY_MAX always suffice): its length, -EINVAL for a
 * bad name (dns_name_check), -EMSGSIZE when it does not fit.
 */
int dns_msg_query(u8 *buf, size_t cap, u16 id, const char *name);

/*
 * Read the (possibly compressed) name at offset @off of the @len-byte
 * message @msg into @out (@cap bytes, DNS_NAME_MAX + 1 suffice) as text
 * without a trailing dot ("" for the root), and the offset just past it in
 * the record into *@next (may be NULL).  0, -EBADMSG (see the top), or
 * -ENAMETOOLONG when @cap is too small.
 */
int dns_name_read(const u8 *msg, size_t len, size_t off, char *out, size_t cap, size_t *next);

/*
 * Parse @len bytes at @p as the answer to query @id for the A record of
 * @name into *@out.  0 when it is that answer (whatever its rcode: check
 * out->rcode); -EPROTO when it is a well-formed message but not the answer
 * to this question (a query, another id, another question — a stray or
 * spoofed datagram: keep waiting); -EBADMSG when it is malformed.
 */
int dns_msg_parse(const u8 *p, size_t len, u16 id, const char *name, struct dns_reply *out);

#endif
