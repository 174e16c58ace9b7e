/*
 * vfs_path.c — from a path to a vnode.
 *
 * Two steps.  First the path is put in canonical form without touching any
 * filesystem (vfs_path_canon): names checked, empty components and "."
 * dropped, ".." taking the previous component away ("/.." stays "/").
 * With no symbolic links and no hard links to directories, the name
 * before a ".." is the only way back up, so this is what a walk would
 * find, and it makes ".." across a mount point come out right without
 * any filesystem storing parent links.  Then the walk goes down from the
 * root vnode one name at a time: under the directory's mount lock it asks
 * the filesystem for the name and takes the child's vnode, lets the lock
 * go, and when a mount covers the child continues on that mount's root
 * (vnode_cross).  At most one mount lock is held at any moment.
 *
 * Operations on a last component (create, remove, rename, mount) use
 * vfs_walk_parent(), which stops one name short and hands back the name.
 */
#include "fs/vfs_priv.h"
#include "errno.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

int vfs_name_check(const char *name, size_t len)
{
	if (len == 0)
		return -EINVAL;
	if (len > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len; i++) {
		u8 c = (u8)name[i];

		if (c < 0x20 || c == 0x7f || c == '/')
			return -EINVAL;
	}
	return 0;
}

/* Drop the last component of the canonical path of length *@n. */
static void canon_pop(char *out, size_t *n)
{
	while (*n > 1 && out[*n - 1] != '/')
		(*n)--;
	if (*n > 1)
		(*n)--; /* the '/' before it, unless it is the root's */
	out[*n] = '\0';
}

static int canon_push(char *out, size_t *n, size_t cap, const char *name, size_t len)
{
	size_t need = (*n > 1 ? 1 : 0) + len;

	if (*n + need + 1 > cap)
		return -ENAMETOOLONG;
	if (*n > 1)
		out[(*n)++] = '/';
	memcpy(out + *n, name, len);
	*n += len;
	out[*n] = '\0';
	return 0;
}

int vfs_path_canon(const char *path, char *out, size_t cap, bool *trailing_slash)
{
	size_t n = 1, plen = strnlen(path, VFS_PATH_MAX);
	const char *p = path;
	bool trailing = false;

	if (plen >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	if (cap < 2)
		return -ENAMETOOLONG;
	out[0] = '/';
	out[1] = '\0';
	while (*p) {
		const char *name;
		size_t len;
		int rc;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		name = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - name);
		trailing = *p == '/';
		if (len == 1 && name[0] == '.')
			continue;
		if (len == 2 && name[0] == '.' && name[1] == '.') {
			canon_pop(out, &n);
			continue;
		}
		rc = vfs_name_check(name, len);
		if (!rc)
			rc = canon_push(out, &n, cap, name, len);
		if (rc)
			return rc;
	}
	if (trailing_slash)
		*trailing_slash = trailing && n > 1;
	return 0;
}

int vfs_lookup_locked(struct vnode *dir, const char *name, size_t len, struct vnode **out)
{
	struct vfs_child c;
	int rc;

	if (dir->dead)
		return -ENOENT;
	if (dir->type != VNODE_DIR)
		return -ENOTDIR;
	rc = dir->mnt->vops->lookup(dir, name, len, &c);
	if (rc)
		return rc;
	*out = vnode_get(dir->mnt, &c);
	return *out ? 0 : -ENOMEM;
}

/* One step down: @dir's reference is swapped for one on the child. */
static int walk_step(struct vnode **dir, const char *name, size_t len)
{
	struct mount *m = (*dir)->mnt;
	struct vnode *child;
	int rc;

	mutex_lock(&m->lock);
	rc = vfs_lookup_locked(*dir, name, len, &child);
	mutex_unlock(&m->lock);
	if (rc)
		return rc;
	vnode_put(*dir);
	*dir = vnode_cross(child);
	return 0;
}

/*
 * Walk the canonical @canon from "/" through its first @upto bytes
 * (whole components only).  A referenced vnode in *@out.
 */
static int walk_canon(const char *canon, size_t upto, struct vnode **out)
{
	struct vnode *vn = vfs_root_get();
	size_t i = 1;

	while (i < upto) {
		size_t j = i;
		int rc;

		while (j < upto && canon[j] != '/')
			j++;
		rc = walk_step(&vn, canon + i, j - i);
		if (rc) {
			vnode_put(vn);
			return rc;
		}
		i = j + 1;
	}
	*out = vn;
	return 0;
}

int vfs_walk(const char *path, struct vnode **out)
{
	bool trailing;
	char *canon = kmalloc(VFS_PATH_MAX);
	int rc;

	if (!canon)
		return -ENOMEM;
	rc = vfs_path_canon(path, canon, VFS_PATH_MAX, &trailing);
	if (!rc)
		rc = walk_canon(canon, strlen(canon), out);
	if (!rc && trailing && (*out)->type != VNODE_DIR) {
		vnode_put(*out);
		rc = -ENOTDIR;
	}
	kfree(canon);
	return rc;
}

int vfs_walk_parent(const char *path, struct vfs_nd *nd)
{
	size_t n, cut;
	int rc;

	memset(nd, 0, sizeof(*nd));
	nd->canon = kmalloc(VFS_PATH_MAX);
	if (!nd->canon)
		return -ENOMEM;
	rc = vfs_path_canon(path, nd->canon, VFS_PATH_MAX, &nd->trailing_slash);
	if (rc)
		goto out_free;
	n = strlen(nd->canon);
	cut = n;
	while (cut > 1 && nd->canon[cut - 1] != '/')
		cut--;
	nd->name = nd->canon + cut;
	nd->len = n - cut;
	/* the parent is everything before the last '/' ("/" for "/x") */
	rc = walk_canon(nd->canon, cut > 1 ? cut - 1 : 1, &nd->dir);
	if (rc)
		goto out_free;
	if (nd->len && nd->dir->type != VNODE_DIR) {
		vnode_put(nd->dir);
		rc = -ENOTDIR;
		goto out_free;
	}
	return 0;
out_free:
	kfree(nd->canon);
	nd->canon = NULL;
	return rc;
}

void vfs_nd_done(struct vfs_nd *nd)
{
	vnode_put(nd->dir);
	kfree(nd->canon);
	nd->dir = NULL;
	nd->canon = NULL;
}
