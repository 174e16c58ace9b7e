/*
 * virtio_rng.c — the virtio entropy device as an entropy source.
 *
 * One queue; each request is a single device-writable buffer that the
 * device fills with random bytes.  Requests are served one at a time under
 * a mutex, from a page of our own (so the device writes into memory it was
 * given, never into the caller's).  The device's interrupt (MSI-X or INTx)
 * signals a wait group; with virtio_irq=poll the reader polls the ring
 * between short sleeps instead.  A request the device has not answered
 * within a second gets -ETIMEDOUT (the registry falls back to the next
 * source) but stays out: the device owns the page until it answers, so
 * the next read waits for that same request again rather than posting a
 * new one.  A rate-limited device that is merely slow (QEMU's max-bytes /
 * period) thus keeps serving; a dead one costs each read a second.
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
	u32 want;                 /* [lock] bytes the request in flight asked for */
	bool late;                /* [lock] a request timed out and is still out */
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

/* Hand the device a request for @len bytes (at most a page) into r->page. */
static int rng_submit(struct virtio_rng *r, u32 len)
{
	struct virtq_sg sg = { virt_to_phys(r->page), len };
	u64 flags;
	int rc;

	waitgroup_init(&r->done);
	waitgroup_add(&r->done, 1);
	r->want = len;
	flags = spin_lock_irqsave(&r->vq_lock);
	rc = virtq_add(&r->q, &sg, 0, 1, r);
	if (!rc)
		virtio_pci_kick(&r->vp, &r->q);
	spin_unlock_irqrestore(&r->vq_lock, flags);
	return rc;
}

static int rng_read(void *ctx, u8 *buf, size_t len)
{
	struct virtio_rng *r = ctx;
	u32 got = 0;
	int rc = 0;

	mutex_lock(&r->lock);
	if (!r->late) /* else the late request is still out: wait for it again */
		rc = rng_submit(r, (u32)MIN(len, (size_t)4096));
	if (!rc && (rc = rng_wait(r)) != 0 && !r->late)
		pr_warn("%s: no answer in 1 s; the request stays out for the next read", r->name);
	r->late = rc == -ETIMEDOUT;
	if (!rc) {
		/* a device claiming more than it was given is not believed */
		got = MIN(MIN(r->got, r->want), (u32)len);
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
	if (!r->page) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = virtio_pci_setup(&r->vp, pdev, 0);
	if (rc)
		goto out_teardown;
	rc = virtio_pci_queue(&r->vp, &r->q, 0, RNG_QUEUE_MAX);
	if (rc)
		goto out_teardown;
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
	rc = entropy_register(&r->src);
	if (rc)
		goto out_give_up;
	return 0;

out_give_up:
	virtio_pci_give_up(&r->vp);
	return rc; /* @r stays: the interrupt handler points at it */
out_teardown:
	virtio_pci_teardown(&r->vp);
	page_free(r->page, 1);
out_free:
	kfree(r);
	return rc;
}

VIRTIO_PCI_DRIVER(virtio_rng_driver, "virtio-rng", VIRTIO_ID_RNG, rng_probe);
