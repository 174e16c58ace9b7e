/*
 * tcp.h — TCP (RFC 9293): connections, listeners and the kernel's
 * socket-like calls that HTTP and the shell use.
 *
 * A connection is a `struct tcp_conn`, reached only through this API.  Its
 * owner (whoever got it from tcp_connect() or tcp_accept()) holds it until
 * tcp_close(); the protocol side (segment input in the NET_RX SoftIrq,
 * the connection's timers in SoftIrq) holds references of its own, so a
 * connection outlives its owner's close for as long as the protocol needs
 * it (FIN_WAIT, TIME_WAIT, unsent data being delivered) and is freed with
 * the last reference.
 *
 * Every blocking call takes a timeout in nanoseconds (0: no limit, which
 * no shell command uses) and returns -EINTR as soon as the calling task is
 * interrupted (Ctrl-C on the console or the network shell), changing
 * nothing that was not already done.  Task context only; none of the
 * calls may be made from SoftIrq or IRQ context.
 *
 * Errors a connection can die of, as every later call on it returns them:
 *   -ECONNREFUSED  a RST answered our SYN
 *   -ECONNRESET    an in-window RST (RFC 5961) after the handshake
 *   -ETIMEDOUT     the handshake or a retransmission ran out of retries,
 *                  or the peer stopped answering keepalives
 *   -EHOSTUNREACH, -ENETUNREACH  no route, ARP found nobody, or an ICMP
 *                  error: at once during the handshake, else in place of
 *                  -ETIMEDOUT when one came before the retries ran out
 *   -ECONNREFUSED  also an ICMP port or protocol unreachable for our SYN
 *   -ECONNABORTED  closed by tcp_abort() or by the stack (out of memory)
 *
 * Sizes: each connection has a send and a receive buffer of
 * TCP_BUF_DEFAULT bytes unless tcp_listener_set_bufsize() changes them for
 * a listener's connections (at most TCP_BUF_MAX; the window scale follows).
 */
#ifndef NOS_NET_TCP_H
#define NOS_NET_TCP_H

#include "net/inet.h"
#include "types.h"

#define TCP_HLEN 20
#define TCP_EPHEMERAL_MIN 49152
#define TCP_EPHEMERAL_MAX 65535
#define TCP_BUF_DEFAULT (256u << 10)
#define TCP_BUF_MIN (4u << 10)
#define TCP_BUF_MAX (512u << 10)     /* a ring is one kmalloc: at most 128 pages */
#define TCP_BACKLOG_MAX 128

struct tcp_conn;
struct tcp_listener;

/* RFC 9293's states, in its order (tcpstat prints their names). */
enum tcp_state {
	TCP_CLOSED,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
	TCP_STATES
};

/* "ESTABLISHED", ... */
const char *tcp_state_name(enum tcp_state s);

/* ------------------------------------------------------------ client */

/*
 * Open a connection from an ephemeral port to @dst:@port and wait up to
 * @timeout_ns for the handshake.  0 with *@out set, or -ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH, -ENETUNREACH, -EADDRNOTAVAIL (no ephemeral
 * port free), -ENOMEM, -EINTR, -EINVAL (port 0, or not a unicast @dst).
 */
int tcp_connect(const struct ip_addr *dst, u16 port, u64 timeout_ns, struct tcp_conn **out);

/* ------------------------------------------------------------ server */

/*
 * Listen on @port on every address, keeping at most @backlog (1 ..
 * TCP_BACKLOG_MAX) connections that finished or are finishing their
 * handshake until tcp_accept() takes them; SYNs beyond that are dropped
 * and counted (a SYN flood costs a bounded amount of memory).  0 with
 * *@out set, -EADDRINUSE, -EINVAL, -ENOMEM.
 */
int tcp_listen(u16 port, unsigned backlog, struct tcp_listener **out);

/*
 * Take the next established connection from @l, waiting up to
 * @timeout_ns: 0 with *@out set (the caller owns it), -ETIMEDOUT, -EINTR,
 * -EBADF (the listener is being closed).
 */
int tcp_accept(struct tcp_listener *l, u64 timeout_ns, struct tcp_conn **out);

/*
 * Stop listening: connections not yet accepted are reset; a task blocked
 * in tcp_accept() on it returns -EBADF.  NULL is ignored.
 */
void tcp_listener_close(struct tcp_listener *l);

u16 tcp_listener_port(const struct tcp_listener *l);

/* ------------------------------------------------------- data transfer */

/*
 * Queue @len bytes at @buf for sending, waiting up to @timeout_ns for room
 * in the send buffer.  Returns the bytes queued — all of them, or fewer
 * when the wait timed out or was interrupted after some were queued — or,
 * with none queued, -ETIMEDOUT, -EINTR, -EPIPE (we shut the sending side
 * down), or the connection's error.
 */
s64 tcp_send(struct tcp_conn *c, const void *buf, size_t len, u64 timeout_ns);

/*
 * Copy up to @len received bytes into @buf, waiting up to @timeout_ns for
 * the first: the count (at least 1), 0 at the end of the stream (the peer
 * sent FIN and everything before it has been read), or -ETIMEDOUT, -EINTR,
 * the connection's error.
 */
s64 tcp_recv(struct tcp_conn *c, void *buf, size_t len, u64 timeout_ns);

/*
 * Wait up to @timeout_ns until everything queued has been acknowledged by
 * the peer: 0, -ETIMEDOUT, -EINTR, or the connection's error.
 */
int tcp_flush(struct tcp_conn *c, u64 timeout_ns);

/* Send FIN after the queued data (no more tcp_send); 0 or the connection's error. */
int tcp_shutdown(struct tcp_conn *c);

/*
 * Give the connection up: a graceful close (FIN after the queued data,
 * which is still delivered and retransmitted as needed) unless received
 * data was left unread, which resets it (RFC 9293 §3.6.1).  The caller
 * must not use @c afterwards.  Never blocks.  NULL is ignored.
 */
void tcp_close(struct tcp_conn *c);

/* Reset the connection at once and give it up; NULL is ignored. */
void tcp_abort(struct tcp_conn *c);

/* ------------------------------------------------------------ options */

/* Nagle's algorithm (on by default): off sends small segments at once. */
void tcp_set_nodelay(struct tcp_conn *c, bool nodelay);

/*
 * Send and receive buffer sizes, rounded up to a power of two within
 * TCP_BUF_MIN..TCP_BUF_MAX.  Only before the handshake, so for a
 * listener (its connections inherit them): 0 or -EISCONN.
 */
int tcp_listener_set_bufsize(struct tcp_listener *l, u32 sndbuf, u32 rcvbuf);

/* -------------------------------------------------------------- status */

struct tcp_conn_info {
	enum tcp_state state;
	struct ip_addr local, remote;
	u16 lport, rport;
	u32 snd_queued;             /* bytes in the send buffer (unsent + unacknowledged) */
	u32 rcv_queued;             /* received, not yet read */
	u32 srtt_us, rttvar_us, rto_ms;
	u32 cwnd, ssthresh;         /* bytes */
	u32 snd_wnd, rcv_wnd;       /* bytes, scaled */
	u8 snd_wscale, rcv_wscale;
	u16 mss;
	u64 bytes_sent, bytes_received;     /* payload, first copies */
	u64 retransmits;
	int error;                  /* the connection's error, 0 while it has none */
};

void tcp_conn_get_info(struct tcp_conn *c, struct tcp_conn_info *out);

/*
 * Call @fn for every connection the stack holds (TIME_WAIT included) and
 * every listener (state TCP_LISTEN), with a snapshot; @fn must not call
 * into TCP.  Returns the number visited.
 */
typedef void (*tcp_visit_fn)(void *arg, const struct tcp_conn_info *info);
unsigned tcp_for_each(tcp_visit_fn fn, void *arg);

/* TCP as a whole, since boot. */
struct tcp_stats {
	u64 segs_in, segs_out;
	u64 retransmits;            /* segments sent again (timer and fast) */
	u64 fast_retransmits;
	u64 rto_expiries;
	u64 resets_in, resets_out;
	u64 bad_csum, bad_hdr;      /* dropped as malformed */
	u64 no_port;                /* answered with RST */
	u64 syn_dropped;            /* a full backlog or no memory */
	u64 out_of_order;           /* segments kept for reassembly */
	u64 dup_acks;
	u64 active_opens, passive_opens;
	u64 conn_failed;            /* died of an error */
	u64 icmp_errors;            /* ICMP errors that matched a connection and its window */
	unsigned conns, listeners, time_wait;       /* now */
};

void tcp_get_stats(struct tcp_stats *out);

/* Register with IP (net_init, once). */
void tcp_init(void);

#endif
