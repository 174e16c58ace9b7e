/*
 * virtqueue.c — split-ring bookkeeping (see virtqueue.h).
 *
 * Ordering: descriptors and the avail ring entry are written first, then a
 * release fence, then avail->idx, so the device never sees an index that
 * points at half-written entries.  Reading completions, used->idx is read
 * with acquire before the used entries.  The device is told nothing here;
 * virtq_publish() says whether the transport should notify (the device can
 * suppress notifications with VIRTQ_USED_F_NO_NOTIFY).
 *
 * A cookie is looked up by the chain's head descriptor; a used entry whose
 * id is out of range or has no cookie (a confused or hostile device: an id
 * never given, one already completed, a descriptor in the middle of a
 * chain) is skipped rather than trusted.  The length the device reports is
 * what a driver will read out of the buffer (virtio-net takes it as the
 * frame's size), so it is cut to the bytes the chain's device-writable
 * descriptors really hold.  used->idx is the device's too: it can jump
 * far ahead or go backwards, which would have one call wade through up to
 * 65,535 stale entries, so a call looks at most at one ring's worth
 * (@size entries: never fewer than a truthful device can have waiting).
 * All of these count in q->dev_errors; the first of a queue is also said
 * in the kernel log (a device that lies once lies often: the rest are
 * only counted).
 */
#include "drivers/virtio/virtqueue.h"
#include "errno.h"
#include "kernel/printk.h"

#define PAGE 4096u

size_t virtq_avail_offset(u16 size)
{
	return 16u * size;
}

size_t virtq_used_offset(u16 size)
{
	return ALIGN_UP(virtq_avail_offset(size) + 6u + 2u * size, (size_t)PAGE);
}

size_t virtq_bytes(u16 size)
{
	return virtq_used_offset(size) + ALIGN_UP(6u + 8u * size, (size_t)PAGE);
}

void virtq_init(struct virtq *q, u16 index, u16 size, void *mem, void **cookies)
{
	u8 *base = mem;

	q->size = size;
	q->index = index;
	q->desc = mem;
	q->avail = (struct virtq_avail *)(base + virtq_avail_offset(size));
	q->used = (struct virtq_used *)(base + virtq_used_offset(size));
	q->cookies = cookies;
	q->free_head = 0;
	q->num_free = size;
	q->last_used = 0;
	q->added = q->completed = q->dev_errors = 0;
	for (u16 i = 0; i < size; i++) {
		q->desc[i].next = (u16)(i + 1);
		cookies[i] = NULL;
	}
}

int virtq_add(struct virtq *q, const struct virtq_sg *sg, unsigned nout, unsigned nin,
	      void *cookie)
{
	unsigned n = nout + nin;
	u16 head = q->free_head, i = head, prev = head;

	if (!n || !cookie)
		return -EINVAL;
	if (n > q->num_free)
		return -ENOSPC;
	for (unsigned k = 0; k < n; k++) {
		struct virtq_desc *d = &q->desc[i];

		d->addr = sg[k].addr;
		d->len = sg[k].len;
		d->flags = (u16)((k >= nout ? VIRTQ_DESC_F_WRITE : 0) |
				 (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		prev = i;
		i = d->next;
	}
	q->free_head = i;
	q->num_free = (u16)(q->num_free - n);
	(void)prev;
	q->cookies[head] = cookie;
	q->avail->ring[q->avail->idx & (q->size - 1)] = head;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->avail->idx++;
	q->added++;
	return 0;
}

bool virtq_publish(struct virtq *q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* idx visible before we read flags */
	return !(__atomic_load_n(&q->used->flags, __ATOMIC_ACQUIRE) & VIRTQ_USED_F_NO_NOTIFY);
}

/*
 * Return the chain starting at @head to the free list.  Returns the bytes
 * its device-writable descriptors hold (a u64: lengths are u32 each).
 */
static u64 free_chain(struct virtq *q, u16 head)
{
	u16 i = head, n = 1;
	u64 room = 0;

	for (;;) {
		if (q->desc[i].flags & VIRTQ_DESC_F_WRITE)
			room += q->desc[i].len;
		if (!(q->desc[i].flags & VIRTQ_DESC_F_NEXT) || n >= q->size)
			break;
		i = q->desc[i].next & (q->size - 1);
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = head;
	q->num_free = (u16)(q->num_free + n);
	return room;
}

/* The device broke the used ring's rules (@what, with its two numbers). */
static void dev_error(struct virtq *q, const char *what, u32 a, u32 b)
{
	if (!q->dev_errors++)
		pr_warn("virtq %u: the device wrote %s (%u, %u); ignored, "
			"any more are only counted\n", q->index, what, a, b);
}

void *virtq_get_used(struct virtq *q, u32 *len)
{
	u16 idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	u16 ready = (u16)(idx - q->last_used);

	if (ready > q->size) {
		dev_error(q, "a used index past the ring (index, last seen)", idx, q->last_used);
		ready = q->size;
	}
	for (; ready; ready--) {
		struct virtq_used_elem e = q->used->ring[q->last_used & (q->size - 1)];
		void *cookie;
		u64 room;

		q->last_used++;
		if (e.id >= q->size || !(cookie = q->cookies[e.id])) {
			dev_error(q, "an entry for no chain in flight (id, length)", e.id, e.len);
			continue;
		}
		q->cookies[e.id] = NULL;
		room = free_chain(q, (u16)e.id);
		if (e.len > room) {
			dev_error(q, "a length past the buffer (length, room)", e.len, (u32)room);
			e.len = (u32)room;
		}
		q->completed++;
		if (len)
			*len = e.len;
		return cookie;
	}
	return NULL;
}

bool virtq_has_used(const struct virtq *q)
{
	return q->last_used != __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
}

void virtq_irq_off(struct virtq *q)
{
	q->avail->flags |= VIRTQ_AVAIL_F_NO_INTERRUPT;
}

bool virtq_irq_on(struct virtq *q)
{
	q->avail->flags &= (u16)~VIRTQ_AVAIL_F_NO_INTERRUPT;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* flag visible before we look at used->idx */
	return virtq_has_used(q);
}
