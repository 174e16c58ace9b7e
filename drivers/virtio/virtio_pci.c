/*
 * virtio_pci.c — the virtio PCI transport (see virtio_pci.h).
 *
 * Modern layout: each vendor capability (id 0x09) is { vndr, next, len,
 * cfg_type, bar, pad[3], le32 offset, le32 length } and, for the notify
 * capability, a le32 notify_off_multiplier after it.  cfg_type 1 = common
 * configuration, 2 = notifications, 3 = ISR status, 4 = device config.
 * A queue's notify address is notify + queue_notify_off * multiplier.
 *
 * Legacy layout (I/O BAR 0): 0x00 device features, 0x04 driver features,
 * 0x08 queue PFN, 0x0C queue size, 0x0E queue select, 0x10 queue notify,
 * 0x12 status, 0x13 ISR, device config from 0x14 (no MSI-X).
 *
 * What a device says about itself is checked before it is used: a
 * capability must fit in its BAR, a legacy BAR must hold the registers,
 * configuration reads past the device's configuration area read as zeros,
 * and a queue's notify offset must be inside the notify area.
 */
#include "drivers/virtio/virtio_pci.h"
#include "errno.h"
#include "kernel/params.h"
#include "kernel/printk.h"
#include "kernel/x86.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"
#include "lib/string.h"

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

/* Common configuration offsets. */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0C
#define C_MSIX_CONFIG 0x10
#define C_STATUS 0x14
#define C_Q_SELECT 0x16
#define C_Q_SIZE 0x18
#define C_Q_MSIX 0x1A
#define C_Q_ENABLE 0x1C
#define C_Q_NOTIFY_OFF 0x1E
#define C_Q_DESC 0x20
#define C_Q_DRIVER 0x28
#define C_Q_DEVICE 0x30

/* Legacy registers. */
#define L_DF 0x00
#define L_GF 0x04
#define L_Q_PFN 0x08
#define L_Q_SIZE 0x0C
#define L_Q_SELECT 0x0E
#define L_Q_NOTIFY 0x10
#define L_STATUS 0x12
#define L_ISR 0x13
#define L_MSIX_CONFIG 0x14
#define L_Q_MSIX 0x16
#define L_CONFIG 0x14        /* device config without MSI-X */
#define L_CONFIG_MSIX 0x18   /* ... and with MSI-X enabled */

#define NO_VECTOR 0xFFFF
#define ISR_QUEUE 1

KPARAM(virtio_irq, "virtio_irq", "msix|intx|poll",
       "virtio interrupts: MSI-X per queue (default, INTx when absent), INTx only, or polled");

static void w8(volatile u8 *b, u32 off, u8 v) { *(volatile u8 *)(b + off) = v; }
static void w16(volatile u8 *b, u32 off, u16 v) { *(volatile u16 *)(b + off) = v; }
static void w32(volatile u8 *b, u32 off, u32 v) { *(volatile u32 *)(b + off) = v; }
static u8 r8(volatile u8 *b, u32 off) { return *(volatile u8 *)(b + off); }
static u16 r16(volatile u8 *b, u32 off) { return *(volatile u16 *)(b + off); }
static u32 r32(volatile u8 *b, u32 off) { return *(volatile u32 *)(b + off); }

static void w64(volatile u8 *b, u32 off, u64 v)
{
	w32(b, off, (u32)v);
	w32(b, off + 4, (u32)(v >> 32));
}

/* Map the part of a BAR a capability points at; NULL when it does not fit. */
static volatile u8 *map_cap(struct pci_dev *d, u8 bar, u32 off, u32 len)
{
	const struct pci_bar *b;

	if (bar > 5)
		return NULL;
	b = &d->bars[bar];
	if ((b->kind != PCI_BAR_MEM32 && b->kind != PCI_BAR_MEM64) || !len ||
	    (u64)off + len > b->size)
		return NULL;
	return mmio_map(b->base + off, len);
}

static void modern_cap(struct virtio_pci *vp, u8 at)
{
	struct pci_dev *d = vp->pdev;
	u8 type = pci_read8(d, at + 3), bar = pci_read8(d, at + 4);
	u32 off = pci_read32(d, at + 8), len = pci_read32(d, at + 12);
	volatile u8 *m;

	if (type < CAP_COMMON || type > CAP_DEVICE)
		return;
	m = map_cap(d, bar, off, len);
	if (type == CAP_COMMON && !vp->common)
		vp->common = m;
	else if (type == CAP_NOTIFY && !vp->notify) {
		vp->notify = m;
		vp->notify_len = len;
		vp->notify_mult = pci_read32(d, at + 16);
	} else if (type == CAP_ISR && !vp->isr) {
		vp->isr = m;
	} else if (type == CAP_DEVICE && !vp->device_cfg) {
		vp->device_cfg = m;
		vp->device_cfg_len = m ? len : 0;
	}
}

static bool find_modern(struct virtio_pci *vp)
{
	struct pci_dev *d = vp->pdev;

	for (unsigned i = 0; i < d->ncaps; i++)
		if (d->caps[i].id == PCI_CAP_VENDOR)
			modern_cap(vp, d->caps[i].offset);
	return vp->common && vp->notify && vp->isr;
}

static void set_status(struct virtio_pci *vp, u8 s)
{
	if (vp->modern)
		w8(vp->common, C_STATUS, s);
	else
		outb(vp->io + L_STATUS, s);
}

static u8 get_status(struct virtio_pci *vp)
{
	return vp->modern ? r8(vp->common, C_STATUS) : inb(vp->io + L_STATUS);
}

/* Whether setup found registers to talk to (after a failed one, maybe not). */
static bool have_transport(const struct virtio_pci *vp)
{
	return vp->modern || vp->io;
}

void virtio_pci_reset(struct virtio_pci *vp)
{
	if (!have_transport(vp))
		return;
	set_status(vp, 0);
	for (unsigned i = 0; i < 100000 && get_status(vp); i++)
		cpu_relax(); /* a modern device reads 0 once the reset is done */
}

void virtio_pci_shutdown(struct pci_dev *pdev)
{
	virtio_pci_reset(pdev->driver_data);
}

static u64 device_features(struct virtio_pci *vp)
{
	if (!vp->modern)
		return inl(vp->io + L_DF);
	w32(vp->common, C_DFSELECT, 0);
	u64 lo = r32(vp->common, C_DF);
	w32(vp->common, C_DFSELECT, 1);
	return lo | ((u64)r32(vp->common, C_DF) << 32);
}

static void driver_features(struct virtio_pci *vp, u64 f)
{
	if (!vp->modern) {
		outl(vp->io + L_GF, (u32)f);
		return;
	}
	w32(vp->common, C_GFSELECT, 0);
	w32(vp->common, C_GF, (u32)f);
	w32(vp->common, C_GFSELECT, 1);
	w32(vp->common, C_GF, (u32)(f >> 32));
}

static int negotiate(struct virtio_pci *vp, u64 wanted)
{
	u64 offered = device_features(vp);

	if (vp->modern)
		wanted |= VIRTIO_F_VERSION_1;
	vp->features = offered & wanted;
	if (vp->modern && !(vp->features & VIRTIO_F_VERSION_1))
		return -EPROTO;
	driver_features(vp, vp->features);
	if (!vp->modern)
		return 0;
	set_status(vp, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return get_status(vp) & VIRTIO_STATUS_FEATURES_OK ? 0 : -EPROTO;
}

/* The legacy I/O BAR, when it is one and holds the registers. */
static int find_legacy(struct virtio_pci *vp)
{
	const struct pci_bar *b = &vp->pdev->bars[0];

	if (b->kind != PCI_BAR_IO || b->size < L_CONFIG || b->base + b->size > 0x10000)
		return -ENODEV;
	vp->io = (u16)b->base;
	vp->io_len = (u32)b->size;
	return 0;
}

static void say(struct virtio_pci *vp, const char *what)
{
	struct pci_dev *d = vp->pdev;

	pr_warn("virtio %02x:%02x.%u: %s", d->bus, d->dev, d->fn, what);
}

int virtio_pci_setup(struct virtio_pci *vp, struct pci_dev *pdev, u64 wanted)
{
	int rc;

	*vp = (struct virtio_pci){ .pdev = pdev };
	pci_enable(pdev);
	vp->modern = find_modern(vp);
	if (!vp->modern && (rc = find_legacy(vp)) != 0) {
		say(vp, "no usable transport (no virtio capabilities, and no legacy I/O BAR "
			"that holds the registers)");
		return rc;
	}
	virtio_pci_reset(vp);
	set_status(vp, VIRTIO_STATUS_ACK);
	set_status(vp, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	rc = negotiate(vp, wanted);
	if (rc)
		say(vp, "the device refused the features");
	return rc;
}

static void rings_free(struct virtio_pci *vp)
{
	while (vp->nrings) {
		struct virtio_ring_mem *r = &vp->rings[--vp->nrings];

		page_free(r->mem, r->pages);
		kfree(r->cookies);
	}
}

void virtio_pci_give_up(struct virtio_pci *vp)
{
	virtio_pci_reset(vp);
	if (have_transport(vp))
		set_status(vp, VIRTIO_STATUS_FAILED);
}

void virtio_pci_teardown(struct virtio_pci *vp)
{
	virtio_pci_give_up(vp); /* first: the device lets go of the rings */
	rings_free(vp);
}

static int queue_modern(struct virtio_pci *vp, struct virtq *q, u16 index, u16 max, void *mem,
			void **cookies)
{
	u16 size;
	u64 pa = virt_to_phys(mem), notify_at;

	w16(vp->common, C_Q_SELECT, index);
	size = r16(vp->common, C_Q_SIZE);
	if (!size)
		return -ENOENT;
	/* Each queue's notify address is fixed: look it up once, not per kick
	 * (queue_select is shared by all the device's queues). */
	notify_at = (u64)r16(vp->common, C_Q_NOTIFY_OFF) * vp->notify_mult;
	if (notify_at + 2 > vp->notify_len) {
		say(vp, "a queue's notify offset is outside the notify area");
		return -EIO;
	}
	size = size < max ? size : max;
	while (size & (size - 1))
		size &= (u16)(size - 1); /* split rings need a power of two */
	w16(vp->common, C_Q_SIZE, size);
	virtq_init(q, index, size, mem, cookies);
	q->notify_at = (u32)notify_at;
	w16(vp->common, C_Q_MSIX, 0xFFFF); /* no MSI-X vector: polled or INTx */
	w64(vp->common, C_Q_DESC, pa);
	w64(vp->common, C_Q_DRIVER, pa + virtq_avail_offset(size));
	w64(vp->common, C_Q_DEVICE, pa + virtq_used_offset(size));
	w16(vp->common, C_Q_ENABLE, 1);
	return 0;
}

static int queue_legacy(struct virtio_pci *vp, struct virtq *q, u16 index, u16 max, void *mem,
			void **cookies)
{
	u16 size;

	outw(vp->io + L_Q_SELECT, index);
	size = inw(vp->io + L_Q_SIZE);
	if (!size)
		return -ENOENT;
	if (size > max || (size & (size - 1))) { /* legacy sizes are fixed by the device */
		pr_warn("virtio %02x:%02x.%u: legacy queue %u has %u entries; the driver takes "
			"a power of two up to %u", vp->pdev->bus, vp->pdev->dev, vp->pdev->fn,
			index, size, max);
		return -ENOSPC;
	}
	virtq_init(q, index, size, mem, cookies);
	outl(vp->io + L_Q_PFN, (u32)(virt_to_phys(mem) >> 12));
	return 0;
}

int virtio_pci_queue(struct virtio_pci *vp, struct virtq *q, u16 index, u16 max_size)
{
	size_t bytes = virtq_bytes(max_size);
	unsigned pages = (unsigned)((bytes + 4095) / 4096);
	void *mem, **cookies;
	int rc;

	if (vp->nrings == VIRTIO_PCI_QUEUES_MAX)
		return -E2BIG;
	mem = page_zalloc(pages);
	if (!mem)
		return -ENOMEM;
	cookies = kzalloc(sizeof(void *) * max_size);
	if (!cookies) {
		rc = -ENOMEM;
		goto out_free_mem;
	}
	rc = vp->modern ? queue_modern(vp, q, index, max_size, mem, cookies) :
			  queue_legacy(vp, q, index, max_size, mem, cookies);
	if (rc)
		goto out_free_cookies;
	vp->rings[vp->nrings++] = (struct virtio_ring_mem){ mem, pages, cookies };
	return 0;

out_free_cookies:
	kfree(cookies); /* a queue that failed was never enabled: the device has not got it */
out_free_mem:
	page_free(mem, pages);
	return rc;
}

void virtio_pci_ready(struct virtio_pci *vp)
{
	set_status(vp, get_status(vp) | VIRTIO_STATUS_DRIVER_OK);
}

void virtio_pci_notify(struct virtio_pci *vp, struct virtq *q)
{
	if (!vp->modern) {
		outw(vp->io + L_Q_NOTIFY, q->index);
		return;
	}
	w16(vp->notify, q->notify_at, q->index);
}

void virtio_pci_kick(struct virtio_pci *vp, struct virtq *q)
{
	if (virtq_publish(q))
		virtio_pci_notify(vp, q);
}

u8 virtio_pci_isr(struct virtio_pci *vp)
{
	return vp->modern ? r8(vp->isr, 0) : inb(vp->io + L_ISR);
}

const char *virtio_irq_mode_name(enum virtio_irq_mode m)
{
	return m == VIRTIO_IRQ_MSIX ? "msix" : m == VIRTIO_IRQ_INTX ? "intx" : "poll";
}

static enum irq_result msix_handler(void *arg)
{
	struct virtio_vec *v = arg;

	v->vp->on_queue(v->vp->ctx, v->q);
	return IRQ_HANDLED;
}

/* A shared line: the ISR register (cleared by reading) says if it was us. */
static enum irq_result intx_handler(void *arg)
{
	struct virtio_pci *vp = arg;
	u8 isr = virtio_pci_isr(vp);

	if (!isr)
		return IRQ_NONE;
	if (isr & ISR_QUEUE)
		for (unsigned i = 0; i < vp->nvecs; i++)
			vp->on_queue(vp->ctx, vp->vecs[i].q);
	return IRQ_HANDLED; /* a configuration change needs nothing from us */
}

/* Point queue @q at MSI-X entry @entry; false when the device refuses. */
static bool queue_vector(struct virtio_pci *vp, struct virtq *q, u16 entry)
{
	if (vp->modern) {
		w16(vp->common, C_Q_SELECT, q->index);
		w16(vp->common, C_Q_MSIX, entry);
		return r16(vp->common, C_Q_MSIX) == entry;
	}
	outw(vp->io + L_Q_SELECT, q->index);
	outw(vp->io + L_Q_MSIX, entry);
	return inw(vp->io + L_Q_MSIX) == entry;
}

static int setup_msix(struct virtio_pci *vp, const char *name)
{
	struct pci_vector pv[8];
	int rc;

	if (vp->nvecs > ARRAY_SIZE(pv) || pci_msix_count(vp->pdev) < vp->nvecs)
		return -ENOSPC;
	for (unsigned i = 0; i < vp->nvecs; i++)
		pv[i] = (struct pci_vector){ msix_handler, &vp->vecs[i], name };
	rc = pci_msix_enable(vp->pdev, vp->nvecs, pv);
	if (rc)
		return rc;
	if (vp->modern)
		w16(vp->common, C_MSIX_CONFIG, NO_VECTOR);
	else
		outw(vp->io + L_MSIX_CONFIG, NO_VECTOR);
	for (unsigned i = 0; i < vp->nvecs; i++)
		if (!queue_vector(vp, vp->vecs[i].q, (u16)i)) {
			pci_msix_disable(vp->pdev);
			return -EIO;
		}
	return 0;
}

static enum virtio_irq_mode choose_irq(struct virtio_pci *vp, const char *name)
{
	int rc = -ENODEV;

	if (param_is("virtio_irq", "poll"))
		return VIRTIO_IRQ_POLL;
	if (!param_is("virtio_irq", "intx") && (rc = setup_msix(vp, name)) == 0)
		return VIRTIO_IRQ_MSIX;
	if (rc != -ENODEV && rc != -ENOSPC)
		pr_warn("%s: MSI-X failed (%s), using INTx", name, errno_name(rc));
	if (pci_intx_request(vp->pdev, intx_handler, vp, name) == 0)
		return VIRTIO_IRQ_INTX;
	pr_warn("%s: no usable interrupt, polling", name);
	return VIRTIO_IRQ_POLL;
}

enum virtio_irq_mode virtio_pci_irq(struct virtio_pci *vp, struct virtq *const *qs, unsigned nq,
				    void (*on_queue)(void *ctx, struct virtq *q), void *ctx,
				    const char *name)
{
	vp->vecs = kzalloc(sizeof(*vp->vecs) * nq);
	vp->irq_mode = VIRTIO_IRQ_POLL;
	if (vp->vecs) {
		for (unsigned i = 0; i < nq; i++)
			vp->vecs[i] = (struct virtio_vec){ vp, qs[i] };
		vp->nvecs = nq;
		vp->on_queue = on_queue;
		vp->ctx = ctx;
		vp->irq_mode = choose_irq(vp, name);
	}
	if (vp->irq_mode == VIRTIO_IRQ_POLL) {
		strlcpy(vp->pdev->irq_desc, "none (polled)", sizeof(vp->pdev->irq_desc));
		for (unsigned i = 0; i < nq; i++)
			virtq_irq_off(qs[i]);
	}
	return vp->irq_mode;
}

void virtio_pci_config(struct virtio_pci *vp, u32 off, void *buf, size_t len)
{
	u8 *out = buf;

	if (!vp->modern) {
		u64 base = vp->irq_mode == VIRTIO_IRQ_MSIX ? L_CONFIG_MSIX : L_CONFIG;

		for (size_t i = 0; i < len; i++)
			out[i] = base + off + i < vp->io_len ? inb((u16)(vp->io + base + off + i)) : 0;
		return;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = (u64)off + i < vp->device_cfg_len ? r8(vp->device_cfg, off + (u32)i) : 0;
}
