/*
 * udp.c — the bind table, datagram input and output (see udp.h for the
 * interface, ownership and contexts).
 *
 * The table is a small hash of bound sockets by port under one spinlock.
 * Input looks the port up and takes a reference on the socket under the
 * lock, lets go, and only then delivers — to the handler, or onto the
 * socket's queue under the socket's own lock — so a slow handler never
 * holds up a bind elsewhere and a handler may itself bind, close or send.
 * The reference keeps the socket's memory alive while a delivery is in
 * flight; udp_close() unhashes the socket first (no new delivery can find
 * it), marks it closed (a delivery already past the lookup drops its
 * datagram) and drops the owner's reference.
 *
 * A socket's refs: one for its owner until udp_close(), one per delivery
 * in flight.  The last reference frees it.
 */
#include "net/udp.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/net_priv.h"
#include "errno.h"
#include "kernel/random.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/waitq.h"
#include "lib/byteorder.h"
#include "lib/list.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define UDP_HASH 64

/*
 * Legend: [I] set before the socket is in the table; [t] the table lock;
 * [s] the socket's lock; [a] atomic.
 */
struct udp_sock {
	struct list_head link;      /* [t] hash chain */
	u16 port;                   /* [I] */
	udp_recv_fn fn;             /* [I] NULL: queue form */
	void *arg;                  /* [I] */
	unsigned qmax;              /* [I] */
	u32 refs;                   /* [a] */
	spinlock_t lock;
	bool closed;                /* [s] */
	struct list_head queue;     /* [s] netbufs waiting for udp_recv */
	unsigned qlen;              /* [s] */
	struct waitq wait;          /* readers */
	u64 rx, rx_bytes, drops;    /* [a] */
};

/* Legend: [t] table lock; [a] atomic. */
static struct {
	spinlock_t lock;
	struct list_head hash[UDP_HASH];    /* [t] */
	unsigned nsocks;                    /* [t] */
	bool ready;
	struct udp_stats st;                /* [a] (sockets: [t]) */
} udp = { .lock = SPINLOCK_INIT("udp table") };

#define STAT_INC(field) __atomic_fetch_add(&udp.st.field, 1, __ATOMIC_RELAXED)

/* ------------------------------------------------------------ sockets */

static void sock_get(struct udp_sock *s)
{
	__atomic_fetch_add(&s->refs, 1, __ATOMIC_RELAXED);
}

static void sock_put(struct udp_sock *s)
{
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		kfree(s);
}

static struct list_head *bucket(u16 port)
{
	return &udp.hash[port % UDP_HASH];
}

/* The socket on @port, or NULL.  Table lock held. */
static struct udp_sock *lookup_locked(u16 port)
{
	struct udp_sock *s;

	list_for_each_entry(s, bucket(port), link)
		if (s->port == port)
			return s;
	return NULL;
}

/* A free ephemeral port, searched from a random point: 0 or -EADDRNOTAVAIL.  Table lock held. */
static int ephemeral_locked(u16 *port)
{
	const u32 span = UDP_EPHEMERAL_MAX - UDP_EPHEMERAL_MIN + 1;
	u32 start;

	random_bytes(&start, sizeof(start));
	for (u32 i = 0; i < span; i++) {
		u16 p = (u16)(UDP_EPHEMERAL_MIN + (start + i) % span);

		if (!lookup_locked(p)) {
			*port = p;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

static void table_init_once(void)
{
	if (__atomic_load_n(&udp.ready, __ATOMIC_ACQUIRE))
		return;
	spin_lock(&udp.lock);
	if (!udp.ready) {
		for (unsigned i = 0; i < UDP_HASH; i++)
			list_init(&udp.hash[i]);
		__atomic_store_n(&udp.ready, true, __ATOMIC_RELEASE);
	}
	spin_unlock(&udp.lock);
}

/* Put @s (fields [I] filled) in the table on @port (0: ephemeral). */
static int table_insert(struct udp_sock *s, u16 port)
{
	int rc = 0;

	table_init_once();
	spin_lock(&udp.lock);
	if (!port)
		rc = ephemeral_locked(&port);
	else if (lookup_locked(port))
		rc = -EADDRINUSE;
	if (!rc) {
		s->port = port;
		list_add_tail(&s->link, bucket(port));
		udp.nsocks++;
	}
	spin_unlock(&udp.lock);
	return rc;
}

static int sock_new(u16 port, udp_recv_fn fn, void *arg, unsigned qmax, struct udp_sock **out)
{
	struct udp_sock *s = kzalloc(sizeof(*s));
	int rc;

	if (!s)
		return -ENOMEM;
	s->fn = fn;
	s->arg = arg;
	s->qmax = qmax;
	s->refs = 1;
	spin_lock_init(&s->lock, "udp sock");
	list_init(&s->queue);
	waitq_init(&s->wait);
	rc = table_insert(s, port);
	if (rc) {
		kfree(s);
		return rc;
	}
	*out = s;
	return 0;
}

int udp_bind(u16 port, udp_recv_fn fn, void *arg, struct udp_sock **out)
{
	if (!fn)
		return -EINVAL;
	return sock_new(port, fn, arg, 0, out);
}

int udp_open(u16 port, unsigned qlen, struct udp_sock **out)
{
	qlen = qlen ? MIN(qlen, (unsigned)UDP_QLEN_MAX) : UDP_QLEN_DEFAULT;
	return sock_new(port, NULL, NULL, qlen, out);
}

u16 udp_port(const struct udp_sock *s)
{
	return s->port;
}

/* Move every queued netbuf of @s onto @out; socket lock held. */
static void queue_take_all(struct udp_sock *s, struct list_head *out)
{
	while (!list_empty(&s->queue)) {
		struct netbuf *nb = list_first_entry(&s->queue, struct netbuf, link);

		list_del_init(&nb->link);
		list_add_tail(&nb->link, out);
	}
	s->qlen = 0;
}

static void put_all(struct list_head *l)
{
	while (!list_empty(l)) {
		struct netbuf *nb = list_first_entry(l, struct netbuf, link);

		list_del_init(&nb->link);
		nb_put(nb);
	}
}

void udp_close(struct udp_sock *s)
{
	struct list_head dead;

	if (!s)
		return;
	list_init(&dead);
	spin_lock(&udp.lock);
	list_del_init(&s->link);
	udp.nsocks--;
	spin_unlock(&udp.lock);
	spin_lock(&s->lock);
	s->closed = true;
	queue_take_all(s, &dead);
	spin_unlock(&s->lock);
	put_all(&dead);
	sock_put(s);
}

/* ------------------------------------------------------------ receive */

struct recv_wait {
	struct udp_sock *s;
};

static bool recv_ready(void *arg)
{
	struct udp_sock *s = ((struct recv_wait *)arg)->s;

	return __atomic_load_n(&s->qlen, __ATOMIC_ACQUIRE) != 0;
}

/* The first queued datagram, or NULL. */
static struct netbuf *queue_pop(struct udp_sock *s)
{
	struct netbuf *nb = NULL;

	spin_lock(&s->lock);
	if (!list_empty(&s->queue)) {
		nb = list_first_entry(&s->queue, struct netbuf, link);
		list_del_init(&nb->link);
		__atomic_store_n(&s->qlen, s->qlen - 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&s->lock);
	return nb;
}

int udp_recv(struct udp_sock *s, struct netbuf **nb, struct udp_meta *from, u64 timeout_ns)
{
	struct recv_wait w = { s };
	u64 deadline = timeout_ns ? time_ns() + timeout_ns : 0;
	struct netbuf *got;

	if (s->fn)
		return -EINVAL;
	while (!(got = queue_pop(s))) {
		u64 now = time_ns(), left = 0;
		int rc;

		if (deadline) {
			if (now >= deadline)
				return -ETIMEDOUT;
			left = deadline - now;
		}
		rc = waitq_wait_interruptible(&s->wait, recv_ready, &w, left);
		if (rc)
			return rc;
	}
	if (from)
		udp_meta_of(got, from);
	*nb = got;
	return 0;
}

/* Queue @nb on @s: false (nothing taken) when full or closing. */
static bool queue_push(struct udp_sock *s, struct netbuf *nb)
{
	bool ok;

	spin_lock(&s->lock);
	ok = !s->closed && s->qlen < s->qmax;
	if (ok) {
		list_add_tail(&nb->link, &s->queue);
		__atomic_store_n(&s->qlen, s->qlen + 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&s->lock);
	return ok;
}

static void deliver(struct udp_sock *s, struct netbuf *nb, const struct udp_meta *m)
{
	u32 len = nb->len;

	if (s->fn) {
		__atomic_fetch_add(&s->rx, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&s->rx_bytes, len, __ATOMIC_RELAXED);
		s->fn(s->arg, nb, m);
		return;
	}
	if (!queue_push(s, nb)) {
		__atomic_fetch_add(&s->drops, 1, __ATOMIC_RELAXED);
		STAT_INC(queue_full);
		netdev_count_drop(m->dev, NP_UDP);
		nb_put(nb);
		return;
	}
	__atomic_fetch_add(&s->rx, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&s->rx_bytes, len, __ATOMIC_RELAXED);
	waitq_wake_all(&s->wait);
}

void udp_meta_of(const struct netbuf *nb, struct udp_meta *out)
{
	const struct udp_hdr *uh = (const struct udp_hdr *)(nb->data - UDP_HLEN);

	out->dev = nb->dev;
	out->src = ip_src(nb);
	out->dst = ip_dst(nb);
	out->sport = get_be16(&uh->sport);
	out->dport = get_be16(&uh->dport);
}

/* Is the checksum of the @len-byte datagram at nb->data right (or absent)? */
static bool csum_ok(const struct netbuf *nb, u16 len)
{
	const struct udp_hdr *uh = (const struct udp_hdr *)nb->data;
	struct ip_addr src = ip_src(nb), dst = ip_dst(nb);
	u32 sum;

	if (!uh->csum || (nb->flags & NB_F_CSUM_OK))
		return true;
	sum = ip_pseudo_sum(&src, &dst, IP_PROTO_UDP, len);
	return inet_csum_fold(inet_csum_add(sum, nb->data, len)) == 0;
}

/* A malformed datagram: counted and freed. */
static void input_bad(struct netbuf *nb, bool csum)
{
	if (csum)
		STAT_INC(bad_csum);
	else
		STAT_INC(bad_len);
	netdev_count_error(nb->dev, NP_UDP);
	nb_put(nb);
}

/* Nobody listens on the port: tell the sender (icmp.c spares broadcasts). */
static void input_no_port(struct netbuf *nb)
{
	STAT_INC(no_port);
	netdev_count_drop(nb->dev, NP_UDP);
	icmp_send_unreach(nb, ICMP_UNREACH_PORT);
	nb_put(nb);
}

static struct udp_sock *lookup_get(u16 port)
{
	struct udp_sock *s;

	if (!__atomic_load_n(&udp.ready, __ATOMIC_ACQUIRE))
		return NULL;
	spin_lock(&udp.lock);
	s = lookup_locked(port);
	if (s)
		sock_get(s);
	spin_unlock(&udp.lock);
	return s;
}

/* From IP (SoftIrq): data at the UDP header; takes ownership. */
static void udp_input(struct netbuf *nb)
{
	const struct udp_hdr *uh = (const struct udp_hdr *)nb->data;
	struct udp_meta m;
	struct udp_sock *s;
	u16 len;

	if (nb->len < UDP_HLEN)
		return input_bad(nb, false);
	len = get_be16(&uh->len);
	if (len < UDP_HLEN || len > nb->len)
		return input_bad(nb, false);
	nb_trim(nb, len);
	if (!csum_ok(nb, len))
		return input_bad(nb, true);
	STAT_INC(rx);
	netdev_count_rx(nb->dev, NP_UDP, len);
	s = lookup_get(get_be16(&uh->dport));
	if (!s)
		return input_no_port(nb);
	nb_pull(nb, UDP_HLEN);
	udp_meta_of(nb, &m);
	deliver(s, nb, &m);
	sock_put(s);
}

/* ------------------------------------------------------------- output */

/* Prepend the header to @nb (owned, unshared) and fill the checksum: 0 or -EMSGSIZE. */
static int push_header(struct netbuf *nb, const struct ip_addr *src, u16 sport,
		       const struct ip_addr *dst, u16 dport)
{
	u32 len = nb->len + UDP_HLEN;
	struct udp_hdr *uh;
	u16 csum;

	if (len > 0xffff)
		return -EMSGSIZE;
	uh = nb_push(nb, UDP_HLEN);
	if (!uh)
		return -EMSGSIZE;
	put_be16(&uh->sport, sport);
	put_be16(&uh->dport, dport);
	put_be16(&uh->len, (u16)len);
	uh->csum = 0;
	csum = inet_csum_fold(inet_csum_add(ip_pseudo_sum(src, dst, IP_PROTO_UDP, (u16)len), uh,
					    len));
	put_be16(&uh->csum, csum ? csum : 0xffff);
	return 0;
}

int udp_output(struct netdev *dev, const struct ip_addr *src, u16 sport, const struct ip_addr *dst,
	       u16 dport, struct netbuf *nb)
{
	struct ip_route rt;
	struct ip_addr from;
	u32 len = 0;
	int rc;

	rc = dev ? ip_route_dev(dev, dst, &rt) : ip_route(dst, &rt);
	if (!rc) {
		from = src ? *src : rt.src;
		nb = nb_unshare(nb);
		rc = nb ? push_header(nb, &from, sport, dst, dport) : -ENOBUFS;
		len = nb ? nb->len : 0;
	}
	if (rc) {
		nb_put(nb);
		return rc;
	}
	rc = ip_output(dev, &from, dst, IP_PROTO_UDP, nb);
	if (!rc) {
		STAT_INC(tx);
		netdev_count_tx(rt.dev, NP_UDP, len);
	}
	return rc;
}

int udp_sendto(struct udp_sock *s, const struct ip_addr *dst, u16 port, struct netbuf *nb)
{
	return udp_output(NULL, NULL, s->port, dst, port, nb);
}

int udp_sendto_bytes(struct udp_sock *s, const struct ip_addr *dst, u16 port, const void *buf,
		     size_t len)
{
	struct netbuf *nb;

	if (len > UDP_PAYLOAD_MAX)
		return -EMSGSIZE;
	nb = nb_alloc_tx();
	if (!nb)
		return -ENOBUFS;
	if (nb_append_bytes(nb, buf, (u32)len)) {
		nb_put(nb);
		return -EMSGSIZE;
	}
	return udp_sendto(s, dst, port, nb);
}

/* -------------------------------------------------------------- stats */

void udp_sock_get_stats(struct udp_sock *s, struct udp_sock_stats *out)
{
	out->rx = __atomic_load_n(&s->rx, __ATOMIC_RELAXED);
	out->rx_bytes = __atomic_load_n(&s->rx_bytes, __ATOMIC_RELAXED);
	out->drops = __atomic_load_n(&s->drops, __ATOMIC_RELAXED);
	out->queued = __atomic_load_n(&s->qlen, __ATOMIC_RELAXED);
}

void udp_get_stats(struct udp_stats *out)
{
	out->rx = __atomic_load_n(&udp.st.rx, __ATOMIC_RELAXED);
	out->tx = __atomic_load_n(&udp.st.tx, __ATOMIC_RELAXED);
	out->bad_len = __atomic_load_n(&udp.st.bad_len, __ATOMIC_RELAXED);
	out->bad_csum = __atomic_load_n(&udp.st.bad_csum, __ATOMIC_RELAXED);
	out->no_port = __atomic_load_n(&udp.st.no_port, __ATOMIC_RELAXED);
	out->queue_full = __atomic_load_n(&udp.st.queue_full, __ATOMIC_RELAXED);
	out->sockets = __atomic_load_n(&udp.nsocks, __ATOMIC_RELAXED);
}

void udp_init(void)
{
	static bool registered;

	table_init_once();
	if (!registered && !ip_register_proto(IP_PROTO_UDP, udp_input))
		registered = true;
}
