/*
 * test_mb2.c — the Multiboot2 parser over boot information built here:
 * the tags it knows, unknown tags skipped, and malformed blocks (a tag
 * running past the end, a missing end tag, an absurd total size) refused
 * without reading outside the block.  The real boot_info is saved and put
 * back around each test.
 */
#include "boot/mb2.h"
#include "errno.h"
#include "lib/ktest.h"
#include "lib/string.h"

static u8 block[512] __aligned(8);
static size_t used;
static struct boot_info saved;

static void *tag(u32 type, u32 size)
{
	u32 *t = (u32 *)(block + used);

	t[0] = type;
	t[1] = size;
	used += ALIGN_UP(size, 8);
	return t + 2;
}

static void start(void)
{
	memset(block, 0, sizeof(block));
	used = 8;
	saved = boot_info;
	memset(&boot_info, 0, sizeof(boot_info));
}

static int finish(bool end_tag)
{
	int rc;

	if (end_tag)
		tag(0, 8);
	((u32 *)block)[0] = (u32)used;
	rc = mb2_parse(block, 0x1234000);
	return rc;
}

KTEST(mb2, known_and_unknown_tags)
{
	u32 *m;
	int rc;

	start();
	memcpy(tag(1, 8 + 14), "console=vga x", 14);
	memcpy(tag(2, 8 + 5), "TEST", 5);
	tag(99, 8 + 3);                     /* unknown: skipped */
	m = tag(6, 16 + 2 * 24);            /* memory map, two entries */
	m[0] = 24;
	m[1] = 0;
	((u64 *)(m + 2))[0] = 0x100000;
	((u64 *)(m + 2))[1] = 0x7F00000;
	m[6] = 1;
	((u64 *)(m + 8))[0] = 0xF0000000;
	((u64 *)(m + 8))[1] = 0x1000;
	m[12] = 2;
	memcpy(tag(14, 8 + 20), "RSD PTR ", 8);
	rc = finish(true);
	struct boot_info got = boot_info;
	boot_info = saved;
	KT_EXPECT_EQ(rc, 0);
	KT_EXPECT_STREQ(got.cmdline, "console=vga x");
	KT_EXPECT_STREQ(got.loader, "TEST");
	KT_EXPECT_EQ(got.unknown_tags, 1);
	KT_ASSERT_EQ(got.mmap_count, 2);
	KT_EXPECT_EQ(got.mmap[0].base, 0x100000);
	KT_EXPECT_EQ(got.mmap[0].len, 0x7F00000);
	KT_EXPECT_EQ(got.mmap[1].type, MB2_MEM_RESERVED);
	KT_EXPECT_EQ(got.rsdp_len, 20);
}

KTEST(mb2, malformed_blocks_are_refused)
{
	int rc_overrun, rc_noend, rc_huge, rc_tiny;

	start();
	memcpy(tag(1, 8 + 4), "abc", 4);
	((u32 *)(block + 8))[1] = 4000; /* the tag claims to run past the block */
	rc_overrun = finish(true);
	boot_info = saved;

	start();
	memcpy(tag(2, 8 + 4), "abc", 4);
	rc_noend = finish(false);
	boot_info = saved;

	start();
	finish(true);
	((u32 *)block)[0] = 0x7FFFFFFF;
	rc_huge = mb2_parse(block, 0);
	boot_info = saved;

	start();
	((u32 *)block)[0] = 4;
	rc_tiny = mb2_parse(block, 0);
	boot_info = saved;

	KT_EXPECT_EQ(rc_overrun, -EINVAL);
	KT_EXPECT_EQ(rc_noend, -EINVAL);
	KT_EXPECT_EQ(rc_huge, -EINVAL);
	KT_EXPECT_EQ(rc_tiny, -EINVAL);
}
