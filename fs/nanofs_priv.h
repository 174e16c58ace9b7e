/*
 * nanofs_priv.h — what the files of the nanofs core share and nobody else
 * sees: the mounted volume, the block cache, the running transaction, the
 * allocator and the inode and block-map helpers.
 *
 * How the pieces fit (docs/nanofs.md has the why):
 *
 *  - nanofs_cache.c: every metadata block is read through the cache and
 *    changed only there.  nanofs_bread() verifies a block's tail on its way
 *    in; nanofs_bdirty() enters it into the running transaction; dirty
 *    blocks stay in memory until the transaction commits.
 *  - nanofs_journal.c: commit (data flush, journal write, flush, checkpoint,
 *    flush) and replay; nanofs_txn_reserve() commits early when the next
 *    step of an operation might not fit.
 *  - nanofs_alloc.c: the bitmaps, per-bitmap-block free counts, the set of
 *    blocks allocated by the running transaction ("fresh": may be rewritten
 *    in place) and the deferred frees (released at commit).
 *  - nanofs_inode.c: inodes, the block map (direct and 1..4-level indirect
 *    pointers), freeing past a size, the orphan list.
 *  - nanofs_file.c, nanofs_dir.c: the operations; nanofs.c: format, mount,
 *    unmount, sync, stat; nanofs_fsck.c: the checker.
 *
 * Every function here is called with fs->lock held (the public entry points
 * take it) except during mount and fsck, when the volume is not yet shared.
 */
#ifndef NOS_FS_NANOFS_PRIV_H
#define NOS_FS_NANOFS_PRIV_H

#include "errno.h"
#include "fs/nanofs.h"
#include "kernel/mutex.h"

/* Clean blocks the cache keeps; dirty ones are bounded by the transaction. */
#define NANOFS_CACHE_CLEAN 512u
#define NANOFS_CACHE_HASH 1024u
/* A write or truncate step: at most this many file blocks. */
#define NANOFS_STEP_BLOCKS 64u
/* Journal room for a directory operation (create, unlink, rename). */
#define NANOFS_RES_DIROP 24u
/* Blocks covering @size bytes. */
#define NANOFS_BLOCKS_OF(size) (((size) + NANOFS_BSIZE - 1) / NANOFS_BSIZE)
/* The largest file: 2^32 blocks, beyond any volume. */
#define NANOFS_MAX_FILE (1ull << 44)

/* The fresh set never grows past this many blocks before a commit. */
#define NANOFS_FRESH_MAX 65536u

/* A cached metadata block.  All fields [fs->lock]. */
struct nanofs_cbuf {
	u64 blk;
	u32 kind;               /* NANOFS_KIND_*: what the tail must say */
	u32 users;              /* nanofs_bread()s not yet released */
	bool dirty;             /* in the running transaction */
	bool pinned;            /* a journal image on a read-only mount: never evicted */
	struct nanofs_cbuf *hnext;
	struct nanofs_cbuf *lprev, *lnext;  /* LRU of clean, unused blocks */
	u8 *data;               /* NANOFS_BSIZE bytes */
};

/* A set of block numbers (open addressing; 0 is never a member). */
struct nanofs_blkset {
	u32 *slot;
	u32 cap;                /* a power of two, or 0 */
	u32 count;
};

/*
 * A mounted volume.
 * Legend: [I] immutable after mount, [L] fs->lock.
 */
struct nanofs {
	struct mutex lock;              /* the volume: every field below */
	const struct nanofs_dev *dev;   /* [I] */
	struct nanofs_super sb;         /* [I] */
	struct nanofs_layout lay;       /* [I] */
	bool ro;                        /* [L] read-only (set for good on an I/O error) */
	bool failed;                    /* [L] a write failed: memory and disk may differ */

	/* cache [L] */
	struct nanofs_cbuf *hash[NANOFS_CACHE_HASH];
	struct nanofs_cbuf lru;         /* list head: clean and unused, oldest first */
	u32 nclean_unused;
	u8 *iobuf;                      /* NANOFS_IO_BLOCKS blocks: data I/O, journal staging */

	/* The read window: file blocks ra_k0..ra_k0+ra_n-1 of inode ra_ino, as
	 * verified when read, in rabuf.  Any change to the volume drops it
	 * (every change reserves transaction space first: nanofs_txn_reserve). [L] */
	u8 *rabuf;                      /* NANOFS_IO_BLOCKS blocks */
	u32 ra_ino;                     /* 0: the window is empty */
	u32 ra_n;
	u64 ra_k0;

	/* the running transaction [L] */
	struct nanofs_cbuf **dirty;     /* jcap entries */
	u32 ndirty;
	u32 jcap;                       /* [I] images per transaction */
	u64 seq;                        /* the next transaction's sequence number */
	struct nanofs_blkset fresh;     /* data blocks allocated by it */
	u32 *pending;                   /* deferred frees */
	u32 npending, pending_cap;
	u8 *pend_mark;                  /* one bit per data-bitmap block touched by pending */
	u32 npend_marks;

	/* allocator [L] */
	u32 *dfree;                     /* free bits in each data-bitmap block */
	u32 *ifree;                     /* free bits in each inode-bitmap block */
	u64 free_blocks, free_inodes;
	u64 dhint, ihint;               /* next-fit positions (bit numbers) */
};

static inline s64 nanofs_now(const struct nanofs *fs)
{
	return fs->dev->now ? fs->dev->now(fs->dev->ctx) : 0;
}

/* ----------------------------------------------------- checksums, tail */

u32 nanofs_block_crc(u64 blk, const void *data);
void nanofs_tail_seal(u64 blk, void *data, u32 kind);
bool nanofs_tail_ok(u64 blk, const void *data, u32 kind);
u32 nanofs_inode_crc(u32 ino, const struct nanofs_inode *in);
u32 nanofs_super_crc(const struct nanofs_super *sb);
/* Why @sb cannot be mounted on a device of @dev_blocks blocks, or NULL. */
const char *nanofs_super_check(const struct nanofs_super *sb, u64 dev_blocks);

/* ------------------------------------------------------------- cache */

int nanofs_cache_init(struct nanofs *fs);
void nanofs_cache_destroy(struct nanofs *fs);
/* Get block @blk, checking its tail says @kind (not for NANOFS_KIND_ITABLE). */
int nanofs_bread(struct nanofs *fs, u64 blk, u32 kind, struct nanofs_cbuf **out);
/* A freshly allocated metadata block: zeroed, dirty, no read. */
int nanofs_bnew(struct nanofs *fs, u64 blk, u32 kind, struct nanofs_cbuf **out);
void nanofs_brelse(struct nanofs *fs, struct nanofs_cbuf *cb);
/* Enter @cb into the running transaction.  -ENOSPC (logged) when full: a bug. */
int nanofs_bdirty(struct nanofs *fs, struct nanofs_cbuf *cb);
/* Drop block @blk from the cache and the transaction (it was freed). */
void nanofs_bforget(struct nanofs *fs, u64 blk);
/* The cached copy of @blk, or NULL (no I/O, no reference taken). */
struct nanofs_cbuf *nanofs_cache_peek(struct nanofs *fs, u64 blk);
/* Insert a journal image read at a read-only mount (pinned, clean). */
int nanofs_cache_pin(struct nanofs *fs, u64 blk, const void *data);
/* After a commit: every dirty block is clean again. */
void nanofs_cache_all_clean(struct nanofs *fs);
/* Raw device I/O of up to NANOFS_IO_BLOCKS blocks; failures are logged. */
int nanofs_dev_read(struct nanofs *fs, u64 blk, u32 n, void *buf);
int nanofs_dev_write(struct nanofs *fs, u64 blk, u32 n, const void *buf);
int nanofs_dev_flush(struct nanofs *fs);

/* ------------------------------------------------------- transaction */

/* Commit first when @need more blocks might not fit the running transaction. */
int nanofs_txn_reserve(struct nanofs *fs, u32 need);
int nanofs_commit(struct nanofs *fs);
/* Too many fresh blocks or deferred frees: the next reserve commits. */
bool nanofs_txn_crowded(const struct nanofs *fs);
/* Mount: find and replay (or, read-only, pin) the last committed transaction. */
int nanofs_journal_replay(struct nanofs *fs);
/* Journal room for one write or truncate step. */
u32 nanofs_step_reserve(const struct nanofs *fs);

/* --------------------------------------------------------- block sets */

int nanofs_blkset_add(struct nanofs_blkset *s, u32 blk);
bool nanofs_blkset_has(const struct nanofs_blkset *s, u32 blk);
bool nanofs_blkset_del(struct nanofs_blkset *s, u32 blk);
void nanofs_blkset_clear(struct nanofs_blkset *s);
void nanofs_blkset_free(struct nanofs_blkset *s);

/* --------------------------------------------------------- allocator */

int nanofs_alloc_load(struct nanofs *fs);
void nanofs_alloc_destroy(struct nanofs *fs);
/* A free data block near @hint (0: anywhere), now fresh; -ENOSPC. */
int nanofs_alloc_block(struct nanofs *fs, u64 hint, u32 *blk);
/* Free @blk: at once if fresh, else deferred to the commit. */
int nanofs_free_block(struct nanofs *fs, u32 blk);
bool nanofs_block_fresh(const struct nanofs *fs, u32 blk);
/* Commit step 1: release the deferred frees into the bitmap. */
int nanofs_apply_pending(struct nanofs *fs);
int nanofs_alloc_inode(struct nanofs *fs, u32 *ino);
int nanofs_free_inode(struct nanofs *fs, u32 ino);
/* Give back the bit of an inode whose slot was never written. */
int nanofs_release_inode(struct nanofs *fs, u32 ino);
/* Is @blk inside the data region? */
static inline bool nanofs_in_data(const struct nanofs *fs, u64 blk)
{
	return blk >= fs->lay.data_start && blk < fs->lay.data_start + fs->lay.data_blocks;
}

/* ------------------------------------------------------------ inodes */

/* Read inode @ino (checks range and CRC; a free inode reads as type 0). */
int nanofs_iget(struct nanofs *fs, u32 ino, struct nanofs_inode *out);
/* Write inode @ino into the transaction (sets its CRC). */
int nanofs_iput(struct nanofs *fs, u32 ino, struct nanofs_inode *in);
/* The pointer for file block @k (a hole: block 0). */
int nanofs_bmap_get(struct nanofs *fs, u32 ino, const struct nanofs_inode *in, u64 k,
		    struct nanofs_bptr *out);
/*
 * Set the pointer for file block @k to @p, creating indirect blocks on the
 * way (counted in in->nblocks; the caller writes @in back).  With @p NULL,
 * only make sure the path exists (so a later set cannot fail for space).
 */
int nanofs_bmap_set(struct nanofs *fs, u32 ino, struct nanofs_inode *in, u64 k,
		    const struct nanofs_bptr *p);
/*
 * Free up to @budget mapped blocks at file block >= @from, last first, and
 * indirect blocks that become empty.  Returns how many were freed (0: none
 * left), or -errno.  The caller writes @in back.
 */
s64 nanofs_free_from(struct nanofs *fs, u32 ino, struct nanofs_inode *in, u64 from, u32 budget);
/* Put @ino on the orphan list (its blocks past its size, or all of it when
 * links == 0, are to be freed), then do that freeing in bounded steps. */
int nanofs_orphan_push(struct nanofs *fs, u32 ino, struct nanofs_inode *in);
int nanofs_orphan_cleanup(struct nanofs *fs);
/* The state block (read, dirty) helpers. */
int nanofs_state_get(struct nanofs *fs, struct nanofs_cbuf **cb, struct nanofs_state **st);
/*
 * Walk every mapped pointer of @in, in file order (fsck).  @fn is called
 * for each pointer with its level (0 data, 1.. an indirect block of that
 * height, -1 an indirect block that cannot be read, whose subtree is
 * skipped) and returns 0 to go on, > 0 for an indirect pointer not to be
 * followed (the walk goes on after it), < 0 to end the walk with that value.
 */
typedef int (*nanofs_walk_fn)(void *arg, u64 k, u32 blk, u32 crc, int level);
int nanofs_bmap_walk(struct nanofs *fs, u32 ino, const struct nanofs_inode *in,
		     nanofs_walk_fn fn, void *arg);

/* ----------------------------------------------------------- files */

/* Write zeroes over [@from, @to) of @ino (no size change). */
int nanofs_zero_range(struct nanofs *fs, u32 ino, u64 from, u64 to);
s64 nanofs_write_locked(struct nanofs *fs, u32 ino, u64 off, const void *buf, u64 len);
int nanofs_truncate_locked(struct nanofs *fs, u32 ino, u64 size);

/* ------------------------------------------------------- directories */

/* 0 when the volume may change, else -EROFS (or -EIO after a failure). */
static inline int nanofs_writable(const struct nanofs *fs)
{
	return fs->failed ? -EIO : fs->ro ? -EROFS : 0;
}

/* Check a name: 0, -EINVAL or -ENAMETOOLONG. */
int nanofs_name_check(const char *name, u32 len);

/* Mount without taking anything but the device; fsck uses it read-only. */
int nanofs_mount_quiet(const struct nanofs_dev *dev, bool ro, bool quiet, struct nanofs **out);

#endif
