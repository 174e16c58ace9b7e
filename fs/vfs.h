/*
 * vfs.h — the virtual filesystem, as its users see it: paths, files,
 * directories and mounts.  (Filesystems themselves implement
 * fs/vfs_fs.h; the VFS's own internals are in fs/vfs_priv.h.)
 *
 * One tree of names starts at "/".  A ramfs is mounted there by vfs_init()
 * at boot; any directory can carry another mount, whose root then stands
 * in for that directory until it is unmounted.
 *
 * Paths.  A path is a NUL-terminated string of at most VFS_PATH_MAX - 1
 * bytes (longer: -ENAMETOOLONG).  It is read from "/" whether or not it
 * starts with '/': there is no per-session working directory yet.  Its
 * components are separated by one or more '/'; a trailing '/' is allowed
 * and requires the object to be a directory (-ENOTDIR otherwise).  "." is
 * the directory itself; ".." its parent, "/.." is "/", and ".." of a
 * mounted filesystem's root is the parent of the directory the mount
 * covers.  There are no symbolic or hard links to directories, so ".." is
 * resolved lexically before the walk: "/a/b/../c" is "/a/c".  (A
 * consequence: a path that goes through a missing directory and back out
 * of it with ".." is accepted, where POSIX would say -ENOENT.)
 *
 * Names.  A component has 1..VFS_NAME_MAX bytes (longer: -ENAMETOOLONG),
 * none of them a control byte (< 0x20 or 0x7f: -EINVAL); '/' cannot occur
 * in one by construction, and neither can NUL (it ends the path).  Names
 * are passed to filesystems as bytes plus a length, never as C strings.
 *
 * Errors, all negative errnos: -ENOENT (no such name), -EEXIST,
 * -ENOTDIR (a component or the target is not a directory), -EISDIR (a
 * file operation on a directory), -ENOTEMPTY, -ENAMETOOLONG, -ENOSPC,
 * -EROFS (a change to a read-only mount), -EBUSY (unmounting a mount that
 * is in use or has a mount below it; removing or renaming a mount point,
 * or a directory with a mount point below it), -EXDEV (rename across
 * filesystems), -EINVAL (removing "/", renaming a directory into itself,
 * a bad name), -ENOMEM, -EINTR (Ctrl-C in vfs_remove_tree), -EIO.
 *
 * Open files.  vfs_open() returns a referenced vnode; I/O on it goes by
 * offset (there is no file position) and vfs_close() drops the reference.
 * A vnode whose name is removed while it is open becomes dead: further
 * I/O on it returns -ENOENT.  An open vnode keeps its mount busy.
 *
 * Every function here runs in task context and may sleep; none may be
 * called with a spinlock held.  Two sessions may work on one tree at
 * once: each operation is atomic with respect to the others on the same
 * filesystem (see fs/vfs_fs.h for the locks).
 */
#ifndef NOS_FS_VFS_H
#define NOS_FS_VFS_H

#include "compiler.h"
#include "types.h"

#define VFS_PATH_MAX 4096 /* bytes of a path, its NUL included */
#define VFS_NAME_MAX 255  /* bytes of one component */
#define VFS_TYPE_NAME_MAX 16
#define VFS_DEVICE_MAX 32

struct vnode;

enum vnode_type { VNODE_FILE = 1, VNODE_DIR = 2 };

/* vfs_mount() flags */
#define VFS_MOUNT_RO 0x1u

/* vfs_open() flags */
#define VFS_O_CREATE 0x1u /* create a file when the name is missing */
#define VFS_O_TRUNC 0x2u  /* cut an existing file to 0 bytes */
#define VFS_O_EXCL 0x4u   /* with CREATE: -EEXIST when the name exists */
#define VFS_O_WRITE 0x8u  /* will write: -EROFS on a read-only mount */

struct vfs_stat {
	u64 ino;              /* the filesystem's inode number */
	enum vnode_type type;
	u64 size;             /* bytes (a directory: its entries) */
	u32 nlink;
	u32 block_size;       /* the filesystem's allocation unit */
	u64 blocks;           /* blocks of block_size allocated to it */
};

#define VFS_UNLIMITED (~0ULL) /* statfs field with no fixed limit */

struct vfs_statfs {
	u32 block_size;
	u64 blocks_total, blocks_free; /* VFS_UNLIMITED when not fixed */
	u64 inodes_total, inodes_free;
	bool read_only;                /* the filesystem went read-only by itself (I/O error) */
};

/* One row of the mount table, as vfs_mount_info() copies it out. */
struct vfs_mount_info {
	char type[VFS_TYPE_NAME_MAX];
	char device[VFS_DEVICE_MAX]; /* "" when the filesystem has none */
	unsigned flags;              /* VFS_MOUNT_RO */
	int statfs_rc;               /* 0 when @st is valid */
	struct vfs_statfs st;
};

/*
 * Directory entry callback of vfs_readdir(): called once per entry, in
 * the filesystem's order, without any VFS lock held (it may print, sleep,
 * even call the VFS).  Return 0 to go on, anything else to stop: that
 * value is what vfs_readdir() returns.  @name is @len bytes, not
 * NUL-terminated, valid only during the call.
 */
typedef int (*vfs_dir_fn)(void *arg, const char *name, size_t len, enum vnode_type type);

/* Boot: the filesystem types built in, the root ramfs at "/", then the
 * `mount=` parameters.  Panics only when "/" cannot be mounted. */
void vfs_init(void);

/*
 * Mount a filesystem of @type (a registered name, see vfs_register_fs())
 * from @device (NULL or "" for a filesystem without one) on the directory
 * @path.  0, -ENODEV (no such type), -ENOENT/-ENOTDIR (no such
 * directory), -EBUSY (@path is already a mount point), -EINVAL (the type
 * needs a device and none was given), or the filesystem's own error.
 */
int vfs_mount(const char *type, const char *device, const char *path, unsigned flags);
/* 1 when filesystem type @type mounts from a device, 0 when not, -ENODEV
 * when no such type is registered. */
int vfs_fs_needs_device(const char *type);
/*
 * Sync and detach the filesystem mounted at @path.  -EINVAL when @path
 * is not a mount point, -EBUSY for "/", a mount with a mount below it, or
 * one with an open vnode or a walk in progress.
 */
int vfs_umount(const char *path);
/*
 * Row @idx (0, 1, ...) of the mount table in mount order, "/" first: its
 * path into @path (@cap bytes, truncated) and the rest into @info.
 * -ENOENT past the last row.
 */
int vfs_mount_info(unsigned idx, struct vfs_mount_info *info, char *path, size_t cap);

/* Files.  vfs_open() stores a referenced vnode in *@out. */
int vfs_open(const char *path, unsigned flags, struct vnode **out);
void vfs_close(struct vnode *vn);
/* Bytes read (0 at or past the end; short only at the end), or -errno. */
s64 vfs_read(struct vnode *vn, u64 off, void *buf, size_t len);
/* Bytes written (all of @len unless -ENOSPC cut it short), or -errno. */
s64 vfs_write(struct vnode *vn, u64 off, const void *buf, size_t len);
/* Write at the current end, atomically with respect to other appends. */
s64 vfs_append(struct vnode *vn, const void *buf, size_t len);
int vfs_truncate(struct vnode *vn, u64 size);
int vfs_fstat(struct vnode *vn, struct vfs_stat *st);
/* True when two open vnodes are the same file (same mount, same inode). */
bool vfs_same_file(const struct vnode *a, const struct vnode *b);

/* Names.  vfs_stat() accepts @st NULL: does @path exist? */
int vfs_stat(const char *path, struct vfs_stat *st);
int vfs_mkdir(const char *path);
/* Remove a file or an empty directory. */
int vfs_remove(const char *path);
/*
 * Remove @path and, when it is a directory, everything below it, depth
 * first.  Stops at the first error (what was removed stays removed):
 * -EBUSY at a mount point below, -EINTR on Ctrl-C.
 */
int vfs_remove_tree(const char *path);
/*
 * Rename @src to @dst within one filesystem (-EXDEV otherwise).  An
 * existing @dst is replaced when the kinds match (a file by a file, an
 * empty directory by a directory); a directory over a file is -ENOTDIR, a
 * file over a directory -EISDIR.  Renaming a name onto itself is 0.
 */
int vfs_rename(const char *src, const char *dst);
/* Call @fn for each entry of the directory @path (never "." or ".."). */
int vfs_readdir(const char *path, vfs_dir_fn fn, void *arg);
/* The filesystem that holds @path. */
int vfs_statfs(const char *path, struct vfs_statfs *st);
/* Sync every mounted filesystem; the first error, after trying them all. */
int vfs_sync_all(void);

/*
 * Lexical canonical form of @path into @out (@cap bytes): "/" followed by
 * the components, one '/' between them, "." and ".." resolved.  Sets
 * *@trailing_slash when the path ended in '/' after a name.  Validates
 * each name as described above.  0 or -ENAMETOOLONG / -EINVAL.
 */
int vfs_path_canon(const char *path, char *out, size_t cap, bool *trailing_slash);
/* 0 when the @len bytes at @name are a valid name, else -EINVAL / -ENAMETOOLONG. */
int vfs_name_check(const char *name, size_t len);

#endif
