/*
 * ring.c — the byte FIFO of ring.h.
 *
 * Every operation is a bulk copy: the single-byte calls are the bulk ones
 * with a length of one.  A copy that crosses the end of the storage is done
 * as two memcpy() calls, the second starting at offset 0.
 *
 * The producer owns @head and only reads @tail; the consumer owns @tail and
 * only reads @head.  Each side loads the other's counter once, moves the
 * bytes, then publishes its own counter after a barrier, so the other side
 * never sees a counter that covers bytes not yet moved (see ring.h for the
 * limits of this).
 */
#include "lib/ring.h"
#include "lib/string.h"
#include "errno.h"

int ring_init(struct ring *r, void *storage, size_t size)
{
	if (!size || size > RING_SIZE_MAX || (size & (size - 1)))
		return -EINVAL;
	r->buf = storage;
	r->mask = (u32)(size - 1);
	r->head = 0;
	r->tail = 0;
	return 0;
}

void ring_reset(struct ring *r)
{
	r->head = 0;
	r->tail = 0;
}

/* Copy @len bytes into the ring at stream position @pos. */
static void ring_copy_in(struct ring *r, u32 pos, const u8 *src, size_t len)
{
	size_t off = pos & r->mask;
	size_t first = MIN(len, ring_size(r) - off);

	memcpy(r->buf + off, src, first);
	memcpy(r->buf, src + first, len - first);
}

/* Copy @len bytes out of the ring from stream position @pos. */
static void ring_copy_out(const struct ring *r, u32 pos, u8 *dst, size_t len)
{
	size_t off = pos & r->mask;
	size_t first = MIN(len, ring_size(r) - off);

	memcpy(dst, r->buf + off, first);
	memcpy(dst + first, r->buf, len - first);
}

size_t ring_write(struct ring *r, const void *src, size_t len)
{
	u32 head = r->head;
	size_t room = ring_size(r) - (u32)(head - READ_ONCE(r->tail));
	size_t n = MIN(len, room);

	ring_copy_in(r, head, src, n);
	barrier();
	WRITE_ONCE(r->head, head + (u32)n);
	return n;
}

size_t ring_peek_bytes(const struct ring *r, void *dst, size_t len)
{
	u32 tail = r->tail;
	u32 avail = READ_ONCE(r->head) - tail; /* read the producer's head once */
	size_t n = MIN(len, (size_t)avail);

	barrier();
	ring_copy_out(r, tail, dst, n);
	return n;
}

size_t ring_read(struct ring *r, void *dst, size_t len)
{
	size_t n = ring_peek_bytes(r, dst, len);

	barrier();
	WRITE_ONCE(r->tail, r->tail + (u32)n);
	return n;
}

size_t ring_discard(struct ring *r, size_t len)
{
	size_t n = MIN(len, ring_used(r));

	WRITE_ONCE(r->tail, r->tail + (u32)n);
	return n;
}

int ring_put(struct ring *r, u8 byte)
{
	return ring_write(r, &byte, 1) ? 0 : -ENOSPC;
}

int ring_get(struct ring *r, u8 *out)
{
	return ring_read(r, out, 1) ? 0 : -EAGAIN;
}

int ring_peek(const struct ring *r, u8 *out)
{
	return ring_peek_bytes(r, out, 1) ? 0 : -EAGAIN;
}
