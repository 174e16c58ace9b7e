/*
 * scsi.h — the pure parts of SCSI (SPC-4 / SBC-3): building command
 * descriptor blocks and decoding what a device sends back (INQUIRY, READ
 * CAPACITY, REPORT LUNS, MODE SENSE data, sense data), and turning a CHECK
 * CONDITION into an errno.
 *
 * No transport here: virtio-scsi (or any other) carries the CDB and the
 * buffers, and the host unit tests feed made-up and random responses.
 * Everything a device returns is untrusted: every parser takes the number
 * of bytes actually received and never reads past it.
 *
 * All multi-byte CDB and response fields are big endian.
 */
#ifndef NOS_DRIVERS_SCSI_H
#define NOS_DRIVERS_SCSI_H

#include "types.h"

#define SCSI_CDB_MAX 16
#define SCSI_SENSE_MAX 96

/* SCSI status byte values */
#define SCSI_STATUS_GOOD 0x00
#define SCSI_STATUS_CHECK_CONDITION 0x02
#define SCSI_STATUS_BUSY 0x08

/* Operation codes the builders below emit. */
#define SCSI_OP_TEST_UNIT_READY 0x00
#define SCSI_OP_INQUIRY 0x12
#define SCSI_OP_MODE_SENSE_6 0x1A
#define SCSI_OP_READ_CAPACITY_10 0x25
#define SCSI_OP_READ_10 0x28
#define SCSI_OP_WRITE_10 0x2A
#define SCSI_OP_SYNC_CACHE_10 0x35
#define SCSI_OP_MODE_SENSE_10 0x5A
#define SCSI_OP_READ_16 0x88
#define SCSI_OP_WRITE_16 0x8A
#define SCSI_OP_SERVICE_ACTION_IN_16 0x9E
#define SCSI_SAI_READ_CAPACITY_16 0x10
#define SCSI_OP_REPORT_LUNS 0xA0

/* Peripheral device type 0 in INQUIRY data: a direct-access block device. */
#define SCSI_TYPE_DISK 0x00

/* MODE SENSE page code 0x3F: every page the device has (the header comes first anyway). */
#define SCSI_MODE_PAGE_ALL 0x3F

/* Sense keys (SPC-4 table 27). */
#define SCSI_SENSE_NO_SENSE 0x0
#define SCSI_SENSE_RECOVERED_ERROR 0x1
#define SCSI_SENSE_NOT_READY 0x2
#define SCSI_SENSE_MEDIUM_ERROR 0x3
#define SCSI_SENSE_HARDWARE_ERROR 0x4
#define SCSI_SENSE_ILLEGAL_REQUEST 0x5
#define SCSI_SENSE_UNIT_ATTENTION 0x6
#define SCSI_SENSE_DATA_PROTECT 0x7
#define SCSI_SENSE_ABORTED_COMMAND 0xB

/* ---- CDB builders ------------------------------------------------------ */

/* Each builder fills @cdb (SCSI_CDB_MAX bytes, zeroed first) and returns the CDB length. */
unsigned scsi_cdb_test_unit_ready(u8 *cdb);                 /* 0x00, 6 bytes */
unsigned scsi_cdb_inquiry(u8 *cdb, u16 alloc_len);          /* 0x12, 6 bytes, standard data */
unsigned scsi_cdb_read_capacity10(u8 *cdb);                 /* 0x25, 10 bytes */
unsigned scsi_cdb_read_capacity16(u8 *cdb, u32 alloc_len);  /* 0x9E / service action 0x10, 16 bytes */
unsigned scsi_cdb_report_luns(u8 *cdb, u32 alloc_len);      /* 0xA0, 12 bytes, select report 0 */
unsigned scsi_cdb_sync_cache(u8 *cdb);                      /* 0x35 SYNCHRONIZE CACHE(10), whole medium */
/*
 * MODE SENSE (6) (0x1A, 6 bytes) and (10) (0x5A, 10 bytes) for the current
 * values (PC 0) of page @page (low 6 bits; subpage 0), block descriptors
 * allowed (DBD 0), at most @alloc_len bytes back.
 */
unsigned scsi_cdb_mode_sense6(u8 *cdb, u8 page, u8 alloc_len);
unsigned scsi_cdb_mode_sense10(u8 *cdb, u8 page, u16 alloc_len);
/*
 * READ/WRITE: the 10-byte form (0x28/0x2A) when the whole range ends at or
 * below 2^32 (lba + count <= 0x100000000) and count fits in 16 bits,
 * otherwise the 16-byte form (0x88/0x8A).  count is in logical blocks, > 0
 * (a count of 0 would transfer nothing).
 */
unsigned scsi_cdb_rw(u8 *cdb, bool write, u64 lba, u32 count);

/* ---- response parsers -------------------------------------------------- */

struct scsi_inquiry {
	u8 peripheral_type;  /* byte 0 bits 4-0; SCSI_TYPE_DISK for a disk */
	u8 qualifier;        /* byte 0 bits 7-5; 0 = a device is connected to this LUN */
	bool removable;      /* RMB, byte 1 bit 7 */
	char vendor[9];
	char product[17];
	char revision[5];
};

/*
 * Parse standard INQUIRY data (@len bytes received).  Strings are trimmed
 * of trailing spaces (and trailing NULs, which some devices pad with) and
 * other non-printable bytes are replaced by '?'.  Returns 0, or -EINVAL
 * when shorter than 36 bytes (then *@out is zeroed).
 */
int scsi_parse_inquiry(const u8 *buf, size_t len, struct scsi_inquiry *out);

/*
 * READ CAPACITY (10): 8 bytes: last LBA (be32), block length (be32).
 * -EINVAL when short or block length is 0 or not a power of two in
 * 512..65536.  *blocks = last_lba + 1.  Sets *need16 = true when last LBA
 * is 0xFFFFFFFF (the device wants READ CAPACITY 16; *blocks is then only a
 * lower bound).  The outputs are written only on success.
 */
int scsi_parse_read_capacity10(const u8 *buf, size_t len, u64 *blocks, u32 *block_size,
			       bool *need16);

/*
 * READ CAPACITY (16): >= 12 bytes: last LBA be64, block length be32.  Same
 * checks; rejects last LBA = ~0 (the block count would not fit).  The
 * outputs are written only on success.
 */
int scsi_parse_read_capacity16(const u8 *buf, size_t len, u64 *blocks, u32 *block_size);

/*
 * REPORT LUNS: header be32 list length (bytes) + 4 reserved, then 8-byte
 * LUN entries.  Stores at most @max LUN numbers, decoded from the first
 * level of single-level peripheral (byte0 bits 7-6 = 00: lun = byte1) or
 * flat (bits 7-6 = 01: lun = ((byte0 & 0x3F) << 8) | byte1) addressing;
 * entries with other addressing methods are skipped.  Never reads beyond
 * @len even if the header claims more.  Returns the count stored, -EINVAL
 * when len < 8.
 */
int scsi_parse_report_luns(const u8 *buf, size_t len, u16 *luns, unsigned max);

/*
 * The mode parameter header that starts MODE SENSE data, for the WP
 * (write protect) bit of a direct-access device: bit 7 of the
 * device-specific parameter.
 *   (6):  0 mode data length (bytes after it), 1 medium type,
 *         2 device-specific parameter, 3 block descriptor length
 *   (10): 0-1 mode data length (be16), 2 medium type,
 *         3 device-specific parameter, 4 LONGLBA, 6-7 block descriptor length
 * Returns 0 and sets *@write_protected, or -EINVAL when fewer than the
 * header's bytes were received (4, or 8) or the header's own length says
 * it is cut short (mode data length below 3, or 6).  The output is written
 * only on success.
 */
int scsi_parse_mode_sense6(const u8 *buf, size_t len, bool *write_protected);
int scsi_parse_mode_sense10(const u8 *buf, size_t len, bool *write_protected);

/* ---- sense data -------------------------------------------------------- */

struct scsi_sense {
	u8 key;
	u8 asc;   /* additional sense code, 0 when not received */
	u8 ascq;  /* its qualifier, 0 when not received */
	bool valid;
};

/*
 * Decode fixed (0x70/0x71) or descriptor (0x72/0x73) format sense data of
 * @len bytes (the response code is byte 0 bits 6-0; bit 7 is the fixed
 * format's VALID flag for the INFORMATION field).  Fixed format needs
 * >= 3 bytes for the key; asc (byte 12) and ascq (byte 13) are taken only
 * when both @len and the additional sense length (byte 7) cover them.
 * Descriptor format needs >= 4 bytes.  Anything else yields valid = false
 * and zeroes.  Deferred errors (0x71/0x73) decode like current ones.
 * Never reads past @len.
 */
void scsi_sense_decode(const u8 *sense, size_t len, struct scsi_sense *out);

/*
 * The errno for a CHECK CONDITION with this sense (@s may be NULL: no sense
 * was returned):
 *   invalid sense -> -EIO; NO SENSE (0x0) / RECOVERED ERROR (0x1) -> 0;
 *   NOT READY (0x2) -> -EAGAIN; MEDIUM ERROR (0x3), HARDWARE ERROR (0x4) -> -EIO;
 *   ILLEGAL REQUEST (0x5): asc 0x20 (invalid opcode), 0x24 (invalid field in
 *   CDB), 0x25 (LUN not supported) -> -EOPNOTSUPP, else (0x21, LBA out of
 *   range, among them) -> -EINVAL;
 *   UNIT ATTENTION (0x6) -> -EAGAIN; DATA PROTECT (0x7) -> -EROFS;
 *   ABORTED COMMAND (0xB) -> -EAGAIN; others -> -EIO.
 */
int scsi_sense_errno(const struct scsi_sense *s);

/* Human name of a sense key ("MEDIUM ERROR"), never NULL. */
const char *scsi_sense_key_str(u8 key);

#endif
