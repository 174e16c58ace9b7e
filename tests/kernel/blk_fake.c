/*
 * blk_fake.c — the fake block drivers of the block layer's boot tests, and
 * the helpers the tests drive them with; blk_fake.h describes the fakes
 * and the interface.
 *
 * The driver itself is tests/unit/fake_blk_core.c, shared with the host
 * tests' fake disks.  Here, in order: what is the kernel fakes' own (the
 * ktimer and IPI that make rtb "interrupt-like"), the test data and the
 * MBRs, registration (media in chunks of page_alloc's largest block), the
 * servers that make synchronous calls for the tests, and the batches of
 * asynchronous requests.  The fakes, the servers and the batches live in
 * static storage or page_alloc'd memory that is never given back, so a
 * late completion, a late waker or a server that a timed-out test left
 * behind always finds them there.
 */
#include "tests/kernel/blk_fake.h"
#include "block/blk_slot.h"
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
#define TICK_NS (1000000000ULL / TIME_TICK_HZ)

/* --------------------------------------------------------------- the fakes */

struct fake *blk_fakes[FAKE_NR];
static int fakes_rc = 1;          /* 1: not tried yet, else 0 or -errno */

_Static_assert(FAKE_SECTORS_MAX ==
	      (u64)FAKE_CORE_CHUNKS * PAGE_ALLOC_MAX * (PAGE_SIZE / FAKE_SECTOR),
	      "FAKE_SECTORS_MAX is what the chunks hold");

u64 fake_count(const u64 *counter)
{
	return fake_core_load(counter);
}

void fake_inject(u64 *field, u64 value)
{
	fake_core_store(field, value);
}

void fake_clear_errors(struct fake *f)
{
	fake_core_clear_errors(&f->core);
}

u8 *fake_at(struct fake *f, u64 sector)
{
	return fake_core_at(&f->core, sector);
}

bool fake_busy(struct fake *f)
{
	return fake_core_busy(&f->core) != 0;
}

void fake_reset_max(struct fake *f)
{
	fake_core_reset_max(&f->core);
}

/* The "interrupt handler": hard-IRQ context on the other CPU. */
static void fake_irq(void *arg)
{
	struct fake *f = arg;

	__atomic_add_fetch(&f->irqs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&f->disk.interrupts, 1, __ATOMIC_RELAXED);
	fake_core_complete_all(&f->core);
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
		__atomic_add_fetch(&f->ipi_errors, 1, __ATOMIC_RELAXED); /* the next tick tries again */
}

/* ------------------------------------------------------- data and the MBR */

void fake_pat_fill(void *buf, u32 seed, u64 sector, u32 count)
{
	fake_core_pat_fill(buf, FAKE_SECTOR, seed, sector, count);
}

bool fake_pat_check(const void *buf, u32 seed, u64 sector, u32 count)
{
	return fake_core_pat_check(buf, FAKE_SECTOR, seed, sector, count);
}

static void mbr_entry(u8 *mbr, unsigned index, u8 type, u32 start, u32 count)
{
	u8 *e = mbr + 446 + (index - 1) * 16;

	e[0] = 0;
	e[4] = type;
	put_le32(e + 8, start);
	put_le32(e + 12, count);
}

void fake_write_mbr(u8 *mbr, bool rta)
{
	memset(mbr, 0, FAKE_SECTOR);
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

#define CHUNK_SECTORS ((u64)PAGE_ALLOC_MAX * (PAGE_SIZE / FAKE_SECTOR))

/* Pages of chunk @i of a fake of @sectors sectors (the last may be short). */
static unsigned chunk_pages(u64 sectors, unsigned i)
{
	u64 n = MIN(CHUNK_SECTORS, MAX(sectors, 1ULL) - i * CHUNK_SECTORS);

	return (unsigned)(ALIGN_UP(n * FAKE_SECTOR, PAGE_SIZE) / PAGE_SIZE);
}

/* The media of a fake of @sectors sectors, in chunks: false without memory. */
static bool media_alloc(struct fake *f, u64 sectors)
{
	unsigned chunks = (unsigned)((MAX(sectors, 1ULL) + CHUNK_SECTORS - 1) / CHUNK_SECTORS);

	for (unsigned i = 0; i < chunks; i++) {
		f->chunk[i] = page_alloc(chunk_pages(sectors, i));
		if (!f->chunk[i]) {
			while (i--)
				page_free(f->chunk[i], chunk_pages(sectors, i));
			return false;
		}
	}
	f->mem = f->chunk[0];
	f->chunk_sectors = CHUNK_SECTORS;
	return true;
}

static struct fake *fake_new(u64 sectors, unsigned ring, bool irq_like, bool read_only)
{
	struct fake *f = sectors <= FAKE_SECTORS_MAX ? kzalloc(sizeof(*f)) : NULL;

	if (!f)
		return NULL;
	if (!media_alloc(f, sectors)) {
		kfree(f);
		return NULL;
	}
	fake_core_init(&f->core, sectors, FAKE_SECTOR, ring, read_only, !irq_like);
	fake_core_pat_fill_media(&f->core, 0);
	memset(f->mem, 0, FAKE_SECTOR); /* no partition table unless one is written */
	f->irq_like = irq_like;
	ktimer_init(&f->irq_timer, fake_irq_timer, f);
	strlcpy(f->disk.model, irq_like ? "test fake, interrupt-like" : "test fake, polled",
		sizeof(f->disk.model));
	return f;
}

struct fake *fake_make(u64 sectors)
{
	return fake_new(sectors, 4, false, false);
}

/* Make and register the three fakes (a server runs this, see blk_fake_setup). */
static int fakes_register(void)
{
	static const struct { u64 sectors; unsigned ring; bool irq_like, ro; } cfg[FAKE_NR] = {
		[FAKE_RTA] = { 1024, 4, false, false },
		[FAKE_RTB] = { 1024, FAKE_RING_MAX, true, false },
		[FAKE_RTC] = { 16, 4, false, true },
	};

	for (unsigned i = 0; i < FAKE_NR; i++) {
		struct fake *f = fake_new(cfg[i].sectors, cfg[i].ring, cfg[i].irq_like, cfg[i].ro);
		int rc;

		if (!f)
			return -ENOMEM;
		if (i != FAKE_RTB)
			fake_write_mbr(f->mem, i == FAKE_RTA);
		if (f->irq_like) /* before the partition scan reads sector 0 */
			ktimer_start(&f->irq_timer, TICK_NS, TICK_NS);
		rc = blkdev_register(&f->disk, "rt");
		if (rc)
			return rc; /* @f stays: the registry may hold it */
		blk_fakes[i] = f;
	}
	return 0;
}

/* ------------------------------------------------ calls in helper tasks */

/* Legend: [I] set at creation; [T] the tests' task; [g] handed over by go/done. */
struct fake_server {
	int affinity;             /* [I] a CPU or TASK_ANY_CPU */
	unsigned lane;            /* [I] tells apart servers of one affinity */
	bool wedged;              /* [T] a call timed out: never used again */
	struct fake_job job;      /* [g] */
	struct waitgroup go;      /* 0 when a call is posted */
	struct waitgroup done;    /* 0 when it returned */
};

#define SERVERS_MAX 16

static struct fake_server servers[SERVERS_MAX];
static unsigned nservers;        /* [T] */

static void job_exec(struct fake_job *j)
{
	if (j->irqs_off)
		cli();
	if (j->kind == FAKE_JOB_REGISTER)
		j->rc = fakes_register();
	else if (j->kind == FAKE_JOB_FN)
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
	struct fake_server *s = arg;

	for (;;) {
		waitgroup_wait(&s->go, 0);
		job_exec(&s->job);
		waitgroup_add(&s->go, 1); /* before the caller can post again */
		waitgroup_done(&s->done);
	}
}

/* The live server for (@affinity, @lane), started on first use; or NULL. */
struct fake_server *fake_server_get(int affinity, unsigned lane)
{
	struct fake_server *s;

	for (unsigned i = 0; i < nservers; i++) {
		s = &servers[i];
		if (!s->wedged && s->affinity == affinity && s->lane == lane)
			return s;
	}
	if (nservers == SERVERS_MAX)
		return NULL;
	s = &servers[nservers];
	*s = (struct fake_server){ .affinity = affinity, .lane = lane };
	waitgroup_init(&s->go);
	waitgroup_init(&s->done);
	waitgroup_add(&s->go, 1);
	if (!task_create("blk-test", server_task, s, affinity))
		return NULL;
	nservers++;
	return s;
}

void fake_server_post(struct fake_server *s, const struct fake_job *j)
{
	s->job = *j;
	waitgroup_add(&s->done, 1);
	waitgroup_done(&s->go);
}

/* Wait for @s's call and copy its results to @j: 0, or -ETIMEDOUT. */
int fake_server_wait(struct fake_server *s, struct fake_job *j)
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
int fake_job_run(struct fake_job *j)
{
	int affinity = j->irqs_off && smp_cpu_count() > 1 ? (int)other_cpu() : TASK_ANY_CPU;
	struct fake_server *s = fake_server_get(affinity, 0);
	int rc;

	if (!s)
		return -ENOMEM;
	fake_server_post(s, j);
	rc = fake_server_wait(s, j);
	return rc ? rc : j->rc;
}

int fake_io(struct blkdev *dev, enum blk_op op, u64 sector, u32 count, void *buf)
{
	struct fake_job j = { .kind = FAKE_JOB_IO, .dev = dev, .op = op, .sector = sector,
			      .count = count, .buf = buf };

	return fake_job_run(&j);
}

/* The fakes, registered on first use; 0 or why they are not there. */
int blk_fake_setup(void)
{
	if (fakes_rc == 1) {
		struct fake_job j = { .kind = FAKE_JOB_REGISTER };

		fakes_rc = fake_job_run(&j);
	}
	if (fakes_rc)
		return fakes_rc;
	for (unsigned i = 0; i < FAKE_NR; i++)
		fake_clear_errors(blk_fakes[i]);
	return 0;
}

/* ------------------------------------------------- asynchronous batches */

#define BATCH_STRIDE (FAKE_SECTOR + 8) /* one-sector buffers, never page-aligned */
#define BATCH_PAGES ((FAKE_BATCH_MAX * BATCH_STRIDE + 1 + PAGE_SIZE - 1) / PAGE_SIZE)
#define BATCHES 2

static struct fake_batch batches[BATCHES];

/* A batch with nothing submitted and zeroed data; NULL when none is left. */
struct fake_batch *fake_batch_new(void)
{
	for (unsigned i = 0; i < BATCHES; i++) {
		struct fake_batch *b = &batches[i];
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
void fake_batch_reuse(struct fake_batch *b)
{
	memset(b->calls, 0, sizeof(b->calls));
	memset(b->data, 0, BATCH_PAGES * PAGE_SIZE);
	b->n = 0;
}

void fake_batch_free(struct fake_batch *b)
{
	b->in_use = false;
}

/* The one-sector buffer of request @i: at an odd address, so it bounces. */
u8 *fake_batch_buf(struct fake_batch *b, unsigned i)
{
	return b->data + 1 + i * BATCH_STRIDE;
}

static void batch_done(struct blk_req *req)
{
	struct fake_batch *b = req->priv;

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
int fake_batch_add(struct fake_batch *b, struct blkdev *dev, enum blk_op op, u64 sector,
		   u32 count, void *buf)
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
bool fake_batch_wait(struct ktest_ctx *kt, struct fake_batch *b)
{
	int rc = waitgroup_wait(&b->wg, WAIT_NS);

	KT_EXPECT_EQ(rc, 0);
	b->lost = rc != 0;
	return rc == 0;
}

/* Every request completed exactly once, in SoftIrq context. */
void fake_batch_check_calls(struct ktest_ctx *kt, struct fake_batch *b)
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
