/*
 * pci_irq.c — a PCI function's interrupts: MSI-X vectors, or the legacy
 * INTx line through the IOAPIC.
 *
 * MSI-X capability: +2 message control (bits 10:0 table size - 1, bit 14
 * function mask, bit 15 enable), +4 table offset | BIR.  Each table entry
 * is 16 bytes: address low, address high, data, vector control (bit 0
 * masks the entry).  The entries are written while the function is masked
 * and enabled, then the function mask is lifted, so no half-programmed
 * entry ever fires.
 *
 * INTx: the firmware leaves the routed ISA IRQ in the interrupt line
 * register; on QEMU's chipsets (and PCs generally) that IRQ reaches the
 * IOAPIC pin of the same number, level-triggered and shared, with the
 * polarity the ACPI link devices declare (active high on QEMU).  Reading
 * _PRT would need an AML interpreter; the line register is what every PC
 * firmware fills in.
 */
#include "drivers/pci.h"
#include "errno.h"
#include "kernel/printk.h"
#include "lib/format.h"
#include "mm/paging.h"

#define REG_COMMAND 0x04
#define CMD_INTX_DISABLE (1u << 10)
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_ENABLE (1u << 15)
#define MSIX_MASKALL (1u << 14)
#define MSIX_ENTRY_BYTES 16

unsigned pci_msix_count(const struct pci_dev *d)
{
	u8 cap = pci_find_cap(d, PCI_CAP_MSIX);

	return cap ? (pci_read16(d, cap + MSIX_CTRL) & 0x7FFu) + 1 : 0;
}

/* Map the MSI-X table; NULL when its BAR cannot hold @n entries. */
static volatile u32 *msix_table(const struct pci_dev *d, u8 cap, unsigned n)
{
	u32 t = pci_read32(d, cap + MSIX_TABLE);
	u64 off = t & ~7u, bytes = (u64)n * MSIX_ENTRY_BYTES;
	const struct pci_bar *bar;

	if ((t & 7) > 5)
		return NULL; /* a BAR indicator the function cannot have */
	bar = &d->bars[t & 7];
	if ((bar->kind != PCI_BAR_MEM32 && bar->kind != PCI_BAR_MEM64) || off + bytes > bar->size)
		return NULL;
	return (volatile u32 *)mmio_map(bar->base + off, bytes);
}

int pci_msix_enable(struct pci_dev *d, unsigned n, const struct pci_vector *vecs)
{
	u8 cap = pci_find_cap(d, PCI_CAP_MSIX);
	volatile u32 *table;
	u16 ctrl;

	if (!cap)
		return -ENODEV;
	if (!n || n > pci_msix_count(d))
		return -ENOSPC;
	table = msix_table(d, cap, n);
	if (!table)
		return -ENXIO;
	ctrl = pci_read16(d, cap + MSIX_CTRL);
	pci_write16(d, cap + MSIX_CTRL, ctrl | MSIX_ENABLE | MSIX_MASKALL);
	for (unsigned i = 0; i < n; i++) {
		struct irq_msi msg;
		int rc = irq_request_msi(vecs[i].fn, vecs[i].arg, vecs[i].name, &msg);

		if (rc) {
			pci_write16(d, cap + MSIX_CTRL, ctrl & ~MSIX_ENABLE);
			return rc; /* vectors already taken stay attached, never raised */
		}
		table[i * 4 + 0] = msg.address;
		table[i * 4 + 1] = 0;
		table[i * 4 + 2] = msg.data;
		table[i * 4 + 3] = 0; /* unmasked */
	}
	pci_write16(d, cap + MSIX_CTRL, (ctrl | MSIX_ENABLE) & ~MSIX_MASKALL);
	snprintf(d->irq_desc, sizeof(d->irq_desc), "MSI-X, %u vector%s", n, n == 1 ? "" : "s");
	return 0;
}

void pci_msix_disable(struct pci_dev *d)
{
	u8 cap = pci_find_cap(d, PCI_CAP_MSIX);

	if (cap)
		pci_write16(d, cap + MSIX_CTRL, pci_read16(d, cap + MSIX_CTRL) & ~MSIX_ENABLE);
}

int pci_intx_request(struct pci_dev *d, irq_handler_fn fn, void *arg, const char *name)
{
	int rc;

	if (!d->irq_pin || d->irq_line == 0 || d->irq_line >= 0xF0)
		return -ENODEV; /* no pin, or the firmware routed it nowhere */
	rc = irq_request_gsi(d->irq_line, true, false, fn, arg, name);
	if (rc)
		return rc;
	pci_write16(d, REG_COMMAND, pci_read16(d, REG_COMMAND) & ~CMD_INTX_DISABLE);
	snprintf(d->irq_desc, sizeof(d->irq_desc), "INTx%c -> IRQ %u", 'A' + d->irq_pin - 1,
		 d->irq_line);
	return 0;
}
