/*
 * vfs_ops.c — the operations of fs/vfs.h: open files and I/O by offset,
 * and the operations on names (mkdir, remove, rename, readdir).
 *
 * Each operation walks to the vnode or to the parent directory (vfs_path.c)
 * without any lock, then takes that mount's lock for exactly the calls
 * into the filesystem and the checks that must agree with them: that the
 * vnode is not dead, the kinds the filesystem relies on (fs/vfs_fs.h),
 * read-only mounts, mount points.  A name that is a mount point is found
 * by looking it up in the directory *without* crossing, which gives the
 * covered directory: it cannot be removed or renamed (-EBUSY).
 *
 * Listings are delivered in batches: the filesystem fills a buffer under
 * the mount lock, and the caller's callback sees the batch after the lock
 * is gone, so it may print to a slow network session or call the VFS.
 */
#include "fs/vfs_priv.h"
#include "errno.h"
#include "kernel/sched.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define READDIR_BATCH 4096 /* bytes of names per batch */

/* Lock @vn's mount and check that @vn still names something. */
static int vn_lock(struct vnode *vn)
{
	mutex_lock(&vn->mnt->lock);
	if (vn->dead) {
		mutex_unlock(&vn->mnt->lock);
		return -ENOENT;
	}
	return 0;
}

static void vn_unlock(struct vnode *vn)
{
	mutex_unlock(&vn->mnt->lock);
}

/* Lock for a change of file data: a file, on a writable mount. */
static int vn_lock_write(struct vnode *vn)
{
	int rc = vn_lock(vn);

	if (rc)
		return rc;
	if (vn->type != VNODE_FILE)
		rc = -EISDIR;
	else if (vfs_readonly(vn->mnt))
		rc = -EROFS;
	if (rc)
		vn_unlock(vn);
	return rc;
}

/* ------------------------------------------------------------- files */

/* Find (or, with CREATE, make) @nd's name; a referenced vnode in *@out. */
static int open_name(struct vfs_nd *nd, unsigned flags, struct vnode **out)
{
	struct vnode *dir = nd->dir;
	struct vfs_child c;
	int rc;

	mutex_lock(&dir->mnt->lock);
	rc = vfs_lookup_locked(dir, nd->name, nd->len, out);
	if (rc == 0 && (flags & VFS_O_CREATE) && (flags & VFS_O_EXCL))
		rc = -EEXIST;
	if (rc == -ENOENT && (flags & VFS_O_CREATE)) {
		if (vfs_readonly(dir->mnt))
			rc = -EROFS;
		else if (nd->trailing_slash)
			rc = -EISDIR;
		else
			rc = dir->mnt->vops->create(dir, nd->name, nd->len, &c);
		if (rc == 0) {
			*out = vnode_get(dir->mnt, &c);
			rc = *out ? 0 : -ENOMEM;
		}
	} else if (rc == -EEXIST) {
		vnode_put(*out);
	}
	mutex_unlock(&dir->mnt->lock);
	return rc;
}

/* The checks of vfs_open() once the vnode is found. */
static int open_check(struct vnode *vn, unsigned flags, bool trailing_slash)
{
	bool writes = flags & (VFS_O_WRITE | VFS_O_TRUNC);

	if (trailing_slash && vn->type != VNODE_DIR)
		return -ENOTDIR;
	if (writes && vn->type == VNODE_DIR)
		return -EISDIR;
	if (writes && vfs_readonly(vn->mnt))
		return -EROFS;
	return 0;
}

int vfs_open(const char *path, unsigned flags, struct vnode **out)
{
	struct vnode *vn = NULL;
	struct vfs_nd nd;
	int rc = vfs_walk_parent(path, &nd);

	if (rc)
		return rc;
	if (nd.len == 0) {
		vn = nd.dir; /* "/" itself */
		vnode_ref(vn);
	} else {
		rc = open_name(&nd, flags, &vn);
		vn = rc ? NULL : vnode_cross(vn);
	}
	if (!rc)
		rc = open_check(vn, flags, nd.trailing_slash);
	if (!rc && (flags & VFS_O_TRUNC))
		rc = vfs_truncate(vn, 0);
	vfs_nd_done(&nd);
	if (rc) {
		vnode_put(vn);
		return rc;
	}
	*out = vn;
	return 0;
}

void vfs_close(struct vnode *vn)
{
	vnode_put(vn);
}

s64 vfs_read(struct vnode *vn, u64 off, void *buf, size_t len)
{
	s64 rc = vn_lock(vn);

	if (rc)
		return rc;
	rc = vn->type == VNODE_FILE ? vn->mnt->vops->read(vn, off, buf, len) : -EISDIR;
	vn_unlock(vn);
	return rc;
}

s64 vfs_write(struct vnode *vn, u64 off, const void *buf, size_t len)
{
	s64 rc = vn_lock_write(vn);

	if (rc)
		return rc;
	rc = vn->mnt->vops->write(vn, off, buf, len);
	vn_unlock(vn);
	return rc;
}

s64 vfs_append(struct vnode *vn, const void *buf, size_t len)
{
	struct vfs_stat st;
	s64 rc = vn_lock_write(vn);

	if (rc)
		return rc;
	rc = vn->mnt->vops->stat(vn, &st);
	if (!rc)
		rc = vn->mnt->vops->write(vn, st.size, buf, len);
	vn_unlock(vn);
	return rc;
}

int vfs_truncate(struct vnode *vn, u64 size)
{
	int rc = vn_lock_write(vn);

	if (rc)
		return rc;
	rc = vn->mnt->vops->truncate(vn, size);
	vn_unlock(vn);
	return rc;
}

int vfs_fstat(struct vnode *vn, struct vfs_stat *st)
{
	int rc = vn_lock(vn);

	if (rc)
		return rc;
	rc = vn->mnt->vops->stat(vn, st);
	vn_unlock(vn);
	return rc;
}

bool vfs_same_file(const struct vnode *a, const struct vnode *b)
{
	return a == b || (a->mnt == b->mnt && a->ino == b->ino);
}

int vfs_stat(const char *path, struct vfs_stat *st)
{
	struct vfs_stat unused;
	struct vnode *vn;
	int rc = vfs_walk(path, &vn);

	if (!st)
		st = &unused; /* only whether it exists */
	if (rc)
		return rc;
	rc = vfs_fstat(vn, st);
	vnode_put(vn);
	return rc;
}

int vfs_statfs(const char *path, struct vfs_statfs *st)
{
	struct vnode *vn;
	int rc = vfs_walk(path, &vn);

	if (rc)
		return rc;
	mutex_lock(&vn->mnt->lock);
	rc = vn->mnt->ops->statfs(vn->mnt, st);
	mutex_unlock(&vn->mnt->lock);
	vnode_put(vn);
	return rc;
}

/* ------------------------------------------------------------- names */

int vfs_mkdir(const char *path)
{
	struct vfs_nd nd;
	struct vnode *dir, *old;
	struct vfs_child c;
	int rc = vfs_walk_parent(path, &nd);

	if (rc)
		return rc;
	if (nd.len == 0) {
		vfs_nd_done(&nd);
		return -EEXIST; /* "/" */
	}
	dir = nd.dir;
	mutex_lock(&dir->mnt->lock);
	rc = vfs_lookup_locked(dir, nd.name, nd.len, &old);
	if (rc == 0) {
		vnode_put(old);
		rc = -EEXIST;
	} else if (rc == -ENOENT) {
		rc = vfs_readonly(dir->mnt) ? -EROFS : dir->mnt->vops->mkdir(dir, nd.name, nd.len, &c);
	}
	mutex_unlock(&dir->mnt->lock);
	vfs_nd_done(&nd);
	return rc;
}

/* Remove @child, the entry @nd names; caller holds the mount lock. */
static int remove_locked(struct vfs_nd *nd, struct vnode *child)
{
	struct vnode *dir = nd->dir;
	int rc;

	if (vnode_is_mount_point(child))
		return -EBUSY;
	if (nd->trailing_slash && child->type != VNODE_DIR)
		return -ENOTDIR;
	if (vfs_readonly(dir->mnt))
		return -EROFS;
	if (child->type == VNODE_DIR)
		rc = dir->mnt->vops->rmdir(dir, nd->name, nd->len);
	else
		rc = dir->mnt->vops->unlink(dir, nd->name, nd->len);
	if (!rc)
		vnode_kill(child);
	return rc;
}

int vfs_remove(const char *path)
{
	struct vfs_nd nd;
	struct vnode *child;
	int rc = vfs_walk_parent(path, &nd);

	if (rc)
		return rc;
	if (nd.len == 0) {
		vfs_nd_done(&nd);
		return -EINVAL; /* "/" */
	}
	mutex_lock(&nd.dir->mnt->lock);
	rc = vfs_lookup_locked(nd.dir, nd.name, nd.len, &child);
	if (!rc) {
		rc = remove_locked(&nd, child);
		vnode_put(child);
	}
	mutex_unlock(&nd.dir->mnt->lock);
	vfs_nd_done(&nd);
	return rc;
}

/* vfs_readdir() callback: keep the first entry's name (in a VFS_PATH_MAX buffer). */
static int first_entry(void *arg, const char *name, size_t len, enum vnode_type type)
{
	char *out = arg;

	memcpy(out, name, len);
	out[len] = '\0';
	return 1;
}

/* Append "/@name" to @path (VFS_PATH_MAX bytes). */
static int path_append(char *path, const char *name)
{
	size_t n = strlen(path), len = strlen(name);

	if (n + 1 + len + 1 > VFS_PATH_MAX)
		return -ENAMETOOLONG;
	path[n] = '/';
	memcpy(path + n + 1, name, len + 1);
	return 0;
}

static void path_cut(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash)
		*slash = '\0';
}

/*
 * Depth first with no recursion and O(path) memory: try to remove the
 * current path; a non-empty directory sends us to its first entry, a
 * success back up to the parent, until the starting path itself is gone.
 */
int vfs_remove_tree(const char *path)
{
	char *cur = kmalloc(VFS_PATH_MAX), *name = kmalloc(VFS_NAME_MAX + 1);
	size_t base;
	int rc = -ENOMEM;

	if (!cur || !name)
		goto out_free;
	rc = vfs_path_canon(path, cur, VFS_PATH_MAX, NULL);
	if (rc)
		goto out_free;
	rc = -EINVAL;
	if (strcmp(cur, "/") == 0)
		goto out_free;
	base = strlen(cur);
	for (;;) {
		if (task_interrupted()) {
			rc = -EINTR;
			break;
		}
		rc = vfs_remove(cur);
		if (rc == 0) {
			if (strlen(cur) == base)
				break;
			path_cut(cur);
			continue;
		}
		if (rc != -ENOTEMPTY)
			break;
		name[0] = '\0';
		rc = vfs_readdir(cur, first_entry, name);
		if (rc < 0)
			break;
		if (!name[0])
			continue; /* emptied meanwhile by someone else */
		rc = path_append(cur, name);
		if (rc)
			break;
	}
out_free:
	kfree(cur);
	kfree(name);
	return rc;
}

/* ------------------------------------------------------------ rename */

/* The kind checks between a source @sv and an existing target @dv. */
static int rename_target_ok(struct vnode *sv, struct vnode *dv)
{
	if (vnode_is_mount_point(dv))
		return -EBUSY;
	if (dv->type == VNODE_DIR)
		return sv->type == VNODE_DIR ? -EEXIST : -EISDIR;
	if (sv->type == VNODE_DIR)
		return -ENOTDIR;
	return 0;
}

/* Is the canonical @path @dir itself or below it? */
static bool path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Checks on the source @sv that need the mount table (held by the caller). */
static int rename_source_ok(struct vfs_nd *s, struct vfs_nd *d, struct vnode *sv)
{
	if (vnode_is_mount_point(sv))
		return -EBUSY;
	if ((s->trailing_slash || d->trailing_slash) && sv->type != VNODE_DIR)
		return -ENOTDIR;
	if (sv->type == VNODE_DIR && path_within(d->canon, s->canon))
		return -EINVAL; /* into itself */
	if (sv->type == VNODE_DIR && vfs_mount_below(s->canon))
		return -EBUSY;
	return 0;
}

/* Both paths resolved, one mount: do it under its lock. */
static int rename_locked(struct vfs_nd *s, struct vfs_nd *d)
{
	struct mount *m = s->dir->mnt;
	struct vnode *sv, *dv = NULL;
	int rc = vfs_lookup_locked(s->dir, s->name, s->len, &sv);

	if (rc)
		return rc;
	if (strcmp(s->canon, d->canon) == 0)
		goto out_put; /* onto itself: nothing to do */
	rc = vfs_readonly(m) ? -EROFS : rename_source_ok(s, d, sv);
	if (rc)
		goto out_put;
	rc = vfs_lookup_locked(d->dir, d->name, d->len, &dv);
	if (rc == 0)
		rc = rename_target_ok(sv, dv);
	else if (rc == -ENOENT)
		rc = 0;
	if (rc)
		goto out_put;
	rc = m->vops->rename(s->dir, s->name, s->len, d->dir, d->name, d->len);
	if (!rc && dv && dv != sv)
		vnode_kill(dv);
out_put:
	vnode_put(dv);
	vnode_put(sv);
	return rc;
}

int vfs_rename(const char *src, const char *dst)
{
	struct vfs_nd s, d;
	int rc;

	vfs_mount_table_lock();
	rc = vfs_walk_parent(src, &s);
	if (rc)
		goto out_unlock;
	rc = vfs_walk_parent(dst, &d);
	if (rc)
		goto out_src;
	if (s.len == 0 || d.len == 0)
		rc = -EBUSY; /* "/" is a mount point */
	else if (s.dir->mnt != d.dir->mnt)
		rc = -EXDEV;
	if (!rc) {
		mutex_lock(&s.dir->mnt->lock);
		rc = rename_locked(&s, &d);
		mutex_unlock(&s.dir->mnt->lock);
	}
	vfs_nd_done(&d);
out_src:
	vfs_nd_done(&s);
out_unlock:
	vfs_mount_table_unlock();
	return rc;
}

/* ----------------------------------------------------------- readdir */

struct rd_batch {
	u8 *buf;
	size_t used;
	bool full; /* stopped for room: more may follow */
};

/* Entries are packed as: type (1 byte), length (1 byte + 1: up to 256), name. */
static int rd_fill(void *arg, const char *name, size_t len, u64 ino, enum vnode_type type)
{
	struct rd_batch *b = arg;

	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0; /* a filesystem that stores them: the VFS makes its own */
	if (len == 0 || len > VFS_NAME_MAX)
		return 0;
	if (b->used + 2 + len > READDIR_BATCH) {
		b->full = true;
		return 1;
	}
	b->buf[b->used] = (u8)type;
	b->buf[b->used + 1] = (u8)(len - 1);
	memcpy(b->buf + b->used + 2, name, len);
	b->used += 2 + len;
	return 0;
}

static int rd_deliver(const struct rd_batch *b, vfs_dir_fn fn, void *arg)
{
	for (size_t i = 0; i < b->used;) {
		size_t len = (size_t)b->buf[i + 1] + 1;
		int rc = fn(arg, (const char *)b->buf + i + 2, len, (enum vnode_type)b->buf[i]);

		if (rc)
			return rc;
		i += 2 + len;
	}
	return 0;
}

int vfs_readdir(const char *path, vfs_dir_fn fn, void *arg)
{
	struct rd_batch b = { .buf = kmalloc(READDIR_BATCH) };
	struct vnode *dir;
	u64 cursor = 0;
	int rc;

	if (!b.buf)
		return -ENOMEM;
	rc = vfs_walk(path, &dir);
	if (rc)
		goto out_free;
	do {
		b.used = 0;
		b.full = false;
		rc = vn_lock(dir);
		if (rc)
			break;
		rc = dir->type == VNODE_DIR ? dir->mnt->vops->readdir(dir, &cursor, rd_fill, &b)
					    : -ENOTDIR;
		vn_unlock(dir);
		if (!rc)
			rc = rd_deliver(&b, fn, arg);
	} while (!rc && b.full);
	vnode_put(dir);
out_free:
	kfree(b.buf);
	return rc;
}
