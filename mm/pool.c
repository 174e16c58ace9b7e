/*
 * pool.c — the size-class object pools of pool.h.
 *
 * Allocation takes the first slab on the class's partial list and the lowest
 * free object in it (lowest first keeps a slab's live objects packed at its
 * start and makes reuse predictable for the tests).  When no slab is partial
 * the spare is put back to work, and only then is a new slab requested.  A
 * slab that fills up moves to the full list; one that gets an object back
 * moves to partial; one that empties becomes the spare or is released.
 *
 * Validating a free.  The slab is found by masking the address; its header
 * must carry POOL_SLAB_MAGIC and point to a class of this pool.  The object's
 * offset from the first object must be a whole multiple of the class size
 * and its index below the slab's object count, and its bit in the free map
 * must be clear (a set bit means it is free already).  Anything else is an
 * -EINVAL with nothing changed.  A released slab has its magic wiped, so a
 * stale pointer into memory that went back to the page level fails the
 * check as long as nobody has rewritten that word — but the real guard for
 * kfree() is the page flag the glue checks before calling here.
 *
 * Poison is read and written a 64-bit word at a time: objects are at least
 * 32-byte aligned and their sizes are multiples of 32.
 */
#include "mm/pool.h"
#include "lib/bitmap.h"
#include "lib/string.h"
#include "errno.h"

#define POOL_SLAB_MAGIC 0x504f4f4cu /* "POOL" */
/* Most objects a slab can hold: the smallest class, ignoring the header. */
#define POOL_MAX_OBJS (POOL_SLAB_SIZE / POOL_MIN_SIZE)
#define POOL_POISON_WORD 0x6b6b6b6b6b6b6b6bULL

/* A word type the compiler may assume aliases anything (poison scans). */
typedef u64 __attribute__((may_alias)) pool_word_t;

/*
 * The header at the start of every slab.  Owned by the pool; same lock as
 * the class (the caller's).
 */
struct pool_slab {
	u32 magic;                             /* POOL_SLAB_MAGIC while held */
	u16 nobjs;                             /* objects in this slab */
	u16 nfree;                             /* set bits in @freemap */
	struct pool_class *cls;                /* the class that owns it */
	struct list_head link;                 /* on cls->partial or cls->full */
	u64 freemap[BITMAP_WORDS(POOL_MAX_OBJS)]; /* bit i set: object i is free */
};

_Static_assert(POOL_SLAB_SIZE == POOL_SLAB_PAGES * 4096, "slab is four pages");
/* A bigger header would cost the 32- and 64-byte classes more objects. */
_Static_assert(sizeof(struct pool_slab) <= 128, "slab header grew");

/* Smallest k with 2^k >= n, for n >= 1. */
static unsigned pool_order(size_t n)
{
	return n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll((u64)n - 1);
}

int pool_class_index(size_t size)
{
	if (size == 0 || size > POOL_MAX_SIZE)
		return -EINVAL;
	if (size <= POOL_MIN_SIZE)
		return 0;
	return (int)(pool_order(size) - pool_order(POOL_MIN_SIZE));
}

static struct pool_slab *pool_slab_of(const void *obj)
{
	return (struct pool_slab *)((uintptr_t)obj & ~(uintptr_t)(POOL_SLAB_SIZE - 1));
}

static void *pool_obj_at(const struct pool_slab *s, unsigned idx)
{
	return (u8 *)s + s->cls->first_off + (size_t)idx * s->cls->size;
}

void pool_init(struct pool *p, const struct pool_ops *ops)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->ops = *ops;
	for (i = 0; i < POOL_NR_CLASSES; i++) {
		struct pool_class *c = &p->classes[i];

		c->size = POOL_MIN_SIZE << i;
		c->first_off = ALIGN_UP((u32)sizeof(struct pool_slab), c->size);
		c->objs_per_slab = (POOL_SLAB_SIZE - c->first_off) / c->size;
		list_init(&c->partial);
		list_init(&c->full);
	}
}

/* Get a fresh slab for @c from the page level, poisoned and all free. */
static struct pool_slab *pool_new_slab(struct pool *p, struct pool_class *c)
{
	struct pool_slab *s = p->ops.alloc_slab(p->ops.ctx);

	if (!s)
		return NULL;
	if (!IS_ALIGNED((uintptr_t)s, POOL_SLAB_SIZE)) {
		p->ops.free_slab(p->ops.ctx, s);
		return NULL;
	}
	memset(s, 0, sizeof(*s));
	s->magic = POOL_SLAB_MAGIC;
	s->cls = c;
	s->nobjs = (u16)c->objs_per_slab;
	s->nfree = s->nobjs;
	bitmap_set_range(s->freemap, 0, s->nobjs);
	memset((u8 *)s + c->first_off, POOL_POISON, (size_t)s->nobjs * c->size);
	list_init(&s->link);
	c->nslabs++;
	return s;
}

/* Give slab @s of @c back to the page level. */
static void pool_release_slab(struct pool *p, struct pool_class *c, struct pool_slab *s)
{
	s->magic = 0;
	c->nslabs--;
	p->ops.free_slab(p->ops.ctx, s);
}

/* A slab of @c with a free object, on the partial list; NULL if none. */
static struct pool_slab *pool_usable_slab(struct pool *p, struct pool_class *c)
{
	struct pool_slab *s;

	if (!list_empty(&c->partial))
		return list_first_entry(&c->partial, struct pool_slab, link);
	s = c->spare;
	if (s)
		c->spare = NULL;
	else
		s = pool_new_slab(p, c);
	if (s)
		list_add(&s->link, &c->partial);
	return s;
}

/* Byte offset of the first non-poison byte of @obj, or @size if none. */
static size_t pool_poison_mismatch(const void *obj, size_t size)
{
	const pool_word_t *w = obj;
	const u8 *bytes = obj;
	size_t i, off;

	for (i = 0; i < size / sizeof(*w); i++) {
		if (w[i] == POOL_POISON_WORD)
			continue;
		for (off = i * sizeof(*w);; off++) {
			if (bytes[off] != POOL_POISON)
				return off;
		}
	}
	return size;
}

/* Report a use after free if @obj lost its poison. */
static void pool_verify_poison(struct pool *p, void *obj, size_t size)
{
	size_t off = pool_poison_mismatch(obj, size);

	if (off == size)
		return;
	p->corruptions++;
	if (p->ops.corrupt)
		p->ops.corrupt(p->ops.ctx, obj, off);
}

void *pool_alloc(struct pool *p, size_t size)
{
	int idx = pool_class_index(size);
	struct pool_class *c;
	struct pool_slab *s;
	size_t i;
	void *obj;

	if (idx < 0)
		return NULL;
	c = &p->classes[idx];
	s = pool_usable_slab(p, c);
	if (!s)
		return NULL;
	i = bitmap_find_first_set(s->freemap, s->nobjs);
	bitmap_clear(s->freemap, i);
	if (--s->nfree == 0)
		list_move(&s->link, &c->full);
	c->in_use++;
	c->allocs++;
	obj = pool_obj_at(s, (unsigned)i);
	pool_verify_poison(p, obj, c->size);
	return obj;
}

/* True when @c is one of @p's classes (a slab header's cls is trusted only then). */
static bool pool_owns_class(const struct pool *p, const struct pool_class *c)
{
	uintptr_t first = (uintptr_t)&p->classes[0];
	uintptr_t at = (uintptr_t)c;

	return at >= first && at < first + sizeof(p->classes) &&
	       (at - first) % sizeof(p->classes[0]) == 0;
}

/* Index of @obj in its slab @s, or -EINVAL when it is not a live object. */
static int pool_obj_index(const struct pool *p, const struct pool_slab *s, const void *obj)
{
	const struct pool_class *c;
	size_t off = (size_t)((const u8 *)obj - (const u8 *)s), idx;

	if (s->magic != POOL_SLAB_MAGIC || !pool_owns_class(p, s->cls))
		return -EINVAL;
	c = s->cls;
	if (off < c->first_off || (off - c->first_off) % c->size)
		return -EINVAL;
	idx = (off - c->first_off) / c->size;
	if (idx >= s->nobjs || bitmap_test(s->freemap, idx))
		return -EINVAL;
	return (int)idx;
}

/* @s of @c just became empty: keep it as the spare or give it back. */
static void pool_retire_slab(struct pool *p, struct pool_class *c, struct pool_slab *s)
{
	list_del(&s->link);
	if (!c->spare)
		c->spare = s;
	else
		pool_release_slab(p, c, s);
}

int pool_free(struct pool *p, void *obj)
{
	struct pool_slab *s;
	struct pool_class *c;
	int idx;

	if (!obj)
		return -EINVAL;
	s = pool_slab_of(obj);
	idx = pool_obj_index(p, s, obj);
	if (idx < 0)
		return idx;
	c = s->cls;
	memset(obj, POOL_POISON, c->size);
	bitmap_set(s->freemap, (size_t)idx);
	if (s->nfree++ == 0)
		list_move(&s->link, &c->partial);
	c->in_use--;
	c->frees++;
	if (s->nfree == s->nobjs)
		pool_retire_slab(p, c, s);
	return 0;
}

size_t pool_obj_size(const void *obj)
{
	const struct pool_slab *s = pool_slab_of(obj);

	return s->magic == POOL_SLAB_MAGIC ? s->cls->size : 0;
}

int pool_class_stats(const struct pool *p, unsigned idx, struct pool_class_stats *st)
{
	const struct pool_class *c;

	if (idx >= POOL_NR_CLASSES)
		return -EINVAL;
	c = &p->classes[idx];
	st->size = c->size;
	st->objs_per_slab = c->objs_per_slab;
	st->slabs = c->nslabs;
	st->in_use = c->in_use;
	st->free = c->nslabs * c->objs_per_slab - c->in_use;
	st->bytes = c->nslabs * POOL_SLAB_SIZE;
	st->allocs = c->allocs;
	st->frees = c->frees;
	return 0;
}

void pool_shrink(struct pool *p)
{
	unsigned i;

	for (i = 0; i < POOL_NR_CLASSES; i++) {
		struct pool_class *c = &p->classes[i];

		if (c->spare) {
			pool_release_slab(p, c, c->spare);
			c->spare = NULL;
		}
	}
}

/* ------------------------------------------------------------ checking -- */

/*
 * Check slab @s of @c: header, free count against the bitmap and the
 * expected range, no stray bits past the last object, and poison on every
 * free object.  Adds its live objects to *@in_use.
 */
static bool pool_check_slab(const struct pool_class *c, const struct pool_slab *s,
			    unsigned min_free, unsigned max_free, u64 *in_use)
{
	size_t i;

	if (s->magic != POOL_SLAB_MAGIC || s->cls != c || s->nobjs != c->objs_per_slab ||
	    !IS_ALIGNED((uintptr_t)s, POOL_SLAB_SIZE))
		return false;
	if (s->nfree < min_free || s->nfree > max_free ||
	    bitmap_count(s->freemap, POOL_MAX_OBJS) != s->nfree)
		return false;
	for (i = 0; i < s->nobjs; i++) {
		if (bitmap_test(s->freemap, i) &&
		    pool_poison_mismatch(pool_obj_at(s, (unsigned)i), c->size) != c->size)
			return false;
	}
	*in_use += s->nobjs - s->nfree;
	return true;
}

/* Check every slab on @list; adds to *@in_use and *@nslabs. */
static bool pool_check_list(const struct pool_class *c, const struct list_head *list,
			    unsigned min_free, unsigned max_free, u64 *in_use, u64 *nslabs)
{
	const struct list_head *pos;

	for (pos = list->next; pos != list; pos = pos->next) {
		const struct pool_slab *s = list_entry(pos, struct pool_slab, link);

		if (++*nslabs > c->nslabs || pos->next->prev != pos)
			return false;
		if (!pool_check_slab(c, s, min_free, max_free, in_use))
			return false;
	}
	return true;
}

static bool pool_check_class(const struct pool_class *c)
{
	unsigned n = c->objs_per_slab;
	u64 in_use = 0, nslabs = 0;

	if (!pool_check_list(c, &c->partial, 1, n - 1, &in_use, &nslabs) ||
	    !pool_check_list(c, &c->full, 0, 0, &in_use, &nslabs))
		return false;
	if (c->spare) {
		nslabs++;
		if (!pool_check_slab(c, c->spare, n, n, &in_use))
			return false;
	}
	return nslabs == c->nslabs && in_use == c->in_use &&
	       c->allocs - c->frees == c->in_use;
}

bool pool_check(const struct pool *p)
{
	unsigned i;

	for (i = 0; i < POOL_NR_CLASSES; i++) {
		if (!pool_check_class(&p->classes[i]))
			return false;
	}
	return true;
}
