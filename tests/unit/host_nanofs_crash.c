/*
 * host_nanofs_crash.c — power cuts and damaged bytes.
 *
 * Crash: each scenario is a few operations and a sync.  It runs once to
 * count its block writes and to record the volume's state after each
 * operation; then, for every n from 0 to that count, it runs again on the
 * same starting image with the power cut after n block writes (the rest
 * are dropped, a request cut in the middle keeps its first blocks).  The
 * remounted volume must be one of the recorded states — every operation
 * whole or absent, in order — and fsck-clean.
 *
 * Corruption: on a small volume, every byte of every metadata block
 * (superblocks, state, journal, bitmaps, inode table, directory and
 * indirect blocks) is damaged in turn.  Mount, reads and fsck must detect
 * it or be unharmed: never crash or hang, and never hand out file contents
 * that differ from what was written while fsck calls the volume clean.
 */
#include "tests/unit/host_nanofs_dev.h"
#include "tests/unit/shim/shim.h"
#include "fs/nanofs_priv.h"

#include <stdio.h>

#define MAXN 64

struct names {
	char name[MAXN][256];
	u32 len[MAXN], ino[MAXN];
	u8 type[MAXN];
	int n;
};

static int collect(void *arg, const char *name, u32 len, u32 ino, enum nanofs_type type)
{
	struct names *ns = arg;

	if (ns->n == MAXN)
		return 1;
	memcpy(ns->name[ns->n], name, len);
	ns->len[ns->n] = len;
	ns->ino[ns->n] = ino;
	ns->type[ns->n] = (u8)type;
	ns->n++;
	return 0;
}

static u8 *hashbuf;

/* An order-independent hash of the tree under @dir: names, types, sizes, bytes. */
static u32 tree_hash(struct nanofs *fs, u32 dir, u32 seed, int depth, int *err)
{
	struct names *ns = calloc(1, sizeof(*ns));
	u64 cursor = 0;
	u32 h = 0;

	if (!ns || depth > 8) {
		*err = -ENOMEM;
		free(ns);
		return 0;
	}
	if (nanofs_readdir(fs, dir, &cursor, collect, ns))
		*err = -EIO;
	for (int i = 0; i < ns->n && !*err; i++) {
		u32 e = crc32_update(seed, ns->name[i], ns->len[i]);
		struct nanofs_stat st;

		if (nanofs_stat(fs, ns->ino[i], &st)) {
			*err = -EIO;
			break;
		}
		e = crc32_update(e, &ns->type[i], 1);
		if (ns->type[i] == NANOFS_DIR) {
			e ^= tree_hash(fs, ns->ino[i], e, depth + 1, err) * 31u;
		} else {
			s64 n = nanofs_read(fs, ns->ino[i], 0, hashbuf, 4u << 20);

			if (n != (s64)st.size)
				*err = -EIO;
			e = crc32_update(e, &st.size, sizeof(st.size));
			e = crc32_update(e, hashbuf, n > 0 ? (size_t)n : 0);
		}
		h ^= e;
	}
	free(ns);
	return h;
}

struct crash {
	struct nanofs *fs;
	u32 state[16];
	int nstates;
	bool recording;
	u8 *data;
};

static void record(struct crash *c)
{
	int err = 0;

	if (c->recording && c->nstates < 16)
		c->state[c->nstates++] = tree_hash(c->fs, nanofs_root(c->fs), 0, 0, &err);
}

static u32 look(struct nanofs *fs, const char *name)
{
	u32 ino = 0;

	nanofs_lookup(fs, nanofs_root(fs), name, (u32)strlen(name), &ino);
	return ino;
}

static void sc_create_write(struct crash *c)
{
	u32 ino;

	nanofs_create(c->fs, nanofs_root(c->fs), "new", 3, NANOFS_FILE, &ino);
	record(c);
	nanofs_write(c->fs, ino, 0, c->data, 150000);
	record(c);
	nanofs_sync(c->fs);
}

static void sc_overwrite_middle(struct crash *c)
{
	nanofs_write(c->fs, look(c->fs, "keep"), 30001, c->data + 7, 40000);
	record(c);
	nanofs_sync(c->fs);
}

static void sc_rename_replace(struct crash *c)
{
	u32 d = look(c->fs, "d");

	nanofs_rename(c->fs, nanofs_root(c->fs), "old", 3, d, "x", 1);
	record(c);
	nanofs_sync(c->fs);
}

static void sc_unlink_big(struct crash *c)
{
	nanofs_unlink(c->fs, nanofs_root(c->fs), "keep", 4);
	record(c);
	nanofs_sync(c->fs);
}

static void sc_truncate(struct crash *c)
{
	nanofs_truncate(c->fs, look(c->fs, "keep"), 5000);
	record(c);
	nanofs_sync(c->fs);
}

static void sc_tree(struct crash *c)
{
	u32 e, f, root = nanofs_root(c->fs);

	nanofs_create(c->fs, root, "e", 1, NANOFS_DIR, &e);
	record(c);
	nanofs_create(c->fs, e, "f", 1, NANOFS_FILE, &f);
	record(c);
	nanofs_write(c->fs, f, 0, c->data + 3, 10000);
	record(c);
	nanofs_rename(c->fs, root, "d", 1, e, "d", 1);
	record(c);
	nanofs_rmdir(c->fs, root, "e", 1);     /* refused: not empty */
	nanofs_sync(c->fs);
}

static void sc_big_write(struct crash *c)
{
	nanofs_write(c->fs, look(c->fs, "old"), 0, c->data, 1 << 20);
	record(c);
	nanofs_sync(c->fs);
}

static void populate(struct nanofs *fs, const u8 *data)
{
	u32 root = nanofs_root(fs), ino, d;

	nanofs_create(fs, root, "keep", 4, NANOFS_FILE, &ino);
	nanofs_write(fs, ino, 0, data + 100, 100000);
	nanofs_create(fs, root, "old", 3, NANOFS_FILE, &ino);
	nanofs_write(fs, ino, 0, data + 200, 60000);
	nanofs_create(fs, root, "d", 1, NANOFS_DIR, &d);
	for (int i = 0; i < 3; i++) {
		char n[2] = { (char)('x' + i), 0 };

		nanofs_create(fs, d, n, 1, NANOFS_FILE, &ino);
		nanofs_write(fs, ino, 0, data + i, 5000u * (u32)(i + 1));
	}
}

static bool known(const struct crash *c, u32 h)
{
	for (int i = 0; i < c->nstates; i++)
		if (c->state[i] == h)
			return true;
	return false;
}

static void run_scenario(struct ktest_ctx *kt, struct ramdev *r, const u8 *snap, struct crash *c,
			 void (*sc)(struct crash *c), const char *what)
{
	u64 total;

	ramdev_restore(r, snap);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &c->fs), 0);
	c->nstates = 0;
	c->recording = true;
	record(c);
	total = r->writes;
	sc(c);
	KT_EXPECT_EQ(nanofs_unmount(c->fs), 0);
	total = r->writes - total;
	c->recording = false;
	for (u64 cut = 0; cut <= total && !kt->failures; cut++) {
		int err = 0;
		u32 h;

		ramdev_restore(r, snap);
		KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &c->fs), 0);
		r->budget = (s64)cut;
		sc(c);
		nanofs_unmount(c->fs);
		r->budget = -1;
		KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &c->fs), 0);
		h = tree_hash(c->fs, nanofs_root(c->fs), 0, 0, &err);
		KT_EXPECT_EQ(err, 0);
		KT_EXPECT(known(c, h));
		KT_EXPECT_EQ(nanofs_unmount(c->fs), 0);
		KT_EXPECT_EQ(ramdev_fsck(r), 0);
		if (kt->failures)
			ktest_log(kt, "%s: power cut after %llu of %llu block writes", what,
				  (unsigned long long)cut, (unsigned long long)total);
	}
}

KTEST(nanofs_crash, power_cut_after_every_block_write)
{
	struct ramdev *r = ramdev_new(1024);
	struct crash c = { 0 };
	struct nanofs *fs;
	u8 *snap;

	hashbuf = malloc(4u << 20);
	c.data = malloc(1u << 21);
	KT_ASSERT(r && hashbuf && c.data);
	for (u32 i = 0; i < (1u << 21); i++)
		c.data[i] = (u8)(i * 13 + (i >> 11));
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	populate(fs, c.data);
	KT_ASSERT_EQ(nanofs_unmount(fs), 0);
	snap = ramdev_snapshot(r);
	KT_ASSERT(snap);
	run_scenario(kt, r, snap, &c, sc_create_write, "create and write");
	run_scenario(kt, r, snap, &c, sc_overwrite_middle, "overwrite in the middle");
	run_scenario(kt, r, snap, &c, sc_rename_replace, "rename over a file");
	run_scenario(kt, r, snap, &c, sc_unlink_big, "unlink");
	run_scenario(kt, r, snap, &c, sc_truncate, "truncate");
	run_scenario(kt, r, snap, &c, sc_tree, "mkdir, create, write, rename a directory");
	run_scenario(kt, r, snap, &c, sc_big_write, "1 MiB write");
	free(snap);
	free(c.data);
	free(hashbuf);
	ramdev_free(r);
}

/* ------------------------------------------------------------ corruption */

struct expect_file {
	const char *dir, *name;
	u32 len;
	const u8 *data;
};

/* Does everything read back as written?  false also when a read fails. */
static bool reads_back(struct nanofs *fs, const struct expect_file *f, u32 n, bool *failed)
{
	bool same = true;

	for (u32 i = 0; i < n; i++) {
		u32 dir = nanofs_root(fs), ino;
		s64 got;

		if (f[i].dir && nanofs_lookup(fs, dir, f[i].dir, 1, &dir)) {
			*failed = true;
			continue;
		}
		if (nanofs_lookup(fs, dir, f[i].name, (u32)strlen(f[i].name), &ino)) {
			*failed = true;
			continue;
		}
		got = nanofs_read(fs, ino, 0, hashbuf, f[i].len + 10);
		if (got < 0)
			*failed = true;
		else if (got != f[i].len || memcmp(hashbuf, f[i].data, f[i].len))
			same = false;
	}
	return same;
}

/*
 * Blocks worth damaging, of the 1 MiB layout (docs/nanofs.md): the
 * superblocks, the state block, the journal (@journal) or the metadata at
 * home (!@journal): bitmaps, inode table, directory and indirect blocks.
 */
static bool is_metadata(const struct ramdev *r, u64 b, bool journal)
{
	static const u32 kinds[] = { NANOFS_KIND_DIR, NANOFS_KIND_IND(1), NANOFS_KIND_IND(2) };
	const u8 *blk = r->mem + b * NANOFS_BSIZE;
	const struct nanofs_tail *t = (const struct nanofs_tail *)(blk + NANOFS_TAIL_OFF);

	if (journal)
		return b >= 2 && b < 34 && memcmp(blk, blk + 1, NANOFS_BSIZE - 1);  /* used ones */
	if (b < 2 || (b >= 34 && b < 40) || b == r->dev.blocks - 1)
		return true;
	for (u32 i = 0; b >= 40 && i < ARRAY_SIZE(kinds); i++)
		if (t->kind == kinds[i])
			return true;
	return false;
}

/*
 * The bytes of a block that carry a structure: its head (every header and
 * superblock field, the first entries), its tail, and every byte that is
 * not plain fill; of the fill, one byte in 64.  (A CRC-protected block's
 * fill goes the same way as its fields; testing all 4096 bytes of each
 * would only repeat that path.)
 */
static bool worth(const u8 *blk, u32 off)
{
	return off < 256 || off >= NANOFS_TAIL_OFF || (blk[off] != 0 && blk[off] != 0xFF) ||
	       off % 64 == 0;
}

/* Damage each chosen byte in turn; mount, read back, fsck. */
static void damage_all(struct ktest_ctx *kt, struct ramdev *r, const struct expect_file *files,
		       bool journal, u32 *tested, u32 *detected)
{
	for (u64 b = 0; b < r->dev.blocks && !kt->failures; b++) {
		if (!is_metadata(r, b, journal))
			continue;
		for (u32 off = 0; off < NANOFS_BSIZE && !kt->failures; off++) {
			u8 *p = r->mem + b * NANOFS_BSIZE + off;
			bool failed = false, same = true;
			struct nanofs *fs;

			if (!worth(r->mem + b * NANOFS_BSIZE, off))
				continue;
			*p ^= 0x5A;
			if (nanofs_mount(&r->dev, true, &fs)) {
				failed = true;
			} else {
				same = reads_back(fs, files, 3, &failed);
				nanofs_unmount(fs);
			}
			if (ramdev_fsck(r))
				failed = true;
			if (!same && !failed)
				ktest_fail(kt, __FILE__, __LINE__,
					   "block %llu byte %u: wrong contents, nothing noticed",
					   (unsigned long long)b, off);
			++*tested;
			*detected += failed;
			*p ^= 0x5A;
		}
	}
}

KTEST(nanofs_crash, every_metadata_byte_damaged_in_turn)
{
	struct ramdev *r = ramdev_new(256);
	u8 *data = malloc(200000);
	struct expect_file files[3];
	struct nanofs *fs;
	u32 ino, d, root, tested = 0, detected = 0;


	hashbuf = malloc(1 << 20);
	KT_ASSERT(r && data && hashbuf);
	for (u32 i = 0; i < 200000; i++)
		data[i] = (u8)(i * 29 + (i >> 9));
	files[0] = (struct expect_file){ NULL, "a", 13 * 4096 + 100, data };  /* needs IND1 */
	files[1] = (struct expect_file){ NULL, "b", 300, data + 5 };
	files[2] = (struct expect_file){ "d", "c", 5000, data + 77 };
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	root = nanofs_root(fs);
	nanofs_create(fs, root, "a", 1, NANOFS_FILE, &ino);
	nanofs_write(fs, ino, 0, files[0].data, files[0].len);
	nanofs_create(fs, root, "b", 1, NANOFS_FILE, &ino);
	nanofs_write(fs, ino, 0, files[1].data, files[1].len);
	nanofs_create(fs, root, "d", 1, NANOFS_DIR, &d);
	nanofs_create(fs, d, "c", 1, NANOFS_FILE, &ino);
	nanofs_write(fs, ino, 0, files[2].data, files[2].len);
	KT_ASSERT_EQ(nanofs_unmount(fs), 0);
	KT_ASSERT_EQ(ramdev_fsck(r), 0);
	/* the journal's copy of the last transaction: damage cancels the replay */
	damage_all(kt, r, files, true, &tested, &detected);
	/* and without it, so no journal image hides damage at home */
	memset(r->mem + 2 * NANOFS_BSIZE, 0, NANOFS_BSIZE);
	KT_ASSERT_EQ(ramdev_fsck(r), 0);
	ktest_log(kt, "journal: %u bytes damaged, %u detected", tested, detected);
	tested = detected = 0;
	damage_all(kt, r, files, false, &tested, &detected);
	ktest_log(kt, "at home: %u bytes damaged, %u detected", tested, detected);
	KT_EXPECT(tested > 3000);
	KT_EXPECT(detected > tested / 2);
	KT_EXPECT_EQ(ramdev_fsck(r), 0);
	free(data);
	free(hashbuf);
	ramdev_free(r);
}

/* Lines fsck reported that contain @want (via nanofs_fsck's report). */
struct fsck_grep {
	const char *want;
	int problems, matches;
};

static void fsck_grep_line(void *arg, const char *msg)
{
	struct fsck_grep *g = arg;

	nanofs_test_count_report(&g->problems, msg);
	g->matches += strstr(msg, g->want) != NULL;
}

/*
 * Found by tests/fuzz/fuzz_nanofs.c: a journal transaction whose header
 * names a live file's data block as a target, with every checksum still
 * right (the fuzzer's input had the header's tail resealed; crc_all came
 * out unchanged by itself, as a CRC-32C over a block ending in its own
 * right CRC does; here both are simply recomputed).  fsck checks the
 * read-only view, where the image stays in the cache and the file's data
 * is read from the disk, and called the volume clean; the next writable
 * mount replayed the image over the file.  fsck must name the problem, and
 * the mount must then hand out -EIO for that file, never the image's bytes.
 */
KTEST(nanofs_crash, journal_image_over_file_data_is_reported)
{
	struct ramdev *r = ramdev_new(256);
	u8 *data = malloc(5 * NANOFS_BSIZE), *hdr, *cmt;
	struct nanofs_jhdr *h;
	struct nanofs_jcommit *c;
	struct nanofs_layout l;
	struct nanofs *fs;
	struct fsck_grep g = { .want = "the journal holds an image" };
	u32 ino, crc, victim;

	KT_ASSERT(r && data);
	memset(data, 0x3C, 5 * NANOFS_BSIZE);
	KT_ASSERT_EQ(nanofs_layout_compute(256, 0, &l), 0);
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_ASSERT_EQ(nanofs_create(fs, nanofs_root(fs), "f", 1, NANOFS_FILE, &ino), 0);
	KT_ASSERT_EQ(nanofs_write(fs, ino, 0, data, 5 * NANOFS_BSIZE), 5 * NANOFS_BSIZE);
	KT_ASSERT_EQ(nanofs_unmount(fs), 0);
	KT_ASSERT_EQ(ramdev_fsck(r), 0);

	/* The file's first block, from its inode in the table. */
	victim = ((const struct nanofs_inode *)(r->mem + (l.itable_start + ino / 16) * NANOFS_BSIZE +
						(ino % 16) * NANOFS_INODE_SIZE))->direct[0].block;
	KT_ASSERT(victim >= l.data_start && victim < l.data_start + l.data_blocks);
	hdr = r->mem + l.journal_start * NANOFS_BSIZE;
	h = (struct nanofs_jhdr *)hdr;
	KT_ASSERT(h->count > 0);
	h->target[0] = victim;
	nanofs_tail_seal(l.journal_start, hdr, NANOFS_KIND_JHDR);
	crc = crc32c(hdr, NANOFS_BSIZE);
	for (u32 i = 0; i < h->count; i++)
		crc = crc32c_update(crc, hdr + (size_t)(1 + i) * NANOFS_BSIZE, NANOFS_BSIZE);
	cmt = hdr + (size_t)(1 + h->count) * NANOFS_BSIZE;
	c = (struct nanofs_jcommit *)cmt;
	c->crc_all = crc;
	nanofs_tail_seal(l.journal_start + 1 + h->count, cmt, NANOFS_KIND_JCMT);

	KT_EXPECT_EQ(nanofs_fsck(&r->dev, fsck_grep_line, &g, false), g.problems);
	KT_EXPECT(g.problems > 0);
	KT_EXPECT_EQ(g.matches, 1);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_EXPECT_LOGGED("replayed journal transaction");
	KT_EXPECT_EQ(nanofs_read(fs, ino, 0, data, NANOFS_BSIZE), -EIO);
	KT_EXPECT_LOGGED("data checksum mismatch");
	nanofs_unmount(fs);
	free(data);
	ramdev_free(r);
}

/*
 * fsck's walk of a file's pointers: an indirect pointer outside the data
 * region is reported and not followed, and the walk goes on with the rest
 * of the file.  (It used to end there: every block under the file's later
 * trees went unwalked, and was reported again as "leaked".)  A sparse file
 * with one block under its single-indirect tree and one under its
 * double-indirect tree; the first tree's pointer is bent to a metadata
 * block.  What is lost is exactly that tree: its node and its data block.
 */
KTEST(nanofs_crash, a_bad_indirect_pointer_hides_nothing_after_it)
{
	const u64 in_ind1 = NANOFS_NDIRECT, in_ind2 = NANOFS_NDIRECT + NANOFS_PTRS_PER_BLOCK;
	struct ramdev *r = ramdev_new(256);
	u8 block[NANOFS_BSIZE];
	struct nanofs_inode *in;
	struct nanofs_layout l;
	struct nanofs *fs;
	struct fsck_grep bad = { .want = "outside the data region" };
	struct fsck_grep leaked = { .want = "owned by nothing (leaked)" };
	u32 ino;

	KT_ASSERT(r);
	memset(block, 0x5A, sizeof(block));
	KT_ASSERT_EQ(nanofs_layout_compute(256, 0, &l), 0);
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_ASSERT_EQ(nanofs_create(fs, nanofs_root(fs), "f", 1, NANOFS_FILE, &ino), 0);
	KT_ASSERT_EQ(nanofs_write(fs, ino, in_ind1 * NANOFS_BSIZE, block, NANOFS_BSIZE),
		     NANOFS_BSIZE);
	KT_ASSERT_EQ(nanofs_write(fs, ino, in_ind2 * NANOFS_BSIZE, block, NANOFS_BSIZE),
		     NANOFS_BSIZE);
	KT_ASSERT_EQ(nanofs_unmount(fs), 0);
	KT_ASSERT_EQ(ramdev_fsck(r), 0);
	/* no journal image of the inode's block to be replayed over the edit */
	memset(r->mem + (size_t)l.journal_start * NANOFS_BSIZE, 0, NANOFS_BSIZE);

	in = (struct nanofs_inode *)(r->mem + (l.itable_start + ino / 16) * NANOFS_BSIZE +
				     (ino % 16) * NANOFS_INODE_SIZE);
	KT_ASSERT(in->ind[0] && in->ind[1]);
	in->ind[0] = l.itable_start;    /* metadata, not data */
	in->crc = nanofs_inode_crc(ino, in);

	KT_EXPECT(nanofs_fsck(&r->dev, fsck_grep_line, &bad, false) > 0);
	KT_EXPECT_EQ(bad.matches, 1);
	KT_EXPECT(nanofs_fsck(&r->dev, fsck_grep_line, &leaked, false) > 0);
	KT_EXPECT_EQ(leaked.matches, 2);        /* the bent tree's node and data block */
	ramdev_free(r);
}
