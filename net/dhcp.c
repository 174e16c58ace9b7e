/*
 * dhcp.c — the DHCP client's state machine (see dhcp.h for the states and
 * why it runs from SoftIrq), its boot-time start and the dhcp= and ip=
 * parameters.  The message bytes are net/dhcp_msg.c's business.
 *
 * Every event — a reply from the UDP input, the client's timer, a start or
 * stop from a task — follows one pattern: take the client's lock, decide
 * (the *_locked functions: change state, build at most one message, arm
 * the timer, prepare a configuration change), drop the lock, then act
 * (struct dhcp_act: set the device's configuration, send, wake waiters).
 * Acting outside the lock keeps the lock a leaf: setting an address calls
 * ARP's listener, which transmits.
 *
 * The timer is armed for one deadline at a time (due_ns).  A callback
 * that finds the clock short of due_ns belongs to a deadline that has
 * since moved (ktimer_start moved the timer while the callback was
 * already on its way) and does nothing.
 */
#include "net/dhcp.h"
#include "net/dhcp_msg.h"
#include "net/ip.h"
#include "net/net.h"
#include "net/udp.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/params.h"
#include "kernel/printk.h"
#include "kernel/random.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/waitq.h"
#include "lib/string.h"

#define NS_PER_S 1000000000ull
#define BACKOFF_FIRST_S 4
#define BACKOFF_MAX_S 64
#define RETRY_MIN_NS (4 * NS_PER_S)     /* renewing/rebinding resends, at least this apart */
#define LEASE_DEFAULT_S 3600            /* an ACK without option 51 */
#define LEASE_MIN_S 10                  /* shorter leases are taken as this (no renew storms) */
#define HOSTNAME "nos"

KPARAM(dhcp, "dhcp", "auto|on|off",
       "DHCP client: auto (at boot on every device with link), on (only the dhcp command), off");
KPARAM(ip, "ip", NULL, "static IPv4 for eth0: <addr>/<len>[,<gw>[,<dns>]]");

struct dhcp_lease {
	u32 addr, gw, server;
	u8 prefix;
	u8 ndns;
	u32 dns[NETDEV_DNS_MAX];
	u32 lease_s, t1_s, t2_s;
	u16 mtu;                    /* option 26; 0: the driver's */
};

/* Legend: [c] the client's lock; [I] dhcp_init(). */
struct dhcp_client {
	spinlock_t lock;
	struct netdev *dev;         /* [c] NULL until first started */
	enum dhcp_state state;      /* [c] (read unlocked by waiters' conditions) */
	u32 xid;                    /* [c] the current exchange */
	u64 began_ns;               /* [c] when it began (the secs field) */
	u32 tries;                  /* [c] sends of the current message */
	u64 due_ns;                 /* [c] the timer's deadline; 0: none */
	u32 offer, server;          /* [c] REQUESTING: the address offered, by whom */
	struct dhcp_lease lease;    /* [c] BOUND, RENEWING, REBINDING */
	u64 t1_ns, t2_ns, expiry_ns;    /* [c] absolute; 0: never (infinite lease) */
	u32 binds;                  /* [c] */
	struct ktimer timer;        /* [I] */
	struct waitq wait;          /* [I] dhcp_wait_bound() */
};

/* What to do once the lock is dropped. */
struct dhcp_act {
	struct netbuf *nb;          /* a message to send from src to dst */
	u32 src, dst;
	bool set_cfg;
	struct netdev_ipv4 cfg;
	bool set_mtu;
	u16 mtu;                    /* 0: back to the driver's */
	u32 drop;                   /* remove this address if it is still DHCP's */
	bool wake;
};

static struct dhcp_client clients[NETDEV_MAX];
static struct udp_sock *sock;
static enum dhcp_mode mode = DHCP_MODE_AUTO;
static bool ready;

static const char *const state_names[] = {
	[DHCP_STOPPED] = "STOPPED",     [DHCP_INIT] = "INIT",   [DHCP_SELECTING] = "SELECTING",
	[DHCP_REQUESTING] = "REQUESTING", [DHCP_BOUND] = "BOUND", [DHCP_RENEWING] = "RENEWING",
	[DHCP_REBINDING] = "REBINDING",
};

const char *dhcp_state_name(enum dhcp_state s)
{
	return (unsigned)s < ARRAY_SIZE(state_names) ? state_names[s] : "?";
}

static bool has_lease(enum dhcp_state s)
{
	return s == DHCP_BOUND || s == DHCP_RENEWING || s == DHCP_REBINDING;
}

/* "10.0.2.2", or "none" for 0. */
static const char *v4_str(u32 a, char *buf)
{
	struct ip_addr ip = ip_v4(a);

	return a ? ip_format(&ip, buf) : "none";
}

static u32 random32(void)
{
	u32 v;

	random_bytes(&v, sizeof(v));
	return v;
}

/* ------------------------------------------------------------ timing */

/* RFC 2131 §4.1: 4, 8, 16 ... 64 s, each ±1 s at random. */
static u64 backoff_ns(u32 tries)
{
	u32 shift = tries ? MIN(tries - 1, 4u) : 0;
	u64 base = MIN((u64)BACKOFF_FIRST_S << shift, (u64)BACKOFF_MAX_S) * NS_PER_S;

	return base - NS_PER_S + (u64)(random32() % 2001u) * 1000000ull;
}

/* The next resend while renewing or rebinding: half the time left to @limit, at least 4 s. */
static u64 retry_at(u64 now, u64 limit)
{
	u64 at = now + MAX((limit - MIN(limit, now)) / 2, RETRY_MIN_NS);

	return MIN(at, limit);
}

static void arm_locked(struct dhcp_client *c, u64 at)
{
	u64 now = time_ns();

	c->due_ns = at ? at : 1;
	ktimer_start(&c->timer, at > now ? at - now : 0, 0);
}

/* ---------------------------------------------------------- messages */

static void msg_base(const struct dhcp_client *c, u8 type, struct dhcp_msg *m)
{
	static const u8 params[] = { DHCP_OPT_MASK,	 DHCP_OPT_ROUTER,    DHCP_OPT_DNS,
				     DHCP_OPT_LEASE,	 DHCP_OPT_SERVER_ID, DHCP_OPT_T1,
				     DHCP_OPT_T2,	 DHCP_OPT_MTU };
	u64 secs = (time_ns() - MIN(time_ns(), c->began_ns)) / NS_PER_S;

	memset(m, 0, sizeof(*m));
	m->op = DHCP_OP_REQUEST;
	m->type = type;
	m->xid = c->xid;
	m->secs = (u16)MIN(secs, 0xffffull);
	m->chaddr = c->dev->mac;
	m->has = DHCP_HAS_CLIENT_ID;
	strlcpy(m->hostname, HOSTNAME, sizeof(m->hostname));
	memcpy(m->params, params, sizeof(params));
	m->nparams = sizeof(params);
}

/* Replies to a device that has some other address must come broadcast to reach us. */
static u16 reply_flags(const struct dhcp_client *c)
{
	struct netdev_ipv4 cfg;

	netdev_get_ipv4(c->dev, &cfg);
	return ip_is_v4(&cfg.addr) ? DHCP_FLAG_BROADCAST : 0;
}

/* The message the current state sends, into @a (skipped when memory is short). */
static void send_locked(struct dhcp_client *c, struct dhcp_act *a)
{
	struct dhcp_msg m;
	struct netbuf *nb;
	int len;

	msg_base(c, c->state == DHCP_SELECTING ? DHCP_DISCOVER : DHCP_REQUEST, &m);
	a->src = 0;
	a->dst = IP_BROADCAST;
	if (c->state == DHCP_SELECTING || c->state == DHCP_REQUESTING)
		m.flags = reply_flags(c);
	if (c->state == DHCP_REQUESTING) {
		m.has |= DHCP_HAS_REQUESTED_IP | DHCP_HAS_SERVER_ID;
		m.requested_ip = c->offer;
		m.server_id = c->server;
	} else if (c->state == DHCP_RENEWING || c->state == DHCP_REBINDING) {
		m.ciaddr = a->src = c->lease.addr;
		if (c->state == DHCP_RENEWING)
			a->dst = c->lease.server;
	}
	nb = nb_alloc_tx();
	len = nb ? dhcp_msg_build(&m, nb->data, nb_tailroom(nb)) : -ENOBUFS;
	if (len < 0 || !nb_append(nb, (u32)len)) {
		nb_put(nb);
		return;
	}
	a->nb = nb;
}

/* ----------------------------------------------------------- actions */

static void cfg_of(const struct dhcp_lease *l, struct netdev_ipv4 *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->addr = ip_v4(l->addr);
	cfg->prefix = l->prefix;
	if (l->gw)
		cfg->gw = ip_v4(l->gw);
	for (unsigned i = 0; i < l->ndns; i++)
		cfg->dns[i] = ip_v4(l->dns[i]);
	cfg->source = NET_CFG_DHCP;
}

static bool cfg_same(const struct netdev_ipv4 *a, const struct netdev_ipv4 *b)
{
	for (unsigned i = 0; i < NETDEV_DNS_MAX; i++)
		if (!ip_eq(&a->dns[i], &b->dns[i]))
			return false;
	return ip_eq(&a->addr, &b->addr) && a->prefix == b->prefix && ip_eq(&a->gw, &b->gw) &&
	       a->source == b->source;
}

/* Remove @addr from @dev if DHCP still owns it there (nobody configured another since). */
static void drop_address(struct netdev *dev, u32 addr)
{
	struct netdev_ipv4 cur, none;

	netdev_get_ipv4(dev, &cur);
	if (cur.source != NET_CFG_DHCP || !ip_is_v4(&cur.addr) || cur.addr.v4 != addr)
		return;
	memset(&none, 0, sizeof(none));
	netdev_set_ipv4(dev, &none);
}

/* The lease's MTU on @dev (0: the driver's), logged when it changes. */
static void apply_mtu(struct netdev *dev, u16 mtu)
{
	u32 old = netdev_mtu(dev);

	if (netdev_set_mtu(dev, mtu) || netdev_mtu(dev) == old)
		return;
	if (mtu == netdev_mtu(dev))
		pr_info("dhcp: %s: MTU %u (option 26), was %u", dev->name, mtu, old);
	else if (mtu)
		pr_info("dhcp: %s: MTU %u (option 26 said %u, the driver's most), was %u",
			dev->name, netdev_mtu(dev), mtu, old);
	else
		pr_info("dhcp: %s: MTU back to the driver's %u", dev->name, netdev_mtu(dev));
}

static void act(struct dhcp_client *c, struct netdev *dev, struct dhcp_act *a)
{
	struct netdev_ipv4 cur;

	if (a->drop)
		drop_address(dev, a->drop);
	if (a->set_mtu)
		apply_mtu(dev, a->mtu);
	if (a->set_cfg) {
		netdev_get_ipv4(dev, &cur);
		if (!cfg_same(&cur, &a->cfg))
			netdev_set_ipv4(dev, &a->cfg);
	}
	if (a->nb) {
		struct ip_addr src = ip_v4(a->src), dst = ip_v4(a->dst);

		udp_output(dev, &src, DHCP_CLIENT_PORT, &dst, DHCP_SERVER_PORT, a->nb);
	}
	if (a->wake)
		waitq_wake_all(&c->wait);
}

/* ------------------------------------------------------------ states */

static void set_state(struct dhcp_client *c, enum dhcp_state s, struct dhcp_act *a)
{
	__atomic_store_n(&c->state, s, __ATOMIC_RELEASE);
	a->wake = true;
}

/* A new exchange from the start: DISCOVER now, resent with backoff. */
static void discover_locked(struct dhcp_client *c, struct dhcp_act *a)
{
	c->xid = random32();
	c->began_ns = time_ns();
	c->tries = 1;
	set_state(c, DHCP_SELECTING, a);
	send_locked(c, a);
	arm_locked(c, time_ns() + backoff_ns(1));
	pr_info("dhcp: %s: SELECTING: DISCOVER (xid 0x%08x)", c->dev->name, c->xid);
}

/* Give the lease up: the address goes (if still ours), the exchange restarts. */
static void lose_lease_locked(struct dhcp_client *c, struct dhcp_act *a)
{
	if (has_lease(c->state)) {
		a->drop = c->lease.addr;
		a->set_mtu = true;
		a->mtu = 0;
	}
	memset(&c->lease, 0, sizeof(c->lease));
	c->t1_ns = c->t2_ns = c->expiry_ns = 0;
}

static void expire_locked(struct dhcp_client *c, struct dhcp_act *a)
{
	char ip[IP_STR_MAX];

	pr_info("dhcp: %s: lease of %s expired: address removed", c->dev->name,
		v4_str(c->lease.addr, ip));
	lose_lease_locked(c, a);
	discover_locked(c, a);
}

/* The next resend of the current message, or the next state when its time has come. */
static void resend_locked(struct dhcp_client *c, struct dhcp_act *a, u64 next)
{
	c->tries++;
	send_locked(c, a);
	arm_locked(c, next);
}

/* A renewal phase begins: a fresh exchange with the lease's server (or any). */
static void renew_begin_locked(struct dhcp_client *c, enum dhcp_state s, struct dhcp_act *a)
{
	char ip[IP_STR_MAX];
	u64 now = time_ns();

	if (s == DHCP_RENEWING)
		c->xid = random32();
	c->began_ns = now;
	c->tries = 1;
	set_state(c, s, a);
	send_locked(c, a);
	arm_locked(c, retry_at(now, s == DHCP_RENEWING ? c->t2_ns : c->expiry_ns));
	pr_info("dhcp: %s: %s: %s (%s)", c->dev->name, dhcp_state_name(s),
		s == DHCP_RENEWING ? "T1, asking the server" : "T2, asking any server",
		v4_str(s == DHCP_RENEWING ? c->lease.server : IP_BROADCAST, ip));
}

static void on_timer_locked(struct dhcp_client *c, struct dhcp_act *a)
{
	u64 now = time_ns();

	switch (c->state) {
	case DHCP_INIT:
		discover_locked(c, a);
		break;
	case DHCP_SELECTING:
		resend_locked(c, a, now + backoff_ns(c->tries + 1));
		break;
	case DHCP_REQUESTING:
		if (c->tries >= DHCP_REQUEST_TRIES) {
			pr_info("dhcp: %s: no answer to REQUEST: starting over", c->dev->name);
			discover_locked(c, a);
		} else {
			resend_locked(c, a, now + backoff_ns(c->tries + 1));
		}
		break;
	case DHCP_BOUND:
		renew_begin_locked(c, DHCP_RENEWING, a);
		break;
	case DHCP_RENEWING:
		if (now >= c->t2_ns)
			renew_begin_locked(c, DHCP_REBINDING, a);
		else
			resend_locked(c, a, retry_at(now, c->t2_ns));
		break;
	case DHCP_REBINDING:
		if (now >= c->expiry_ns)
			expire_locked(c, a);
		else
			resend_locked(c, a, retry_at(now, c->expiry_ns));
		break;
	case DHCP_STOPPED:
		break;
	}
}

static void dhcp_timer(struct ktimer *t, void *arg)
{
	struct dhcp_client *c = arg;
	struct dhcp_act a = { 0 };
	struct netdev *dev;

	spin_lock(&c->lock);
	dev = c->dev;
	if (c->due_ns && time_ns() >= c->due_ns) {
		c->due_ns = 0;
		on_timer_locked(c, &a);
	}
	spin_unlock(&c->lock);
	if (dev)
		act(c, dev, &a);
}

/* ------------------------------------------------------------ leases */

/* The historic classful prefix, for a lease without a usable mask. */
static u8 classful_prefix(u32 a)
{
	return a < 0x80000000u ? 8 : a < 0xc0000000u ? 16 : 24;
}

static void lease_times(const struct dhcp_msg *m, struct dhcp_lease *l)
{
	u32 t1, t2;

	l->lease_s = m->has & DHCP_HAS_LEASE ? m->lease_s : LEASE_DEFAULT_S;
	if (l->lease_s == DHCP_LEASE_INFINITE)
		return;
	l->lease_s = MAX(l->lease_s, (u32)LEASE_MIN_S);
	t1 = m->has & DHCP_HAS_T1 ? m->t1_s : l->lease_s / 2;
	t2 = m->has & DHCP_HAS_T2 ? m->t2_s : (u32)((u64)l->lease_s * 7 / 8);
	if (!(t1 < t2 && t2 < l->lease_s)) { /* inconsistent: the defaults */
		t1 = l->lease_s / 2;
		t2 = (u32)((u64)l->lease_s * 7 / 8);
	}
	l->t1_s = t1;
	l->t2_s = t2;
}

/* The lease an ACK grants; @server when the ACK does not name one. */
static void lease_from(const struct dhcp_msg *m, u32 server, struct dhcp_lease *l)
{
	int prefix = m->has & DHCP_HAS_MASK ? ip_v4_prefix(m->mask) : -1;
	u32 mask;

	memset(l, 0, sizeof(*l));
	l->addr = m->yiaddr;
	l->prefix = (u8)(prefix > 0 ? prefix : classful_prefix(m->yiaddr));
	mask = ip_v4_mask(l->prefix);
	/*
	 * A router outside the prefix is kept: clouds hand out /32 addresses
	 * with a router beside them (Compute Engine does), and the gateway is
	 * then reached by ARP on the same link like any other.
	 */
	if ((m->has & DHCP_HAS_ROUTER) && m->router != l->addr && m->router != 0 &&
	    m->router != IP_BROADCAST && !(l->prefix <= 30 && m->router == (l->addr | ~mask)))
		l->gw = m->router;
	for (unsigned i = 0; i < m->ndns && l->ndns < NETDEV_DNS_MAX; i++)
		if (m->dns[i])
			l->dns[l->ndns++] = m->dns[i];
	l->server = m->has & DHCP_HAS_SERVER_ID ? m->server_id : server;
	l->mtu = m->has & DHCP_HAS_MTU ? m->mtu : 0;
	lease_times(m, l);
}

static void log_bound(const struct dhcp_client *c, bool renewed)
{
	const struct dhcp_lease *l = &c->lease;
	char ip[IP_STR_MAX], gw[IP_STR_MAX], d0[IP_STR_MAX], d1[IP_STR_MAX];

	if (renewed) {
		pr_info("dhcp: %s: renewed %s, lease %u s", c->dev->name, v4_str(l->addr, ip),
			l->lease_s);
		return;
	}
	pr_info("dhcp: %s: bound to %s/%u gw %s dns %s%s%s lease %u s", c->dev->name,
		v4_str(l->addr, ip), l->prefix, v4_str(l->gw, gw),
		l->ndns ? v4_str(l->dns[0], d0) : "none", l->ndns > 1 ? "," : "",
		l->ndns > 1 ? v4_str(l->dns[1], d1) : "", l->lease_s);
}

static void bind_locked(struct dhcp_client *c, const struct dhcp_lease *l, struct dhcp_act *a)
{
	bool renewed = has_lease(c->state) && c->lease.addr == l->addr;
	u64 now = time_ns();

	if (has_lease(c->state) && c->lease.addr != l->addr)
		a->drop = c->lease.addr; /* a different address this time */
	c->lease = *l;
	c->binds++;
	c->tries = 0;
	set_state(c, DHCP_BOUND, a);
	cfg_of(l, &a->cfg);
	a->set_cfg = true;
	a->set_mtu = true;
	a->mtu = l->mtu;
	if (l->lease_s == DHCP_LEASE_INFINITE) {
		c->t1_ns = c->t2_ns = c->expiry_ns = 0;
		c->due_ns = 0;
	} else {
		c->t1_ns = now + (u64)l->t1_s * NS_PER_S;
		c->t2_ns = now + (u64)l->t2_s * NS_PER_S;
		c->expiry_ns = now + (u64)l->lease_s * NS_PER_S;
		arm_locked(c, c->t1_ns);
	}
	log_bound(c, renewed);
}

/* ----------------------------------------------------------- replies */

static bool unicast_v4(u32 a)
{
	return a && a != IP_BROADCAST && a < 0xe0000000u && (a >> 24) != 127;
}

static void on_offer_locked(struct dhcp_client *c, const struct dhcp_msg *m, u32 from,
			    struct dhcp_act *a)
{
	char ip[IP_STR_MAX], srv[IP_STR_MAX];

	if (!unicast_v4(m->yiaddr))
		return;
	c->offer = m->yiaddr;
	c->server = m->has & DHCP_HAS_SERVER_ID ? m->server_id : from;
	c->tries = 1;
	set_state(c, DHCP_REQUESTING, a);
	send_locked(c, a);
	arm_locked(c, time_ns() + backoff_ns(1));
	pr_info("dhcp: %s: REQUESTING: offer of %s from %s", c->dev->name, v4_str(c->offer, ip),
		v4_str(c->server, srv));
}

static void on_ack_locked(struct dhcp_client *c, const struct dhcp_msg *m, struct dhcp_act *a)
{
	struct dhcp_lease l;

	if (!unicast_v4(m->yiaddr))
		return;
	if (c->state == DHCP_REQUESTING && (m->has & DHCP_HAS_SERVER_ID) && m->server_id != c->server)
		return; /* another server's answer: we asked this one */
	lease_from(m, c->state == DHCP_REQUESTING ? c->server : c->lease.server, &l);
	bind_locked(c, &l, a);
}

static void on_nak_locked(struct dhcp_client *c, const struct dhcp_msg *m, struct dhcp_act *a)
{
	char srv[IP_STR_MAX];

	pr_info("dhcp: %s: NAK from %s in %s: starting over", c->dev->name,
		v4_str(m->has & DHCP_HAS_SERVER_ID ? m->server_id : 0, srv),
		dhcp_state_name(c->state));
	lose_lease_locked(c, a);
	set_state(c, DHCP_INIT, a);
	arm_locked(c, time_ns() + DHCP_NAK_DELAY_NS);
}

static void on_reply_locked(struct dhcp_client *c, const struct dhcp_msg *m, u32 from,
			    struct dhcp_act *a)
{
	bool asking = c->state == DHCP_REQUESTING || c->state == DHCP_RENEWING ||
		      c->state == DHCP_REBINDING;

	if (m->type == DHCP_OFFER && c->state == DHCP_SELECTING)
		on_offer_locked(c, m, from, a);
	else if (m->type == DHCP_ACK && asking)
		on_ack_locked(c, m, a);
	else if (m->type == DHCP_NAK && asking)
		on_nak_locked(c, m, a);
}

/* UDP port 68, SoftIrq: every reply to every client. */
static void dhcp_input(void *arg, struct netbuf *nb, const struct udp_meta *from)
{
	struct netdev *dev = from->dev;
	struct dhcp_act a = { 0 };
	struct dhcp_client *c;
	struct dhcp_msg m;
	int rc;

	rc = dhcp_msg_parse(nb->data, nb->len, &m);
	nb_put(nb);
	if (rc || m.op != DHCP_OP_REPLY || from->sport != DHCP_SERVER_PORT || !dev ||
	    dev->index >= NETDEV_MAX || !mac_eq(&m.chaddr, &dev->mac))
		return;
	c = &clients[dev->index];
	spin_lock(&c->lock);
	if (c->dev == dev && c->state != DHCP_STOPPED && m.xid == c->xid)
		on_reply_locked(c, &m, ip_is_v4(&from->src) ? from->src.v4 : 0, &a);
	spin_unlock(&c->lock);
	act(c, dev, &a);
}

/* ------------------------------------------------------------- API */

static struct dhcp_client *client_of(struct netdev *dev)
{
	return dev && dev->index < NETDEV_MAX && ready ? &clients[dev->index] : NULL;
}

int dhcp_start(struct netdev *dev)
{
	struct dhcp_client *c = client_of(dev);
	struct dhcp_act a = { 0 };

	if (mode == DHCP_MODE_OFF)
		return -EPERM;
	if (!c)
		return -ENODEV;
	spin_lock(&c->lock);
	c->dev = dev;
	c->binds = 0;
	lose_lease_locked(c, &a);
	pr_info("dhcp: %s: starting", dev->name);
	discover_locked(c, &a);
	spin_unlock(&c->lock);
	act(c, dev, &a);
	return 0;
}

void dhcp_stop(struct netdev *dev)
{
	struct dhcp_client *c = client_of(dev);
	struct dhcp_act a = { 0 };

	if (!c || !c->dev)
		return;
	spin_lock(&c->lock);
	if (c->state != DHCP_STOPPED)
		pr_info("dhcp: %s: stopped", dev->name);
	lose_lease_locked(c, &a);
	set_state(c, DHCP_STOPPED, &a);
	c->due_ns = 0;
	spin_unlock(&c->lock);
	ktimer_cancel(&c->timer);
	act(c, dev, &a);
}

static bool bound_or_stopped(void *arg)
{
	enum dhcp_state s = __atomic_load_n(&((struct dhcp_client *)arg)->state, __ATOMIC_ACQUIRE);

	return has_lease(s) || s == DHCP_STOPPED;
}

int dhcp_wait_bound(struct netdev *dev, u64 timeout_ns)
{
	struct dhcp_client *c = client_of(dev);
	int rc;

	if (!c)
		return -ESRCH;
	rc = waitq_wait_interruptible(&c->wait, bound_or_stopped, c, timeout_ns);
	if (!rc && __atomic_load_n(&c->state, __ATOMIC_ACQUIRE) == DHCP_STOPPED)
		return -ESRCH;
	return rc;
}

static u64 left_ns(u64 at, u64 now)
{
	return at > now ? at - now : 0;
}

void dhcp_get_info(struct netdev *dev, struct dhcp_info *out)
{
	struct dhcp_client *c = client_of(dev);
	const struct dhcp_lease *l;
	u64 now = time_ns();

	memset(out, 0, sizeof(*out));
	if (!c)
		return;
	spin_lock(&c->lock);
	l = &c->lease;
	out->state = c->state;
	out->tries = c->tries;
	out->binds = c->binds;
	if (has_lease(c->state)) {
		out->addr = ip_v4(l->addr);
		out->prefix = l->prefix;
		if (l->gw)
			out->gw = ip_v4(l->gw);
		out->server = ip_v4(l->server);
		for (unsigned i = 0; i < l->ndns; i++)
			out->dns[out->ndns++] = ip_v4(l->dns[i]);
		out->lease_s = l->lease_s;
		out->t1_s = l->t1_s;
		out->t2_s = l->t2_s;
		out->t1_in_ns = left_ns(c->t1_ns, now);
		out->t2_in_ns = left_ns(c->t2_ns, now);
		out->expiry_in_ns = left_ns(c->expiry_ns, now);
	}
	spin_unlock(&c->lock);
}

/* ------------------------------------------------------------- boot */

int dhcp_parse_mode(const char *s, enum dhcp_mode *out)
{
	if (!s || !strcmp(s, "auto"))
		*out = DHCP_MODE_AUTO;
	else if (!strcmp(s, "on"))
		*out = DHCP_MODE_ON;
	else if (!strcmp(s, "off"))
		*out = DHCP_MODE_OFF;
	else
		return -EINVAL;
	return 0;
}

void dhcp_set_mode(enum dhcp_mode m)
{
	mode = m;
}

enum dhcp_mode dhcp_get_mode(void)
{
	return mode;
}

/* ip=: eth0's static configuration.  True when it was applied. */
static bool apply_static(const char *spec)
{
	struct netdev *eth0 = netdev_at(0);
	struct netdev_ipv4 cfg;
	const char *why = NULL;
	char ip[IP_STR_MAX], gw[IP_STR_MAX], dns[IP_STR_MAX];

	if (net_parse_static(spec, &cfg, &why)) {
		pr_warn("net: ip=%s: %s; ignored", spec, why ? why : "malformed");
		return false;
	}
	if (!eth0) {
		pr_warn("net: ip=%s: there is no eth0; ignored", spec);
		return false;
	}
	netdev_set_ipv4(eth0, &cfg);
	pr_info("net: %s: static %s/%u gw %s dns %s", eth0->name, ip_format(&cfg.addr, ip),
		cfg.prefix, ip_is_v4(&cfg.gw) ? ip_format(&cfg.gw, gw) : "none",
		ip_is_v4(&cfg.dns[0]) ? ip_format(&cfg.dns[0], dns) : "none");
	return true;
}

int dhcp_boot(const char *ip_spec, const char *mode_s)
{
	bool eth0_static = ip_spec && apply_static(ip_spec);
	enum dhcp_mode m;
	int started = 0;

	if (dhcp_parse_mode(mode_s, &m)) {
		pr_warn("dhcp: dhcp=%s: want auto, on or off; using auto", mode_s);
		m = DHCP_MODE_AUTO;
	}
	dhcp_set_mode(m);
	if (m != DHCP_MODE_AUTO)
		return 0;
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *dev = netdev_at(i);

		if ((i == 0 && eth0_static) || !__atomic_load_n(&dev->link_up, __ATOMIC_RELAXED))
			continue;
		if (!dhcp_start(dev))
			started++;
	}
	return started;
}

void dhcp_init(void)
{
	int rc;

	if (ready)
		return;
	for (unsigned i = 0; i < NETDEV_MAX; i++) {
		struct dhcp_client *c = &clients[i];

		spin_lock_init(&c->lock, "dhcp client");
		waitq_init(&c->wait);
		ktimer_init(&c->timer, dhcp_timer, c);
	}
	rc = udp_bind(DHCP_CLIENT_PORT, dhcp_input, NULL, &sock);
	if (rc)
		pr_err("dhcp: cannot bind port %u: %s", DHCP_CLIENT_PORT, errno_name(rc));
	ready = true;
}
