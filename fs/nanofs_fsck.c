/*
 * nanofs_fsck.c — the checker: every invariant and every checksum of a
 * volume, each problem named with its inode or block.
 *
 * It opens the volume read-only (a committed journal transaction is
 * applied in memory, as at a read-only mount), then:
 *   1. both superblocks: valid, and equal (--repair copies a sound backup
 *      over a damaged primary: the one repair it makes);
 *   2. the orphan list in the state block;
 *   3. a walk of the tree from the root: every directory entry (name, type,
 *      inode in range and in use, each inode reached once, a directory's
 *      parent field), every inode's CRC and fields, every indirect and
 *      directory block's tail, every data block's CRC, block pointers inside
 *      the data region and owned once, nblocks, nothing mapped past the size
 *      except on an orphan;
 *   4. the bitmaps against what the walk reached: leaked and unowned
 *      inodes and blocks, the padding bits.
 * The walk keeps a to-do stack of directories (no recursion over the tree)
 * and one bit per inode and per data block it reached.
 *
 * Reading every data block makes the check as long as the volume is full
 * (minutes for a big disk), so it looks for Ctrl-C (task_interrupted())
 * after each run of data blocks, at each directory entry and each bitmap
 * block, and stops with -EINTR: it changed nothing, so nothing is undone.
 *
 * Called without the volume mounted; takes the volume's mutex only through
 * the public calls it makes.
 */
#include "fs/nanofs_priv.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "lib/crc32.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define BS NANOFS_BSIZE
#define CHUNK_BITS (1u << 19)           /* 64 KiB of bits per chunk */
#define REPORT_MAX 20u                  /* lines per kind of bitmap problem */

/* A bitmap too large for one allocation. */
struct bits {
	u8 **chunk;
	u64 nchunks;
};

static int bits_init(struct bits *b, u64 nbits)
{
	b->nchunks = nbits / CHUNK_BITS + 1;
	b->chunk = kzalloc(b->nchunks * sizeof(u8 *));
	if (!b->chunk)
		return -ENOMEM;
	for (u64 i = 0; i < b->nchunks; i++)
		if (!(b->chunk[i] = kzalloc(CHUNK_BITS / 8)))
			return -ENOMEM;
	return 0;
}

static void bits_free(struct bits *b)
{
	for (u64 i = 0; b->chunk && i < b->nchunks; i++)
		kfree(b->chunk[i]);
	kfree(b->chunk);
	b->chunk = NULL;
}

/* Set bit @i; returns whether it was set before. */
static bool bits_test_set(struct bits *b, u64 i)
{
	u8 *p = &b->chunk[i / CHUNK_BITS][(i % CHUNK_BITS) / 8];
	bool was = *p & (1u << (i % 8));

	*p |= (u8)(1u << (i % 8));
	return was;
}

static bool bits_test(const struct bits *b, u64 i)
{
	return b->chunk[i / CHUNK_BITS][(i % CHUNK_BITS) / 8] & (1u << (i % 8));
}

/* The 64 bits from @i on (@i a multiple of 64: never across a chunk). */
static u64 bits_word(const struct bits *b, u64 i)
{
	u64 w;

	memcpy(&w, &b->chunk[i / CHUNK_BITS][(i % CHUNK_BITS) / 8], sizeof(w));
	return w;
}

/* Names seen in one directory, by 64-bit FNV-1a hash. */
struct nameset {
	u64 *slot;
	u32 cap, count;
};

struct fsck {
	struct nanofs *fs;
	void (*report)(void *arg, const char *msg);
	void *arg;
	int problems;
	struct bits dseen, iseen;
	u32 *todo;                      /* directories still to list */
	u32 ntodo, todo_cap;
	struct nameset names;
	u8 *buf;                        /* NANOFS_IO_BLOCKS blocks for data checks */
	int err;                        /* a failure that stops the check (-ENOMEM, -EINTR) */
	/* the inode being walked */
	u32 ino;
	struct nanofs_inode in;
	bool orphan;
	u64 counted;
	u32 run_blk[NANOFS_IO_BLOCKS], run_crc[NANOFS_IO_BLOCKS];
	u64 run_k[NANOFS_IO_BLOCKS];
	u32 nrun;
	u32 cur_dir;                    /* the directory being listed */
	struct nanofs_blkset orphans;   /* inodes on the orphan list */
};

static void __printf(2, 3) problem(struct fsck *fk, const char *fmt, ...)
{
	char line[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fk->problems++;
	fk->report(fk->arg, line);
}

static void note(struct fsck *fk, const char *msg)
{
	fk->report(fk->arg, msg);
}

/* ------------------------------------------------------------ superblocks */

static int check_supers(struct fsck *fk, const struct nanofs_dev *dev, bool repair, bool *usable)
{
	u8 *p = kmalloc(BS), *b = kmalloc(BS);
	const char *why_p, *why_b;
	u64 backup;
	int err = 0;

	*usable = false;
	if (!p || !b) {
		err = -ENOMEM;
		goto out;
	}
	if (dev->read(dev->ctx, 0, 1, p)) {
		problem(fk, "primary superblock (block 0): unreadable");
		goto out;
	}
	why_p = nanofs_super_check((struct nanofs_super *)p, dev->blocks);
	backup = why_p ? dev->blocks - 1 : ((struct nanofs_super *)p)->blocks - 1;
	why_b = dev->read(dev->ctx, backup, 1, b) ? "unreadable"
						   : nanofs_super_check((struct nanofs_super *)b, dev->blocks);
	if (why_b)
		problem(fk, "backup superblock (block %llu): %s", (unsigned long long)backup, why_b);
	else if (!why_p && memcmp(p, b, sizeof(struct nanofs_super)))
		problem(fk, "backup superblock (block %llu) differs from the primary",
			(unsigned long long)backup);
	if (!why_p) {
		*usable = true;
		goto out;
	}
	if (why_b || !repair) {
		problem(fk, "primary superblock (block 0): %s%s", why_p,
			why_b ? "" : " (the backup is intact: --repair restores it)");
		goto out;
	}
	if (dev->write(dev->ctx, 0, 1, b) || (dev->flush && dev->flush(dev->ctx))) {
		problem(fk, "primary superblock (block 0): %s; restoring it failed", why_p);
		goto out;
	}
	note(fk, "repaired: primary superblock restored from the backup");
	*usable = true;
out:
	kfree(p);
	kfree(b);
	return err;
}

/* Has the user stopped the check?  Then fk->err says so and the walk ends. */
static bool stopped(struct fsck *fk)
{
	if (!fk->err && task_interrupted())
		fk->err = -EINTR;
	return fk->err != 0;
}

/* ------------------------------------------------------------ data blocks */

static void flush_run(struct fsck *fk)
{
	struct nanofs *fs = fk->fs;

	if (!fk->nrun)
		return;
	if (nanofs_dev_read(fs, fk->run_blk[0], fk->nrun, fk->buf)) {
		problem(fk, "inode %u: blocks %u..%u unreadable", fk->ino, fk->run_blk[0],
			fk->run_blk[0] + fk->nrun - 1);
	} else {
		for (u32 i = 0; i < fk->nrun; i++)
			if (crc32c(fk->buf + (size_t)i * BS, BS) != fk->run_crc[i])
				problem(fk, "inode %u file block %llu (block %u): data checksum mismatch",
					fk->ino, (unsigned long long)fk->run_k[i], fk->run_blk[i]);
	}
	fk->nrun = 0;
	stopped(fk);
}

static void queue_data(struct fsck *fk, u64 k, u32 blk, u32 crc)
{
	if (fk->nrun && (fk->nrun == NANOFS_IO_BLOCKS || fk->run_blk[fk->nrun - 1] + 1 != blk))
		flush_run(fk);
	fk->run_blk[fk->nrun] = blk;
	fk->run_crc[fk->nrun] = crc;
	fk->run_k[fk->nrun] = k;
	fk->nrun++;
}

/*
 * A journal image is of a metadata block, so in a sound volume no file
 * owns the block it targets as data.  A journal that does target one
 * (damage that kept its checksums) still passes journal_valid(): the
 * read-only view fsck checks keeps the image in the cache and reads file
 * data from the disk, so it would call the volume clean, while the next
 * writable mount's replay writes the image over the file's block.
 */
static void journal_over_data(struct fsck *fk, u64 k, u32 blk)
{
	const struct nanofs_cbuf *cb = nanofs_cache_peek(fk->fs, blk);

	if (cb && cb->pinned)
		problem(fk, "inode %u file block %llu (block %u): the journal holds an image "
			"that a replay would write over it", fk->ino, (unsigned long long)k, blk);
}

/* bmap_walk callback: one pointer of the inode being checked. */
static int walk_ptr(void *arg, u64 k, u32 blk, u32 crc, int level)
{
	struct fsck *fk = arg;
	struct nanofs *fs = fk->fs;

	if (fk->err)
		return fk->err;         /* stopped: end this inode's walk */
	if (level < 0) {
		problem(fk, "inode %u: indirect block %u (file blocks from %llu) unreadable", fk->ino,
			blk, (unsigned long long)k);
		return 0;
	}
	if (!nanofs_in_data(fs, blk)) {
		problem(fk, "inode %u: pointer to block %u outside the data region", fk->ino, blk);
		return level ? 1 : 0;   /* do not follow it */
	}
	fk->counted++;
	if (bits_test_set(&fk->dseen, blk - fs->lay.data_start))
		problem(fk, "block %u is owned twice (again by inode %u)", blk, fk->ino);
	if (level)
		return 0;
	if (k >= NANOFS_BLOCKS_OF(fk->in.size) && !fk->orphan)
		problem(fk, "inode %u: block %u mapped past the end (file block %llu)", fk->ino, blk,
			(unsigned long long)k);
	if (fk->in.type == NANOFS_T_FILE) {
		journal_over_data(fk, k, blk);
		queue_data(fk, k, blk, crc);
	}
	return 0;
}

static void check_blocks(struct fsck *fk, u32 ino, const struct nanofs_inode *in, bool orphan)
{
	fk->ino = ino;
	fk->in = *in;
	fk->orphan = orphan;
	fk->counted = 0;
	fk->nrun = 0;
	nanofs_bmap_walk(fk->fs, ino, in, walk_ptr, fk);
	flush_run(fk);
	if (fk->err)
		return;                 /* the walk was cut short: counts mean nothing */
	if (fk->counted != in->nblocks)
		problem(fk, "inode %u: owns %llu blocks but records %llu", ino,
			(unsigned long long)fk->counted, (unsigned long long)in->nblocks);
	if (in->type == NANOFS_T_FILE && in->size > NANOFS_MAX_FILE)
		problem(fk, "inode %u: size %llu too large", ino, (unsigned long long)in->size);
}

/* -------------------------------------------------------------- the tree */

static int todo_push(struct fsck *fk, u32 ino)
{
	if (fk->ntodo == fk->todo_cap) {
		u32 ncap = fk->todo_cap ? fk->todo_cap * 2 : 64;
		u32 *n = kmalloc(ncap * sizeof(u32));

		if (!n)
			return -ENOMEM;
		if (fk->ntodo)
			memcpy(n, fk->todo, fk->ntodo * sizeof(u32));
		kfree(fk->todo);
		fk->todo = n;
		fk->todo_cap = ncap;
	}
	fk->todo[fk->ntodo++] = ino;
	return 0;
}

static u64 name_hash(const char *name, u32 len)
{
	u64 h = 0xcbf29ce484222325ull;

	for (u32 i = 0; i < len; i++)
		h = (h ^ (u8)name[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/* Add a name's hash; true when it was there already (a duplicate). */
static bool names_add(struct fsck *fk, u64 h)
{
	struct nameset *s = &fk->names;
	u32 i;

	if ((s->count + 1) * 2 > s->cap) {
		u32 ocap = s->cap, ncap = s->cap ? s->cap * 2 : 256;
		u64 *old = s->slot;

		if (!(s->slot = kzalloc(ncap * sizeof(u64)))) {
			s->slot = old;
			fk->err = -ENOMEM;
			return false;
		}
		s->cap = ncap;
		s->count = 0;
		for (u32 j = 0; j < ocap; j++)
			if (old[j])
				names_add(fk, old[j]);
		kfree(old);
	}
	for (i = (u32)h & (s->cap - 1); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == h)
			return true;
	s->slot[i] = h;
	s->count++;
	return false;
}

/* readdir callback: one entry of fk->cur_dir (the volume's internals only). */
static int check_entry(void *arg, const char *name, u32 len, u32 ino, enum nanofs_type type)
{
	struct fsck *fk = arg;
	struct nanofs *fs = fk->fs;
	struct nanofs_inode in;
	u32 dir = fk->cur_dir;

	if (stopped(fk))
		return 1;
	if (nanofs_name_check(name, len))
		problem(fk, "directory %u: entry for inode %u has a bad name", dir, ino);
	else if (names_add(fk, name_hash(name, len)))
		problem(fk, "directory %u: duplicate name '%.*s'", dir, (int)len, name);
	if (ino < 1 || ino >= fs->lay.inodes || ino == NANOFS_ROOT_INO) {
		problem(fk, "directory %u: entry '%.*s' names inode %u, out of range", dir, (int)len,
			name, ino);
		return 0;
	}
	if (bits_test_set(&fk->iseen, ino)) {
		problem(fk, "inode %u is reached twice (again as '%.*s' in directory %u)", ino,
			(int)len, name, dir);
		return 0;
	}
	if (nanofs_iget(fs, ino, &in)) {
		problem(fk, "inode %u ('%.*s' in directory %u): checksum mismatch or bad fields", ino,
			(int)len, name, dir);
		return 0;
	}
	if (in.type == NANOFS_T_FREE) {
		problem(fk, "directory %u: entry '%.*s' names free inode %u", dir, (int)len, name, ino);
		return 0;
	}
	if ((u32)type != in.type)
		problem(fk, "directory %u: entry '%.*s' has type %u, inode %u has %u", dir, (int)len,
			name, (u32)type, ino, in.type);
	if (in.links != 1)
		problem(fk, "inode %u: %u links, expected 1", ino, in.links);
	if (in.type == NANOFS_T_DIR) {
		if (in.parent != dir)
			problem(fk, "directory %u: parent field %u, but it is in directory %u", ino,
				in.parent, dir);
		if (todo_push(fk, ino))
			fk->err = -ENOMEM;
	}
	check_blocks(fk, ino, &in, nanofs_blkset_has(&fk->orphans, ino));
	return fk->err ? 1 : 0;
}

static void check_dir(struct fsck *fk, u32 dir)
{
	u64 cursor = 0;
	int err;

	fk->cur_dir = dir;
	if (fk->names.cap)
		memset(fk->names.slot, 0, fk->names.cap * sizeof(u64));
	fk->names.count = 0;
	err = nanofs_readdir(fk->fs, dir, &cursor, check_entry, fk);
	if (err && !fk->err)
		problem(fk, "directory %u: unreadable at offset %llu (%d)", dir,
			(unsigned long long)cursor, err);
}

static void check_tree(struct fsck *fk)
{
	struct nanofs_inode root;

	bits_test_set(&fk->iseen, NANOFS_ROOT_INO);
	if (nanofs_iget(fk->fs, NANOFS_ROOT_INO, &root) || root.type != NANOFS_T_DIR) {
		problem(fk, "root inode %u: unreadable or not a directory", NANOFS_ROOT_INO);
		return;
	}
	check_blocks(fk, NANOFS_ROOT_INO, &root, false);
	if (todo_push(fk, NANOFS_ROOT_INO)) {
		fk->err = -ENOMEM;
		return;
	}
	while (fk->ntodo && !fk->err)
		check_dir(fk, fk->todo[--fk->ntodo]);
}

static void check_orphans(struct fsck *fk)
{
	struct nanofs *fs = fk->fs;
	struct nanofs_cbuf *cb;
	struct nanofs_state *st;
	struct nanofs_inode in;
	u32 ino;

	if (nanofs_state_get(fs, &cb, &st)) {
		problem(fk, "state block %u: checksum mismatch", NANOFS_STATE_BLOCK);
		return;
	}
	ino = st->orphan;
	nanofs_brelse(fs, cb);
	for (u64 n = 0; ino && !fk->err; n++) {
		if (n >= fs->lay.inodes || ino >= fs->lay.inodes) {
			problem(fk, "the orphan list is damaged (loops or leaves the inode table)");
			return;
		}
		if (nanofs_iget(fs, ino, &in) || in.type == NANOFS_T_FREE) {
			problem(fk, "orphan inode %u: unreadable or free", ino);
			return;
		}
		note(fk, "note: an interrupted truncate or unlink is pending (finished at the next mount)");
		if (nanofs_blkset_add(&fk->orphans, ino)) {
			fk->err = -ENOMEM;
			return;
		}
		if (!in.links) {                /* in no directory: check it here */
			bits_test_set(&fk->iseen, ino);
			check_blocks(fk, ino, &in, true);
		}
		ino = in.next_orphan;
	}
}

/* -------------------------------------------------------------- bitmaps */

struct map_cmp {
	struct fsck *fk;
	const struct bits *seen;
	u64 nbits, base, blk;
	u32 kind, leaked, unowned;
	const char *what;
};

/* Bit @b of the bitmap block under comparison is @set; is it right? */
static void compare_bit(struct map_cmp *mc, u64 i, u32 b, bool set)
{
	struct fsck *fk = mc->fk;
	bool used = i < mc->nbits &&
		    (bits_test(mc->seen, i) || (mc->kind == NANOFS_KIND_IBMP && i == 0));

	if (i >= mc->nbits) {
		if (!set)
			problem(fk, "%s bitmap block %llu: padding bit %u is clear", mc->what,
				(unsigned long long)mc->blk, b);
	} else if (set && !used) {
		if (++mc->leaked <= REPORT_MAX)
			problem(fk, "%s %llu is allocated but owned by nothing (leaked)", mc->what,
				(unsigned long long)(i + mc->base));
		else
			fk->problems++;
	} else if (!set && used) {
		if (++mc->unowned <= REPORT_MAX)
			problem(fk, "%s %llu is in use but free in the bitmap", mc->what,
				(unsigned long long)(i + mc->base));
		else
			fk->problems++;
	}
}

/*
 * Compare one bitmap block with what the walk saw, 64 bits at a time: a
 * block holds 511 whole words and starts on a word of `seen`, so a word
 * that matches (the common case) costs one comparison; only words that
 * differ, and the word holding inode 0, are looked at bit by bit.
 */
static void compare_block(struct map_cmp *mc, u64 bi, const u8 *map)
{
	for (u32 w = 0; w < NANOFS_BITS_PER_BMP / 64; w++) {
		u64 i = bi * NANOFS_BITS_PER_BMP + (u64)w * 64, have;

		memcpy(&have, map + w * 8, sizeof(have));
		if (i + 64 <= mc->nbits && i != 0 && have == bits_word(mc->seen, i))
			continue;
		if (i >= mc->nbits && have == ~0ULL)
			continue;
		for (u32 b = 0; b < 64; b++)
			compare_bit(mc, i + b, w * 64 + b, have & (1ULL << b));
	}
}

static void compare_map(struct fsck *fk, u64 start, u64 nblk, u64 nbits, u32 kind,
			const struct bits *seen, u64 base, const char *what)
{
	struct map_cmp mc = { .fk = fk, .seen = seen, .nbits = nbits, .base = base,
			      .kind = kind, .what = what };

	for (u64 bi = 0; bi < nblk && !stopped(fk); bi++) {
		struct nanofs_cbuf *cb;

		mc.blk = start + bi;
		if (nanofs_bread(fk->fs, start + bi, kind, &cb)) {
			problem(fk, "%s bitmap block %llu: checksum mismatch", what,
				(unsigned long long)(start + bi));
			continue;
		}
		compare_block(&mc, bi, cb->data);
		nanofs_brelse(fk->fs, cb);
	}
	if (mc.leaked > REPORT_MAX || mc.unowned > REPORT_MAX) {
		char line[96];

		snprintf(line, sizeof(line), "... and %u more %s bitmap problems",
			 mc.leaked + mc.unowned - 2 * REPORT_MAX, what);
		note(fk, line);
	}
}

static void check_maps(struct fsck *fk)
{
	const struct nanofs_layout *l = &fk->fs->lay;

	compare_map(fk, l->ibitmap_start, l->ibitmap_blocks, l->inodes, NANOFS_KIND_IBMP,
		    &fk->iseen, 0, "inode");
	compare_map(fk, l->dbitmap_start, l->dbitmap_blocks, l->data_blocks, NANOFS_KIND_DBMP,
		    &fk->dseen, l->data_start, "block");
}

int nanofs_fsck(const struct nanofs_dev *dev, void (*report)(void *arg, const char *msg),
		void *arg, bool repair)
{
	struct fsck *fk = kzalloc(sizeof(*fk));
	bool usable;
	int err;

	if (!fk)
		return -ENOMEM;
	fk->report = report;
	fk->arg = arg;
	if (dev->blocks < NANOFS_MIN_BLOCKS) {
		problem(fk, "device of %llu blocks is smaller than 1 MiB", (unsigned long long)dev->blocks);
		goto out;
	}
	if ((err = check_supers(fk, dev, repair && !dev->read_only, &usable)) || !usable)
		goto out_err;
	if ((err = nanofs_mount_quiet(dev, true, true, &fk->fs))) {
		problem(fk, "cannot open the volume: state block or bitmaps damaged (%d)", err);
		goto out;
	}
	if ((err = bits_init(&fk->dseen, fk->fs->lay.data_blocks)) ||
	    (err = bits_init(&fk->iseen, fk->fs->lay.inodes)) ||
	    !(fk->buf = kmalloc(NANOFS_IO_BLOCKS * BS))) {
		err = err ? err : -ENOMEM;
		goto out_fs;
	}
	check_orphans(fk);
	if (!fk->err)
		check_tree(fk);
	if (!fk->err)
		check_maps(fk);
	err = fk->err;
out_fs:
	bits_free(&fk->dseen);
	bits_free(&fk->iseen);
	kfree(fk->buf);
	kfree(fk->todo);
	kfree(fk->names.slot);
	nanofs_blkset_free(&fk->orphans);
	nanofs_unmount(fk->fs);
out_err:
	if (err) {
		kfree(fk);
		return err;
	}
out:
	err = fk->problems;
	kfree(fk);
	return err;
}
