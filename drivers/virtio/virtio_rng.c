/*
 * virtio_rng.c — the virtio entropy device as an entropy source.
 *
 * One queue; each request is a single device-writable buffer that the
 * device fills with random bytes.  Requests are served one at a time under
 * a mutex, from a page of our own (so the device writes into memory it was
 * given, never into the caller's), and completion is polled with short
 * sleeps: entropy requests are rare and small.  A device that does not
 * answer within a second gets -ETIMEDOUT and the registry falls back to
 * the next source.
 */
#include "drivers/virtio/virtio_pci.h"
#include "errno.h"
#include "kernel/entropy.h"
#include "kernel/mutex.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"

#define RNG_QUEUE_MAX 64
#define RNG_TIMEOUT_NS 1000000000ULL

struct virtio_rng {
	struct virtio_pci vp;
	struct virtq q;           /* [lock] */
	struct mutex lock;        /* one request at a time */
	u8 *page;                 /* [lock] the device's buffer */
	struct entropy_source src;
	char name[24];
};

static int rng_read(void *ctx, u8 *buf, size_t len)
{
	struct virtio_rng *r = ctx;
	struct virtq_sg sg = { virt_to_phys(r->page), (u32)MIN(len, (size_t)4096) };
	u64 deadline = time_ns() + RNG_TIMEOUT_NS;
	u32 got = 0;
	int rc;

	mutex_lock(&r->lock);
	rc = virtq_add(&r->q, &sg, 0, 1, r);
	if (!rc) {
		if (virtq_publish(&r->q))
			virtio_pci_notify(&r->vp, &r->q);
		while (!virtq_get_used(&r->q, &got) && (rc = time_ns() < deadline ? 0 : -ETIMEDOUT) == 0)
			sched_sleep_ns(100000);
	}
	if (!rc && got > sg.len)
		got = sg.len; /* a device claiming more than we gave */
	if (!rc)
		memcpy(buf, r->page, got);
	mutex_unlock(&r->lock);
	if (rc)
		return rc;
	return got ? (int)got : -EIO;
}

static int rng_probe(struct pci_dev *pdev)
{
	struct virtio_rng *r = kzalloc(sizeof(*r));
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
	virtio_pci_ready(&r->vp);
	snprintf(r->name, sizeof(r->name), "virtio-rng %02x:%02x.%u", pdev->bus, pdev->dev, pdev->fn);
	r->src = (struct entropy_source){ .name = r->name, .quality = 100, .read = rng_read,
					  .ctx = r };
	strlcpy(pdev->irq_desc, "none (polled)", sizeof(pdev->irq_desc));
	pdev->driver_data = &r->vp; /* for virtio_pci_shutdown */
	pr_info("virtio-rng: %s transport, queue of %u", r->vp.modern ? "modern" : "legacy",
		r->q.size);
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
