/*
 * spinlock.h — the spinlock, its interrupt-saving form, and the checks that
 * catch misuse in debug builds.
 *
 * A test-and-test-and-set lock on one byte: acquire spins reading until the
 * lock looks free, then tries an atomic exchange, so waiting CPUs do not
 * bounce the cache line.  spin_lock_irqsave() also disables interrupts and
 * returns the previous flags, for data an interrupt handler shares.
 * Hold a spinlock for a few lines only; never sleep with one held (holding
 * one disables preemption on the CPU).
 *
 * Every lock has a name (SPINLOCK_INIT("name"), spin_lock_init()), shown
 * in every report about it.  A lock may also have a rank from the declared
 * lock order (kernel/lock_order.h): a CPU may take a ranked lock only while
 * every ranked lock it already holds has a lower rank.
 *
 * With CONFIG_LOCK_DEBUG (the default; see include/config.h) each lock
 * records the CPU that holds it and every CPU keeps a stack of the locks it
 * holds, and these are kernel bugs that panic with the lock's name:
 *   - taking a lock this CPU already holds (recursion: it would deadlock);
 *   - releasing a lock this CPU does not hold;
 *   - taking a lock with interrupts on after it was once taken with
 *     spin_lock_irqsave() — an interrupt handler shares it, and taking it
 *     with interrupts on would deadlock the day that handler interrupts us;
 *   - taking a ranked lock out of the declared order;
 *   - holding more than LOCK_HELD_MAX locks at once.
 * Checks are skipped once a panic has begun (the report must get out).
 */
#ifndef NOS_SPINLOCK_H
#define NOS_SPINLOCK_H

#include "types.h"
#include "config.h"
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

/* Legend: [a] atomic; [h] written only by the holder. */
typedef struct {
	volatile u8 locked;  /* [a] 1 while held */
	u8 rank;             /* [I] place in the declared order, 0 = unranked */
	volatile u8 irq_shared; /* [a] once taken with spin_lock_irqsave() */
	u16 owner;           /* [h] holding CPU + 1, 0 when free (debug) */
	const char *name;    /* [I] for reports */
} spinlock_t;

#define SPINLOCK_INIT(name_) { .name = (name_) }
#define SPINLOCK_INIT_RANKED(name_, rank_) { .rank = (rank_), .name = (name_) }

static inline void spin_lock_init(spinlock_t *l, const char *name)
{
	*l = (spinlock_t)SPINLOCK_INIT(name);
}

static inline void spin_lock_init_ranked(spinlock_t *l, const char *name, u8 rank)
{
	*l = (spinlock_t)SPINLOCK_INIT_RANKED(name, rank);
}

#if CONFIG_LOCK_DEBUG
/* The checks, out of line (kernel/spinlock.c); called with preemption off. */
void spin_debug_acquire(spinlock_t *l);
void spin_debug_acquired(spinlock_t *l);
void spin_debug_release(spinlock_t *l);
/* True when this CPU holds @l (debug builds only). */
bool spin_held(const spinlock_t *l);
#else
static inline void spin_debug_acquire(spinlock_t *l) {}
static inline void spin_debug_acquired(spinlock_t *l) {}
static inline void spin_debug_release(spinlock_t *l) {}
#endif

static inline void spin_lock(spinlock_t *l)
{
	preempt_count_inc();
	spin_debug_acquire(l);
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
	spin_debug_acquired(l);
}

static inline bool spin_trylock(spinlock_t *l)
{
	preempt_count_inc();
	if (!__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		spin_debug_acquired(l);
		return true;
	}
	preempt_count_dec();
	return false;
}

static inline void spin_unlock(spinlock_t *l)
{
	spin_debug_release(l);
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	preempt_count_dec();
	if (this_cpu()->need_resched && !this_cpu()->preempt_count)
		preempt_resched();
}

static inline u64 spin_lock_irqsave(spinlock_t *l)
{
	u64 flags = read_rflags();

	cli();
	if (CONFIG_LOCK_DEBUG && !l->irq_shared)
		l->irq_shared = 1;
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
