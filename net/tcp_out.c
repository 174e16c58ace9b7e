/*
 * tcp_out.c — segments out: what may be sent now, the header and its
 * options, ACKs, RSTs and probes, and the window we advertise.
 *
 * Every data segment is built fresh from the send ring (a netbuf from the
 * pool, the payload copied once from the ring, the checksum summed over
 * header and payload) and handed to ip_output() with the connection's
 * lock held — retransmissions too, so nothing but the ring holds sent
 * data and no segment is ever kept.
 *
 * What may be sent (tcp_output): from snd_nxt, at most the MSS, within
 * the smaller of the peer's window and the congestion window, counted
 * from snd_una.  A short segment waits unless it is all there is and
 * nothing is in flight or TCP_NODELAY is set (Nagle, RFC 896), or it is
 * at least half the largest window the peer ever offered (sender SWS
 * avoidance, RFC 9293 3.8.6.2.1), or the persist timer forces it.  The
 * FIN rides on the last data segment, or goes alone once the data is out;
 * it needs no window.  When data waits and nothing is in flight, the
 * persist timer runs (zero window probes, tcp_timer.c).
 *
 * Every segment we send carries an ACK (but the first SYN) and thereby
 * satisfies any ACK owed: the delayed ACK is disarmed there.
 *
 * The window (tcp_rcv_window): the free space of the receive ring, rounded
 * down to the scale unit; the right edge advertised never moves left
 * (RFC 9293 3.8.6.2.2 forbids shrinking) and moves right only by at least
 * min(rcvbuf / 2, MSS) at a time (receiver SWS avoidance).  A pure window
 * update goes out when reading opened it by min(rcvbuf / 2, max(2 MSS,
 * rcvbuf / 4)) (tcp_window_update_due), so a fast reader causes no extra
 * ACKs and a reader that had closed the window reopens it promptly.
 */
#include "net/tcp_priv.h"
#include "errno.h"
#include "kernel/time.h"
#include "lib/byteorder.h"
#include "lib/string.h"

/* Copy @len bytes at stream offset @off of @r (they are in the ring) to @dst. */
static void ring_copy_at(const struct ring *r, u32 off, u8 *dst, u32 len)
{
	u32 size = r->mask + 1, idx = off & r->mask, first = MIN(len, size - idx);

	memcpy(dst, r->buf + idx, first);
	if (len > first)
		memcpy(dst + first, r->buf, len - first);
}

u32 tcp_rcv_window(struct tcp_conn *c)
{
	u32 unit = ~((1u << c->rcv_wscale) - 1);
	u32 free = c->rcv_mem ? (u32)ring_free(&c->rcv) : c->rcvbuf;
	u32 edge = c->rcv_nxt + (free & unit);
	u32 step = MIN(c->rcvbuf / 2, (u32)c->our_mss);

	if (SEQ_LT(c->rcv_adv, c->rcv_nxt))
		c->rcv_adv = c->rcv_nxt;
	if ((s32)(edge - c->rcv_adv) >= (s32)step || (free == c->rcvbuf && SEQ_GT(edge, c->rcv_adv)))
		c->rcv_adv = edge;
	return c->rcv_adv - c->rcv_nxt;
}

bool tcp_window_update_due(struct tcp_conn *c)
{
	u32 unit = ~((1u << c->rcv_wscale) - 1);
	u32 free, edge, step;

	if (!c->rcv_mem || c->fin_rcvd ||
	    (c->state != TCP_ESTABLISHED && c->state != TCP_FIN_WAIT_1 && c->state != TCP_FIN_WAIT_2))
		return false;
	free = (u32)ring_free(&c->rcv);
	edge = c->rcv_nxt + (free & unit);
	step = MIN(c->rcvbuf / 2, MAX(2u * c->our_mss, c->rcvbuf / 4));
	return (s32)(edge - c->rcv_adv) >= (s32)step;
}

/*
 * The options of a SYN into @p: MSS, window scale and SACK-permitted (a
 * SYN-ACK only echoes what the peer's SYN offered); their length.
 */
static u32 syn_options(const struct tcp_conn *c, u8 *p)
{
	bool answer = c->state == TCP_SYN_RECEIVED;
	u32 n = 4;

	p[0] = TCPOPT_MSS;
	p[1] = 4;
	put_be16(p + 2, c->our_mss);
	if (!answer || c->ws_ok) {
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_WS;
		p[n++] = 3;
		p[n++] = c->rcv_wscale;
	}
	if (!answer || c->sack_ok) {
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_SACK_PERM;
		p[n++] = 2;
	}
	return n;
}

/* The SACK blocks of an ACK, as sack_options() gathers them. */
struct sack_set {
	u32 block[TCP_SACK_BLOCKS][2]; /* [0]: the run with the latest arrival */
	unsigned n;                    /* the others, in [1..n] */
	bool latest;                   /* [0] is filled */
};

/* Add the run [@start, @end): first if it holds the latest arrival, else
 * after the others while there is room (the first slot is kept for the
 * latest arrival's run; when that segment was not kept, say the list was
 * full, the ACK carries one block fewer). */
static void sack_add(struct sack_set *s, u32 start, u32 end, u32 latest)
{
	u32 *b;

	if (!s->latest && SEQ_LEQ(start, latest) && SEQ_LT(latest, end)) {
		b = s->block[0];
		s->latest = true;
	} else if (s->n < TCP_SACK_BLOCKS - 1) {
		b = s->block[1 + s->n++];
	} else {
		return;
	}
	b[0] = start;
	b[1] = end;
}

/*
 * SACK blocks for what the out-of-order list holds into @p (RFC 2018): the
 * kept segments merged into runs, the run with the latest arrival first,
 * then the others from the lowest, at most TCP_SACK_BLOCKS; their length,
 * 0 when the list is empty.  Without them a sender that lost several
 * segments of a window can only resend blindly after a timeout, and the
 * duplicate ACKs its blind resends draw make Linux believe the path
 * reorders, so it stops fast retransmit and every later loss costs a
 * backed-off timeout (docs/tcp.md).
 */
static u32 sack_options(const struct tcp_conn *c, u8 *p)
{
	struct sack_set s = { .n = 0 };
	const struct netbuf *nb;
	u32 start = 0, end = 0, n;
	bool run = false;

	list_for_each_entry(nb, &c->ooo, link) {
		u32 seq = (u32)nb->tsc;

		if (run && SEQ_LEQ(seq, end)) {
			if (SEQ_GT(seq + nb->len, end))
				end = seq + nb->len;
			continue;
		}
		if (run)
			sack_add(&s, start, end, c->sack_last);
		start = seq;
		end = seq + nb->len;
		run = true;
	}
	if (!run)
		return 0;
	sack_add(&s, start, end, c->sack_last);
	n = s.n + s.latest;
	p[0] = TCPOPT_NOP;
	p[1] = TCPOPT_NOP;
	p[2] = TCPOPT_SACK;
	p[3] = (u8)(2 + 8 * n);
	for (u32 i = 0; i < n; i++) {
		put_be32(p + 4 + 8 * i, s.block[i + !s.latest][0]);
		put_be32(p + 8 + 8 * i, s.block[i + !s.latest][1]);
	}
	return 4 + 8 * n;
}

/* The header's window field. */
static u16 wnd_field(struct tcp_conn *c, u8 flags)
{
	u32 w;

	if (flags & TCP_SYN)
		return (u16)MIN(c->rcvbuf, 0xffffu);
	w = tcp_rcv_window(c) >> c->rcv_wscale;
	return (u16)MIN(w, 0xffffu);
}

/* An ACK-bearing segment went out: nothing is owed any more. */
static void ack_sent(struct tcp_conn *c)
{
	c->ack_now = false;
	c->ack_later = false;
	c->rcv_unacked = 0;
	if (c->delack_at) {
		c->delack_at = 0;
		tcp_timer_update(c);
	}
}

static void fill_header(struct tcp_hdr *th, u16 sport, u16 dport, u32 seq, u32 ack, u32 hlen,
			u8 flags, u16 wnd)
{
	put_be16(&th->sport, sport);
	put_be16(&th->dport, dport);
	put_be32(&th->seq, seq);
	put_be32(&th->ack, ack);
	th->off = (u8)((hlen / 4) << 4);
	th->flags = flags;
	put_be16(&th->wnd, wnd);
	th->csum = 0;
	th->urg = 0;
}

static void fill_csum(struct tcp_hdr *th, const struct ip_addr *src, const struct ip_addr *dst,
		      u32 len)
{
	u32 sum = ip_pseudo_sum(src, dst, IP_PROTO_TCP, (u16)len);

	put_be16(&th->csum, inet_csum_fold(inet_csum_add(sum, th, len)));
}

/*
 * Build and send one segment of @c: @len payload bytes from the send ring
 * at sequence @seq, with @flags.  0 or -errno (-ENOBUFS: no netbuf).
 */
static int xmit(struct tcp_conn *c, u32 seq, u32 len, u8 flags)
{
	struct netbuf *nb = nb_alloc_tx();
	u32 hlen = TCP_HLEN, optlen = 0;
	u8 opts[TCP_OPT_MAX];
	struct tcp_hdr *th;

	if (!nb)
		return -ENOMEM; /* nothing was sent */
	if (flags & TCP_SYN)
		optlen = syn_options(c, opts);
	else if ((flags & TCP_ACK) && !len && c->sack_ok && c->nooo)
		optlen = sack_options(c, opts);
	hlen += optlen;
	th = nb_append(nb, hlen + len);
	if (!th) {
		nb_put(nb);
		return -EMSGSIZE;
	}
	fill_header(th, c->lport, c->rport, seq, (flags & TCP_ACK) ? c->rcv_nxt : 0, hlen, flags,
		    wnd_field(c, flags));
	memcpy((u8 *)th + TCP_HLEN, opts, optlen);
	if (len)
		ring_copy_at(&c->snd, seq - c->iss - 1, (u8 *)th + hlen, len);
	fill_csum(th, &c->laddr, &c->raddr, hlen + len);
	if (flags & TCP_ACK)
		ack_sent(c);
	TCP_STAT_INC(segs_out);
	if (flags & TCP_RST)
		TCP_STAT_INC(resets_out);
	return ip_output(NULL, &c->laddr, &c->raddr, IP_PROTO_TCP, nb);
}

int tcp_send_syn(struct tcp_conn *c)
{
	u8 flags = TCP_SYN | (c->state == TCP_SYN_RECEIVED ? TCP_ACK : 0);
	int rc;

	if (c->state == TCP_SYN_RECEIVED)
		c->rcv_adv = c->rcv_nxt + MIN(c->rcvbuf, 0xffffu);
	if (!c->retries) { /* time the handshake; Karn: never a retransmitted SYN */
		c->rtt_timing = true;
		c->rtt_seq = c->iss;
		c->rtt_start = time_ns();
	}
	rc = xmit(c, c->iss, 0, flags);
	c->snd_nxt = c->iss + 1;
	if (SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	return rc;
}

void tcp_send_ack(struct tcp_conn *c)
{
	xmit(c, c->snd_nxt, 0, TCP_ACK);
}

void tcp_send_probe(struct tcp_conn *c)
{
	xmit(c, c->snd_una - 1, 0, TCP_ACK);
}

void tcp_send_rst_conn(struct tcp_conn *c)
{
	xmit(c, c->snd_nxt, 0, TCP_RST | TCP_ACK);
}

/* Legend: [x] the "tcp challenge" lock. */
static struct {
	spinlock_t lock;
	u64 window;                 /* [x] start of the current second */
	u32 count;                  /* [x] sent in it */
} chal = { .lock = SPINLOCK_INIT("tcp challenge") };

void tcp_send_challenge_ack(struct tcp_conn *c)
{
	u64 now = time_ns();
	bool ok;

	spin_lock(&chal.lock);
	if (now - chal.window >= 1000 * NS_PER_MS || !chal.window) {
		chal.window = now ? now : 1;
		chal.count = 0;
	}
	ok = chal.count < TCP_CHALLENGE_PER_S;
	if (ok)
		chal.count++;
	spin_unlock(&chal.lock);
	if (ok)
		tcp_send_ack(c);
}

/* The sequence number of our FIN (once shut_wr): just past the queued data. */
static u32 fin_seq(const struct tcp_conn *c)
{
	return c->iss + 1 + c->snd.head;
}

/* Data bytes from @seq to the end of the queued data (0 past it). */
static u32 data_from(const struct tcp_conn *c, u32 seq)
{
	s32 n = (s32)(fin_seq(c) - seq);

	return n > 0 ? (u32)n : 0;
}

/* May a @len-byte segment (of @avail waiting) go now?  Nagle and sender SWS. */
static bool send_ok(const struct tcp_conn *c, u32 len, u32 avail)
{
	if (len >= c->mss || c->force_send || SEQ_LT(c->snd_nxt, c->snd_max))
		return true;
	if (len == avail && (c->nodelay || c->snd_nxt == c->snd_una))
		return true;
	return c->max_sndwnd && len >= c->max_sndwnd / 2;
}

/* Note that @len bytes (and @fin) went out at snd_nxt. */
static void advance(struct tcp_conn *c, u32 len, bool fin)
{
	u32 end = c->snd_nxt + len + (fin ? 1 : 0);

	if (SEQ_LT(c->snd_nxt, c->snd_max)) {
		c->retransmits++;
		TCP_STAT_INC(retransmits);
	} else if (!c->rtt_timing && len) {
		c->rtt_timing = true;
		c->rtt_seq = c->snd_nxt;
		c->rtt_start = time_ns();
	}
	if (SEQ_GT(end, c->snd_max)) {
		u32 fresh = end - (SEQ_GT(c->snd_nxt, c->snd_max) ? c->snd_nxt : c->snd_max);

		c->bytes_sent += fresh - (fin ? 1 : 0);
		c->snd_max = end;
	}
	c->snd_nxt = end;
	if (!c->rexmt_at || c->persist)
		tcp_timer_rexmt_start(c);
}

static bool can_send_data(enum tcp_state s)
{
	return s == TCP_ESTABLISHED || s == TCP_CLOSE_WAIT || s == TCP_FIN_WAIT_1 ||
	       s == TCP_CLOSING || s == TCP_LAST_ACK;
}

/*
 * Whether the segment of @len bytes at snd_nxt, of @avail unsent, carries
 * PSH: the last of the queued data, and otherwise once per half of the
 * peer's largest window, as Linux does.  A receiver that delays its ACK
 * until a PSH or a timer (as BSD-derived stacks may) then answers twice a
 * window instead of holding the whole window's ACK back.  (slirp, as it
 * happens, ACKs every segment at once: there it changes nothing.)
 */
static bool push_due(struct tcp_conn *c, u32 len, u32 avail)
{
	u32 end = c->snd_nxt + len;

	if (len != avail && SEQ_LT(end, c->pushed_seq + c->max_sndwnd / 2))
		return false;
	c->pushed_seq = end;
	return true;
}

void tcp_output(struct tcp_conn *c)
{
	if (c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED) {
		if (c->snd_nxt == c->iss)
			tcp_send_syn(c);
		else if (c->ack_now && c->state == TCP_SYN_RECEIVED)
			tcp_send_syn(c);
		return;
	}
	if (!can_send_data(c->state) || !c->snd_mem) {
		if (c->ack_now && c->state != TCP_CLOSED)
			tcp_send_ack(c);
		return;
	}
	for (;;) {
		u32 avail = data_from(c, c->snd_nxt);
		u32 wnd = c->force_send ? c->snd_wnd : MIN(c->snd_wnd, c->cwnd);
		s32 usable = (s32)(c->snd_una + wnd - c->snd_nxt);
		u32 len = usable > 0 ? MIN(MIN(avail, (u32)c->mss), (u32)usable) : 0;
		bool fin = c->shut_wr && c->snd_nxt + len == fin_seq(c);
		u8 flags = TCP_ACK;

		if (!len && !fin)
			break;
		if (!fin && !send_ok(c, len, avail))
			break;
		if (fin)
			flags |= TCP_FIN;
		if (len && push_due(c, len, avail))
			flags |= TCP_PSH;
		if (xmit(c, c->snd_nxt, len, flags) == -ENOMEM)
			break; /* the persist or retransmission timer tries again */
		advance(c, len, fin);
		if (fin || c->force_send)
			break;
	}
	if (c->ack_now)
		tcp_send_ack(c);
	tcp_timer_persist_check(c);
}

void tcp_retransmit_first(struct tcp_conn *c)
{
	u32 seq = c->snd_una, len = MIN(data_from(c, seq), (u32)c->mss);
	bool fin = c->shut_wr && seq + len == fin_seq(c) && SEQ_GT(c->snd_max, fin_seq(c));
	u8 flags = TCP_ACK | (fin ? TCP_FIN : 0);

	if (!len && !fin)
		return;
	if (len && len == data_from(c, seq))
		flags |= TCP_PSH;
	xmit(c, seq, len, flags);
	c->retransmits++;
	TCP_STAT_INC(retransmits);
	if (c->rtt_timing && SEQ_LEQ(c->rtt_seq, seq + len))
		c->rtt_timing = false; /* Karn */
}

void tcp_send_reset_for(const struct netbuf *nb, const struct tcp_seg *s)
{
	const struct tcp_hdr *in = (const struct tcp_hdr *)nb->data;
	struct ip_addr src = ip_dst(nb), dst = ip_src(nb);
	struct netbuf *out;
	struct tcp_hdr *th;
	u32 seq = 0, ack = 0;
	u8 flags = TCP_RST;

	if (s->flags & TCP_RST)
		return;
	if (s->flags & TCP_ACK) {
		seq = s->ack;
	} else {
		ack = s->seq + tcp_seg_seqlen(s);
		flags |= TCP_ACK;
	}
	out = nb_alloc_tx();
	if (!out)
		return;
	th = nb_append(out, TCP_HLEN);
	fill_header(th, get_be16(&in->dport), get_be16(&in->sport), seq, ack, TCP_HLEN, flags, 0);
	fill_csum(th, &src, &dst, TCP_HLEN);
	TCP_STAT_INC(segs_out);
	TCP_STAT_INC(resets_out);
	ip_output(NULL, &src, &dst, IP_PROTO_TCP, out);
}
