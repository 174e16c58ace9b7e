/*
 * bitmap.h — fixed-size bit arrays in caller-owned storage.
 *
 * A bitmap of N bits is an array of BITMAP_WORDS(N) u64 words; bit i lives
 * in word i / 64 at position i % 64, so bit 0 is the least significant bit
 * of word 0.  The caller owns the storage (static, on the stack or
 * allocated) and passes its size in bits to every call that scans; the
 * helpers never look at a bit at or beyond that size, so the unused high
 * bits of the last word may hold anything.
 *
 * Searches return a bit index, or @nbits to mean "none" — the same idiom as
 * a one-past-the-end iterator, so `i < nbits` is the success test.
 *
 * No function locks: the caller serialises access to a shared bitmap.  The
 * single-bit operations are plain read-modify-write, not atomic.
 */
#ifndef NOS_LIB_BITMAP_H
#define NOS_LIB_BITMAP_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

#define BITMAP_WORD_BITS 64
/* Words needed for @nbits bits. */
#define BITMAP_WORDS(nbits) (((nbits) + BITMAP_WORD_BITS - 1) / BITMAP_WORD_BITS)

static inline void bitmap_set(u64 *map, size_t bit)
{
	map[bit / BITMAP_WORD_BITS] |= 1ULL << (bit % BITMAP_WORD_BITS);
}

static inline void bitmap_clear(u64 *map, size_t bit)
{
	map[bit / BITMAP_WORD_BITS] &= ~(1ULL << (bit % BITMAP_WORD_BITS));
}

static inline bool bitmap_test(const u64 *map, size_t bit)
{
	return (map[bit / BITMAP_WORD_BITS] >> (bit % BITMAP_WORD_BITS)) & 1;
}

/* Clear / set all @nbits bits (whole words: the tail of the last word too). */
void bitmap_zero(u64 *map, size_t nbits);
void bitmap_fill(u64 *map, size_t nbits);

/* Set / clear bits @start .. @start + @count - 1; the range must lie inside. */
void bitmap_set_range(u64 *map, size_t start, size_t count);
void bitmap_clear_range(u64 *map, size_t start, size_t count);

/* Number of set bits among the first @nbits. */
size_t bitmap_count(const u64 *map, size_t nbits);

/*
 * First set / clear bit at index >= @start and < @nbits, or @nbits when
 * there is none (also when @start >= @nbits).
 */
size_t bitmap_find_next_set(const u64 *map, size_t nbits, size_t start);
size_t bitmap_find_next_zero(const u64 *map, size_t nbits, size_t start);

static inline size_t bitmap_find_first_set(const u64 *map, size_t nbits)
{
	return bitmap_find_next_set(map, nbits, 0);
}

static inline size_t bitmap_find_first_zero(const u64 *map, size_t nbits)
{
	return bitmap_find_next_zero(map, nbits, 0);
}

/*
 * Lowest index i >= @start such that i is a multiple of @align and bits
 * i .. i + @count - 1 are all clear and below @nbits.  @align must be a
 * power of two (1 for no alignment); @count must be > 0.  Returns @nbits
 * when no such run exists.  Does not change the map: the caller sets the
 * run with bitmap_set_range() once it decides to take it.
 */
size_t bitmap_find_zero_run(const u64 *map, size_t nbits, size_t start,
			    size_t count, size_t align);

#endif
