/*
 * host_nanofs_vfs.c — nanofs the way the kernel runs it: the VFS glue
 * (fs/nanofs_vfs.c) and its `format` and `fsck` commands over the real
 * block layer, on host fake disks (tests/unit/shim/fake_disk.h), under the
 * real VFS.  The other nanofs host tests drive the core through a
 * struct nanofs_dev of their own; these go through everything above it.
 *
 *  - The model suite of host_vfs_model.c, the one ramfs runs in
 *    host_vfs.c, on nanofs: once on a disk of 512-byte sectors that
 *    completes at once, and once on a disk of 4 KiB sectors that completes
 *    from its simulated interrupt, unmounting and mounting again every few
 *    steps, so what the model holds must come back from the disk.  fsck is
 *    clean after each.
 *  - The commands and the disk's claim: format and fsck say what they did,
 *    a mounted disk cannot be formatted, checked or mounted a second time,
 *    and `format` on a partition leaves the sectors around it alone.
 *  - A read-only disk mounts read-only by itself and is never written.
 *  - An I/O error at each request, in turn, of an operation and its
 *    commit (the fake's fail_nth): it reaches the caller as -EIO, and after
 *    a remount the volume is fsck-clean and holds the old state or the new
 *    one, whole.
 *
 * The disks are registered once for the run (there is no unregister) and
 * formatted afresh by each test; the mount point /nv on the root ramfs is
 * made and removed by each test.  The glue's sync task does not run on the
 * host (task_create() is NULL there), so a volume commits exactly when a
 * test syncs or unmounts it.
 */
#include "tests/unit/host_vfs_model.h"
#include "tests/unit/shim/fake_disk.h"
#include "tests/unit/shim/shim.h"
#include "tests/unit/vfs_test_util.h"
#include "errno.h"
#include "fs/nanofs_disk.h"
#include "fs/vfs.h"
#include "lib/ktest.h"
#include "lib/string.h"

#define MNT "/nv"
#define MIB_512 2048u            /* 512-byte sectors in a MiB */

/* --------------------------------------------------------------- disks */

enum { NV_A, NV_B, NV_P, NV_R, NV_NR };

struct nv_disk_cfg {
	const char *name;
	u64 sectors;
	u32 sector_size;
	enum fake_disk_mode mode;
	bool read_only;
};

/* A: 8 MiB instant; B: 4 MiB of 4 KiB sectors, interrupts; P: an MBR whose
 * partition 1 (P1) is 2 MiB in the middle; R: read-only, as large as A. */
static const struct nv_disk_cfg cfgs[NV_NR] = {
	[NV_A] = { "nva", 8 * MIB_512, 512, FAKE_DISK_INSTANT, false },
	[NV_B] = { "nvb", 1024, 4096, FAKE_DISK_IRQ, false },
	[NV_P] = { "nvp", 4 * MIB_512, 512, FAKE_DISK_POLLED, false },
	[NV_R] = { "nvr", 8 * MIB_512, 512, FAKE_DISK_INSTANT, true },
};

#define P1_START (MIB_512)
#define P1_SECTORS (2 * MIB_512)

static struct fake_disk *disks[NV_NR];

static void mbr_p1(u8 *mbr)
{
	u8 *e = mbr + 446;

	memset(mbr, 0, 512);
	e[4] = 0x83;
	for (unsigned i = 0; i < 4; i++) {
		e[8 + i] = (u8)(P1_START >> (8 * i));
		e[12 + i] = (u8)(P1_SECTORS >> (8 * i));
	}
	mbr[510] = 0x55;
	mbr[511] = 0xAA;
}

/* Disk @i, registered on first use (with its MBR for NV_P); NULL on failure. */
static struct fake_disk *disk(unsigned i)
{
	const struct nv_disk_cfg *c = &cfgs[i];
	struct fake_disk *f;

	if (disks[i])
		return disks[i];
	f = fake_disk_new(c->name, c->sectors, c->sector_size, c->mode, 8, c->read_only);
	if (!f)
		return NULL;
	if (i == NV_P)
		mbr_p1(f->mem);
	if (fake_disk_register(f)) {
		fake_disk_free(f);
		return NULL;
	}
	disks[i] = f;
	return f;
}

/* The VFS as at boot (once; later calls find it there) and the mount point. */
static int nv_up(void)
{
	shim_forever_begin();
	vfs_init();
	shim_forever_end();
	return vfs_mkdir(MNT);
}

static int format(const char *dev)
{
	return vt_sh("format nanofs %s", dev);
}

/* ------------------------------------------------------------ the model */

static const char *model_dev;

static int nv_fresh(const char *path)
{
	int rc = format(model_dev);

	return rc ? rc : vfs_mount("nanofs", model_dev, path, 0);
}

static int nv_again(const char *path)
{
	int rc = vfs_umount(path);

	return rc ? rc : vfs_mount("nanofs", model_dev, path, 0);
}

static const struct vfs_model_fs nanofs_plain = { .name = "nanofs", .mount = nv_fresh };
static const struct vfs_model_fs nanofs_remounted = {
	.name = "nanofs (remounted)", .mount = nv_fresh, .remount = nv_again,
};

static void model_on(struct ktest_ctx *kt, unsigned i, const struct vfs_model_fs *fs,
		     unsigned steps, unsigned remount_every)
{
	struct fake_disk *f = disk(i);

	KT_ASSERT(f != NULL);
	KT_ASSERT_EQ(nv_up(), 0);
	model_dev = cfgs[i].name;
	vfs_model_run(kt, fs, MNT, steps, remount_every);
	KT_EXPECT_EQ(vfs_remove(MNT), 0);
	KT_EXPECT(vt_fsck_clean(kt, model_dev));
	KT_EXPECT_EQ(f->violations, 0);
	KT_EXPECT_EQ(f->failed, 0);
}

KTEST(nanofs_vfs, random_operations_against_the_model)
{
	model_on(kt, NV_A, &nanofs_plain, 3000, 0);
}

KTEST(nanofs_vfs, random_operations_with_remounts_against_the_model)
{
	model_on(kt, NV_B, &nanofs_remounted, 2000, 25);
	KT_EXPECT(disks[NV_B] && disks[NV_B]->irqs > 0); /* it really took interrupts */
}

/* ---------------------------------------------- commands and the claim */

KTEST(nanofs_vfs, format_fsck_and_the_claim_on_a_mounted_disk)
{
	char buf[16];

	KT_ASSERT(disk(NV_A) != NULL);
	KT_ASSERT_EQ(nv_up(), 0);
	KT_EXPECT_EQ(format("nva"), 0);
	KT_EXPECT_STREQ(vt_sh_out(), "formatted nva as nanofs (2048 blocks of 4 KiB)\n");
	KT_EXPECT(vt_fsck_clean(kt, "nva"));
	KT_ASSERT_EQ(vfs_mount("nanofs", "nva", MNT, 0), 0);
	KT_EXPECT_EQ(vt_put(MNT "/kept", "kept", 4), 0);
	KT_EXPECT_EQ(format("nva"), -EBUSY);
	KT_EXPECT_STREQ(vt_sh_out(), "format: nva is in use by nanofs /nv (EBUSY)\n");
	KT_EXPECT_EQ(vt_sh("fsck nva"), -EBUSY);
	KT_EXPECT_EQ(vfs_mkdir("/nv2"), 0);
	KT_EXPECT_EQ(vfs_mount("nanofs", "nva", "/nv2", 0), -EBUSY);
	KT_EXPECT_LOGGED("nva is in use; not mounted on /nv2");
	KT_EXPECT_EQ(vfs_remove("/nv2"), 0);
	KT_EXPECT_EQ(vfs_mount("nanofs", "nosuch", MNT "/x", 0), -ENOENT);
	KT_EXPECT_EQ(vfs_umount(MNT), 0);
	/* given back at unmount: checked clean, mounted again, the file is there */
	KT_EXPECT(vt_fsck_clean(kt, "nva"));
	KT_ASSERT_EQ(vfs_mount("nanofs", "nva", MNT, 0), 0);
	KT_EXPECT_EQ(vt_get_at(MNT "/kept", 0, buf, sizeof(buf)), 4);
	KT_EXPECT_EQ(memcmp(buf, "kept", 4), 0);
	KT_EXPECT_EQ(vfs_umount(MNT), 0);
	KT_EXPECT_EQ(vt_sh("format nanofs nosuch"), -ENXIO);
	KT_EXPECT_EQ(vt_sh("format ext4 nva"), -EINVAL);
	KT_EXPECT_EQ(vfs_mount("nanofs", "nosuch", MNT, 0), -ENXIO);
	KT_EXPECT_EQ(vfs_remove(MNT), 0);
}

KTEST(nanofs_vfs, format_of_a_partition_stays_inside_it)
{
	struct fake_disk *f = disk(NV_P);
	const u32 ss = 512;

	KT_ASSERT(f != NULL);
	KT_ASSERT_EQ(nv_up(), 0);
	/* everything but the MBR carries a pattern a stray write would break */
	fake_pat_fill(fake_disk_at(f, 1), ss, 7, 1, (u32)cfgs[NV_P].sectors - 1);
	KT_EXPECT_EQ(format("nvp1"), 0);
	KT_EXPECT_STREQ(vt_sh_out(), "formatted nvp1 as nanofs (512 blocks of 4 KiB)\n");
	KT_EXPECT(fake_pat_check(fake_disk_at(f, 1), ss, 7, 1, P1_START - 1));
	KT_EXPECT(fake_pat_check(fake_disk_at(f, P1_START + P1_SECTORS), ss, 7,
				 P1_START + P1_SECTORS,
				 (u32)(cfgs[NV_P].sectors - P1_START - P1_SECTORS)));
	KT_EXPECT_EQ(memcmp(fake_disk_at(f, P1_START), NANOFS_MAGIC, 8), 0);
	/* the whole disk and its partition exclude each other */
	KT_ASSERT_EQ(vfs_mount("nanofs", "nvp1", MNT, 0), 0);
	KT_EXPECT_EQ(format("nvp"), -EBUSY);
	KT_EXPECT(strstr(vt_sh_out(), "overlaps a disk or partition in use") != NULL);
	KT_EXPECT_EQ(vt_put(MNT "/f", "partition", 9), 0);
	KT_EXPECT_EQ(vfs_umount(MNT), 0);
	KT_EXPECT(vt_fsck_clean(kt, "nvp1"));
	KT_EXPECT(fake_pat_check(fake_disk_at(f, 1), ss, 7, 1, P1_START - 1));
	KT_EXPECT_EQ(vfs_remove(MNT), 0);
	KT_EXPECT_EQ(f->violations, 0);
}

KTEST(nanofs_vfs, a_read_only_disk_mounts_read_only_and_is_never_written)
{
	struct fake_disk *a = disk(NV_A), *r = disk(NV_R);
	struct vfs_mount_info info;
	char path[16], buf[16];
	u64 writes;

	KT_ASSERT(a && r);
	KT_ASSERT_EQ(nv_up(), 0);
	KT_ASSERT_EQ(format("nva"), 0);
	KT_ASSERT_EQ(vfs_mount("nanofs", "nva", MNT, 0), 0);
	KT_ASSERT_EQ(vt_put(MNT "/f", "on the image", 12), 0);
	KT_ASSERT_EQ(vfs_umount(MNT), 0);
	memcpy(r->mem, a->mem, (size_t)cfgs[NV_A].sectors * 512);
	writes = r->writes;
	KT_ASSERT_EQ(vfs_mount("nanofs", "nvr", MNT, 0), 0);
	KT_EXPECT_LOGGED("the device is read-only: mounting read-only");
	KT_ASSERT_EQ(vfs_mount_info(1, &info, path, sizeof(path)), 0);
	KT_EXPECT_STREQ(path, MNT);
	KT_EXPECT(info.flags & VFS_MOUNT_RO);
	KT_EXPECT_EQ(vt_get_at(MNT "/f", 0, buf, sizeof(buf)), 12);
	KT_EXPECT_EQ(vt_put(MNT "/f", "x", 1), -EROFS);
	KT_EXPECT_EQ(vfs_mkdir(MNT "/d"), -EROFS);
	KT_EXPECT_EQ(vfs_sync_all(), 0);
	KT_EXPECT_EQ(vfs_umount(MNT), 0);
	KT_EXPECT_EQ(format("nvr"), -EROFS);
	KT_EXPECT(vt_fsck_clean(kt, "nvr"));
	KT_EXPECT_EQ(r->writes, writes);
	KT_EXPECT_EQ(r->violations, 0);
	KT_EXPECT_EQ(vfs_remove(MNT), 0);
}

/* ---------------------------------------------------- injected errors */

#define OLD_LEN 9000u            /* three blocks */
#define NEW_LEN 13000u           /* four */

static u8 old_data[OLD_LEN], new_data[NEW_LEN], back[NEW_LEN + 1];

/* The state every round starts from, committed: /nv/f old, no /nv/g. */
static int old_state(void)
{
	int rc = vt_put(MNT "/f", old_data, OLD_LEN);

	if (!rc && vfs_stat(MNT "/g", NULL) == 0)
		rc = vfs_remove(MNT "/g");
	return rc ? rc : vfs_sync_all();
}

/* A round's steps, in order: replace f, create g, sync, unmount. */
enum { R_PUT_F, R_PUT_G, R_SYNC, R_UMOUNT, R_STEPS };

static void new_state(int rc[R_STEPS])
{
	rc[R_PUT_F] = vt_put(MNT "/f", new_data, NEW_LEN);
	rc[R_PUT_G] = vt_put(MNT "/g", "g", 1);
	rc[R_SYNC] = vfs_sync_all();
	rc[R_UMOUNT] = vfs_umount(MNT);
}

/*
 * After the remount, what a crash-safe volume may show: each operation
 * whole or absent, in order (g only after f's new contents, unless
 * replacing f failed; f's truncate and its write are two operations, so an
 * empty f is allowed), and, once the sync succeeded, every operation that
 * had succeeded before it.
 * Returns whether g is there.
 */
static bool expect_old_or_new(struct ktest_ctx *kt, unsigned n, const int rc[R_STEPS])
{
	s64 len = vt_get_at(MNT "/f", 0, back, sizeof(back));
	bool f_new = len == NEW_LEN && memcmp(back, new_data, NEW_LEN) == 0;
	bool f_old = len == OLD_LEN && memcmp(back, old_data, OLD_LEN) == 0;
	bool g = vfs_stat(MNT "/g", NULL) == 0;
	bool synced = rc[R_SYNC] == 0;
	bool bad = !(f_new || f_old || len == 0) || (g && !f_new && rc[R_PUT_F] == 0) ||
		   (synced && ((rc[R_PUT_F] == 0 && !f_new) || (rc[R_PUT_G] == 0 && !g)));

	if (bad)
		ktest_fail(kt, __FILE__, __LINE__,
			   "request %u failed (put f %d, put g %d, sync %d, umount %d): "
			   "f has %lld bytes (%s), g %s", n, rc[R_PUT_F], rc[R_PUT_G], rc[R_SYNC],
			   rc[R_UMOUNT], (long long)len, f_new ? "new" : f_old ? "old" : "neither",
			   g ? "exists" : "does not");
	return g;
}

/*
 * Fail request n of "replace f, create g, sync, unmount", for n = 1, 2, ...
 * until the whole round takes fewer requests than n.  The remount before
 * each round empties the cache, so reads of metadata fail too.
 */
KTEST(nanofs_vfs, an_io_error_at_any_request_leaves_the_old_or_the_new_state)
{
	struct fake_disk *f = disk(NV_A);
	unsigned n, news = 0, olds = 0;

	KT_ASSERT(f != NULL);
	for (unsigned i = 0; i < OLD_LEN; i++)
		old_data[i] = (u8)(i * 7 + 1);
	for (unsigned i = 0; i < NEW_LEN; i++)
		new_data[i] = (u8)(i * 13 + 5);
	KT_ASSERT_EQ(nv_up(), 0);
	KT_ASSERT_EQ(format("nva"), 0);
	KT_ASSERT_EQ(vfs_mount("nanofs", "nva", MNT, 0), 0);
	for (n = 1; n < 64; n++) {
		u64 failed = f->failed;
		int rc[R_STEPS];
		bool eio = false, hit;

		KT_ASSERT_EQ(old_state(), 0);
		KT_ASSERT_EQ(vfs_umount(MNT), 0);
		KT_ASSERT_EQ(vfs_mount("nanofs", "nva", MNT, 0), 0);
		f->fail_nth = n;
		new_state(rc);
		hit = f->failed != failed;
		fake_core_clear_errors(&f->core);
		for (unsigned i = 0; i < R_STEPS; i++)
			eio |= rc[i] == -EIO;
		if (hit != eio)
			ktest_fail(kt, __FILE__, __LINE__, "request %u: %s, but %s", n,
				   hit ? "failed" : "did not fail",
				   eio ? "a step said EIO" : "no step said so");
		KT_EXPECT(vt_fsck_clean(kt, "nva"));
		KT_ASSERT_EQ(vfs_mount("nanofs", "nva", MNT, 0), 0);
		if (expect_old_or_new(kt, n, rc))
			news++;
		else
			olds++;
		if (!hit)
			break;
	}
	KT_EXPECT(n > 4 && n < 64); /* a round takes a few requests, not 63 */
	KT_EXPECT(news > 1 && olds > 1);
	KT_EXPECT_EQ(vfs_umount(MNT), 0);
	KT_EXPECT_EQ(vfs_remove(MNT), 0);
	KT_EXPECT_EQ(f->violations, 0);
}

/*
 * Once a failed commit has turned the volume read-only, what it still holds
 * in memory will never reach the disk, so every later sync must say so —
 * not answer 0 as for a volume mounted read-only, which would tell the
 * user that writes were safe that are lost.
 */
KTEST(nanofs_vfs, sync_after_a_failed_commit_says_eio)
{
	struct fake_disk *f = disk(NV_A);
	struct nanofs_super sb;

	KT_ASSERT(f != NULL);
	KT_ASSERT_EQ(nv_up(), 0);
	KT_ASSERT_EQ(format("nva"), 0);
	KT_ASSERT_EQ(vfs_mount("nanofs", "nva", MNT, 0), 0);
	memcpy(&sb, f->mem, sizeof(sb));
	f->bad_write_sector = sb.journal_start * (NANOFS_BSIZE / 512);
	KT_EXPECT_EQ(vt_put(MNT "/lost", "lost", 4), 0);
	KT_EXPECT_EQ(vfs_sync_all(), -EIO);
	KT_EXPECT_EQ(vfs_sync_all(), -EIO);
	fake_core_clear_errors(&f->core);
	KT_EXPECT_EQ(vfs_umount(MNT), -EIO);
	KT_EXPECT(vt_fsck_clean(kt, "nva"));
	KT_EXPECT_EQ(vfs_remove(MNT), 0);
}
