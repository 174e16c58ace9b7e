/*
 * fuzz_tcp_states.c — TCP segment input (net/tcp*.c, through the fake
 * netdev and the real IPv4 below it) against a connection brought to any
 * of RFC 9293's states, several segments an input, with the clock moving
 * between them so that the timers run on what the segments left.
 *
 * Per input, from nothing: eth0 and the scripted peer of host_tcp_peer.h
 * (TCP_BEGIN()), then the connection is walked to the state byte 0 names
 * with the peer's help (below), then the segments of the input arrive
 * from the peer one by one.  After each, everything the stack sent is
 * popped and checked (a TCP checksum that verifies, options that parse,
 * from 10.0.0.1), the peer follows the stack's sequence space as a real
 * peer does (rcv_nxt moves over in-order segments, a SYN-ACK gives the
 * stack's ISN), and the connection's invariants are checked: a valid
 * state; snd_una <= snd_nxt <= snd_max in sequence space; neither ring
 * holding more than its size; rcv_nxt where the receive ring's head says
 * (irs + 1 + bytes received + the FIN); the out-of-order queue within
 * TCP_OOO_MAX.  Then the teardown, as byte 1 says: tcp_abort() of our
 * connection and the listener closed; or a graceful close — the peer put
 * back in step with the connection (the segments may have left it where
 * the stack rightly accepts nothing from it), tcp_close(), the peer
 * acknowledging whatever comes (tp_sink()) and sending its own FIN — with
 * the clock running until nothing but TIME_WAIT is left (at most 65 s: an
 * RTO is at most 30 s, an orphaned FIN_WAIT_2 lasts 60 s) and, for one
 * value of byte 1 (0xff), 2 MSL more, after which nothing may be left.
 * TCP_END() then frees what TIME_WAIT still holds and checks that no
 * connection, listener, timer or netbuf is left, per input.
 *
 * Input layout:
 *   byte 0    bits 0-3 the state, modulo 10: LISTEN, SYN_SENT, SYN_RCVD,
 *             ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING,
 *             LAST_ACK, TIME_WAIT; bit 4 passive open (a listener and
 *             tp_accept()) for the states past the handshake; bit 5
 *             TCP_NODELAY on; bit 6 the peer offers window scaling,
 *             timestamps and SACK; bit 7 we queue SEND_BYTES of data
 *             first in ESTABLISHED and CLOSE_WAIT (so segments meet
 *             unacknowledged data: retransmission, fast recovery)
 *   byte 1    the teardown: bit 2 clear abort, set graceful up to
 *             TIME_WAIT; 0xff graceful and TIME_WAIT run out
 *   then, per segment (at most MAX_SEGS, until the input ends):
 *     ctl     bit 0 seq := the peer's snd_nxt + the field; bit 1 ack :=
 *             the peer's rcv_nxt + the field (else the field as given);
 *             bit 2 leave the checksum as it is (else made right); bit 3
 *             the peer's snd_nxt moves past the segment (so the next one
 *             follows it); bits 4-7 how long the clock runs after it
 *             (delay_ns[]: none, 1 ms .. 15 s: RTOs, their backoff, the
 *             delayed ACK, a SYN-ACK's retransmission)
 *     len     2 bytes, big endian: bits 0-10 the segment's length (cut to
 *             the input and SEG_MAX), bit 15 our owner reads what was
 *             received after it (opening the window again)
 *     seg     the TCP header (ports rewritten to the connection's),
 *             options and payload; shorter than a header it goes in raw
 *
 * SYN_SENT: tcp_connect() blocks, so the segments come from the peer's
 * timer (tp_later()) while it waits, the first 1 ms after the SYN, each
 * next one after its delay; connect gives up after CONNECT_NS.  When the
 * segments completed the handshake, those left arrive as in the other
 * states.
 *
 * Cost: an input that aborts after a few segments is mostly set-up (the
 * link, a handshake, the walk to the state: about 2 ms here, as
 * fuzz_tcp_input's one segment).  Clock time is what makes an input slow:
 * every 10 ms of it with a TCP deadline pending is one TCP tick, so a
 * teardown that waits TIME_WAIT out (6,000 ticks, 50-300 ms here) is
 * one value of byte 1 in 256, and the delays stop at 15 s.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/time.h"

#define SEG_MAX (1500 - IP_HLEN)
#define MAX_SEGS 16
#define LPORT 8080
#define SEND_BYTES 3000
#define CONNECT_NS (2500 * NS_MS)
#define TEARDOWN_NS (65 * NS_S)
#define STEP_NS (250 * NS_MS)

enum {
	ST_LISTEN,
	ST_SYN_SENT,
	ST_SYN_RCVD,
	ST_ESTABLISHED,
	ST_FIN_WAIT_1,
	ST_FIN_WAIT_2,
	ST_CLOSE_WAIT,
	ST_CLOSING,
	ST_LAST_ACK,
	ST_TIME_WAIT,
	ST_COUNT
};

enum {
	B_PASSIVE = 1 << 4,
	B_NODELAY = 1 << 5,
	B_OPTIONS = 1 << 6,
	B_SEND = 1 << 7,
};

enum {
	C_REL_SEQ = 1 << 0,
	C_REL_ACK = 1 << 1,
	C_RAW_CSUM = 1 << 2,
	C_ADVANCE = 1 << 3,
};

#define L_READ 0x8000u
#define L_LEN 0x07ffu

static const u64 delay_ns[16] = {
	0, 0, 0, 0, NS_MS, 5 * NS_MS, 20 * NS_MS, 30 * NS_MS, 100 * NS_MS, 250 * NS_MS,
	500 * NS_MS, NS_S, 1500 * NS_MS, 3 * NS_S, 7 * NS_S, 15 * NS_S,
};

/* One input's run. */
struct run {
	struct ktest_ctx *kt;
	struct tcp_peer *p;
	struct tcp_conn *c;         /* ours, while we own it */
	struct tcp_listener *l;
	size_t at;                  /* the next input byte */
	unsigned segs;              /* segments fed */
	u8 mode;                    /* byte 0 */
	bool peer_fin;              /* the set-up sent the peer's FIN */
};

/* The run in progress, for the peer's timer step in SYN_SENT. */
static struct run *cur;

/* ------------------------------------------------------ what came back */

/* The peer reads a segment the stack sent: the stack's ISN, and rcv_nxt over in-order ones. */
static void follow(struct tcp_peer *p, const struct tp_seg *s)
{
	if (s->flags & TP_RST)
		return;
	if (s->flags & TP_SYN) {
		p->irs = s->seq;
		p->rcv_nxt = s->seq + 1 + s->len + !!(s->flags & TP_FIN);
		return;
	}
	if (s->seq == p->rcv_nxt)
		p->rcv_nxt += s->len + !!(s->flags & TP_FIN);
}

/* Pop and check every segment the stack sent. */
static void take_sent(struct run *r)
{
	struct ktest_ctx *kt = r->kt;
	struct tp_seg s;
	char d[200];

	while (tp_pop(r->p, &s)) {
		if (!s.csum_ok || s.o.malformed || s.src != OUR_IP || s.hlen < TCP_HLEN)
			ktest_fail(kt, __FILE__, __LINE__, "the stack sent a bad segment: %s",
				   tp_describe(r->p, &s, d, sizeof(d)));
		if (s.dport == r->p->port && s.dst == r->p->ip)
			follow(r->p, &s);
	}
}

/* ----------------------------------------------------------- invariants */

static void check_locked(struct ktest_ctx *kt, const struct tcp_conn *c)
{
	KT_EXPECT(c->state < TCP_STATES && c->state != TCP_LISTEN);
	if (c->state == TCP_CLOSED)
		return;
	if (!seq_leq(c->snd_una, c->snd_nxt) || !seq_leq(c->snd_nxt, c->snd_max))
		ktest_fail(kt, __FILE__, __LINE__, "%s: snd_una %u snd_nxt %u snd_max %u out of "
			   "order", tcp_state_name(c->state), c->snd_una - c->iss,
			   c->snd_nxt - c->iss, c->snd_max - c->iss);
	KT_EXPECT(c->nooo <= TCP_OOO_MAX);
	if (c->snd_mem)
		KT_EXPECT(ring_used(&c->snd) <= ring_size(&c->snd));
	if (!c->rcv_mem)
		return;
	KT_EXPECT(ring_used(&c->rcv) <= ring_size(&c->rcv));
	if (c->state != TCP_SYN_SENT &&
	    c->rcv_nxt != c->irs + 1 + c->rcv.head + (c->fin_rcvd ? 1 : 0))
		ktest_fail(kt, __FILE__, __LINE__, "%s: rcv_nxt irs+%u but %u bytes received%s",
			   tcp_state_name(c->state), c->rcv_nxt - c->irs, c->rcv.head,
			   c->fin_rcvd ? " and a FIN" : "");
}

/* Check the connection with the peer's 4-tuple, whoever holds it. */
static void check_conn(struct run *r)
{
	struct ip_addr us = ip_v4(OUR_IP), them = ip_v4(PEER_IP);
	struct tcp_conn *c = tcp_lookup(&us, r->p->our_port, &them, r->p->port);

	if (!c)
		return;
	spin_lock(&c->lock);
	check_locked(r->kt, c);
	spin_unlock(&c->lock);
	tcp_conn_put(c);
}

/* ---------------------------------------------------------- the segments */

/* The segment at the input's position into @seg, rewritten (see the top): its length. */
static u32 make_segment(struct run *r, u8 ctl, u32 n, u8 *seg)
{
	struct tcp_peer *p = r->p;
	u32 seq, hl;

	memcpy(seg, fuzz_data + r->at, n);
	r->at += n;
	if (n < TCP_HLEN)
		return n;
	put_be16(seg, p->port);
	put_be16(seg + 2, p->our_port);
	seq = get_be32(seg + 4) + ((ctl & C_REL_SEQ) ? p->snd_nxt : 0);
	put_be32(seg + 4, seq);
	if (ctl & C_REL_ACK)
		put_be32(seg + 8, p->rcv_nxt + get_be32(seg + 8));
	if (!(ctl & C_RAW_CSUM)) {
		put_be16(seg + 16, 0);
		put_be16(seg + 16, tp_tcp_sum(p->ip, p->our_ip, seg, n));
	}
	hl = (seg[12] >> 4) * 4u;
	if ((ctl & C_ADVANCE) && hl >= TCP_HLEN && hl <= n)
		p->snd_nxt = seq + (n - hl) + !!(seg[13] & TP_SYN) + !!(seg[13] & TP_FIN);
	return n;
}

/* Our owner reads whatever was received (never blocking: only what is there). */
static void owner_reads(struct run *r)
{
	static u8 buf[8192];

	while (r->c && tp_info(r->c).rcv_queued)
		if (tcp_recv(r->c, buf, sizeof(buf), NS_MS) <= 0)
			break;
}

/*
 * Feed the next segment of the input, if there is one: false at the end.
 * *@delay is how long the clock should run after it.
 */
static bool feed_one(struct run *r, u64 *delay)
{
	static u8 seg[SEG_MAX];
	u8 ctl;
	u32 len, n;

	if (r->segs >= MAX_SEGS || r->at + 3 > fuzz_size)
		return false;
	ctl = fuzz_data[r->at];
	len = get_be16(fuzz_data + r->at + 1);
	r->at += 3;
	n = (u32)MIN((size_t)(len & L_LEN), fuzz_size - r->at);
	n = MIN(n, (u32)SEG_MAX);
	n = make_segment(r, ctl, n, seg);
	r->segs++;
	tp_inject_raw(r->p, r->p->ip, r->p->our_ip, seg, n);
	fake_net_run();
	take_sent(r);
	if (len & L_READ)
		owner_reads(r);
	check_conn(r);
	*delay = delay_ns[ctl >> 4];
	return true;
}

/* Feed the rest of the input, moving the clock as it says. */
static void feed_rest(struct run *r)
{
	u64 delay;

	while (feed_one(r, &delay)) {
		if (delay)
			shim_clock_advance(delay);
		take_sent(r);
		check_conn(r);
	}
}

/* ------------------------------------------------------------ the states */

static int to_listen(struct run *r)
{
	int rc = tcp_listen(LPORT, 4, &r->l);

	r->p->our_port = LPORT;
	r->p->snd_nxt = r->p->iss;
	r->p->rcv_nxt = 0;
	return rc;
}

static int to_syn_rcvd(struct run *r)
{
	struct tp_seg s;
	int rc = to_listen(r);

	if (rc)
		return rc;
	tp_push(r->p, TP_SYN, NULL, 0);
	if (!tp_pop(r->p, &s) || s.flags != (TP_SYN | TP_ACK))
		return -EPROTO;
	tp_note_syn(r->p, &s);
	return 0;
}

static int to_established(struct run *r)
{
	int rc;

	if (!(r->mode & B_PASSIVE))
		return tp_connect(r->p, &r->c);
	rc = tcp_listen(LPORT, 4, &r->l);
	return rc ? rc : tp_accept(r->p, r->l, &r->c);
}

/* Our FIN sent (tcp_shutdown()) and taken by the peer, not yet acknowledged. */
static int to_fin_wait_1(struct run *r)
{
	int rc = to_established(r);

	if (rc || (rc = tcp_shutdown(r->c)))
		return rc;
	take_sent(r);
	return 0;
}

/* The peer's FIN, acknowledged by the stack. */
static int peer_fin(struct run *r)
{
	tp_push(r->p, TP_FIN, NULL, 0);
	r->peer_fin = true;
	take_sent(r);
	return 0;
}

static int to_state(struct run *r, unsigned st)
{
	int rc;

	switch (st) {
	case ST_LISTEN:
		return to_listen(r);
	case ST_SYN_RCVD:
		return to_syn_rcvd(r);
	case ST_ESTABLISHED:
		return to_established(r);
	case ST_FIN_WAIT_1:
		return to_fin_wait_1(r);
	case ST_FIN_WAIT_2:
		if ((rc = to_fin_wait_1(r)))
			return rc;
		tp_ack(r->p);
		take_sent(r);
		return 0;
	case ST_CLOSE_WAIT:
		return (rc = to_established(r)) ? rc : peer_fin(r);
	case ST_CLOSING:
		/* The peer's FIN crosses ours: it does not acknowledge ours. */
		if ((rc = to_fin_wait_1(r)))
			return rc;
		tp_send(r->p, TP_FIN | TP_ACK, r->p->snd_nxt, r->p->rcv_nxt - 1, NULL, 0);
		r->p->snd_nxt++;
		r->peer_fin = true;
		take_sent(r);
		return 0;
	case ST_LAST_ACK:
		if ((rc = to_established(r)) || (rc = peer_fin(r)) || (rc = tcp_shutdown(r->c)))
			return rc;
		take_sent(r);
		return 0;
	case ST_TIME_WAIT:
		if ((rc = to_fin_wait_1(r)))
			return rc;
		tp_ack(r->p);
		return peer_fin(r);
	}
	return -EINVAL;
}

static const enum tcp_state want[ST_COUNT] = {
	TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_ESTABLISHED, TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
};

/* ------------------------------------------------------------- SYN_SENT */

/* The peer's timer while tcp_connect() waits: the SYN first, then a segment per step. */
static void syn_sent_step(struct tcp_peer *p)
{
	struct run *r = cur;
	struct tp_seg s;
	u64 delay = 0;

	if (!r->segs) {
		if (!tp_pop(p, &s) || s.flags != TP_SYN) {
			ktest_fail(r->kt, __FILE__, __LINE__, "tcp_connect() sent no SYN");
			return;
		}
		p->our_port = s.sport;
		p->irs = s.seq;
		p->rcv_nxt = s.seq + 1;
		p->snd_nxt = p->iss;
	}
	if (feed_one(r, &delay))
		tp_later(p, MAX(delay, NS_MS), syn_sent_step);
}

static void run_syn_sent(struct run *r)
{
	struct ktest_ctx *kt = r->kt;
	struct ip_addr dst = ip_v4(PEER_IP);
	int rc;

	tp_later(r->p, NS_MS, syn_sent_step);
	rc = tcp_connect(&dst, TP_PORT, CONNECT_NS, &r->c);
	tp_stop(r->p);
	KT_EXPECT(rc == 0 || rc == -ECONNREFUSED || rc == -ETIMEDOUT || rc == -ECONNRESET);
	if (rc)
		r->c = NULL;
	take_sent(r);
	check_conn(r);
}

/* ------------------------------------------------------------- teardown */

static void only_time_wait(void *arg, const struct tcp_conn_info *i)
{
	if (i->state != TCP_TIME_WAIT && i->state != TCP_LISTEN)
		*(bool *)arg = false;
}

/* Is every connection left in TIME_WAIT (or none left)? */
static bool all_time_wait(void)
{
	bool only = true;

	tcp_for_each(only_time_wait, &only);
	return only;
}

/*
 * The peer put back in step with the connection: the segments may have
 * moved its snd_nxt where the stack never accepted anything, and then
 * nothing it sends is acceptable (which is the stack being right).  So it
 * goes on from the stack's rcv_nxt, acknowledging from snd_una unless what
 * it has seen lies within what the stack has sent.  When an out-of-order
 * segment left the stack's window mark (snd_wl1) beyond rcv_nxt, a peer
 * going on from rcv_nxt would have its window updates ignored for good
 * (RFC 9293 3.10.7.4 takes a window only from a segment at or past that
 * mark), which a real peer, whose sequence numbers never go back, cannot
 * cause: so first a window update from that mark, as such a peer's next
 * segment would be.
 */
static void resync(struct run *r)
{
	struct ip_addr us = ip_v4(OUR_IP), them = ip_v4(PEER_IP);
	struct tcp_conn *c = tcp_lookup(&us, r->p->our_port, &them, r->p->port);
	u32 wl1 = 0, una = 0;
	bool ahead = false;

	if (!c)
		return;
	spin_lock(&c->lock);
	if (c->state != TCP_SYN_SENT && c->state != TCP_CLOSED) {
		r->p->snd_nxt = c->rcv_nxt;
		if (seq_lt(r->p->rcv_nxt, c->snd_una) || seq_gt(r->p->rcv_nxt, c->snd_max))
			r->p->rcv_nxt = c->snd_una;
		ahead = seq_gt(c->snd_wl1, c->rcv_nxt);
		wl1 = c->snd_wl1;
		una = c->snd_una;
	}
	spin_unlock(&c->lock);
	tcp_conn_put(c);
	if (ahead)
		tp_send(r->p, TP_ACK, wl1, una, NULL, 0);
}

/*
 * Close ours, let the peer answer everything (and send its FIN), and run
 * the clock until nothing but TIME_WAIT is left (at most TEARDOWN_NS: an
 * RTO is 30 s at most, so every FIN is sent again and answered by then);
 * with @wait_tw, then 2 MSL more, after which nothing may be left.
 */
static void graceful(struct run *r, bool wait_tw)
{
	struct tcp_peer *p = r->p;
	u64 end = time_ns() + TEARDOWN_NS;

	resync(r);
	tcp_close(r->c);
	r->c = NULL;
	tcp_listener_close(r->l);
	r->l = NULL;
	take_sent(r);
	if (!r->peer_fin)
		tp_push(p, TP_FIN, NULL, 0);
	tp_every(p, 100 * NS_MS, tp_sink);
	while (time_ns() < end && !all_time_wait())
		shim_clock_advance(STEP_NS);
	tp_stop(p);
	take_sent(r);
	if (!all_time_wait()) {
		ktest_fail(r->kt, __FILE__, __LINE__, "%u connection(s) left %llu s after a close "
			   "(state %s)", tp_conns(), TEARDOWN_NS / NS_S,
			   tcp_state_name(tp_state_of(p->our_port, p->port)));
		return;
	}
	if (!wait_tw)
		return;
	/* Nothing restarts TIME_WAIT now (the peer sends no more): 2 MSL and a tick or two. */
	shim_clock_advance((u64)(TN_TIME_WAIT_MS + 3 * TN_TICK_MS) * NS_MS);
	take_sent(r);
	if (tp_conns())
		ktest_fail(r->kt, __FILE__, __LINE__, "TIME_WAIT outlived 2 MSL (%u left)", tp_conns());
}

KTEST(fuzz, tcp_states)
{
	TCP_BEGIN();
	struct run run = { .kt = kt, .p = p };
	unsigned st;
	int rc;

	u8 end = fuzz_size > 1 ? fuzz_data[1] : 0;

	run.mode = fuzz_size ? fuzz_data[0] : 0;
	run.at = 2;
	st = (run.mode & 0xf) % ST_COUNT;
	cur = &run;
	if (run.mode & B_OPTIONS)
		p->offer_ws = p->offer_ts = p->offer_sack = true;
	if (st == ST_SYN_SENT) {
		run_syn_sent(&run);
	} else {
		rc = to_state(&run, st);
		KT_ASSERT_EQ(rc, 0);
		if (st != ST_LISTEN)
			KT_EXPECT_EQ(tp_state_of(p->our_port, p->port), want[st]);
		if (run.mode & B_NODELAY)
			tcp_set_nodelay(run.c, true);
		if ((run.mode & B_SEND) && (st == ST_ESTABLISHED || st == ST_CLOSE_WAIT)) {
			static u8 data[SEND_BYTES];

			KT_EXPECT_EQ(tcp_send(run.c, data, sizeof(data), NS_MS), SEND_BYTES);
			take_sent(&run);
		}
		check_conn(&run);
	}
	feed_rest(&run);
	if (end & 4) {
		graceful(&run, end == 0xff);
	} else {
		tcp_abort(run.c);
		tcp_listener_close(run.l);
		shim_clock_advance(NS_S);
		take_sent(&run);
	}
	cur = NULL;
	TCP_END();
}
