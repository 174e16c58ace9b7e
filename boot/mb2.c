/*
 * mb2.c — parsing the Multiboot2 boot information.
 *
 * Layout (Multiboot2 specification, section 3.6): a u32 total size, a u32
 * reserved word, then tags, each { u32 type; u32 size; payload } starting
 * on an 8-byte boundary, ending with a tag of type 0.  A size that would
 * run past the block or is smaller than a tag header ends the walk: the boot
 * loader is trusted to be a boot loader, not to be bug-free.  Unknown tags
 * are counted and skipped.  A string that does not fit its copy is cut, and
 * the cut is reported, never silent: a word dropped from the command line
 * would otherwise be a parameter that was simply never there.
 */
#include "boot/mb2.h"
#include "compiler.h"
#include "errno.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define MB2_INFO_MAX (1u << 20) /* far more than any real boot loader writes */
#define TAG_END 0
#define TAG_CMDLINE 1
#define TAG_LOADER_NAME 2
#define TAG_MMAP 6
#define TAG_ACPI_OLD 14
#define TAG_ACPI_NEW 15

struct mb2_tag {
	u32 type;
	u32 size;
} __packed;

struct mb2_tag_mmap {
	u32 type, size;
	u32 entry_size, entry_version;
} __packed;

struct mb2_raw_mmap_entry {
	u64 base, len;
	u32 type, reserved;
} __packed;

struct boot_info boot_info;

/* Copy the string of @tag (@what, for the warning) into @dst, @size bytes. */
static void copy_string(char *dst, size_t size, const struct mb2_tag *tag, const char *what)
{
	size_t len = strnlen((const char *)(tag + 1), tag->size - sizeof(*tag));
	size_t n = MIN(len, size - 1);

	memcpy(dst, tag + 1, n);
	dst[n] = '\0';
	if (n < len)
		pr_warn("mb2: %s is %zu bytes, only %zu kept: the last %zu bytes are dropped",
			what, len, n, len - n);
}

static void parse_mmap(const struct mb2_tag *tag)
{
	const struct mb2_tag_mmap *m = (const void *)tag;
	const u8 *p = (const u8 *)(m + 1), *end = (const u8 *)tag + tag->size;

	if (tag->size < sizeof(*m) || m->entry_size < sizeof(struct mb2_raw_mmap_entry)) {
		pr_warn("mb2: malformed memory map tag ignored");
		return;
	}
	for (; p + m->entry_size <= end; p += m->entry_size) {
		const struct mb2_raw_mmap_entry *e = (const void *)p;

		if (boot_info.mmap_count == MB2_MMAP_MAX) {
			pr_warn("mb2: more than %d memory map entries; rest ignored", MB2_MMAP_MAX);
			return;
		}
		boot_info.mmap[boot_info.mmap_count++] =
			(struct mb2_mmap_entry){ e->base, e->len, e->type };
	}
}

static void parse_rsdp(const struct mb2_tag *tag, bool is_new)
{
	size_t n = tag->size - sizeof(*tag);

	if (boot_info.rsdp_len == 36 && !is_new)
		return; /* keep the ACPI 2.0 copy */
	n = MIN(n, sizeof(boot_info.rsdp));
	memcpy(boot_info.rsdp, tag + 1, n);
	boot_info.rsdp_len = (unsigned)n;
}

static void parse_tag(const struct mb2_tag *tag)
{
	switch (tag->type) {
	case TAG_CMDLINE:
		copy_string(boot_info.cmdline, sizeof(boot_info.cmdline), tag, "the command line");
		break;
	case TAG_LOADER_NAME:
		copy_string(boot_info.loader, sizeof(boot_info.loader), tag, "the boot loader's name");
		break;
	case TAG_MMAP:
		parse_mmap(tag);
		break;
	case TAG_ACPI_OLD:
	case TAG_ACPI_NEW:
		parse_rsdp(tag, tag->type == TAG_ACPI_NEW);
		break;
	default:
		boot_info.unknown_tags++;
	}
}

int mb2_parse(const void *info, u64 info_phys)
{
	const u8 *base = info;
	u32 total = *(const u32 *)info;
	u32 off = 8;

	boot_info.info_phys = info_phys;
	boot_info.info_size = total;
	if (total < 16 || total > MB2_INFO_MAX) {
		pr_err("mb2: boot information claims %u bytes; ignored", total);
		return -EINVAL;
	}
	while (off + sizeof(struct mb2_tag) <= total) {
		const struct mb2_tag *tag = (const void *)(base + off);

		if (tag->type == TAG_END)
			return 0;
		if (tag->size < sizeof(*tag) || tag->size > total - off) {
			pr_err("mb2: tag %u at offset %u has bad size %u; boot info cut there",
			       tag->type, off, tag->size);
			return -EINVAL;
		}
		parse_tag(tag);
		off += ALIGN_UP(tag->size, 8);
	}
	pr_warn("mb2: no end tag within %u bytes", total);
	return -EINVAL;
}
