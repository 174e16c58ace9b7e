/*
 * netdev.c — the device registry, the software queues and the two network
 * SoftIrqs (see netdev.h and netdev_driver.h).
 *
 * NET_RX, per device: poll the driver when its interrupt asked for it, then
 * hand up to NETDEV_RX_BUDGET queued frames to the link-layer input; when
 * either had more, raise NET_RX again so other SoftIrqs get a turn in
 * between.  One CPU at a time works on a device — poll_state's RUNNING bit
 * is its token — so frames go up in the order they came in; a CPU that
 * finds the token taken leaves the work to its holder, which looks again
 * after giving it back.
 *
 * NET_TX: call the driver's xmit for every device whose driver said its
 * ring has room again (tx_wake bit).
 */
#include "net/netdev_driver.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/softirq.h"
#include "lib/format.h"
#include "lib/string.h"

#define POLL_SCHEDULED 1u       /* the driver asked for ops->poll */
#define POLL_RUNNING 2u         /* a CPU works on this device */
#define POLL_TX_WAKE 4u         /* the driver asked for ops->xmit again */

static spinlock_t reg_lock = SPINLOCK_INIT("netdev registry");
static struct netdev *devs[NETDEV_MAX];        /* [reg_lock] to add; published by ndevs */
static unsigned ndevs;                          /* [a] */
static netdev_input_fn input;                   /* [I] after start-up */
static netdev_ipv4_listener listeners[NETDEV_LISTENERS];
static unsigned nlisteners;

static const char *const proto_names[NP_COUNT] = {
	[NP_ARP] = "arp", [NP_IPV4] = "ipv4", [NP_ICMP] = "icmp",
	[NP_UDP] = "udp", [NP_TCP] = "tcp",   [NP_OTHER] = "other",
};

const char *net_proto_name(enum net_proto p)
{
	return p < NP_COUNT ? proto_names[p] : "?";
}

/* ------------------------------------------------------------ registry */

unsigned netdev_count(void)
{
	return __atomic_load_n(&ndevs, __ATOMIC_ACQUIRE);
}

struct netdev *netdev_at(unsigned i)
{
	return i < netdev_count() ? devs[i] : NULL;
}

struct netdev *netdev_find(const char *name)
{
	for (unsigned i = 0; i < netdev_count(); i++)
		if (!strcmp(devs[i]->name, name))
			return devs[i];
	return NULL;
}

struct netdev *netdev_default(void)
{
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev_ipv4 cfg;

		netdev_get_ipv4(devs[i], &cfg);
		if (__atomic_load_n(&devs[i]->link_up, __ATOMIC_RELAXED) && cfg.addr.family)
			return devs[i];
	}
	return netdev_at(0);
}

int netdev_register(struct netdev *dev)
{
	u64 flags;
	char mac[MAC_STR_MAX];
	unsigned idx;

	if (!dev->ops || !dev->ops->xmit || !dev->ops->poll || !dev->mtu)
		return -EINVAL;
	spin_lock_init(&dev->cfg_lock, "netdev cfg");
	spin_lock_init(&dev->txq_lock, "netdev txq");
	spin_lock_init(&dev->rxq_lock, "netdev rxq");
	list_init(&dev->txq);
	list_init(&dev->rxq);
	dev->mtu_max = dev->mtu;
	dev->txq_len = dev->rxq_len = 0;
	dev->poll_state = 0;
	memset(&dev->ipv4, 0, sizeof(dev->ipv4));
	dev->cfg_seq.seq = 0;
	memset(&dev->stats, 0, sizeof(dev->stats));
	flags = spin_lock_irqsave(&reg_lock);
	idx = ndevs;
	if (idx < NETDEV_MAX) {
		dev->index = idx;
		snprintf(dev->name, sizeof(dev->name), "eth%u", idx);
		devs[idx] = dev;
		__atomic_store_n(&ndevs, idx + 1, __ATOMIC_RELEASE);
	}
	spin_unlock_irqrestore(&reg_lock, flags);
	if (idx >= NETDEV_MAX)
		return -ENOSPC;
	pr_info("net: %s: MAC %s, MTU %u, link %s", dev->name, mac_format(&dev->mac, mac), dev->mtu,
		dev->link_up ? "up" : "down");
	return (int)idx;
}

netdev_input_fn netdev_set_input(netdev_input_fn fn)
{
	netdev_input_fn old = input;

	input = fn;
	return old;
}

int netdev_listen_ipv4(netdev_ipv4_listener fn)
{
	if (nlisteners >= NETDEV_LISTENERS)
		return -ENOSPC;
	listeners[nlisteners++] = fn;
	return 0;
}

void netdev_set_link(struct netdev *dev, bool up)
{
	if (__atomic_exchange_n(&dev->link_up, up, __ATOMIC_RELAXED) != up)
		pr_info("net: %s: link %s", dev->name, up ? "up" : "down");
}

/* ------------------------------------------------------- configuration */

void netdev_get_ipv4(struct netdev *dev, struct netdev_ipv4 *out)
{
	u32 seq;

	do {
		seq = seq_read_begin(&dev->cfg_seq);
		*out = dev->ipv4;
	} while (seq_read_retry(&dev->cfg_seq, seq));
}

void netdev_set_ipv4(struct netdev *dev, const struct netdev_ipv4 *cfg)
{
	u64 flags = spin_lock_irqsave(&dev->cfg_lock);

	seq_write_begin(&dev->cfg_seq);
	dev->ipv4 = *cfg;
	seq_write_end(&dev->cfg_seq);
	spin_unlock_irqrestore(&dev->cfg_lock, flags);
	for (unsigned i = 0; i < nlisteners; i++)
		listeners[i](dev, cfg);
}

u32 netdev_mtu(const struct netdev *dev)
{
	return __atomic_load_n(&dev->mtu, __ATOMIC_RELAXED);
}

int netdev_set_mtu(struct netdev *dev, u32 mtu)
{
	if (mtu && mtu < NETDEV_MTU_MIN) {
		pr_warn("net: %s: MTU %u refused (below %u); keeping %u", dev->name, mtu,
			NETDEV_MTU_MIN, netdev_mtu(dev));
		return -EINVAL;
	}
	mtu = mtu ? MIN(mtu, dev->mtu_max) : dev->mtu_max;
	__atomic_store_n(&dev->mtu, mtu, __ATOMIC_RELAXED);
	return 0;
}

/* ------------------------------------------------------------ counters */

static void count(struct net_counters *c, u64 packets, u64 bytes, u64 drops, u64 errors)
{
	if (packets)
		__atomic_fetch_add(&c->packets, packets, __ATOMIC_RELAXED);
	if (bytes)
		__atomic_fetch_add(&c->bytes, bytes, __ATOMIC_RELAXED);
	if (drops)
		__atomic_fetch_add(&c->drops, drops, __ATOMIC_RELAXED);
	if (errors)
		__atomic_fetch_add(&c->errors, errors, __ATOMIC_RELAXED);
}

static struct net_counters *proto_ctr(struct netdev *dev, bool rx, enum net_proto p)
{
	p = p < NP_COUNT ? p : NP_OTHER;
	return rx ? &dev->stats.proto_rx[p] : &dev->stats.proto_tx[p];
}

void netdev_count_rx(struct netdev *dev, enum net_proto p, u32 bytes)
{
	count(proto_ctr(dev, true, p), 1, bytes, 0, 0);
}

void netdev_count_tx(struct netdev *dev, enum net_proto p, u32 bytes)
{
	count(proto_ctr(dev, false, p), 1, bytes, 0, 0);
}

void netdev_count_drop(struct netdev *dev, enum net_proto p)
{
	count(proto_ctr(dev, true, p), 0, 0, 1, 0);
}

void netdev_count_error(struct netdev *dev, enum net_proto p)
{
	count(proto_ctr(dev, true, p), 0, 0, 0, 1);
}

/* ------------------------------------------------------------ transmit */

int netdev_xmit(struct netdev *dev, struct netbuf *nb)
{
	u64 flags;
	int rc = 0;

	if (!__atomic_load_n(&dev->link_up, __ATOMIC_RELAXED)) {
		rc = -ENETDOWN;
	} else {
		flags = spin_lock_irqsave(&dev->txq_lock);
		if (dev->txq_len < NETDEV_QUEUE_LEN) {
			nb->dev = dev;
			list_add_tail(&nb->link, &dev->txq);
			dev->txq_len++;
		} else {
			rc = -ENOBUFS;
		}
		spin_unlock_irqrestore(&dev->txq_lock, flags);
	}
	if (rc) {
		count(&dev->stats.tx, 0, 0, 1, 0);
		nb_put(nb);
		return rc;
	}
	dev->ops->xmit(dev);
	return 0;
}

struct netbuf *netdev_tx_dequeue(struct netdev *dev)
{
	u64 flags = spin_lock_irqsave(&dev->txq_lock);
	struct netbuf *nb = NULL;

	if (!list_empty(&dev->txq)) {
		nb = list_first_entry(&dev->txq, struct netbuf, link);
		list_del_init(&nb->link);
		dev->txq_len--;
	}
	spin_unlock_irqrestore(&dev->txq_lock, flags);
	return nb;
}

void netdev_tx_done(struct netdev *dev, struct netbuf *nb, bool ok)
{
	if (ok)
		count(&dev->stats.tx, 1, nb->len, 0, 0);
	else
		count(&dev->stats.tx, 0, 0, 0, 1);
	nb_put(nb);
}

void netdev_tx_wake(struct netdev *dev)
{
	__atomic_fetch_or(&dev->poll_state, POLL_TX_WAKE, __ATOMIC_RELEASE);
	softirq_raise(SOFTIRQ_NET_TX);
}

static void net_tx_softirq(void)
{
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *dev = devs[i];

		if (__atomic_fetch_and(&dev->poll_state, ~POLL_TX_WAKE, __ATOMIC_ACQUIRE) &
		    POLL_TX_WAKE)
			dev->ops->xmit(dev);
	}
}

/* ------------------------------------------------------------- receive */

void netdev_rx(struct netdev *dev, struct netbuf *nb)
{
	u64 flags;
	bool queued = false;

	nb->dev = dev;
	flags = spin_lock_irqsave(&dev->rxq_lock);
	if (dev->rxq_len < NETDEV_QUEUE_LEN) {
		list_add_tail(&nb->link, &dev->rxq);
		dev->rxq_len++;
		queued = true;
	}
	spin_unlock_irqrestore(&dev->rxq_lock, flags);
	if (!queued) {
		count(&dev->stats.rx, 0, 0, 1, 0);
		nb_put(nb);
		return;
	}
	count(&dev->stats.rx, 1, nb->len, 0, 0);
	softirq_raise(SOFTIRQ_NET_RX);
}

void netdev_rx_error(struct netdev *dev)
{
	count(&dev->stats.rx, 0, 0, 0, 1);
}

void netdev_rx_drop(struct netdev *dev)
{
	count(&dev->stats.rx, 0, 0, 1, 0);
}

void netdev_schedule_poll(struct netdev *dev)
{
	__atomic_fetch_or(&dev->poll_state, POLL_SCHEDULED, __ATOMIC_RELEASE);
	softirq_raise(SOFTIRQ_NET_RX);
}

static struct netbuf *rxq_pop(struct netdev *dev)
{
	u64 flags = spin_lock_irqsave(&dev->rxq_lock);
	struct netbuf *nb = NULL;

	if (!list_empty(&dev->rxq)) {
		nb = list_first_entry(&dev->rxq, struct netbuf, link);
		list_del_init(&nb->link);
		dev->rxq_len--;
	}
	spin_unlock_irqrestore(&dev->rxq_lock, flags);
	return nb;
}

/* One pass over @dev with its token held; true when work is left. */
static bool rx_pass(struct netdev *dev)
{
	bool more = false;
	struct netbuf *nb;
	int n = 0;

	if (__atomic_fetch_and(&dev->poll_state, ~POLL_SCHEDULED, __ATOMIC_ACQUIRE) & POLL_SCHEDULED) {
		if (dev->ops->poll(dev, NETDEV_RX_BUDGET) >= NETDEV_RX_BUDGET) {
			__atomic_fetch_or(&dev->poll_state, POLL_SCHEDULED, __ATOMIC_RELAXED);
			more = true;
		}
	}
	while (n++ < NETDEV_RX_BUDGET && (nb = rxq_pop(dev))) {
		if (input)
			input(nb);
		else
			nb_put(nb);
	}
	return more;
}

static void net_rx_softirq(void)
{
	bool again = false;

	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *dev = devs[i];

		if (__atomic_fetch_or(&dev->poll_state, POLL_RUNNING, __ATOMIC_ACQUIRE) & POLL_RUNNING)
			continue; /* another CPU has it, and looks again when it lets go */
		rx_pass(dev);
		__atomic_fetch_and(&dev->poll_state, ~POLL_RUNNING, __ATOMIC_RELEASE);
		if ((__atomic_load_n(&dev->poll_state, __ATOMIC_ACQUIRE) & POLL_SCHEDULED) ||
		    __atomic_load_n(&dev->rxq_len, __ATOMIC_RELAXED))
			again = true;
	}
	if (again)
		softirq_raise(SOFTIRQ_NET_RX);
}

void netdev_init(void)
{
	softirq_register(SOFTIRQ_NET_RX, net_rx_softirq);
	softirq_register(SOFTIRQ_NET_TX, net_tx_softirq);
}
