/*
 * nanofs_dir.c — directories: names to inode numbers, and the operations
 * that change them (create, unlink, rmdir, rename) plus lookup and readdir.
 *
 * A directory is a sequence of DIR blocks (docs/nanofs.md, "Directories"):
 * variable-length entries {ino, rec_len, name_len, type, name} tile the
 * first 4088 bytes of each block; ino 0 is space.  Every entry is checked
 * as it is walked (lengths inside the block, a name that fits its record),
 * so a damaged block is -EIO, never a wild read.
 *
 * Each operation is one atomic step: it reserves journal room for its
 * worst case first (NANOFS_RES_DIROP), so it never commits half-way.
 * Unlink, rmdir and rename over a file drop the name and put the inode on
 * the orphan list in that step; the freeing follows in steps of its own.
 */
#include "fs/nanofs_priv.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define BS NANOFS_BSIZE

/* Where a name was found. */
struct dirloc {
	u64 k;                  /* directory block index */
	u32 blk;
	u32 off, prev;          /* entry offset; previous entry's, or NO_PREV */
	u32 ino;
	u8 type;
};
#define NO_PREV 0xFFFFFFFFu

int nanofs_name_check(const char *name, u32 len)
{
	if (!len || !name)
		return -EINVAL;
	if (len > NANOFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return -EINVAL;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return -EINVAL;
	return 0;
}

/* Is the entry at @off of directory block @blk sound?  Logs when not. */
static bool ent_ok(const u8 *data, u32 blk, u32 off)
{
	const struct nanofs_dirent *e = (const struct nanofs_dirent *)(data + off);

	if (off + 8 <= NANOFS_PAYLOAD && e->rec_len >= 8 && e->rec_len % 8 == 0 &&
	    off + e->rec_len <= NANOFS_PAYLOAD &&
	    (!e->ino || (e->name_len && NANOFS_DIRENT_LEN(e->name_len) <= e->rec_len)))
		return true;
	pr_err("nanofs: directory block %u: bad entry at offset %u", blk, off);
	return false;
}

/* Get directory block @k of @din. */
static int dir_block(struct nanofs *fs, u32 dino, const struct nanofs_inode *din, u64 k,
		     struct nanofs_cbuf **cb)
{
	struct nanofs_bptr p;
	int err = nanofs_bmap_get(fs, dino, din, k, &p);

	if (err)
		return err;
	if (!p.block || !nanofs_in_data(fs, p.block)) {
		pr_err("nanofs: directory %u: block %llu missing", dino, (unsigned long long)k);
		return -EIO;
	}
	return nanofs_bread(fs, p.block, NANOFS_KIND_DIR, cb);
}

/* Find @name in directory @dino: 0 and *@loc, -ENOENT, -EIO. */
static int dir_find(struct nanofs *fs, u32 dino, const struct nanofs_inode *din, const char *name,
		    u32 len, struct dirloc *loc)
{
	for (u64 k = 0; k < din->size / BS; k++) {
		struct nanofs_cbuf *cb;
		u32 prev = NO_PREV;
		int err = dir_block(fs, dino, din, k, &cb);

		if (err)
			return err;
		for (u32 off = 0; off < NANOFS_PAYLOAD;) {
			const struct nanofs_dirent *e = (const struct nanofs_dirent *)(cb->data + off);

			if (!ent_ok(cb->data, (u32)cb->blk, off)) {
				nanofs_brelse(fs, cb);
				return -EIO;
			}
			if (e->ino && e->name_len == len && !memcmp(e->name, name, len)) {
				*loc = (struct dirloc){ k, (u32)cb->blk, off, prev, e->ino, e->type };
				nanofs_brelse(fs, cb);
				return 0;
			}
			prev = off;
			off += e->rec_len;
		}
		nanofs_brelse(fs, cb);
	}
	return -ENOENT;
}

/* Put the entry into the slack of the entry at @off, if it fits. */
static bool ent_insert(u8 *data, u32 off, const char *name, u32 len, u32 ino, u8 type)
{
	struct nanofs_dirent *e = (struct nanofs_dirent *)(data + off), *n;
	u32 used = e->ino ? NANOFS_DIRENT_LEN(e->name_len) : 0;
	u32 need = NANOFS_DIRENT_LEN(len);

	if (e->rec_len - used < need)
		return false;
	n = (struct nanofs_dirent *)(data + off + used);
	if (used) {
		n->rec_len = (u16)(e->rec_len - used);
		e->rec_len = (u16)used;
	}
	n->ino = ino;
	n->name_len = (u8)len;
	n->type = type;
	memcpy(n->name, name, len);
	memset(n->name + len, 0, need - 8 - len);
	return true;
}

/* Try to place the entry in directory block @k; true when done. */
static int dir_add_in(struct nanofs *fs, u32 dino, const struct nanofs_inode *din, u64 k,
		      const char *name, u32 len, u32 ino, u8 type, bool *done)
{
	struct nanofs_cbuf *cb;
	int err = dir_block(fs, dino, din, k, &cb);

	*done = false;
	if (err)
		return err;
	for (u32 off = 0; off < NANOFS_PAYLOAD && !*done && !err;) {
		struct nanofs_dirent *e = (struct nanofs_dirent *)(cb->data + off);
		u32 used = e->ino ? NANOFS_DIRENT_LEN(e->name_len) : 0;

		if (!ent_ok(cb->data, (u32)cb->blk, off)) {
			err = -EIO;
			break;
		}
		if (e->rec_len - used >= NANOFS_DIRENT_LEN(len) && !(err = nanofs_bdirty(fs, cb)))
			*done = ent_insert(cb->data, off, name, len, ino, type);
		off += e->rec_len;
	}
	nanofs_brelse(fs, cb);
	return err;
}

/* Add an entry to directory @dino (the caller writes @din back). */
static int dir_add(struct nanofs *fs, u32 dino, struct nanofs_inode *din, const char *name,
		   u32 len, u32 ino, u8 type)
{
	u64 nblk = din->size / BS;
	struct nanofs_bptr p = { 0, 0 };
	struct nanofs_cbuf *cb;
	struct nanofs_dirent *e;
	bool done;
	int err;

	for (u64 k = 0; k < nblk; k++) {
		if ((err = dir_add_in(fs, dino, din, k, name, len, ino, type, &done)))
			return err;
		if (done)
			return 0;
	}
	u32 blk;

	if ((err = nanofs_bmap_set(fs, dino, din, nblk, NULL)) ||
	    (err = nanofs_alloc_block(fs, 0, &blk)))
		return err;
	p.block = blk;
	if ((err = nanofs_bnew(fs, p.block, NANOFS_KIND_DIR, &cb))) {
		nanofs_free_block(fs, p.block);
		return err;
	}
	e = (struct nanofs_dirent *)cb->data;
	e->rec_len = NANOFS_PAYLOAD;
	ent_insert(cb->data, 0, name, len, ino, type);
	nanofs_brelse(fs, cb);
	if ((err = nanofs_bmap_set(fs, dino, din, nblk, &p)))
		return err;
	din->nblocks++;
	din->size += BS;
	return 0;
}

static int dir_remove(struct nanofs *fs, const struct dirloc *loc)
{
	struct nanofs_cbuf *cb;
	struct nanofs_dirent *e;
	int err = nanofs_bread(fs, loc->blk, NANOFS_KIND_DIR, &cb);

	if (err)
		return err;
	if (!(err = nanofs_bdirty(fs, cb))) {
		e = (struct nanofs_dirent *)(cb->data + loc->off);
		if (loc->prev != NO_PREV)
			((struct nanofs_dirent *)(cb->data + loc->prev))->rec_len += e->rec_len;
		else
			e->ino = 0;
	}
	nanofs_brelse(fs, cb);
	return err;
}

/* Point the entry at @loc to @ino. */
static int dir_retarget(struct nanofs *fs, const struct dirloc *loc, u32 ino, u8 type)
{
	struct nanofs_cbuf *cb;
	int err = nanofs_bread(fs, loc->blk, NANOFS_KIND_DIR, &cb);

	if (err)
		return err;
	if (!(err = nanofs_bdirty(fs, cb))) {
		struct nanofs_dirent *e = (struct nanofs_dirent *)(cb->data + loc->off);

		e->ino = ino;
		e->type = type;
	}
	nanofs_brelse(fs, cb);
	return err;
}

static int dir_empty(struct nanofs *fs, u32 dino, const struct nanofs_inode *din)
{
	for (u64 k = 0; k < din->size / BS; k++) {
		struct nanofs_cbuf *cb;
		int err = dir_block(fs, dino, din, k, &cb);

		if (err)
			return err;
		for (u32 off = 0; off < NANOFS_PAYLOAD && !err;) {
			const struct nanofs_dirent *e = (const struct nanofs_dirent *)(cb->data + off);

			if (!ent_ok(cb->data, (u32)cb->blk, off))
				err = -EIO;
			else if (e->ino)
				err = -ENOTEMPTY;
			else
				off += e->rec_len;
		}
		nanofs_brelse(fs, cb);
		if (err)
			return err;
	}
	return 0;
}

/* Read directory @dino: -ENOTDIR for a file, -ENOENT for a free inode. */
static int get_dir(struct nanofs *fs, u32 dino, struct nanofs_inode *din)
{
	int err = nanofs_iget(fs, dino, din);

	if (err)
		return err;
	if (din->type == NANOFS_T_FREE)
		return -ENOENT;
	return din->type == NANOFS_T_DIR ? 0 : -ENOTDIR;
}

/* Before a directory operation: room in the journal and, if needed, space. */
static int dirop_begin(struct nanofs *fs)
{
	int err = nanofs_writable(fs);

	if (!err)
		err = nanofs_txn_reserve(fs, NANOFS_RES_DIROP);
	if (!err && fs->free_blocks < 8 && fs->npending)
		err = nanofs_commit(fs);
	return err;
}

/* ------------------------------------------------------------ the API */

int nanofs_lookup(struct nanofs *fs, u32 dir, const char *name, u32 len, u32 *ino)
{
	struct nanofs_inode din;
	struct dirloc loc;
	int err = nanofs_name_check(name, len);

	if (err)
		return err;
	mutex_lock(&fs->lock);
	if (!(err = get_dir(fs, dir, &din)) && !(err = dir_find(fs, dir, &din, name, len, &loc)))
		*ino = loc.ino;
	mutex_unlock(&fs->lock);
	return err;
}

static int create_locked(struct nanofs *fs, u32 dir, const char *name, u32 len,
			 enum nanofs_type type, u32 *out)
{
	struct nanofs_inode din, in;
	struct dirloc loc;
	u32 ino;
	int err;

	if ((err = dirop_begin(fs)) || (err = get_dir(fs, dir, &din)))
		return err;
	err = dir_find(fs, dir, &din, name, len, &loc);
	if (err != -ENOENT)
		return err ? err : -EEXIST;
	if ((err = nanofs_alloc_inode(fs, &ino)))
		return err;
	memset(&in, 0, sizeof(in));
	in.type = (u16)type;
	in.links = 1;
	in.parent = dir;
	in.mtime = in.ctime = nanofs_now(fs);
	if ((err = nanofs_iput(fs, ino, &in))) {
		nanofs_release_inode(fs, ino);  /* its slot could not be read: never written */
		return err;
	}
	if ((err = dir_add(fs, dir, &din, name, len, ino, (u8)type))) {
		nanofs_free_inode(fs, ino);
		nanofs_iput(fs, dir, &din);     /* keep what dir_add built */
		return err;
	}
	din.mtime = in.mtime;
	if ((err = nanofs_iput(fs, dir, &din)))
		return err;
	*out = ino;
	return 0;
}

int nanofs_create(struct nanofs *fs, u32 dir, const char *name, u32 len, enum nanofs_type type,
		  u32 *ino)
{
	int err = nanofs_name_check(name, len);

	if (err)
		return err;
	if (type != NANOFS_FILE && type != NANOFS_DIR)
		return -EINVAL;
	mutex_lock(&fs->lock);
	err = create_locked(fs, dir, name, len, type, ino);
	mutex_unlock(&fs->lock);
	return err;
}

/* Drop the name at @loc and put its inode on the orphan list; then free it. */
static int remove_locked(struct nanofs *fs, u32 dir, struct nanofs_inode *din,
			 const struct dirloc *loc)
{
	struct nanofs_inode in;
	int err;

	if ((err = nanofs_iget(fs, loc->ino, &in)))
		return err;
	if ((err = dir_remove(fs, loc)))
		return err;
	din->mtime = nanofs_now(fs);
	if ((err = nanofs_iput(fs, dir, din)))
		return err;
	in.links = 0;
	in.ctime = din->mtime;
	if ((err = nanofs_orphan_push(fs, loc->ino, &in)))
		return err;
	return nanofs_orphan_cleanup(fs);
}

static int unlink_locked(struct nanofs *fs, u32 dir, const char *name, u32 len, bool want_dir)
{
	struct nanofs_inode din, in;
	struct dirloc loc;
	int err;

	if ((err = dirop_begin(fs)) || (err = get_dir(fs, dir, &din)) ||
	    (err = dir_find(fs, dir, &din, name, len, &loc)) ||
	    (err = nanofs_iget(fs, loc.ino, &in)))
		return err;
	if (in.type == NANOFS_T_FREE) {
		pr_err("nanofs: directory %u names free inode %u", dir, loc.ino);
		return -EIO;
	}
	if (want_dir && in.type != NANOFS_T_DIR)
		return -ENOTDIR;
	if (!want_dir && in.type == NANOFS_T_DIR)
		return -EISDIR;
	if (want_dir && (err = dir_empty(fs, loc.ino, &in)))
		return err;
	return remove_locked(fs, dir, &din, &loc);
}

int nanofs_unlink(struct nanofs *fs, u32 dir, const char *name, u32 len)
{
	int err = nanofs_name_check(name, len);

	if (err)
		return err;
	mutex_lock(&fs->lock);
	err = unlink_locked(fs, dir, name, len, false);
	mutex_unlock(&fs->lock);
	return err;
}

int nanofs_rmdir(struct nanofs *fs, u32 dir, const char *name, u32 len)
{
	int err = nanofs_name_check(name, len);

	if (err)
		return err;
	mutex_lock(&fs->lock);
	err = unlink_locked(fs, dir, name, len, true);
	mutex_unlock(&fs->lock);
	return err;
}

/* Is @ino @dir or one of its ancestors?  (Moving a directory below itself.) */
static int is_ancestor(struct nanofs *fs, u32 ino, u32 dir, bool *yes)
{
	*yes = false;
	for (u64 n = 0; n < fs->lay.inodes; n++) {
		struct nanofs_inode in;
		int err;

		if (dir == ino) {
			*yes = true;
			return 0;
		}
		if (dir == NANOFS_ROOT_INO)
			return 0;
		if ((err = nanofs_iget(fs, dir, &in)))
			return err;
		dir = in.parent;
	}
	pr_err("nanofs: the parents of directory %u loop", dir);
	return -EIO;
}

static int rename_locked(struct nanofs *fs, u32 sdir, const char *sname, u32 slen, u32 ddir,
			 const char *dname, u32 dlen)
{
	struct nanofs_inode sd, dd, child, old;
	struct nanofs_inode *dp = sdir == ddir ? &sd : &dd;
	struct dirloc src, dst;
	bool below, replaced = false;
	int err;

	if ((err = dirop_begin(fs)) || (err = get_dir(fs, sdir, &sd)) ||
	    (err = get_dir(fs, ddir, &dd)) || (err = dir_find(fs, sdir, &sd, sname, slen, &src)) ||
	    (err = nanofs_iget(fs, src.ino, &child)))
		return err;
	if (child.type == NANOFS_T_DIR) {
		if ((err = is_ancestor(fs, src.ino, ddir, &below)))
			return err;
		if (below)
			return -EINVAL;
	}
	err = dir_find(fs, ddir, dp, dname, dlen, &dst);
	if (err && err != -ENOENT)
		return err;
	if (!err) {                     /* the target exists */
		if (dst.ino == src.ino)
			return 0;
		if ((err = nanofs_iget(fs, dst.ino, &old)))
			return err;
		if (old.type == NANOFS_T_DIR || child.type == NANOFS_T_DIR)
			return -EEXIST;
		if ((err = dir_retarget(fs, &dst, src.ino, (u8)child.type)))
			return err;
		replaced = true;
	} else if ((err = dir_add(fs, ddir, dp, dname, dlen, src.ino, (u8)child.type))) {
		nanofs_iput(fs, ddir, dp);
		return err;
	}
	/* adding may have split the entry before the source: find it again */
	if ((err = dir_find(fs, sdir, &sd, sname, slen, &src)) || (err = dir_remove(fs, &src)))
		return err;
	sd.mtime = dp->mtime = nanofs_now(fs);
	if ((err = nanofs_iput(fs, sdir, &sd)) || (dp != &sd && (err = nanofs_iput(fs, ddir, dp))))
		return err;
	if (child.type == NANOFS_T_DIR && child.parent != ddir) {
		child.parent = ddir;
		if ((err = nanofs_iput(fs, src.ino, &child)))
			return err;
	}
	if (!replaced)
		return 0;
	old.links = 0;                  /* the replaced file goes the way of unlink */
	old.ctime = sd.mtime;
	if ((err = nanofs_orphan_push(fs, dst.ino, &old)))
		return err;
	return nanofs_orphan_cleanup(fs);
}

int nanofs_rename(struct nanofs *fs, u32 sdir, const char *sname, u32 slen, u32 ddir,
		  const char *dname, u32 dlen)
{
	int err = nanofs_name_check(sname, slen);

	if (!err)
		err = nanofs_name_check(dname, dlen);
	if (err)
		return err;
	mutex_lock(&fs->lock);
	err = rename_locked(fs, sdir, sname, slen, ddir, dname, dlen);
	mutex_unlock(&fs->lock);
	return err;
}

/* Deliver the entries of one block from *@cursor on; *@stop when fn said so. */
static int readdir_block(struct nanofs *fs, u32 dir, const struct nanofs_inode *din, u64 *cursor,
			 nanofs_filldir_fn fn, void *arg, bool *stop)
{
	u64 k = *cursor / BS;
	u32 from = (u32)(*cursor % BS);
	struct nanofs_cbuf *cb;
	int err = dir_block(fs, dir, din, k, &cb);

	if (err)
		return err;
	for (u32 off = 0; off < NANOFS_PAYLOAD;) {
		const struct nanofs_dirent *e = (const struct nanofs_dirent *)(cb->data + off);

		if (!ent_ok(cb->data, (u32)cb->blk, off)) {
			err = -EIO;
			break;
		}
		if (off >= from && e->ino) {
			if (fn(arg, e->name, e->name_len, e->ino, (enum nanofs_type)e->type)) {
				*cursor = k * BS + off;
				*stop = true;
				break;
			}
		}
		off += e->rec_len;
		*cursor = k * BS + off;
	}
	nanofs_brelse(fs, cb);
	if (!err && !*stop)
		*cursor = (k + 1) * BS;
	return err;
}

int nanofs_readdir(struct nanofs *fs, u32 dir, u64 *cursor, nanofs_filldir_fn fn, void *arg)
{
	struct nanofs_inode din;
	bool stop = false;
	int err;

	mutex_lock(&fs->lock);
	err = get_dir(fs, dir, &din);
	while (!err && !stop && *cursor / BS < din.size / BS)
		err = readdir_block(fs, dir, &din, cursor, fn, arg, &stop);
	mutex_unlock(&fs->lock);
	return err;
}
