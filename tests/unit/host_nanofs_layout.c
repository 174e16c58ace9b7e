/*
 * host_nanofs_layout.c — nanofs's layout arithmetic, format and mount's
 * superblock checks, on sizes from 1 MiB to 16 TiB.
 *
 * The worked examples of docs/nanofs.md are checked here number for number,
 * so the document cannot drift from the code.
 */
#include "tests/unit/host_nanofs_dev.h"
#include "tests/unit/shim/shim.h"
#include "fs/nanofs_priv.h"

struct layout_example {
	u64 n, j, i, ib, it, db, data_start, d;
};

static const struct layout_example examples[] = {
	{ 256, 32, 64, 1, 4, 1, 40, 215 },                                  /* 1 MiB */
	{ 16384, 256, 4096, 1, 256, 1, 516, 15867 },                        /* 64 MiB */
	{ 262144, 1024, 65536, 3, 4096, 8, 5133, 257010 },                  /* 1 GiB */
	{ 16777216, 1024, 4194304, 129, 262144, 505, 263804, 16513411 },    /* 64 GiB */
};

KTEST(nanofs_layout, worked_examples_of_the_document)
{
	for (u32 i = 0; i < ARRAY_SIZE(examples); i++) {
		const struct layout_example *e = &examples[i];
		struct nanofs_layout l;

		KT_ASSERT_EQ(nanofs_layout_compute(e->n, 0, &l), 0);
		KT_EXPECT_EQ(l.journal_blocks, e->j);
		KT_EXPECT_EQ(l.inodes, e->i);
		KT_EXPECT_EQ(l.ibitmap_blocks, e->ib);
		KT_EXPECT_EQ(l.itable_blocks, e->it);
		KT_EXPECT_EQ(l.dbitmap_blocks, e->db);
		KT_EXPECT_EQ(l.data_start, e->data_start);
		KT_EXPECT_EQ(l.data_blocks, e->d);
		KT_EXPECT_EQ(l.backup, e->n - 1);
	}
}

/* Every region in order, touching, inside the device, bitmaps big enough. */
static bool layout_sound(const struct nanofs_layout *l)
{
	return l->journal_start == 2 && l->ibitmap_start == l->journal_start + l->journal_blocks &&
	       l->itable_start == l->ibitmap_start + l->ibitmap_blocks &&
	       l->dbitmap_start == l->itable_start + l->itable_blocks &&
	       l->data_start == l->dbitmap_start + l->dbitmap_blocks &&
	       l->data_start + l->data_blocks == l->blocks - 1 && l->backup == l->blocks - 1 &&
	       l->dbitmap_blocks * NANOFS_BITS_PER_BMP >= l->data_blocks &&
	       (l->dbitmap_blocks - 1) * NANOFS_BITS_PER_BMP <= l->data_blocks &&
	       l->ibitmap_blocks * NANOFS_BITS_PER_BMP >= l->inodes &&
	       l->itable_blocks * NANOFS_INODES_PER_BLOCK == l->inodes && l->data_blocks >= 16;
}

KTEST(nanofs_layout, every_size_fits_its_device)
{
	static const u64 edges[] = { 256, 257, 300, 511, 512, 1000, 4096, 32705, 32706, 65536,
				     1u << 20, (1ull << 32) - 1, 1ull << 30 };

	for (u32 i = 0; i < ARRAY_SIZE(edges); i++) {
		struct nanofs_layout l;

		KT_ASSERT_EQ(nanofs_layout_compute(edges[i], 0, &l), 0);
		KT_EXPECT(layout_sound(&l));
	}
	for (u32 i = 0; i < 20000; i++) {
		u64 n = 256 + ktest_rand(kt) % (i % 2 ? 1u << 20 : NANOFS_MAX_BLOCKS - 255);
		struct nanofs_layout l;

		KT_ASSERT_EQ(nanofs_layout_compute(n, 0, &l), 0);
		if (!layout_sound(&l)) {
			KT_EXPECT(layout_sound(&l));
			ktest_log(kt, "size %llu", (unsigned long long)n);
			return;
		}
	}
}

KTEST(nanofs_layout, too_small_and_too_large_are_refused)
{
	struct nanofs_layout l;

	KT_EXPECT_EQ(nanofs_layout_compute(0, 0, &l), -EINVAL);
	KT_EXPECT_EQ(nanofs_layout_compute(1, 0, &l), -EINVAL);
	KT_EXPECT_EQ(nanofs_layout_compute(255, 0, &l), -EINVAL);
	KT_EXPECT_EQ(nanofs_layout_compute(1ull << 32, 0, &l), -EINVAL);
	KT_EXPECT_EQ(nanofs_layout_compute(256, 1u << 26, &l), -EINVAL);  /* inodes leave no room */
}

KTEST(nanofs_layout, format_refuses_a_one_sector_disk)
{
	struct ramdev *r = ramdev_new(0);      /* 512 bytes is 0 whole blocks */
	struct nanofs *fs;

	KT_ASSERT(r);
	KT_EXPECT_EQ(ramdev_format(r), -EINVAL);
	KT_EXPECT_LOGGED("smaller than 1 MiB");
	KT_EXPECT_EQ(nanofs_mount(&r->dev, false, &fs), -EINVAL);
	KT_EXPECT(!r->out_of_range);
	ramdev_free(r);
}

KTEST(nanofs_layout, format_never_writes_past_the_end)
{
	static const u64 sizes[] = { 256, 257, 300, 1000, 16387 };

	for (u32 i = 0; i < ARRAY_SIZE(sizes); i++) {
		struct ramdev *r = ramdev_new(sizes[i]);
		struct nanofs *fs;

		KT_ASSERT(r);
		KT_EXPECT_EQ(ramdev_format(r), 0);
		KT_EXPECT(!r->out_of_range);
		KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
		KT_EXPECT_EQ(nanofs_unmount(fs), 0);
		KT_EXPECT_EQ(ramdev_fsck(r), 0);
		KT_EXPECT(!r->out_of_range);
		ramdev_free(r);
	}
}

KTEST(nanofs_layout, one_mib_volume_holds_a_file)
{
	struct ramdev *r = ramdev_new(256);
	static u8 data[300000], back[300000];
	struct nanofs *fs;
	u32 ino;

	KT_ASSERT(r);
	for (u32 i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 7 + i / 4096);
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_EXPECT_EQ(nanofs_create(fs, nanofs_root(fs), "f", 1, NANOFS_FILE, &ino), 0);
	KT_EXPECT_EQ(nanofs_write(fs, ino, 0, data, sizeof(data)), (s64)sizeof(data));
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_EXPECT_EQ(nanofs_read(fs, ino, 0, back, sizeof(back)), (s64)sizeof(back));
	KT_EXPECT(!memcmp(data, back, sizeof(data)));
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_EXPECT_EQ(ramdev_fsck(r), 0);
	ramdev_free(r);
}

/* Change one superblock field (CRC recomputed unless @keep_crc) and mount. */
static int mount_with(struct ramdev *r, void (*edit)(struct nanofs_super *sb), bool fix_crc)
{
	struct nanofs_super *sb = (struct nanofs_super *)r->mem;
	struct nanofs_super saved = *sb;
	struct nanofs *fs;
	int err;

	edit(sb);
	if (fix_crc)
		sb->crc = nanofs_super_crc(sb);
	err = nanofs_mount(&r->dev, false, &fs);
	if (!err)
		nanofs_unmount(fs);
	*sb = saved;
	return err;
}

static void bad_magic(struct nanofs_super *sb) { sb->magic[0] ^= 1; }
static void bad_version(struct nanofs_super *sb) { sb->version = 7; }
static void bad_crc(struct nanofs_super *sb) { sb->label[3] ^= 1; }
static void too_big(struct nanofs_super *sb) { sb->blocks += 1; }
static void bad_layout(struct nanofs_super *sb) { sb->itable_start += 1; }

KTEST(nanofs_layout, mount_names_what_is_wrong_with_the_superblock)
{
	struct ramdev *r = ramdev_new(512);
	struct nanofs *fs;

	KT_ASSERT(r);
	KT_ASSERT_EQ(ramdev_format(r), 0);
	KT_EXPECT_EQ(mount_with(r, bad_magic, true), -EINVAL);
	KT_EXPECT_LOGGED("bad magic");
	KT_EXPECT_LOGGED("backup superblock is intact");
	KT_EXPECT_EQ(mount_with(r, bad_version, true), -EINVAL);
	KT_EXPECT_LOGGED("unsupported nanofs version 7");
	KT_EXPECT_EQ(mount_with(r, bad_crc, false), -EINVAL);
	KT_EXPECT_LOGGED("superblock checksum mismatch");
	KT_EXPECT_EQ(mount_with(r, too_big, true), -EINVAL);
	KT_EXPECT_LOGGED("volume of 513 blocks does not fit the device of 512 blocks");
	KT_EXPECT_EQ(mount_with(r, bad_layout, true), -EINVAL);
	KT_EXPECT_LOGGED("layout does not match");
	/* the same volume on a device one block short */
	r->dev.blocks = 511;
	KT_EXPECT_EQ(nanofs_mount(&r->dev, false, &fs), -EINVAL);
	r->dev.blocks = 512;
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	ramdev_free(r);
}

KTEST(nanofs_layout, fsck_repair_restores_the_primary_superblock)
{
	struct ramdev *r = ramdev_new(512);
	struct nanofs *fs;
	int lines = 0;

	KT_ASSERT(r);
	KT_ASSERT_EQ(ramdev_format(r), 0);
	r->mem[0] ^= 0xFF;
	KT_EXPECT(ramdev_fsck(r) > 0);
	KT_EXPECT_EQ(nanofs_fsck(&r->dev, nanofs_test_count_report, &lines, true), 0);
	KT_EXPECT_EQ(ramdev_fsck(r), 0);
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	ramdev_free(r);
}

KTEST(nanofs_layout, read_only_device_mounts_read_only)
{
	struct ramdev *r = ramdev_new(512);
	u8 *before;
	struct nanofs *fs;
	u32 ino;

	KT_ASSERT(r);
	KT_ASSERT_EQ(ramdev_format(r), 0);
	before = ramdev_snapshot(r);
	r->dev.read_only = true;
	KT_ASSERT_EQ(nanofs_mount(&r->dev, false, &fs), 0);
	KT_EXPECT_LOGGED("read-only");
	KT_EXPECT(nanofs_read_only(fs));
	KT_EXPECT_EQ(nanofs_create(fs, nanofs_root(fs), "x", 1, NANOFS_FILE, &ino), -EROFS);
	KT_EXPECT_EQ(nanofs_unmount(fs), 0);
	KT_EXPECT(!memcmp(before, r->mem, 512 * NANOFS_BSIZE));
	free(before);
	ramdev_free(r);
}
