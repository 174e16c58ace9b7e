/*
 * nanofs_inode.c — inodes, the block map, freeing past a size, and the
 * orphan list.
 *
 * An inode is read and written through its inode-table block in the cache;
 * its CRC (over its number and its first 252 bytes) is checked on every
 * read and set on every write, so a slot written to the wrong place or
 * damaged on the disk is -EIO with the inode named.
 *
 * The block map: file block k is direct[k] for k < 12, then lies in a tree
 * of height 1, 2, 3 or 4 under ind[0..3], each indirect block holding 511
 * pointers {block, crc}.  Lookups never allocate; nanofs_bmap_set() builds
 * the missing part of a path.  Clearing a pointer frees every indirect block
 * it leaves empty, so a file owns exactly the blocks its tree reaches and
 * in->nblocks counts them.
 *
 * The orphan list (head in the state block, linked by next_orphan) makes
 * truncate and unlink atomic however many transactions their freeing
 * takes: the inode goes on the list in the same transaction that sets its
 * new size or drops its last name, and comes off in the one that finishes;
 * a mount completes whatever a crash interrupted.
 */
#include "fs/nanofs_priv.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define PPB NANOFS_PTRS_PER_BLOCK

/* 511^h: the file blocks under one pointer of a node of height h + 1. */
static u64 span_of(int h)
{
	u64 s = 1;

	while (h-- > 0)
		s *= PPB;
	return s;
}

/* --------------------------------------------------------------- inodes */

static int inode_slot(struct nanofs *fs, u32 ino, struct nanofs_cbuf **cb, struct nanofs_inode **in)
{
	int err;

	if (ino < 1 || ino >= fs->lay.inodes) {
		pr_err("nanofs: inode %u out of range", ino);
		return -EIO;
	}
	err = nanofs_bread(fs, fs->lay.itable_start + ino / NANOFS_INODES_PER_BLOCK,
			   NANOFS_KIND_ITABLE, cb);
	if (!err)
		*in = (struct nanofs_inode *)((*cb)->data + (ino % NANOFS_INODES_PER_BLOCK) *
					      NANOFS_INODE_SIZE);
	return err;
}

int nanofs_iget(struct nanofs *fs, u32 ino, struct nanofs_inode *out)
{
	struct nanofs_cbuf *cb;
	struct nanofs_inode *in;
	int err = inode_slot(fs, ino, &cb, &in);

	if (err)
		return err;
	memcpy(out, in, sizeof(*out));
	nanofs_brelse(fs, cb);
	if (out->type == NANOFS_T_FREE)
		return 0;
	if (out->crc != nanofs_inode_crc(ino, out)) {
		pr_err("nanofs: inode %u: checksum mismatch", ino);
		return -EIO;
	}
	if ((out->type != NANOFS_T_FILE && out->type != NANOFS_T_DIR) ||
	    (out->type == NANOFS_T_DIR && out->size % NANOFS_BSIZE)) {
		pr_err("nanofs: inode %u: bad type %u or size", ino, out->type);
		return -EIO;
	}
	return 0;
}

int nanofs_iput(struct nanofs *fs, u32 ino, struct nanofs_inode *in)
{
	struct nanofs_cbuf *cb;
	struct nanofs_inode *slot;
	int err = inode_slot(fs, ino, &cb, &slot);

	if (err)
		return err;
	err = nanofs_bdirty(fs, cb);
	if (!err) {
		in->crc = in->type == NANOFS_T_FREE ? 0 : nanofs_inode_crc(ino, in);
		memcpy(slot, in, sizeof(*in));
	}
	nanofs_brelse(fs, cb);
	return err;
}

/* ------------------------------------------------------------ block map */

/*
 * Where file block @k lives: -1 for direct, else the tree (0..3), with the
 * slot at each level in @idx[0] (top) .. @idx[tree] (leaf).  -EFBIG past
 * the largest tree.
 */
static int bmap_path(u64 k, u32 idx[NANOFS_NIND])
{
	if (k < NANOFS_NDIRECT)
		return -1;
	k -= NANOFS_NDIRECT;
	for (int t = 0; t < (int)NANOFS_NIND; t++) {
		u64 cap = span_of(t + 1);

		if (k < cap) {
			for (int d = t; d >= 0; d--, k /= PPB)
				idx[d] = (u32)(k % PPB);
			return t;
		}
		k -= cap;
	}
	return -EFBIG;
}

int nanofs_bmap_get(struct nanofs *fs, u32 ino, const struct nanofs_inode *in, u64 k,
		    struct nanofs_bptr *out)
{
	u32 idx[NANOFS_NIND], blk;
	int t = bmap_path(k, idx);

	out->block = out->crc = 0;
	if (t == -1) {
		*out = in->direct[k];
		return 0;
	}
	if (t < 0)
		return 0;
	blk = in->ind[t];
	for (int d = 0; d <= t && blk; d++) {
		struct nanofs_cbuf *cb;
		struct nanofs_indirect *node;
		int err = nanofs_bread(fs, blk, NANOFS_KIND_IND(t + 1 - d), &cb);

		if (err) {
			pr_err("nanofs: inode %u: indirect block %u unreadable", ino, blk);
			return err;
		}
		node = (struct nanofs_indirect *)cb->data;
		if (d == t)
			*out = node->ptr[idx[d]];
		else
			blk = node->ptr[idx[d]].block;
		nanofs_brelse(fs, cb);
	}
	return 0;
}

static int new_node(struct nanofs *fs, struct nanofs_inode *in, int height, u32 *blk)
{
	struct nanofs_cbuf *cb;
	int err = nanofs_alloc_block(fs, 0, blk);

	if (err)
		return err;
	if ((err = nanofs_bnew(fs, *blk, NANOFS_KIND_IND(height), &cb))) {
		nanofs_free_block(fs, *blk);
		return err;
	}
	nanofs_brelse(fs, cb);
	in->nblocks++;
	return 0;
}

int nanofs_bmap_set(struct nanofs *fs, u32 ino, struct nanofs_inode *in, u64 k,
		    const struct nanofs_bptr *p)
{
	u32 idx[NANOFS_NIND], blk;
	int t = bmap_path(k, idx), err;

	if (t == -1) {
		if (p)
			in->direct[k] = *p;
		return 0;
	}
	if (t < 0)
		return -EFBIG;
	if (!in->ind[t] && (err = new_node(fs, in, t + 1, &in->ind[t])))
		return err;
	blk = in->ind[t];
	for (int d = 0; d <= t; d++) {
		struct nanofs_cbuf *cb;
		struct nanofs_indirect *node;
		u32 child = 0;

		if ((err = nanofs_bread(fs, blk, NANOFS_KIND_IND(t + 1 - d), &cb)))
			return err;
		node = (struct nanofs_indirect *)cb->data;
		if (d == t) {
			if (p && !(err = nanofs_bdirty(fs, cb)))
				node->ptr[idx[d]] = *p;
		} else if (!(child = node->ptr[idx[d]].block)) {
			if (!(err = nanofs_bdirty(fs, cb)) && !(err = new_node(fs, in, t - d, &child)))
				node->ptr[idx[d]].block = child;
		}
		nanofs_brelse(fs, cb);
		if (err)
			return err;
		blk = child;
	}
	return 0;
}

static bool node_empty(const struct nanofs_indirect *node)
{
	for (u32 i = 0; i < PPB; i++)
		if (node->ptr[i].block)
			return false;
	return true;
}

/* Clear the pointer of file block @k and free the indirect blocks it empties. */
static int bmap_clear(struct nanofs *fs, u32 ino, struct nanofs_inode *in, u64 k)
{
	u32 idx[NANOFS_NIND], path[NANOFS_NIND];
	int t = bmap_path(k, idx), err;

	if (t == -1) {
		in->direct[k].block = in->direct[k].crc = 0;
		return 0;
	}
	if (t < 0 || !in->ind[t])
		return 0;
	path[0] = in->ind[t];
	for (int d = 0; d < t; d++) {           /* find the nodes on the way down */
		struct nanofs_cbuf *cb;

		if ((err = nanofs_bread(fs, path[d], NANOFS_KIND_IND(t + 1 - d), &cb)))
			return err;
		path[d + 1] = ((struct nanofs_indirect *)cb->data)->ptr[idx[d]].block;
		nanofs_brelse(fs, cb);
		if (!path[d + 1])
			return 0;
	}
	for (int d = t; d >= 0; d--) {          /* clear bottom-up while nodes empty */
		struct nanofs_cbuf *cb;
		struct nanofs_indirect *node;
		bool empty;

		if ((err = nanofs_bread(fs, path[d], NANOFS_KIND_IND(t + 1 - d), &cb)))
			return err;
		node = (struct nanofs_indirect *)cb->data;
		if (!(err = nanofs_bdirty(fs, cb)))
			node->ptr[idx[d]].block = node->ptr[idx[d]].crc = 0;
		empty = node_empty(node);
		nanofs_brelse(fs, cb);
		if (err)
			return err;
		if (!empty)
			return 0;
		if ((err = nanofs_free_block(fs, path[d])))
			return err;
		in->nblocks--;
	}
	in->ind[t] = 0;
	return 0;
}

/* The last mapped file block >= @from under node @blk of @height at @base. */
static int last_in_node(struct nanofs *fs, u32 blk, int height, u64 base, u64 from, s64 *found)
{
	u64 span = span_of(height - 1);
	struct nanofs_cbuf *cb;
	struct nanofs_indirect *node;
	int err = nanofs_bread(fs, blk, NANOFS_KIND_IND(height), &cb);

	if (err)
		return err;
	node = (struct nanofs_indirect *)cb->data;
	for (int i = PPB - 1; i >= 0 && *found < 0 && !err; i--) {
		u64 cbase = base + (u64)i * span;
		u32 child = node->ptr[i].block;

		if (cbase + span <= from)
			break;
		if (!child)
			continue;
		if (height == 1)
			*found = (s64)cbase;
		else
			err = last_in_node(fs, child, height - 1, cbase, from, found);
	}
	nanofs_brelse(fs, cb);
	return err;
}

/* The last mapped file block >= @from, or -1. */
static int last_mapped(struct nanofs *fs, const struct nanofs_inode *in, u64 from, s64 *found)
{
	u64 base = NANOFS_NDIRECT;
	u64 bases[NANOFS_NIND];

	*found = -1;
	for (u32 t = 0; t < NANOFS_NIND; t++) {
		bases[t] = base;
		base += span_of((int)t + 1);
	}
	for (int t = NANOFS_NIND - 1; t >= 0; t--) {
		int err;

		if (!in->ind[t] || bases[t] + span_of(t + 1) <= from)
			continue;
		if ((err = last_in_node(fs, in->ind[t], t + 1, bases[t], from, found)))
			return err;
		if (*found >= 0)
			return 0;
	}
	for (int k = NANOFS_NDIRECT - 1; k >= 0 && (u64)k >= from; k--) {
		if (in->direct[k].block) {
			*found = k;
			return 0;
		}
	}
	return 0;
}

s64 nanofs_free_from(struct nanofs *fs, u32 ino, struct nanofs_inode *in, u64 from, u32 budget)
{
	s64 freed = 0;

	while ((u32)freed < budget) {
		struct nanofs_bptr p;
		s64 k;
		int err;

		if ((err = last_mapped(fs, in, from, &k)))
			return err;
		if (k < 0)
			break;
		if ((err = nanofs_bmap_get(fs, ino, in, (u64)k, &p)) ||
		    (err = bmap_clear(fs, ino, in, (u64)k)) || (err = nanofs_free_block(fs, p.block)))
			return err;
		in->nblocks--;
		freed++;
	}
	return freed;
}

/* ----------------------------------------------------------- the walk */

struct walk {
	struct nanofs *fs;
	nanofs_walk_fn fn;
	void *arg;
};

static int walk_node(struct walk *w, u32 blk, int height, u64 base)
{
	u64 span = span_of(height - 1);
	struct nanofs_cbuf *cb;
	struct nanofs_indirect *node;
	int err = w->fn(w->arg, base, blk, 0, height);

	if (err)
		return err < 0 ? err : 0;       /* > 0: do not follow this pointer */
	if (!nanofs_in_data(w->fs, blk) || nanofs_bread(w->fs, blk, NANOFS_KIND_IND(height), &cb))
		return w->fn(w->arg, base, blk, 0, -1);  /* unreadable: reported, skipped */
	node = (struct nanofs_indirect *)cb->data;
	for (u32 i = 0; i < PPB && !err; i++) {
		struct nanofs_bptr p = node->ptr[i];

		if (!p.block)
			continue;
		if (height == 1)
			err = w->fn(w->arg, base + i, p.block, p.crc, 0);
		else
			err = walk_node(w, p.block, height - 1, base + (u64)i * span);
	}
	nanofs_brelse(w->fs, cb);
	return err;
}

int nanofs_bmap_walk(struct nanofs *fs, u32 ino, const struct nanofs_inode *in,
		     nanofs_walk_fn fn, void *arg)
{
	struct walk w = { fs, fn, arg };
	u64 base = NANOFS_NDIRECT;
	int err = 0;

	for (u32 k = 0; k < NANOFS_NDIRECT && !err; k++)
		if (in->direct[k].block)
			err = fn(arg, k, in->direct[k].block, in->direct[k].crc, 0);
	for (u32 t = 0; t < NANOFS_NIND && !err; t++) {
		if (in->ind[t])
			err = walk_node(&w, in->ind[t], (int)t + 1, base);
		base += span_of((int)t + 1);
	}
	return err;
}

/* ---------------------------------------------------------- the orphans */

int nanofs_state_get(struct nanofs *fs, struct nanofs_cbuf **cb, struct nanofs_state **st)
{
	int err = nanofs_bread(fs, NANOFS_STATE_BLOCK, NANOFS_KIND_STATE, cb);

	if (!err)
		*st = (struct nanofs_state *)(*cb)->data;
	return err;
}

int nanofs_orphan_push(struct nanofs *fs, u32 ino, struct nanofs_inode *in)
{
	struct nanofs_cbuf *cb;
	struct nanofs_state *st;
	int err = nanofs_state_get(fs, &cb, &st);

	if (err)
		return err;
	if (!(err = nanofs_bdirty(fs, cb))) {
		in->next_orphan = st->orphan;
		st->orphan = ino;
		err = nanofs_iput(fs, ino, in);
	}
	nanofs_brelse(fs, cb);
	return err;
}

/*
 * Free the tree under @blk, which maps no data any more (a step that ran out
 * of space may have left empty indirect blocks behind).  Depth <= 4.
 */
static int free_tree(struct nanofs *fs, struct nanofs_inode *in, u32 blk, int height)
{
	struct nanofs_cbuf *cb;
	int err;

	for (u32 i = 0; height > 1 && i < PPB; i++) {
		u32 child;

		if ((err = nanofs_bread(fs, blk, NANOFS_KIND_IND(height), &cb)))
			return err;
		child = ((struct nanofs_indirect *)cb->data)->ptr[i].block;
		nanofs_brelse(fs, cb);
		if (child && (err = free_tree(fs, in, child, height - 1)))
			return err;
	}
	if ((err = nanofs_free_block(fs, blk)))
		return err;
	in->nblocks--;
	return 0;
}

/* Free what the head orphan no longer owns, step by step; then take it off. */
static int orphan_finish(struct nanofs *fs, u32 ino)
{
	struct nanofs_inode in;
	struct nanofs_cbuf *cb;
	struct nanofs_state *st;
	s64 freed;
	int err;

	do {
		if ((err = nanofs_txn_reserve(fs, nanofs_step_reserve(fs))) ||
		    (err = nanofs_iget(fs, ino, &in)))
			return err;
		if (in.type == NANOFS_T_FREE)
			return -EIO;
		freed = nanofs_free_from(fs, ino, &in, in.links ? NANOFS_BLOCKS_OF(in.size) : 0,
					 NANOFS_STEP_BLOCKS);
		if (freed < 0)
			return (int)freed;
		if ((err = nanofs_iput(fs, ino, &in)))
			return err;
	} while (freed > 0);
	if ((err = nanofs_txn_reserve(fs, nanofs_step_reserve(fs))))
		return err;
	for (u32 t = 0; t < NANOFS_NIND && !in.links; t++) {
		if (in.ind[t] && (err = free_tree(fs, &in, in.ind[t], (int)t + 1)))
			return err;
		in.ind[t] = 0;
	}
	if ((err = nanofs_state_get(fs, &cb, &st)))
		return err;
	if (!(err = nanofs_bdirty(fs, cb)))
		st->orphan = in.next_orphan;
	nanofs_brelse(fs, cb);
	if (err)
		return err;
	in.next_orphan = 0;
	return in.links ? nanofs_iput(fs, ino, &in) : nanofs_free_inode(fs, ino);
}

int nanofs_orphan_cleanup(struct nanofs *fs)
{
	for (u64 n = 0; n < fs->lay.inodes; n++) {
		struct nanofs_cbuf *cb;
		struct nanofs_state *st;
		u32 ino;
		int err = nanofs_state_get(fs, &cb, &st);

		if (err)
			return err;
		ino = st->orphan;
		nanofs_brelse(fs, cb);
		if (!ino)
			return 0;
		if ((err = orphan_finish(fs, ino))) {
			pr_err("nanofs: cleanup of orphan inode %u failed (%d)", ino, err);
			return err;
		}
	}
	pr_err("nanofs: the orphan list loops");
	return -EIO;
}
