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
#include "errno.h"
#include "kernel/panic.h"
#include "kernel/smp.h"
#include "kernel/lock_order.h"
#include "kernel/shell.h"
#include "lib/string.h"

#if CONFIG_LOCK_DEBUG

static volatile bool lock_checks_off;

static bool checking(void)
{
	return !lock_checks_off && !smp_stopping();
}

static __noreturn void lock_bug(const spinlock_t *l, const char *what)
{
	lock_checks_off = true;
	panic("spinlock '%s': %s", l->name ? l->name : "?", what);
}

static void check_order(const struct percpu *pc, const spinlock_t *l)
{
	for (unsigned i = 0; i < pc->nlocks_held; i++) {
		const spinlock_t *h = pc->locks_held[i];

		if (h->rank && h->rank >= l->rank) {
			lock_checks_off = true;
			panic("spinlock '%s' (rank %u) taken while holding '%s' (rank %u): "
			      "against the order in kernel/lock_order.h",
			      l->name ? l->name : "?", l->rank, h->name ? h->name : "?", h->rank);
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


/*
 * _lockbug KIND — commit one lock misuse on purpose, so that the system
 * tests see each check panic with the lock's name.  Hidden from `help`.
 */
static spinlock_t bug_lock = SPINLOCK_INIT("lockbug");
static spinlock_t bug_inner = SPINLOCK_INIT_RANKED("lockbug-inner", LOCK_RANK_WAITQ);
static spinlock_t bug_outer = SPINLOCK_INIT_RANKED("lockbug-outer", LOCK_RANK_TASK);

static int cmd_lockbug(struct sh *sh, int argc, char **argv)
{
	const char *kind = argv[1];

	if (!strcmp(kind, "recursion")) {
		spin_lock(&bug_lock);
		spin_lock(&bug_lock);
	} else if (!strcmp(kind, "unheld")) {
		preempt_count_inc(); /* what spin_unlock() gives back */
		spin_unlock(&bug_lock);
	} else if (!strcmp(kind, "irq")) {
		spin_unlock_irqrestore(&bug_lock, spin_lock_irqsave(&bug_lock));
		spin_lock(&bug_lock); /* interrupts are on here */
	} else if (!strcmp(kind, "order")) {
		spin_lock(&bug_outer);
		spin_lock(&bug_inner);
	} else {
		return -EINVAL;
	}
	return sh_error(sh, "the check did not fire");
}
SHELL_CMD("_lockbug", "recursion|unheld|irq|order", "provoke a lock misuse (tests)", 1, 1,
	  cmd_lockbug);

#endif
