/*
 * host_tcp_flow.c — TCP's flow control and segment sizing on the host,
 * against the scripted peer (host_tcp_peer.h).
 *
 * The peer's zero window: nothing is sent into it, persist probes test it
 * with the interval doubling (RFC 9293 §3.8.6.1), probes the peer answers
 * never fail the connection while unanswered ones do, and the data goes,
 * whole, once the window opens; a window shut while data is in flight is
 * still tested, by the retransmission timer.  Our own window: it shrinks
 * as data arrives unread, reaches zero when the buffer is full (a segment
 * past it is not taken), and a window update goes out when the application
 * has read enough for the right edge to move by at least an MSS (receiver
 * SWS avoidance, RFC 9293 §3.8.6.2.2).  Nagle (RFC 9293 §3.7.4): a small
 * segment waits while data is unacknowledged, full ones never, and
 * tcp_set_nodelay() sends small ones at once.  Delayed ACKs (RFC 9293
 * §3.8.6.3, RFC 5681 §4.2): one ACK for every second full segment, a lone
 * segment acknowledged after the delay (tcp-notes: 20 ms, served by the
 * 10 ms tick) and always within 500 ms, at once for a FIN, and an ACK
 * riding on data the application sends meanwhile.
 */
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/time.h"

#define SLACK_NS ((2 * TN_TICK_MS + 1) * NS_MS)

static u8 rxbuf[1 << 20];
static u8 bigbuf[TCP_BUF_DEFAULT];

static void drop_conn(struct tcp_peer *p, struct tcp_conn *c)
{
	tcp_abort(c);
	tp_drain(p);
}

/* ---------------------------------------------------- the peer's window */

/* Wait for @n persist probes, the peer answering each when @answer: false if one is missing. */
static bool probes(struct ktest_ctx *kt, struct tcp_peer *p, unsigned n, u64 *want, bool answer)
{
	struct tp_seg s;
	u64 last = time_ns();

	for (unsigned i = 1; i <= n; i++) {
		if (!tp_wait_seg(p, TN_TICK_MS * NS_MS, *want + 2 * SLACK_NS, &s)) {
			ktest_fail(kt, __FILE__, __LINE__, "persist probe %u did not come", i);
			return false;
		}
		/*
		 * A probe the receiver must answer: one byte of new data at snd_nxt
		 * (RFC 9293 3.8.6.1), or — tcp-notes' choice, as Linux — no data at
		 * snd_una - 1.
		 */
		bool byte = s.len == 1 && s.seq == p->rcv_nxt;
		bool old = s.len == 0 && s.seq == p->rcv_nxt - 1;

		if ((!byte && !old) || (s.flags & (TP_RST | TP_FIN | TP_SYN))) {
			char d[200];

			ktest_fail(kt, __FILE__, __LINE__, "persist probe %u is %s", i,
				   tp_describe(p, &s, d, sizeof(d)));
			return false;
		}
		if (byte)
			KT_EXPECT_EQ(tp_check(s.data, 1, 20, 0), 1);
		if (s.at - last + SLACK_NS < *want || s.at - last > *want + SLACK_NS)
			ktest_fail(kt, __FILE__, __LINE__, "persist probe %u came %llu ms after the "
				   "last, want %llu", i, (unsigned long long)((s.at - last) / NS_MS),
				   (unsigned long long)(*want / NS_MS));
		last = s.at;
		*want = MIN(2 * *want, (u64)TN_RTO_MAX_MS * NS_MS);
		if (answer)
			tp_ack(p); /* still no room: the byte is not taken */
	}
	return true;
}

KTEST(tcp_flow, zero_window_probed_with_backoff_and_data_goes_when_it_opens)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u8 data[1000];
	u64 want;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	p->wnd = 0;
	tp_ack(p);
	KT_EXPECT_EQ(tp_info(c).snd_wnd, 0);
	tp_fill(data, sizeof(data), 20, 0);
	KT_ASSERT_EQ(tcp_send(c, data, sizeof(data), NS_S), 1000);
	TP_EXPECT_NONE(p); /* nothing into a closed window */
	/* Probes, first after the RTO, then doubling to the cap; answered, they never fail it. */
	want = tp_info(c).rto_ms * NS_MS;
	KT_ASSERT(probes(kt, p, TN_DATA_RETRIES + 2, &want, true));
	KT_EXPECT_EQ(tp_info(c).state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	/* The window opens: all of it goes, each byte once. */
	p->wnd = 65535;
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	tp_every(p, NS_MS, tp_sink);
	tp_ack(p);
	KT_EXPECT_EQ(tcp_flush(c, 10 * NS_S), 0);
	tp_stop(p);
	KT_EXPECT_EQ(p->rx_len, 1000);
	KT_EXPECT_EQ(tp_check(rxbuf, 1000, 20, 0), 1000);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_flow, unanswered_persist_probes_fail_the_connection)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tp_seg s;
	u8 data[10];
	unsigned n = 0;
	bool rst = false;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	p->wnd = 0;
	tp_ack(p);
	tp_fill(data, sizeof(data), 20, 0);
	KT_ASSERT_EQ(tcp_send(c, data, sizeof(data), NS_S), 10);
	while (!rst && tp_wait_seg(p, TN_TICK_MS * NS_MS, 2 * TN_RTO_MAX_MS * NS_MS, &s)) {
		rst = s.flags & TP_RST;
		n += !rst;
	}
	/* tcp-notes: unanswered probes count against TCP_DATA_RETRIES. */
	KT_EXPECT(rst);
	KT_EXPECT(n >= TN_DATA_RETRIES && n <= TN_DATA_RETRIES + 1);
	KT_EXPECT_EQ(tp_info(c).error, -ETIMEDOUT);
	KT_EXPECT_EQ(tcp_send(c, data, 1, NS_S), -ETIMEDOUT);
	tcp_close(c);
	TCP_END();
}

/*
 * The peer shrinks its window to nothing while our data is in flight (it
 * acknowledges the first of three segments with window 0).  Then the
 * retransmission timer, not the persist timer, is running, and its expiry
 * must still send something into the zero window (RFC 9293 3.8.6.1: a
 * sender keeps retransmitting to a zero window), or the peer's reopening
 * is never heard; found by fuzz_tcp_states, where the connection died in
 * silence.  Connects (*@c), sends three segments (the stream starts at
 * *@at) and shuts the window after the first; false if that failed.
 */
static bool shut_with_data_in_flight(struct ktest_ctx *kt, struct tcp_peer *p,
				     struct tcp_conn **c, u32 *at)
{
	u8 data[3 * TN_MSS];

	KT_CHECK_EQ_(tp_connect(p, c), 0, return false);
	tcp_set_nodelay(*c, true);
	*at = p->rcv_nxt;
	tp_fill(data, sizeof(data), 23, 0);
	KT_CHECK_EQ_(tcp_send(*c, data, sizeof(data), NS_S), (s64)sizeof(data), return false);
	for (int i = 0; i < 3; i++)
		KT_CHECK_EQ_(tp_take(p), true, return false);
	KT_CHECK_EQ_(p->rcv_nxt, *at + sizeof(data), return false);
	p->wnd = 0;
	tp_send(p, TP_ACK, p->snd_nxt, *at + TN_MSS, NULL, 0);
	KT_EXPECT_EQ(tp_info(*c).snd_wnd, 0);
	return true;
}

/* The next probe of the shut window: the first unacknowledged segment again. */
static bool shut_window_probe_came(struct ktest_ctx *kt, struct tcp_peer *p, u32 at, unsigned i)
{
	struct tp_seg s;

	if (!tp_wait_seg(p, TN_TICK_MS * NS_MS, 2 * TN_RTO_MAX_MS * NS_MS, &s)) {
		ktest_fail(kt, __FILE__, __LINE__, "probe %u of the shut window did not come", i);
		return false;
	}
	KT_EXPECT(s.flags & TP_ACK);
	KT_EXPECT(!(s.flags & (TP_RST | TP_SYN | TP_FIN)));
	KT_EXPECT_EQ(s.seq, at + TN_MSS);
	KT_EXPECT_EQ(s.len, TN_MSS);
	return true;
}

KTEST(tcp_flow, zero_window_with_data_in_flight_is_still_probed)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u32 at;

	KT_ASSERT(shut_with_data_in_flight(kt, p, &c, &at));
	/* Answered (the window still shut), the probes go on past the retry limit. */
	for (unsigned i = 1; i <= TN_DATA_RETRIES + 2; i++) {
		KT_ASSERT(shut_window_probe_came(kt, p, at, i));
		tp_send(p, TP_ACK, p->snd_nxt, at + TN_MSS, NULL, 0);
	}
	KT_EXPECT_EQ(tp_info(c).state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	/* The answer that reopens the window: everything then goes and is acknowledged. */
	p->wnd = 65535;
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	p->rcv_nxt = at + TN_MSS;
	tp_every(p, NS_MS, tp_sink);
	tp_ack(p);
	KT_EXPECT_EQ(tcp_flush(c, 10 * NS_S), 0);
	tp_stop(p);
	KT_EXPECT_EQ(tp_info(c).state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	KT_EXPECT_EQ(p->rx_len, 2 * TN_MSS);
	KT_EXPECT_EQ(tp_check(rxbuf, 2 * TN_MSS, 23, TN_MSS), 2 * TN_MSS);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_flow, unanswered_probes_of_a_window_shut_in_flight_fail_the_connection)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tp_seg s;
	unsigned n = 0;
	bool rst = false;
	u32 at;

	KT_ASSERT(shut_with_data_in_flight(kt, p, &c, &at));
	while (!rst && tp_wait_seg(p, TN_TICK_MS * NS_MS, 2 * TN_RTO_MAX_MS * NS_MS, &s)) {
		rst = s.flags & TP_RST;
		if (!rst) {
			KT_EXPECT_EQ(s.seq, at + TN_MSS); /* each a probe of the first segment */
			n++;
		}
	}
	/* Silence counts against TCP_DATA_RETRIES, as for persist probes. */
	KT_EXPECT(rst);
	KT_EXPECT_EQ(n, TN_DATA_RETRIES);
	KT_EXPECT_EQ(tp_info(c).error, -ETIMEDOUT);
	tcp_close(c);
	TCP_END();
}

/* ---------------------------------------------------------- our window */

/* Fill the stack's receive window with stream 21 from *@off (the app not reading). */
static void fill_window(struct tcp_peer *p, u32 *off)
{
	for (int round = 0; round < 1000; round++) {
		u32 room = p->snd_una + p->snd_wnd - p->snd_nxt;

		if ((s32)room <= 0 || !p->snd_wnd) {
			shim_clock_advance((TN_DELACK_MS + 2 * TN_TICK_MS) * NS_MS);
			tp_drain(p);
			if (p->snd_una + p->snd_wnd == p->snd_nxt || !p->snd_wnd)
				return;
			continue;
		}
		room = MIN(room, (u32)p->stack_mss);
		tp_push_pattern(p, TP_ACK, 21, *off, room);
		*off += room;
		tp_drain(p);
	}
}

KTEST(tcp_flow, our_window_closes_when_not_read_and_reopens_with_an_update)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tp_seg s;
	u32 off = 0, read = 0, s0;
	u64 bad;
	bool updated = false;

	p->offer_ws = true;
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	s0 = p->snd_nxt;
	fill_window(p, &off);
	/* Full: the window is zero, and what came is exactly the buffer's size, all acked. */
	KT_EXPECT_EQ(p->snd_wnd, 0);
	KT_EXPECT_EQ(p->snd_una, s0 + off);
	KT_EXPECT_EQ(off, TCP_BUF_DEFAULT);
	KT_EXPECT_EQ(tp_info(c).rcv_queued, off);
	KT_EXPECT_EQ(tp_info(c).rcv_wnd, 0);
	/* A segment past the window is not taken; the answer says so again. */
	tp_push_pattern(p, TP_ACK, 21, off, 500);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, s0 + off));
	KT_EXPECT_EQ(tp_wnd(p, &p->last), 0);
	p->snd_nxt = s0 + off;
	KT_EXPECT_EQ(tp_info(c).rcv_queued, off);
	/* Reading: a window update by the time 64 KiB are read, of at least an MSS. */
	while (read < (64u << 10) && !updated) {
		KT_ASSERT_EQ(tcp_recv(c, bigbuf + read, 4096, NS_S), 4096);
		read += 4096;
		while (tp_pop(p, &s))
			if ((s.flags & TP_ACK) && tp_wnd(p, &s)) {
				updated = true;
				KT_EXPECT_EQ(s.ack, s0 + off);
				KT_EXPECT(tp_wnd(p, &s) >= TN_MSS);
				KT_EXPECT(tp_wnd(p, &s) <= read);
			}
	}
	KT_EXPECT(updated);
	/* The rest of the buffer, then more through the reopened window, byte for byte. */
	KT_ASSERT_EQ(tp_recv_exact(c, bigbuf + read, off - read, NS_S), off - read);
	bad = tp_check(bigbuf, off, 21, 0);
	KT_EXPECT_EQ(bad, off);
	KT_EXPECT_EQ(tp_stream_in(p, c, 21, off, 100u << 10), 100u << 10);
	drop_conn(p, c);
	TCP_END();
}

/* ---------------------------------------------------------------- Nagle */

KTEST(tcp_flow, nagle_holds_a_small_segment_while_data_is_unacked)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u8 data[TN_MSS];
	u32 at;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_fill(data, sizeof(data), 22, 0);
	/* Nothing unacknowledged: a small segment goes at once. */
	KT_ASSERT_EQ(tcp_send(c, data, 100, NS_S), 100);
	at = p->rcv_nxt;
	KT_ASSERT(TP_EXPECT(p, TP_ACK, at, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, 100);
	/* 100 unacknowledged: the next small ones wait, and are coalesced. */
	KT_ASSERT_EQ(tcp_send(c, data + 100, 100, NS_S), 100);
	KT_ASSERT_EQ(tcp_send(c, data + 200, 100, NS_S), 100);
	TP_EXPECT_NONE(p);
	shim_clock_advance(50 * NS_MS);
	TP_EXPECT_NONE(p); /* not a timer: the ACK releases them */
	p->rcv_nxt = at + 100;
	tp_ack(p);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, at + 100, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, 200);
	KT_EXPECT_EQ(tp_check(p->last.data, 200, 22, 100), 200);
	/* A full segment is never held, even with data unacknowledged. */
	KT_ASSERT_EQ(tcp_send(c, data, TN_MSS, NS_S), TN_MSS);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, at + 300, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, TN_MSS);
	p->rcv_nxt = at + 300 + TN_MSS;
	tp_ack(p);
	/* No delay: small segments go at once, unacknowledged data or not. */
	tcp_set_nodelay(c, true);
	KT_ASSERT_EQ(tcp_send(c, data, 100, NS_S), 100);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	KT_ASSERT_EQ(tcp_send(c, data, 100, NS_S), 100);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, p->rcv_nxt + 100, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, 100);
	/* And back on: held again. */
	tcp_set_nodelay(c, false);
	KT_ASSERT_EQ(tcp_send(c, data, 100, NS_S), 100);
	TP_EXPECT_NONE(p);
	drop_conn(p, c);
	TCP_END();
}

/*
 * PSH marks the last of the queued data, and also goes out once per half
 * of the peer's largest window: receivers that hold their ACK for a PSH or
 * a timer (slirp's BSD stack) then answer twice per window.
 */
KTEST(tcp_flow, psh_once_per_half_window_and_on_the_last_data)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u32 s0, pushed = 0, ends[10];

	p->wnd = 8 * TN_MSS; /* half a window: four segments */
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	s0 = p->rcv_nxt;
	tp_fill(bigbuf, 10 * TN_MSS, 23, 0);
	KT_ASSERT_EQ(tcp_send(c, bigbuf, 10 * TN_MSS, NS_S), 10 * TN_MSS);
	for (unsigned i = 0; i < 8; i++) {
		KT_ASSERT(TP_EXPECT(p, TP_ACK, s0 + i * TN_MSS, p->snd_nxt));
		KT_EXPECT_EQ(p->last.len, TN_MSS);
		if (p->last.flags & TP_PSH)
			ends[pushed++] = p->last.seq + p->last.len - s0;
		p->rcv_nxt = p->last.seq + p->last.len;
	}
	TP_EXPECT_NONE(p); /* the window is full */
	KT_ASSERT_EQ(pushed, 2);
	KT_EXPECT_EQ(ends[0], 4 * TN_MSS);
	KT_EXPECT_EQ(ends[1], 8 * TN_MSS);
	tp_ack(p);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, s0 + 8 * TN_MSS, p->snd_nxt));
	KT_EXPECT(!(p->last.flags & TP_PSH)); /* a quarter window since the last PSH, more queued */
	KT_ASSERT(TP_EXPECT(p, TP_ACK, s0 + 9 * TN_MSS, p->snd_nxt));
	KT_EXPECT(p->last.flags & TP_PSH); /* the last queued byte */
	p->rcv_nxt = s0 + 10 * TN_MSS;
	tp_ack(p);
	drop_conn(p, c);
	TCP_END();
}

/* ----------------------------------------------------------- delayed ACK */

KTEST(tcp_flow, delayed_ack_every_second_segment_or_after_the_delay)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tp_seg s;
	u64 t0;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	/* One full segment: no ACK yet; the second: one ACK for both, at once. */
	tp_push_pattern(p, 0, 23, 0, TN_MSS);
	TP_EXPECT_NONE(p);
	tp_push_pattern(p, 0, 23, TN_MSS, TN_MSS);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	TP_EXPECT_NONE(p);
	/* A lone small segment: acknowledged after the delay (tcp-notes: 20..30 ms). */
	tp_push_pattern(p, TP_PSH, 23, 2 * TN_MSS, 100);
	t0 = time_ns();
	KT_ASSERT(tp_wait_seg(p, NS_MS, 600 * NS_MS, &s));
	KT_EXPECT_EQ(s.flags & ~TP_PSH, TP_ACK);
	KT_EXPECT_EQ(s.ack, p->snd_nxt);
	KT_EXPECT(s.at - t0 >= TN_DELACK_MS * NS_MS);
	KT_EXPECT(s.at - t0 <= (TN_DELACK_MS + TN_TICK_MS + 1) * NS_MS);
	KT_EXPECT(s.at - t0 < 500 * NS_MS); /* RFC 9293 MUST-40 */
	/* Data of ours meanwhile carries the ACK: no separate one after the delay. */
	tp_push_pattern(p, TP_PSH, 23, 2 * TN_MSS + 100, 100);
	KT_ASSERT_EQ(tcp_send(c, "reply", 5, NS_S), 5);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, 5);
	p->rcv_nxt += 5;
	shim_clock_advance(50 * NS_MS);
	TP_EXPECT_NONE(p);
	/* A FIN is acknowledged at once. */
	tp_push(p, TP_FIN, NULL, 0);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	KT_EXPECT_EQ(tp_info(c).rcv_queued, 2 * TN_MSS + 200);
	drop_conn(p, c);
	TCP_END();
}
