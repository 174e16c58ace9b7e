/*
 * blk_cmds.c — the shell's disk commands: disks, diskread, diskwrite,
 * diskbench.  They use only the users' interface (block/blkdev.h), so they
 * work on any device and partition, whichever driver serves it.
 *
 * The commands that write (diskwrite, diskbench) claim the device while
 * they run, as a filesystem would, so they never write under a mounted
 * filesystem or under each other from two sessions; diskread claims
 * nothing.  Every number typed is checked in its full width: a sector past
 * the device (or past 2^64) and a count out of range are refused before
 * anything is read or written.
 */
#include "block/blkdev.h"
#include "errno.h"
#include "kernel/sched.h"
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

/* ", claimed by X" after a claimed device's row. */
static void show_claim(struct sh *sh, const struct blkdev *d)
{
	char holder[40];

	if (blkdev_claimed_by(d, holder, sizeof(holder)))
		sh_printf(sh, ", claimed by %s", holder[0] ? holder : "(unnamed)");
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
		sh_printf(sh, "%-8s %12llu %6u %10s %-3s %s", blkdev_name(d),
			  (unsigned long long)blkdev_sectors(d), blkdev_sector_size(d), size,
			  blkdev_read_only(d) ? "ro" : "rw", blkdev_model(d));
		if (blkdev_is_partition(d))
			sh_printf(sh, ", start %llu", (unsigned long long)blkdev_start(d));
		show_claim(sh, d);
		sh_printf(sh, "\n");
	}
	return 0;
}
SHELL_CMD("disks", "", "list block devices and partitions: sectors, block size, size, model, "
	  "who has claimed them", 0, 0, cmd_disks);

/* The disk called @name; prints why not and returns NULL when there is none. */
static struct blkdev *disk_named(struct sh *sh, const char *name)
{
	struct blkdev *d = blkdev_find(name);

	if (!d)
		sh_error(sh, "no disk '%s' (see 'disks')", name);
	return d;
}

/*
 * An empty disk has no sector to name, so a range "0-(0 - 1)" would be a
 * lie: say so instead.  Returns -ENXIO (no usage line: the arguments were
 * well formed).
 */
static int disk_empty(struct sh *sh, const struct blkdev *d)
{
	sh_printf(sh, "%s: %s is empty (0 sectors)\n", sh->cmd->name, blkdev_name(d));
	return -ENXIO;
}

/* The disk @name and sector @arg in it: 0, or the error (already printed). */
static int disk_and_sector(struct sh *sh, const char *name, const char *arg,
			   struct blkdev **dp, u64 *sector)
{
	struct blkdev *d = disk_named(sh, name);
	u64 n;

	if (!d)
		return -EINVAL;
	n = blkdev_sectors(d);
	if (!n)
		return disk_empty(sh, d);
	if (parse_u64_range(arg, 0, n - 1, sector))
		return sh_error(sh, "sector '%s' is not in %s (0-%llu)", arg, name,
				(unsigned long long)(n - 1));
	*dp = d;
	return 0;
}

static int io_error(struct sh *sh, const char *what, struct blkdev *d, u64 sector, int rc)
{
	sh_printf(sh, "%s: %s sector %llu: %s\n", sh->cmd->name, blkdev_name(d),
		  (unsigned long long)sector, what);
	sh_printf(sh, "%s: error %s\n", sh->cmd->name, errno_name(rc));
	return rc == -EINVAL ? -EIO : rc; /* the usage line would not help here */
}

/*
 * Claim @d for the running command (@holder names it, on the caller's
 * stack) so that it does not write under a filesystem, a format or another
 * session's diskbench.  0, or -EBUSY after saying who has it.
 */
static int claim_or_say(struct sh *sh, struct blkdev *d, const char *holder)
{
	struct blkdev *disk = blkdev_disk(d);
	char who[40];

	if (!blkdev_claim(d, holder))
		return 0;
	if (blkdev_claimed_by(d, who, sizeof(who)))
		sh_printf(sh, "%s: %s is in use (claimed by %s)\n", sh->cmd->name,
			  blkdev_name(d), who);
	else if (disk != d && blkdev_claimed_by(disk, who, sizeof(who)))
		sh_printf(sh, "%s: %s is in use (its disk %s is claimed by %s)\n", sh->cmd->name,
			  blkdev_name(d), blkdev_name(disk), who);
	else
		sh_printf(sh, "%s: %s is in use (a partition of it is claimed; see 'disks')\n",
			  sh->cmd->name, blkdev_name(d));
	return -EBUSY;
}

static void hexdump(struct sh *sh, const u8 *p, size_t len)
{
	for (size_t off = 0; off < len && !sh_output_error(sh); off += 16) {
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
	struct blkdev *d;
	u64 sector;
	u8 *buf;
	int rc;

	(void)argc;
	rc = disk_and_sector(sh, argv[1], argv[2], &d, &sector);
	if (rc)
		return rc;
	buf = page_alloc(1);
	if (!buf)
		return -ENOMEM;
	rc = blk_read(d, sector, 1, buf);
	if (rc)
		rc = io_error(sh, "read failed", d, sector, rc);
	else
		hexdump(sh, buf, blkdev_sector_size(d));
	page_free(buf, 1);
	return rc;
}
SHELL_CMD("diskread", "<disk> <sector>", "show one sector of a disk or partition in hex and ASCII",
	  2, 2, cmd_diskread);

/*
 * Write @len bytes of @data at byte @off of @sector, keeping the rest of
 * it: read, modify, write, flush.  Prints what failed.
 */
static int write_bytes(struct sh *sh, struct blkdev *d, u64 sector, u32 off, const u8 *data,
		       size_t len)
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
	memcpy(buf + off, data, len);
	rc = blk_write(d, sector, 1, buf);
	if (!rc && (rc = blk_flush(d)) == -EOPNOTSUPP)
		rc = 0; /* a device without a cache to flush */
	if (rc)
		rc = io_error(sh, "write failed", d, sector, rc);
out:
	page_free(buf, 1);
	return rc;
}

/*
 * What diskwrite writes: "<hex>" or "<hex>*<n>" (the bytes repeated n
 * times, so that a whole sector fits on a line), at most @room bytes, into
 * @data (one sector).  0 with the length in *@len, or the error, printed.
 */
static int parse_data(struct sh *sh, char *arg, u8 *data, u32 sector_size, u32 room,
		      size_t *len)
{
	char *star = strchr(arg, '*');
	size_t n = 0;
	u64 times = 1;
	int hex_rc, rc;

	if (star)
		*star = 0; /* the shell's copy of the line: ours to cut, restored below */
	hex_rc = parse_hex_bytes(arg, data, sector_size, &n);
	if (star)
		*star = '*';
	if ((hex_rc && hex_rc != -E2BIG) || (!hex_rc && !n))
		return sh_error(sh, "'%s' is not hex digit pairs (or pairs*N, to repeat them)", arg);
	if (star && (rc = sh_parse_uint(sh, star + 1, "N", 1, sector_size, &times)) != 0)
		return rc;
	if (hex_rc == -E2BIG || n * times > room) {
		u64 want = (u64)((star ? (size_t)(star - arg) : strlen(arg)) / 2) * times;

		return sh_error(sh, "%llu bytes do not fit: at most %u from offset %u",
				(unsigned long long)want, room, sector_size - room);
	}
	for (u64 i = 1; i < times; i++)
		memcpy(data + i * n, data, n);
	*len = n * times;
	return 0;
}

/* Write what @argv says to @d at @sector: [offset] data. */
static int diskwrite_to(struct sh *sh, struct blkdev *d, u64 sector, int argc, char **argv,
			u8 *data)
{
	char holder[] = "diskwrite";
	u32 bsize = blkdev_sector_size(d);
	u64 off = 0;
	size_t len;
	int rc;

	if (argc == 5 && (rc = sh_parse_uint(sh, argv[3], "offset", 0, bsize - 1, &off)) != 0)
		return rc;
	rc = parse_data(sh, argv[argc - 1], data, bsize, bsize - (u32)off, &len);
	if (rc)
		return rc;
	if (blkdev_read_only(d)) {
		sh_printf(sh, "diskwrite: %s is read-only\n", blkdev_name(d));
		return -EROFS;
	}
	rc = claim_or_say(sh, d, holder);
	if (rc)
		return rc;
	rc = write_bytes(sh, d, sector, (u32)off, data, len);
	blkdev_release(d, holder);
	if (!rc)
		sh_printf(sh, "wrote %zu bytes to %s sector %llu\n", len, blkdev_name(d),
			  (unsigned long long)sector);
	return rc;
}

static int cmd_diskwrite(struct sh *sh, int argc, char **argv)
{
	struct blkdev *d;
	u64 sector;
	u8 *data;
	int rc;

	rc = disk_and_sector(sh, argv[1], argv[2], &d, &sector);
	if (rc)
		return rc;
	data = kmalloc(blkdev_sector_size(d));
	if (!data)
		return -ENOMEM;
	rc = diskwrite_to(sh, d, sector, argc, argv, data);
	kfree(data);
	return rc;
}
SHELL_CMD("diskwrite", "<disk> <sector> [offset] <hex>[*N]",
	  "write bytes given as hex pairs (repeated N times with *N) into a sector from a byte "
	  "offset (default 0), keeping the rest", 3, 4, cmd_diskwrite);

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

		if (task_interrupted())
			return -EINTR; /* between batches: no request holds a buffer */
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
	u64 bytes = b->sectors * blkdev_sector_size(b->dev);
	u64 mib_x100 = ns ? bytes * 100 * 1000000000ULL / ns / (1024 * 1024) : 0;
	u64 mib = bytes >> 20;

	sh_printf(sh, "%s: %llu MiB in %llu ms = %llu.%02llu MiB/s, %llu interrupts (%llu per MiB)\n",
		  what, (unsigned long long)mib, (unsigned long long)(ns / 1000000),
		  (unsigned long long)(mib_x100 / 100), (unsigned long long)(mib_x100 % 100),
		  (unsigned long long)irqs, (unsigned long long)(mib ? irqs / mib : irqs));
}

static u64 interrupts_of(const struct blkdev *d)
{
	struct blkdev_stats st;

	blkdev_get_stats(d, &st);
	return st.interrupts;
}

static int bench_run(struct sh *sh, struct bench *b)
{
	static const enum blk_op ops[] = { BLK_WRITE, BLK_READ };

	for (unsigned i = 0; i < ARRAY_SIZE(ops); i++) {
		u64 irqs = interrupts_of(b->dev);
		u64 t0 = time_ns();
		int rc = bench_pass(b, ops[i]);

		if (!rc && ops[i] == BLK_WRITE && (rc = blk_flush(b->dev)) == -EOPNOTSUPP)
			rc = 0;
		if (rc == -EINTR) {
			sh_printf(sh, "diskbench: interrupted\n");
			return rc;
		}
		if (rc) {
			sh_printf(sh, "diskbench: %s failed: %s\n", ops[i] == BLK_WRITE ? "write" : "read",
				  errno_name(rc));
			return rc == -EINVAL ? -EIO : rc;
		}
		bench_report(sh, b, ops[i] == BLK_WRITE ? "write" : "read", time_ns() - t0,
			     interrupts_of(b->dev) - irqs);
	}
	if (b->mismatches)
		sh_printf(sh, "diskbench: %llu chunks read back wrong\n",
			  (unsigned long long)b->mismatches);
	else
		sh_printf(sh, "verify: ok\n");
	return b->mismatches ? -EIO : 0;
}

/* Buffers, the run, and the buffers back; @b->dev is claimed. */
static int bench_with_buffers(struct sh *sh, struct bench *b, u64 mib)
{
	int rc = 0;

	for (unsigned i = 0; i < BENCH_DEPTH && !rc; i++)
		rc = (b->bufs[i] = page_alloc(BENCH_PAGES)) ? 0 : -ENOMEM;
	sh_printf(sh, "diskbench %s: %llu MiB, requests of %u KiB, %u in flight (data is overwritten)\n",
		  blkdev_name(b->dev), (unsigned long long)mib, BLK_MAX_BYTES / 1024, BENCH_DEPTH);
	if (!rc)
		rc = bench_run(sh, b);
	for (unsigned i = 0; i < BENCH_DEPTH; i++)
		if (b->bufs[i])
			page_free(b->bufs[i], BENCH_PAGES);
	return rc;
}

static int cmd_diskbench(struct sh *sh, int argc, char **argv)
{
	char holder[] = "diskbench";
	struct bench b = { 0 };
	u64 mib = BENCH_DEFAULT_MIB;
	u32 bsize;
	int rc;

	b.dev = disk_named(sh, argv[1]);
	if (!b.dev)
		return -EINVAL;
	if (argc > 2 && (rc = sh_parse_uint(sh, argv[2], "MiB", 1, BENCH_MAX_MIB, &mib)) != 0)
		return rc;
	if (blkdev_read_only(b.dev)) {
		sh_printf(sh, "diskbench: %s is read-only\n", blkdev_name(b.dev));
		return -EROFS;
	}
	if (!blkdev_sectors(b.dev))
		return disk_empty(sh, b.dev);
	if (mib << 20 > blkdev_bytes(b.dev)) /* mib <= 1024: no overflow */
		return sh_error(sh, "%s holds only %llu MiB", blkdev_name(b.dev),
				(unsigned long long)(blkdev_bytes(b.dev) >> 20));
	bsize = blkdev_sector_size(b.dev);
	b.per = BLK_MAX_BYTES / bsize;
	b.sectors = (mib << 20) / bsize;
	rc = claim_or_say(sh, b.dev, holder);
	if (rc)
		return rc;
	rc = bench_with_buffers(sh, &b, mib);
	blkdev_release(b.dev, holder);
	return rc;
}
SHELL_CMD("diskbench", "<disk> [MiB]",
	  "sequential write then read throughput (overwrites the disk; default 16 MiB; Ctrl-C "
	  "stops it)", 1, 2,
	  cmd_diskbench);
