/*
 * sha256.h — the SHA-256 hash of FIPS 180-4, incremental and one-shot.
 *
 * SHA-256 maps a message of any length (up to 2^64 - 1 bits) to a 32-byte
 * digest.  The message is padded — a 1 bit, zeros, then the message length
 * in bits as a big-endian 64-bit number — to a whole number of 64-byte
 * blocks, and each block is folded into eight 32-bit words of state by the
 * compression function.  The digest is the final state written big-endian.
 *
 * The incremental interface hides the blocking: sha256_update() may be
 * called any number of times with pieces of any size (0 included), and for
 * any split of a message into A then B,
 *
 *     init; update(A); update(B); final  ==  sha256(A || B).
 *
 * sha256_final() wipes the context (it may hold secret-derived state, for
 * example the inner half of an HMAC); init it again to hash something else.
 * A context in progress may be copied by plain assignment, which forks the
 * hash: both copies continue from the same prefix.
 *
 * Everything here is pure: no locks, no allocation, any context (including
 * interrupt handlers).  The caller serialises use of one context.  Timing
 * depends on the length of the data only, never on its contents.
 */
#ifndef NOS_LIB_SHA256_H
#define NOS_LIB_SHA256_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

#define SHA256_DIGEST_SIZE 32
#define SHA256_BLOCK_SIZE 64

/*
 * A hash in progress.
 * Legend: all fields private to sha256.c; the caller serialises use.
 */
struct sha256_ctx {
	u32 h[8];                   /* chaining state */
	u64 bytes;                  /* message bytes taken so far */
	u8 buf[SHA256_BLOCK_SIZE];  /* the partial block not yet compressed */
	u32 fill;                   /* bytes of buf[] in use, 0..63 */
};

/* Start a new hash in @c. */
void sha256_init(struct sha256_ctx *c);

/* Append the @len bytes at @data (may be NULL when @len is 0). */
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);

/* Finish: the digest of everything appended goes to @out; @c is wiped. */
void sha256_final(struct sha256_ctx *c, u8 out[SHA256_DIGEST_SIZE]);

/* The digest of the @len bytes at @data, in one call. */
void sha256(const void *data, size_t len, u8 out[SHA256_DIGEST_SIZE]);

/*
 * Zero @len bytes at @p so that the compiler may not drop the stores as
 * dead, for key material and intermediate state about to go out of scope.
 */
void crypto_memzero(void *p, size_t len);

#endif
