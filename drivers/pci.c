/*
 * pci.c — configuration space access, enumeration, driver binding, `pci`.
 *
 * Configuration space is reached through ECAM when the ACPI MCFG table
 * gives a window for segment 0 (each bus a 1 MiB block, a function at
 * dev << 15 | fn << 12, mapped uncached the first time its bus is used),
 * and otherwise through configuration mechanism #1: write (1 << 31) |
 * bus << 16 | dev << 11 | fn << 8 | offset to 0xCF8, then access 0xCFC.
 * pci_lock keeps each address/data pair together (and serialises the
 * lazy ECAM mapping).  Enumeration is depth-first from
 * bus 0; a bridge's secondary bus is scanned when first seen, so a bridge
 * misconfigured into a loop is scanned once.  While a BAR is sized its
 * device's decoding is switched off, so the all-ones probe value is never
 * live on the bus.
 */
#include "drivers/pci.h"
#include "drivers/acpi.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"
#include "lib/bitmap.h"
#include "mm/paging.h"

#define CFG_ADDR 0xCF8
#define CFG_DATA 0xCFC
#define PCI_MAX_DEVS 64

#define REG_VENDOR 0x00
#define REG_COMMAND 0x04
#define REG_CLASS 0x08
#define REG_HEADER 0x0E
#define REG_BAR0 0x10
#define REG_SECONDARY_BUS 0x19
#define REG_CAP_PTR 0x34
#define REG_IRQ 0x3C
#define STATUS_CAP_LIST 0x10
#define CMD_IO 0x1
#define CMD_MEM 0x2
#define CMD_MASTER 0x4

extern const struct pci_driver *const __start_pci_drivers[];
extern const struct pci_driver *const __stop_pci_drivers[];

static struct pci_dev devs[PCI_MAX_DEVS];
static unsigned ndevs;
static u64 buses_seen[4];
static spinlock_t pci_lock = SPINLOCK_INIT("pci"); /* the 0xCF8/0xCFC pair, ecam.map */

#define ECAM_BUS_BYTES (1u << 20)

static struct {
	u64 base;                  /* [I] 0: no ECAM */
	u8 start, end;             /* [I] buses covered */
	volatile u8 *map[256];     /* [pci_lock] each bus's window, once mapped */
} ecam;

static u32 cfg_addr(u8 bus, u8 dev, u8 fn, u8 off)
{
	return (1u << 31) | ((u32)bus << 16) | ((u32)dev << 11) | ((u32)fn << 8) | (off & 0xFC);
}

/* The ECAM window of @bus (mapped on first use), or NULL: use port I/O. */
static volatile u8 *ecam_bus(u8 bus)
{
	if (!ecam.base || bus < ecam.start || bus > ecam.end)
		return NULL;
	if (!ecam.map[bus])
		ecam.map[bus] = mmio_map(ecam.base + ((u64)bus << 20), ECAM_BUS_BYTES);
	return ecam.map[bus];
}

static volatile u32 *ecam_reg(u8 bus, u8 dev, u8 fn, u8 off)
{
	volatile u8 *b = ecam_bus(bus);

	return b ? (volatile u32 *)(b + ((u32)dev << 15) + ((u32)fn << 12) + (off & 0xFC)) : NULL;
}

static u32 cfg_read(u8 bus, u8 dev, u8 fn, u8 off)
{
	u64 flags = spin_lock_irqsave(&pci_lock);
	volatile u32 *reg = ecam_reg(bus, dev, fn, off);
	u32 v;

	if (reg) {
		v = *reg;
	} else {
		outl(CFG_ADDR, cfg_addr(bus, dev, fn, off));
		v = inl(CFG_DATA);
	}
	spin_unlock_irqrestore(&pci_lock, flags);
	return v;
}

static void cfg_write(u8 bus, u8 dev, u8 fn, u8 off, u32 v)
{
	u64 flags = spin_lock_irqsave(&pci_lock);
	volatile u32 *reg = ecam_reg(bus, dev, fn, off);

	if (reg) {
		*reg = v;
	} else {
		outl(CFG_ADDR, cfg_addr(bus, dev, fn, off));
		outl(CFG_DATA, v);
	}
	spin_unlock_irqrestore(&pci_lock, flags);
}

u32 pci_read32(const struct pci_dev *d, u8 off)
{
	return cfg_read(d->bus, d->dev, d->fn, off);
}

u16 pci_read16(const struct pci_dev *d, u8 off)
{
	return (u16)(pci_read32(d, off) >> ((off & 2) * 8));
}

u8 pci_read8(const struct pci_dev *d, u8 off)
{
	return (u8)(pci_read32(d, off) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_dev *d, u8 off, u32 v)
{
	cfg_write(d->bus, d->dev, d->fn, off, v);
}

void pci_write16(const struct pci_dev *d, u8 off, u16 v)
{
	u32 old = pci_read32(d, off & 0xFC), shift = (off & 2) * 8;

	pci_write32(d, off & 0xFC, (old & ~(0xFFFFu << shift)) | ((u32)v << shift));
}

void pci_enable(struct pci_dev *d)
{
	pci_write16(d, REG_COMMAND, pci_read16(d, REG_COMMAND) | CMD_IO | CMD_MEM | CMD_MASTER);
}

u8 pci_find_cap(const struct pci_dev *d, u8 id)
{
	for (unsigned i = 0; i < d->ncaps; i++)
		if (d->caps[i].id == id)
			return d->caps[i].offset;
	return 0;
}

unsigned pci_count(void)
{
	return ndevs;
}

struct pci_dev *pci_get(unsigned i)
{
	return i < ndevs ? &devs[i] : NULL;
}

/* Size every BAR with decoding off. */
static void read_bars(struct pci_dev *d)
{
	unsigned nbars = (d->header_type & 0x7F) == 1 ? 2 : 6;
	u16 cmd = pci_read16(d, REG_COMMAND);

	pci_write16(d, REG_COMMAND, cmd & ~(CMD_IO | CMD_MEM));
	for (unsigned i = 0; i < nbars;) {
		u8 off = (u8)(REG_BAR0 + 4 * i);
		u32 lo = pci_read32(d, off), hi = 0, mlo, mhi = 0;
		bool is64 = !(lo & 1) && (lo & 6) == 4 && i + 1 < nbars;

		pci_write32(d, off, ~0u);
		mlo = pci_read32(d, off);
		pci_write32(d, off, lo);
		if (is64) {
			hi = pci_read32(d, off + 4);
			pci_write32(d, off + 4, ~0u);
			mhi = pci_read32(d, off + 4);
			pci_write32(d, off + 4, hi);
		}
		i += (unsigned)pci_bar_decode(lo, hi, mlo, mhi, &d->bars[i]);
	}
	pci_write16(d, REG_COMMAND, cmd);
}

static void read_caps(struct pci_dev *d)
{
	u8 cfg[256];

	if (!(pci_read16(d, 0x06) & STATUS_CAP_LIST))
		return;
	for (unsigned off = 0; off < 256; off += 4) {
		u32 v = pci_read32(d, (u8)off);

		for (unsigned b = 0; b < 4; b++)
			cfg[off + b] = (u8)(v >> (8 * b));
	}
	d->ncaps = pci_caps_walk(cfg, cfg[REG_CAP_PTR], d->caps, PCI_CAPS_MAX);
}

static void scan_bus(u8 bus);

static void add_function(u8 bus, u8 dev, u8 fn, u32 id)
{
	struct pci_dev *d;
	u32 class_reg;

	if (ndevs == PCI_MAX_DEVS) {
		pr_warn("pci: more than %d functions; %02x:%02x.%u ignored", PCI_MAX_DEVS, bus, dev,
			fn);
		return;
	}
	d = &devs[ndevs++];
	*d = (struct pci_dev){ .bus = bus, .dev = dev, .fn = fn };
	d->vendor = id & 0xFFFF;
	d->device = id >> 16;
	class_reg = pci_read32(d, REG_CLASS);
	d->revision = class_reg & 0xFF;
	d->prog_if = (class_reg >> 8) & 0xFF;
	d->subclass = (class_reg >> 16) & 0xFF;
	d->class_code = class_reg >> 24;
	d->header_type = pci_read8(d, REG_HEADER);
	d->irq_line = pci_read8(d, REG_IRQ);
	d->irq_pin = pci_read8(d, REG_IRQ + 1);
	read_bars(d);
	read_caps(d);
	if ((d->header_type & 0x7F) == 1)
		scan_bus(pci_read8(d, REG_SECONDARY_BUS));
}

static void scan_bus(u8 bus)
{
	if (bitmap_test(buses_seen, bus))
		return;
	bitmap_set(buses_seen, bus);
	for (u8 dev = 0; dev < 32; dev++) {
		u32 id = cfg_read(bus, dev, 0, REG_VENDOR);
		unsigned nfn;

		if ((id & 0xFFFF) == 0xFFFF)
			continue;
		nfn = (cfg_read(bus, dev, 0, REG_HEADER & 0xFC) >> 16) & 0x80 ? 8 : 1;
		for (u8 fn = 0; fn < nfn; fn++) {
			id = cfg_read(bus, dev, fn, REG_VENDOR);
			if ((id & 0xFFFF) != 0xFFFF)
				add_function(bus, dev, fn, id);
		}
	}
}

static bool id_matches(const struct pci_id *ids, const struct pci_dev *d)
{
	for (; ids->vendor; ids++)
		if (ids->vendor == d->vendor && (ids->device == PCI_ANY_ID || ids->device == d->device))
			return true;
	return false;
}

static void bind(struct pci_dev *d)
{
	for (const struct pci_driver *const *p = __start_pci_drivers; p < __stop_pci_drivers; p++) {
		int rc;

		if (!id_matches((*p)->ids, d))
			continue;
		rc = (*p)->probe(d);
		if (rc == 0) {
			d->driver = *p;
			return;
		}
		pr_warn("pci: %02x:%02x.%u: driver %s refused it (%s)", d->bus, d->dev, d->fn,
			(*p)->name, errno_name(rc));
	}
}

static void ecam_init(void)
{
	if (acpi_pci_ecam(0, &ecam.base, &ecam.start, &ecam.end))
		return;
	pr_info("pci: ECAM at 0x%llx for buses %u-%u", (unsigned long long)ecam.base, ecam.start,
		ecam.end);
}

void pci_init(void)
{
	ecam_init();
	scan_bus(0);
	pr_info("pci: %u functions found through %s", ndevs, ecam.base ? "ECAM" : "port I/O");
	for (unsigned i = 0; i < ndevs; i++)
		bind(&devs[i]);
}

void pci_shutdown_all(void)
{
	for (unsigned i = 0; i < ndevs; i++)
		if (devs[i].driver && devs[i].driver->shutdown)
			devs[i].driver->shutdown(&devs[i]);
}

static const char *const bar_kinds[] = { "", "io", "mem32", "mem64" };

static void show_dev(struct sh *sh, const struct pci_dev *d)
{
	sh_printf(sh, "%02x:%02x.%u %04x:%04x %s (class %02x%02x rev %u)", d->bus, d->dev, d->fn,
		  d->vendor, d->device, pci_class_name(d->class_code, d->subclass), d->class_code,
		  d->subclass, d->revision);
	sh_printf(sh, "%s%s\n", d->driver ? " driver " : "", d->driver ? d->driver->name : "");
	for (unsigned i = 0; i < 6; i++)
		if (d->bars[i].kind != PCI_BAR_NONE)
			sh_printf(sh, "  bar%u %s 0x%llx size 0x%llx%s\n", i, bar_kinds[d->bars[i].kind],
				  (unsigned long long)d->bars[i].base,
				  (unsigned long long)d->bars[i].size,
				  d->bars[i].prefetchable ? " prefetchable" : "");
	if (d->irq_pin || d->irq_desc[0])
		sh_printf(sh, "  irq %s\n", d->irq_desc[0] ? d->irq_desc : "INTx (unused)");
	for (unsigned i = 0; i < d->ncaps; i++)
		sh_printf(sh, "%s%s0x%02x@0x%02x", i ? " " : "  caps ",
			  d->caps[i].id == PCI_CAP_MSIX ? "msix:" : d->caps[i].id == PCI_CAP_MSI ?
			  "msi:" : d->caps[i].id == PCI_CAP_VENDOR ? "vendor:" : "",
			  d->caps[i].id, d->caps[i].offset);
	if (d->ncaps)
		sh_printf(sh, "\n");
}

static int cmd_pci(struct sh *sh, int argc, char **argv)
{
	for (unsigned i = 0; i < ndevs && !sh_output_error(sh); i++)
		show_dev(sh, &devs[i]);
	sh_printf(sh, "%u functions\n", ndevs);
	return sh_output_error(sh);
}
SHELL_CMD("pci", "", "list PCI functions: address, ids, class, BARs, interrupt, driver", 0, 0,
	  cmd_pci);
