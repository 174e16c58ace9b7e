/*
 * test_scsi.c — SCSI CDBs byte for byte against SBC-3/SPC-4, the READ/WRITE
 * 10/16 switch at its edges, the response parsers on good, short and lying
 * data, sense decoding in both formats, the errno table, and random sense /
 * REPORT LUNS / INQUIRY / READ CAPACITY / MODE SENSE data.
 *
 * Out-of-bounds reads: a parser is handed its @len bytes at the very end of
 * a static buffer (tail()), so reading even one byte past @len runs off the
 * object, which ASan's redzones catch on the host.
 *
 * No malloc, no libc: the file also runs inside the kernel at boot.
 */
#include "drivers/scsi.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"

static u8 cdb[SCSI_CDB_MAX];
static u8 tail_mem[512];

/* Copy @len bytes of @src to the end of tail_mem and return where they went. */
static const u8 *tail(const void *src, size_t len)
{
	u8 *p = tail_mem + sizeof(tail_mem) - len;

	memcpy(p, src, len);
	return p;
}

/* Fill the CDB with junk so the tests see that builders zero it first. */
static u8 *dirty_cdb(void)
{
	memset(cdb, 0xCC, sizeof(cdb));
	return cdb;
}

/* The CDB is @want (its length @n) and zero after it. */
static void check_cdb(struct ktest_ctx *kt, int line, unsigned got_len, const u8 *want,
		      unsigned n)
{
	if (got_len != n)
		ktest_fail(kt, __FILE__, line, "CDB length %u != %u", got_len, n);
	for (unsigned i = 0; i < SCSI_CDB_MAX; i++) {
		u8 w = i < n ? want[i] : 0;

		if (cdb[i] != w)
			ktest_fail(kt, __FILE__, line, "CDB byte %u: 0x%02x != 0x%02x", i,
				   cdb[i], w);
	}
}

#define EXPECT_CDB(len, ...)                                                   \
	do {                                                                   \
		static const u8 want_[] = { __VA_ARGS__ };                     \
		check_cdb(kt, __LINE__, (len), want_, sizeof(want_));          \
	} while (0)

/* ---- CDB builders -------------------------------------------------------- */

KTEST(scsi, cdb_simple_commands)
{
	EXPECT_CDB(scsi_cdb_test_unit_ready(dirty_cdb()), 0x00, 0, 0, 0, 0, 0);
	EXPECT_CDB(scsi_cdb_inquiry(dirty_cdb(), 0x1234), 0x12, 0, 0, 0x12, 0x34, 0);
	EXPECT_CDB(scsi_cdb_inquiry(dirty_cdb(), 36), 0x12, 0, 0, 0, 36, 0);
	EXPECT_CDB(scsi_cdb_read_capacity10(dirty_cdb()), 0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	EXPECT_CDB(scsi_cdb_sync_cache(dirty_cdb()), 0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}

KTEST(scsi, cdb_read_capacity16_and_report_luns)
{
	EXPECT_CDB(scsi_cdb_read_capacity16(dirty_cdb(), 32),
		   0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0);
	EXPECT_CDB(scsi_cdb_read_capacity16(dirty_cdb(), 0x01020304),
		   0x9E, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0, 0);
	EXPECT_CDB(scsi_cdb_report_luns(dirty_cdb(), 0x01020304),
		   0xA0, 0, 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0, 0);
	EXPECT_CDB(scsi_cdb_report_luns(dirty_cdb(), 4096),
		   0xA0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0, 0);
}

KTEST(scsi, cdb_rw10)
{
	EXPECT_CDB(scsi_cdb_rw(dirty_cdb(), false, 0x01020304, 0x0506),
		   0x28, 0, 0x01, 0x02, 0x03, 0x04, 0, 0x05, 0x06, 0);
	EXPECT_CDB(scsi_cdb_rw(dirty_cdb(), true, 0x01020304, 0x0506),
		   0x2A, 0, 0x01, 0x02, 0x03, 0x04, 0, 0x05, 0x06, 0);
	EXPECT_CDB(scsi_cdb_rw(dirty_cdb(), false, 0, 1), 0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0);
}

KTEST(scsi, cdb_rw16)
{
	EXPECT_CDB(scsi_cdb_rw(dirty_cdb(), false, 0x0102030405060708ULL, 0x090A0B0C),
		   0x88, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		   0x09, 0x0A, 0x0B, 0x0C, 0, 0);
	EXPECT_CDB(scsi_cdb_rw(dirty_cdb(), true, 0x0102030405060708ULL, 0x090A0B0C),
		   0x8A, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		   0x09, 0x0A, 0x0B, 0x0C, 0, 0);
	EXPECT_CDB(scsi_cdb_rw(dirty_cdb(), false, ~0ULL, 1),
		   0x88, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1, 0, 0);
	/* A huge lba with a huge count must not wrap into the 10-byte form. */
	EXPECT_CDB(scsi_cdb_rw(dirty_cdb(), false, ~0ULL - 5, 0xFFFFFFFF),
		   0x88, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFA,
		   0xFF, 0xFF, 0xFF, 0xFF, 0, 0);
}

KTEST(scsi, cdb_rw_switches_form_at_the_edges)
{
	static const struct {
		u64 lba;
		u32 count;
		unsigned len;
	} cases[] = {
		{ 0xFFFFFFFF, 1, 10 },            /* last block 0xFFFFFFFF: fits */
		{ 0xFFFFFFFF, 2, 16 },            /* would run to 2^32 */
		{ 0xFFFFFFFE, 2, 10 },
		{ 0xFFFFFFFE, 3, 16 },
		{ 0x100000000ULL - 0xFFFF, 0xFFFF, 10 },
		{ 0x100000000ULL - 0xFFFE, 0xFFFF, 16 },
		{ 0x100000000ULL, 1, 16 },        /* lba itself needs 33 bits */
		{ 0, 0xFFFF, 10 },
		{ 0, 0x10000, 16 },               /* count needs 17 bits */
		{ 1000, 0x10000, 16 },
		{ ~0ULL, 0xFFFFFFFF, 16 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned len = scsi_cdb_rw(dirty_cdb(), i & 1, cases[i].lba, cases[i].count);

		KT_EXPECT_EQ(len, cases[i].len);
		if (len == 10) {
			KT_EXPECT_EQ(cdb[0], (i & 1) ? SCSI_OP_WRITE_10 : SCSI_OP_READ_10);
			KT_EXPECT_EQ(get_be32(cdb + 2), cases[i].lba);
			KT_EXPECT_EQ(get_be16(cdb + 7), cases[i].count);
		} else {
			KT_EXPECT_EQ(cdb[0], (i & 1) ? SCSI_OP_WRITE_16 : SCSI_OP_READ_16);
			KT_EXPECT_EQ(get_be64(cdb + 2), cases[i].lba);
			KT_EXPECT_EQ(get_be32(cdb + 10), cases[i].count);
		}
	}
}

/* ---- INQUIRY ------------------------------------------------------------- */

/* Standard INQUIRY data as QEMU's scsi-hd returns it (first 36 bytes). */
static u8 inq[36];

static void inq_reset(u8 byte0, u8 byte1, const char *vendor, const char *product,
		      const char *rev)
{
	memset(inq, ' ', sizeof(inq));
	inq[0] = byte0;
	inq[1] = byte1;
	inq[2] = 0x05; /* SPC-3 */
	inq[3] = 0x02;
	inq[4] = 31;   /* additional length */
	inq[5] = inq[6] = inq[7] = 0;
	memcpy(inq + 8, vendor, strlen(vendor));
	memcpy(inq + 16, product, strlen(product));
	memcpy(inq + 32, rev, strlen(rev));
}

KTEST(scsi, inquiry_good)
{
	struct scsi_inquiry q;

	inq_reset(0x00, 0x00, "QEMU", "QEMU HARDDISK", "2.5+");
	KT_ASSERT_EQ(scsi_parse_inquiry(tail(inq, 36), 36, &q), 0);
	KT_EXPECT_EQ(q.peripheral_type, SCSI_TYPE_DISK);
	KT_EXPECT_EQ(q.qualifier, 0);
	KT_EXPECT(!q.removable);
	KT_EXPECT_STREQ(q.vendor, "QEMU");
	KT_EXPECT_STREQ(q.product, "QEMU HARDDISK"); /* inner space kept */
	KT_EXPECT_STREQ(q.revision, "2.5+");

	/* CD-ROM, removable, qualifier 3 ("no device here"), full-width fields. */
	inq_reset(0x65, 0x80, "ABCDEFGH", "0123456789abcdef", "WXYZ");
	KT_ASSERT_EQ(scsi_parse_inquiry(tail(inq, 36), 36, &q), 0);
	KT_EXPECT_EQ(q.peripheral_type, 0x05);
	KT_EXPECT_EQ(q.qualifier, 3);
	KT_EXPECT(q.removable);
	KT_EXPECT_STREQ(q.vendor, "ABCDEFGH");
	KT_EXPECT_STREQ(q.product, "0123456789abcdef");
	KT_EXPECT_STREQ(q.revision, "WXYZ");
}

KTEST(scsi, inquiry_short_and_long)
{
	static u8 big[96];
	struct scsi_inquiry q;

	inq_reset(0x00, 0x00, "QEMU", "QEMU HARDDISK", "2.5+");
	memset(&q, 0x5A, sizeof(q));
	KT_EXPECT_EQ(scsi_parse_inquiry(tail(inq, 35), 35, &q), -EINVAL);
	KT_EXPECT_EQ(q.vendor[0], 0); /* zeroed, not left as junk */
	KT_EXPECT_EQ(q.peripheral_type, 0);
	KT_EXPECT_EQ(scsi_parse_inquiry(tail(inq, 0), 0, &q), -EINVAL);
	/* More than 36 bytes (vendor-specific data follows): fine. */
	memset(big, 0xFF, sizeof(big));
	memcpy(big, inq, sizeof(inq));
	KT_EXPECT_EQ(scsi_parse_inquiry(tail(big, sizeof(big)), sizeof(big), &q), 0);
	KT_EXPECT_STREQ(q.revision, "2.5+");
}

KTEST(scsi, inquiry_garbage_bytes)
{
	struct scsi_inquiry q;

	inq_reset(0x00, 0x00, "", "", "");
	memcpy(inq + 8, "A\x01" "B\xFF" "\x7F" "   ", 8);
	memcpy(inq + 16, "disk\0\0\0\0\0\0\0\0\0\0\0\0", 16);   /* NUL padded */
	memcpy(inq + 32, " \0x ", 4);
	KT_ASSERT_EQ(scsi_parse_inquiry(tail(inq, 36), 36, &q), 0);
	KT_EXPECT_STREQ(q.vendor, "A?B??");
	KT_EXPECT_STREQ(q.product, "disk");
	KT_EXPECT_STREQ(q.revision, " ?x"); /* an inner NUL is not padding */

	inq_reset(0x00, 0x00, "", "", ""); /* all spaces */
	KT_ASSERT_EQ(scsi_parse_inquiry(tail(inq, 36), 36, &q), 0);
	KT_EXPECT_STREQ(q.vendor, "");
	KT_EXPECT_STREQ(q.product, "");
	KT_EXPECT_STREQ(q.revision, "");
}

/* ---- READ CAPACITY -------------------------------------------------------- */

static u8 rc_buf[32];

static void rc10_set(u32 last, u32 bs)
{
	put_be32(rc_buf, last);
	put_be32(rc_buf + 4, bs);
}

KTEST(scsi, read_capacity10)
{
	u64 blocks = 0;
	u32 bs = 0;
	bool need16 = true;

	rc10_set(0x1FFFFF, 512);
	KT_ASSERT_EQ(scsi_parse_read_capacity10(tail(rc_buf, 8), 8, &blocks, &bs, &need16), 0);
	KT_EXPECT_EQ(blocks, 0x200000);
	KT_EXPECT_EQ(bs, 512);
	KT_EXPECT(!need16);

	rc10_set(0, 4096); /* a one-block device */
	KT_ASSERT_EQ(scsi_parse_read_capacity10(tail(rc_buf, 8), 8, &blocks, &bs, &need16), 0);
	KT_EXPECT_EQ(blocks, 1);
	KT_EXPECT_EQ(bs, 4096);

	rc10_set(0xFFFFFFFE, 65536);
	KT_ASSERT_EQ(scsi_parse_read_capacity10(tail(rc_buf, 8), 8, &blocks, &bs, &need16), 0);
	KT_EXPECT_EQ(blocks, 0xFFFFFFFFULL);
	KT_EXPECT(!need16);

	rc10_set(0xFFFFFFFF, 512); /* "ask me with READ CAPACITY (16)" */
	KT_ASSERT_EQ(scsi_parse_read_capacity10(tail(rc_buf, 8), 8, &blocks, &bs, &need16), 0);
	KT_EXPECT(need16);
	KT_EXPECT_EQ(blocks, 0x100000000ULL);
}

KTEST(scsi, read_capacity10_rejects)
{
	static const u32 bad_bs[] = { 0, 1, 256, 511, 513, 1536, 131072, 0x80000000, 0xFFFFFFFF };
	u64 blocks = 7;
	u32 bs = 7;
	bool need16 = true;

	rc10_set(1000, 512);
	for (size_t len = 0; len < 8; len++)
		KT_EXPECT_EQ(scsi_parse_read_capacity10(tail(rc_buf, len), len, &blocks, &bs,
							&need16), -EINVAL);
	for (unsigned i = 0; i < ARRAY_SIZE(bad_bs); i++) {
		rc10_set(1000, bad_bs[i]);
		KT_EXPECT_EQ(scsi_parse_read_capacity10(tail(rc_buf, 8), 8, &blocks, &bs,
							&need16), -EINVAL);
	}
	/* Failures leave the outputs alone. */
	KT_EXPECT_EQ(blocks, 7);
	KT_EXPECT_EQ(bs, 7);
	KT_EXPECT(need16);
}

static void rc16_set(u64 last, u32 bs)
{
	memset(rc_buf, 0xEE, sizeof(rc_buf)); /* protection, exponents: not ours */
	put_be64(rc_buf, last);
	put_be32(rc_buf + 8, bs);
}

KTEST(scsi, read_capacity16)
{
	u64 blocks = 0;
	u32 bs = 0;

	rc16_set(0x1FFFFFFFFULL, 4096);
	KT_ASSERT_EQ(scsi_parse_read_capacity16(tail(rc_buf, 32), 32, &blocks, &bs), 0);
	KT_EXPECT_EQ(blocks, 0x200000000ULL);
	KT_EXPECT_EQ(bs, 4096);

	rc16_set(41, 512); /* exactly the 12 bytes we read */
	KT_ASSERT_EQ(scsi_parse_read_capacity16(tail(rc_buf, 12), 12, &blocks, &bs), 0);
	KT_EXPECT_EQ(blocks, 42);
	KT_EXPECT_EQ(bs, 512);

	rc16_set(~0ULL - 1, 512); /* the largest count that fits */
	KT_ASSERT_EQ(scsi_parse_read_capacity16(tail(rc_buf, 12), 12, &blocks, &bs), 0);
	KT_EXPECT(blocks == ~0ULL);
}

KTEST(scsi, read_capacity16_rejects)
{
	static const u32 bad_bs[] = { 0, 3, 384, 520, 65537, 131072, 0x80000000 };
	u64 blocks = 7;
	u32 bs = 7;

	rc16_set(1000, 512);
	for (size_t len = 0; len < 12; len++)
		KT_EXPECT_EQ(scsi_parse_read_capacity16(tail(rc_buf, len), len, &blocks, &bs),
			     -EINVAL);
	rc16_set(~0ULL, 512);
	KT_EXPECT_EQ(scsi_parse_read_capacity16(tail(rc_buf, 32), 32, &blocks, &bs), -EINVAL);
	for (unsigned i = 0; i < ARRAY_SIZE(bad_bs); i++) {
		rc16_set(1000, bad_bs[i]);
		KT_EXPECT_EQ(scsi_parse_read_capacity16(tail(rc_buf, 32), 32, &blocks, &bs),
			     -EINVAL);
	}
	KT_EXPECT_EQ(blocks, 7);
	KT_EXPECT_EQ(bs, 7);
}

/* ---- REPORT LUNS ---------------------------------------------------------- */

static u8 luns_buf[8 + 8 * 8];

/* A header claiming @list_len bytes; entries are set with lun_entry(). */
static void luns_reset(u32 list_len)
{
	memset(luns_buf, 0, sizeof(luns_buf));
	put_be32(luns_buf, list_len);
}

static void lun_entry(unsigned i, u8 b0, u8 b1)
{
	luns_buf[8 + 8 * i] = b0;
	luns_buf[8 + 8 * i + 1] = b1;
}

KTEST(scsi, report_luns_addressing_forms)
{
	u16 luns[8];

	luns_reset(6 * 8);
	lun_entry(0, 0x00, 0x00);  /* peripheral, LUN 0 */
	lun_entry(1, 0x00, 0x05);  /* peripheral, LUN 5 */
	lun_entry(2, 0x41, 0x01);  /* flat, LUN 0x101 */
	lun_entry(3, 0x80, 0x07);  /* logical unit addressing: skipped */
	lun_entry(4, 0xC0, 0x07);  /* extended: skipped */
	lun_entry(5, 0x7F, 0xFF);  /* flat, the largest: 0x3FFF */
	KT_ASSERT_EQ(scsi_parse_report_luns(tail(luns_buf, 8 + 6 * 8), 8 + 6 * 8, luns, 8), 4);
	KT_EXPECT_EQ(luns[0], 0);
	KT_EXPECT_EQ(luns[1], 5);
	KT_EXPECT_EQ(luns[2], 0x101);
	KT_EXPECT_EQ(luns[3], 0x3FFF);
}

KTEST(scsi, report_luns_lengths)
{
	u16 luns[8];

	for (unsigned i = 0; i < 8; i++)
		lun_entry(i, 0x00, (u8)(10 + i));
	/* The header claims 800 bytes; only two entries were received. */
	put_be32(luns_buf, 800);
	KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, 24), 24, luns, 8), 2);
	KT_EXPECT_EQ(luns[1], 11);
	/* A partial entry at the end is ignored. */
	KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, 31), 31, luns, 8), 2);
	KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, 8), 8, luns, 8), 0);
	/* The header claims less than was received: the header wins. */
	put_be32(luns_buf, 16);
	KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, 72), 72, luns, 8), 2);
	put_be32(luns_buf, 17); /* not a multiple of 8 */
	KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, 72), 72, luns, 8), 2);
	put_be32(luns_buf, 0);
	KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, 72), 72, luns, 8), 0);
	/* @max caps what is stored. */
	put_be32(luns_buf, 64);
	KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, 72), 72, luns, 3), 3);
	KT_EXPECT_EQ(luns[2], 12);
	KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, 72), 72, NULL, 0), 0);
	/* Too short for the header. */
	for (size_t len = 0; len < 8; len++)
		KT_EXPECT_EQ(scsi_parse_report_luns(tail(luns_buf, len), len, luns, 8), -EINVAL);
}

/* ---- sense data ------------------------------------------------------------ */

/* Fixed-format sense as a device returns it: 18 bytes, additional length 10. */
static u8 fixed[18];

static void fixed_set(u8 code, u8 key, u8 asc, u8 ascq)
{
	memset(fixed, 0, sizeof(fixed));
	fixed[0] = code;
	fixed[2] = key;
	fixed[7] = 10;
	fixed[12] = asc;
	fixed[13] = ascq;
}

KTEST(scsi, sense_fixed)
{
	struct scsi_sense s;

	fixed_set(0x70, 0x05, 0x24, 0x00);
	scsi_sense_decode(tail(fixed, 18), 18, &s);
	KT_ASSERT(s.valid);
	KT_EXPECT_EQ(s.key, SCSI_SENSE_ILLEGAL_REQUEST);
	KT_EXPECT_EQ(s.asc, 0x24);
	KT_EXPECT_EQ(s.ascq, 0);

	fixed_set(0xF0, 0xE3, 0x11, 0x04); /* VALID bit set; FILEMARK/EOM/ILI bits in byte 2 */
	scsi_sense_decode(tail(fixed, 18), 18, &s);
	KT_ASSERT(s.valid);
	KT_EXPECT_EQ(s.key, SCSI_SENSE_MEDIUM_ERROR);
	KT_EXPECT_EQ(s.asc, 0x11);
	KT_EXPECT_EQ(s.ascq, 0x04);

	fixed_set(0x71, 0x06, 0x29, 0x00); /* deferred */
	scsi_sense_decode(tail(fixed, 18), 18, &s);
	KT_EXPECT(s.valid);
	KT_EXPECT_EQ(s.key, SCSI_SENSE_UNIT_ATTENTION);
	KT_EXPECT_EQ(s.asc, 0x29);
}

KTEST(scsi, sense_fixed_short)
{
	struct scsi_sense s;

	fixed_set(0x70, 0x02, 0x04, 0x01);
	scsi_sense_decode(tail(fixed, 2), 2, &s);
	KT_EXPECT(!s.valid);
	scsi_sense_decode(tail(fixed, 3), 3, &s); /* just the key */
	KT_EXPECT(s.valid);
	KT_EXPECT_EQ(s.key, SCSI_SENSE_NOT_READY);
	KT_EXPECT_EQ(s.asc, 0);
	scsi_sense_decode(tail(fixed, 12), 12, &s);
	KT_EXPECT_EQ(s.asc, 0);
	scsi_sense_decode(tail(fixed, 13), 13, &s); /* asc but not ascq */
	KT_EXPECT_EQ(s.asc, 0x04);
	KT_EXPECT_EQ(s.ascq, 0);
	scsi_sense_decode(tail(fixed, 14), 14, &s);
	KT_EXPECT_EQ(s.ascq, 0x01);
	/* The additional length says bytes 12-13 were not filled in. */
	fixed[7] = 4;
	scsi_sense_decode(tail(fixed, 18), 18, &s);
	KT_EXPECT(s.valid);
	KT_EXPECT_EQ(s.key, SCSI_SENSE_NOT_READY);
	KT_EXPECT_EQ(s.asc, 0);
	fixed[7] = 5;
	scsi_sense_decode(tail(fixed, 18), 18, &s);
	KT_EXPECT_EQ(s.asc, 0x04);
	KT_EXPECT_EQ(s.ascq, 0);
}

KTEST(scsi, sense_descriptor)
{
	static const u8 desc[8] = { 0x72, 0x06, 0x29, 0x02, 0, 0, 0, 0 };
	static const u8 desc_deferred[4] = { 0x73, 0xF7, 0x27, 0x00 };
	struct scsi_sense s;

	scsi_sense_decode(tail(desc, 8), 8, &s);
	KT_ASSERT(s.valid);
	KT_EXPECT_EQ(s.key, SCSI_SENSE_UNIT_ATTENTION);
	KT_EXPECT_EQ(s.asc, 0x29);
	KT_EXPECT_EQ(s.ascq, 0x02);
	scsi_sense_decode(tail(desc_deferred, 4), 4, &s);
	KT_ASSERT(s.valid);
	KT_EXPECT_EQ(s.key, SCSI_SENSE_DATA_PROTECT); /* upper nibble masked */
	KT_EXPECT_EQ(s.asc, 0x27);
	scsi_sense_decode(tail(desc, 3), 3, &s);
	KT_EXPECT(!s.valid);
	KT_EXPECT_EQ(s.key, 0);
	KT_EXPECT_EQ(s.asc, 0);
}

KTEST(scsi, sense_garbage)
{
	static const u8 codes[] = { 0x00, 0x01, 0x6F, 0x74, 0x75, 0x7E, 0x7F, 0x80, 0xF4, 0xFF };
	struct scsi_sense s;

	for (unsigned i = 0; i < ARRAY_SIZE(codes); i++) {
		fixed_set(codes[i], 0x05, 0x24, 0x00);
		memset(&s, 0x5A, sizeof(s));
		scsi_sense_decode(tail(fixed, 18), 18, &s);
		KT_EXPECT(!s.valid);
		KT_EXPECT_EQ(s.key, 0);
		KT_EXPECT_EQ(s.asc, 0);
		KT_EXPECT_EQ(s.ascq, 0);
	}
	scsi_sense_decode(tail(fixed, 0), 0, &s);
	KT_EXPECT(!s.valid);
	scsi_sense_decode(NULL, 0, &s);
	KT_EXPECT(!s.valid);
}

KTEST(scsi, sense_errno_table)
{
	static const int want[16] = {
		[0x0] = 0, [0x1] = 0, [0x2] = -EAGAIN, [0x3] = -EIO,
		[0x4] = -EIO, [0x5] = -EINVAL, [0x6] = -EAGAIN, [0x7] = -EROFS,
		[0x8] = -EIO, [0x9] = -EIO, [0xA] = -EIO, [0xB] = -EAGAIN,
		[0xC] = -EIO, [0xD] = -EIO, [0xE] = -EIO, [0xF] = -EIO,
	};
	struct scsi_sense s = { .valid = true };

	for (u8 key = 0; key < 16; key++) {
		s.key = key;
		s.asc = 0x00;
		KT_EXPECT_EQ(scsi_sense_errno(&s), want[key]);
	}
	s.key = SCSI_SENSE_ILLEGAL_REQUEST;
	s.asc = 0x21;
	KT_EXPECT_EQ(scsi_sense_errno(&s), -EINVAL);
	s.asc = 0x20;
	KT_EXPECT_EQ(scsi_sense_errno(&s), -EOPNOTSUPP);
	s.asc = 0x24;
	KT_EXPECT_EQ(scsi_sense_errno(&s), -EOPNOTSUPP);
	s.asc = 0x25;
	KT_EXPECT_EQ(scsi_sense_errno(&s), -EOPNOTSUPP);
	s.asc = 0x26; /* invalid field in parameter list */
	KT_EXPECT_EQ(scsi_sense_errno(&s), -EINVAL);
	/* asc matters only for ILLEGAL REQUEST. */
	s.key = SCSI_SENSE_MEDIUM_ERROR;
	s.asc = 0x24;
	KT_EXPECT_EQ(scsi_sense_errno(&s), -EIO);
	/* No usable sense: an I/O error, whatever the fields say. */
	s.valid = false;
	s.key = SCSI_SENSE_NO_SENSE;
	KT_EXPECT_EQ(scsi_sense_errno(&s), -EIO);
	KT_EXPECT_EQ(scsi_sense_errno(NULL), -EIO);
}

KTEST(scsi, sense_key_names)
{
	KT_EXPECT_STREQ(scsi_sense_key_str(0x0), "NO SENSE");
	KT_EXPECT_STREQ(scsi_sense_key_str(0x3), "MEDIUM ERROR");
	KT_EXPECT_STREQ(scsi_sense_key_str(0x5), "ILLEGAL REQUEST");
	KT_EXPECT_STREQ(scsi_sense_key_str(0x6), "UNIT ATTENTION");
	KT_EXPECT_STREQ(scsi_sense_key_str(0xB), "ABORTED COMMAND");
	for (unsigned k = 0; k < 16; k++) {
		KT_ASSERT(scsi_sense_key_str((u8)k) != NULL);
		for (unsigned j = 0; j < k; j++)
			KT_EXPECT(strcmp(scsi_sense_key_str((u8)k), scsi_sense_key_str((u8)j)) != 0);
	}
	KT_EXPECT_STREQ(scsi_sense_key_str(0x10), "UNKNOWN SENSE KEY");
	KT_EXPECT_STREQ(scsi_sense_key_str(0xFF), "UNKNOWN SENSE KEY");
}

/* ---- MODE SENSE ------------------------------------------------------------- */

KTEST(scsi, cdb_mode_sense)
{
	EXPECT_CDB(scsi_cdb_mode_sense6(dirty_cdb(), SCSI_MODE_PAGE_ALL, 192),
		   0x1A, 0, 0x3F, 0, 192, 0);
	EXPECT_CDB(scsi_cdb_mode_sense6(dirty_cdb(), 0x08, 4), 0x1A, 0, 0x08, 0, 4, 0);
	/* Only the page code's 6 bits: the PC field (current values) stays 0. */
	EXPECT_CDB(scsi_cdb_mode_sense6(dirty_cdb(), 0xFF, 255), 0x1A, 0, 0x3F, 0, 255, 0);
	EXPECT_CDB(scsi_cdb_mode_sense10(dirty_cdb(), SCSI_MODE_PAGE_ALL, 192),
		   0x5A, 0, 0x3F, 0, 0, 0, 0, 0, 192, 0);
	EXPECT_CDB(scsi_cdb_mode_sense10(dirty_cdb(), 0xC1, 0x1234),
		   0x5A, 0, 0x01, 0, 0, 0, 0, 0x12, 0x34, 0);
}

static u8 mode_buf[16];

/* A mode parameter header: (6) when @ten is false, else (10). */
static void mode_set(bool ten, unsigned data_len, u8 dev_specific)
{
	memset(mode_buf, 0, sizeof(mode_buf));
	if (ten) {
		put_be16(mode_buf, (u16)data_len);
		mode_buf[3] = dev_specific;
	} else {
		mode_buf[0] = (u8)data_len;
		mode_buf[2] = dev_specific;
	}
}

static int ms6(size_t len, bool *wp)
{
	return scsi_parse_mode_sense6(tail(mode_buf, len), len, wp);
}

static int ms10(size_t len, bool *wp)
{
	return scsi_parse_mode_sense10(tail(mode_buf, len), len, wp);
}

KTEST(scsi, mode_sense_write_protect)
{
	bool wp = true;

	mode_set(false, 3, 0x00);
	KT_EXPECT_EQ(ms6(4, &wp), 0);
	KT_EXPECT(!wp);
	mode_set(false, 11, 0x80); /* + a block descriptor */
	KT_EXPECT_EQ(ms6(12, &wp), 0);
	KT_EXPECT(wp);
	mode_set(false, 3, 0x7F); /* every other bit (DPOFUA, ...) is not WP */
	KT_EXPECT_EQ(ms6(4, &wp), 0);
	KT_EXPECT(!wp);
	mode_set(false, 0xFF, 0x90); /* claims more than was sent: the header is all we need */
	KT_EXPECT_EQ(ms6(4, &wp), 0);
	KT_EXPECT(wp);

	mode_set(true, 6, 0x80);
	KT_EXPECT_EQ(ms10(8, &wp), 0);
	KT_EXPECT(wp);
	mode_set(true, 6, 0x10);
	KT_EXPECT_EQ(ms10(8, &wp), 0);
	KT_EXPECT(!wp);
	/* The (10) header's WP is in byte 3: byte 2 (medium type) is not it. */
	mode_set(true, 6, 0x00);
	mode_buf[2] = 0x80;
	KT_EXPECT_EQ(ms10(8, &wp), 0);
	KT_EXPECT(!wp);
}

KTEST(scsi, mode_sense_short_or_lying_headers)
{
	bool wp = true;

	for (size_t len = 0; len < 4; len++) {
		mode_set(false, 3, 0x80);
		KT_EXPECT_EQ(ms6(len, &wp), -EINVAL);
	}
	for (size_t len = 0; len < 8; len++) {
		mode_set(true, 6, 0x80);
		KT_EXPECT_EQ(ms10(len, &wp), -EINVAL);
	}
	/* A mode data length that does not even cover the header. */
	for (unsigned n = 0; n < 3; n++) {
		mode_set(false, n, 0x80);
		KT_EXPECT_EQ(ms6(16, &wp), -EINVAL);
	}
	for (unsigned n = 0; n < 6; n++) {
		mode_set(true, n, 0x80);
		KT_EXPECT_EQ(ms10(16, &wp), -EINVAL);
	}
	KT_EXPECT(wp); /* never written on failure */
	wp = false;
	mode_set(true, 0x0100, 0x00); /* only the high byte set: 256, fine */
	KT_EXPECT_EQ(ms10(8, &wp), 0);
}

/* ---- random data ------------------------------------------------------------ */

static u8 rnd[256];

static void fill_random(struct ktest_ctx *kt, size_t len)
{
	for (size_t i = 0; i < len; i++)
		rnd[i] = (u8)ktest_rand(kt);
}

static bool errno_is_known(int e)
{
	return e == 0 || e == -EIO || e == -EAGAIN || e == -EINVAL || e == -EOPNOTSUPP ||
	       e == -EROFS;
}

KTEST(scsi, random_sense)
{
	unsigned valid = 0;

	for (unsigned round = 0; round < 5000; round++) {
		size_t len = ktest_rand(kt) % (SCSI_SENSE_MAX + 1);
		struct scsi_sense s;
		u8 code;

		fill_random(kt, len);
		if (len && ktest_rand(kt) % 2) /* a real response code half the time */
			rnd[0] = (u8)(0x70 + ktest_rand(kt) % 4 + (ktest_rand(kt) % 2) * 0x80);
		code = len ? rnd[0] & 0x7F : 0;
		scsi_sense_decode(tail(rnd, len), len, &s);
		KT_EXPECT(errno_is_known(scsi_sense_errno(&s)));
		KT_ASSERT(scsi_sense_key_str(s.key) != NULL);
		if (!s.valid) {
			KT_EXPECT(s.key == 0 && s.asc == 0 && s.ascq == 0);
			KT_EXPECT(code < 0x70 || code > 0x73 || len < 4);
			continue;
		}
		valid++;
		KT_EXPECT(code >= 0x70 && code <= 0x73);
		KT_EXPECT(s.key <= 0xF);
		if (code <= 0x71) {
			KT_EXPECT(len >= 3);
			KT_EXPECT_EQ(s.key, rnd[2] & 0xF);
			if (len <= 12)
				KT_EXPECT(s.asc == 0 && s.ascq == 0);
		} else {
			KT_EXPECT(len >= 4);
			KT_EXPECT_EQ(s.asc, rnd[2]);
		}
	}
	KT_EXPECT(valid > 1000);
}

KTEST(scsi, random_report_luns)
{
	u16 luns[40];

	for (unsigned round = 0; round < 5000; round++) {
		size_t len = ktest_rand(kt) % 200;
		unsigned max = (unsigned)(ktest_rand(kt) % (ARRAY_SIZE(luns) + 1));
		int rc;

		fill_random(kt, len);
		if (len >= 4 && ktest_rand(kt) % 2) /* a plausible header half the time */
			put_be32(rnd, (u32)(ktest_rand(kt) % 256));
		for (unsigned i = 0; i < ARRAY_SIZE(luns); i++)
			luns[i] = 0xFFFF;
		rc = scsi_parse_report_luns(tail(rnd, len), len, luns, max);
		if (len < 8) {
			KT_EXPECT_EQ(rc, -EINVAL);
			continue;
		}
		KT_ASSERT(rc >= 0 && (unsigned)rc <= max);
		KT_EXPECT((size_t)rc <= (len - 8) / 8);
		KT_EXPECT((u32)rc <= get_be32(rnd) / 8);
		for (int i = 0; i < rc; i++)
			KT_EXPECT(luns[i] <= 0x3FFF);
		for (unsigned i = (unsigned)rc; i < ARRAY_SIZE(luns); i++)
			KT_EXPECT_EQ(luns[i], 0xFFFF); /* nothing stored past the count */
	}
}

/* A parsed INQUIRY string: printable, no trailing space, NUL-terminated in @cap. */
static bool inquiry_string_ok(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	if (n == cap || (n && s[n - 1] == ' '))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			return false;
	return true;
}

KTEST(scsi, random_inquiry_and_capacity)
{
	for (unsigned round = 0; round < 3000; round++) {
		size_t len = ktest_rand(kt) % 64;
		struct scsi_inquiry q;
		u64 blocks;
		u32 bs;
		bool need16;
		int rc;

		fill_random(kt, len);
		rc = scsi_parse_inquiry(tail(rnd, len), len, &q);
		KT_EXPECT_EQ(rc, len < 36 ? -EINVAL : 0);
		KT_EXPECT(inquiry_string_ok(q.vendor, sizeof(q.vendor)));
		KT_EXPECT(inquiry_string_ok(q.product, sizeof(q.product)));
		KT_EXPECT(inquiry_string_ok(q.revision, sizeof(q.revision)));
		if (len >= 12 && ktest_rand(kt) % 2) /* a valid block size half the time */
			put_be32(rnd + (ktest_rand(kt) % 2 ? 4 : 8), 512u << (ktest_rand(kt) % 8));
		rc = scsi_parse_read_capacity10(tail(rnd, len), len, &blocks, &bs, &need16);
		if (rc == 0)
			KT_EXPECT(len >= 8 && bs >= 512 && bs <= 65536 && !(bs & (bs - 1)) &&
				  blocks >= 1 && need16 == (blocks == 0x100000000ULL));
		rc = scsi_parse_read_capacity16(tail(rnd, len), len, &blocks, &bs);
		if (rc == 0)
			KT_EXPECT(len >= 12 && bs >= 512 && bs <= 65536 && !(bs & (bs - 1)) &&
				  blocks >= 1);
	}
}

KTEST(scsi, random_mode_sense)
{
	unsigned ok6 = 0, ok10 = 0;

	for (unsigned round = 0; round < 5000; round++) {
		size_t len = ktest_rand(kt) % 24;
		bool wp6 = false, wp10 = false, before = ktest_rand(kt) % 2;
		int rc;

		fill_random(kt, len);
		wp6 = wp10 = before;
		rc = scsi_parse_mode_sense6(tail(rnd, len), len, &wp6);
		if (rc == 0) {
			ok6++;
			KT_EXPECT(len >= 4 && rnd[0] >= 3);
			KT_EXPECT_EQ(wp6, (rnd[2] & 0x80) != 0);
		} else {
			KT_EXPECT_EQ(rc, -EINVAL);
			KT_EXPECT_EQ(wp6, before);
		}
		rc = scsi_parse_mode_sense10(tail(rnd, len), len, &wp10);
		if (rc == 0) {
			ok10++;
			KT_EXPECT(len >= 8 && get_be16(rnd) >= 6);
			KT_EXPECT_EQ(wp10, (rnd[3] & 0x80) != 0);
		} else {
			KT_EXPECT_EQ(rc, -EINVAL);
			KT_EXPECT_EQ(wp10, before);
		}
	}
	KT_EXPECT(ok6 > 1000 && ok10 > 1000);
}
