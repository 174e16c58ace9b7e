/*
 * mbr.h — the MBR partition table: four primary entries in a disk's first
 * sector, checked against the disk's size and against each other.
 *
 * Pure parsing, no I/O: the block layer reads LBA 0 and hands the 512 bytes
 * here; the host unit tests feed made-up and random sectors.  A disk image
 * is untrusted input, so every entry gets a verdict and only MBR_OK entries
 * may become partitions.  Extended partitions (logical drives) and GPT are
 * recognised but not read.
 */
#ifndef NOS_BLOCK_MBR_H
#define NOS_BLOCK_MBR_H

#include "types.h"

#define MBR_PARTS 4

enum mbr_verdict {
	MBR_OK,          /* a valid primary partition */
	MBR_EMPTY,       /* type 0: unused slot */
	MBR_EXTENDED,    /* type 0x05/0x0F/0x85: extended container, not followed (primaries only) */
	MBR_PROTECTIVE,  /* type 0xEE: GPT protective entry (GPT is not read) */
	MBR_BAD_RANGE,   /* zero length, starts at LBA 0, or runs past the end of the disk */
	MBR_OVERLAP,     /* overlaps an earlier valid entry */
	MBR_BAD_STATUS,  /* status byte neither 0x00 nor 0x80 */
};

struct mbr_part {
	u8 index;        /* 1..4, the slot number (the partition will be named vda<index>) */
	u8 type;         /* the system id byte */
	bool bootable;   /* status byte 0x80 */
	u64 start;       /* first sector (LBA, 512-byte sectors as stored) */
	u64 count;       /* sectors */
	enum mbr_verdict verdict;
};

/*
 * Parse the MBR in @sector (512 bytes, the disk's LBA 0) of a disk of
 * @disk_sectors sectors (the same unit as the table's LBAs).
 *
 * Fills all four @out entries (every slot gets a verdict; index, type,
 * bootable, start and count are what the slot holds, whatever the verdict).
 * An entry is checked in this order: type 0 -> MBR_EMPTY; a status byte
 * other than 0x00/0x80 -> MBR_BAD_STATUS; extended and protective types;
 * then its range; then overlap with the earlier MBR_OK entries only.
 *
 * Returns the number of MBR_OK entries (0 for a protective-only GPT disk),
 * or -ENOENT when the sector has no 0x55AA signature (no partition table);
 * then every @out entry is MBR_EMPTY with start = count = 0.
 */
int mbr_parse(const u8 sector[512], u64 disk_sectors, struct mbr_part out[MBR_PARTS]);

/* A short human phrase for a verdict ("overlaps an earlier partition"), never NULL. */
const char *mbr_verdict_str(enum mbr_verdict v);

#endif
