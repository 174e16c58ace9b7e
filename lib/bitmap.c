/*
 * bitmap.c — scans and range operations for bitmap.h.
 *
 * Scans go a word at a time.  To look for a clear bit the word is inverted,
 * so both searches reduce to "lowest set bit of a word at or after bit
 * @start", which __builtin_ctzll answers in one instruction.  The first word
 * is masked so bits below @start do not count, and a hit at or beyond
 * @nbits (possible in the last, partly used word) is reported as none.
 *
 * A zero run is found by alternation: jump to the next clear bit (rounded up
 * to the alignment), then look for a set bit inside the candidate run; if
 * there is one the run cannot start at or before it, so resume just past
 * it.  Each step moves forward, and each hops over at least one bit, so the
 * scan is linear in the bitmap's size.
 */
#include "lib/bitmap.h"
#include "compiler.h"

/* Mask of the bits at or above position @bit % 64 within its word. */
static u64 bitmap_mask_from(size_t bit)
{
	return ~0ULL << (bit % BITMAP_WORD_BITS);
}

void bitmap_zero(u64 *map, size_t nbits)
{
	size_t i;

	for (i = 0; i < BITMAP_WORDS(nbits); i++)
		map[i] = 0;
}

void bitmap_fill(u64 *map, size_t nbits)
{
	size_t i;

	for (i = 0; i < BITMAP_WORDS(nbits); i++)
		map[i] = ~0ULL;
}

/* Set (@on) or clear bits [@start, @start + @count), a word at a time. */
static void bitmap_assign_range(u64 *map, size_t start, size_t count, bool on)
{
	size_t end = start + count;

	while (start < end) {
		size_t w = start / BITMAP_WORD_BITS, shift = start % BITMAP_WORD_BITS;
		size_t span = MIN(end - start, BITMAP_WORD_BITS - shift);
		u64 mask = span == BITMAP_WORD_BITS ? ~0ULL : ((1ULL << span) - 1) << shift;

		if (on)
			map[w] |= mask;
		else
			map[w] &= ~mask;
		start += span;
	}
}

void bitmap_set_range(u64 *map, size_t start, size_t count)
{
	bitmap_assign_range(map, start, count, true);
}

void bitmap_clear_range(u64 *map, size_t start, size_t count)
{
	bitmap_assign_range(map, start, count, false);
}

size_t bitmap_count(const u64 *map, size_t nbits)
{
	size_t full = nbits / BITMAP_WORD_BITS;
	size_t n = 0, i;

	for (i = 0; i < full; i++)
		n += (size_t)__builtin_popcountll(map[i]);
	if (nbits % BITMAP_WORD_BITS)
		n += (size_t)__builtin_popcountll(map[full] & ~bitmap_mask_from(nbits));
	return n;
}

/*
 * Lowest bit >= @start whose value is 1 in the map XOR @flip (0 to find set
 * bits, ~0 to find clear ones), or @nbits.
 */
static size_t bitmap_scan(const u64 *map, size_t nbits, size_t start, u64 flip)
{
	size_t w, words = BITMAP_WORDS(nbits);
	u64 cur;

	if (start >= nbits)
		return nbits;
	w = start / BITMAP_WORD_BITS;
	cur = (map[w] ^ flip) & bitmap_mask_from(start);
	while (!cur) {
		if (++w >= words)
			return nbits;
		cur = map[w] ^ flip;
	}
	return MIN(nbits, w * BITMAP_WORD_BITS + (size_t)__builtin_ctzll(cur));
}

size_t bitmap_find_next_set(const u64 *map, size_t nbits, size_t start)
{
	return bitmap_scan(map, nbits, start, 0);
}

size_t bitmap_find_next_zero(const u64 *map, size_t nbits, size_t start)
{
	return bitmap_scan(map, nbits, start, ~0ULL);
}

size_t bitmap_find_zero_run(const u64 *map, size_t nbits, size_t start,
			    size_t count, size_t align)
{
	size_t i = start, hit;

	for (;;) {
		i = bitmap_find_next_zero(map, nbits, i);
		i = ALIGN_UP(i, align);
		if (i >= nbits || count > nbits - i)
			return nbits;
		hit = bitmap_find_next_set(map, i + count, i);
		if (hit == i + count)
			return i;
		i = hit + 1;
	}
}
