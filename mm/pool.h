/*
 * pool.h — size-class object pools for small allocations (kmalloc's back end).
 *
 * Seven classes serve requests of 1..2048 bytes: 32, 64, 128, 256, 512, 1024
 * and 2048.  A request is rounded up to the smallest class that holds it.
 * Each class carves objects out of slabs: POOL_SLAB_SIZE (16 KiB, four pages)
 * blocks that are naturally aligned, so the slab that holds an object is
 * found by masking its address — no lookup table, no per-object header.
 *
 * Slab layout:
 *
 *   +--------------+---------+-------+-------+-----+-------+--------+
 *   | slab header  | padding | obj 0 | obj 1 | ... | obj N-1 | unused |
 *   +--------------+---------+-------+-------+-----+-------+--------+
 *   ^ slab (16 KiB aligned)   ^ first object, at the header size rounded
 *                               up to the class size
 *
 * Every object is therefore aligned to its class size (32..2048 bytes, so
 * at least 32).  The header holds the class, the free count, the list link
 * and a bitmap with one bit per object (set = free).  Keeping the free state
 * in the bitmap rather than in a link inside the free object is what lets a
 * free object be poisoned in full and lets pool_free() detect a double free.
 *
 * Poison.  A free object is filled with POOL_POISON (0x6B) from end to end:
 * slabs are poisoned when they are created and each object again when it is
 * freed.  pool_alloc() verifies the poison before it hands an object out; a
 * byte that differs means someone wrote to the object after freeing it, and
 * the pool reports it through ops->corrupt (the kernel glue panics with "use
 * after free").  The object is handed out anyway.  New objects are returned
 * with whatever they hold (poison, in practice); kzalloc() zeroes.  The
 * check costs one read of the object per allocation and the poison one write
 * per free.
 *
 * Slabs come from and go back to the page level through struct pool_ops.
 * When a slab's last object is freed, the class keeps it as its one spare
 * (so an alloc/free pair at a slab boundary does not bounce pages) and gives
 * any further empty slab back at once; pool_shrink() gives the spares back
 * too.
 *
 * No locking and no printing here: the kernel glue (mm/kmalloc.c) holds its
 * lock around every call, and its alloc_slab takes an order-2 block from the
 * buddy allocator, marks its frames BUDDY_FLAG_SLAB (mm/buddy.h) and returns
 * the direct-map address; kfree() uses that flag to route an address to
 * pool_free().  The callbacks are called with that lock held.
 */
#ifndef NOS_MM_POOL_H
#define NOS_MM_POOL_H

#include "compiler.h" /* before types.h: see lib/ktest.h */
#include "types.h"
#include "lib/list.h"

#define POOL_SLAB_SIZE (16u * 1024) /* bytes per slab, also its alignment */
#define POOL_SLAB_PAGES 4
#define POOL_MIN_SIZE 32u
#define POOL_MAX_SIZE 2048u
#define POOL_NR_CLASSES 7
#define POOL_POISON 0x6B

/*
 * How the pool gets and returns slabs.  Copied by pool_init().
 *
 * alloc_slab: return POOL_SLAB_SIZE bytes aligned to POOL_SLAB_SIZE, or NULL
 *   when out of memory.  The pool owns the slab until it passes it to
 *   free_slab.  A misaligned slab is given straight back and counts as NULL.
 * free_slab: take back a slab that alloc_slab returned.
 * corrupt: optional; called when the free object @obj no longer holds the
 *   poison at byte @off, i.e. it was written after it was freed.
 */
struct pool_ops {
	void *(*alloc_slab)(void *ctx);
	void (*free_slab)(void *ctx, void *slab);
	void (*corrupt)(void *ctx, void *obj, size_t off);
	void *ctx;
};

struct pool_slab;

/*
 * One size class.  Legend: [I] fixed by pool_init(); [L] under the caller's
 * lock.  Slabs with some but not all objects free are on @partial, slabs
 * with none free on @full; an empty slab is either the @spare or gone.
 */
struct pool_class {
	u32 size;                 /* [I] object size and alignment */
	u32 objs_per_slab;        /* [I] */
	u32 first_off;            /* [I] offset of object 0 in a slab */
	struct list_head partial; /* [L] struct pool_slab.link */
	struct list_head full;    /* [L] struct pool_slab.link */
	struct pool_slab *spare;  /* [L] cached empty slab, or NULL */
	u64 nslabs;               /* [L] slabs held, the spare included */
	u64 in_use;               /* [L] live objects */
	u64 allocs;               /* [L] successful pool_alloc() calls, ever */
	u64 frees;                /* [L] successful pool_free() calls, ever */
};

/* A set of size classes.  Legend as for struct pool_class. */
struct pool {
	struct pool_ops ops;                          /* [I] */
	struct pool_class classes[POOL_NR_CLASSES];   /* see struct pool_class */
	u64 corruptions;                              /* [L] poison mismatches seen */
};

/* Statistics of one class (see pool_class_stats()). */
struct pool_class_stats {
	u32 size;          /* object size in bytes */
	u32 objs_per_slab;
	u64 slabs;         /* slabs held, the spare included */
	u64 in_use;        /* live objects */
	u64 free;          /* free objects in held slabs */
	u64 bytes;         /* slabs * POOL_SLAB_SIZE */
	u64 allocs;        /* successful allocations, ever */
	u64 frees;         /* successful frees, ever */
};

/* Set up @p with no slabs; @ops is copied. */
void pool_init(struct pool *p, const struct pool_ops *ops);

/*
 * Allocate an object of at least @size bytes (1..POOL_MAX_SIZE), aligned to
 * its class size.  Returns NULL when @size is 0 or too big, or when a new slab
 * was needed and alloc_slab returned NULL.  The caller owns the object until
 * it passes it to pool_free().
 */
void *pool_alloc(struct pool *p, size_t size);

/*
 * Free @obj, which pool_alloc(@p, ...) returned.  @obj must lie inside a slab
 * of @p (the glue knows that from BUDDY_FLAG_SLAB): the slab header is read.
 * Returns 0, or -EINVAL and changes nothing when @obj is NULL, the slab
 * header is not one of @p's, @obj is not the start of an object, or the
 * object is already free.
 */
int pool_free(struct pool *p, void *obj);

/*
 * Usable size of the object at @obj (its class size), or 0 when the slab
 * header @obj points into is not valid.  Same precondition as pool_free().
 */
size_t pool_obj_size(const void *obj);

/* Class index serving @size, or -EINVAL when @size is 0 or too big. */
int pool_class_index(size_t size);

/* Fill @st for class @idx; returns 0 or -EINVAL for a bad index. */
int pool_class_stats(const struct pool *p, unsigned idx, struct pool_class_stats *st);

/* Give every class's spare empty slab back to the page level. */
void pool_shrink(struct pool *p);

/*
 * Check every invariant: slab headers and list membership, free counts
 * against the bitmaps, class counters, and the poison of every free object.
 * O(memory held); for tests and debug commands.
 */
bool pool_check(const struct pool *p);

#endif
