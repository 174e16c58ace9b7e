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
 * set up; a failure sets FAILED.
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

struct virtio_pci {
	struct pci_dev *pdev;
	bool modern;
	u16 io;                      /* legacy: I/O BAR base */
	volatile u8 *common;         /* modern structures, mapped */
	volatile u8 *notify;
	volatile u8 *isr;
	volatile u8 *device_cfg;
	u32 notify_mult;
	u32 notify_len;
	u64 features;                /* negotiated */
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
 * Returns 0 or -errno (the device is left FAILED).
 */
int virtio_pci_setup(struct virtio_pci *vp, struct pci_dev *pdev, u64 wanted);
/*
 * Allocate and register queue @index with at most @max_size entries.
 * Returns 0, -ENOENT when the device has no such queue, -ENOMEM.
 */
int virtio_pci_queue(struct virtio_pci *vp, struct virtq *q, u16 index, u16 max_size);
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

#endif
