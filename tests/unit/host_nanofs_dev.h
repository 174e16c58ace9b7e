/*
 * host_nanofs_dev.h — a RAM disk for the nanofs host tests, plugged into
 * the core through struct nanofs_dev (the same way the kernel glue and
 * bin/nanofs plug in), with what the tests need to attack the core:
 *
 *  - a write budget: after @budget block writes, every further write is
 *    silently dropped — a power cut at that instant (a request cut in the
 *    middle keeps only its first blocks);
 *  - a check that nothing is ever written or read past the end;
 *  - counters of block writes and flushes.
 *
 * Memory comes from the C library, not the shim (images are larger than
 * kmalloc allows); helpers free it.  Shared by tests/unit/host_nanofs*.c.
 */
#ifndef NOS_TESTS_HOST_NANOFS_DEV_H
#define NOS_TESTS_HOST_NANOFS_DEV_H

#include "errno.h"
#include "fs/nanofs.h"
#include "lib/crc32.h"

#include <stdlib.h>
#include <string.h>

struct ramdev {
	struct nanofs_dev dev;
	u8 *mem;
	s64 budget;             /* block writes still allowed; < 0: no limit */
	u64 writes, flushes;
	bool out_of_range;      /* a request ran past the end */
	bool fail_io;           /* every request fails */
};

static inline int ramdev_read(void *ctx, u64 blk, u32 n, void *buf)
{
	struct ramdev *r = ctx;

	if (blk + n > r->dev.blocks || !n) {
		r->out_of_range = true;
		return -EIO;
	}
	if (r->fail_io)
		return -EIO;
	memcpy(buf, r->mem + blk * NANOFS_BSIZE, (size_t)n * NANOFS_BSIZE);
	return 0;
}

static inline int ramdev_write(void *ctx, u64 blk, u32 n, const void *buf)
{
	struct ramdev *r = ctx;

	if (blk + n > r->dev.blocks || !n) {
		r->out_of_range = true;
		return -EIO;
	}
	if (r->fail_io)
		return -EIO;
	for (u32 i = 0; i < n; i++, r->writes++) {
		if (r->budget == 0)
			continue;       /* the power is off: the write never lands */
		if (r->budget > 0)
			r->budget--;
		memcpy(r->mem + (blk + i) * NANOFS_BSIZE, (const u8 *)buf + (size_t)i * NANOFS_BSIZE,
		       NANOFS_BSIZE);
	}
	return 0;
}

static inline int ramdev_flush(void *ctx)
{
	struct ramdev *r = ctx;

	r->flushes++;
	return r->fail_io ? -EIO : 0;
}

static inline struct ramdev *ramdev_new(u64 blocks)
{
	struct ramdev *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->mem = calloc(blocks ? blocks : 1, NANOFS_BSIZE);
	if (!r->mem) {
		free(r);
		return NULL;
	}
	r->budget = -1;
	r->dev = (struct nanofs_dev){
		.blocks = blocks, .read = ramdev_read, .write = ramdev_write,
		.flush = ramdev_flush, .ctx = r,
	};
	return r;
}

static inline void ramdev_free(struct ramdev *r)
{
	if (r)
		free(r->mem);
	free(r);
}

/* A copy of the whole image (the caller frees it). */
static inline u8 *ramdev_snapshot(const struct ramdev *r)
{
	u8 *s = malloc(r->dev.blocks * NANOFS_BSIZE);

	if (s)
		memcpy(s, r->mem, r->dev.blocks * NANOFS_BSIZE);
	return s;
}

static inline void ramdev_restore(struct ramdev *r, const u8 *snap)
{
	memcpy(r->mem, snap, r->dev.blocks * NANOFS_BSIZE);
}

static inline int ramdev_format(struct ramdev *r)
{
	struct nanofs_format_opts o = { .uuid = { 1, 2, 3, 4 }, .label = "test" };

	return nanofs_format(&r->dev, &o);
}

static inline void nanofs_test_count_report(void *arg, const char *msg)
{
	/* "note:" lines are not problems */
	if (strncmp(msg, "note:", 5))
		++*(int *)arg;
}

/* fsck's problem count (or -errno) for the volume on @r. */
static inline int ramdev_fsck(struct ramdev *r)
{
	int lines = 0;

	return nanofs_fsck(&r->dev, nanofs_test_count_report, &lines, false);
}

#endif
