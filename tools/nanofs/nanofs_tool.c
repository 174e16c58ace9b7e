/*
 * nanofs_tool.c — bin/nanofs: make, read and change nanofs images on the
 * host, so files can be put on a disk before boot and read after.
 *
 *   nanofs mkfs  IMAGE[@PART] [SIZE[K|M|G]] [--label L]
 *   nanofs ls    IMAGE[@PART] [PATH]
 *   nanofs cat   IMAGE[@PART] PATH
 *   nanofs put   IMAGE[@PART] HOSTFILE PATH
 *   nanofs get   IMAGE[@PART] PATH HOSTFILE
 *   nanofs rm    IMAGE[@PART] PATH            (directories recursively)
 *   nanofs mkdir IMAGE[@PART] PATH            (and missing parents)
 *   nanofs stat  IMAGE[@PART] [PATH]          (no PATH: the volume)
 *   nanofs fsck  IMAGE[@PART] [--repair]
 *
 * IMAGE@N is the N-th primary MBR partition of a disk image (block/mbr.c
 * parses the table, as in the kernel).  The filesystem code is the kernel's
 * own fs/nanofs*.c over a struct nanofs_dev that reads and writes the file;
 * flush is fdatasync().  Commands that only read open the image read-only,
 * which mounts read-only (the journal is applied in memory, not written).
 * `put` writes a temporary name and renames it over the target, so the
 * target holds its old or its new contents, never a mixture.
 *
 * Exit status: 0 success (fsck: clean), 1 failure (fsck: problems found),
 * 2 usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "block/mbr.h"
#include "fs/nanofs.h"

extern int nanofs_tool_verbose;

struct image {
	int fd;
	off_t base;             /* the partition's first byte */
	struct nanofs_dev dev;
};

static const char *prog = "nanofs";

static int img_read(void *ctx, u64 blk, u32 n, void *buf)
{
	struct image *im = ctx;
	size_t len = (size_t)n * NANOFS_BSIZE;

	return pread(im->fd, buf, len, im->base + (off_t)(blk * NANOFS_BSIZE)) == (ssize_t)len ? 0 : -EIO;
}

static int img_write(void *ctx, u64 blk, u32 n, const void *buf)
{
	struct image *im = ctx;
	size_t len = (size_t)n * NANOFS_BSIZE;

	return pwrite(im->fd, buf, len, im->base + (off_t)(blk * NANOFS_BSIZE)) == (ssize_t)len ? 0 : -EIO;
}

static int img_flush(void *ctx)
{
	return fdatasync(((struct image *)ctx)->fd) ? -EIO : 0;
}

static s64 img_now(void *ctx)
{
	return (s64)time(NULL);
}

static __noreturn void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* Find partition @part of the disk image: its first byte and size. */
static void find_part(struct image *im, const char *spec, int part, off_t disk_size, off_t *size)
{
	struct mbr_part p[MBR_PARTS];
	unsigned char sector[512];
	int n;

	if (pread(im->fd, sector, 512, 0) != 512)
		die("%s: cannot read the partition table", spec);
	n = mbr_parse(sector, (u64)disk_size / 512, p);
	if (n < 0)
		die("%s: no MBR partition table", spec);
	if (part < 1 || part > MBR_PARTS || p[part - 1].verdict != MBR_OK) {
		fprintf(stderr, "%s: %s: partition %d: %s\n", prog, spec, part,
			part < 1 || part > MBR_PARTS ? "no such slot" : mbr_verdict_str(p[part - 1].verdict));
		exit(1);
	}
	im->base = (off_t)(p[part - 1].start * 512);
	*size = (off_t)(p[part - 1].count * 512);
}

/* Open IMAGE[@PART]; @create_size > 0 makes or grows a plain image file. */
static void img_open(struct image *im, const char *spec, bool writable, off_t create_size)
{
	char path[4096];
	const char *at = strrchr(spec, '@');
	int part = 0;
	struct stat st;
	off_t size;

	snprintf(path, sizeof(path), "%.*s", at ? (int)(at - spec) : (int)strlen(spec), spec);
	if (at) {
		char *end;

		part = (int)strtol(at + 1, &end, 10);
		if (*end || end == at + 1)
			die("%s: bad partition number", spec);
	}
	im->fd = open(path, (writable ? O_RDWR : O_RDONLY) | (create_size && !at ? O_CREAT : 0), 0644);
	if (im->fd < 0)
		die("%s: cannot open", path);
	if (create_size && !at && ftruncate(im->fd, create_size))
		die("%s: cannot set the size", path);
	if (fstat(im->fd, &st))
		die("%s: cannot stat", path);
	size = st.st_size;
	if (S_ISBLK(st.st_mode))
		size = lseek(im->fd, 0, SEEK_END);
	im->base = 0;
	if (part)
		find_part(im, spec, part, size, &size);
	im->dev = (struct nanofs_dev){
		.blocks = (u64)size / NANOFS_BSIZE, .read = img_read, .write = img_write,
		.flush = img_flush, .now = img_now, .ctx = im, .read_only = !writable,
	};
}

static struct nanofs *img_mount(struct image *im, const char *spec)
{
	struct nanofs *fs;
	int err = nanofs_mount(&im->dev, im->dev.read_only, &fs);

	if (err) {
		fprintf(stderr, "%s: %s: cannot mount: %s\n", prog, spec, strerror(-err));
		exit(1);
	}
	return fs;
}

static int img_done(struct nanofs *fs, struct image *im, int status)
{
	int err = nanofs_unmount(fs);

	close(im->fd);
	if (err) {
		fprintf(stderr, "%s: unmount: %s\n", prog, strerror(-err));
		return 1;
	}
	return status;
}

static void fail(const char *what, const char *path, int err)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, strerror(-err));
}

/* ---------------------------------------------------------------- paths */

/*
 * Resolve @path from the root.  With @leaf, stop at the last component:
 * *@ino is its directory and *@leaf points at the name (length *@leaflen).
 */
static int walk(struct nanofs *fs, const char *path, u32 *ino, const char **leaf, u32 *leaflen)
{
	u32 cur = nanofs_root(fs);
	const char *p = path;

	for (;;) {
		const char *name, *end;
		struct nanofs_stat st;
		int err;

		while (*p == '/')
			p++;
		name = p;
		end = strchrnul(p, '/');
		p = end;
		while (*p == '/')
			p++;
		if (leaf && !*p && end > name) {
			*leaf = name;
			*leaflen = (u32)(end - name);
			break;
		}
		if (end == name)
			break;
		if (end - name == 1 && name[0] == '.')
			continue;
		if (end - name == 2 && !strncmp(name, "..", 2)) {
			if ((err = nanofs_stat(fs, cur, &st)))
				return err;
			cur = st.parent;
			continue;
		}
		if ((err = nanofs_lookup(fs, cur, name, (u32)(end - name), &cur)))
			return err;
	}
	if (leaf && !*leaf)
		return -EINVAL;
	*ino = cur;
	return 0;
}

/* -------------------------------------------------------------- commands */

static u64 parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end || !v)
		die("bad size '%s'", s);
	return v;
}

static int cmd_mkfs(int argc, char **argv)
{
	struct nanofs_format_opts opts = { .label = NULL };
	off_t size = 0;
	struct image im;
	int err, rnd;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--label") && i + 1 < argc)
			opts.label = argv[++i];
		else
			size = (off_t)parse_size(argv[i]);
	}
	img_open(&im, argv[0], true, size);
	rnd = open("/dev/urandom", O_RDONLY);
	if (rnd < 0 || read(rnd, opts.uuid, sizeof(opts.uuid)) != (ssize_t)sizeof(opts.uuid))
		die("%s", "cannot read /dev/urandom for the UUID");
	close(rnd);
	err = nanofs_format(&im.dev, &opts);
	close(im.fd);
	if (err) {
		fail("mkfs", argv[0], err);
		return 1;
	}
	printf("%s: nanofs of %llu blocks of 4 KiB\n", argv[0], (unsigned long long)im.dev.blocks);
	return 0;
}

static int print_entry(void *arg, const char *name, u32 len, u32 ino, enum nanofs_type type)
{
	/* the volume's mutex is held here: no calls back into nanofs */
	printf("%c %8u %.*s%s\n", type == NANOFS_DIR ? 'd' : '-', ino, (int)len, name,
	       type == NANOFS_DIR ? "/" : "");
	return 0;
}

static int cmd_ls(struct nanofs *fs, const char *path)
{
	u64 cursor = 0;
	u32 ino;
	int err = walk(fs, path, &ino, NULL, NULL);

	if (!err)
		err = nanofs_readdir(fs, ino, &cursor, print_entry, NULL);
	if (err)
		fail("ls", path, err);
	return err ? 1 : 0;
}

static int copy_out(struct nanofs *fs, const char *path, int fd)
{
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	u64 off = 0;
	u32 ino;
	int err = walk(fs, path, &ino, NULL, NULL);

	while (!err && buf) {
		s64 n = nanofs_read(fs, ino, off, buf, chunk);

		if (n < 0) {
			err = (int)n;
			break;
		}
		if (n == 0)
			break;
		if (write(fd, buf, (size_t)n) != n)
			err = -EIO;
		off += (u64)n;
	}
	free(buf);
	if (err)
		fail("read", path, err);
	return err ? 1 : 0;
}

static int cmd_put(struct nanofs *fs, const char *host, const char *path)
{
	char tmp[300];
	const char *leaf = NULL;
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	u32 dir, leaflen, ino;
	u64 off = 0;
	int fd = open(host, O_RDONLY), err;

	if (fd < 0 || !buf)
		die("%s: cannot open", host);
	if ((err = walk(fs, path, &dir, &leaf, &leaflen)))
		goto out;
	snprintf(tmp, sizeof(tmp), ".put-%.*s", (int)MIN(leaflen, 200u), leaf);
	nanofs_unlink(fs, dir, tmp, (u32)strlen(tmp));
	if ((err = nanofs_create(fs, dir, tmp, (u32)strlen(tmp), NANOFS_FILE, &ino)))
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, chunk);
		s64 w;

		if (n < 0)
			err = -EIO;
		if (n <= 0)
			break;
		w = nanofs_write(fs, ino, off, buf, (u64)n);
		if (w != n) {
			err = w < 0 ? (int)w : -ENOSPC;
			break;
		}
		off += (u64)n;
	}
	if (!err)
		err = nanofs_rename(fs, dir, tmp, (u32)strlen(tmp), dir, leaf, leaflen);
	if (err)
		nanofs_unlink(fs, dir, tmp, (u32)strlen(tmp));
out:
	close(fd);
	free(buf);
	if (err)
		fail("put", path, err);
	return err ? 1 : 0;
}

static int cmd_get(struct nanofs *fs, const char *path, const char *host)
{
	int fd = open(host, O_WRONLY | O_CREAT | O_TRUNC, 0644), r;

	if (fd < 0)
		die("%s: cannot create", host);
	r = copy_out(fs, path, fd);
	if (close(fd))
		r = 1;
	return r;
}

struct names {
	char **name;
	size_t n, cap;
};

static int collect(void *arg, const char *name, u32 len, u32 ino, enum nanofs_type type)
{
	struct names *ns = arg;

	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 64;
		ns->name = realloc(ns->name, ns->cap * sizeof(char *));
		if (!ns->name)
			return 1;
	}
	ns->name[ns->n++] = strndup(name, len);
	return 0;
}

/* Remove @name from @dir, and everything below it when it is a directory. */
static int remove_tree(struct nanofs *fs, u32 dir, const char *name, u32 len)
{
	struct names ns = { NULL, 0, 0 };
	struct nanofs_stat st;
	u64 cursor = 0;
	u32 ino;
	int err = nanofs_lookup(fs, dir, name, len, &ino);

	if (!err)
		err = nanofs_stat(fs, ino, &st);
	if (err)
		return err;
	if (st.type != NANOFS_DIR)
		return nanofs_unlink(fs, dir, name, len);
	err = nanofs_readdir(fs, ino, &cursor, collect, &ns);
	for (size_t i = 0; i < ns.n; i++) {
		if (!err)
			err = remove_tree(fs, ino, ns.name[i], (u32)strlen(ns.name[i]));
		free(ns.name[i]);
	}
	free(ns.name);
	return err ? err : nanofs_rmdir(fs, dir, name, len);
}

static int cmd_rm(struct nanofs *fs, const char *path)
{
	const char *leaf = NULL;
	u32 dir, len;
	int err = walk(fs, path, &dir, &leaf, &len);

	if (!err)
		err = remove_tree(fs, dir, leaf, len);
	if (err)
		fail("rm", path, err);
	return err ? 1 : 0;
}

static int cmd_mkdir(struct nanofs *fs, const char *path)
{
	u32 cur = nanofs_root(fs);
	const char *p = path;
	int err = 0;

	while (*p && !err) {
		const char *end;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchrnul(p, '/');
		err = nanofs_lookup(fs, cur, p, (u32)(end - p), &cur);
		if (err == -ENOENT)
			err = nanofs_create(fs, cur, p, (u32)(end - p), NANOFS_DIR, &cur);
		p = end;
	}
	if (err)
		fail("mkdir", path, err);
	return err ? 1 : 0;
}

static int cmd_stat(struct nanofs *fs, const char *path)
{
	struct nanofs_statfs sf;
	struct nanofs_stat st;
	u32 ino;
	int err;

	if (!path) {
		nanofs_statfs(fs, &sf);
		printf("blocks %llu\ndata_blocks %llu\nfree_blocks %llu\ninodes %llu\nfree_inodes %llu\n"
		       "label %s\nuuid ", (unsigned long long)sf.blocks,
		       (unsigned long long)sf.data_blocks, (unsigned long long)sf.free_blocks,
		       (unsigned long long)sf.inodes, (unsigned long long)sf.free_inodes, sf.label);
		for (int i = 0; i < 16; i++)
			printf("%02x%s", sf.uuid[i], i == 3 || i == 5 || i == 7 || i == 9 ? "-" : "");
		printf("\n");
		return 0;
	}
	err = walk(fs, path, &ino, NULL, NULL);
	if (!err)
		err = nanofs_stat(fs, ino, &st);
	if (err) {
		fail("stat", path, err);
		return 1;
	}
	printf("inode %u\ntype %s\nsize %llu\nblocks %llu\nparent %u\nmtime %lld\n", st.ino,
	       st.type == NANOFS_DIR ? "directory" : "file", (unsigned long long)st.size,
	       (unsigned long long)st.blocks, st.parent, (long long)st.mtime);
	return 0;
}

static void print_problem(void *arg, const char *msg)
{
	printf("%s\n", msg);
}

static int cmd_fsck(int argc, char **argv)
{
	bool repair = argc > 1 && !strcmp(argv[1], "--repair");
	struct image im;
	int r;

	img_open(&im, argv[0], repair, 0);
	r = nanofs_fsck(&im.dev, print_problem, NULL, repair);
	close(im.fd);
	if (r < 0) {
		fail("fsck", argv[0], r);
		return 2;
	}
	printf("%s: %d problem%s\n", argv[0], r, r == 1 ? "" : "s");
	return r ? 1 : 0;
}

static __noreturn void usage(void)
{
	fprintf(stderr,
		"usage: %s [-v] mkfs IMAGE[@PART] [SIZE[K|M|G]] [--label L]\n"
		"       %s [-v] ls|cat|rm|mkdir|stat IMAGE[@PART] [PATH]\n"
		"       %s [-v] put IMAGE[@PART] HOSTFILE PATH\n"
		"       %s [-v] get IMAGE[@PART] PATH HOSTFILE\n"
		"       %s [-v] fsck IMAGE[@PART] [--repair]\n", prog, prog, prog, prog, prog);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;
	struct image im;
	struct nanofs *fs;
	bool writes;
	int r = 2;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		nanofs_tool_verbose = 1;
		argv++, argc--;
	}
	if (argc < 3)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "mkfs"))
		return cmd_mkfs(argc - 2, argv + 2);
	if (!strcmp(cmd, "fsck"))
		return cmd_fsck(argc - 2, argv + 2);
	writes = !strcmp(cmd, "put") || !strcmp(cmd, "rm") || !strcmp(cmd, "mkdir");
	if ((!strcmp(cmd, "put") || !strcmp(cmd, "get")) ? argc != 5
	    : !strcmp(cmd, "cat") || writes ? argc != 4 : argc > 4)
		usage();
	img_open(&im, argv[2], writes, 0);
	fs = img_mount(&im, argv[2]);
	if (!strcmp(cmd, "ls"))
		r = cmd_ls(fs, argc > 3 ? argv[3] : "/");
	else if (!strcmp(cmd, "cat"))
		r = copy_out(fs, argv[3], STDOUT_FILENO);
	else if (!strcmp(cmd, "put"))
		r = cmd_put(fs, argv[3], argv[4]);
	else if (!strcmp(cmd, "get"))
		r = cmd_get(fs, argv[3], argv[4]);
	else if (!strcmp(cmd, "rm"))
		r = cmd_rm(fs, argv[3]);
	else if (!strcmp(cmd, "mkdir"))
		r = cmd_mkdir(fs, argv[3]);
	else if (!strcmp(cmd, "stat"))
		r = cmd_stat(fs, argc > 3 ? argv[3] : NULL);
	else
		usage();
	return img_done(fs, &im, r);
}
