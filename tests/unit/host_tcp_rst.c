/*
 * host_tcp_rst.c — resets, hostile and broken input, and bounded
 * resources, on the host, against the scripted peer (host_tcp_peer.h).
 *
 * A segment for no connection is answered with RST as RFC 9293 §3.10.7.1
 * says (from its ACK number, or RST|ACK acknowledging it), and a RST never
 * is.  RST is honoured only with the exact sequence number (-ECONNRESET,
 * also waking a blocked reader); in the window but not exact it gets a
 * challenge ACK and changes nothing; outside it is dropped (RFC 5961 §3);
 * a SYN on an established connection gets a challenge ACK (§4); an ACK of
 * data never sent is answered and dropped (RFC 9293 §3.10.7.4); challenge
 * ACKs are rate-limited (tcp-notes: 100 a second).  A RST answering our
 * SYN refuses the connection only when it acknowledges the SYN.  A SYN
 * flood against a listener with backlog N keeps at most N half-open
 * connections and bounded memory, counts the rest as dropped, and a real
 * client gets through once the flood's half-open connections time out.
 * Every ephemeral port in use: -EADDRNOTAVAIL, until one is freed.
 * Malformed segments (short, a bad data offset, broken options, a wrong
 * checksum) are dropped and counted, and random ones never crash or leak.
 */
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/time.h"

#define LPORT 8083
#define CLOSED_PORT 9999

static void drop_conn(struct tcp_peer *p, struct tcp_conn *c)
{
	tcp_abort(c);
	tp_drain(p);
}

/* The connection answered with a challenge ACK (RFC 5961 §3.2): <SEQ=SND.NXT><ACK=RCV.NXT>. */
#define EXPECT_CHALLENGE(p) KT_EXPECT(TP_EXPECT((p), TP_ACK, (p)->rcv_nxt, (p)->snd_nxt))

/* Still alive: a byte from the peer is read. */
static bool alive(struct tcp_peer *p, struct tcp_conn *c)
{
	char b = 0;

	tp_push(p, TP_PSH, "z", 1);
	return tcp_recv(c, &b, 1, NS_S) == 1 && b == 'z' && tp_info(c).state == TCP_ESTABLISHED;
}

KTEST(tcp_rst, a_closed_port_answers_with_rst)
{
	TCP_BEGIN();
	struct tcp_stats st0 = tp_stats();

	p->our_port = CLOSED_PORT;
	/* A SYN: RST|ACK from 0 acknowledging it. */
	tp_send(p, TP_SYN, p->iss, 0, NULL, 0);
	KT_EXPECT(TP_EXPECT(p, TP_RST | TP_ACK, 0, p->iss + 1));
	/* A SYN with 10 bytes: they count too. */
	tp_send(p, TP_SYN, p->iss, 0, "0123456789", 10);
	KT_EXPECT(TP_EXPECT(p, TP_RST | TP_ACK, 0, p->iss + 11));
	/* With ACK: RST from the ACK's number. */
	tp_send(p, TP_ACK | TP_PSH, p->iss, 0x12345678u, "data", 4);
	KT_EXPECT(TP_EXPECT(p, TP_RST, 0x12345678u, TP_ANY));
	tp_send(p, TP_FIN | TP_ACK, p->iss, 0x2000u, NULL, 0);
	KT_EXPECT(TP_EXPECT(p, TP_RST, 0x2000u, TP_ANY));
	/* A RST is never answered. */
	tp_send(p, TP_RST, p->iss, 0, NULL, 0);
	tp_send(p, TP_RST | TP_ACK, p->iss, 5, NULL, 0);
	TP_EXPECT_NONE(p);
	KT_EXPECT(tp_stats().no_port >= st0.no_port + 4);
	KT_EXPECT_EQ(tp_stats().resets_out, st0.resets_out + 4);
	TCP_END();
}

static void send_rst(struct tcp_peer *p)
{
	tp_send(p, TP_RST, p->snd_nxt, 0, NULL, 0);
}

KTEST(tcp_rst, rst_with_the_exact_sequence_number_resets)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_stats st0 = tp_stats();
	char b;
	u64 t0;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_send(p, TP_RST, p->snd_nxt, 0, NULL, 0);
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tp_info(c).error, -ECONNRESET);
	KT_EXPECT_EQ(tp_info(c).state, TCP_CLOSED);
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, NS_S), -ECONNRESET);
	KT_EXPECT_EQ(tcp_send(c, "x", 1, NS_S), -ECONNRESET);
	KT_EXPECT_EQ(tp_stats().resets_in, st0.resets_in + 1);
	tcp_close(c);
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tp_conns(), 0);

	/* A reader blocked in tcp_recv() is woken by it. */
	p->port++;
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	t0 = time_ns();
	tp_later(p, 100 * NS_MS, send_rst);
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, 10 * NS_S), -ECONNRESET);
	KT_EXPECT(time_ns() - t0 < NS_S);
	tcp_close(c);
	TCP_END();
}

KTEST(tcp_rst, rst_in_the_window_but_not_exact_gets_a_challenge_ack)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	u64 rst_in = tp_stats().resets_in;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_send(p, TP_RST, p->snd_nxt + 1000, 0, NULL, 0);
	EXPECT_CHALLENGE(p);
	tp_send(p, TP_RST | TP_ACK, p->snd_nxt + 1, p->rcv_nxt, NULL, 0);
	EXPECT_CHALLENGE(p);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	KT_EXPECT(alive(p, c));
	/* The peer that really meant it answers the challenge with the exact number. */
	tp_drain(p);
	tp_send(p, TP_RST, p->snd_nxt, 0, NULL, 0);
	KT_EXPECT_EQ(tp_info(c).error, -ECONNRESET);
	KT_EXPECT_EQ(tp_stats().resets_in, rst_in + 1);
	tcp_close(c);
	TCP_END();
}

KTEST(tcp_rst, rst_outside_the_window_is_ignored)
{
	TCP_BEGIN();
	struct tcp_conn *c;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_send(p, TP_RST, p->snd_nxt + (4u << 20), 0, NULL, 0); /* far ahead */
	tp_send(p, TP_RST, p->snd_nxt - 1, 0, NULL, 0);          /* just behind */
	tp_send(p, TP_RST, p->snd_nxt + 0x80000000u, 0, NULL, 0); /* the other half */
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	KT_EXPECT(alive(p, c));
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_rst, syn_on_an_established_connection_gets_a_challenge_ack)
{
	TCP_BEGIN();
	struct tcp_conn *c;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_send(p, TP_SYN, p->snd_nxt, 0, NULL, 0);              /* in the window */
	EXPECT_CHALLENGE(p);
	tp_send(p, TP_SYN, p->snd_nxt + 0x40000000u, 0, NULL, 0); /* anywhere */
	EXPECT_CHALLENGE(p);
	tp_send(p, TP_SYN | TP_ACK, p->iss, p->rcv_nxt, NULL, 0);  /* the old SYN-ACK again */
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	KT_EXPECT_EQ(tp_info(c).error, 0);
	KT_EXPECT(alive(p, c));
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_rst, ack_of_data_never_sent_is_answered_and_dropped)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	char b;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_send(p, TP_ACK | TP_PSH, p->snd_nxt, p->rcv_nxt + 1000, "bogus", 5);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, 20 * NS_MS), -ETIMEDOUT);
	KT_EXPECT(alive(p, c));
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_rst, challenge_acks_are_rate_limited)
{
	TCP_BEGIN();
	struct tcp_conn *c;
	unsigned acks;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	shim_clock_advance(NS_S); /* a fresh second of the limit */
	for (unsigned i = 0; i < TN_CHALLENGE_PER_S + 50; i++)
		tp_send(p, TP_RST, p->snd_nxt + 100 + i, 0, NULL, 0);
	acks = tp_drain(p);
	KT_EXPECT(acks <= TN_CHALLENGE_PER_S);
	KT_EXPECT(acks > 0);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	drop_conn(p, c);
	shim_clock_advance(NS_S); /* the next test starts with the limit's budget whole */
	TCP_END();
}

/* ------------------------------------------------------------ refused */

static struct {
	unsigned syns;
	u32 isn;
} refuse;

/* To the first SYN: RSTs that do not acknowledge it; to the second, one that does. */
static void refuse_step(struct tcp_peer *p)
{
	struct tp_seg s;

	while (tp_pop(p, &s)) {
		if (s.flags != TP_SYN)
			continue;
		p->our_port = s.sport;
		refuse.isn = s.seq;
		if (++refuse.syns == 1) {
			tp_send(p, TP_RST | TP_ACK, 0, s.seq + 5, NULL, 0);
			tp_send(p, TP_RST, 0, 0, NULL, 0);
		} else {
			tp_send(p, TP_RST | TP_ACK, 0, s.seq + 1, NULL, 0);
		}
	}
}

KTEST(tcp_rst, rst_answering_our_syn_refuses_the_connection)
{
	TCP_BEGIN();
	struct ip_addr dst = ip_v4(PEER_IP);
	struct tcp_conn *c = NULL;
	struct tcp_stats st0 = tp_stats();

	memset(&refuse, 0, sizeof(refuse));
	tp_every(p, NS_MS, refuse_step);
	KT_EXPECT_EQ(tcp_connect(&dst, TP_PORT, 10 * NS_S, &c), -ECONNREFUSED);
	tp_stop(p);
	KT_EXPECT_EQ(refuse.syns, 2); /* the RSTs that did not acknowledge it changed nothing */
	KT_EXPECT(c == NULL);
	KT_EXPECT_EQ(tp_conns(), 0);
	KT_EXPECT_EQ(tp_stats().conn_failed, st0.conn_failed + 1);
	TP_EXPECT_NONE(p);
	TCP_END();
}

/* --------------------------------------------------------- SYN flood */

KTEST(tcp_rst, syn_flood_is_bounded_and_a_real_client_gets_through_after)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;
	struct tcp_stats st0 = tp_stats();
	const unsigned backlog = 4, flood = 300;
	unsigned synacks = 0, mem_full = 0;
	struct tp_seg s;

	KT_ASSERT_EQ(tcp_listen(LPORT, backlog, &l), 0);
	p->our_port = LPORT;
	for (unsigned i = 0; i < flood; i++) {
		p->port = (u16)(30000 + i);
		tp_send(p, TP_SYN, p->iss + i * 7919, 0, NULL, 0);
		while (tp_pop(p, &s))
			synacks += s.flags == (TP_SYN | TP_ACK);
		if (i == backlog - 1)
			mem_full = shim_mem_live();
	}
	KT_EXPECT_EQ(synacks, backlog);
	KT_EXPECT_EQ(tp_stats().syn_dropped, st0.syn_dropped + flood - backlog);
	KT_EXPECT_EQ(tp_stats().conns, backlog);
	KT_EXPECT(shim_mem_live() <= mem_full); /* nothing more kept for the rest */
	/* The half-open ones time out (their SYN-ACKs unanswered); then a client gets in. */
	for (int i = 0; i < 100 && tp_stats().conns; i++) {
		shim_clock_advance(NS_S);
		tp_drain(p);
	}
	KT_EXPECT_EQ(tp_stats().conns, 0);
	p->port = TP_PORT;
	KT_ASSERT_EQ(tp_accept(p, l, &c), 0);
	KT_EXPECT(alive(p, c));
	drop_conn(p, c);
	tcp_listener_close(l);
	TCP_END();
}

/* ----------------------------------------------------- port exhaustion */

KTEST(tcp_rst, every_ephemeral_port_in_use_gives_eaddrnotavail)
{
	TCP_BEGIN();
	struct tcp_peer peers[4];
	struct tcp_conn *c[4], *extra;
	struct tcp_listener *l;
	struct ip_addr dst = ip_v4(PEER_IP);
	u16 freed;

	/* Five ports, one of them a listener's: four connections fit. */
	tcp_test_set_ephemeral(50000, 50004);
	KT_ASSERT_EQ(tcp_listen(50002, 1, &l), 0);
	for (unsigned i = 0; i < 4; i++) {
		tp_init(kt, &peers[i], f, (u16)(TP_PORT + i));
		KT_ASSERT_EQ(tp_connect(&peers[i], &c[i]), 0);
		KT_EXPECT(peers[i].our_port >= 50000 && peers[i].our_port <= 50004);
		KT_EXPECT(peers[i].our_port != 50002);
		for (unsigned j = 0; j < i; j++)
			KT_EXPECT(peers[j].our_port != peers[i].our_port);
	}
	KT_EXPECT_EQ(tcp_connect(&dst, TP_PORT + 9, NS_S, &extra), -EADDRNOTAVAIL);
	TP_EXPECT_NONE(p); /* refused before any SYN */
	/* One freed: the next connection gets exactly that port. */
	freed = peers[2].our_port;
	drop_conn(&peers[2], c[2]);
	KT_ASSERT_EQ(tp_connect(&peers[2], &c[2]), 0);
	KT_EXPECT_EQ(peers[2].our_port, freed);
	for (unsigned i = 0; i < 4; i++) {
		drop_conn(&peers[i], c[i]);
		tp_fini(&peers[i]);
	}
	tcp_listener_close(l);
	TCP_END();
}

/* ------------------------------------------------------- bad segments */

/* Inject @s carrying "bad!" at the peer's snd_nxt. */
static void bad(struct tcp_peer *p, struct tp_seg *s)
{
	memcpy(s->data, "bad!", 4);
	s->len = 4;
	tp_inject(p, s);
}

KTEST(tcp_rst, malformed_segments_are_dropped_and_counted)
{
	static const u8 off_the_end[] = { 1, 1, 2, 4 };   /* MSS of 4 bytes in the last 2 */
	static const u8 zero_len[] = { 3, 0, 1, 1 };       /* an option of length 0 */
	static const u8 one_len[] = { 1, 8, 1, 1 };        /* an option of length 1 */
	TCP_BEGIN();
	struct tcp_conn *c;
	struct tcp_stats st0;
	struct tp_seg s;
	u8 tcp[TCP_HLEN + 16];
	char buf[8];

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	st0 = tp_stats();
	/* Shorter than a TCP header. */
	tp_seg_init(p, &s, TP_ACK, p->snd_nxt, p->rcv_nxt);
	tp_build(&s, tcp);
	tp_inject_raw(p, p->ip, p->our_ip, tcp, 10);
	/* A data offset below 5 words, and one past the end of the packet. */
	tp_seg_init(p, &s, TP_ACK, p->snd_nxt, p->rcv_nxt);
	s.doff = 4;
	bad(p, &s);
	tp_seg_init(p, &s, TP_ACK, p->snd_nxt, p->rcv_nxt);
	s.doff = 15;
	bad(p, &s);
	KT_EXPECT_EQ(tp_stats().bad_hdr, st0.bad_hdr + 3);
	/* Options that run off their end, or have a length of 0 or 1. */
	tp_seg_init(p, &s, TP_ACK, p->snd_nxt, p->rcv_nxt);
	s.raw_opts = off_the_end, s.raw_opts_len = sizeof(off_the_end);
	bad(p, &s);
	s.raw_opts = zero_len, s.raw_opts_len = sizeof(zero_len);
	bad(p, &s);
	s.raw_opts = one_len, s.raw_opts_len = sizeof(one_len);
	bad(p, &s);
	KT_EXPECT_EQ(tp_stats().bad_hdr, st0.bad_hdr + 6);
	/* A wrong checksum, here and on a SYN for a closed port (no RST for it either). */
	tp_seg_init(p, &s, TP_ACK, p->snd_nxt, p->rcv_nxt);
	s.csum_xor = 0x0101;
	bad(p, &s);
	tp_seg_init(p, &s, TP_SYN, p->iss, 0);
	s.dport = CLOSED_PORT;
	s.csum_xor = 0x8000;
	tp_inject(p, &s);
	KT_EXPECT_EQ(tp_stats().bad_csum, st0.bad_csum + 2);
	/* None of it was taken or answered; the connection is as it was. */
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), 20 * NS_MS), -ETIMEDOUT);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	tp_push(p, TP_PSH, "good", 4);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 4);
	KT_EXPECT(!memcmp(buf, "good", 4));
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_rst, random_segments_never_crash_or_leak)
{
	TCP_BEGIN();
	struct tcp_listener *l;
	struct tcp_conn *c;
	struct tp_seg s;
	u8 opts[TP_OPT_MAX];

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	for (int i = 0; i < 3000; i++) {
		u64 r = ktest_rand(kt);
		static const u16 ports[] = { LPORT, 0, CLOSED_PORT };
		u16 dport = ports[r % 3] ? ports[r % 3] : p->our_port;

		tp_seg_init(p, &s, (u8)(r >> 8), (r & 0x100) ? p->snd_nxt + (u32)(r >> 40) % 70000
							     : (u32)ktest_rand(kt),
			    (r & 0x200) ? p->rcv_nxt + (u32)(r >> 20) % 3000 - 1500
					: (u32)ktest_rand(kt));
		s.dport = dport;
		s.sport = (u16)(TP_PORT + (r >> 12) % 4);
		s.win = (u16)(r >> 16);
		s.len = (u32)((r >> 24) % 1500);
		for (u32 k = 0; k < s.len; k++)
			s.data[k] = (u8)k;
		if (r & 0x400) {
			for (unsigned k = 0; k < sizeof(opts); k++)
				opts[k] = (u8)ktest_rand(kt);
			s.raw_opts = opts;
			s.raw_opts_len = (u8)((r >> 32) % (TP_OPT_MAX + 1));
		}
		if ((r & 0x1800) == 0x1800)
			s.doff = (int)((r >> 36) & 0xf);
		if ((r & 0x6000) == 0x6000)
			s.csum_xor = (u16)(r >> 44) | 1;
		if (s.flags & TP_RST)
			s.seq ^= 0x5a5a; /* never the exact number by chance */
		tp_inject(p, &s);
		tp_drain(p);
		if (i % 500 == 0)
			shim_clock_advance(100 * NS_MS);
	}
	tcp_abort(c);
	tcp_listener_close(l);
	tp_drain(p);
	shim_clock_advance(NS_S);
	tp_drain(p);
	TCP_END();
}
