/*
 * atomic.h — atomic integers, spelled once over the compiler builtins.
 *
 * All operations are sequentially consistent unless the name says
 * otherwise; they work for the kernel and the host tests alike.
 */
#ifndef NOS_ATOMIC_H
#define NOS_ATOMIC_H

#include "types.h"

typedef struct {
	volatile s64 v;
} atomic_t;

#define ATOMIC_INIT(n) { (n) }

static inline s64 atomic_read(const atomic_t *a)
{
	return __atomic_load_n(&a->v, __ATOMIC_SEQ_CST);
}

static inline void atomic_set(atomic_t *a, s64 n)
{
	__atomic_store_n(&a->v, n, __ATOMIC_SEQ_CST);
}

/* Add @n and return the new value. */
static inline s64 atomic_add_return(atomic_t *a, s64 n)
{
	return __atomic_add_fetch(&a->v, n, __ATOMIC_SEQ_CST);
}

static inline s64 atomic_inc(atomic_t *a)
{
	return atomic_add_return(a, 1);
}

static inline s64 atomic_dec(atomic_t *a)
{
	return atomic_add_return(a, -1);
}

/* If the value is @old, make it @new; true when it did. */
static inline bool atomic_cmpxchg(atomic_t *a, s64 old, s64 new_value)
{
	return __atomic_compare_exchange_n(&a->v, &old, new_value, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

#endif
