/*
 * entropy.h — the registry of hardware entropy sources.
 *
 * A driver that can produce random bytes (virtio-rng, the CPU's RDSEED /
 * RDRAND) registers a struct entropy_source.  The registry hands out *raw*
 * bytes; almost every user wants kernel/random.h instead, whose CSPRNG is
 * fed from here by a task of its own and answers at once from any context.
 *
 * Raw reads are bounded: a source may be slow (a rate-limited virtio-rng
 * gives a few bytes a second) or dead, so every read takes a timeout and
 * stops early with what it got — at the deadline, or when the calling task
 * is interrupted (Ctrl-C).  A read can overrun its deadline by at most one
 * request to the source (virtio-rng gives up on a request after 1 s).
 *
 * Contexts: entropy_read() and entropy_read_source() are for task context
 * (sources may sleep).  entropy_read_nosleep() asks only the sources marked
 * nosleep (CPU instructions) and works at boot and in any context.
 *
 * Locks: entropy_lock (irqsave) guards the source table for a few lines;
 * no source is ever called with it held.
 */
#ifndef NOS_ENTROPY_H
#define NOS_ENTROPY_H

#include "types.h"

#define ENTROPY_MAX_SOURCES 8

/* Legend: [I] set by the driver before registering; [a] atomic. */
struct entropy_source {
	const char *name;  /* [I] */
	unsigned quality;  /* [I] higher is preferred */
	bool nosleep;      /* [I] read() never sleeps nor waits on a device */
	/* Fill up to @len bytes; returns the count filled (> 0) or -errno. */
	int (*read)(void *ctx, u8 *buf, size_t len);
	void *ctx;         /* [I] */
	u64 bytes;         /* [a] delivered so far (the registry counts) */
};

/* Register @src (the caller keeps it alive).  0, or -ENOSPC / -EINVAL. */
int entropy_register(struct entropy_source *src);

/*
 * Fill @buf with @len raw bytes, asking the sources best first and falling
 * back to the next when one fails.  *@got is set to the bytes filled, which
 * are valid even on error.  Returns 0 when full; -ETIMEDOUT when
 * @timeout_ns passed first; -EINTR when the task was interrupted; -ENODEV
 * when every source failed (or there are none).  Task context.
 */
int entropy_read(u8 *buf, size_t len, u64 timeout_ns, size_t *got);

/* The same from @src alone; -EIO when it failed (whatever its own error). */
int entropy_read_source(struct entropy_source *src, u8 *buf, size_t len, u64 timeout_ns,
			size_t *got);

/* The same from the nosleep sources only, without a deadline: any context. */
int entropy_read_nosleep(u8 *buf, size_t len, size_t *got);

/* Copy up to @max source pointers, best first, into @out; returns the count. */
unsigned entropy_sources(struct entropy_source **out, unsigned max);

/* The best source whose name starts with @prefix, or NULL when none does. */
struct entropy_source *entropy_source_find(const char *prefix);

struct sh;
/* Print @len bytes to @sh in hex, 32 a line (the form `entropy` and `random` share). */
void entropy_print_hex(struct sh *sh, const u8 *buf, size_t len);

#endif
