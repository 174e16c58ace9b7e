/*
 * icmp.h — ICMP for IPv4 (RFC 792): echo both ways, errors out, counters.
 *
 * Echo requests are answered from the SoftIrq, reusing the request's own
 * netbuf for the reply (a flood costs no allocation).  Echo replies are
 * matched to the waiting ping by identifier and sequence number, with the
 * round trip measured from the TSC: the driver's receive timestamp minus
 * the send time.  Destination unreachable is sent for UDP to a closed port
 * and for an unknown protocol, quoting the offending header and 8 bytes, at
 * most ICMP_ERR_RATE a second.
 *
 * Errors in (destination unreachable, time exceeded) go to the transport
 * that sent the packet they quote: a transport registers a handler for its
 * IP protocol number (icmp_register_error_handler) and is called with the
 * quoted addresses and the first 8 bytes of its header.  ICMP checks the
 * quote's shape only; whether the packet was really one of ours (the
 * connection, the sequence number) is the transport's to judge.
 */
#ifndef NOS_NET_ICMP_H
#define NOS_NET_ICMP_H

#include "net/netdev.h"

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_TYPES 19               /* types counted one by one; above: "other" */

#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTO 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4     /* fragmentation needed and DF set */
#define ICMP_UNREACH_NET_PROHIB 9
#define ICMP_UNREACH_HOST_PROHIB 10
#define ICMP_UNREACH_ADMIN_PROHIB 13

#define ICMP_ERR_RATE 100          /* errors sent per second at most */
#define ICMP_HLEN 8
#define ICMP_PINGS_MAX 16           /* icmp_ping() calls waiting at once */
#define ICMP_QUOTE_L4 8             /* transport header bytes an error must quote (RFC 792) */

/* The header of the messages we handle: echo's id/seq, an error's unused word. */
struct icmp_hdr {
	u8 type, code;
	u16 csum;                   /* network byte order, as the two below */
	u16 id, seq;
} __attribute__((packed));
_Static_assert(sizeof(struct icmp_hdr) == ICMP_HLEN, "icmp_hdr is 8 bytes");

/*
 * Tell the sender of @orig (a received IPv4 packet: its l3_off is valid)
 * that it was undeliverable: type 3, @code.  Does not take @orig — the
 * caller still owns and frees it.  Never answers an ICMP error, a
 * broadcast or a fragment.
 */
void icmp_send_unreach(const struct netbuf *orig, u8 code);

/*
 * An ICMP error about a packet we sent, as a transport sees it: @src and
 * @dst are the quoted IP header's (so @src is our address), @l4 the first
 * ICMP_QUOTE_L4 bytes of the quoted transport header, as on the wire.
 */
struct icmp_error {
	u8 type, code;
	struct ip_addr src, dst;
	const u8 *l4;
};

/*
 * A transport's handler: called in the NET_RX SoftIrq with no ICMP lock
 * held, for each destination unreachable or time exceeded whose quote is
 * whole (the IP header by its own length, a first fragment, then
 * ICMP_QUOTE_L4 bytes).  @e and what it points to live only for the call.
 */
typedef void (*icmp_error_fn)(const struct icmp_error *e);

/*
 * Send the errors quoting protocol @ip_proto to @fn (start-up, once per
 * protocol): 0, -EEXIST when one is registered, -EINVAL for ICMP itself or
 * a NULL @fn.
 */
int icmp_register_error_handler(u8 ip_proto, icmp_error_fn fn);

/*
 * Send one echo request to @dst with @id/@seq and @len payload bytes and
 * wait (task context, interruptible) up to @timeout_ns for its reply:
 * 0 with *@rtt_ns set; -ETIMEDOUT; -EHOSTUNREACH (ARP gave up, or an ICMP
 * unreachable came back); -ENETUNREACH; -EINTR; -EMSGSIZE (@len over the
 * MTU); -EBUSY (ICMP_PINGS_MAX pings already waiting).  The next hop is
 * resolved first (up to @timeout_ns of it), so an unreachable neighbour is
 * reported as such after ARP's retries rather than as a timeout.
 */
int icmp_ping(const struct ip_addr *dst, u16 id, u16 seq, u32 len, u64 timeout_ns, u64 *rtt_ns);

struct icmp_stats {
	u64 rx[ICMP_TYPES + 1], tx[ICMP_TYPES + 1];  /* by type; the last: other */
	u64 rx_errors;                               /* short, bad checksum */
	u64 rate_limited;                            /* errors not sent */
	u64 echo_unanswered;                         /* requests to a broadcast, or before
							an address: not answered */
	u64 replies_matched;                         /* echo replies a ping was waiting for */
};

void icmp_get_stats(struct icmp_stats *out);

void icmp_init(void);

#endif
