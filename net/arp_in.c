/*
 * arp_in.c — received ARP packets (see arp.h; the table is arp.c's).
 *
 * A packet is checked in full before anything is learned from it: IPv4
 * over Ethernet, a request or a reply, from a unicast MAC that is not
 * zero.  Then, by RFC 826's merge rule, the sender's entry is refreshed if
 * we have one, or made if the packet asks for our address; a PENDING entry
 * that gets its answer releases its frames, wakes the resolvers and lets
 * the timer stop.  A request for our address is answered in its own
 * netbuf.  A packet that claims our address from another MAC is a
 * conflict: counted, logged now and then, never learned.
 */
#include "net/arp_priv.h"
#include "net/eth.h"
#include "net/net_priv.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "lib/byteorder.h"

#define CONFLICT_LOG_NS 10000000000ull

/* The packet's checks: well-formed IPv4-over-Ethernet ARP from a unicast MAC. */
static bool arp_valid(const struct netbuf *nb)
{
	const struct arp_hdr *a = (const struct arp_hdr *)nb->data;
	u16 op;

	if (nb->len < ARP_HLEN)
		return false;
	op = get_be16(&a->op);
	return get_be16(&a->htype) == ARP_HTYPE_ETHER && get_be16(&a->ptype) == ETH_P_IPV4 &&
	       a->hlen == MAC_LEN && a->plen == 4 && (op == ARP_OP_REQUEST || op == ARP_OP_REPLY) &&
	       !mac_is_multicast(&a->sha) && !mac_eq(&a->sha, &mac_zero);
}

/*
 * Learn (@spa, @sha) on @dev: refresh an existing entry, or make one when
 * the packet was for us.  Frames waiting for it move to @ready.  True when
 * a PENDING entry was resolved (its waiters must hear of it).
 */
static bool arp_learn(struct netdev *dev, u32 spa, const struct mac_addr *sha, bool for_us,
		      struct list_head *ready)
{
	u64 flags = spin_lock_irqsave(&arp_tab.lock);
	u64 now = time_ns();
	struct arp_entry *e = arp_entry_find(dev, spa, now);
	bool was_pending = e && e->state == ARP_PENDING;

	if (!e && for_us)
		e = arp_entry_new(dev, spa, ARP_RESOLVED, now);
	if (e) {
		if (was_pending) {
			list_splice_tail_init(&e->queue, ready);
			e->queued = 0;
			arp_tab.seq++;
			ARP_STAT_INC(resolved);
		}
		e->mac = *sha;
		e->state = ARP_RESOLVED;
		e->stamp = now;
		e->next = now;
	}
	spin_unlock_irqrestore(&arp_tab.lock, flags);
	return was_pending;
}

/* Someone else says it has our address: count, and log now and then. */
static void arp_conflict(struct netdev *dev, const struct mac_addr *sha, u32 addr)
{
	u64 flags = spin_lock_irqsave(&arp_tab.lock);
	u64 now = time_ns();
	bool log = !arp_tab.conflict_logged || now - arp_tab.conflict_logged >= CONFLICT_LOG_NS;
	char m[MAC_STR_MAX], a[IP_STR_MAX];
	struct ip_addr ip = ip_v4(addr);

	if (log)
		arp_tab.conflict_logged = now;
	spin_unlock_irqrestore(&arp_tab.lock, flags);
	ARP_STAT_INC(conflicts);
	if (log)
		pr_warn("arp: %s: %s claims our address %s", dev->name, mac_format(sha, m),
			ip_format(&ip, a));
}

/* Answer the request in @nb (ours, data at the ARP header) from @addr. */
static void arp_reply(struct netdev *dev, struct netbuf *nb, u32 addr)
{
	struct arp_hdr *a;
	struct mac_addr to;
	u32 to_ip;

	nb = nb_unshare(nb);
	if (!nb)
		return;
	a = (struct arp_hdr *)nb->data;
	to = a->sha;
	to_ip = get_be32(&a->spa);
	nb_trim(nb, ARP_HLEN); /* the padding of the request goes */
	arp_fill(a, dev, ARP_OP_REPLY, addr, &to, to_ip);
	ARP_STAT_INC(replies_tx);
	netdev_count_tx(dev, NP_ARP, ARP_HLEN);
	eth_output(dev, &to, ETH_P_ARP, nb);
}

void arp_input(struct netbuf *nb)
{
	struct netdev *dev = nb->dev;
	const struct arp_hdr *a = (const struct arp_hdr *)nb->data;
	struct list_head ready;
	struct mac_addr sha;
	u32 spa, tpa, ours;
	bool request, for_us;

	if (!arp_valid(nb)) {
		netdev_count_error(dev, NP_ARP);
		nb_put(nb);
		return;
	}
	netdev_count_rx(dev, NP_ARP, nb->len);
	request = get_be16(&a->op) == ARP_OP_REQUEST;
	if (request)
		ARP_STAT_INC(requests_rx);
	else
		ARP_STAT_INC(replies_rx);
	sha = a->sha;
	spa = get_be32(&a->spa);
	tpa = get_be32(&a->tpa);
	ours = arp_our_addr(dev);
	if (ours && spa == ours) {
		if (!mac_eq(&sha, &dev->mac))
			arp_conflict(dev, &sha, ours);
		nb_put(nb);
		return;
	}
	for_us = ours && tpa == ours;
	list_init(&ready);
	if (spa && arp_learn(dev, spa, &sha, for_us, &ready)) {
		arp_release_frames(dev, &ready, &sha);
		waitq_wake_all(&arp_tab.wait);
		arp_timer_sync();
	}
	if (request && for_us)
		arp_reply(dev, nb, ours);
	else
		nb_put(nb);
}
