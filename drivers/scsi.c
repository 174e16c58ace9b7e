/*
 * scsi.c — SCSI CDB building and response/sense decoding (see scsi.h).
 *
 * CDB layouts used (SBC-3 / SPC-4; byte 0 is always the operation code and
 * the last byte the CONTROL byte, left 0):
 *
 *   TEST UNIT READY    6   all zero but the opcode
 *   INQUIRY            6   1: EVPD = 0 (standard data), 2: page 0, 3-4: allocation length
 *   READ CAPACITY(10) 10   all zero (LBA 0, PMI 0)
 *   MODE SENSE(6)      6   1: DBD 0, 2: PC 0 | page code, 3: subpage 0, 4: allocation length
 *   SYNC CACHE(10)    10   2-5: LBA 0, 7-8: 0 blocks = "to the end of the medium"
 *   MODE SENSE(10)    10   1: LLBAA 0, DBD 0, 2: PC 0 | page code, 3: subpage 0,
 *                          7-8: allocation length
 *   READ/WRITE(10)    10   2-5: LBA, 7-8: transfer length
 *   REPORT LUNS       12   2: select report 0 (all addressable LUNs), 6-9: allocation length
 *   READ/WRITE(16)    16   2-9: LBA, 10-13: transfer length
 *   READ CAPACITY(16) 16   1: service action 0x10, 10-13: allocation length
 *
 * Sense data (SPC-4 4.5): fixed format puts the sense key in byte 2 bits
 * 3-0, the additional length in byte 7 and ASC/ASCQ in bytes 12-13;
 * descriptor format puts key/ASC/ASCQ in bytes 1-3.  A device may return
 * fewer bytes than the format could hold, so every field is read only when
 * it was received — the same rule Linux's scsi_normalize_sense() follows.
 */
#include "drivers/scsi.h"
#include "compiler.h"
#include "errno.h"
#include "lib/byteorder.h"
#include "lib/string.h"

#define INQUIRY_MIN 36
#define RC10_LEN 8
#define RC16_MIN 12
#define LUNS_HEADER 8
#define LUN_ENTRY 8
#define MODE6_HEADER 4
#define MODE10_HEADER 8
#define MODE_WP 0x80          /* device-specific parameter, direct-access devices */

/* ---- CDB builders ------------------------------------------------------ */

/* Zero the whole CDB buffer and set the opcode; returns @cdb for chaining. */
static u8 *cdb_start(u8 *cdb, u8 op)
{
	memset(cdb, 0, SCSI_CDB_MAX);
	cdb[0] = op;
	return cdb;
}

unsigned scsi_cdb_test_unit_ready(u8 *cdb)
{
	cdb_start(cdb, SCSI_OP_TEST_UNIT_READY);
	return 6;
}

unsigned scsi_cdb_inquiry(u8 *cdb, u16 alloc_len)
{
	put_be16(cdb_start(cdb, SCSI_OP_INQUIRY) + 3, alloc_len);
	return 6;
}

unsigned scsi_cdb_read_capacity10(u8 *cdb)
{
	cdb_start(cdb, SCSI_OP_READ_CAPACITY_10);
	return 10;
}

unsigned scsi_cdb_read_capacity16(u8 *cdb, u32 alloc_len)
{
	cdb_start(cdb, SCSI_OP_SERVICE_ACTION_IN_16);
	cdb[1] = SCSI_SAI_READ_CAPACITY_16;
	put_be32(cdb + 10, alloc_len);
	return 16;
}

unsigned scsi_cdb_report_luns(u8 *cdb, u32 alloc_len)
{
	put_be32(cdb_start(cdb, SCSI_OP_REPORT_LUNS) + 6, alloc_len);
	return 12;
}

unsigned scsi_cdb_sync_cache(u8 *cdb)
{
	cdb_start(cdb, SCSI_OP_SYNC_CACHE_10);
	return 10;
}

unsigned scsi_cdb_mode_sense6(u8 *cdb, u8 page, u8 alloc_len)
{
	cdb_start(cdb, SCSI_OP_MODE_SENSE_6);
	cdb[2] = page & 0x3F;
	cdb[4] = alloc_len;
	return 6;
}

unsigned scsi_cdb_mode_sense10(u8 *cdb, u8 page, u16 alloc_len)
{
	cdb_start(cdb, SCSI_OP_MODE_SENSE_10);
	cdb[2] = page & 0x3F;
	put_be16(cdb + 7, alloc_len);
	return 10;
}

/*
 * The 10-byte form addresses LBAs up to 0xFFFFFFFF, so a transfer may use
 * it only when its last block, lba + count - 1, is one of those.  Written
 * as a subtraction so a huge @lba cannot wrap the sum.
 */
static bool rw_fits_10(u64 lba, u32 count)
{
	return count <= 0xFFFF && lba <= 0x100000000ULL - count;
}

unsigned scsi_cdb_rw(u8 *cdb, bool write, u64 lba, u32 count)
{
	if (rw_fits_10(lba, count)) {
		cdb_start(cdb, write ? SCSI_OP_WRITE_10 : SCSI_OP_READ_10);
		put_be32(cdb + 2, (u32)lba);
		put_be16(cdb + 7, (u16)count);
		return 10;
	}
	cdb_start(cdb, write ? SCSI_OP_WRITE_16 : SCSI_OP_READ_16);
	put_be64(cdb + 2, lba);
	put_be32(cdb + 10, count);
	return 16;
}

/* ---- response parsers -------------------------------------------------- */

/*
 * Copy the @n-byte space-padded ASCII field @src into @dst (n + 1 bytes):
 * drop the padding, then make what is left safe to print.
 */
static void inquiry_string(char *dst, const u8 *src, size_t n)
{
	while (n && (src[n - 1] == ' ' || src[n - 1] == '\0'))
		n--;
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] <= 0x7E) ? (char)src[i] : '?';
	dst[n] = '\0';
}

int scsi_parse_inquiry(const u8 *buf, size_t len, struct scsi_inquiry *out)
{
	memset(out, 0, sizeof(*out));
	if (len < INQUIRY_MIN)
		return -EINVAL;
	out->peripheral_type = buf[0] & 0x1F;
	out->qualifier = buf[0] >> 5;
	out->removable = buf[1] & 0x80;
	inquiry_string(out->vendor, buf + 8, 8);
	inquiry_string(out->product, buf + 16, 16);
	inquiry_string(out->revision, buf + 32, 4);
	return 0;
}

/* SBC allows any block length, but we only drive power-of-two sizes we can page. */
static bool block_size_ok(u32 bs)
{
	return bs >= 512 && bs <= 65536 && (bs & (bs - 1)) == 0;
}

int scsi_parse_read_capacity10(const u8 *buf, size_t len, u64 *blocks, u32 *block_size,
			       bool *need16)
{
	u32 last, bs;

	if (len < RC10_LEN)
		return -EINVAL;
	last = get_be32(buf);
	bs = get_be32(buf + 4);
	if (!block_size_ok(bs))
		return -EINVAL;
	*blocks = (u64)last + 1;
	*block_size = bs;
	*need16 = last == 0xFFFFFFFF; /* "too big to say here" (SBC-3 5.15.2) */
	return 0;
}

int scsi_parse_read_capacity16(const u8 *buf, size_t len, u64 *blocks, u32 *block_size)
{
	u64 last;
	u32 bs;

	if (len < RC16_MIN)
		return -EINVAL;
	last = get_be64(buf);
	bs = get_be32(buf + 8);
	if (!block_size_ok(bs) || last == ~0ULL)
		return -EINVAL;
	*blocks = last + 1;
	*block_size = bs;
	return 0;
}

/*
 * The LUN in the first level of the 8-byte entry @e, or -1 for an
 * addressing method we do not decode (logical unit, extended).
 */
static int lun_decode(const u8 *e)
{
	switch (e[0] >> 6) {
	case 0: /* peripheral device addressing */
		return e[1];
	case 1: /* flat space addressing */
		return ((e[0] & 0x3F) << 8) | e[1];
	default:
		return -1;
	}
}

int scsi_parse_report_luns(const u8 *buf, size_t len, u16 *luns, unsigned max)
{
	size_t list, n_entries;
	unsigned stored = 0;

	if (len < LUNS_HEADER)
		return -EINVAL;
	/* The header gives the full list length even when it was truncated. */
	list = MIN((size_t)get_be32(buf), len - LUNS_HEADER);
	n_entries = list / LUN_ENTRY;
	for (size_t i = 0; i < n_entries && stored < max; i++) {
		int lun = lun_decode(buf + LUNS_HEADER + i * LUN_ENTRY);

		if (lun >= 0)
			luns[stored++] = (u16)lun;
	}
	return (int)stored;
}

/*
 * The header must have arrived whole, and the device must not say it
 * sent less than the header itself: a mode data length counts the bytes
 * after the length field, so the rest of the header is 3 bytes in the
 * 6-byte form and 6 in the 10-byte one.
 */
int scsi_parse_mode_sense6(const u8 *buf, size_t len, bool *write_protected)
{
	if (len < MODE6_HEADER || buf[0] < MODE6_HEADER - 1)
		return -EINVAL;
	*write_protected = buf[2] & MODE_WP;
	return 0;
}

int scsi_parse_mode_sense10(const u8 *buf, size_t len, bool *write_protected)
{
	if (len < MODE10_HEADER || get_be16(buf) < MODE10_HEADER - 2)
		return -EINVAL;
	*write_protected = buf[3] & MODE_WP;
	return 0;
}

/* ---- sense data -------------------------------------------------------- */

static void sense_decode_fixed(const u8 *sense, size_t len, struct scsi_sense *out)
{
	if (len < 3)
		return;
	out->key = sense[2] & 0x0F;
	out->valid = true;
	if (len < 8)
		return;
	len = MIN(len, (size_t)sense[7] + 8); /* bytes past the additional length are stale */
	if (len > 12)
		out->asc = sense[12];
	if (len > 13)
		out->ascq = sense[13];
}

static void sense_decode_desc(const u8 *sense, size_t len, struct scsi_sense *out)
{
	if (len < 4)
		return;
	out->key = sense[1] & 0x0F;
	out->asc = sense[2];
	out->ascq = sense[3];
	out->valid = true;
}

void scsi_sense_decode(const u8 *sense, size_t len, struct scsi_sense *out)
{
	memset(out, 0, sizeof(*out));
	if (!sense || len < 1)
		return;
	switch (sense[0] & 0x7F) {
	case 0x70: /* current */
	case 0x71: /* deferred */
		sense_decode_fixed(sense, len, out);
		break;
	case 0x72:
	case 0x73:
		sense_decode_desc(sense, len, out);
		break;
	}
}

static int illegal_request_errno(u8 asc)
{
	switch (asc) {
	case 0x20: /* invalid command operation code */
	case 0x24: /* invalid field in CDB */
	case 0x25: /* logical unit not supported */
		return -EOPNOTSUPP;
	default:   /* 0x21 LBA out of range, and the rest */
		return -EINVAL;
	}
}

int scsi_sense_errno(const struct scsi_sense *s)
{
	if (!s || !s->valid)
		return -EIO;
	switch (s->key) {
	case SCSI_SENSE_NO_SENSE:
	case SCSI_SENSE_RECOVERED_ERROR:
		return 0; /* the command completed; the device only had something to say */
	case SCSI_SENSE_NOT_READY:
	case SCSI_SENSE_UNIT_ATTENTION:
	case SCSI_SENSE_ABORTED_COMMAND:
		return -EAGAIN; /* worth retrying: spin-up, reset/media change, transport */
	case SCSI_SENSE_ILLEGAL_REQUEST:
		return illegal_request_errno(s->asc);
	case SCSI_SENSE_DATA_PROTECT:
		return -EROFS;
	default:
		return -EIO;
	}
}

static const char *const sense_key_names[16] = {
	"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR",
	"HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
	"BLANK CHECK", "VENDOR SPECIFIC", "COPY ABORTED", "ABORTED COMMAND",
	"EQUAL", "VOLUME OVERFLOW", "MISCOMPARE", "COMPLETED",
};

const char *scsi_sense_key_str(u8 key)
{
	return key < ARRAY_SIZE(sense_key_names) ? sense_key_names[key] : "UNKNOWN SENSE KEY";
}
