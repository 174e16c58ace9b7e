/*
 * ring.h — a byte FIFO over caller-provided storage.
 *
 * The storage size must be a power of two, so a position is reduced to an
 * index with a mask instead of a division.  The ring keeps two free-running
 * 32-bit counters: @head counts bytes ever written and @tail bytes ever
 * read.  Their difference is the fill level — it stays right across
 * wrap-around of the counters because unsigned subtraction is modular — so
 * all @size bytes are usable and "full" needs no spare slot.
 *
 * Ownership: the ring borrows @storage for its lifetime and never frees it.
 *
 * Concurrency: none of the calls lock.  One producer (ring_put/ring_write)
 * and one consumer (ring_get/ring_peek/ring_read/ring_discard) may run at
 * the same time on x86, whose stores are not reordered with each other: the
 * producer stores the bytes before it publishes @head, and the consumer
 * reads them before it publishes @tail, each through READ_ONCE/WRITE_ONCE
 * with a compiler barrier between.  Any other sharing — two producers, or
 * ring_reset() against either side — needs a lock held by the caller.
 */
#ifndef NOS_LIB_RING_H
#define NOS_LIB_RING_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

/* The largest size: @head - @tail must fit a u32 without ambiguity. */
#define RING_SIZE_MAX (1u << 31)

struct ring {
	u8 *buf;     /* [I] caller's storage */
	u32 mask;    /* [I] size - 1 */
	u32 head;    /* [producer] bytes ever written */
	u32 tail;    /* [consumer] bytes ever read */
};

/*
 * Set @r up over the @size bytes at @storage.  Returns 0, or -EINVAL when
 * @size is 0, not a power of two or above RING_SIZE_MAX.
 */
int ring_init(struct ring *r, void *storage, size_t size);

/* Forget all content.  Not safe against a concurrent producer or consumer. */
void ring_reset(struct ring *r);

/* Capacity in bytes. */
static inline size_t ring_size(const struct ring *r)
{
	return (size_t)r->mask + 1;
}

/* Bytes waiting to be read. */
static inline size_t ring_used(const struct ring *r)
{
	return (u32)(READ_ONCE(r->head) - READ_ONCE(r->tail));
}

/* Bytes that can be written before the ring is full. */
static inline size_t ring_free(const struct ring *r)
{
	return ring_size(r) - ring_used(r);
}

static inline bool ring_empty(const struct ring *r)
{
	return ring_used(r) == 0;
}

static inline bool ring_full(const struct ring *r)
{
	return ring_free(r) == 0;
}

/* Append one byte.  Returns 0, or -ENOSPC when the ring is full. */
int ring_put(struct ring *r, u8 byte);

/* Remove the oldest byte into *@out.  Returns 0, or -EAGAIN when empty. */
int ring_get(struct ring *r, u8 *out);

/* Copy the oldest byte into *@out without removing it; 0 or -EAGAIN. */
int ring_peek(const struct ring *r, u8 *out);

/*
 * Append up to @len bytes from @src.  Returns how many were stored:
 * MIN(@len, ring_free()).  Never blocks; a short count means the ring filled.
 */
size_t ring_write(struct ring *r, const void *src, size_t len);

/*
 * Remove up to @len of the oldest bytes into @dst.  Returns how many:
 * MIN(@len, ring_used()).
 */
size_t ring_read(struct ring *r, void *dst, size_t len);

/* As ring_read() but leave the bytes in the ring. */
size_t ring_peek_bytes(const struct ring *r, void *dst, size_t len);

/* Drop up to @len of the oldest bytes; returns how many were dropped. */
size_t ring_discard(struct ring *r, size_t len);

#endif
