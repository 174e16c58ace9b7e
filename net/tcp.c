/*
 * tcp.c — the connection table, lifetimes, opening connections (connect,
 * listen, accept) and status (see tcp.h for the interface, tcp_priv.h for
 * the pieces and the lock order; the calls on an open connection are in
 * tcp_api.c).
 *
 * The table.  Connections are hashed by their 4-tuple for input's demux;
 * listeners by port.  A connection is in the table from its first segment
 * (our SYN, or the SYN that made it) until it dies, and the table holds a
 * reference on it meanwhile.  Every hashed connection is also on one list
 * in creation order, which the tick and tcp_for_each walk.
 *
 * Ephemeral ports (RFC 6056 algorithm 1): a bitmap of the local ports our
 * active opens hold; a new one is searched from a random point, skipping
 * ports in the bitmap or listened on.  A port is never shared between two
 * of our active connections, whatever the destination, so a bound on
 * ports is a bound on connections (and TIME_WAIT is bounded too).
 *
 * ISNs (RFC 6528): the first 32 bits of HMAC-SHA256 under a boot secret
 * of the 4-tuple, plus a clock ticking every 4 us.  The secret is drawn
 * from random_bytes() on first use (net_init runs before the generator is
 * seeded).
 *
 * Lifetime: see struct tcp_conn.  tcp_conn_drop() takes a connection out
 * of the table and off its listener; the owner's reference and those of
 * passes in flight keep its memory until they are put.  The rings are
 * freed with the memory, or earlier once nobody can read them (an
 * orphaned connection entering TIME_WAIT).
 *
 * Waiting: the owner's calls sleep on the connection's waitq with a
 * condition that reads [a] fields and the rings' counters without the
 * lock.  Input wakes a waiting reader when data comes, a waiting writer
 * when the free space it asked for is there, and everyone on a state
 * change or an error.
 */
#include "net/tcp_priv.h"
#include "net/icmp.h"
#include "net/net_priv.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/random.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "lib/byteorder.h"
#include "lib/hmac.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

struct tcp_stats tcp_st;

/* Legend: [t] table lock; [a] atomic. */
static struct {
	spinlock_t lock;
	struct list_head hash[TCP_HASH];        /* [t] conns by 4-tuple */
	struct list_head lhash[TCP_LHASH];      /* [t] listeners by port */
	struct list_head all;                   /* [t] conns, creation order */
	struct list_head listeners;             /* [t] listeners, creation order */
	struct list_head tw;                    /* [t] TIME_WAIT conns, oldest first */
	struct list_head reap;                  /* [t] conns to drop with no lock held */
	u64 eph_map[65536 / 64];                /* [t] local ports of our active opens */
	u16 eph_lo, eph_hi;                     /* [t] the ephemeral range */
	u64 next_id;                            /* [t] */
	u8 secret[32];                          /* [t] until secret_ready */
	bool secret_ready;                      /* [t] */
	bool ready;
} tab = {
	.lock = SPINLOCK_INIT_RANKED("tcp table", LOCK_RANK_TCP_TABLE),
	.eph_lo = TCP_EPHEMERAL_MIN,
	.eph_hi = TCP_EPHEMERAL_MAX,
};

static const char *const state_names[TCP_STATES] = {
	"CLOSED",      "LISTEN",     "SYN_SENT",   "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2",  "CLOSE_WAIT", "CLOSING",    "LAST_ACK",     "TIME_WAIT",
};

const char *tcp_state_name(enum tcp_state s)
{
	return (unsigned)s < TCP_STATES ? state_names[s] : "?";
}

/* ---------------------------------------------------------- references */

void tcp_conn_get(struct tcp_conn *c)
{
	__atomic_fetch_add(&c->refs, 1, __ATOMIC_RELAXED);
}

static void conn_free(struct tcp_conn *c)
{
	tcp_ooo_purge(c);
	kfree(c->snd_mem);
	kfree(c->rcv_mem);
	kfree(c);
}

void tcp_conn_put(struct tcp_conn *c)
{
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0)
		conn_free(c);
}

static void listener_get(struct tcp_listener *l)
{
	__atomic_fetch_add(&l->refs, 1, __ATOMIC_RELAXED);
}

void tcp_listener_put(struct tcp_listener *l)
{
	if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0)
		kfree(l);
}

/* --------------------------------------------------------------- table */

static u32 hash4(const struct ip_addr *la, u16 lp, const struct ip_addr *ra, u16 rp)
{
	u32 h = ra->v4 * 0x9e3779b1u ^ la->v4 * 0x85ebca6bu ^ ((u32)lp << 16 | rp) * 0xc2b2ae35u;

	return (h ^ h >> 15) % TCP_HASH;
}

static struct list_head *conn_bucket(const struct tcp_conn *c)
{
	return &tab.hash[hash4(&c->laddr, c->lport, &c->raddr, c->rport)];
}

static struct tcp_conn *lookup_locked(const struct ip_addr *la, u16 lp, const struct ip_addr *ra,
				      u16 rp)
{
	struct tcp_conn *c;

	list_for_each_entry(c, &tab.hash[hash4(la, lp, ra, rp)], hlink)
		if (c->lport == lp && c->rport == rp && ip_eq(&c->laddr, la) && ip_eq(&c->raddr, ra))
			return c;
	return NULL;
}

static struct tcp_listener *listener_locked(u16 port)
{
	struct tcp_listener *l;

	list_for_each_entry(l, &tab.lhash[port % TCP_LHASH], link)
		if (l->port == port)
			return l;
	return NULL;
}

struct tcp_conn *tcp_lookup(const struct ip_addr *laddr, u16 lport, const struct ip_addr *raddr,
			    u16 rport)
{
	struct tcp_conn *c;

	if (!__atomic_load_n(&tab.ready, __ATOMIC_ACQUIRE))
		return NULL;
	spin_lock(&tab.lock);
	c = lookup_locked(laddr, lport, raddr, rport);
	if (c)
		tcp_conn_get(c);
	spin_unlock(&tab.lock);
	return c;
}

struct tcp_listener *tcp_listener_lookup(u16 port)
{
	struct tcp_listener *l;

	if (!__atomic_load_n(&tab.ready, __ATOMIC_ACQUIRE))
		return NULL;
	spin_lock(&tab.lock);
	l = listener_locked(port);
	if (l)
		listener_get(l);
	spin_unlock(&tab.lock);
	return l;
}

static bool eph_test(u16 p)
{
	return tab.eph_map[p / 64] & (1ull << (p % 64));
}

static void eph_set(u16 p, bool on)
{
	if (on)
		tab.eph_map[p / 64] |= 1ull << (p % 64);
	else
		tab.eph_map[p / 64] &= ~(1ull << (p % 64));
}

/* A free local port for @c's active open into c->lport: 0 or -EADDRNOTAVAIL.  [t] */
static int ephemeral_locked(struct tcp_conn *c)
{
	u32 span = (u32)tab.eph_hi - tab.eph_lo + 1, start;

	random_bytes(&start, sizeof(start));

	for (u32 i = 0; i < span; i++) {
		u16 p = (u16)(tab.eph_lo + (start + i) % span);

		if (eph_test(p) || listener_locked(p) || lookup_locked(&c->laddr, p, &c->raddr, c->rport))
			continue;
		c->lport = p;
		eph_set(p, true);
		c->eph = true;
		return 0;
	}
	return -EADDRNOTAVAIL;
}

/* Put @c in the table (the table's reference is taken here).  [t] */
static void hash_locked(struct tcp_conn *c)
{
	c->id = ++tab.next_id;
	list_add_tail(&c->hlink, conn_bucket(c));
	list_add_tail(&c->all, &tab.all);
	c->hashed = true;
	tcp_conn_get(c);
	tcp_st.conns++;
}

/* Take @c out of the table; returns whether it was in (the caller puts the table's ref). */
static bool unhash(struct tcp_conn *c)
{
	bool was;

	spin_lock(&tab.lock);
	was = c->hashed;
	if (was) {
		list_del_init(&c->hlink);
		list_del_init(&c->all);
		c->hashed = false;
		tcp_st.conns--;
		if (c->eph)
			eph_set(c->lport, false);
		c->eph = false;
	}
	if (c->in_tw) {
		list_del_init(&c->twlink);
		c->in_tw = false;
		tcp_st.time_wait--;
	}
	spin_unlock(&tab.lock);
	return was;
}

/* ---------------------------------------------------------------- ISNs */

u32 tcp_isn(const struct ip_addr *laddr, u16 lport, const struct ip_addr *raddr, u16 rport)
{
	u8 msg[12], tag[SHA256_DIGEST_SIZE], key[32];
	u32 isn;

	spin_lock(&tab.lock);
	if (!tab.secret_ready) {
		random_bytes(tab.secret, sizeof(tab.secret));
		tab.secret_ready = true;
	}
	memcpy(key, tab.secret, sizeof(key));
	spin_unlock(&tab.lock);
	put_be32(msg, laddr->v4);
	put_be32(msg + 4, raddr->v4);
	put_be16(msg + 8, lport);
	put_be16(msg + 10, rport);
	hmac_sha256(key, sizeof(key), msg, sizeof(msg), tag);
	isn = get_be32(tag) + (u32)(time_ns() / 4000);
	crypto_memzero(key, sizeof(key));
	crypto_memzero(tag, sizeof(tag));
	return isn;
}

/* --------------------------------------------------------- connections */

u8 tcp_wscale_for(u32 bufsize)
{
	u8 s = 0;

	while (s < TCP_WSCALE_MAX && (bufsize >> s) > 0xffff)
		s++;
	return s;
}

/* @v rounded up to a power of two within TCP_BUF_MIN..TCP_BUF_MAX. */
static u32 bufsize_round(u32 v)
{
	u32 p = TCP_BUF_MIN;

	while (p < v && p < TCP_BUF_MAX)
		p <<= 1;
	return p;
}

static struct tcp_conn *conn_new(u32 sndbuf, u32 rcvbuf)
{
	struct tcp_conn *c = kzalloc(sizeof(*c));

	if (!c)
		return NULL;
	list_init(&c->hlink);
	list_init(&c->all);
	list_init(&c->twlink);
	list_init(&c->reaplink);
	list_init(&c->ticklink);
	list_init(&c->wakelink);
	list_init(&c->lnode);
	list_init(&c->ooo);
	spin_lock_init_ranked(&c->lock, "tcp conn", LOCK_RANK_TCP_CONN);
	waitq_init(&c->wait);
	c->refs = 1;
	c->sndbuf = sndbuf;
	c->rcvbuf = rcvbuf;
	c->rcv_wscale = tcp_wscale_for(rcvbuf);
	c->rto_ms = TCP_RTO_INIT_MS;
	c->ssthresh = 0x7fffffff;
	c->mss = TCP_MSS_DEFAULT;
	c->rcv_mss = TCP_MSS_DEFAULT;
	return c;
}

int tcp_conn_alloc_rings(struct tcp_conn *c)
{
	if (!c->snd_mem)
		c->snd_mem = kmalloc(c->sndbuf);
	if (!c->rcv_mem)
		c->rcv_mem = kmalloc(c->rcvbuf);
	if (!c->snd_mem || !c->rcv_mem) {
		kfree(c->snd_mem);
		kfree(c->rcv_mem);
		c->snd_mem = c->rcv_mem = NULL;
		return -ENOMEM;
	}
	ring_init(&c->snd, c->snd_mem, c->sndbuf);
	ring_init(&c->rcv, c->rcv_mem, c->rcvbuf);
	return 0;
}

/* IW per RFC 6928. */
static u32 initial_cwnd(u16 mss)
{
	return MIN(10u * mss, MAX(2u * mss, 14600u));
}

/* Fill @c's numbers for a first SYN sent or received. */
static void conn_start(struct tcp_conn *c)
{
	c->iss = tcp_isn(&c->laddr, c->lport, &c->raddr, c->rport);
	c->snd_una = c->snd_nxt = c->snd_max = c->pushed_seq = c->iss;
	/* The rings' counters are stream offsets: data byte 0 is iss + 1. */
	c->snd.head = c->snd.tail = 0;
	c->rcv.head = c->rcv.tail = 0;
}

/* The device MTU toward @dst, minus the headers, as our MSS. */
static u16 route_mss(const struct ip_route *rt)
{
	u32 mtu = rt->dev ? rt->dev->mtu : 576;

	return (u16)MAX(mtu > 40 ? mtu - 40 : TCP_MSS_MIN, (u32)TCP_MSS_MIN);
}

void tcp_unlock(struct tcp_conn *c)
{
	spin_unlock(&c->lock);
	tcp_timer_sync();
	tcp_reap();
}

/* Take @c (lock held) off its listener's list if it is still on one, and let the listener go. */
static void listener_detach(struct tcp_conn *c)
{
	struct tcp_listener *l = c->listener;
	bool listed = false;

	if (!l)
		return;
	spin_lock(&l->lock);
	if (!l->closed && !list_empty(&c->lnode)) {
		list_del_init(&c->lnode);
		if (c->on_ready)
			__atomic_store_n(&l->nready, l->nready - 1, __ATOMIC_RELEASE);
		else
			l->nhalf--;
		listed = true;
	}
	spin_unlock(&l->lock);
	c->listener = NULL;
	if (listed)
		tcp_conn_put(c); /* the list's; the caller still holds one */
	tcp_listener_put(l); /* the child's */
}

void tcp_conn_drop(struct tcp_conn *c, int err)
{
	if (err == -ETIMEDOUT && c->soft_error)
		err = c->soft_error; /* RFC 1122 4.2.3.9: the likely cause, as Linux's sk_err_soft */
	if (err && !c->error && c->state != TCP_CLOSED) {
		__atomic_store_n(&c->error, err, __ATOMIC_RELEASE);
		TCP_STAT_INC(conn_failed);
	}
	__atomic_store_n(&c->state, TCP_CLOSED, __ATOMIC_RELEASE);
	c->rexmt_at = c->delack_at = c->tw_at = 0;
	c->persist = false;
	tcp_timer_update(c);
	tcp_ooo_purge(c);
	listener_detach(c);
	waitq_wake_all(&c->wait);
	if (unhash(c))
		tcp_conn_put(c); /* the table's; the caller still holds one */
}

void tcp_conn_free_rings(struct tcp_conn *c)
{
	if (!c->orphan)
		return;
	kfree(c->snd_mem);
	kfree(c->rcv_mem);
	c->snd_mem = c->rcv_mem = NULL;
}

void tcp_enter_time_wait(struct tcp_conn *c)
{
	struct tcp_conn *victim = NULL;

	__atomic_store_n(&c->state, TCP_TIME_WAIT, __ATOMIC_RELEASE);
	c->rexmt_at = c->delack_at = 0;
	c->persist = false;
	c->tw_at = time_ns() + 2 * (u64)TCP_MSL_MS * NS_PER_MS;
	tcp_timer_update(c);
	tcp_ooo_purge(c);
	tcp_conn_free_rings(c);
	spin_lock(&tab.lock);
	if (c->hashed && !c->in_tw) {
		list_add_tail(&c->twlink, &tab.tw);
		c->in_tw = true;
		tcp_st.time_wait++;
		if (tcp_st.time_wait > TCP_TIME_WAIT_MAX) {
			victim = list_first_entry(&tab.tw, struct tcp_conn, twlink);
			list_del_init(&victim->twlink);
			victim->in_tw = false;
			tcp_st.time_wait--;
			if (!victim->reaping) {
				victim->reaping = true;
				tcp_conn_get(victim);
				list_add_tail(&victim->reaplink, &tab.reap);
			}
		}
	}
	spin_unlock(&tab.lock);
	waitq_wake_all(&c->wait);
}

void tcp_reap(void)
{
	for (;;) {
		struct tcp_conn *c = NULL;

		if (list_empty(&tab.reap)) /* racy peek; the lock decides */
			return;
		spin_lock(&tab.lock);
		if (!list_empty(&tab.reap)) {
			c = list_first_entry(&tab.reap, struct tcp_conn, reaplink);
			list_del_init(&c->reaplink);
			c->reaping = false;
		}
		spin_unlock(&tab.lock);
		if (!c)
			return;
		spin_lock(&c->lock);
		if (c->state == TCP_TIME_WAIT)
			tcp_conn_drop(c, 0);
		spin_unlock(&c->lock);
		tcp_timer_sync();
		tcp_conn_put(c);
	}
}

void tcp_collect_due(u64 now, struct list_head *out)
{
	struct tcp_conn *c;

	spin_lock(&tab.lock);
	list_for_each_entry(c, &tab.all, all) {
		u64 d = __atomic_load_n(&c->deadline, __ATOMIC_ACQUIRE);

		if (d && d <= now && list_empty(&c->ticklink)) {
			tcp_conn_get(c);
			list_add_tail(&c->ticklink, out);
		}
	}
	spin_unlock(&tab.lock);
}

/* ------------------------------------------------------------- waiting */

u64 tcp_deadline(u64 timeout_ns)
{
	return timeout_ns ? time_ns() + timeout_ns : 0;
}

int tcp_wait(struct waitq *wq, waitq_cond_fn cond, void *arg, u64 deadline)
{
	u64 left = 0, now;

	if (cond(arg))
		return 0;
	if (deadline) {
		now = time_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		left = deadline - now;
	}
	return waitq_wait_interruptible(wq, cond, arg, left);
}

static bool connect_done(void *arg)
{
	struct tcp_conn *c = arg;

	return tcp_state_of(c) != TCP_SYN_SENT && tcp_state_of(c) != TCP_SYN_RECEIVED;
}

/* ------------------------------------------------------------- connect */

static int connect_prepare(const struct ip_addr *dst, u16 port, struct tcp_conn **out)
{
	struct ip_route rt;
	struct tcp_conn *c;
	int rc;

	if (!dst || !ip_is_v4(dst) || !port || dst->v4 == 0 || dst->v4 == IP_BROADCAST ||
	    ip_v4_is_multi(dst->v4) || ip_v4_is_loopback(dst->v4))
		return -EINVAL;
	rc = ip_route(dst, &rt);
	if (rc)
		return rc;
	if (rt.broadcast)
		return -EINVAL;
	if (!rt.src.v4)
		return -ENETUNREACH;
	c = conn_new(TCP_BUF_DEFAULT, TCP_BUF_DEFAULT);
	if (!c)
		return -ENOMEM;
	if (tcp_conn_alloc_rings(c)) {
		conn_free(c);
		return -ENOMEM;
	}
	c->laddr = rt.src;
	c->raddr = *dst;
	c->rport = port;
	c->our_mss = route_mss(&rt);
	c->owned = true;
	*out = c;
	return 0;
}

int tcp_connect(const struct ip_addr *dst, u16 port, u64 timeout_ns, struct tcp_conn **out)
{
	u64 deadline = tcp_deadline(timeout_ns);
	struct tcp_conn *c;
	int rc;

	rc = connect_prepare(dst, port, &c);
	if (rc)
		return rc;
	spin_lock(&c->lock);
	spin_lock(&tab.lock);
	rc = ephemeral_locked(c);
	if (!rc)
		hash_locked(c);
	spin_unlock(&tab.lock);
	if (rc) {
		spin_unlock(&c->lock);
		conn_free(c);
		return rc;
	}
	conn_start(c);
	__atomic_store_n(&c->state, TCP_SYN_SENT, __ATOMIC_RELEASE);
	TCP_STAT_INC(active_opens);
	rc = tcp_send_syn(c);
	if (rc == -ENETUNREACH || rc == -EHOSTUNREACH || rc == -EADDRNOTAVAIL)
		tcp_conn_drop(c, rc);
	tcp_timer_rexmt_start(c);
	tcp_unlock(c);
	rc = tcp_wait(&c->wait, connect_done, c, deadline);
	if (!rc && tcp_state_of(c) == TCP_CLOSED)
		rc = tcp_error_of(c) ? tcp_error_of(c) : -ECONNABORTED;
	if (rc) {
		spin_lock(&c->lock);
		c->owned = false;
		c->orphan = true;
		tcp_conn_drop(c, rc);
		rc = tcp_error_of(c) ? tcp_error_of(c) : rc;
		tcp_unlock(c);
		tcp_conn_put(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ------------------------------------------------------------ listeners */

int tcp_listen(u16 port, unsigned backlog, struct tcp_listener **out)
{
	struct tcp_listener *l;
	int rc = 0;

	if (!port || backlog < 1 || backlog > TCP_BACKLOG_MAX || !out)
		return -EINVAL;
	l = kzalloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->port = port;
	l->backlog = backlog;
	l->refs = 1;
	l->sndbuf = l->rcvbuf = TCP_BUF_DEFAULT;
	spin_lock_init_ranked(&l->lock, "tcp listener", LOCK_RANK_TCP_LISTENER);
	list_init(&l->half);
	list_init(&l->ready);
	waitq_init(&l->wait);
	spin_lock(&tab.lock);
	if (listener_locked(port)) {
		rc = -EADDRINUSE;
	} else {
		l->id = ++tab.next_id;
		list_add_tail(&l->link, &tab.lhash[port % TCP_LHASH]);
		list_add_tail(&l->all, &tab.listeners);
		listener_get(l); /* the table's */
		tcp_st.listeners++;
	}
	spin_unlock(&tab.lock);
	if (rc) {
		kfree(l);
		return rc;
	}
	*out = l;
	return 0;
}

u16 tcp_listener_port(const struct tcp_listener *l)
{
	return l->port;
}

int tcp_listener_set_bufsize(struct tcp_listener *l, u32 sndbuf, u32 rcvbuf)
{
	if (!l)
		return -EINVAL;
	spin_lock(&l->lock);
	l->sndbuf = bufsize_round(sndbuf);
	l->rcvbuf = bufsize_round(rcvbuf);
	spin_unlock(&l->lock);
	return 0;
}

int tcp_passive_open(struct tcp_listener *l, const struct netbuf *nb, const struct tcp_seg *s)
{
	const struct tcp_hdr *th = (const struct tcp_hdr *)nb->data;
	struct ip_route rt;
	struct tcp_conn *c;
	bool ok;
	int rc = 0;

	spin_lock(&l->lock);
	ok = !l->closed && l->nhalf + l->nready < l->backlog;
	c = ok ? conn_new(l->sndbuf, l->rcvbuf) : NULL;
	spin_unlock(&l->lock);
	if (!c) {
		TCP_STAT_INC(syn_dropped);
		return ok ? -ENOMEM : -ENOBUFS;
	}
	c->laddr = ip_dst(nb);
	c->raddr = ip_src(nb);
	c->lport = get_be16(&th->dport);
	c->rport = get_be16(&th->sport);
	c->passive = true;
	c->our_mss = ip_route(&c->raddr, &rt) ? TCP_MSS_DEFAULT : route_mss(&rt);
	spin_lock(&c->lock);
	spin_lock(&l->lock);
	ok = !l->closed && l->nhalf + l->nready < l->backlog;
	if (ok) {
		list_add_tail(&c->lnode, &l->half);
		l->nhalf++;
		listener_get(l);
		c->listener = l;
		tcp_conn_get(c); /* the list's */
	}
	spin_unlock(&l->lock);
	if (ok) {
		spin_lock(&tab.lock);
		ok = !lookup_locked(&c->laddr, c->lport, &c->raddr, c->rport);
		if (ok)
			hash_locked(c);
		spin_unlock(&tab.lock);
		if (!ok)
			tcp_conn_drop(c, 0);
	}
	if (!ok) {
		TCP_STAT_INC(syn_dropped);
		tcp_unlock(c);
		tcp_conn_put(c);
		return -EBUSY;
	}
	conn_start(c);
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->snd_wnd = s->wnd; /* a SYN's window is never scaled */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	c->mss = (u16)MIN((u32)c->our_mss, s->has_mss ? (u32)s->mss : (u32)TCP_MSS_DEFAULT);
	c->ws_ok = s->has_ws;
	c->sack_ok = s->has_sack_perm;
	c->snd_wscale = s->has_ws ? MIN(s->ws, (u8)TCP_WSCALE_MAX) : 0;
	if (!c->ws_ok)
		c->rcv_wscale = 0;
	c->cwnd = initial_cwnd(c->mss);
	__atomic_store_n(&c->state, TCP_SYN_RECEIVED, __ATOMIC_RELEASE);
	TCP_STAT_INC(passive_opens);
	tcp_send_syn(c);
	tcp_timer_rexmt_start(c);
	tcp_unlock(c);
	tcp_conn_put(c); /* ours: the table and the list hold it now */
	return rc;
}

int tcp_conn_established_passive(struct tcp_conn *c)
{
	struct tcp_listener *l = c->listener;
	bool ok;

	if (!l)
		return -EBADF;
	if (tcp_conn_alloc_rings(c))
		return -ENOMEM;
	spin_lock(&l->lock);
	ok = !l->closed && !list_empty(&c->lnode);
	if (ok) {
		list_del_init(&c->lnode);
		l->nhalf--;
		list_add_tail(&c->lnode, &l->ready);
		c->on_ready = true;
		__atomic_store_n(&l->nready, l->nready + 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&l->lock);
	if (!ok)
		return -EBADF;
	waitq_wake_all(&l->wait);
	return 0;
}

struct accept_wait {
	struct tcp_listener *l;
};

static bool accept_ready(void *arg)
{
	struct tcp_listener *l = arg;

	return __atomic_load_n(&l->nready, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&l->closed, __ATOMIC_ACQUIRE);
}

int tcp_accept(struct tcp_listener *l, u64 timeout_ns, struct tcp_conn **out)
{
	u64 deadline = tcp_deadline(timeout_ns);
	struct tcp_conn *c = NULL;
	int rc;

	if (!l || !out)
		return -EINVAL;
	for (;;) {
		spin_lock(&l->lock);
		if (l->closed) {
			spin_unlock(&l->lock);
			return -EBADF;
		}
		if (!list_empty(&l->ready)) {
			c = list_first_entry(&l->ready, struct tcp_conn, lnode);
			list_del_init(&c->lnode);
			__atomic_store_n(&l->nready, l->nready - 1, __ATOMIC_RELEASE);
		}
		spin_unlock(&l->lock);
		if (c)
			break;
		rc = tcp_wait(&l->wait, accept_ready, l, deadline);
		if (rc)
			return rc;
	}
	/* The list's reference becomes the owner's. */
	spin_lock(&c->lock);
	c->owned = true;
	if (c->listener == l) {
		c->listener = NULL;
		tcp_listener_put(l);
	}
	tcp_unlock(c);
	*out = c;
	return 0;
}

/* Reset and drop a child that was on a closing listener's list. */
static void child_kill(struct tcp_conn *c, struct tcp_listener *l)
{
	spin_lock(&c->lock);
	if (c->state != TCP_CLOSED)
		tcp_send_rst_conn(c);
	if (c->listener == l) {
		c->listener = NULL;
		tcp_listener_put(l);
	}
	tcp_conn_drop(c, -ECONNABORTED);
	tcp_unlock(c);
	tcp_conn_put(c); /* the list's */
}

void tcp_listener_close(struct tcp_listener *l)
{
	struct list_head dead;

	if (!l)
		return;
	list_init(&dead);
	spin_lock(&tab.lock);
	list_del_init(&l->link);
	list_del_init(&l->all);
	tcp_st.listeners--;
	spin_unlock(&tab.lock);
	spin_lock(&l->lock);
	__atomic_store_n(&l->closed, true, __ATOMIC_RELEASE);
	list_splice_tail_init(&l->half, &dead);
	list_splice_tail_init(&l->ready, &dead);
	l->nhalf = 0;
	__atomic_store_n(&l->nready, 0, __ATOMIC_RELEASE);
	spin_unlock(&l->lock);
	while (!list_empty(&dead)) {
		struct tcp_conn *c = list_first_entry(&dead, struct tcp_conn, lnode);

		list_del_init(&c->lnode);
		child_kill(c, l);
	}
	waitq_wake_all(&l->wait);
	tcp_listener_put(l); /* the table's */
	tcp_listener_put(l); /* the owner's */
}

/* -------------------------------------------------------------- status */

static u32 ring_level(const struct tcp_conn *c, const struct ring *r, const u8 *mem)
{
	(void)c;
	return mem ? (u32)ring_used(r) : 0;
}

/* A snapshot of @c; fields are read without its lock, so they may disagree slightly. */
static void conn_info(struct tcp_conn *c, struct tcp_conn_info *o)
{
	memset(o, 0, sizeof(*o));
	o->state = tcp_state_of(c);
	o->local = c->laddr;
	o->remote = c->raddr;
	o->lport = c->lport;
	o->rport = c->rport;
	o->snd_queued = ring_level(c, &c->snd, READ_ONCE(c->snd_mem));
	o->rcv_queued = ring_level(c, &c->rcv, READ_ONCE(c->rcv_mem));
	o->srtt_us = READ_ONCE(c->srtt_us);
	o->rttvar_us = READ_ONCE(c->rttvar_us);
	o->rto_ms = READ_ONCE(c->rto_ms);
	o->cwnd = READ_ONCE(c->cwnd);
	o->ssthresh = READ_ONCE(c->ssthresh);
	o->snd_wnd = READ_ONCE(c->snd_wnd);
	o->rcv_wnd = READ_ONCE(c->rcv_adv) - READ_ONCE(c->rcv_nxt);
	o->snd_wscale = c->snd_wscale;
	o->rcv_wscale = c->rcv_wscale;
	o->mss = READ_ONCE(c->mss);
	o->bytes_sent = READ_ONCE(c->bytes_sent);
	o->bytes_received = READ_ONCE(c->bytes_received);
	o->retransmits = READ_ONCE(c->retransmits);
	o->error = tcp_error_of(c);
}

void tcp_conn_get_info(struct tcp_conn *c, struct tcp_conn_info *out)
{
	conn_info(c, out);
}

static void listener_info(const struct tcp_listener *l, struct tcp_conn_info *o)
{
	memset(o, 0, sizeof(*o));
	o->state = TCP_LISTEN;
	o->local = ip_v4(0);
	o->remote = ip_v4(0);
	o->lport = l->port;
	o->rcv_queued = __atomic_load_n(&l->nready, __ATOMIC_RELAXED);
}

#define VISIT_BATCH 8

/*
 * Snapshot up to VISIT_BATCH conns (or listeners) with an id above *@after
 * into @out, in creation order; *@after moves to the last one.  [t] taken.
 */
static unsigned visit_batch(bool listeners, u64 *after, struct tcp_conn_info *out)
{
	unsigned n = 0;

	spin_lock(&tab.lock);
	if (listeners) {
		struct tcp_listener *l;

		list_for_each_entry(l, &tab.listeners, all) {
			if (l->id <= *after)
				continue;
			listener_info(l, &out[n]);
			*after = l->id;
			if (++n == VISIT_BATCH)
				break;
		}
	} else {
		struct tcp_conn *c;

		list_for_each_entry(c, &tab.all, all) {
			if (c->id <= *after)
				continue;
			conn_info(c, &out[n]);
			*after = c->id;
			if (++n == VISIT_BATCH)
				break;
		}
	}
	spin_unlock(&tab.lock);
	return n;
}

unsigned tcp_for_each(tcp_visit_fn fn, void *arg)
{
	struct tcp_conn_info batch[VISIT_BATCH];
	unsigned total = 0;

	if (!fn)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		u64 after = 0;
		unsigned n;

		while ((n = visit_batch(pass == 1, &after, batch))) {
			for (unsigned i = 0; i < n; i++)
				fn(arg, &batch[i]);
			total += n;
			if (n < VISIT_BATCH)
				break;
		}
	}
	return total;
}

void tcp_get_stats(struct tcp_stats *out)
{
	net_stats_copy(out, &tcp_st, offsetof(struct tcp_stats, conns));
	spin_lock(&tab.lock);
	out->conns = tcp_st.conns;
	out->listeners = tcp_st.listeners;
	out->time_wait = tcp_st.time_wait;
	spin_unlock(&tab.lock);
}

/* ------------------------------------------------------ test-only hooks */

void tcp_test_set_ephemeral(u16 lo, u16 hi)
{
	spin_lock(&tab.lock);
	if (!lo || !hi || lo > hi) {
		lo = TCP_EPHEMERAL_MIN;
		hi = TCP_EPHEMERAL_MAX;
	}
	tab.eph_lo = lo;
	tab.eph_hi = hi;
	spin_unlock(&tab.lock);
}

/* The first hashed conn in TIME_WAIT or orphaned, with a reference, or NULL. */
static struct tcp_conn *flush_next(void)
{
	struct tcp_conn *c, *found = NULL;

	spin_lock(&tab.lock);
	list_for_each_entry(c, &tab.all, all) {
		if (READ_ONCE(c->state) == TCP_TIME_WAIT || READ_ONCE(c->orphan)) {
			found = c;
			tcp_conn_get(c);
			break;
		}
	}
	spin_unlock(&tab.lock);
	return found;
}

void tcp_test_flush(void)
{
	struct tcp_conn *c;

	tcp_reap();
	while ((c = flush_next())) {
		spin_lock(&c->lock);
		tcp_conn_drop(c, 0);
		tcp_unlock(c);
		tcp_conn_put(c);
	}
	tcp_timer_sync();
}

/* ---------------------------------------------------------------- init */

void tcp_init(void)
{
	static bool registered, icmp_registered;

	if (!tab.ready) {
		for (unsigned i = 0; i < TCP_HASH; i++)
			list_init(&tab.hash[i]);
		for (unsigned i = 0; i < TCP_LHASH; i++)
			list_init(&tab.lhash[i]);
		list_init(&tab.all);
		list_init(&tab.listeners);
		list_init(&tab.tw);
		list_init(&tab.reap);
		tcp_timer_init();
		__atomic_store_n(&tab.ready, true, __ATOMIC_RELEASE);
	}
	tcp_timer_register(); /* again is harmless (host tests that borrowed the SoftIrq) */
	if (!registered && !ip_register_proto(IP_PROTO_TCP, tcp_input))
		registered = true;
	if (!icmp_registered && !icmp_register_error_handler(IP_PROTO_TCP, tcp_icmp_error))
		icmp_registered = true;
}
