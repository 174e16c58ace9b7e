/*
 * net_priv.h — what the protocol files (eth, arp, ip, icmp) share and
 * nothing above them needs.
 *
 * nb_unshare(): the output paths write headers into a netbuf and the
 * echo reply rewrites the request in place, which netbuf.h allows only to
 * the sole owner.  A caller holding a shared netbuf gets a private copy
 * instead, and its reference to the shared one is dropped; either way it
 * owns what comes back (NULL: the copy failed, and nothing is held).
 */
#ifndef NOS_NET_NET_PRIV_H
#define NOS_NET_NET_PRIV_H

#include "net/netbuf.h"

static inline struct netbuf *nb_unshare(struct netbuf *nb)
{
	struct netbuf *c;

	if (__atomic_load_n(&nb->refs, __ATOMIC_ACQUIRE) == 1)
		return nb;
	c = nb_clone(nb);
	nb_put(nb);
	return c;
}

/* Copy a struct of atomic u64 counters (@bytes long), each read atomically. */
static inline void net_stats_copy(void *dst, const void *src, size_t bytes)
{
	u64 *d = dst;
	const u64 *s = src;

	for (size_t i = 0; i < bytes / sizeof(u64); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

/* 224.0.0.0/4 and above: multicast and the reserved class E. */
static inline bool ip_v4_is_multi(u32 a)
{
	return a >= 0xe0000000u;
}

/* 127.0.0.0/8: never on a wire. */
static inline bool ip_v4_is_loopback(u32 a)
{
	return (a >> 24) == 127;
}

#endif
