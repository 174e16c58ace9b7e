/*
 * tcp_priv.h — what the files of TCP share (tcp.c, tcp_in.c, tcp_out.c,
 * tcp_timer.c, tcp_cmds.c) and nothing outside them needs.
 *
 * The pieces:
 *   tcp.c        the table (demux hash by 4-tuple, listeners by port,
 *                ephemeral ports, the TIME_WAIT list), ISNs, references
 *                and lifetime, connect/listen/accept, tcp_for_each, stats;
 *   tcp_api.c    send, receive, flush, shutdown, close, abort;
 *   tcp_in.c     segment input: checks, options, the state machine,
 *                acknowledgements, loss recovery, reassembly, ICMP
 *                errors;
 *   tcp_out.c    segment output: what may be sent (windows, Nagle), the
 *                header and options, ACKs, RSTs, window advertisement;
 *   tcp_timer.c  the per-connection deadlines and the one TCP-wide tick
 *                that serves them.
 *
 * Sequence space and the rings.  The send ring holds every byte queued and
 * not yet acknowledged; its free-running counters are stream offsets, so a
 * data byte at stream offset k has sequence number iss + 1 + k and the
 * ring's tail is the offset of snd_una (once the SYN is acknowledged).  The
 * FIN, when queued, sits at iss + 1 + snd.head.  The receive ring likewise:
 * in-order bytes at offset k came with sequence irs + 1 + k, and rcv_nxt
 * is irs + 1 + rcv.head until the FIN adds one more.
 *
 * Locks, outermost first (ranks in kernel/lock_order.h):
 *   "tcp conn"      (one per connection) its state, windows, rings' consumer
 *                   ends, timers' deadlines, out-of-order queue;
 *   "tcp listener"  (one per listener) its half-open and accept queues;
 *   "tcp table"     the hashes, the list of all connections, the ephemeral
 *                   bitmap, the TIME_WAIT list and the reap list.
 * A conn lock may be held while taking its listener's lock or the table
 * lock (dropping a connection unhashes it and detaches it from its
 * listener under its own lock); never the other way round, and never two
 * conn locks at once.  The waitq locks rank above all three, so a wake-up
 * may happen under any of them.  "tcp timer" guards only the arming of
 * the tick and is taken with none of the above held.
 *
 * Sending happens with the conn lock held, so segments of one connection
 * leave in the order they were built.  That is safe because ip_output()
 * never calls back into TCP: a packet to ourselves is queued on the
 * device's input and handled in a later NET_RX pass, ARP queues frames for
 * an unresolved neighbour, and no lock of the output path is ever held
 * while calling into TCP.
 *
 * Contexts: input in the NET_RX SoftIrq, the tick in the TCP_TIMER
 * SoftIrq (raised by a ktimer), the API in tasks.  SoftIrqs here are
 * tasks that hard IRQs never interrupt with TCP work, so plain spin_lock()
 * everywhere, as udp.c.
 */
#ifndef NOS_NET_TCP_PRIV_H
#define NOS_NET_TCP_PRIV_H

#include "net/ip.h"
#include "net/netbuf.h"
#include "net/tcp.h"
#include "kernel/ktimer.h"
#include "kernel/lock_order.h"
#include "kernel/spinlock.h"
#include "kernel/waitq.h"
#include "lib/list.h"
#include "lib/ring.h"

/* ------------------------------------------------------------ constants */

#define TCP_TICK_MS 10              /* the TCP-wide tick while deadlines are pending */
#define TCP_RTO_INIT_MS 1000        /* RFC 6298 2.1 */
#define TCP_RTO_MIN_MS 200          /* below RFC 6298's 1 s, as Linux: LAN and slirp RTTs */
#define TCP_RTO_MAX_MS 30000
#define TCP_SYN_RETRIES 6           /* retransmissions of our SYN, then -ETIMEDOUT */
#define TCP_SYNACK_RETRIES 5        /* of a SYN-ACK, then the half-open conn goes */
#define TCP_DATA_RETRIES 12         /* timer retransmissions of one segment */
#define TCP_DELACK_MS 20            /* an ACK is delayed at most this (plus a tick) */
#define TCP_MSL_MS 30000            /* TIME_WAIT lasts 2 * MSL */
#define TCP_FIN_WAIT2_MS 60000      /* an orphaned FIN_WAIT_2 waits this for the peer's FIN */
#define TCP_TIME_WAIT_MAX 256       /* beyond, the oldest TIME_WAIT conn is recycled */
#define TCP_OOO_MAX 128             /* out-of-order segments kept per connection */
#define TCP_CHALLENGE_PER_S 100     /* RFC 5961 challenge ACKs, TCP-wide */
#define TCP_DUPACK_THRESH 3
#define TCP_ACK_STRETCH 16          /* full segments an ACK may wait for within one batch */
#define TCP_MSS_DEFAULT 536         /* the peer's MSS when its SYN names none */
#define TCP_MSS_MIN 64              /* a smaller MSS option is raised to this */
#define TCP_WSCALE_MAX 14           /* RFC 7323 */
#define TCP_CWND_MAX (1u << 30)
#define TCP_HASH 256                /* demux buckets */
#define TCP_LHASH 32                /* listener buckets */

/* Header flags (RFC 9293 3.1). */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

/* Options. */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WS 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCP_OPT_SYN_LEN 12          /* MSS (4) + NOP + WS (3) + NOP NOP SACK-permitted (2) */
#define TCP_SACK_BLOCKS 4           /* SACK blocks in one ACK (no timestamps: 36 bytes) */
#define TCP_OPT_MAX 40

#define NS_PER_MS 1000000ull

struct tcp_hdr {
	u16 sport, dport;           /* network byte order, as every field */
	u32 seq, ack;
	u8 off;                     /* data offset in words << 4 */
	u8 flags;
	u16 wnd;
	u16 csum;
	u16 urg;
} __attribute__((packed));
_Static_assert(sizeof(struct tcp_hdr) == TCP_HLEN, "tcp_hdr is 20 bytes");

/* ------------------------------------------------------ sequence numbers */

static inline bool seq_lt(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

static inline bool seq_leq(u32 a, u32 b)
{
	return (s32)(a - b) <= 0;
}

static inline bool seq_gt(u32 a, u32 b)
{
	return (s32)(a - b) > 0;
}

static inline bool seq_geq(u32 a, u32 b)
{
	return (s32)(a - b) >= 0;
}

#define SEQ_LT(a, b) seq_lt((a), (b))
#define SEQ_LEQ(a, b) seq_leq((a), (b))
#define SEQ_GT(a, b) seq_gt((a), (b))
#define SEQ_GEQ(a, b) seq_geq((a), (b))

/* ---------------------------------------------------------- connections */

/*
 * A connection.  Legend: [I] set before it is in the table, then fixed;
 * [t] the table lock; [c] its own lock ("tcp conn"); [l] its listener's
 * lock; [a] atomic (read by wait conditions without a lock); [o] the
 * owner's task only (the rings' producer/consumer ends it drives).
 * Fields marked [c,a] are written under the lock and read atomically.
 *
 * References: one while it is in the table, one for the owner until
 * tcp_close()/tcp_abort(), one while it sits on a listener's queue, one
 * per input or timer pass working on it.  The last frees it.
 */
struct tcp_conn {
	struct list_head hlink;         /* [t] demux hash chain */
	struct list_head all;           /* [t] every hashed conn, oldest first */
	struct list_head twlink;        /* [t] the TIME_WAIT list */
	struct list_head reaplink;      /* [t] the reap list (TIME_WAIT recycling) */
	struct list_head ticklink;      /* the tick's private work list */
	struct list_head wakelink;      /* [w] the deferred-wake list (tcp_timer.c) */
	bool wake_queued;               /* [w] written, [a] read: on that list */
	bool ack_later;                 /* [c] an ACK is owed at the end of the input batch */
	struct list_head lnode;         /* [l] on its listener's half-open or accept list */
	bool hashed, in_tw, reaping;    /* [t] */
	bool eph;                       /* [t] lport is marked in the ephemeral bitmap */
	bool on_ready;                  /* [l] lnode is on the accept queue (else half-open) */
	u64 id;                         /* [I] creation order, for tcp_for_each */
	u32 refs;                       /* [a] */

	struct ip_addr laddr, raddr;    /* [I] */
	u16 lport, rport;               /* [I] host order */
	u32 sndbuf, rcvbuf;             /* [I] ring sizes (powers of two) */

	spinlock_t lock;
	struct waitq wait;              /* the owner's waits: connect, send, recv, flush */

	enum tcp_state state;           /* [c,a] */
	int error;                      /* [c,a] what it died of, 0 while alive */
	int soft_error;                 /* [c] the last soft ICMP error since progress, 0: none */
	bool owned;                     /* [c] an owner holds it */
	bool orphan;                    /* [c] the owner gave it up (tcp_close/tcp_abort) */
	bool passive;                   /* [I] came from a listener */
	bool nodelay;                   /* [c] */
	bool shut_wr;                   /* [c,a] FIN queued after the data */
	bool fin_rcvd;                  /* [c,a] the peer's FIN is in order: EOF after the ring */
	bool ack_now;                   /* [c] send an ACK at the next output */
	bool ws_ok;                     /* [c] both sides scale windows */
	bool sack_ok;                   /* [c] both sides offered SACK (RFC 2018): our ACKs carry blocks */
	bool in_recovery;               /* [c] NewReno fast recovery */
	bool rtt_timing;                /* [c] a segment is being timed */
	bool persist;                   /* [c] rexmt_at is the persist timer */
	bool timed;                     /* [c] counted in tcp_timer's ntimed */
	bool force_send;                /* [c] the persist timer pushes a small segment */
	struct tcp_listener *listener;  /* [c] a passive conn's listener until accepted */

	/* send side [c]; the ring's producer end is [o] */
	u32 iss, snd_una, snd_nxt, snd_max;
	u32 snd_wnd, max_sndwnd;        /* bytes, scaled */
	u32 pushed_seq;                 /* [c] the end of the last segment sent with PSH */
	u32 snd_wl1, snd_wl2;
	u8 snd_wscale, rcv_wscale;
	u16 mss;                        /* what we send at most */
	u16 our_mss;                    /* what we told the peer */
	u32 cwnd, ssthresh, recover, ca_acked;
	u32 dupacks;
	struct ring snd;
	u8 *snd_mem;

	/* receive side [c]; the ring's consumer end is [o] */
	u32 irs, rcv_nxt, rcv_adv;      /* rcv_adv: the right edge we advertised */
	u32 rcv_mss;                    /* the peer's segment size, as seen */
	u32 rcv_unacked;                /* bytes taken in since our last ACK */
	struct ring rcv;
	u8 *rcv_mem;
	struct list_head ooo;           /* netbufs beyond rcv_nxt, by sequence */
	u32 sack_last;                  /* seq of the latest segment kept there (its block goes first) */
	unsigned nooo;

	/* round trip and timers [c] */
	u32 srtt_us, rttvar_us, rto_ms;
	u32 rtt_seq;
	u64 rtt_start;
	unsigned retries;               /* expiries without progress */
	unsigned persist_shift;         /* persist backoff: probes sent in this zero window */
	u32 snd_want;                   /* [a] free send-ring bytes the writer waits for, 0: none */
	bool rcv_waiting;               /* [a] the reader sleeps for data */
	u64 rexmt_at, delack_at, tw_at; /* deadlines (time_ns), 0: off */
	u64 deadline;                   /* [c,a] the earliest of them, 0: none */

	/* counters [c] */
	u64 bytes_sent, bytes_received, retransmits;
};

/*
 * A listener.  Legend: [I] fixed once in the table; [t] table lock; [l]
 * its own lock ("tcp listener"); [a] atomic.  References: one for the
 * owner until tcp_listener_close(), one while in the table, one per child
 * (a connection that came from it and is not yet accepted), one per input
 * pass using it.
 */
struct tcp_listener {
	struct list_head link;          /* [t] listener hash chain */
	struct list_head all;           /* [t] every listener, for tcp_for_each */
	u64 id;                         /* [I] */
	u16 port;                       /* [I] */
	unsigned backlog;               /* [I] */
	u32 refs;                       /* [a] */
	spinlock_t lock;
	bool closed;                    /* [l,a] */
	u32 sndbuf, rcvbuf;             /* [l] what children get */
	struct list_head half;          /* [l] SYN_RECEIVED children */
	struct list_head ready;         /* [l] established, waiting for tcp_accept() */
	unsigned nhalf, nready;         /* [l,a] */
	struct waitq wait;              /* tcp_accept() */
};

/* A parsed incoming segment (host order); data/len the payload. */
struct tcp_seg {
	u32 seq, ack;
	u8 flags;
	u16 wnd;                        /* as on the wire, unscaled */
	const u8 *data;
	u32 len;                        /* payload bytes */
	bool has_mss, has_ws, has_sack_perm;
	u16 mss;
	u8 ws;
};

/* A frame's sequence length: payload plus one for each of SYN and FIN. */
static inline u32 tcp_seg_seqlen(const struct tcp_seg *s)
{
	return s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
}

/* ------------------------------------------------------- tcp.c internals */

/* TCP-wide counters (atomic). */
extern struct tcp_stats tcp_st;
#define TCP_STAT_INC(field) __atomic_fetch_add(&tcp_st.field, 1, __ATOMIC_RELAXED)

void tcp_conn_get(struct tcp_conn *c);
void tcp_conn_put(struct tcp_conn *c);
void tcp_listener_put(struct tcp_listener *l);

/* The connection for a 4-tuple, with a reference, or NULL. */
struct tcp_conn *tcp_lookup(const struct ip_addr *laddr, u16 lport, const struct ip_addr *raddr,
			    u16 rport);
/* The listener on @port, with a reference, or NULL. */
struct tcp_listener *tcp_listener_lookup(u16 port);

/*
 * A passive open: a new SYN_RECEIVED child of @l for the SYN @s that came
 * in @nb.  Sends the SYN-ACK.  No reference is returned.  0, or -errno when
 * the SYN was dropped (counted).
 */
int tcp_passive_open(struct tcp_listener *l, const struct netbuf *nb, const struct tcp_seg *s);

/*
 * Kill @c (lock held): state CLOSED with @err (0: a clean end; -ETIMEDOUT
 * becomes the soft ICMP error recorded, if any), every deadline off, out
 * of the table and off its listener, waiters woken.  The caller holds a
 * reference of its own.
 */
void tcp_conn_drop(struct tcp_conn *c, int err);

/* @c (lock held) entered TIME_WAIT: the deadline, the TIME_WAIT list, rings freed if orphaned. */
void tcp_enter_time_wait(struct tcp_conn *c);

/* A passive @c (lock held) completed its handshake: onto its listener's accept queue. */
int tcp_conn_established_passive(struct tcp_conn *c);

/* The absolute deadline for @timeout_ns from now (0: none). */
u64 tcp_deadline(u64 timeout_ns);
/* Sleep on @wq until @cond or @deadline (0: none): 0, -ETIMEDOUT, -EINTR.  Task context. */
int tcp_wait(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 deadline);

static inline enum tcp_state tcp_state_of(const struct tcp_conn *c)
{
	return __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
}

static inline int tcp_error_of(const struct tcp_conn *c)
{
	return __atomic_load_n(&c->error, __ATOMIC_ACQUIRE);
}

/* Drop the lock of @c and do what may only happen with no TCP lock held. */
void tcp_unlock(struct tcp_conn *c);

/* ISN for a 4-tuple, RFC 6528. */
u32 tcp_isn(const struct ip_addr *laddr, u16 lport, const struct ip_addr *raddr, u16 rport);

/* Allocate @c's rings (lock held or not yet visible): 0 or -ENOMEM. */
int tcp_conn_alloc_rings(struct tcp_conn *c);

/* The smallest window shift that fits @bufsize in 16 bits. */
u8 tcp_wscale_for(u32 bufsize);

/* Every hashed conn whose deadline is at or before @now, with a reference, onto @out (ticklink). */
void tcp_collect_due(u64 now, struct list_head *out);

/* Free the rings of an orphaned @c that will never move data again (lock held). */
void tcp_conn_free_rings(struct tcp_conn *c);

/* Recycle TIME_WAIT victims and the like; call with no TCP lock held. */
void tcp_reap(void);

/* ----------------------------------------------------------- tcp_in.c */

void tcp_input(struct netbuf *nb);
struct icmp_error;
/* An ICMP error quoting one of our segments (icmp.c's handler for TCP, NET_RX SoftIrq). */
void tcp_icmp_error(const struct icmp_error *e);
/* Free every out-of-order netbuf (lock held). */
void tcp_ooo_purge(struct tcp_conn *c);

/* ---------------------------------------------------------- tcp_out.c */

/* Send what the windows allow, and an ACK if one is due (lock held). */
void tcp_output(struct tcp_conn *c);
/* An ACK now (lock held). */
void tcp_send_ack(struct tcp_conn *c);
/* Our SYN or SYN-ACK (lock held). */
int tcp_send_syn(struct tcp_conn *c);
/* A RST from @c's current state (lock held). */
void tcp_send_rst_conn(struct tcp_conn *c);
/* Retransmit the first unacknowledged segment (lock held). */
void tcp_retransmit_first(struct tcp_conn *c);
/* A zero-window probe: <SEQ=snd_una-1, ACK>, no data (lock held). */
void tcp_send_probe(struct tcp_conn *c);
/* A challenge ACK, rate-limited TCP-wide (lock held). */
void tcp_send_challenge_ack(struct tcp_conn *c);
/* The window we advertise now, and rcv_adv moved if it should (lock held). */
u32 tcp_rcv_window(struct tcp_conn *c);
/* Would reading have opened the window enough for a pure window update? (lock held) */
bool tcp_window_update_due(struct tcp_conn *c);
/* Answer @s (which came in @nb, for no connection) with a RST, unless it is one. */
void tcp_send_reset_for(const struct netbuf *nb, const struct tcp_seg *s);

/* -------------------------------------------------------- tcp_timer.c */

/* Recompute @c's earliest deadline after changing one (lock held). */
void tcp_timer_update(struct tcp_conn *c);
/* Arm or stop the tick to match what is pending; no TCP lock held. */
void tcp_timer_sync(void);
/* (Re)start the retransmission timer from now with the current RTO, backed off. */
void tcp_timer_rexmt_start(struct tcp_conn *c);
void tcp_timer_rexmt_stop(struct tcp_conn *c);
/* Start the persist timer if it is needed and nothing else runs (lock held). */
void tcp_timer_persist_check(struct tcp_conn *c);
/*
 * Wake @c's waiters from the TCP SoftIrq, after the current NET_RX batch:
 * a reader woken per segment would preempt input once per segment.  Any
 * context; takes a reference until done.
 */
void tcp_wake_later(struct tcp_conn *c);
/* Owe an ACK at the end of the current input batch (lock held). */
void tcp_ack_later(struct tcp_conn *c);
/* Arm the delayed ACK if it is not armed (lock held). */
void tcp_timer_delack(struct tcp_conn *c);
/* An RTT sample of @rtt_us (RFC 6298), lock held. */
void tcp_rtt_sample(struct tcp_conn *c, u32 rtt_us);
/* The current RTO with the backoff for @c's retries, in ns. */
u64 tcp_rto_ns(const struct tcp_conn *c);
void tcp_timer_init(void);
/* (Re)install the TCP SoftIrq's handler: tcp_init() does, every time it is called. */
void tcp_timer_register(void);
/* Every connection whose deadline passed: run its timers (the tick's work). */
void tcp_timer_tick(void);

/* ------------------------------------------------------ test-only hooks */

/* Narrow the ephemeral range to lo..hi (0, 0: the default). */
void tcp_test_set_ephemeral(u16 lo, u16 hi);
/* Free at once, sending nothing, every TIME_WAIT and every orphaned connection. */
void tcp_test_flush(void);

#endif
