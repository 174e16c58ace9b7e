/*
 * pci.h — PCI devices and the drivers that bind to them.
 *
 * pci_init() enumerates every bus reachable from bus 0 through PCI-to-PCI
 * bridges (configuration mechanism #1, ports 0xCF8/0xCFC), sizes each
 * device's BARs, records its capabilities, and offers each device to the
 * drivers declared with PCI_DRIVER(): the first whose id table matches and
 * whose probe returns 0 is bound.  A probe that fails leaves the device
 * unbound; it never stops the boot.
 */
#ifndef NOS_PCI_H
#define NOS_PCI_H

#include "types.h"
#include "compiler.h"
#include "drivers/pci_parse.h"
#include "kernel/irq.h"

#define PCI_ANY_ID 0xFFFF

struct pci_driver;

struct pci_dev {
	u8 bus, dev, fn;
	u16 vendor, device;
	u8 class_code, subclass, prog_if, revision;
	u8 header_type;
	struct pci_bar bars[6];
	u8 irq_line, irq_pin;             /* legacy INTx (pin 0: none) */
	struct pci_cap caps[PCI_CAPS_MAX];
	unsigned ncaps;
	const struct pci_driver *driver;  /* bound driver, or NULL */
	void *driver_data;                /* the driver's */
	char irq_desc[32];                /* what the driver uses, for `pci` */
};

struct pci_id {
	u16 vendor, device; /* PCI_ANY_ID matches any device of the vendor */
};

struct pci_driver {
	const char *name;
	const struct pci_id *ids; /* ends with { 0, 0 } */
	/* 0 when the driver takes the device; -errno otherwise. */
	int (*probe)(struct pci_dev *pdev);
	/* Optional: quiesce the device before power-off or reboot (no DMA after). */
	void (*shutdown)(struct pci_dev *pdev);
};

#define PCI_DRIVER(ident_)                                                     \
	static const struct pci_driver *const pci_driver_ptr_##ident_          \
		__section("pci_drivers") __used __aligned(8) = &ident_

void pci_init(void);
/* Call every bound driver's shutdown (power-off and reboot paths). */
void pci_shutdown_all(void);
u32 pci_read32(const struct pci_dev *d, u8 off);
u16 pci_read16(const struct pci_dev *d, u8 off);
u8 pci_read8(const struct pci_dev *d, u8 off);
void pci_write32(const struct pci_dev *d, u8 off, u32 v);
void pci_write16(const struct pci_dev *d, u8 off, u16 v);
/* Turn on memory and I/O decoding and bus mastering (DMA). */
void pci_enable(struct pci_dev *d);
/* Offset of the first capability @id, or 0. */
u8 pci_find_cap(const struct pci_dev *d, u8 id);

/* One interrupt a driver wants: its handler, argument and name (irqstat). */
struct pci_vector {
	irq_handler_fn fn;
	void *arg;
	const char *name;
};
/* MSI-X table entries the function offers (0: no MSI-X). */
unsigned pci_msix_count(const struct pci_dev *d);
/*
 * Give MSI-X entries 0..@n-1 a vector each, with @vecs[i] as the handler
 * of entry i, and enable MSI-X (which turns INTx off).  Returns 0,
 * -ENODEV without MSI-X, -ENOSPC when the table is smaller than @n or the
 * vectors run out, -ENXIO when the table is not in a memory BAR.
 */
int pci_msix_enable(struct pci_dev *d, unsigned n, const struct pci_vector *vecs);
void pci_msix_disable(struct pci_dev *d);
/*
 * Attach @fn to the function's INTx line, which may be shared: @fn
 * returns IRQ_NONE when its device did not interrupt.  -ENODEV when the
 * function has no routed pin.
 */
int pci_intx_request(struct pci_dev *d, irq_handler_fn fn, void *arg, const char *name);
unsigned pci_count(void);
struct pci_dev *pci_get(unsigned i);

#endif
