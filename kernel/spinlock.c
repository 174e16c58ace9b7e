/*
 * spinlock.c — the debug checks behind spin_lock() and spin_unlock() (see
 * spinlock.h for what they catch).
 *
 * Each CPU keeps the locks it holds in percpu.locks_held, innermost last.
 * The stack is pushed and popped with interrupts off, so an interrupt
 * handler that takes and releases locks of its own in between leaves it as
 * it found it.  Locks are usually released in the reverse order of taking
 * them, but not always (hand-over-hand), so a release searches from the top.
 *
 * A violation turns the checks off before it panics: the panic report takes
 * locks of its own (dmesg, console) and must not trip over the broken state.
 */
#include "kernel/spinlock.h"
#include "kernel/panic.h"
#include "kernel/smp.h"

#if CONFIG_LOCK_DEBUG

static volatile bool lock_checks_off;

static bool checking(void)
{
	return !lock_checks_off && !smp_stopping();
}

static __noreturn void lock_bug(const spinlock_t *l, const char *what)
{
	lock_checks_off = true;
	panic("spinlock '%s': %s (cpu %u)", l->name ? l->name : "?", what, this_cpu()->cpu);
}

static void check_order(const struct percpu *pc, const spinlock_t *l)
{
	for (unsigned i = 0; i < pc->nlocks_held; i++) {
		const spinlock_t *h = pc->locks_held[i];

		if (h->rank && h->rank >= l->rank) {
			lock_checks_off = true;
			panic("spinlock '%s' (rank %u) taken while holding '%s' (rank %u): "
			      "against the order in kernel/lock_order.h (cpu %u)",
			      l->name ? l->name : "?", l->rank, h->name ? h->name : "?", h->rank,
			      pc->cpu);
		}
	}
}

void spin_debug_acquire(spinlock_t *l)
{
	struct percpu *pc = this_cpu();

	if (!checking())
		return;
	if (l->owner == pc->cpu + 1)
		lock_bug(l, "taken again by the CPU that holds it (recursion)");
	if (l->irq_shared && (read_rflags() & RFLAGS_IF))
		lock_bug(l, "taken with interrupts on, but an interrupt handler shares it");
	if (l->rank)
		check_order(pc, l);
	if (pc->nlocks_held >= LOCK_HELD_MAX)
		lock_bug(l, "too many spinlocks held at once");
}

void spin_debug_acquired(spinlock_t *l)
{
	struct percpu *pc = this_cpu();
	u64 flags = read_rflags();

	cli();
	l->owner = (u16)(pc->cpu + 1);
	if (pc->nlocks_held < LOCK_HELD_MAX)
		pc->locks_held[pc->nlocks_held++] = l;
	if (flags & RFLAGS_IF)
		sti();
}

static void held_remove(struct percpu *pc, const spinlock_t *l)
{
	unsigned i = pc->nlocks_held;

	while (i > 0 && pc->locks_held[i - 1] != l)
		i--;
	if (i == 0)
		return; /* taken before the checks ran, or the stack overflowed */
	for (; i < pc->nlocks_held; i++)
		pc->locks_held[i - 1] = pc->locks_held[i];
	pc->nlocks_held--;
}

void spin_debug_release(spinlock_t *l)
{
	struct percpu *pc = this_cpu();
	u64 flags;

	if (!checking())
		return;
	if (l->owner != pc->cpu + 1)
		lock_bug(l, l->locked ? "released by a CPU that does not hold it"
				      : "released but not held");
	flags = read_rflags();
	cli();
	l->owner = 0;
	held_remove(pc, l);
	if (flags & RFLAGS_IF)
		sti();
}

bool spin_held(const spinlock_t *l)
{
	return l->locked && l->owner == this_cpu()->cpu + 1;
}

#endif
