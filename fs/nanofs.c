/*
 * nanofs.c — a volume's life: format, mount (superblock checks, journal
 * replay, orphan cleanup), sync, unmount, and the stat calls.
 *
 * The superblock is written by format alone (and by fsck --repair), so it
 * never needs the journal: everything that changes lives in the state block
 * and the other metadata blocks.  Format writes the primary superblock last,
 * after a flush, and first zeroes it: a format cut short leaves no volume
 * rather than half of one.
 *
 * Mount trusts nothing in a superblock it did not recompute: the stored
 * layout must equal nanofs_layout_compute() of the stored size and inode
 * count, and the size must fit the device, so no region can point outside
 * it.  Each refusal says why (the table in docs/nanofs.md).
 */
#include "fs/nanofs_priv.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define BS NANOFS_BSIZE

const char *nanofs_super_check(const struct nanofs_super *sb, u64 dev_blocks)
{
	struct nanofs_layout l;

	if (memcmp(sb->magic, NANOFS_MAGIC, sizeof(sb->magic)))
		return "no nanofs superblock (bad magic)";
	if (sb->version != NANOFS_VERSION)
		return "unsupported nanofs version";
	if (sb->crc != nanofs_super_crc(sb))
		return "superblock checksum mismatch";
	if (sb->block_size != BS)
		return "unsupported block size";
	if (sb->blocks > dev_blocks)
		return "volume does not fit the device";
	if (nanofs_layout_compute(sb->blocks, sb->inodes, &l) || l.inodes != sb->inodes ||
	    l.journal_start != sb->journal_start || l.journal_blocks != sb->journal_blocks ||
	    l.ibitmap_start != sb->ibitmap_start || l.ibitmap_blocks != sb->ibitmap_blocks ||
	    l.itable_start != sb->itable_start || l.itable_blocks != sb->itable_blocks ||
	    l.dbitmap_start != sb->dbitmap_start || l.dbitmap_blocks != sb->dbitmap_blocks ||
	    l.data_start != sb->data_start || l.data_blocks != sb->data_blocks ||
	    sb->root_ino != NANOFS_ROOT_INO || sb->features)
		return "superblock layout does not match its size";
	return NULL;
}

bool nanofs_super_labelled(const void *block0, u64 dev_blocks, const char *label)
{
	const struct nanofs_super *sb = block0;

	return !nanofs_super_check(sb, dev_blocks) && memchr(sb->label, '\0', sizeof(sb->label)) &&
	       strcmp(sb->label, label) == 0;
}

/* ---------------------------------------------------------------- format */

/* Set bits @lo..@hi-1 of @map: whole bytes at once, the edges bit by bit. */
static void set_bits(u8 *map, u64 lo, u64 hi)
{
	for (; lo < hi && lo % 8; lo++)
		map[lo / 8] |= (u8)(1u << (lo % 8));
	if (hi - lo >= 8) {
		memset(map + lo / 8, 0xff, (size_t)((hi - lo) / 8));
		lo += (hi - lo) / 8 * 8;
	}
	for (; lo < hi; lo++)
		map[lo / 8] |= (u8)(1u << (lo % 8));
}

/* Bitmap blocks with @used leading bits set and every bit past @nbits set. */
static int format_bitmap(const struct nanofs_dev *dev, u8 *buf, u64 start, u64 nblk, u64 nbits,
			 u64 used, u32 kind)
{
	for (u64 i = 0; i < nblk; i += NANOFS_IO_BLOCKS) {
		u32 n = (u32)MIN((u64)NANOFS_IO_BLOCKS, nblk - i);

		memset(buf, 0, (size_t)n * BS);
		for (u32 j = 0; j < n; j++) {
			u8 *map = buf + (size_t)j * BS;
			u64 first = (i + j) * NANOFS_BITS_PER_BMP, end = first + NANOFS_BITS_PER_BMP;

			if (used > first)
				set_bits(map, 0, MIN(used, end) - first);
			if (nbits < end)
				set_bits(map, MAX(nbits, first) - first, NANOFS_BITS_PER_BMP);
			nanofs_tail_seal(start + i + j, map, kind);
		}
		if (dev->write(dev->ctx, start + i, n, buf))
			return -EIO;
	}
	return 0;
}

static void format_super(struct nanofs_super *sb, const struct nanofs_layout *l,
			 const struct nanofs_format_opts *opts, s64 now)
{
	memset(sb, 0, sizeof(*sb));
	memcpy(sb->magic, NANOFS_MAGIC, sizeof(sb->magic));
	sb->version = NANOFS_VERSION;
	sb->block_size = BS;
	sb->blocks = l->blocks;
	sb->inodes = l->inodes;
	sb->journal_start = l->journal_start, sb->journal_blocks = l->journal_blocks;
	sb->ibitmap_start = l->ibitmap_start, sb->ibitmap_blocks = l->ibitmap_blocks;
	sb->itable_start = l->itable_start, sb->itable_blocks = l->itable_blocks;
	sb->dbitmap_start = l->dbitmap_start, sb->dbitmap_blocks = l->dbitmap_blocks;
	sb->data_start = l->data_start, sb->data_blocks = l->data_blocks;
	sb->root_ino = NANOFS_ROOT_INO;
	if (opts) {
		memcpy(sb->uuid, opts->uuid, sizeof(sb->uuid));
		if (opts->label)
			strlcpy(sb->label, opts->label, sizeof(sb->label));
	}
	sb->mkfs_time = now;
	sb->crc = nanofs_super_crc(sb);
}

static int format_write(const struct nanofs_dev *dev, const struct nanofs_layout *l,
			const struct nanofs_format_opts *opts, u8 *buf)
{
	s64 now = dev->now ? dev->now(dev->ctx) : 0;
	struct nanofs_inode *root = (struct nanofs_inode *)(buf + NANOFS_INODE_SIZE);
	struct nanofs_state *st = (struct nanofs_state *)buf;
	int err;

	memset(buf, 0, BS);                     /* no old superblock survives */
	if (dev->write(dev->ctx, 0, 1, buf) || dev->write(dev->ctx, l->journal_start, 1, buf) ||
	    (dev->flush && dev->flush(dev->ctx)))
		return -EIO;
	memset(buf, 0, BS);
	nanofs_tail_seal(NANOFS_STATE_BLOCK, buf, NANOFS_KIND_STATE);
	if (dev->write(dev->ctx, NANOFS_STATE_BLOCK, 1, buf))
		return -EIO;
	(void)st;
	if ((err = format_bitmap(dev, buf, l->ibitmap_start, l->ibitmap_blocks, l->inodes,
				 NANOFS_ROOT_INO + 1, NANOFS_KIND_IBMP)) ||
	    (err = format_bitmap(dev, buf, l->dbitmap_start, l->dbitmap_blocks, l->data_blocks, 0,
				 NANOFS_KIND_DBMP)))
		return err;
	memset(buf, 0, BS);                     /* the first inode block holds the root */
	root->type = NANOFS_T_DIR;
	root->links = 1;
	root->mtime = root->ctime = now;
	root->crc = nanofs_inode_crc(NANOFS_ROOT_INO, root);
	if (dev->write(dev->ctx, l->itable_start, 1, buf) || (dev->flush && dev->flush(dev->ctx)))
		return -EIO;
	memset(buf, 0, BS);
	format_super((struct nanofs_super *)buf, l, opts, now);
	if (dev->write(dev->ctx, l->backup, 1, buf) || dev->write(dev->ctx, 0, 1, buf) ||
	    (dev->flush && dev->flush(dev->ctx)))
		return -EIO;
	return 0;
}

int nanofs_format(const struct nanofs_dev *dev, const struct nanofs_format_opts *opts)
{
	u64 blocks = MIN(dev->blocks, NANOFS_MAX_BLOCKS);
	struct nanofs_layout l;
	u8 *buf;
	int err;

	if (dev->read_only)
		return -EROFS;
	if ((err = nanofs_layout_compute(blocks, opts ? opts->inodes : 0, &l))) {
		pr_err("nanofs: cannot format %llu blocks of 4 KiB: %s", (unsigned long long)blocks,
		       blocks < NANOFS_MIN_BLOCKS ? "smaller than 1 MiB" : "bad inode count");
		return err;
	}
	if (!(buf = kmalloc(NANOFS_IO_BLOCKS * BS)))
		return -ENOMEM;
	err = format_write(dev, &l, opts, buf);
	kfree(buf);
	if (err)
		pr_err("nanofs: format failed: device error");
	return err;
}

/* ----------------------------------------------------------------- mount */

static void destroy(struct nanofs *fs)
{
	nanofs_cache_destroy(fs);
	nanofs_alloc_destroy(fs);
	kfree(fs->dirty);
	kfree(fs);
}

/* Read and check the superblock; log the reason of a refusal. */
static int read_super(const struct nanofs_dev *dev, struct nanofs_super *out, bool quiet)
{
	u8 *buf = kmalloc(BS);
	const char *why, *backup_ok = "";
	int err = 0;

	if (!buf)
		return -ENOMEM;
	if (dev->read(dev->ctx, 0, 1, buf)) {
		pr_err("nanofs: cannot read the superblock");
		err = -EIO;
		goto out;
	}
	memcpy(out, buf, sizeof(*out));
	why = nanofs_super_check(out, dev->blocks);
	if (why) {
		if (!dev->read(dev->ctx, dev->blocks - 1, 1, buf) &&
		    !nanofs_super_check((struct nanofs_super *)buf, dev->blocks))
			backup_ok = " (the backup superblock is intact: fsck --repair restores it)";
		if (!quiet && out->version != NANOFS_VERSION && !memcmp(out->magic, NANOFS_MAGIC, 8))
			pr_err("nanofs: unsupported nanofs version %u (this kernel reads %u)%s",
			       out->version, NANOFS_VERSION, backup_ok);
		else if (!quiet && out->blocks > dev->blocks && !memcmp(out->magic, NANOFS_MAGIC, 8))
			pr_err("nanofs: volume of %llu blocks does not fit the device of %llu blocks%s",
			       (unsigned long long)out->blocks, (unsigned long long)dev->blocks,
			       backup_ok);
		else if (!quiet)
			pr_err("nanofs: %s%s", why, backup_ok);
		err = -EINVAL;
	}
out:
	kfree(buf);
	return err;
}

static int mount_setup(struct nanofs *fs)
{
	struct nanofs_cbuf *cb;
	struct nanofs_state *st;
	int err;

	if ((err = nanofs_cache_init(fs)) || (err = nanofs_journal_replay(fs)) ||
	    (err = nanofs_state_get(fs, &cb, &st)))
		return err;
	fs->seq = MAX(fs->seq, st->seq + 1);
	nanofs_brelse(fs, cb);
	if ((err = nanofs_alloc_load(fs)) || fs->ro)
		return err;
	if ((err = nanofs_state_get(fs, &cb, &st)))
		return err;
	if (!(err = nanofs_bdirty(fs, cb)))
		st->mount_count++;
	nanofs_brelse(fs, cb);
	if (!err)
		err = nanofs_orphan_cleanup(fs);
	return err ? err : nanofs_commit(fs);
}

int nanofs_mount_quiet(const struct nanofs_dev *dev, bool ro, bool quiet, struct nanofs **out)
{
	struct nanofs *fs;
	int err;

	if (dev->blocks < NANOFS_MIN_BLOCKS) {
		if (!quiet)
			pr_err("nanofs: device of %llu blocks is smaller than 1 MiB",
			       (unsigned long long)dev->blocks);
		return -EINVAL;
	}
	if (!(fs = kzalloc(sizeof(*fs))))
		return -ENOMEM;
	mutex_init(&fs->lock, "nanofs");
	fs->dev = dev;
	fs->ro = ro || dev->read_only;
	if ((err = read_super(dev, &fs->sb, quiet)))
		goto fail;
	nanofs_layout_compute(fs->sb.blocks, fs->sb.inodes, &fs->lay);
	fs->jcap = (u32)MIN(fs->lay.journal_blocks - 2, (u64)NANOFS_JMAX_TARGETS);
	fs->seq = 1;
	if (!(fs->dirty = kmalloc(fs->jcap * sizeof(*fs->dirty)))) {
		err = -ENOMEM;
		goto fail;
	}
	if ((err = mount_setup(fs)))
		goto fail;
	if (!quiet)
		pr_info("nanofs: mounted %llu blocks (%llu free, %llu inodes free)%s",
			(unsigned long long)fs->lay.blocks, (unsigned long long)fs->free_blocks,
			(unsigned long long)fs->free_inodes, fs->ro ? " read-only" : "");
	*out = fs;
	return 0;
fail:
	destroy(fs);
	return err;
}

int nanofs_mount(const struct nanofs_dev *dev, bool ro, struct nanofs **out)
{
	if (dev->read_only && !ro)
		pr_info("nanofs: the device is read-only: mounting read-only");
	return nanofs_mount_quiet(dev, ro, false, out);
}

int nanofs_sync(struct nanofs *fs)
{
	int err;

	mutex_lock(&fs->lock);
	err = fs->failed ? -EIO : nanofs_commit(fs);
	mutex_unlock(&fs->lock);
	return err;
}

int nanofs_unmount(struct nanofs *fs)
{
	int err;

	mutex_lock(&fs->lock);
	err = fs->failed ? -EIO : nanofs_commit(fs);
	mutex_unlock(&fs->lock);
	destroy(fs);
	return err;
}

u32 nanofs_root(const struct nanofs *fs)
{
	return fs->sb.root_ino;
}

bool nanofs_read_only(const struct nanofs *fs)
{
	return fs->ro;
}

bool nanofs_failed(const struct nanofs *fs)
{
	return fs->failed;
}

int nanofs_stat(struct nanofs *fs, u32 ino, struct nanofs_stat *st)
{
	struct nanofs_inode in;
	int err;

	mutex_lock(&fs->lock);
	err = nanofs_iget(fs, ino, &in);
	mutex_unlock(&fs->lock);
	if (err)
		return err;
	if (in.type == NANOFS_T_FREE)
		return -ENOENT;
	*st = (struct nanofs_stat){
		.ino = ino, .type = (enum nanofs_type)in.type, .size = in.size,
		.blocks = in.nblocks, .links = in.links,
		.parent = ino == NANOFS_ROOT_INO ? ino : in.parent,
		.mtime = in.mtime, .ctime = in.ctime,
	};
	return 0;
}

int nanofs_statfs(struct nanofs *fs, struct nanofs_statfs *st)
{
	mutex_lock(&fs->lock);
	memset(st, 0, sizeof(*st));
	st->blocks = fs->lay.blocks;
	st->data_blocks = fs->lay.data_blocks;
	st->free_blocks = fs->free_blocks + fs->npending;   /* deferred frees count as free */
	st->inodes = fs->lay.inodes - 1;
	st->free_inodes = fs->free_inodes;
	memcpy(st->uuid, fs->sb.uuid, sizeof(st->uuid));
	memcpy(st->label, fs->sb.label, sizeof(st->label));
	st->label[sizeof(st->label) - 1] = 0;
	st->read_only = fs->ro;
	mutex_unlock(&fs->lock);
	return 0;
}
