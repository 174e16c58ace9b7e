/*
 * shim_lock.c — spinlocks, mutexes and preemption for host unit tests,
 * checked (see tests/unit/shim/kernel/spinlock.h for the list).
 *
 * The CPU's held-lock stack (shim_cpu.held) holds both kinds, innermost
 * last.  Releases may come in any order, as in the kernel (hand-over-hand
 * locking releases the outer lock first), so a release searches from the
 * top.  The stack is what the end-of-test check looks at: whatever a test
 * leaves on it is reported with where it was taken, and released so the
 * next test starts clean.
 *
 * Mutexes follow kernel/mutex.h: task context only, recursion and an
 * unlock by a task that does not hold it panic.  With one task on the host
 * a mutex is never contended, so mutex_lock() never sleeps — but it may in
 * the kernel, so calling it where sleeping is forbidden (a spinlock held,
 * interrupts off, SoftIrq context) panics here as well, every time, not
 * only on the day it is contended.
 */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/shim_priv.h"
#include "kernel/lock_order.h"
#include "kernel/mutex.h"
#include "kernel/sched.h"

static int held_find(const void *lock)
{
	for (unsigned i = shim_cpu.nheld; i-- > 0;)
		if (shim_cpu.held[i].lock == lock)
			return (int)i;
	return -1;
}

static void held_push(const struct shim_held *h)
{
	if (shim_cpu.nheld == SHIM_HELD_MAX)
		shim_panic_at(h->file, h->line, "'%s': more than %d locks held at once", h->name,
			      SHIM_HELD_MAX);
	shim_cpu.held[shim_cpu.nheld++] = *h;
	if (!h->mutex)
		shim_cpu.nspin++;
}

static void held_remove(unsigned i)
{
	if (!shim_cpu.held[i].mutex)
		shim_cpu.nspin--;
	for (; i + 1 < shim_cpu.nheld; i++)
		shim_cpu.held[i] = shim_cpu.held[i + 1];
	shim_cpu.nheld--;
}

static const char *lname(const spinlock_t *l)
{
	return l->name ? l->name : "?";
}

static void check_order(const spinlock_t *l, const char *file, int line)
{
	for (unsigned i = 0; i < shim_cpu.nheld; i++) {
		const struct shim_held *h = &shim_cpu.held[i];

		if (!h->mutex && h->rank && h->rank >= l->rank)
			shim_panic_at(file, line,
				      "spinlock '%s' (rank %u) taken while holding '%s' (rank %u, "
				      "taken at %s:%d): against the order in kernel/lock_order.h",
				      lname(l), l->rank, h->name, h->rank, h->file, h->line);
	}
}

static void take(spinlock_t *l, const char *file, int line)
{
	struct shim_held h = { l, lname(l), l->rank, false, file, line, NULL };

	held_push(&h);
	l->locked = true;
	l->file = file;
	l->line = line;
}

void shim_spin_lock(spinlock_t *l, const char *file, int line)
{
	if (l->locked && held_find(l) >= 0 && shim_context() == SHIM_CTX_IRQ)
		shim_panic_at(file, line, "spinlock '%s': taken by an interrupt handler while "
					  "the code it interrupted holds it (taken at %s:%d): "
					  "a deadlock",
			      lname(l), l->file, l->line);
	if (l->locked && held_find(l) >= 0)
		shim_panic_at(file, line, "spinlock '%s': taken again by the CPU that holds it "
					  "(recursion; it was taken at %s:%d)",
			      lname(l), l->file, l->line);
	if (l->locked)
		shim_panic_at(file, line, "spinlock '%s': locked, but not by this CPU: it would "
					  "spin forever (taken at %s:%d)",
			      lname(l), l->file, l->line);
	if (l->irq_shared && shim_cpu.irq_on)
		shim_panic_at(file, line, "spinlock '%s': taken with interrupts on, but an "
					  "interrupt handler shares it (it was taken with "
					  "spin_lock_irqsave() before)",
			      lname(l));
	if (l->rank)
		check_order(l, file, line);
	if (shim_context() == SHIM_CTX_IRQ)
		l->irq_shared = true; /* stricter than the kernel: however the handler takes it */
	take(l, file, line);
}

bool shim_spin_trylock(spinlock_t *l, const char *file, int line)
{
	if (l->locked)
		return false;
	take(l, file, line);
	return true;
}

void shim_spin_unlock(spinlock_t *l, const char *file, int line)
{
	int i = held_find(l);

	if (i < 0)
		shim_panic_at(file, line, "spinlock '%s': %s", lname(l),
			      l->locked ? "released by a CPU that does not hold it"
					: "released but not held");
	held_remove((unsigned)i);
	l->locked = false;
	l->file = NULL;
}

u64 shim_spin_lock_irqsave(spinlock_t *l, const char *file, int line)
{
	u64 flags = shim_read_rflags();

	shim_cpu.irq_on = false;
	l->irq_shared = true;
	shim_spin_lock(l, file, line);
	return flags;
}

void shim_spin_unlock_irqrestore(spinlock_t *l, u64 flags, const char *file, int line)
{
	shim_spin_unlock(l, file, line);
	if (flags & RFLAGS_IF)
		shim_cpu.irq_on = true;
}

bool spin_held(const spinlock_t *l)
{
	return l->locked && held_find(l) >= 0;
}

/* Drop the locks above @base without a word (after a caught panic). */
void shim_lock_release_above(unsigned base)
{
	while (shim_cpu.nheld > base) {
		struct shim_held *h = &shim_cpu.held[shim_cpu.nheld - 1];

		if (h->mutex) {
			((struct mutex *)h->lock)->owner = NULL;
		} else {
			((spinlock_t *)h->lock)->locked = false;
			shim_cpu.nspin--;
		}
		shim_cpu.nheld--;
	}
}

void shim_lock_frame_end(struct shim_frame *f)
{
	for (unsigned i = f->held_base; i < shim_cpu.nheld; i++) {
		const struct shim_held *h = &shim_cpu.held[i];

		shim_report(f->kt, h->file, h->line, h->pc,
			    "%s '%s' still held at the end of the test (taken here)",
			    h->mutex ? "mutex" : "spinlock", h->name);
	}
	shim_lock_release_above(f->held_base);
	if (!f->outer && shim_cpu.preempt_off) {
		shim_report_test(f->kt,
			   "preemption still disabled at the end of the test (%u preempt_disable() "
			   "without preempt_enable())", shim_cpu.preempt_off);
		shim_cpu.preempt_off = 0;
	}
}

void preempt_disable(void)
{
	shim_cpu.preempt_off++;
}

void preempt_enable(void)
{
	if (!shim_cpu.preempt_off)
		panic("preempt_enable() without preempt_disable()");
	shim_cpu.preempt_off--;
}

/* ---------------------------------------------------------------- mutexes */

static void mutex_context(const struct mutex *m, const char *what)
{
	if (shim_context() != SHIM_CTX_TASK)
		panic("mutex '%s': %s outside task context", m->name, what);
}

void mutex_init(struct mutex *m, const char *name)
{
	spin_lock_init(&m->lock, "mutex");
	m->owner = NULL;
	m->name = name;
	m->contended = 0;
	waitq_init(&m->wait);
}

static bool mutex_take(struct mutex *m, const void *pc)
{
	struct task *self = task_current();
	struct shim_held h = { m, m->name, 0, true, NULL, 0, pc };

	mutex_context(m, "locked");
	if (m->owner == self)
		panic("mutex '%s': locked again by its owner '%s'", m->name, self->name);
	if (m->owner)
		return false;
	m->owner = self;
	held_push(&h);
	return true;
}

bool mutex_trylock(struct mutex *m)
{
	return mutex_take(m, __builtin_return_address(0));
}

void mutex_lock(struct mutex *m)
{
	shim_check_may_sleep("mutex_lock()");
	if (!mutex_take(m, __builtin_return_address(0)))
		panic("mutex '%s': held by '%s', and no other task runs on the host to release it",
		      m->name, m->owner->name);
}

void mutex_unlock(struct mutex *m)
{
	struct task *self = task_current();
	int i = held_find(m);

	mutex_context(m, "unlocked");
	if (m->owner != self || i < 0)
		panic("mutex '%s': unlocked by '%s', which does not hold it", m->name, self->name);
	m->owner = NULL;
	held_remove((unsigned)i);
	waitq_wake_one(&m->wait);
}

bool mutex_held(const struct mutex *m)
{
	return READ_ONCE(m->owner) == task_current();
}
