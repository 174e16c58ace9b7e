/*
 * spinlock.h (host shim) — the kernel's spinlock API for host unit tests,
 * with every check the kernel's debug build makes and a few it cannot.
 *
 * This file shadows kernel/spinlock.h: the host build puts tests/unit/shim
 * ahead of the tree on the quote-include path, so kernel code that writes
 * #include "kernel/spinlock.h" compiles against this one, unchanged.  The
 * names, macros and types are the kernel's; what is behind them is not.
 * There is one CPU and one test task, so a lock is never contended: a lock
 * found taken is a bug (recursion, or an interrupt handler taking a lock the
 * code it interrupted holds), and nothing spins.
 *
 * Each of these panics with the lock's name (tests/unit/shim/shim.h: a panic
 * fails the running test and names where the lock was taken):
 *   - taking a lock this CPU already holds (recursion);
 *   - releasing a lock that is not held;
 *   - taking a ranked lock (kernel/lock_order.h) while holding one of equal
 *     or higher rank;
 *   - taking with interrupts on a lock once taken with spin_lock_irqsave()
 *     or by an interrupt handler (shim_irq());
 *   - an interrupt handler taking a lock the code it interrupted holds;
 *   - sleeping (a wait, mutex_lock, schedule) with any spinlock held.
 * And the runner fails a test that ends with a lock still held, naming the
 * file and line that took it.
 *
 * The spin_* calls are macros so that a report can say where a lock was
 * taken; like the kernel's inline functions they evaluate their argument
 * once.  spin_held() is always available (the kernel has it in debug builds,
 * which are the default).
 */
#ifndef NOS_SPINLOCK_H
#define NOS_SPINLOCK_H

#include "types.h"
#include "config.h"
#include "kernel/x86.h"

/* Legend: [I] set at init; [s] the shim's checks. */
typedef struct {
	const char *name;    /* [I] for reports */
	u8 rank;             /* [I] place in the declared order, 0 = unranked */
	bool locked;         /* [s] */
	bool irq_shared;     /* [s] once taken with spin_lock_irqsave() */
	const char *file;    /* [s] where the holder took it */
	int line;            /* [s] */
} spinlock_t;

#define SPINLOCK_INIT(name_) { .name = (name_) }
#define SPINLOCK_INIT_RANKED(name_, rank_) { .name = (name_), .rank = (rank_) }

static inline void spin_lock_init(spinlock_t *l, const char *name)
{
	*l = (spinlock_t)SPINLOCK_INIT(name);
}

static inline void spin_lock_init_ranked(spinlock_t *l, const char *name, u8 rank)
{
	*l = (spinlock_t)SPINLOCK_INIT_RANKED(name, rank);
}

void shim_spin_lock(spinlock_t *l, const char *file, int line);
bool shim_spin_trylock(spinlock_t *l, const char *file, int line);
void shim_spin_unlock(spinlock_t *l, const char *file, int line);
u64 shim_spin_lock_irqsave(spinlock_t *l, const char *file, int line);
void shim_spin_unlock_irqrestore(spinlock_t *l, u64 flags, const char *file, int line);
/* True when this CPU holds @l. */
bool spin_held(const spinlock_t *l);

#define spin_lock(l) shim_spin_lock((l), __FILE__, __LINE__)
#define spin_trylock(l) shim_spin_trylock((l), __FILE__, __LINE__)
#define spin_unlock(l) shim_spin_unlock((l), __FILE__, __LINE__)
#define spin_lock_irqsave(l) shim_spin_lock_irqsave((l), __FILE__, __LINE__)
#define spin_unlock_irqrestore(l, f) shim_spin_unlock_irqrestore((l), (f), __FILE__, __LINE__)

#endif
