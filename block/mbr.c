/*
 * mbr.c — MBR partition table parsing (see mbr.h).
 *
 * Layout of sector 0 (all multi-byte fields little endian):
 *
 *   0..445    boot code (ignored)
 *   446..509  four 16-byte partition entries:
 *               +0  status: 0x80 bootable, 0x00 not; anything else is junk
 *               +1  CHS of the first sector (3 bytes, ignored)
 *               +4  system id (partition type)
 *               +5  CHS of the last sector (3 bytes, ignored)
 *               +8  LBA of the first sector (u32)
 *               +12 number of sectors (u32)
 *   510, 511  signature 0x55, 0xAA
 *
 * CHS is ignored because every tool since the 1990s writes the LBA fields
 * and fills CHS with 1023/254/63 placeholders past 8 GiB.
 *
 * What makes an entry trustworthy: a sane status byte (a sector that merely
 * ends in 0x55AA — a FAT boot sector, say — usually fails this), a range
 * inside the disk that does not start at LBA 0 (which would put the table
 * itself inside the partition), and no overlap with a partition already
 * accepted.  The fields are u32 but the sums are done in u64, so start +
 * count never wraps.
 */
#include "block/mbr.h"
#include "compiler.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/string.h"

#define MBR_TABLE 446
#define MBR_ENTRY_SIZE 16
#define MBR_SIG 510

#define MBR_STATUS_BOOT 0x80
#define MBR_TYPE_EMPTY 0x00
#define MBR_TYPE_PROTECTIVE 0xEE

static bool mbr_type_is_extended(u8 type)
{
	/* DOS CHS extended, Windows LBA extended, Linux extended. */
	return type == 0x05 || type == 0x0F || type == 0x85;
}

static bool mbr_has_signature(const u8 sector[512])
{
	return sector[MBR_SIG] == 0x55 && sector[MBR_SIG + 1] == 0xAA;
}

/* Half-open ranges [start, start + count) share a sector. */
static bool mbr_overlaps(const struct mbr_part *a, const struct mbr_part *b)
{
	return a->start < b->start + b->count && b->start < a->start + a->count;
}

/* The verdict for entry @p, given the entries before it in @out. */
static enum mbr_verdict mbr_judge(const u8 *entry, const struct mbr_part *p,
				  const struct mbr_part *out, u64 disk_sectors)
{
	u8 status = entry[0];

	if (p->type == MBR_TYPE_EMPTY)
		return MBR_EMPTY;
	if (status != 0x00 && status != MBR_STATUS_BOOT)
		return MBR_BAD_STATUS;
	if (mbr_type_is_extended(p->type))
		return MBR_EXTENDED;
	if (p->type == MBR_TYPE_PROTECTIVE)
		return MBR_PROTECTIVE;
	if (p->count == 0 || p->start == 0 || p->start + p->count > disk_sectors)
		return MBR_BAD_RANGE;
	for (const struct mbr_part *q = out; q < p; q++)
		if (q->verdict == MBR_OK && mbr_overlaps(p, q))
			return MBR_OVERLAP;
	return MBR_OK;
}

int mbr_parse(const u8 sector[512], u64 disk_sectors, struct mbr_part out[MBR_PARTS])
{
	bool has_table = mbr_has_signature(sector);
	int ok = 0;

	for (unsigned i = 0; i < MBR_PARTS; i++) {
		const u8 *entry = sector + MBR_TABLE + i * MBR_ENTRY_SIZE;
		struct mbr_part *p = &out[i];

		memset(p, 0, sizeof(*p));
		p->index = (u8)(i + 1);
		p->verdict = MBR_EMPTY;
		if (!has_table)
			continue; /* the bytes are not a table: report nothing */
		p->type = entry[4];
		p->bootable = entry[0] == MBR_STATUS_BOOT;
		p->start = get_le32(entry + 8);
		p->count = get_le32(entry + 12);
		p->verdict = mbr_judge(entry, p, out, disk_sectors);
		if (p->verdict == MBR_OK)
			ok++;
	}
	return has_table ? ok : -ENOENT;
}

static const char *const mbr_verdict_names[] = {
	[MBR_OK] = "valid partition",
	[MBR_EMPTY] = "empty slot",
	[MBR_EXTENDED] = "extended partition (not followed)",
	[MBR_PROTECTIVE] = "GPT protective entry (GPT not read)",
	[MBR_BAD_RANGE] = "zero length, at sector 0 or past the end of the disk",
	[MBR_OVERLAP] = "overlaps an earlier partition",
	[MBR_BAD_STATUS] = "invalid status byte",
};

const char *mbr_verdict_str(enum mbr_verdict v)
{
	if ((unsigned)v >= ARRAY_SIZE(mbr_verdict_names) || !mbr_verdict_names[v])
		return "unknown verdict";
	return mbr_verdict_names[v];
}
