/*
 * spinlock.h — the raw spinlock and its interrupt-saving form.
 *
 * A test-and-test-and-set lock on one byte: acquire spins reading until the
 * lock looks free, then tries an atomic exchange, so waiting CPUs do not
 * bounce the cache line.  spin_lock_irqsave() also disables interrupts and
 * returns the previous flags, for data an interrupt handler shares.
 * Hold a spinlock for a few lines only; never sleep with one held (holding
 * one disables preemption on the CPU).
 */
#ifndef NOS_SPINLOCK_H
#define NOS_SPINLOCK_H

#include "types.h"
#include "kernel/percpu.h"
#include "kernel/x86.h"

/*
 * Preemption: a task is not switched out while its CPU's preempt_count is
 * above zero.  Holding a spinlock counts, so a task never sleeps or is
 * preempted with one held.  preempt_resched() (sched.c) switches if a
 * switch became due meanwhile.
 */
void preempt_resched(void);

static inline void preempt_count_inc(void)
{
	__asm__ __volatile__("incl %%gs:%c0" : : "i"(__builtin_offsetof(struct percpu, preempt_count)) : "memory");
}

static inline void preempt_count_dec(void)
{
	__asm__ __volatile__("decl %%gs:%c0" : : "i"(__builtin_offsetof(struct percpu, preempt_count)) : "memory");
}

typedef struct {
	volatile u8 locked;
} spinlock_t;

#define SPINLOCK_INIT { 0 }

static inline void spin_lock(spinlock_t *l)
{
	preempt_count_inc();
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline bool spin_trylock(spinlock_t *l)
{
	preempt_count_inc();
	if (!__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		return true;
	preempt_count_dec();
	return false;
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	preempt_count_dec();
	if (this_cpu()->need_resched && !this_cpu()->preempt_count)
		preempt_resched();
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
