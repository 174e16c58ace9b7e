/*
 * hmac.c — HMAC-SHA256 (RFC 2104) and crypto_memeq().
 *
 * init reduces the key to one block K' (hashed first if longer than 64
 * bytes, then zero-padded), feeds K' ^ 0x36.. to the inner hash and
 * K' ^ 0x5c.. to the outer one, and wipes K'.  update goes to the inner
 * hash only; final closes the inner hash and feeds its 32-byte digest to
 * the outer one, whose digest is the tag.  The two pads differ in many bits
 * so that the inner and outer keys are far apart (the proof of HMAC's
 * security treats them as independent).
 */
#include "lib/hmac.h"

#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c

void hmac_sha256_init(struct hmac_sha256_ctx *c, const void *key, size_t key_len)
{
	u8 block[SHA256_BLOCK_SIZE];
	const u8 *k = key;
	size_t i, n = key_len;

	if (key_len > SHA256_BLOCK_SIZE) {
		sha256(key, key_len, block);
		n = SHA256_DIGEST_SIZE;
	} else {
		for (i = 0; i < n; i++)
			block[i] = k[i];
	}
	for (i = n; i < SHA256_BLOCK_SIZE; i++)
		block[i] = 0;

	for (i = 0; i < SHA256_BLOCK_SIZE; i++)
		block[i] ^= HMAC_IPAD;
	sha256_init(&c->inner);
	sha256_update(&c->inner, block, SHA256_BLOCK_SIZE);

	for (i = 0; i < SHA256_BLOCK_SIZE; i++)
		block[i] ^= HMAC_IPAD ^ HMAC_OPAD;
	sha256_init(&c->outer);
	sha256_update(&c->outer, block, SHA256_BLOCK_SIZE);

	crypto_memzero(block, sizeof(block));
}

void hmac_sha256_update(struct hmac_sha256_ctx *c, const void *data, size_t len)
{
	sha256_update(&c->inner, data, len);
}

void hmac_sha256_final(struct hmac_sha256_ctx *c, u8 out[SHA256_DIGEST_SIZE])
{
	u8 inner[SHA256_DIGEST_SIZE];

	sha256_final(&c->inner, inner);
	sha256_update(&c->outer, inner, sizeof(inner));
	sha256_final(&c->outer, out);
	crypto_memzero(inner, sizeof(inner));
}

void hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
		 u8 out[SHA256_DIGEST_SIZE])
{
	struct hmac_sha256_ctx c;

	hmac_sha256_init(&c, key, key_len);
	hmac_sha256_update(&c, data, len);
	hmac_sha256_final(&c, out);
}

/*
 * OR together the XOR of every byte pair, so every byte is read whatever
 * the earlier ones were; the volatile accumulator keeps the compiler from
 * turning the loop back into one that stops at the first difference.
 */
bool crypto_memeq(const void *a, const void *b, size_t len)
{
	const u8 *x = a, *y = b;
	volatile u8 diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= (u8)(x[i] ^ y[i]);
	return diff == 0;
}
