/*
 * udp.h — UDP (RFC 768): ports, sockets, datagrams in and out.
 *
 * A socket is bound to one local port on every address and device.  It
 * comes in two forms, because its users live in two contexts:
 *
 *  - Handler form (udp_bind): each datagram is handed to @fn in SoftIrq
 *    context, as it arrives.  For protocols that are state machines driven
 *    from the network and timers (DHCP) and for counting sinks.  The
 *    handler must not sleep; it may send.
 *  - Queue form (udp_open): datagrams wait on the socket's queue, at most
 *    @qlen of them (more are dropped and counted), until a task takes them
 *    with udp_recv(), which sleeps with a timeout and stops on Ctrl-C.  For
 *    request/response users in a task (DNS, the network shell).
 *
 * Ownership (netbuf.h): a handler is given the datagram's reference and
 * must put it (or keep it); udp_recv() gives the caller one.  Either way
 * nb->data is the payload (the UDP header just before it, nb->l3_off the
 * IP header) and nb->len its length; struct udp_meta says where it came
 * from.  Every send function takes ownership of the netbuf it is given,
 * even when it fails.
 *
 * Lifetime: the socket belongs to whoever bound it until udp_close().  A
 * datagram already being delivered on another CPU when udp_close() runs
 * may still reach the handler after udp_close() returns, so a handler's
 * @arg must outlive the socket (static state does); queued datagrams are
 * freed by udp_close().  The socket memory itself is reference counted
 * and goes with the last delivery.  The owner must not call udp_recv()
 * on a socket it is closing (from another task): the handle is gone after
 * udp_close().
 *
 * Input checks: the length field (at least 8, at most what IP delivered:
 * the datagram is trimmed to it), the checksum unless it is 0 (none sent)
 * or the device verified it.  A datagram to a port nobody has bound is
 * answered with ICMP port unreachable (never for broadcasts: icmp.c
 * decides) and counted as a drop.  Output fills the checksum over the
 * pseudo-header (0 goes out as 0xffff).
 *
 * Ephemeral ports: udp_bind/udp_open with port 0 take a free port in
 * UDP_EPHEMERAL_MIN..MAX, searched from a random point each time (RFC 6056
 * §3.3.1), so a resolver's source ports are hard to guess.
 *
 * Contexts: udp_bind, udp_open, udp_close and the send functions from any
 * context but hard IRQ; udp_recv from a task only.
 *
 * Locks: the "udp table" lock guards the bind table and is a leaf; each
 * socket's "udp sock" lock guards its queue and is a leaf.  They are
 * never nested, and neither is held while calling a handler, sending,
 * freeing a netbuf or waking a task.
 */
#ifndef NOS_NET_UDP_H
#define NOS_NET_UDP_H

#include "net/netdev.h"

#define UDP_HLEN 8
#define UDP_EPHEMERAL_MIN 49152
#define UDP_EPHEMERAL_MAX 65535
#define UDP_QLEN_DEFAULT 64
#define UDP_QLEN_MAX 4096
#define UDP_PAYLOAD_MAX 1472    /* one unfragmented datagram on Ethernet: 1500 - 20 - 8 */

struct udp_hdr {
	u16 sport, dport;           /* network byte order, as the two below */
	u16 len;                    /* header and payload */
	u16 csum;
} __attribute__((packed));
_Static_assert(sizeof(struct udp_hdr) == UDP_HLEN, "udp_hdr is 8 bytes");

/* Where a received datagram came from and was sent to. */
struct udp_meta {
	struct netdev *dev;         /* the device it came in on */
	struct ip_addr src, dst;
	u16 sport, dport;           /* host byte order */
};

struct udp_sock;

/*
 * A handler-form socket's input, in SoftIrq context: owns @nb (data at the
 * payload); @from is valid during the call only.
 */
typedef void (*udp_recv_fn)(void *arg, struct netbuf *nb, const struct udp_meta *from);

/*
 * Bind @port (0: an ephemeral one) to @fn(@arg): 0 with *@out set, or
 * -EADDRINUSE, -EADDRNOTAVAIL (no ephemeral port free), -ENOMEM, -EINVAL
 * (no @fn).
 */
int udp_bind(u16 port, udp_recv_fn fn, void *arg, struct udp_sock **out);

/*
 * Open a queue-form socket on @port (0: ephemeral) holding at most @qlen
 * datagrams (0: UDP_QLEN_DEFAULT; at most UDP_QLEN_MAX): 0 with *@out set,
 * or the errors of udp_bind().
 */
int udp_open(u16 port, unsigned qlen, struct udp_sock **out);

/* Unbind and free @s (see Lifetime above); queued datagrams are dropped.  NULL is ignored. */
void udp_close(struct udp_sock *s);

/* The local port (host byte order). */
u16 udp_port(const struct udp_sock *s);

/*
 * Take the next datagram from queue-form socket @s, waiting up to
 * @timeout_ns (0: no limit) — task context, interruptible.  0 with *@nb
 * (the caller's reference) and, when @from is not NULL, *@from set;
 * -ETIMEDOUT, -EINTR (Ctrl-C), -EINVAL (a handler-form socket).
 */
int udp_recv(struct udp_sock *s, struct netbuf **nb, struct udp_meta *from, u64 timeout_ns);

/*
 * Send @nb (data at the payload; headroom for UDP, IP and Ethernet, as
 * nb_alloc_tx() leaves) from @s's port to @dst:@port, routed.  Takes
 * ownership.  0 or -errno (ip_output's; -EMSGSIZE over the MTU).
 */
int udp_sendto(struct udp_sock *s, const struct ip_addr *dst, u16 port, struct netbuf *nb);

/* The same from @len bytes at @buf (copied into a new netbuf): also -ENOBUFS. */
int udp_sendto_bytes(struct udp_sock *s, const struct ip_addr *dst, u16 port, const void *buf,
		     size_t len);

/*
 * The general send: from @src (NULL: the route's source address, 0.0.0.0
 * on a device without one) port @sport to @dst:@dport, leaving by @dev
 * (NULL: routed) — DHCP's broadcast before it has an address, its
 * unicast renewal.  Takes ownership.  0 or -errno.
 */
int udp_output(struct netdev *dev, const struct ip_addr *src, u16 sport, const struct ip_addr *dst,
	       u16 dport, struct netbuf *nb);

/* The addresses and ports of a datagram handed up by UDP (data at its payload). */
void udp_meta_of(const struct netbuf *nb, struct udp_meta *out);

/* One socket's counters (a snapshot). */
struct udp_sock_stats {
	u64 rx, rx_bytes;           /* datagrams delivered to it, their payload bytes */
	u64 drops;                  /* refused: its queue was full, or it was closing */
	unsigned queued;            /* waiting in its queue now */
};

void udp_sock_get_stats(struct udp_sock *s, struct udp_sock_stats *out);

/* UDP as a whole, all devices (per device: netdev's NP_UDP counters). */
struct udp_stats {
	u64 rx, tx;                 /* datagrams in (valid) and out */
	u64 bad_len, bad_csum;      /* malformed, dropped */
	u64 no_port;                /* to a port nobody bound */
	u64 queue_full;             /* a socket's queue was full */
	unsigned sockets;           /* bound now */
};

void udp_get_stats(struct udp_stats *out);

/* Register with IP (net_init, once; again is harmless). */
void udp_init(void);

#endif
