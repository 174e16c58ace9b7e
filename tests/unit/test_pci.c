/*
 * test_pci.c — BAR decoding and the capability walk over made-up
 * configuration spaces, including hostile ones (loops, pointers outside the
 * device-specific area, a list longer than the cap).
 */
#include "drivers/pci_parse.h"
#include "lib/ktest.h"
#include "lib/string.h"

KTEST(pci, bar_decode_io_mem32_mem64)
{
	struct pci_bar b;

	KT_EXPECT_EQ(pci_bar_decode(0xC001, 0, 0xFFFFFFE1, 0, &b), 1);
	KT_EXPECT_EQ(b.kind, PCI_BAR_IO);
	KT_EXPECT_EQ(b.base, 0xC000);
	KT_EXPECT_EQ(b.size, 0x20);

	KT_EXPECT_EQ(pci_bar_decode(0xFEBF1000, 0, 0xFFFFF000, 0, &b), 1);
	KT_EXPECT_EQ(b.kind, PCI_BAR_MEM32);
	KT_EXPECT_EQ(b.base, 0xFEBF1000);
	KT_EXPECT_EQ(b.size, 0x1000);
	KT_EXPECT(!b.prefetchable);

	KT_EXPECT_EQ(pci_bar_decode(0xFE00000C, 0x1, 0xFFFFC00C, 0xFFFFFFFF, &b), 2);
	KT_EXPECT_EQ(b.kind, PCI_BAR_MEM64);
	KT_EXPECT_EQ(b.base, 0x1FE000000ULL);
	KT_EXPECT_EQ(b.size, 0x4000);
	KT_EXPECT(b.prefetchable);

	/* A 64-bit BAR larger than 4 GiB. */
	KT_EXPECT_EQ(pci_bar_decode(0x4, 0x8, 0x4, 0xFFFFFFFC, &b), 2);
	KT_EXPECT_EQ(b.size, 0x400000000ULL);
}

KTEST(pci, bar_decode_unimplemented)
{
	struct pci_bar b;

	KT_EXPECT_EQ(pci_bar_decode(0, 0, 0, 0, &b), 1);
	KT_EXPECT_EQ(b.kind, PCI_BAR_NONE);
	KT_EXPECT_EQ(pci_bar_decode(0x1, 0, 0x1, 0, &b), 1); /* I/O that decodes nothing */
	KT_EXPECT_EQ(b.kind, PCI_BAR_NONE);
	KT_EXPECT_EQ(pci_bar_decode(0x4, 0, 0x4, 0, &b), 2); /* 64-bit, nothing decoded */
	KT_EXPECT_EQ(b.kind, PCI_BAR_NONE);
}

static u8 cfg[256];

KTEST(pci, caps_walk_follows_the_list)
{
	struct pci_cap caps[PCI_CAPS_MAX];

	memset(cfg, 0, sizeof(cfg));
	cfg[0x98] = PCI_CAP_MSIX;
	cfg[0x99] = 0x84;
	cfg[0x84] = PCI_CAP_VENDOR;
	cfg[0x85] = 0x40;
	cfg[0x40] = PCI_CAP_MSI;
	cfg[0x41] = 0x00;
	KT_ASSERT_EQ(pci_caps_walk(cfg, 0x98, caps, PCI_CAPS_MAX), 3);
	KT_EXPECT_EQ(caps[0].id, PCI_CAP_MSIX);
	KT_EXPECT_EQ(caps[0].offset, 0x98);
	KT_EXPECT_EQ(caps[1].offset, 0x84);
	KT_EXPECT_EQ(caps[2].id, PCI_CAP_MSI);
	KT_EXPECT_EQ(pci_caps_walk(cfg, 0x00, caps, PCI_CAPS_MAX), 0);
	KT_EXPECT_EQ(pci_caps_walk(cfg, 0x20, caps, PCI_CAPS_MAX), 0); /* in the header */
}

KTEST(pci, caps_walk_survives_hostile_lists)
{
	struct pci_cap caps[PCI_CAPS_MAX];

	memset(cfg, 0, sizeof(cfg));
	cfg[0x40] = 1;
	cfg[0x41] = 0x50;
	cfg[0x50] = 2;
	cfg[0x51] = 0x40; /* a loop */
	KT_EXPECT_EQ(pci_caps_walk(cfg, 0x40, caps, PCI_CAPS_MAX), 2);
	cfg[0x51] = 0x3C; /* back into the header */
	KT_EXPECT_EQ(pci_caps_walk(cfg, 0x40, caps, PCI_CAPS_MAX), 2);
	for (unsigned i = 0; i < 256; i++)
		cfg[i] = (u8)ktest_rand(kt);
	for (unsigned round = 0; round < 2000; round++) {
		cfg[(u8)ktest_rand(kt)] = (u8)ktest_rand(kt);
		KT_ASSERT(pci_caps_walk(cfg, (u8)ktest_rand(kt), caps, PCI_CAPS_MAX) <= PCI_CAPS_MAX);
	}
	/* A chain longer than the cap stops at the cap. */
	for (unsigned at = 0x40; at < 0xFC; at += 4) {
		cfg[at] = 9;
		cfg[at + 1] = (u8)(at + 4);
	}
	KT_EXPECT_EQ(pci_caps_walk(cfg, 0x40, caps, 4), 4);
}

KTEST(pci, class_names)
{
	KT_EXPECT_STREQ(pci_class_name(0x02, 0x00), "ethernet controller");
	KT_EXPECT_STREQ(pci_class_name(0x02, 0x42), "network controller");
	KT_EXPECT_STREQ(pci_class_name(0x42, 0x00), "device");
}
