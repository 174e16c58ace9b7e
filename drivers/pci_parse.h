/*
 * pci_parse.h — the pure parts of PCI: decoding BARs from what the sizing
 * probe read back, and walking the capability list of a configuration
 * space.  No port I/O here; drivers/pci.c reads the hardware and the host
 * unit tests feed made-up (and hostile) configuration spaces.
 */
#ifndef NOS_PCI_PARSE_H
#define NOS_PCI_PARSE_H

#include "types.h"

#define PCI_CAP_MSI 0x05
#define PCI_CAP_VENDOR 0x09
#define PCI_CAP_MSIX 0x11
#define PCI_CAPS_MAX 16

enum pci_bar_kind { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
	enum pci_bar_kind kind;
	u64 base;
	u64 size;
	bool prefetchable;
};

/*
 * Decode one BAR from its original value (@lo, and @hi for the upper half
 * of a 64-bit BAR) and the value read back after writing all ones
 * (@mask_lo, @mask_hi).  Returns the number of BAR slots it uses (1, or 2
 * for a 64-bit BAR); a BAR that decodes no address space comes back as
 * PCI_BAR_NONE.
 */
int pci_bar_decode(u32 lo, u32 hi, u32 mask_lo, u32 mask_hi, struct pci_bar *out);

struct pci_cap {
	u8 id;
	u8 offset;
};

/*
 * Walk the capability list starting at @first (the pointer at 0x34) in the
 * 256-byte configuration space @cfg.  Stores at most @max capabilities;
 * stops at a pointer outside 0x40-0xFC or seen before (a loop).  Returns
 * the number stored.
 */
unsigned pci_caps_walk(const u8 cfg[256], u8 first, struct pci_cap *caps, unsigned max);

/* A human name for a class/subclass ("ethernet controller"), never NULL. */
const char *pci_class_name(u8 class_code, u8 subclass);

#endif
