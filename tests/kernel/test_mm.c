/*
 * test_mm.c — boot tests of memory management on the real machine: the page
 * allocator over real RAM, kmalloc, the page tables, W^X and stack guards.
 * Faults that a test provokes on purpose go through kernel/probe.h.
 */
#include "errno.h"
#include "kernel/probe.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"
#include "mm/page_alloc.h"
#include "mm/paging.h"
#include "mm/pool.h"
#include "mm/stack.h"

#define PF_PRESENT 0x1
#define PF_WRITE 0x2
#define PF_FETCH 0x10

static u64 free_pages_now(void)
{
	struct page_stats st;

	kmalloc_shrink();
	page_alloc_stats(&st);
	return st.free;
}

static unsigned pow2_at_least(unsigned n)
{
	unsigned p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

KTEST(page_alloc, every_size_contiguous_and_aligned)
{
	u64 before = free_pages_now();

	for (unsigned n = 1; n <= PAGE_ALLOC_MAX; n++) {
		u8 *p = page_alloc(n);
		u64 pa0, pa;

		KT_ASSERT(p != NULL);
		KT_ASSERT_EQ(paging_virt_to_phys((u64)p, &pa0), 0);
		KT_EXPECT_EQ(pa0 % (pow2_at_least(n) * PAGE_SIZE), 0);
		for (unsigned i = 0; i < n; i++) {
			KT_ASSERT_EQ(paging_virt_to_phys((u64)p + i * PAGE_SIZE, &pa), 0);
			KT_ASSERT_EQ(pa, pa0 + i * PAGE_SIZE);
			p[i * PAGE_SIZE] = (u8)i; /* the memory is really there */
		}
		page_free(p, n);
	}
	KT_EXPECT(page_alloc(0) == NULL);
	KT_EXPECT(page_alloc(PAGE_ALLOC_MAX + 1) == NULL);
	KT_EXPECT_EQ(free_pages_now(), before);
}

struct live_block {
	u8 *p;
	size_t size;
	u8 seed;
};

static bool block_intact(const struct live_block *b)
{
	for (size_t i = 0; i < b->size; i++)
		if (b->p[i] != (u8)(b->seed + i * 7))
			return false;
	return true;
}

KTEST(kmalloc, random_mixed_sizes_keep_their_data)
{
	static struct live_block live[256];
	u64 before = free_pages_now();

	memset(live, 0, sizeof(live));
	for (unsigned op = 0; op < 6000; op++) {
		struct live_block *b = &live[ktest_rand(kt) % ARRAY_SIZE(live)];

		if (b->p) {
			KT_ASSERT(block_intact(b));
			kfree(b->p);
			b->p = NULL;
			continue;
		}
		b->size = 1 + ktest_rand(kt) % (ktest_rand(kt) % 8 ? 2048 : 20000);
		b->p = kmalloc(b->size);
		KT_ASSERT(b->p != NULL);
		KT_EXPECT(((u64)b->p & 31) == 0);
		b->seed = (u8)ktest_rand(kt);
		for (size_t i = 0; i < b->size; i++)
			b->p[i] = (u8)(b->seed + i * 7);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(live); i++) {
		if (live[i].p) {
			KT_EXPECT(block_intact(&live[i]));
			kfree(live[i].p);
		}
	}
	KT_EXPECT_EQ(free_pages_now(), before);
}

KTEST(kmalloc, freed_objects_are_poisoned)
{
	u8 *p = kmalloc(100);
	unsigned poisoned = 0;

	KT_ASSERT(p != NULL);
	memset(p, 0x11, 100);
	kfree(p);
	for (unsigned i = 0; i < 100; i++)
		poisoned += p[i] == POOL_POISON; /* a deliberate read after free */
	KT_EXPECT_EQ(poisoned, 100);
	KT_EXPECT(kmalloc(0) == NULL);
	KT_EXPECT(kmalloc(PAGE_ALLOC_MAX * PAGE_SIZE + 1) == NULL);
}

KTEST(paging, map_walk_unmap)
{
	u8 *frame = page_zalloc(1);
	u64 va = VA_TEST + 0x5000, pa;

	KT_ASSERT(frame != NULL);
	KT_EXPECT_EQ(paging_virt_to_phys(va, &pa), -EFAULT);
	KT_ASSERT_EQ(paging_map(va, virt_to_phys(frame), MAP_WRITE), 0);
	KT_EXPECT_EQ(paging_map(va, virt_to_phys(frame), MAP_WRITE), -EEXIST);
	KT_ASSERT_EQ(paging_virt_to_phys(va + 0x123, &pa), 0);
	KT_EXPECT_EQ(pa, virt_to_phys(frame) + 0x123);
	*(volatile u8 *)(va + 7) = 0x5A;
	KT_EXPECT_EQ(frame[7], 0x5A); /* the same frame through the direct map */
	KT_EXPECT_EQ(paging_protect(va, 0), 0);
	KT_EXPECT_EQ(probe_write((void *)va, 1), -EFAULT);
	KT_EXPECT_EQ(probe_last.error & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
	KT_EXPECT_EQ(probe_read((void *)va), 0);
	KT_EXPECT_EQ(paging_unmap(va), 0);
	KT_EXPECT_EQ(paging_virt_to_phys(va, &pa), -EFAULT);
	KT_EXPECT_EQ(probe_read((void *)va), -EFAULT);
	KT_EXPECT_EQ(probe_last.addr, va);
	KT_EXPECT_EQ(paging_unmap(va), -EFAULT);
	KT_EXPECT_EQ(paging_map(va + 1, 0, 0), -EINVAL);
	KT_EXPECT_EQ(paging_virt_to_phys(0x0000800000000000ULL, &pa), -EFAULT); /* non-canonical */
	page_free(frame, 1);
}

KTEST(paging, direct_map_walk_matches_arithmetic)
{
	u8 *p = page_alloc(3);
	u64 pa;

	KT_ASSERT(p != NULL);
	KT_ASSERT_EQ(paging_virt_to_phys((u64)p + 2 * PAGE_SIZE + 9, &pa), 0);
	KT_EXPECT_EQ(pa, virt_to_phys(p) + 2 * PAGE_SIZE + 9);
	KT_EXPECT_EQ(paging_virt_to_phys((u64)&free_pages_now, &pa), 0);
	KT_EXPECT_EQ(pa, virt_to_phys(&free_pages_now));
	KT_EXPECT_EQ(probe_read((void *)8), -EFAULT); /* no identity map: NULL faults */
	page_free(p, 3);
}

KTEST(wx, text_is_not_writable)
{
	u8 *text = (u8 *)&free_pages_now;
	u8 before = *text;

	KT_EXPECT_EQ(probe_write(text, 0xCC), -EFAULT);
	KT_EXPECT_EQ(probe_last.vector, 14);
	KT_EXPECT_EQ(probe_last.error & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
	KT_EXPECT_EQ(*text, before);
}

static const u8 rodata_byte = 0x42;

KTEST(wx, rodata_is_not_writable)
{
	KT_EXPECT_EQ(probe_write((void *)&rodata_byte, 0), -EFAULT);
	KT_EXPECT_EQ(rodata_byte, 0x42);
}

KTEST(wx, data_is_not_executable)
{
	static u8 code_in_data[16] = { 0xC3 }; /* ret */
	u8 *heap_code = kmalloc(64);

	KT_ASSERT(heap_code != NULL);
	heap_code[0] = 0xC3;
	KT_EXPECT_EQ(probe_exec(code_in_data), -EFAULT);
	KT_EXPECT(probe_last.error & PF_FETCH);
	KT_EXPECT_EQ(probe_last.addr, (u64)code_in_data);
	KT_EXPECT_EQ(probe_exec(heap_code), -EFAULT);
	KT_EXPECT(probe_last.error & PF_FETCH);
	kfree(heap_code);
}

static volatile int recursion_depth;

/* Recurse until the stack runs out (the depth check only hides that from clang). */
static __noinline void recurse_forever(void)
{
	volatile u8 pad[256];

	pad[0] = 1;
	if (++recursion_depth > 0)
		recurse_forever();
	pad[1] = pad[0]; /* not a tail call */
}

KTEST(stack, guard_page_catches_overflow)
{
	struct kstack st;
	u64 before = free_pages_now();

	KT_ASSERT_EQ(stack_alloc(&st, "overflow-test", 2), 0);
	KT_EXPECT_EQ(probe_call_on_stack(st.top, recurse_forever), -EFAULT);
	KT_EXPECT(probe_last.addr < st.base && probe_last.addr >= st.base - PAGE_SIZE);
	KT_EXPECT_STREQ(stack_guard_owner(st.base - 8), "overflow-test");
	KT_EXPECT(stack_guard_owner(st.base) == NULL);
	stack_free(&st);
	KT_EXPECT(stack_guard_owner(st.base - 8) == NULL);
	KT_EXPECT_EQ(stack_alloc(&st, "x", 0), -EINVAL);
	KT_EXPECT_EQ(free_pages_now(), before);
}
