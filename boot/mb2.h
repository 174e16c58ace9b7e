/*
 * mb2.h — what the kernel keeps from the Multiboot2 boot information.
 *
 * mb2_parse() walks the tags once at boot and copies out what later
 * subsystems need, so nothing depends on the boot loader's memory after it:
 * the command line, the boot loader's name, the memory map and the ACPI
 * RSDP (from the "new" tag when present, else the "old" one).
 *
 * The command line is kept up to MB2_CMDLINE_MAX - 1 bytes, far more than
 * the parameter parser reads (kernel/params.h), so that the parser sees an
 * over-long line and says so instead of words vanishing here.  A string
 * longer still is cut with a warning in dmesg naming how much was dropped.
 */
#ifndef NOS_MB2_H
#define NOS_MB2_H

#include "types.h"

#define MB2_BOOTLOADER_MAGIC 0x36D76289
#define MB2_MMAP_MAX 64
#define MB2_CMDLINE_MAX 4096

enum mb2_mem_type {
	MB2_MEM_AVAILABLE = 1,
	MB2_MEM_RESERVED = 2,
	MB2_MEM_ACPI_RECLAIMABLE = 3,
	MB2_MEM_NVS = 4,
	MB2_MEM_BADRAM = 5,
};

struct mb2_mmap_entry {
	u64 base;
	u64 len;
	u32 type;
};

struct boot_info {
	char cmdline[MB2_CMDLINE_MAX];
	char loader[64];
	struct mb2_mmap_entry mmap[MB2_MMAP_MAX];
	unsigned mmap_count;
	u8 rsdp[36];        /* copy of the RSDP structure (v1: first 20 bytes) */
	unsigned rsdp_len;  /* 0: none given; 20: ACPI 1.0; 36: ACPI 2.0+ */
	u64 info_phys, info_size; /* where the boot information itself lies */
	unsigned unknown_tags;
};

extern struct boot_info boot_info;

/*
 * Parse the boot information at @info (already mapped) into boot_info.
 * Returns 0, or -EINVAL when the block is malformed (then nothing past the
 * bad tag is used).
 */
int mb2_parse(const void *info, u64 info_phys);

#endif
