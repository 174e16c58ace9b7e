/*
 * vfs_priv.h — what the VFS's own files share: the vnode cache
 * (vfs_vnode.c), the path walk (vfs_path.c) and the mount table
 * (vfs_mount.c), used by the operations (vfs_ops.c).  Not for
 * filesystems (fs/vfs_fs.h) or users (fs/vfs.h).
 */
#ifndef NOS_FS_VFS_PRIV_H
#define NOS_FS_VFS_PRIV_H

#include "fs/vfs_fs.h"

#define VFS_VNODE_CACHE 64  /* unreferenced vnodes kept for reuse */
#define VFS_VNODE_HASH 128  /* buckets, a power of two */

/* ------------------------------------------------------------ vnodes */

/*
 * The vnode for @c on @mnt, referenced: the cached one or a new one.
 * Caller holds mnt->lock (so the inode cannot go away between the
 * filesystem naming it and the vnode existing).  NULL when out of memory.
 */
struct vnode *vnode_get(struct mount *mnt, const struct vfs_child *c);
void vnode_ref(struct vnode *vn);
/* Drop a reference; the last one caches (or, when dead, frees) the vnode. */
void vnode_put(struct vnode *vn);
/* Its name is gone: mark it dead, and take it out of the cache so a new
 * inode with the same number gets a new vnode.  Caller holds mnt->lock. */
void vnode_kill(struct vnode *vn);
/*
 * When a mount covers @vn, swap the reference on @vn for one on that
 * mount's root (repeatedly, for a mount on a mount root).  Returns the
 * vnode the caller now holds.
 */
struct vnode *vnode_cross(struct vnode *vn);
/* True when a mount covers @vn (read under vfs_cache_lock). */
bool vnode_is_mount_point(struct vnode *vn);
/* Covering link of a directory: set / clear under vfs_cache_lock. */
void vnode_set_mounted(struct vnode *vn, struct mount *m);
/*
 * Detach @m if nothing but @extra references (plus the mount's own) hold
 * its vnodes: clears m->covered->mounted in the same critical section,
 * so no walk can enter afterwards.  0 or -EBUSY.
 */
int vnode_detach_if_idle(struct mount *m, unsigned extra);
/* Free every cached vnode of @m (all unreferenced by now). */
void vnode_evict_mount(struct mount *m);

/* ----------------------------------------------------------- the walk */

/* The root vnode of "/", referenced. */
struct vnode *vfs_root_get(void);

/*
 * A path split for an operation on its last component.  @canon is the
 * canonical path (kmalloc'd, VFS_PATH_MAX); @dir the referenced,
 * mount-crossed parent directory; @name/@len the last component inside
 * @canon (len 0 when the path is "/").
 */
struct vfs_nd {
	char *canon;
	struct vnode *dir;
	const char *name;
	size_t len;
	bool trailing_slash;
};

/* Split and resolve @path's parent.  0 or -errno; vfs_nd_done() after 0. */
int vfs_walk_parent(const char *path, struct vfs_nd *nd);
void vfs_nd_done(struct vfs_nd *nd);
/* Resolve @path in full, crossing mounts: a referenced vnode in *@out. */
int vfs_walk(const char *path, struct vnode **out);
/*
 * Look @name up in @nd->dir (without crossing a mount on the result):
 * the referenced child in *@out.  Caller holds nd->dir->mnt->lock.
 */
int vfs_lookup_locked(struct vnode *dir, const char *name, size_t len, struct vnode **out);

/* ------------------------------------------------------- mount table */

void vfs_mount_table_lock(void);
void vfs_mount_table_unlock(void);
/* True when a mount point lies strictly below the canonical @path.
 * Caller holds the mount-table lock. */
bool vfs_mount_below(const char *canon);

/*
 * Split the `mount=` value "<disk>:<path>[:ro]" in @buf (@cap bytes):
 * pointers to the disk and the path inside it, and the ro flag.  0 or
 * -EINVAL for anything else.
 */
int vfs_parse_mount_param(const char *spec, char *buf, size_t cap, const char **disk,
			  const char **path, bool *ro);

static inline bool vfs_readonly(const struct mount *m)
{
	return m->flags & VFS_MOUNT_RO;
}

#endif
