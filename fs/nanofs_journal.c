/*
 * nanofs_journal.c — the write-ahead metadata journal: commit and replay.
 *
 * One transaction at a time lives in the journal, always starting at its
 * first block:
 *
 *     [JHDR: seq, count, home block of each image] [image 1] ... [image count] [JCMT]
 *
 * JCMT carries seq, count and the CRC32 of the header block and every image
 * in order, so it matches only when the whole run reached the disk; that is
 * what lets the run go out in one stream with a single flush after it.
 *
 * Commit (the order is the whole point; docs/nanofs.md argues it):
 *   1. release deferred frees into the bitmap, bump the state block's seq,
 *      seal every dirty block (tails);
 *   2. flush: file data, written straight to fresh blocks, is durable;
 *   3. write header, images and commit block; flush: committed;
 *   4. write every image home, consecutive blocks in one request; flush.
 * After 4 the journal may be overwritten by the next transaction.
 *
 * Replay (mount): if the header at the journal's start and its commit block
 * check, copy the images home and flush.  Replaying the last transaction
 * twice is harmless: nothing but file data for blocks free in its state is
 * ever written in place after its checkpoint and before the next commit.
 * A read-only mount pins the images in the cache instead.
 */
#include "fs/nanofs_priv.h"
#include "kernel/printk.h"
#include "lib/crc32.h"
#include "lib/string.h"
#include "mm/kmalloc.h"


u32 nanofs_step_reserve(const struct nanofs *fs)
{
	/* inode, state, 2 leaves with their parents (8), and the bitmap blocks that
	 * up to 72 allocations and 72 frees can touch */
	return 10 + 2 * (u32)MIN((u64)72, fs->lay.dbitmap_blocks);
}

int nanofs_txn_reserve(struct nanofs *fs, u32 need)
{
	fs->ra_ino = 0; /* a change is coming: the read window may go stale */
	if (fs->ro)
		return fs->failed ? -EIO : -EROFS;
	if (fs->ndirty + fs->npend_marks + need + 1 <= fs->jcap && !nanofs_txn_crowded(fs))
		return 0;
	return nanofs_commit(fs);
}

/* Order the transaction's blocks by number: the checkpoint merges runs. */
static void sort_dirty(struct nanofs *fs)
{
	for (u32 i = 1; i < fs->ndirty; i++) {
		struct nanofs_cbuf *cb = fs->dirty[i];
		u32 j = i;

		for (; j > 0 && fs->dirty[j - 1]->blk > cb->blk; j--)
			fs->dirty[j] = fs->dirty[j - 1];
		fs->dirty[j] = cb;
	}
}

static int seal_all(struct nanofs *fs)
{
	struct nanofs_cbuf *cb;
	struct nanofs_state *st;
	int err = nanofs_state_get(fs, &cb, &st);

	if (err)
		return err;
	err = nanofs_bdirty(fs, cb);
	st->seq = fs->seq;
	nanofs_brelse(fs, cb);
	if (err)
		return err;
	for (u32 i = 0; i < fs->ndirty; i++) {
		cb = fs->dirty[i];
		if (cb->kind != NANOFS_KIND_ITABLE)
			nanofs_tail_seal(cb->blk, cb->data, cb->kind);
	}
	sort_dirty(fs);
	return 0;
}

/* Step 3: header, images and commit block as one stream from iobuf. */
static int journal_write(struct nanofs *fs)
{
	u64 at = fs->lay.journal_start;
	u32 total = fs->ndirty + 2, fill = 0, crc;
	struct nanofs_jhdr *h = (struct nanofs_jhdr *)fs->iobuf;
	struct nanofs_jcommit *c;
	int err;

	memset(fs->iobuf, 0, NANOFS_BSIZE);
	h->seq = fs->seq;
	h->count = fs->ndirty;
	for (u32 i = 0; i < fs->ndirty; i++)
		h->target[i] = (u32)fs->dirty[i]->blk;
	nanofs_tail_seal(at, fs->iobuf, NANOFS_KIND_JHDR);
	crc = crc32c(fs->iobuf, NANOFS_BSIZE);
	fill = 1;
	for (u32 i = 1; i < total; i++) {
		u8 *slot = fs->iobuf + (size_t)fill * NANOFS_BSIZE;

		if (i <= fs->ndirty) {
			memcpy(slot, fs->dirty[i - 1]->data, NANOFS_BSIZE);
			crc = crc32c_update(crc, slot, NANOFS_BSIZE);
		} else {
			memset(slot, 0, NANOFS_BSIZE);
			c = (struct nanofs_jcommit *)slot;
			c->seq = fs->seq;
			c->count = fs->ndirty;
			c->crc_all = crc;
			nanofs_tail_seal(at + fill, slot, NANOFS_KIND_JCMT);
		}
		if (++fill == NANOFS_IO_BLOCKS || i == total - 1) {
			if ((err = nanofs_dev_write(fs, at, fill, fs->iobuf)))
				return err;
			at += fill;
			fill = 0;
		}
	}
	return nanofs_dev_flush(fs);
}

/* Step 4: every image home, runs of consecutive blocks in one request. */
static int checkpoint(struct nanofs *fs)
{
	u32 i = 0;

	while (i < fs->ndirty) {
		u64 first = fs->dirty[i]->blk;
		u32 n = 0;
		int err;

		while (i + n < fs->ndirty && n < NANOFS_IO_BLOCKS && fs->dirty[i + n]->blk == first + n) {
			memcpy(fs->iobuf + (size_t)n * NANOFS_BSIZE, fs->dirty[i + n]->data, NANOFS_BSIZE);
			n++;
		}
		if ((err = nanofs_dev_write(fs, first, n, fs->iobuf)))
			return err;
		i += n;
	}
	return nanofs_dev_flush(fs);
}

int nanofs_commit(struct nanofs *fs)
{
	int err;

	if (fs->failed)
		return -EIO;
	if (fs->ro)
		return 0;
	if (!fs->ndirty && !fs->npending) {
		nanofs_blkset_clear(&fs->fresh);
		return 0;
	}
	if ((err = nanofs_apply_pending(fs)) || (err = seal_all(fs)))
		goto fail;
	if ((err = nanofs_dev_flush(fs)) || (err = journal_write(fs)) || (err = checkpoint(fs)))
		goto fail;
	nanofs_cache_all_clean(fs);
	nanofs_blkset_clear(&fs->fresh);
	fs->seq++;
	return 0;
fail:
	/* Memory is now ahead of the disk; the next mount sees the last commit. */
	fs->failed = true;
	fs->ro = true;
	pr_err("nanofs: commit of transaction %llu failed (%d); the volume is read-only",
	       (unsigned long long)fs->seq, err);
	return -EIO;
}

/* ---------------------------------------------------------------- replay */

/*
 * Check the transaction at the journal's start.  On success *@count images
 * follow the header (left in a block of its own at @hdr).
 */
static bool journal_valid(struct nanofs *fs, u8 *hdr, u32 *count)
{
	const struct nanofs_layout *l = &fs->lay;
	const struct nanofs_jhdr *h = (const struct nanofs_jhdr *)hdr;
	const struct nanofs_jcommit *c;
	u32 crc, n;

	if (nanofs_dev_read(fs, l->journal_start, 1, hdr) ||
	    !nanofs_tail_ok(l->journal_start, hdr, NANOFS_KIND_JHDR))
		return false;
	n = h->count;
	if (!n || n > fs->jcap)
		return false;
	for (u32 i = 0; i < n; i++) {
		u32 t = h->target[i];

		/* images go only to metadata homes: never the superblocks or the journal */
		if (t < NANOFS_STATE_BLOCK || t >= l->backup ||
		    (t >= l->journal_start && t < l->journal_start + l->journal_blocks))
			return false;
	}
	crc = crc32c(hdr, NANOFS_BSIZE);
	for (u32 i = 0; i < n + 1; i += NANOFS_IO_BLOCKS) {
		u32 m = MIN(NANOFS_IO_BLOCKS, n + 1 - i);

		if (nanofs_dev_read(fs, l->journal_start + 1 + i, m, fs->iobuf))
			return false;
		for (u32 j = 0; j < m && i + j < n; j++)
			crc = crc32c_update(crc, fs->iobuf + (size_t)j * NANOFS_BSIZE, NANOFS_BSIZE);
	}
	/* the commit block is the last one read, at slot (n % 64) of the last chunk */
	c = (const struct nanofs_jcommit *)(fs->iobuf + (size_t)(n % NANOFS_IO_BLOCKS) * NANOFS_BSIZE);
	if (!nanofs_tail_ok(l->journal_start + 1 + n, c, NANOFS_KIND_JCMT))
		return false;
	if (c->seq != h->seq || c->count != n || c->crc_all != crc)
		return false;
	*count = n;
	return true;
}

int nanofs_journal_replay(struct nanofs *fs)
{
	const struct nanofs_layout *l = &fs->lay;
	u8 *hdr = kmalloc(NANOFS_BSIZE);
	const struct nanofs_jhdr *h = (const struct nanofs_jhdr *)hdr;
	u32 n = 0;
	int err = 0;

	if (!hdr)
		return -ENOMEM;
	if (!journal_valid(fs, hdr, &n))
		goto out;
	fs->seq = h->seq + 1;
	for (u32 i = 0; i < n; i += NANOFS_IO_BLOCKS) {
		u32 m = MIN(NANOFS_IO_BLOCKS, n - i);

		if ((err = nanofs_dev_read(fs, l->journal_start + 1 + i, m, fs->iobuf)))
			goto out;
		for (u32 j = 0; j < m; j++) {
			const u8 *img = fs->iobuf + (size_t)j * NANOFS_BSIZE;

			if (fs->ro)
				err = nanofs_cache_pin(fs, h->target[i + j], img);
			else
				err = nanofs_dev_write(fs, h->target[i + j], 1, img);
			if (err)
				goto out;
		}
	}
	if (!fs->ro && (err = nanofs_dev_flush(fs)))
		goto out;
	pr_info("nanofs: %s journal transaction %llu (%u blocks)",
		fs->ro ? "read-only mount: applied in memory" : "replayed",
		(unsigned long long)h->seq, n);
out:
	kfree(hdr);
	return err;
}
