/*
 * host_tcp_core.c — the TCP core's own smoke tests (net/tcp*.c, the real
 * files) through the fake netdev: the test plays the peer with a few
 * hand-written segments.  The thorough state-machine suite is
 * host_tcp*.c with its scripted peer; these pin the basics the core's
 * author relies on while changing it:
 *
 *   - an active open: our SYN's options (MSS 1460, NOP, WS 3), the
 *     handshake completing from a SYN-ACK injected while tcp_connect()
 *     waits, data out (PSH, payload), data and FIN in (tcp_recv, EOF),
 *     our FIN after tcp_close(), the last ACK freeing the connection;
 *   - a passive open, an in-window RST that is not exact (a challenge
 *     ACK, nothing reset), the exact RST (-ECONNRESET);
 *   - a SYN nobody answers: retransmitted with backoff, -ETIMEDOUT;
 *   - malformed segments dropped and counted; a segment to a closed
 *     port answered with RST.
 *
 * The peer's checksum is summed over the pseudo-header written out here,
 * not with ip_pseudo_sum(), so a wrong checksum in the stack cannot agree
 * with one in the test.  Every test ends with no connection, no timer and
 * no netbuf held.
 */
#include "tests/unit/host_net.h"
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/time.h"
#include "net/tcp.h"
#include "net/tcp_priv.h"

#define PPORT 40100             /* the peer's port */
#define LPORT 8080              /* our listener */

struct seg {
	u16 sport, dport;
	u32 seq, ack;
	u8 flags;
	u16 wnd;
	u32 hlen, len;
	u8 opt[40];
	u8 data[1500];
	bool csum_ok;
};

/* Inject a segment from the peer: @opt/@optlen raw options (a multiple of 4 unless testing). */
static void inject(struct fake_netdev *f, u16 sport, u16 dport, u32 seq, u32 ack, u8 flags,
		   u16 wnd, const u8 *opt, u32 optlen, const void *data, u32 len, u8 doff_words)
{
	u8 tcp[1600], fr[FAKE_FRAME_MAX];
	u32 hlen = 20 + optlen, n;

	memset(tcp, 0, sizeof(tcp));
	put_be16(tcp, sport);
	put_be16(tcp + 2, dport);
	put_be32(tcp + 4, seq);
	put_be32(tcp + 8, ack);
	tcp[12] = (u8)((doff_words ? doff_words : hlen / 4) << 4);
	tcp[13] = flags;
	put_be16(tcp + 14, wnd);
	memcpy(tcp + 20, opt, optlen);
	memcpy(tcp + hlen, data, len);
	put_be16(tcp + 16, tp_tcp_sum(PEER_IP, OUR_IP, tcp, hlen + len));
	n = fake_frame_ipv4(fr, &f->dev.mac, &peer_mac, PEER_IP, OUR_IP, IP_PROTO_TCP, tcp,
			    hlen + len);
	fake_netdev_inject(f, fr, n);
}

/* The next TCP segment the stack sent (others are dropped): false when none. */
static bool pop(struct fake_netdev *f, struct seg *s)
{
	struct netbuf *nb;

	while ((nb = fake_netdev_pop(f))) {
		const u8 *ip = fr_l3(nb), *t = fr_l4(nb);
		u32 l4 = fr_l4_len(nb);
		bool ok = fr_type(nb) == ETH_P_IPV4 && ip[9] == IP_PROTO_TCP && l4 >= 20;

		if (ok) {
			s->sport = get_be16(t);
			s->dport = get_be16(t + 2);
			s->seq = get_be32(t + 4);
			s->ack = get_be32(t + 8);
			s->hlen = (t[12] >> 4) * 4u;
			s->flags = t[13];
			s->wnd = get_be16(t + 14);
			s->len = l4 - s->hlen;
			memcpy(s->opt, t + 20, s->hlen - 20);
			memcpy(s->data, t + s->hlen, s->len);
			s->csum_ok = tp_tcp_sum(get_be32(ip + 12), get_be32(ip + 16), t, l4) == 0;
		}
		nb_put(nb);
		if (ok)
			return true;
	}
	return false;
}

/*
 * NET_BEGIN plus tcp_init(): the shim's own tests borrow SOFTIRQ_TCP_TIMER
 * and leave it without a handler; tcp_init() installs TCP's again.
 */
#define CORE_BEGIN(spec)                                                        \
	NET_BEGIN(spec);                                                       \
	tcp_init()

static struct tcp_stats tstats(void)
{
	struct tcp_stats s;

	tcp_get_stats(&s);
	return s;
}

/* The peer's side of an active open, answered from a timer while tcp_connect() waits. */
static struct {
	struct fake_netdev *f;
	struct seg syn;
	bool got_syn;
	u32 iss;
} act;

static void answer_syn(struct ktimer *t, void *arg)
{
	static const u8 opts[8] = { TCPOPT_MSS, 4, 0x05, 0xb4, TCPOPT_NOP, TCPOPT_WS, 3, 2 };

	act.got_syn = pop(act.f, &act.syn) && act.syn.flags == TCP_SYN;
	if (act.got_syn)
		inject(act.f, PPORT, act.syn.sport, act.iss, act.syn.seq + 1, TCP_SYN | TCP_ACK,
		       65535, opts, sizeof(opts), NULL, 0, 0);
}

KTEST(tcp_core, active_open_data_and_close)
{
	CORE_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP);
	struct tcp_conn *c = NULL;
	struct ktimer t;
	struct seg s;
	char buf[16];
	unsigned conns = tstats().conns;
	u32 lport, snd;

	learn_peer(f);
	memset(&act, 0, sizeof(act));
	act.f = f;
	act.iss = 1000;
	ktimer_init(&t, answer_syn, NULL);
	ktimer_start(&t, 5 * NS_MS, 0);
	KT_ASSERT_EQ(tcp_connect(&peer, PPORT, NS_S, &c), 0);
	KT_ASSERT(act.got_syn);
	KT_EXPECT(act.syn.csum_ok);
	KT_EXPECT_EQ(act.syn.hlen, 32);
	KT_EXPECT_EQ(get_be16(act.syn.opt + 2), 1460);
	KT_EXPECT_EQ(act.syn.opt[4], TCPOPT_NOP);
	KT_EXPECT_EQ(act.syn.opt[7], 3);
	lport = act.syn.sport;
	KT_EXPECT(lport >= TCP_EPHEMERAL_MIN);
	snd = act.syn.seq + 1;
	KT_ASSERT(pop(f, &s)); /* the handshake's ACK */
	KT_EXPECT_EQ(s.flags, TCP_ACK);
	KT_EXPECT_EQ(s.ack, 1001);
	KT_EXPECT_EQ(s.seq, snd);

	KT_EXPECT_EQ(tcp_send(c, "hello", 5, NS_S), 5);
	KT_ASSERT(pop(f, &s));
	KT_EXPECT_EQ(s.flags, TCP_ACK | TCP_PSH);
	KT_EXPECT_EQ(s.len, 5);
	KT_EXPECT(!memcmp(s.data, "hello", 5));
	KT_EXPECT(s.csum_ok);
	inject(f, PPORT, (u16)lport, 1001, snd + 5, TCP_ACK | TCP_FIN | TCP_PSH, 65535, NULL, 0,
	       "world", 5, 0);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 5);
	KT_EXPECT(!memcmp(buf, "world", 5));
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), 0);
	KT_ASSERT(pop(f, &s)); /* the FIN's ACK */
	KT_EXPECT_EQ(s.ack, 1007);
	tcp_close(c);
	KT_ASSERT(pop(f, &s)); /* our FIN: LAST_ACK */
	KT_EXPECT_EQ(s.flags, TCP_ACK | TCP_FIN);
	KT_EXPECT_EQ(s.seq, snd + 5);
	inject(f, PPORT, (u16)lport, 1007, snd + 6, TCP_ACK, 65535, NULL, 0, NULL, 0, 0);
	KT_EXPECT_EQ(tstats().conns, conns);
	NET_END();
}

/* Open a passive connection on LPORT from the peer's PPORT: the accepted conn, or NULL. */
static struct tcp_conn *passive(struct ktest_ctx *kt, struct fake_netdev *f,
				struct tcp_listener **l, u32 *our_seq)
{
	static const u8 mss[4] = { TCPOPT_MSS, 4, 0x05, 0xb4 };
	struct tcp_conn *c = NULL;
	struct seg s;

	if (tcp_listen(LPORT, 4, l))
		return NULL;
	inject(f, PPORT, LPORT, 5000, 0, TCP_SYN, 65535, mss, sizeof(mss), NULL, 0, 0);
	if (!pop(f, &s) || s.flags != (TCP_SYN | TCP_ACK) || s.ack != 5001) {
		KT_EXPECT(!"no SYN-ACK");
		return NULL;
	}
	KT_EXPECT_EQ(s.hlen, 24); /* MSS only: the SYN had no WS */
	inject(f, PPORT, LPORT, 5001, s.seq + 1, TCP_ACK, 65535, NULL, 0, NULL, 0, 0);
	KT_EXPECT_EQ(tcp_accept(*l, NS_S, &c), 0);
	*our_seq = s.seq + 1;
	return c;
}

KTEST(tcp_core, passive_open_and_rst_rules)
{
	CORE_BEGIN(OUR_SPEC);
	struct tcp_listener *l = NULL;
	struct tcp_conn *c;
	struct tcp_conn_info info;
	struct seg s;
	char buf[4];
	u64 resets = tstats().resets_in;
	u32 seq = 0;

	learn_peer(f);
	c = passive(kt, f, &l, &seq);
	KT_ASSERT(c != NULL);
	tcp_conn_get_info(c, &info);
	KT_EXPECT_EQ(info.state, TCP_ESTABLISHED);
	KT_EXPECT_EQ(info.snd_wscale, 0);
	KT_EXPECT_EQ(info.rport, PPORT);
	/* In the window but not exact: a challenge ACK, the connection lives. */
	inject(f, PPORT, LPORT, 5001 + 100, 0, TCP_RST, 0, NULL, 0, NULL, 0, 0);
	KT_ASSERT(pop(f, &s));
	KT_EXPECT_EQ(s.flags, TCP_ACK);
	KT_EXPECT_EQ(s.ack, 5001);
	tcp_conn_get_info(c, &info);
	KT_EXPECT_EQ(info.state, TCP_ESTABLISHED);
	/* Exact: reset. */
	inject(f, PPORT, LPORT, 5001, 0, TCP_RST, 0, NULL, 0, NULL, 0, 0);
	KT_EXPECT_EQ(tcp_recv(c, buf, sizeof(buf), NS_S), -ECONNRESET);
	KT_EXPECT_EQ(tstats().resets_in, resets + 1);
	tcp_close(c);
	tcp_listener_close(l);
	KT_EXPECT_EQ(tstats().listeners, 0);
	NET_END();
}

KTEST(tcp_core, unanswered_syn_backs_off_then_times_out)
{
	CORE_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP);
	struct tcp_conn *c = NULL;
	u64 t0 = time_ns();
	unsigned syns = 0;
	struct seg s;

	fake_netdev_peer(f, PEER_IP, &peer_mac, false); /* ARP answered for the whole 91 s */
	KT_EXPECT_EQ(tcp_connect(&peer, PPORT, 0, &c), -ETIMEDOUT);
	while (pop(f, &s))
		syns += s.flags == TCP_SYN;
	KT_EXPECT_EQ(syns, 1 + TCP_SYN_RETRIES);
	/* 1 + 2 + 4 + 8 + 16 + 30 + 30 s, each up to a tick late */
	KT_EXPECT(time_ns() - t0 >= 91 * NS_S);
	KT_EXPECT(time_ns() - t0 < 93 * NS_S);
	NET_END();
}

KTEST(tcp_core, garbage_dropped_and_closed_port_reset)
{
	CORE_BEGIN(OUR_SPEC);
	static const u8 zero_len[4] = { TCPOPT_MSS, 0, 0, 0 };
	static const u8 past_end[4] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_WS, 7 };
	static const u8 bad_mss[4] = { TCPOPT_MSS, 3, 0, TCPOPT_EOL };
	u64 bad = tstats().bad_hdr, noport = tstats().no_port;
	struct seg s;

	learn_peer(f);
	inject(f, PPORT, 9, 1, 0, TCP_SYN, 100, zero_len, 4, NULL, 0, 0);
	inject(f, PPORT, 9, 1, 0, TCP_SYN, 100, past_end, 4, NULL, 0, 0);
	inject(f, PPORT, 9, 1, 0, TCP_SYN, 100, bad_mss, 4, NULL, 0, 0);
	inject(f, PPORT, 9, 1, 0, TCP_SYN, 100, NULL, 0, NULL, 0, 4);  /* offset < 5 */
	inject(f, PPORT, 9, 1, 0, TCP_SYN, 100, NULL, 0, NULL, 0, 15); /* past the segment */
	inject(f, PPORT, 9, 1, 0, TCP_SYN | TCP_FIN, 100, NULL, 0, NULL, 0, 0);
	KT_EXPECT_EQ(tstats().bad_hdr, bad + 6);
	KT_EXPECT(!pop(f, &s));
	/* A well-formed segment to a closed port: RST (ACK set: <SEQ=SEG.ACK>). */
	inject(f, PPORT, 9, 1, 777, TCP_ACK, 100, NULL, 0, "x", 1, 0);
	KT_ASSERT(pop(f, &s));
	KT_EXPECT_EQ(s.flags, TCP_RST);
	KT_EXPECT_EQ(s.seq, 777);
	/* Without ACK: <SEQ=0, ACK=SEG.SEQ+SEG.LEN, RST|ACK>; never a RST for a RST. */
	inject(f, PPORT, 9, 50, 0, TCP_SYN, 100, NULL, 0, NULL, 0, 0);
	KT_ASSERT(pop(f, &s));
	KT_EXPECT_EQ(s.flags, TCP_RST | TCP_ACK);
	KT_EXPECT_EQ(s.ack, 51);
	inject(f, PPORT, 9, 50, 0, TCP_RST, 100, NULL, 0, NULL, 0, 0);
	KT_EXPECT(!pop(f, &s));
	KT_EXPECT_EQ(tstats().no_port, noport + 3);
	NET_END();
}
