/*
 * virtqueue.h — split virtqueues (virtio 1.x, section 2.7), the ring
 * bookkeeping shared by every virtio driver.
 *
 * Memory layout of a queue of size N (power of two), in one physically
 * contiguous, zeroed block so that both legacy and modern devices can use it:
 *   descriptor table  16 * N bytes
 *   available ring    6 + 2 * N bytes        (driver -> device)
 *   used ring         6 + 8 * N bytes, starting on a 4 KiB boundary
 * The legacy interface requires exactly this layout; the modern one takes
 * the three addresses separately and accepts it too.
 *
 * A buffer is a chain of descriptors: first the device-readable parts, then
 * the device-writable ones.  Free descriptors form a list through their
 * `next` fields.  Each chain carries a cookie (the caller's request) that
 * virtq_get_used() hands back.  The caller serialises calls (a lock per
 * queue, in the driver); this file is pure and host-tested with a fake
 * device.
 */
#ifndef NOS_VIRTQUEUE_H
#define NOS_VIRTQUEUE_H

#include "types.h"
#include "compiler.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_USED_F_NO_NOTIFY 1
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct virtq_avail {
	u16 flags;
	u16 idx;
	u16 ring[];
};

struct virtq_used_elem {
	u32 id;
	u32 len;
};

struct virtq_used {
	u16 flags;
	u16 idx;
	struct virtq_used_elem ring[];
};

/* The wire layout is naturally aligned, so no packing is needed. */
_Static_assert(sizeof(struct virtq_desc) == 16, "descriptor layout");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "used element layout");
_Static_assert(sizeof(struct virtq_avail) == 4 && sizeof(struct virtq_used) == 4, "ring headers");

struct virtq_sg {
	u64 addr;   /* physical (bus) address */
	u32 len;
};

struct virtq {
	u16 size;                  /* [I] entries, a power of two */
	u16 index;                 /* [I] queue number on the device */
	struct virtq_desc *desc;   /* [I] */
	struct virtq_avail *avail; /* [I] */
	struct virtq_used *used;   /* [I] */
	u16 free_head;             /* first free descriptor */
	u16 num_free;
	u16 last_used;             /* used->idx already consumed */
	void **cookies;            /* [I] per head descriptor */
	u64 added, completed;      /* statistics */
	u64 dev_errors;            /* used entries the device got wrong (virtq_get_used) */
	u32 notify_at;             /* [I] the transport's: where to notify */
};

/* Bytes needed for a queue of @size entries (the used ring 4 KiB aligned). */
size_t virtq_bytes(u16 size);
/*
 * Lay out queue @index of @size entries over @mem (virtq_bytes(size),
 * zeroed, 4 KiB aligned), with @cookies an array of @size pointers.
 */
void virtq_init(struct virtq *q, u16 index, u16 size, void *mem, void **cookies);
/*
 * Add a chain of @nout device-readable then @nin device-writable buffers
 * carrying @cookie.  Returns 0, -ENOSPC when the free descriptors do not
 * suffice (nothing is added), or -EINVAL for an empty chain or NULL cookie.
 */
int virtq_add(struct virtq *q, const struct virtq_sg *sg, unsigned nout, unsigned nin,
	      void *cookie);
/* Make added chains visible to the device; true when it wants a notify. */
bool virtq_publish(struct virtq *q);
/*
 * Next completed chain's cookie (and bytes written into @len), or NULL.
 * The used ring is the device's to write, so nothing in it is trusted: an
 * entry naming no chain in flight is skipped, a length beyond the chain's
 * device-writable bytes is cut to them, and one call looks at no more
 * than @size entries however far used->idx moved.  Each of these counts
 * one in dev_errors.  A cookie comes back only for a chain virtq_add()
 * gave and only once.
 */
void *virtq_get_used(struct virtq *q, u32 *len);
/* True when the device has completed chains not yet taken. */
bool virtq_has_used(const struct virtq *q);
/* Ask the device not to interrupt for this queue (a hint: it still may). */
void virtq_irq_off(struct virtq *q);
/*
 * Ask for interrupts again.  Returns true when completions arrived while
 * they were off: the caller must poll once more, or it could wait for an
 * interrupt that already passed.
 */
bool virtq_irq_on(struct virtq *q);
/* Byte offsets of the rings within the block (for the transport). */
size_t virtq_avail_offset(u16 size);
size_t virtq_used_offset(u16 size);

#endif
