/*
 * vfs_fs.h — what a filesystem implements to live under the VFS, and the
 * locks it can count on.  (Users of files see fs/vfs.h only.)
 *
 * A filesystem type is a name and a `struct fs_ops`, registered once with
 * vfs_register_fs().  Each mount of it is a `struct mount`; each file or
 * directory the VFS is working with is a `struct vnode`, which carries the
 * filesystem's inode number and, optionally, a private pointer.  Every
 * operation names its objects by vnode and by (name, length) — names are
 * bytes, never NUL-terminated strings — and a filesystem whose core works
 * by inode number (nanofs) glues in by reading vn->ino.
 *
 * What the VFS guarantees to a filesystem, so that it needs no locks of
 * its own:
 *  - Every call into a mount's fs_ops/vnode_ops (except mount, which comes
 *    first) is made with that mount's `lock` held, so the calls into one
 *    mount are serialised.  Calls into different mounts run in parallel.
 *  - Names are valid (vfs_name_check()) and are never "." or "..": the
 *    VFS resolves those itself, so a filesystem need not store them.
 *  - Types are checked: lookup/create/mkdir/unlink/rmdir/readdir/rename get
 *    directories; read/write/truncate get files; unlink is called only for
 *    a file and rmdir only for a directory (the filesystem still checks
 *    that a directory is empty: -ENOTEMPTY); create/mkdir only when the
 *    name is absent (a filesystem may still say -EEXIST).  Nothing that
 *    changes the volume is called on a read-only mount.
 *  - rename gets two directories of the same mount, a source that exists,
 *    and a target that is absent or a file the source (a file) replaces;
 *    a directory is never moved below itself.
 *  - Once a name has been removed (unlink, rmdir, or replaced by rename),
 *    the VFS never again passes the removed object's vnode to the
 *    filesystem, so its inode may be freed at once.
 *
 * What a filesystem promises: 0 or a negative errno from every call;
 * -ENOSPC (never a panic) when memory or space runs out, with the volume
 * unchanged or consistently part way (a write may be short); no call into
 * the VFS from inside an operation; no sleeping forever.
 *
 * Locks and their order (outermost first):
 *
 *   vfs_mount_lock   (mutex, fs/vfs_mount.c) the mount table, the type
 *                    registry, every mount's place in the tree; held by
 *                    mount, umount and rename (so a directory cannot move
 *                    while a rename checks where its target lies)
 *   mount.lock       (mutex, one per mount) the filesystem's whole state:
 *                    every directory, inode and block of it; and the
 *                    vnodes' `dead` marks.  Held across each operation,
 *                    one mount at a time — a walk or a copy between two
 *                    filesystems takes one, lets it go, then the other;
 *                    a rename stays inside one mount, so "two directory
 *                    locks" is one lock here.
 *   vfs_cache_lock   (spinlock, fs/vfs_vnode.c) the vnode cache: hash,
 *                    LRU, reference counts, each mount's `active` count and
 *                    each vnode's `mounted` link.  Held for a few lines;
 *                    never across a call into a filesystem.
 *
 * A per-mount lock serialises two sessions on one filesystem rather than
 * one directory; each operation holds it briefly (a large copy takes it
 * once per chunk), so sessions interleave.  A per-vnode lock is the
 * refinement if this ever shows in a profile.
 */
#ifndef NOS_FS_VFS_FS_H
#define NOS_FS_VFS_FS_H

#include "fs/vfs.h"
#include "kernel/mutex.h"
#include "lib/list.h"

struct mount;
struct vnode_ops;

/* What lookup/create/mkdir (and mount, for the root) tell the VFS. */
struct vfs_child {
	u64 ino;              /* unique within the mount while it exists */
	void *priv;           /* the filesystem's, kept in vnode.priv */
	enum vnode_type type;
};

/*
 * readdir callback: 0 to take the entry and go on, anything else to stop
 * *before* it — the cursor must then still point at it, so the next
 * readdir starts with this entry.
 */
typedef int (*vfs_filldir_fn)(void *arg, const char *name, size_t len, u64 ino,
			      enum vnode_type type);

/*
 * The per-object operations.  All are required; all run with
 * dir->mnt->lock (vn->mnt->lock) held, in task context, and may sleep.
 */
struct vnode_ops {
	/* 0 and *@out, or -ENOENT. */
	int (*lookup)(struct vnode *dir, const char *name, size_t len, struct vfs_child *out);
	/* Make an empty file / directory @name in @dir. */
	int (*create)(struct vnode *dir, const char *name, size_t len, struct vfs_child *out);
	int (*mkdir)(struct vnode *dir, const char *name, size_t len, struct vfs_child *out);
	/* Bytes read (0 at or past the end) / written (short only on -ENOSPC). */
	s64 (*read)(struct vnode *vn, u64 off, void *buf, size_t len);
	s64 (*write)(struct vnode *vn, u64 off, const void *buf, size_t len);
	/* Set the size; growing reads back as zeroes. */
	int (*truncate)(struct vnode *vn, u64 size);
	int (*unlink)(struct vnode *dir, const char *name, size_t len);
	int (*rmdir)(struct vnode *dir, const char *name, size_t len);
	/*
	 * Deliver @dir's entries from *@cursor (0: the start; otherwise a value
	 * this function stored) through @fn, advancing *@cursor past each one
	 * @fn took.  Entries that exist throughout a listing are delivered
	 * exactly once even when others are added or removed between calls.
	 * 0 at the end or when @fn stopped, else -errno.
	 */
	int (*readdir)(struct vnode *dir, u64 *cursor, vfs_filldir_fn fn, void *arg);
	int (*stat)(struct vnode *vn, struct vfs_stat *st);
	int (*rename)(struct vnode *sdir, const char *sname, size_t slen, struct vnode *ddir,
		      const char *dname, size_t dlen);
};

struct fs_ops {
	const struct vnode_ops *vnode_ops;
	bool needs_device; /* `mount TYPE DEVICE PATH` rather than `mount TYPE PATH` */
	/*
	 * Set up @mnt (mnt->device, mnt->flags are filled in; set
	 * mnt->fs_priv, and VFS_MOUNT_RO in mnt->flags for a medium that
	 * cannot be written) and describe the root in *@root.  Called without
	 * mnt->lock (nobody else can see the mount yet).
	 */
	int (*mount)(struct mount *mnt, struct vfs_child *root);
	/* Write back everything and free the mount's state; the mount is
	 * detached either way (an error is reported, -EIO). */
	int (*unmount)(struct mount *mnt);
	/* Make everything done so far durable. */
	int (*sync)(struct mount *mnt);
	int (*statfs)(struct mount *mnt, struct vfs_statfs *st);
	/*
	 * Optional, for `LABEL=<label>` in place of a device name: put the
	 * name of the one device holding a volume of this type labelled
	 * @label in @dev (@cap bytes).  0, -ENXIO (no such volume), -EEXIST
	 * (more than one: logged, naming two of them).  Reads devices that
	 * may belong to anyone, and changes nothing.
	 */
	int (*find_label)(const char *label, char *dev, size_t cap);
};

/*
 * Register filesystem type @name (at most VFS_TYPE_NAME_MAX - 1 bytes,
 * copied by pointer: it must live for the whole boot).  -EEXIST for a
 * name already taken, -EINVAL for missing ops, -ENOSPC when the table
 * (VFS_FS_TYPES_MAX) is full.
 */
#define VFS_FS_TYPES_MAX 8
int vfs_register_fs(const char *name, const struct fs_ops *ops);
/*
 * Registration hooks vfs_init() calls at boot, before any mount.  ramfs is
 * always there; nanofs's glue (fs/nanofs_vfs.c) defines
 * nanofs_vfs_register(), and until it is linked a weak empty one stands
 * in, so `mount nanofs` says the type is not available.
 */
int ramfs_register(void);
void nanofs_vfs_register(void);

/*
 * A mounted filesystem.  Legend: [I] set before the mount is visible,
 * then constant; [M] vfs_mount_lock; [L] this mount's lock; [C]
 * vfs_cache_lock.
 */
struct mount {
	struct mutex lock;              /* see above */
	const char *type;               /* [I] registered name */
	const struct fs_ops *ops;       /* [I] */
	const struct vnode_ops *vops;   /* [I] ops->vnode_ops */
	char device[VFS_DEVICE_MAX];    /* [I] "" without one */
	unsigned flags;                 /* [I] VFS_MOUNT_RO */
	void *fs_priv;                  /* [L] the filesystem's */
	char *path;                     /* [M] canonical mount point, kmalloc'd */
	struct vnode *root;             /* [I] referenced by the mount */
	struct vnode *covered;          /* [I] referenced; NULL for "/" */
	struct mount *parent;           /* [I] the mount @covered is on */
	unsigned children;              /* [M] mounts on this one's directories */
	unsigned active;                /* [C] references to this mount's vnodes */
	struct list_head link;          /* [M] in the mount table */
};

/*
 * A file or directory in use.  At most one vnode exists per (mount, ino)
 * at a time, found through the cache; unreferenced ones stay cached
 * (VFS_VNODE_CACHE of them) until evicted.  Legend as for struct mount.
 */
struct vnode {
	struct mount *mnt;              /* [I] */
	u64 ino;                        /* [I] */
	void *priv;                     /* [I] the filesystem's */
	enum vnode_type type;           /* [I] */
	bool dead;                      /* [L] its name was removed */
	bool hashed;                    /* [C] findable in the cache */
	unsigned refs;                  /* [C] */
	struct mount *mounted;          /* [C] mount covering this directory */
	struct list_head hash_link;     /* [C] */
	struct list_head lru_link;      /* [C] on the LRU while refs == 0 */
};

#endif
