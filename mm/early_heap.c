/*
 * early_heap.c — a first-fit heap over a static arena.
 *
 * This is the kernel's first allocator, enough for the boot tests and the
 * library's B-tree; the memory-management issue replaces it with the page
 * allocator and the pool size classes behind the same kmalloc.h.
 *
 * Free blocks form a singly linked list sorted by address, so kfree() can
 * merge a block with both neighbours in one pass and the heap returns to a
 * single block when everything is freed.  Every block (free or in use)
 * starts with a 16-byte header holding its total size and a magic word that
 * tells in-use from free: freeing a pointer whose header is not "in use" is
 * a kernel bug and panics, which catches double frees and wild pointers.
 */
#include "mm/kmalloc.h"
#include "compiler.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "lib/alloc.h"
#include "lib/string.h"

#define HEAP_SIZE (4u << 20)
#define HDR 16
#define MAGIC_USED 0x6b6d616c6c6f6321ULL
#define MAGIC_FREE 0x66726565626c6b21ULL

struct block {
	size_t size; /* whole block, header included */
	u64 magic;
	struct block *next; /* free blocks only: overlaps the payload */
};

static u8 heap[HEAP_SIZE] __aligned(16);
static struct block *free_list;
static size_t free_bytes;
static bool heap_ready;
static spinlock_t heap_lock = SPINLOCK_INIT; /* free_list, free_bytes */

static void heap_init(void)
{
	free_list = (struct block *)heap;
	free_list->size = HEAP_SIZE;
	free_list->magic = MAGIC_FREE;
	free_list->next = NULL;
	free_bytes = HEAP_SIZE;
	heap_ready = true;
}

/* Take @need bytes from free block *@link, splitting off the rest. */
static struct block *take(struct block **link, size_t need)
{
	struct block *b = *link;

	if (b->size - need >= HDR + 32) {
		struct block *rest = (struct block *)((u8 *)b + need);

		rest->size = b->size - need;
		rest->magic = MAGIC_FREE;
		rest->next = b->next;
		*link = rest;
		b->size = need;
	} else {
		*link = b->next;
	}
	b->magic = MAGIC_USED;
	free_bytes -= b->size;
	return b;
}

void *kmalloc(size_t size)
{
	size_t need = ALIGN_UP(size, 16) + HDR;
	struct block **link, *b = NULL;
	u64 flags;

	if (!size || size > HEAP_SIZE)
		return NULL;
	flags = spin_lock_irqsave(&heap_lock);
	if (!heap_ready)
		heap_init();
	for (link = &free_list; *link; link = &(*link)->next)
		if ((*link)->size >= need) {
			b = take(link, need);
			break;
		}
	spin_unlock_irqrestore(&heap_lock, flags);
	return b ? (u8 *)b + HDR : NULL;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

static bool adjacent(struct block *a, struct block *b)
{
	return (u8 *)a + a->size == (u8 *)b;
}

void kfree(void *p)
{
	struct block *b = (struct block *)((u8 *)p - HDR), *prev = NULL, *next;
	u64 flags;

	if (!p)
		return;
	if ((u8 *)p < heap + HDR || (u8 *)p >= heap + HEAP_SIZE || b->magic != MAGIC_USED)
		panic("kfree: %p is not an allocated block (double free?)", p);
	flags = spin_lock_irqsave(&heap_lock);
	b->magic = MAGIC_FREE;
	free_bytes += b->size;
	for (next = free_list; next && next < b; next = next->next)
		prev = next;
	b->next = next;
	if (next && adjacent(b, next)) {
		b->size += next->size;
		b->next = next->next;
	}
	if (prev && adjacent(prev, b)) {
		prev->size += b->size;
		prev->next = b->next;
	} else if (prev) {
		prev->next = b;
	} else {
		free_list = b;
	}
	spin_unlock_irqrestore(&heap_lock, flags);
}

size_t kmalloc_free_bytes(void)
{
	if (!heap_ready)
		return HEAP_SIZE;
	return free_bytes;
}

void *lib_alloc(size_t size)
{
	return kmalloc(size);
}

void lib_free(void *p)
{
	kfree(p);
}
