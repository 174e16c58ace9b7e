/*
 * fake_disk.c — the RAM disk driver of the host tests (see fake_disk.h).
 *
 * The driver proper is tests/unit/fake_blk_core.c, shared with the boot
 * tests' fakes; what is the host's own is here: the simulated interrupt
 * of FAKE_DISK_IRQ, construction in host memory (one chunk: calloc has no
 * 512 KiB limit), registration with the block layer started on first use,
 * and the test pattern under its host name.
 */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/fake_disk.h"
#include "tests/unit/shim/shim.h"
#include "kernel/time.h"

#include <stdio.h>
#include <stdlib.h>

#define TICK_NS (1000000000ULL / TIME_TICK_HZ)

u8 *fake_disk_at(struct fake_disk *f, u64 sector)
{
	return fake_core_at(&f->core, sector);
}

void fake_disk_complete_all(struct fake_disk *f)
{
	fake_core_complete_all(&f->core);
}

unsigned fake_disk_busy(struct fake_disk *f)
{
	return fake_core_busy(&f->core);
}

static void fake_irq(void *arg)
{
	struct fake_disk *f = arg;

	f->irqs++;
	fake_disk_complete_all(f);
}

/* FAKE_DISK_IRQ: each tick, interrupt if requests wait in the ring. */
static void irq_timer_fn(struct ktimer *t, void *arg)
{
	if (fake_disk_busy(arg))
		shim_irq(fake_irq, arg);
}

struct fake_disk *fake_disk_new(const char *name, u64 sectors, u32 sector_size,
				enum fake_disk_mode mode, unsigned ring_size, bool read_only)
{
	struct fake_disk *f = calloc(1, sizeof(*f));

	if (!f || !(f->mem = calloc(sectors ? sectors : 1, sector_size))) {
		free(f);
		return NULL;
	}
	f->chunk[0] = f->mem;
	f->chunk_sectors = sectors ? sectors : 1;
	fake_core_init(&f->core, sectors, sector_size, ring_size, read_only,
		       mode == FAKE_DISK_POLLED);
	snprintf(f->disk.name, sizeof(f->disk.name), "%s", name);
	snprintf(f->disk.model, sizeof(f->disk.model), "host fake, %s",
		 mode == FAKE_DISK_POLLED ? "polled" : mode == FAKE_DISK_IRQ ? "irq" : "instant");
	f->mode = mode;
	f->instant = mode == FAKE_DISK_INSTANT;
	ktimer_init(&f->irq_timer, irq_timer_fn, f);
	return f;
}

int fake_disk_register(struct fake_disk *f)
{
	static bool layer_ready;
	int rc;

	shim_forever_begin();
	if (!layer_ready) { /* the kernel does this once at boot */
		blk_init();
		layer_ready = true;
	}
	if (f->mode == FAKE_DISK_IRQ)
		ktimer_start(&f->irq_timer, TICK_NS, TICK_NS);
	rc = blkdev_register(&f->disk, "");
	if (rc)
		ktimer_cancel(&f->irq_timer);
	shim_forever_end();
	return rc;
}

void fake_disk_free(struct fake_disk *f)
{
	free(f->mem);
	free(f);
}

void fake_pat_fill(void *buf, u32 sector_size, u32 seed, u64 sector, u32 count)
{
	fake_core_pat_fill(buf, sector_size, seed, sector, count);
}

bool fake_pat_check(const void *buf, u32 sector_size, u32 seed, u64 sector, u32 count)
{
	return fake_core_pat_check(buf, sector_size, seed, sector, count);
}
