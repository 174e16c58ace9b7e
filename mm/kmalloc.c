/*
 * kmalloc.c — kmalloc/kfree: the pool size classes for up to 2 KiB, whole
 * pages from the page allocator above that.
 *
 * kfree() tells the two apart by the page: frames of a pool slab carry the
 * slab flag (set here when a slab is made), anything else must be the first
 * page of a page_alloc() block.  A pointer that is neither — or a pool
 * object freed twice — is a kernel bug and panics, as does a write to an
 * object after it was freed (found by the pool's poison check).
 *
 * kmalloc_lock protects the pool; the page allocator has its own lock,
 * taken inside this one (order: kmalloc_lock, then page_lock).
 */
#include "mm/kmalloc.h"
#include "errno.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "kernel/lock_order.h"
#include "lib/alloc.h"
#include "lib/string.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"
#include "mm/pool.h"

static struct pool kpool;
static bool kpool_ready;
static spinlock_t kmalloc_lock = SPINLOCK_INIT_RANKED("kmalloc", LOCK_RANK_KMALLOC); /* kpool, kpool_ready */

static void *slab_alloc(void *ctx)
{
	void *slab = page_alloc(POOL_SLAB_PAGES);

	if (slab)
		page_set_slab(slab, POOL_SLAB_PAGES, true);
	return slab;
}

/* page_free() clears the slab flag along with the rest of the frames' state. */
static void slab_free(void *ctx, void *slab)
{
	page_free(slab, POOL_SLAB_PAGES);
}

static void slab_corrupt(void *ctx, void *obj, size_t off)
{
	panic("kmalloc: use after free: %p was written at offset %zu after kfree", obj, off);
}

static const struct pool_ops kpool_ops = {
	.alloc_slab = slab_alloc,
	.free_slab = slab_free,
	.corrupt = slab_corrupt,
};

void kmalloc_init(void)
{
	pool_init(&kpool, &kpool_ops);
	kpool_ready = true;
}

static void *kmalloc_small(size_t size)
{
	u64 flags = spin_lock_irqsave(&kmalloc_lock);
	void *p = kpool_ready ? pool_alloc(&kpool, size) : NULL;

	spin_unlock_irqrestore(&kmalloc_lock, flags);
	return p;
}

void *kmalloc(size_t size)
{
	if (!size)
		return NULL;
	if (size <= POOL_MAX_SIZE)
		return kmalloc_small(size);
	if (size > PAGE_ALLOC_MAX * PAGE_SIZE)
		return NULL;
	return page_alloc((unsigned)((size + PAGE_SIZE - 1) / PAGE_SIZE));
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	unsigned pages;
	u64 flags;
	int rc;

	if (!p)
		return;
	if (page_is_slab(p)) {
		flags = spin_lock_irqsave(&kmalloc_lock);
		rc = pool_free(&kpool, p);
		spin_unlock_irqrestore(&kmalloc_lock, flags);
		if (rc)
			panic("kfree: %p is not a live kmalloc object (double free?)", p);
		return;
	}
	pages = IS_ALIGNED((u64)p, PAGE_SIZE) ? page_alloc_count(p) : 0;
	if (!pages)
		panic("kfree: %p was not returned by kmalloc", p);
	page_free(p, pages);
}

void kmalloc_shrink(void)
{
	u64 flags = spin_lock_irqsave(&kmalloc_lock);

	if (kpool_ready)
		pool_shrink(&kpool);
	spin_unlock_irqrestore(&kmalloc_lock, flags);
}

int kmalloc_class_stats(unsigned idx, struct pool_class_stats *st)
{
	u64 flags = spin_lock_irqsave(&kmalloc_lock);
	int rc = kpool_ready ? pool_class_stats(&kpool, idx, st) : -EINVAL;

	spin_unlock_irqrestore(&kmalloc_lock, flags);
	return rc;
}

void *lib_alloc(size_t size)
{
	return kmalloc(size);
}

void lib_free(void *p)
{
	kfree(p);
}
