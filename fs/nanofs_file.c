/*
 * nanofs_file.c — reading, writing and truncating files.
 *
 * Data never goes through the cache or the journal.  Reads gather up to
 * NANOFS_IO_BLOCKS file blocks, read each run of physically consecutive
 * blocks in one request into the read window (fs->rabuf) and check every
 * block's CRC against its pointer before a byte is copied out.  A reader
 * that carries on where the window ended gets the next NANOFS_IO_BLOCKS
 * blocks at once (read-ahead), so a stream of small sequential reads costs
 * one device round trip per window, not per call; a random reader gets just
 * the blocks it asked for.
 *
 * Writes go in steps of at most NANOFS_STEP_BLOCKS file blocks, each step
 * atomic (it fits the running transaction, reserved in advance):
 *   1. build the new contents of the step's blocks in fs->iobuf (a partial
 *      block starts from its old contents, verified);
 *   2. choose where they go: a block the running transaction allocated is
 *      rewritten in place, any other gets a new block (the old one is freed
 *      deferred, so the committed state keeps its data until the commit);
 *   3. write the runs of consecutive new blocks, then switch the pointers
 *      and their CRCs, and the size, in the transaction.
 * The commit flushes the data before the journal, so a pointer never
 * commits ahead of its data.  Invariant kept for truncate: the bytes of a
 * file's last block past its size are zero.
 */
#include "fs/nanofs_priv.h"
#include "kernel/printk.h"
#include "lib/crc32.h"
#include "lib/string.h"

#define BS NANOFS_BSIZE

/* Read file blocks @k0..@k0+@n-1 (pointers @p) into @out, block i at i*4096, verified. */
static int read_blocks(struct nanofs *fs, u32 ino, u64 k0, const struct nanofs_bptr *p, u32 n,
		       u8 *out)
{
	for (u32 i = 0; i < n;) {
		u32 run = 1;
		int err;

		if (!p[i].block) {
			memset(out + (size_t)i * BS, 0, BS);
			i++;
			continue;
		}
		while (i + run < n && p[i + run].block == p[i].block + run)
			run++;
		if (!nanofs_in_data(fs, p[i].block)) {
			pr_err("nanofs: inode %u block %llu: pointer %u outside the data region",
			       ino, (unsigned long long)(k0 + i), p[i].block);
			return -EIO;
		}
		if (!nanofs_in_data(fs, p[i].block + run - 1))
			run = 1;
		if ((err = nanofs_dev_read(fs, p[i].block, run, out + (size_t)i * BS))) {
			pr_err("nanofs: inode %u file blocks %llu..%llu (blocks %u..%u): read error",
			       ino, (unsigned long long)(k0 + i), (unsigned long long)(k0 + i + run - 1),
			       p[i].block, p[i].block + run - 1);
			return err;
		}
		for (u32 j = i; j < i + run; j++) {
			if (crc32c(out + (size_t)j * BS, BS) != p[j].crc) {
				pr_err("nanofs: inode %u file block %llu (block %u): data checksum mismatch",
				       ino, (unsigned long long)(k0 + j), p[j].block);
				return -EIO;
			}
		}
		i += run;
	}
	return 0;
}

static int get_ptrs(struct nanofs *fs, u32 ino, const struct nanofs_inode *in, u64 k0, u32 n,
		    struct nanofs_bptr *p)
{
	for (u32 i = 0; i < n; i++) {
		int err = nanofs_bmap_get(fs, ino, in, k0 + i, &p[i]);

		if (err)
			return err;
	}
	return 0;
}

/*
 * Fill the read window with file blocks from @k0 on: the @need blocks the
 * caller wants, or, when the read continues where the window ended (a
 * sequential reader), as many as the window holds, up to the end of file.
 */
static int fill_window(struct nanofs *fs, u32 ino, const struct nanofs_inode *in, u64 k0,
		       u32 need)
{
	struct nanofs_bptr p[NANOFS_IO_BLOCKS];
	bool sequential = fs->ra_ino == ino && k0 == fs->ra_k0 + fs->ra_n;
	u32 n = sequential ? (u32)MIN((u64)NANOFS_IO_BLOCKS, NANOFS_BLOCKS_OF(in->size) - k0) : need;
	int err;

	fs->ra_ino = 0;
	if ((err = get_ptrs(fs, ino, in, k0, n, p)) || (err = read_blocks(fs, ino, k0, p, n, fs->rabuf)))
		return err;
	fs->ra_ino = ino;
	fs->ra_k0 = k0;
	fs->ra_n = n;
	return 0;
}

static s64 read_locked(struct nanofs *fs, u32 ino, u64 off, u8 *buf, u64 len)
{
	struct nanofs_inode in;
	u64 done = 0;
	int err;

	if ((err = nanofs_iget(fs, ino, &in)))
		return err;
	if (in.type == NANOFS_T_FREE)
		return -ENOENT;
	if (in.type != NANOFS_T_FILE)
		return -EISDIR;
	if (off >= in.size)
		return 0;
	len = MIN(len, in.size - off);
	while (done < len) {
		u64 pos = off + done, k0 = pos / BS, chunk;

		if (fs->ra_ino != ino || k0 < fs->ra_k0 || k0 >= fs->ra_k0 + fs->ra_n) {
			u32 need = (u32)MIN((u64)NANOFS_IO_BLOCKS, NANOFS_BLOCKS_OF(off + len) - k0);

			if ((err = fill_window(fs, ino, &in, k0, need)))
				return err;
		}
		chunk = MIN(len - done, (fs->ra_k0 + fs->ra_n) * BS - pos);
		memcpy(buf + done, fs->rabuf + (pos - fs->ra_k0 * BS), chunk);
		done += chunk;
	}
	return (s64)done;
}

s64 nanofs_read(struct nanofs *fs, u32 ino, u64 off, void *buf, u64 len)
{
	s64 r;

	mutex_lock(&fs->lock);
	r = read_locked(fs, ino, off, buf, len);
	mutex_unlock(&fs->lock);
	return r;
}

/* Step 1: the new contents of blocks k0..k0+n-1 in iobuf. */
static int build_step(struct nanofs *fs, u32 ino, const struct nanofs_inode *in,
		      const struct nanofs_bptr *old, u64 k0, u32 n, u64 pos, const u8 *src, u64 len)
{
	for (u32 i = 0; i < n; i++) {
		u64 bstart = (k0 + i) * BS;
		u64 lo = MAX(pos, bstart), hi = MIN(pos + len, bstart + BS);
		u8 *slot = fs->iobuf + (size_t)i * BS;
		int err;

		if (lo != bstart || hi != bstart + BS) {
			if (old[i].block && in->size > bstart) {
				if ((err = read_blocks(fs, ino, k0 + i, &old[i], 1, slot)))
					return err;
				if (in->size < bstart + BS)
					memset(slot + (in->size - bstart), 0, bstart + BS - in->size);
			} else {
				memset(slot, 0, BS);
			}
		}
		if (src)
			memcpy(slot + (lo - bstart), src + (lo - pos), hi - lo);
		else
			memset(slot + (lo - bstart), 0, hi - lo);
	}
	return 0;
}

/* Step 2: a home for each block; how many got one (stops at -ENOSPC). */
static int place_step(struct nanofs *fs, u32 ino, struct nanofs_inode *in,
		      const struct nanofs_bptr *old, u64 k0, u32 n, u32 *dst, u32 *placed)
{
	struct nanofs_bptr prev = { 0, 0 };
	int err = 0;

	/* next-fit after the file's previous block keeps a growing file in one run */
	if (k0 && (err = nanofs_bmap_get(fs, ino, in, k0 - 1, &prev)))
		return err;
	for (*placed = 0; *placed < n; (*placed)++) {
		u32 i = *placed;
		u64 hint = i ? dst[i - 1] + 1 : prev.block ? prev.block + 1 : 0;

		if (old[i].block && nanofs_block_fresh(fs, old[i].block))
			dst[i] = old[i].block;
		else if ((err = nanofs_bmap_set(fs, ino, in, k0 + i, NULL)) ||
			 (err = nanofs_alloc_block(fs, hint, &dst[i])))
			break;
	}
	return err == -ENOSPC && *placed ? 0 : err;
}

/* Step 3: the data out, then the pointers in. */
static int commit_step(struct nanofs *fs, u32 ino, struct nanofs_inode *in,
		       const struct nanofs_bptr *old, u64 k0, u32 n, const u32 *dst)
{
	for (u32 i = 0; i < n;) {
		u32 run = 1;
		int err;

		while (i + run < n && dst[i + run] == dst[i] + run)
			run++;
		if ((err = nanofs_dev_write(fs, dst[i], run, fs->iobuf + (size_t)i * BS))) {
			pr_err("nanofs: inode %u file blocks %llu..%llu (blocks %u..%u): write error",
			       ino, (unsigned long long)(k0 + i), (unsigned long long)(k0 + i + run - 1),
			       dst[i], dst[i] + run - 1);
			return err;
		}
		i += run;
	}
	for (u32 i = 0; i < n; i++) {
		struct nanofs_bptr p = { dst[i], crc32c(fs->iobuf + (size_t)i * BS, BS) };
		int err = nanofs_bmap_set(fs, ino, in, k0 + i, &p);

		if (!err && old[i].block && old[i].block != dst[i])
			err = nanofs_free_block(fs, old[i].block);
		else if (!err && !old[i].block)
			in->nblocks++;
		if (err)
			return err;
	}
	return 0;
}

/* One atomic step at @pos of up to NANOFS_STEP_BLOCKS blocks; *@wrote bytes. */
static int write_step(struct nanofs *fs, u32 ino, u64 pos, const u8 *src, u64 len, u64 *wrote)
{
	struct nanofs_bptr old[NANOFS_STEP_BLOCKS];
	u32 dst[NANOFS_STEP_BLOCKS], n, placed;
	struct nanofs_inode in;
	u64 k0 = pos / BS;
	int err;

	n = (u32)(NANOFS_BLOCKS_OF(pos + len) - k0);
	if ((err = nanofs_txn_reserve(fs, nanofs_step_reserve(fs))))
		return err;
	if (fs->free_blocks < n + 8 && fs->npending && (err = nanofs_commit(fs)))
		return err;
	if ((err = nanofs_iget(fs, ino, &in)))
		return err;
	if (in.type != NANOFS_T_FILE)
		return in.type == NANOFS_T_FREE ? -ENOENT : -EISDIR;
	if ((err = get_ptrs(fs, ino, &in, k0, n, old)) ||
	    (err = build_step(fs, ino, &in, old, k0, n, pos, src, len)))
		return err;
	err = place_step(fs, ino, &in, old, k0, n, dst, &placed);
	if (!err)
		err = commit_step(fs, ino, &in, old, k0, placed, dst);
	if (err && err != -ENOSPC)
		return err;
	*wrote = placed == n ? len : placed ? (k0 + placed) * BS - pos : 0;
	if (pos + *wrote > in.size)
		in.size = pos + *wrote;
	in.mtime = nanofs_now(fs);
	/* even a step that placed nothing may have built indirect blocks: keep them */
	if ((err = nanofs_iput(fs, ino, &in)))
		return err;
	return placed ? 0 : -ENOSPC;
}

s64 nanofs_write_locked(struct nanofs *fs, u32 ino, u64 off, const void *buf, u64 len)
{
	const u8 *src = buf;
	u64 done = 0;
	int err;

	if ((err = nanofs_writable(fs)))
		return err;
	if (off > NANOFS_MAX_FILE || len > NANOFS_MAX_FILE - off)
		return -EFBIG;
	while (done < len) {
		u64 pos = off + done;
		u64 step = MIN(len - done, (pos / BS + NANOFS_STEP_BLOCKS) * BS - pos), wrote = 0;

		err = write_step(fs, ino, pos, src ? src + done : NULL, step, &wrote);
		if (err)
			return done ? (s64)done : err;
		done += wrote;
		if (wrote < step)
			break;
	}
	return (s64)done;
}

s64 nanofs_write(struct nanofs *fs, u32 ino, u64 off, const void *buf, u64 len)
{
	s64 r;

	if (!buf && len)
		return -EINVAL;
	mutex_lock(&fs->lock);
	r = nanofs_write_locked(fs, ino, off, buf, len);
	mutex_unlock(&fs->lock);
	return r;
}

int nanofs_zero_range(struct nanofs *fs, u32 ino, u64 from, u64 to)
{
	s64 r = from < to ? nanofs_write_locked(fs, ino, from, NULL, to - from) : 0;

	return r < 0 ? (int)r : (u64)r == to - from ? 0 : -ENOSPC;
}

int nanofs_truncate_locked(struct nanofs *fs, u32 ino, u64 size)
{
	struct nanofs_inode in;
	struct nanofs_bptr p;
	int err;

	if ((err = nanofs_writable(fs)))
		return err;
	if (size > NANOFS_MAX_FILE)
		return -EFBIG;
	/* the zeroing and the new size go in one transaction */
	if ((err = nanofs_txn_reserve(fs, 2 * nanofs_step_reserve(fs))) ||
	    (err = nanofs_iget(fs, ino, &in)))
		return err;
	if (in.type != NANOFS_T_FILE)
		return in.type == NANOFS_T_FREE ? -ENOENT : -EISDIR;
	if (size < in.size && size % BS) {
		if ((err = nanofs_bmap_get(fs, ino, &in, size / BS, &p)))
			return err;
		if (p.block && (err = nanofs_zero_range(fs, ino, size, MIN(in.size, ALIGN_UP(size, (u64)BS)))))
			return err;
		if ((err = nanofs_iget(fs, ino, &in)))
			return err;
	}
	if (size >= in.size) {
		in.size = size;
		in.mtime = nanofs_now(fs);
		return nanofs_iput(fs, ino, &in);
	}
	in.size = size;
	in.mtime = nanofs_now(fs);
	if ((err = nanofs_orphan_push(fs, ino, &in)))
		return err;
	return nanofs_orphan_cleanup(fs);
}

int nanofs_truncate(struct nanofs *fs, u32 ino, u64 size)
{
	int err;

	mutex_lock(&fs->lock);
	err = nanofs_truncate_locked(fs, ino, size);
	mutex_unlock(&fs->lock);
	return err;
}
