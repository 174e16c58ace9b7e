/*
 * host_tcp_close.c — how TCP connections end, on the host, against the
 * scripted peer (host_tcp_peer.h).
 *
 * FIN from the peer: acknowledged at once, the rest read and then the end
 * of the stream (0), while we may still send (half close, CLOSE_WAIT),
 * then our FIN (LAST_ACK) and no TIME_WAIT for the side that closed
 * second.  FIN from us (tcp_shutdown()): tcp_send() refused with -EPIPE,
 * the peer's data still received, FIN_WAIT_1, FIN_WAIT_2, TIME_WAIT; a
 * repeated FIN in TIME_WAIT acknowledged again; TIME_WAIT over after 2 MSL
 * (tcp-notes: 60 s), and until then the port not handed out again.  A lost
 * FIN is sent again.  Both FINs crossing: CLOSING, then TIME_WAIT (RFC
 * 9293 §3.6, case 2).  tcp_close() with unread data resets (RFC 9293
 * §3.6.1); without, the queued data and the FIN are still delivered and
 * retransmitted after the owner is gone, and the connection frees itself
 * (no leak: the test ends without tcp_test_flush() having anything to
 * do); an orphan stuck in FIN_WAIT_2 is freed after its timeout, and one
 * the peer sends data to is reset.  The TIME_WAIT table is bounded.
 */
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/time.h"

#define LPORT 8082

static u8 rxbuf[1 << 20];

static enum tcp_state state(struct tcp_conn *c)
{
	return tp_info(c).state;
}

/* The peer's FIN (with ACK of everything), answered by the stack's ACK. */
static bool peer_fin(struct ktest_ctx *kt, struct tcp_peer *p)
{
	tp_push(p, TP_FIN, NULL, 0);
	return TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt);
}

KTEST(tcp_close, peer_fin_then_we_still_send_then_close)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u8 buf[1000], data[300];
	u16 lport;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	lport = p->our_port;
	tp_fill(data, sizeof(data), 30, 0);
	tp_push(p, TP_FIN | TP_PSH, data, sizeof(data));
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt)); /* FIN: acknowledged at once */
	KT_EXPECT_EQ(state(c), TCP_CLOSE_WAIT);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 300);
	KT_EXPECT_EQ(tp_check(buf, 300, 30, 0), 300);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 0);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 0); /* and stays at the end */
	/* Half closed: our data still goes. */
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	KT_EXPECT(tp_stream_out(p, c, 31, 0, 20000, NS_MS));
	KT_EXPECT_EQ(state(c), TCP_CLOSE_WAIT);
	tcp_close(c);
	KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_LAST_ACK);
	p->rcv_nxt++;
	tp_ack(p);
	/* Closed second: no TIME_WAIT, nothing left at all. */
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_STATES);
	KT_EXPECT_EQ(tp_conns(), 0);
	TP_EXPECT_NONE(p);
	TCP_END();
}

KTEST(tcp_close, our_shutdown_then_we_still_receive_then_time_wait)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tp_seg s;
	u8 buf[1000];
	u16 lport;
	u32 fin;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	lport = p->our_port;
	KT_ASSERT_EQ(tcp_shutdown(c), 0);
	KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
	fin = p->last.seq;
	KT_EXPECT_EQ(state(c), TCP_FIN_WAIT_1);
	KT_EXPECT_EQ(tcp_send(c, "late", 4, NS_S), -EPIPE);
	p->rcv_nxt = fin + 1;
	tp_ack(p);
	KT_EXPECT_EQ(state(c), TCP_FIN_WAIT_2);
	/* Half closed the other way: the peer's data still comes in. */
	tp_push_pattern(p, TP_PSH, 32, 0, 700);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 700);
	KT_EXPECT_EQ(tp_check(buf, 700, 32, 0), 700);
	KT_ASSERT(peer_fin(kt, p));
	KT_EXPECT_EQ(state(c), TCP_TIME_WAIT);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 0);
	tcp_close(c);
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_TIME_WAIT);
	KT_EXPECT_EQ(tp_stats().time_wait, 1);
	/* A repeated FIN (our ACK was lost) is acknowledged again, and restarts the wait. */
	shim_clock_advance(10 * NS_S);
	tp_send(p, TP_FIN | TP_ACK, p->snd_nxt - 1, p->rcv_nxt, NULL, 0);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	shim_clock_advance(TN_TIME_WAIT_MS * NS_MS - NS_S);
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_TIME_WAIT);
	shim_clock_advance(NS_S + 2 * TN_TICK_MS * NS_MS);
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_STATES);
	KT_EXPECT_EQ(tp_conns(), 0);
	KT_EXPECT(!tp_wait_seg(p, NS_S, NS_S, &s));
	TCP_END();
}

KTEST(tcp_close, time_wait_keeps_the_port_until_it_ends)
{
	TCP_BEGIN();
	struct ip_addr dst = ip_v4(PEER_IP);
	struct tcp_conn *c;

	tcp_test_set_ephemeral(50000, 50000); /* one port to hand out */
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_EXPECT_EQ(p->our_port, 50000);
	tcp_close(c);
	KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
	p->rcv_nxt++;
	KT_ASSERT(peer_fin(kt, p));
	KT_EXPECT_EQ(tp_state_of(50000, TP_PORT), TCP_TIME_WAIT);
	/* The port is still the old connection's, to the last second of 2 MSL. */
	KT_EXPECT_EQ(tcp_connect(&dst, TP_PORT, NS_S, &c), -EADDRNOTAVAIL);
	shim_clock_advance((TN_TIME_WAIT_MS - 1000) * NS_MS);
	KT_EXPECT_EQ(tcp_connect(&dst, TP_PORT, NS_S, &c), -EADDRNOTAVAIL);
	shim_clock_advance((1000 + 2 * TN_TICK_MS) * NS_MS);
	KT_EXPECT_EQ(tp_conns(), 0);
	/* Free again: the same 4-tuple opens anew. */
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_EXPECT_EQ(p->our_port, 50000);
	tcp_abort(c);
	tp_drain(p);
	TCP_END(); /* puts the range back */
}

KTEST(tcp_close, lost_fin_sent_again)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tp_seg s;
	u32 fin;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_ASSERT_EQ(tcp_shutdown(c), 0);
	KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
	fin = p->last.seq; /* lost */
	KT_ASSERT(tp_wait_seg(p, TN_TICK_MS * NS_MS, 2 * TN_RTO_INIT_MS * NS_MS, &s));
	KT_EXPECT_EQ(s.flags & ~TP_PSH, TP_FIN | TP_ACK);
	KT_EXPECT_EQ(s.seq, fin);
	KT_EXPECT(s.at - p->last.at <= (TN_RTO_INIT_MS + 2 * TN_TICK_MS) * NS_MS);
	KT_EXPECT_EQ(tp_info(c).retransmits, 1);
	p->rcv_nxt = fin + 1;
	tp_ack(p);
	KT_EXPECT_EQ(state(c), TCP_FIN_WAIT_2);
	/* The peer's FIN lost in turn: sent again, acknowledged again. */
	KT_ASSERT(peer_fin(kt, p));
	tp_send(p, TP_FIN | TP_ACK, p->snd_nxt - 1, p->rcv_nxt, NULL, 0);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	KT_EXPECT_EQ(state(c), TCP_TIME_WAIT);
	tcp_close(c);
	TCP_END();
}

KTEST(tcp_close, simultaneous_close_goes_through_closing)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u8 b;
	u32 fin;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_ASSERT_EQ(tcp_shutdown(c), 0);
	KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
	fin = p->last.seq;
	/* The peer's FIN crosses ours: it does not acknowledge our FIN. */
	tp_send(p, TP_FIN | TP_ACK, p->snd_nxt, fin, NULL, 0);
	p->snd_nxt++;
	KT_ASSERT(TP_EXPECT(p, TP_ACK, fin + 1, p->snd_nxt));
	KT_EXPECT_EQ(state(c), TCP_CLOSING);
	/* Then ours arrives there and is acknowledged. */
	p->rcv_nxt = fin + 1;
	tp_ack(p);
	KT_EXPECT_EQ(state(c), TCP_TIME_WAIT);
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, NS_S), 0);
	tcp_close(c);

	/* A FIN that acknowledges ours at once: FIN_WAIT_1 straight to TIME_WAIT. */
	p->port++;
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_ASSERT_EQ(tcp_shutdown(c), 0);
	KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
	p->rcv_nxt++;
	KT_ASSERT(peer_fin(kt, p));
	KT_EXPECT_EQ(state(c), TCP_TIME_WAIT);
	tcp_close(c);
	KT_EXPECT_EQ(tp_stats().time_wait, 2);
	TCP_END();
}

KTEST(tcp_close, close_with_unread_data_resets)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u64 rst_out = tp_stats().resets_out;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_push_pattern(p, TP_PSH, 33, 0, 100);
	tcp_close(c); /* the 100 bytes never read */
	KT_EXPECT(TP_EXPECT_RST(p, p->rcv_nxt));
	KT_EXPECT_EQ(tp_conns(), 0);
	KT_EXPECT_EQ(tp_stats().resets_out, rst_out + 1);
	/* It is gone: more data from the peer is answered by RST from the ACK's number. */
	tp_push_pattern(p, TP_PSH, 33, 100, 100);
	KT_EXPECT(TP_EXPECT_RST(p, p->rcv_nxt));
	TCP_END();
}

/* The sink, but the first data segment it sees is lost. */
static bool lose_next;

static void lossy_sink(struct tcp_peer *p)
{
	if (lose_next) {
		struct tp_seg s;

		while (tp_pop(p, &s))
			if (s.len) {
				lose_next = false;
				break;
			}
	}
	tp_sink(p);
}

KTEST(tcp_close, close_delivers_the_data_and_fin_after_the_owner_is_gone)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	static u8 data[20000];
	u16 lport;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	lport = p->our_port;
	tp_fill(data, sizeof(data), 34, 0);
	KT_ASSERT_EQ(tcp_send(c, data, sizeof(data), NS_S), (s64)sizeof(data));
	tcp_close(c); /* graceful: nothing unread */
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	lose_next = true;
	tp_every(p, NS_MS, lossy_sink);
	for (int i = 0; i < 100 && !p->rx_fin; i++)
		shim_clock_advance(100 * NS_MS);
	tp_stop(p);
	KT_EXPECT(p->rx_fin);
	KT_EXPECT_EQ(p->rx_len, sizeof(data));
	KT_EXPECT_EQ(tp_check(rxbuf, sizeof(data), 34, 0), sizeof(data));
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_FIN_WAIT_2);
	KT_ASSERT(peer_fin(kt, p));
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_TIME_WAIT);
	shim_clock_advance((TN_TIME_WAIT_MS + 2 * TN_TICK_MS) * NS_MS);
	/* Freed by itself: TCP_END's tcp_test_flush() finds nothing. */
	KT_EXPECT_EQ(tp_conns(), 0);
	TCP_END();
}

KTEST(tcp_close, orphans_in_fin_wait_2_are_freed_or_reset)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u16 lport;

	/* The peer acknowledges our FIN and never sends its own. */
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	lport = p->our_port;
	tcp_close(c);
	KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
	p->rcv_nxt++;
	tp_ack(p);
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_FIN_WAIT_2);
	shim_clock_advance((TN_FIN_WAIT2_MS - 1000) * NS_MS);
	KT_EXPECT_EQ(tp_state_of(lport, TP_PORT), TCP_FIN_WAIT_2);
	shim_clock_advance((1000 + 2 * TN_TICK_MS) * NS_MS);
	KT_EXPECT_EQ(tp_conns(), 0);
	TP_EXPECT_NONE(p);

	/* The peer sends data nobody will read: reset (tcp-notes), and freed. */
	p->port++;
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tcp_close(c);
	KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
	p->rcv_nxt++;
	tp_push_pattern(p, TP_PSH, 35, 0, 100);
	KT_EXPECT(TP_EXPECT_RST(p, p->rcv_nxt));
	KT_EXPECT_EQ(tp_conns(), 0);
	TCP_END();
}

KTEST(tcp_close, time_wait_table_is_bounded)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;
	unsigned n = TN_TIME_WAIT_MAX + 8;

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	for (unsigned i = 0; i < n; i++) {
		p->port = (u16)(20000 + i);
		KT_ASSERT_EQ(tp_accept(p, l, &c), 0);
		tcp_close(c);
		KT_ASSERT(TP_EXPECT(p, TP_FIN | TP_ACK, p->rcv_nxt, p->snd_nxt));
		p->rcv_nxt++;
		KT_ASSERT(peer_fin(kt, p));
		KT_ASSERT_EQ(tp_stats().time_wait, MIN(i + 1, TN_TIME_WAIT_MAX));
	}
	KT_EXPECT_EQ(tp_conns(), TN_TIME_WAIT_MAX);
	/* The oldest went first: the first client's is gone, the last one's is there. */
	KT_EXPECT_EQ(tp_state_of(LPORT, 20000), TCP_STATES);
	KT_EXPECT_EQ(tp_state_of(LPORT, (u16)(20000 + n - 1)), TCP_TIME_WAIT);
	tcp_listener_close(l);
	TCP_END();
}
