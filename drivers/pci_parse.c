/*
 * pci_parse.c — BAR decoding, capability walking, class names.
 *
 * BAR sizing (PCI Local Bus spec, 6.2.5.1): software writes all ones to a
 * BAR and reads it back; the address bits the device decodes come back as
 * zero, so the size is the two's complement of the read-back value with
 * the flag bits masked off.  Bit 0 says I/O (flags in bits 0-1) or memory
 * (bits 0-3: type in bits 1-2, 0b10 = 64-bit, prefetchable in bit 3).
 */
#include "drivers/pci_parse.h"
#include "compiler.h"
#include "lib/bitmap.h"

#define BAR_IO 0x1
#define BAR_TYPE_MASK 0x6
#define BAR_TYPE_64 0x4
#define BAR_PREFETCH 0x8

int pci_bar_decode(u32 lo, u32 hi, u32 mask_lo, u32 mask_hi, struct pci_bar *out)
{
	out->kind = PCI_BAR_NONE;
	out->base = out->size = 0;
	out->prefetchable = false;
	if (lo & BAR_IO) {
		u32 m = mask_lo & ~0x3u & 0xFFFF;

		if (m) {
			out->kind = PCI_BAR_IO;
			out->base = lo & ~0x3u;
			out->size = (u64)((~m + 1) & 0xFFFF);
		}
		return 1;
	}
	if ((lo & BAR_TYPE_MASK) == BAR_TYPE_64) {
		u64 m = ((u64)mask_hi << 32) | (mask_lo & ~0xFu);

		if (m) {
			out->kind = PCI_BAR_MEM64;
			out->base = ((u64)hi << 32) | (lo & ~0xFu);
			out->size = ~m + 1;
			out->prefetchable = lo & BAR_PREFETCH;
		}
		return 2;
	}
	if (mask_lo & ~0xFu) {
		out->kind = PCI_BAR_MEM32;
		out->base = lo & ~0xFu;
		out->size = (u64)(u32)(~(mask_lo & ~0xFu) + 1);
		out->prefetchable = lo & BAR_PREFETCH;
	}
	return 1;
}

unsigned pci_caps_walk(const u8 cfg[256], u8 first, struct pci_cap *caps, unsigned max)
{
	u64 seen[4] = { 0 };
	unsigned n = 0;
	u8 at = first & ~3u;

	while (at >= 0x40 && at <= 0xFC && n < max && !bitmap_test(seen, at)) {
		bitmap_set(seen, at);
		caps[n].id = cfg[at];
		caps[n].offset = at;
		n++;
		at = cfg[at + 1] & ~3u;
	}
	return n;
}

static const struct {
	u8 class_code, subclass;
	const char *name;
} class_names[] = {
	{ 0x01, 0x00, "SCSI controller" }, { 0x01, 0x01, "IDE controller" },
	{ 0x01, 0x06, "SATA controller" }, { 0x01, 0x08, "NVMe controller" },
	{ 0x01, 0xFF, "storage controller" }, { 0x02, 0x00, "ethernet controller" },
	{ 0x02, 0xFF, "network controller" }, { 0x03, 0x00, "VGA controller" },
	{ 0x03, 0xFF, "display controller" }, { 0x04, 0xFF, "multimedia controller" },
	{ 0x05, 0xFF, "memory controller" }, { 0x06, 0x00, "host bridge" },
	{ 0x06, 0x01, "ISA bridge" }, { 0x06, 0x04, "PCI bridge" },
	{ 0x06, 0x80, "other bridge" }, { 0x06, 0xFF, "bridge" },
	{ 0x07, 0xFF, "communication controller" }, { 0x08, 0xFF, "system peripheral" },
	{ 0x0C, 0x03, "USB controller" }, { 0x0C, 0x05, "SMBus controller" },
	{ 0x0C, 0xFF, "serial bus controller" }, { 0x10, 0xFF, "encryption controller" },
	{ 0x00, 0xFF, "unclassified device" }, { 0xFF, 0xFF, "other device" },
};

const char *pci_class_name(u8 class_code, u8 subclass)
{
	const char *fallback = "device";

	for (size_t i = 0; i < ARRAY_SIZE(class_names); i++) {
		if (class_names[i].class_code != class_code)
			continue;
		if (class_names[i].subclass == subclass)
			return class_names[i].name;
		if (class_names[i].subclass == 0xFF)
			fallback = class_names[i].name;
	}
	return fallback;
}
