/*
 * arp.c — the ARP cache, resolution and its timer (see arp.h; received
 * packets are arp_in.c's, and what the two share is arp_priv.h).
 *
 * The cache is one table of ARP_CACHE_SIZE entries for all devices, keyed
 * by (device, IPv4 address).  An entry is
 *
 *   PENDING   a request is out; frames for the address wait on its queue
 *             (at most ARP_PENDING_MAX); `next` is when to ask again or,
 *             after ARP_TRIES requests, give up;
 *   RESOLVED  the MAC is known, confirmed at `stamp`; past ARP_TIMEOUT_NS
 *             it is as good as absent, and from ARP_REFRESH_NS on a send
 *             through it also asks its owner again, unicast, at most once
 *             per ARP_RETRY_NS (`next`), while the traffic keeps flowing;
 *   FAILED    nobody answered, at `stamp`; senders get -EHOSTUNREACH at
 *             once until ARP_FAIL_HOLD_NS have passed.
 *
 * Expiry is lazy: an entry past its time is freed by the lookup that finds
 * it.  Only PENDING entries need a clock, and they share one ktimer, armed
 * for the earliest `next` while any exists and cancelled when the last one
 * settles, so an idle cache has no timer at all.  Replacement, when the
 * table is full, takes a free or expired slot, else the oldest FAILED or
 * RESOLVED one; PENDING entries are never evicted (their frames and
 * waiters depend on them), so a table full of them refuses new next hops.
 *
 * Learning (RFC 826's merge rule, conflicts) is described in arp_in.c.
 *
 * Locking.  arp_tab.lock, "arp cache" (irqsave: the output path runs in
 * SoftIrq and task context alike) covers the table, the timer bookkeeping
 * (timer_at, seq) and the last address each device announced.  It is a leaf in practice:
 * nothing is sent, no netbuf freed, no timer touched, no waiter woken and
 * no device configuration read while it is held.  Frames released by an
 * answer or a failure are moved to a local list under the lock and sent or
 * freed after it.  The timer can therefore be started and cancelled
 * without the lock (ktimer_cancel() waits for a running callback, which
 * may itself be waiting for the lock — never while we hold it); `seq`
 * makes that safe against a concurrent change: see arp_timer_sync().
 */
#include "net/arp_priv.h"
#include "net/eth.h"
#include "net/ip.h"
#include "net/net_priv.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "kernel/waitq.h"
#include "lib/byteorder.h"
#include "lib/string.h"

/* The table, its lock and counters: see arp_priv.h. */
struct arp_table arp_tab = { .lock = SPINLOCK_INIT("arp cache") };

/* ------------------------------------------------------------ the table */

static void entry_clear(struct arp_entry *e)
{
	e->dev = NULL;
	e->state = ARP_FREE;
	e->queued = 0;
	list_init(&e->queue);
}

/* Is @e (not FREE) past its time at @now? */
static bool entry_expired(const struct arp_entry *e, u64 now)
{
	if (e->state == ARP_RESOLVED)
		return now - e->stamp >= ARP_TIMEOUT_NS;
	if (e->state == ARP_FAILED)
		return now - e->stamp >= ARP_FAIL_HOLD_NS;
	return false;
}

/* The live entry for (@dev, @ip), freeing it if it expired; NULL if none. [c] */
struct arp_entry *arp_entry_find(struct netdev *dev, u32 ip, u64 now)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &arp_tab.e[i];

		if (e->dev != dev || e->ip != ip || e->state == ARP_FREE)
			continue;
		if (entry_expired(e, now)) {
			entry_clear(e);
			return NULL;
		}
		return e;
	}
	return NULL;
}

/* The slot to reuse: free or expired first, then the oldest settled one. [c] */
static struct arp_entry *entry_victim(u64 now)
{
	struct arp_entry *oldest = NULL;

	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &arp_tab.e[i];

		if (e->state == ARP_FREE || entry_expired(e, now))
			return e;
		if (e->state != ARP_PENDING && (!oldest || e->stamp < oldest->stamp))
			oldest = e;
	}
	return oldest;
}

/* A fresh entry for (@dev, @ip) in @state; NULL when every slot is PENDING. [c] */
struct arp_entry *arp_entry_new(struct netdev *dev, u32 ip, u8 state, u64 now)
{
	struct arp_entry *e = entry_victim(now);

	if (!e)
		return NULL;
	entry_clear(e);
	e->dev = dev;
	e->ip = ip;
	e->state = state;
	e->stamp = now;
	e->next = now + ARP_RETRY_NS;
	e->tries = state == ARP_PENDING ? 1 : 0;
	if (state == ARP_PENDING)
		arp_tab.seq++;
	return e;
}

/* ----------------------------------------------------------- the timer */

/* The earliest deadline of a PENDING entry, 0 when there is none. [c] */
static u64 earliest_deadline(void)
{
	u64 at = 0;

	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		if (arp_tab.e[i].state == ARP_PENDING && (!at || arp_tab.e[i].next < at))
			at = arp_tab.e[i].next;
	return at;
}

/*
 * Make the timer match the table: armed for the earliest deadline, or off.
 * Called without the lock after any change to the PENDING entries.  The
 * timer is set outside the lock, so two callers may race; each one checks
 * afterwards that nothing changed since it looked (seq), and looks again
 * if something did, so the last one to finish always acted on the state
 * the table is in.
 */
void arp_timer_sync(void)
{
	for (;;) {
		u64 flags = spin_lock_irqsave(&arp_tab.lock);
		u64 want = earliest_deadline(), seq = arp_tab.seq, now;
		bool same = want == arp_tab.timer_at;

		spin_unlock_irqrestore(&arp_tab.lock, flags);
		if (same)
			return;
		now = time_ns();
		if (want)
			ktimer_start(&arp_tab.timer, want > now ? want - now : 0, 0);
		else
			ktimer_cancel(&arp_tab.timer);
		flags = spin_lock_irqsave(&arp_tab.lock);
		same = arp_tab.seq == seq;
		if (same)
			arp_tab.timer_at = want;
		spin_unlock_irqrestore(&arp_tab.lock, flags);
		if (same)
			return;
	}
}

/* ------------------------------------------------------------- sending */

/* Our IPv4 address on @dev in host order, 0 when it has none. */
u32 arp_our_addr(struct netdev *dev)
{
	struct netdev_ipv4 cfg;

	netdev_get_ipv4(dev, &cfg);
	return ip_is_v4(&cfg.addr) ? cfg.addr.v4 : 0;
}

/* Fill @a as an ARP packet from us. */
void arp_fill(struct arp_hdr *a, struct netdev *dev, u16 op, u32 spa,
		     const struct mac_addr *tha, u32 tpa)
{
	put_be16(&a->htype, ARP_HTYPE_ETHER);
	put_be16(&a->ptype, ETH_P_IPV4);
	a->hlen = MAC_LEN;
	a->plen = 4;
	put_be16(&a->op, op);
	a->sha = dev->mac;
	put_be32(&a->spa, spa);
	a->tha = *tha;
	put_be32(&a->tpa, tpa);
}

/*
 * A request for @tpa from @spa, broadcast, or unicast to @to (a refresh).
 * Failure to send is not an error here: the retry or the sender's timeout
 * covers it.
 */
static void arp_send_request(struct netdev *dev, u32 spa, u32 tpa, const struct mac_addr *to)
{
	struct netbuf *nb = nb_alloc_tx();
	struct arp_hdr *a = nb ? nb_append(nb, ARP_HLEN) : NULL;

	if (!a) {
		nb_put(nb);
		return;
	}
	arp_fill(a, dev, ARP_OP_REQUEST, spa, &mac_zero, tpa);
	ARP_STAT_INC(requests_tx);
	netdev_count_tx(dev, NP_ARP, ARP_HLEN);
	eth_output(dev, to ? to : &mac_broadcast, ETH_P_ARP, nb);
}

/* Send each frame of @frames to @mac (resolved), or drop them all (NULL). */
void arp_release_frames(struct netdev *dev, struct list_head *frames, const struct mac_addr *mac)
{
	while (!list_empty(frames)) {
		struct netbuf *nb = list_first_entry(frames, struct netbuf, link);

		list_del_init(&nb->link);
		if (mac) {
			eth_output(dev, mac, ETH_P_IPV4, nb);
		} else {
			ARP_STAT_INC(queue_drops);
			nb_put(nb);
		}
	}
}

/* ------------------------------------------------------------- output */

int arp_output(struct netdev *dev, const struct ip_addr *nexthop, struct netbuf *nb)
{
	struct arp_entry *e;
	struct mac_addr mac;
	bool fresh = false, refresh = false;
	u64 flags, now;
	u32 ip;

	if (!ip_is_v4(nexthop)) {
		nb_put(nb);
		return -EINVAL;
	}
	ip = nexthop->v4;
	flags = spin_lock_irqsave(&arp_tab.lock);
	now = time_ns();
	e = arp_entry_find(dev, ip, now);
	if (e && e->state == ARP_RESOLVED) {
		mac = e->mac;
		refresh = now - e->stamp >= ARP_REFRESH_NS && now >= e->next;
		if (refresh)
			e->next = now + ARP_RETRY_NS;
		spin_unlock_irqrestore(&arp_tab.lock, flags);
		if (refresh)
			arp_send_request(dev, arp_our_addr(dev), ip, &mac);
		return eth_output(dev, &mac, ETH_P_IPV4, nb);
	}
	if (e && e->state == ARP_FAILED) {
		spin_unlock_irqrestore(&arp_tab.lock, flags);
		ARP_STAT_INC(queue_drops);
		nb_put(nb);
		return -EHOSTUNREACH;
	}
	if (!e)
		fresh = (e = arp_entry_new(dev, ip, ARP_PENDING, now)) != NULL;
	if (!e || e->queued >= ARP_PENDING_MAX) {
		spin_unlock_irqrestore(&arp_tab.lock, flags);
		ARP_STAT_INC(queue_drops);
		nb_put(nb);
		return -ENOBUFS;
	}
	list_add_tail(&nb->link, &e->queue); /* the queue keeps our reference */
	e->queued++;
	spin_unlock_irqrestore(&arp_tab.lock, flags);
	if (fresh) {
		arp_send_request(dev, arp_our_addr(dev), ip, NULL);
		arp_timer_sync();
	}
	return 0;
}

/* ------------------------------------------------------------ the timer */

struct arp_retry {
	struct netdev *dev;
	u32 ip;
};

/* Give up on @e: FAILED, its frames onto @dead. [c] */
static void entry_fail(struct arp_entry *e, u64 now, struct list_head *dead)
{
	list_splice_tail_init(&e->queue, dead);
	e->queued = 0;
	e->state = ARP_FAILED;
	e->stamp = now;
	ARP_STAT_INC(failed);
}

/*
 * Every PENDING entry whose deadline came: ask again, or give up.  The
 * requests are sent and the dropped frames freed after the lock.
 */
static void arp_timer_fn(struct ktimer *t, void *arg)
{
	struct arp_retry retry[ARP_CACHE_SIZE];
	struct list_head dead;
	unsigned n = 0;
	bool failed = false;
	u64 flags, now;

	list_init(&dead);
	flags = spin_lock_irqsave(&arp_tab.lock);
	now = time_ns();
	arp_tab.timer_at = 0;
	arp_tab.seq++;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &arp_tab.e[i];

		if (e->state != ARP_PENDING || e->next > now)
			continue;
		if (e->tries >= ARP_TRIES) {
			entry_fail(e, now, &dead);
			failed = true;
			continue;
		}
		e->tries++;
		e->next = now + ARP_RETRY_NS;
		retry[n++] = (struct arp_retry){ e->dev, e->ip };
	}
	spin_unlock_irqrestore(&arp_tab.lock, flags);
	for (unsigned i = 0; i < n; i++)
		arp_send_request(retry[i].dev, arp_our_addr(retry[i].dev), retry[i].ip, NULL);
	while (!list_empty(&dead)) {
		struct netbuf *nb = list_first_entry(&dead, struct netbuf, link);

		list_del_init(&nb->link);
		ARP_STAT_INC(queue_drops);
		nb_put(nb);
	}
	if (failed)
		waitq_wake_all(&arp_tab.wait);
	arp_timer_sync();
}

/* ------------------------------------------------------------ waiting */

/* 0 resolved, -EHOSTUNREACH failed, -EINPROGRESS pending (a request sent if new), -ENOBUFS. */
static int arp_query(struct netdev *dev, u32 ip, struct mac_addr *mac)
{
	u64 flags = spin_lock_irqsave(&arp_tab.lock);
	u64 now = time_ns();
	struct arp_entry *e = arp_entry_find(dev, ip, now);
	bool fresh = false;
	int rc = -EINPROGRESS;

	if (!e) {
		fresh = (e = arp_entry_new(dev, ip, ARP_PENDING, now)) != NULL;
		if (!e)
			rc = -ENOBUFS;
	} else if (e->state == ARP_RESOLVED) {
		*mac = e->mac;
		rc = 0;
	} else if (e->state == ARP_FAILED) {
		rc = -EHOSTUNREACH;
	}
	spin_unlock_irqrestore(&arp_tab.lock, flags);
	if (fresh) {
		arp_send_request(dev, arp_our_addr(dev), ip, NULL);
		arp_timer_sync();
	}
	return rc;
}

struct arp_waiter {
	struct netdev *dev;
	u32 ip;
};

/* The wait's condition: the entry is no longer PENDING (or gone). */
static bool arp_settled(void *arg)
{
	const struct arp_waiter *w = arg;
	u64 flags = spin_lock_irqsave(&arp_tab.lock);
	struct arp_entry *e = arp_entry_find(w->dev, w->ip, time_ns());
	bool settled = !e || e->state != ARP_PENDING;

	spin_unlock_irqrestore(&arp_tab.lock, flags);
	return settled;
}

int arp_resolve_wait(struct netdev *dev, const struct ip_addr *ip, struct mac_addr *mac,
		     u64 timeout_ns)
{
	struct arp_waiter w = { dev, ip->v4 };
	u64 deadline = time_ns() + timeout_ns;

	if (!ip_is_v4(ip))
		return -EINVAL;
	for (;;) {
		u64 now;
		int rc = arp_query(dev, ip->v4, mac);

		if (rc != -EINPROGRESS)
			return rc;
		now = time_ns();
		if (timeout_ns && now >= deadline)
			return -ETIMEDOUT;
		rc = waitq_wait_interruptible(&arp_tab.wait, arp_settled, &w,
					      timeout_ns ? deadline - now : 0);
		if (rc)
			return rc;
	}
}

/* ---------------------------------------------------- the rest of the API */

unsigned arp_snapshot(struct arp_entry_info *out, unsigned max)
{
	u64 flags = spin_lock_irqsave(&arp_tab.lock);
	u64 now = time_ns();
	unsigned n = 0;

	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &arp_tab.e[i];

		if (e->state == ARP_FREE || entry_expired(e, now))
			continue;
		if (n < max)
			out[n] = (struct arp_entry_info){
				.dev = e->dev, .ip = ip_v4(e->ip), .mac = e->mac,
				.state = (enum arp_state)e->state, .queued = e->queued,
				.age_ns = now - e->stamp,
			};
		n++;
	}
	spin_unlock_irqrestore(&arp_tab.lock, flags);
	return n;
}

/* Forget the entries of @dev (NULL: all), dropping what waited. */
static void arp_forget(struct netdev *dev)
{
	struct list_head dead;
	u64 flags;

	list_init(&dead);
	flags = spin_lock_irqsave(&arp_tab.lock);
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &arp_tab.e[i];

		if (e->state == ARP_FREE || (dev && e->dev != dev))
			continue;
		list_splice_tail_init(&e->queue, &dead);
		entry_clear(e);
	}
	arp_tab.seq++;
	spin_unlock_irqrestore(&arp_tab.lock, flags);
	arp_release_frames(dev, &dead, NULL);
	waitq_wake_all(&arp_tab.wait);
	arp_timer_sync();
}

void arp_flush(void)
{
	arp_forget(NULL);
}

void arp_get_stats(struct arp_stats *out)
{
	net_stats_copy(out, &arp_tab.st, sizeof(*out));
}

/*
 * An address was set or removed on @dev: announce a new one (a gratuitous
 * request: sender and target both our address), so neighbours that knew
 * another MAC for it update; forget the device's neighbours when it has no
 * address any more.  A renewal that keeps the address says nothing.
 */
static void arp_addr_changed(struct netdev *dev, const struct netdev_ipv4 *cfg)
{
	u32 addr = ip_is_v4(&cfg->addr) ? cfg->addr.v4 : 0;
	bool changed;
	u64 flags;

	if (dev->index >= NETDEV_MAX)
		return;
	flags = spin_lock_irqsave(&arp_tab.lock);
	changed = arp_tab.announced[dev->index] != addr;
	arp_tab.announced[dev->index] = addr;
	spin_unlock_irqrestore(&arp_tab.lock, flags);
	if (!changed)
		return;
	if (addr)
		arp_send_request(dev, addr, addr, NULL);
	else
		arp_forget(dev);
}

void arp_init(void)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		entry_clear(&arp_tab.e[i]);
	ktimer_init(&arp_tab.timer, arp_timer_fn, NULL);
	waitq_init(&arp_tab.wait);
	netdev_listen_ipv4(arp_addr_changed);
}
