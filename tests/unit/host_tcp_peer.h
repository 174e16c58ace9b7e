/*
 * host_tcp_peer.h — a scripted TCP peer for the host tests of TCP
 * (host_tcp*.c), in the way of lwIP's test/unit/tcp/tcp_helper.c: the test
 * is the other end of every connection, one segment at a time.
 *
 * The peer lives on the fake netdev's link (host_net.h: eth0 is 10.0.0.1,
 * the peer 10.0.0.2 at peer_mac) and answers ARP for itself.  It writes
 * segments from the peer's address and port to the stack's — any flags,
 * sequence and acknowledgement numbers, window, options (MSS, window
 * scale, SACK-permitted, timestamps, SACK blocks, or raw bytes), payload
 * and a right or a deliberately wrong checksum — and injects them; and it
 * pops the segments the stack sent and reads them back: flags, numbers,
 * window (raw and scaled), options, payload, and whether the checksum
 * verifies over RFC 9293's pseudo-header.  The checksum here is summed
 * from the pseudo-header written out byte by byte, not with the stack's
 * ip_pseudo_sum(), so a wrong checksum in the stack cannot agree with a
 * wrong one in the test.
 *
 * The peer keeps the numbers a real peer would keep, so a test can speak
 * in terms of them: snd_nxt (the next sequence number the peer sends),
 * rcv_nxt (the next one it expects from the stack, the value it
 * acknowledges), the stack's ISN (irs), the window it advertises, and what
 * was negotiated on the handshake (the stack's MSS and window scale,
 * timestamps).  tp_push() sends at snd_nxt and moves it; tp_take() pops a
 * segment and moves rcv_nxt past it when it was in order.
 *
 * Blocking calls.  The shim runs a blocked task's world (SoftIrqs, then
 * the clock to the next timer) until it is woken (shim.h), so the peer
 * answers from a timer while the test's task waits: tp_later() runs a
 * script step in SoftIrq context after a delay, tp_every() periodically.
 * tp_sink() is a ready-made periodic step: a receiver that takes every
 * segment, keeps the bytes in order and acknowledges them.  A step
 * reports failures against the test that armed it (tp_init()).
 *
 * Every tcp_peer must end with tp_fini() (it stops the peer's timer), and
 * a test holds no netbuf at its end (NET_END()).  Host only.
 */
#ifndef NOS_HOST_TCP_PEER_H
#define NOS_HOST_TCP_PEER_H

#include "tests/unit/host_net.h"
#include "kernel/ktimer.h"
#include "net/tcp.h"
#include "net/tcp_priv.h"       /* the test hooks: tcp_test_flush(), tcp_test_set_ephemeral() */

/* Header flags (RFC 9293 §3.1). */
#define TP_FIN 0x01
#define TP_SYN 0x02
#define TP_RST 0x04
#define TP_PSH 0x08
#define TP_ACK 0x10
#define TP_URG 0x20

/*
 * The core's choices the RFCs leave open, as /work/briefs/tcp-notes.md
 * states them (the tests quote these, and check them against
 * net/tcp_priv.h's names where it has them).
 */
#define TN_TICK_MS 10           /* the TCP timer's period: deadlines are late by up to this */
#define TN_RTO_INIT_MS 1000
#define TN_RTO_MIN_MS 200
#define TN_RTO_MAX_MS 30000
#define TN_SYN_RETRIES 6        /* retransmissions, the first SYN not counted */
#define TN_SYNACK_RETRIES 5
#define TN_DATA_RETRIES 12      /* the 13th expiry fails the connection, with a RST */
#define TN_DELACK_MS 20         /* an ACK is delayed 20..30 ms (the tick) */
#define TN_MSS 1460             /* ours on a 1500-byte MTU */
#define TN_WS 3                 /* our shift for the 256 KiB default buffer */
#define TN_IW 14600             /* initial cwnd with MSS 1460 (RFC 6928) */
#define TN_TIME_WAIT_MS 60000   /* 2 * MSL */
#define TN_FIN_WAIT2_MS 60000   /* an orphan in FIN_WAIT_2 is freed after this */
#define TN_TIME_WAIT_MAX 256
#define TN_CHALLENGE_PER_S 100

/* A sequence or acknowledgement number that tp_expect() does not check. */
#define TP_ANY (~0ull)
/* Flags that tp_expect() does not compare (PSH is the sender's business). */
#define TP_IGNORED_FLAGS TP_PSH

#define TP_PORT 40000           /* the peer's usual port */
#define TP_DATA_MAX 1600        /* payload bytes a segment may carry here */
#define TP_OPT_MAX 40           /* option bytes in a header */

/* TCP options, written or read.  A field is present when its has_ bit is set. */
struct tp_opts {
	bool has_mss, has_ws, sack_ok, has_ts;
	u16 mss;
	u8 ws;
	u32 tsval, tsecr;
	u8 nsack;                   /* SACK blocks, [left, right) */
	u32 sack[4][2];
	u8 order[8];                /* read: the option kinds in the order they came */
	u8 norder;
	bool malformed;             /* read: an option ran off the end or had a bad length */
};

/* One segment: to inject (tp_build()) or as the stack sent it (tp_pop()). */
struct tp_seg {
	u32 src, dst;               /* host order */
	u16 sport, dport;
	u32 seq, ack;
	u8 flags;
	u16 win;                    /* the raw window field */
	u16 urg;
	struct tp_opts o;
	u32 len;                    /* payload bytes */
	u8 data[TP_DATA_MAX];
	/* building only */
	const u8 *raw_opts;         /* these option bytes instead of o (padded to 4) */
	u8 raw_opts_len;
	int doff;                   /* the data offset field (words); 0: the right one */
	u16 csum_xor;               /* XORed into the right checksum: non-zero is wrong */
	/* reading only */
	u8 hlen;                    /* header bytes (data offset * 4) */
	bool csum_ok;
	u8 ttl;
	u64 at;                     /* time_ns() when it was popped */
};

struct tcp_peer {
	struct ktest_ctx *kt;
	struct fake_netdev *f;
	u32 ip, our_ip;             /* the peer's address, the stack's */
	u16 port, our_port;         /* the peer's port, the stack's */

	/* what the peer puts on its SYN (set before the handshake) */
	u16 mss;                    /* 0: no MSS option */
	bool offer_ws, offer_ts, offer_sack;
	u8 ws;                      /* the shift it offers */

	/* the peer's sending side */
	u32 iss;                    /* the peer's ISN */
	u32 snd_nxt;
	u32 wnd;                    /* the window it advertises, bytes (scaled by ws when on) */
	u32 ts_clock;               /* its timestamp clock (tsval) */

	/* the stack's sending side, as the peer sees it */
	u32 irs;                    /* the stack's ISN */
	u32 rcv_nxt;                /* the next byte expected: what the peer acknowledges */
	u32 snd_una;                /* the highest ACK the stack sent (tp_pop() keeps it) */
	u32 snd_wnd;                /* the window that ACK advertised, bytes */
	bool una_valid;
	u32 ts_recent;              /* the stack's last tsval, echoed */

	/* negotiated on the handshake */
	bool ws_on, ts_on, sack_on;
	u8 stack_ws;                /* the shift the stack announced */
	u16 stack_mss;              /* the MSS the stack announced (536 when none) */
	struct tp_seg syn;          /* the stack's SYN or SYN-ACK */

	struct tp_seg last;         /* the segment tp_expect()/tp_take() saw last */

	/* tp_later()/tp_every() */
	struct ktimer timer;
	void (*step)(struct tcp_peer *p);
	unsigned steps;

	/* tp_sink(): the bytes received in order, and what it did */
	u8 *rx;
	u32 rx_cap, rx_len;
	bool rx_fin;                /* the stack's FIN arrived (and was acknowledged) */
	bool sink_quiet;            /* do not acknowledge (a peer that stopped answering) */
	unsigned sink_acks, sink_segs;
	u32 sink_max_len;           /* the largest payload it saw */
	u32 sink_min_wnd;           /* the smallest window it saw advertised */
};

/* --------------------------------------------------------------- set-up */

/*
 * A peer on @f at PEER_IP:@port, for the stack at OUR_IP: it answers ARP
 * for PEER_IP (fake_netdev_peer()), offers MSS 1460 and nothing else,
 * advertises 65535 bytes, ISN 0x10000000.  Change the fields before the
 * handshake to offer more.
 */
void tp_init(struct ktest_ctx *kt, struct tcp_peer *p, struct fake_netdev *f, u16 port);
/* Stop the peer's timer.  The peer's memory is the test's. */
void tp_fini(struct tcp_peer *p);

/* ------------------------------------------------------------- building */

/* A segment from @p to the stack with @flags, @seq, @ack, the peer's window and, when
 * timestamps are on, a TS option; SYN options when @flags has SYN. */
void tp_seg_init(const struct tcp_peer *p, struct tp_seg *s, u8 flags, u32 seq, u32 ack);
/* Write @s as a TCP header, options and payload into @tcp (60 + TP_DATA_MAX bytes): its length. */
u32 tp_build(const struct tp_seg *s, u8 *tcp);
/* Inject @len bytes @tcp as the payload of an IPv4 packet from @src to @dst on @p's link. */
void tp_inject_raw(struct tcp_peer *p, u32 src, u32 dst, const u8 *tcp, u32 len);
/* Build @s and inject it. */
void tp_inject(struct tcp_peer *p, const struct tp_seg *s);

/* Send @flags with @seq, @ack and @len bytes of @data (may be NULL: zeros). */
void tp_send(struct tcp_peer *p, u8 flags, u32 seq, u32 ack, const void *data, u32 len);
/* Send @flags at snd_nxt acknowledging rcv_nxt (ACK added unless SYN or RST is given), then
 * move snd_nxt past the data (and past SYN or FIN). */
void tp_push(struct tcp_peer *p, u8 flags, const void *data, u32 len);
/* An ACK of rcv_nxt, at snd_nxt. */
void tp_ack(struct tcp_peer *p);
/* The window field for @bytes as the peer would write it (scaled when negotiated). */
u16 tp_wnd_field(const struct tcp_peer *p, u32 bytes);

/* -------------------------------------------------------------- reading */

/* Read @nb (a frame the stack sent) into @s: false when it is not TCP. */
bool tp_parse(const struct netbuf *nb, struct tp_seg *s);
/*
 * The next TCP segment the stack sent (other frames are dropped on the
 * way), into @s: false when there is none.  Notes the stack's timestamp.
 */
bool tp_pop(struct tcp_peer *p, struct tp_seg *s);
/* Drop every frame the stack sent so far: how many TCP segments were among them. */
unsigned tp_drain(struct tcp_peer *p);
/* The window @s advertises in bytes (scaled by the stack's shift unless it is a SYN). */
u32 tp_wnd(const struct tcp_peer *p, const struct tp_seg *s);
/* "SYN|ACK seq=irs+0 ack=iss+1 win=65535 len=0 <mss 1460,ws 7>" into @buf. */
char *tp_describe(const struct tcp_peer *p, const struct tp_seg *s, char *buf, size_t size);
/* "SYN|ACK" */
char *tp_flags_str(u8 flags, char *buf, size_t size);

/*
 * Pop the next segment into p->last and check its flags (exactly, but for
 * TP_IGNORED_FLAGS), its seq and ack (unless TP_ANY) and its checksum;
 * fail the test with both segments described if it differs or none came.
 * True when it matched.
 */
bool tp_expect_at(struct tcp_peer *p, u8 flags, u64 seq, u64 ack, const char *file, int line);
#define TP_EXPECT(p, flags, seq, ack) tp_expect_at((p), (flags), (seq), (ack), __FILE__, __LINE__)
/* The next segment is a RST (ACK may be set) with @seq (unless TP_ANY) and no data. */
bool tp_expect_rst_at(struct tcp_peer *p, u64 seq, const char *file, int line);
#define TP_EXPECT_RST(p, seq) tp_expect_rst_at((p), (seq), __FILE__, __LINE__)
/* No TCP segment was sent (fail with the one that was, popped). */
bool tp_expect_none_at(struct tcp_peer *p, const char *file, int line);
#define TP_EXPECT_NONE(p) tp_expect_none_at((p), __FILE__, __LINE__)

/*
 * Move the clock @step_ns at a time until the stack sends a TCP segment
 * (into @s, s->at when it was seen) or @max_ns have passed: false then.
 */
bool tp_wait_seg(struct tcp_peer *p, u64 step_ns, u64 max_ns, struct tp_seg *s);

/*
 * Pop the next segment into p->last; when it starts at rcv_nxt move
 * rcv_nxt past its data, SYN and FIN.  False when none was sent.
 */
bool tp_take(struct tcp_peer *p);

/* ------------------------------------------------------------ handshakes */

/*
 * Take the stack's SYN (already popped into @syn): note its ISN, port and
 * options, and answer SYN-ACK from the peer's ISN (with the peer's
 * options).  rcv_nxt becomes irs + 1, snd_nxt iss + 1.
 */
void tp_answer_syn(struct tcp_peer *p, const struct tp_seg *syn);
/*
 * Take in what the stack's SYN or SYN-ACK @s says (its ISN, MSS and the
 * options both sides then use), as tp_connect() and tp_accept() do; for a
 * test that drives a handshake step by step.
 */
void tp_note_syn(struct tcp_peer *p, const struct tp_seg *s);
/*
 * Active open: tcp_connect() to the peer, which answers the SYN from a
 * timer; then the stack's ACK is checked.  0 with *@out, or tcp_connect()'s
 * error.
 */
int tp_connect(struct tcp_peer *p, struct tcp_conn **out);
/*
 * Passive open: the peer sends SYN to @l's port, checks the SYN-ACK,
 * acknowledges it, and tcp_accept() takes the connection.  0 with *@out,
 * or an error (the test is failed on the way if the SYN-ACK is wrong).
 */
int tp_accept(struct tcp_peer *p, struct tcp_listener *l, struct tcp_conn **out);

/* ------------------------------------------------ the peer while we wait */

/* Run @step(@p) in SoftIrq context @delay_ns from now, once (replacing any step armed). */
void tp_later(struct tcp_peer *p, u64 delay_ns, void (*step)(struct tcp_peer *p));
/* ...every @period_ns until tp_stop(). */
void tp_every(struct tcp_peer *p, u64 period_ns, void (*step)(struct tcp_peer *p));
void tp_stop(struct tcp_peer *p);

/*
 * A receiving peer, for tp_every(): pop every segment; keep in-order data
 * in rx (up to rx_cap) and move rcv_nxt; acknowledge FIN; send one ACK
 * per call when anything arrived (none while sink_quiet).
 */
void tp_sink(struct tcp_peer *p);
/* Give the sink @buf of @cap bytes and empty it. */
void tp_sink_buffer(struct tcp_peer *p, u8 *buf, u32 cap);

/* ----------------------------------------------------------------- data */

/* Push @len bytes of stream @stream from offset @off (at most TP_DATA_MAX). */
void tp_push_pattern(struct tcp_peer *p, u8 flags, u32 stream, u32 off, u32 len);

/*
 * The peer sends @len bytes of @stream (from offset @off) in segments of
 * at most the stack's MSS, never past the window the stack advertised,
 * while the test's task reads them with tcp_recv() — the clock moves when
 * nothing else can.  Returns how many bytes were read and matched (@len
 * when all did); a mismatch fails the test.
 */
u32 tp_stream_in(struct tcp_peer *p, struct tcp_conn *c, u32 stream, u32 off, u32 len);

/*
 * tcp_send() @len bytes of @stream from offset @off while tp_sink() plays
 * the peer every @period_ns, then tcp_flush(); true when all of it was
 * acknowledged and arrived (in rx, when it fits) byte for byte.
 */
bool tp_stream_out(struct tcp_peer *p, struct tcp_conn *c, u32 stream, u32 off, u32 len,
		   u64 period_ns);

/*
 * tcp_send(), tcp_recv(), tcp_flush() under shim_catch_panic(): a panic in
 * TCP fails the test with its message and returns -EFAULT instead of
 * ending the test with the connection still in TCP's tables.
 */
s64 tp_safe_send(struct tcp_peer *p, struct tcp_conn *c, const void *buf, size_t len,
		 u64 timeout_ns);
s64 tp_safe_recv(struct tcp_peer *p, struct tcp_conn *c, void *buf, size_t len, u64 timeout_ns);
int tp_safe_flush(struct tcp_peer *p, struct tcp_conn *c, u64 timeout_ns);

/* Read exactly @len bytes into @buf (several tcp_recv() calls): the count read, or an error. */
s64 tp_recv_exact(struct tcp_conn *c, void *buf, u32 len, u64 timeout_ns);

/* Byte @i of the test's data stream @stream (deterministic, not periodic in 256). */
static inline u8 tp_byte(u32 stream, u32 i)
{
	u32 x = (i + 1) * 2654435761u ^ (stream * 0x9E3779B9u);

	return (u8)(x >> 13 ^ x >> 24);
}

/* Fill @buf with bytes @off.. of @stream. */
static inline void tp_fill(u8 *buf, u32 len, u32 stream, u32 off)
{
	for (u32 i = 0; i < len; i++)
		buf[i] = tp_byte(stream, off + i);
}

/* Index of the first byte of @buf that is not byte @off+i of @stream, or @len. */
static inline u32 tp_check(const u8 *buf, u32 len, u32 stream, u32 off)
{
	for (u32 i = 0; i < len; i++)
		if (buf[i] != tp_byte(stream, off + i))
			return i;
	return len;
}

/* The connection's snapshot. */
static inline struct tcp_conn_info tp_info(struct tcp_conn *c)
{
	struct tcp_conn_info i;

	tcp_conn_get_info(c, &i);
	return i;
}

static inline struct tcp_stats tp_stats(void)
{
	struct tcp_stats s;

	tcp_get_stats(&s);
	return s;
}

/* -------------------------------------------------------- a test's frame */

/*
 * TCP_BEGIN(): NET_BEGIN() on eth0 (10.0.0.1/24), the peer `p` at
 * 10.0.0.2:TP_PORT, known to ARP; first, what an earlier test that failed
 * half-way left is cleared as far as the hooks allow, and TCP's SoftIrq
 * handler is put back (tp_begin()).
 * TCP_END(): stop the peer, put the ephemeral range back
 * (tcp_test_set_ephemeral(0, 0)), free what TCP keeps after its owners
 * closed (TIME_WAIT, orphans: tcp_test_flush()), fail the test for any
 * connection or listener still there, then NET_END()'s netbuf check.
 */
#define TCP_BEGIN()                                                            \
	NET_BEGIN(OUR_SPEC);                                                   \
	struct tcp_peer peer_, *p = &peer_;                                    \
	tp_begin(kt);                                                          \
	tp_init(kt, p, f, TP_PORT);                                            \
	learn_peer(f)

#define TCP_END()                                                              \
	do {                                                                   \
		tp_end(p);                                                     \
		NET_END();                                                     \
	} while (0)

void tp_begin(struct ktest_ctx *kt);
void tp_end(struct tcp_peer *p);

/* How many connections TCP holds now (half-open and TIME_WAIT included). */
unsigned tp_conns(void);
/* The state of the connection on local port @lport (and peer port @rport, 0: any) per
 * tcp_for_each(), or TCP_STATES when there is none. */
enum tcp_state tp_state_of(u16 lport, u16 rport);

/* The TCP checksum of @len bytes @tcp (its checksum field as it is) from @src to @dst
 * (host order): 0 over a segment whose checksum is right. */
u16 tp_tcp_sum(u32 src, u32 dst, const u8 *tcp, u32 len);

#endif
