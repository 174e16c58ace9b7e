/*
 * spinlock.h — the raw spinlock and its interrupt-saving form.
 *
 * A test-and-test-and-set lock on one byte: acquire spins reading until the
 * lock looks free, then tries an atomic exchange, so waiting CPUs do not
 * bounce the cache line.  spin_lock_irqsave() also disables interrupts and
 * returns the previous flags, for data an interrupt handler shares.
 * Hold a spinlock for a few lines only; never sleep with one held.
 */
#ifndef NOS_SPINLOCK_H
#define NOS_SPINLOCK_H

#include "types.h"
#include "kernel/x86.h"

typedef struct {
	volatile u8 locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline bool spin_trylock(spinlock_t *l)
{
	return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE);
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

static inline u64 spin_lock_irqsave(spinlock_t *l)
{
	u64 flags = read_rflags();

	cli();
	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, u64 flags)
{
	spin_unlock(l);
	if (flags & RFLAGS_IF)
		sti();
}

#endif
