/*
 * virtio_net.c — virtio network devices (virtio 1.x, section 5.1) as netdevs.
 *
 * Two queues: 0 receives, 1 transmits (no control queue: the device's
 * defaults — our MAC, broadcast and all multicast — are what we want).
 * Every frame on either ring is preceded by a struct virtio_net_hdr: 10
 * bytes on a legacy device, 12 (a num_buffers field more) on a modern one
 * or when merged receive buffers are negotiated.
 *
 * Receive.  The ring holds up to RX_BUFFERS_MAX netbufs from nb_alloc(0),
 * each posted device-writable whole (NB_BUF_SIZE bytes) with the netbuf
 * itself as the virtqueue token, so a completion names its buffer and
 * never a descriptor slot.  The interrupt handler only masks the RX
 * interrupt and asks for a poll; ops->poll (NET_RX SoftIrq) takes up to
 * its budget off the ring, strips the header (nb_pull) so data is at the
 * Ethernet header, stamps the TSC, hands each frame to netdev_rx() — the
 * very buffer the device wrote — and refills.  When the ring runs dry
 * before the budget does it unmasks and looks once more, so a frame that
 * arrived in between is not left waiting for an interrupt that never comes.
 * What the device says is checked: a used length below the header or past
 * the buffer, a frame shorter than an Ethernet header, a GSO frame we
 * never asked for or a checksum request that points outside the frame is
 * an error — counted in the device's rx errors, warned about once, and
 * the buffer goes straight back on the ring.
 *
 * Merged buffers (F_MRG_RXBUF) are negotiated for the 12-byte header
 * they bring to legacy devices; with 2 KiB buffers and a 1500-byte MTU
 * every frame fits one buffer.  A frame the device spreads over more
 * (num_buffers > 1: a peer sending past our MTU) is dropped with all its
 * buffers and counted as an rx drop.
 *
 * Checksums.  GUEST_CSUM is negotiated: a frame flagged DATA_VALID was
 * verified by the device and gets NB_F_CSUM_OK (the netdev advertises
 * NETDEV_F_RX_CSUM); one flagged NEEDS_CSUM carries only the partial
 * pseudo-header sum, and the driver completes it (the sum from csum_start
 * to the end, stored at csum_start + csum_offset), after which it is
 * correct by construction and also gets NB_F_CSUM_OK.  Transmit offload
 * (F_CSUM) is not negotiated: the stack computes every checksum, and a
 * netbuf has no field to mark a partial one.
 *
 * Transmit.  ops->xmit takes frames with netdev_tx_dequeue() while the
 * ring has room.  Each frame rides in a TX slot (the slot is the token):
 * when the netbuf is ours alone and has headroom for the header — always,
 * for nb_alloc_tx() buffers — the header is pushed in front of the frame
 * and the frame is one descriptor; otherwise (a shared netbuf must not be
 * changed, a foreign one may lack headroom) the slot's own header array is
 * a first descriptor.  A legacy device without ANY_LAYOUT always gets the
 * header in a descriptor of its own, on both rings.  Completions are
 * reclaimed by the TX interrupt, by xmit itself and by the watch timer;
 * when xmit had found the ring full, the reclaim that frees room calls
 * netdev_tx_wake() and the layer retries from the NET_TX SoftIrq.
 *
 * Interrupts come as the transport sets them up (MSI-X per queue, INTx,
 * or none with virtio_irq=poll).  A periodic watch timer per NIC (SoftIrq)
 * reclaims TX, retries an RX refill that ran out of netbufs and reads the
 * link status (F_STATUS) — every WATCH_NS, or every tick when polled, when
 * it also schedules the RX poll.  The transport does not deliver
 * configuration-change interrupts, hence the link is read by the timer.
 * Without F_MAC the NIC gets a random locally administered address.
 *
 * Locks.  rx_lock guards the RX ring (poll, refill, the timer, and the
 * interrupt handler's mask), tx_lock the TX ring and the slot free list
 * (xmit on any CPU, reclaim from the interrupt handler and the timer):
 * both are shared with hard-IRQ handlers, so always taken with interrupts
 * off.  They never nest in each other.  Under rx_lock the refill takes
 * the netbuf pool's lock (nb_alloc, nb_put); under tx_lock xmit takes
 * netdev's txq_lock (netdev_tx_dequeue) — both leaves.  Frames are handed up
 * (netdev_rx) and given back (netdev_tx_done) with neither held.
 *
 * Probe: slot page, transport, queues, configuration, interrupts, RX
 * buffers, DRIVER_OK, then netdev_register().  A failure before the
 * interrupts undoes all of it; one after resets the device, takes its RX
 * buffers back and keeps the rest, which the handlers still point at.
 */
#include "drivers/virtio/virtio_pci.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/printk.h"
#include "kernel/random.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"
#include "lib/byteorder.h"
#include "lib/format.h"
#include "lib/list.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "net/netdev_driver.h"

/* Feature bits (section 5.1.3). */
#define F_GUEST_CSUM (1ULL << 1)
#define F_MAC (1ULL << 5)
#define F_MRG_RXBUF (1ULL << 15)
#define F_STATUS (1ULL << 16)
#define F_ANY_LAYOUT (1ULL << 27)    /* legacy devices only; implied by VERSION_1 */
#define WANTED (F_GUEST_CSUM | F_MAC | F_MRG_RXBUF | F_STATUS | F_ANY_LAYOUT)

/* Device configuration. */
#define CFG_MAC 0
#define CFG_STATUS 6
#define S_LINK_UP 1

/* struct virtio_net_hdr, little-endian (x86's order on legacy devices too). */
#define H_FLAGS 0
#define H_GSO_TYPE 1
#define H_CSUM_START 6
#define H_CSUM_OFFSET 8
#define H_NUM_BUFFERS 10
#define HDR_LEGACY 10
#define HDR_FULL 12
#define HF_NEEDS_CSUM 1
#define HF_DATA_VALID 2

#define Q_RX 0
#define Q_TX 1
#define QUEUE_MAX 1024               /* what a legacy device may insist on */
#define RX_BUFFERS_MAX 256           /* posted netbufs per NIC, whatever the ring */
#define TX_SLOTS_MAX 256
#define RX_BATCH 32                  /* frames taken off the ring per lock hold */
#define ETH_HLEN 14
#define NET_MTU 1500

#define WATCH_NS 200000000ULL        /* link, refill and reclaim safety net */
#define POLL_NS 10000000ULL          /* one tick: virtio_irq=poll */

/* What is warned about once per NIC (afterwards only counted). */
enum vnet_warning { W_RX_LEN, W_RX_SHORT, W_RX_GSO, W_RX_CSUM, W_RX_MERGED, W_TX_TOKEN,
		    W_TX_FRAME, W_MAC };

struct vnet_slot {
	u8 hdr[HDR_FULL];            /* device-readable when the header rides apart */
	bool pushed;                 /* [tx] the header is in the frame's headroom */
	struct netbuf *nb;           /* [tx] the frame in flight; NULL when free */
	struct vnet_slot *next_free; /* [tx] */
};

/*
 * Legend: [I] set by probe before DRIVER_OK; [a] atomic; [rx] rx_lock;
 * [tx] tx_lock; [p] the poll path only (one CPU at a time, netdev_driver.h).
 */
struct vnet {
	struct virtio_pci vp;        /* [I] */
	struct netdev dev;           /* see netdev.h */
	u32 hdr_len;                 /* [I] HDR_LEGACY or HDR_FULL */
	bool split_hdr;              /* [I] the header in a descriptor of its own */
	bool registered;             /* [a] the handlers may talk to the netdev layer */
	u32 warned;                  /* [a] 1 << enum vnet_warning */
	struct ktimer watch;
	u32 watch_runs;              /* the timer's own */

	spinlock_t rx_lock;
	struct virtq rxq;            /* [rx] */
	u32 rx_posted;               /* [rx] netbufs the device holds */
	u32 rx_target;               /* [I] how many it should hold */
	u32 rx_skip;                 /* [p] buffers of a merged frame still to drop */

	spinlock_t tx_lock;
	struct virtq txq;            /* [tx] */
	struct vnet_slot *slots;     /* [I] SLOT_PAGES pages; nslots of them used */
	u32 nslots;                  /* [I] */
	struct vnet_slot *free_slots; /* [tx] */
	bool tx_full;                /* [tx] xmit found no room: wake the layer on reclaim */
};

#define SLOT_PAGES ((TX_SLOTS_MAX * sizeof(struct vnet_slot) + 4095) / 4096)
_Static_assert(4096 % sizeof(struct vnet_slot) == 0 && __builtin_offsetof(struct vnet_slot, hdr) == 0,
	       "a slot's header never crosses a page of the slot array");

static void vnet_warn_once(struct vnet *vn, enum vnet_warning w, const char *what, u32 v)
{
	if (__atomic_fetch_or(&vn->warned, 1u << w, __ATOMIC_RELAXED) & (1u << w))
		return;
	pr_warn("virtio-net: %s: %s (%u); further ones are only counted",
		vn->dev.name[0] ? vn->dev.name : "(new)", what, v);
}

static void count_rx_error(struct vnet *vn)
{
	netdev_rx_error(&vn->dev);
}

static void count_rx_drop(struct vnet *vn)
{
	netdev_rx_drop(&vn->dev);
}

/* ------------------------------------------------------------ receive ---- */

/* Post @nb (data reset to its head) device-writable whole; under rx_lock. */
static int rx_post(struct vnet *vn, struct netbuf *nb)
{
	struct virtq_sg sg[2];
	u64 bus;
	int rc;

	nb->data = nb->head;
	nb->len = 0;
	bus = nb_bus(nb);
	if (vn->split_hdr) {
		sg[0] = (struct virtq_sg){ bus, vn->hdr_len };
		sg[1] = (struct virtq_sg){ bus + vn->hdr_len, NB_BUF_SIZE - vn->hdr_len };
	} else {
		sg[0] = (struct virtq_sg){ bus, NB_BUF_SIZE };
	}
	rc = virtq_add(&vn->rxq, sg, 0, vn->split_hdr ? 2 : 1, nb);
	if (!rc)
		vn->rx_posted++;
	return rc;
}

/*
 * Put the buffers on @spare back on the ring, then new ones until it holds
 * rx_target; true when any were added (the caller kicks).  Under rx_lock.
 */
static bool rx_refill_locked(struct vnet *vn, struct list_head *spare)
{
	struct netbuf *nb, *tmp;
	bool added = false;

	list_for_each_entry_safe(nb, tmp, spare, link) {
		list_del(&nb->link);
		if (vn->rx_posted < vn->rx_target && rx_post(vn, nb) == 0)
			added = true;
		else
			nb_put(nb);
	}
	while (vn->rx_posted < vn->rx_target && (nb = nb_alloc(0)) != NULL) {
		if (rx_post(vn, nb)) {
			nb_put(nb);
			break;
		}
		added = true;
	}
	return added;
}

/* When rx_refill() notifies: never (before DRIVER_OK), if it added, or always. */
enum rx_kick { KICK_NEVER, KICK_IF_ADDED, KICK_ALWAYS };

static void rx_refill(struct vnet *vn, struct list_head *spare, enum rx_kick kick)
{
	u64 flags = spin_lock_irqsave(&vn->rx_lock);

	if ((rx_refill_locked(vn, spare) || kick == KICK_ALWAYS) && kick != KICK_NEVER)
		virtio_pci_kick(&vn->vp, &vn->rxq);
	spin_unlock_irqrestore(&vn->rx_lock, flags);
}

/*
 * A NEEDS_CSUM frame: the device left the pseudo-header sum in the
 * checksum field; summing from csum_start to the end over it gives the
 * real checksum.  False when the offsets point outside the frame.
 */
static bool rx_complete_csum(struct netbuf *nb, const u8 *hdr)
{
	u32 start = get_le16(hdr + H_CSUM_START), off = get_le16(hdr + H_CSUM_OFFSET);
	u16 sum;

	if (start >= nb->len || off + 2 > nb->len - start)
		return false;
	sum = inet_csum(nb->data + start, nb->len - start);
	put_be16(nb->data + start + off, sum ? sum : 0xFFFF); /* 0 means "none" to UDP */
	return true;
}

/* The header's checksum flags into nb->flags; false for a bad request. */
static bool rx_csum(struct vnet *vn, struct netbuf *nb, const u8 *hdr)
{
	if (!(vn->vp.features & F_GUEST_CSUM))
		return true; /* the flags mean nothing then: the checksums are complete */
	if (hdr[H_FLAGS] & HF_NEEDS_CSUM) {
		if (!rx_complete_csum(nb, hdr)) {
			vnet_warn_once(vn, W_RX_CSUM, "a checksum request outside the frame, length",
				       nb->len);
			return false;
		}
		nb->flags |= NB_F_CSUM_OK;
	} else if (hdr[H_FLAGS] & HF_DATA_VALID) {
		nb->flags |= NB_F_CSUM_OK;
	}
	return true;
}

/*
 * One used buffer, nb->len holding the length the device wrote.  Hands
 * it up and returns NULL, or returns it to go back on the ring.
 */
static struct netbuf *rx_one(struct vnet *vn, struct netbuf *nb)
{
	u8 hdr[HDR_FULL];
	u16 nbufs;

	if (vn->rx_skip) { /* the rest of a frame already dropped */
		vn->rx_skip--;
		return nb;
	}
	if (nb->len < vn->hdr_len || nb->len > NB_BUF_SIZE) {
		vnet_warn_once(vn, W_RX_LEN, "a used length outside the buffer", nb->len);
		count_rx_error(vn);
		return nb;
	}
	memcpy(hdr, nb->data, vn->hdr_len);
	nbufs = vn->vp.features & F_MRG_RXBUF ? get_le16(hdr + H_NUM_BUFFERS) : 1;
	if (nbufs > 1) {
		vn->rx_skip = MIN((u32)nbufs - 1, vn->rx_target);
		vnet_warn_once(vn, W_RX_MERGED, "dropped a frame spread over buffers", nbufs);
		count_rx_drop(vn);
		return nb;
	}
	nb_pull(nb, vn->hdr_len);
	nb->flags = 0;
	if (nb->len < ETH_HLEN || hdr[H_GSO_TYPE] != 0 || !rx_csum(vn, nb, hdr)) {
		if (nb->len < ETH_HLEN)
			vnet_warn_once(vn, W_RX_SHORT, "a frame shorter than its Ethernet header",
				       nb->len);
		else if (hdr[H_GSO_TYPE])
			vnet_warn_once(vn, W_RX_GSO, "a GSO frame we did not ask for, type",
				       hdr[H_GSO_TYPE]);
		count_rx_error(vn);
		return nb;
	}
	nb->dev = &vn->dev;
	nb->l2_off = (u16)nb_headroom(nb);
	nb->tsc = rdtsc();
	netdev_rx(&vn->dev, nb);
	return NULL;
}

/* Take up to @max used buffers off the ring onto @out (len = what was written). */
static int rx_take(struct vnet *vn, int max, struct list_head *out)
{
	u64 flags = spin_lock_irqsave(&vn->rx_lock);
	struct netbuf *nb;
	u32 len;
	int n;

	for (n = 0; n < max && (nb = virtq_get_used(&vn->rxq, &len)) != NULL; n++) {
		vn->rx_posted--;
		nb->data = nb->head;
		nb->len = len;
		list_add_tail(&nb->link, out);
	}
	spin_unlock_irqrestore(&vn->rx_lock, flags);
	return n;
}

/* One batch: take, hand up, refill.  How many buffers came off the ring. */
static int rx_batch(struct vnet *vn, int max)
{
	struct list_head taken = LIST_HEAD_INIT(taken), spare = LIST_HEAD_INIT(spare);
	struct netbuf *nb, *tmp;
	int n = rx_take(vn, max, &taken);

	list_for_each_entry_safe(nb, tmp, &taken, link) {
		list_del(&nb->link);
		nb = rx_one(vn, nb);
		if (nb)
			list_add_tail(&nb->link, &spare);
	}
	rx_refill(vn, &spare, KICK_IF_ADDED);
	return n;
}

/* Unmask the RX interrupt; true (and masked again) when frames came meanwhile. */
static bool rx_unmask(struct vnet *vn)
{
	u64 flags = spin_lock_irqsave(&vn->rx_lock);
	bool more = virtq_irq_on(&vn->rxq);

	if (more)
		virtq_irq_off(&vn->rxq);
	spin_unlock_irqrestore(&vn->rx_lock, flags);
	return more;
}

static int vnet_poll(struct netdev *dev, int budget)
{
	struct vnet *vn = dev->priv;
	int done = 0;

	while (done < budget) {
		int want = MIN(budget - done, RX_BATCH), n = rx_batch(vn, want);

		done += n;
		if (n == want)
			continue;
		if (vn->vp.irq_mode == VIRTIO_IRQ_POLL || !rx_unmask(vn))
			break; /* polled: the watch timer calls again */
	}
	return done;
}

static void rx_irq(struct vnet *vn)
{
	u64 flags;

	if (!virtq_has_used(&vn->rxq) || !__atomic_load_n(&vn->registered, __ATOMIC_ACQUIRE))
		return; /* INTx for the other queue; or too early: probe polls once after */
	flags = spin_lock_irqsave(&vn->rx_lock);
	virtq_irq_off(&vn->rxq);
	spin_unlock_irqrestore(&vn->rx_lock, flags);
	netdev_schedule_poll(&vn->dev);
}

/* After a reset: every netbuf the device held is ours again. */
static void rx_drain(struct vnet *vn)
{
	for (u16 i = 0; i < vn->rxq.size; i++) {
		nb_put(vn->rxq.cookies[i]);
		vn->rxq.cookies[i] = NULL;
	}
	vn->rx_posted = 0;
}

/* ----------------------------------------------------------- transmit ---- */

static struct vnet_slot *slot_get(struct vnet *vn)
{
	struct vnet_slot *s = vn->free_slots;

	if (s)
		vn->free_slots = s->next_free;
	return s;
}

static void slot_put(struct vnet *vn, struct vnet_slot *s)
{
	s->nb = NULL;
	s->next_free = vn->free_slots;
	vn->free_slots = s;
}

/* A token the TX ring gave back: one of our slots, with a frame in flight. */
static bool slot_valid(struct vnet *vn, struct vnet_slot *s)
{
	uintptr_t off = (uintptr_t)s - (uintptr_t)vn->slots;

	return (uintptr_t)s >= (uintptr_t)vn->slots && off < vn->nslots * sizeof(*s) &&
	       off % sizeof(*s) == 0 && s->nb;
}

/* Take every completed frame off the ring and give it back to the layer. */
static void tx_reclaim(struct vnet *vn)
{
	struct list_head done = LIST_HEAD_INIT(done);
	struct vnet_slot *s;
	struct netbuf *nb, *tmp;
	bool wake = false;
	u64 flags = spin_lock_irqsave(&vn->tx_lock);

	while ((s = virtq_get_used(&vn->txq, NULL)) != NULL) {
		if (!slot_valid(vn, s)) {
			vnet_warn_once(vn, W_TX_TOKEN, "an unknown TX token ignored", 0);
			continue;
		}
		nb = s->nb;
		if (s->pushed)
			nb_pull(nb, vn->hdr_len); /* the layer counts the frame, not our header */
		slot_put(vn, s);
		list_add_tail(&nb->link, &done);
		wake = vn->tx_full;
	}
	if (wake)
		vn->tx_full = false;
	spin_unlock_irqrestore(&vn->tx_lock, flags);
	list_for_each_entry_safe(nb, tmp, &done, link) {
		list_del(&nb->link);
		netdev_tx_done(&vn->dev, nb, true);
	}
	if (wake)
		netdev_tx_wake(&vn->dev);
}

/* Put @nb on the ring in slot @s; under tx_lock, with two descriptors free. */
static int tx_add(struct vnet *vn, struct vnet_slot *s, struct netbuf *nb)
{
	struct virtq_sg sg[2];
	unsigned n = 0;
	int rc;

	s->nb = nb;
	s->pushed = !vn->split_hdr && nb_headroom(nb) >= vn->hdr_len &&
		    __atomic_load_n(&nb->refs, __ATOMIC_ACQUIRE) == 1;
	if (s->pushed) {
		memset(nb_push(nb, vn->hdr_len), 0, vn->hdr_len);
	} else {
		memset(s->hdr, 0, sizeof(s->hdr));
		sg[n++] = (struct virtq_sg){ virt_to_phys(s->hdr), vn->hdr_len };
	}
	sg[n++] = (struct virtq_sg){ nb_bus(nb), nb->len };
	rc = virtq_add(&vn->txq, sg, n, 0, s);
	if (rc && s->pushed)
		nb_pull(nb, vn->hdr_len);
	return rc;
}

static bool tx_frame_ok(struct vnet *vn, const struct netbuf *nb)
{
	if (nb->len >= ETH_HLEN && nb->len <= ETH_HLEN + vn->dev.mtu)
		return true;
	vnet_warn_once(vn, W_TX_FRAME, "refused to send a frame of length", nb->len);
	return false;
}

static void vnet_xmit(struct netdev *dev)
{
	struct vnet *vn = dev->priv;
	struct list_head refused = LIST_HEAD_INIT(refused);
	struct netbuf *nb, *tmp;
	struct vnet_slot *s;
	bool added = false;
	u64 flags;

	tx_reclaim(vn);
	flags = spin_lock_irqsave(&vn->tx_lock);
	for (;;) {
		if (!vn->free_slots || vn->txq.num_free < 2) {
			vn->tx_full = true;
			break;
		}
		nb = netdev_tx_dequeue(dev);
		if (!nb)
			break;
		s = tx_frame_ok(vn, nb) ? slot_get(vn) : NULL;
		if (s && tx_add(vn, s, nb) == 0) {
			added = true;
			continue;
		}
		if (s)
			slot_put(vn, s);
		list_add_tail(&nb->link, &refused);
	}
	if (added)
		virtio_pci_kick(&vn->vp, &vn->txq);
	spin_unlock_irqrestore(&vn->tx_lock, flags);
	list_for_each_entry_safe(nb, tmp, &refused, link) {
		list_del(&nb->link);
		netdev_tx_done(dev, nb, false);
	}
}

/* ------------------------------------------------ interrupts and timer ---- */

static void vnet_on_queue(void *ctx, struct virtq *q)
{
	struct vnet *vn = ctx;

	if (q == &vn->rxq)
		rx_irq(vn);
	else if (q == &vn->txq)
		tx_reclaim(vn);
}

static bool link_read(struct vnet *vn)
{
	u16 status = 0;

	if (!(vn->vp.features & F_STATUS))
		return true; /* no status field: the link is always up */
	virtio_pci_config(&vn->vp, CFG_STATUS, &status, sizeof(status));
	return status & S_LINK_UP;
}

static void vnet_watch(struct ktimer *t, void *arg)
{
	struct vnet *vn = arg;
	bool polled = vn->vp.irq_mode == VIRTIO_IRQ_POLL, up;
	u32 posted;
	u64 flags;

	(void)t;
	tx_reclaim(vn);
	flags = spin_lock_irqsave(&vn->rx_lock);
	posted = vn->rx_posted;
	spin_unlock_irqrestore(&vn->rx_lock, flags);
	if (polled || posted < vn->rx_target)
		netdev_schedule_poll(&vn->dev); /* the poll refills as well */
	if (polled && ++vn->watch_runs % (WATCH_NS / POLL_NS))
		return;
	up = link_read(vn);
	if (up != __atomic_load_n(&vn->dev.link_up, __ATOMIC_RELAXED))
		netdev_set_link(&vn->dev, up);
}

/* ---------------------------------------------------------------- probe ---- */

static void read_mac(struct vnet *vn)
{
	struct mac_addr *m = &vn->dev.mac;

	if (vn->vp.features & F_MAC) {
		virtio_pci_config(&vn->vp, CFG_MAC, m->b, MAC_LEN);
		if (!mac_is_multicast(m) && !mac_eq(m, &mac_zero))
			return;
		vnet_warn_once(vn, W_MAC, "the device's MAC is not a unicast address; random one",
			       m->b[0]);
	}
	random_bytes(m->b, MAC_LEN);
	m->b[0] = (u8)((m->b[0] & ~1u) | 2u); /* unicast, locally administered */
}

static void setup_slots(struct vnet *vn)
{
	vn->nslots = MIN((u32)vn->txq.size, (u32)TX_SLOTS_MAX);
	for (u32 i = vn->nslots; i-- > 0;)
		slot_put(vn, &vn->slots[i]);
}

static void configure(struct vnet *vn)
{
	u64 f = vn->vp.features;

	vn->hdr_len = vn->vp.modern || (f & F_MRG_RXBUF) ? HDR_FULL : HDR_LEGACY;
	vn->split_hdr = !vn->vp.modern && !(f & F_ANY_LAYOUT);
	vn->rx_target = MIN((u32)vn->rxq.size / (vn->split_hdr ? 2u : 1u), (u32)RX_BUFFERS_MAX);
	setup_slots(vn);
	read_mac(vn);
	vn->dev.mtu = NET_MTU;
	vn->dev.features = f & F_GUEST_CSUM ? NETDEV_F_RX_CSUM : 0;
	vn->dev.priv = vn;
}

static const struct netdev_ops vnet_ops = {
	.xmit = vnet_xmit,
	.poll = vnet_poll,
};

static void describe(struct vnet *vn)
{
	static const struct { u64 bit; const char *name; } names[] = {
		{ VIRTIO_F_VERSION_1, "version_1" }, { F_MAC, "mac" }, { F_STATUS, "status" },
		{ F_MRG_RXBUF, "mrg_rxbuf" }, { F_GUEST_CSUM, "guest_csum" },
		{ F_ANY_LAYOUT, "any_layout" },
	};
	struct pci_dev *d = vn->vp.pdev;
	char feats[80] = "", mac[MAC_STR_MAX];
	size_t at = 0;

	for (size_t i = 0; i < ARRAY_SIZE(names) && at < sizeof(feats); i++)
		if (vn->vp.features & names[i].bit)
			at += (size_t)snprintf(feats + at, sizeof(feats) - at, "%s%s", at ? "," : "",
					       names[i].name);
	pr_info("virtio-net: %s %02x:%02x.%u %s transport, %s, mac %s, link %s, rx %u/%u tx %u, "
		"header %u%s, features %s", vn->dev.name, d->bus, d->dev, d->fn,
		vn->vp.modern ? "modern" : "legacy", virtio_irq_mode_name(vn->vp.irq_mode),
		mac_format(&vn->dev.mac, mac), vn->dev.link_up ? "up" : "down", vn->rx_posted,
		vn->rxq.size, vn->txq.size, vn->hdr_len, vn->split_hdr ? " apart" : "",
		at ? feats : "none");
}

static void start(struct vnet *vn)
{
	bool polled = vn->vp.irq_mode == VIRTIO_IRQ_POLL;

	__atomic_store_n(&vn->registered, true, __ATOMIC_RELEASE);
	describe(vn);
	ktimer_init(&vn->watch, vnet_watch, vn);
	ktimer_start(&vn->watch, polled ? POLL_NS : WATCH_NS, polled ? POLL_NS : WATCH_NS);
	netdev_schedule_poll(&vn->dev); /* whatever arrived before the handlers could ask */
}

static int vnet_probe(struct pci_dev *pdev)
{
	struct vnet *vn = kzalloc(sizeof(*vn));
	struct list_head none = LIST_HEAD_INIT(none);
	struct virtq *qs[2];
	int rc;

	if (!vn)
		return -ENOMEM;
	spin_lock_init(&vn->rx_lock, "virtio-net rx");
	spin_lock_init(&vn->tx_lock, "virtio-net tx");
	vn->slots = page_zalloc(SLOT_PAGES);
	if (!vn->slots) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = virtio_pci_setup(&vn->vp, pdev, WANTED);
	if (rc)
		goto out_teardown;
	rc = virtio_pci_queue(&vn->vp, &vn->rxq, Q_RX, QUEUE_MAX);
	if (rc)
		goto out_teardown;
	rc = virtio_pci_queue(&vn->vp, &vn->txq, Q_TX, QUEUE_MAX);
	if (rc)
		goto out_teardown;
	configure(vn);
	qs[0] = &vn->rxq;
	qs[1] = &vn->txq;
	virtio_pci_irq(&vn->vp, qs, 2, vnet_on_queue, vn, "virtio-net");
	vn->dev.link_up = link_read(vn); /* after the interrupts: legacy config moves with MSI-X */
	vn->dev.ops = &vnet_ops;
	rx_refill(vn, &none, KICK_NEVER); /* no notifications before DRIVER_OK */
	pdev->driver_data = &vn->vp;     /* for virtio_pci_shutdown */
	virtio_pci_ready(&vn->vp);
	rx_refill(vn, &none, KICK_ALWAYS); /* now tell the device about them */
	rc = netdev_register(&vn->dev);
	if (rc < 0)
		goto out_give_up;
	start(vn);
	return 0;

out_give_up:
	pr_warn("virtio-net %02x:%02x.%u: cannot register (%s)", pdev->bus, pdev->dev, pdev->fn,
		errno_name(rc));
	virtio_pci_give_up(&vn->vp);
	rx_drain(vn);                    /* reset: the device has let go of them */
	return rc;                       /* @vn stays: the interrupt handlers point at it */
out_teardown:
	virtio_pci_teardown(&vn->vp);
	page_free(vn->slots, SLOT_PAGES);
out_free:
	kfree(vn);
	return rc;
}

VIRTIO_PCI_DRIVER(virtio_net_driver, "virtio-net", VIRTIO_ID_NET, vnet_probe);
