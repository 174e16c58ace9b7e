/*
 * paging.c — building and changing the kernel page tables (see paging.h).
 *
 * Levels are numbered from the leaf: 0 = page table (4 KiB pages),
 * 1 = page directory (2 MiB pages), 2 = PDPT (1 GiB pages), 3 = PML4.
 * Intermediate entries are always present+writable and never NX: the leaf
 * alone decides the protection, so splitting a large page cannot widen or
 * narrow anyone else's rights.  Tables are allocated zeroed from the page
 * allocator and never freed (the kernel's address space only grows).
 *
 * The direct map is built from the firmware's RAM ranges (and the whole low
 * 1 MiB, where the VGA buffer and BIOS tables live; the MTRRs keep the VGA
 * window uncached); memmap_entry_prot() says which ranges those are.  A 2 MiB page is used wherever the 2 MiB is RAM and
 * does not touch the kernel image; the image's pages are 4 KiB with the
 * protection of their section.
 */
#include "mm/paging.h"
#include "boot/mb2.h"
#include "compiler.h"
#include "config.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/lock_order.h"
#include "kernel/smp.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"
#include "mm/addr.h"
#include "mm/memmap.h"
#include "mm/page_alloc.h"

#define PTE_P (1ULL << 0)
#define PTE_W (1ULL << 1)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_PS (1ULL << 7)
#define PTE_G (1ULL << 8)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL
#define LARGE_2M (2ULL << 20)
#define CR4_PGE (1ULL << 7)

extern char __boot_start[], __text_start[], __text_end[], __rodata_start[], __rodata_end[],
	__kernel_end[];

static u64 *kernel_pml4;
static bool nx_enabled;
static u64 mmio_next = VA_MMIO;
static spinlock_t paging_lock = SPINLOCK_INIT_RANKED("paging", LOCK_RANK_PAGING); /* the tables, mmio_next */

static unsigned pt_index(u64 va, int level)
{
	return (va >> (PAGE_SHIFT + 9 * level)) & 511;
}

static u64 level_size(int level)
{
	return 1ULL << (PAGE_SHIFT + 9 * level);
}

static bool canonical(u64 va)
{
	return ((s64)(va << 16) >> 16) == (s64)va;
}

static u64 prot_bits(unsigned prot)
{
	u64 f = PTE_P | PTE_G;

	if (prot & MAP_WRITE)
		f |= PTE_W;
	if (!(prot & MAP_EXEC) && nx_enabled)
		f |= PTE_NX;
	if (prot & MAP_UNCACHED)
		f |= PTE_PCD | PTE_PWT;
	return f;
}

/* Replace the large page at *@e (level 1 or 2) by a table of smaller ones. */
static int split_large(u64 *e, int level)
{
	u64 *t = page_zalloc(1);
	u64 flags = *e & ~PTE_ADDR & ~PTE_PS, base = *e & PTE_ADDR & ~(level_size(level) - 1);

	if (!t)
		return -ENOMEM;
	for (unsigned i = 0; i < 512; i++)
		t[i] = base + i * level_size(level - 1) | flags | (level > 1 ? PTE_PS : 0);
	*e = virt_to_phys(t) | PTE_P | PTE_W;
	return 0;
}

/*
 * Entry for @va at @target level, creating tables (and splitting large
 * pages above @target) on the way.  NULL when a table cannot be allocated.
 */
static u64 *walk_create(u64 va, int target)
{
	u64 *table = kernel_pml4;

	for (int level = 3; level > target; level--) {
		u64 *e = &table[pt_index(va, level)];

		if (!(*e & PTE_P)) {
			u64 *t = page_zalloc(1);

			if (!t)
				return NULL;
			*e = virt_to_phys(t) | PTE_P | PTE_W;
		} else if (*e & PTE_PS) {
			if (split_large(e, level))
				return NULL;
		}
		table = phys_to_virt(*e & PTE_ADDR);
	}
	return &table[pt_index(va, target)];
}

/* The leaf entry mapping @va (any level) and its level, or NULL. */
static u64 *walk_find(u64 va, int *leaf_level)
{
	u64 *table = kernel_pml4 ? kernel_pml4 : phys_to_virt(read_cr3() & PTE_ADDR);

	for (int level = 3; level >= 0; level--) {
		u64 *e = &table[pt_index(va, level)];

		if (!(*e & PTE_P))
			return NULL;
		if (level == 0 || (*e & PTE_PS)) {
			*leaf_level = level;
			return e;
		}
		table = phys_to_virt(*e & PTE_ADDR);
	}
	return NULL;
}

int paging_virt_to_phys(u64 va, u64 *pa)
{
	int level;
	u64 *e;

	if (!canonical(va))
		return -EFAULT;
	e = walk_find(va, &level);
	if (!e)
		return -EFAULT;
	*pa = (*e & PTE_ADDR & ~(level_size(level) - 1)) | (va & (level_size(level) - 1));
	return 0;
}

static bool bad_page_va(u64 va)
{
	return !canonical(va) || !IS_ALIGNED(va, PAGE_SIZE);
}

int paging_map(u64 va, u64 pa, unsigned prot)
{
	u64 *e, flags;
	int rc = 0;

	if (bad_page_va(va) || !IS_ALIGNED(pa, PAGE_SIZE))
		return -EINVAL;
	flags = spin_lock_irqsave(&paging_lock);
	e = walk_create(va, 0);
	if (!e)
		rc = -ENOMEM;
	else if (*e & PTE_P)
		rc = -EEXIST;
	else
		*e = pa | prot_bits(prot);
	spin_unlock_irqrestore(&paging_lock, flags);
	return rc;
}

static void invlpg_here(void *va)
{
	invlpg((u64)va);
}

/*
 * Make every other CPU forget its translation of @va before returning.
 * Before the other CPUs run (or from interrupt context, where waiting for
 * them could deadlock) the local invlpg is all there is to do.
 */
static void tlb_shootdown(u64 va)
{
	if (smp_cpu_count() == 1)
		return;
	if (!(read_rflags() & RFLAGS_IF)) {
		pr_err("paging: change of 0x%llx with interrupts off; other CPUs may keep it",
		       (unsigned long long)va);
		return;
	}
	if (smp_call_others(invlpg_here, (void *)va))
		pr_err("paging: a CPU did not confirm the shootdown of 0x%llx",
		       (unsigned long long)va);
}

/* Change the 4 KiB leaf entry of the mapped page @va, everywhere. */
static int paging_modify(u64 va, u64 newbits, bool unmap)
{
	int level, rc = 0;
	u64 *e, flags;

	if (bad_page_va(va))
		return -EINVAL;
	flags = spin_lock_irqsave(&paging_lock);
	e = walk_find(va, &level);
	if (e && level > 0)
		e = walk_create(va, 0); /* split the large page around @va */
	if (!e)
		rc = -EFAULT;
	else
		*e = unmap ? 0 : (*e & PTE_ADDR) | newbits;
	invlpg(va);
	spin_unlock_irqrestore(&paging_lock, flags);
	if (!rc)
		tlb_shootdown(va);
	return rc;
}

int paging_unmap(u64 va)
{
	return paging_modify(va, 0, true);
}

int paging_protect(u64 va, unsigned prot)
{
	return paging_modify(va, prot_bits(prot), false);
}

u64 paging_root(void)
{
	return virt_to_phys(kernel_pml4);
}

/* ---------------------------------------------------------------- init ---- */

static u64 image_start, image_end; /* physical bounds of the kernel image */

static unsigned image_prot(u64 pa)
{
	u64 va = pa + KERNEL_DIRECT_MAP;

	if (va >= (u64)__text_start && va < (u64)__text_end)
		return MAP_EXEC;
	if (va >= (u64)__rodata_start && va < (u64)__rodata_end)
		return 0;
	return MAP_WRITE;
}

static int map_early(u64 pa, int level, unsigned prot)
{
	u64 *e = walk_create(pa + KERNEL_DIRECT_MAP, level);

	if (!e)
		return -ENOMEM;
	if (!(*e & PTE_P))
		*e = pa | prot_bits(prot) | (level ? PTE_PS : 0);
	return 0;
}

/* Direct-map [start, end) of RAM with @prot (the image keeps its own). */
static int map_ram(u64 start, u64 end, unsigned prot)
{
	u64 pa = ALIGN_DOWN(start, PAGE_SIZE);
	int rc = 0;

	end = ALIGN_UP(end, PAGE_SIZE);
	while (pa < end && !rc) {
		bool touches_image = pa < image_end && pa + LARGE_2M > image_start;

		if (IS_ALIGNED(pa, LARGE_2M) && pa + LARGE_2M <= end && !touches_image) {
			rc = map_early(pa, 1, prot);
			pa += LARGE_2M;
		} else {
			bool in_image = pa >= image_start && pa < image_end;

			rc = map_early(pa, 0, in_image ? image_prot(pa) : prot);
			pa += PAGE_SIZE;
		}
	}
	return rc;
}

int paging_init(void)
{
	int rc;

	nx_enabled = rdmsr(MSR_EFER) & EFER_NXE;
	image_start = (u64)__boot_start;
	image_end = virt_to_phys(__kernel_end);
	kernel_pml4 = page_zalloc(1);
	if (!kernel_pml4)
		return -ENOMEM;
	rc = map_ram(0, 1ULL << 20, MAP_WRITE);
	rc = rc ?: map_ram(image_start, image_end, MAP_WRITE);
	for (unsigned i = 0; i < boot_info.mmap_count && !rc; i++) {
		const struct mb2_mmap_entry *e = &boot_info.mmap[i];
		int prot = memmap_entry_prot(e);

		if (prot >= 0)
			rc = map_ram(e->base, e->base + e->len, (unsigned)prot);
	}
	if (rc)
		return rc;
	write_cr0(read_cr0() | CR0_WP);
	write_cr3(virt_to_phys(kernel_pml4));
	write_cr4(read_cr4() | CR4_PGE);
	pr_info("paging: direct map of RAM built, kernel image W^X, NX %s",
		nx_enabled ? "on" : "not supported by this CPU");
	return 0;
}

void *mmio_map(u64 pa, u64 size)
{
	u64 first = ALIGN_DOWN(pa, PAGE_SIZE), last = ALIGN_UP(pa + size, PAGE_SIZE);
	u64 va, flags;

	if (!size || last <= first)
		return NULL;
	flags = spin_lock_irqsave(&paging_lock);
	va = mmio_next;
	if (va + (last - first) > VA_MMIO_END) {
		spin_unlock_irqrestore(&paging_lock, flags);
		return NULL;
	}
	mmio_next += last - first + PAGE_SIZE; /* an unmapped page between mappings */
	spin_unlock_irqrestore(&paging_lock, flags);
	for (u64 off = 0; off < last - first; off += PAGE_SIZE)
		if (paging_map(va + off, first + off, MAP_WRITE | MAP_UNCACHED))
			return NULL;
	return (void *)(va + (pa - first));
}
