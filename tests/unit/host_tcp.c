/*
 * host_tcp.c — TCP (net/tcp*.c, the real files) on the host: opening
 * connections and moving data, against the scripted peer of
 * host_tcp_peer.h through the fake netdev and the real IPv4 below.
 *
 * The handshake both ways (tcp_connect() to the peer, the peer to
 * tcp_listen()/tcp_accept()), what each side's SYN carries and what the
 * options change afterwards: the peer's MSS bounds every segment (536 when
 * it sends none), window scaling applies in both directions when both
 * offered it and in neither when the peer did not (RFC 7323 §1.3), options
 * the stack does not implement are ignored.  Data both ways, byte for
 * byte, across the sequence-number wrap and past the buffers' size.  The
 * calls' argument checks.  The loss, close and reset cases are in
 * host_tcp_loss.c, host_tcp_close.c and host_tcp_rst.c; the calls' waits
 * and the status calls in host_tcp_api.c.
 *
 * Numbers the RFCs leave open (our MSS, window shift, initial window) are
 * the core's choices in /work/briefs/tcp-notes.md (TN_* in
 * host_tcp_peer.h).  Every test ends with no connection, listener, timer
 * or netbuf left (TCP_END()).
 */
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/time.h"

#define LPORT 8080

static u8 rxbuf[1 << 20];

/* Reset @c and drop what that sent. */
static void drop_conn(struct tcp_peer *p, struct tcp_conn *c)
{
	tcp_abort(c);
	tp_drain(p);
}

KTEST(tcp, active_open_handshake)
{
	TCP_BEGIN();
	struct tcp_peer p2;
	struct tcp_conn *c, *c2;
	struct tcp_conn_info in;
	const struct tp_seg *syn = &p->syn;
	u64 opens = tp_stats().active_opens;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	/* The SYN: only SYN, from an ephemeral port, MSS, window scale, SACK-permitted. */
	KT_EXPECT_EQ(syn->flags, TP_SYN);
	KT_EXPECT_EQ(syn->src, OUR_IP);
	KT_EXPECT_EQ(syn->dst, PEER_IP);
	KT_EXPECT_EQ(syn->dport, TP_PORT);
	KT_EXPECT(syn->sport >= TCP_EPHEMERAL_MIN);
	KT_EXPECT(syn->o.has_mss && syn->o.mss == TN_MSS);
	KT_EXPECT(syn->o.has_ws && syn->o.ws == TN_WS);
	KT_EXPECT_EQ(syn->o.norder, 3);
	KT_EXPECT_EQ(syn->o.order[0], 2);
	KT_EXPECT_EQ(syn->o.order[1], 3);
	KT_EXPECT_EQ(syn->o.order[2], 4); /* SACK-permitted */
	KT_EXPECT_EQ(syn->win, 65535); /* min(buffer, 65535): never scaled on a SYN */
	KT_EXPECT_EQ(syn->len, 0);
	KT_EXPECT(syn->csum_ok && !syn->o.malformed);
	/* tp_connect() checked the ACK that ends it: seq irs+1, ack iss+1. */
	in = tp_info(c);
	KT_EXPECT_EQ(in.state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(in.local.v4, OUR_IP);
	KT_EXPECT_EQ(in.remote.v4, PEER_IP);
	KT_EXPECT_EQ(in.lport, syn->sport);
	KT_EXPECT_EQ(in.rport, TP_PORT);
	KT_EXPECT_EQ(in.mss, 1460);
	KT_EXPECT_EQ(in.error, 0);
	KT_EXPECT_EQ(in.snd_queued, 0);
	KT_EXPECT_EQ(tp_stats().active_opens, opens + 1);
	KT_EXPECT_EQ(tp_state_of(in.lport, TP_PORT), TCP_ESTABLISHED);

	/* A second connection: another port, another ISN (RFC 9293 §3.4.1). */
	tp_init(kt, &p2, f, TP_PORT + 1);
	KT_ASSERT_EQ(tp_connect(&p2, &c2), 0);
	KT_EXPECT(p2.our_port != p->our_port);
	KT_EXPECT(p2.irs != p->irs && p2.irs != p->irs + 1);
	KT_EXPECT_EQ(tp_conns(), 2);
	tcp_abort(c2);
	KT_EXPECT(TP_EXPECT_RST(&p2, p2.rcv_nxt));
	tp_fini(&p2);
	tcp_abort(c);
	KT_EXPECT(TP_EXPECT_RST(p, p->rcv_nxt));
	TCP_END();
}

static void count_listen(void *arg, const struct tcp_conn_info *i)
{
	if (i->state == TCP_LISTEN && i->lport == LPORT)
		(*(unsigned *)arg)++;
}

KTEST(tcp, passive_open_handshake)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;
	struct tcp_conn_info in;
	const struct tp_seg *sa = &p->syn;
	u64 opens = tp_stats().passive_opens;
	unsigned listening = 0;

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	KT_EXPECT_EQ(tcp_listener_port(l), LPORT);
	tcp_for_each(count_listen, &listening);
	KT_EXPECT_EQ(listening, 1);
	KT_EXPECT_EQ(tp_stats().listeners, 1);
	p->mss = 1200;
	KT_ASSERT_EQ(tp_accept(p, l, &c), 0);
	/* The SYN-ACK: acknowledges our SYN; MSS, and no window scale (our SYN had none). */
	KT_EXPECT_EQ(sa->flags, TP_SYN | TP_ACK);
	KT_EXPECT_EQ(sa->ack, p->iss + 1);
	KT_EXPECT_EQ(sa->sport, LPORT);
	KT_EXPECT_EQ(sa->dport, TP_PORT);
	KT_EXPECT(sa->o.has_mss && sa->o.mss == TN_MSS);
	KT_EXPECT(!sa->o.has_ws);
	KT_EXPECT_EQ(sa->win, 65535);
	in = tp_info(c);
	KT_EXPECT_EQ(in.state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(in.lport, LPORT);
	KT_EXPECT_EQ(in.rport, TP_PORT);
	KT_EXPECT_EQ(in.remote.v4, PEER_IP);
	KT_EXPECT_EQ(in.mss, 1200);
	KT_EXPECT_EQ(tp_stats().passive_opens, opens + 1);
	TP_EXPECT_NONE(p); /* the ACK that ends a handshake is not answered */
	drop_conn(p, c);

	/* A SYN with window scale: the SYN-ACK has MSS, then window scale (tcp-notes). */
	p->port++;
	p->offer_ws = true;
	KT_ASSERT_EQ(tp_accept(p, l, &c), 0);
	KT_EXPECT(sa->o.has_ws && sa->o.ws == TN_WS);
	KT_EXPECT_EQ(sa->o.norder, 2);
	KT_EXPECT_EQ(sa->o.order[0], 2);
	KT_EXPECT_EQ(sa->o.order[1], 3);
	KT_EXPECT(p->ws_on);
	drop_conn(p, c);
	tcp_listener_close(l);
	TCP_END();
}

/* A client for accept_waits_for_a_client: SYN at its first step, ACK when the SYN-ACK came. */
static void client_step(struct tcp_peer *p)
{
	if (p->steps == 1) {
		p->snd_nxt = p->iss;
		p->rcv_nxt = 0;
		tp_push(p, TP_SYN, NULL, 0);
		return;
	}
	while (tp_pop(p, &p->last))
		if (p->last.flags == (TP_SYN | TP_ACK) && p->last.ack == p->iss + 1) {
			p->irs = p->last.seq;
			p->rcv_nxt = p->irs + 1;
			tp_ack(p);
			tp_push(p, TP_PSH, "hi", 2); /* data straight after */
		}
}

KTEST(tcp, accept_waits_for_a_client)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c = NULL;
	char buf[8];
	u64 t0 = time_ns();

	KT_ASSERT_EQ(tcp_listen(LPORT, 1, &l), 0);
	p->our_port = LPORT;
	tp_every(p, 300 * NS_MS, client_step);
	KT_ASSERT_EQ(tcp_accept(l, 5 * NS_S, &c), 0);
	tp_stop(p);
	KT_EXPECT(time_ns() - t0 >= 600 * NS_MS); /* woken by the client, not before */
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 2);
	KT_EXPECT(!memcmp(buf, "hi", 2));
	drop_conn(p, c);
	tcp_listener_close(l);
	TCP_END();
}

/* A connection whose peer offers MSS @mss (0: none); @passive: the peer connects. */
static int open_with_mss(struct tcp_peer *p, struct tcp_listener *l, u16 mss, struct tcp_conn **c)
{
	p->mss = mss;
	return l ? tp_accept(p, l, c) : tp_connect(p, c);
}

KTEST(tcp, peer_mss_bounds_every_segment)
{
	static const struct {
		u16 mss;
		bool passive;
		u32 want;
	} cases[] = {
		{ 536, false, 536 },
		{ 1000, true, 1000 },
		{ 0, true, 536 },       /* no option: RFC 9293 §3.7.1's default */
		{ 9000, false, 1460 },  /* more than our MTU allows: ours */
	};
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		p->port = (u16)(TP_PORT + i);
		KT_ASSERT_EQ(open_with_mss(p, cases[i].passive ? l : NULL, cases[i].mss, &c), 0);
		KT_EXPECT_EQ(tp_info(c).mss, cases[i].want);
		p->sink_max_len = 0;
		KT_EXPECT(tp_stream_out(p, c, i, 0, 20000, NS_MS));
		KT_EXPECT_EQ(p->sink_max_len, cases[i].want); /* full segments, and none larger */
		drop_conn(p, c);
	}
	tcp_listener_close(l);
	TCP_END();
}

/* Bytes the stack sends now, without the peer acknowledging: the segments popped. */
static u32 flight(struct tcp_peer *p, u32 *max_end)
{
	struct tp_seg s;
	u32 n = 0;

	*max_end = p->rcv_nxt;
	while (tp_pop(p, &s))
		if (s.len) {
			n += s.len;
			if ((s32)(s.seq + s.len - *max_end) > 0)
				*max_end = s.seq + s.len;
		}
	return n;
}

KTEST(tcp, window_scale_applied_both_ways)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_conn_info in;
	static u8 data[3 * TN_IW];
	u32 inflight, end;

	p->offer_ws = true;
	p->ws = 7;
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_ASSERT(p->ws_on);
	KT_EXPECT_EQ(p->stack_ws, TN_WS);
	/* Our window, scaled by our shift: more than 16 bits can say, at most the buffer. */
	KT_EXPECT(tp_wnd(p, &p->last) > 65535);
	KT_EXPECT(tp_wnd(p, &p->last) <= TCP_BUF_DEFAULT);
	in = tp_info(c);
	KT_EXPECT_EQ(in.rcv_wscale, TN_WS);
	KT_EXPECT_EQ(in.snd_wscale, 7);
	/* The peer's window, scaled by its shift: 1024 << 7. */
	p->wnd = 128u << 10;
	tp_ack(p);
	in = tp_info(c);
	KT_EXPECT_EQ(in.snd_wnd, 128u << 10);
	/* So the first flight is the initial cwnd, not the 1024 bytes of the raw field. */
	tp_fill(data, sizeof(data), 3, 0);
	tcp_set_nodelay(c, true);
	KT_ASSERT_EQ(tcp_send(c, data, sizeof(data), NS_S), (s64)sizeof(data));
	inflight = flight(p, &end);
	KT_EXPECT_EQ(inflight, TN_IW);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp, window_scale_not_applied_unless_both_offer)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_conn_info in;
	u8 data[5000];
	u32 inflight, end;

	/* The peer offers no window scale: our SYN had one, yet neither side may scale. */
	p->wnd = 1024;
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_ASSERT(!p->ws_on);
	KT_EXPECT_EQ(p->last.win, 65535); /* our 256 KiB of room, unscaled: capped */
	in = tp_info(c);
	KT_EXPECT_EQ(in.snd_wnd, 1024);
	KT_EXPECT_EQ(in.snd_wscale, 0);
	KT_EXPECT_EQ(in.rcv_wscale, 0);
	tp_fill(data, sizeof(data), 4, 0);
	tcp_set_nodelay(c, true);
	KT_ASSERT_EQ(tcp_send(c, data, sizeof(data), NS_S), (s64)sizeof(data));
	inflight = flight(p, &end);
	KT_EXPECT(inflight <= 1024);
	KT_EXPECT((s32)(end - (p->rcv_nxt + 1024)) <= 0);
	/* The rest comes as the peer acknowledges, never past its 1024 bytes. */
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	p->sink_max_len = 0;
	tp_every(p, 5 * NS_MS, tp_sink);
	KT_EXPECT_EQ(tcp_flush(c, 30 * NS_S), 0);
	tp_stop(p);
	KT_EXPECT(p->sink_max_len <= 1024);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp, data_both_ways_exact_bytes_and_acks)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_conn_info in;
	u8 buf[4096], data[3000];
	u32 at;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	/* In: 1000 bytes, read whole; acknowledged (delayed: less than two segments). */
	tp_push_pattern(p, TP_PSH, 1, 0, 1000);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 1000);
	KT_EXPECT_EQ(tp_check(buf, 1000, 1, 0), 1000);
	shim_clock_advance((TN_DELACK_MS + 2 * TN_TICK_MS) * NS_MS);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, 0);
	/* Out: 3000 bytes, Nagle on: two full segments now, the 80 left once they are acked. */
	tp_fill(data, sizeof(data), 2, 0);
	KT_ASSERT_EQ(tcp_send(c, data, sizeof(data), NS_S), 3000);
	at = p->rcv_nxt;
	KT_ASSERT(TP_EXPECT(p, TP_ACK, at, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, 1460);
	KT_EXPECT_EQ(tp_check(p->last.data, 1460, 2, 0), 1460);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, at + 1460, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, 1460);
	KT_EXPECT_EQ(tp_check(p->last.data, 1460, 2, 1460), 1460);
	TP_EXPECT_NONE(p);
	p->rcv_nxt = at + 2920;
	tp_ack(p);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, at + 2920, p->snd_nxt));
	KT_EXPECT_EQ(p->last.len, 80);
	KT_EXPECT_EQ(tp_check(p->last.data, 80, 2, 2920), 80);
	p->rcv_nxt += 80;
	tp_ack(p);
	KT_EXPECT_EQ(tcp_flush(c, NS_S), 0);
	in = tp_info(c);
	KT_EXPECT_EQ(in.bytes_sent, 3000);
	KT_EXPECT_EQ(in.bytes_received, 1000);
	KT_EXPECT_EQ(in.snd_queued, 0);
	KT_EXPECT_EQ(in.rcv_queued, 0);

	/* Bulk: more than a receive buffer in, more than a send buffer out. */
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	KT_EXPECT_EQ(tp_stream_in(p, c, 5, 1000, 300u << 10), 300u << 10);
	KT_EXPECT(tp_stream_out(p, c, 6, 3000, 600u << 10, NS_MS));
	in = tp_info(c);
	KT_EXPECT_EQ(in.bytes_sent, 3000 + (600u << 10));
	KT_EXPECT_EQ(in.bytes_received, 1000 + (300u << 10));
	KT_EXPECT_EQ(in.retransmits, 0);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp, sequence_numbers_wrap)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;

	KT_ASSERT_EQ(tcp_listen(LPORT, 1, &l), 0);
	p->iss = 0xffffc000u; /* 16 KiB below 2^32 */
	KT_ASSERT_EQ(tp_accept(p, l, &c), 0);
	KT_EXPECT_EQ(tp_stream_in(p, c, 7, 0, 64u << 10), 64u << 10);
	KT_EXPECT(p->snd_nxt < 0x10000u); /* past the wrap */
	tp_sink_buffer(p, rxbuf, sizeof(rxbuf));
	KT_EXPECT(tp_stream_out(p, c, 8, 0, 64u << 10, NS_MS));
	drop_conn(p, c);
	tcp_listener_close(l);
	TCP_END();
}

KTEST(tcp, options_we_do_not_implement_are_ignored)
{
	/* MSS 1400, SACK-permitted, timestamps, an unknown kind 99 of 4 bytes, NOP, EOL. */
	static const u8 syn_opts[] = { 2, 4, 0x05, 0x78, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
				       99, 4, 0xab, 0xcd, 1, 0 };
	static const u8 data_opts[] = { 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 0, 99, 2 };
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;
	struct tp_seg s;
	char buf[16];

	KT_ASSERT_EQ(tcp_listen(LPORT, 1, &l), 0);
	p->our_port = LPORT;
	tp_seg_init(p, &s, TP_SYN, p->iss, 0);
	s.raw_opts = syn_opts;
	s.raw_opts_len = sizeof(syn_opts);
	tp_inject(p, &s);
	KT_ASSERT(TP_EXPECT(p, TP_SYN | TP_ACK, TP_ANY, p->iss + 1));
	KT_EXPECT(!p->last.o.has_ts && p->last.o.sack_ok && !p->last.o.has_ws); /* SACK echoed */
	p->irs = p->last.seq;
	p->rcv_nxt = p->irs + 1;
	p->snd_nxt = p->iss + 1;
	tp_ack(p);
	KT_ASSERT_EQ(tcp_accept(l, NS_S, &c), 0);
	KT_EXPECT_EQ(tp_info(c).mss, 1400);
	/* Data with options too. */
	tp_seg_init(p, &s, TP_ACK | TP_PSH, p->snd_nxt, p->rcv_nxt);
	s.raw_opts = data_opts;
	s.raw_opts_len = sizeof(data_opts);
	memcpy(s.data, "payload", 7);
	s.len = 7;
	tp_inject(p, &s);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 7);
	KT_EXPECT(!memcmp(buf, "payload", 7));
	drop_conn(p, c);
	tcp_listener_close(l);
	TCP_END();
}

KTEST(tcp, bad_arguments_refused)
{
	TCP_BEGIN();
	struct tcp_listener *l, *l2;
	struct tcp_conn *c;
	struct ip_addr peer = ip_v4(PEER_IP), bcast = ip_v4(IP_BROADCAST), zero = ip_v4(0),
		       multi = ip_v4(0xE0000001u);

	KT_EXPECT_EQ(tcp_listen(LPORT, 0, &l), -EINVAL);
	KT_EXPECT_EQ(tcp_listen(LPORT, TCP_BACKLOG_MAX + 1, &l), -EINVAL);
	KT_ASSERT_EQ(tcp_listen(LPORT, TCP_BACKLOG_MAX, &l), 0);
	KT_EXPECT_EQ(tcp_listen(LPORT, 1, &l2), -EADDRINUSE);
	tcp_listener_close(l);
	KT_ASSERT_EQ(tcp_listen(LPORT, 1, &l), 0); /* free again */
	tcp_listener_close(l);
	tcp_listener_close(NULL);
	KT_EXPECT_EQ(tcp_connect(&peer, 0, NS_S, &c), -EINVAL);
	KT_EXPECT_EQ(tcp_connect(&bcast, 80, NS_S, &c), -EINVAL);
	KT_EXPECT_EQ(tcp_connect(&zero, 80, NS_S, &c), -EINVAL);
	KT_EXPECT_EQ(tcp_connect(&multi, 80, NS_S, &c), -EINVAL);
	tcp_close(NULL);
	tcp_abort(NULL);
	TP_EXPECT_NONE(p);
	TCP_END();
}

KTEST(tcp, unreachable_destinations)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct ip_addr nobody = ip_v4(0x0A000063u), far = ip_v4(0xC0A80101u);

	/* Nobody answers ARP for 10.0.0.99: -EHOSTUNREACH, before the caller's limit. */
	KT_EXPECT_EQ(tcp_connect(&nobody, 80, 60 * NS_S, &c), -EHOSTUNREACH);
	KT_EXPECT_EQ(tp_conns(), 0);
	/* No route at all to 192.168.1.1 (no gateway). */
	KT_ASSERT_EQ(fake_netdev_set_ipv4(f, "10.0.0.1/24"), 0);
	KT_EXPECT_EQ(tcp_connect(&far, 80, 10 * NS_S, &c), -ENETUNREACH);
	KT_EXPECT_EQ(tp_conns(), 0);
	tp_drain(p);
	TCP_END();
}
