/*
 * dns.h — the stub resolver: names to IPv4 addresses (A records).
 *
 * The servers are those of the devices' IPv4 configuration (from DHCP's
 * option 6 or the static ip=...,<dns>), the default device's first.  A
 * lookup sends a recursive query from a fresh random port with a random
 * id and waits for the answer to that question from one of those servers;
 * anything else arriving on the port is ignored.  No answer: up to
 * DNS_TRIES sends, rotating through the servers, with waits of 20%, 30% and
 * 50% of the time allowed (at most DNS_TIMEOUT_NS in all).  SERVFAIL or
 * REFUSED move on to the next try at once.  NXDOMAIN is an answer, so it
 * comes back at once — never after a timeout.
 *
 * The cache holds DNS_CACHE_SIZE names (least recently used goes first):
 * positive answers for their TTL (the smallest TTL of the records used,
 * at most DNS_TTL_MAX), NXDOMAIN and "no A record" (NODATA) for the SOA's
 * negative TTL (RFC 2308: min(SOA TTL, MINIMUM), at most DNS_NEG_TTL_MAX)
 * or DNS_NEG_TTL_DEFAULT when the server sent no SOA.  A TTL of 0 is not
 * cached.  Lookups may run in several tasks at once; two lookups of one
 * name are not merged.
 *
 * Errors: -ENOENT (NXDOMAIN: no such name), -ENODATA (the name has no A
 * record), -ETIMEDOUT (no server answered), -EIO (the servers failed:
 * SERVFAIL, REFUSED, a truncated answer without addresses), -ENXIO (no
 * DNS server configured), -EOPNOTSUPP (dns=off), -EINVAL (not a valid
 * name), -EINTR (Ctrl-C), -ENOMEM, and the send errors of udp.h
 * (-ENETUNREACH ...).
 *
 * Contexts: lookups from a task only (they sleep, interruptibly);
 * dns_flush() and the rest from any context but hard IRQ.  The "dns
 * cache" spinlock guards the cache; a leaf, never held while sending or
 * waiting.
 */
#ifndef NOS_NET_DNS_H
#define NOS_NET_DNS_H

#include "net/dns_msg.h"
#include "net/inet.h"

#define DNS_CACHE_SIZE 32
#define DNS_CACHE_ADDRS 4           /* addresses a cache entry keeps */
#define DNS_TRIES 3
#define DNS_TIMEOUT_NS (5ull * 1000000000ull)
#define DNS_TTL_MAX 86400u
#define DNS_NEG_TTL_MAX 3600u
#define DNS_NEG_TTL_DEFAULT 10u
#define DNS_SERVERS_MAX 4

/* A lookup's result. */
struct dns_result {
	unsigned naddrs;
	struct ip_addr addrs[DNS_ADDRS_MAX];
	unsigned ncnames;                           /* the CNAME chain (not kept in the cache) */
	char cnames[DNS_CNAME_MAX][DNS_NAME_MAX + 1];
	u32 ttl;                                    /* seconds the answer may be kept */
	bool cached;                                /* answered from the cache */
	struct ip_addr server;                      /* who answered (IP_NONE: the cache) */
};

/* flags for dns_lookup() */
#define DNS_F_NOCACHE 1u    /* ask a server even when the cache knows (the answer is cached) */

/*
 * Resolve @name to its first address in *@out, waiting at most @timeout_ns
 * (0: DNS_TIMEOUT_NS; never more than that).  A dotted quad is parsed and
 * returned at once, whatever dns= says.  0 or an error from the top.
 */
int dns_resolve(const char *name, struct ip_addr *out, u64 timeout_ns);

/* The same with the whole answer in *@res (a big struct: not on a small stack). */
int dns_lookup(const char *name, struct dns_result *res, u64 timeout_ns, unsigned flags);

/* Forget every cached answer. */
void dns_flush(void);

/* dns=on|off: off makes every lookup of a name -EOPNOTSUPP. */
void dns_set_enabled(bool on);
bool dns_enabled(void);

/* The servers a lookup would ask, in order (duplicates removed); how many. */
unsigned dns_servers(struct ip_addr *out, unsigned max);

struct dns_stats {
	u64 lookups;                /* of names (dotted quads not counted) */
	u64 cache_hits, negative_hits;
	u64 queries;                /* datagrams sent */
	u64 answers, nxdomain, timeouts, failures;
	u64 ignored;                /* datagrams on a lookup's port that were not its answer */
	unsigned cached;            /* live entries in the cache now */
};

void dns_get_stats(struct dns_stats *out);

#endif
