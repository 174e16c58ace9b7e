/*
 * host_nanofs_ops.c — nanofs's operations against a reference model.
 *
 * The long test drives a random sequence of creates, writes at random
 * offsets, truncates, renames, mkdirs, unlinks and rmdirs, predicting
 * every result (errors included) from a model of the tree kept in memory,
 * and compares the whole volume with the model after every step and after
 * every remount; fsck must find it clean at the end.  Around it: names of
 * 255 and 256 bytes and other bad names, thousands of entries in one
 * directory, and -ENOSPC at exactly full (blocks and inodes).
 */
#include "tests/unit/host_nanofs_dev.h"
#include "tests/unit/shim/shim.h"

#include <stdio.h>

#define MN 48                   /* model nodes */
#define MAX_SIZE 65536u

struct mnode {
	bool used, dir;
	int parent;
	char name[256];
	u32 nlen, ino;
	u8 *data;
	u64 size;
};

struct model {
	struct mnode n[MN];
	struct ramdev *r;
	struct nanofs *fs;
	u8 *buf;
};

static int m_find(struct model *m, int dir, const char *name, u32 len)
{
	for (int i = 1; i < MN; i++)
		if (m->n[i].used && m->n[i].parent == dir && m->n[i].nlen == len &&
		    !memcmp(m->n[i].name, name, len))
			return i;
	return -1;
}

static int m_children(struct model *m, int dir)
{
	int c = 0;

	for (int i = 1; i < MN; i++)
		c += m->n[i].used && m->n[i].parent == dir;
	return c;
}

static bool m_below(struct model *m, int node, int dir)
{
	for (; dir > 0; dir = m->n[dir].parent)
		if (dir == node)
			return true;
	return dir == node;
}

static int m_pick(struct model *m, struct ktest_ctx *kt, int want_dir)
{
	int cand[MN], c = 0;

	for (int i = 0; i < MN; i++)
		if (m->n[i].used && (want_dir < 0 || m->n[i].dir == (want_dir == 1)))
			cand[c++] = i;
	return c ? cand[ktest_rand(kt) % c] : -1;
}

static void m_name(struct ktest_ctx *kt, char *out, u32 *len)
{
	u32 k = (u32)(ktest_rand(kt) % 10);

	if (k < 8) {
		*len = (u32)snprintf(out, 256, "n%u", k);
	} else {                        /* the longest names there are */
		memset(out, 'a' + (int)(ktest_rand(kt) % 3), 255);
		*len = 255;
	}
}

static int cnt_entry(void *arg, const char *name, u32 len, u32 ino, enum nanofs_type type)
{
	++*(int *)arg;
	return 0;
}

/* The volume equals the model: every name, type, size and byte, and counts. */
static bool m_compare(struct model *m, struct ktest_ctx *kt)
{
	for (int i = 0; i < MN; i++) {
		struct mnode *x = &m->n[i];
		struct nanofs_stat st;
		u32 ino;
		int count = 0;
		u64 cursor = 0;

		if (!x->used)
			continue;
		if (i) {
			KT_EXPECT_EQ(nanofs_lookup(m->fs, m->n[x->parent].ino, x->name, x->nlen, &ino), 0);
			KT_EXPECT_EQ(ino, x->ino);
		}
		KT_EXPECT_EQ(nanofs_stat(m->fs, x->ino, &st), 0);
		KT_EXPECT_EQ(st.type, x->dir ? NANOFS_DIR : NANOFS_FILE);
		if (x->dir) {
			KT_EXPECT_EQ(nanofs_readdir(m->fs, x->ino, &cursor, cnt_entry, &count), 0);
			KT_EXPECT_EQ(count, m_children(m, i));
			if (i)
				KT_EXPECT_EQ(st.parent, m->n[x->parent].ino);
			continue;
		}
		KT_EXPECT_EQ(st.size, x->size);
		KT_EXPECT_EQ(nanofs_read(m->fs, x->ino, 0, m->buf, MAX_SIZE + 100), (s64)x->size);
		if (memcmp(m->buf, x->data, x->size)) {
			ktest_fail(kt, __FILE__, __LINE__, "contents of node %d differ", i);
			return false;
		}
	}
	return kt->failures == 0;
}

static void m_remove(struct model *m, int i)
{
	free(m->n[i].data);
	memset(&m->n[i], 0, sizeof(m->n[i]));
}

static void op_create(struct model *m, struct ktest_ctx *kt)
{
	int d = m_pick(m, kt, 1), slot = -1, ex;
	bool dir = ktest_rand(kt) % 3 == 0;
	char name[256];
	u32 len, ino;

	m_name(kt, name, &len);
	ex = m_find(m, d, name, len);
	for (int i = 1; i < MN && slot < 0; i++)
		if (!m->n[i].used)
			slot = i;
	if (slot < 0 && ex < 0)
		return;
	KT_EXPECT_EQ(nanofs_create(m->fs, m->n[d].ino, name, len, dir ? NANOFS_DIR : NANOFS_FILE, &ino),
		     ex >= 0 ? -EEXIST : 0);
	if (ex >= 0)
		return;
	m->n[slot] = (struct mnode){ .used = true, .dir = dir, .parent = d, .nlen = len, .ino = ino };
	memcpy(m->n[slot].name, name, len);
	if (!dir)
		m->n[slot].data = calloc(1, MAX_SIZE);
}

static void op_write(struct model *m, struct ktest_ctx *kt)
{
	int f = m_pick(m, kt, 0);
	u64 off, len;

	if (f < 0)
		return;
	off = ktest_rand(kt) % (m->n[f].size + 9000);
	if (off > MAX_SIZE - 1)
		off = MAX_SIZE - 1;
	len = ktest_rand(kt) % 24000;
	if (off + len > MAX_SIZE)
		len = MAX_SIZE - off;
	for (u64 i = 0; i < len; i++)
		m->buf[i] = (u8)ktest_rand(kt);
	KT_EXPECT_EQ(nanofs_write(m->fs, m->n[f].ino, off, m->buf, len), (s64)len);
	memcpy(m->n[f].data + off, m->buf, len);
	if (off + len > m->n[f].size)
		m->n[f].size = off + len;
}

static void op_truncate(struct model *m, struct ktest_ctx *kt)
{
	int f = m_pick(m, kt, 0);
	u64 size = ktest_rand(kt) % MAX_SIZE;

	if (f < 0)
		return;
	KT_EXPECT_EQ(nanofs_truncate(m->fs, m->n[f].ino, size), 0);
	if (size < m->n[f].size)
		memset(m->n[f].data + size, 0, m->n[f].size - size);
	m->n[f].size = size;
}

static void op_rename(struct model *m, struct ktest_ctx *kt)
{
	int s = m_pick(m, kt, -1), dd = m_pick(m, kt, 1), t, expect = 0;
	char name[256];
	u32 len;

	if (s <= 0)
		return;
	m_name(kt, name, &len);
	t = m_find(m, dd, name, len);
	if (m->n[s].dir && m_below(m, s, dd))
		expect = -EINVAL;
	else if (t >= 0 && t != s && (m->n[t].dir || m->n[s].dir))
		expect = -EEXIST;
	KT_EXPECT_EQ(nanofs_rename(m->fs, m->n[m->n[s].parent].ino, m->n[s].name, m->n[s].nlen,
				   m->n[dd].ino, name, len), expect);
	if (expect || t == s)
		return;
	if (t >= 0)
		m_remove(m, t);
	m->n[s].parent = dd;
	memcpy(m->n[s].name, name, len);
	m->n[s].nlen = len;
}

static void op_remove(struct model *m, struct ktest_ctx *kt, bool rmdir)
{
	int x = m_pick(m, kt, -1), expect;
	struct mnode *n;

	if (x <= 0)
		return;
	n = &m->n[x];
	if (rmdir)
		expect = !n->dir ? -ENOTDIR : m_children(m, x) ? -ENOTEMPTY : 0;
	else
		expect = n->dir ? -EISDIR : 0;
	KT_EXPECT_EQ((rmdir ? nanofs_rmdir : nanofs_unlink)(m->fs, m->n[n->parent].ino, n->name,
							    n->nlen), expect);
	if (!expect)
		m_remove(m, x);
}

KTEST(nanofs_ops, random_operations_match_a_model)
{
	struct model *m = calloc(1, sizeof(*m));
	u32 missing;

	KT_ASSERT(m);
	m->buf = malloc(MAX_SIZE + 100);
	m->r = ramdev_new(2048);
	KT_ASSERT(m->buf && m->r);
	KT_ASSERT_EQ(ramdev_format(m->r), 0);
	KT_ASSERT_EQ(nanofs_mount(&m->r->dev, false, &m->fs), 0);
	m->n[0] = (struct mnode){ .used = true, .dir = true, .ino = nanofs_root(m->fs) };
	for (int step = 0; step < 1500 && !kt->failures; step++) {
		u64 op = ktest_rand(kt) % 100;

		if (op < 20)
			op_create(m, kt);
		else if (op < 50)
			op_write(m, kt);
		else if (op < 62)
			op_truncate(m, kt);
		else if (op < 77)
			op_rename(m, kt);
		else if (op < 88)
			op_remove(m, kt, false);
		else if (op < 96)
			op_remove(m, kt, true);
		else if (op < 98)
			KT_EXPECT_EQ(nanofs_sync(m->fs), 0);
		else {
			KT_EXPECT_EQ(nanofs_unmount(m->fs), 0);
			KT_ASSERT_EQ(nanofs_mount(&m->r->dev, false, &m->fs), 0);
		}
		KT_EXPECT_EQ(nanofs_lookup(m->fs, m->n[0].ino, "absent", 6, &missing), -ENOENT);
		if (!m_compare(m, kt))
			ktest_log(kt, "after step %d (op %llu)", step, (unsigned long long)op);
	}
	KT_EXPECT_EQ(nanofs_unmount(m->fs), 0);
	KT_EXPECT_EQ(ramdev_fsck(m->r), 0);
	KT_ASSERT_EQ(nanofs_mount(&m->r->dev, true, &m->fs), 0);
	m_compare(m, kt);
	KT_EXPECT_EQ(nanofs_unmount(m->fs), 0);
	for (int i = 0; i < MN; i++)
		free(m->n[i].data);
	free(m->buf);
	ramdev_free(m->r);
	free(m);
}

KTEST(nanofs_ops, names_up_to_255_bytes)
{
	struct ramdev *r = ramdev_new(512);
	struct nanofs *fs;
	char name[257];
	u32 ino, root;

	KT_ASSERT(r);
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	root = nanofs_root(fs);
	memset(name, 'z', sizeof(name));
	KT_EXPECT_EQ(nanofs_create(fs, root, name, 255, NANOFS_FILE, &ino), 0);
	KT_EXPECT_EQ(nanofs_lookup(fs, root, name, 255, &ino), 0);
	KT_EXPECT_EQ(nanofs_create(fs, root, name, 256, NANOFS_FILE, &ino), -ENAMETOOLONG);
	KT_EXPECT_EQ(nanofs_lookup(fs, root, name, 256, &ino), -ENAMETOOLONG);
	KT_EXPECT_EQ(nanofs_create(fs, root, "", 0, NANOFS_FILE, &ino), -EINVAL);
	KT_EXPECT_EQ(nanofs_create(fs, root, "a/b", 3, NANOFS_FILE, &ino), -EINVAL);
	KT_EXPECT_EQ(nanofs_create(fs, root, "a\0b", 3, NANOFS_FILE, &ino), -EINVAL);
	KT_EXPECT_EQ(nanofs_create(fs, root, ".", 1, NANOFS_DIR, &ino), -EINVAL);
	KT_EXPECT_EQ(nanofs_create(fs, root, "..", 2, NANOFS_DIR, &ino), -EINVAL);
	KT_EXPECT_EQ(nanofs_create(fs, root, "ok", 2, 7, &ino), -EINVAL);
	KT_EXPECT_EQ(nanofs_create(fs, 9999999, "ok", 2, NANOFS_FILE, &ino), -EIO);
	KT_EXPECT_EQ(nanofs_rename(fs, root, name, 255, root, name, 256), -ENAMETOOLONG);
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_EXPECT_EQ(ramdev_fsck(r), 0);
	ramdev_free(r);
}

KTEST(nanofs_ops, thousands_of_entries_in_one_directory)
{
	struct nanofs_format_opts o = { .inodes = 4096 };
	struct ramdev *r = ramdev_new(4096);
	enum { N = 3000 };
	struct nanofs *fs;
	char name[256];
	u32 ino, dir, len;
	int count = 0;
	u64 cursor = 0;

	KT_ASSERT(r);
	KT_ASSERT_EQ(nanofs_format(&r->dev, &o), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_ASSERT_EQ(nanofs_create(fs, nanofs_root(fs), "d", 1, NANOFS_DIR, &dir), 0);
	for (u32 i = 0; i < N; i++) {
		len = 100 + i % 156;
		memset(name, 'a' + (int)(i % 26), len);
		snprintf(name, 16, "%05u", i);
		name[5] = '-';
		KT_ASSERT_EQ(nanofs_create(fs, dir, name, len, NANOFS_FILE, &ino), 0);
	}
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_EXPECT_EQ(nanofs_readdir(fs, dir, &cursor, cnt_entry, &count), 0);
	KT_EXPECT_EQ(count, N);
	for (u32 i = 0; i < N; i += 2) {
		len = 100 + i % 156;
		memset(name, 'a' + (int)(i % 26), len);
		snprintf(name, 16, "%05u", i);
		name[5] = '-';
		KT_EXPECT_EQ(nanofs_lookup(fs, dir, name, len, &ino), 0);
		KT_EXPECT_EQ(nanofs_unlink(fs, dir, name, len), 0);
		KT_EXPECT_EQ(nanofs_lookup(fs, dir, name, len, &ino), -ENOENT);
	}
	KT_EXPECT_EQ(nanofs_rmdir(fs, nanofs_root(fs), "d", 1), -ENOTEMPTY);
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_EXPECT_EQ(ramdev_fsck(r), 0);
	ramdev_free(r);
}

KTEST(nanofs_ops, enospc_at_exactly_full)
{
	struct ramdev *r = ramdev_new(256);
	size_t big = 1 << 20;
	u8 *data = malloc(big), *back = malloc(big);
	struct nanofs_statfs sf0, sf1, sf;
	struct nanofs *fs;
	u32 ino, root, n = 0;
	s64 wrote;
	char name[16];

	KT_ASSERT(r && data && back);
	for (size_t i = 0; i < big; i++)
		data[i] = (u8)(i ^ (i >> 12));
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	root = nanofs_root(fs);
	KT_ASSERT_EQ(nanofs_statfs(fs, &sf0), 0);
	KT_ASSERT_EQ(nanofs_create(fs, root, "big", 3, NANOFS_FILE, &ino), 0);
	KT_ASSERT_EQ(nanofs_statfs(fs, &sf1), 0);     /* the root now has a block */
	wrote = nanofs_write(fs, ino, 0, data, big);
	KT_EXPECT(wrote > 0 && wrote < (s64)big);
	KT_EXPECT_EQ(nanofs_write(fs, ino, (u64)wrote, data, 4096), -ENOSPC);
	KT_ASSERT_EQ(nanofs_statfs(fs, &sf), 0);
	KT_EXPECT_EQ(sf.free_blocks, 0);
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_EXPECT_EQ(ramdev_fsck(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_EXPECT_EQ(nanofs_read(fs, ino, 0, back, big), wrote);
	KT_EXPECT(!memcmp(back, data, (size_t)wrote));
	/* overwriting in place needs new blocks: refused whole, contents kept */
	KT_EXPECT_EQ(nanofs_write(fs, ino, 0, back + 1, 4096), -ENOSPC);
	KT_EXPECT_EQ(nanofs_read(fs, ino, 0, back, 4096), 4096);
	KT_EXPECT(!memcmp(back, data, 4096));
	KT_EXPECT_EQ(nanofs_unlink(fs, root, "big", 3), 0);
	KT_EXPECT_EQ(nanofs_sync(fs), 0);
	KT_ASSERT_EQ(nanofs_statfs(fs, &sf), 0);
	KT_EXPECT_EQ(sf.free_blocks, sf1.free_blocks);
	/* and inodes: create empty files until there are none */
	for (;; n++) {
		int err;

		snprintf(name, sizeof(name), "f%u", n);
		err = nanofs_create(fs, root, name, (u32)strlen(name), NANOFS_FILE, &ino);
		if (err) {
			KT_EXPECT_EQ(err, -ENOSPC);
			break;
		}
	}
	KT_EXPECT_EQ(n, sf0.free_inodes);
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_EXPECT_EQ(ramdev_fsck(r), 0);
	free(data);
	free(back);
	ramdev_free(r);
}

/*
 * The read window: sequential readers of two files in pieces of every size,
 * random readers, and writes, truncates and an unlink-then-create (which
 * reuses the inode number) in between; every byte read must be the model's.
 */
#define RW_FILE (1536u * 1024)

struct rw_file {
	u32 ino;
	u64 size, cursor;
	u8 *model;
};

static void rw_check_read(struct ktest_ctx *kt, struct nanofs *fs, struct rw_file *f, u64 off,
			  u32 len, u8 *back)
{
	u64 want = off >= f->size ? 0 : MIN((u64)len, f->size - off);

	KT_ASSERT_EQ(nanofs_read(fs, f->ino, off, back, len), (s64)want);
	KT_ASSERT(!memcmp(back, f->model + off, want));
}

static void rw_write(struct ktest_ctx *kt, struct nanofs *fs, struct rw_file *f, u64 off, u32 len)
{
	for (u32 i = 0; i < len; i++)
		f->model[off + i] = (u8)ktest_rand(kt);
	KT_ASSERT_EQ(nanofs_write(fs, f->ino, off, f->model + off, len), (s64)len);
	if (off + len > f->size) {
		memset(f->model + f->size, 0, off - MIN(off, f->size)); /* a hole reads as zeroes */
		f->size = off + len;
	}
}

static void rw_make(struct ktest_ctx *kt, struct nanofs *fs, u32 root, const char *name,
		    struct rw_file *f)
{
	KT_ASSERT_EQ(nanofs_create(fs, root, name, (u32)strlen(name), NANOFS_FILE, &f->ino), 0);
	f->size = f->cursor = 0;
	memset(f->model, 0, RW_FILE);
	rw_write(kt, fs, f, 0, RW_FILE);
}

KTEST(nanofs_ops, read_window_never_serves_stale_data)
{
	struct ramdev *r = ramdev_new(4096);
	struct rw_file f[2] = { { .model = malloc(RW_FILE) }, { .model = malloc(RW_FILE) } };
	u8 *back = malloc(RW_FILE);
	struct nanofs *fs;
	u32 root;

	KT_ASSERT(r && f[0].model && f[1].model && back);
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	root = nanofs_root(fs);
	rw_make(kt, fs, root, "a", &f[0]);
	rw_make(kt, fs, root, "b", &f[1]);
	for (unsigned step = 0; step < 3000; step++) {
		struct rw_file *x = &f[ktest_rand(kt) % 2];
		u32 what = ktest_rand(kt) % 100, len = 1 + ktest_rand(kt) % 20000;
		u64 off = ktest_rand(kt) % RW_FILE;

		if (what < 60) {                      /* the sequential reader */
			rw_check_read(kt, fs, x, x->cursor, len, back);
			x->cursor = x->cursor + len >= x->size ? 0 : x->cursor + len;
		} else if (what < 75) {
			rw_check_read(kt, fs, x, off, len, back);
		} else if (what < 93) {              /* often just ahead of the reader */
			u64 at = what < 85 ? MIN(x->cursor + len / 2, (u64)RW_FILE - 1) : off;

			rw_write(kt, fs, x, at, (u32)MIN((u64)len, RW_FILE - at));
		} else if (what < 97) {
			u64 to = off;

			KT_ASSERT_EQ(nanofs_truncate(fs, x->ino, to), 0);
			if (to < x->size)
				memset(x->model + to, 0, x->size - to);
			x->size = to;
			x->cursor = 0;
		} else {                              /* a new file, likely on the same inode */
			const char *name = x == &f[0] ? "a" : "b";

			KT_ASSERT_EQ(nanofs_unlink(fs, root, name, 1), 0);
			rw_make(kt, fs, root, name, x);
		}
	}
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_EXPECT_EQ(ramdev_fsck(r), 0);
	free(f[0].model);
	free(f[1].model);
	free(back);
	ramdev_free(r);
}
