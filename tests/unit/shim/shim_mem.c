/*
 * shim_mem.c — kmalloc() and page_alloc() over the host's allocator, with a
 * record of every live object, and the "physical" addresses of mm/addr.h.
 *
 * Each object is a separate posix_memalign() block, so ASan sees the exact
 * size asked for: one byte past a kmalloc(100) is an overflow here even
 * though the kernel's 128-byte size class would hide it.  Alignment follows
 * the kernel's promises (kmalloc: the size class up to 2 KiB, a page above;
 * page_alloc(n): n rounded up to a power of two pages), so code that relies
 * on them runs as it would in the kernel.  New memory is filled with 0xA5,
 * not zero, so a read of memory nobody wrote shows up as garbage every time.
 *
 * The record (struct alloc) says who allocated an object (a return
 * address), in which test frame, and whether it is "forever" (made between
 * shim_forever_begin() and _end(): boot-time state, never a leak).  At the
 * end of a frame every live object of that frame is reported as a leak,
 * once.  Freeing anything the shim did not hand out, or with the wrong
 * size, panics as the kernel does.
 *
 * Records sit in a hash table by address (for kfree/page_free) and in one
 * list (for the leak walk and for virt_to_phys(), which must find the
 * object an address lies inside).  Tests hold tens of objects, not millions.
 */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#define NOS_KEEP_LIBC_NAMES
#include "tests/unit/shim/shim_priv.h"
#include "lib/list.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"

#include <stdlib.h>
#include <string.h>

#define HASH_SIZE 1024
#define PHYS_BIT (1ULL << 62)
#define LEAKS_SHOWN 8

struct alloc {
	struct list_head link;     /* all live objects, oldest first */
	struct alloc *hash_next;
	u8 *p;
	size_t size;
	unsigned pages;            /* 0 for kmalloc */
	const void *pc;            /* the caller of kmalloc/page_alloc */
	unsigned frame;
	bool forever, reported;
};

static struct list_head live = LIST_HEAD_INIT(live);
static struct alloc *hash[HASH_SIZE];
static unsigned fail_countdown;

static unsigned hash_of(const void *p)
{
	return (unsigned)(((uintptr_t)p >> 5) % HASH_SIZE);
}

static struct alloc **hash_slot(const void *p)
{
	struct alloc **a = &hash[hash_of(p)];

	while (*a && (*a)->p != p)
		a = &(*a)->hash_next;
	return a;
}

static bool fail_now(void)
{
	return fail_countdown && --fail_countdown == 0;
}

void shim_mem_fail_nth(unsigned n)
{
	fail_countdown = n;
}

static unsigned pow2_at_least(size_t n)
{
	unsigned p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static void *alloc_new(size_t size, size_t align, unsigned pages, const void *pc)
{
	struct alloc *a;
	void *p;

	if (fail_now())
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a || posix_memalign(&p, align, size)) {
		free(a);
		return NULL;
	}
	memset(p, 0xA5, size);
	*a = (struct alloc){ .p = p, .size = size, .pages = pages, .pc = pc,
			     .frame = shim_frame_id(), .forever = shim_forever_now() };
	list_add_tail(&a->link, &live);
	a->hash_next = hash[hash_of(p)];
	hash[hash_of(p)] = a;
	return p;
}

static void alloc_release(struct alloc **slot)
{
	struct alloc *a = *slot;

	*slot = a->hash_next;
	list_del(&a->link);
	free(a->p);
	free(a);
}

static void *kmalloc_from(size_t size, const void *pc)
{
	if (!size || size > PAGE_ALLOC_MAX * PAGE_SIZE)
		return NULL;
	return alloc_new(size, size <= 2048 ? MAX(32u, pow2_at_least(size)) : PAGE_SIZE, 0, pc);
}

void *kmalloc(size_t size)
{
	return kmalloc_from(size, __builtin_return_address(0));
}

void *kzalloc(size_t size)
{
	void *p = kmalloc_from(size, __builtin_return_address(0));

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	struct alloc **slot;

	if (!p)
		return;
	slot = hash_slot(p);
	if (!*slot)
		panic("kfree(%p): not memory from kmalloc (freed twice, or not the start of an object)",
		      p);
	if ((*slot)->pages)
		panic("kfree(%p): that is memory from page_alloc(%u)", p, (*slot)->pages);
	alloc_release(slot);
}

static void *page_alloc_from(unsigned n, const void *pc)
{
	if (!n || n > PAGE_ALLOC_MAX)
		return NULL;
	return alloc_new(n * PAGE_SIZE, pow2_at_least(n) * PAGE_SIZE, n, pc);
}

void *page_alloc(unsigned n)
{
	return page_alloc_from(n, __builtin_return_address(0));
}

void *page_zalloc(unsigned n)
{
	void *p = page_alloc_from(n, __builtin_return_address(0));

	if (p)
		memset(p, 0, n * PAGE_SIZE);
	return p;
}

void page_free(void *p, unsigned n)
{
	struct alloc **slot = hash_slot(p);

	if (!*slot || !(*slot)->pages)
		panic("page_free(%p, %u): not a block from page_alloc (freed twice?)", p, n);
	if ((*slot)->pages != n)
		panic("page_free(%p, %u): the block is %u pages", p, n, (*slot)->pages);
	alloc_release(slot);
}

unsigned page_alloc_count(const void *p)
{
	struct alloc *a = *hash_slot(p);

	return a ? a->pages : 0;
}

/* ------------------------------------------------------ physical memory */

static struct alloc *containing(uintptr_t va)
{
	struct alloc *a;

	list_for_each_entry(a, &live, link)
		if (va >= (uintptr_t)a->p && va - (uintptr_t)a->p < a->size)
			return a;
	return NULL;
}

phys_addr_t shim_virt_to_phys(const void *va)
{
	if (!containing((uintptr_t)va))
		panic("virt_to_phys(%p): not inside live memory from kmalloc or page_alloc (on "
		      "the host nothing else is in the direct map)", va);
	return (phys_addr_t)(uintptr_t)va ^ PHYS_BIT;
}

void *shim_phys_to_virt(phys_addr_t pa)
{
	if (!(pa & PHYS_BIT))
		panic("phys_to_virt(%#llx): not an address virt_to_phys() made",
		      (unsigned long long)pa);
	if (!containing((uintptr_t)(pa ^ PHYS_BIT)))
		panic("phys_to_virt(%#llx): the memory there was freed", (unsigned long long)pa);
	return (void *)(uintptr_t)(pa ^ PHYS_BIT);
}

/* ------------------------------------------------------------- checks */

static bool is_leak(const struct alloc *a, unsigned frame)
{
	return a->frame == frame && !a->forever && !a->reported;
}

unsigned shim_mem_live(void)
{
	unsigned n = 0, frame = shim_frame_id();
	struct alloc *a;

	list_for_each_entry(a, &live, link)
		n += is_leak(a, frame);
	return n;
}

void shim_mem_frame_end(struct shim_frame *f)
{
	unsigned n = 0;
	struct alloc *a;

	list_for_each_entry(a, &live, link) {
		if (!is_leak(a, f->id))
			continue;
		a->reported = true;
		if (n++ < LEAKS_SHOWN) {
			if (a->pages)
				shim_report(f->kt, NULL, 0, a->pc, "leak: page_alloc(%u) still "
					    "live at the end of the test (allocated here)", a->pages);
			else
				shim_report(f->kt, NULL, 0, a->pc, "leak: kmalloc(%zu) still live "
					    "at the end of the test (allocated here)", a->size);
		}
	}
	if (n > LEAKS_SHOWN)
		shim_report_test(f->kt, "... %u leaked objects in all", n);
	fail_countdown = 0;
}
