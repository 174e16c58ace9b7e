/*
 * host_tcp_peer.c — the scripted TCP peer of the host TCP tests (see
 * host_tcp_peer.h for what it is and how a test drives it).
 *
 * Writing a segment: the header, then the options — from the raw bytes a
 * test gave (padded with NOPs to a word) or from struct tp_opts in the
 * order Linux sends them (MSS, SACK-permitted, timestamps, window scale,
 * SACK blocks) — then the payload; the checksum over the pseudo-header,
 * XORed with csum_xor for a test that wants it wrong; the data offset
 * field overridden for one that wants that wrong.  The TCP bytes then go
 * into an IPv4 packet in an Ethernet frame from peer_mac (fake_netdev.h)
 * and up through the fake's receive path.
 *
 * Reading a segment: everything the stack sent that is IPv4/TCP, with the
 * options walked as RFC 9293 §3.2 says (EOL ends the list, NOP is one
 * byte, every other option has a length of at least 2 that must fit); an
 * option that breaks those rules marks the segment malformed, which a
 * test counts as the stack's bug.
 */
#include "tests/unit/host_tcp_peer.h"
#include "errno.h"
#include "kernel/time.h"
#include "lib/format.h"

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACK_OK 4
#define OPT_SACK 5
#define OPT_TS 8

/* TP_TRACE=1 in the environment logs every segment both ways (NOS_UNIT_VERBOSE shows them). */
extern char *getenv(const char *name);

static bool tracing(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("TP_TRACE") && *getenv("TP_TRACE") != '0';
	return on;
}

static void trace(const struct tcp_peer *p, const char *dir, const struct tp_seg *s)
{
	char d[200];

	if (tracing())
		pr_info("tp: %s %s", dir, tp_describe(p, s, d, sizeof(d)));
}

/* ------------------------------------------------------------ checksum */

u16 tp_tcp_sum(u32 src, u32 dst, const u8 *tcp, u32 len)
{
	u8 ph[12];

	put_be32(ph, src);
	put_be32(ph + 4, dst);
	ph[8] = 0;
	ph[9] = IP_PROTO_TCP;
	put_be16(ph + 10, (u16)len);
	return inet_csum_fold(inet_csum_add(inet_csum_add(0, ph, sizeof(ph)), tcp, len));
}

/* ------------------------------------------------------------- set-up */

void tp_init(struct ktest_ctx *kt, struct tcp_peer *p, struct fake_netdev *f, u16 port)
{
	memset(p, 0, sizeof(*p));
	p->kt = kt;
	p->f = f;
	p->ip = PEER_IP;
	p->our_ip = OUR_IP;
	p->port = port;
	p->mss = 1460;
	p->ws = 7;
	p->iss = 0x10000000u;
	p->snd_nxt = p->iss;
	p->wnd = 65535;
	p->ts_clock = 5000;
	p->stack_mss = 536;
	p->sink_min_wnd = ~0u;
	ktimer_init(&p->timer, NULL, p);
	fake_netdev_peer(f, PEER_IP, &peer_mac, false);
}

void tp_fini(struct tcp_peer *p)
{
	tp_stop(p);
}

/* ------------------------------------------------------------ building */

u16 tp_wnd_field(const struct tcp_peer *p, u32 bytes)
{
	if (p->ws_on)
		bytes >>= p->ws;
	return (u16)MIN(bytes, 0xffffu);
}

void tp_seg_init(const struct tcp_peer *p, struct tp_seg *s, u8 flags, u32 seq, u32 ack)
{
	memset(s, 0, offsetof(struct tp_seg, data));
	s->src = p->ip;
	s->dst = p->our_ip;
	s->sport = p->port;
	s->dport = p->our_port;
	s->flags = flags;
	s->seq = seq;
	s->ack = ack;
	s->len = 0;
	s->raw_opts = NULL;
	s->raw_opts_len = 0;
	s->doff = 0;
	s->csum_xor = 0;
	s->hlen = 0;
	s->csum_ok = true;
	s->ttl = 0;
	s->at = 0;
	/* A SYN's window is never scaled (RFC 7323 §2.2). */
	s->win = (flags & TP_SYN) ? (u16)MIN(p->wnd, 0xffffu) : tp_wnd_field(p, p->wnd);
	if (flags & TP_SYN) {
		s->o.has_mss = p->mss != 0;
		s->o.mss = p->mss;
		s->o.has_ws = p->offer_ws && (!(flags & TP_ACK) || p->ws_on);
		s->o.ws = p->ws;
		s->o.sack_ok = p->offer_sack && (!(flags & TP_ACK) || p->sack_on);
		s->o.has_ts = p->offer_ts && (!(flags & TP_ACK) || p->ts_on);
	} else {
		s->o.has_ts = p->ts_on;
	}
	s->o.tsval = p->ts_clock;
	s->o.tsecr = (flags & TP_ACK) ? p->ts_recent : 0;
}

static u32 put_opts(const struct tp_opts *o, u8 *b)
{
	u32 n = 0;

	if (o->has_mss) {
		b[n] = OPT_MSS, b[n + 1] = 4;
		put_be16(b + n + 2, o->mss);
		n += 4;
	}
	if (o->sack_ok && o->has_ts) {
		b[n] = OPT_SACK_OK, b[n + 1] = 2;
		n += 2;
	} else if (o->sack_ok) {
		b[n] = OPT_NOP, b[n + 1] = OPT_NOP, b[n + 2] = OPT_SACK_OK, b[n + 3] = 2;
		n += 4;
	}
	if (o->has_ts) {
		if (!o->sack_ok)
			b[n++] = OPT_NOP, b[n++] = OPT_NOP;
		b[n] = OPT_TS, b[n + 1] = 10;
		put_be32(b + n + 2, o->tsval);
		put_be32(b + n + 6, o->tsecr);
		n += 10;
	}
	if (o->has_ws) {
		b[n] = OPT_NOP, b[n + 1] = OPT_WS, b[n + 2] = 3, b[n + 3] = o->ws;
		n += 4;
	}
	if (o->nsack) {
		u8 k = (u8)MIN(o->nsack, o->has_ts ? 3 : 4);

		b[n] = OPT_NOP, b[n + 1] = OPT_NOP, b[n + 2] = OPT_SACK, b[n + 3] = (u8)(2 + 8 * k);
		n += 4;
		for (u8 i = 0; i < k; i++, n += 8) {
			put_be32(b + n, o->sack[i][0]);
			put_be32(b + n + 4, o->sack[i][1]);
		}
	}
	return n;
}

u32 tp_build(const struct tp_seg *s, u8 *tcp)
{
	u8 opts[TP_OPT_MAX + 4];
	u32 olen, hlen, len;
	u16 sum;

	if (s->raw_opts) {
		olen = MIN((u32)s->raw_opts_len, (u32)TP_OPT_MAX);
		memcpy(opts, s->raw_opts, olen);
	} else {
		olen = put_opts(&s->o, opts);
	}
	while (olen % 4)
		opts[olen++] = OPT_NOP;
	hlen = TCP_HLEN + olen;
	put_be16(tcp, s->sport);
	put_be16(tcp + 2, s->dport);
	put_be32(tcp + 4, s->seq);
	put_be32(tcp + 8, s->ack);
	tcp[12] = (u8)(((s->doff ? (u32)s->doff : hlen / 4) & 0xf) << 4);
	tcp[13] = s->flags;
	put_be16(tcp + 14, s->win);
	put_be16(tcp + 16, 0);
	put_be16(tcp + 18, s->urg);
	memcpy(tcp + TCP_HLEN, opts, olen);
	len = MIN(s->len, (u32)TP_DATA_MAX);
	memcpy(tcp + hlen, s->data, len);
	sum = tp_tcp_sum(s->src, s->dst, tcp, hlen + len) ^ s->csum_xor;
	put_be16(tcp + 16, sum);
	return hlen + len;
}

void tp_inject_raw(struct tcp_peer *p, u32 src, u32 dst, const u8 *tcp, u32 len)
{
	u8 fr[ETH_HLEN + IP_HLEN + TCP_HLEN + TP_OPT_MAX + TP_DATA_MAX];
	u32 n = fake_frame_ipv4(fr, &p->f->dev.mac, &peer_mac, src, dst, IP_PROTO_TCP, tcp, len);

	if (fake_netdev_inject(p->f, fr, n))
		ktest_fail(p->kt, __FILE__, __LINE__, "tp_inject_raw: no netbuf to inject into");
}

void tp_inject(struct tcp_peer *p, const struct tp_seg *s)
{
	u8 tcp[TCP_HLEN + TP_OPT_MAX + TP_DATA_MAX];
	u32 n = tp_build(s, tcp);

	trace(p, "peer ->", s);
	tp_inject_raw(p, s->src, s->dst, tcp, n);
}

void tp_send(struct tcp_peer *p, u8 flags, u32 seq, u32 ack, const void *data, u32 len)
{
	struct tp_seg s;

	tp_seg_init(p, &s, flags, seq, ack);
	s.len = MIN(len, (u32)TP_DATA_MAX);
	if (data)
		memcpy(s.data, data, s.len);
	else
		memset(s.data, 0, s.len);
	tp_inject(p, &s);
}

void tp_push(struct tcp_peer *p, u8 flags, const void *data, u32 len)
{
	if (!(flags & (TP_SYN | TP_RST)))
		flags |= TP_ACK;
	tp_send(p, flags, p->snd_nxt, (flags & TP_ACK) ? p->rcv_nxt : 0, data, len);
	p->snd_nxt += MIN(len, (u32)TP_DATA_MAX) + !!(flags & TP_SYN) + !!(flags & TP_FIN);
}

void tp_ack(struct tcp_peer *p)
{
	tp_push(p, TP_ACK, NULL, 0);
}

/* ------------------------------------------------------------- reading */

/* Walk the options at @b (@n bytes) into @o. */
static void read_opts(const u8 *b, u32 n, struct tp_opts *o)
{
	for (u32 i = 0; i < n;) {
		u8 kind = b[i], len;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= n || (len = b[i + 1]) < 2 || i + len > n) {
			o->malformed = true;
			return;
		}
		if (o->norder < ARRAY_SIZE(o->order))
			o->order[o->norder++] = kind;
		if (kind == OPT_MSS && len == 4)
			o->has_mss = true, o->mss = get_be16(b + i + 2);
		else if (kind == OPT_WS && len == 3)
			o->has_ws = true, o->ws = b[i + 2];
		else if (kind == OPT_SACK_OK && len == 2)
			o->sack_ok = true;
		else if (kind == OPT_TS && len == 10)
			o->has_ts = true, o->tsval = get_be32(b + i + 2), o->tsecr = get_be32(b + i + 6);
		else if (kind == OPT_SACK && (len - 2) % 8 == 0)
			for (u32 k = 0; k < (u32)(len - 2) / 8 && k < 4; k++) {
				o->sack[k][0] = get_be32(b + i + 2 + 8 * k);
				o->sack[k][1] = get_be32(b + i + 6 + 8 * k);
				o->nsack = (u8)(k + 1);
			}
		else if (kind <= OPT_TS)
			o->malformed = true; /* a known option with the wrong length */
		i += len;
	}
}

bool tp_parse(const struct netbuf *nb, struct tp_seg *s)
{
	const u8 *ip = fr_l3(nb), *tcp;
	u32 l4, hlen;

	memset(s, 0, offsetof(struct tp_seg, data));
	if (nb->len < ETH_HLEN + IP_HLEN || fr_type(nb) != ETH_P_IPV4 || ip[9] != IP_PROTO_TCP)
		return false;
	tcp = fr_l4(nb);
	l4 = fr_l4_len(nb);
	if (l4 < TCP_HLEN || (u32)(tcp - nb->data) + l4 > nb->len)
		return false;
	hlen = (tcp[12] >> 4) * 4u;
	s->hlen = (u8)hlen;
	s->src = get_be32(ip + 12);
	s->dst = get_be32(ip + 16);
	s->ttl = ip[8];
	s->sport = get_be16(tcp);
	s->dport = get_be16(tcp + 2);
	s->seq = get_be32(tcp + 4);
	s->ack = get_be32(tcp + 8);
	s->flags = tcp[13];
	s->win = get_be16(tcp + 14);
	s->urg = get_be16(tcp + 18);
	s->csum_ok = tp_tcp_sum(s->src, s->dst, tcp, l4) == 0;
	if (hlen < TCP_HLEN || hlen > l4) {
		s->o.malformed = true;
		return true;
	}
	read_opts(tcp + TCP_HLEN, hlen - TCP_HLEN, &s->o);
	s->len = MIN(l4 - hlen, (u32)TP_DATA_MAX);
	memcpy(s->data, tcp + hlen, s->len);
	s->at = time_ns();
	return true;
}

/* The stack's ACK and window, as a peer keeps them (SND.UNA, SND.WND). */
static void note_ack(struct tcp_peer *p, const struct tp_seg *s)
{
	if (s->o.has_ts)
		p->ts_recent = s->o.tsval;
	if (!(s->flags & TP_ACK) || (s->flags & TP_RST))
		return;
	if (!p->una_valid || (s32)(s->ack - p->snd_una) >= 0) {
		p->snd_una = s->ack;
		p->snd_wnd = tp_wnd(p, s);
		p->una_valid = true;
	}
}

bool tp_pop(struct tcp_peer *p, struct tp_seg *s)
{
	struct netbuf *nb;

	while ((nb = fake_netdev_pop(p->f))) {
		bool tcp = tp_parse(nb, s);

		nb_put(nb);
		if (!tcp)
			continue;
		trace(p, "stack ->", s);
		if (s->sport == p->our_port && s->dport == p->port && s->dst == p->ip)
			note_ack(p, s);
		return true;
	}
	return false;
}

unsigned tp_drain(struct tcp_peer *p)
{
	struct tp_seg s;
	unsigned n = 0;

	while (tp_pop(p, &s))
		n++;
	return n;
}

u32 tp_wnd(const struct tcp_peer *p, const struct tp_seg *s)
{
	if ((s->flags & TP_SYN) || !p->ws_on)
		return s->win;
	return (u32)s->win << p->stack_ws;
}

char *tp_flags_str(u8 flags, char *buf, size_t size)
{
	static const char *const names[] = { "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR" };
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < 8; i++)
		if (flags & (1u << i))
			n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "|" : "",
					      names[i]);
	if (!n)
		snprintf(buf, size, "none");
	return buf;
}

/* "irs+N" when @v is near the stack's ISN, else the number. */
static void seq_str(char *b, size_t size, u32 v, u32 base, const char *name)
{
	u32 d = v - base;

	if (d < 0x40000000u)
		snprintf(b, size, "%s+%u", name, d);
	else
		snprintf(b, size, "%u", v);
}

char *tp_describe(const struct tcp_peer *p, const struct tp_seg *s, char *buf, size_t size)
{
	bool from_peer = s->src == p->ip && s->sport == p->port;
	char fl[40], sq[24], ak[24];
	const struct tp_opts *o = &s->o;
	size_t n;

	/* The stack's numbers read from its ISN (irs), the peer's from the peer's (iss). */
	tp_flags_str(s->flags, fl, sizeof(fl));
	seq_str(sq, sizeof(sq), s->seq, from_peer ? p->iss : p->irs, from_peer ? "iss" : "irs");
	seq_str(ak, sizeof(ak), s->ack, from_peer ? p->irs : p->iss, from_peer ? "irs" : "iss");
	n = (size_t)snprintf(buf, size, "%s seq=%s ack=%s win=%u len=%u %u->%u%s", fl, sq, ak,
			     s->win, s->len, s->sport, s->dport, s->csum_ok ? "" : " BAD-CSUM");
	if (o->has_mss && n < size)
		n += (size_t)snprintf(buf + n, size - n, " mss=%u", o->mss);
	if (o->has_ws && n < size)
		n += (size_t)snprintf(buf + n, size - n, " ws=%u", o->ws);
	if (o->sack_ok && n < size)
		n += (size_t)snprintf(buf + n, size - n, " sackok");
	if (o->has_ts && n < size)
		n += (size_t)snprintf(buf + n, size - n, " ts=%u/%u", o->tsval, o->tsecr);
	if (o->nsack && n < size)
		n += (size_t)snprintf(buf + n, size - n, " sack*%u", o->nsack);
	if (o->malformed && n < size)
		snprintf(buf + n, size - n, " MALFORMED-OPTIONS");
	return buf;
}

bool tp_expect_at(struct tcp_peer *p, u8 flags, u64 seq, u64 ack, const char *file, int line)
{
	char got[200], want[40];

	tp_flags_str(flags, want, sizeof(want));
	if (!tp_pop(p, &p->last)) {
		memset(&p->last, 0, offsetof(struct tp_seg, data));
		ktest_fail(p->kt, file, line, "expected %s seq=%lld ack=%lld from the stack; it sent "
			   "nothing", want, (long long)(s64)seq, (long long)(s64)ack);
		return false;
	}
	tp_describe(p, &p->last, got, sizeof(got));
	if ((p->last.flags & ~TP_IGNORED_FLAGS) != (flags & ~TP_IGNORED_FLAGS) ||
	    (seq != TP_ANY && p->last.seq != (u32)seq) ||
	    (ack != TP_ANY && p->last.ack != (u32)ack)) {
		char ws[24], wa[24];

		if (seq == TP_ANY)
			snprintf(ws, sizeof(ws), "any");
		else
			seq_str(ws, sizeof(ws), (u32)seq, p->irs, "irs");
		if (ack == TP_ANY)
			snprintf(wa, sizeof(wa), "any");
		else
			seq_str(wa, sizeof(wa), (u32)ack, p->iss, "iss");
		ktest_fail(p->kt, file, line, "expected %s seq=%s ack=%s, the stack sent %s", want,
			   ws, wa, got);
		return false;
	}
	if (!p->last.csum_ok || p->last.o.malformed) {
		ktest_fail(p->kt, file, line, "the stack sent a bad segment (%s): %s",
			   p->last.csum_ok ? "malformed options" : "wrong checksum", got);
		return false;
	}
	return true;
}

bool tp_expect_rst_at(struct tcp_peer *p, u64 seq, const char *file, int line)
{
	char got[200];

	if (!tp_pop(p, &p->last)) {
		ktest_fail(p->kt, file, line, "expected a RST from the stack; it sent nothing");
		return false;
	}
	tp_describe(p, &p->last, got, sizeof(got));
	if (!(p->last.flags & TP_RST) || (p->last.flags & (TP_SYN | TP_FIN)) || p->last.len ||
	    (seq != TP_ANY && p->last.seq != (u32)seq) || !p->last.csum_ok) {
		ktest_fail(p->kt, file, line, "expected a RST (seq %lld), the stack sent %s",
			   (long long)(s64)seq, got);
		return false;
	}
	return true;
}

bool tp_expect_none_at(struct tcp_peer *p, const char *file, int line)
{
	struct tp_seg s;
	char got[200];

	if (!tp_pop(p, &s))
		return true;
	ktest_fail(p->kt, file, line, "expected no segment, the stack sent %s",
		   tp_describe(p, &s, got, sizeof(got)));
	return false;
}

bool tp_take(struct tcp_peer *p)
{
	struct tp_seg *s = &p->last;

	if (!tp_pop(p, s))
		return false;
	if (s->seq == p->rcv_nxt && !(s->flags & TP_RST))
		p->rcv_nxt += s->len + !!(s->flags & TP_SYN) + !!(s->flags & TP_FIN);
	return true;
}

bool tp_wait_seg(struct tcp_peer *p, u64 step_ns, u64 max_ns, struct tp_seg *s)
{
	u64 end = time_ns() + max_ns;

	for (;;) {
		if (tp_pop(p, s))
			return true;
		if (time_ns() >= end)
			return false;
		shim_clock_advance(MIN(step_ns, end - time_ns()));
	}
}

/* ---------------------------------------------------------- handshakes */

/* What the stack's SYN or SYN-ACK @s says, and what that makes the connection. */
void tp_note_syn(struct tcp_peer *p, const struct tp_seg *s)
{
	p->syn = *s;
	p->irs = s->seq;
	p->rcv_nxt = s->seq + 1;
	p->our_port = s->sport;
	p->stack_mss = s->o.has_mss ? s->o.mss : 536;
	p->ws_on = p->offer_ws && s->o.has_ws;
	p->stack_ws = p->ws_on ? (u8)MIN(s->o.ws, 14) : 0;
	p->ts_on = p->offer_ts && s->o.has_ts;
	p->sack_on = p->offer_sack && s->o.sack_ok;
	if (s->o.has_ts)
		p->ts_recent = s->o.tsval;
}

void tp_answer_syn(struct tcp_peer *p, const struct tp_seg *syn)
{
	p->una_valid = false;
	tp_note_syn(p, syn);
	p->snd_nxt = p->iss;
	tp_push(p, TP_SYN | TP_ACK, NULL, 0);
}

static void answer_syn_step(struct tcp_peer *p)
{
	struct tp_seg s;
	char got[200];

	if (!tp_pop(p, &s)) {
		ktest_fail(p->kt, __FILE__, __LINE__, "tp_connect: tcp_connect() sent no SYN");
		return;
	}
	if (s.flags != TP_SYN || !s.csum_ok || s.o.malformed || s.dport != p->port ||
	    s.dst != p->ip || s.len) {
		ktest_fail(p->kt, __FILE__, __LINE__, "tp_connect: expected a SYN, got %s",
			   tp_describe(p, &s, got, sizeof(got)));
		return;
	}
	tp_answer_syn(p, &s);
}

int tp_connect(struct tcp_peer *p, struct tcp_conn **out)
{
	struct ip_addr dst = ip_v4(p->ip);
	int rc;

	tp_later(p, NS_MS, answer_syn_step);
	rc = tcp_connect(&dst, p->port, 5 * NS_S, out);
	tp_stop(p);
	if (rc)
		return rc;
	if (!tp_expect_at(p, TP_ACK, p->irs + 1, p->snd_nxt, __FILE__, __LINE__)) {
		tcp_abort(*out);
		*out = NULL;
		tp_drain(p);
		return -EPROTO;
	}
	return 0;
}

int tp_accept(struct tcp_peer *p, struct tcp_listener *l, struct tcp_conn **out)
{
	p->our_port = tcp_listener_port(l);
	p->snd_nxt = p->iss;
	p->rcv_nxt = 0;
	p->una_valid = false;
	tp_push(p, TP_SYN, NULL, 0);
	if (!tp_expect_at(p, TP_SYN | TP_ACK, TP_ANY, p->iss + 1, __FILE__, __LINE__))
		return -EPROTO;
	tp_note_syn(p, &p->last);
	tp_ack(p);
	return tcp_accept(l, NS_S, out);
}

/* ------------------------------------------------- the peer while we wait */

static void step_timer(struct ktimer *t, void *arg)
{
	struct tcp_peer *p = arg;

	p->steps++;
	if (p->step)
		p->step(p);
}

void tp_later(struct tcp_peer *p, u64 delay_ns, void (*step)(struct tcp_peer *p))
{
	ktimer_cancel(&p->timer);
	ktimer_init(&p->timer, step_timer, p);
	p->step = step;
	ktimer_start(&p->timer, delay_ns, 0);
}

void tp_every(struct tcp_peer *p, u64 period_ns, void (*step)(struct tcp_peer *p))
{
	ktimer_cancel(&p->timer);
	ktimer_init(&p->timer, step_timer, p);
	p->step = step;
	ktimer_start(&p->timer, period_ns, period_ns);
}

void tp_stop(struct tcp_peer *p)
{
	if (p->timer.fn)
		ktimer_cancel(&p->timer);
}

void tp_sink_buffer(struct tcp_peer *p, u8 *buf, u32 cap)
{
	p->rx = buf;
	p->rx_cap = cap;
	p->rx_len = 0;
	p->rx_fin = false;
}

void tp_sink(struct tcp_peer *p)
{
	struct tp_seg *s = &p->last;
	bool any = false;

	while (tp_pop(p, s)) {
		if (s->sport != p->our_port || s->dport != p->port || (s->flags & TP_RST))
			continue;
		any = true;
		p->sink_segs++;
		p->sink_max_len = MAX(p->sink_max_len, s->len);
		p->sink_min_wnd = MIN(p->sink_min_wnd, tp_wnd(p, s));
		if (s->seq != p->rcv_nxt || !s->csum_ok)
			continue; /* out of order or damaged: the duplicate ACK asks again */
		if (p->rx && p->rx_len + s->len <= p->rx_cap)
			memcpy(p->rx + p->rx_len, s->data, s->len);
		p->rx_len += s->len;
		p->rcv_nxt += s->len;
		if (s->flags & TP_FIN) {
			p->rcv_nxt++;
			p->rx_fin = true;
		}
	}
	if (any && !p->sink_quiet) {
		p->ts_clock++;
		tp_ack(p);
		p->sink_acks++;
	}
}

/* ---------------------------------------------------------------- data */

/*
 * The blocking calls the helpers make, under shim_catch_panic(): a panic
 * inside TCP (a lost wake-up the shim caught, a failed assertion) fails
 * the test with its message and returns -EFAULT, and the test goes on
 * to abort its connection — so one broken call does not leave a
 * half-dead connection in TCP's tables for every later test to trip on.
 */
struct safe_call {
	struct tcp_conn *c;
	void *buf;
	size_t len;
	u64 timeout_ns;
	bool recv, flush;
	s64 rc;
};

static void safe_fn(void *arg)
{
	struct safe_call *sc = arg;

	if (sc->flush)
		sc->rc = tcp_flush(sc->c, sc->timeout_ns);
	else if (sc->recv)
		sc->rc = tcp_recv(sc->c, sc->buf, sc->len, sc->timeout_ns);
	else
		sc->rc = tcp_send(sc->c, sc->buf, sc->len, sc->timeout_ns);
}

static s64 safe_call(struct tcp_peer *p, struct safe_call *sc, const char *what)
{
	char msg[320];

	if (shim_catch_panic(safe_fn, sc, msg, sizeof(msg))) {
		ktest_fail(p->kt, __FILE__, __LINE__, "%s panicked: %s", what, msg);
		return -EFAULT;
	}
	return sc->rc;
}

s64 tp_safe_send(struct tcp_peer *p, struct tcp_conn *c, const void *buf, size_t len,
		 u64 timeout_ns)
{
	struct safe_call sc = { c, (void *)(uintptr_t)buf, len, timeout_ns, false, false, 0 };

	return safe_call(p, &sc, "tcp_send()");
}

s64 tp_safe_recv(struct tcp_peer *p, struct tcp_conn *c, void *buf, size_t len, u64 timeout_ns)
{
	struct safe_call sc = { c, buf, len, timeout_ns, true, false, 0 };

	return safe_call(p, &sc, "tcp_recv()");
}

int tp_safe_flush(struct tcp_peer *p, struct tcp_conn *c, u64 timeout_ns)
{
	struct safe_call sc = { c, NULL, 0, timeout_ns, false, true, 0 };

	return (int)safe_call(p, &sc, "tcp_flush()");
}

void tp_push_pattern(struct tcp_peer *p, u8 flags, u32 stream, u32 off, u32 len)
{
	u8 buf[TP_DATA_MAX];

	len = MIN(len, (u32)TP_DATA_MAX);
	tp_fill(buf, len, stream, off);
	tp_push(p, flags, buf, len);
}

s64 tp_recv_exact(struct tcp_conn *c, void *buf, u32 len, u64 timeout_ns)
{
	u32 got = 0;

	while (got < len) {
		s64 n = tcp_recv(c, (u8 *)buf + got, len - got, timeout_ns);

		if (n < 0)
			return got ? (s64)got : n;
		if (n == 0)
			break;
		got += (u32)n;
	}
	return got;
}

/* Room left in the window the stack advertised, from the peer's snd_nxt. */
static u32 window_room(const struct tcp_peer *p)
{
	s32 room = (s32)(p->snd_una + p->snd_wnd - p->snd_nxt);

	return room > 0 ? (u32)room : 0;
}

u32 tp_stream_in(struct tcp_peer *p, struct tcp_conn *c, u32 stream, u32 off, u32 len)
{
	static u8 buf[16384];
	struct ktest_ctx *kt = p->kt;
	u32 mss = MIN((u32)p->stack_mss, (u32)TP_DATA_MAX), sent = 0, got = 0;
	unsigned idle = 0;

	while (got < len) {
		bool moved = false;
		s64 n;

		for (u32 k; sent < len && (k = MIN(MIN(mss, len - sent), window_room(p))); sent += k) {
			tp_push_pattern(p, TP_ACK, stream, off + sent, k);
			moved = true;
		}
		tp_drain(p); /* the ACKs: tp_pop() notes them */
		if (tp_info(c).rcv_queued) {
			n = tp_safe_recv(p, c, buf, sizeof(buf), NS_S);
			if (n <= 0) {
				ktest_fail(kt, __FILE__, __LINE__, "tp_stream_in: tcp_recv() = %lld "
					   "with %u bytes read", (long long)n, got);
				return got;
			}
			if (tp_check(buf, (u32)n, stream, off + got) != (u32)n) {
				ktest_fail(kt, __FILE__, __LINE__, "tp_stream_in: byte %u of the "
					   "stream is wrong", got + tp_check(buf, (u32)n, stream, off + got));
				return got;
			}
			got += (u32)n;
			moved = true;
		}
		if (moved) {
			idle = 0;
			continue;
		}
		if (++idle > 200) {
			ktest_fail(kt, __FILE__, __LINE__, "tp_stream_in: stuck after %u of %u bytes "
				   "sent, %u read (window %u from %u)", sent, len, got, p->snd_wnd,
				   p->snd_una - p->iss);
			return got;
		}
		shim_clock_advance(TN_TICK_MS * NS_MS);
	}
	return got;
}

bool tp_stream_out(struct tcp_peer *p, struct tcp_conn *c, u32 stream, u32 off, u32 len,
		   u64 period_ns)
{
	static u8 buf[65536];
	struct ktest_ctx *kt = p->kt;
	u32 done = 0, bad;
	int rc;

	tp_sink_buffer(p, p->rx, p->rx_cap);
	tp_every(p, period_ns, tp_sink);
	while (done < len) {
		u32 n = MIN((u32)sizeof(buf), len - done);
		s64 r;

		tp_fill(buf, n, stream, off + done);
		r = tp_safe_send(p, c, buf, n, 30 * NS_S);
		if (r <= 0) {
			ktest_fail(kt, __FILE__, __LINE__, "tp_stream_out: tcp_send() = %lld after "
				   "%u of %u bytes", (long long)r, done, len);
			break;
		}
		done += (u32)r;
	}
	rc = done == len ? tp_safe_flush(p, c, 60 * NS_S) : -EFAULT;
	tp_stop(p);
	tp_sink(p); /* whatever came after the last step */
	if (rc || done != len || p->rx_len != len) {
		ktest_fail(kt, __FILE__, __LINE__, "tp_stream_out: tcp_flush() = %d, %u bytes queued, "
			   "%u arrived, of %u", rc, done, p->rx_len, len);
		return false;
	}
	if (p->rx && len <= p->rx_cap && (bad = tp_check(p->rx, len, stream, off)) != len) {
		ktest_fail(kt, __FILE__, __LINE__, "tp_stream_out: byte %u arrived wrong", bad);
		return false;
	}
	return true;
}

/* --------------------------------------------------------- the frame */

static void count_conn(void *arg, const struct tcp_conn_info *i)
{
	if (i->state != TCP_LISTEN)
		(*(unsigned *)arg)++;
}

unsigned tp_conns(void)
{
	unsigned n = 0;

	tcp_for_each(count_conn, &n);
	return n;
}

struct state_query {
	u16 lport, rport;
	enum tcp_state state;
};

static void find_state(void *arg, const struct tcp_conn_info *i)
{
	struct state_query *q = arg;

	if (i->lport == q->lport && (!q->rport || i->rport == q->rport) && i->state != TCP_LISTEN)
		q->state = i->state;
}

enum tcp_state tp_state_of(u16 lport, u16 rport)
{
	struct state_query q = { lport, rport, TCP_STATES };

	tcp_for_each(find_state, &q);
	return q.state;
}

void tp_begin(struct ktest_ctx *kt)
{
	struct tcp_stats st;

	/*
	 * The shim's own tests borrow SOFTIRQ_TCP_TIMER and leave it without a
	 * handler; tcp_init() puts TCP's back (calling it again is harmless).
	 */
	fake_netdev_get(0);
	tcp_init();
	/* What an earlier test that failed half-way may have left. */
	tcp_test_set_ephemeral(0, 0);
	tcp_test_flush();
	tcp_get_stats(&st);
	if (st.conns || st.listeners)
		ktest_log(kt, "note: %u connections and %u listeners left by an earlier test",
			  st.conns, st.listeners);
}

void tp_end(struct tcp_peer *p)
{
	struct tcp_stats st;

	tp_fini(p);
	tcp_test_set_ephemeral(0, 0);
	tcp_test_flush();
	tcp_get_stats(&st);
	if (st.conns || st.listeners)
		ktest_fail(p->kt, __FILE__, __LINE__, "the test left %u connections and %u "
			   "listeners behind", st.conns, st.listeners);
	tp_drain(p);
}

/* The notes' numbers that tcp_priv.h names too: a change there must reach tcp-notes.md. */
_Static_assert(TN_TICK_MS == TCP_TICK_MS, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_RTO_INIT_MS == TCP_RTO_INIT_MS, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_RTO_MIN_MS == TCP_RTO_MIN_MS, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_RTO_MAX_MS == TCP_RTO_MAX_MS, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_SYN_RETRIES == TCP_SYN_RETRIES, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_SYNACK_RETRIES == TCP_SYNACK_RETRIES, "tcp-notes.md and tcp_priv.h disagree");
_Static_assert(TN_DATA_RETRIES == TCP_DATA_RETRIES, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_DELACK_MS == TCP_DELACK_MS, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_TIME_WAIT_MS == 2 * TCP_MSL_MS, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_FIN_WAIT2_MS == TCP_FIN_WAIT2_MS, "tcp-notes.md and net/tcp_priv.h disagree");
_Static_assert(TN_TIME_WAIT_MAX == TCP_TIME_WAIT_MAX, "tcp-notes.md and tcp_priv.h disagree");
_Static_assert(TN_CHALLENGE_PER_S == TCP_CHALLENGE_PER_S, "tcp-notes.md and tcp_priv.h disagree");
