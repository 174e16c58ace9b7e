/*
 * test_mbr.c — the MBR parser over hand-built tables (every verdict, the
 * edges of the disk, 32-bit overflow, overlap rules) and over random
 * sectors, where it must keep its invariants: the count it returns matches
 * its verdicts, and what it calls valid is inside the disk and disjoint.
 *
 * No malloc, no libc: the file also runs inside the kernel at boot.
 */
#include "block/mbr.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"

#define DISK 100000u /* sectors in the made-up disk */

static u8 sec[512];
static struct mbr_part parts[MBR_PARTS];

/* An empty table with a valid signature. */
static void mbr_reset(void)
{
	memset(sec, 0, sizeof(sec));
	sec[510] = 0x55;
	sec[511] = 0xAA;
}

/* Fill slot @slot (1..4); the CHS bytes get junk, which must be ignored. */
static void mbr_set(unsigned slot, u8 status, u8 type, u32 start, u32 count)
{
	u8 *e = sec + 446 + (slot - 1) * 16;

	e[0] = status;
	e[1] = e[2] = e[3] = 0xFE;
	e[4] = type;
	e[5] = e[6] = e[7] = 0xFF;
	put_le32(e + 8, start);
	put_le32(e + 12, count);
}

KTEST(mbr, one_partition)
{
	mbr_reset();
	mbr_set(1, 0x80, 0x83, 2048, DISK - 2048);
	KT_ASSERT_EQ(mbr_parse(sec, DISK, parts), 1);
	KT_EXPECT_EQ(parts[0].index, 1);
	KT_EXPECT_EQ(parts[0].type, 0x83);
	KT_EXPECT(parts[0].bootable);
	KT_EXPECT_EQ(parts[0].start, 2048);
	KT_EXPECT_EQ(parts[0].count, DISK - 2048);
	KT_EXPECT_EQ(parts[0].verdict, MBR_OK);
	for (unsigned i = 1; i < MBR_PARTS; i++) {
		KT_EXPECT_EQ(parts[i].index, i + 1);
		KT_EXPECT_EQ(parts[i].verdict, MBR_EMPTY);
		KT_EXPECT_EQ(parts[i].type, 0);
	}
}

KTEST(mbr, four_partitions_fill_the_disk)
{
	mbr_reset();
	mbr_set(1, 0x00, 0x0C, 1, 999);
	mbr_set(2, 0x80, 0x83, 1000, 1000);
	mbr_set(3, 0x00, 0x07, 2000, 48000);
	mbr_set(4, 0x00, 0x82, 50000, DISK - 50000); /* ends exactly at the end */
	KT_ASSERT_EQ(mbr_parse(sec, DISK, parts), 4);
	KT_EXPECT(!parts[0].bootable);
	KT_EXPECT(parts[1].bootable);
	KT_EXPECT(!parts[2].bootable);
	KT_EXPECT_EQ(parts[2].type, 0x07);
	KT_EXPECT_EQ(parts[2].start, 2000);
	KT_EXPECT_EQ(parts[2].count, 48000);
	KT_EXPECT_EQ(parts[3].start, 50000);
	KT_EXPECT_EQ(parts[3].count, DISK - 50000);
	for (unsigned i = 0; i < MBR_PARTS; i++) {
		KT_EXPECT_EQ(parts[i].index, i + 1);
		KT_EXPECT_EQ(parts[i].verdict, MBR_OK);
	}
}

KTEST(mbr, gaps_between_slots)
{
	mbr_reset();
	mbr_set(3, 0x00, 0x83, 63, 1000);
	KT_ASSERT_EQ(mbr_parse(sec, DISK, parts), 1);
	KT_EXPECT_EQ(parts[0].verdict, MBR_EMPTY);
	KT_EXPECT_EQ(parts[1].verdict, MBR_EMPTY);
	KT_EXPECT_EQ(parts[2].verdict, MBR_OK);
	KT_EXPECT_EQ(parts[2].index, 3);
	KT_EXPECT_EQ(parts[3].verdict, MBR_EMPTY);

	mbr_reset();
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 0); /* a table with nothing in it */
	/* Type 0 is empty whatever else the slot holds. */
	mbr_set(2, 0x80, 0x00, 2048, 100);
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 0);
	KT_EXPECT_EQ(parts[1].verdict, MBR_EMPTY);
}

KTEST(mbr, no_signature)
{
	mbr_reset();
	mbr_set(1, 0x80, 0x83, 2048, 1000);
	sec[510] = 0xAA; /* byte-swapped */
	sec[511] = 0x55;
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), -ENOENT);
	for (unsigned i = 0; i < MBR_PARTS; i++) {
		KT_EXPECT_EQ(parts[i].index, i + 1);
		KT_EXPECT_EQ(parts[i].verdict, MBR_EMPTY);
		KT_EXPECT_EQ(parts[i].count, 0);
	}
	sec[510] = 0x55;
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), -ENOENT); /* 55 55 */
	sec[511] = 0xAA;
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 1);
	memset(sec, 0, sizeof(sec));
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), -ENOENT); /* a blank disk */
}

KTEST(mbr, extended_entries_are_not_followed)
{
	static const u8 types[] = { 0x05, 0x0F, 0x85 };

	for (unsigned t = 0; t < ARRAY_SIZE(types); t++) {
		mbr_reset();
		mbr_set(1, 0x00, 0x83, 2048, 1000);
		mbr_set(2, 0x00, types[t], 4096, 50000);
		/* Inside the extended container: not an OK entry, so no overlap. */
		mbr_set(3, 0x00, 0x83, 5000, 100);
		KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 2);
		KT_EXPECT_EQ(parts[1].verdict, MBR_EXTENDED);
		KT_EXPECT_EQ(parts[1].type, types[t]);
		KT_EXPECT_EQ(parts[2].verdict, MBR_OK);
	}
	/* An extended entry is reported as such even with a nonsense range. */
	mbr_reset();
	mbr_set(1, 0x00, 0x05, 0, 0);
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 0);
	KT_EXPECT_EQ(parts[0].verdict, MBR_EXTENDED);
}

KTEST(mbr, gpt_protective)
{
	mbr_reset();
	mbr_set(1, 0x00, 0xEE, 1, 0xFFFFFFFF); /* the UEFI spec's "whole disk" */
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 0);
	KT_EXPECT_EQ(parts[0].verdict, MBR_PROTECTIVE);
	KT_EXPECT_EQ(parts[0].count, 0xFFFFFFFF);
	for (unsigned i = 1; i < MBR_PARTS; i++)
		KT_EXPECT_EQ(parts[i].verdict, MBR_EMPTY);
}

KTEST(mbr, bad_ranges)
{
	mbr_reset();
	mbr_set(1, 0x00, 0x83, 2048, 0);         /* zero length */
	mbr_set(2, 0x00, 0x83, 0, 100);          /* covers the table itself */
	mbr_set(3, 0x00, 0x83, DISK - 99, 100);  /* one sector past the end */
	mbr_set(4, 0x00, 0x83, DISK - 100, 100); /* ends exactly at the end */
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 1);
	KT_EXPECT_EQ(parts[0].verdict, MBR_BAD_RANGE);
	KT_EXPECT_EQ(parts[1].verdict, MBR_BAD_RANGE);
	KT_EXPECT_EQ(parts[2].verdict, MBR_BAD_RANGE);
	KT_EXPECT_EQ(parts[3].verdict, MBR_OK);

	mbr_reset();
	mbr_set(1, 0x00, 0x83, DISK, 1);         /* starts just past the end */
	mbr_set(2, 0x00, 0x83, DISK - 1, 1);     /* the very last sector */
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 1);
	KT_EXPECT_EQ(parts[0].verdict, MBR_BAD_RANGE);
	KT_EXPECT_EQ(parts[1].verdict, MBR_OK);

	/* A zero-sized disk has room for nothing. */
	KT_EXPECT_EQ(mbr_parse(sec, 0, parts), 0);
	KT_EXPECT_EQ(parts[1].verdict, MBR_BAD_RANGE);
}

KTEST(mbr, no_32bit_overflow)
{
	mbr_reset();
	/* In u32, 0xFFFFFFFF + 0xFFFFFFFF wraps to 0xFFFFFFFE and would "fit". */
	mbr_set(1, 0x00, 0x83, 0xFFFFFFFF, 0xFFFFFFFF);
	KT_EXPECT_EQ(mbr_parse(sec, 0x100000000ULL, parts), 0);
	KT_EXPECT_EQ(parts[0].verdict, MBR_BAD_RANGE);
	KT_EXPECT_EQ(parts[0].start, 0xFFFFFFFFULL);
	/* A disk big enough for it (2 TiB * 2 in 512-byte sectors). */
	KT_EXPECT_EQ(mbr_parse(sec, 0x1FFFFFFFEULL, parts), 1);
	KT_EXPECT_EQ(parts[0].verdict, MBR_OK);
	KT_EXPECT_EQ(parts[0].start + parts[0].count, 0x1FFFFFFFEULL);
	KT_EXPECT_EQ(mbr_parse(sec, 0x1FFFFFFFDULL, parts), 0);
	/* start + count = 2^32 exactly: 0 in u32 arithmetic. */
	mbr_set(1, 0x00, 0x83, 0x80000000, 0x80000000);
	KT_EXPECT_EQ(mbr_parse(sec, 0xFFFFFFFFULL, parts), 0);
	KT_EXPECT_EQ(mbr_parse(sec, 0x100000000ULL, parts), 1);
}

KTEST(mbr, overlap_with_earlier_valid_entry)
{
	mbr_reset();
	mbr_set(1, 0x00, 0x83, 1000, 1000);  /* [1000, 2000) */
	mbr_set(2, 0x00, 0x83, 1999, 10);    /* shares sector 1999 */
	mbr_set(3, 0x00, 0x83, 2000, 10);    /* touches: fine */
	mbr_set(4, 0x00, 0x83, 1500, 1);     /* inside slot 1 */
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 2);
	KT_EXPECT_EQ(parts[0].verdict, MBR_OK);
	KT_EXPECT_EQ(parts[1].verdict, MBR_OVERLAP);
	KT_EXPECT_EQ(parts[2].verdict, MBR_OK);
	KT_EXPECT_EQ(parts[3].verdict, MBR_OVERLAP);

	/* An earlier entry that starts later, and one that swallows another. */
	mbr_reset();
	mbr_set(1, 0x00, 0x83, 5000, 100);   /* [5000, 5100) */
	mbr_set(2, 0x00, 0x83, 4000, 1001);  /* [4000, 5001) */
	mbr_set(3, 0x00, 0x83, 100, 10000);  /* contains slot 1 */
	mbr_set(4, 0x00, 0x83, 4000, 1000);  /* [4000, 5000): touches slot 1 */
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 2);
	KT_EXPECT_EQ(parts[1].verdict, MBR_OVERLAP);
	KT_EXPECT_EQ(parts[2].verdict, MBR_OVERLAP);
	KT_EXPECT_EQ(parts[3].verdict, MBR_OK);
}

KTEST(mbr, overlap_ignores_invalid_entries)
{
	mbr_reset();
	mbr_set(1, 0x00, 0x83, 1000, DISK);  /* past the end: invalid */
	mbr_set(2, 0x00, 0x83, 1000, 1000);  /* overlaps only the invalid one */
	mbr_set(3, 0x00, 0x83, 1500, 1000);  /* overlaps slot 2: flagged */
	mbr_set(4, 0x00, 0x83, 2400, 100);   /* overlaps only the flagged slot 3 */
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 2);
	KT_EXPECT_EQ(parts[0].verdict, MBR_BAD_RANGE);
	KT_EXPECT_EQ(parts[1].verdict, MBR_OK);
	KT_EXPECT_EQ(parts[2].verdict, MBR_OVERLAP);
	KT_EXPECT_EQ(parts[3].verdict, MBR_OK);

	/* Bad status, extended and protective entries do not claim sectors either. */
	mbr_reset();
	mbr_set(1, 0x42, 0x83, 1000, 1000);
	mbr_set(2, 0x00, 0xEE, 1000, 1000);
	mbr_set(3, 0x00, 0x0F, 1000, 1000);
	mbr_set(4, 0x80, 0x83, 1000, 1000);
	KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 1);
	KT_EXPECT_EQ(parts[3].verdict, MBR_OK);
}

KTEST(mbr, bad_status_byte)
{
	static const u8 bad[] = { 0x01, 0x7F, 0x81, 0xFF };

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		mbr_reset();
		mbr_set(1, bad[i], 0x83, 2048, 1000);
		mbr_set(2, bad[i], 0xEE, 1, 1000); /* status is judged before the type */
		mbr_set(3, bad[i], 0x00, 0, 0);    /* but an empty slot is just empty */
		mbr_set(4, 0x00, 0x83, 4096, 1000);
		KT_EXPECT_EQ(mbr_parse(sec, DISK, parts), 1);
		KT_EXPECT_EQ(parts[0].verdict, MBR_BAD_STATUS);
		KT_EXPECT(!parts[0].bootable);
		KT_EXPECT_EQ(parts[1].verdict, MBR_BAD_STATUS);
		KT_EXPECT_EQ(parts[2].verdict, MBR_EMPTY);
		KT_EXPECT_EQ(parts[3].verdict, MBR_OK);
	}
}

KTEST(mbr, verdict_strings)
{
	static const enum mbr_verdict all[] = {
		MBR_OK, MBR_EMPTY, MBR_EXTENDED, MBR_PROTECTIVE,
		MBR_BAD_RANGE, MBR_OVERLAP, MBR_BAD_STATUS,
	};

	KT_EXPECT_STREQ(mbr_verdict_str(MBR_OVERLAP), "overlaps an earlier partition");
	KT_EXPECT_STREQ(mbr_verdict_str(MBR_BAD_STATUS), "invalid status byte");
	for (unsigned i = 0; i < ARRAY_SIZE(all); i++) {
		KT_ASSERT(mbr_verdict_str(all[i]) != NULL);
		KT_EXPECT(strcmp(mbr_verdict_str(all[i]), "unknown verdict") != 0);
		for (unsigned j = 0; j < i; j++)
			KT_EXPECT(strcmp(mbr_verdict_str(all[i]), mbr_verdict_str(all[j])) != 0);
	}
	KT_EXPECT_STREQ(mbr_verdict_str((enum mbr_verdict)(MBR_BAD_STATUS + 1)), "unknown verdict");
	KT_EXPECT_STREQ(mbr_verdict_str((enum mbr_verdict)-1), "unknown verdict");
}

/* ---- random tables ------------------------------------------------------- */

/* Half the time a plausible entry (small numbers near the disk), else noise. */
static void fuzz_entry(struct ktest_ctx *kt, unsigned slot, u64 disk)
{
	u64 r = ktest_rand(kt);

	if (r & 1)
		return; /* keep the random bytes */
	mbr_set(slot, (r & 2) ? 0x80 : 0x00, (u8)(r >> 8),
		(u32)(ktest_rand(kt) % (disk + 2)), (u32)(ktest_rand(kt) % (disk / 2 + 2)));
}

/* Every invariant the verdicts promise, checked against the raw bytes. */
static void check_parse(struct ktest_ctx *kt, u64 disk, int rc)
{
	int ok = 0;

	for (unsigned i = 0; i < MBR_PARTS; i++) {
		const struct mbr_part *p = &parts[i];

		KT_EXPECT_EQ(p->index, i + 1);
		KT_EXPECT(p->verdict <= MBR_BAD_STATUS);
		if (p->verdict == MBR_OVERLAP) {
			bool found = false;

			for (unsigned j = 0; j < i; j++)
				found |= parts[j].verdict == MBR_OK &&
					 p->start < parts[j].start + parts[j].count &&
					 parts[j].start < p->start + p->count;
			KT_EXPECT(found);
		}
		if (p->verdict == MBR_BAD_RANGE)
			KT_EXPECT(!p->count || !p->start || p->start + p->count > disk);
		if (p->verdict != MBR_OK)
			continue;
		ok++;
		KT_EXPECT(p->type != 0 && p->type != 0xEE);
		KT_EXPECT(p->count > 0 && p->start > 0 && p->start + p->count <= disk);
		for (unsigned j = 0; j < i; j++)
			if (parts[j].verdict == MBR_OK)
				KT_EXPECT(p->start >= parts[j].start + parts[j].count ||
					  parts[j].start >= p->start + p->count);
	}
	KT_EXPECT_EQ(rc, ok);
}

KTEST(mbr, random_sectors_keep_the_invariants)
{
	unsigned seen_ok = 0, seen_enoent = 0;

	for (unsigned round = 0; round < 4000; round++) {
		u64 disk = ktest_rand(kt) % 20000;
		bool sign = ktest_rand(kt) & 1;
		int rc;

		for (unsigned i = 0; i < sizeof(sec); i++)
			sec[i] = (u8)ktest_rand(kt);
		for (unsigned slot = 1; slot <= MBR_PARTS; slot++)
			fuzz_entry(kt, slot, disk);
		if (sign) {
			sec[510] = 0x55;
			sec[511] = 0xAA;
		}
		rc = mbr_parse(sec, disk, parts);
		if (rc == -ENOENT) {
			KT_ASSERT(!(sec[510] == 0x55 && sec[511] == 0xAA));
			for (unsigned i = 0; i < MBR_PARTS; i++)
				KT_EXPECT_EQ(parts[i].verdict, MBR_EMPTY);
			seen_enoent++;
			continue;
		}
		KT_ASSERT(rc >= 0 && rc <= MBR_PARTS);
		KT_ASSERT(sec[510] == 0x55 && sec[511] == 0xAA);
		check_parse(kt, disk, rc);
		seen_ok += (unsigned)rc;
	}
	/* The generator must reach both sides, or the loop proves little. */
	KT_EXPECT(seen_ok > 500);
	KT_EXPECT(seen_enoent > 1000);
}
