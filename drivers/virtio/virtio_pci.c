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
 */
#include "drivers/virtio/virtio_pci.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/x86.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

/* Common configuration offsets. */
#define C_DFSELECT 0x00
#define C_DF 0x04
#define C_GFSELECT 0x08
#define C_GF 0x0C
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
		vp->notify_mult = pci_read32(d, at + 16);
	} else if (type == CAP_ISR && !vp->isr)
		vp->isr = m;
	else if (type == CAP_DEVICE && !vp->device_cfg)
		vp->device_cfg = m;
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

void virtio_pci_reset(struct virtio_pci *vp)
{
	set_status(vp, 0);
	for (unsigned i = 0; i < 100000 && get_status(vp); i++)
		cpu_relax(); /* a modern device reads 0 once the reset is done */
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

int virtio_pci_setup(struct virtio_pci *vp, struct pci_dev *pdev, u64 wanted)
{
	int rc;

	*vp = (struct virtio_pci){ .pdev = pdev };
	pci_enable(pdev);
	vp->modern = find_modern(vp);
	if (!vp->modern) {
		if (pdev->bars[0].kind != PCI_BAR_IO)
			return -ENODEV;
		vp->io = (u16)pdev->bars[0].base;
	}
	virtio_pci_reset(vp);
	set_status(vp, VIRTIO_STATUS_ACK);
	set_status(vp, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	rc = negotiate(vp, wanted);
	if (rc)
		set_status(vp, VIRTIO_STATUS_FAILED);
	return rc;
}

static int queue_modern(struct virtio_pci *vp, struct virtq *q, u16 index, u16 max, void *mem,
			void **cookies)
{
	u16 size;
	u64 pa = virt_to_phys(mem);

	w16(vp->common, C_Q_SELECT, index);
	size = r16(vp->common, C_Q_SIZE);
	if (!size)
		return -ENOENT;
	size = size < max ? size : max;
	w16(vp->common, C_Q_SIZE, size);
	virtq_init(q, index, size, mem, cookies);
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
	if (size > max)
		return -ENOMEM; /* legacy sizes are fixed by the device */
	virtq_init(q, index, size, mem, cookies);
	outl(vp->io + L_Q_PFN, (u32)(virt_to_phys(mem) >> 12));
	return 0;
}

int virtio_pci_queue(struct virtio_pci *vp, struct virtq *q, u16 index, u16 max_size)
{
	size_t bytes = virtq_bytes(max_size);
	unsigned pages = (unsigned)((bytes + 4095) / 4096);
	void *mem = page_zalloc(pages);
	void **cookies = kzalloc(sizeof(void *) * max_size);
	int rc;

	if (!mem || !cookies) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = vp->modern ? queue_modern(vp, q, index, max_size, mem, cookies) :
			  queue_legacy(vp, q, index, max_size, mem, cookies);
	if (!rc)
		return 0;
out_free:
	if (mem)
		page_free(mem, pages);
	kfree(cookies);
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
	w16(vp->common, C_Q_SELECT, q->index);
	w16(vp->notify, (u32)r16(vp->common, C_Q_NOTIFY_OFF) * vp->notify_mult, q->index);
}

u8 virtio_pci_isr(struct virtio_pci *vp)
{
	return vp->modern ? r8(vp->isr, 0) : inb(vp->io + L_ISR);
}
