/*
 * fuzz_mbr.c — checks block/mbr.c's partition-table parser on any sector against the rules mbr.h states.
 *
 * Input: the first 512 bytes are LBA 0 (a shorter input is padded with
 * zeros, a longer one's bytes 512..519, little-endian, are the disk's size
 * in sectors; without them the disk has 2^21 sectors, 1 GiB).  The sector
 * goes to mbr_parse() in a heap block of exactly 512 bytes, so ASan sees a
 * read past it.
 *
 * Beyond "no crash", every result is worked out again from mbr.h alone:
 * -ENOENT without the 0x55AA signature (and every entry then MBR_EMPTY,
 * zero); otherwise each slot's index, type, bootable flag, start and count
 * as stored, its verdict in the documented order (empty, bad status,
 * extended, protective, range, overlap with an earlier MBR_OK entry), and
 * the return value the number of MBR_OK entries.  mbr_verdict_str() is
 * never NULL.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "block/mbr.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define SECTOR 512
#define TABLE 446

static u64 le_bytes(const u8 *p, unsigned n)
{
	u64 v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* Slot @i's verdict by mbr.h's rules, given the MBR_OK entries before it in @want. */
static enum mbr_verdict rule(const u8 *e, u64 disk, const struct mbr_part *want, int i)
{
	u8 status = e[0], type = e[4];
	u64 start = le_bytes(e + 8, 4), count = le_bytes(e + 12, 4);

	if (type == 0)
		return MBR_EMPTY;
	if (status != 0 && status != 0x80)
		return MBR_BAD_STATUS;
	if (type == 0x05 || type == 0x0f || type == 0x85)
		return MBR_EXTENDED;
	if (type == 0xee)
		return MBR_PROTECTIVE;
	if (count == 0 || start == 0 || start + count > disk)
		return MBR_BAD_RANGE;
	for (int j = 0; j < i; j++)
		if (want[j].verdict == MBR_OK && start < want[j].start + want[j].count &&
		    want[j].start < start + count)
			return MBR_OVERLAP;
	return MBR_OK;
}

KTEST(fuzz, mbr)
{
	u8 *sector = kzalloc(SECTOR);
	u64 disk = fuzz_size >= SECTOR + 8 ? le_bytes(fuzz_data + SECTOR, 8) : 1ull << 21;
	struct mbr_part got[MBR_PARTS], want[MBR_PARTS];
	bool signed_ = false;
	int rc, ok = 0;

	memcpy(sector, fuzz_data, MIN(fuzz_size, (size_t)SECTOR));
	signed_ = sector[510] == 0x55 && sector[511] == 0xaa;
	rc = mbr_parse(sector, disk, got);
	for (int i = 0; i < MBR_PARTS; i++) {
		const u8 *e = sector + TABLE + 16 * i;

		want[i] = (struct mbr_part){ .index = (u8)(i + 1), .verdict = MBR_EMPTY };
		if (!signed_)
			continue;
		want[i].type = e[4];
		want[i].bootable = e[0] == 0x80;
		want[i].start = le_bytes(e + 8, 4);
		want[i].count = le_bytes(e + 12, 4);
		want[i].verdict = rule(e, disk, want, i);
		ok += want[i].verdict == MBR_OK;
	}
	KT_EXPECT_EQ(rc, signed_ ? ok : -ENOENT);
	for (int i = 0; i < MBR_PARTS; i++) {
		const struct mbr_part *g = &got[i], *w = &want[i];

		KT_EXPECT(mbr_verdict_str(g->verdict) != NULL);
		if (g->verdict != w->verdict || g->start != w->start || g->count != w->count ||
		    (signed_ && (g->index != w->index || g->type != w->type ||
				 g->bootable != w->bootable)))
			ktest_fail(kt, __FILE__, __LINE__,
				   "slot %d: verdict %d start %llu count %llu type %#x, the rules say "
				   "%d %llu %llu %#x (disk %llu)", i + 1, g->verdict,
				   (unsigned long long)g->start, (unsigned long long)g->count, g->type,
				   w->verdict, (unsigned long long)w->start,
				   (unsigned long long)w->count, w->type, (unsigned long long)disk);
	}
	kfree(sector);
}
