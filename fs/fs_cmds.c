/*
 * fs_cmds.c — the shell's filesystem commands: mount, umount, mounts, ls,
 * cat, write, append, mkdir, touch, del, stat, mv, cp, crc32, sync,
 * fsbench.  (`format nanofs` and `fsck` come with nanofs's glue.)
 *
 * They use only fs/vfs.h, so they work the same on every filesystem and
 * across mounts.  Every error is one line, "<cmd>: <path>: ENAME (what it
 * means)", and the shell goes on.  Data moves in CHUNK-sized pieces, so
 * cat, cp, crc32 and fsbench stream files of any size in bounded memory,
 * stop on Ctrl-C between chunks and stop when the session's output fails.
 */
#include "fs/vfs.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/time.h"
#include "lib/crc32.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define CHUNK (64 * 1024)
#define BENCH_DEFAULT_MIB 16
#define BENCH_MAX_MIB 1024
#define BENCH_FILES 500

static const char *fs_err_text(int rc)
{
	switch (rc) {
	case -ENOENT: return "no such file or directory";
	case -EEXIST: return "already exists";
	case -ENOTDIR: return "not a directory";
	case -EISDIR: return "is a directory";
	case -ENOTEMPTY: return "directory not empty";
	case -ENAMETOOLONG: return "name or path too long";
	case -ENOSPC: return "no space left";
	case -EROFS: return "read-only filesystem";
	case -EBUSY: return "busy: a mount point, or in use";
	case -EXDEV: return "on another filesystem";
	case -EINVAL: return "invalid name or operation";
	case -ENODEV: return "no such filesystem type";
	case -ENXIO: return "no such disk";
	case -ENOMEM: return "out of memory";
	case -EIO: return "I/O error";
	case -EFBIG: return "file too large";
	case -EINTR: return "interrupted";
	default: return "failed";
	}
}

/*
 * Print "<cmd>: <what>: ENAME (text)" and return an error that will not
 * make the shell add the usage line (which would not help here).
 */
static int fs_err(struct sh *sh, const char *what, int rc)
{
	sh_printf(sh, "%s: %s: %s (%s)\n", sh->cmd->name, what, errno_name(rc), fs_err_text(rc));
	return rc == -EINVAL ? -EPERM : rc;
}

/* The words argv[from..argc-1] joined by single spaces, kmalloc'd. */
static char *join_words(int argc, char **argv, int from, size_t *len)
{
	size_t n = 0;
	char *buf;

	for (int i = from; i < argc; i++)
		n += strlen(argv[i]) + 1;
	buf = kmalloc(n + 1);
	if (!buf)
		return NULL;
	buf[0] = '\0';
	for (int i = from; i < argc; i++) {
		if (i > from)
			strlcat(buf, " ", n + 1);
		strlcat(buf, argv[i], n + 1);
	}
	*len = strlen(buf);
	return buf;
}

/* ------------------------------------------------------------ mounts */

static int cmd_mount(struct sh *sh, int argc, char **argv)
{
	const char *type = argv[1], *dev = NULL, *path;
	int need = vfs_fs_needs_device(type), rc;
	unsigned flags = 0;
	int next;

	if (need < 0) {
		sh_printf(sh, "mount: filesystem type '%s' is not available\n", type);
		return need;
	}
	next = 2;
	if (need)
		dev = argc > next ? argv[next++] : NULL;
	if (argc <= next)
		return -EINVAL;
	path = argv[next++];
	if (argc > next && strcmp(argv[next], "ro") == 0)
		flags |= VFS_MOUNT_RO, next++;
	if (argc != next || (dev != NULL) != (need == 1))
		return -EINVAL;
	rc = vfs_mount(type, dev, path, flags);
	if (rc)
		return fs_err(sh, path, rc);
	sh_printf(sh, "mounted %s%s%s on %s%s\n", type, dev ? " " : "", dev ? dev : "", path,
		  flags & VFS_MOUNT_RO ? " (read-only)" : "");
	return 0;
}
SHELL_CMD("mount", "ramfs <path> [ro] | nanofs <disk> <path> [ro]",
	  "mount a filesystem on a directory", 2, 4, cmd_mount);

static int cmd_umount(struct sh *sh, int argc, char **argv)
{
	int rc = vfs_umount(argv[1]);

	if (rc == -EINVAL) {
		sh_printf(sh, "umount: %s: not a mount point (EINVAL)\n", argv[1]);
		return -EPERM;
	}
	if (rc)
		return fs_err(sh, argv[1], rc);
	sh_printf(sh, "unmounted %s\n", argv[1]);
	return 0;
}
SHELL_CMD("umount", "<path>", "sync and unmount the filesystem mounted at a path", 1, 1,
	  cmd_umount);

/* "123" or "-" for a count the filesystem does not bound. */
static void count_str(char *out, size_t cap, u64 v)
{
	if (v == VFS_UNLIMITED)
		strlcpy(out, "-", cap);
	else
		snprintf(out, cap, "%llu", (unsigned long long)v);
}

static void mount_row(struct sh *sh, const struct vfs_mount_info *in, const char *path)
{
	const struct vfs_statfs *st = &in->st;
	char bu[24], bf[24], iu[24], ifr[24];

	if (in->statfs_rc) {
		sh_printf(sh, "%-8s %-8s %s  statfs failed: %s  %s\n", in->type,
			  in->device[0] ? in->device : "-", in->flags & VFS_MOUNT_RO ? "ro" : "rw",
			  errno_name(in->statfs_rc), path);
		return;
	}
	count_str(bu, sizeof(bu), st->blocks_total == VFS_UNLIMITED || st->blocks_free ==
		  VFS_UNLIMITED ? VFS_UNLIMITED : st->blocks_total - st->blocks_free);
	count_str(bf, sizeof(bf), st->blocks_free);
	count_str(iu, sizeof(iu), st->inodes_total == VFS_UNLIMITED || st->inodes_free ==
		  VFS_UNLIMITED ? VFS_UNLIMITED : st->inodes_total - st->inodes_free);
	count_str(ifr, sizeof(ifr), st->inodes_free);
	sh_printf(sh, "%-8s %-8s %s  blocks %s used %s free (%u B)  inodes %s used %s free  %s\n",
		  in->type, in->device[0] ? in->device : "-",
		  in->flags & VFS_MOUNT_RO || st->read_only ? "ro" : "rw", bu, bf, st->block_size, iu,
		  ifr, path);
}

static int cmd_mounts(struct sh *sh, int argc, char **argv)
{
	struct vfs_mount_info info;
	char *path = kmalloc(VFS_PATH_MAX);

	if (!path)
		return -ENOMEM;
	for (unsigned i = 0; vfs_mount_info(i, &info, path, VFS_PATH_MAX) == 0; i++) {
		mount_row(sh, &info, path);
		if (sh_output_error(sh))
			break;
	}
	kfree(path);
	return sh_output_error(sh);
}
SHELL_CMD("mounts", "", "list mounts: type, device, rw/ro, blocks and inodes, path", 0, 0,
	  cmd_mounts);

static int cmd_sync(struct sh *sh, int argc, char **argv)
{
	int rc = vfs_sync_all();

	if (rc)
		return fs_err(sh, "sync", rc);
	sh_printf(sh, "synced\n");
	return 0;
}
SHELL_CMD("sync", "", "write every filesystem's changes to its disk", 0, 0, cmd_sync);

/* ---------------------------------------------------------------- ls */

struct ls_ctx {
	struct sh *sh;
	bool longfmt;
	char *path;      /* the directory, then "/name" appended per entry */
	size_t dirlen;
	unsigned count;
};

static void ls_line(struct sh *sh, bool longfmt, const char *name, size_t len,
		    enum vnode_type type, const struct vfs_stat *st)
{
	if (longfmt && st)
		sh_printf(sh, "%c %12llu  %.*s%s\n", type == VNODE_DIR ? 'd' : '-',
			  (unsigned long long)st->size, (int)len, name,
			  type == VNODE_DIR ? "/" : "");
	else if (longfmt)
		sh_printf(sh, "%c %12s  %.*s%s\n", type == VNODE_DIR ? 'd' : '-', "?", (int)len,
			  name, type == VNODE_DIR ? "/" : "");
	else
		sh_printf(sh, "%.*s%s\n", (int)len, name, type == VNODE_DIR ? "/" : "");
}

static int ls_entry(void *arg, const char *name, size_t len, enum vnode_type type)
{
	struct ls_ctx *c = arg;
	struct vfs_stat st;
	bool have = false;

	if (task_interrupted())
		return -EINTR;
	if (c->longfmt && c->dirlen + 1 + len < VFS_PATH_MAX) {
		c->path[c->dirlen] = '/';
		memcpy(c->path + c->dirlen + 1, name, len);
		c->path[c->dirlen + 1 + len] = '\0';
		have = vfs_stat(c->path, &st) == 0;
		c->path[c->dirlen] = '\0';
	}
	ls_line(c->sh, c->longfmt, name, len, type, have ? &st : NULL);
	c->count++;
	return sh_output_error(c->sh);
}

static int cmd_ls(struct sh *sh, int argc, char **argv)
{
	struct ls_ctx c = { .sh = sh };
	const char *path = "/";
	struct vfs_stat st;
	int rc;

	bool have_path = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-l") == 0 && !c.longfmt && !have_path) {
			c.longfmt = true;
		} else if (!have_path) {
			path = argv[i];
			have_path = true;
		} else {
			return -EINVAL;
		}
	}
	rc = vfs_stat(path, &st);
	if (rc)
		return fs_err(sh, path, rc);
	if (st.type != VNODE_DIR) {
		ls_line(sh, c.longfmt, path, strlen(path), st.type, &st);
		return 0;
	}
	c.path = kmalloc(VFS_PATH_MAX);
	if (!c.path)
		return -ENOMEM;
	rc = vfs_path_canon(path, c.path, VFS_PATH_MAX, NULL);
	c.dirlen = strcmp(c.path, "/") == 0 ? 0 : strlen(c.path);
	if (!rc)
		rc = vfs_readdir(path, ls_entry, &c);
	kfree(c.path);
	if (rc == -EINTR || rc == sh_output_error(sh))
		return rc;
	return rc ? fs_err(sh, path, rc) : 0;
}
SHELL_CMD("ls", "[-l] [path]", "list a directory (-l: kind and size)", 0, 2, cmd_ls);

/* ------------------------------------------------------ reading files */

/*
 * Feed the file at @path to @fn chunk by chunk.  Returns 0, an error
 * already printed (open/read), -EINTR, or @fn's error.
 */
static int stream_file(struct sh *sh, const char *path,
		       int (*fn)(void *arg, const u8 *buf, size_t len), void *arg, u64 *total)
{
	struct vnode *vn;
	u8 *buf;
	u64 off = 0;
	int rc = vfs_open(path, 0, &vn);

	if (rc)
		return fs_err(sh, path, rc);
	buf = kmalloc(CHUNK);
	if (!buf) {
		vfs_close(vn);
		return -ENOMEM;
	}
	for (;;) {
		s64 n = vfs_read(vn, off, buf, CHUNK);

		if (n < 0) {
			rc = fs_err(sh, path, (int)n);
			break;
		}
		if (n == 0)
			break;
		off += (u64)n;
		rc = fn(arg, buf, (size_t)n);
		if (!rc && task_interrupted())
			rc = -EINTR;
		if (rc)
			break;
	}
	kfree(buf);
	vfs_close(vn);
	if (total)
		*total = off;
	return rc;
}

struct cat_ctx {
	struct sh *sh;
	u8 last;
};

static int cat_chunk(void *arg, const u8 *buf, size_t len)
{
	struct cat_ctx *c = arg;

	c->last = buf[len - 1];
	return sh_write(c->sh, (const char *)buf, len);
}

static int cmd_cat(struct sh *sh, int argc, char **argv)
{
	struct cat_ctx c = { .sh = sh, .last = '\n' };
	int rc = stream_file(sh, argv[1], cat_chunk, &c, NULL);

	if (c.last != '\n' && !sh_output_error(sh))
		sh_write(sh, "\n", 1); /* the prompt starts on a line of its own */
	return rc;
}
SHELL_CMD("cat", "<path>", "print a file", 1, 1, cmd_cat);

static int crc_chunk(void *arg, const u8 *buf, size_t len)
{
	u32 *crc = arg;

	*crc = crc32_update(*crc, buf, len);
	return 0;
}

static int cmd_crc32(struct sh *sh, int argc, char **argv)
{
	u32 crc = 0;
	u64 total = 0;
	int rc = stream_file(sh, argv[1], crc_chunk, &crc, &total);

	if (rc)
		return rc;
	sh_printf(sh, "%08x  %s (%llu bytes)\n", crc, argv[1], (unsigned long long)total);
	return 0;
}
SHELL_CMD("crc32", "<path>", "CRC-32 (zlib's) of a file", 1, 1, cmd_crc32);

static const char *type_word(enum vnode_type t)
{
	return t == VNODE_DIR ? "directory" : "file";
}

static int cmd_stat(struct sh *sh, int argc, char **argv)
{
	struct vfs_stat st;
	int rc = vfs_stat(argv[1], &st);

	if (rc)
		return fs_err(sh, argv[1], rc);
	sh_printf(sh, "%s: %s\n", argv[1], type_word(st.type));
	sh_printf(sh, "  size %llu %s\n", (unsigned long long)st.size,
		  st.type == VNODE_DIR ? "entries" : "bytes");
	sh_printf(sh, "  inode %llu, links %u\n", (unsigned long long)st.ino, st.nlink);
	sh_printf(sh, "  blocks %llu of %u bytes\n", (unsigned long long)st.blocks, st.block_size);
	return 0;
}
SHELL_CMD("stat", "<path>", "kind, size, inode and blocks of a file or directory", 1, 1,
	  cmd_stat);

/* ------------------------------------------------------ writing files */

/* Write @len bytes of @text to @path: appended, or as the file's whole
 * content (made if missing, cut to the text otherwise).  0 or -errno. */
static int put_in_place(const char *path, const char *text, size_t len, bool append)
{
	unsigned flags = VFS_O_CREATE | VFS_O_WRITE | (append ? 0 : VFS_O_TRUNC);
	struct vnode *vn;
	s64 n;
	int rc = vfs_open(path, flags, &vn);

	if (rc)
		return rc;
	n = append ? vfs_append(vn, text, len) : vfs_write(vn, 0, text, len);
	vfs_close(vn);
	if (n < 0)
		return (int)n;
	return (size_t)n < len ? -ENOSPC : 0;
}

/*
 * Replace @path's content atomically: the text goes to a new file beside it,
 * which is then renamed over @path.  On a crash-safe filesystem a power cut
 * leaves the old content or the new, never an empty or half-written file
 * (truncating and writing in place could be cut between the two).  A path
 * with no room for the temporary name's suffix is written in place.
 */
static int put_replace(const char *path, const char *text, size_t len)
{
	static const char suffix[] = ".~write";
	size_t plen = strlen(path), base = plen;
	struct vfs_stat st;
	char *tmp;
	int rc;

	while (base && path[base - 1] != '/')
		base--;
	if (!plen || path[plen - 1] == '/' || plen - base + sizeof(suffix) - 1 > VFS_NAME_MAX ||
	    plen + sizeof(suffix) > VFS_PATH_MAX)
		return put_in_place(path, text, len, false);
	if (vfs_stat(path, &st) == 0 && st.type == VNODE_DIR)
		return -EISDIR;
	tmp = kmalloc(plen + sizeof(suffix));
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, suffix, sizeof(suffix));
	rc = put_in_place(tmp, text, len, false);
	if (!rc)
		rc = vfs_rename(tmp, path);
	if (rc)
		vfs_remove(tmp); /* nothing to undo when it was never made */
	kfree(tmp);
	return rc;
}

static int put_text(struct sh *sh, int argc, char **argv, bool append)
{
	size_t len;
	char *text = join_words(argc, argv, 2, &len);
	int rc;

	if (!text)
		return -ENOMEM;
	rc = append ? put_in_place(argv[1], text, len, true) : put_replace(argv[1], text, len);
	kfree(text);
	return rc ? fs_err(sh, argv[1], rc) : 0;
}

static int cmd_write(struct sh *sh, int argc, char **argv)
{
	return put_text(sh, argc, argv, false);
}
SHELL_CMD("write", "<path> <text>", "create or replace a file with the text",
	  2, SHELL_ARGV_MAX - 1, cmd_write);

static int cmd_append(struct sh *sh, int argc, char **argv)
{
	return put_text(sh, argc, argv, true);
}
SHELL_CMD("append", "<path> <text>", "add the text at the end of a file (made if missing)",
	  2, SHELL_ARGV_MAX - 1, cmd_append);

static int cmd_touch(struct sh *sh, int argc, char **argv)
{
	struct vnode *vn;
	int rc = vfs_open(argv[1], VFS_O_CREATE, &vn);

	if (rc)
		return fs_err(sh, argv[1], rc);
	vfs_close(vn);
	return 0;
}
SHELL_CMD("touch", "<path>", "create an empty file when there is none", 1, 1, cmd_touch);

static int cmd_mkdir(struct sh *sh, int argc, char **argv)
{
	int rc = vfs_mkdir(argv[1]);

	return rc ? fs_err(sh, argv[1], rc) : 0;
}
SHELL_CMD("mkdir", "<path>", "make a directory", 1, 1, cmd_mkdir);

static int cmd_del(struct sh *sh, int argc, char **argv)
{
	int rc = vfs_remove_tree(argv[1]);

	if (rc == -EINTR)
		return rc;
	return rc ? fs_err(sh, argv[1], rc) : 0;
}
SHELL_CMD("del", "<path>", "delete a file, or a directory and everything in it", 1, 1, cmd_del);

/* @dir + "/" + the last component of @src, into a kmalloc'd path. */
static char *path_into(const char *dir, const char *src)
{
	char *canon = kmalloc(VFS_PATH_MAX), *out = kmalloc(VFS_PATH_MAX);
	const char *base;

	if (!canon || !out || vfs_path_canon(src, canon, VFS_PATH_MAX, NULL))
		goto fail;
	base = strrchr(canon, '/') + 1;
	if (!*base || snprintf(out, VFS_PATH_MAX, "%s/%s", dir, base) >= VFS_PATH_MAX)
		goto fail;
	kfree(canon);
	return out;
fail:
	kfree(canon);
	kfree(out);
	return NULL;
}

/* Is @dst an existing directory other than @src itself?  Then it is the
 * place to put @src in, as mv and cp do. */
static bool is_other_dir(const char *src, const char *dst)
{
	struct vnode *s, *d;
	bool other;

	if (vfs_open(dst, 0, &d))
		return false;
	other = false;
	if (vfs_open(src, 0, &s) == 0) {
		struct vfs_stat st;

		other = !vfs_same_file(s, d) && vfs_fstat(d, &st) == 0 && st.type == VNODE_DIR;
		vfs_close(s);
	}
	vfs_close(d);
	return other;
}

/* Does the canonical @dst lie inside the canonical @src? */
static bool moves_into_itself(const char *src, const char *dst)
{
	char *a = kmalloc(VFS_PATH_MAX), *b = kmalloc(VFS_PATH_MAX);
	bool inside = false;

	if (a && b && !vfs_path_canon(src, a, VFS_PATH_MAX, NULL) &&
	    !vfs_path_canon(dst, b, VFS_PATH_MAX, NULL)) {
		size_t n = strlen(a);

		inside = strncmp(a, b, n) == 0 && b[n] == '/';
	}
	kfree(a);
	kfree(b);
	return inside;
}

static int cmd_mv(struct sh *sh, int argc, char **argv)
{
	char *into = is_other_dir(argv[1], argv[2]) ? path_into(argv[2], argv[1]) : NULL;
	const char *dst = into ? into : argv[2];
	int rc = vfs_rename(argv[1], dst);

	if (rc == -EXDEV)
		sh_printf(sh, "mv: %s and %s are on different filesystems (EXDEV); use cp and del\n",
			  argv[1], dst);
	else if (rc == -EINVAL && moves_into_itself(argv[1], dst))
		sh_printf(sh, "mv: cannot move %s into itself (EINVAL)\n", argv[1]);
	else if (rc)
		fs_err(sh, rc == -ENOENT ? argv[1] : dst, rc);
	kfree(into);
	return rc == -EINVAL ? -EPERM : rc;
}
SHELL_CMD("mv", "<src> <dst>", "rename or move within one filesystem", 2, 2, cmd_mv);

/* Copy @s into @d (open, already truncated) in chunks. */
static int copy_data(struct sh *sh, struct vnode *s, struct vnode *d, const char *src,
		     const char *dst)
{
	u8 *buf = kmalloc(CHUNK);
	u64 off = 0;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		s64 n = vfs_read(s, off, buf, CHUNK), w;

		if (n <= 0) {
			rc = n < 0 ? fs_err(sh, src, (int)n) : 0;
			break;
		}
		w = vfs_write(d, off, buf, (size_t)n);
		if (w != n) {
			rc = fs_err(sh, dst, w < 0 ? (int)w : -ENOSPC);
			break;
		}
		off += (u64)n;
		if (task_interrupted()) {
			rc = -EINTR;
			break;
		}
	}
	kfree(buf);
	return rc;
}

/*
 * A copy cut short (Ctrl-C, a full disk, a read error) is removed, as wget
 * removes a partial download: a prefix of the source under the target's
 * name would pass for the file.  The target was truncated before the copy
 * began, so an old file of that name is lost either way.  The error already
 * printed says what happened; only a failed removal adds a line.
 */
static void drop_partial(struct sh *sh, const char *dst)
{
	int rc = vfs_remove(dst);

	if (rc)
		fs_err(sh, dst, rc);
}

static int copy_file(struct sh *sh, const char *src, const char *dst)
{
	struct vnode *s, *d;
	struct vfs_stat st;
	bool partial = false;
	int rc = vfs_open(src, 0, &s);

	if (rc)
		return fs_err(sh, src, rc);
	rc = vfs_fstat(s, &st);
	if (!rc && st.type == VNODE_DIR)
		rc = -EISDIR;
	if (rc) {
		vfs_close(s);
		return fs_err(sh, src, rc);
	}
	/* not truncated yet: the target may be the source itself */
	rc = vfs_open(dst, VFS_O_CREATE | VFS_O_WRITE, &d);
	if (rc) {
		vfs_close(s);
		return fs_err(sh, dst, rc);
	}
	if (vfs_same_file(s, d)) {
		sh_printf(sh, "cp: %s and %s are the same file\n", src, dst);
		rc = -EPERM;
	} else if ((rc = vfs_truncate(d, 0))) {
		rc = fs_err(sh, dst, rc);
	} else {
		rc = copy_data(sh, s, d, src, dst);
		partial = rc != 0;
	}
	vfs_close(d);
	vfs_close(s);
	if (partial)
		drop_partial(sh, dst);
	return rc;
}

static int cmd_cp(struct sh *sh, int argc, char **argv)
{
	char *into = is_other_dir(argv[1], argv[2]) ? path_into(argv[2], argv[1]) : NULL;
	int rc = copy_file(sh, argv[1], into ? into : argv[2]);

	kfree(into);
	return rc;
}
SHELL_CMD("cp", "<src> <dst>", "copy a file, also across filesystems", 2, 2, cmd_cp);

/* ----------------------------------------------------------- fsbench */

static void rate_line(struct sh *sh, const char *what, u64 mib, u64 ns)
{
	u64 ms = ns / 1000000, hund = ns ? mib * 100 * 1000000000ULL / ns : 0;

	sh_printf(sh, "%s: %llu MiB in %llu ms = %llu.%02llu MiB/s\n", what,
		  (unsigned long long)mib, (unsigned long long)ms,
		  (unsigned long long)(hund / 100), (unsigned long long)(hund % 100));
}

/* Write then read back @mib MiB of @path; reports, never judges. */
static int bench_stream(struct sh *sh, const char *path, u64 mib, u8 *buf)
{
	struct vnode *vn;
	u64 t0, bytes = mib << 20;
	int rc = vfs_open(path, VFS_O_CREATE | VFS_O_TRUNC | VFS_O_WRITE, &vn);

	if (rc)
		return fs_err(sh, path, rc);
	memset(buf, 0xa5, CHUNK);
	t0 = time_ns();
	for (u64 off = 0; off < bytes && !rc; off += CHUNK) {
		s64 n = vfs_write(vn, off, buf, CHUNK);

		rc = n == CHUNK ? 0 : fs_err(sh, path, n < 0 ? (int)n : -ENOSPC);
		if (!rc && task_interrupted())
			rc = -EINTR;
	}
	if (!rc)
		rate_line(sh, "write", mib, time_ns() - t0);
	t0 = time_ns();
	for (u64 off = 0; off < bytes && !rc; off += CHUNK) {
		s64 n = vfs_read(vn, off, buf, CHUNK);

		rc = n == CHUNK ? 0 : fs_err(sh, path, n < 0 ? (int)n : -EIO);
		if (!rc && task_interrupted())
			rc = -EINTR;
	}
	if (!rc)
		rate_line(sh, "read", mib, time_ns() - t0);
	vfs_close(vn);
	return rc;
}

/* Create then delete BENCH_FILES empty files in the directory @dir. */
static int bench_files(struct sh *sh, const char *dir, char *path)
{
	u64 t0 = time_ns(), t1;
	unsigned made = 0;
	int rc = 0;

	for (; made < BENCH_FILES && !rc; made++) {
		struct vnode *vn;

		snprintf(path, VFS_PATH_MAX, "%s/.fsbench-%u", dir, made);
		rc = vfs_open(path, VFS_O_CREATE | VFS_O_EXCL | VFS_O_WRITE, &vn);
		if (rc) {
			rc = fs_err(sh, path, rc);
			break;
		}
		vfs_close(vn);
		if (task_interrupted())
			rc = -EINTR;
	}
	t1 = time_ns();
	for (unsigned i = 0; i < made; i++) {
		snprintf(path, VFS_PATH_MAX, "%s/.fsbench-%u", dir, i);
		vfs_remove(path);
	}
	if (rc)
		return rc;
	sh_printf(sh, "create: %u files in %llu ms = %llu per s\n", made,
		  (unsigned long long)((t1 - t0) / 1000000),
		  (unsigned long long)(t1 > t0 ? made * 1000000000ULL / (t1 - t0) : 0));
	sh_printf(sh, "delete: %u files in %llu ms = %llu per s\n", made,
		  (unsigned long long)((time_ns() - t1) / 1000000),
		  (unsigned long long)(time_ns() > t1 ? made * 1000000000ULL / (time_ns() - t1) : 0));
	return 0;
}

static int cmd_fsbench(struct sh *sh, int argc, char **argv)
{
	u64 mib = BENCH_DEFAULT_MIB;
	struct vfs_stat st;
	char *path;
	u8 *buf;
	int rc;

	if (argc > 2 && (rc = sh_parse_uint(sh, argv[2], "MiB", 1, BENCH_MAX_MIB, &mib)))
		return rc;
	rc = vfs_stat(argv[1], &st);
	if (!rc && st.type != VNODE_DIR)
		rc = -ENOTDIR;
	if (rc)
		return fs_err(sh, argv[1], rc);
	path = kmalloc(VFS_PATH_MAX);
	buf = kmalloc(CHUNK);
	rc = -ENOMEM;
	if (path && buf && snprintf(path, VFS_PATH_MAX, "%s/.fsbench-data", argv[1]) <
			       VFS_PATH_MAX) {
		sh_printf(sh, "fsbench %s: %llu MiB in %u KiB requests, then %u files\n", argv[1],
			  (unsigned long long)mib, CHUNK / 1024, BENCH_FILES);
		rc = bench_stream(sh, path, mib, buf);
		vfs_remove(path);
		if (!rc)
			rc = bench_files(sh, argv[1], path);
	}
	kfree(buf);
	kfree(path);
	return rc;
}
SHELL_CMD("fsbench", "<dir> [MiB]", "filesystem write/read MiB/s and creates/deletes per second",
	  1, 2, cmd_fsbench);
