/*
 * host_tcp_icmp.c — TCP's answer to ICMP errors about its segments
 * (RFC 1122 §4.2.3.9, RFC 5927) on the host, against the scripted peer
 * (host_tcp_peer.h), with the errors coming in as a router would send them:
 * an IPv4 packet from the gateway quoting our segment's IP header and its
 * first 8 bytes, through the fake netdev and the real IP and ICMP.
 *
 * While tcp_connect() waits for the handshake, net, host, protocol and
 * port unreachable and the administratively prohibited codes quoting the
 * SYN end it at once with the matching error (no RST sent); so does one
 * quoting a passive SYN-ACK for the half-open child.  Quotes that cannot
 * be about the SYN — a sequence number outside [snd_una, snd_max], another
 * port, too short, an IP header longer than what came, a later fragment —
 * and "fragmentation needed" change nothing: the SYN-ACK still completes
 * the connect.  Time exceeded is soft: the connect goes on, and only if
 * the SYN's retries run out is it reported instead of -ETIMEDOUT.  Once
 * established every error is soft: the connection lives on, and fails with
 * the ICMP error instead of -ETIMEDOUT when the data's retries run out —
 * unless an ACK made progress in between, which forgets it.
 */
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/time.h"

#define LPORT 8085
#define QUOTE_LEN (IP_HLEN + ICMP_QUOTE_L4)
#define MSG_MAX (ICMP_HLEN + QUOTE_LEN + 4)

/*
 * An ICMP @type/@code about segment @s (as the stack sent it) into @msg:
 * the ICMP header, the segment's IP header as we wrote it, its first 8
 * bytes.  Its length; the checksum is written by inject_icmp().
 */
static u32 icmp_about(u8 *msg, u8 type, u8 code, const struct tp_seg *s)
{
	u8 *ih = msg + ICMP_HLEN, *th = ih + IP_HLEN;

	memset(msg, 0, MSG_MAX);
	msg[0] = type;
	msg[1] = code;
	ih[0] = 0x45;
	put_be16(ih + 2, (u16)(IP_HLEN + s->hlen + s->len));
	put_be16(ih + 6, 0x4000); /* DF */
	ih[8] = 63;
	ih[9] = IP_PROTO_TCP;
	put_be32(ih + 12, s->src);
	put_be32(ih + 16, s->dst);
	put_be16(ih + 10, inet_csum(ih, IP_HLEN));
	put_be16(th, s->sport);
	put_be16(th + 2, s->dport);
	put_be32(th + 4, s->seq);
	return ICMP_HLEN + QUOTE_LEN;
}

/* Send @len bytes of ICMP message @msg from the gateway to us, checksummed. */
static void inject_icmp(struct tcp_peer *p, u8 *msg, u32 len)
{
	u8 fr[ETH_HLEN + IP_HLEN + MSG_MAX];
	u32 n;

	put_be16(msg + 2, 0);
	put_be16(msg + 2, inet_csum(msg, len));
	n = fake_frame_ipv4(fr, &p->f->dev.mac, &peer_mac, GW_IP, OUR_IP, IP_PROTO_ICMP, msg, len);
	fake_netdev_inject(p->f, fr, n);
}

static void send_icmp(struct tcp_peer *p, u8 type, u8 code, const struct tp_seg *about)
{
	u8 msg[MSG_MAX];

	inject_icmp(p, msg, icmp_about(msg, type, code, about));
}

static void drop_conn(struct tcp_peer *p, struct tcp_conn *c)
{
	tcp_abort(c);
	tp_drain(p);
}

/* What the peer's step does with the stack's SYN. */
static struct {
	struct tp_seg syn;
	u8 type, code;
	bool answer;                /* then SYN-ACK */
	bool bad_quotes;            /* first every quote that is not about the SYN */
} step;

/* Errors about the SYN that are not (or cannot be shown to be) about it. */
static void send_bad_quotes(struct tcp_peer *p, const struct tp_seg *syn)
{
	struct tp_seg s;
	u8 msg[MSG_MAX], *ih = msg + ICMP_HLEN;
	u32 n;

	s = *syn;
	s.seq = syn->seq - 1;                       /* below snd_una */
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, &s);
	s.seq = syn->seq + 2;                       /* above snd_max */
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, &s);
	s.seq = syn->seq + 0x80000000u;
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, &s);
	s = *syn;
	s.sport++;                                  /* no such connection */
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, &s);
	s = *syn;
	s.dst = PEER_IP + 1;
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, &s);
	/* Fragmentation needed (no PMTU discovery) and a redirect: not for TCP. */
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, syn);
	send_icmp(p, 5, 1, syn);

	n = icmp_about(msg, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, syn);
	inject_icmp(p, msg, n - 4);                 /* 4 bytes of TCP header, not 8 */
	inject_icmp(p, msg, ICMP_HLEN + IP_HLEN - 1);
	inject_icmp(p, msg, ICMP_HLEN);
	ih[0] = 0x46;                               /* a 24-byte header, 20 there */
	inject_icmp(p, msg, n);
	ih[0] = 0x44;                               /* a header below 20 bytes */
	inject_icmp(p, msg, n);
	ih[0] = 0x65;                               /* not IPv4 */
	inject_icmp(p, msg, n);
	n = icmp_about(msg, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, syn);
	put_be16(ih + 6, 0x2000 | 185);             /* a later fragment: no TCP header there */
	inject_icmp(p, msg, n);
	n = icmp_about(msg, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, syn);
	put_be16(ih + 2, IP_HLEN + 4);              /* a packet too short for what follows */
	inject_icmp(p, msg, n);
}

/*
 * tp_later(): take the SYN, send the errors step asks for, maybe answer.
 * From the SoftIrq what is injected is queued, and taken in order after it.
 */
static void icmp_step(struct tcp_peer *p)
{
	if (!tp_pop(p, &step.syn) || step.syn.flags != TP_SYN) {
		ktest_fail(p->kt, __FILE__, __LINE__, "expected the stack's SYN");
		return;
	}
	if (step.bad_quotes)
		send_bad_quotes(p, &step.syn);
	if (step.type)
		send_icmp(p, step.type, step.code, &step.syn);
	if (step.answer)
		tp_answer_syn(p, &step.syn);
}

/* tcp_connect() to the peer with the step armed in 1 ms. */
static int connect_with(struct tcp_peer *p, u8 type, u8 code, bool answer, u64 timeout_ns,
			struct tcp_conn **c)
{
	struct ip_addr dst = ip_v4(PEER_IP);
	int rc;

	memset(&step, 0, sizeof(step));
	step.type = type;
	step.code = code;
	step.answer = answer;
	*c = NULL;
	tp_later(p, NS_MS, icmp_step);
	rc = tcp_connect(&dst, p->port, timeout_ns, c);
	tp_stop(p);
	return rc;
}

KTEST(tcp_icmp, hard_errors_end_the_connect_at_once)
{
	TCP_BEGIN();
	static const struct { u8 code; int err; } cases[] = {
		{ ICMP_UNREACH_NET, -ENETUNREACH },
		{ ICMP_UNREACH_HOST, -EHOSTUNREACH },
		{ ICMP_UNREACH_PROTO, -ECONNREFUSED },
		{ ICMP_UNREACH_PORT, -ECONNREFUSED },
		{ ICMP_UNREACH_NET_PROHIB, -ENETUNREACH },
		{ ICMP_UNREACH_HOST_PROHIB, -EHOSTUNREACH },
		{ ICMP_UNREACH_ADMIN_PROHIB, -EHOSTUNREACH },
	};
	struct tcp_stats st0 = tp_stats();
	struct tcp_conn *c;

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		u64 t0 = time_ns();

		KT_EXPECT_EQ(connect_with(p, ICMP_DEST_UNREACH, cases[i].code, false, 10 * NS_S, &c),
			     cases[i].err);
		KT_EXPECT(c == NULL);
		KT_EXPECT(time_ns() - t0 < 50 * NS_MS);     /* at once, not after the SYN's retries */
		TP_EXPECT_NONE(p);                          /* no RST for it */
		KT_EXPECT_EQ(tp_conns(), 0);
	}
	KT_EXPECT_EQ(tp_stats().icmp_errors, st0.icmp_errors + ARRAY_SIZE(cases));
	KT_EXPECT_EQ(tp_stats().conn_failed, st0.conn_failed + ARRAY_SIZE(cases));
	KT_EXPECT_EQ(tp_stats().resets_out, st0.resets_out);
	TCP_END();
}

KTEST(tcp_icmp, quotes_not_about_the_syn_are_ignored)
{
	TCP_BEGIN();
	struct ip_addr dst = ip_v4(PEER_IP);
	struct tcp_stats st0 = tp_stats();
	struct tcp_conn *c = NULL;

	memset(&step, 0, sizeof(step));
	step.bad_quotes = step.answer = true;
	tp_later(p, NS_MS, icmp_step);
	KT_ASSERT_EQ(tcp_connect(&dst, p->port, 10 * NS_S, &c), 0);
	tp_stop(p);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->irs + 1, p->snd_nxt));
	KT_EXPECT_EQ(tp_info(c).state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(tp_stats().icmp_errors, st0.icmp_errors);
	KT_EXPECT_EQ(tp_stats().conn_failed, st0.conn_failed);
	drop_conn(p, c);
	TCP_END();
}

KTEST(tcp_icmp, time_exceeded_is_soft)
{
	TCP_BEGIN();
	struct tcp_stats st0 = tp_stats();
	struct tcp_conn *c;
	u64 t0;

	/* The connect goes on, and the SYN-ACK completes it. */
	KT_ASSERT_EQ(connect_with(p, ICMP_TIME_EXCEEDED, 0, true, 10 * NS_S, &c), 0);
	KT_EXPECT(TP_EXPECT(p, TP_ACK, p->irs + 1, p->snd_nxt));
	KT_EXPECT_EQ(tp_stats().icmp_errors, st0.icmp_errors + 1);
	drop_conn(p, c);

	/* Unanswered, the SYN's retries run out: the error is the ICMP one. */
	p->port++;
	t0 = time_ns();
	KT_EXPECT_EQ(connect_with(p, ICMP_TIME_EXCEEDED, 0, false, 300 * NS_S, &c), -EHOSTUNREACH);
	KT_EXPECT(time_ns() - t0 > 60 * NS_S);
	KT_EXPECT_EQ(tp_drain(p), TN_SYN_RETRIES);
	/* So is it when the caller's own limit comes first. */
	p->port++;
	KT_EXPECT_EQ(connect_with(p, ICMP_TIME_EXCEEDED, 0, false, 2 * NS_S, &c), -EHOSTUNREACH);
	/* Without one, a timeout is a timeout. */
	p->port++;
	KT_EXPECT_EQ(connect_with(p, 0, 0, false, 2 * NS_S, &c), -ETIMEDOUT);
	KT_EXPECT_EQ(tp_conns(), 0);
	TCP_END();
}

/* Run the clock until @c has failed (its data retries ran out), dropping what it sends. */
static void run_out(struct tcp_peer *p, struct tcp_conn *c)
{
	for (u64 t = 0; t < 600 * NS_S && tp_info(c).state != TCP_CLOSED; t += 100 * NS_MS) {
		shim_clock_advance(100 * NS_MS);
		tp_drain(p);
	}
}

KTEST(tcp_icmp, established_errors_are_soft_until_the_retries_run_out)
{
	TCP_BEGIN();
	struct tcp_stats st0 = tp_stats();
	struct tcp_conn *c;
	char b;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_ASSERT_EQ(tcp_send(c, "0123456789", 10, NS_S), 10);
	KT_ASSERT(TP_EXPECT(p, TP_ACK, p->rcv_nxt, p->snd_nxt));
	/* Port unreachable is hard only for a SYN; the last error is the one kept. */
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, &p->last);
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, &p->last);
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tp_info(c).state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(tp_info(c).error, 0);
	KT_EXPECT_EQ(tp_stats().icmp_errors, st0.icmp_errors + 2);
	/* Still alive: data from the peer is read. */
	tp_push(p, TP_PSH, "z", 1);
	KT_EXPECT_EQ(tcp_recv(c, &b, 1, NS_S), 1);
	run_out(p, c);
	KT_EXPECT_EQ(tp_info(c).error, -EHOSTUNREACH);
	KT_EXPECT_EQ(tcp_send(c, "x", 1, NS_S), -EHOSTUNREACH);
	KT_EXPECT_EQ(tp_stats().resets_out, st0.resets_out + 1); /* the RST of the timeout */
	tcp_close(c);
	TCP_END();
}

KTEST(tcp_icmp, progress_forgets_a_soft_error)
{
	TCP_BEGIN();
	struct tcp_conn *c;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	KT_ASSERT_EQ(tcp_send(c, "0123456789", 10, NS_S), 10);
	KT_ASSERT(tp_take(p));
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, &p->last);
	tp_ack(p);                                      /* it got through after all */
	KT_ASSERT_EQ(tcp_send(c, "abc", 3, NS_S), 3);
	KT_ASSERT(tp_take(p));
	/* An error quoting data already acknowledged is not about anything in flight. */
	p->last.seq -= 10;
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, &p->last);
	run_out(p, c);
	KT_EXPECT_EQ(tp_info(c).error, -ETIMEDOUT);
	tcp_close(c);
	TCP_END();
}

KTEST(tcp_icmp, hard_error_drops_a_half_open_child)
{
	TCP_BEGIN();
	struct tcp_stats st0 = tp_stats();
	struct tcp_listener *l;
	struct tcp_conn *c;

	KT_ASSERT_EQ(tcp_listen(LPORT, 4, &l), 0);
	p->our_port = LPORT;
	tp_push(p, TP_SYN, NULL, 0);
	KT_ASSERT(TP_EXPECT(p, TP_SYN | TP_ACK, TP_ANY, p->iss + 1));
	KT_EXPECT_EQ(tp_state_of(LPORT, p->port), TCP_SYN_RECEIVED);
	send_icmp(p, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, &p->last);
	KT_EXPECT_EQ(tp_state_of(LPORT, p->port), TCP_STATES);
	TP_EXPECT_NONE(p);
	KT_EXPECT_EQ(tp_stats().icmp_errors, st0.icmp_errors + 1);
	KT_EXPECT_EQ(tcp_accept(l, 10 * NS_MS, &c), -ETIMEDOUT);
	tcp_listener_close(l);
	TCP_END();
}
