/*
 * nanofs_cache.c — the metadata block cache, the checksums that guard each
 * block on its way in, and the raw device calls.
 *
 * Interface rules:
 *  - nanofs_bread() returns a block with a reference (users); every
 *    successful bread is paired with nanofs_brelse().  A block read from
 *    the device is verified once, on the way in: its tail must carry the
 *    kind asked for and a CRC over the block number and contents.  A
 *    mismatch is -EIO with the block named, and nothing is cached.
 *  - A block is changed only while referenced, and then entered into the
 *    running transaction with nanofs_bdirty().  Dirty blocks are never
 *    evicted; the commit writes them and makes them clean again.
 *  - Clean, unreferenced blocks sit on an LRU list; past NANOFS_CACHE_CLEAN
 *    of them the oldest is dropped.
 *  - Tails are recomputed at commit (nanofs_tail_seal), not at each change.
 *
 * File data never comes here: it moves between the device and the caller
 * through fs->iobuf in requests of up to NANOFS_IO_BLOCKS blocks.
 */
#include "fs/nanofs_priv.h"
#include "kernel/printk.h"
#include "lib/crc32.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

/* ------------------------------------------------------------ checksums */

u32 nanofs_block_crc(u64 blk, const void *data)
{
	u64 le = blk;

	return crc32c_update(crc32c(&le, sizeof(le)), data, NANOFS_TAIL_OFF + 4);
}

void nanofs_tail_seal(u64 blk, void *data, u32 kind)
{
	struct nanofs_tail *t = (struct nanofs_tail *)((u8 *)data + NANOFS_TAIL_OFF);

	t->kind = kind;
	t->crc = nanofs_block_crc(blk, data);
}

bool nanofs_tail_ok(u64 blk, const void *data, u32 kind)
{
	const struct nanofs_tail *t = (const struct nanofs_tail *)((const u8 *)data + NANOFS_TAIL_OFF);

	return t->kind == kind && t->crc == nanofs_block_crc(blk, data);
}

u32 nanofs_inode_crc(u32 ino, const struct nanofs_inode *in)
{
	u32 le = ino;

	return crc32c_update(crc32c(&le, sizeof(le)), in, __builtin_offsetof(struct nanofs_inode, crc));
}

u32 nanofs_super_crc(const struct nanofs_super *sb)
{
	return crc32c(sb, __builtin_offsetof(struct nanofs_super, crc));
}

/* ------------------------------------------------------------ device I/O */

int nanofs_dev_read(struct nanofs *fs, u64 blk, u32 n, void *buf)
{
	int err;

	if (!n || n > NANOFS_IO_BLOCKS || blk + n > fs->dev->blocks)
		return -EIO;
	err = fs->dev->read(fs->dev->ctx, blk, n, buf);
	if (err)
		pr_err("nanofs: read of %u blocks at %llu failed (%d)", n,
		       (unsigned long long)blk, err);
	return err ? -EIO : 0;
}

/* A failed write or flush leaves memory ahead of the disk: stop writing. */
static void nanofs_fail(struct nanofs *fs, const char *what)
{
	if (!fs->failed)
		pr_err("nanofs: %s failed; the volume is read-only until remounted", what);
	fs->failed = true;
	fs->ro = true;
}

int nanofs_dev_write(struct nanofs *fs, u64 blk, u32 n, const void *buf)
{
	if (fs->failed)
		return -EIO;
	if (!n || n > NANOFS_IO_BLOCKS || blk + n > fs->lay.blocks || blk + n > fs->dev->blocks) {
		pr_err("nanofs: refusing a write of %u blocks at %llu past the volume", n,
		       (unsigned long long)blk);
		nanofs_fail(fs, "a write");
		return -EIO;
	}
	if (fs->dev->write(fs->dev->ctx, blk, n, buf)) {
		pr_err("nanofs: write of %u blocks at %llu failed", n, (unsigned long long)blk);
		nanofs_fail(fs, "a write");
		return -EIO;
	}
	return 0;
}

int nanofs_dev_flush(struct nanofs *fs)
{
	if (fs->failed)
		return -EIO;
	if (fs->dev->flush && fs->dev->flush(fs->dev->ctx)) {
		nanofs_fail(fs, "a flush");
		return -EIO;
	}
	return 0;
}

/* ------------------------------------------------------------------ LRU */

static void lru_del(struct nanofs *fs, struct nanofs_cbuf *cb)
{
	if (!cb->lnext)
		return;
	cb->lprev->lnext = cb->lnext;
	cb->lnext->lprev = cb->lprev;
	cb->lprev = cb->lnext = NULL;
	fs->nclean_unused--;
}

static void lru_add_tail(struct nanofs *fs, struct nanofs_cbuf *cb)
{
	cb->lprev = fs->lru.lprev;
	cb->lnext = &fs->lru;
	fs->lru.lprev->lnext = cb;
	fs->lru.lprev = cb;
	fs->nclean_unused++;
}

static u32 hash_of(u64 blk)
{
	return (u32)((blk * 0x9E3779B97F4A7C15ull) >> 40) % NANOFS_CACHE_HASH;
}

static void hash_del(struct nanofs *fs, struct nanofs_cbuf *cb)
{
	struct nanofs_cbuf **pp = &fs->hash[hash_of(cb->blk)];

	while (*pp && *pp != cb)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = cb->hnext;
}

static void cbuf_free(struct nanofs_cbuf *cb)
{
	kfree(cb->data);
	kfree(cb);
}

/* Drop the oldest clean, unused blocks until under the limit. */
static void cache_trim(struct nanofs *fs)
{
	while (fs->nclean_unused > NANOFS_CACHE_CLEAN) {
		struct nanofs_cbuf *cb = fs->lru.lnext;

		lru_del(fs, cb);
		hash_del(fs, cb);
		cbuf_free(cb);
	}
}

int nanofs_cache_init(struct nanofs *fs)
{
	fs->lru.lprev = fs->lru.lnext = &fs->lru;
	fs->iobuf = kmalloc(NANOFS_IO_BLOCKS * NANOFS_BSIZE);
	fs->rabuf = kmalloc(NANOFS_IO_BLOCKS * NANOFS_BSIZE);
	fs->ra_ino = 0;
	return fs->iobuf && fs->rabuf ? 0 : -ENOMEM;
}

void nanofs_cache_destroy(struct nanofs *fs)
{
	for (u32 i = 0; i < NANOFS_CACHE_HASH; i++) {
		while (fs->hash[i]) {
			struct nanofs_cbuf *cb = fs->hash[i];

			fs->hash[i] = cb->hnext;
			cbuf_free(cb);
		}
	}
	fs->lru.lprev = fs->lru.lnext = &fs->lru;
	fs->nclean_unused = 0;
	kfree(fs->iobuf);
	kfree(fs->rabuf);
	fs->iobuf = fs->rabuf = NULL;
}

struct nanofs_cbuf *nanofs_cache_peek(struct nanofs *fs, u64 blk)
{
	struct nanofs_cbuf *cb = fs->hash[hash_of(blk)];

	while (cb && cb->blk != blk)
		cb = cb->hnext;
	return cb;
}

static struct nanofs_cbuf *cbuf_alloc(struct nanofs *fs, u64 blk, u32 kind)
{
	struct nanofs_cbuf *cb = kzalloc(sizeof(*cb));

	if (!cb)
		return NULL;
	cb->data = kmalloc(NANOFS_BSIZE);
	if (!cb->data) {
		kfree(cb);
		return NULL;
	}
	cb->blk = blk;
	cb->kind = kind;
	cb->hnext = fs->hash[hash_of(blk)];
	fs->hash[hash_of(blk)] = cb;
	return cb;
}

static const char *kind_name(u32 kind)
{
	switch (kind) {
	case NANOFS_KIND_DIR: return "directory";
	case NANOFS_KIND_IBMP: return "inode bitmap";
	case NANOFS_KIND_DBMP: return "data bitmap";
	case NANOFS_KIND_STATE: return "state";
	case NANOFS_KIND_ITABLE: return "inode table";
	default: return "indirect";
	}
}

/* A cached block is taken as @kind: a pointer of the wrong sort is caught. */
static int cbuf_check_kind(struct nanofs_cbuf *cb, u64 blk, u32 kind)
{
	if (cb->kind == kind)
		return 0;
	pr_err("nanofs: block %llu is a %s block, not a %s block", (unsigned long long)blk,
	       kind_name(cb->kind), kind_name(kind));
	return -EIO;
}

int nanofs_bread(struct nanofs *fs, u64 blk, u32 kind, struct nanofs_cbuf **out)
{
	struct nanofs_cbuf *cb = nanofs_cache_peek(fs, blk);
	int err;

	if (cb) {
		if (cb->pinned && cb->kind == NANOFS_KIND_DATA) {
			/* a journal image: its kind is learnt on first use */
			if (kind != NANOFS_KIND_ITABLE && !nanofs_tail_ok(blk, cb->data, kind))
				goto bad;
			cb->kind = kind;
		}
		if ((err = cbuf_check_kind(cb, blk, kind)))
			return err;
		lru_del(fs, cb);
		cb->users++;
		*out = cb;
		return 0;
	}
	if (blk >= fs->lay.blocks)
		return -EIO;
	cb = cbuf_alloc(fs, blk, kind);
	if (!cb)
		return -ENOMEM;
	err = nanofs_dev_read(fs, blk, 1, cb->data);
	if (!err && kind != NANOFS_KIND_ITABLE && !nanofs_tail_ok(blk, cb->data, kind))
		err = -EIO, pr_err("nanofs: %s block %llu: checksum mismatch", kind_name(kind),
				   (unsigned long long)blk);
	if (err) {
		hash_del(fs, cb);
		cbuf_free(cb);
		return err;
	}
	cb->users = 1;
	*out = cb;
	return 0;
bad:
	pr_err("nanofs: %s block %llu: checksum mismatch", kind_name(kind), (unsigned long long)blk);
	return -EIO;
}

int nanofs_bnew(struct nanofs *fs, u64 blk, u32 kind, struct nanofs_cbuf **out)
{
	struct nanofs_cbuf *cb = nanofs_cache_peek(fs, blk);
	int err;

	if (cb) {               /* a stale copy of a block freed earlier */
		lru_del(fs, cb);
		cb->kind = kind;
	} else if (!(cb = cbuf_alloc(fs, blk, kind))) {
		return -ENOMEM;
	}
	memset(cb->data, 0, NANOFS_BSIZE);
	cb->users++;
	if ((err = nanofs_bdirty(fs, cb))) {
		nanofs_brelse(fs, cb);
		return err;
	}
	*out = cb;
	return 0;
}

void nanofs_brelse(struct nanofs *fs, struct nanofs_cbuf *cb)
{
	if (--cb->users == 0 && !cb->dirty && !cb->pinned) {
		lru_add_tail(fs, cb);
		cache_trim(fs);
	}
}

int nanofs_bdirty(struct nanofs *fs, struct nanofs_cbuf *cb)
{
	if (cb->dirty)
		return 0;
	if (fs->ndirty >= fs->jcap) {
		pr_err("nanofs: transaction overflow at block %llu (a bug)",
		       (unsigned long long)cb->blk);
		return -ENOSPC;
	}
	cb->dirty = true;
	fs->dirty[fs->ndirty++] = cb;
	return 0;
}

void nanofs_bforget(struct nanofs *fs, u64 blk)
{
	struct nanofs_cbuf *cb = nanofs_cache_peek(fs, blk);

	if (!cb || cb->users)
		return;
	if (cb->dirty) {
		for (u32 i = 0; i < fs->ndirty; i++) {
			if (fs->dirty[i] == cb) {
				fs->dirty[i] = fs->dirty[--fs->ndirty];
				break;
			}
		}
	}
	lru_del(fs, cb);
	hash_del(fs, cb);
	cbuf_free(cb);
}

int nanofs_cache_pin(struct nanofs *fs, u64 blk, const void *data)
{
	struct nanofs_cbuf *cb = nanofs_cache_peek(fs, blk);

	if (!cb && !(cb = cbuf_alloc(fs, blk, NANOFS_KIND_DATA)))
		return -ENOMEM;
	lru_del(fs, cb);
	memcpy(cb->data, data, NANOFS_BSIZE);
	cb->kind = NANOFS_KIND_DATA;    /* not yet known; see nanofs_bread */
	cb->pinned = true;
	return 0;
}

void nanofs_cache_all_clean(struct nanofs *fs)
{
	for (u32 i = 0; i < fs->ndirty; i++) {
		struct nanofs_cbuf *cb = fs->dirty[i];

		cb->dirty = false;
		if (!cb->users && !cb->pinned)
			lru_add_tail(fs, cb);
	}
	fs->ndirty = 0;
	cache_trim(fs);
}

/* ----------------------------------------------------------- block sets */

static u32 set_hash(u32 blk, u32 cap)
{
	return (blk * 2654435761u) & (cap - 1);
}

static int blkset_grow(struct nanofs_blkset *s)
{
	u32 ncap = s->cap ? s->cap * 2 : 1024;
	u32 *old = s->slot, ocap = s->cap;

	s->slot = kzalloc(ncap * sizeof(u32));
	if (!s->slot) {
		s->slot = old;
		return -ENOMEM;
	}
	s->cap = ncap;
	s->count = 0;
	for (u32 i = 0; i < ocap; i++)
		if (old[i])
			nanofs_blkset_add(s, old[i]);
	kfree(old);
	return 0;
}

int nanofs_blkset_add(struct nanofs_blkset *s, u32 blk)
{
	u32 i;

	if ((s->count + 1) * 2 > s->cap) {
		int err = blkset_grow(s);

		if (err)
			return err;
	}
	for (i = set_hash(blk, s->cap); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == blk)
			return 0;
	s->slot[i] = blk;
	s->count++;
	return 0;
}

bool nanofs_blkset_has(const struct nanofs_blkset *s, u32 blk)
{
	if (!s->cap)
		return false;
	for (u32 i = set_hash(blk, s->cap); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == blk)
			return true;
	return false;
}

/* Linear probing deletes by shifting later members of the run back. */
bool nanofs_blkset_del(struct nanofs_blkset *s, u32 blk)
{
	u32 mask = s->cap - 1, i, j;

	if (!s->cap)
		return false;
	for (i = set_hash(blk, s->cap); s->slot[i] != blk; i = (i + 1) & mask)
		if (!s->slot[i])
			return false;
	s->slot[i] = 0;
	s->count--;
	for (j = (i + 1) & mask; s->slot[j]; j = (j + 1) & mask) {
		u32 v = s->slot[j], home = set_hash(v, s->cap);

		/* move v into the hole when the hole lies between its home and j */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			s->slot[i] = v;
			s->slot[j] = 0;
			i = j;
		}
	}
	return true;
}

void nanofs_blkset_clear(struct nanofs_blkset *s)
{
	if (s->cap)
		memset(s->slot, 0, s->cap * sizeof(u32));
	s->count = 0;
}

void nanofs_blkset_free(struct nanofs_blkset *s)
{
	kfree(s->slot);
	s->slot = NULL;
	s->cap = s->count = 0;
}
