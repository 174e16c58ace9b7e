/*
 * virtio_pci.h — the virtio PCI transport, legacy and modern, behind one
 * interface for the device drivers.
 *
 * Modern devices (virtio 1.x) expose vendor capabilities pointing at the
 * common, notify, ISR and device-config structures in memory BARs; legacy
 * devices (0.9.5) have one I/O BAR with a fixed register layout.  A
 * transitional device offers both; nos prefers modern.  virtio_pci_setup()
 * runs the status handshake (reset, ACKNOWLEDGE, DRIVER, features,
 * FEATURES_OK) and virtio_pci_ready() sets DRIVER_OK once the queues are
 * set up.
 *
 * A driver's probe, in order: allocate what it needs, virtio_pci_setup(),
 * virtio_pci_queue() per queue, read its configuration, virtio_pci_irq(),
 * virtio_pci_ready(), then register with its subsystem.  A probe that fails
 * before virtio_pci_irq() undoes the transport's part with
 * virtio_pci_teardown() (reset, FAILED, rings freed) and frees its own
 * memory; one that fails after it can only virtio_pci_give_up() (reset and
 * FAILED) and must keep its memory, because interrupt handlers cannot be
 * taken back and still point at it.  Either way the device is reset before
 * anything it was given is freed, so it never writes into freed memory.
 *
 * VIRTIO_PCI_DRIVER() declares a driver: its two PCI ids (transitional and
 * modern), its probe, and the reset at shutdown that every virtio driver
 * wants.
 */
#ifndef NOS_VIRTIO_PCI_H
#define NOS_VIRTIO_PCI_H

#include "types.h"
#include "drivers/pci.h"
#include "drivers/virtio/virtqueue.h"

#define VIRTIO_VENDOR 0x1AF4
#define VIRTIO_F_VERSION_1 (1ULL << 32)

#define VIRTIO_STATUS_ACK 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_FAILED 128

/* Device types (virtio 1.x, section 5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_SCSI 8

/*
 * PCI device ids of a device type: modern-only devices use 0x1040 + type;
 * transitional ones have a fixed id of their own (section 4.1.2.1), 0
 * for a type we do not list.
 */
#define VIRTIO_PCI_MODERN_ID(type) (0x1040 + (type))
#define VIRTIO_PCI_TRANSITIONAL_ID(type)                                       \
	((type) == VIRTIO_ID_NET ? 0x1000 : (type) == VIRTIO_ID_BLOCK ? 0x1001 : \
	 (type) == VIRTIO_ID_CONSOLE ? 0x1003 : (type) == VIRTIO_ID_SCSI ? 0x1004 : \
	 (type) == VIRTIO_ID_RNG ? 0x1005 : 0)

/* Queues one device may have set up by virtio_pci_queue(). */
#define VIRTIO_PCI_QUEUES_MAX 8

/* A ring the transport allocated, to be freed by virtio_pci_teardown(). */
struct virtio_ring_mem {
	void *mem;                   /* the rings, page_alloc'd */
	unsigned pages;
	void **cookies;              /* kmalloc'd */
};

struct virtio_pci {
	struct pci_dev *pdev;
	bool modern;
	u16 io;                      /* legacy: I/O BAR base */
	u32 io_len;                  /* legacy: I/O BAR size */
	volatile u8 *common;         /* modern structures, mapped */
	volatile u8 *notify;
	volatile u8 *isr;
	volatile u8 *device_cfg;
	u32 device_cfg_len;
	u32 notify_mult;
	u32 notify_len;
	u64 features;                /* negotiated */
	struct virtio_ring_mem rings[VIRTIO_PCI_QUEUES_MAX];
	unsigned nrings;
	/* Interrupts (virtio_pci_irq). */
	enum virtio_irq_mode { VIRTIO_IRQ_POLL, VIRTIO_IRQ_MSIX, VIRTIO_IRQ_INTX } irq_mode;
	struct virtio_vec *vecs;     /* one per queue */
	unsigned nvecs;
	void (*on_queue)(void *ctx, struct virtq *q);
	void *ctx;
};

struct virtio_vec {
	struct virtio_pci *vp;
	struct virtq *q;
};

/*
 * Find the transport of @pdev, reset the device and negotiate: the driver
 * wants @wanted feature bits (VERSION_1 is added for modern devices).
 * Returns 0, -ENODEV when neither transport is usable (no capabilities
 * and no legacy I/O BAR of the registers' size), -EPROTO when the device
 * refuses the features.  On failure the caller calls virtio_pci_teardown().
 */
int virtio_pci_setup(struct virtio_pci *vp, struct pci_dev *pdev, u64 wanted);
/*
 * Allocate and register queue @index with at most @max_size entries.
 * Returns 0, -ENOENT when the device has no such queue, -ENOMEM, -ENOSPC
 * when a legacy device's fixed size is more than @max_size or not a power
 * of two, -EIO when the device's notify offset is outside its notify area,
 * -E2BIG past VIRTIO_PCI_QUEUES_MAX queues.  Nothing is left allocated on
 * failure; the caller then calls virtio_pci_teardown().
 */
int virtio_pci_queue(struct virtio_pci *vp, struct virtq *q, u16 index, u16 max_size);
/*
 * A probe failed before virtio_pci_irq(): reset the device, so that it
 * forgets its rings, set FAILED (the driver has given up on it), and free
 * the rings virtio_pci_queue() allocated.  Safe after any failure of
 * virtio_pci_setup(), even one that found no transport.
 */
void virtio_pci_teardown(struct virtio_pci *vp);
/*
 * A probe failed after virtio_pci_irq(): reset the device and set FAILED,
 * but free nothing: interrupt handlers cannot be removed and still point
 * at the driver's memory and the rings.
 */
void virtio_pci_give_up(struct virtio_pci *vp);
/*
 * Interrupts for the @nq queues @qs (set up already, before ready): one
 * MSI-X vector per queue when the device has the entries, otherwise its
 * INTx line; the kernel parameter virtio_irq= forces intx or poll.
 * @on_queue(@ctx, q) runs in hard-IRQ context when queue q may have
 * completions.  Returns the mode chosen; with VIRTIO_IRQ_POLL the driver
 * polls its queues and the device is asked not to interrupt.
 */
enum virtio_irq_mode virtio_pci_irq(struct virtio_pci *vp, struct virtq *const *qs, unsigned nq,
				    void (*on_queue)(void *ctx, struct virtq *q), void *ctx,
				    const char *name);
const char *virtio_irq_mode_name(enum virtio_irq_mode m);
/* Read @len bytes of device configuration at @off. */
void virtio_pci_config(struct virtio_pci *vp, u32 off, void *buf, size_t len);
void virtio_pci_ready(struct virtio_pci *vp);
void virtio_pci_notify(struct virtio_pci *vp, struct virtq *q);
/* Publish what was added to @q and notify the device if it wants that
 * (the caller holds the queue's lock). */
void virtio_pci_kick(struct virtio_pci *vp, struct virtq *q);
/* Reset the device (it stops using its queues). */
void virtio_pci_reset(struct virtio_pci *vp);
/*
 * The virtio drivers' PCI shutdown hook: reset the device so it does no
 * more DMA.  The driver's pdev->driver_data must point at its struct
 * virtio_pci.
 */
void virtio_pci_shutdown(struct pci_dev *pdev);
u8 virtio_pci_isr(struct virtio_pci *vp);

/*
 * Declare the virtio driver @ident_ called @name_ for device type @type_
 * (VIRTIO_ID_*): it binds the type's transitional and modern PCI ids,
 * probes with @probe_ and resets the device at shutdown (the probe must
 * set pdev->driver_data to its struct virtio_pci).
 */
#define VIRTIO_PCI_DRIVER(ident_, name_, type_, probe_)                        \
	static const struct pci_id ident_##_ids[] = {                          \
		{ VIRTIO_VENDOR, VIRTIO_PCI_TRANSITIONAL_ID(type_) },          \
		{ VIRTIO_VENDOR, VIRTIO_PCI_MODERN_ID(type_) },                \
		{ 0, 0 },                                                      \
	};                                                                     \
	_Static_assert(VIRTIO_PCI_TRANSITIONAL_ID(type_) != 0,                 \
		       "no transitional id for this virtio type");             \
	static const struct pci_driver ident_ = {                              \
		.name = (name_),                                               \
		.ids = ident_##_ids,                                           \
		.probe = (probe_),                                             \
		.shutdown = virtio_pci_shutdown,                               \
	};                                                                     \
	PCI_DRIVER(ident_)

#endif
