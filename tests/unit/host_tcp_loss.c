/*
 * host_tcp_loss.c — TCP's loss recovery on the host, against the scripted
 * peer (host_tcp_peer.h) that drops, repeats and reorders what it likes.
 *
 * Loss at each step: a lost SYN is sent again after the initial RTO and,
 * unanswered, fails tcp_connect() with -ETIMEDOUT after its retries; a lost
 * SYN-ACK is sent again and an unanswered half-open connection is given up;
 * a lost final ACK is made good by the peer's first data; lost data is
 * retransmitted with the RTO doubling each time (RFC 6298 §5.5) up to its
 * cap, and after the retries the connection fails with -ETIMEDOUT, which
 * tcp_recv() and tcp_send() then return.  After a timeout the congestion
 * window falls to one segment (RFC 5681 §3.1); three duplicate ACKs
 * retransmit before any timer (fast retransmit), and a partial ACK in
 * recovery retransmits the next hole at once (NewReno, RFC 6582).  Slow
 * start doubles the window per round trip.  Duplicate segments are
 * acknowledged and not delivered twice; out-of-order ones are kept, each
 * answered with an immediate duplicate ACK, and delivered in order once
 * the gap fills (RFC 9293 §3.10.7.4, RFC 5681 §4.2).
 *
 * Intervals are simulated time, so they are checked to the TCP tick
 * (deadlines are served by a 10 ms tick: tcp-notes.md); the retry counts
 * and RTO bounds are the core's (TN_* from the notes).
 */
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/time.h"

#define LPORT 8081
#define SLACK_NS ((2 * TN_TICK_MS + 1) * NS_MS) /* a deadline is served up to a tick late */

static u8 rxbuf[1 << 20];
static u8 txbuf[256 << 10];

static void drop_conn(struct tcp_peer *p, struct tcp_conn *c)
{
	tcp_abort(c);
	tp_drain(p);
}

/* |@got - @want| within SLACK_NS, else fail naming @what. */
static bool near(struct ktest_ctx *kt, const char *what, unsigned i, u64 got, u64 want)
{
	if (got + SLACK_NS >= want && got <= want + SLACK_NS)
		return true;
	ktest_fail(kt, __FILE__, __LINE__, "%s %u came %llu ms after the one before, want %llu ms",
		   what, i, (unsigned long long)(got / NS_MS), (unsigned long long)(want / NS_MS));
	return false;
}

/* ------------------------------------------------------------- the SYN */

static struct {
	u64 at[16];
	struct tp_seg first;
	unsigned n;
	unsigned answer_at;     /* answer the SYN number this (1-based); 0: never */
} syns;

/* The peer every millisecond: note each SYN, answer the one it is told to. */
static void syn_watch(struct tcp_peer *p)
{
	struct tp_seg s;

	while (tp_pop(p, &s)) {
		if (s.flags != TP_SYN)
			continue;
		if (syns.n < ARRAY_SIZE(syns.at))
			syns.at[syns.n] = s.at;
		if (!syns.n)
			syns.first = s;
		else if (s.seq != syns.first.seq || s.o.mss != syns.first.o.mss)
			ktest_fail(p->kt, __FILE__, __LINE__, "SYN %u differs from the first", syns.n);
		if (++syns.n == syns.answer_at)
			tp_answer_syn(p, &s);
	}
}

KTEST(tcp_loss, lost_syn_sent_again_after_the_initial_rto)
{
	TCP_BEGIN();
	struct ip_addr dst = ip_v4(PEER_IP);
	struct tcp_conn *c;

	memset(&syns, 0, sizeof(syns));
	syns.answer_at = 2;
	tp_every(p, NS_MS, syn_watch);
	KT_ASSERT_EQ(tcp_connect(&dst, TP_PORT, 10 * NS_S, &c), 0);
	tp_stop(p);
	KT_ASSERT_EQ(syns.n, 2);
	near(kt, "SYN", 1, syns.at[1] - syns.at[0], TN_RTO_INIT_MS * NS_MS);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->irs + 1, p->iss + 1));
	KT_EXPECT_EQ(tp_info(c).state, TCP_ESTABLISHED);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_loss, unanswered_syn_fails_with_etimedout_after_its_retries)
{
	TCP_BEGIN();
	struct ip_addr dst = ip_v4(PEER_IP);
	struct tcp_conn *c = NULL;
	struct tcp_stats st0 = tp_stats();
	u64 t0 = time_ns(), want = TN_RTO_INIT_MS * NS_MS, total = 0;

	memset(&syns, 0, sizeof(syns));
	tp_every(p, 5 * NS_MS, syn_watch);
	KT_EXPECT_EQ(tcp_connect(&dst, TP_PORT, 300 * NS_S, &c), -ETIMEDOUT);
	tp_stop(p);
	KT_EXPECT(c == NULL);
	KT_EXPECT_EQ(syns.n, 1 + TN_SYN_RETRIES);
	for (unsigned i = 1; i < syns.n && i < ARRAY_SIZE(syns.at); i++) {
		near(kt, "SYN", i, syns.at[i] - syns.at[i - 1], want);
		total += want;
		want = MIN(2 * want, (u64)TN_RTO_MAX_MS * NS_MS);
	}
	/* The last SYN is given one more (backed-off) RTO to be answered. */
	near(kt, "the failure after SYN", syns.n, time_ns() - t0, total + want);
	KT_EXPECT_EQ(tp_conns(), 0);
	KT_EXPECT_EQ(tp_stats().conn_failed, st0.conn_failed + 1);

	/* The caller's own limit comes first: -ETIMEDOUT then, and nothing left. */
	memset(&syns, 0, sizeof(syns));
	t0 = time_ns();
	tp_every(p, NS_MS, syn_watch);
	KT_EXPECT_EQ(tcp_connect(&dst, TP_PORT, 2 * NS_S, &c), -ETIMEDOUT);
	tp_stop(p);
	KT_EXPECT(time_ns() - t0 >= 2 * NS_S && time_ns() - t0 < 2 * NS_S + SLACK_NS);
	KT_EXPECT_EQ(syns.n, 2);
	KT_EXPECT_EQ(tp_conns(), 0);
	shim_clock_advance(5 * NS_S);
	TP_EXPECT_NONE(p); /* and no SYN after it was given up */
	TCP_END();
}

/* ---------------------------------------------------------- the SYN-ACK */

KTEST(tcp_loss, lost_syn_ack_sent_again_and_half_open_given_up)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;
	struct tp_seg s;
	u32 isn;
	unsigned synacks = 0;

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	p->our_port = LPORT;
	tp_push(p, TP_SYN, NULL, 0);
	KT_ASSERT(TP_EXPECT(p, TP_SYN | TP_ACK, TP_ANY, p->iss + 1));
	isn = p->last.seq; /* ... and lost */
	KT_ASSERT(tp_wait_seg(p, NS_MS, 2 * NS_S, &s));
	KT_EXPECT_EQ(s.flags, TP_SYN | TP_ACK);
	KT_EXPECT_EQ(s.seq, isn);
	near(kt, "SYN-ACK", 1, s.at - p->last.at, TN_RTO_INIT_MS * NS_MS);
	p->irs = isn;
	p->rcv_nxt = isn + 1;
	tp_ack(p);
	KT_ASSERT_EQ(tcp_accept(l, NS_S, &c), 0);
	drop_conn(p, c);

	/* A client that never acknowledges: its half-open connection is dropped. */
	p->port++;
	p->snd_nxt = p->iss;
	tp_push(p, TP_SYN, NULL, 0);
	KT_EXPECT_EQ(tp_state_of(LPORT, p->port), TCP_SYN_RECEIVED);
	for (u64 t = 0; t < 120 * NS_S; t += 100 * NS_MS) {
		shim_clock_advance(100 * NS_MS);
		while (tp_pop(p, &s))
			synacks += s.flags == (TP_SYN | TP_ACK);
	}
	KT_EXPECT_EQ(synacks, 1 + TN_SYNACK_RETRIES);
	KT_EXPECT_EQ(tp_state_of(LPORT, p->port), TCP_STATES);
	KT_EXPECT_EQ(tp_conns(), 0);
	KT_EXPECT_EQ(tcp_accept(l, 10 * NS_MS, &c), -ETIMEDOUT);
	tcp_listener_close(l);
	TCP_END();
}

KTEST(tcp_loss, lost_final_ack_made_good_by_the_first_data)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;
	char buf[16];

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	p->our_port = LPORT;
	tp_push(p, TP_SYN, NULL, 0);
	KT_ASSERT(TP_EXPECT(p, TP_SYN | TP_ACK, TP_ANY, p->iss + 1));
	p->irs = p->last.seq;
	p->rcv_nxt = p->irs + 1;
	/* The ACK is lost; the data after it carries the same acknowledgement. */
	tp_push(p, TP_PSH, "hello", 5);
	KT_ASSERT_EQ(tcp_accept(l, NS_S, &c), 0);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 5);
	KT_EXPECT(!memcmp(buf, "hello", 5));
	drop_conn(p, c);
	tcp_listener_close(l);
	TCP_END();
}

/* ------------------------------------------------------------ data loss */

KTEST(tcp_loss, lost_data_resent_with_the_rto_doubling_then_etimedout)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_conn_info in;
	struct tcp_stats st0;
	struct tp_seg s;
	u8 data[100];
	u64 last, want;
	u32 seq;
	unsigned resent = 0;
	bool rst = false;
	char b;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	/* A 1 ms round trip: the RTO at its floor (tcp-notes: 200 ms), or 1 s if unmeasured. */
	want = tp_info(c).rto_ms * NS_MS;
	KT_EXPECT(want >= TN_RTO_MIN_MS * NS_MS && want <= TN_RTO_INIT_MS * NS_MS);
	st0 = tp_stats();
	tp_fill(data, sizeof(data), 9, 0);
	KT_ASSERT_EQ(tcp_send(c, data, sizeof(data), NS_S), 100);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	seq = p->last.seq;
	last = p->last.at;
	while (!rst && time_ns() - last < 100 * NS_S) {
		if (!tp_wait_seg(p, TN_TICK_MS * NS_MS, 100 * NS_S, &s))
			break;
		if (s.flags & TP_RST) {
			rst = true;
			near(kt, "the RST after retransmission", resent, s.at - last, want);
			break;
		}
		resent++;
		KT_EXPECT_EQ(s.seq, seq);
		KT_EXPECT_EQ(s.len, 100);
		KT_EXPECT_EQ(tp_check(s.data, s.len, 9, 0), 100);
		near(kt, "retransmission", resent, s.at - last, want);
		last = s.at;
		want = MIN(2 * want, (u64)TN_RTO_MAX_MS * NS_MS);
	}
	KT_EXPECT_EQ(resent, TN_DATA_RETRIES);
	KT_EXPECT(rst); /* the connection failed, and told the peer */
	in = tp_info(c);
	KT_EXPECT_EQ(in.error, -ETIMEDOUT);
	KT_EXPECT_EQ(in.retransmits, TN_DATA_RETRIES);
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, NS_S), -ETIMEDOUT);
	KT_EXPECT_EQ(tcp_send(c, "x", 1, NS_S), -ETIMEDOUT);
	KT_EXPECT_EQ(tcp_flush(c, NS_S), -ETIMEDOUT);
	KT_EXPECT_EQ(tp_stats().retransmits, st0.retransmits + TN_DATA_RETRIES);
	KT_EXPECT_EQ(tp_stats().rto_expiries, st0.rto_expiries + TN_DATA_RETRIES + 1);
	KT_EXPECT_EQ(tp_stats().conn_failed, st0.conn_failed + 1);
	tcp_close(c);
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tp_conns(), 0);
	TCP_END();
}

/* Pop the segments the stack sends now: how many carried data, the first into @first. */
static unsigned burst(struct tcp_peer *p, struct tp_seg *first, u32 *bytes)
{
	struct tp_seg s;
	unsigned n = 0;

	*bytes = 0;
	while (tp_pop(p, &s))
		if (s.len) {
			if (!n++ && first)
				*first = s;
			*bytes += s.len;
		}
	return n;
}

KTEST(tcp_loss, timeout_cuts_cwnd_to_one_segment_and_recovers)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_conn_info in;
	struct tp_seg s;
	u32 una, bytes;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tcp_set_nodelay(c, true);
	KT_EXPECT_EQ(tp_info(c).cwnd, TN_IW);
	tp_fill(txbuf, TN_IW, 10, 0);
	KT_ASSERT_EQ(tcp_send(c, txbuf, TN_IW, NS_S), TN_IW);
	una = p->rcv_nxt;
	KT_EXPECT_EQ(burst(p, NULL, &bytes), TN_IW / TN_MSS); /* all lost */
	/* The timeout: one segment, the first, and ssthresh at half the flight. */
	KT_ASSERT(tp_wait_seg(p, TN_TICK_MS * NS_MS, NS_S, &s));
	KT_EXPECT_EQ(s.seq, una);
	KT_EXPECT_EQ(s.len, TN_MSS);
	TP_EXPECT_NONE(p);
	in = tp_info(c);
	KT_EXPECT_EQ(in.cwnd, TN_MSS);
	KT_EXPECT_EQ(in.ssthresh, TN_IW / 2); /* RFC 5681 (4): max(FlightSize / 2, 2 * SMSS) */
	/* Its ACK lets two go (slow start again), and so on until everything is across. */
	p->rcv_nxt = una + TN_MSS;
	tp_ack(p);
	KT_EXPECT_EQ(burst(p, &s, &bytes), 2);
	KT_EXPECT_EQ(s.seq, una + TN_MSS);
	KT_EXPECT_EQ(bytes, 2 * TN_MSS);
	p->rcv_nxt = s.seq + bytes; /* both arrive */
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	tp_every(p, NS_MS, tp_sink);
	tp_ack(p);
	KT_EXPECT_EQ(tcp_flush(c, 10 * NS_S), 0);
	tp_stop(p);
	KT_EXPECT_EQ(p->rcv_nxt, una + TN_IW);
	KT_EXPECT_EQ(tp_info(c).snd_queued, 0);
	drop_conn(p, c);
	TCP_END();
}

/* ---------------------------------------------- duplicates, reordering */

KTEST(tcp_loss, duplicate_segments_acked_and_not_delivered_twice)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u8 buf[2000], data[750];
	u32 s0;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	s0 = p->snd_nxt;
	tp_push_pattern(p, TP_PSH, 11, 0, 500);
	/* The same segment again: acknowledged at once (RFC 9293 3.10.7.4), not delivered. */
	tp_fill(data, 500, 11, 0);
	tp_send(p, TP_ACK | TP_PSH, s0, p->rcv_nxt, data, 500);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, s0 + 500));
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 500);
	KT_EXPECT_EQ(tp_check(buf, 500, 11, 0), 500);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), 50 * NS_MS), -ETIMEDOUT);
	/* Overlapping: 250 old bytes and 500 new; only the new ones come out. */
	tp_fill(data, 750, 11, 250);
	tp_send(p, TP_ACK | TP_PSH, s0 + 250, p->rcv_nxt, data, 750);
	p->snd_nxt = s0 + 1000;
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 500);
	KT_EXPECT_EQ(tp_check(buf, 500, 11, 500), 500);
	KT_EXPECT_EQ(tp_info(c).bytes_received, 1000);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_loss, out_of_order_held_and_delivered_once_the_gap_fills)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u8 buf[4000], data[1000];
	u64 ooo = tp_stats().out_of_order;
	u32 s0;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	s0 = p->snd_nxt;
	/* The third segment first: a duplicate ACK at once, for the gap. */
	tp_fill(data, 1000, 12, 2000);
	tp_send(p, TP_ACK, s0 + 2000, p->rcv_nxt, data, 1000);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, s0));
	KT_EXPECT_EQ(p->last.o.nsack, 0); /* the peer did not offer SACK */
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), 20 * NS_MS), -ETIMEDOUT);
	KT_EXPECT_EQ(tp_info(c).rcv_queued, 0);
	/* The second: another duplicate ACK. */
	tp_fill(data, 1000, 12, 1000);
	tp_send(p, TP_ACK, s0 + 1000, p->rcv_nxt, data, 1000);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, s0));
	KT_EXPECT_EQ(tp_stats().out_of_order, ooo + 2);
	/* The first fills the gap: everything acknowledged at once, and readable in order. */
	tp_fill(data, 1000, 12, 0);
	tp_send(p, TP_ACK, s0, p->rcv_nxt, data, 1000);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, s0 + 3000));
	KT_EXPECT_EQ(tp_recv_exact(c, buf, 3000, NS_S), 3000);
	KT_EXPECT_EQ(tp_check(buf, 3000, 12, 0), 3000);
	p->snd_nxt = s0 + 3000;
	drop_conn(p, c);
	TCP_END();
}

/* Send 1000 bytes at @off of stream 13 and take the ACK it draws at once,
 * for @ack (offsets from @s0). */
static bool send_at(struct tcp_peer *p, u32 s0, u32 off, u32 ack)
{
	u8 data[1000];

	tp_fill(data, sizeof(data), 13, off);
	tp_send(p, TP_ACK, s0 + off, p->rcv_nxt, data, sizeof(data));
	return tp_expect_at(p, TP_ACK, p->rcv_nxt, s0 + ack, __FILE__, __LINE__);
}

/* Whether the last ACK's SACK blocks are @n pairs of offsets from @s0 in @want. */
static bool sack_is(struct ktest_ctx *kt, const struct tcp_peer *p, u32 s0,
		    const u32 (*want)[2], unsigned n)
{
	KT_EXPECT_EQ(p->last.o.nsack, n);
	if (p->last.o.nsack != n)
		return false;
	for (unsigned i = 0; i < n; i++) {
		KT_EXPECT_EQ(p->last.o.sack[i][0] - s0, want[i][0]);
		KT_EXPECT_EQ(p->last.o.sack[i][1] - s0, want[i][1]);
	}
	return true;
}

#define SACK_IS(...)                                                             \
	sack_is(kt, p, s0, (const u32[][2]){ __VA_ARGS__ },                        \
		sizeof((const u32[][2]){ __VA_ARGS__ }) / sizeof(u32[2]))

KTEST(tcp_loss, sack_blocks_name_the_runs_held_latest_first)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	static u8 buf[14000];
	u32 s0;

	p->offer_sack = true;
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_ASSERT(p->sack_on); /* the SYN offered it, the peer's SYN-ACK agreed */
	s0 = p->snd_nxt;
	KT_ASSERT(send_at(p, s0, 2000, 0));
	KT_EXPECT(SACK_IS({ 2000, 3000 }));
	KT_ASSERT(send_at(p, s0, 4000, 0));
	KT_EXPECT(SACK_IS({ 4000, 5000 }, { 2000, 3000 }));
	/* The segment between them joins the two into one run. */
	KT_ASSERT(send_at(p, s0, 3000, 0));
	KT_EXPECT(SACK_IS({ 2000, 5000 }));
	KT_ASSERT(send_at(p, s0, 7000, 0));
	KT_ASSERT(send_at(p, s0, 9000, 0));
	KT_EXPECT(SACK_IS({ 9000, 10000 }, { 2000, 5000 }, { 7000, 8000 }));
	KT_ASSERT(send_at(p, s0, 11000, 0));
	KT_EXPECT(SACK_IS({ 11000, 12000 }, { 2000, 5000 }, { 7000, 8000 }, { 9000, 10000 }));
	/* Five runs: four blocks, the latest first, then the lowest. */
	KT_ASSERT(send_at(p, s0, 13000, 0));
	KT_EXPECT(SACK_IS({ 13000, 14000 }, { 2000, 5000 }, { 7000, 8000 }, { 9000, 10000 }));
	/* An arrival inside a run already held puts that run first. */
	KT_ASSERT(send_at(p, s0, 9000, 0));
	KT_EXPECT(SACK_IS({ 9000, 10000 }, { 2000, 5000 }, { 7000, 8000 }, { 11000, 12000 }));
	/* The gap at the front fills: the ACK moves to 5000 and names what is beyond. */
	KT_ASSERT(send_at(p, s0, 0, 1000));
	KT_EXPECT(SACK_IS({ 9000, 10000 }, { 2000, 5000 }, { 7000, 8000 }, { 11000, 12000 }));
	KT_ASSERT(send_at(p, s0, 1000, 5000));
	KT_EXPECT(SACK_IS({ 9000, 10000 }, { 7000, 8000 }, { 11000, 12000 }, { 13000, 14000 }));
	KT_EXPECT_EQ(tp_recv_exact(c, buf, 5000, NS_S), 5000);
	KT_EXPECT_EQ(tp_check(buf, 5000, 13, 0), 5000);
	/* Each gap filled is acknowledged at once; the last leaves no blocks. */
	KT_ASSERT(send_at(p, s0, 5000, 6000));
	KT_ASSERT(send_at(p, s0, 6000, 8000));
	KT_ASSERT(send_at(p, s0, 8000, 10000));
	KT_ASSERT(send_at(p, s0, 10000, 12000));
	KT_ASSERT(send_at(p, s0, 12000, 14000));
	KT_EXPECT_EQ(p->last.o.nsack, 0);
	KT_EXPECT_EQ(tp_recv_exact(c, buf, 9000, NS_S), 9000);
	KT_EXPECT_EQ(tp_check(buf, 9000, 13, 5000), 9000);
	p->snd_nxt = s0 + 14000;
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_loss, shuffled_and_repeated_segments_arrive_once_in_order)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	static u8 buf[40 * 1000];
	u8 data[1000];
	unsigned order[40], n = ARRAY_SIZE(order);
	u32 s0;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	s0 = p->snd_nxt;
	for (unsigned i = 0; i < n; i++)
		order[i] = i;
	for (unsigned i = n - 1; i > 0; i--) { /* Fisher-Yates, the test's fixed seed */
		unsigned j = (unsigned)(ktest_rand(kt) % (i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (unsigned k = 0; k < 2 * n; k++) { /* every segment twice, the repeats shuffled too */
		unsigned i = k < n ? order[k] : order[(k * 7) % n];

		tp_fill(data, 1000, 13, i * 1000);
		tp_send(p, TP_ACK, s0 + i * 1000, p->rcv_nxt, data, 1000);
		tp_drain(p);
	}
	KT_EXPECT_EQ(tp_recv_exact(c, buf, n * 1000, NS_S), n * 1000);
	KT_EXPECT_EQ(tp_check(buf, n * 1000, 13, 0), n * 1000);
	KT_EXPECT_EQ(tcp_recv(c, buf, 1, 10 * NS_MS), -ETIMEDOUT);
	KT_EXPECT_EQ(p->snd_una, s0 + n * 1000); /* the stack acknowledged all of it */
	p->snd_nxt = s0 + n * 1000;
	drop_conn(p, c);
	TCP_END();
}

/* ------------------------------------------- fast retransmit, NewReno */

/* Connect, queue @n full segments with Nagle off, and pop them: their first seq. */
static u32 ten_in_flight(struct ktest_ctx *kt, struct tcp_peer *p, struct tcp_conn **c, unsigned n)
{
	u32 bytes;

	p->offer_ws = true;
	p->wnd = 1u << 20;
	if (tp_connect(p, c))
		return 0;
	tp_ack(p); /* the scaled window, before any data is out: later ACKs are duplicates */
	tcp_set_nodelay(*c, true);
	tp_fill(txbuf, n * TN_MSS, 14, 0);
	KT_EXPECT_EQ(tcp_send(*c, txbuf, n * TN_MSS, NS_S), (s64)(n * TN_MSS));
	KT_EXPECT_EQ(burst(p, NULL, &bytes), n);
	return p->rcv_nxt;
}

KTEST(tcp_loss, three_duplicate_acks_retransmit_before_the_timer)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_conn_info in;
	struct tcp_stats st0 = tp_stats();
	u32 una;

	una = ten_in_flight(kt, p, &c, TN_IW / TN_MSS);
	KT_ASSERT(c);
	/* The first is lost; three later ones arrive, each answered with a duplicate ACK. */
	tp_ack(p);
	tp_ack(p);
	TP_EXPECT_NONE(p); /* two are not enough */
	tp_ack(p);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, una, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, TN_MSS);
	KT_EXPECT_EQ(tp_check(p->last.data, TN_MSS, 14, 0), TN_MSS);
	in = tp_info(c);
	KT_EXPECT_EQ(in.ssthresh, TN_IW / 2);
	KT_EXPECT_EQ(tp_stats().fast_retransmits, st0.fast_retransmits + 1);
	KT_EXPECT_EQ(tp_stats().rto_expiries, st0.rto_expiries);
	KT_EXPECT(tp_stats().dup_acks >= st0.dup_acks + 3);
	/* The retransmission fills the hole: one ACK for everything ends recovery. */
	p->rcv_nxt = una + TN_IW;
	tp_ack(p);
	TP_EXPECT_NONE(p);
	in = tp_info(c);
	KT_EXPECT(in.cwnd <= in.ssthresh); /* deflated (RFC 6582 3.2 step 3) */
	KT_EXPECT_EQ(in.snd_queued, 0);
	KT_EXPECT_EQ(in.retransmits, 1);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_loss, partial_ack_in_recovery_resends_the_next_hole)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_stats st0 = tp_stats();
	u32 una;

	una = ten_in_flight(kt, p, &c, TN_IW / TN_MSS);
	KT_ASSERT(c);
	/* Segments 0 and 4 are lost. */
	for (int i = 0; i < 3; i++)
		tp_ack(p);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, una, p->snd_nxt));
	tp_drain(p);
	/* 0 arrives: the ACK stops at the next hole, which goes at once (RFC 6582). */
	p->rcv_nxt = una + 4 * TN_MSS;
	tp_ack(p);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, una + 4 * TN_MSS, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, TN_MSS);
	KT_EXPECT_EQ(tp_check(p->last.data, TN_MSS, 14, 4 * TN_MSS), TN_MSS);
	tp_drain(p);
	p->rcv_nxt = una + TN_IW;
	tp_ack(p);
	KT_EXPECT_EQ(tp_info(c).snd_queued, 0);
	KT_EXPECT_EQ(tp_stats().fast_retransmits, st0.fast_retransmits + 1);
	KT_EXPECT_EQ(tp_stats().retransmits, st0.retransmits + 2);
	KT_EXPECT_EQ(tp_stats().rto_expiries, st0.rto_expiries);
	drop_conn(p, c);
	TCP_END();
}

/* Pop what the stack sent: the data segments, with *@nxt moved past the highest byte. */
static unsigned collect(struct tcp_peer *p, u32 *nxt)
{
	struct tp_seg s;
	unsigned n = 0;

	while (tp_pop(p, &s))
		if (s.len) {
			n++;
			if ((s32)(s.seq + s.len - *nxt) > 0)
				*nxt = s.seq + s.len;
		}
	return n;
}

/*
 * One round trip: every full segment in flight (up to *@nxt) acknowledged
 * by an ACK of its own; the segments the stack sent meanwhile (the next
 * flight) into *@sent.  Returns how many ACKs the peer sent.
 */
static unsigned round_trip(struct tcp_peer *p, u32 *nxt, unsigned *sent)
{
	u32 end = *nxt;
	unsigned n = 0;

	*sent = 0;
	while ((s32)(end - p->rcv_nxt) > 0) {
		p->rcv_nxt += MIN((u32)TN_MSS, end - p->rcv_nxt);
		tp_ack(p);
		n++;
		*sent += collect(p, nxt);
	}
	return n;
}

/* Keep the send buffer full: queue what fits of the stream from *@queued. */
static void top_up(struct tcp_conn *c, u32 *queued)
{
	u32 room = TCP_BUF_DEFAULT - tp_info(c).snd_queued;
	s64 n;

	if (room < sizeof(txbuf) / 2)
		return;
	room = MIN(room, (u32)sizeof(txbuf)) / 2;
	tp_fill(txbuf, room, 15, *queued);
	n = tcp_send(c, txbuf, room, NS_MS);
	if (n > 0)
		*queued += (u32)n;
}

KTEST(tcp_loss, slow_start_doubles_per_round_trip_then_avoidance_is_linear)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_conn_info in;
	unsigned sent, acks;
	u32 nxt, queued = 0, before, flight;

	p->offer_ws = true;
	p->wnd = 4u << 20;
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_ack(p); /* the scaled window, before any data is out */
	tcp_set_nodelay(c, true);
	nxt = p->rcv_nxt;
	top_up(c, &queued);
	KT_EXPECT_EQ(collect(p, &nxt), TN_IW / TN_MSS);
	/* Each ACK of a full segment lets two go: 10 acknowledged, 20 sent; then 20, 40. */
	acks = round_trip(p, &nxt, &sent);
	KT_EXPECT_EQ(acks, TN_IW / TN_MSS);
	KT_EXPECT_EQ(sent, 2 * acks);
	KT_EXPECT_EQ(tp_info(c).cwnd, 2 * TN_IW);
	top_up(c, &queued);
	acks = round_trip(p, &nxt, &sent);
	KT_EXPECT_EQ(acks, 2 * TN_IW / TN_MSS);
	KT_EXPECT_EQ(sent, 2 * acks);
	KT_EXPECT_EQ(tp_info(c).cwnd, 4 * TN_IW);
	/* A loss: three duplicate ACKs; ssthresh is half the flight. */
	top_up(c, &queued);
	flight = nxt - p->rcv_nxt;
	for (int i = 0; i < 3; i++)
		tp_ack(p);
	collect(p, &nxt);
	in = tp_info(c);
	KT_EXPECT_EQ(in.ssthresh, flight / 2);
	/* The hole filled, everything acknowledged; slow start up to ssthresh if needed. */
	p->rcv_nxt = nxt;
	tp_ack(p);
	collect(p, &nxt);
	for (int r = 0; r < 8 && tp_info(c).cwnd < tp_info(c).ssthresh; r++) {
		top_up(c, &queued);
		round_trip(p, &nxt, &sent);
	}
	/* Avoidance: a window's worth of ACKs adds about one segment (RFC 5681 3.1). */
	in = tp_info(c);
	KT_ASSERT(in.cwnd >= in.ssthresh);
	before = in.cwnd;
	top_up(c, &queued);
	round_trip(p, &nxt, &sent);
	in = tp_info(c);
	KT_EXPECT(in.cwnd > before);
	KT_EXPECT(in.cwnd <= before + 2 * TN_MSS);
	drop_conn(p, c);
	TCP_END();
}
