/*
 * nanofs_disk.h — nanofs's on-disk format (version 2) as C structs, and
 * the layout arithmetic that places every region from the device's size.
 *
 * docs/nanofs.md is the reference; this header is its C form and must
 * agree with it.  Everything is little-endian and packed; the sizes are
 * checked at compile time.  The file-system core (fs/nanofs*.c), the unit
 * tests and the host tool all include it; it has no code but the layout
 * computation in fs/nanofs_layout.c, which is pure arithmetic.
 *
 * Checksums: every metadata block but the inode table and the superblock
 * ends in a struct nanofs_tail whose CRC covers the block's number and its
 * first 4092 bytes; each inode carries a CRC over its number and its first
 * 252 bytes; each file data block's CRC sits in the pointer to it.
 */
#ifndef NOS_FS_NANOFS_DISK_H
#define NOS_FS_NANOFS_DISK_H

#include "compiler.h"
#include "types.h"

#define NANOFS_BSIZE 4096u
#define NANOFS_VERSION 2u
#define NANOFS_MAGIC "NANOFS2" /* 8 bytes with its NUL */
#define NANOFS_MIN_BLOCKS 256u            /* 1 MiB */
#define NANOFS_MAX_BLOCKS 0xFFFFFFFFull   /* block numbers are 32 bits */
#define NANOFS_ROOT_INO 1u
#define NANOFS_STATE_BLOCK 1u
#define NANOFS_JOURNAL_START 2u
#define NANOFS_NAME_MAX 255u

/* ------------------------------------------------------------ the tail */

#define NANOFS_TAIL_OFF 4088u
#define NANOFS_PAYLOAD 4088u            /* bytes before the tail */

#define NANOFS_KIND(a, b, c, d) ((u32)(a) | (u32)(b) << 8 | (u32)(c) << 16 | (u32)(d) << 24)
#define NANOFS_KIND_DIR NANOFS_KIND('D', 'I', 'R', ' ')
#define NANOFS_KIND_IND(level) NANOFS_KIND('I', 'N', 'D', '0' + (level))
#define NANOFS_KIND_IBMP NANOFS_KIND('I', 'B', 'M', 'P')
#define NANOFS_KIND_DBMP NANOFS_KIND('D', 'B', 'M', 'P')
#define NANOFS_KIND_STATE NANOFS_KIND('S', 'T', 'A', 'T')
#define NANOFS_KIND_JHDR NANOFS_KIND('J', 'H', 'D', 'R')
#define NANOFS_KIND_JCMT NANOFS_KIND('J', 'C', 'M', 'T')
#define NANOFS_KIND_ITABLE 0u           /* in-memory only: inode blocks have no tail */
#define NANOFS_KIND_DATA 1u             /* in-memory only: never cached */

struct nanofs_tail {
	u32 kind;
	u32 crc;
} __packed;
_Static_assert(sizeof(struct nanofs_tail) == 8, "tail is 8 bytes");

/* ------------------------------------------------------- the superblock */

struct nanofs_super {
	char magic[8];
	u32 version;
	u32 block_size;
	u64 blocks;             /* N: the volume's size in blocks */
	u64 inodes;             /* I */
	u64 journal_start, journal_blocks;
	u64 ibitmap_start, ibitmap_blocks;
	u64 itable_start, itable_blocks;
	u64 dbitmap_start, dbitmap_blocks;
	u64 data_start, data_blocks;
	u32 root_ino;
	u32 features;
	u8 uuid[16];
	char label[32];
	s64 mkfs_time;
	u8 reserved[32];
	u32 pad;
	u32 crc;                /* CRC32 of every byte before it */
} __packed;
_Static_assert(sizeof(struct nanofs_super) == 216, "superblock is 216 bytes");

/* ----------------------------------------------------- the state block */

struct nanofs_state {
	u64 seq;                /* last committed transaction */
	u32 orphan;             /* head of the orphan list, 0 when empty */
	u32 reserved0;
	u64 mount_count;
} __packed;

/* ------------------------------------------------------------- inodes */

#define NANOFS_INODE_SIZE 256u
#define NANOFS_INODES_PER_BLOCK (NANOFS_BSIZE / NANOFS_INODE_SIZE)
#define NANOFS_NDIRECT 12u
#define NANOFS_NIND 4u          /* trees of depth 1..4 */
#define NANOFS_PTRS_PER_BLOCK 511u

enum nanofs_itype { NANOFS_T_FREE = 0, NANOFS_T_FILE = 1, NANOFS_T_DIR = 2 };

struct nanofs_bptr {
	u32 block;              /* 0: a hole */
	u32 crc;                /* CRC32 of the data block (0 for directory and indirect blocks) */
} __packed;

struct nanofs_inode {
	u16 type;
	u16 links;
	u32 flags;
	u64 size;
	u64 nblocks;
	s64 mtime;
	s64 ctime;
	u32 parent;
	u32 next_orphan;
	u32 generation;
	u32 reserved0;
	struct nanofs_bptr direct[NANOFS_NDIRECT];
	u32 ind[NANOFS_NIND];
	u8 reserved1[84];
	u32 crc;                /* CRC32 of the inode number (LE) then bytes 0..251 */
} __packed;
_Static_assert(sizeof(struct nanofs_inode) == NANOFS_INODE_SIZE, "inode is 256 bytes");
_Static_assert(__builtin_offsetof(struct nanofs_inode, direct) == 56, "direct at 56");
_Static_assert(__builtin_offsetof(struct nanofs_inode, ind) == 152, "ind at 152");

struct nanofs_indirect {
	struct nanofs_bptr ptr[NANOFS_PTRS_PER_BLOCK];
	struct nanofs_tail tail;
} __packed;
_Static_assert(sizeof(struct nanofs_indirect) == NANOFS_BSIZE, "indirect block is a block");

/* -------------------------------------------------------- directories */

struct nanofs_dirent {
	u32 ino;                /* 0: unused space */
	u16 rec_len;            /* to the next entry, a multiple of 8 */
	u8 name_len;
	u8 type;
	char name[];            /* name_len bytes, padded to 8 */
} __packed;
_Static_assert(sizeof(struct nanofs_dirent) == 8, "dirent header is 8 bytes");

/* Bytes an entry with an @n-byte name needs. */
#define NANOFS_DIRENT_LEN(n) ALIGN_UP(8u + (u32)(n), 8u)

/* ------------------------------------------------------------ bitmaps */

#define NANOFS_BITS_PER_BMP (NANOFS_PAYLOAD * 8u)   /* 32704 */

/* ------------------------------------------------------------ journal */

#define NANOFS_JMAX_TARGETS 1018u

struct nanofs_jhdr {
	u64 seq;
	u32 count;
	u32 reserved;
	u32 target[NANOFS_JMAX_TARGETS];  /* home block of each image */
} __packed;
_Static_assert(sizeof(struct nanofs_jhdr) <= NANOFS_PAYLOAD, "journal header fits a block");

struct nanofs_jcommit {
	u64 seq;
	u32 count;
	u32 crc_all;            /* CRC32 of the header block and every image, in order */
} __packed;

/* ------------------------------------------------------------- layout */

/* Where every region of a volume of @blocks blocks goes (docs/nanofs.md). */
struct nanofs_layout {
	u64 blocks, inodes;
	u64 journal_start, journal_blocks;
	u64 ibitmap_start, ibitmap_blocks;
	u64 itable_start, itable_blocks;
	u64 dbitmap_start, dbitmap_blocks;
	u64 data_start, data_blocks;
	u64 backup;             /* the backup superblock: blocks - 1 */
};

/*
 * Derive the layout of a volume of @blocks 4 KiB blocks.  @inodes 0 means
 * the default (one per 16 KiB); otherwise it is rounded up to fill whole
 * inode-table blocks.  Returns 0, or -EINVAL when @blocks is below
 * NANOFS_MIN_BLOCKS or above NANOFS_MAX_BLOCKS, or the inodes leave too
 * little room for data.  Pure: no I/O, no allocation, any context.
 */
int nanofs_layout_compute(u64 blocks, u64 inodes, struct nanofs_layout *out);

#endif
