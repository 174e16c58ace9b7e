/*
 * crc32.h — CRC-32 as used by Ethernet, zlib, PNG and gzip, and CRC-32C
 * (Castagnoli) as used by iSCSI, ext4, btrfs and nanofs.
 *
 * The parameters are the IEEE 802.3 ones: polynomial 0x04C11DB7 processed
 * bit-reflected (so the constant in the code is 0xEDB88320), register preset
 * to all ones, result inverted.  The check value — the CRC of the nine ASCII
 * bytes "123456789" — is 0xCBF43926.
 *
 * The incremental form hides the presetting and the inversion: the value a
 * caller carries between calls is always a finished CRC, the CRC of nothing
 * is 0, and for any split of a buffer into A then B
 *
 *     crc32_update(crc32(A), B) == crc32(A || B)
 *
 * which is the convention of zlib's crc32().
 *
 * CRC-32C has the same conventions with the polynomial 0x1EDC6F41 (reflected
 * 0x82F63B78); its check value is 0xE3069283.  It is the one x86 computes in
 * hardware (SSE4.2's crc32 instruction), which crc32c() uses when the CPU
 * has it — several times faster than any table — except under QEMU's TCG,
 * which emulates that instruction one bit at a time: there, and on CPUs
 * without it, tables sliced by 8.  crc32c_soft_update() always takes the
 * tables (for tests that compare the ways).
 *
 * All functions are pure, take no locks and may be called from any context.
 */
#ifndef NOS_LIB_CRC32_H
#define NOS_LIB_CRC32_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

/*
 * Extend @crc, the CRC of the data seen so far (0 to start), by the @len
 * bytes at @buf (may be NULL when @len is 0).  Returns the CRC of the whole.
 */
u32 crc32_update(u32 crc, const void *buf, size_t len);

/* CRC of the @len bytes at @buf; the same as crc32_update(0, buf, len). */
u32 crc32(const void *buf, size_t len);

/* CRC-32C, incremental and whole, as the two above. */
u32 crc32c_update(u32 crc, const void *buf, size_t len);
u32 crc32c(const void *buf, size_t len);
u32 crc32c_soft_update(u32 crc, const void *buf, size_t len);

#endif
