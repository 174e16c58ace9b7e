/*
 * crc32.c — CRC-32 and CRC-32C (see crc32.h for the parameters).
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
 * leaves no 256 magic numbers to mistype.  Each polynomial has its table
 * (and, built from it, eight more for slicing by 8); on a CPU with SSE4.2
 * the crc32 instruction takes eight bytes of CRC-32C at a time (it works on
 * general registers only, so the kernel may use it without saving vector
 * state).
 */
#include "lib/crc32.h"

#define CRC32_POLY 0xEDB88320u  /* IEEE 802.3, reflected */
#define CRC32C_POLY 0x82F63B78u /* Castagnoli, reflected */

#define CRC_STEP(r, p) (((r) >> 1) ^ (((r) & 1u) ? (p) : 0u))
#define CRC_STEP2(r, p) CRC_STEP(CRC_STEP(r, p), p)
#define CRC_STEP4(r, p) CRC_STEP2(CRC_STEP2(r, p), p)
#define CRC_ENTRY(i, p) CRC_STEP4(CRC_STEP4((u32)(i), p), p)

#define CRC_ROWS_1(i, p) CRC_ENTRY(i, p)
#define CRC_ROWS_2(i, p) CRC_ROWS_1(i, p), CRC_ROWS_1((i) + 1, p)
#define CRC_ROWS_4(i, p) CRC_ROWS_2(i, p), CRC_ROWS_2((i) + 2, p)
#define CRC_ROWS_8(i, p) CRC_ROWS_4(i, p), CRC_ROWS_4((i) + 4, p)
#define CRC_ROWS_16(i, p) CRC_ROWS_8(i, p), CRC_ROWS_8((i) + 8, p)
#define CRC_ROWS_32(i, p) CRC_ROWS_16(i, p), CRC_ROWS_16((i) + 16, p)
#define CRC_ROWS_64(i, p) CRC_ROWS_32(i, p), CRC_ROWS_32((i) + 32, p)
#define CRC_ROWS_128(i, p) CRC_ROWS_64(i, p), CRC_ROWS_64((i) + 64, p)
#define CRC_ROWS_256(p) CRC_ROWS_128(0, p), CRC_ROWS_128(128, p)

static const u32 crc32_table[256] = { CRC_ROWS_256(CRC32_POLY) };
static const u32 crc32c_table[256] = { CRC_ROWS_256(CRC32C_POLY) };

/* The byte-at-a-time loop over the raw register (no presetting or inversion). */
static u32 crc_bytes(const u32 *table, u32 r, const u8 *p, size_t len)
{
	while (len--)
		r = (r >> 8) ^ table[(r ^ *p++) & 0xff];
	return r;
}

/*
 * Slicing by 8: eight tables, each byte of an 8-byte word looked up in its
 * own, for CPUs without the crc32 instruction, for QEMU's TCG (which
 * emulates that instruction one bit at a time, slower than any table) and
 * for CRC-32, which has no instruction.  A polynomial's eight tables are
 * built once, at its first long buffer, by whichever CPU gets there first;
 * the others take the byte table meanwhile rather than wait.
 */
enum { SLICES_NONE, SLICES_BUILDING, SLICES_READY };

struct crc_slices {
	const u32 *table;           /* [I] the byte table they are built from */
	int state;                  /* [a] SLICES_* */
	u32 t[8][256];              /* [state] t[k][i]: byte i followed by k zero bytes */
};

static struct crc_slices crc32_slices = { .table = crc32_table };
static struct crc_slices crc32c_slices = { .table = crc32c_table };

static bool slices_ready(struct crc_slices *s)
{
	int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE), none = SLICES_NONE;

	if (st == SLICES_READY)
		return true;
	if (st != SLICES_NONE || !__atomic_compare_exchange_n(&s->state, &none, SLICES_BUILDING,
							      false, __ATOMIC_ACQUIRE,
							      __ATOMIC_RELAXED))
		return false;
	for (unsigned i = 0; i < 256; i++)
		s->t[0][i] = s->table[i];
	for (unsigned k = 1; k < 8; k++)
		for (unsigned i = 0; i < 256; i++)
			s->t[k][i] = (s->t[k - 1][i] >> 8) ^ s->table[s->t[k - 1][i] & 0xff];
	__atomic_store_n(&s->state, SLICES_READY, __ATOMIC_RELEASE);
	return true;
}

static u32 crc_sliced(const struct crc_slices *s, u32 r, const u8 *p, size_t len)
{
	for (; len >= 8; p += 8, len -= 8) {
		u64 q;

		__builtin_memcpy(&q, p, 8);
		q ^= r; /* little-endian: the register meets the first four bytes */
		r = s->t[7][q & 0xff] ^ s->t[6][(q >> 8) & 0xff] ^ s->t[5][(q >> 16) & 0xff] ^
		    s->t[4][(q >> 24) & 0xff] ^ s->t[3][(q >> 32) & 0xff] ^
		    s->t[2][(q >> 40) & 0xff] ^ s->t[1][(q >> 48) & 0xff] ^ s->t[0][q >> 56];
	}
	return crc_bytes(s->table, r, p, len);
}

/* The raw register over @len bytes by tables: sliced when it pays. */
static u32 crc_soft(struct crc_slices *s, u32 r, const u8 *p, size_t len)
{
	if (len >= 64 && slices_ready(s))
		return crc_sliced(s, r, p, len);
	return crc_bytes(s->table, r, p, len);
}

u32 crc32_update(u32 crc, const void *buf, size_t len)
{
	return ~crc_soft(&crc32_slices, ~crc, buf, len);
}

u32 crc32(const void *buf, size_t len)
{
	return crc32_update(0, buf, len);
}

/* ------------------------------------------------------------ CRC-32C */

/*
 * The crc32 instruction, 8 bytes a step, on a real CPU with SSE4.2; the
 * tables elsewhere (and under TCG: see above).
 */
enum { IMPL_UNKNOWN, IMPL_TABLE, IMPL_INSN };

static int crc32c_impl;             /* [a] IMPL_*: which way this CPU model goes */

static void cpuid(u32 leaf, u32 r[4])
{
	__asm__ __volatile__("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "a"(leaf), "c"(0));
}

/* Is the crc32 instruction there, and worth using (not TCG's bit loop)? */
static bool insn_worth_it(void)
{
	u32 r[4];

	cpuid(1, r);
	if (!(r[2] & (1u << 20)))    /* SSE4.2 */
		return false;
	if (!(r[2] & (1u << 31)))    /* no hypervisor */
		return true;
	cpuid(0x40000000u, r);
	return !(r[1] == 0x54474354u && r[2] == 0x43544743u && r[3] == 0x47435447u); /* "TCGTCGTCGTCG" */
}

static u32 crc32c_insn(u32 r, const u8 *p, size_t len)
{
	u64 r64 = r;

	for (; len >= 8; p += 8, len -= 8) {
		u64 q;

		__builtin_memcpy(&q, p, 8);
		__asm__("crc32q %1, %0" : "+r"(r64) : "rm"(q));
	}
	r = (u32)r64;
	for (; len; p++, len--)
		__asm__("crc32b %1, %0" : "+r"(r) : "rm"(*p));
	return r;
}

u32 crc32c_soft_update(u32 crc, const void *buf, size_t len)
{
	return ~crc_soft(&crc32c_slices, ~crc, buf, len);
}

u32 crc32c_update(u32 crc, const void *buf, size_t len)
{
	int impl = __atomic_load_n(&crc32c_impl, __ATOMIC_RELAXED);

	if (impl == IMPL_UNKNOWN) { /* every CPU finds the same answer: the race is benign */
		impl = insn_worth_it() ? IMPL_INSN : IMPL_TABLE;
		__atomic_store_n(&crc32c_impl, impl, __ATOMIC_RELAXED);
	}
	if (impl == IMPL_INSN)
		return ~crc32c_insn(~crc, buf, len);
	return crc32c_soft_update(crc, buf, len);
}

u32 crc32c(const void *buf, size_t len)
{
	return crc32c_update(0, buf, len);
}
