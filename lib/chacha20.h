/*
 * chacha20.h — the ChaCha20 stream cipher of RFC 8439: the block function
 * and a keystream generator over it.
 *
 * The block function maps (256-bit key, 32-bit block counter, 96-bit nonce)
 * to 64 bytes that look random to anyone without the key.  A keystream is
 * the blocks for counter, counter + 1, ... laid end to end; encryption and
 * decryption are both "XOR with the keystream".  Keys, nonces and counters
 * are read little-endian, exactly as the RFC's test vectors are written.
 *
 * Limits that the caller keeps: a (key, nonce) pair must never be used for
 * two messages, and one pair gives 2^32 blocks (256 GiB).  The counter is
 * the RFC's 32-bit one and wraps to 0 after 0xffffffff, which would repeat
 * the keystream; the kernel's CSPRNG (kernel/random.c) changes its key on
 * every request and never comes near.
 *
 * Everything here is pure: no locks, no allocation, any context.  A struct
 * chacha20 holds key material; wipe it with chacha20_wipe() when done.
 */
#ifndef NOS_LIB_CHACHA20_H
#define NOS_LIB_CHACHA20_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

#define CHACHA20_KEY_SIZE 32
#define CHACHA20_NONCE_SIZE 12
#define CHACHA20_BLOCK_SIZE 64
#define CHACHA20_STATE_WORDS 16

/*
 * The block function on a whole state: @out = 20 rounds of @in, plus @in
 * (RFC 8439 section 2.3).  @in is constants, key, counter, nonce as words;
 * @out may be @in.
 */
void chacha20_block_words(const u32 in[CHACHA20_STATE_WORDS], u32 out[CHACHA20_STATE_WORDS]);

/* The 64 keystream bytes of block @counter under @key and @nonce. */
void chacha20_block(const u8 key[CHACHA20_KEY_SIZE], u32 counter,
		    const u8 nonce[CHACHA20_NONCE_SIZE], u8 out[CHACHA20_BLOCK_SIZE]);

/*
 * A keystream in progress.  Successive calls continue where the last one
 * stopped, so any split of a request gives the same bytes as one call.
 * Legend: all fields private to chacha20.c; the caller serialises use.
 */
struct chacha20 {
	u32 state[CHACHA20_STATE_WORDS]; /* constants, key, next counter, nonce */
	u8 block[CHACHA20_BLOCK_SIZE];   /* the current keystream block */
	unsigned used;                   /* bytes of block[] handed out (64: none left) */
};

/* Start the keystream of @key and @nonce at block @counter. */
void chacha20_init(struct chacha20 *c, const u8 key[CHACHA20_KEY_SIZE],
		   const u8 nonce[CHACHA20_NONCE_SIZE], u32 counter);

/* The next @len keystream bytes into @out. */
void chacha20_keystream(struct chacha20 *c, void *out, size_t len);

/*
 * @dst = @src XOR the next @len keystream bytes (encrypt or decrypt).
 * @dst may be @src; otherwise the two must not overlap.
 */
void chacha20_xor(struct chacha20 *c, void *dst, const void *src, size_t len);

/* Forget the key and any unused keystream in @c. */
void chacha20_wipe(struct chacha20 *c);

/* Zero @len bytes at @p in a way the compiler may not drop as a dead store. */
void chacha20_memzero(void *p, size_t len);

#endif
