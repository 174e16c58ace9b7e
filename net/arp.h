/*
 * arp.h — IPv4 over Ethernet address resolution (RFC 826).
 *
 * A cache of IPv4 → MAC per device with aging; requests for unknown
 * next hops, answers to requests for our own address, gratuitous ARP when
 * an address is set.  While a resolution is pending, frames for that next
 * hop wait in a bounded queue; after the retries (~3 s in all) they are
 * dropped and the sender is told "host unreachable" (the -EHOSTUNREACH
 * that arp_resolve_wait() returns; asynchronous senders see their frames
 * counted as dropped).  Never blocks in the output path.
 *
 * The numbers: ARP_TRIES requests ARP_RETRY_NS apart, then the next hop is
 * "failed" for ARP_FAIL_HOLD_NS, during which senders get -EHOSTUNREACH at
 * once; an answer is good for ARP_TIMEOUT_NS, and an entry still in use
 * after ARP_REFRESH_NS is asked for again (unicast, without holding the
 * traffic), so a busy flow never waits for a resolution.  Any ARP packet
 * from a host we know refreshes its entry.  arp.c tells the rest: the
 * single timer, the lock, what happens outside it.
 */
#ifndef NOS_NET_ARP_H
#define NOS_NET_ARP_H

#include "net/netdev.h"

#define ARP_CACHE_SIZE 64
#define ARP_PENDING_MAX 16      /* frames held per unresolved next hop */
#define ARP_TRIES 3             /* requests before a next hop is unreachable */
#define ARP_RETRY_NS 1000000000ull      /* between requests */
#define ARP_TIMEOUT_NS 60000000000ull   /* an entry lives this long unconfirmed */
#define ARP_REFRESH_NS 50000000000ull   /* in use this old: ask its owner again */
#define ARP_FAIL_HOLD_NS 3000000000ull  /* "unreachable" answered at once this long */

#define ARP_HLEN 28
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_HTYPE_ETHER 1

/* An ARP packet for IPv4 over Ethernet; multi-byte fields in network order. */
struct arp_hdr {
	u16 htype, ptype;
	u8 hlen, plen;
	u16 op;
	struct mac_addr sha;
	u32 spa;
	struct mac_addr tha;
	u32 tpa;
} __attribute__((packed));
_Static_assert(sizeof(struct arp_hdr) == ARP_HLEN, "arp_hdr is 28 bytes");

/* A received ARP packet (data at the ARP header); takes ownership. */
void arp_input(struct netbuf *nb);

/*
 * Send the IPv4 packet @nb (data at the IP header) to next hop @nexthop
 * on @dev: at once when the MAC is known, else after resolution.  Takes
 * ownership.  0 when sent or queued; -ENOBUFS when the pending queue is
 * full; -EHOSTUNREACH when @nexthop is known to be unreachable right now.
 */
int arp_output(struct netdev *dev, const struct ip_addr *nexthop, struct netbuf *nb);

/*
 * Resolve @ip on @dev, waiting (task context, interruptible) up to
 * @timeout_ns: 0 with *@mac set, -EHOSTUNREACH, -ETIMEDOUT or -EINTR.
 */
int arp_resolve_wait(struct netdev *dev, const struct ip_addr *ip, struct mac_addr *mac,
		     u64 timeout_ns);

enum arp_state { ARP_FREE, ARP_PENDING, ARP_RESOLVED, ARP_FAILED };

struct arp_entry_info {
	struct netdev *dev;
	struct ip_addr ip;
	struct mac_addr mac;        /* ARP_RESOLVED only */
	enum arp_state state;       /* PENDING: a request is out; FAILED: no answer */
	u32 queued;                 /* PENDING: frames waiting for the answer */
	u64 age_ns;                 /* since it was confirmed, asked or given up */
};

/* Copy up to @max cache entries; how many there are. */
unsigned arp_snapshot(struct arp_entry_info *out, unsigned max);

/* Forget every entry (the `arp flush` command, tests); frames waiting are dropped. */
void arp_flush(void);

struct arp_stats {
	u64 requests_tx, replies_tx;    /* requests include gratuitous ones and refreshes */
	u64 requests_rx, replies_rx;
	u64 resolved, failed;           /* resolutions that got an answer, that gave up */
	u64 queue_drops;                /* frames dropped: queue full, or given up on */
	u64 conflicts;                  /* someone else claims our address */
};

void arp_get_stats(struct arp_stats *out);

void arp_init(void);

#endif
