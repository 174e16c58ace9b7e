/*
 * fuzz_nanofs.c — nanofs's fsck and mount (fs/nanofs*.c) over a mutated
 * image, then every operation a user would try on what mounted.
 *
 * The image: a 1 MiB volume (NANOFS_MIN_BLOCKS, the smallest nanofs
 * formats) made once per process with the kernel's own code on a RAM disk
 * (tests/unit/host_nanofs_dev.h): nanofs_format(), then through the core's
 * API a file of 13 blocks and a bit (direct blocks and an IND1), a small
 * file, a directory holding a file and a directory, an empty file, and an
 * unmount, so the journal holds the last transaction.  Every input starts
 * from a copy of it.
 *
 * Input: byte 0 is flags, then patches, each
 *   block (1 byte)  offset (2 bytes LE, mod 4096)  n (1 byte)  n bytes
 * written at that place (cut at the block's end; the last patch may be
 * cut short by the end of the input).  Flags:
 *   bit 0  reseal what was patched, so damage gets past the checksums to
 *          the code behind them: a superblock copy (block 0 or the last)
 *          gets its CRC, an inode-table block the CRC of each inode, and any
 *          other block whose tail names a known kind its tail CRC (a data
 *          block's CRC sits in its parent's pointer and is left alone);
 *   bit 1  mount read-only (the journal is replayed in memory only).
 *
 * Then, with nothing allowed to panic, hang, leak, or touch the disk past
 * its end (the RAM disk notes it), and every result 0 or a negative errno
 * of the documented set:
 *   1. nanofs_fsck() (no repair) counts its problems;
 *   2. nanofs_mount(): a refusal is -EINVAL, -EIO or -ENOMEM;
 *   3. the tree is walked from the root (depth MAX_DEPTH, MAX_NODES in
 *      all, MAX_ENTRIES per directory): stat and readdir of each, every
 *      file read whole up to READ_MAX bytes, a read never longer than asked;
 *   4. a file is created in the root, written and synced, and unmount must
 *      say 0 or -EIO;
 *   5. when fsck found the image clean, the walk must have met no error
 *      and no inode twice (nanofs has no hard links), and when moreover the
 *      mount was writable and the write, sync and unmount succeeded, fsck
 *      must find it clean again.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/host_nanofs_dev.h"
#include "tests/unit/shim/shim.h"
#include "fs/nanofs_priv.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"

#define BLOCKS NANOFS_MIN_BLOCKS
#define PATCH_HDR 4
#define MAX_DEPTH 6
#define MAX_NODES 48
#define MAX_ENTRIES 40
#define READ_MAX (64u << 10)

#define F_RESEAL 1
#define F_READ_ONLY 2

static u8 *base;                 /* the pristine image */
static struct ramdev *disk;      /* each input's copy */
static u8 *rbuf;                 /* READ_MAX bytes */
static struct nanofs_layout lay;

/* ------------------------------------------------------------ the image */

static int put_file(struct nanofs *fs, u32 dir, const char *name, const u8 *data, u64 len)
{
	u32 ino;
	int rc = nanofs_create(fs, dir, name, (u32)strlen(name), NANOFS_FILE, &ino);

	if (rc)
		return rc;
	return nanofs_write(fs, ino, 0, data, len) == (s64)len ? 0 : -EIO;
}

static int make_base(void)
{
	struct ramdev *r = ramdev_new(BLOCKS);
	struct nanofs *fs = NULL;
	u32 root, d, e;
	int rc;

	if (!r)
		return -ENOMEM;
	for (u32 i = 0; i < READ_MAX; i++)
		rbuf[i] = (u8)(i * 29 + (i >> 9));
	rc = ramdev_format(r);
	if (!rc)
		rc = nanofs_mount(&r->dev, false, &fs);
	if (!rc) {
		root = nanofs_root(fs);
		rc = put_file(fs, root, "a", rbuf, 13 * NANOFS_BSIZE + 100);
		rc = rc ? rc : put_file(fs, root, "b", rbuf + 5, 300);
		rc = rc ? rc : nanofs_create(fs, root, "d", 1, NANOFS_DIR, &d);
		rc = rc ? rc : put_file(fs, d, "c", rbuf + 77, 5000);
		rc = rc ? rc : nanofs_create(fs, d, "e", 1, NANOFS_DIR, &e);
		rc = rc ? rc : put_file(fs, e, "empty", rbuf, 0);
		rc = nanofs_unmount(fs) ?: rc;
	}
	if (!rc)
		rc = nanofs_layout_compute(BLOCKS, 0, &lay);
	if (!rc && ramdev_fsck(r))
		rc = -EIO;
	if (!rc && (base = malloc((size_t)BLOCKS * NANOFS_BSIZE)))
		memcpy(base, r->mem, (size_t)BLOCKS * NANOFS_BSIZE);
	ramdev_free(r);
	return rc ? rc : base ? 0 : -ENOMEM;
}

static int setup(void)
{
	if (base)
		return 0;
	rbuf = malloc(READ_MAX);
	disk = ramdev_new(BLOCKS);
	if (!rbuf || !disk)
		return -ENOMEM;
	return make_base();
}

/* ------------------------------------------------------------ mutation */

static void reseal(u32 b)
{
	u8 *blk = disk->mem + (size_t)b * NANOFS_BSIZE;
	const struct nanofs_tail *t = (const void *)(blk + NANOFS_TAIL_OFF);
	static const u32 kinds[] = {
		NANOFS_KIND_DIR, NANOFS_KIND_IND(1), NANOFS_KIND_IND(2), NANOFS_KIND_IND(3),
		NANOFS_KIND_IND(4), NANOFS_KIND_IBMP, NANOFS_KIND_DBMP, NANOFS_KIND_STATE,
		NANOFS_KIND_JHDR, NANOFS_KIND_JCMT,
	};

	if (b == 0 || b == BLOCKS - 1) {
		struct nanofs_super *sb = (void *)blk;

		sb->crc = nanofs_super_crc(sb);
		return;
	}
	if (b >= lay.itable_start && b < lay.itable_start + lay.itable_blocks) {
		for (u32 i = 0; i < NANOFS_INODES_PER_BLOCK; i++) {
			struct nanofs_inode *in = (void *)(blk + i * NANOFS_INODE_SIZE);
			u32 ino = (u32)((b - lay.itable_start) * NANOFS_INODES_PER_BLOCK + i);

			in->crc = nanofs_inode_crc(ino, in);
		}
		return;
	}
	for (u32 i = 0; i < ARRAY_SIZE(kinds); i++)
		if (t->kind == kinds[i])
			nanofs_tail_seal(b, blk, t->kind);
}

static void apply_patches(bool seal)
{
	static bool touched[BLOCKS];
	size_t pos = 1;

	memset(touched, 0, sizeof(touched));
	while (pos + PATCH_HDR <= fuzz_size) {
		u32 b = fuzz_data[pos], off = get_le16(fuzz_data + pos + 1) % NANOFS_BSIZE;
		size_t n = fuzz_data[pos + 3];

		pos += PATCH_HDR;
		n = MIN(n, fuzz_size - pos);
		n = MIN(n, (size_t)(NANOFS_BSIZE - off));
		memcpy(disk->mem + (size_t)b * NANOFS_BSIZE + off, fuzz_data + pos, n);
		pos += n;
		touched[b] = true;
	}
	for (u32 b = 0; seal && b < BLOCKS; b++)
		if (touched[b])
			reseal(b);
}

/* ------------------------------------------------------------ checks */

/* The errors nanofs.h lists (a call may fail only with one of these). */
static bool known_err(s64 rc)
{
	switch (rc) {
	case -ENOENT: case -EEXIST: case -ENOTDIR: case -EISDIR: case -ENOTEMPTY:
	case -ENAMETOOLONG: case -EINVAL: case -ENOSPC: case -EROFS: case -EIO: case -ENOMEM:
		return true;
	}
	return false;
}

#define EXPECT_RC(rc) do {                                                          \
	s64 rc_ = (rc);                                                             \
	if (rc_ < 0 && !known_err(rc_))                                             \
		ktest_fail(kt, __FILE__, __LINE__, "%s gave %lld", #rc, (long long)rc_); \
} while (0)

static void on_fsck(void *arg, const char *msg)
{
	nanofs_test_count_report(arg, msg);
}

static int fsck_problems(struct ktest_ctx *kt)
{
	int lines = 0, rc = nanofs_fsck(&disk->dev, on_fsck, &lines, false);

	KT_EXPECT(rc >= 0 || rc == -ENOMEM || rc == -EIO);
	return rc;
}

struct walk {
	struct ktest_ctx *kt;
	struct nanofs *fs;
	unsigned nodes;
	u32 seen[MAX_NODES + 1]; /* inodes reached, the root first */
	bool all_ok;             /* every call succeeded */
	bool twice;              /* an inode was reached a second time */
};

struct listing {
	u32 ino[MAX_ENTRIES];
	u8 type[MAX_ENTRIES];
	unsigned n;
	bool bad_name;
};

static int on_entry(void *arg, const char *name, u32 len, u32 ino, enum nanofs_type type)
{
	struct listing *l = arg;

	if (l->n == MAX_ENTRIES)
		return 1;
	if (!len || len > NANOFS_NAME_MAX)
		l->bad_name = true;
	l->ino[l->n] = ino;
	l->type[l->n++] = (u8)type;
	return 0;
}

static void read_file(struct walk *w, u32 ino, const struct nanofs_stat *st)
{
	struct ktest_ctx *kt = w->kt;
	u64 want = MIN(st->size, (u64)READ_MAX), got = 0;

	while (got < want) {
		s64 n = nanofs_read(w->fs, ino, got, rbuf + got, MIN(want - got, 16384u));

		EXPECT_RC(n);
		if (n <= 0) {
			w->all_ok = false; /* an error, or a file shorter than its size */
			return;
		}
		KT_ASSERT((u64)n <= MIN(want - got, 16384u));
		got += (u64)n;
	}
}

static void walk_dir(struct walk *w, u32 dir, int depth)
{
	struct ktest_ctx *kt = w->kt;
	struct listing *l = calloc(1, sizeof(*l));
	u64 cursor = 0;
	int rc;

	if (!l)
		return;
	rc = nanofs_readdir(w->fs, dir, &cursor, on_entry, l);
	EXPECT_RC(rc);
	KT_EXPECT(rc <= 0);
	KT_EXPECT(!l->bad_name);
	w->all_ok &= rc == 0;
	for (unsigned i = 0; i < l->n && w->nodes < MAX_NODES; i++) {
		struct nanofs_stat st;

		for (unsigned k = 0; k <= w->nodes; k++)
			w->twice |= w->seen[k] == l->ino[i];
		w->seen[++w->nodes] = l->ino[i];
		rc = nanofs_stat(w->fs, l->ino[i], &st);
		EXPECT_RC(rc);
		if (rc) {
			w->all_ok = false;
			continue;
		}
		if (st.type == NANOFS_FILE)
			read_file(w, l->ino[i], &st);
		else if (depth < MAX_DEPTH)
			walk_dir(w, l->ino[i], depth + 1);
	}
	free(l);
}

/* Create, write, sync; every step may fail, but only with an error. */
static void try_write(struct walk *w)
{
	struct ktest_ctx *kt = w->kt;
	u32 ino;
	s64 n;
	int rc = nanofs_create(w->fs, nanofs_root(w->fs), "fz", 2, NANOFS_FILE, &ino);

	EXPECT_RC(rc);
	w->all_ok &= rc == 0;
	if (!rc) {
		n = nanofs_write(w->fs, ino, 0, rbuf, 6000);
		EXPECT_RC(n);
		w->all_ok &= n == 6000;
	}
	rc = nanofs_sync(w->fs);
	EXPECT_RC(rc);
	w->all_ok &= rc == 0;
}

KTEST(fuzz, nanofs)
{
	u8 flags = fuzz_size ? fuzz_data[0] : 0;
	struct walk w = { .kt = kt, .all_ok = true };
	struct nanofs_stat st;
	int problems, rc;

	KT_ASSERT_EQ(setup(), 0);
	memcpy(disk->mem, base, (size_t)BLOCKS * NANOFS_BSIZE);
	disk->out_of_range = false;
	apply_patches(flags & F_RESEAL);
	problems = fsck_problems(kt);
	rc = nanofs_mount(&disk->dev, flags & F_READ_ONLY, &w.fs);
	KT_EXPECT(rc == 0 || rc == -EINVAL || rc == -EIO || rc == -ENOMEM);
	if (!rc) {
		rc = nanofs_stat(w.fs, nanofs_root(w.fs), &st);
		EXPECT_RC(rc);
		w.seen[0] = nanofs_root(w.fs);
		if (!rc && st.type == NANOFS_DIR)
			walk_dir(&w, nanofs_root(w.fs), 0);
		/* nanofs has no hard links: fsck's "clean" means a tree whose every
		 * inode, directory and data block reads back without error. */
		if (problems == 0 && (w.twice || !w.all_ok || rc))
			ktest_fail(kt, __FILE__, __LINE__, "fsck found the volume clean, but the "
				   "walk %s", w.twice ? "reached an inode twice" : "met an error");
		try_write(&w);
		rc = nanofs_unmount(w.fs);
		KT_EXPECT(rc == 0 || rc == -EIO);
		if (!(flags & F_READ_ONLY) && problems == 0 && w.all_ok && !rc)
			KT_EXPECT_EQ(fsck_problems(kt), 0);
	}
	KT_EXPECT(!disk->out_of_range);
}
