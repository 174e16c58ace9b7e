/*
 * byteorder.h — conversions between CPU byte order and the fixed orders of
 * wire formats and disk layouts.
 *
 * Two kinds of helper:
 *
 *  - Value conversions: cpu_to_be16/32/64, be16/32/64_to_cpu and the little
 *    endian ones.  On x86 the big-endian ones are a single bswap and the
 *    little-endian ones cost nothing.  The familiar BSD/POSIX spellings —
 *    htons, htonl, ntohs, ntohl, htobe16 ... be64toh, htole16 ... le64toh —
 *    are provided as macros over these.
 *
 *  - Memory accessors: get_be16(p), put_le32(p, v) and so on read or write
 *    a value of a given byte order at any address, aligned or not.  Use them
 *    on packet and disk buffers instead of casting a byte pointer to a
 *    wider type, which is undefined behaviour when the address is not
 *    aligned (and is caught by UBSan in the host tests).  They are written
 *    byte by byte; the compiler turns each into one load or store.
 *
 * Host builds: libc also defines htons and friends, as functions in
 * <arpa/inet.h> and often as macros there and in <endian.h> (which
 * <stdlib.h> pulls in).  Each alias below is therefore defined only if the
 * name is not already a macro, so a libc definition seen earlier wins — it
 * computes the same thing.  A host file that includes both must include the
 * libc header first; the primary names (cpu_to_be32, ...) never clash.
 */
#ifndef NOS_LIB_BYTEORDER_H
#define NOS_LIB_BYTEORDER_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "byteorder.h assumes a little-endian CPU"
#endif

/* ---- value conversions ------------------------------------------------- */

static inline u16 cpu_to_be16(u16 v) { return __builtin_bswap16(v); }
static inline u32 cpu_to_be32(u32 v) { return __builtin_bswap32(v); }
static inline u64 cpu_to_be64(u64 v) { return __builtin_bswap64(v); }
static inline u16 be16_to_cpu(u16 v) { return __builtin_bswap16(v); }
static inline u32 be32_to_cpu(u32 v) { return __builtin_bswap32(v); }
static inline u64 be64_to_cpu(u64 v) { return __builtin_bswap64(v); }

static inline u16 cpu_to_le16(u16 v) { return v; }
static inline u32 cpu_to_le32(u32 v) { return v; }
static inline u64 cpu_to_le64(u64 v) { return v; }
static inline u16 le16_to_cpu(u16 v) { return v; }
static inline u32 le32_to_cpu(u32 v) { return v; }
static inline u64 le64_to_cpu(u64 v) { return v; }

#ifndef htons
#define htons(v) cpu_to_be16(v)
#endif
#ifndef htonl
#define htonl(v) cpu_to_be32(v)
#endif
#ifndef ntohs
#define ntohs(v) be16_to_cpu(v)
#endif
#ifndef ntohl
#define ntohl(v) be32_to_cpu(v)
#endif
#ifndef htobe16
#define htobe16(v) cpu_to_be16(v)
#endif
#ifndef htobe32
#define htobe32(v) cpu_to_be32(v)
#endif
#ifndef htobe64
#define htobe64(v) cpu_to_be64(v)
#endif
#ifndef be16toh
#define be16toh(v) be16_to_cpu(v)
#endif
#ifndef be32toh
#define be32toh(v) be32_to_cpu(v)
#endif
#ifndef be64toh
#define be64toh(v) be64_to_cpu(v)
#endif
#ifndef htole16
#define htole16(v) cpu_to_le16(v)
#endif
#ifndef htole32
#define htole32(v) cpu_to_le32(v)
#endif
#ifndef htole64
#define htole64(v) cpu_to_le64(v)
#endif
#ifndef le16toh
#define le16toh(v) le16_to_cpu(v)
#endif
#ifndef le32toh
#define le32toh(v) le32_to_cpu(v)
#endif
#ifndef le64toh
#define le64toh(v) le64_to_cpu(v)
#endif

/* ---- unaligned memory accessors ---------------------------------------- */

/*
 * Read the @n-byte value at @p, most significant byte first (big endian)
 * or last (little endian).
 */
static inline u64 get_be_n_(const void *p, int n)
{
	const u8 *b = p;
	u64 v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static inline u64 get_le_n_(const void *p, int n)
{
	const u8 *b = p;
	u64 v = 0;
	int i;

	for (i = n - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* Store the low @n bytes of @v at @p, big / little endian. */
static inline void put_be_n_(void *p, u64 v, int n)
{
	u8 *b = p;
	int i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		b[i] = (u8)v;
}

static inline void put_le_n_(void *p, u64 v, int n)
{
	u8 *b = p;
	int i;

	for (i = 0; i < n; i++, v >>= 8)
		b[i] = (u8)v;
}

static inline u16 get_be16(const void *p) { return (u16)get_be_n_(p, 2); }
static inline u32 get_be32(const void *p) { return (u32)get_be_n_(p, 4); }
static inline u64 get_be64(const void *p) { return get_be_n_(p, 8); }
static inline u16 get_le16(const void *p) { return (u16)get_le_n_(p, 2); }
static inline u32 get_le32(const void *p) { return (u32)get_le_n_(p, 4); }
static inline u64 get_le64(const void *p) { return get_le_n_(p, 8); }

static inline void put_be16(void *p, u16 v) { put_be_n_(p, v, 2); }
static inline void put_be32(void *p, u32 v) { put_be_n_(p, v, 4); }
static inline void put_be64(void *p, u64 v) { put_be_n_(p, v, 8); }
static inline void put_le16(void *p, u16 v) { put_le_n_(p, v, 2); }
static inline void put_le32(void *p, u32 v) { put_le_n_(p, v, 4); }
static inline void put_le64(void *p, u64 v) { put_le_n_(p, v, 8); }

#endif
