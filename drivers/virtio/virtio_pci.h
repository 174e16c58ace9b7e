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
	u64 features;                /* negotiated */
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
void virtio_pci_ready(struct virtio_pci *vp);
void virtio_pci_notify(struct virtio_pci *vp, struct virtq *q);
/* Reset the device (it stops using its queues). */
void virtio_pci_reset(struct virtio_pci *vp);
u8 virtio_pci_isr(struct virtio_pci *vp);

#endif
