/*
 * virtio_rng.c — the virtio entropy device as an entropy source.
 *
 * One queue; each request is a single device-writable buffer that the
 * device fills with random bytes.  Requests are served one at a time under
 * a mutex, from a page of our own (so the device writes into memory it was
 * given, never into the caller's).  The device's interrupt (MSI-X or INTx)
 * signals a wait group; with virtio_irq=poll the reader polls the ring
 * between short sleeps instead.  A device that does not answer within a
 * second gets -ETIMEDOUT and the registry falls back to the next source;
 * it is then considered broken (its buffer is still out) and never asked
 * again.
 */
#include "drivers/virtio/virtio_pci.h"
#include "errno.h"
#include "kernel/entropy.h"
#include "kernel/mutex.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"

#define RNG_QUEUE_MAX 64
#define RNG_TIMEOUT_NS 1000000000ULL
#define RNG_POLL_NS 100000ULL

struct virtio_rng {
	struct virtio_pci vp;
	spinlock_t vq_lock;       /* q: the reader and the interrupt */
	struct virtq q;           /* [vq_lock] */
	struct mutex lock;        /* one request at a time */
	u8 *page;                 /* [lock] the device's buffer */
	struct waitgroup done;    /* the request in flight */
	u32 got;                  /* [vq_lock] bytes the device wrote */
	bool broken;              /* [lock] it once did not answer */
	struct entropy_source src;
	char name[24];
};

/* Take the completed request, if any, off the ring. */
static bool rng_collect(struct virtio_rng *r)
{
	u64 flags = spin_lock_irqsave(&r->vq_lock);
	bool done = virtq_get_used(&r->q, &r->got) != NULL;

	spin_unlock_irqrestore(&r->vq_lock, flags);
	if (done)
		waitgroup_done(&r->done);
	return done;
}

static void rng_on_queue(void *ctx, struct virtq *q)
{
	(void)q;
	rng_collect(ctx);
}

static int rng_wait(struct virtio_rng *r)
{
	u64 deadline = time_ns() + RNG_TIMEOUT_NS;

	if (r->vp.irq_mode != VIRTIO_IRQ_POLL)
		return waitgroup_wait(&r->done, RNG_TIMEOUT_NS);
	while (!rng_collect(r)) {
		if (time_ns() > deadline)
			return -ETIMEDOUT;
		sched_sleep_ns(RNG_POLL_NS);
	}
	return 0;
}

/* One request for @len bytes (at most a page) into r->page. */
static int rng_request(struct virtio_rng *r, u32 len)
{
	struct virtq_sg sg = { virt_to_phys(r->page), len };
	u64 flags;
	int rc;

	waitgroup_init(&r->done);
	waitgroup_add(&r->done, 1);
	flags = spin_lock_irqsave(&r->vq_lock);
	rc = virtq_add(&r->q, &sg, 0, 1, r);
	if (!rc)
		virtio_pci_kick(&r->vp, &r->q);
	spin_unlock_irqrestore(&r->vq_lock, flags);
	if (!rc && (rc = rng_wait(r)) != 0) {
		r->broken = true;
		pr_err("%s: no answer in 1 s; not used again", r->name);
	}
	return rc;
}

static int rng_read(void *ctx, u8 *buf, size_t len)
{
	struct virtio_rng *r = ctx;
	u32 want = (u32)MIN(len, (size_t)4096), got = 0;
	int rc = -EIO;

	mutex_lock(&r->lock);
	if (!r->broken && (rc = rng_request(r, want)) == 0) {
		got = MIN(r->got, want); /* a device claiming more than we gave */
		memcpy(buf, r->page, got);
	}
	mutex_unlock(&r->lock);
	if (rc)
		return rc;
	return got ? (int)got : -EIO;
}

static int rng_probe(struct pci_dev *pdev)
{
	struct virtio_rng *r = kzalloc(sizeof(*r));
	struct virtq *qs[1];
	int rc;

	if (!r)
		return -ENOMEM;
	r->page = page_zalloc(1);
	rc = r->page ? virtio_pci_setup(&r->vp, pdev, 0) : -ENOMEM;
	if (!rc)
		rc = virtio_pci_queue(&r->vp, &r->q, 0, RNG_QUEUE_MAX);
	if (rc)
		goto out_free;
	mutex_init(&r->lock, "virtio-rng");
	spin_lock_init(&r->vq_lock, "virtio-rng");
	qs[0] = &r->q;
	virtio_pci_irq(&r->vp, qs, 1, rng_on_queue, r, "virtio-rng");
	virtio_pci_ready(&r->vp);
	snprintf(r->name, sizeof(r->name), "virtio-rng %02x:%02x.%u", pdev->bus, pdev->dev, pdev->fn);
	r->src = (struct entropy_source){ .name = r->name, .quality = 100, .read = rng_read,
					  .ctx = r };
	pdev->driver_data = &r->vp; /* for virtio_pci_shutdown */
	pr_info("virtio-rng: %s transport, %s, queue of %u", r->vp.modern ? "modern" : "legacy",
		virtio_irq_mode_name(r->vp.irq_mode), r->q.size);
	return entropy_register(&r->src);

out_free:
	if (r->page)
		page_free(r->page, 1);
	kfree(r);
	return rc;
}

static const struct pci_id rng_ids[] = {
	{ VIRTIO_VENDOR, 0x1005 }, /* transitional / legacy */
	{ VIRTIO_VENDOR, 0x1044 }, /* modern only */
	{ 0, 0 },
};

static const struct pci_driver virtio_rng_driver = {
	.name = "virtio-rng",
	.ids = rng_ids,
	.probe = rng_probe,
	.shutdown = virtio_pci_shutdown,
};
PCI_DRIVER(virtio_rng_driver);
