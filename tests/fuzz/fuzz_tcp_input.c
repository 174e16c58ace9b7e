/*
 * fuzz_tcp_input.c — TCP segment input (net/tcp*.c, through the real IPv4
 * below it) against a connection in ESTABLISHED.
 *
 * Per input, from nothing: eth0 and the scripted peer of host_tcp_peer.h
 * are set up as in host_tcp.c (TCP_BEGIN()), tcp_connect() opens a
 * connection to the peer, the input is injected as one TCP segment from
 * the peer (in an IPv4 packet the peer builds: 10.0.0.2 -> 10.0.0.1, no
 * options), the clock runs 1 s so the timers it armed (delayed ACK,
 * retransmission, persist) fire, the connection is aborted and
 * everything is torn down (TCP_END()): no connection, timer or netbuf may
 * be left, which the shim checks per input like a unit test.
 *
 * The input is the segment, header first (at most 1480 bytes, what fits
 * the 1500-byte MTU), with four rewrites so that it reaches the
 * connection instead of being dropped at the door — when it is at least a
 * header long (20 bytes; a shorter one goes in raw):
 *   - the ports are the connection's;
 *   - the sequence number is the peer's next one plus the input's value,
 *     the acknowledgement number the peer's last acknowledged one plus the
 *     input's value (0 in the input: exactly in window / acknowledging
 *     everything);
 *   - the checksum is made right, unless the input's checksum field is
 *     0xffff (then it goes as given: bad, mostly).
 * Flags, data offset, window, urgent pointer, options and payload are the
 * input's own.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/time.h"

#define SEG_MAX (1500 - IP_HLEN)

/* The input as a segment to @p's connection (see the top): its length. */
static u32 make_segment(const struct tcp_peer *p, u8 *seg)
{
	u32 n = (u32)MIN(fuzz_size, (size_t)SEG_MAX);

	memcpy(seg, fuzz_data, n);
	if (n < TCP_HLEN)
		return n;
	put_be16(seg, p->port);
	put_be16(seg + 2, p->our_port);
	put_be32(seg + 4, p->snd_nxt + get_be32(seg + 4));
	put_be32(seg + 8, p->rcv_nxt + get_be32(seg + 8));
	if (get_be16(seg + 16) != 0xffff) {
		put_be16(seg + 16, 0);
		put_be16(seg + 16, tp_tcp_sum(p->ip, p->our_ip, seg, n));
	}
	return n;
}

KTEST(fuzz, tcp_input)
{
	TCP_BEGIN();
	struct tcp_conn *c = NULL;
	u8 seg[SEG_MAX];
	u32 n;

	KT_ASSERT_EQ(tp_connect(p, &c), 0);
	tp_drain(p);
	n = make_segment(p, seg);
	tp_inject_raw(p, p->ip, p->our_ip, seg, n);
	fake_net_run();
	shim_clock_advance(NS_S);
	tcp_abort(c);
	tp_drain(p);
	TCP_END();
}
