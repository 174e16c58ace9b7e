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
 * The driver itself (its checks, its ring, moving the data, the injected
 * errors) is the one the boot tests' fakes use too, tests/unit/
 * fake_blk_core.h; its members are this struct's first fields.  Completing
 * moves the data between the storage and the request's bus address
 * (phys_to_virt(), as DMA would), fails what an injected error covers —
 * bad_sector (reads and writes), bad_write_sector (writes only), fail_nth
 * (the n-th request from now) — with -EIO, and calls blk_complete()
 * outside the fake's lock.  The fake also checks everything the layer
 * hands it (range, size, bus address, read-only, a request it already
 * holds) and counts violations; a well-behaved layer leaves `violations`
 * at 0.
 *
 * A fake is registered for the rest of the run (there is no unregister):
 * fake_disk_new() and fake_disk_register() make boot-lifetime state
 * (shim_forever_begin()), so it is not a leak.
 *
 * Legend: [I] set before registration; [t] the test may set it between
 * requests; the core members' own legend is in fake_blk_core.h.
 */
#ifndef NOS_FAKE_DISK_H
#define NOS_FAKE_DISK_H

#include "types.h"
#include "block/blkdev_driver.h"
#include "kernel/ktimer.h"
#include "tests/unit/fake_blk_core.h"

#define FAKE_DISK_RING_MAX FAKE_CORE_RING_MAX
#define FAKE_DISK_NO_SECTOR FAKE_CORE_NO_SECTOR

enum fake_disk_mode { FAKE_DISK_POLLED, FAKE_DISK_IRQ, FAKE_DISK_INSTANT };

/*
 * The core's members come first (disk, mem — all sectors * sector_size
 * bytes of the "media", in one chunk — ring_size, the ring and max_nr,
 * which the test may zero, [t] bad_sector, bad_write_sector and fail_nth,
 * last_dma, and the counters accepted, eagain, reads, writes, flushes,
 * failed, commits, uncommitted, irqs and violations).
 */
struct fake_disk {
	FAKE_CORE_EMBED;
	enum fake_disk_mode mode;      /* [I] */
	struct ktimer irq_timer;       /* FAKE_DISK_IRQ: raises the "interrupt" */
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
