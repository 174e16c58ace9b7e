/*
 * fake_blk_core.h — the driver that both test fakes of a block device are:
 * the boot tests' fakes (tests/kernel/blk_fake.h) and the host tests' fake
 * disks (tests/unit/shim/fake_disk.h).  What they share is all of the
 * driver proper: its ops (submit, commit, poll), the ring of accepted
 * requests, the checks on what the layer hands it, the data moved between
 * the "media" and a request's bus address, the injected errors and the
 * counters.  Each fake adds only how completions reach it (the layer's
 * poll timer, an IPI, a simulated interrupt) and how it is built.
 *
 * Like every file under tests/unit/ that is not host_*.c, this one is
 * compiled into the kernel's boot tests and into the host unit tests; on
 * the host the shim's kernel/spinlock.h and mm/addr.h stand in.  So it
 * uses only the driver interface (block/blkdev_driver.h), a spinlock and
 * the direct map.
 *
 * One storage, two names.  A fake begins with FAKE_CORE_EMBED: the members
 * below, which the tests read by their own names (f->writes, f->bad_sector)
 * and this file's functions take as one struct fake_core (&f->core) — the
 * way Linux's struct_group() names a run of members.  The list is written
 * once, in FAKE_CORE_MEMBERS, so the two views cannot drift apart.
 *
 * What the driver does.  submit checks the request (range, size, bus
 * address, read-only disk, a request it already holds: each a violation,
 * -EIO) and takes it into the ring, or answers -EAGAIN when ring_size
 * requests are already there (which drives the layer's queue and retry).
 * With `instant` set it completes the ring before submit returns, as a fast
 * device may.  Otherwise requests wait until poll, from whoever calls it:
 * the layer's poll timer, the synchronous wrappers polling with interrupts
 * off, or the fake's "interrupt".  Completing moves the data, fails what an
 * injected error covers, and calls blk_complete() with the fake's lock
 * dropped.  commit must follow at least one accepted request (a commit with
 * nothing to commit is a violation too).
 *
 * Media.  Sectors live in chunks of chunk_sectors sectors (the kernel's
 * page_alloc() gives at most 512 KiB in one piece; the host has a single
 * chunk).  `mem` is the first chunk; fake_core_at() is good up to the end
 * of the chunk its sector is in.
 *
 * Injected errors, set and cleared by the tests at any time:
 *   bad_sector        a read or write covering it fails (-EIO);
 *   bad_write_sector  a write covering it fails, reads succeed (media that
 *                     reads but no longer takes writes);
 *   fail_nth          when n > 0, the n-th request completed from now —
 *                     read, write or flush — fails, and fail_nth is 0 again.
 * FAKE_CORE_NO_SECTOR turns a sector off.  A failed request moves no data
 * and is counted in `failed`, not in reads, writes or flushes.
 *
 * Legend: [I] set before registration; [lock] core.lock, the driver's queue
 * lock (taken under the disk's lock by submit, alone by poll in any
 * context, hard IRQ included; never held across blk_complete); [a] read and
 * written atomically, by the tests too.
 */
#ifndef NOS_TESTS_FAKE_BLK_CORE_H
#define NOS_TESTS_FAKE_BLK_CORE_H

#include "types.h"
#include "block/blkdev_driver.h"
#include "kernel/spinlock.h"

#define FAKE_CORE_RING_MAX 32
#define FAKE_CORE_CHUNKS 16
#define FAKE_CORE_NO_SECTOR (~0ULL)

/*
 *   disk              [I] first: disk.priv is the fake
 *   mem, chunk        [I] the media (mem == chunk[0])
 *   chunk_sectors     [I] sectors per chunk
 *   ring_size         [I] requests held at once, 1..FAKE_CORE_RING_MAX
 *   instant           [a] complete inside submit
 *   ring, nr, max_nr  [lock] accepted and not done; how many; the most at once
 *   bad_*, fail_nth   [a] the injected errors above
 *   last_dma          [a] bus address of the last read or write accepted
 *   accepted .. irqs  [a] counters; uncommitted: accepted since the last commit
 */
#define FAKE_CORE_MEMBERS                                                      \
	struct blkdev disk;                                                    \
	u8 *mem;                                                               \
	u8 *chunk[FAKE_CORE_CHUNKS];                                           \
	u64 chunk_sectors;                                                     \
	unsigned ring_size;                                                    \
	bool instant;                                                          \
	spinlock_t lock;                                                       \
	struct blk_req *ring[FAKE_CORE_RING_MAX];                              \
	unsigned nr, max_nr;                                                   \
	u64 bad_sector, bad_write_sector, fail_nth;                            \
	u64 last_dma;                                                          \
	u64 accepted, eagain, reads, writes, flushes, failed;                  \
	u64 violations, uncommitted, commits, irqs;

struct fake_core {
	FAKE_CORE_MEMBERS
};

/* The first member of a fake: its core members by name, and as `core`. */
#define FAKE_CORE_EMBED                                                        \
	union {                                                                \
		struct fake_core core;                                         \
		struct {                                                       \
			FAKE_CORE_MEMBERS                                      \
		};                                                             \
	}

/* submit, commit and poll, for every fake. */
extern const struct blkdev_ops fake_core_ops;

/*
 * Make @c a disk of @sectors sectors of @sector_size bytes that holds
 * @ring_size requests (clamped to 1..FAKE_CORE_RING_MAX), with no injected
 * error.  @polled: the layer polls it (see blkdev_driver.h).  The caller
 * provides the media (chunk[], mem, chunk_sectors), the name and model.
 */
void fake_core_init(struct fake_core *c, u64 sectors, u32 sector_size, unsigned ring_size,
		    bool read_only, bool polled);

/* The media of @sector: sector_size bytes a sector, to the end of its chunk. */
u8 *fake_core_at(struct fake_core *c, u64 sector);

/* Complete everything in the ring now (what poll does).  Any context. */
void fake_core_complete_all(struct fake_core *c);
/* Requests waiting in the ring.  Any context. */
unsigned fake_core_busy(struct fake_core *c);
/* Forget the most requests held at once (max_nr), to measure anew. */
void fake_core_reset_max(struct fake_core *c);
/* A counter (&c->writes, ...) or injection field, read atomically. */
u64 fake_core_load(const u64 *field);
/* Set an injection field (&c->bad_sector, ...) atomically. */
void fake_core_store(u64 *field, u64 value);
/* Turn every injected error off. */
void fake_core_clear_errors(struct fake_core *c);

/*
 * Test data: the bytes of @count sectors of @sector_size bytes from
 * @sector for @seed, a pattern that differs per seed, sector and offset.
 * fill writes them to @buf, check says whether @buf holds them.  Any context.
 */
void fake_core_pat_fill(void *buf, u32 sector_size, u32 seed, u64 sector, u32 count);
bool fake_core_pat_check(const void *buf, u32 sector_size, u32 seed, u64 sector, u32 count);
/* Fill all of @c's media with the pattern for @seed. */
void fake_core_pat_fill_media(struct fake_core *c, u32 seed);

#endif
