/*
 * ramfs.c — a filesystem in memory, the one mounted at "/" at boot.
 *
 * It keeps nothing on any device and is as large as memory allows.  Its
 * semantics are the VFS's (fs/vfs_fs.h), the same as nanofs's, so one test
 * suite drives both.
 *
 * Inodes.  A struct ramfs_inode per file or directory, numbered from 1 (the
 * root) by a counter that never reuses a number.  A vnode's priv is the
 * inode itself.  There are no hard links: removing a name frees its inode
 * at once (the VFS guarantees that it never hands us that vnode again).
 * Each inode knows its parent directory so that the whole tree can be
 * freed at unmount without recursion (a path may be 2,000 levels deep).
 *
 * File data lives in 4 KiB pages kept in a B-tree by page index (lib/
 * btree.c), so a file grows page by page without ever copying, and a hole
 * (a write past the end, a truncate that grows) costs nothing: a page that
 * is not there reads as zeroes.  Invariant: the bytes of a page beyond
 * the file's size are zero, so growing a file never uncovers old data
 * (truncate clears the tail of the page it cuts).
 *
 * Directories are B-trees too, from a key to a struct ramfs_dirent: the
 * key's top 32 bits are a hash (FNV-1a) of the name and the low 32 bits
 * tell apart names whose hashes collide.  Lookup is logarithmic in the
 * number of entries, and the key is also the readdir cursor: entries sit
 * in key order and keep their keys, so a listing delivers every entry that
 * exists throughout it exactly once, whatever is added or removed between
 * calls.
 *
 * Memory.  Everything comes from kmalloc(); when it fails the operation
 * returns -ENOSPC with the tree as it was (a write may stop short: the
 * bytes before stay written).  Locking: none of its own — the VFS calls
 * in under the mount's lock.
 */
#include "fs/vfs_fs.h"
#include "errno.h"
#include "lib/btree.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#ifdef NOS_KERNEL
#include "mm/page_alloc.h"
#endif

#define RAMFS_PAGE 4096u
#define RAMFS_MAX_SIZE (1ULL << 44) /* 16 TiB: well past any memory */
#define RAMFS_SEQ_MAX 0xfffffffeu   /* low key bits; ~0 stays the end cursor */

struct ramfs;

struct ramfs_inode {
	u64 ino;
	enum vnode_type type;
	u64 size;                   /* a file's bytes */
	struct ramfs_inode *parent; /* NULL for the root */
	struct btree tree;          /* file: page index -> page; dir: key -> dirent */
};

struct ramfs_dirent {
	struct ramfs_inode *inode;
	u16 len;
	char name[];
};

struct ramfs {
	u64 next_ino;
	u64 inodes;  /* live inodes */
	u64 pages;   /* data pages held */
	struct ramfs_inode *root;
};

static void *ramfs_alloc(void *ctx, size_t size)
{
	return kmalloc(size);
}

static void ramfs_free(void *ctx, void *p)
{
	kfree(p);
}

/* B-tree nodes come from kmalloc, so a failure is an -ENOSPC like any other. */
static const struct lib_allocator ramfs_allocator = { ramfs_alloc, ramfs_free, NULL };

static struct ramfs *fs_of(struct vnode *vn)
{
	return vn->mnt->fs_priv;
}

static struct ramfs_inode *inode_of(struct vnode *vn)
{
	return vn->priv;
}

static struct ramfs_inode *inode_new(struct ramfs *fs, enum vnode_type type,
				     struct ramfs_inode *parent)
{
	struct ramfs_inode *ip = kzalloc(sizeof(*ip));

	if (!ip)
		return NULL;
	ip->ino = fs->next_ino++;
	ip->type = type;
	ip->parent = parent;
	btree_init(&ip->tree, &ramfs_allocator);
	fs->inodes++;
	return ip;
}

static int free_page_visit(void *arg, u64 key, void *val)
{
	struct ramfs *fs = arg;

	kfree(val);
	fs->pages--;
	return 0;
}

/* Free a file's pages, or an (empty) directory's tree, and the inode. */
static void inode_free(struct ramfs *fs, struct ramfs_inode *ip)
{
	btree_destroy(&ip->tree, ip->type == VNODE_FILE ? free_page_visit : NULL, fs);
	kfree(ip);
	fs->inodes--;
}

static void child_of(struct ramfs_inode *ip, struct vfs_child *out)
{
	out->ino = ip->ino;
	out->priv = ip;
	out->type = ip->type;
}

/* ------------------------------------------------------- directories */

static u32 name_hash(const char *name, size_t len)
{
	u32 h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (u8)name[i]) * 16777619u;
	return h;
}

/*
 * Find @name in @dir: 0 with its key and entry, or -ENOENT with *@free_key
 * (when not NULL) set to the first unused key of the name's hash, or
 * -ENOSPC when its every key is taken.
 */
static int dir_find(struct ramfs_inode *dir, const char *name, size_t len, u64 *key,
		    struct ramfs_dirent **de, u64 *free_key)
{
	u64 base = (u64)name_hash(name, len) << 32, k = base, found, first_free = 0;
	bool have_free = false;
	void *val;

	while (btree_lower_bound(&dir->tree, k, &found, &val) == 0 &&
	       (found >> 32) == (base >> 32)) {
		struct ramfs_dirent *d = val;

		if (d->len == len && memcmp(d->name, name, len) == 0) {
			*key = found;
			*de = d;
			return 0;
		}
		if (!have_free && found > k) {
			first_free = k; /* a gap before this entry */
			have_free = true;
		}
		k = found + 1;
	}
	if (free_key) {
		if (!have_free)
			first_free = k;
		if ((first_free & 0xffffffffu) > RAMFS_SEQ_MAX)
			return -ENOSPC;
		*free_key = first_free;
	}
	return -ENOENT;
}

/* Add @ip as @name to @dir (known to be absent). */
static int dir_add(struct ramfs_inode *dir, const char *name, size_t len, struct ramfs_inode *ip)
{
	struct ramfs_dirent *de, *unused;
	u64 key, unused_key;
	int rc = dir_find(dir, name, len, &unused_key, &unused, &key);

	if (rc == 0)
		return -EEXIST;
	if (rc != -ENOENT)
		return rc;
	de = kmalloc(sizeof(*de) + len);
	if (!de)
		return -ENOSPC;
	de->inode = ip;
	de->len = (u16)len;
	memcpy(de->name, name, len);
	if (btree_insert(&dir->tree, key, de)) {
		kfree(de);
		return -ENOSPC;
	}
	return 0;
}

static int ramfs_lookup(struct vnode *dvn, const char *name, size_t len, struct vfs_child *out)
{
	struct ramfs_dirent *de;
	u64 key;
	int rc = dir_find(inode_of(dvn), name, len, &key, &de, NULL);

	if (!rc)
		child_of(de->inode, out);
	return rc;
}

static int make(struct vnode *dvn, const char *name, size_t len, enum vnode_type type,
		struct vfs_child *out)
{
	struct ramfs *fs = fs_of(dvn);
	struct ramfs_inode *ip = inode_new(fs, type, inode_of(dvn));
	int rc;

	if (!ip)
		return -ENOSPC;
	rc = dir_add(inode_of(dvn), name, len, ip);
	if (rc) {
		inode_free(fs, ip);
		return rc;
	}
	child_of(ip, out);
	return 0;
}

static int ramfs_create(struct vnode *dvn, const char *name, size_t len, struct vfs_child *out)
{
	return make(dvn, name, len, VNODE_FILE, out);
}

static int ramfs_mkdir(struct vnode *dvn, const char *name, size_t len, struct vfs_child *out)
{
	return make(dvn, name, len, VNODE_DIR, out);
}

/* Take @name out of @dir and free its inode; @want is the kind required. */
static int remove_name(struct vnode *dvn, const char *name, size_t len, enum vnode_type want)
{
	struct ramfs_inode *dir = inode_of(dvn);
	struct ramfs_dirent *de;
	struct ramfs_inode *ip;
	u64 key;
	int rc = dir_find(dir, name, len, &key, &de, NULL);

	if (rc)
		return rc;
	ip = de->inode;
	if (ip->type != want)
		return want == VNODE_DIR ? -ENOTDIR : -EISDIR;
	if (ip->type == VNODE_DIR && btree_count(&ip->tree))
		return -ENOTEMPTY;
	btree_remove(&dir->tree, key, NULL);
	kfree(de);
	inode_free(fs_of(dvn), ip);
	return 0;
}

static int ramfs_unlink(struct vnode *dvn, const char *name, size_t len)
{
	return remove_name(dvn, name, len, VNODE_FILE);
}

static int ramfs_rmdir(struct vnode *dvn, const char *name, size_t len)
{
	return remove_name(dvn, name, len, VNODE_DIR);
}

static int ramfs_readdir(struct vnode *dvn, u64 *cursor, vfs_filldir_fn fn, void *arg)
{
	struct ramfs_inode *dir = inode_of(dvn);
	u64 key;
	void *val;

	while (btree_lower_bound(&dir->tree, *cursor, &key, &val) == 0) {
		struct ramfs_dirent *de = val;

		*cursor = key;
		if (fn(arg, de->name, de->len, de->inode->ino, de->inode->type))
			return 0;
		*cursor = key + 1;
	}
	*cursor = ~0ULL;
	return 0;
}

/*
 * Move @sname to @dname.  The VFS has checked the kinds: a target that
 * exists is a file and so is the source.  The new entry is made before
 * the old one goes, so running out of memory changes nothing.
 */
static int ramfs_rename(struct vnode *sdvn, const char *sname, size_t slen, struct vnode *ddvn,
			const char *dname, size_t dlen)
{
	struct ramfs_inode *sdir = inode_of(sdvn), *ddir = inode_of(ddvn), *ip;
	struct ramfs_dirent *sde, *dde;
	u64 skey, dkey;
	int rc = dir_find(sdir, sname, slen, &skey, &sde, NULL);

	if (rc)
		return rc;
	ip = sde->inode;
	if (dir_find(ddir, dname, dlen, &dkey, &dde, NULL) == 0) {
		struct ramfs_inode *old = dde->inode;

		if (old == ip)
			return 0;
		if (old->type == VNODE_DIR)
			return ip->type == VNODE_DIR ? -EEXIST : -EISDIR;
		if (ip->type == VNODE_DIR)
			return -ENOTDIR;
		dde->inode = ip; /* the target's entry now names the source */
		inode_free(fs_of(sdvn), old);
	} else {
		rc = dir_add(ddir, dname, dlen, ip);
		if (rc)
			return rc;
	}
	btree_remove(&sdir->tree, skey, NULL);
	kfree(sde);
	ip->parent = ddir;
	return 0;
}

/* ------------------------------------------------------------- files */

static s64 ramfs_read(struct vnode *vn, u64 off, void *buf, size_t len)
{
	struct ramfs_inode *ip = inode_of(vn);
	size_t done = 0;

	if (off >= ip->size)
		return 0;
	if (len > ip->size - off)
		len = (size_t)(ip->size - off);
	while (done < len) {
		u64 pos = off + done;
		size_t in = pos % RAMFS_PAGE, n = MIN(len - done, (size_t)(RAMFS_PAGE - in));
		void *page;

		if (btree_lookup(&ip->tree, pos / RAMFS_PAGE, &page) == 0)
			memcpy((u8 *)buf + done, (u8 *)page + in, n);
		else
			memset((u8 *)buf + done, 0, n);
		done += n;
	}
	return (s64)done;
}

/* The page at @idx, made (zeroed) when it is a hole; NULL when memory is out. */
static void *page_get(struct ramfs *fs, struct ramfs_inode *ip, u64 idx)
{
	void *page;

	if (btree_lookup(&ip->tree, idx, &page) == 0)
		return page;
	page = kzalloc(RAMFS_PAGE);
	if (!page)
		return NULL;
	if (btree_insert(&ip->tree, idx, page)) {
		kfree(page);
		return NULL;
	}
	fs->pages++;
	return page;
}

static s64 ramfs_write(struct vnode *vn, u64 off, const void *buf, size_t len)
{
	struct ramfs_inode *ip = inode_of(vn);
	size_t done = 0;

	if (off > RAMFS_MAX_SIZE || len > RAMFS_MAX_SIZE - off)
		return -EFBIG;
	while (done < len) {
		u64 pos = off + done;
		size_t in = pos % RAMFS_PAGE, n = MIN(len - done, (size_t)(RAMFS_PAGE - in));
		void *page = page_get(fs_of(vn), ip, pos / RAMFS_PAGE);

		if (!page)
			break;
		memcpy((u8 *)page + in, (const u8 *)buf + done, n);
		done += n;
	}
	if (done && off + done > ip->size)
		ip->size = off + done;
	return done || !len ? (s64)done : -ENOSPC;
}

static int ramfs_truncate(struct vnode *vn, u64 size)
{
	struct ramfs_inode *ip = inode_of(vn);
	struct ramfs *fs = fs_of(vn);
	u64 keep = (size + RAMFS_PAGE - 1) / RAMFS_PAGE, idx;
	void *page;

	if (size > RAMFS_MAX_SIZE)
		return -EFBIG;
	while (btree_lower_bound(&ip->tree, keep, &idx, &page) == 0) {
		btree_remove(&ip->tree, idx, NULL);
		kfree(page);
		fs->pages--;
	}
	if (size < ip->size && size % RAMFS_PAGE &&
	    btree_lookup(&ip->tree, size / RAMFS_PAGE, &page) == 0)
		memset((u8 *)page + size % RAMFS_PAGE, 0, RAMFS_PAGE - size % RAMFS_PAGE);
	ip->size = size;
	return 0;
}

static int ramfs_stat(struct vnode *vn, struct vfs_stat *st)
{
	struct ramfs_inode *ip = inode_of(vn);

	memset(st, 0, sizeof(*st));
	st->ino = ip->ino;
	st->type = ip->type;
	st->block_size = RAMFS_PAGE;
	if (ip->type == VNODE_FILE) {
		st->size = ip->size;
		st->nlink = 1;
		st->blocks = btree_count(&ip->tree);
	} else {
		st->size = btree_count(&ip->tree);
		st->nlink = 2;
	}
	return 0;
}

/* --------------------------------------------------------- the volume */

static int ramfs_mount(struct mount *mnt, struct vfs_child *root)
{
	struct ramfs *fs = kzalloc(sizeof(*fs));

	if (!fs)
		return -ENOSPC;
	fs->next_ino = 1;
	fs->root = inode_new(fs, VNODE_DIR, NULL);
	if (!fs->root) {
		kfree(fs);
		return -ENOSPC;
	}
	mnt->fs_priv = fs;
	child_of(fs->root, root);
	return 0;
}

/*
 * Free the whole tree, depth first without recursion: take a directory's
 * first entry away; descend into it when it is a directory, free it when
 * not; free a directory once it is empty and go back to its parent.
 */
static int ramfs_unmount(struct mount *mnt)
{
	struct ramfs *fs = mnt->fs_priv;
	struct ramfs_inode *cur = fs->root;

	while (cur) {
		struct ramfs_inode *up = cur->parent;
		void *val;
		u64 key;

		if (cur->type == VNODE_DIR && btree_lower_bound(&cur->tree, 0, &key, &val) == 0) {
			struct ramfs_dirent *de = val;
			struct ramfs_inode *child = de->inode;

			btree_remove(&cur->tree, key, NULL);
			kfree(de);
			if (child->type == VNODE_DIR)
				cur = child;
			else
				inode_free(fs, child);
			continue;
		}
		inode_free(fs, cur);
		cur = up;
	}
	kfree(fs);
	mnt->fs_priv = NULL;
	return 0;
}

static int ramfs_sync(struct mount *mnt)
{
	return 0; /* nothing is anywhere but here */
}

static int ramfs_statfs(struct mount *mnt, struct vfs_statfs *st)
{
	struct ramfs *fs = mnt->fs_priv;
	u64 free = VFS_UNLIMITED;
#ifdef NOS_KERNEL
	struct page_stats ps;

	page_alloc_stats(&ps);
	free = ps.free;
#endif
	st->block_size = RAMFS_PAGE;
	st->blocks_free = free;
	st->blocks_total = free == VFS_UNLIMITED ? VFS_UNLIMITED : fs->pages + free;
	/* an inode costs memory, not a slot: as many as the free pages allow */
	st->inodes_free = free;
	st->inodes_total = free == VFS_UNLIMITED ? VFS_UNLIMITED : fs->inodes + free;
	return 0;
}

static const struct vnode_ops ramfs_vnode_ops = {
	.lookup = ramfs_lookup,
	.create = ramfs_create,
	.mkdir = ramfs_mkdir,
	.read = ramfs_read,
	.write = ramfs_write,
	.truncate = ramfs_truncate,
	.unlink = ramfs_unlink,
	.rmdir = ramfs_rmdir,
	.readdir = ramfs_readdir,
	.stat = ramfs_stat,
	.rename = ramfs_rename,
};

static const struct fs_ops ramfs_fs_ops = {
	.vnode_ops = &ramfs_vnode_ops,
	.needs_device = false,
	.mount = ramfs_mount,
	.unmount = ramfs_unmount,
	.sync = ramfs_sync,
	.statfs = ramfs_statfs,
};

int ramfs_register(void)
{
	return vfs_register_fs("ramfs", &ramfs_fs_ops);
}
