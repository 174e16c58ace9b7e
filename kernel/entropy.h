/*
 * entropy.h — the registry of hardware entropy sources.
 *
 * A driver that can produce random bytes (virtio-rng, the CPU's RDSEED /
 * RDRAND) registers a struct entropy_source; entropy_read() fills a buffer
 * from the best source that answers, falling back to the next.  Sources
 * must be safe to call from task context; they may be slow.
 */
#ifndef NOS_ENTROPY_H
#define NOS_ENTROPY_H

#include "types.h"

struct entropy_source {
	const char *name;
	unsigned quality; /* higher is preferred */
	/* Fill up to @len bytes; returns the count filled (> 0) or -errno. */
	int (*read)(void *ctx, u8 *buf, size_t len);
	void *ctx;
	u64 bytes;        /* delivered so far (registry's) */
};

/* Register @src (the caller keeps it alive).  0, or -ENOSPC / -EINVAL. */
int entropy_register(struct entropy_source *src);
/* Fill @len bytes; 0, or -ENODEV when no source could. */
int entropy_read(u8 *buf, size_t len);
unsigned entropy_source_count(void);
const struct entropy_source *entropy_source_get(unsigned i);

#endif
