/*
 * alloc.c — lib_default_allocator: the struct lib_allocator form of the
 * lib_alloc()/lib_free() hooks declared in alloc.h.  The hooks themselves
 * are defined by whoever links lib/ (the kernel or tests/unit/main.c).
 */
#include "lib/alloc.h"

static void *lib_default_alloc(void *ctx, size_t size)
{
	return lib_alloc(size);
}

static void lib_default_free(void *ctx, void *p)
{
	lib_free(p);
}

const struct lib_allocator lib_default_allocator = {
	.alloc = lib_default_alloc,
	.free = lib_default_free,
	.ctx = NULL,
};
