/*
 * seqlock.h — a sequence lock for data with one writer and many readers.
 *
 * The writer makes the sequence odd, updates, and makes it even again;
 * readers never block: they retry when the sequence was odd or changed
 * while they read.  Writers must be serialised by the caller.  Used for the
 * tick count and the time base (one writer: the timer interrupt) and for
 * each NIC's IPv4 configuration (writers under its cfg_lock, net/netdev.h).
 */
#ifndef NOS_SEQLOCK_H
#define NOS_SEQLOCK_H

#include "types.h"
#include "kernel/x86.h"

struct seqcount {
	volatile u32 seq;
};

static inline void seq_write_begin(struct seqcount *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void seq_write_end(struct seqcount *s)
{
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static inline u32 seq_read_begin(const struct seqcount *s)
{
	u32 v;

	while ((v = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE)) & 1)
		cpu_relax();
	return v;
}

static inline bool seq_read_retry(const struct seqcount *s, u32 start)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) != start;
}

#endif
