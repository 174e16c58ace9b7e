/*
 * nanofs_alloc.c — the inode and data bitmaps.
 *
 * The bitmaps are metadata like any other: a bit changes in the cached
 * bitmap block, inside the running transaction.  Alongside, memory keeps a
 * count of free bits per bitmap block (loaded at mount), so allocation
 * skips full blocks without reading them and statfs needs no I/O.
 *
 * The rule that keeps file data safe (docs/nanofs.md): a data block the
 * committed state owns is never written until a committed state no longer
 * owns it.  So a freed block is *deferred*: its bit stays set until the
 * transaction that freed it commits (nanofs_apply_pending, called by the
 * commit).  A block allocated by the running transaction is "fresh": it may
 * be rewritten in place, and freeing it clears its bit at once.
 *
 * Allocation is next-fit from a hint (the block before, for a file), so a
 * file written in order lands in consecutive blocks and is read and
 * written in large requests.  Bits past the last inode or data block are
 * set at format and never counted as free.
 */
#include "fs/nanofs_priv.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define NANOFS_PENDING_MAX 65536u

static bool bit_get(const u8 *map, u32 bit)
{
	return map[bit / 8] & (1u << (bit % 8));
}

static void bit_put(u8 *map, u32 bit, bool v)
{
	if (v)
		map[bit / 8] |= (u8)(1u << (bit % 8));
	else
		map[bit / 8] &= (u8)~(1u << (bit % 8));
}

/* Count the free bits of bitmap block @i of a map of @nbits valid bits. */
static u32 count_free(const u8 *map, u64 i, u64 nbits)
{
	u64 first = i * NANOFS_BITS_PER_BMP;
	u32 valid = (u32)MIN((u64)NANOFS_BITS_PER_BMP, nbits - first), n = 0, b = 0;

	for (; b + 64 <= valid; b += 64) {
		u64 w;

		memcpy(&w, map + b / 8, sizeof(w));
		n += 64 - (u32)__builtin_popcountll(w);
	}
	for (; b < valid; b++)
		n += !bit_get(map, b);
	return n;
}

/*
 * Load the free counts of the @nblk bitmap blocks at @start (@nbits valid
 * bits, tail kind @kind) into @counts, reading many blocks per request.
 * A block the cache holds (a journal image on a read-only mount) is taken
 * from there.
 */
static int load_counts(struct nanofs *fs, u64 start, u64 nblk, u64 nbits, u32 kind,
		       u32 *counts, u64 *total)
{
	for (u64 i = 0; i < nblk; i += NANOFS_IO_BLOCKS) {
		u32 n = (u32)MIN((u64)NANOFS_IO_BLOCKS, nblk - i);
		int err = nanofs_dev_read(fs, start + i, n, fs->iobuf);

		if (err)
			return err;
		for (u32 j = 0; j < n; j++) {
			struct nanofs_cbuf *cb = nanofs_cache_peek(fs, start + i + j);
			const u8 *map = cb ? cb->data : fs->iobuf + (size_t)j * NANOFS_BSIZE;

			if (!nanofs_tail_ok(start + i + j, map, kind)) {
				pr_err("nanofs: %s bitmap block %llu: checksum mismatch",
				       kind == NANOFS_KIND_IBMP ? "inode" : "data",
				       (unsigned long long)(start + i + j));
				return -EIO;
			}
			counts[i + j] = count_free(map, i + j, nbits);
			*total += counts[i + j];
		}
	}
	return 0;
}

int nanofs_alloc_load(struct nanofs *fs)
{
	const struct nanofs_layout *l = &fs->lay;
	int err;

	fs->dfree = kzalloc(l->dbitmap_blocks * sizeof(u32));
	fs->ifree = kzalloc(l->ibitmap_blocks * sizeof(u32));
	fs->pend_mark = kzalloc(l->dbitmap_blocks / 8 + 1);
	if (!fs->dfree || !fs->ifree || !fs->pend_mark)
		return -ENOMEM;
	fs->free_blocks = fs->free_inodes = 0;
	err = load_counts(fs, l->dbitmap_start, l->dbitmap_blocks, l->data_blocks,
			  NANOFS_KIND_DBMP, fs->dfree, &fs->free_blocks);
	if (!err)
		err = load_counts(fs, l->ibitmap_start, l->ibitmap_blocks, l->inodes,
				  NANOFS_KIND_IBMP, fs->ifree, &fs->free_inodes);
	return err;
}

void nanofs_alloc_destroy(struct nanofs *fs)
{
	kfree(fs->dfree);
	kfree(fs->ifree);
	kfree(fs->pend_mark);
	kfree(fs->pending);
	nanofs_blkset_free(&fs->fresh);
	fs->dfree = fs->ifree = fs->pending = NULL;
	fs->pend_mark = NULL;
}

/*
 * Find and set a clear bit of a map of @nbits bits starting the search at
 * @from, block by block through @counts.  Returns the bit, or -ENOSPC.
 */
static s64 map_take(struct nanofs *fs, u64 start, u64 nblk, u64 nbits, u32 kind, u32 *counts,
		    u64 from)
{
	u64 bi = from / NANOFS_BITS_PER_BMP;
	u32 b0 = (u32)(from % NANOFS_BITS_PER_BMP);

	for (u64 step = 0; step <= nblk; step++, bi = (bi + 1) % nblk, b0 = 0) {
		struct nanofs_cbuf *cb;
		u64 first = bi * NANOFS_BITS_PER_BMP;
		u32 valid = (u32)MIN((u64)NANOFS_BITS_PER_BMP, nbits - first);
		int err;

		if (!counts[bi])
			continue;
		if ((err = nanofs_bread(fs, start + bi, kind, &cb)))
			return err;
		for (u32 b = b0; b < valid; b++) {
			if (bit_get(cb->data, b))
				continue;
			if ((err = nanofs_bdirty(fs, cb))) {
				nanofs_brelse(fs, cb);
				return err;
			}
			bit_put(cb->data, b, true);
			nanofs_brelse(fs, cb);
			counts[bi]--;
			return (s64)(first + b);
		}
		nanofs_brelse(fs, cb);
	}
	return -ENOSPC;
}

static int map_clear(struct nanofs *fs, u64 start, u32 kind, u32 *counts, u64 bit)
{
	u64 bi = bit / NANOFS_BITS_PER_BMP;
	u32 b = (u32)(bit % NANOFS_BITS_PER_BMP);
	struct nanofs_cbuf *cb;
	int err;

	if ((err = nanofs_bread(fs, start + bi, kind, &cb)))
		return err;
	if (!bit_get(cb->data, b)) {
		pr_err("nanofs: freeing free %s %llu (bitmap block %llu)",
		       kind == NANOFS_KIND_IBMP ? "inode" : "block",
		       (unsigned long long)(kind == NANOFS_KIND_IBMP ? bit : bit + fs->lay.data_start),
		       (unsigned long long)(start + bi));
		nanofs_brelse(fs, cb);
		return -EIO;
	}
	err = nanofs_bdirty(fs, cb);
	if (!err) {
		bit_put(cb->data, b, false);
		counts[bi]++;
	}
	nanofs_brelse(fs, cb);
	return err;
}

int nanofs_alloc_block(struct nanofs *fs, u64 hint, u32 *blk)
{
	const struct nanofs_layout *l = &fs->lay;
	u64 from = nanofs_in_data(fs, hint) ? hint - l->data_start : fs->dhint;
	s64 bit;
	int err;

	if (!fs->free_blocks)
		return -ENOSPC;
	bit = map_take(fs, l->dbitmap_start, l->dbitmap_blocks, l->data_blocks,
		       NANOFS_KIND_DBMP, fs->dfree, from % l->data_blocks);
	if (bit < 0)
		return (int)bit;
	*blk = (u32)(l->data_start + (u64)bit);
	fs->free_blocks--;
	fs->dhint = (u64)bit + 1;
	if ((err = nanofs_blkset_add(&fs->fresh, *blk))) {
		map_clear(fs, l->dbitmap_start, NANOFS_KIND_DBMP, fs->dfree, (u64)bit);
		fs->free_blocks++;
		return err;
	}
	return 0;
}

bool nanofs_block_fresh(const struct nanofs *fs, u32 blk)
{
	return nanofs_blkset_has(&fs->fresh, blk);
}

static int pending_add(struct nanofs *fs, u32 blk)
{
	u64 bi = (blk - fs->lay.data_start) / NANOFS_BITS_PER_BMP;

	if (fs->npending == fs->pending_cap) {
		u32 ncap = fs->pending_cap ? fs->pending_cap * 2 : 1024;
		u32 *n = kmalloc(ncap * sizeof(u32));

		if (!n)
			return -ENOMEM;
		if (fs->npending)
			memcpy(n, fs->pending, fs->npending * sizeof(u32));
		kfree(fs->pending);
		fs->pending = n;
		fs->pending_cap = ncap;
	}
	fs->pending[fs->npending++] = blk;
	if (!bit_get(fs->pend_mark, (u32)bi)) {
		bit_put(fs->pend_mark, (u32)bi, true);
		fs->npend_marks++;
	}
	return 0;
}

int nanofs_free_block(struct nanofs *fs, u32 blk)
{
	const struct nanofs_layout *l = &fs->lay;
	int err;

	if (!nanofs_in_data(fs, blk)) {
		pr_err("nanofs: freeing block %u outside the data region", blk);
		return -EIO;
	}
	nanofs_bforget(fs, blk);
	if (!nanofs_blkset_del(&fs->fresh, blk))
		return pending_add(fs, blk);
	err = map_clear(fs, l->dbitmap_start, NANOFS_KIND_DBMP, fs->dfree, blk - l->data_start);
	if (!err)
		fs->free_blocks++;
	return err;
}

int nanofs_apply_pending(struct nanofs *fs)
{
	const struct nanofs_layout *l = &fs->lay;

	for (u32 i = 0; i < fs->npending; i++) {
		int err = map_clear(fs, l->dbitmap_start, NANOFS_KIND_DBMP, fs->dfree,
				    fs->pending[i] - l->data_start);

		if (err)
			return err;
		fs->free_blocks++;
	}
	fs->npending = 0;
	memset(fs->pend_mark, 0, l->dbitmap_blocks / 8 + 1);
	fs->npend_marks = 0;
	return 0;
}

bool nanofs_txn_crowded(const struct nanofs *fs)
{
	return fs->npending >= NANOFS_PENDING_MAX || fs->fresh.count >= NANOFS_FRESH_MAX;
}

int nanofs_alloc_inode(struct nanofs *fs, u32 *ino)
{
	const struct nanofs_layout *l = &fs->lay;
	s64 bit;

	if (!fs->free_inodes)
		return -ENOSPC;
	bit = map_take(fs, l->ibitmap_start, l->ibitmap_blocks, l->inodes, NANOFS_KIND_IBMP,
		       fs->ifree, fs->ihint % l->inodes);
	if (bit < 0)
		return (int)bit;
	fs->free_inodes--;
	fs->ihint = (u64)bit + 1;
	*ino = (u32)bit;
	return 0;
}

int nanofs_release_inode(struct nanofs *fs, u32 ino)
{
	int err = map_clear(fs, fs->lay.ibitmap_start, NANOFS_KIND_IBMP, fs->ifree, ino);

	if (!err)
		fs->free_inodes++;
	return err;
}

int nanofs_free_inode(struct nanofs *fs, u32 ino)
{
	struct nanofs_inode zero;
	int err;

	memset(&zero, 0, sizeof(zero));
	err = nanofs_iput(fs, ino, &zero);
	return err ? err : nanofs_release_inode(fs, ino);
}
