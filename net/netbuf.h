/*
 * netbuf.h — the one network buffer type.
 *
 * A netbuf is a descriptor over one DMA-able buffer of NB_BUF_SIZE bytes
 * (physically contiguous: a driver hands nb_bus() to its device).  The
 * frame occupies [data, data + len) somewhere inside [head, head + NB_BUF_SIZE):
 *
 *     head           data               data+len          head+NB_BUF_SIZE
 *      |<- headroom ->|<----- frame ----->|<--- tailroom --->|
 *
 * Going down the stack each layer prepends its header into the headroom
 * (nb_push) without copying the payload; going up each layer strips its
 * header (nb_pull) after checking it.  A received frame is handed up the
 * stack in the very buffer the device wrote (zero-copy): the driver only
 * sets data and len.
 *
 * Ownership.  The reference count equals the number of pointers to the
 * netbuf that may still be used; nb_put() drops one and frees the buffer
 * with the last.  The rule for every function and function pointer that
 * takes a netbuf (input, output, transmit, queueing): it takes ownership
 * of the caller's reference even when it fails — the caller must not touch
 * the netbuf afterwards.  A function that wants to keep a buffer it was
 * given past its return (a queue, a retransmission list) simply keeps the
 * reference; one that wants to both keep it and pass it on takes another
 * with nb_get() first.  A netbuf with more than one reference is shared:
 * nobody may change its bytes or its data/len (clone it instead).
 *
 * Allocation comes from a pool of descriptors with their buffers, which
 * grows up to NB_POOL_MAX and then fails (NULL), so a flood cannot take all
 * memory; freed netbufs go back to the pool.  nb_pool_stats() reports what
 * is in use — tests compare it before and after to find leaks.  Any
 * context, IRQ included; never sleeps.
 *
 * The scratch fields (mac header offset, network header offset, flags,
 * timestamps) belong to whoever owns the netbuf at the moment.
 */
#ifndef NOS_NET_NETBUF_H
#define NOS_NET_NETBUF_H

#include "compiler.h"
#include "lib/list.h"
#include "types.h"

#define NB_BUF_SIZE 2048u       /* one Ethernet frame of 1514 bytes, headers, slack */
#define NB_HEADROOM 128u        /* what nb_alloc_tx() reserves: every header below UDP/TCP */
#define NB_POOL_MAX 4096u       /* netbufs in existence at most (8 MiB of buffers) */

/* flags */
#define NB_F_CSUM_OK (1u << 0)  /* the device verified the L4 checksum */
#define NB_F_BCAST (1u << 1)    /* arrived as link-layer broadcast/multicast */

struct netdev;

struct netbuf {
	u8 *head;                   /* [I] the buffer, NB_BUF_SIZE bytes */
	u8 *data;                   /* the frame's first byte */
	u32 len;                    /* the frame's length */
	u32 refs;                   /* [a] */
	struct netdev *dev;         /* rx: where it came in; tx: where it goes out */
	struct list_head link;      /* for the owner's queue of the moment */
	u16 l2_off, l3_off;         /* offsets from head of the mac and network headers */
	u32 flags;                  /* NB_F_* */
	u64 tsc;                    /* rx: when the driver took it off the ring */
};

/*
 * A netbuf with @headroom bytes before data and len 0, one reference; NULL
 * when the pool is exhausted or memory is short.  @headroom must be below
 * NB_BUF_SIZE.
 */
struct netbuf *nb_alloc(u32 headroom);

/* nb_alloc(NB_HEADROOM): room for every header a transmitted packet gets. */
static inline struct netbuf *nb_alloc_tx(void)
{
	return nb_alloc(NB_HEADROOM);
}

/* Take another reference (the netbuf becomes shared); returns @nb. */
struct netbuf *nb_get(struct netbuf *nb);

/* Drop a reference; the last one returns the netbuf to the pool.  NULL is ignored. */
void nb_put(struct netbuf *nb);

/* A private copy of @nb's frame (same headroom, scratch fields copied); NULL when short. */
struct netbuf *nb_clone(const struct netbuf *nb);

static inline u32 nb_headroom(const struct netbuf *nb)
{
	return (u32)(nb->data - nb->head);
}

static inline u32 nb_tailroom(const struct netbuf *nb)
{
	return NB_BUF_SIZE - nb_headroom(nb) - nb->len;
}

/* Prepend @n bytes: the new start of data, or NULL (nothing changed) if no room. */
static inline void *nb_push(struct netbuf *nb, u32 n)
{
	if (n > nb_headroom(nb))
		return NULL;
	nb->data -= n;
	nb->len += n;
	return nb->data;
}

/* Strip @n bytes from the front: the new start of data, or NULL if shorter. */
static inline void *nb_pull(struct netbuf *nb, u32 n)
{
	if (n > nb->len)
		return NULL;
	nb->data += n;
	nb->len -= n;
	return nb->data;
}

/* Append @n bytes: where they go, or NULL (nothing changed) if no room. */
static inline void *nb_append(struct netbuf *nb, u32 n)
{
	u8 *at = nb->data + nb->len;

	if (n > nb_tailroom(nb))
		return NULL;
	nb->len += n;
	return at;
}

/* Cut the frame to @len bytes (no-op when it is shorter already). */
static inline void nb_trim(struct netbuf *nb, u32 len)
{
	if (len < nb->len)
		nb->len = len;
}

/* Copy @n bytes of @src to the end of the frame: 0 or -EMSGSIZE (nothing changed). */
int nb_append_bytes(struct netbuf *nb, const void *src, u32 n);

/* The bus address of the frame's first byte, for a device. */
u64 nb_bus(const struct netbuf *nb);

struct nb_pool_stats {
	u64 allocs, frees;          /* since boot */
	u64 fails;                  /* nb_alloc() returned NULL */
	u32 in_use;                 /* allocated and not yet freed */
	u32 cached;                 /* free, kept in the pool */
	u32 total;                  /* in existence: in_use + cached */
};

void nb_pool_stats(struct nb_pool_stats *st);

/*
 * Give the cached free netbufs back to kmalloc (the pool grows again on
 * demand).  For memory pressure and for host tests, whose leak check
 * counts the cache otherwise.  Any context but hard IRQ.
 */
void nb_pool_shrink(void);

#endif
