/*
 * mutex.c — sleeping locks (see mutex.h).
 *
 * A locker that finds the mutex taken joins the wait queue (marking itself
 * BLOCKED) while still holding the mutex's spinlock, so an unlock cannot
 * slip between its check and its sleep.  unlock hands nothing over: it
 * frees the mutex and wakes one waiter, which competes again.
 */
#include "kernel/mutex.h"
#include "kernel/panic.h"
#include "kernel/sched.h"

void mutex_init(struct mutex *m, const char *name)
{
	spin_lock_init(&m->lock, "mutex");
	m->owner = NULL;
	m->name = name;
	m->contended = 0;
	waitq_init(&m->wait);
}

bool mutex_trylock(struct mutex *m)
{
	struct task *self = task_current();
	bool taken = false;
	u64 flags = spin_lock_irqsave(&m->lock);

	if (m->owner == self)
		panic("mutex '%s': locked again by its owner '%s'", m->name, self->name);
	if (!m->owner) {
		m->owner = self;
		taken = true;
	}
	spin_unlock_irqrestore(&m->lock, flags);
	return taken;
}

void mutex_lock(struct mutex *m)
{
	struct waitq_entry e;
	u64 flags;

	while (!mutex_trylock(m)) {
		flags = spin_lock_irqsave(&m->lock);
		if (!m->owner) {
			spin_unlock_irqrestore(&m->lock, flags);
			continue; /* freed meanwhile: try again */
		}
		m->contended++;
		waitq_prepare(&m->wait, &e);
		spin_unlock_irqrestore(&m->lock, flags);
		schedule();
		waitq_finish(&m->wait, &e);
	}
}

void mutex_unlock(struct mutex *m)
{
	struct task *self = task_current();
	u64 flags = spin_lock_irqsave(&m->lock);

	if (m->owner != self)
		panic("mutex '%s': unlocked by '%s', which does not hold it", m->name, self->name);
	m->owner = NULL;
	spin_unlock_irqrestore(&m->lock, flags);
	waitq_wake_one(&m->wait);
}

bool mutex_held(const struct mutex *m)
{
	return READ_ONCE(m->owner) == task_current();
}
