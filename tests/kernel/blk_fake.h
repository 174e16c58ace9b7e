/*
 * blk_fake.h — fake block devices for the boot tests of the block layer
 * (tests/kernel/test_block*.c) and of what sits on it (test_nanofs.c),
 * with no virtio underneath.
 *
 * The fakes are block drivers written for the tests: the driver of
 * tests/unit/fake_blk_core.h, which the host tests' fake disks share, with
 * its members as the first fields of struct fake.  Each keeps its sectors
 * in page_alloc'd memory, so a test can look at what a write really stored
 * and plant what a read must return (fake_at()).  A fake holds at most
 * `ring_size` requests at once and answers -EAGAIN beyond that, which
 * drives the layer's queue and its retry from the SoftIrq.  Requests wait
 * in the fake's ring until its poll op runs; poll then moves the data
 * between the storage and the request's bus address (as a DMA engine
 * would), fails what an injected error covers with -EIO, and calls
 * blk_complete() after dropping the fake's lock.  The fake also checks
 * what the layer hands it (range, size, bus address, read-only) and counts
 * violations.
 *
 * Injected errors (fake_blk_core.h): bad_sector fails the reads and writes
 * that cover it, bad_write_sector only the writes, and fail_nth (n > 0)
 * the n-th request completed from when it is set, flushes included.  A
 * test sets them with fake_inject() and turns them off with
 * fake_clear_errors(); blk_fake_setup() clears them on the three fakes.
 *
 * Three fakes, registered once per boot (`selftest` may run again and
 * there is no unregister), so every test looks at counters as differences
 * (fake_make() makes more for the tests that register disks themselves):
 *
 *   rta  1024 sectors, ring 4, polled: the layer's poll timer calls poll,
 *        so completions come from the timer SoftIrq.  Sector 0 holds an MBR
 *        with partitions 1 (64..191) and 3 (256..383); entry 2 overlaps 1
 *        and entry 4 runs past the end, so both must be skipped.
 *   rtb  1024 sectors, ring 24 (more than BLK_SLOTS), "interrupt-like": a
 *        periodic ktimer (one tick) looks at the ring from the timer SoftIrq
 *        and, when requests wait there, smp_call()s the other CPU, whose
 *        hard-IRQ handler runs poll, as a device interrupt would.  submit
 *        leaves the timer alone: it runs under the disk lock with interrupts
 *        off, where smp_call() must not wait, and neither may ktimer_start()
 *        (it waits for a running callback, which may be preempted on this
 *        very CPU).  The timer runs for the rest of the boot, like the disk;
 *        on an idle fake it costs one look at an empty ring a tick.  No MBR.
 *   rtc  16 sectors, read-only, polled, partition 1 at 8..15 (rtc1).
 *
 * Each fake starts out filled with fake_pat_fill() for seed 0, except for
 * sector 0: zeroed, or the MBR.
 *
 * Whatever the fake, a caller that waits with interrupts off makes the
 * synchronous wrappers call poll directly, so completions may also come
 * from there.  The layer promises that req->done runs in SoftIrq context;
 * the batches' callbacks check it.
 *
 * Every wait is bounded (10 s), so a broken layer fails a test instead of
 * hanging the run: the synchronous wrappers are called from helper tasks
 * ("servers", fake_job_run()) that the test waits for with a timeout.  The
 * servers, the batches of asynchronous requests and their wait groups last
 * for the whole boot, so nothing a late completion or a late waker may
 * touch is ever freed.
 *
 * Everything here is called from the tests' task (one test at a time),
 * unless a comment says otherwise.
 */
#ifndef NOS_TESTS_BLK_FAKE_H
#define NOS_TESTS_BLK_FAKE_H

#include "types.h"
#include "block/blkdev_driver.h"
#include "kernel/ktimer.h"
#include "kernel/spinlock.h"
#include "kernel/waitgroup.h"
#include "lib/ktest.h"
#include "tests/unit/fake_blk_core.h"

#define FAKE_SECTOR 512
#define FAKE_NO_SECTOR FAKE_CORE_NO_SECTOR
#define FAKE_RING_MAX 24
/* The largest fake: FAKE_CORE_CHUNKS chunks of PAGE_ALLOC_MAX pages (8 MiB). */
#define FAKE_SECTORS_MAX (16384ULL)
#define FAKE_SECTORS_PER_MAX (BLK_MAX_BYTES / FAKE_SECTOR)

/* --------------------------------------------------------------- the fakes */

/*
 * The core's members come first (fake_blk_core.h has their legend): disk,
 * mem (sector 0 on; FAKE_SECTOR bytes a sector, up to the end of its
 * 512 KiB chunk), ring_size, instant (finish requests inside submit), the
 * ring and max_nr, the injected errors, last_dma, and the counters
 * accepted, eagain, reads, writes, flushes, failed, violations (requests
 * the layer should not send, and commits with nothing to commit),
 * uncommitted, commits and irqs.  A test may set `instant` and the injected
 * errors (atomic stores) and reads the counters with fake_count().
 * Legend: [I] set before registration; [a] atomic.
 */
struct fake {
	FAKE_CORE_EMBED;
	bool irq_like;                 /* [I] completes from an IPI, see above */
	struct ktimer irq_timer;       /* irq_like: raises the "interrupt" */
	u64 ipi_errors;                /* [a] irq_like: "interrupts" lost */
};

enum { FAKE_RTA, FAKE_RTB, FAKE_RTC, FAKE_NR };

/*
 * A polled fake of @sectors sectors (0 makes an empty disk, at most
 * FAKE_SECTORS_MAX), like rta but with no MBR and not registered: for
 * tests that register disks themselves.  NULL without memory or when too
 * large.  Never freed.
 */
struct fake *fake_make(u64 sectors);
/* Write rta's partition table (@full) or rtc's small one into @mem. */
void fake_write_mbr(u8 *mem, bool full);

/* The fakes by index, once blk_fake_setup() has returned 0.  Never freed. */
extern struct fake *blk_fakes[FAKE_NR];

/*
 * Register the fakes on first use (in a server, so a hung registration
 * times out), then clear every fake's bad sector.  0, or why the fakes are
 * not there (the same error on every later call).  Tests' task only.
 */
int blk_fake_setup(void);

/* A fake's counter (`&f->writes`, ...), read atomically.  Any context. */
u64 fake_count(const u64 *counter);

/* Set an injected error (`&f->bad_sector`, ...) atomically.  Any context. */
void fake_inject(u64 *field, u64 value);
/* Turn all of @f's injected errors off.  Any context. */
void fake_clear_errors(struct fake *f);

/* The storage of @sector of @f: FAKE_SECTOR bytes per sector from there,
 * to the end of its 512 KiB chunk. */
u8 *fake_at(struct fake *f, u64 sector);

/* Whether requests wait in @f's ring.  Any context. */
bool fake_busy(struct fake *f);

/* Forget the most requests @f has held at once (max_nr), to measure anew. */
void fake_reset_max(struct fake *f);

/*
 * Test data: the bytes of @count sectors starting at @sector (an absolute
 * sector of its disk) for @seed, a pattern that differs per seed, sector
 * and offset.  fake_pat_fill() writes them to @buf; fake_pat_check() says
 * whether @buf holds them.  Any context.
 */
void fake_pat_fill(void *buf, u32 seed, u64 sector, u32 count);
bool fake_pat_check(const void *buf, u32 seed, u64 sector, u32 count);

/* ------------------------------------------------ calls in helper tasks */

/*
 * The synchronous wrappers wait without a limit, so the tests make those
 * calls in a helper task (a server) and wait for it with a timeout.
 * Servers, like their wait groups, live for the rest of the boot: nothing
 * a late call may touch is ever freed, and no task is created and joined
 * per call.  A server whose call timed out is abandoned.  Calls with
 * interrupts off go to a server pinned to another CPU than the caller's,
 * so a wrapper that spins forever does not take the tests with it.
 */
enum fake_job_kind { FAKE_JOB_IO, FAKE_JOB_REGISTER, FAKE_JOB_FN };

/* One call for a server: the caller fills the inputs, the server the rest. */
struct fake_job {
	enum fake_job_kind kind;
	struct blkdev *dev;       /* FAKE_JOB_IO: blk_read/blk_write/blk_flush */
	enum blk_op op;
	u64 sector;
	u32 count;
	void *buf;
	void (*fn)(void *arg);    /* FAKE_JOB_FN: fn(arg) */
	void *arg;
	bool irqs_off;            /* make the call with interrupts off */
	bool stayed_off;          /* ... and they were still off after it */
	int rc;                   /* the call's result (not for FAKE_JOB_FN) */
};

struct fake_server;

/*
 * The live server for (@affinity: a CPU or TASK_ANY_CPU, @lane: any number
 * that tells apart servers of one affinity), started on first use; NULL
 * when there is no room for another or its task cannot be made.
 */
struct fake_server *fake_server_get(int affinity, unsigned lane);

/*
 * Hand @j (copied) to @s, which must be idle: fresh, or its last call
 * waited for with fake_server_wait().
 */
void fake_server_post(struct fake_server *s, const struct fake_job *j);

/*
 * Wait (at most 10 s) for @s's call and copy its results (rc, stayed_off)
 * to @j: 0, or -ETIMEDOUT, after which @s is never used again.
 */
int fake_server_wait(struct fake_server *s, struct fake_job *j);

/*
 * Run @j in a server (on another CPU when j->irqs_off and there is one) and
 * wait for it: its result, or -ETIMEDOUT, or -ENOMEM.
 */
int fake_job_run(struct fake_job *j);

/*
 * blk_read/blk_write/blk_flush (by @op) of @dev in a server: the call's
 * result, or -ETIMEDOUT or -ENOMEM from fake_job_run().
 */
int fake_io(struct blkdev *dev, enum blk_op op, u64 sector, u32 count, void *buf);

/* ------------------------------------------------- asynchronous batches */

#define FAKE_BATCH_MAX 160

/*
 * Requests submitted together, each with a done callback that checks its
 * context.  Batches are static and reused, never freed: a batch whose wait
 * timed out is left to its late completions.  Tests read req[], n and
 * data; the rest is for the calls below.
 * Legend: [a] atomic, written by the done callbacks; [T] the tests' task.
 */
struct fake_batch {
	bool in_use, lost;                  /* [T] */
	struct waitgroup wg;
	unsigned n;                         /* [T] requests submitted */
	struct blk_req req[FAKE_BATCH_MAX];
	unsigned calls[FAKE_BATCH_MAX];     /* [a] done callbacks per request */
	unsigned irqs_off, hard_irq, not_softirq, wg_early; /* [a] wrong context */
	u8 *data;                           /* [T] pages for the buffers, kept */
};

/* A batch with nothing submitted and zeroed data; NULL when none is left. */
struct fake_batch *fake_batch_new(void);

/* Submit nothing more on @b and forget its results; its data is zeroed. */
void fake_batch_reuse(struct fake_batch *b);

/* Give @b back to fake_batch_new(), once it has been waited for. */
void fake_batch_free(struct fake_batch *b);

/*
 * The one-sector buffer of request @i (< FAKE_BATCH_MAX) in @b's data: at
 * an odd address, so it bounces.
 */
u8 *fake_batch_buf(struct fake_batch *b, unsigned i);

/*
 * Submit the next request of @b (at most FAKE_BATCH_MAX in all), reading
 * or writing @buf, which must stay until the batch is waited for;
 * blk_submit's result.
 */
int fake_batch_add(struct fake_batch *b, struct blkdev *dev, enum blk_op op, u64 sector,
		   u32 count, void *buf);

/*
 * Wait (at most 10 s) for every request of @b; whether they all
 * completed, a failed expectation of @kt when not.  On a timeout @b is
 * lost (its requests may still complete) and must not be touched again.
 */
bool fake_batch_wait(struct ktest_ctx *kt, struct fake_batch *b);

/* Expect in @kt that every request completed exactly once, in SoftIrq context. */
void fake_batch_check_calls(struct ktest_ctx *kt, struct fake_batch *b);

#endif
