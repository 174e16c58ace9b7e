/*
 * test_mb2.c — the Multiboot2 parser over boot information built here: the
 * tags it knows, unknown tags skipped, strings too long for their copy cut
 * with a warning, and malformed blocks (a tag running past the end, a
 * missing end tag, an absurd total size) refused without reading outside
 * the block.
 *
 * Portable: it runs on the host (boot/mb2.c over the shim's printk) and at
 * boot, where boot_info is the kernel's own, so it is saved before each case
 * and put back before any check (a check that fails must not leave the
 * kernel with a test's boot information).  Warnings are looked for among the
 * messages logged since the case began (log_since.h).
 */
#include "boot/mb2.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "tests/unit/log_since.h"

static u8 block[8192] __aligned(8);
static size_t used;
static struct boot_info saved, got;
static u64 start_mark;

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
	start_mark = log_mark();
}

/* Parse the block (ending it with an end tag), keep the result in `got`. */
static int finish(bool end_tag)
{
	int rc;

	if (end_tag)
		tag(0, 8);
	((u32 *)block)[0] = (u32)used;
	rc = mb2_parse(block, 0x1234000);
	got = boot_info;
	boot_info = saved;
	return rc;
}

/* Messages containing @needle logged since start(). */
static unsigned logged_since_start(const char *needle)
{
	return logged_since(start_mark, needle);
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
	KT_EXPECT_EQ(rc, 0);
	KT_EXPECT_STREQ(got.cmdline, "console=vga x");
	KT_EXPECT_STREQ(got.loader, "TEST");
	KT_EXPECT_EQ(got.unknown_tags, 1);
	KT_ASSERT_EQ(got.mmap_count, 2);
	KT_EXPECT_EQ(got.mmap[0].base, 0x100000);
	KT_EXPECT_EQ(got.mmap[0].len, 0x7F00000);
	KT_EXPECT_EQ(got.mmap[1].type, MB2_MEM_RESERVED);
	KT_EXPECT_EQ(got.rsdp_len, 20);
	KT_EXPECT_EQ(logged_since_start("mb2:"), 0);
}

/* A command line of @len bytes: the words "w0000 w0001 ..." */
static char *cmdline_tag(size_t len)
{
	char *s = tag(1, (u32)(8 + len + 1));
	static const unsigned scale[] = { 1000, 100, 10, 1 };

	for (size_t i = 0; i < len; i++) {
		size_t word = i / 6, pos = i % 6;

		s[i] = pos == 0 ? 'w' : pos == 5 ? ' ' : (char)('0' + word / scale[pos - 1] % 10);
	}
	s[len] = '\0';
	return s;
}

/* Hostile finding #5: a long command line is kept, not cut at 1023 bytes. */
KTEST(mb2, long_command_line_is_kept_whole)
{
	const char *line;
	int rc;

	start();
	line = cmdline_tag(MB2_CMDLINE_MAX - 1);
	rc = finish(true);
	KT_EXPECT_EQ(rc, 0);
	KT_EXPECT_EQ(strlen(got.cmdline), MB2_CMDLINE_MAX - 1);
	KT_EXPECT(!memcmp(got.cmdline, line, MB2_CMDLINE_MAX - 1));
	KT_EXPECT_EQ(logged_since_start("mb2:"), 0);
}

KTEST(mb2, too_long_strings_are_cut_with_a_warning)
{
	static const char name[] = "a boot loader whose name is much, much longer than "
				   "the 63 bytes that boot_info keeps";
	char want[128];
	const char *line;
	int rc;

	start();
	line = cmdline_tag(5000);
	memcpy(tag(2, 8 + sizeof(name)), name, sizeof(name));
	rc = finish(true);
	KT_EXPECT_EQ(rc, 0);
	KT_EXPECT_EQ(strlen(got.cmdline), MB2_CMDLINE_MAX - 1);
	KT_EXPECT(!memcmp(got.cmdline, line, MB2_CMDLINE_MAX - 1));
	KT_EXPECT_EQ(logged_since_start("mb2: the command line is 5000 bytes, only 4095 kept: "
					"the last 905 bytes are dropped"), 1);
	KT_EXPECT_EQ(strlen(got.loader), sizeof(got.loader) - 1);
	KT_EXPECT(!memcmp(got.loader, name, sizeof(got.loader) - 1));
	snprintf(want, sizeof(want), "mb2: the boot loader's name is %zu bytes, only %zu kept",
		 sizeof(name) - 1, sizeof(got.loader) - 1);
	KT_EXPECT_EQ(logged_since_start(want), 1);
}

/* A string that is not terminated inside its tag ends with the tag. */
KTEST(mb2, unterminated_string_stops_at_its_tag)
{
	int rc;

	start();
	memcpy(tag(1, 8 + 5), "abcde", 5);   /* no NUL; padding follows */
	memcpy(tag(2, 8 + 4), "GRUB", 4);
	rc = finish(true);
	KT_EXPECT_EQ(rc, 0);
	KT_EXPECT_STREQ(got.cmdline, "abcde");
	KT_EXPECT_STREQ(got.loader, "GRUB");
}

KTEST(mb2, malformed_blocks_are_refused)
{
	int rc_overrun, rc_noend, rc_huge, rc_tiny;

	start();
	memcpy(tag(1, 8 + 4), "abc", 4);
	((u32 *)(block + 8))[1] = 4000; /* the tag claims to run past the block */
	rc_overrun = finish(true);

	start();
	memcpy(tag(2, 8 + 4), "abc", 4);
	rc_noend = finish(false);

	start();
	tag(0, 8);
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
