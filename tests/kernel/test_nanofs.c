/*
 * test_nanofs.c — boot tests of nanofs as the kernel runs it: the VFS glue
 * (fs/nanofs_vfs.c), its `format` and `fsck` commands and the block layer,
 * over a fake disk of tests/kernel/blk_fake.h into which the tests inject
 * I/O errors.
 *
 * The disk (rna, from the prefix "rn") has 2 MiB of 512-byte sectors and
 * finishes each request inside submit, so a test spends its time in
 * nanofs, not waiting for ticks; it is registered on first use and stays
 * for the boot.  Each test formats it afresh and mounts it on /ktnv.
 *
 * What the injected errors must lead to (docs/nanofs.md, "Errors"):
 *  - a bad sector under a file's data: reading those bytes is -EIO, the
 *    rest of the file and the other files still read, and overwriting
 *    the whole block moves it elsewhere (copy on write), after which the
 *    file reads again;
 *  - a bad sector under the inode table or a directory block: what needs
 *    it is -EIO, what does not still works, and a create that failed half
 *    way leaks nothing;
 *  - a write error in the journal: the commit fails, the volume refuses
 *    further changes, and the next mount has the old state; in a home
 *    block after the journal committed: the next mount replays the new one;
 *  - an error at each request of a commit in turn: the old state or the new;
 *  - an unreadable superblock or state block: mount refuses, and mounts
 *    once the error is gone; fsck over a bad data block names a problem.
 * After every test the error is cleared and fsck must find the volume
 * clean, and the fake must have seen no request a correct layer would not
 * send.
 *
 * Every test runs in a server (blk_fake.h): VFS calls wait on the disk
 * without a bound, and the server's wait has one.  The shell commands run
 * in that same task through a session of their own.  The glue's sync task
 * commits mounted volumes every 5 s on its own, so a test sets an error
 * before the change it is meant to hit, and its checks hold whoever
 * commits that change.
 */
#include "tests/kernel/blk_fake.h"
#include "tests/unit/vfs_test_util.h"
#include "errno.h"
#include "fs/nanofs_disk.h"
#include "fs/vfs.h"
#include "kernel/printk.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

#define MNT "/ktnv"
#define RN_SECTORS 4096u                      /* 2 MiB */
#define SPB (NANOFS_BSIZE / FAKE_SECTOR)      /* sectors per block */
#define BIG_BLOCKS 70u                        /* more than a write step of 64 */
#define BIG_PAGES (BIG_BLOCKS + 1)

/* ------------------------------------------------------------ the disk */

static struct fake *rn;
static int rn_rc = 1;             /* 1: not registered yet */
static u8 *big, *back;            /* BIG_PAGES pages each, kept for the boot */

static void rn_register(void *arg)
{
	(void)arg;
	rn_rc = blkdev_register(&rn->disk, "rn");
}

/* The disk and the buffers, made on first use; NULL when they cannot be. */
static struct fake *nv_disk(void)
{
	if (rn_rc == 1) {
		struct fake_job j = { .kind = FAKE_JOB_FN, .fn = rn_register };

		big = big ? big : page_alloc(BIG_PAGES);
		back = back ? back : page_alloc(BIG_PAGES);
		rn = rn ? rn : fake_make(RN_SECTORS);
		if (!rn || !big || !back)
			return NULL;
		rn->instant = true;
		if (fake_job_run(&j))
			rn_rc = -ETIMEDOUT;
	}
	return rn_rc ? NULL : rn;
}

static const char *dev(struct fake *f)
{
	return blkdev_name(&f->disk);
}

/* The superblock as it is on the media. */
static const struct nanofs_super *sb_of(struct fake *f)
{
	return (const struct nanofs_super *)fake_at(f, 0);
}

/* The first sector of block @blk (a block never straddles a chunk). */
static u64 sector_of(u64 blk)
{
	return blk * SPB;
}

/* Inode @ino as it is on the media (current after a sync). */
static const struct nanofs_inode *inode_of(struct fake *f, u64 ino)
{
	u64 blk = sb_of(f)->itable_start + ino / NANOFS_INODES_PER_BLOCK;

	return (const struct nanofs_inode *)(fake_at(f, sector_of(blk)) +
					     ino % NANOFS_INODES_PER_BLOCK * NANOFS_INODE_SIZE);
}

/* ------------------------------------------------------------- files */

/* Does @path hold exactly the @len bytes at @want? */
static bool holds(const char *path, const void *want, size_t len)
{
	return vt_holds(path, want, len, back, BIG_PAGES * PAGE_SIZE);
}

/* dmesg lines holding @needle. */
struct dmesg_count {
	const char *needle;
	unsigned n;
};

static void count_line(const char *line, enum log_level level, void *arg)
{
	struct dmesg_count *c = arg;

	c->n += strstr(line, c->needle) != NULL;
}

static unsigned __printf(1, 2) logged(const char *fmt, ...)
{
	char needle[96];
	struct dmesg_count c = { needle, 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(needle, sizeof(needle), fmt, ap);
	va_end(ap);
	dmesg_for_each(count_line, &c);
	return c.n;
}

/* --------------------------------------------------- a test's frame */

/* A fresh volume on @f, mounted on MNT; false (a failure in @kt) if not. */
static bool fresh(struct ktest_ctx *kt, struct fake *f)
{
	char want[64];
	int rc;

	vfs_umount(MNT); /* left by a test that failed half way */
	fake_clear_errors(f);
	KT_EXPECT_EQ(vt_sh("format nanofs %s", dev(f)), 0);
	snprintf(want, sizeof(want), "formatted %s as nanofs (512 blocks of 4 KiB)\n", dev(f));
	KT_EXPECT_STREQ(vt_sh_out(), want);
	rc = vfs_mkdir(MNT);
	KT_EXPECT(rc == 0 || rc == -EEXIST);
	rc = vfs_mount("nanofs", dev(f), MNT, 0);
	KT_EXPECT_EQ(rc, 0);
	return rc == 0 && kt->failures == 0;
}

/* Unmount (expecting @umount_rc), clear the errors, fsck, remove MNT. */
static void finish(struct ktest_ctx *kt, struct fake *f, int umount_rc)
{
	KT_EXPECT_EQ(vfs_umount(MNT), umount_rc);
	fake_clear_errors(f);
	KT_EXPECT(vt_fsck_clean(kt, dev(f)));
	KT_EXPECT_EQ(vfs_remove(MNT), 0);
	KT_EXPECT_EQ(fake_count(&f->violations), 0);
}

static int remount(void)
{
	int rc = vfs_umount(MNT);

	return rc ? rc : vfs_mount("nanofs", blkdev_name(&rn->disk), MNT, 0);
}

typedef void (*nv_test_fn)(struct ktest_ctx *kt, struct fake *f);

/* What the server runs; static, so that a late run still finds it. */
static struct {
	nv_test_fn fn;
	struct ktest_ctx *kt;
	struct fake *f;
} job;

static void job_fn(void *arg)
{
	(void)arg;
	job.fn(job.kt, job.f);
}

/* Run @fn over the disk in a server, at most 10 s. */
static void run(struct ktest_ctx *kt, nv_test_fn fn)
{
	struct fake_job j = { .kind = FAKE_JOB_FN, .fn = job_fn };
	struct fake *f = nv_disk();

	KT_ASSERT(f != NULL);
	job.fn = fn;
	job.kt = kt;
	job.f = f;
	KT_EXPECT_EQ(fake_job_run(&j), 0);
	fake_clear_errors(f);
}

static void fill(u8 *buf, size_t len, u32 seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (u8)((i * 131 + seed * 7 + (i >> 12)) ^ seed);
}

/* ------------------------------------------------------ no errors yet */

static void basic(struct ktest_ctx *kt, struct fake *f)
{
	const size_t len = BIG_BLOCKS * NANOFS_BSIZE + 100;
	struct vfs_statfs st;

	if (!fresh(kt, f))
		return;
	fill(big, len, 1);
	KT_EXPECT_EQ(vt_put(MNT "/big", big, len), 0);
	KT_EXPECT_EQ(vt_put(MNT "/small", "hello", 5), 0);
	KT_EXPECT_EQ(vfs_mkdir(MNT "/d"), 0);
	KT_EXPECT_EQ(vt_put(MNT "/d/x", "in d", 4), 0);
	KT_EXPECT(holds(MNT "/big", big, len));
	KT_EXPECT_EQ(vfs_statfs(MNT, &st), 0);
	KT_EXPECT_EQ(st.block_size, NANOFS_BSIZE);
	KT_EXPECT_EQ(st.blocks_total, sb_of(f)->data_blocks);
	KT_EXPECT(st.blocks_free + BIG_BLOCKS + 3 <= st.blocks_total);
	/* the glue claims the disk while it is mounted */
	KT_EXPECT_EQ(vt_sh("format nanofs %s", dev(f)), -EBUSY);
	KT_EXPECT(strstr(vt_sh_out(), "is in use by nanofs " MNT) != NULL);
	KT_EXPECT_EQ(vt_sh("fsck %s", dev(f)), -EBUSY);
	KT_EXPECT_EQ(vfs_umount(MNT), 0);
	KT_EXPECT(vt_fsck_clean(kt, dev(f)));
	KT_EXPECT_EQ(memcmp(fake_at(f, 0), NANOFS_MAGIC, 8), 0);
	/* what came back is what the block layer put on the media */
	KT_ASSERT_EQ(vfs_mount("nanofs", dev(f), MNT, 0), 0);
	KT_EXPECT(holds(MNT "/big", big, len));
	KT_EXPECT(holds(MNT "/small", "hello", 5));
	KT_EXPECT(holds(MNT "/d/x", "in d", 4));
	finish(kt, f, 0);
}

KTEST(nanofs, format_mount_write_and_read_through_the_glue)
{
	run(kt, basic);
}

/* -------------------------------------------------- a bad data block */

static void bad_data(struct ktest_ctx *kt, struct fake *f)
{
	const size_t len = 5 * NANOFS_BSIZE;
	static const char other[] = "another file";
	u64 first, blk, sector;
	unsigned before;
	u8 patch[16];

	if (!fresh(kt, f))
		return;
	fill(big, len, 2);
	KT_ASSERT_EQ(vt_put(MNT "/a", big, len), 0);
	KT_ASSERT_EQ(vt_put(MNT "/b", other, sizeof(other)), 0);
	KT_ASSERT_EQ(vfs_sync_all(), 0);
	first = inode_of(f, vt_ino(MNT "/a"))->direct[0].block;
	blk = inode_of(f, vt_ino(MNT "/a"))->direct[2].block;
	KT_ASSERT(first >= sb_of(f)->data_start && blk == first + 2); /* one run */
	sector = sector_of(blk) + 3;
	before = logged("sectors at %llu failed", (unsigned long long)sector_of(first));
	fake_inject(&f->bad_sector, sector);
	KT_EXPECT_EQ(vt_get_at(MNT "/a", 0, back, len), -EIO);
	/* the disk and the block are named (the file is not: see the report) */
	KT_EXPECT_EQ(logged("sectors at %llu failed", (unsigned long long)sector_of(first)),
		     before + 1);
	/* what the bad block does not hold still reads: a's first two blocks, b */
	KT_EXPECT_EQ(vt_get_at(MNT "/a", 0, back, 2 * NANOFS_BSIZE), 2 * NANOFS_BSIZE);
	KT_EXPECT_EQ(memcmp(back, big, 2 * NANOFS_BSIZE), 0);
	KT_EXPECT_EQ(vt_get_at(MNT "/a", 3 * NANOFS_BSIZE, back, 2 * NANOFS_BSIZE),
		     2 * NANOFS_BSIZE);
	KT_EXPECT_EQ(memcmp(back, big + 3 * NANOFS_BSIZE, 2 * NANOFS_BSIZE), 0);
	KT_EXPECT(holds(MNT "/b", other, sizeof(other)));
	/* a partial write must read the old block first; a whole one moves it */
	memset(patch, 0x5A, sizeof(patch));
	KT_EXPECT_EQ(vt_put_at(MNT "/a", 2 * NANOFS_BSIZE + 8, patch, sizeof(patch), false), -EIO);
	fill(big + 2 * NANOFS_BSIZE, NANOFS_BSIZE, 3);
	KT_EXPECT_EQ(vt_put_at(MNT "/a", 2 * NANOFS_BSIZE, big + 2 * NANOFS_BSIZE, NANOFS_BSIZE,
			    false), 0);
	KT_EXPECT(holds(MNT "/a", big, len)); /* with the bad sector still there */
	fake_clear_errors(f);
	KT_EXPECT_EQ(vfs_sync_all(), 0);
	KT_EXPECT(inode_of(f, vt_ino(MNT "/a"))->direct[2].block != blk); /* it moved */
	KT_EXPECT_EQ(remount(), 0);
	KT_EXPECT(holds(MNT "/a", big, len));
	finish(kt, f, 0);
}

KTEST(nanofs, eio_under_a_files_data_block)
{
	run(kt, bad_data);
}

/* ------------------------------------------ bad metadata: inodes, a directory */

#define ROOT_FILES 20u

/* Where a populated volume keeps things, for the tests to aim at. */
struct spots {
	unsigned lo, hi;        /* root files r<lo>, r<hi>: inodes in table blocks 0, 1 */
	u64 dblk;               /* /d's directory block */
	char lo_path[32], hi_path[32];
};

/*
 * /d holding x, and ROOT_FILES files r00.. each holding its own path, some
 * with inodes in the inode table's second block; synced and remounted, so
 * nothing is cached.  False (a failure in @kt) when that could not be made.
 */
static bool populate(struct ktest_ctx *kt, struct fake *f, struct spots *sp)
{
	char path[32];

	if (!fresh(kt, f))
		return false;
	memset(sp, 0, sizeof(*sp));
	KT_EXPECT_EQ(vfs_mkdir(MNT "/d"), 0);
	KT_EXPECT_EQ(vt_put(MNT "/d/x", "x in d", 6), 0);
	for (unsigned i = 0; i < ROOT_FILES; i++) {
		snprintf(path, sizeof(path), MNT "/r%02u", i);
		KT_EXPECT_EQ(vt_put(path, path, strlen(path)), 0);
		if (vt_ino(path) / NANOFS_INODES_PER_BLOCK == 0)
			sp->lo = i;
		else if (!sp->hi)
			sp->hi = i;
	}
	snprintf(sp->lo_path, sizeof(sp->lo_path), MNT "/r%02u", sp->lo);
	snprintf(sp->hi_path, sizeof(sp->hi_path), MNT "/r%02u", sp->hi);
	KT_EXPECT(sp->hi != 0); /* some inodes live in the table's second block */
	KT_EXPECT_EQ(vfs_sync_all(), 0);
	sp->dblk = inode_of(f, vt_ino(MNT "/d"))->direct[0].block;
	KT_EXPECT(sp->dblk >= sb_of(f)->data_start);
	KT_EXPECT_EQ(remount(), 0);
	return kt->failures == 0;
}

/* After the errors: clean, and everything populate() made still there. */
static void populated_intact(struct ktest_ctx *kt, struct fake *f, const struct spots *sp)
{
	KT_EXPECT_EQ(vfs_sync_all(), 0);
	KT_EXPECT_EQ(vfs_umount(MNT), 0);
	KT_EXPECT(vt_fsck_clean(kt, dev(f)));
	KT_ASSERT_EQ(vfs_mount("nanofs", dev(f), MNT, 0), 0);
	KT_EXPECT(holds(MNT "/d/x", "x in d", 6));
	KT_EXPECT(holds(sp->lo_path, sp->lo_path, strlen(sp->lo_path)));
	KT_EXPECT(holds(sp->hi_path, sp->hi_path, strlen(sp->hi_path)));
	KT_EXPECT_EQ(vt_entries(MNT), ROOT_FILES + 1);
	KT_EXPECT_EQ(vt_entries(MNT "/d"), 1);
	finish(kt, f, 0);
}

static void bad_metadata(struct ktest_ctx *kt, struct fake *f)
{
	struct spots sp;
	struct vnode *vn;

	if (!populate(kt, f, &sp))
		return;
	/* the inode table's second block unreadable: its inodes are -EIO */
	fake_inject(&f->bad_sector, sector_of(sb_of(f)->itable_start + 1) + 5);
	KT_EXPECT_EQ(vfs_stat(sp.hi_path, NULL), -EIO);
	KT_EXPECT_EQ(vt_get_at(sp.hi_path, 0, back, 64), -EIO);
	KT_EXPECT(holds(sp.lo_path, sp.lo_path, strlen(sp.lo_path)));
	KT_EXPECT_EQ(vt_entries(MNT), ROOT_FILES + 1);
	fake_clear_errors(f);
	/* d's directory block unreadable: whatever looks into d is -EIO */
	fake_inject(&f->bad_sector, sector_of(sp.dblk));
	KT_EXPECT_EQ(vfs_stat(MNT "/d/x", NULL), -EIO);
	KT_EXPECT_EQ(vfs_open(MNT "/d/y", VFS_O_CREATE | VFS_O_WRITE, &vn), -EIO);
	KT_EXPECT_EQ(vt_entries(MNT "/d"), ~0u);
	KT_EXPECT_EQ(vfs_remove_tree(MNT "/d"), -EIO);
	KT_EXPECT_EQ(vfs_stat(MNT "/d", NULL), 0);
	KT_EXPECT(holds(sp.lo_path, sp.lo_path, strlen(sp.lo_path)));
	fake_clear_errors(f);
	populated_intact(kt, f, &sp);
}

KTEST(nanofs, eio_under_the_inode_table_and_a_directory_block)
{
	run(kt, bad_metadata);
}

/*
 * A create whose new inode sits in an unreadable inode-table block fails
 * after taking the inode's bitmap bit; giving the inode back must not need
 * that block.  (Fails while nanofs_free_inode() gives the bit back only
 * once it has zeroed the slot: the inode leaks, and fsck says so.)
 */
static void create_leak(struct ktest_ctx *kt, struct fake *f)
{
	struct vfs_statfs before, after;
	struct spots sp;
	struct vnode *vn;

	if (!populate(kt, f, &sp))
		return;
	KT_EXPECT_EQ(vfs_statfs(MNT, &before), 0);
	fake_inject(&f->bad_sector, sector_of(sb_of(f)->itable_start + 1) + 5);
	KT_EXPECT_EQ(vfs_open(MNT "/new", VFS_O_CREATE | VFS_O_WRITE, &vn), -EIO);
	fake_clear_errors(f);
	KT_EXPECT_EQ(vfs_statfs(MNT, &after), 0);
	KT_EXPECT_EQ(after.inodes_free, before.inodes_free);
	KT_EXPECT_EQ(vfs_stat(MNT "/new", NULL), -ENOENT);
	populated_intact(kt, f, &sp);
}

KTEST(nanofs, a_create_that_cannot_write_its_inode_leaks_nothing)
{
	run(kt, create_leak);
}

/* ------------------------------------------ write errors: journal, home */

static void bad_journal(struct ktest_ctx *kt, struct fake *f)
{
	unsigned before;
	u64 jhdr;

	if (!fresh(kt, f))
		return;
	KT_ASSERT_EQ(vt_put(MNT "/kept", "committed", 9), 0);
	KT_ASSERT_EQ(vfs_sync_all(), 0);
	jhdr = sb_of(f)->journal_start;

	/* the journal's header cannot be written: the commit fails */
	before = logged("nanofs: commit of transaction");
	fake_inject(&f->bad_write_sector, sector_of(jhdr));
	KT_EXPECT_EQ(vt_put(MNT "/j1", "never committed", 15), 0);
	KT_EXPECT_EQ(vfs_sync_all(), -EIO);
	KT_EXPECT_EQ(logged("nanofs: commit of transaction"), before + 1);
	KT_EXPECT_EQ(vt_put(MNT "/j2", "refused", 7), -EIO);
	KT_EXPECT_EQ(vfs_mkdir(MNT "/dir"), -EIO);
	KT_EXPECT(holds(MNT "/kept", "committed", 9)); /* reads go on */
	KT_EXPECT_EQ(vfs_umount(MNT), -EIO);
	fake_clear_errors(f);
	KT_EXPECT(vt_fsck_clean(kt, dev(f)));
	KT_ASSERT_EQ(vfs_mount("nanofs", dev(f), MNT, 0), 0);
	KT_EXPECT_EQ(vfs_stat(MNT "/j1", NULL), -ENOENT); /* the old state */
	KT_EXPECT(holds(MNT "/kept", "committed", 9));

	/* the inode table's home block cannot be written: the journal has it */
	fake_inject(&f->bad_write_sector, sector_of(sb_of(f)->itable_start));
	KT_EXPECT_EQ(vt_put(MNT "/j3", "journaled", 9), 0);
	KT_EXPECT_EQ(vfs_sync_all(), -EIO);
	KT_EXPECT_EQ(vfs_umount(MNT), -EIO);
	fake_clear_errors(f);
	KT_EXPECT(vt_fsck_clean(kt, dev(f)));
	KT_ASSERT_EQ(vfs_mount("nanofs", dev(f), MNT, 0), 0);
	KT_EXPECT(holds(MNT "/j3", "journaled", 9)); /* the new state */
	KT_EXPECT(holds(MNT "/kept", "committed", 9));
	finish(kt, f, 0);
}

KTEST(nanofs, write_errors_in_the_journal_and_at_home)
{
	run(kt, bad_journal);
}

/* ------------------------------------------- each request of a commit */

#define SWEEP_LEN (2 * NANOFS_BSIZE + 10)

/*
 * Fail request n of "replace s, sync, unmount" for n = 1, 2, ... until the
 * round needs fewer: some step says -EIO exactly when a request failed,
 * and the remounted volume is clean with s old or new (new once the sync
 * and the unmount both succeeded).
 */
static void sweep(struct ktest_ctx *kt, struct fake *f)
{
	u8 *now = big, *next = big + SWEEP_LEN;
	unsigned n, olds = 0, news = 0;

	if (!fresh(kt, f))
		return;
	fill(now, SWEEP_LEN, 100);
	KT_ASSERT_EQ(vt_put(MNT "/s", now, SWEEP_LEN), 0);
	KT_ASSERT_EQ(vfs_sync_all(), 0);
	for (n = 1; n < 32; n++) {
		u64 failed = fake_count(&f->failed);
		int put_rc, sync_rc, umount_rc;
		bool hit, is_new;

		fill(next, SWEEP_LEN, 100 + n);
		fake_inject(&f->fail_nth, n);
		put_rc = vt_put(MNT "/s", next, SWEEP_LEN);
		sync_rc = vfs_sync_all();
		umount_rc = vfs_umount(MNT);
		hit = fake_count(&f->failed) != failed;
		fake_clear_errors(f);
		KT_EXPECT_EQ(hit, put_rc == -EIO || sync_rc == -EIO || umount_rc == -EIO);
		KT_EXPECT(vt_fsck_clean(kt, dev(f)));
		KT_ASSERT_EQ(vfs_mount("nanofs", dev(f), MNT, 0), 0);
		is_new = holds(MNT "/s", next, SWEEP_LEN);
		if (!is_new && !holds(MNT "/s", now, SWEEP_LEN))
			ktest_fail(kt, __FILE__, __LINE__, "request %u failed: s is neither", n);
		if (!put_rc && !sync_rc && !umount_rc)
			KT_EXPECT(is_new);
		if (!hit)
			break;
		news += is_new;
		olds += !is_new;
		if (is_new)
			memcpy(now, next, SWEEP_LEN);
	}
	KT_EXPECT(n > 3 && n < 32);
	KT_EXPECT(news > 0 && olds > 0);
	finish(kt, f, 0);
}

KTEST(nanofs, an_error_at_each_request_of_a_write_and_its_commit)
{
	run(kt, sweep);
}

/* -------------------------------------------------- refusals at mount */

static void bad_mount(struct ktest_ctx *kt, struct fake *f)
{
	u64 ino, blk;

	if (!fresh(kt, f))
		return;
	KT_ASSERT_EQ(vt_put(MNT "/f", "data", 4), 0);
	ino = vt_ino(MNT "/f");
	KT_ASSERT_EQ(vfs_umount(MNT), 0);
	blk = inode_of(f, ino)->direct[0].block;
	KT_ASSERT(blk >= sb_of(f)->data_start);

	fake_inject(&f->bad_sector, 0);
	KT_EXPECT_EQ(vfs_mount("nanofs", dev(f), MNT, 0), -EIO);
	KT_EXPECT(logged("nanofs: cannot read the superblock") > 0);
	fake_inject(&f->bad_sector, sector_of(NANOFS_STATE_BLOCK) + 7);
	KT_EXPECT_EQ(vfs_mount("nanofs", dev(f), MNT, 0), -EIO);
	fake_clear_errors(f);

	/* fsck reads every data block: the bad one is a problem it names */
	fake_inject(&f->bad_sector, sector_of(blk));
	KT_EXPECT_EQ(vt_sh("fsck %s", dev(f)), -EIO);
	KT_EXPECT(strstr(vt_sh_out(), "problem") != NULL);
	fake_clear_errors(f);
	KT_EXPECT(vt_fsck_clean(kt, dev(f)));

	/* nothing stayed claimed: the volume mounts, the file is there */
	KT_ASSERT_EQ(vfs_mount("nanofs", dev(f), MNT, 0), 0);
	KT_EXPECT(holds(MNT "/f", "data", 4));
	finish(kt, f, 0);
}

KTEST(nanofs, unreadable_superblock_and_state_refuse_the_mount)
{
	run(kt, bad_mount);
}
