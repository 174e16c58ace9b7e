/*
 * host_vfs_model.c — a filesystem against a model of itself.
 *
 * The model is the simplest thing that can be right: a table of paths
 * (relative to the mount point, "a/b/c"), each a directory or a file with
 * its bytes in one host buffer.  Each random step picks an operation and
 * paths from a small alphabet (so names collide, parents are missing,
 * files stand where directories are wanted), works out from the model
 * alone what the VFS must answer — the exact errno, in the order the VFS
 * checks — runs it, and then compares the whole tree: every directory
 * lists exactly its model children, every file has the model's size and
 * bytes.  Writes land at offsets across page boundaries and past the end
 * (holes), so ramfs's pages and nanofs's blocks are both exercised.
 *
 * Nothing here knows which filesystem runs: struct vfs_model_fs says how
 * to mount one (and remount it, for a filesystem that persists).
 */
#include "tests/unit/host_vfs_model.h"
#include "fs/vfs.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/string.h"

#include <stdlib.h>

#define M_NODES 128
#define M_PATH 32
#define M_DEPTH 3
#define M_MAX_FILE 20000

struct m_node {
	bool used;
	enum vnode_type type;
	char path[M_PATH];
	u8 *data;
	size_t size;
};

struct model {
	struct ktest_ctx *kt;
	const char *mnt;
	struct m_node n[M_NODES];
	char full[512];
	u8 *buf;
};

static const char *const names[] = { "a", "b", "c", "d" };

static int m_find(struct model *m, const char *path)
{
	for (int i = 0; i < M_NODES; i++)
		if (m->n[i].used && strcmp(m->n[i].path, path) == 0)
			return i;
	return -1;
}

/* Is @path @dir itself (@self) or strictly below it? */
static bool below(const char *path, const char *dir, bool self)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '/' || (self && path[n] == '\0'));
}

/* What walking to @path's parent says: 0, -ENOENT or -ENOTDIR. */
static int m_parent_err(struct model *m, const char *path)
{
	char pre[M_PATH];

	for (size_t i = 0; path[i]; i++) {
		int k;

		if (path[i] != '/')
			continue;
		memcpy(pre, path, i);
		pre[i] = '\0';
		k = m_find(m, pre);
		if (k < 0)
			return -ENOENT;
		if (m->n[k].type != VNODE_DIR)
			return -ENOTDIR;
	}
	return 0;
}

static unsigned m_children(struct model *m, const char *dir)
{
	unsigned c = 0;
	size_t n = strlen(dir);

	for (int i = 0; i < M_NODES; i++) {
		const char *p = m->n[i].path;

		if (!m->n[i].used)
			continue;
		if (n == 0 ? !strchr(p, '/') : below(p, dir, false) && !strchr(p + n + 1, '/'))
			c++;
	}
	return c;
}

static struct m_node *m_add(struct model *m, const char *path, enum vnode_type t)
{
	for (int i = 0; i < M_NODES; i++) {
		if (!m->n[i].used) {
			m->n[i] = (struct m_node){ .used = true, .type = t };
			strlcpy(m->n[i].path, path, M_PATH);
			return &m->n[i];
		}
	}
	return NULL;
}

static void m_del(struct m_node *n)
{
	free(n->data);
	memset(n, 0, sizeof(*n));
}

static void m_resize(struct m_node *n, size_t size)
{
	u8 *d = realloc(n->data, size ? size : 1);

	if (size > n->size)
		memset(d + n->size, 0, size - n->size);
	n->data = d;
	n->size = size;
}

static const char *full(struct model *m, const char *path)
{
	snprintf(m->full, sizeof(m->full), "%s/%s", m->mnt, path);
	return m->full;
}

static void rand_path(struct model *m, char *out)
{
	unsigned depth = 1 + ktest_rand(m->kt) % M_DEPTH;

	out[0] = '\0';
	for (unsigned i = 0; i < depth; i++) {
		if (i)
			strlcat(out, "/", M_PATH);
		strlcat(out, names[ktest_rand(m->kt) % ARRAY_SIZE(names)], M_PATH);
	}
}

/* ------------------------------------------------------------ steps */

/* open for writing (+create), expected result from the model */
static int expect_open_write(struct model *m, const char *p, bool create)
{
	int rc = m_parent_err(m, p), k = m_find(m, p);

	if (rc)
		return rc;
	if (k < 0)
		return create ? 0 : -ENOENT;
	return m->n[k].type == VNODE_DIR ? -EISDIR : 0;
}

static void step_write(struct model *m, const char *p, unsigned mode)
{
	struct ktest_ctx *kt = m->kt;
	u64 off = mode == 0 ? 0 : ktest_rand(kt) % 9000;
	size_t len = ktest_rand(kt) % 5000;
	unsigned flags = VFS_O_CREATE | VFS_O_WRITE | (mode == 0 ? VFS_O_TRUNC : 0);
	int want = expect_open_write(m, p, true);
	struct vnode *vn;
	struct m_node *n;
	int k;
	s64 w;

	for (size_t i = 0; i < len; i++)
		m->buf[i] = (u8)ktest_rand(kt);
	KT_ASSERT_EQ(vfs_open(full(m, p), flags, &vn), want);
	if (want)
		return;
	k = m_find(m, p);
	n = k >= 0 ? &m->n[k] : m_add(m, p, VNODE_FILE);
	KT_ASSERT(n);
	if (mode == 0)
		m_resize(n, 0);
	if (mode == 2)
		off = n->size;
	w = mode == 2 ? vfs_append(vn, m->buf, len) : vfs_write(vn, off, m->buf, len);
	vfs_close(vn);
	KT_ASSERT_EQ(w, (s64)len);
	if (off + len > n->size)
		m_resize(n, off + len);
	memcpy(n->data + off, m->buf, len);
}

static void step_truncate(struct model *m, const char *p)
{
	struct ktest_ctx *kt = m->kt;
	size_t size = ktest_rand(kt) % 12000;
	int want = expect_open_write(m, p, false);
	struct vnode *vn;

	KT_ASSERT_EQ(vfs_open(full(m, p), VFS_O_WRITE, &vn), want);
	if (want)
		return;
	KT_EXPECT_EQ(vfs_truncate(vn, size), 0);
	vfs_close(vn);
	m_resize(&m->n[m_find(m, p)], size);
}

static void step_mkdir(struct model *m, const char *p)
{
	struct ktest_ctx *kt = m->kt;
	int want = m_parent_err(m, p);

	if (!want && m_find(m, p) >= 0)
		want = -EEXIST;
	KT_ASSERT_EQ(vfs_mkdir(full(m, p)), want);
	if (!want)
		KT_ASSERT(m_add(m, p, VNODE_DIR));
}

static void m_del_tree(struct model *m, const char *p)
{
	for (int i = 0; i < M_NODES; i++)
		if (m->n[i].used && below(m->n[i].path, p, true))
			m_del(&m->n[i]);
}

static void step_remove(struct model *m, const char *p, bool tree)
{
	struct ktest_ctx *kt = m->kt;
	int want = m_parent_err(m, p), k = m_find(m, p);

	if (!want && k < 0)
		want = -ENOENT;
	if (!want && !tree && m->n[k].type == VNODE_DIR && m_children(m, p))
		want = -ENOTEMPTY;
	KT_ASSERT_EQ(tree ? vfs_remove_tree(full(m, p)) : vfs_remove(full(m, p)), want);
	if (!want)
		m_del_tree(m, p);
}

static int expect_rename(struct model *m, const char *s, const char *d)
{
	int rc = m_parent_err(m, s), ks, kd;

	if (!rc)
		rc = m_parent_err(m, d);
	if (rc)
		return rc;
	ks = m_find(m, s);
	if (ks < 0)
		return -ENOENT;
	if (strcmp(s, d) == 0)
		return 0;
	if (m->n[ks].type == VNODE_DIR && below(d, s, false))
		return -EINVAL;
	kd = m_find(m, d);
	if (kd < 0)
		return 0;
	if (m->n[kd].type == VNODE_DIR)
		return m->n[ks].type == VNODE_DIR ? -EEXIST : -EISDIR;
	return m->n[ks].type == VNODE_DIR ? -ENOTDIR : 0;
}

static void step_rename(struct model *m, const char *s, const char *d)
{
	struct ktest_ctx *kt = m->kt;
	int want = expect_rename(m, s, d), kd, got;
	char src[512];
	size_t n = strlen(s);

	strlcpy(src, full(m, s), sizeof(src));
	got = vfs_rename(src, full(m, d));
	if (got != want)
		ktest_log(kt, "rename %s %s", s, d);
	KT_ASSERT_EQ(got, want);
	if (want || strcmp(s, d) == 0)
		return;
	kd = m_find(m, d);
	if (kd >= 0)
		m_del(&m->n[kd]);
	for (int i = 0; i < M_NODES; i++) {
		char moved[M_PATH * 2];

		if (!m->n[i].used || !below(m->n[i].path, s, true))
			continue;
		snprintf(moved, sizeof(moved), "%s%s", d, m->n[i].path + n);
		if (strlen(moved) >= M_PATH) {
			ktest_fail(kt, __FILE__, __LINE__, "model path too long: %s", moved);
			return;
		}
		strlcpy(m->n[i].path, moved, M_PATH);
	}
}

/* ---------------------------------------------------------- compare */

struct ls_check {
	struct model *m;
	const char *dir;
	unsigned seen;
	bool bad;
};

static int ls_visit(void *arg, const char *name, size_t len, enum vnode_type type)
{
	struct ls_check *c = arg;
	char p[M_PATH * 2];
	int k;

	snprintf(p, sizeof(p), "%s%s%.*s", c->dir, c->dir[0] ? "/" : "", (int)len, name);
	k = m_find(c->m, p);
	if (k < 0 || c->m->n[k].type != type) {
		ktest_fail(c->m->kt, __FILE__, __LINE__, "readdir: unexpected %s", p);
		c->bad = true;
		return 1;
	}
	c->seen++;
	return 0;
}

static void check_dir(struct model *m, const char *dir)
{
	struct ktest_ctx *kt = m->kt;
	struct ls_check c = { .m = m, .dir = dir };
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", m->mnt, dir);
	KT_EXPECT_EQ(vfs_readdir(p, ls_visit, &c), c.bad ? 1 : 0);
	KT_EXPECT_EQ(c.seen, m_children(m, dir));
}

static void check_file(struct model *m, const struct m_node *n)
{
	struct ktest_ctx *kt = m->kt;
	struct vfs_stat st;
	struct vnode *vn;

	KT_ASSERT_EQ(vfs_open(full(m, n->path), 0, &vn), 0);
	KT_EXPECT_EQ(vfs_fstat(vn, &st), 0);
	KT_EXPECT_EQ(st.type, VNODE_FILE);
	KT_EXPECT_EQ(st.size, n->size);
	KT_EXPECT_EQ(vfs_read(vn, 0, m->buf, M_MAX_FILE), (s64)n->size);
	if (memcmp(m->buf, n->data, n->size) != 0)
		ktest_fail(kt, __FILE__, __LINE__, "%s: contents differ", n->path);
	vfs_close(vn);
}

static unsigned check_all(struct model *m)
{
	unsigned before = m->kt->failures;

	check_dir(m, "");
	for (int i = 0; i < M_NODES; i++) {
		if (!m->n[i].used)
			continue;
		if (m->n[i].type == VNODE_DIR)
			check_dir(m, m->n[i].path);
		else
			check_file(m, &m->n[i]);
	}
	return m->kt->failures - before;
}

static void one_step(struct model *m)
{
	char p[M_PATH], q[M_PATH];
	unsigned op = ktest_rand(m->kt) % 16;

	rand_path(m, p);
	rand_path(m, q);
	if (op < 5)
		step_write(m, p, op % 3);
	else if (op < 7)
		step_truncate(m, p);
	else if (op < 10)
		step_mkdir(m, p);
	else if (op < 12)
		step_remove(m, p, false);
	else if (op < 13)
		step_remove(m, p, true);
	else
		step_rename(m, p, q);
}

void vfs_model_run(struct ktest_ctx *kt, const struct vfs_model_fs *fs, const char *mnt,
		   unsigned steps, unsigned remount_every)
{
	struct model *m = calloc(1, sizeof(*m));

	m->kt = kt;
	m->mnt = mnt;
	m->buf = malloc(M_MAX_FILE);
	if (fs->mount(mnt) != 0) {
		ktest_fail(kt, __FILE__, __LINE__, "%s: mount failed", fs->name);
		goto out;
	}
	for (unsigned i = 0; i < steps; i++) {
		one_step(m);
		if (check_all(m)) {
			ktest_log(kt, "%s: model differs after step %u", fs->name, i);
			break;
		}
		if (fs->remount && remount_every && i % remount_every == remount_every - 1) {
			KT_EXPECT_EQ(fs->remount(mnt), 0);
			if (check_all(m))
				break;
		}
	}
	KT_EXPECT_EQ(vfs_umount(mnt), 0);
out:
	for (int i = 0; i < M_NODES; i++)
		free(m->n[i].data);
	free(m->buf);
	free(m);
}
