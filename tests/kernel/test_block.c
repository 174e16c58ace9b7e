/*
 * test_block.c — boot tests of the block layer over fake disks, with no
 * virtio underneath.
 *
 * The fakes are block drivers written here.  Each keeps its sectors in
 * page_alloc'd memory, so a test can look at what a write really stored and
 * plant what a read must return.  A fake holds at most `ring` requests at
 * once and answers -EAGAIN beyond that, which drives the layer's queue and
 * its retry from the SoftIrq.  Requests wait in the fake's ring until its
 * poll op runs; poll then moves the data between the storage and the
 * request's bus address (as a DMA engine would), fails any read or write
 * that covers the injected bad sector with -EIO, and calls blk_complete()
 * after dropping the fake's lock.  The fake also checks what the layer
 * hands it (range, size, bus address, read-only) and counts violations.
 *
 * Three fakes, registered once per boot (`selftest` may run again and
 * there is no unregister), so every test looks at counters as differences:
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
 * Whatever the fake, a caller that waits with interrupts off makes the
 * synchronous wrappers call poll directly, so completions may also come
 * from there.  The layer promises that req->done runs in SoftIrq context;
 * the callbacks here check it.
 *
 * Every wait is bounded (WAIT_NS), so a broken layer fails a test instead
 * of hanging the run: the synchronous wrappers are called from helper
 * tasks that the test waits for with a timeout.  The helpers, the batches
 * of asynchronous requests and their wait groups last for the whole boot,
 * so nothing a late completion or a late waker may touch is ever freed.
 */
#include "block/blk_slot.h"
#include "block/blkdev.h"
#include "config.h"
#include "errno.h"
#include "kernel/ktimer.h"
#include "kernel/percpu.h"
#include "kernel/sched.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "kernel/x86.h"
#include "lib/byteorder.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

#define MS 1000000ULL
#define WAIT_NS (10000 * MS)
#define SECTOR 512
#define NO_SECTOR (~0ULL)
#define RING_MAX 24
#define SECTORS_PER_MAX (BLK_MAX_BYTES / SECTOR)
#define TICK_NS (1000000000ULL / TIME_TICK_HZ)

/* ---------------------------------------------------------------- the fake */

/*
 * Legend: [I] set before registration; [lock] fake->lock; [a] atomic.
 * fake->lock is the driver's queue lock: taken under the disk's lock by
 * submit, alone by poll (in any context, hard IRQ included).
 */
struct fake {
	struct blkdev disk;
	u8 *mem;                       /* [I] disk.sectors * SECTOR bytes */
	unsigned ring_size;            /* [I] requests held at once, <= RING_MAX */
	bool irq_like;                 /* [I] completes from an IPI, see above */
	spinlock_t lock;
	struct blk_req *ring[RING_MAX]; /* [lock] accepted, not yet done */
	unsigned nr;                   /* [lock] */
	unsigned max_nr;               /* [lock] the most held at once */
	struct ktimer irq_timer;       /* irq_like: raises the "interrupt" */
	bool instant;                  /* [a] finish requests inside submit */
	u64 bad_sector;                /* [a] I/O covering it fails; NO_SECTOR */
	u64 last_dma;                  /* [a] bus address of the last read/write */
	u64 accepted, eagain, reads, writes, flushes, failed; /* [a] */
	u64 violations;                /* [a] requests the layer should not send */
	u64 irqs, ipi_errors;          /* [a] irq_like: "interrupts" taken, lost */
};

enum { RTA, RTB, RTC, FAKES };

static struct fake *fakes[FAKES];
static int fakes_rc = 1;          /* 1: not tried yet, else 0 or -errno */

static void inc(u64 *counter)
{
	__atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

static u64 get(const u64 *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

static u8 *fake_at(struct fake *f, u64 sector)
{
	return f->mem + sector * SECTOR;
}

/* What a well-behaved block layer would hand a driver. */
static bool fake_req_sane(const struct fake *f, const struct blk_req *req)
{
	const struct blkdev *d = &f->disk;

	if (req->disk != d || !req->mapped)
		return false;
	if (req->op == BLK_FLUSH)
		return req->count == 0;
	if (req->op != BLK_READ && req->op != BLK_WRITE)
		return false;
	if (!req->count || req->count > SECTORS_PER_MAX || req->lba >= d->sectors ||
	    req->count > d->sectors - req->lba || (req->op == BLK_WRITE && d->read_only))
		return false;
	return req->slot ? req->dma == req->slot->phys : req->dma == virt_to_phys(req->buf);
}

/* Take @req into the ring; false when it is full or @req is already there. */
static bool fake_take(struct fake *f, struct blk_req *req, bool *dup)
{
	u64 flags = spin_lock_irqsave(&f->lock);
	bool ok = f->nr < f->ring_size;

	for (unsigned i = 0; i < f->nr; i++)
		*dup |= f->ring[i] == req;
	if (ok && !*dup) {
		f->ring[f->nr++] = req;
		f->max_nr = MAX(f->max_nr, f->nr);
	}
	spin_unlock_irqrestore(&f->lock, flags);
	return ok;
}

static void fake_poll(struct blkdev *disk);

static int fake_submit(struct blkdev *disk, struct blk_req *req)
{
	struct fake *f = disk->priv;
	bool dup = false;

	if (!fake_req_sane(f, req)) {
		inc(&f->violations);
		return -EIO;
	}
	if (!fake_take(f, req, &dup)) {
		inc(&f->eagain);
		return -EAGAIN;
	}
	if (dup) {
		inc(&f->violations);
		return -EIO;
	}
	inc(&f->accepted);
	if (req->op != BLK_FLUSH)
		__atomic_store_n(&f->last_dma, req->dma, __ATOMIC_RELAXED);
	if (__atomic_load_n(&f->instant, __ATOMIC_RELAXED))
		fake_poll(disk); /* done before submit returns, as a fast device may be */
	return 0;
}

/* The device's work for one request: its status. */
static int fake_do(struct fake *f, struct blk_req *req)
{
	u64 bad = __atomic_load_n(&f->bad_sector, __ATOMIC_RELAXED);
	size_t bytes = (size_t)req->count * SECTOR;

	if (req->op == BLK_FLUSH) {
		inc(&f->flushes);
		return 0;
	}
	if (bad >= req->lba && bad - req->lba < req->count) {
		inc(&f->failed);
		return -EIO;
	}
	if (req->op == BLK_READ) {
		memcpy(phys_to_virt(req->dma), fake_at(f, req->lba), bytes);
		inc(&f->reads);
	} else {
		memcpy(fake_at(f, req->lba), phys_to_virt(req->dma), bytes);
		inc(&f->writes);
	}
	return 0;
}

/* Finish everything in the ring.  Any context. */
static void fake_poll(struct blkdev *disk)
{
	struct fake *f = disk->priv;
	struct blk_req *done[RING_MAX];
	u64 flags = spin_lock_irqsave(&f->lock);
	unsigned n = f->nr;

	memcpy(done, f->ring, n * sizeof(done[0]));
	f->nr = 0;
	spin_unlock_irqrestore(&f->lock, flags);
	for (unsigned i = 0; i < n; i++)
		blk_complete(done[i], fake_do(f, done[i]));
}

static bool fake_busy(struct fake *f)
{
	u64 flags = spin_lock_irqsave(&f->lock);
	bool busy = f->nr != 0;

	spin_unlock_irqrestore(&f->lock, flags);
	return busy;
}

/* The "interrupt handler": hard-IRQ context on the other CPU. */
static void fake_irq(void *arg)
{
	struct fake *f = arg;

	inc(&f->irqs);
	inc(&f->disk.interrupts);
	fake_poll(&f->disk);
}

static unsigned other_cpu(void)
{
	unsigned self = this_cpu()->cpu;

	for (unsigned i = 1; i < CONFIG_MAX_CPUS; i++)
		if (smp_cpu_online((self + i) % CONFIG_MAX_CPUS))
			return (self + i) % CONFIG_MAX_CPUS;
	return self;
}

/* irq_timer's callback, every tick (timer SoftIrq, interrupts on). */
static void fake_irq_timer(struct ktimer *t, void *arg)
{
	struct fake *f = arg;

	(void)t;
	if (fake_busy(f) && smp_call(other_cpu(), fake_irq, f))
		inc(&f->ipi_errors); /* it stays posted, and the next tick tries again */
}

static const struct blkdev_ops fake_ops = {
	.submit = fake_submit,
	.poll = fake_poll,
};

/* ------------------------------------------------------- data and the MBR */

/* The byte at @off of @sector (an absolute sector of its disk) for @seed. */
static u8 pat(u32 seed, u64 sector, u32 off)
{
	u64 x = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ (sector + 1) * 0xBF58476D1CE4E5B9ULL ^
		(off / 8 + 1) * 0x94D049BB133111EBULL;

	x ^= x >> 31;
	x *= 0xD6E8FEB86659FD93ULL;
	x ^= x >> 29;
	return (u8)(x >> (off % 8 * 8));
}

static void pat_fill(void *buf, u32 seed, u64 sector, u32 count)
{
	u8 *p = buf;

	for (u32 s = 0; s < count; s++)
		for (u32 i = 0; i < SECTOR; i++)
			*p++ = pat(seed, sector + s, i);
}

static bool pat_check(const void *buf, u32 seed, u64 sector, u32 count)
{
	const u8 *p = buf;

	for (u32 s = 0; s < count; s++)
		for (u32 i = 0; i < SECTOR; i++)
			if (*p++ != pat(seed, sector + s, i))
				return false;
	return true;
}

static void mbr_entry(u8 *mbr, unsigned index, u8 type, u32 start, u32 count)
{
	u8 *e = mbr + 446 + (index - 1) * 16;

	e[0] = 0;
	e[4] = type;
	put_le32(e + 8, start);
	put_le32(e + 12, count);
}

static void mbr_write(u8 *mbr, bool rta)
{
	memset(mbr, 0, SECTOR);
	if (rta) {
		mbr_entry(mbr, 1, 0x83, 64, 128);
		mbr_entry(mbr, 2, 0x83, 128, 64);   /* overlaps 1 */
		mbr_entry(mbr, 3, 0x83, 256, 128);
		mbr_entry(mbr, 4, 0x83, 1000, 100); /* past the end */
	} else {
		mbr_entry(mbr, 1, 0x83, 8, 8);
	}
	mbr[510] = 0x55;
	mbr[511] = 0xAA;
}

/* ---------------------------------------------------------- registration */

static struct fake *fake_new(u64 sectors, unsigned ring, bool irq_like, bool read_only)
{
	struct fake *f = kzalloc(sizeof(*f));
	unsigned pages = (unsigned)(sectors * SECTOR / PAGE_SIZE);

	if (!f)
		return NULL;
	f->mem = page_alloc(pages);
	if (!f->mem) {
		kfree(f);
		return NULL;
	}
	pat_fill(f->mem, 0, 0, (u32)sectors);
	memset(f->mem, 0, SECTOR); /* no partition table unless one is written */
	f->ring_size = ring;
	f->irq_like = irq_like;
	f->lock = (spinlock_t)SPINLOCK_INIT;
	f->bad_sector = NO_SECTOR;
	ktimer_init(&f->irq_timer, fake_irq_timer, f);
	strlcpy(f->disk.model, irq_like ? "test fake, interrupt-like" : "test fake, polled",
		sizeof(f->disk.model));
	f->disk.sector_size = SECTOR;
	f->disk.sectors = sectors;
	f->disk.read_only = read_only;
	f->disk.polled = !irq_like;
	f->disk.ops = &fake_ops;
	f->disk.priv = f;
	return f;
}

/* Make and register the three fakes (a helper task runs this, see job_run). */
static int fakes_register(void)
{
	static const struct { u64 sectors; unsigned ring; bool irq_like, ro; } cfg[FAKES] = {
		[RTA] = { 1024, 4, false, false },
		[RTB] = { 1024, RING_MAX, true, false },
		[RTC] = { 16, 4, false, true },
	};

	for (unsigned i = 0; i < FAKES; i++) {
		struct fake *f = fake_new(cfg[i].sectors, cfg[i].ring, cfg[i].irq_like, cfg[i].ro);
		int rc;

		if (!f)
			return -ENOMEM;
		if (i != RTB)
			mbr_write(f->mem, i == RTA);
		if (f->irq_like) /* before the partition scan reads sector 0 */
			ktimer_start(&f->irq_timer, TICK_NS, TICK_NS);
		rc = blkdev_register(&f->disk, "rt");
		if (rc)
			return rc; /* @f stays: the registry may hold it */
		fakes[i] = f;
	}
	return 0;
}

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
enum job_kind { JOB_IO, JOB_REGISTER, JOB_FN };

struct job {
	enum job_kind kind;
	struct blkdev *dev;       /* JOB_IO */
	enum blk_op op;
	u64 sector;
	u32 count;
	void *buf;
	void (*fn)(void *arg);    /* JOB_FN */
	void *arg;
	bool irqs_off;            /* make the call with interrupts off */
	bool stayed_off;          /* ... and they were still off after it */
	int rc;
};

/* Legend: [I] set at creation; [T] the tests' task; [g] handed over by go/done. */
struct server {
	int affinity;             /* [I] a CPU or TASK_ANY_CPU */
	unsigned lane;            /* [I] tells apart servers of one affinity */
	bool wedged;              /* [T] a call timed out: never used again */
	struct job job;           /* [g] */
	struct waitgroup go;      /* 0 when a call is posted */
	struct waitgroup done;    /* 0 when it returned */
};

#define SERVERS_MAX 16

static struct server servers[SERVERS_MAX];
static unsigned nservers;        /* [T] */

static void job_exec(struct job *j)
{
	if (j->irqs_off)
		cli();
	if (j->kind == JOB_REGISTER)
		j->rc = fakes_register();
	else if (j->kind == JOB_FN)
		j->fn(j->arg);
	else if (j->op == BLK_READ)
		j->rc = blk_read(j->dev, j->sector, j->count, j->buf);
	else if (j->op == BLK_WRITE)
		j->rc = blk_write(j->dev, j->sector, j->count, j->buf);
	else
		j->rc = blk_flush(j->dev);
	if (j->irqs_off) {
		j->stayed_off = !(read_rflags() & RFLAGS_IF);
		sti();
	}
}

static void server_task(void *arg)
{
	struct server *s = arg;

	for (;;) {
		waitgroup_wait(&s->go, 0);
		job_exec(&s->job);
		waitgroup_add(&s->go, 1); /* before the caller can post again */
		waitgroup_done(&s->done);
	}
}

/* The live server for (@affinity, @lane), started on first use; or NULL. */
static struct server *server_get(int affinity, unsigned lane)
{
	struct server *s;

	for (unsigned i = 0; i < nservers; i++) {
		s = &servers[i];
		if (!s->wedged && s->affinity == affinity && s->lane == lane)
			return s;
	}
	if (nservers == SERVERS_MAX)
		return NULL;
	s = &servers[nservers];
	*s = (struct server){ .affinity = affinity, .lane = lane };
	waitgroup_init(&s->go);
	waitgroup_init(&s->done);
	waitgroup_add(&s->go, 1);
	if (!task_create("blk-test", server_task, s, affinity))
		return NULL;
	nservers++;
	return s;
}

static void server_post(struct server *s, const struct job *j)
{
	s->job = *j;
	waitgroup_add(&s->done, 1);
	waitgroup_done(&s->go);
}

/* Wait for @s's call and copy its results to @j: 0, or -ETIMEDOUT. */
static int server_wait(struct server *s, struct job *j)
{
	if (waitgroup_wait(&s->done, WAIT_NS)) {
		s->wedged = true;
		return -ETIMEDOUT;
	}
	j->rc = s->job.rc;
	j->stayed_off = s->job.stayed_off;
	return 0;
}

/* Run @j in a server: its result, or -ETIMEDOUT, or -ENOMEM. */
static int job_run(struct job *j)
{
	int affinity = j->irqs_off && smp_cpu_count() > 1 ? (int)other_cpu() : TASK_ANY_CPU;
	struct server *s = server_get(affinity, 0);
	int rc;

	if (!s)
		return -ENOMEM;
	server_post(s, j);
	rc = server_wait(s, j);
	return rc ? rc : j->rc;
}

static int io(struct blkdev *dev, enum blk_op op, u64 sector, u32 count, void *buf)
{
	struct job j = { .kind = JOB_IO, .dev = dev, .op = op, .sector = sector, .count = count,
			 .buf = buf };

	return job_run(&j);
}

static int rd(struct blkdev *dev, u64 sector, u32 count, void *buf)
{
	return io(dev, BLK_READ, sector, count, buf);
}

static int wr(struct blkdev *dev, u64 sector, u32 count, const void *buf)
{
	return io(dev, BLK_WRITE, sector, count, (void *)buf);
}

/* The fakes, registered on first use; 0 or why they are not there. */
static int fakes_setup(void)
{
	if (fakes_rc == 1) {
		struct job j = { .kind = JOB_REGISTER };

		fakes_rc = job_run(&j);
	}
	if (fakes_rc)
		return fakes_rc;
	for (unsigned i = 0; i < FAKES; i++)
		__atomic_store_n(&fakes[i]->bad_sector, NO_SECTOR, __ATOMIC_RELAXED);
	return 0;
}

static void fake_reset_max(struct fake *f)
{
	u64 flags = spin_lock_irqsave(&f->lock);

	f->max_nr = 0;
	spin_unlock_irqrestore(&f->lock, flags);
}

/* ------------------------------------------------- asynchronous batches */

#define BATCH_MAX 160
#define BATCH_STRIDE (SECTOR + 8) /* one-sector buffers, never page-aligned */
#define BATCH_PAGES ((BATCH_MAX * BATCH_STRIDE + 1 + PAGE_SIZE - 1) / PAGE_SIZE)
#define BATCHES 2

/*
 * Requests submitted together, each with a done callback that checks its
 * context.  Batches are static and reused, never freed: a batch whose wait
 * timed out is left to its late completions.
 * Legend: [a] atomic, written by the done callbacks; [T] the tests' task.
 */
struct batch {
	bool in_use, lost;                  /* [T] */
	struct waitgroup wg;
	unsigned n;                         /* [T] requests submitted */
	struct blk_req req[BATCH_MAX];
	unsigned calls[BATCH_MAX];          /* [a] done callbacks per request */
	unsigned irqs_off, hard_irq, not_softirq, wg_early; /* [a] wrong context */
	u8 *data;                           /* [T] BATCH_PAGES pages, kept */
};

static struct batch batches[BATCHES];

/* A batch with nothing submitted and zeroed data; NULL when none is left. */
static struct batch *batch_new(void)
{
	for (unsigned i = 0; i < BATCHES; i++) {
		struct batch *b = &batches[i];
		u8 *data = b->data;

		if (b->in_use || b->lost)
			continue;
		if (!data && !(data = page_alloc(BATCH_PAGES)))
			return NULL;
		memset(b, 0, sizeof(*b));
		memset(data, 0, BATCH_PAGES * PAGE_SIZE);
		b->data = data;
		b->in_use = true;
		waitgroup_init(&b->wg);
		return b;
	}
	return NULL;
}

/* Submit nothing more on @b and forget its results; its data stays zeroed. */
static void batch_reuse(struct batch *b)
{
	memset(b->calls, 0, sizeof(b->calls));
	memset(b->data, 0, BATCH_PAGES * PAGE_SIZE);
	b->n = 0;
}

static void batch_free(struct batch *b)
{
	b->in_use = false;
}

/* The one-sector buffer of request @i: at an odd address, so it bounces. */
static u8 *batch_buf(struct batch *b, unsigned i)
{
	return b->data + 1 + i * BATCH_STRIDE;
}

static void batch_done(struct blk_req *req)
{
	struct batch *b = req->priv;

	if (!(read_rflags() & RFLAGS_IF))
		__atomic_add_fetch(&b->irqs_off, 1, __ATOMIC_RELAXED);
	if (this_cpu()->irq_depth)
		__atomic_add_fetch(&b->hard_irq, 1, __ATOMIC_RELAXED);
	if (strncmp(task_current()->name, "softirq/", 8))
		__atomic_add_fetch(&b->not_softirq, 1, __ATOMIC_RELAXED);
	if (waitgroup_count(req->wg) < 1) /* done comes before waitgroup_done */
		__atomic_add_fetch(&b->wg_early, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&b->calls[req - b->req], 1, __ATOMIC_RELAXED);
}

/* Submit the next request of @b; blk_submit's result. */
static int batch_add(struct batch *b, struct blkdev *dev, enum blk_op op, u64 sector, u32 count,
		     void *buf)
{
	struct blk_req *req = &b->req[b->n++];
	int rc;

	*req = (struct blk_req){ .op = op, .sector = sector, .count = count, .buf = buf,
				 .done = batch_done, .wg = &b->wg, .priv = b };
	waitgroup_add(&b->wg, 1);
	rc = blk_submit(dev, req);
	if (rc)
		waitgroup_done(&b->wg);
	return rc;
}

/* Wait for @b; on a timeout it is lost (its requests may still complete). */
static bool batch_wait(struct ktest_ctx *kt, struct batch *b)
{
	int rc = waitgroup_wait(&b->wg, WAIT_NS);

	KT_EXPECT_EQ(rc, 0);
	b->lost = rc != 0;
	return rc == 0;
}

/* Every request completed exactly once, in SoftIrq context. */
static void batch_check_calls(struct ktest_ctx *kt, struct batch *b)
{
	unsigned wrong = 0;

	for (unsigned i = 0; i < b->n; i++)
		wrong += b->calls[i] != 1;
	KT_EXPECT_EQ(wrong, 0);
	KT_EXPECT_EQ(b->irqs_off, 0);
	KT_EXPECT_EQ(b->hard_irq, 0);
	KT_EXPECT_EQ(b->not_softirq, 0);
	KT_EXPECT_EQ(b->wg_early, 0);
}

/* ------------------------------------------------------------- the tests */

#define SETUP()                                                                \
	do {                                                                   \
		KT_ASSERT_EQ(fakes_setup(), 0);                                \
	} while (0)

static struct blkdev *dev_of(unsigned i)
{
	return &fakes[i]->disk;
}

KTEST(block, fakes_registered_in_order)
{
	SETUP();
	KT_EXPECT_STREQ(dev_of(RTA)->name, "rta");
	KT_EXPECT_STREQ(dev_of(RTB)->name, "rtb");
	KT_EXPECT_STREQ(dev_of(RTC)->name, "rtc");
	KT_EXPECT(blkdev_find("rta") == dev_of(RTA));
	KT_EXPECT(blkdev_find("rtb") == dev_of(RTB));
	KT_EXPECT_EQ(blkdev_bytes(dev_of(RTA)), 1024 * SECTOR);
	/* A disk is followed by its partitions. */
	KT_EXPECT(blkdev_next(dev_of(RTA)) == blkdev_find("rta1"));
	KT_EXPECT(blkdev_next(blkdev_find("rta1")) == blkdev_find("rta3"));
	KT_EXPECT(blkdev_next(blkdev_find("rta3")) == dev_of(RTB));
	KT_EXPECT(blkdev_find("rtb1") == NULL); /* no table: the whole disk only */
	KT_EXPECT(blkdev_find("rtd") == NULL);
}

/*
 * Write @count sectors at @sector of fake @i from @buf and read them back
 * into @buf, checking the fake's storage both ways and the bytes around:
 * the sectors on either side stay, and so do the 16 bytes after @buf.
 * @direct: the buffer must be handed to the device as is (else bounced).
 */
static void round_trip(struct ktest_ctx *kt, unsigned i, u64 sector, u32 count, u8 *buf,
		       bool direct, u32 seed)
{
	struct fake *f = fakes[i];
	size_t bytes = (size_t)count * SECTOR;
	u64 phys = virt_to_phys(buf); /* no bus address for a stack buffer, but unlike a slot's */
	u64 dma;

	pat_fill(fake_at(f, sector - 1), seed + 9, sector - 1, count + 2);
	pat_fill(buf, seed, sector, count);
	memset(buf + bytes, 0xA5, 16);
	KT_EXPECT_EQ(wr(&f->disk, sector, count, buf), 0);
	KT_EXPECT(pat_check(fake_at(f, sector), seed, sector, count));
	KT_EXPECT(pat_check(fake_at(f, sector - 1), seed + 9, sector - 1, 1));
	KT_EXPECT(pat_check(fake_at(f, sector + count), seed + 9, sector + count, 1));
	/* Straight from @buf, or from a (page-aligned) DMA slot. */
	dma = get(&f->last_dma);
	if (direct)
		KT_EXPECT(dma >= phys && dma < phys + bytes);
	else
		KT_EXPECT(dma % PAGE_SIZE == 0 && (dma < phys || dma >= phys + bytes));

	pat_fill(fake_at(f, sector), seed + 1, sector, count);
	memset(buf, 0, bytes);
	KT_EXPECT_EQ(rd(&f->disk, sector, count, buf), 0);
	KT_EXPECT(pat_check(buf, seed + 1, sector, count));
	for (unsigned k = 0; k < 16; k++)
		KT_EXPECT_EQ(buf[bytes + k], 0xA5);
	dma = get(&f->last_dma);
	KT_EXPECT(direct == (dma >= phys && dma < phys + bytes));
}

KTEST(block, round_trip_direct_dma)
{
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = page_alloc(5)) != NULL);
	for (unsigned i = RTA; i <= RTB; i++) {
		round_trip(kt, i, 8, 32, buf, true, 10 + i);
		round_trip(kt, i, 100, 1, buf, true, 20 + i);
	}
	page_free(buf, 5);
}

KTEST(block, round_trip_bounce_buffers)
{
	u8 stack_buf[4 * SECTOR + 16];
	u8 *heap;

	SETUP();
	KT_ASSERT((heap = kmalloc(16 * SECTOR + 32)) != NULL);
	for (unsigned i = RTA; i <= RTB; i++) {
		round_trip(kt, i, 200, 16, heap + 3, false, 30 + i);
		round_trip(kt, i, 230, 1, heap + 510, false, 40 + i);
		round_trip(kt, i, 240, 4, stack_buf, false, 50 + i);
	}
	kfree(heap);
}

/* More than BLK_MAX_BYTES: the wrappers split it (and batch the pieces). */
KTEST(block, large_io_is_split)
{
	const u32 count = 3 * SECTORS_PER_MAX + 44, sector = 500;
	unsigned pages = (count * SECTOR + 64 + PAGE_SIZE - 1) / PAGE_SIZE;
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = page_alloc(pages)) != NULL);
	for (unsigned i = RTA; i <= RTB; i++) {
		struct fake *f = fakes[i];
		u64 writes = get(&f->writes), reads = get(&f->reads);

		round_trip(kt, i, sector, count, buf + 40, false, 60 + i);
		KT_EXPECT_EQ(get(&f->writes) - writes, 4);
		KT_EXPECT_EQ(get(&f->reads) - reads, 4);
		round_trip(kt, i, sector, count, buf, true, 70 + i);
	}
	page_free(buf, pages);
}

static unsigned bad_done_calls;

static void count_bad_done(struct blk_req *req)
{
	(void)req;
	__atomic_add_fetch(&bad_done_calls, 1, __ATOMIC_RELAXED);
}

/* blk_submit() must refuse this request with @want and never complete it. */
static void expect_refused(struct ktest_ctx *kt, struct blkdev *dev, enum blk_op op, u64 sector,
			   u32 count, void *buf, int want)
{
	/* Static: they outlive the test should the layer take one after all. */
	static struct blk_req refused[32];
	static unsigned next;
	struct blk_req *r = &refused[next++ % ARRAY_SIZE(refused)];

	*r = (struct blk_req){ .op = op, .sector = sector, .count = count, .buf = buf,
			       .done = count_bad_done };
	KT_EXPECT_EQ(blk_submit(dev, r), want);
}

KTEST(block, bad_requests_are_refused)
{
	struct fake *f;
	struct blkdev *rta;
	u8 *buf, tail[SECTOR];
	u64 accepted;
	struct batch *b;

	SETUP();
	f = fakes[RTA];
	rta = &f->disk;
	KT_ASSERT((buf = kmalloc(2 * BLK_MAX_BYTES)) != NULL);
	bad_done_calls = 0;
	accepted = get(&f->accepted);
	expect_refused(kt, rta, BLK_READ, 1024, 1, buf, -EINVAL);
	expect_refused(kt, rta, BLK_WRITE, 1023, 2, buf, -EINVAL);
	expect_refused(kt, rta, BLK_READ, ~0ULL, 1, buf, -EINVAL);
	expect_refused(kt, rta, BLK_READ, 1, ~0U, buf, -EINVAL);
	expect_refused(kt, rta, BLK_READ, 0, 0, buf, -EINVAL);
	expect_refused(kt, rta, BLK_READ, 0, SECTORS_PER_MAX + 1, buf, -EINVAL);
	expect_refused(kt, rta, BLK_WRITE, 0, 1, NULL, -EINVAL);

	KT_EXPECT_EQ(rd(rta, 1024, 1, buf), -EINVAL);
	KT_EXPECT_EQ(rd(rta, 1023, 2, buf), -EINVAL);
	KT_EXPECT_EQ(rd(rta, 5, 0, buf), -EINVAL);
	KT_EXPECT_EQ(rd(rta, 5, 1, NULL), -EINVAL);
	KT_EXPECT_EQ(wr(rta, 1024, 1, buf), -EINVAL);
	KT_EXPECT_EQ(wr(rta, 1000, 25, buf), -EINVAL);
	KT_EXPECT_EQ(wr(rta, 5, 0, buf), -EINVAL);
	KT_EXPECT_EQ(wr(rta, 5, 1, NULL), -EINVAL);
	/* The wrappers split what blk_submit alone refuses for its size. */
	KT_EXPECT_EQ(rd(rta, 1, 2 * SECTORS_PER_MAX, buf), 0);
	/* The last sector is fine. */
	KT_EXPECT_EQ(rd(rta, 1023, 1, tail), 0);
	KT_EXPECT(!memcmp(tail, fake_at(f, 1023), SECTOR));

	/* A good request after them: the refused ones must not complete first. */
	KT_EXPECT((b = batch_new()) != NULL);
	if (b) {
		KT_EXPECT_EQ(batch_add(b, rta, BLK_READ, 7, 1, batch_buf(b, 0)), 0);
		if (batch_wait(kt, b)) {
			batch_check_calls(kt, b);
			batch_free(b);
		}
	}
	KT_EXPECT_EQ(bad_done_calls, 0);
	KT_EXPECT_EQ(get(&f->accepted) - accepted, 2 + 1 + 1); /* split read, tail, batch */
	KT_EXPECT_EQ(get(&f->violations), 0);
	kfree(buf);
}

KTEST(block, read_only_refuses_writes)
{
	struct fake *f;
	struct blkdev *rtc, *rtc1;
	u8 buf[8 * SECTOR], *before;
	u64 writes;

	SETUP();
	KT_ASSERT((before = kmalloc(16 * SECTOR)) != NULL);
	f = fakes[RTC];
	rtc = &f->disk;
	KT_ASSERT((rtc1 = blkdev_find("rtc1")) != NULL);
	KT_EXPECT(rtc->read_only && rtc1->read_only);
	KT_EXPECT_EQ(rtc1->start, 8);
	KT_EXPECT_EQ(rtc1->sectors, 8);
	memcpy(before, f->mem, 16 * SECTOR);
	writes = get(&f->writes);
	bad_done_calls = 0;
	memset(buf, 0x5A, sizeof(buf));
	expect_refused(kt, rtc, BLK_WRITE, 1, 1, buf, -EROFS);
	expect_refused(kt, rtc1, BLK_WRITE, 0, 1, buf, -EROFS);
	KT_EXPECT_EQ(wr(rtc, 1, 1, buf), -EROFS);
	KT_EXPECT_EQ(wr(rtc1, 0, 8, buf), -EROFS);
	KT_EXPECT_EQ(wr(rtc1, 7, 1, buf), -EROFS);
	KT_EXPECT_EQ(rd(rtc1, 0, 8, buf), 0); /* reading is fine */
	KT_EXPECT(!memcmp(buf, fake_at(f, 8), sizeof(buf)));
	KT_EXPECT(!memcmp(before, f->mem, 16 * SECTOR));
	KT_EXPECT_EQ(get(&f->writes), writes);
	KT_EXPECT_EQ(bad_done_calls, 0);
	KT_EXPECT_EQ(get(&f->violations), 0);
	kfree(before);
}

/*
 * @n one-sector writes at @base on fake @i, all submitted at once, then
 * @n reads of them; each from its own odd-addressed buffer.
 */
static void queue_round_trip(struct ktest_ctx *kt, unsigned i, u64 base, unsigned n, u32 seed)
{
	struct fake *f = fakes[i];
	struct batch *b;
	unsigned bad = 0;

	KT_ASSERT((b = batch_new()) != NULL);
	for (unsigned k = 0; k < n; k++) {
		pat_fill(batch_buf(b, k), seed, base + k, 1);
		KT_EXPECT_EQ(batch_add(b, &f->disk, BLK_WRITE, base + k, 1, batch_buf(b, k)), 0);
	}
	if (!batch_wait(kt, b))
		return;
	batch_check_calls(kt, b);
	for (unsigned k = 0; k < n; k++)
		bad += b->req[k].status != 0 || !pat_check(fake_at(f, base + k), seed, base + k, 1);
	KT_EXPECT_EQ(bad, 0);

	pat_fill(fake_at(f, base), seed + 1, base, n);
	batch_reuse(b);
	for (unsigned k = 0; k < n; k++)
		KT_EXPECT_EQ(batch_add(b, &f->disk, BLK_READ, base + k, 1, batch_buf(b, k)), 0);
	if (!batch_wait(kt, b))
		return;
	batch_check_calls(kt, b);
	bad = 0;
	for (unsigned k = 0; k < n; k++)
		bad += b->req[k].status != 0 || !pat_check(batch_buf(b, k), seed + 1, base + k, 1);
	KT_EXPECT_EQ(bad, 0);
	batch_free(b);
}

static void expect_idle(struct ktest_ctx *kt, unsigned i)
{
	struct blkdev *d = dev_of(i);

	KT_EXPECT_EQ(__atomic_load_n(&d->inflight, __ATOMIC_ACQUIRE), 0);
	KT_EXPECT(list_empty(&d->queue));
	KT_EXPECT(!fake_busy(fakes[i]));
	KT_EXPECT_EQ(get(&fakes[i]->violations), 0);
}

/* 80 requests on a ring of 4: most wait in the queue for -EAGAIN retries. */
KTEST(block, queue_past_a_full_ring)
{
	struct fake *f;
	u64 eagain;

	SETUP();
	f = fakes[RTA];
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	eagain = get(&f->eagain);
	fake_reset_max(f);
	queue_round_trip(kt, RTA, 400, 80, 80);
	KT_EXPECT(get(&f->eagain) > eagain);
	KT_EXPECT(f->max_nr <= f->ring_size);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, RTA);
}

/*
 * A device may finish a request before its submit() returns (here, inside
 * it): the layer must not touch the request after handing it over, or the
 * completion is lost and the queue keeps a stale head.
 */
KTEST(block, completion_before_submit_returns)
{
	struct fake *f;

	SETUP();
	f = fakes[RTA];
	__atomic_store_n(&f->instant, true, __ATOMIC_RELAXED);
	queue_round_trip(kt, RTA, 600, 40, 90);
	__atomic_store_n(&f->instant, false, __ATOMIC_RELAXED);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, RTA);
}

/*
 * With all but two DMA slots held here, requests that need a bounce buffer
 * wait for a slot: never more than two reach the device at once.
 */
KTEST(block, queue_waits_for_dma_slots)
{
	struct blk_slot *held[BLK_SLOTS];
	unsigned nheld = 0;
	struct fake *f;

	SETUP();
	f = fakes[RTB];
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	while (nheld < BLK_SLOTS - 2 && (held[nheld] = blk_slot_get()))
		nheld++;
	KT_EXPECT_EQ(nheld, BLK_SLOTS - 2);
	fake_reset_max(f);
	queue_round_trip(kt, RTB, 600, 40, 90);
	KT_EXPECT(f->max_nr <= 2);
	while (nheld)
		blk_slot_put(held[--nheld]);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	fake_reset_max(f);
	queue_round_trip(kt, RTB, 600, 80, 100); /* more than the slots at once */
	KT_EXPECT(f->max_nr <= BLK_SLOTS);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, RTB);
}

/* Both disks at once, bounced and direct, reads and writes mixed. */
KTEST(block, queue_two_disks_at_once)
{
	struct batch *b;
	u8 *pages;
	unsigned bad = 0, n = 0;

	SETUP();
	KT_ASSERT((pages = page_alloc(40)) != NULL);
	KT_ASSERT((b = batch_new()) != NULL);
	for (unsigned k = 0; k < 40; k++) {
		struct fake *f = fakes[k % 2 ? RTB : RTA];
		u64 s = 300 + k * 8;

		/* Odd k writes, even k reads, through bounce buffers and straight. */
		pat_fill(k % 2 ? batch_buf(b, n) : fake_at(f, 700 + k), 200, 700 + k, 1);
		KT_EXPECT_EQ(batch_add(b, &f->disk, k % 2 ? BLK_WRITE : BLK_READ, 700 + k, 1,
				       batch_buf(b, n)), 0);
		n++;
		pat_fill(pages + k * PAGE_SIZE, 201, s, 8);
		KT_EXPECT_EQ(batch_add(b, &f->disk, BLK_WRITE, s, 8, pages + k * PAGE_SIZE), 0);
		n++;
		for (unsigned j = 0; j < 2; j++, n++)
			KT_EXPECT_EQ(batch_add(b, &fakes[RTA + j]->disk, BLK_READ, 900 + k, 1,
					       batch_buf(b, n)), 0);
	}
	if (!batch_wait(kt, b))
		return;
	batch_check_calls(kt, b);
	for (unsigned i = 0; i < b->n; i++) {
		struct blk_req *r = &b->req[i];
		struct fake *f = r->disk->priv;
		const void *data = r->op == BLK_READ ? r->buf : fake_at(f, r->sector);

		bad += r->status != 0 || memcmp(data, r->op == BLK_READ ? fake_at(f, r->sector) :
								 r->buf, r->count * SECTOR);
	}
	KT_EXPECT_EQ(bad, 0);
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, RTA);
	expect_idle(kt, RTB);
	batch_free(b);
	page_free(pages, 40);
}

static int io_irqs_off(struct ktest_ctx *kt, struct blkdev *dev, enum blk_op op, u64 sector,
		       u32 count, void *buf)
{
	struct job j = { .kind = JOB_IO, .dev = dev, .op = op, .sector = sector, .count = count,
			 .buf = buf, .irqs_off = true };
	int rc = job_run(&j);

	if (rc != -ETIMEDOUT)
		KT_EXPECT(j.stayed_off);
	return rc;
}

/*
 * With interrupts off no timer, IPI or SoftIrq runs on the caller's CPU:
 * the wrappers must poll the device themselves, retries included.
 */
KTEST(block, sync_io_with_interrupts_off)
{
	u8 *buf;

	SETUP();
	/* What an earlier failure left queued could wedge a CPU here. */
	KT_ASSERT(list_empty(&dev_of(RTA)->queue) && list_empty(&dev_of(RTB)->queue));
	KT_ASSERT((buf = page_alloc(PAGE_ALLOC_MAX)) != NULL);
	for (unsigned i = RTA; i <= RTB; i++) {
		struct fake *f = fakes[i];

		/* 8 requests on a ring of 4 (rta); direct DMA. */
		pat_fill(f->mem + SECTOR, 300 + i, 1, 1023);
		memset(buf, 0, PAGE_ALLOC_MAX * PAGE_SIZE);
		KT_EXPECT_EQ(io_irqs_off(kt, &f->disk, BLK_READ, 1, 1023, buf), 0);
		KT_EXPECT(pat_check(buf, 300 + i, 1, 1023));
		/* Bounced: 8 requests, 8 slots. */
		memset(buf, 0, PAGE_ALLOC_MAX * PAGE_SIZE);
		KT_EXPECT_EQ(io_irqs_off(kt, &f->disk, BLK_READ, 100, 900, buf + 512), 0);
		KT_EXPECT(pat_check(buf + 512, 300 + i, 100, 900));
		pat_fill(buf + 8, 310 + i, 20, 30);
		KT_EXPECT_EQ(io_irqs_off(kt, &f->disk, BLK_WRITE, 20, 30, buf + 8), 0);
		KT_EXPECT(pat_check(fake_at(f, 20), 310 + i, 20, 30));
		KT_EXPECT_EQ(io_irqs_off(kt, &f->disk, BLK_FLUSH, 0, 0, NULL), 0);
		expect_idle(kt, i);
	}
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	page_free(buf, PAGE_ALLOC_MAX);
}

KTEST(block, injected_error_fails_only_its_request)
{
	u8 *buf;

	SETUP();
	KT_ASSERT((buf = kmalloc(300 * SECTOR + 8)) != NULL);
	for (unsigned i = RTA; i <= RTB; i++) {
		struct fake *f = fakes[i];
		struct blkdev *d = &f->disk;
		u64 errors = d->errors;

		pat_fill(f->mem + SECTOR, 400 + i, 1, 299);
		__atomic_store_n(&f->bad_sector, 50, __ATOMIC_RELAXED);
		KT_EXPECT_EQ(rd(d, 48, 4, buf + 1), -EIO);
		KT_EXPECT_EQ(rd(d, 50, 1, buf + 1), -EIO);
		KT_EXPECT_EQ(rd(d, 40, 10, buf + 1), 0);
		KT_EXPECT(pat_check(buf + 1, 400 + i, 40, 10));
		KT_EXPECT_EQ(rd(d, 51, 4, buf + 1), 0);
		memset(buf, 0x11, SECTOR);
		KT_EXPECT_EQ(wr(d, 50, 1, buf), -EIO);
		KT_EXPECT(pat_check(fake_at(f, 50), 400 + i, 50, 1)); /* not written */
		KT_EXPECT_EQ(d->errors - errors, 3);
		/* Split in three, the last one fails; the others still land. */
		__atomic_store_n(&f->bad_sector, 290, __ATOMIC_RELAXED);
		memset(buf, 0, 300 * SECTOR + 8);
		KT_EXPECT_EQ(rd(d, 1, 299, buf + 8), -EIO);
		KT_EXPECT(pat_check(buf + 8, 400 + i, 1, 2 * SECTORS_PER_MAX));
		KT_EXPECT_EQ(d->errors - errors, 4);
		__atomic_store_n(&f->bad_sector, NO_SECTOR, __ATOMIC_RELAXED);
		KT_EXPECT_EQ(rd(d, 48, 4, buf + 1), 0);
		expect_idle(kt, i);
	}
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	kfree(buf);
}

KTEST(block, error_in_a_batch)
{
	SETUP();
	for (unsigned i = RTA; i <= RTB; i++) {
		struct fake *f = fakes[i];
		struct batch *b;
		unsigned bad = 0;

		KT_ASSERT((b = batch_new()) != NULL);
		pat_fill(fake_at(f, 40), 500 + i, 40, 24);
		__atomic_store_n(&f->bad_sector, 51, __ATOMIC_RELAXED);
		for (unsigned k = 0; k < 12; k++) /* 2 sectors each: 40..63 */
			KT_EXPECT_EQ(batch_add(b, &f->disk, BLK_READ, 40 + 2 * k, 2,
					       b->data + 1 + k * 2 * SECTOR), 0);
		if (!batch_wait(kt, b))
			return;
		__atomic_store_n(&f->bad_sector, NO_SECTOR, __ATOMIC_RELAXED);
		batch_check_calls(kt, b);
		for (unsigned k = 0; k < 12; k++) {
			if (k == 5)
				KT_EXPECT_EQ(b->req[k].status, -EIO);
			else
				bad += b->req[k].status ||
				       !pat_check(b->req[k].buf, 500 + i, 40 + 2 * k, 2);
		}
		KT_EXPECT_EQ(bad, 0);
		expect_idle(kt, i);
		batch_free(b);
	}
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
}

KTEST(block, mbr_partitions)
{
	struct fake *f;
	struct blkdev *p1, *p3;
	u8 buf[2 * SECTOR];
	u64 accepted;

	SETUP();
	f = fakes[RTA];
	KT_ASSERT((p1 = blkdev_find("rta1")) != NULL);
	KT_ASSERT((p3 = blkdev_find("rta3")) != NULL);
	KT_EXPECT(blkdev_find("rta2") == NULL); /* overlaps rta1 */
	KT_EXPECT(blkdev_find("rta4") == NULL); /* past the end */
	KT_EXPECT(p1->parent == &f->disk && p3->parent == &f->disk);
	KT_EXPECT_EQ(p1->start, 64);
	KT_EXPECT_EQ(p1->sectors, 128);
	KT_EXPECT_EQ(p1->part_index, 1);
	KT_EXPECT_EQ(p3->start, 256);
	KT_EXPECT_EQ(p3->sectors, 128);
	KT_EXPECT_EQ(p3->part_index, 3);
	KT_EXPECT(!p1->read_only);
	KT_EXPECT_EQ(p1->sector_size, SECTOR);

	pat_fill(buf, 600, 64, 1);
	KT_EXPECT_EQ(wr(p1, 0, 1, buf), 0);
	KT_EXPECT(pat_check(fake_at(f, 64), 600, 64, 1));
	pat_fill(fake_at(f, 191), 601, 191, 1);
	KT_EXPECT_EQ(rd(p1, 127, 1, buf), 0);
	KT_EXPECT(pat_check(buf, 601, 191, 1));
	pat_fill(fake_at(f, 383), 602, 383, 1);
	KT_EXPECT_EQ(rd(p3, 127, 1, buf + 3), 0);
	KT_EXPECT(pat_check(buf + 3, 602, 383, 1));

	accepted = get(&f->accepted);
	bad_done_calls = 0;
	KT_EXPECT_EQ(rd(p1, 128, 1, buf), -EINVAL);
	KT_EXPECT_EQ(rd(p1, 127, 2, buf), -EINVAL);
	KT_EXPECT_EQ(wr(p3, 128, 1, buf), -EINVAL);
	expect_refused(kt, p1, BLK_READ, 128, 1, buf, -EINVAL);
	KT_EXPECT_EQ(get(&f->accepted), accepted);
	KT_EXPECT_EQ(bad_done_calls, 0);
	KT_EXPECT_EQ(get(&f->violations), 0);
}

KTEST(block, flush_reaches_the_driver)
{
	struct blkdev *p3;
	u64 flushes;

	SETUP();
	for (unsigned i = RTA; i <= RTB; i++) {
		struct fake *f = fakes[i];
		u64 before = get(&f->flushes), counted = f->disk.flushes;

		KT_EXPECT_EQ(io(&f->disk, BLK_FLUSH, 0, 0, NULL), 0);
		KT_EXPECT_EQ(get(&f->flushes) - before, 1);
		KT_EXPECT_EQ(f->disk.flushes - counted, 1);
	}
	/* Through a partition, to its disk. */
	KT_ASSERT((p3 = blkdev_find("rta3")) != NULL);
	flushes = get(&fakes[RTA]->flushes);
	KT_EXPECT_EQ(io(p3, BLK_FLUSH, 0, 0, NULL), 0);
	KT_EXPECT_EQ(get(&fakes[RTA]->flushes) - flushes, 1);
	KT_EXPECT_EQ(get(&fakes[RTA]->violations), 0);
}

/*
 * Whatever the driver's context (the poll timer for rta, a hard IRQ on the
 * other CPU for rtb), done callbacks run in SoftIrq context with
 * interrupts on, once each, before their wait group is told.
 */
KTEST(block, completions_run_in_softirq)
{
	struct batch *b;
	u64 irqs;

	SETUP();
	KT_ASSERT((b = batch_new()) != NULL);
	irqs = get(&fakes[RTB]->irqs);
	__atomic_store_n(&fakes[RTB]->bad_sector, 3, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < 24; k++) {
		struct fake *f = fakes[k % 2 ? RTB : RTA];
		enum blk_op op = k % 3 == 2 ? BLK_FLUSH : BLK_READ;

		KT_EXPECT_EQ(batch_add(b, &f->disk, op, op == BLK_FLUSH ? 0 : k / 2,
				       op == BLK_FLUSH ? 0 : 1, batch_buf(b, k)), 0);
	}
	if (!batch_wait(kt, b))
		return;
	__atomic_store_n(&fakes[RTB]->bad_sector, NO_SECTOR, __ATOMIC_RELAXED);
	batch_check_calls(kt, b);
	KT_EXPECT_EQ(b->req[7].status, -EIO); /* rtb, sector 3 */
	KT_EXPECT(get(&fakes[RTB]->irqs) > irqs);
	batch_free(b);
}

/* Several tasks at once, each on its own sectors of either disk. */
struct worker {
	unsigned id;
	u64 rng;
	unsigned errors;        /* mismatches and failed calls */
};

static u64 worker_rand(struct worker *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

static void worker_fn(void *arg)
{
	struct worker *w = arg;
	u8 *buf = page_alloc(16);
	struct fake *f = fakes[w->id % 2 ? RTB : RTA];
	u64 base = 400 + (w->id / 2) * 300;

	for (unsigned it = 0; buf && it < 24; it++) {
		u32 count = 1 + (u32)(worker_rand(w) % 64);
		u64 sector = base + worker_rand(w) % (300 - count);
		u8 *p = buf + (worker_rand(w) % 2 ? 0 : 1 + worker_rand(w) % 500);
		u32 seed = 1000 + w->id * 100 + it;

		pat_fill(p, seed, sector, count);
		w->errors += blk_write(&f->disk, sector, count, p) != 0;
		w->errors += !pat_check(fake_at(f, sector), seed, sector, count);
		memset(p, 0, count * SECTOR);
		w->errors += blk_read(&f->disk, sector, count, p) != 0;
		w->errors += !pat_check(p, seed, sector, count);
	}
	w->errors += buf == NULL;
	if (buf)
		page_free(buf, 16);
}

KTEST(block, concurrent_tasks)
{
	static struct worker w[4]; /* static: a late worker may still write */
	struct server *s[4];

	SETUP();
	for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
		struct job j = { .kind = JOB_FN, .fn = worker_fn, .arg = &w[i] };

		w[i] = (struct worker){ i, ktest_rand(kt) | 1, 0 };
		KT_ASSERT((s[i] = server_get(TASK_ANY_CPU, 1 + i)) != NULL);
		server_post(s[i], &j);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(w); i++) {
		struct job j;

		KT_EXPECT_EQ(server_wait(s[i], &j), 0);
		KT_EXPECT_EQ(w[i].errors, 0);
	}
	KT_EXPECT_EQ(blk_slots_free(), BLK_SLOTS);
	expect_idle(kt, RTA);
	expect_idle(kt, RTB);
}
