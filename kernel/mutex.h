/*
 * mutex.h — sleeping locks for sections that may block (I/O, allocation
 * that waits).  Task context only.
 *
 * The owner is tracked: locking a mutex you hold (recursion) and unlocking
 * one you do not hold are kernel bugs and panic with the mutex's name.
 * Waiters sleep on the mutex's wait queue; unlock wakes one of them.
 * Lock order: mutex.lock, then its waitq's lock, then task locks.
 */
#ifndef NOS_MUTEX_H
#define NOS_MUTEX_H

#include "kernel/spinlock.h"
#include "kernel/waitq.h"

struct task;

struct mutex {
	spinlock_t lock;      /* owner */
	struct task *owner;   /* [lock] NULL when free */
	const char *name;     /* [I] for reports */
	struct waitq wait;
	u64 contended;        /* [lock] times a locker had to sleep */
};

void mutex_init(struct mutex *m, const char *name);
void mutex_lock(struct mutex *m);
/* true when taken without waiting */
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_held(const struct mutex *m);

#endif
