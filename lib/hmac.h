/*
 * hmac.h — HMAC-SHA256 (RFC 2104 over FIPS 180-4's SHA-256) and a
 * constant-time comparison for checking tags.
 *
 * HMAC turns a hash into a keyed message authentication code:
 *
 *     HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m))
 *
 * where K' is the key padded with zeros to the 64-byte block, or first
 * hashed down to 32 bytes when it is longer than a block; ipad is 64 bytes
 * of 0x36 and opad 64 bytes of 0x5c.  Keys of any length are accepted; a
 * key shorter than the 32-byte digest is weaker than the hash (RFC 2104
 * section 3), so callers with a choice use 32 random bytes.
 *
 * Cost: a message of n bytes takes ceil((n + 9) / 64) + 3 compressions, of
 * which two (one per pad block) depend only on the key.  A caller that
 * signs many messages under one key may run hmac_sha256_init() once, keep
 * that context, and start each message from a copy of it (plain struct
 * assignment), saving those two.
 *
 * Checking a received tag: compare with crypto_memeq(), never memcmp(),
 * whose early exit tells an attacker, by its timing, how many leading
 * bytes of a forged tag are right.  A tag may be truncated to its leading
 * bytes (RFC 4231 test case 5 uses 16); RFC 2104 advises keeping at least
 * half of them and never fewer than 10.
 *
 * Pure, like sha256.h: no locks, no allocation, any context.  A context
 * holds key-derived state; hmac_sha256_final() wipes it, and a context
 * abandoned unfinished should be wiped with crypto_memzero().
 */
#ifndef NOS_LIB_HMAC_H
#define NOS_LIB_HMAC_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"
#include "lib/sha256.h"

/*
 * A MAC in progress: the inner hash, already fed the inner pad, and the
 * outer hash, already fed the outer pad.
 * Legend: all fields private to hmac.c; the caller serialises use.
 */
struct hmac_sha256_ctx {
	struct sha256_ctx inner, outer;
};

/* Start a MAC under the @key_len bytes at @key (any length, 0 included). */
void hmac_sha256_init(struct hmac_sha256_ctx *c, const void *key, size_t key_len);

/* Append the @len bytes at @data (may be NULL when @len is 0). */
void hmac_sha256_update(struct hmac_sha256_ctx *c, const void *data, size_t len);

/* Finish: the 32-byte tag goes to @out; @c is wiped. */
void hmac_sha256_final(struct hmac_sha256_ctx *c, u8 out[SHA256_DIGEST_SIZE]);

/* The tag of the @len bytes at @data under @key, in one call. */
void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		 u8 out[SHA256_DIGEST_SIZE]);

/*
 * Constant-time comparison of two byte strings of @len bytes (no early
 * exit): true when they are equal.  The time depends on @len only.
 */
bool crypto_memeq(const void *a, const void *b, size_t len);

#endif
