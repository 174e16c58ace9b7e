/*
 * alloc.h — how lib/ code gets memory without depending on the kernel.
 *
 * lib/ sits below mm/ and must also build on the host, so it cannot call
 * kmalloc() or malloc().  Instead it calls these two hooks, and whoever
 * links lib/ supplies them: the kernel forwards them to its allocator
 * (kmalloc/kfree), the host unit tests (tests/unit/main.c) to malloc/free.
 *
 * Contract for an implementation:
 *  - lib_alloc() returns memory aligned for any object type (16 bytes is
 *    enough on x86-64), or NULL when out of memory.  It must be callable
 *    from task context; lib/ never calls it with a spinlock held unless its
 *    own caller does.
 *  - lib_free() accepts NULL and does nothing with it.
 *
 * Code that wants a different allocator per object — a pool, or a failing
 * allocator in a test — passes a struct lib_allocator where the API allows
 * one (see btree.h); lib_default_allocator wraps the two hooks.
 */
#ifndef NOS_LIB_ALLOC_H
#define NOS_LIB_ALLOC_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

/* Allocate @size bytes; NULL when out of memory.  The caller owns the block. */
void *lib_alloc(size_t size);
/* Free a block from lib_alloc(); @p may be NULL. */
void lib_free(void *p);

/*
 * A pluggable allocator: @alloc/@free behave like lib_alloc/lib_free and get
 * @ctx as their first argument.
 */
struct lib_allocator {
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p);
	void *ctx;
};

/* Forwards to lib_alloc()/lib_free(). */
extern const struct lib_allocator lib_default_allocator;

#endif
