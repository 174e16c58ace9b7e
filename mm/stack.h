/*
 * stack.h — kernel stacks with an unmapped guard page below each.
 *
 * A stack lives in its own slot of the VA_STACKS range: the slot's lowest
 * page is never mapped (the guard), the stack's pages sit above it.  A
 * stack that overflows runs into the guard and page-faults; the #PF handler
 * runs on its own IST stack, looks the address up with stack_guard_owner()
 * and panics with "stack overflow" and the stack's name — instead of the
 * overflow silently corrupting whatever lay below.
 */
#ifndef NOS_STACK_H
#define NOS_STACK_H

#include "types.h"

#define STACK_SLOT_PAGES 16 /* guard + up to 15 pages of stack */
#define STACK_NAME_MAX 24

struct kstack {
	u64 base;        /* lowest mapped address */
	u64 top;         /* initial stack pointer (one past the highest byte) */
	unsigned pages;
	int slot;
	void *mem;       /* the frames, in the direct map */
};

/*
 * Allocate a guarded stack of @pages (1..15) pages named @name (copied).
 * Returns 0, -EINVAL for a bad size, -ENOMEM / -ENOSPC when memory or
 * slots run out.
 */
int stack_alloc(struct kstack *st, const char *name, unsigned pages);
void stack_free(struct kstack *st);
/* Name of the stack whose guard page contains @addr, or NULL. */
const char *stack_guard_owner(u64 addr);
/* Stacks currently allocated. */
unsigned stack_count(void);

#endif
