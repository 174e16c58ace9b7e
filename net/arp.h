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
 */
#ifndef NOS_NET_ARP_H
#define NOS_NET_ARP_H

#include "net/netdev.h"

#define ARP_CACHE_SIZE 64
#define ARP_PENDING_MAX 16      /* frames held per unresolved next hop */

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

struct arp_entry_info {
	struct netdev *dev;
	struct ip_addr ip;
	struct mac_addr mac;
	bool resolved;              /* false: a request is out */
	u64 age_ns;                 /* since it was last confirmed */
};

/* Copy up to @max cache entries; how many there are. */
unsigned arp_snapshot(struct arp_entry_info *out, unsigned max);

/* Forget every entry (the `arp flush` command, tests). */
void arp_flush(void);

void arp_init(void);

#endif
