/*
 * fake_disk.h — a RAM disk driver for host unit tests of the block layer
 * and of what sits on it (filesystems), the host's stand-in for virtio-blk.
 *
 * A fake is a real block driver (struct blkdev_ops) registered with the
 * real block/ code.  Its sectors live in host memory that a test reads and
 * writes directly (fake_disk_at()), to plant what a read must return and to
 * see what a write stored.  It holds at most `ring_size` requests at once
 * and answers -EAGAIN beyond that, which drives the layer's queue and its
 * retries.  A request waits in the ring until the fake completes it, which
 * happens, by the fake's mode:
 *
 *   FAKE_DISK_POLLED   from its poll op: the layer's poll timer (each tick
 *                      while requests are in flight), or the synchronous
 *                      wrappers polling with interrupts off;
 *   FAKE_DISK_IRQ      from a simulated interrupt (shim_irq()) raised by a
 *                      periodic timer one tick after the request arrived —
 *                      completions come from hard-IRQ context, as virtio's;
 *   FAKE_DISK_INSTANT  inside submit, before submit returns, as a fast
 *                      device may.
 *
 * Completing moves the data between the storage and the request's bus
 * address (phys_to_virt(), as DMA would), fails any read or write covering
 * `bad_sector` with -EIO, and calls blk_complete() outside the fake's lock.
 * The fake also checks everything the layer hands it (range, size, bus
 * address, read-only, a request it already holds) and counts violations;
 * a well-behaved layer leaves `violations` at 0.
 *
 * A fake is registered for the rest of the run (there is no unregister):
 * fake_disk_new() and fake_disk_register() make boot-lifetime state
 * (shim_forever_begin()), so it is not a leak.
 *
 * Legend: [I] set before registration; [lock] fake->lock; [t] the test may
 * set it between requests.
 */
#ifndef NOS_FAKE_DISK_H
#define NOS_FAKE_DISK_H

#include "types.h"
#include "block/blkdev_driver.h"
#include "kernel/ktimer.h"
#include "kernel/spinlock.h"

#define FAKE_DISK_RING_MAX 32
#define FAKE_DISK_NO_SECTOR (~0ULL)

enum fake_disk_mode { FAKE_DISK_POLLED, FAKE_DISK_IRQ, FAKE_DISK_INSTANT };

struct fake_disk {
	struct blkdev disk;
	u8 *mem;                       /* [I] sectors * sector_size bytes, the "media" */
	unsigned ring_size;            /* [I] 1..FAKE_DISK_RING_MAX */
	enum fake_disk_mode mode;      /* [I] */
	spinlock_t lock;               /* the driver's queue lock */
	struct blk_req *ring[FAKE_DISK_RING_MAX]; /* [lock] accepted, not yet done */
	unsigned nr;                   /* [lock] */
	unsigned max_nr;               /* [lock] most held at once; the test may zero it */
	struct ktimer irq_timer;       /* FAKE_DISK_IRQ: raises the "interrupt" */
	u64 bad_sector;                /* [t] I/O covering it fails; FAKE_DISK_NO_SECTOR */
	u64 last_dma;                  /* bus address of the last read or write */
	u64 accepted, eagain, reads, writes, flushes, failed;
	u64 commits, uncommitted;      /* commit() calls; accepted since the last one */
	u64 irqs;                      /* interrupts raised */
	u64 violations;                /* requests a correct layer would not send */
};

/*
 * A fake called @name with @sectors sectors of @sector_size bytes, its
 * storage zeroed, not registered yet (write an MBR first if you want
 * partitions).  NULL when host memory runs out.
 */
struct fake_disk *fake_disk_new(const char *name, u64 sectors, u32 sector_size,
				enum fake_disk_mode mode, unsigned ring_size, bool read_only);
/* blkdev_register() the fake (which reads its partition table): 0 or -errno. */
int fake_disk_register(struct fake_disk *f);
/* Free a fake that was never registered, or whose registration failed. */
void fake_disk_free(struct fake_disk *f);

/* The storage of @sector: sector_size bytes per sector from there. */
u8 *fake_disk_at(struct fake_disk *f, u64 sector);
/* Requests waiting in the ring. */
unsigned fake_disk_busy(struct fake_disk *f);
/* Complete everything in the ring now (as its poll op does). */
void fake_disk_complete_all(struct fake_disk *f);

/*
 * Test data: @count sectors of @sector_size bytes for (@seed, @sector), a
 * pattern that differs per seed, sector and offset.  fill writes it to
 * @buf; check says whether @buf holds it.
 */
void fake_pat_fill(void *buf, u32 sector_size, u32 seed, u64 sector, u32 count);
bool fake_pat_check(const void *buf, u32 sector_size, u32 seed, u64 sector, u32 count);

#endif
