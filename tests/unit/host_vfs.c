/*
 * host_vfs.c — the VFS and ramfs over the host shim: path resolution edge
 * cases, names, mounts and their -EBUSY rules, rename's rules, dead
 * vnodes, big directories, out-of-memory at every allocation of an
 * operation, and the model-checked random run (host_vfs_model.c) on ramfs.
 *
 * The root ramfs is mounted once for the whole run (vfs_init inside
 * shim_forever_begin/end, as at boot); every test works in directories of
 * its own and removes them, so it leaves nothing allocated behind.
 */
#include "tests/unit/host_vfs_model.h"
#include "tests/unit/shim/shim.h"
#include "fs/vfs_priv.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

static void vfs_up(void)
{
	static bool done;

	if (done)
		return;
	shim_forever_begin();
	vfs_init();
	shim_forever_end();
	done = true;
}

static int put(const char *path, const char *text)
{
	struct vnode *vn;
	size_t len = strlen(text);
	int rc = vfs_open(path, VFS_O_CREATE | VFS_O_TRUNC | VFS_O_WRITE, &vn);
	s64 n;

	if (rc)
		return rc;
	n = vfs_write(vn, 0, text, len);
	vfs_close(vn);
	return n == (s64)len ? 0 : n < 0 ? (int)n : -ENOSPC;
}

/* The file's contents into @buf (@cap bytes, NUL-terminated); bytes or -errno. */
static s64 get(const char *path, char *buf, size_t cap)
{
	struct vnode *vn;
	int rc = vfs_open(path, 0, &vn);
	s64 n;

	if (rc)
		return rc;
	n = vfs_read(vn, 0, buf, cap - 1);
	vfs_close(vn);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static u64 ino_of(const char *path)
{
	struct vfs_stat st;

	return vfs_stat(path, &st) ? 0 : st.ino;
}

static int count_visit(void *arg, const char *name, size_t len, enum vnode_type type)
{
	(*(unsigned *)arg)++;
	return 0;
}

static unsigned count_entries(const char *path)
{
	unsigned n = 0;

	return vfs_readdir(path, count_visit, &n) ? ~0u : n;
}

/* ----------------------------------------------------- canonical paths */

struct canon_case {
	const char *in, *out;
	bool trailing;
};

KTEST(vfs_path, canonical_forms)
{
	static const struct canon_case cases[] = {
		{ "/", "/", false },           { "", "/", false },
		{ "a/b", "/a/b", false },      { "//a///b//", "/a/b", true },
		{ "/a/./b/.", "/a/b", false }, { "/a/../..", "/", false },
		{ "/..", "/", false },         { "/a/b/../c", "/a/c", false },
		{ "/a/b/..", "/a", false },    { "/.../x", "/.../x", false },
		{ "/a/..b/.c", "/a/..b/.c", false }, { "/a/", "/a", true },
		{ "/\xc3\xa9t\xc3\xa9", "/\xc3\xa9t\xc3\xa9", false },
	};
	char out[64];
	bool trailing;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		KT_EXPECT_EQ(vfs_path_canon(cases[i].in, out, sizeof(out), &trailing), 0);
		KT_EXPECT_STREQ(out, cases[i].out);
		KT_EXPECT_EQ(trailing, cases[i].trailing);
	}
}

KTEST(vfs_path, name_and_path_limits)
{
	char *p = kmalloc(VFS_PATH_MAX + 8), *out = kmalloc(VFS_PATH_MAX);

	KT_ASSERT(p && out);
	p[0] = '/';
	memset(p + 1, 'n', 255);
	p[256] = '\0';
	KT_EXPECT_EQ(vfs_path_canon(p, out, VFS_PATH_MAX, NULL), 0);
	p[256] = 'n';
	p[257] = '\0';
	KT_EXPECT_EQ(vfs_path_canon(p, out, VFS_PATH_MAX, NULL), -ENAMETOOLONG);
	/* 4095 bytes is the longest path; 4096 is too long, even of slashes */
	for (size_t i = 0; i < VFS_PATH_MAX - 1; i++)
		p[i] = i % 2 ? 'x' : '/';
	p[VFS_PATH_MAX - 1] = '\0';
	KT_EXPECT_EQ(vfs_path_canon(p, out, VFS_PATH_MAX, NULL), 0);
	memset(p, '/', VFS_PATH_MAX);
	p[VFS_PATH_MAX] = '\0';
	KT_EXPECT_EQ(vfs_path_canon(p, out, VFS_PATH_MAX, NULL), -ENAMETOOLONG);
	KT_EXPECT_EQ(vfs_name_check("a\x01", 2), -EINVAL);
	KT_EXPECT_EQ(vfs_name_check("\x1f", 1), -EINVAL);
	KT_EXPECT_EQ(vfs_name_check("a\x7f" "b", 3), -EINVAL);
	KT_EXPECT_EQ(vfs_name_check("a/b", 3), -EINVAL);
	KT_EXPECT_EQ(vfs_name_check("a\0b", 3), -EINVAL);
	KT_EXPECT_EQ(vfs_name_check("", 0), -EINVAL);
	KT_EXPECT_EQ(vfs_name_check(" ~\x80\xff", 4), 0);
	kfree(p);
	kfree(out);
}

KTEST(vfs_path, bad_names_reach_no_filesystem)
{
	vfs_up();
	KT_EXPECT_EQ(vfs_mkdir("/bad\x01name"), -EINVAL);
	KT_EXPECT_EQ(put("/tab\there", "x"), -EINVAL);
	KT_EXPECT_EQ(vfs_stat("/del\x7f", NULL), -EINVAL);
	KT_EXPECT_EQ(vfs_rename("/x\x02", "/y"), -EINVAL);
	KT_EXPECT_EQ(count_entries("/"), 0u);
}

KTEST(vfs_path, walk_edge_cases)
{
	char buf[32];

	vfs_up();
	KT_ASSERT_EQ(vfs_mkdir("/w"), 0);
	KT_ASSERT_EQ(vfs_mkdir("/w/x/"), 0);
	KT_ASSERT_EQ(put("/w/x/f", "data"), 0);
	KT_EXPECT_EQ(get("//w///x//f", buf, sizeof(buf)), 4);
	KT_EXPECT_STREQ(buf, "data");
	KT_EXPECT_EQ(get("w/./x/../x/f", buf, sizeof(buf)), 4);
	KT_EXPECT_EQ(get("/w/x/f/", buf, sizeof(buf)), -ENOTDIR);
	KT_EXPECT_EQ(get("/w/x/f/g", buf, sizeof(buf)), -ENOTDIR);
	KT_EXPECT_EQ(get("/w/nope/f", buf, sizeof(buf)), -ENOENT);
	KT_EXPECT_EQ(get("/w/x", buf, sizeof(buf)), -EISDIR);
	KT_EXPECT_EQ(put("/w/x/g/", "x"), -EISDIR);
	KT_EXPECT_EQ(put("/w/x", "x"), -EISDIR);
	KT_EXPECT_EQ(vfs_mkdir("/w/x/f/d"), -ENOTDIR);
	KT_EXPECT_EQ(vfs_mkdir("/"), -EEXIST);
	KT_EXPECT_EQ(vfs_mkdir("/w/x/f"), -EEXIST);
	KT_EXPECT_EQ(ino_of("/w/x/.."), ino_of("/w"));
	KT_EXPECT_EQ(ino_of("/.."), ino_of("/"));
	KT_EXPECT_EQ(vfs_remove("/"), -EINVAL);
	KT_EXPECT_EQ(vfs_remove_tree("/"), -EINVAL);
	KT_EXPECT_EQ(vfs_remove_tree("/w/.."), -EINVAL);
	KT_EXPECT_EQ(vfs_remove("/w"), -ENOTEMPTY);
	KT_EXPECT_EQ(vfs_remove("/w/x/f/"), -ENOTDIR);
	KT_EXPECT_EQ(vfs_remove_tree("/w"), 0);
	KT_EXPECT_EQ(vfs_stat("/w", NULL), -ENOENT);
}

KTEST(vfs_path, deep_tree_is_removed_without_recursion)
{
	char *p = kmalloc(VFS_PATH_MAX + 16);
	size_t n = 0;
	unsigned depth = 0;

	vfs_up();
	KT_ASSERT(p);
	p[0] = '\0';
	while (n + 3 < VFS_PATH_MAX - 1) {
		strlcat(p, "/d", VFS_PATH_MAX);
		n += 2;
		KT_ASSERT_EQ(vfs_mkdir(p), 0);
		depth++;
	}
	KT_EXPECT_EQ(put(p[0] ? "/d/d/file" : "/x", "x"), 0);
	/* one more level would make a path of 4096 bytes */
	strlcat(p, "/dddddd", VFS_PATH_MAX + 16);
	KT_EXPECT_EQ(vfs_mkdir(p), -ENAMETOOLONG);
	KT_EXPECT(depth > 2000);
	KT_EXPECT_EQ(vfs_remove_tree("/d"), 0);
	KT_EXPECT_EQ(count_entries("/"), 0u);
	kfree(p);
}

/* ------------------------------------------------------------ mounts */

KTEST(vfs_mount, crossing_both_ways)
{
	char buf[32];

	vfs_up();
	KT_ASSERT_EQ(vfs_mkdir("/m"), 0);
	KT_ASSERT_EQ(put("/m/under", "covered"), 0);
	KT_ASSERT_EQ(vfs_mount("ramfs", NULL, "/m", 0), 0);
	KT_EXPECT_EQ(get("/m/under", buf, sizeof(buf)), -ENOENT);
	KT_EXPECT_EQ(count_entries("/m"), 0u);
	KT_ASSERT_EQ(put("/m/over", "mounted"), 0);
	KT_EXPECT_EQ(get("/m/../m/over", buf, sizeof(buf)), 7);
	KT_EXPECT_EQ(ino_of("/m/.."), ino_of("/"));
	KT_ASSERT_EQ(vfs_mkdir("/m/inner"), 0);
	KT_ASSERT_EQ(vfs_mount("ramfs", NULL, "/m/inner", 0), 0);
	KT_EXPECT_EQ(ino_of("/m/inner/../over"), ino_of("/m/over"));
	KT_EXPECT_EQ(ino_of("/m/inner/../.."), ino_of("/"));
	KT_EXPECT_EQ(vfs_umount("/m"), -EBUSY);      /* a mount below it */
	KT_EXPECT_EQ(vfs_umount("/m/inner"), 0);
	KT_EXPECT_EQ(vfs_umount("/m"), 0);
	KT_EXPECT_EQ(get("/m/under", buf, sizeof(buf)), 7);
	KT_EXPECT_STREQ(buf, "covered");
	KT_EXPECT_EQ(get("/m/over", buf, sizeof(buf)), -ENOENT);
	KT_EXPECT_EQ(vfs_remove_tree("/m"), 0);
}

KTEST(vfs_mount, busy_and_bad_mounts)
{
	struct vnode *vn;

	vfs_up();
	KT_EXPECT_EQ(vfs_umount("/"), -EBUSY);
	KT_ASSERT_EQ(vfs_mkdir("/b"), 0);
	KT_ASSERT_EQ(put("/file", "x"), 0);
	KT_EXPECT_EQ(vfs_umount("/b"), -EINVAL);    /* not a mount point */
	KT_EXPECT_EQ(vfs_mount("nosuchfs", NULL, "/b", 0), -ENODEV);
	KT_EXPECT_EQ(vfs_mount("ramfs", NULL, "/file", 0), -ENOTDIR);
	KT_EXPECT_EQ(vfs_mount("ramfs", NULL, "/nope", 0), -ENOENT);
	KT_EXPECT_EQ(vfs_mount("ramfs", NULL, "/", 0), -EBUSY);
	KT_ASSERT_EQ(vfs_mount("ramfs", NULL, "/b", 0), 0);
	KT_EXPECT_EQ(vfs_mount("ramfs", NULL, "/b", 0), -EBUSY);
	KT_ASSERT_EQ(put("/b/f", "x"), 0);
	KT_ASSERT_EQ(vfs_open("/b/f", 0, &vn), 0);
	KT_EXPECT_EQ(vfs_umount("/b"), -EBUSY);     /* an open file */
	vfs_close(vn);
	/* a mount point cannot be removed or renamed, nor a directory above one */
	KT_EXPECT_EQ(vfs_remove("/b"), -EBUSY);
	KT_EXPECT_EQ(vfs_remove_tree("/b"), -EBUSY);
	KT_EXPECT_EQ(vfs_rename("/b", "/c"), -EBUSY);
	KT_EXPECT_EQ(vfs_rename("/file", "/b"), -EBUSY);
	KT_EXPECT_EQ(vfs_rename("/file", "/b/g"), -EXDEV);
	KT_EXPECT_EQ(vfs_rename("/b/f", "/g"), -EXDEV);
	KT_EXPECT_EQ(vfs_rename("/b", "/"), -EBUSY);
	KT_EXPECT_EQ(vfs_umount("/b/"), 0);
	KT_ASSERT_EQ(vfs_mkdir("/up"), 0);
	KT_ASSERT_EQ(vfs_mkdir("/up/mp"), 0);
	KT_ASSERT_EQ(vfs_mount("ramfs", NULL, "/up/mp", 0), 0);
	KT_EXPECT_EQ(vfs_rename("/up", "/up2"), -EBUSY);
	KT_EXPECT_EQ(vfs_remove_tree("/up"), -EBUSY);
	KT_EXPECT_EQ(vfs_umount("/up/mp"), 0);
	KT_EXPECT_EQ(vfs_remove_tree("/up"), 0);
	KT_EXPECT_EQ(vfs_remove("/b"), 0);
	KT_EXPECT_EQ(vfs_remove("/file"), 0);
}

KTEST(vfs_mount, read_only_refuses_every_change)
{
	struct vnode *vn;
	struct vfs_mount_info info;
	char path[16];

	vfs_up();
	KT_ASSERT_EQ(vfs_mkdir("/ro"), 0);
	KT_ASSERT_EQ(vfs_mount("ramfs", NULL, "/ro", VFS_MOUNT_RO), 0);
	KT_EXPECT_EQ(put("/ro/f", "x"), -EROFS);
	KT_EXPECT_EQ(vfs_mkdir("/ro/d"), -EROFS);
	KT_EXPECT_EQ(vfs_open("/ro/f", VFS_O_CREATE, &vn), -EROFS);
	KT_EXPECT_EQ(vfs_open("/ro", VFS_O_WRITE, &vn), -EISDIR);
	KT_ASSERT_EQ(vfs_mount_info(1, &info, path, sizeof(path)), 0);
	KT_EXPECT_STREQ(path, "/ro");
	KT_EXPECT_STREQ(info.type, "ramfs");
	KT_EXPECT(info.flags & VFS_MOUNT_RO);
	KT_EXPECT_EQ(vfs_mount_info(2, &info, path, sizeof(path)), -ENOENT);
	KT_EXPECT_EQ(vfs_umount("/ro"), 0);
	KT_EXPECT_EQ(vfs_remove("/ro"), 0);
}

static const struct vnode_ops empty_vops;
static const struct fs_ops incomplete = { .vnode_ops = &empty_vops };

KTEST(vfs_mount, registry)
{
	vfs_up();
	KT_EXPECT_EQ(ramfs_register(), -EEXIST);
	KT_EXPECT_EQ(vfs_register_fs("broken", &incomplete), -EINVAL);
	KT_EXPECT_EQ(vfs_register_fs("", NULL), -EINVAL);
	KT_EXPECT_EQ(vfs_fs_needs_device("ramfs"), 0);
	KT_EXPECT_EQ(vfs_fs_needs_device("nanofs-not-here"), -ENODEV);
}

KTEST(vfs_mount, boot_parameter_syntax)
{
	const char *disk, *path;
	char buf[64];
	bool ro;

	KT_EXPECT_EQ(vfs_parse_mount_param("vda1:/data", buf, sizeof(buf), &disk, &path, &ro), 0);
	KT_EXPECT_STREQ(disk, "vda1");
	KT_EXPECT_STREQ(path, "/data");
	KT_EXPECT(!ro);
	KT_EXPECT_EQ(vfs_parse_mount_param("vdb:/a/b:ro", buf, sizeof(buf), &disk, &path, &ro), 0);
	KT_EXPECT_STREQ(path, "/a/b");
	KT_EXPECT(ro);
	KT_EXPECT_EQ(vfs_parse_mount_param("vdb", buf, sizeof(buf), &disk, &path, &ro), -EINVAL);
	KT_EXPECT_EQ(vfs_parse_mount_param(":/x", buf, sizeof(buf), &disk, &path, &ro), -EINVAL);
	KT_EXPECT_EQ(vfs_parse_mount_param("vda:x", buf, sizeof(buf), &disk, &path, &ro), -EINVAL);
	KT_EXPECT_EQ(vfs_parse_mount_param("vda:/x:rw", buf, sizeof(buf), &disk, &path, &ro),
		     -EINVAL);
}

/* ------------------------------------------------------------ rename */

KTEST(vfs_rename, rules)
{
	char buf[32];

	vfs_up();
	KT_ASSERT_EQ(vfs_mkdir("/r"), 0);
	KT_ASSERT_EQ(vfs_mkdir("/r/d"), 0);
	KT_ASSERT_EQ(vfs_mkdir("/r/e"), 0);
	KT_ASSERT_EQ(put("/r/f", "ffff"), 0);
	KT_ASSERT_EQ(put("/r/g", "gg"), 0);
	KT_EXPECT_EQ(vfs_rename("/r/d", "/r/d/sub"), -EINVAL);
	KT_EXPECT_EQ(vfs_rename("/r", "/r/d/x"), -EINVAL);
	KT_EXPECT_EQ(vfs_rename("/r/d", "/r/e"), -EEXIST);
	KT_EXPECT_EQ(vfs_rename("/r/f", "/r/e"), -EISDIR);
	KT_EXPECT_EQ(vfs_rename("/r/d", "/r/f"), -ENOTDIR);
	KT_EXPECT_EQ(vfs_rename("/r/f", "/r/f"), 0);
	KT_EXPECT_EQ(vfs_rename("/r/d", "/r/./d/"), 0);
	KT_EXPECT_EQ(vfs_rename("/r/nope", "/r/x"), -ENOENT);
	KT_EXPECT_EQ(vfs_rename("/r/f", "/r/nodir/x"), -ENOENT);
	KT_EXPECT_EQ(vfs_rename("/r/f", "/r/g"), 0);    /* replaces g */
	KT_EXPECT_EQ(get("/r/g", buf, sizeof(buf)), 4);
	KT_EXPECT_EQ(vfs_stat("/r/f", NULL), -ENOENT);
	KT_EXPECT_EQ(vfs_rename("/r/g", "/r/d/g"), 0);
	KT_EXPECT_EQ(vfs_rename("/r/d", "/r/e/d"), 0);
	KT_EXPECT_EQ(get("/r/e/d/g", buf, sizeof(buf)), 4);
	KT_EXPECT_STREQ(buf, "ffff");
	KT_EXPECT_EQ(vfs_remove_tree("/r"), 0);
}

/* ------------------------------------------------------------- vnodes */

KTEST(vfs_vnode, removed_file_is_dead_for_its_holder)
{
	struct vnode *a, *b;
	char buf[8];

	vfs_up();
	KT_ASSERT_EQ(put("/dead", "old"), 0);
	KT_ASSERT_EQ(vfs_open("/dead", 0, &a), 0);
	KT_EXPECT_EQ(vfs_remove("/dead"), 0);
	KT_EXPECT_EQ(vfs_read(a, 0, buf, sizeof(buf)), -ENOENT);
	KT_EXPECT_EQ(vfs_write(a, 0, "x", 1), -ENOENT);
	KT_ASSERT_EQ(put("/dead", "new"), 0);
	KT_ASSERT_EQ(vfs_open("/dead", 0, &b), 0);
	KT_EXPECT(!vfs_same_file(a, b));
	KT_EXPECT_EQ(vfs_read(b, 0, buf, sizeof(buf)), 3);
	vfs_close(a);
	vfs_close(b);
	KT_EXPECT_EQ(vfs_remove("/dead"), 0);
}

KTEST(vfs_vnode, one_vnode_per_file)
{
	struct vnode *a, *b;

	vfs_up();
	KT_ASSERT_EQ(put("/same", "x"), 0);
	KT_ASSERT_EQ(vfs_open("/same", 0, &a), 0);
	KT_ASSERT_EQ(vfs_open("//./same", VFS_O_CREATE, &b), 0);
	KT_EXPECT(a == b);
	vfs_close(a);
	vfs_close(b);
	KT_EXPECT_EQ(vfs_open("/same", VFS_O_CREATE | VFS_O_EXCL, &a), -EEXIST);
	KT_EXPECT_EQ(vfs_remove("/same"), 0);
}

/* ------------------------------------------------------------- ramfs */

static int stop_after_half(void *arg, const char *name, size_t len, enum vnode_type type)
{
	unsigned *n = arg;
	char path[32];

	/* removing entries mid-listing must not make others vanish or repeat */
	snprintf(path, sizeof(path), "/big/%.*s", (int)len, name);
	if (name[0] == 'x')
		vfs_remove(path);
	(*n)++;
	return 0;
}

KTEST(ramfs, thousands_of_entries)
{
	char path[32];
	unsigned n = 0;

	vfs_up();
	KT_ASSERT_EQ(vfs_mkdir("/big"), 0);
	for (unsigned i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), "/big/%c%u", i % 2 ? 'x' : 'k', i);
		KT_ASSERT_EQ(put(path, "v"), 0);
	}
	KT_EXPECT_EQ(count_entries("/big"), 3000u);
	for (unsigned i = 0; i < 3000; i += 7) {
		snprintf(path, sizeof(path), "/big/%c%u", i % 2 ? 'x' : 'k', i);
		KT_EXPECT_EQ(vfs_stat(path, NULL), 0);
	}
	KT_EXPECT_EQ(vfs_readdir("/big", stop_after_half, &n), 0);
	KT_EXPECT_EQ(n, 3000u);
	KT_EXPECT_EQ(count_entries("/big"), 1500u);
	KT_EXPECT_EQ(vfs_remove_tree("/big"), 0);
}

KTEST(ramfs, holes_and_truncate_read_zeroes)
{
	struct vnode *vn;
	u8 buf[64];

	vfs_up();
	KT_ASSERT_EQ(vfs_open("/h", VFS_O_CREATE | VFS_O_WRITE, &vn), 0);
	KT_EXPECT_EQ(vfs_write(vn, 100000, "end", 3), 3);
	KT_EXPECT_EQ(vfs_read(vn, 50000, buf, 16), 16);
	for (unsigned i = 0; i < 16; i++)
		KT_EXPECT_EQ(buf[i], 0);
	KT_EXPECT_EQ(vfs_read(vn, 100000, buf, 64), 3);
	KT_EXPECT_EQ(vfs_truncate(vn, 100001), 0);
	KT_EXPECT_EQ(vfs_truncate(vn, 100003), 0);
	KT_EXPECT_EQ(vfs_read(vn, 100000, buf, 64), 3);
	KT_EXPECT_EQ(buf[0], 'e');
	KT_EXPECT_EQ(buf[1], 0); /* cut bytes do not come back */
	KT_EXPECT_EQ(vfs_read(vn, 1ULL << 50, buf, 8), 0);
	KT_EXPECT_EQ(vfs_write(vn, ~0ULL - 2, "abc", 3), -EFBIG);
	vfs_close(vn);
	KT_EXPECT_EQ(vfs_remove("/h"), 0);
}

/* Out of memory at the n-th allocation of each operation: -ENOSPC (or
 * -ENOMEM from the VFS itself), never a panic or a leak, and the tree
 * still what it was. */
KTEST(ramfs, out_of_memory_at_every_allocation)
{
	static char big[20000];
	unsigned failures = 0;

	vfs_up();
	memset(big, 'z', sizeof(big) - 1);
	KT_ASSERT_EQ(vfs_mkdir("/oom"), 0);
	for (unsigned n = 1; n < 40; n++) {
		char path[32];
		int rc;

		snprintf(path, sizeof(path), "/oom/f%u", n);
		shim_mem_fail_nth(n);
		rc = put(path, big);
		shim_mem_fail_nth(0);
		if (rc) {
			failures++;
			KT_EXPECT(rc == -ENOSPC || rc == -ENOMEM);
		}
		snprintf(path, sizeof(path), "/oom/d%u", n);
		shim_mem_fail_nth(n);
		rc = vfs_mkdir(path);
		shim_mem_fail_nth(0);
		KT_EXPECT(rc == 0 || rc == -ENOSPC || rc == -ENOMEM);
		KT_EXPECT(rc != 0 || vfs_stat(path, NULL) == 0);
	}
	KT_EXPECT(failures > 0);
	KT_EXPECT_EQ(vfs_remove_tree("/oom"), 0);
}

static int ramfs_fresh(const char *path)
{
	return vfs_mount("ramfs", NULL, path, 0);
}

static const struct vfs_model_fs ramfs_model = { .name = "ramfs", .mount = ramfs_fresh };

KTEST(ramfs, random_operations_against_the_model)
{
	vfs_up();
	KT_ASSERT_EQ(vfs_mkdir("/model"), 0);
	vfs_model_run(kt, &ramfs_model, "/model", 3000, 0);
	KT_EXPECT_EQ(vfs_remove("/model"), 0);
}
