/*
 * blk_cmds.c — the shell's disk commands: disks, diskread, diskwrite,
 * diskbench.  They use only the block layer's interface, so they work on
 * any device and partition, whichever driver serves it.
 */
#include "block/blkdev.h"
#include "errno.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "kernel/waitgroup.h"
#include "lib/format.h"
#include "lib/parse.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"

#define BENCH_DEPTH 8                        /* requests in flight */
#define BENCH_PAGES (BLK_MAX_BYTES / 4096)
#define BENCH_DEFAULT_MIB 16
#define BENCH_MAX_MIB 1024

/* "64 MiB", "1.5 GiB", "512 B": a size for people (one decimal, rounded down). */
static void human_size(char *out, size_t cap, u64 bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;
	u64 rem = 0;

	while (bytes >= 1024 && u + 1 < ARRAY_SIZE(units)) {
		rem = bytes % 1024;
		bytes /= 1024;
		u++;
	}
	if (rem * 10 / 1024)
		snprintf(out, cap, "%llu.%llu %s", (unsigned long long)bytes,
			 (unsigned long long)(rem * 10 / 1024), units[u]);
	else
		snprintf(out, cap, "%llu %s", (unsigned long long)bytes, units[u]);
}

static int cmd_disks(struct sh *sh, int argc, char **argv)
{
	char size[24];

	(void)argc;
	(void)argv;
	sh_printf(sh, "%-8s %12s %6s %10s %-3s %s\n", "name", "sectors", "bsize", "size", "rw",
		  "model");
	for (struct blkdev *d = blkdev_next(NULL); d; d = blkdev_next(d)) {
		human_size(size, sizeof(size), blkdev_bytes(d));
		sh_printf(sh, "%-8s %12llu %6u %10s %-3s %s", d->name,
			  (unsigned long long)d->sectors, d->sector_size, size,
			  d->read_only ? "ro" : "rw", d->model);
		if (d->parent)
			sh_printf(sh, ", start %llu", (unsigned long long)d->start);
		sh_printf(sh, "\n");
	}
	return 0;
}
SHELL_CMD("disks", "", "list block devices and partitions: sectors, block size, size, model",
	  0, 0, cmd_disks);

/* The disk @name and sector @arg; prints the error and returns NULL otherwise. */
static struct blkdev *disk_and_sector(struct sh *sh, const char *name, const char *arg,
				      u64 *sector)
{
	struct blkdev *d = blkdev_find(name);

	if (!d) {
		sh_error(sh, "no disk '%s' (see 'disks')", name);
		return NULL;
	}
	if (parse_u64(arg, sector) || *sector >= d->sectors) {
		sh_error(sh, "sector '%s' is not in %s (0-%llu)", arg, name,
			 (unsigned long long)(d->sectors - 1));
		return NULL;
	}
	return d;
}

static int io_error(struct sh *sh, const char *what, struct blkdev *d, u64 sector, int rc)
{
	sh_printf(sh, "%s: %s sector %llu: %s\n", sh->cmd->name, d->name,
		  (unsigned long long)sector, what);
	sh_printf(sh, "%s: error %s\n", sh->cmd->name, errno_name(rc));
	return rc == -EINVAL ? -EIO : rc; /* the usage line would not help here */
}

static void hexdump(struct sh *sh, const u8 *p, size_t len)
{
	for (size_t off = 0; off < len; off += 16) {
		char ascii[17];

		sh_printf(sh, "%08zx ", off);
		for (size_t i = 0; i < 16; i++) {
			u8 c = p[off + i];

			sh_printf(sh, "%s%02x", i == 8 ? "  " : " ", c);
			ascii[i] = c >= 0x20 && c < 0x7F ? (char)c : '.';
		}
		ascii[16] = 0;
		sh_printf(sh, "  |%s|\n", ascii);
	}
}

static int cmd_diskread(struct sh *sh, int argc, char **argv)
{
	u64 sector;
	struct blkdev *d = disk_and_sector(sh, argv[1], argv[2], &sector);
	u8 *buf;
	int rc;

	(void)argc;
	if (!d)
		return -EINVAL;
	buf = page_alloc(1);
	if (!buf)
		return -ENOMEM;
	rc = blk_read(d, sector, 1, buf);
	if (rc)
		rc = io_error(sh, "read failed", d, sector, rc);
	else
		hexdump(sh, buf, d->sector_size);
	page_free(buf, 1);
	return rc;
}
SHELL_CMD("diskread", "<disk> <sector>", "show one sector of a disk or partition in hex and ASCII",
	  2, 2, cmd_diskread);

/*
 * Write @data at the start of @sector, keeping the rest of it: read,
 * modify, write, flush.  Prints what failed.
 */
static int write_bytes(struct sh *sh, struct blkdev *d, u64 sector, const u8 *data, size_t len)
{
	u8 *buf = page_alloc(1);
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = blk_read(d, sector, 1, buf);
	if (rc) {
		rc = io_error(sh, "read (before the write) failed", d, sector, rc);
		goto out;
	}
	memcpy(buf, data, len);
	rc = blk_write(d, sector, 1, buf);
	if (!rc && (rc = blk_flush(d)) == -EOPNOTSUPP)
		rc = 0; /* a device without a cache to flush */
	if (rc)
		rc = io_error(sh, "write failed", d, sector, rc);
out:
	page_free(buf, 1);
	return rc;
}

static int diskwrite_hex(struct sh *sh, struct blkdev *d, u64 sector, const char *hex, u8 *data)
{
	size_t len;
	int rc;

	if (parse_hex_bytes(hex, data, d->sector_size, &len) || !len)
		return sh_error(sh, "'%s' is not 1-%u bytes of hex digit pairs", hex,
				d->sector_size);
	if (d->read_only) {
		sh_printf(sh, "diskwrite: %s is read-only\n", d->name);
		return -EROFS;
	}
	rc = write_bytes(sh, d, sector, data, len);
	if (!rc)
		sh_printf(sh, "wrote %zu bytes to %s sector %llu\n", len, d->name,
			  (unsigned long long)sector);
	return rc;
}

static int cmd_diskwrite(struct sh *sh, int argc, char **argv)
{
	u64 sector;
	struct blkdev *d = disk_and_sector(sh, argv[1], argv[2], &sector);
	u8 *data;
	int rc;

	(void)argc;
	if (!d)
		return -EINVAL;
	data = kmalloc(d->sector_size);
	if (!data)
		return -ENOMEM;
	rc = diskwrite_hex(sh, d, sector, argv[3], data);
	kfree(data);
	return rc;
}
SHELL_CMD("diskwrite", "<disk> <sector> <hex>",
	  "write bytes (hex pairs) at the start of a sector, keeping the rest", 3, 3, cmd_diskwrite);

struct bench {
	struct blkdev *dev;
	u8 *bufs[BENCH_DEPTH];
	u32 per;        /* sectors per request */
	u64 sectors;    /* to move */
	u64 mismatches; /* read chunks whose stamp was wrong */
};

/* Each chunk starts with its own number, so the read pass can check it. */
static void stamp(u8 *buf, u64 chunk)
{
	memcpy(buf, &chunk, sizeof(chunk));
	memset(buf + sizeof(chunk), (int)(chunk & 0xFF), 64);
}

/* One sequential pass; returns 0 or the first error. */
static int bench_pass(struct bench *b, enum blk_op op)
{
	struct blk_req reqs[BENCH_DEPTH];
	u64 chunk = 0, done = 0;
	int rc = 0;

	while (done < b->sectors && !rc) {
		struct waitgroup wg;
		unsigned n = 0;

		waitgroup_init(&wg);
		for (; n < BENCH_DEPTH && done < b->sectors; n++, chunk++) {
			u32 c = (u32)MIN((u64)b->per, b->sectors - done);

			if (op == BLK_WRITE)
				stamp(b->bufs[n], chunk);
			reqs[n] = (struct blk_req){ .op = op, .sector = done, .count = c,
						    .buf = b->bufs[n], .wg = &wg };
			waitgroup_add(&wg, 1);
			if ((rc = blk_submit(b->dev, &reqs[n])) != 0) {
				waitgroup_done(&wg);
				n++;
				break;
			}
			done += c;
		}
		waitgroup_wait(&wg, 0);
		for (unsigned i = 0; i < n && !rc; i++) {
			rc = reqs[i].status;
			if (op == BLK_READ && memcmp(b->bufs[i], &(u64){ chunk - n + i }, 8))
				b->mismatches++;
		}
	}
	return rc;
}

static void bench_report(struct sh *sh, struct bench *b, const char *what, u64 ns, u64 irqs)
{
	u64 bytes = b->sectors * b->dev->sector_size;
	u64 mib_x100 = ns ? bytes * 100 * 1000000000ULL / ns / (1024 * 1024) : 0;
	u64 mib = bytes >> 20;

	sh_printf(sh, "%s: %llu MiB in %llu ms = %llu.%02llu MiB/s, %llu interrupts (%llu per MiB)\n",
		  what, (unsigned long long)mib, (unsigned long long)(ns / 1000000),
		  (unsigned long long)(mib_x100 / 100), (unsigned long long)(mib_x100 % 100),
		  (unsigned long long)irqs, (unsigned long long)(mib ? irqs / mib : irqs));
}

static int bench_run(struct sh *sh, struct bench *b)
{
	static const enum blk_op ops[] = { BLK_WRITE, BLK_READ };
	struct blkdev *disk = b->dev->parent ? b->dev->parent : b->dev;

	for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
		u64 irqs = __atomic_load_n(&disk->interrupts, __ATOMIC_RELAXED);
		u64 t0 = time_ns();
		int rc = bench_pass(b, ops[i]);

		if (!rc && ops[i] == BLK_WRITE && (rc = blk_flush(b->dev)) == -EOPNOTSUPP)
			rc = 0;
		if (rc) {
			sh_printf(sh, "diskbench: %s failed: %s\n", ops[i] == BLK_WRITE ? "write" : "read",
				  errno_name(rc));
			return rc == -EINVAL ? -EIO : rc;
		}
		bench_report(sh, b, ops[i] == BLK_WRITE ? "write" : "read", time_ns() - t0,
			     __atomic_load_n(&disk->interrupts, __ATOMIC_RELAXED) - irqs);
	}
	if (b->mismatches)
		sh_printf(sh, "diskbench: %llu chunks read back wrong\n",
			  (unsigned long long)b->mismatches);
	else
		sh_printf(sh, "verify: ok\n");
	return b->mismatches ? -EIO : 0;
}

static int cmd_diskbench(struct sh *sh, int argc, char **argv)
{
	struct bench b = { 0 };
	u64 mib = BENCH_DEFAULT_MIB;
	int rc = 0;

	b.dev = blkdev_find(argv[1]);
	if (!b.dev)
		return sh_error(sh, "no disk '%s' (see 'disks')", argv[1]);
	if (argc > 2 && parse_u64_range(argv[2], 1, BENCH_MAX_MIB, &mib))
		return sh_error(sh, "MiB must be 1-%d, not '%s'", BENCH_MAX_MIB, argv[2]);
	if (b.dev->read_only) {
		sh_printf(sh, "diskbench: %s is read-only\n", b.dev->name);
		return -EROFS;
	}
	if (mib << 20 > blkdev_bytes(b.dev))
		return sh_error(sh, "%s holds only %llu MiB", b.dev->name,
				(unsigned long long)(blkdev_bytes(b.dev) >> 20));
	b.per = BLK_MAX_BYTES / b.dev->sector_size;
	b.sectors = (mib << 20) / b.dev->sector_size;
	for (unsigned i = 0; i < BENCH_DEPTH && !rc; i++)
		rc = (b.bufs[i] = page_alloc(BENCH_PAGES)) ? 0 : -ENOMEM;
	sh_printf(sh, "diskbench %s: %llu MiB, requests of %u KiB, %u in flight (data is overwritten)\n",
		  b.dev->name, (unsigned long long)mib, BLK_MAX_BYTES / 1024, BENCH_DEPTH);
	if (!rc)
		rc = bench_run(sh, &b);
	for (unsigned i = 0; i < BENCH_DEPTH; i++)
		if (b.bufs[i])
			page_free(b.bufs[i], BENCH_PAGES);
	return rc;
}
SHELL_CMD("diskbench", "<disk> [MiB]",
	  "sequential write then read throughput (overwrites the disk; default 16 MiB)", 1, 2,
	  cmd_diskbench);
