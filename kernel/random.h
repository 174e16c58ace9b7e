/*
 * random.h — the kernel's cryptographically secure random numbers.
 *
 * random_bytes() and its helpers may be called from any context — a task,
 * SoftIrq, a hard-IRQ handler, with interrupts off, on every CPU at once —
 * and never block, never fail and never wait for a device.  Not from an
 * NMI handler, and not before the CPU's per-CPU area is set up (the first
 * steps of kmain and ap_main).  Every caller gets bytes no other caller
 * gets, on this CPU or another.
 *
 * The generator is ChaCha20 with fast key erasure (kernel/random.c says
 * how), seeded at boot by random_init() and reseeded from the entropy
 * sources (kernel/entropy.h) by a task of its own; a slow or dead source
 * only delays that task.
 *
 * Locks: the generator's "random" lock is a leaf (kernel/lock_order.h):
 * random_*() may be called with any lock held except dmesg and console,
 * and take nothing else.
 */
#ifndef NOS_RANDOM_H
#define NOS_RANDOM_H

#include "types.h"

/* Fill @buf with @len random bytes.  Any context (see above). */
void random_bytes(void *buf, size_t len);
u32 random_u32(void);
u64 random_u64(void);
/* A uniform number in [0, @n), without modulo bias; 0 when @n is 0. */
u32 random_below(u32 n);

/*
 * Stir @len bytes of @buf into the generator (any context).  Unpredictable
 * input makes the output unpredictable again; known or hostile input does
 * no harm.  Callers with something unpredictable (interrupt timings, a
 * device's serial number) may call this; they need not.
 */
void random_add_entropy(const void *buf, size_t len);

/*
 * Seed the generator from what boot has (the nosleep entropy sources, the
 * TSC, the clocks) and start its reseed task.  Once, after the scheduler
 * and the CPU's sources are up (kernel/main.c).
 */
void random_init(void);

/*
 * Read every entropy source once (up to RANDOM_RESEED_BYTES each, with a
 * short deadline per source) and stir what came into the generator.
 * Returns the bytes the sources gave.  Task context; may sleep up to 1.5 s
 * per slow source (the deadline, then one request to run out).  The
 * reseed task calls it on a schedule.
 */
int random_reseed(void);

#define RANDOM_RESEED_BYTES 32

/* Legend: a snapshot; no field is kept consistent with another. */
struct random_stats {
	u64 generation;     /* bumps at every seeding (boot, reseed, random_add_entropy) */
	u64 reseeds;        /* random_reseed() runs that found any source */
	u64 last_seed_ns;   /* time_ns() of the last reseed (or of random_init) */
	unsigned last_bytes;   /* source bytes in it */
	unsigned last_sources; /* sources that gave any */
};

void random_get_stats(struct random_stats *st);

#endif
