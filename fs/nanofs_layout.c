/*
 * nanofs_layout.c — where each region of a nanofs volume goes, derived from
 * the volume's size alone (docs/nanofs.md, "Layout", has the formulas and
 * worked examples).
 *
 * The superblock stores the result, and mount recomputes it from the
 * stored size and inode count and refuses a superblock that disagrees, so
 * a corrupt region start can never point a write past the end of the
 * device.  The one invariant everything rests on:
 *
 *     data_start + data_blocks == blocks - 1   (the backup superblock)
 *
 * Pure arithmetic: no I/O, no allocation, callable from anywhere.
 */
#include "errno.h"
#include "fs/nanofs_disk.h"

#define NANOFS_JOURNAL_MIN 32u
#define NANOFS_JOURNAL_MAX 1024u
#define NANOFS_INODES_MIN 64u
#define NANOFS_INODES_MAX (1u << 25)

static u64 clamp_u64(u64 v, u64 lo, u64 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static u64 div_up(u64 a, u64 b)
{
	return (a + b - 1) / b;
}

int nanofs_layout_compute(u64 blocks, u64 inodes, struct nanofs_layout *out)
{
	struct nanofs_layout l = { .blocks = blocks };
	u64 meta, rest;

	if (blocks < NANOFS_MIN_BLOCKS || blocks > NANOFS_MAX_BLOCKS)
		return -EINVAL;
	if (!inodes)
		inodes = clamp_u64(blocks / 4, NANOFS_INODES_MIN, NANOFS_INODES_MAX);
	if (inodes < NANOFS_INODES_MIN || inodes > NANOFS_INODES_MAX)
		return -EINVAL;
	l.inodes = ALIGN_UP(inodes, (u64)NANOFS_INODES_PER_BLOCK);

	l.journal_start = NANOFS_JOURNAL_START;
	l.journal_blocks = clamp_u64(blocks / 64, NANOFS_JOURNAL_MIN, NANOFS_JOURNAL_MAX);
	l.ibitmap_start = l.journal_start + l.journal_blocks;
	l.ibitmap_blocks = div_up(l.inodes, NANOFS_BITS_PER_BMP);
	l.itable_start = l.ibitmap_start + l.ibitmap_blocks;
	l.itable_blocks = l.inodes / NANOFS_INODES_PER_BLOCK;
	l.dbitmap_start = l.itable_start + l.itable_blocks;
	meta = l.dbitmap_start;
	/* Leave at least 16 data blocks: a volume that is all metadata is no use. */
	if (meta + 1 + 2 + 16 > blocks)
		return -EINVAL;
	rest = blocks - 1 - meta;
	l.dbitmap_blocks = div_up(rest, NANOFS_BITS_PER_BMP + 1);
	l.data_start = meta + l.dbitmap_blocks;
	l.data_blocks = rest - l.dbitmap_blocks;
	l.backup = blocks - 1;
	if (l.data_blocks < 16)
		return -EINVAL;
	*out = l;
	return 0;
}
