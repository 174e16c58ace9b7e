/*
 * icmp.c — ICMP for IPv4 (see icmp.h).
 *
 * Input (from ip_input, data at the ICMP header, l3_off at the IP header)
 * checks the length and the checksum over the whole message, counts the
 * type, and then:
 *
 *   echo request   answered in the same netbuf: the type becomes "reply",
 *                  the checksum is recomputed and ip_output() writes a new
 *                  IP header, source and destination swapped, over the old
 *                  one in the headroom.  A request that shares its netbuf
 *                  (someone else holds a reference) is answered from a
 *                  copy: netbuf.h forbids writing into a shared one.  Only
 *                  a request to our own unicast address is answered — not a
 *                  broadcast (no smurf amplifier) and not while the device
 *                  has no address;
 *   echo reply     matched to a waiting icmp_ping() by (source, id, seq);
 *   unreachable,   the quote is checked (below); one quoting our echo
 *   time exceeded  request completes the waiting ping (unreachable only),
 *                  one quoting another protocol goes to the error handler
 *                  that protocol registered, if any.
 *
 * A quote is taken only whole: an IP version 4 header of at least 20 bytes
 * by its own length, all of it there, ICMP_QUOTE_L4 bytes of the transport
 * header after it, a total length that covers them, and not a later
 * fragment (which has no transport header).  Anything short of that is
 * ignored: an error is a claim by whoever sent it, and only the transport
 * can tell (by its sequence numbers) whether it is about a packet it sent.
 * The handler table is written at start-up only and read without a lock,
 * as ip.c's protocol table.
 *
 * The pings in flight are a small table of slots under ping_lock; each
 * waiter sleeps on ping_wait until its slot is done.  The round trip is
 * the receive timestamp the driver put on the netbuf (the TSC when it
 * took the frame off its ring: the stack's own latency is part of what a
 * user wants measured, the queueing in front of the shell is not) minus
 * the TSC just before the request went to ip_output(); rdtsc() at input
 * stands in when a driver gives no timestamp.
 *
 * Errors out (icmp_send_unreach) follow RFC 1122 3.2.2: never about an
 * ICMP error, a broadcast or multicast, a non-first fragment, or a source
 * that is not a single host; and at most ICMP_ERR_RATE a second (one-second
 * windows, under ping_lock too: it is the file's only lock, a leaf, never
 * held while sending, freeing or waking).
 */
#include "net/icmp.h"
#include "net/arp.h"
#include "net/ip.h"
#include "net/net_priv.h"
#include "errno.h"
#include "kernel/time.h"
#include "kernel/waitq.h"
#include "kernel/x86.h"
#include "lib/byteorder.h"
#include "lib/string.h"

#define NS_PER_S 1000000000ull

struct ping_slot {
	bool used;
	bool done;                  /* [a] read by the waiter's condition */
	u16 id, seq;
	u32 dst;
	u64 sent_tsc;
	u64 rtt_ns;
	int status;
};

/* Legend: [p] ping_lock; [a] atomic; [I] icmp_init(). */
static struct {
	spinlock_t lock;
	struct ping_slot slot[ICMP_PINGS_MAX];     /* [p] */
	u64 err_window;                             /* [p] start of the rate window */
	u32 err_count;                              /* [p] errors sent in it */
	struct waitq wait;                          /* [I] */
	struct icmp_stats st;                       /* [a] */
} icmp = { .lock = SPINLOCK_INIT("icmp pings") };

#define STAT_INC(field) __atomic_fetch_add(&icmp.st.field, 1, __ATOMIC_RELAXED)

static void count_type(u64 *table, u8 type)
{
	__atomic_fetch_add(&table[type < ICMP_TYPES ? type : ICMP_TYPES], 1, __ATOMIC_RELAXED);
}

void icmp_get_stats(struct icmp_stats *out)
{
	net_stats_copy(out, &icmp.st, sizeof(*out));
}

/* Checksum @nb's ICMP message (data at its header) and hand it to IP. */
static int icmp_send(struct netdev *dev, const struct ip_addr *src, const struct ip_addr *dst,
		     struct netbuf *nb)
{
	struct icmp_hdr *h = (struct icmp_hdr *)nb->data;

	h->csum = 0;
	put_be16(&h->csum, inet_csum(nb->data, nb->len));
	count_type(icmp.st.tx, h->type);
	if (dev)
		netdev_count_tx(dev, NP_ICMP, nb->len);
	return ip_output(dev, src, dst, IP_PROTO_ICMP, nb);
}

/* ------------------------------------------------------------ echo */

static void icmp_echo_reply(struct netbuf *nb)
{
	struct netdev *dev = nb->dev;
	struct ip_addr src = ip_src(nb), dst = ip_dst(nb);
	struct netdev_ipv4 cfg;
	struct icmp_hdr *h;

	netdev_get_ipv4(dev, &cfg);
	if (!ip_is_v4(&cfg.addr) || dst.v4 != cfg.addr.v4 || !src.v4) {
		STAT_INC(echo_unanswered);
		nb_put(nb);
		return;
	}
	nb = nb_unshare(nb); /* the addresses were read first: a copy has no IP header */
	if (!nb)
		return;
	h = (struct icmp_hdr *)nb->data;
	h->type = ICMP_ECHO_REPLY;
	h->code = 0;
	icmp_send(dev, &dst, &src, nb);
}

/* The waiting ping for (@src, @id, @seq) is over with @status; false if none waits. */
static bool ping_complete(u32 src, u16 id, u16 seq, int status, u64 rx_tsc)
{
	u64 flags = spin_lock_irqsave(&icmp.lock);
	bool found = false;

	for (unsigned i = 0; i < ICMP_PINGS_MAX && !found; i++) {
		struct ping_slot *s = &icmp.slot[i];

		if (!s->used || s->done || s->id != id || s->seq != seq || s->dst != src)
			continue;
		s->status = status;
		s->rtt_ns = rx_tsc > s->sent_tsc ? time_tsc_to_ns(rx_tsc - s->sent_tsc) : 0;
		__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
		found = true;
	}
	spin_unlock_irqrestore(&icmp.lock, flags);
	if (found)
		waitq_wake_all(&icmp.wait);
	return found;
}

static void icmp_echo_answer(const struct netbuf *nb, u64 rx_tsc)
{
	const struct icmp_hdr *h = (const struct icmp_hdr *)nb->data;

	if (ping_complete(ip_src(nb).v4, get_be16(&h->id), get_be16(&h->seq), 0, rx_tsc))
		STAT_INC(replies_matched);
}

static icmp_error_fn err_handlers[256];    /* [I] by quoted IP protocol */

int icmp_register_error_handler(u8 ip_proto, icmp_error_fn fn)
{
	icmp_error_fn none = NULL;

	if (!fn || ip_proto == IP_PROTO_ICMP)
		return -EINVAL;
	if (!__atomic_compare_exchange_n(&err_handlers[ip_proto], &none, fn, false,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return -EEXIST;
	return 0;
}

/*
 * The packet error @nb (data at the ICMP header) quotes, into @e: false
 * unless the quote is whole (see the top of the file).  *@proto is the
 * quoted IP protocol.
 */
static bool quote_parse(const struct netbuf *nb, struct icmp_error *e, u8 *proto)
{
	const struct icmp_hdr *h = (const struct icmp_hdr *)nb->data;
	const struct ip_hdr *q = (const struct ip_hdr *)(nb->data + ICMP_HLEN);
	u32 qlen;

	if (nb->len < ICMP_HLEN + IP_HLEN + ICMP_QUOTE_L4 || q->ver_ihl >> 4 != 4)
		return false;
	qlen = (q->ver_ihl & 0xf) * 4u;
	if (qlen < IP_HLEN || nb->len < ICMP_HLEN + qlen + ICMP_QUOTE_L4)
		return false;
	if (get_be16(&q->total_len) < qlen + ICMP_QUOTE_L4 || (get_be16(&q->frag) & 0x1fff))
		return false;
	e->type = h->type;
	e->code = h->code;
	e->src = ip_v4(get_be32(&q->src));
	e->dst = ip_v4(get_be32(&q->dst));
	e->l4 = (const u8 *)q + qlen;
	*proto = q->proto;
	return true;
}

/* An unreachable quoting one of our echo requests completes its ping. */
static void icmp_unreach_ping(const struct icmp_error *e, u64 rx_tsc)
{
	const struct icmp_hdr *qh = (const struct icmp_hdr *)e->l4;

	if (e->type != ICMP_DEST_UNREACH || qh->type != ICMP_ECHO_REQUEST)
		return;
	ping_complete(e->dst.v4, get_be16(&qh->id), get_be16(&qh->seq),
		      e->code == ICMP_UNREACH_NET ? -ENETUNREACH : -EHOSTUNREACH, rx_tsc);
}

/* Destination unreachable or time exceeded: to the ping or the transport it is about. */
static void icmp_error_in(const struct netbuf *nb, u64 rx_tsc)
{
	struct icmp_error e;
	icmp_error_fn fn;
	u8 proto;

	if (!quote_parse(nb, &e, &proto))
		return;
	if (proto == IP_PROTO_ICMP) {
		icmp_unreach_ping(&e, rx_tsc);
		return;
	}
	fn = __atomic_load_n(&err_handlers[proto], __ATOMIC_ACQUIRE);
	if (fn)
		fn(&e);
}

static void icmp_input(struct netbuf *nb)
{
	const struct icmp_hdr *h = (const struct icmp_hdr *)nb->data;
	u64 rx_tsc = nb->tsc ? nb->tsc : rdtsc();

	if (nb->len < ICMP_HLEN || inet_csum(nb->data, nb->len) != 0) {
		STAT_INC(rx_errors);
		netdev_count_error(nb->dev, NP_ICMP);
		nb_put(nb);
		return;
	}
	netdev_count_rx(nb->dev, NP_ICMP, nb->len);
	count_type(icmp.st.rx, h->type);
	switch (h->type) {
	case ICMP_ECHO_REQUEST:
		icmp_echo_reply(nb);
		return;
	case ICMP_ECHO_REPLY:
		icmp_echo_answer(nb, rx_tsc);
		break;
	case ICMP_DEST_UNREACH:
	case ICMP_TIME_EXCEEDED:
		icmp_error_in(nb, rx_tsc);
		break;
	}
	nb_put(nb);
}

/* ------------------------------------------------------------ errors */

/* Is ICMP @type an error message (never to be answered with another)? */
static bool icmp_is_error(u8 type)
{
	return type == ICMP_DEST_UNREACH || type == 4 || type == 5 || type == ICMP_TIME_EXCEEDED ||
	       type == 12 || type >= ICMP_TYPES;
}

/* May we complain to the sender of @orig (RFC 1122 3.2.2)? */
static bool icmp_may_complain(const struct netbuf *orig, const u8 *end)
{
	const struct ip_hdr *ih = ip_hdr(orig);
	u32 hlen = (ih->ver_ihl & 0xf) * 4u, src = get_be32(&ih->src);
	const u8 *l4 = (const u8 *)ih + hlen;
	struct netdev_ipv4 cfg;

	if (hlen < IP_HLEN || l4 > end || (get_be16(&ih->frag) & 0x1fff))
		return false;
	if (!src || src == IP_BROADCAST || ip_v4_is_multi(src) || ip_v4_is_loopback(src))
		return false;
	netdev_get_ipv4(orig->dev, &cfg);
	if (!ip_is_v4(&cfg.addr) || get_be32(&ih->dst) != cfg.addr.v4 || (orig->flags & NB_F_BCAST))
		return false;
	if (cfg.prefix <= 30 && src == (cfg.addr.v4 | ~ip_v4_mask(cfg.prefix)))
		return false;
	return ih->proto != IP_PROTO_ICMP || (l4 < end && !icmp_is_error(l4[0]));
}

/* One more error this second, or false when the budget is spent. */
static bool icmp_rate_ok(void)
{
	u64 flags = spin_lock_irqsave(&icmp.lock);
	u64 now = time_ns();
	bool ok;

	if (now - icmp.err_window >= NS_PER_S) {
		icmp.err_window = now;
		icmp.err_count = 0;
	}
	ok = icmp.err_count < ICMP_ERR_RATE;
	if (ok)
		icmp.err_count++;
	spin_unlock_irqrestore(&icmp.lock, flags);
	return ok;
}

void icmp_send_unreach(const struct netbuf *orig, u8 code)
{
	const struct ip_hdr *ih = ip_hdr(orig);
	const u8 *end = orig->data + orig->len;
	struct ip_addr from = ip_dst(orig), to = ip_src(orig);
	struct icmp_hdr *h;
	struct netbuf *nb;
	u32 quote;

	if (!icmp_may_complain(orig, end))
		return;
	if (!icmp_rate_ok()) {
		STAT_INC(rate_limited);
		return;
	}
	quote = (u32)MIN((size_t)(end - (const u8 *)ih), (size_t)((ih->ver_ihl & 0xf) * 4u + 8));
	nb = nb_alloc_tx();
	h = nb ? nb_append(nb, ICMP_HLEN + quote) : NULL;
	if (!h) {
		nb_put(nb);
		return;
	}
	memset(h, 0, ICMP_HLEN);
	h->type = ICMP_DEST_UNREACH;
	h->code = code;
	memcpy((u8 *)h + ICMP_HLEN, ih, quote);
	icmp_send(orig->dev, &from, &to, nb);
}

/* ------------------------------------------------------------- ping */

static struct ping_slot *ping_claim(u16 id, u16 seq, u32 dst)
{
	u64 flags = spin_lock_irqsave(&icmp.lock);
	struct ping_slot *s = NULL;

	for (unsigned i = 0; i < ICMP_PINGS_MAX && !s; i++)
		if (!icmp.slot[i].used)
			s = &icmp.slot[i];
	if (s)
		*s = (struct ping_slot){ .used = true, .id = id, .seq = seq, .dst = dst,
					 .sent_tsc = rdtsc() };
	spin_unlock_irqrestore(&icmp.lock, flags);
	return s;
}

/* Free @s; its result if it is done (0 with *@rtt_ns), else @rc. */
static int ping_release(struct ping_slot *s, int rc, u64 *rtt_ns)
{
	u64 flags = spin_lock_irqsave(&icmp.lock);

	if (s->done) {
		rc = s->status;
		if (!rc)
			*rtt_ns = s->rtt_ns;
	}
	s->used = false;
	spin_unlock_irqrestore(&icmp.lock, flags);
	return rc;
}

static bool ping_done(void *arg)
{
	return __atomic_load_n(&((struct ping_slot *)arg)->done, __ATOMIC_ACQUIRE);
}

/* An echo request of @len payload bytes (a pattern), or NULL. */
static struct netbuf *echo_build(u16 id, u16 seq, u32 len)
{
	struct netbuf *nb = nb_alloc_tx();
	struct icmp_hdr *h = nb ? nb_append(nb, ICMP_HLEN + len) : NULL;
	u8 *p;

	if (!h) {
		nb_put(nb);
		return NULL;
	}
	h->type = ICMP_ECHO_REQUEST;
	h->code = 0;
	put_be16(&h->id, id);
	put_be16(&h->seq, seq);
	p = (u8 *)(h + 1);
	for (u32 i = 0; i < len; i++)
		p[i] = (u8)(0x10 + i);
	return nb;
}

int icmp_ping(const struct ip_addr *dst, u16 id, u16 seq, u32 len, u64 timeout_ns, u64 *rtt_ns)
{
	u64 deadline = time_ns() + timeout_ns, now;
	struct ping_slot *s;
	struct ip_route rt;
	struct mac_addr mac;
	struct netbuf *nb;
	int rc = ip_route(dst, &rt);

	if (rc)
		return rc;
	if (len + IP_HLEN + ICMP_HLEN > rt.dev->mtu)
		return -EMSGSIZE;
	if (!rt.broadcast && !rt.local && (rc = arp_resolve_wait(rt.dev, &rt.nexthop, &mac, timeout_ns)))
		return rc;
	if (!(nb = echo_build(id, seq, len)))
		return -ENOBUFS;
	if (!(s = ping_claim(id, seq, dst->v4))) {
		nb_put(nb);
		return -EBUSY;
	}
	rc = icmp_send(rt.dev, NULL, dst, nb);
	if (!rc) {
		now = time_ns();
		rc = now >= deadline && timeout_ns ? -ETIMEDOUT
			: waitq_wait_interruptible(&icmp.wait, ping_done, s,
						   timeout_ns ? deadline - now : 0);
	}
	return ping_release(s, rc, rtt_ns);
}

void icmp_init(void)
{
	waitq_init(&icmp.wait);
	ip_register_proto(IP_PROTO_ICMP, icmp_input);
}
