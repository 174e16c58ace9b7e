/*
 * nanofs.h — nanofs, the crash-safe on-disk filesystem: its public API.
 *
 * The core (fs/nanofs*.c) knows nothing of drivers, the block layer or the
 * VFS.  It reads and writes 4 KiB blocks through a struct nanofs_dev that
 * its user fills: the kernel's glue over block/blkdev.h (blk_read,
 * blk_write, blk_flush) and the host tool over an image file both plug in
 * here, and so do the unit tests' RAM disks.  The format and the argument
 * for its crash safety are in docs/nanofs.md.
 *
 * Files and directories are named by inode number; the root is
 * nanofs_root().  Every call returns 0 (or a byte count) or a negative
 * errno:
 *   -ENOENT        no such name / inode not in use
 *   -EEXIST        the name exists
 *   -ENOTDIR       a directory was needed
 *   -EISDIR        a file was needed
 *   -ENOTEMPTY     rmdir of a non-empty directory
 *   -ENAMETOOLONG  a name longer than NANOFS_NAME_MAX (255) bytes
 *   -EINVAL        bad argument: empty name, '/' or NUL in a name, "." or
 *                  "..", a directory moved below itself, offset too large
 *   -ENOSPC        no free block or inode (the volume stays consistent)
 *   -EROFS         the volume is mounted read-only (or turned so by an error)
 *   -EIO           a device error, or a checksum mismatch (the block and
 *                  inode are named in a log line; such bytes are never data)
 *   -ENOMEM        out of memory
 *
 * Durability: changes go into a running transaction that commits at
 * nanofs_sync(), at nanofs_unmount() and whenever the journal fills.  After
 * a power cut each operation is whole or absent; what a completed sync or
 * unmount covered is never lost.  A user that wants a bound on what a crash
 * can lose calls nanofs_sync() periodically (the kernel glue's job).
 *
 * Locking: one mutex per volume (fs->lock) is held for the whole of every
 * call; calls may sleep (device I/O), so task context only.  The readdir
 * callback runs with that mutex held and must not call back into nanofs.
 * A struct nanofs_dev's functions are called with the mutex held.
 */
#ifndef NOS_FS_NANOFS_H
#define NOS_FS_NANOFS_H

#include "compiler.h"
#include "types.h"
#include "fs/nanofs_disk.h"

/* The largest request the core sends to a device, in 4 KiB blocks. */
#define NANOFS_IO_BLOCKS 64u

/*
 * A block device as nanofs sees it.  Blocks are 4 KiB; the user converts to
 * sectors.  read/write move @n (1..NANOFS_IO_BLOCKS) consecutive blocks
 * starting at @blk and return 0 or -EIO; the buffer is the caller's and is
 * not kept.  flush returns once everything written before it is durable.
 * now (optional, NULL: times are 0) gives Unix seconds for timestamps.
 * The struct must outlive the mount.
 */
struct nanofs_dev {
	u64 blocks;
	int (*read)(void *ctx, u64 blk, u32 n, void *buf);
	int (*write)(void *ctx, u64 blk, u32 n, const void *buf);
	int (*flush)(void *ctx);
	s64 (*now)(void *ctx);
	void *ctx;
	bool read_only;
};

struct nanofs_format_opts {
	u8 uuid[16];            /* the caller's random bytes */
	u64 inodes;             /* 0: derived from the size (one per 16 KiB) */
	const char *label;      /* NULL or up to 31 bytes */
};

enum nanofs_type { NANOFS_FILE = NANOFS_T_FILE, NANOFS_DIR = NANOFS_T_DIR };

struct nanofs_stat {
	u32 ino;
	enum nanofs_type type;
	u64 size;               /* bytes */
	u64 blocks;             /* 4 KiB blocks owned (data and indirect) */
	u32 links;
	u32 parent;             /* directories: the containing directory (root: itself) */
	s64 mtime, ctime;
};

struct nanofs_statfs {
	u64 blocks;             /* volume size */
	u64 data_blocks, free_blocks;
	u64 inodes, free_inodes;
	u8 uuid[16];
	char label[32];
	bool read_only;
};

struct nanofs;

/*
 * Whether @block0, the first NANOFS_BLOCK bytes of a device of @dev_blocks
 * blocks, is a sound nanofs superblock whose label is @label (what finding
 * a volume by its label needs, without mounting it).
 */
bool nanofs_super_labelled(const void *block0, u64 dev_blocks, const char *label);

/*
 * Write an empty nanofs over all of @dev (up to NANOFS_MAX_BLOCKS blocks).
 * Returns 0, -EINVAL (device smaller than 1 MiB: logged), -EROFS, -EIO,
 * -ENOMEM.  Never writes past @dev->blocks.
 */
int nanofs_format(const struct nanofs_dev *dev, const struct nanofs_format_opts *opts);

/*
 * Mount the volume on @dev; read-only when @ro or @dev->read_only.  Checks
 * the superblock (each refusal is logged with its reason, see
 * docs/nanofs.md), replays the journal (in memory only when read-only) and
 * finishes interrupted truncates and unlinks.  On success *@out is the
 * volume.  Returns 0, -EINVAL (not a valid nanofs), -EIO, -ENOMEM.
 */
int nanofs_mount(const struct nanofs_dev *dev, bool ro, struct nanofs **out);
/* Commit what is pending and free the volume (even when the commit fails:
 * then -EIO, and the next mount sees the last committed state). */
int nanofs_unmount(struct nanofs *fs);
/* Commit the running transaction; durable when it returns 0. */
int nanofs_sync(struct nanofs *fs);

u32 nanofs_root(const struct nanofs *fs);
bool nanofs_read_only(const struct nanofs *fs);
/* Did a write or flush fail (the volume went read-only, unsaved changes lost)? */
bool nanofs_failed(const struct nanofs *fs);

int nanofs_lookup(struct nanofs *fs, u32 dir, const char *name, u32 len, u32 *ino);
/* Create an empty file or directory @name in @dir. */
int nanofs_create(struct nanofs *fs, u32 dir, const char *name, u32 len, enum nanofs_type type,
		  u32 *ino);
/* Read up to @len bytes at @off; returns the bytes read (0 at or past the end). */
s64 nanofs_read(struct nanofs *fs, u32 ino, u64 off, void *buf, u64 len);
/*
 * Write @len bytes at @off, growing the file (a gap reads as zeroes).
 * Returns @len, or fewer when the volume filled part way, or -errno when
 * nothing was written.  Up to 64 blocks at a time are atomic; a longer write
 * is a sequence of atomic steps in file order.
 */
s64 nanofs_write(struct nanofs *fs, u32 ino, u64 off, const void *buf, u64 len);
/* Set a file's size (growing adds zeroes); atomic. */
int nanofs_truncate(struct nanofs *fs, u32 ino, u64 size);
/* Remove file @name from @dir (-EISDIR for a directory); atomic. */
int nanofs_unlink(struct nanofs *fs, u32 dir, const char *name, u32 len);
/* Remove the empty directory @name from @dir; atomic. */
int nanofs_rmdir(struct nanofs *fs, u32 dir, const char *name, u32 len);
/*
 * Move @sdir/@sname to @ddir/@dname.  An existing file at the target is
 * replaced (atomically, the rename(2) way); an existing directory target,
 * or a file over a directory, is -EEXIST; moving a directory below itself
 * is -EINVAL.
 */
int nanofs_rename(struct nanofs *fs, u32 sdir, const char *sname, u32 slen, u32 ddir,
		  const char *dname, u32 dlen);

/*
 * Called for each entry; return 0 to go on, anything else to stop *before*
 * this entry (the cursor stays on it).  @name is not NUL-terminated.
 */
typedef int (*nanofs_filldir_fn)(void *arg, const char *name, u32 len, u32 ino,
				 enum nanofs_type type);
/*
 * List @dir from *@cursor (0 to start); the cursor advances past each entry
 * delivered.  Returns 0 at the end or when the callback stopped, -errno.
 */
int nanofs_readdir(struct nanofs *fs, u32 dir, u64 *cursor, nanofs_filldir_fn fn, void *arg);

int nanofs_stat(struct nanofs *fs, u32 ino, struct nanofs_stat *st);
int nanofs_statfs(struct nanofs *fs, struct nanofs_statfs *st);

/*
 * Check the volume on @dev without changing it (@repair false), calling
 * @report with one line per problem found (and a few "note:" lines that
 * are not problems).  @repair restores a damaged primary superblock from
 * the backup.  Returns the number of problems (0: clean), or -errno when
 * the check could not run (-ENOMEM).  Must not run on a mounted volume.
 */
int nanofs_fsck(const struct nanofs_dev *dev, void (*report)(void *arg, const char *msg),
		void *arg, bool repair);

#endif
