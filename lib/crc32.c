/*
 * crc32.c — table-driven CRC-32 (see crc32.h for the parameters).
 *
 * The classic byte-at-a-time method: the low byte of the register, XORed
 * with the next data byte, selects one of 256 precomputed remainders, and
 * the register shifts right by eight.  Each table entry is the remainder of
 * its index after eight steps of the bitwise algorithm
 *
 *     r = (r >> 1) ^ (r & 1 ? POLY : 0)
 *
 * The table is computed by the compiler, not typed in: CRC_ENTRY() spells
 * the eight steps out as a constant expression and the CRC_ROWS_*() macros
 * instantiate it for every index 0..255.  That keeps it in .rodata — no
 * run-time initialisation to race on when several CPUs start at once — and
 * leaves no 256 magic numbers to mistype.
 */
#include "lib/crc32.h"

#define CRC_POLY 0xEDB88320u

#define CRC_STEP(r) (((r) >> 1) ^ (((r) & 1u) ? CRC_POLY : 0u))
#define CRC_STEP2(r) CRC_STEP(CRC_STEP(r))
#define CRC_STEP4(r) CRC_STEP2(CRC_STEP2(r))
#define CRC_ENTRY(i) CRC_STEP4(CRC_STEP4((u32)(i)))

#define CRC_ROWS_1(i) CRC_ENTRY(i)
#define CRC_ROWS_2(i) CRC_ROWS_1(i), CRC_ROWS_1((i) + 1)
#define CRC_ROWS_4(i) CRC_ROWS_2(i), CRC_ROWS_2((i) + 2)
#define CRC_ROWS_8(i) CRC_ROWS_4(i), CRC_ROWS_4((i) + 4)
#define CRC_ROWS_16(i) CRC_ROWS_8(i), CRC_ROWS_8((i) + 8)
#define CRC_ROWS_32(i) CRC_ROWS_16(i), CRC_ROWS_16((i) + 16)
#define CRC_ROWS_64(i) CRC_ROWS_32(i), CRC_ROWS_32((i) + 32)
#define CRC_ROWS_128(i) CRC_ROWS_64(i), CRC_ROWS_64((i) + 64)
#define CRC_ROWS_256(i) CRC_ROWS_128(i), CRC_ROWS_128((i) + 128)

static const u32 crc32_table[256] = { CRC_ROWS_256(0) };

u32 crc32_update(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;
	u32 r = ~crc;

	while (len--)
		r = (r >> 8) ^ crc32_table[(r ^ *p++) & 0xff];
	return ~r;
}

u32 crc32(const void *buf, size_t len)
{
	return crc32_update(0, buf, len);
}
