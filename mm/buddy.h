/*
 * buddy.h — a binary buddy allocator of physical page frames.
 *
 * One struct buddy manages the frames [base_pfn, base_pfn + npages).  Free
 * memory is kept as blocks of 2^order frames (order 0..BUDDY_MAX_ORDER),
 * each "naturally aligned": the block's first pfn is a multiple of its size.
 * Alignment is in absolute pfn space, not relative to base_pfn, so a block of
 * order k here is also 2^k * 4 KiB aligned physically.  Two blocks of the same
 * order that differ only in bit `order` of their pfn are buddies; when both
 * are free they merge into one block of the next order, and that is what
 * keeps large contiguous runs available after many small allocations.
 *
 * The allocator is pure bookkeeping: it never locks, prints, maps or panics.
 * The kernel glue (mm/page_alloc.c) serialises every call with its lock,
 * builds the ranges from the memory map, and turns an -EINVAL from
 * buddy_free() into a panic.  The same code runs on the host in the unit
 * tests.
 *
 * Where the state lives:
 *  - struct buddy_page, one per frame, 16 bytes, in an array the caller
 *    provides.  Only block heads carry meaning: a free block's head says
 *    BUDDY_PAGE_FREE and its order; an allocation's head says
 *    BUDDY_PAGE_ALLOC and its page count; every other frame of a managed
 *    block says BUDDY_PAGE_TAIL; frames never handed to the allocator stay
 *    BUDDY_PAGE_RESERVED.
 *  - the free lists, doubly linked through the metadata of their head
 *    frames (prev/next are frame indexes within the span).  The allocator
 *    never reads or writes the frames it manages: a machine whose RAM is
 *    backed lazily (a virtual machine) pays nothing at boot for memory
 *    nobody has used yet, and allocated frames are never disturbed.
 *
 * Allocations are 1..BUDDY_MAX_ALLOC pages and need not be a power of two.
 * buddy_alloc(n) takes a block of order k = ceil(log2 n), keeps its first n
 * frames and at once frees the other 2^k - n as smaller aligned blocks, so
 * no frame is wasted.  The result is aligned to 2^k frames (an allocation of
 * 5 pages starts on an 8-page boundary).  buddy_free() must be given the same
 * pfn and count; it splits the run the same way and merges each piece with
 * its free buddies.  Every operation is O(BUDDY_MAX_ORDER), not O(n), apart
 * from buddy_free() clearing the per-frame flags of the run it frees.
 *
 * Per-frame flags (BUDDY_FLAG_*) are a u16 the holder of an allocation may
 * set on its frames so that other code can recognise them from a pfn alone:
 * the pool's slabs carry BUDDY_FLAG_SLAB, so kfree() can tell a pool object
 * from a page allocation.  Flags are cleared when frames are given to the
 * allocator or freed, so a free frame never carries a stale flag.
 */
#ifndef NOS_MM_BUDDY_H
#define NOS_MM_BUDDY_H

#include "compiler.h" /* before types.h: see lib/ktest.h */
#include "types.h"

/* Largest block: 2^10 frames = 4 MiB. */
#define BUDDY_MAX_ORDER 10
#define BUDDY_NR_ORDERS (BUDDY_MAX_ORDER + 1)
/* Largest single allocation in frames (order 7, 512 KiB). */
#define BUDDY_MAX_ALLOC 128

/* struct buddy_page.state */
enum buddy_page_state {
	BUDDY_PAGE_RESERVED = 0, /* not managed: never given to buddy_add_free() */
	BUDDY_PAGE_TAIL,         /* managed, inside a block but not its head */
	BUDDY_PAGE_FREE,         /* head of a free block of 2^order frames */
	BUDDY_PAGE_ALLOC,        /* head of an allocation of count frames */
};

/* Per-frame flags (struct buddy_page.flags), owned by the allocation's holder. */
#define BUDDY_FLAG_SLAB 0x0001u /* frame belongs to a pool slab (mm/pool.h) */

/*
 * Per-frame metadata.  The caller allocates one per managed frame and hands
 * the array to buddy_init(); after that only this allocator writes it
 * (flags through buddy_set_flags()).
 */
struct buddy_page {
	u8 state;  /* enum buddy_page_state */
	u8 order;  /* FREE: block order; ALLOC: order of the block it came from */
	u16 flags; /* BUDDY_FLAG_* */
	u32 count; /* ALLOC: frames in the allocation; otherwise 0 */
	u32 prev;  /* FREE heads: neighbours on the free list, BUDDY_NIL at the ends */
	u32 next;
};

_Static_assert(sizeof(struct buddy_page) == 16, "struct buddy_page must stay small");

#define BUDDY_NIL 0xFFFFFFFFu /* no frame (list end); spans are below 2^32 frames */

/*
 * One allocator instance.
 *
 * Legend: [I] set by buddy_init() and never changed; [L] read and written
 * only under the caller's lock (this file takes none).  The per-frame
 * metadata and the links inside free frames are [L] as well.
 */
struct buddy {
	u64 base_pfn;                          /* [I] first frame */
	u64 npages;                            /* [I] frames in the span */
	struct buddy_page *meta;               /* [I] npages entries */
	u32 free_head[BUDDY_NR_ORDERS];        /* [L] first free block per order (index) */
	u64 nfree_blocks[BUDDY_NR_ORDERS];     /* [L] length of each free list */
	u64 free_pages;                        /* [L] frames in free blocks */
	u64 managed_pages;                     /* [L] frames ever added */
	u64 live_allocs;                       /* [L] allocations not yet freed */
};

/* A snapshot for statistics and tests (see buddy_get_stats()). */
struct buddy_stats {
	u64 managed_pages;                 /* frames handed over by add_free */
	u64 free_pages;                    /* of those, frames now free */
	u64 live_allocs;                   /* allocations not yet freed */
	u64 free_blocks[BUDDY_NR_ORDERS];  /* free blocks per order */
	u64 largest_free;                  /* largest free block in frames, 0 if none */
};

/*
 * Set up @b over frames [@base_pfn, @base_pfn + @npages).  @meta must hold
 * @npages entries; it is cleared, so every frame starts RESERVED and nothing
 * is free until buddy_add_free().  @npages is capped below BUDDY_NIL.
 */
void buddy_init(struct buddy *b, u64 base_pfn, u64 npages, struct buddy_page *meta);

/*
 * Hand the frames [@pfn, @pfn + @count) to the allocator as free memory.
 * The range is cut into the largest naturally aligned blocks that fit, and
 * each is merged with any free buddy, so ranges may be added in any order
 * and adjacent ranges coalesce.  Returns 0, or -EINVAL (and changes nothing)
 * when @count is 0, the range leaves the span, or any frame in it was
 * already added.  O(@count).
 */
int buddy_add_free(struct buddy *b, u64 pfn, u64 count);

/*
 * Allocate @n contiguous frames, 1 <= @n <= BUDDY_MAX_ALLOC, and store the
 * first pfn in *@pfn.  The run is aligned to 2^ceil(log2 @n) frames.  Returns
 * 0, -EINVAL for @n out of range, or -ENOMEM when no free block is large
 * enough (*@pfn is untouched on failure).  Frame contents are not cleared.
 */
int buddy_alloc(struct buddy *b, unsigned n, u64 *pfn);

/*
 * Free the allocation of @n frames that buddy_alloc() returned at @pfn.
 * Returns 0, or -EINVAL and changes nothing when @pfn is not the first frame
 * of a live allocation of exactly @n frames: a double free, a frame that was
 * never handed out, an interior frame, a wrong count or a pfn outside the
 * span.  Clears the flags of the freed frames.
 */
int buddy_free(struct buddy *b, u64 pfn, unsigned n);

/*
 * Frames in the live allocation that starts at @pfn, or 0 when @pfn is not
 * the first frame of one (lets kfree() find the size of a page allocation).
 */
unsigned buddy_alloc_count(const struct buddy *b, u64 pfn);

/* Frames currently free. */
u64 buddy_free_pages(const struct buddy *b);

/* Size in frames of the largest free block (0 when nothing is free). */
u64 buddy_largest_free(const struct buddy *b);

/* Fill @st with the current counters. */
void buddy_get_stats(const struct buddy *b, struct buddy_stats *st);

/*
 * Set the flags of frames [@pfn, @pfn + @n) to @flags.  Returns 0, or
 * -EINVAL when the range leaves the span.  The allocator does not check that
 * the caller holds those frames; setting flags on frames it does not hold is
 * a bug in the caller.
 */
int buddy_set_flags(struct buddy *b, u64 pfn, u64 n, u16 flags);

/* Flags of frame @pfn, 0 for a pfn outside the span. */
u16 buddy_flags(const struct buddy *b, u64 pfn);

/* True when @pfn lies inside the span (managed or not). */
static inline bool buddy_contains(const struct buddy *b, u64 pfn)
{
	return pfn >= b->base_pfn && pfn - b->base_pfn < b->npages;
}

/*
 * Check every invariant: each free-list entry is a FREE head of the list's
 * order, aligned, inside the span and linked consistently; walking the frames
 * finds exactly the blocks the lists hold, each followed by TAIL frames; no
 * two free buddies of the same order are left unmerged; and the counters
 * agree.  O(npages); for tests and debug commands.  Returns true when all
 * hold.
 */
bool buddy_check(const struct buddy *b);

#endif
