/*
 * buddy.c — the binary buddy allocator of buddy.h.
 *
 * Life of a frame.  buddy_init() leaves every frame RESERVED.  When a range
 * is added its frames become TAIL and the range is released block by block
 * (buddy_release_run()), so each block's head turns FREE and joins the free
 * list of its order.  buddy_alloc() pops a block, splits it in halves until
 * it has the order it needs (each upper half pushed back as a free block),
 * marks the head ALLOC with the page count and releases the unused end of
 * the block.  buddy_free() checks the head, then releases the run exactly
 * as the end of an allocation is released.
 *
 * Releasing a block (buddy_release_block()) is where merging happens: while
 * the buddy, pfn ^ 2^order, is the head of a free block of the same order,
 * the buddy leaves its list, the pair becomes one block of the next order
 * and the loop tries again one level up.  The head that disappears in a merge
 * becomes TAIL, so the only frames that say FREE are heads of blocks that
 * are on a list — the fact the buddy test relies on.  A frame outside the
 * span, a RESERVED frame (a hole in the memory map) or a frame inside an
 * allocation is never a FREE head, so blocks never merge across holes or
 * into memory that is in use.
 *
 * Cutting a run into blocks (buddy_release_run()): starting at the first
 * frame, take the largest order that both divides the pfn and fits in what
 * is left (capped at BUDDY_MAX_ORDER).  For an allocation aligned to 2^k
 * this yields one block per set bit of the count, largest first.  The
 * pieces of an allocation's unused end cannot merge with anything: each
 * one's buddy overlaps the allocation or is a differently sized piece.
 *
 * Free lists are doubly linked through the prev/next fields of their head
 * frames' metadata, as frame indexes within the span, so pushing, popping
 * and unlinking a block (for a merge) are O(1) and touch no managed frame.
 */
#include "mm/buddy.h"
#include "lib/string.h"
#include "errno.h"

static inline u64 order_pages(unsigned order)
{
	return 1ULL << order;
}

/* Smallest k with 2^k >= n, for n >= 1. */
static unsigned order_for_count(u64 n)
{
	return n <= 1 ? 0 : 64 - (unsigned)__builtin_clzll(n - 1);
}

/* Largest k with 2^k <= n, for n >= 1. */
static unsigned order_floor(u64 n)
{
	return 63 - (unsigned)__builtin_clzll(n);
}

/* Number of trailing zero bits of @pfn: the largest order it is aligned to. */
static unsigned pfn_alignment_order(u64 pfn)
{
	return pfn ? (unsigned)__builtin_ctzll(pfn) : 64;
}

static struct buddy_page *buddy_page(const struct buddy *b, u64 pfn)
{
	return &b->meta[pfn - b->base_pfn];
}

/* True when [@pfn, @pfn + @count) lies inside the span; @count may be 0. */
static bool buddy_range_ok(const struct buddy *b, u64 pfn, u64 count)
{
	return buddy_contains(b, pfn) && count <= b->npages - (pfn - b->base_pfn);
}

static bool buddy_is_free_head(const struct buddy *b, u64 pfn, unsigned order)
{
	const struct buddy_page *pg;

	if (!buddy_contains(b, pfn))
		return false;
	pg = buddy_page(b, pfn);
	return pg->state == BUDDY_PAGE_FREE && pg->order == order;
}

/* Make @pfn the head of a free block of @order and put it on its list. */
static void buddy_push(struct buddy *b, u64 pfn, unsigned order)
{
	struct buddy_page *pg = buddy_page(b, pfn);
	u32 idx = (u32)(pfn - b->base_pfn), first = b->free_head[order];

	pg->state = BUDDY_PAGE_FREE;
	pg->order = (u8)order;
	pg->count = 0;
	pg->prev = BUDDY_NIL;
	pg->next = first;
	if (first != BUDDY_NIL)
		b->meta[first].prev = idx;
	b->free_head[order] = idx;
	b->nfree_blocks[order]++;
	b->free_pages += order_pages(order);
}

/* Take the free block headed by @pfn off its list; its head becomes TAIL. */
static void buddy_unlink(struct buddy *b, u64 pfn, unsigned order)
{
	struct buddy_page *pg = buddy_page(b, pfn);

	if (pg->prev != BUDDY_NIL)
		b->meta[pg->prev].next = pg->next;
	else
		b->free_head[order] = pg->next;
	if (pg->next != BUDDY_NIL)
		b->meta[pg->next].prev = pg->prev;
	pg->prev = pg->next = 0;
	pg->state = BUDDY_PAGE_TAIL;
	pg->order = 0;
	b->nfree_blocks[order]--;
	b->free_pages -= order_pages(order);
}

/*
 * Free the block of @order at @pfn, whose frames are all TAIL apart from the
 * head (which may still say ALLOC), merging it with free buddies.
 */
static void buddy_release_block(struct buddy *b, u64 pfn, unsigned order)
{
	buddy_page(b, pfn)->state = BUDDY_PAGE_TAIL;
	while (order < BUDDY_MAX_ORDER) {
		u64 buddy = pfn ^ order_pages(order);

		if (!buddy_is_free_head(b, buddy, order))
			break;
		buddy_unlink(b, buddy, order);
		pfn = MIN(pfn, buddy);
		order++;
	}
	buddy_push(b, pfn, order);
}

/* Free the run [@pfn, @pfn + @count) as the largest aligned blocks that fit. */
static void buddy_release_run(struct buddy *b, u64 pfn, u64 count)
{
	while (count) {
		unsigned order = MIN(pfn_alignment_order(pfn), order_floor(count));

		order = MIN(order, (unsigned)BUDDY_MAX_ORDER);
		buddy_release_block(b, pfn, order);
		pfn += order_pages(order);
		count -= order_pages(order);
	}
}

void buddy_init(struct buddy *b, u64 base_pfn, u64 npages, struct buddy_page *meta)
{
	unsigned i;

	memset(b, 0, sizeof(*b));
	b->base_pfn = base_pfn;
	b->npages = MIN(npages, (u64)BUDDY_NIL - 1);
	b->meta = meta;
	for (i = 0; i < BUDDY_NR_ORDERS; i++)
		b->free_head[i] = BUDDY_NIL;
	memset(meta, 0, b->npages * sizeof(*meta));
}

int buddy_add_free(struct buddy *b, u64 pfn, u64 count)
{
	u64 i;

	if (!count || !buddy_range_ok(b, pfn, count))
		return -EINVAL;
	for (i = 0; i < count; i++) {
		if (buddy_page(b, pfn + i)->state != BUDDY_PAGE_RESERVED)
			return -EINVAL;
	}
	for (i = 0; i < count; i++) {
		struct buddy_page *pg = buddy_page(b, pfn + i);

		pg->state = BUDDY_PAGE_TAIL;
		pg->flags = 0;
	}
	b->managed_pages += count;
	buddy_release_run(b, pfn, count);
	return 0;
}

/* Smallest order >= @order with a free block, or BUDDY_NR_ORDERS if none. */
static unsigned buddy_find_order(const struct buddy *b, unsigned order)
{
	while (order < BUDDY_NR_ORDERS && b->free_head[order] == BUDDY_NIL)
		order++;
	return order;
}

int buddy_alloc(struct buddy *b, unsigned n, u64 *pfn)
{
	unsigned want, have;
	struct buddy_page *pg;
	u64 head;

	if (n < 1 || n > BUDDY_MAX_ALLOC)
		return -EINVAL;
	want = order_for_count(n);
	have = buddy_find_order(b, want);
	if (have > BUDDY_MAX_ORDER)
		return -ENOMEM;
	head = b->base_pfn + b->free_head[have];
	buddy_unlink(b, head, have);
	while (have > want) {
		have--;
		buddy_push(b, head + order_pages(have), have);
	}
	pg = buddy_page(b, head);
	pg->state = BUDDY_PAGE_ALLOC;
	pg->order = (u8)want;
	pg->count = n;
	b->live_allocs++;
	buddy_release_run(b, head + n, order_pages(want) - n);
	*pfn = head;
	return 0;
}

int buddy_free(struct buddy *b, u64 pfn, unsigned n)
{
	struct buddy_page *pg;
	u64 i;

	if (buddy_alloc_count(b, pfn) != n || n == 0)
		return -EINVAL;
	pg = buddy_page(b, pfn);
	pg->count = 0;
	pg->order = 0;
	for (i = 0; i < n; i++)
		buddy_page(b, pfn + i)->flags = 0;
	b->live_allocs--;
	buddy_release_run(b, pfn, n);
	return 0;
}

unsigned buddy_alloc_count(const struct buddy *b, u64 pfn)
{
	const struct buddy_page *pg;

	if (!buddy_contains(b, pfn))
		return 0;
	pg = buddy_page(b, pfn);
	return pg->state == BUDDY_PAGE_ALLOC ? pg->count : 0;
}

u64 buddy_free_pages(const struct buddy *b)
{
	return b->free_pages;
}

u64 buddy_largest_free(const struct buddy *b)
{
	unsigned order = BUDDY_NR_ORDERS;

	while (order-- > 0) {
		if (b->nfree_blocks[order])
			return order_pages(order);
	}
	return 0;
}

void buddy_get_stats(const struct buddy *b, struct buddy_stats *st)
{
	unsigned i;

	st->managed_pages = b->managed_pages;
	st->free_pages = b->free_pages;
	st->live_allocs = b->live_allocs;
	for (i = 0; i < BUDDY_NR_ORDERS; i++)
		st->free_blocks[i] = b->nfree_blocks[i];
	st->largest_free = buddy_largest_free(b);
}

int buddy_set_flags(struct buddy *b, u64 pfn, u64 n, u16 flags)
{
	u64 i;

	if (!buddy_range_ok(b, pfn, n))
		return -EINVAL;
	for (i = 0; i < n; i++)
		buddy_page(b, pfn + i)->flags = flags;
	return 0;
}

u16 buddy_flags(const struct buddy *b, u64 pfn)
{
	return buddy_contains(b, pfn) ? buddy_page(b, pfn)->flags : 0;
}

/* ------------------------------------------------------------ checking -- */

/*
 * What a walk over the frames found, compared at the end with what the
 * struct's counters claim.
 */
struct buddy_tally {
	u64 blocks[BUDDY_NR_ORDERS];
	u64 free_pages;
	u64 managed_pages;
	u64 live_allocs;
};

/* Frames [@pfn + 1, @pfn + @count) must all be TAIL and, if @clean, unflagged. */
static bool buddy_check_tail(const struct buddy *b, u64 pfn, u64 count, bool clean)
{
	u64 i;

	for (i = 1; i < count; i++) {
		const struct buddy_page *pg = buddy_page(b, pfn + i);

		if (pg->state != BUDDY_PAGE_TAIL || (clean && pg->flags))
			return false;
	}
	return true;
}

/* Check the free block headed by @pfn; returns its size, or 0 if it is bad. */
static u64 buddy_check_free_block(const struct buddy *b, u64 pfn, struct buddy_tally *t)
{
	unsigned order = buddy_page(b, pfn)->order;
	u64 size;

	if (order > BUDDY_MAX_ORDER)
		return 0;
	size = order_pages(order);
	if (!IS_ALIGNED(pfn, size) || !buddy_range_ok(b, pfn, size) ||
	    buddy_page(b, pfn)->flags || !buddy_check_tail(b, pfn, size, true))
		return 0;
	/* A free buddy of the same order should have been merged. */
	if (order < BUDDY_MAX_ORDER && buddy_is_free_head(b, pfn ^ size, order))
		return 0;
	t->blocks[order]++;
	t->free_pages += size;
	t->managed_pages += size;
	return size;
}

/* Check the allocation headed by @pfn; returns its size, or 0 if it is bad. */
static u64 buddy_check_alloc(const struct buddy *b, u64 pfn, struct buddy_tally *t)
{
	const struct buddy_page *pg = buddy_page(b, pfn);
	u64 count = pg->count;

	if (count < 1 || count > BUDDY_MAX_ALLOC || pg->order != order_for_count(count) ||
	    !IS_ALIGNED(pfn, order_pages(pg->order)) || !buddy_range_ok(b, pfn, count) ||
	    !buddy_check_tail(b, pfn, count, false))
		return 0;
	t->managed_pages += count;
	t->live_allocs++;
	return count;
}

/* Walk every frame in order, block by block, adding up what is found. */
static bool buddy_check_frames(const struct buddy *b, struct buddy_tally *t)
{
	u64 i = 0;

	while (i < b->npages) {
		u64 pfn = b->base_pfn + i, step;

		switch (buddy_page(b, pfn)->state) {
		case BUDDY_PAGE_RESERVED:
			step = 1;
			break;
		case BUDDY_PAGE_FREE:
			step = buddy_check_free_block(b, pfn, t);
			break;
		case BUDDY_PAGE_ALLOC:
			step = buddy_check_alloc(b, pfn, t);
			break;
		default: /* a TAIL with no head before it, or garbage */
			step = 0;
			break;
		}
		if (!step)
			return false;
		i += step;
	}
	return true;
}

/* Walk the free list of @order; every node must be a FREE head of @order. */
static bool buddy_check_list(const struct buddy *b, unsigned order)
{
	u32 prev = BUDDY_NIL, idx;
	u64 n = 0;

	for (idx = b->free_head[order]; idx != BUDDY_NIL; idx = b->meta[idx].next) {
		if (++n > b->npages || idx >= b->npages || b->meta[idx].prev != prev)
			return false;
		if (!buddy_is_free_head(b, b->base_pfn + idx, order))
			return false;
		prev = idx;
	}
	return n == b->nfree_blocks[order];
}

bool buddy_check(const struct buddy *b)
{
	struct buddy_tally t;
	unsigned i;

	memset(&t, 0, sizeof(t));
	if (!buddy_check_frames(b, &t))
		return false;
	for (i = 0; i < BUDDY_NR_ORDERS; i++) {
		if (!buddy_check_list(b, i) || t.blocks[i] != b->nfree_blocks[i])
			return false;
	}
	return t.free_pages == b->free_pages && t.managed_pages == b->managed_pages &&
	       t.live_allocs == b->live_allocs;
}
