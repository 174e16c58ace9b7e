/*
 * host_netdev.c — the netbuf pool and the netdev layer (net/netbuf.c,
 * net/netdev.c) on the host shim, under a test driver of its own whose
 * "ring" is an array the test fills and empties by hand.
 *
 * The registry is global for the run and never shrinks, so the test device
 * is registered once (on first use) and every check reads counters as
 * differences.
 */
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/string.h"
#include "net/netdev_driver.h"

#define RING 8

struct tdev {
	struct netdev dev;
	struct netbuf *ring[RING];     /* frames the "device" took to send */
	unsigned nring;
	unsigned xmit_calls;
	struct netbuf *rx_pending[RING]; /* frames the "device" received */
	unsigned nrx;
	unsigned polls;
};

static struct tdev td;
static struct netbuf *seen[NETDEV_QUEUE_LEN + 8];
static unsigned nseen;

static void t_xmit(struct netdev *dev)
{
	struct tdev *t = dev->priv;
	struct netbuf *nb;

	t->xmit_calls++;
	while (t->nring < RING && (nb = netdev_tx_dequeue(dev)))
		t->ring[t->nring++] = nb;
}

static int t_poll(struct netdev *dev, int budget)
{
	struct tdev *t = dev->priv;
	int n = 0;

	t->polls++;
	while (n < budget && t->nrx) {
		netdev_rx(dev, t->rx_pending[--t->nrx]);
		n++;
	}
	return n;
}

static const struct netdev_ops t_ops = { .xmit = t_xmit, .poll = t_poll };

static void record(struct netbuf *nb)
{
	if (nseen < ARRAY_SIZE(seen))
		seen[nseen++] = nb;
	else
		nb_put(nb);
}

static struct tdev *tdev(struct ktest_ctx *kt)
{
	netdev_init(); /* the SoftIrq handlers; again is harmless */
	if (!td.dev.ops) {
		td.dev.ops = &t_ops;
		td.dev.priv = &td;
		td.dev.mtu = 1500;
		td.dev.mac = (struct mac_addr){ { 0x52, 0x54, 0, 0, 0, 0x42 } };
		td.dev.link_up = true;
		shim_forever_begin();
		KT_EXPECT(netdev_register(&td.dev) >= 0);
		shim_forever_end();
	}
	return &td;
}

static void drain_ring(struct tdev *t, bool ok)
{
	while (t->nring)
		netdev_tx_done(&t->dev, t->ring[--t->nring], ok);
}

static void release_seen(void)
{
	while (nseen)
		nb_put(seen[--nseen]);
}

static u32 in_use(void)
{
	struct nb_pool_stats st;

	nb_pool_stats(&st);
	return st.in_use;
}

static void done(void)
{
	nb_pool_shrink();
}

KTEST(netbuf, push_pull_append_trim_stay_in_bounds)
{
	struct netbuf *nb = nb_alloc(64);
	u8 *p;

	KT_ASSERT(nb);
	KT_EXPECT_EQ(nb_headroom(nb), 64);
	KT_EXPECT_EQ(nb->len, 0);
	KT_EXPECT_EQ(nb_tailroom(nb), NB_BUF_SIZE - 64);
	KT_ASSERT((p = nb_append(nb, 100)));
	memset(p, 0xab, 100);
	KT_EXPECT(nb_push(nb, 65) == NULL);          /* more than the headroom */
	KT_EXPECT_EQ(nb->len, 100);
	KT_ASSERT((p = nb_push(nb, 64)));
	KT_EXPECT(p == nb->head && nb->len == 164 && nb_headroom(nb) == 0);
	KT_EXPECT(nb_pull(nb, 165) == NULL);
	KT_EXPECT(nb_pull(nb, 64) == nb->head + 64);
	KT_EXPECT(nb_append(nb, nb_tailroom(nb) + 1) == NULL);
	KT_EXPECT_EQ(nb_append_bytes(nb, "xyz", 3), 0);
	KT_EXPECT(!memcmp(nb->data + 100, "xyz", 3));
	nb_trim(nb, 200);
	KT_EXPECT_EQ(nb->len, 103);
	nb_trim(nb, 10);
	KT_EXPECT_EQ(nb->len, 10);
	KT_EXPECT(nb_alloc(NB_BUF_SIZE) == NULL);
	nb_put(nb);
	done();
}

KTEST(netbuf, references_clone_and_the_pool_counts)
{
	u32 before = in_use();
	struct netbuf *nb = nb_alloc_tx(), *c;

	KT_ASSERT(nb);
	KT_EXPECT_EQ(in_use(), before + 1);
	KT_EXPECT_EQ(nb_append_bytes(nb, "hello", 5), 0);
	nb->flags = NB_F_BCAST;
	KT_ASSERT((c = nb_clone(nb)));
	KT_EXPECT(c != nb && c->len == 5 && !memcmp(c->data, "hello", 5));
	KT_EXPECT_EQ(nb_headroom(c), NB_HEADROOM);
	KT_EXPECT_EQ(c->flags, NB_F_BCAST);
	nb_get(nb);
	nb_put(nb);
	KT_EXPECT_EQ(in_use(), before + 2);           /* one reference left */
	nb_put(nb);
	nb_put(c);
	nb_put(NULL);
	KT_EXPECT_EQ(in_use(), before);
	done();
}

KTEST(netbuf, the_pool_is_bounded_and_a_flood_gets_null)
{
	static struct netbuf *all[NB_POOL_MAX];
	struct nb_pool_stats st;
	unsigned n = 0;

	nb_pool_stats(&st);
	while (n < NB_POOL_MAX && (all[n] = nb_alloc(0)))
		n++;
	KT_EXPECT_EQ(n, NB_POOL_MAX - st.in_use);
	KT_EXPECT(nb_alloc(0) == NULL);
	nb_pool_stats(&st);
	KT_EXPECT(st.fails >= 1 && st.total == NB_POOL_MAX);
	while (n)
		nb_put(all[--n]);
	KT_ASSERT((all[0] = nb_alloc(0)));            /* the cache serves again */
	nb_put(all[0]);
	done();
	nb_pool_stats(&st);
	KT_EXPECT_EQ(st.cached, 0);
}

KTEST(netbuf, a_failed_allocation_is_null_not_a_crash)
{
	u32 before = in_use();

	nb_pool_shrink();
	shim_mem_fail_nth(1);
	KT_EXPECT(nb_alloc(0) == NULL);
	shim_mem_fail_nth(2);                         /* the buffer after the descriptor */
	KT_EXPECT(nb_alloc(0) == NULL);
	shim_mem_fail_nth(0);
	KT_EXPECT_EQ(in_use(), before);
}

KTEST(netdev, registration_names_and_refuses)
{
	struct tdev *t = tdev(kt);
	struct netdev bad = { .mtu = 1500 };

	KT_EXPECT(!strncmp(t->dev.name, "eth", 3));
	KT_EXPECT(netdev_find(t->dev.name) == &t->dev);
	KT_EXPECT(netdev_at(t->dev.index) == &t->dev);
	KT_EXPECT(netdev_find("eth9") == NULL);
	KT_EXPECT(netdev_at(NETDEV_MAX) == NULL);
	KT_EXPECT_EQ(netdev_register(&bad), -EINVAL);   /* no ops */
	bad.ops = &t_ops;
	bad.mtu = 0;
	KT_EXPECT_EQ(netdev_register(&bad), -EINVAL);   /* no MTU */
}

KTEST(netdev, mtu_is_clamped_to_the_driver_and_put_back)
{
	struct tdev *t = tdev(kt);

	KT_EXPECT_EQ(t->dev.mtu_max, 1500);
	KT_EXPECT_EQ(netdev_set_mtu(&t->dev, 1460), 0);
	KT_EXPECT_EQ(netdev_mtu(&t->dev), 1460);
	KT_EXPECT_EQ(t->dev.mtu, 1460);                 /* what ip.c and tcp.c read */
	KT_EXPECT_EQ(netdev_set_mtu(&t->dev, 9000), 0); /* past the driver's: its most */
	KT_EXPECT_EQ(netdev_mtu(&t->dev), 1500);
	KT_EXPECT_EQ(netdev_set_mtu(&t->dev, NETDEV_MTU_MIN), 0);
	KT_EXPECT_EQ(netdev_mtu(&t->dev), NETDEV_MTU_MIN);
	KT_EXPECT_EQ(netdev_set_mtu(&t->dev, NETDEV_MTU_MIN - 1), -EINVAL);
	KT_EXPECT_EQ(netdev_set_mtu(&t->dev, 68), -EINVAL);
	KT_EXPECT_EQ(netdev_mtu(&t->dev), NETDEV_MTU_MIN); /* refused: kept */
	KT_EXPECT(shim_log_count(LOG_WARN, "MTU 68 refused (below 576); keeping 576") > 0);
	KT_EXPECT_EQ(netdev_set_mtu(&t->dev, 0), 0);    /* the driver's again */
	KT_EXPECT_EQ(netdev_mtu(&t->dev), 1500);
	KT_EXPECT_EQ(t->dev.mtu_max, 1500);
}

KTEST(netdev, transmit_queue_is_bounded_and_drains_on_wake)
{
	struct tdev *t = tdev(kt);
	u64 drops = t->dev.stats.tx.drops, sent = t->dev.stats.tx.packets;
	u32 before = in_use();
	unsigned accepted = 0;

	for (unsigned i = 0; i < RING + NETDEV_QUEUE_LEN + 5; i++) {
		struct netbuf *nb = nb_alloc_tx();

		KT_ASSERT(nb);
		KT_ASSERT_EQ(nb_append_bytes(nb, &i, sizeof(i)), 0);
		if (netdev_xmit(&t->dev, nb) == 0)
			accepted++;
	}
	/* the ring took RING, the queue NETDEV_QUEUE_LEN, the rest dropped */
	KT_EXPECT_EQ(accepted, RING + NETDEV_QUEUE_LEN);
	KT_EXPECT_EQ(t->dev.stats.tx.drops - drops, 5);
	KT_EXPECT_EQ(t->nring, RING);
	for (unsigned i = 0; i < RING; i++)           /* in order */
		KT_EXPECT_EQ(*(unsigned *)t->ring[i]->data, i);
	while (t->nring) {
		drain_ring(t, true);
		netdev_tx_wake(&t->dev);
		shim_softirq_run();
	}
	KT_EXPECT_EQ(t->dev.stats.tx.packets - sent, RING + NETDEV_QUEUE_LEN);
	KT_EXPECT_EQ(t->dev.txq_len, 0);
	KT_EXPECT_EQ(in_use(), before);
	done();
}

KTEST(netdev, link_down_refuses_and_frees)
{
	struct tdev *t = tdev(kt);
	u32 before = in_use();
	struct netbuf *nb = nb_alloc_tx();

	KT_ASSERT(nb);
	netdev_set_link(&t->dev, false);
	KT_EXPECT_EQ(netdev_xmit(&t->dev, nb), -ENETDOWN);
	netdev_set_link(&t->dev, true);
	KT_EXPECT_LOGGED("link down");
	KT_EXPECT_EQ(in_use(), before);
	done();
}

KTEST(netdev, received_frames_go_up_in_order_within_the_budget)
{
	struct tdev *t = tdev(kt);
	netdev_input_fn old = netdev_set_input(record);
	u64 rx = t->dev.stats.rx.packets;
	u32 before = in_use();

	for (unsigned i = 0; i < RING; i++) {
		struct netbuf *nb = nb_alloc(0);

		KT_ASSERT(nb);
		KT_ASSERT_EQ(nb_append_bytes(nb, &i, sizeof(i)), 0);
		t->rx_pending[RING - 1 - i] = nb;     /* t_poll takes from the end */
	}
	t->nrx = RING;
	netdev_schedule_poll(&t->dev);
	shim_softirq_run();
	KT_EXPECT_EQ(nseen, RING);
	for (unsigned i = 0; i < nseen; i++) {
		KT_EXPECT_EQ(*(unsigned *)seen[i]->data, i);
		KT_EXPECT(seen[i]->dev == &t->dev);
	}
	KT_EXPECT_EQ(t->dev.stats.rx.packets - rx, RING);
	release_seen();
	netdev_set_input(old);
	KT_EXPECT_EQ(in_use(), before);
	done();
}

KTEST(netdev, a_full_receive_queue_drops_and_counts)
{
	struct tdev *t = tdev(kt);
	netdev_input_fn old = netdev_set_input(record);
	u64 drops = t->dev.stats.rx.drops;
	u32 before = in_use();

	/* straight into netdev_rx, with no SoftIrq run in between */
	for (unsigned i = 0; i < NETDEV_QUEUE_LEN + 3; i++) {
		struct netbuf *nb = nb_alloc(0);

		KT_ASSERT(nb);
		netdev_rx(&t->dev, nb);
	}
	KT_EXPECT_EQ(t->dev.stats.rx.drops - drops, 3);
	shim_softirq_run();                           /* several passes of the budget */
	KT_EXPECT_EQ(nseen, NETDEV_QUEUE_LEN);
	release_seen();
	netdev_set_input(old);
	KT_EXPECT_EQ(in_use(), before);
	done();
}

static unsigned heard;
static struct netdev_ipv4 heard_cfg;

static void listener(struct netdev *dev, const struct netdev_ipv4 *cfg)
{
	heard++;
	heard_cfg = *cfg;
}

KTEST(netdev, ipv4_configuration_and_its_listeners)
{
	static bool listening;
	struct tdev *t = tdev(kt);
	struct netdev_ipv4 cfg = { .addr = ip_v4_bytes(10, 0, 2, 15), .prefix = 24,
				   .gw = ip_v4_bytes(10, 0, 2, 2), .source = NET_CFG_STATIC }, out;
	unsigned before;

	if (!listening) {
		KT_ASSERT_EQ(netdev_listen_ipv4(listener), 0);
		listening = true;
	}
	before = heard;
	netdev_set_ipv4(&t->dev, &cfg);
	netdev_get_ipv4(&t->dev, &out);
	KT_EXPECT(ip_eq(&out.addr, &cfg.addr) && out.prefix == 24 && ip_eq(&out.gw, &cfg.gw));
	KT_EXPECT_EQ(heard, before + 1);
	KT_EXPECT(ip_eq(&heard_cfg.addr, &cfg.addr));
	memset(&cfg, 0, sizeof(cfg));
	netdev_set_ipv4(&t->dev, &cfg);
	netdev_get_ipv4(&t->dev, &out);
	KT_EXPECT_EQ(out.addr.family, IP_NONE);
	/* other listeners (ARP's gratuitous announcement) may have sent frames */
	shim_softirq_run();
	drain_ring(t, true);
	done();
}
