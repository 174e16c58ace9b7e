/*
 * host_net_icmp.c — ICMP (net/icmp.c: the real file) on the host, through
 * the fake netdev, under ASan and UBSan.
 *
 * Echo: the reply's every field and both checksums; a shared request is
 * answered from a copy and left as it was; no answer to a broadcast, a
 * truncated or corrupt request.  icmp_ping(): the round trip measured to
 * the nanosecond on the fake clock (a 1 GHz TSC), from the driver's
 * timestamp and without one; a timeout; ARP giving up; an unreachable
 * from a router; no route; Ctrl-C.  Errors: port unreachable quoting the
 * datagram, never about an error, a broadcast or an impossible source,
 * and the rate limit.  Errors in: a transport's handler gets whole quotes
 * of its protocol (addresses, type, code, its 8 header bytes) and never a
 * short, lying or fragment one.
 */
#include "tests/unit/host_net.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/time.h"

static struct icmp_stats istats(void)
{
	struct icmp_stats s;

	icmp_get_stats(&s);
	return s;
}

static u32 echo_request(u8 *fr, const struct fake_netdev *f, u32 dst, u16 seq, u32 len)
{
	return fake_frame_echo(fr, &f->dev.mac, &peer_mac, PEER_IP, dst, ICMP_ECHO_REQUEST, 0x1234,
			       seq, len);
}

/* Check that @nb is our echo reply to echo_request(.., @seq, @len). */
static void check_reply(struct ktest_ctx *kt, const struct netbuf *nb, u16 seq, u32 len)
{
	const u8 *ih = fr_l3(nb), *m = fr_l4(nb);

	KT_EXPECT(fr_dst_mac_is(nb, &peer_mac));
	KT_EXPECT_EQ(ih[9], IP_PROTO_ICMP);
	KT_EXPECT_EQ(get_be32(ih + 12), OUR_IP);
	KT_EXPECT_EQ(get_be32(ih + 16), PEER_IP);
	KT_EXPECT_EQ(ih[8], IP_TTL_DEFAULT);
	KT_EXPECT_EQ(inet_csum(ih, IP_HLEN), 0);
	KT_EXPECT_EQ(fr_l4_len(nb), ICMP_HLEN + len);
	KT_EXPECT_EQ(m[0], ICMP_ECHO_REPLY);
	KT_EXPECT_EQ(m[1], 0);
	KT_EXPECT_EQ(inet_csum(m, ICMP_HLEN + len), 0);
	KT_EXPECT_EQ(get_be16(m + 4), 0x1234);
	KT_EXPECT_EQ(get_be16(m + 6), seq);
	for (u32 i = 0; i < len; i++)
		if (m[ICMP_HLEN + i] != (u8)(0x10 + i)) {
			KT_EXPECT(!"payload echoed intact");
			break;
		}
}

KTEST(net_icmp, echo_request_is_answered)
{
	NET_BEGIN(OUR_SPEC);
	struct icmp_stats s0 = istats();
	u8 fr[FAKE_FRAME_MAX];
	struct netbuf *nb;

	learn_peer(f);
	static const u32 lens[] = { 0, 1, 56, 1472 };
	for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
		fake_netdev_inject(f, fr, echo_request(fr, f, OUR_IP, (u16)i, lens[i]));
		nb = fake_netdev_pop(f);
		KT_ASSERT(nb);
		check_reply(kt, nb, (u16)i, lens[i]);
		nb_put(nb);
	}
	KT_EXPECT_EQ(istats().rx[ICMP_ECHO_REQUEST] - s0.rx[ICMP_ECHO_REQUEST], ARRAY_SIZE(lens));
	KT_EXPECT_EQ(istats().tx[ICMP_ECHO_REPLY] - s0.tx[ICMP_ECHO_REPLY], ARRAY_SIZE(lens));
	NET_END();
}

KTEST(net_icmp, shared_request_is_answered_from_a_copy)
{
	NET_BEGIN(OUR_SPEC);
	u8 fr[FAKE_FRAME_MAX];
	struct netbuf *nb = nb_alloc(32), *reply;
	u32 n;

	learn_peer(f);
	n = echo_request(fr, f, OUR_IP, 5, 56);
	nb_append_bytes(nb, fr, n);
	nb->dev = &f->dev;
	eth_input(nb_get(nb)); /* as the SoftIrq would, with a second holder */
	reply = fake_netdev_pop(f);
	KT_ASSERT(reply);
	KT_EXPECT(reply != nb);
	check_reply(kt, reply, 5, 56);
	nb_put(reply);
	nb_put(nb);
	NET_END();
}

KTEST(net_icmp, no_answer_to_broadcast_or_garbage)
{
	NET_BEGIN(OUR_SPEC);
	struct icmp_stats s0 = istats();
	u8 fr[FAKE_FRAME_MAX];
	u32 n;

	learn_peer(f);
	fake_netdev_inject(f, fr, echo_request(fr, f, 0x0A0000FF, 1, 8));
	fake_netdev_inject(f, fr, echo_request(fr, f, IP_BROADCAST, 2, 8));
	KT_EXPECT_EQ(istats().echo_unanswered - s0.echo_unanswered, 2);
	n = echo_request(fr, f, OUR_IP, 3, 8);
	fr[n - 1] ^= 1;                                  /* corrupt */
	fake_netdev_inject(f, fr, n);
	n = fake_frame_ipv4(fr, &f->dev.mac, &peer_mac, PEER_IP, OUR_IP, IP_PROTO_ICMP, "\x08\x00", 2);
	fake_netdev_inject(f, fr, n);                    /* shorter than a header */
	KT_EXPECT_EQ(istats().rx_errors - s0.rx_errors, 2);
	KT_EXPECT(!fake_netdev_pop(f));
	NET_END();
}

KTEST(net_icmp, ping_measures_the_round_trip)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP);
	u64 rtt = 0;

	fake_netdev_peer(f, PEER_IP, &peer_mac, true);
	f->peer_delay_ns = 412000;
	KT_EXPECT_EQ(icmp_ping(&peer, 7, 1, 56, NS_S, &rtt), 0);
	KT_EXPECT_EQ(rtt, 412000);                 /* from the driver's timestamp */
	f->rx_no_tsc = true;
	f->peer_delay_ns = 1500;
	KT_EXPECT_EQ(icmp_ping(&peer, 7, 2, 56, NS_S, &rtt), 0);
	KT_EXPECT_EQ(rtt, 1500);                   /* from rdtsc() at input */
	KT_EXPECT_EQ(f->peer_answers, 3);          /* ARP once, two echoes */
	NET_END();
}

KTEST(net_icmp, ping_failures)
{
	NET_BEGIN(OUR_SPEC);
	struct ip_addr peer = ip_v4(PEER_IP), far = ip_v4(0xC0A80505);
	u64 rtt = 0, t0;

	t0 = time_ns();
	KT_EXPECT_EQ(icmp_ping(&peer, 8, 1, 56, 5 * NS_S, &rtt), -EHOSTUNREACH); /* no ARP answer */
	KT_EXPECT_EQ(time_ns() - t0, ARP_TRIES * ARP_RETRY_NS);
	fake_netdev_reset(f);
	KT_ASSERT_EQ(fake_netdev_set_ipv4(f, OUR_SPEC), 0);
	fake_netdev_peer(f, PEER_IP, &peer_mac, false); /* ARP, but no echo */
	t0 = time_ns();
	KT_EXPECT_EQ(icmp_ping(&peer, 8, 2, 56, 2 * NS_S, &rtt), -ETIMEDOUT);
	KT_EXPECT_EQ(time_ns() - t0, 2 * NS_S);
	f->peer_echo = f->peer_unreach = true;      /* a router says "host unreachable" */
	KT_EXPECT_EQ(icmp_ping(&peer, 8, 3, 56, 2 * NS_S, &rtt), -EHOSTUNREACH);
	f->peer_unreach = false;
	task_interrupt(shim_test_task());
	KT_EXPECT_EQ(icmp_ping(&peer, 8, 4, 56, 2 * NS_S, &rtt), -EINTR);
	task_clear_interrupt();
	KT_EXPECT_EQ(icmp_ping(&peer, 8, 5, 1500, 2 * NS_S, &rtt), -EMSGSIZE);
	KT_ASSERT_EQ(fake_netdev_set_ipv4(f, "10.0.0.1/24"), 0);
	KT_EXPECT_EQ(icmp_ping(&far, 8, 6, 56, 2 * NS_S, &rtt), -ENETUNREACH);
	fake_net_run();
	NET_END();
}

/* A received UDP datagram from the peer to @dst port 9, as ip_input leaves it for UDP. */
static struct netbuf *udp_received(struct fake_netdev *f, u32 dst, u32 payload)
{
	u8 fr[FAKE_FRAME_MAX], udp[64];
	u32 n;

	memset(udp, 0x77, sizeof(udp));
	put_be16(udp, 40000);
	put_be16(udp + 2, 9);
	put_be16(udp + 4, (u16)(8 + payload));
	put_be16(udp + 6, 0);
	n = fake_frame_ipv4(fr, &f->dev.mac, &peer_mac, PEER_IP, dst, IP_PROTO_UDP, udp, 8 + payload);
	return as_delivered(f, fr, n);
}

KTEST(net_icmp, port_unreachable_quotes_the_datagram)
{
	NET_BEGIN(OUR_SPEC);
	struct netbuf *orig, *nb;
	const u8 *m;

	learn_peer(f);
	orig = udp_received(f, OUR_IP, 40);
	icmp_send_unreach(orig, ICMP_UNREACH_PORT);
	nb = fake_netdev_pop(f);
	KT_ASSERT(nb);
	m = fr_l4(nb);
	KT_EXPECT_EQ(m[0], ICMP_DEST_UNREACH);
	KT_EXPECT_EQ(m[1], ICMP_UNREACH_PORT);
	KT_EXPECT_EQ(fr_l4_len(nb), ICMP_HLEN + IP_HLEN + 8);     /* the header and 8 bytes */
	KT_EXPECT_EQ(inet_csum(m, fr_l4_len(nb)), 0);
	KT_EXPECT(memcmp(m + ICMP_HLEN, ip_hdr(orig), IP_HLEN + 8) == 0);
	KT_EXPECT_EQ(get_be32(fr_l3(nb) + 16), PEER_IP);
	nb_put(nb);
	nb_put(orig);
	orig = udp_received(f, 0x0A0000FF, 4);           /* to the subnet's broadcast */
	icmp_send_unreach(orig, ICMP_UNREACH_PORT);
	nb_put(orig);
	KT_EXPECT(!fake_netdev_pop(f));
	NET_END();
}

KTEST(net_icmp, never_an_error_about_an_error)
{
	NET_BEGIN(OUR_SPEC);
	u8 fr[FAKE_FRAME_MAX], msg[ICMP_HLEN + IP_HLEN + 8];
	struct netbuf *nb;
	u32 n;

	learn_peer(f);
	memset(msg, 0, sizeof(msg));
	msg[0] = ICMP_DEST_UNREACH;
	n = fake_frame_ipv4(fr, &f->dev.mac, &peer_mac, PEER_IP, OUR_IP, IP_PROTO_ICMP, msg,
			    sizeof(msg));
	nb = as_delivered(f, fr, n);
	icmp_send_unreach(nb, ICMP_UNREACH_PORT);
	msg[0] = ICMP_ECHO_REQUEST;                      /* but about a query, yes */
	memcpy(nb->data, msg, 1);
	icmp_send_unreach(nb, ICMP_UNREACH_PORT);
	nb_put(nb);
	nb = fake_netdev_pop(f);
	KT_EXPECT(nb && fr_l4(nb)[0] == ICMP_DEST_UNREACH);
	nb_put(nb);
	KT_EXPECT(!fake_netdev_pop(f));
	NET_END();
}

KTEST(net_icmp, errors_are_rate_limited)
{
	NET_BEGIN(OUR_SPEC);
	struct icmp_stats s0 = istats();
	u8 fr[FAKE_FRAME_MAX];
	unsigned sent = 0;
	struct netbuf *nb;
	u32 n;

	learn_peer(f);
	shim_clock_advance(NS_S); /* a fresh window */
	n = fake_frame_ipv4(fr, &f->dev.mac, &peer_mac, PEER_IP, OUR_IP, 200, "x", 1);
	for (unsigned i = 0; i < ICMP_ERR_RATE + 50; i++) {
		fake_netdev_inject(f, fr, n);
		while ((nb = fake_netdev_pop(f))) {
			sent++;
			nb_put(nb);
		}
	}
	KT_EXPECT_EQ(sent, ICMP_ERR_RATE);
	KT_EXPECT_EQ(istats().rate_limited - s0.rate_limited, 50);
	shim_clock_advance(NS_S);
	fake_netdev_inject(f, fr, n);
	nb = fake_netdev_pop(f);
	KT_EXPECT(nb != NULL);
	nb_put(nb);
	NET_END();
}

#define TEST_PROTO 253              /* RFC 3692's experimental protocol number */

static struct {
	unsigned calls;
	struct icmp_error last;
	u8 l4[ICMP_QUOTE_L4];
} seen;

static void test_error_handler(const struct icmp_error *e)
{
	seen.calls++;
	seen.last = *e;
	memcpy(seen.l4, e->l4, ICMP_QUOTE_L4);
	seen.last.l4 = NULL;        /* valid only during the call */
}

/* An error @type/@code from the gateway quoting @qlen bytes of a TEST_PROTO packet we sent. */
static void inject_error(struct fake_netdev *f, u8 type, u8 code, u8 *quote, u32 qlen)
{
	u8 fr[FAKE_FRAME_MAX], msg[ICMP_HLEN + 64];
	u32 n = ICMP_HLEN + qlen;

	memset(msg, 0, ICMP_HLEN);
	msg[0] = type;
	msg[1] = code;
	memcpy(msg + ICMP_HLEN, quote, qlen);
	put_be16(msg + 2, inet_csum(msg, n));
	n = fake_frame_ipv4(fr, &f->dev.mac, &peer_mac, GW_IP, OUR_IP, IP_PROTO_ICMP, msg, n);
	fake_netdev_inject(f, fr, n);
}

KTEST(net_icmp, errors_go_to_the_quoted_protocols_handler)
{
	NET_BEGIN(OUR_SPEC);
	static bool registered;
	u8 q[IP_HLEN + 4 + ICMP_QUOTE_L4];

	if (!registered)
		KT_ASSERT_EQ(icmp_register_error_handler(TEST_PROTO, test_error_handler), 0);
	registered = true;
	KT_EXPECT_EQ(icmp_register_error_handler(TEST_PROTO, test_error_handler), -EEXIST);
	KT_EXPECT_EQ(icmp_register_error_handler(IP_PROTO_ICMP, test_error_handler), -EINVAL);
	KT_EXPECT_EQ(icmp_register_error_handler(200, NULL), -EINVAL);
	memset(&seen, 0, sizeof(seen));
	learn_peer(f);

	/* Our packet to 192.168.5.5, with its 8 bytes. */
	memset(q, 0, sizeof(q));
	q[0] = 0x45;
	put_be16(q + 2, 100);
	q[9] = TEST_PROTO;
	put_be32(q + 12, OUR_IP);
	put_be32(q + 16, 0xC0A80505);
	memcpy(q + IP_HLEN, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, IP_HLEN + 8);
	KT_ASSERT_EQ(seen.calls, 1);
	KT_EXPECT_EQ(seen.last.type, ICMP_DEST_UNREACH);
	KT_EXPECT_EQ(seen.last.code, ICMP_UNREACH_HOST);
	KT_EXPECT_EQ(seen.last.src.v4, OUR_IP);
	KT_EXPECT_EQ(seen.last.dst.v4, 0xC0A80505);
	KT_EXPECT(memcmp(seen.l4, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0);
	inject_error(f, ICMP_TIME_EXCEEDED, 0, q, IP_HLEN + 8);
	KT_EXPECT_EQ(seen.calls, 2);
	KT_EXPECT_EQ(seen.last.type, ICMP_TIME_EXCEEDED);

	/* With IP options the transport header starts after them. */
	memmove(q + 24, q + IP_HLEN, 8);
	memset(q + IP_HLEN, 1, 4);                  /* four NOPs */
	q[0] = 0x46;
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, q, 24 + 8);
	KT_EXPECT_EQ(seen.calls, 3);
	KT_EXPECT(memcmp(seen.l4, "\x01\x02\x03\x04\x05\x06\x07\x08", 8) == 0);

	/* Short, lying and fragment quotes, other types and protocols: nothing. */
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, 24 + 7);
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, IP_HLEN + 8); /* ihl 6, 20 there */
	q[0] = 0x44;
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, 24 + 8);
	q[0] = 0x66;
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, 24 + 8);
	q[0] = 0x46;
	put_be16(q + 2, 24 + 7);                    /* a packet too short for 8 bytes */
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, 24 + 8);
	put_be16(q + 2, 100);
	put_be16(q + 6, 0x2000 | 1);                /* not the first fragment */
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, 24 + 8);
	put_be16(q + 6, 0);
	inject_error(f, 5, 0, q, 24 + 8);           /* a redirect */
	inject_error(f, 12, 0, q, 24 + 8);          /* parameter problem */
	q[9] = TEST_PROTO + 1;                      /* nobody's */
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, 24 + 8);
	q[9] = TEST_PROTO;
	inject_error(f, ICMP_DEST_UNREACH, ICMP_UNREACH_HOST, q, 24 + 8);
	KT_EXPECT_EQ(seen.calls, 4);                /* only the last, whole again */
	KT_EXPECT(!fake_netdev_pop(f));             /* and no error about an error */
	NET_END();
}
