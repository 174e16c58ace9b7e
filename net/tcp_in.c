/*
 * tcp_in.c — segments in: checks, demux, and RFC 9293's "SEGMENT
 * ARRIVES" for every state.
 *
 * Checks before anything acts on a segment: at least a header, a data
 * offset inside the segment and not below 5 words, the checksum (unless
 * the device verified it), options that stay inside the header with sane
 * lengths, no SYN together with RST or FIN, a unicast destination that is
 * ours.  A segment that fails is dropped and counted (bad_hdr, bad_csum).
 *
 * Then, per state:
 *   LISTEN        (tcp.c's listener) RST: drop; ACK: RST; SYN: a half-open
 *                 child if the backlog allows, else dropped and counted;
 *   SYN_SENT      an acceptable ACK with RST: -ECONNREFUSED; SYN+ACK:
 *                 ESTABLISHED; SYN alone: simultaneous open;
 *   the others    sequence acceptability (RFC 9293 3.10.7.4), RST and SYN
 *                 per RFC 5961 (exact RST resets, other in-window RSTs and
 *                 every SYN get a rate-limited challenge ACK), the ACK
 *                 (RFC 5961 5.2's bounds; new data acknowledged, RTT,
 *                 congestion window, duplicate ACKs and NewReno), the
 *                 window update (SND.WL1/WL2), the data, the FIN.
 *
 * Reassembly: a segment beyond rcv_nxt (but inside the space the receive
 * ring has) is kept as it came, in its netbuf, on a list sorted by
 * sequence (its seq in nb->tsc, its FIN in a private flag bit: the scratch
 * fields are the owner's), at most TCP_OOO_MAX of them; a segment that
 * fills the hole is copied into the ring and then every kept segment that
 * now lines up after it.  Out-of-order and hole-filling segments are
 * acknowledged at once, so the sender sees duplicate ACKs.
 *
 * ACKs owed: one at once for every 2 full segments received, for the
 * above, and for a FIN; otherwise the delayed-ACK deadline.
 */
#include "net/tcp_priv.h"
#include "net/net_priv.h"
#include "errno.h"
#include "kernel/time.h"
#include "lib/byteorder.h"
#include "lib/string.h"

#define NB_F_TCP_FIN (1u << 16)     /* a kept out-of-order segment carried FIN */

/* ------------------------------------------------------------- parsing */

/* The options of a header (@p, @n bytes): false when malformed. */
static bool parse_options(const u8 *p, u32 n, bool syn, struct tcp_seg *s)
{
	const u8 *end = p + n;

	while (p < end) {
		u8 kind = p[0], len;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			p++;
			continue;
		}
		if (end - p < 2)
			return false;
		len = p[1];
		if (len < 2 || len > end - p)
			return false;
		if (kind == TCPOPT_MSS) {
			if (len != 4)
				return false;
			if (syn) {
				s->has_mss = true;
				s->mss = get_be16(p + 2);
			}
		} else if (kind == TCPOPT_SACK_PERM) {
			if (len != 2)
				return false;
			if (syn)
				s->has_sack_perm = true;
		} else if (kind == TCPOPT_WS) {
			if (len != 3)
				return false;
			if (syn) {
				s->has_ws = true;
				s->ws = MIN(p[2], (u8)TCP_WSCALE_MAX);
			}
		}
		p += len;
	}
	return true;
}

static bool csum_ok(const struct netbuf *nb)
{
	struct ip_addr src = ip_src(nb), dst = ip_dst(nb);
	u32 sum;

	if (nb->flags & NB_F_CSUM_OK)
		return true;
	sum = ip_pseudo_sum(&src, &dst, IP_PROTO_TCP, (u16)nb->len);
	return inet_csum_fold(inet_csum_add(sum, nb->data, nb->len)) == 0;
}

/* Check and parse the segment at nb->data into @s: 0, or the counter to blame. */
static int parse(const struct netbuf *nb, struct tcp_seg *s)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)nb->data;
	u32 doff;

	memset(s, 0, sizeof(*s));
	if (nb->len < TCP_HLEN || nb->len > 0xffff)
		return -EINVAL;
	doff = (th->off >> 4) * 4u;
	if (doff < TCP_HLEN || doff > nb->len)
		return -EINVAL;
	if (!csum_ok(nb))
		return -EBADMSG;
	s->seq = get_be32(&th->seq);
	s->ack = get_be32(&th->ack);
	s->flags = th->flags & 0x3f;
	s->wnd = get_be16(&th->wnd);
	if ((s->flags & TCP_SYN) && (s->flags & (TCP_RST | TCP_FIN)))
		return -EINVAL;
	if (!parse_options(nb->data + TCP_HLEN, doff - TCP_HLEN, s->flags & TCP_SYN, s))
		return -EINVAL;
	s->data = nb->data + doff;
	s->len = nb->len - doff;
	return 0;
}

/* --------------------------------------------------------- reassembly */

void tcp_ooo_purge(struct tcp_conn *c)
{
	while (!list_empty(&c->ooo)) {
		struct netbuf *nb = list_first_entry(&c->ooo, struct netbuf, link);

		list_del_init(&nb->link);
		nb_put(nb);
	}
	c->nooo = 0;
}

static u32 ooo_seq(const struct netbuf *nb)
{
	return (u32)nb->tsc;
}

/*
 * Keep @nb (payload @len bytes at @data, sequence @seq, @fin) on @c's
 * out-of-order list: true when it was kept (the list owns it now).
 */
static bool ooo_insert(struct tcp_conn *c, struct netbuf *nb, u32 seq, const u8 *data, u32 len,
		       bool fin)
{
	struct netbuf *pos, *tmp;
	u32 end = seq + len;

	if (c->nooo >= TCP_OOO_MAX || __atomic_load_n(&nb->refs, __ATOMIC_ACQUIRE) != 1 || !len)
		return false;
	c->sack_last = seq; /* its run is named first, kept anew or not (RFC 2018) */
	/* A kept segment that covers this one already: nothing to keep. */
	list_for_each_entry(pos, &c->ooo, link)
		if (SEQ_LEQ(ooo_seq(pos), seq) && SEQ_GEQ(ooo_seq(pos) + pos->len, end))
			return false;
	/* Kept segments this one covers go. */
	list_for_each_entry_safe(pos, tmp, &c->ooo, link) {
		if (SEQ_GEQ(ooo_seq(pos), seq) && SEQ_LEQ(ooo_seq(pos) + pos->len, end) &&
		    !(pos->flags & NB_F_TCP_FIN)) {
			list_del_init(&pos->link);
			nb_put(pos);
			c->nooo--;
		}
	}
	nb->data = (u8 *)data;
	nb->len = len;
	nb->tsc = seq;
	if (fin)
		nb->flags |= NB_F_TCP_FIN;
	/* Arrivals mostly extend the tail: search from there. */
	for (struct list_head *p = c->ooo.prev; p != &c->ooo; p = p->prev) {
		if (SEQ_LEQ(ooo_seq(list_entry(p, struct netbuf, link)), seq)) {
			list_add(&nb->link, p);
			c->nooo++;
			return true;
		}
	}
	list_add(&nb->link, &c->ooo);
	c->nooo++;
	return true;
}

static void fin_in(struct tcp_conn *c);

/* Copy into the ring every kept segment that now starts at or before rcv_nxt. */
static void ooo_merge(struct tcp_conn *c)
{
	while (!list_empty(&c->ooo) && !c->fin_rcvd) {
		struct netbuf *nb = list_first_entry(&c->ooo, struct netbuf, link);
		u32 seq = ooo_seq(nb), skip, n;

		if (SEQ_GT(seq, c->rcv_nxt))
			break;
		list_del_init(&nb->link);
		c->nooo--;
		skip = c->rcv_nxt - seq;
		if (skip <= nb->len) {
			n = (u32)ring_write(&c->rcv, nb->data + skip, nb->len - skip);
			c->rcv_nxt += n;
			c->bytes_received += n;
			if (n == nb->len - skip && (nb->flags & NB_F_TCP_FIN))
				fin_in(c);
		}
		nb_put(nb);
	}
}

/* --------------------------------------------------------------- input */

static void wake(struct tcp_conn *c)
{
	tcp_wake_later(c);
}

/* The peer's FIN is in order: one more sequence number, and the state moves. */
static void fin_in(struct tcp_conn *c)
{
	c->rcv_nxt++;
	__atomic_store_n(&c->fin_rcvd, true, __ATOMIC_RELEASE);
	c->ack_now = true;
	switch (c->state) {
	case TCP_SYN_RECEIVED:
	case TCP_ESTABLISHED:
		__atomic_store_n(&c->state, TCP_CLOSE_WAIT, __ATOMIC_RELEASE);
		break;
	case TCP_FIN_WAIT_1:
		if (c->shut_wr && c->snd_una == c->snd_max)
			tcp_enter_time_wait(c);
		else
			__atomic_store_n(&c->state, TCP_CLOSING, __ATOMIC_RELEASE);
		break;
	case TCP_FIN_WAIT_2:
		tcp_enter_time_wait(c);
		break;
	default:
		break;
	}
	tcp_ooo_purge(c);
	wake(c);
}

/* Data and FIN of an acceptable segment in a state that takes them.  True: @nb was kept. */
static bool data_in(struct tcp_conn *c, struct netbuf *nb, const struct tcp_seg *s)
{
	u32 seq = s->seq, len = s->len, limit;
	const u8 *data = s->data;
	bool fin = s->flags & TCP_FIN;

	if (SEQ_LT(seq, c->rcv_nxt)) {
		u32 skip = c->rcv_nxt - seq;

		if (skip > len) { /* all old, FIN included */
			c->ack_now = true;
			return false;
		}
		data += skip;
		len -= skip;
		seq = c->rcv_nxt;
		c->ack_now = true; /* a partial duplicate */
	}
	limit = c->rcv_nxt + (u32)ring_free(&c->rcv);
	if (SEQ_GT(seq + len, limit)) {
		len = SEQ_GT(limit, seq) ? limit - seq : 0;
		fin = false;
		c->ack_now = true;
	}
	if (!len && !fin)
		return false;
	if (seq != c->rcv_nxt) {
		c->ack_now = true;
		TCP_STAT_INC(out_of_order);
		return ooo_insert(c, nb, seq, data, len, fin);
	}
	ring_write(&c->rcv, data, len);
	c->rcv_nxt += len;
	c->bytes_received += len;
	c->rcv_unacked += len;
	if (len > c->rcv_mss)
		c->rcv_mss = MIN(len, (u32)c->our_mss);
	if (fin)
		fin_in(c);
	if (!list_empty(&c->ooo)) {
		ooo_merge(c);
		c->ack_now = true;
	}
	if (c->rcv_unacked >= TCP_ACK_STRETCH * c->rcv_mss)
		c->ack_now = true;
	else if (c->rcv_unacked >= 2 * c->rcv_mss)
		tcp_ack_later(c);
	else if (!c->ack_now)
		tcp_timer_delack(c);
	/* The ring's head before the reader's flag (it sets the flag, then looks). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (len && __atomic_load_n(&c->rcv_waiting, __ATOMIC_RELAXED))
		wake(c);
	return false;
}

/* RFC 9293 3.10.7.4's acceptability test, with the zero-window allowance for ACKs. */
static bool seq_acceptable(const struct tcp_conn *c, const struct tcp_seg *s)
{
	u32 wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	u32 len = tcp_seg_seqlen(s), end = s->seq + len - 1;

	if (c->rcv_mem) /* we may take what the ring has room for, past what we advertised */
		wnd = MAX(wnd, (u32)ring_free(&c->rcv));
	if (s->seq == c->rcv_nxt)
		return true;
	if (!wnd)
		return false;
	if (SEQ_GEQ(s->seq, c->rcv_nxt) && SEQ_LT(s->seq, c->rcv_nxt + wnd))
		return true;
	return len && SEQ_GEQ(end, c->rcv_nxt) && SEQ_LT(end, c->rcv_nxt + wnd);
}

/* The sequence number of our FIN (once queued). */
static u32 our_fin_seq(const struct tcp_conn *c)
{
	return c->iss + 1 + c->snd.head;
}

/* The send ring's free space reached what the writer waits for, or it emptied (flush). */
static void wake_writer(struct tcp_conn *c, u32 free_before)
{
	u32 want, now;

	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the ring's tail before the writer's want */
	want = __atomic_load_n(&c->snd_want, __ATOMIC_RELAXED);
	now = (u32)ring_free(&c->snd);
	(void)free_before;
	if ((want && now >= want) || ring_empty(&c->snd))
		wake(c);
}

/* Congestion control on @acked new bytes (RFC 5681, NewReno RFC 6582). */
static void cc_on_ack(struct tcp_conn *c, u32 ack, u32 acked)
{
	if (c->in_recovery) {
		if (SEQ_GEQ(ack, c->recover)) {
			c->cwnd = MIN(c->ssthresh, (c->snd_max - c->snd_una) + c->mss);
			c->cwnd = MAX(c->cwnd, (u32)c->mss);
			c->in_recovery = false;
			c->dupacks = 0;
		} else {
			tcp_retransmit_first(c);
			c->cwnd = (c->cwnd > acked ? c->cwnd - acked : 0) + c->mss;
		}
		return;
	}
	c->dupacks = 0;
	/* Only a window that was in use grows (RFC 7661's spirit, simply). */
	if (c->snd_max - c->snd_una + acked + 2u * c->mss < c->cwnd)
		return;
	if (c->cwnd < c->ssthresh) {
		c->cwnd += MIN(acked, 2u * c->mss);
	} else {
		c->ca_acked += acked;
		if (c->ca_acked >= c->cwnd) {
			c->ca_acked -= c->cwnd;
			c->cwnd += c->mss;
		}
	}
	c->cwnd = MIN(c->cwnd, TCP_CWND_MAX);
}

/* Our FIN was acknowledged: FIN_WAIT_1, CLOSING and LAST_ACK move on. */
static void fin_acked(struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		__atomic_store_n(&c->state, TCP_FIN_WAIT_2, __ATOMIC_RELEASE);
		if (c->orphan) {
			c->tw_at = time_ns() + (u64)TCP_FIN_WAIT2_MS * NS_PER_MS;
			tcp_timer_update(c);
		}
		break;
	case TCP_CLOSING:
		tcp_enter_time_wait(c);
		break;
	case TCP_LAST_ACK:
		tcp_conn_drop(c, 0);
		break;
	default:
		break;
	}
	wake(c);
}

/* SEG.ACK acknowledges something new: snd_una moves. */
static void new_ack(struct tcp_conn *c, u32 ack)
{
	u32 acked = ack - c->snd_una, free_before = (u32)ring_free(&c->snd);
	u32 new_tail, fin = our_fin_seq(c);
	bool fin_done = c->shut_wr && SEQ_GT(ack, fin);

	new_tail = (SEQ_GT(ack, fin) ? fin : ack) - c->iss - 1; /* a stream offset */
	if (c->snd_mem && (s32)(new_tail - c->snd.tail) > 0)
		ring_discard(&c->snd, new_tail - c->snd.tail);
	c->snd_una = ack;
	if (SEQ_LT(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	if (c->rtt_timing && SEQ_GT(ack, c->rtt_seq)) {
		tcp_rtt_sample(c, (u32)MIN((time_ns() - c->rtt_start) / 1000, (u64)0xffffffffu));
		c->rtt_timing = false;
	}
	c->retries = 0;
	c->soft_error = 0; /* something got through */
	cc_on_ack(c, ack, acked);
	if (c->snd_una == c->snd_max)
		tcp_timer_rexmt_stop(c);
	else
		tcp_timer_rexmt_start(c);
	if (c->snd_mem)
		wake_writer(c, free_before);
	if (fin_done)
		fin_acked(c);
}

/* A duplicate ACK (RFC 5681 2): count, and at the third retransmit and recover. */
static void dup_ack(struct tcp_conn *c, u32 ack)
{
	c->dupacks++;
	TCP_STAT_INC(dup_acks);
	if (c->in_recovery) {
		c->cwnd = MIN(c->cwnd + c->mss, TCP_CWND_MAX);
		return;
	}
	if (c->dupacks != TCP_DUPACK_THRESH || !SEQ_GT(ack, c->recover))
		return;
	c->ssthresh = MAX((c->snd_max - c->snd_una) / 2, 2u * c->mss);
	c->recover = c->snd_max;
	c->in_recovery = true;
	TCP_STAT_INC(fast_retransmits);
	tcp_retransmit_first(c);
	c->cwnd = c->ssthresh + 3u * c->mss;
	tcp_timer_rexmt_start(c);
}

/* The ACK field of a segment in a synchronized state: false when the segment is to be dropped. */
static bool ack_in(struct tcp_conn *c, const struct tcp_seg *s)
{
	u32 ack = s->ack, wnd = (u32)s->wnd << c->snd_wscale;

	if (SEQ_GT(ack, c->snd_max)) {
		c->ack_now = true;
		return false;
	}
	if (SEQ_LT(ack, c->snd_una - c->max_sndwnd)) {
		tcp_send_challenge_ack(c);
		return false;
	}
	if (c->persist || !c->snd_wnd)
		c->retries = 0; /* the peer answers our probes (tcp_timer.c) */
	if (SEQ_GT(ack, c->snd_una))
		new_ack(c, ack);
	else if (ack == c->snd_una && !s->len && !(s->flags & (TCP_SYN | TCP_FIN)) &&
		 wnd == c->snd_wnd && c->snd_wnd && c->snd_una != c->snd_max)
		dup_ack(c, ack);
	if (c->state == TCP_CLOSED)
		return false;
	if (SEQ_LT(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, ack))) {
		bool opened = !c->snd_wnd && wnd;

		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = ack;
		c->max_sndwnd = MAX(c->max_sndwnd, wnd);
		if (opened) {
			c->persist_shift = 0;
			if (c->persist) {
				tcp_timer_rexmt_stop(c);
				c->retries = 0;
			} else if (c->rexmt_at) {
				tcp_timer_rexmt_start(c); /* a shut-window probe's backoff ends */
			}
		}
	}
	return true;
}

/* SYN_SENT (RFC 9293 3.10.7.3). */
static void syn_sent_in(struct tcp_conn *c, const struct netbuf *nb, const struct tcp_seg *s)
{
	bool ack = s->flags & TCP_ACK;

	if (ack && (SEQ_LEQ(s->ack, c->iss) || SEQ_GT(s->ack, c->snd_max))) {
		tcp_send_reset_for(nb, s);
		return;
	}
	if (s->flags & TCP_RST) {
		if (ack) {
			TCP_STAT_INC(resets_in);
			tcp_conn_drop(c, -ECONNREFUSED);
		}
		return;
	}
	if (!(s->flags & TCP_SYN))
		return;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->mss = (u16)MIN((u32)c->our_mss,
			  s->has_mss ? MAX((u32)s->mss, (u32)TCP_MSS_MIN) : (u32)TCP_MSS_DEFAULT);
	c->ws_ok = s->has_ws;
	c->sack_ok = s->has_sack_perm;
	c->snd_wscale = s->has_ws ? s->ws : 0;
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	c->cwnd = MIN(10u * c->mss, MAX(2u * c->mss, 14600u));
	c->snd_wnd = s->wnd;
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->recover = c->iss;
	if (!ack) { /* simultaneous open */
		__atomic_store_n(&c->state, TCP_SYN_RECEIVED, __ATOMIC_RELEASE);
		tcp_send_syn(c);
		tcp_timer_rexmt_start(c);
		return;
	}
	if (c->rtt_timing)
		tcp_rtt_sample(c, (u32)MIN((time_ns() - c->rtt_start) / 1000, (u64)0xffffffffu));
	c->rtt_timing = false;
	c->snd_una = s->ack;
	c->retries = 0;
	c->soft_error = 0;
	tcp_timer_rexmt_stop(c);
	__atomic_store_n(&c->state, TCP_ESTABLISHED, __ATOMIC_RELEASE);
	c->ack_now = true;
	wake(c);
}

/* SYN_RECEIVED's ACK completes the handshake: false when the segment is done with. */
static bool syn_received_ack(struct tcp_conn *c, const struct netbuf *nb, const struct tcp_seg *s)
{
	if (!SEQ_GT(s->ack, c->snd_una) || SEQ_GT(s->ack, c->snd_max)) {
		tcp_send_reset_for(nb, s);
		return false;
	}
	if (c->passive && tcp_conn_established_passive(c)) {
		tcp_send_rst_conn(c);
		TCP_STAT_INC(syn_dropped);
		tcp_conn_drop(c, -ECONNABORTED);
		return false;
	}
	c->snd_wnd = (u32)s->wnd << c->snd_wscale;
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->recover = c->iss;
	__atomic_store_n(&c->state, TCP_ESTABLISHED, __ATOMIC_RELEASE);
	wake(c);
	return true;
}

/* RST in a synchronized state or SYN_RECEIVED (RFC 5961 3). */
static void rst_in(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (s->seq != c->rcv_nxt) {
		tcp_send_challenge_ack(c);
		return;
	}
	TCP_STAT_INC(resets_in);
	switch (c->state) {
	case TCP_SYN_RECEIVED:
		tcp_conn_drop(c, c->passive ? -ECONNRESET : -ECONNREFUSED);
		break;
	case TCP_CLOSING:
	case TCP_LAST_ACK:
	case TCP_TIME_WAIT:
		tcp_conn_drop(c, 0);
		break;
	default:
		tcp_conn_drop(c, -ECONNRESET);
	}
}

static bool takes_data(enum tcp_state s)
{
	return s == TCP_ESTABLISHED || s == TCP_FIN_WAIT_1 || s == TCP_FIN_WAIT_2;
}

/* Every state but LISTEN, SYN_SENT and CLOSED.  True: @nb was kept. */
static bool sync_in(struct tcp_conn *c, struct netbuf *nb, const struct tcp_seg *s)
{
	if (!seq_acceptable(c, s)) {
		if (!(s->flags & TCP_RST)) {
			c->ack_now = true;
			if (c->state == TCP_TIME_WAIT && (s->flags & TCP_FIN))
				tcp_enter_time_wait(c); /* the peer lost our ACK: 2 MSL again */
		}
		return false;
	}
	if (s->flags & TCP_RST) {
		rst_in(c, s);
		return false;
	}
	if (s->flags & TCP_SYN) {
		if (c->state == TCP_SYN_RECEIVED && s->seq == c->irs)
			c->ack_now = true; /* a retransmitted SYN: the SYN-ACK again */
		else
			tcp_send_challenge_ack(c);
		return false;
	}
	if (!(s->flags & TCP_ACK))
		return false;
	if (c->state == TCP_SYN_RECEIVED && !syn_received_ack(c, nb, s))
		return false;
	if (!ack_in(c, s))
		return false;
	if (!takes_data(c->state) || (!s->len && !(s->flags & TCP_FIN)))
		return false;
	if (c->orphan && s->len) { /* nobody will read it (RFC 9293 3.6.1) */
		tcp_send_rst_conn(c);
		tcp_conn_drop(c, -ECONNABORTED);
		return false;
	}
	return data_in(c, nb, s);
}

/*
 * @s for connection @c.  True: @nb was kept.  *@relisten is set when a
 * SYN recycled a TIME_WAIT connection and should go to the listener.
 */
static bool conn_in(struct tcp_conn *c, struct netbuf *nb, const struct tcp_seg *s,
		    bool *relisten)
{
	bool kept = false;

	spin_lock(&c->lock);
	switch (c->state) {
	case TCP_CLOSED:
		break;
	case TCP_SYN_SENT:
		syn_sent_in(c, nb, s);
		break;
	case TCP_TIME_WAIT:
		if ((s->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == TCP_SYN &&
		    SEQ_GT(s->seq, c->rcv_nxt)) {
			tcp_conn_drop(c, 0);
			*relisten = true;
			break;
		}
		/* fall through */
	default:
		kept = sync_in(c, nb, s);
	}
	if (c->state != TCP_CLOSED)
		tcp_output(c);
	tcp_unlock(c);
	return kept;
}

/* A segment for a listener (RFC 9293 3.10.7.2). */
static void listen_in(struct tcp_listener *l, const struct netbuf *nb, const struct tcp_seg *s)
{
	if (s->flags & TCP_RST)
		return;
	if (s->flags & TCP_ACK) {
		tcp_send_reset_for(nb, s);
		return;
	}
	if (s->flags & TCP_SYN)
		tcp_passive_open(l, nb, s);
}

/* A segment not for us (a broadcast, not our address): dropped and counted. */
static void drop_not_ours(struct netbuf *nb)
{
	TCP_STAT_INC(bad_hdr);
	netdev_count_drop(nb->dev, NP_TCP);
	nb_put(nb);
}

static void drop_bad(struct netbuf *nb, int why)
{
	if (why == -EBADMSG)
		TCP_STAT_INC(bad_csum);
	else
		TCP_STAT_INC(bad_hdr);
	netdev_count_error(nb->dev, NP_TCP);
	nb_put(nb);
}

/*
 * Could the segment belong to a connection: not a link-layer broadcast, a
 * unicast source.  Whether the destination is one of our addresses needs
 * no check for a connection (its 4-tuple names our address), only before
 * a listener or a RST answers it (local_dst).
 */
static bool addrs_ok(const struct netbuf *nb, const struct ip_addr *src, const struct ip_addr *dst)
{
	if (nb->flags & NB_F_BCAST)
		return false;
	return src->v4 && !ip_v4_is_multi(dst->v4) && dst->v4 != IP_BROADCAST;
}

static bool local_dst(const struct ip_addr *dst)
{
	return ip_is_local(dst);
}

void tcp_input(struct netbuf *nb)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)nb->data;
	struct ip_addr src, dst;
	struct tcp_listener *l;
	struct tcp_conn *c;
	struct tcp_seg s;
	bool relisten = false;
	int rc = parse(nb, &s);

	if (rc)
		return drop_bad(nb, rc);
	src = ip_src(nb);
	dst = ip_dst(nb);
	if (!addrs_ok(nb, &src, &dst))
		return drop_not_ours(nb);
	TCP_STAT_INC(segs_in);
	netdev_count_rx(nb->dev, NP_TCP, nb->len);
	c = tcp_lookup(&dst, get_be16(&th->dport), &src, get_be16(&th->sport));
	if (c) {
		bool kept = conn_in(c, nb, &s, &relisten);

		tcp_conn_put(c);
		if (kept)
			return;
		if (!relisten) {
			nb_put(nb);
			return;
		}
	}
	if (!local_dst(&dst))
		return drop_not_ours(nb);
	l = tcp_listener_lookup(get_be16(&th->dport));
	if (l) {
		listen_in(l, nb, &s);
		tcp_listener_put(l);
	} else {
		TCP_STAT_INC(no_port);
		netdev_count_drop(nb->dev, NP_TCP);
		tcp_send_reset_for(nb, &s);
	}
	nb_put(nb);
}
