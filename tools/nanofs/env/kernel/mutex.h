/*
 * tools/nanofs/env/kernel/mutex.h — the host tool's stand-in for the
 * kernel's sleeping lock.  The tool is one thread, so a mutex only checks
 * that it is used the way the kernel would insist on (no recursion, no
 * unlock of a free lock).  Found before the kernel's header because the
 * tool's build puts tools/nanofs/env first in the quote search path.
 */
#ifndef NOS_MUTEX_H
#define NOS_MUTEX_H

#include "types.h"

struct mutex {
	const char *name;
	bool held;
};

void nanofs_env_bug(const char *what, const char *name);

static inline void mutex_init(struct mutex *m, const char *name)
{
	m->name = name;
	m->held = false;
}

static inline void mutex_lock(struct mutex *m)
{
	if (m->held)
		nanofs_env_bug("mutex recursion", m->name);
	m->held = true;
}

static inline void mutex_unlock(struct mutex *m)
{
	if (!m->held)
		nanofs_env_bug("unlock of a free mutex", m->name);
	m->held = false;
}

static inline bool mutex_held(const struct mutex *m)
{
	return m->held;
}

#endif
