/*
 * chacha20.c — the ChaCha20 block function and keystream (RFC 8439).
 *
 * The state is a 4x4 matrix of 32-bit words:
 *
 *     "expa" "nd 3" "2-by" "te k"      words 0-3: the constant
 *     key0   key1   key2   key3        words 4-11: the key, little-endian
 *     key4   key5   key6   key7
 *     count  nonce0 nonce1 nonce2      word 12: block counter; 13-15: nonce
 *
 * A quarter round mixes four words with add, xor and rotate (by 16, 12, 8,
 * 7).  One double round is four quarter rounds down the columns, then four
 * down the diagonals; ten double rounds are the twenty rounds.  The block
 * is the mixed state plus the input state, word by word — without that
 * final addition the rounds could simply be run backwards — serialised
 * little-endian into 64 bytes.
 *
 * The code works on words and touches no table, so its timing does not
 * depend on the key (no cache-timing leak); nothing is precomputed, so
 * there is no initialisation to race on.
 */
#include "lib/chacha20.h"
#include "lib/byteorder.h"

/* "expand 32-byte k", read as four little-endian words. */
#define CHACHA_C0 0x61707865u
#define CHACHA_C1 0x3320646eu
#define CHACHA_C2 0x79622d32u
#define CHACHA_C3 0x6b206574u
#define CHACHA_DOUBLE_ROUNDS 10

static inline u32 rotl32(u32 v, unsigned n)
{
	return (v << n) | (v >> (32 - n));
}

static inline void quarter_round(u32 *x, unsigned a, unsigned b, unsigned c, unsigned d)
{
	x[a] += x[b]; x[d] = rotl32(x[d] ^ x[a], 16);
	x[c] += x[d]; x[b] = rotl32(x[b] ^ x[c], 12);
	x[a] += x[b]; x[d] = rotl32(x[d] ^ x[a], 8);
	x[c] += x[d]; x[b] = rotl32(x[b] ^ x[c], 7);
}

void chacha20_block_words(const u32 in[CHACHA20_STATE_WORDS], u32 out[CHACHA20_STATE_WORDS])
{
	u32 x[CHACHA20_STATE_WORDS];
	unsigned i;

	for (i = 0; i < CHACHA20_STATE_WORDS; i++)
		x[i] = in[i];
	for (i = 0; i < CHACHA_DOUBLE_ROUNDS; i++) {
		quarter_round(x, 0, 4, 8, 12);
		quarter_round(x, 1, 5, 9, 13);
		quarter_round(x, 2, 6, 10, 14);
		quarter_round(x, 3, 7, 11, 15);
		quarter_round(x, 0, 5, 10, 15);
		quarter_round(x, 1, 6, 11, 12);
		quarter_round(x, 2, 7, 8, 13);
		quarter_round(x, 3, 4, 9, 14);
	}
	for (i = 0; i < CHACHA20_STATE_WORDS; i++)
		out[i] = x[i] + in[i];
	chacha20_memzero(x, sizeof(x));
}

static void state_setup(u32 s[CHACHA20_STATE_WORDS], const u8 *key, u32 counter, const u8 *nonce)
{
	unsigned i;

	s[0] = CHACHA_C0;
	s[1] = CHACHA_C1;
	s[2] = CHACHA_C2;
	s[3] = CHACHA_C3;
	for (i = 0; i < 8; i++)
		s[4 + i] = get_le32(key + 4 * i);
	s[12] = counter;
	for (i = 0; i < 3; i++)
		s[13 + i] = get_le32(nonce + 4 * i);
}

static void serialise(const u32 w[CHACHA20_STATE_WORDS], u8 out[CHACHA20_BLOCK_SIZE])
{
	for (unsigned i = 0; i < CHACHA20_STATE_WORDS; i++)
		put_le32(out + 4 * i, w[i]);
}

void chacha20_block(const u8 key[CHACHA20_KEY_SIZE], u32 counter,
		    const u8 nonce[CHACHA20_NONCE_SIZE], u8 out[CHACHA20_BLOCK_SIZE])
{
	u32 s[CHACHA20_STATE_WORDS];

	state_setup(s, key, counter, nonce);
	chacha20_block_words(s, s);
	serialise(s, out);
	chacha20_memzero(s, sizeof(s));
}

void chacha20_init(struct chacha20 *c, const u8 key[CHACHA20_KEY_SIZE],
		   const u8 nonce[CHACHA20_NONCE_SIZE], u32 counter)
{
	state_setup(c->state, key, counter, nonce);
	c->used = CHACHA20_BLOCK_SIZE;
}

/* Make the next block current; the counter wraps as the RFC's does. */
static void next_block(struct chacha20 *c)
{
	u32 w[CHACHA20_STATE_WORDS];

	chacha20_block_words(c->state, w);
	serialise(w, c->block);
	chacha20_memzero(w, sizeof(w));
	c->state[12]++;
	c->used = 0;
}

/*
 * Hand out the next @len keystream bytes: XORed into @dst from @src, or
 * stored as they are when @src is NULL.
 */
static void stream(struct chacha20 *c, u8 *dst, const u8 *src, size_t len)
{
	while (len) {
		size_t n;

		if (c->used == CHACHA20_BLOCK_SIZE)
			next_block(c);
		n = MIN(len, (size_t)(CHACHA20_BLOCK_SIZE - c->used));
		for (size_t i = 0; i < n; i++)
			dst[i] = (u8)((src ? src[i] : 0) ^ c->block[c->used + i]);
		c->used += (unsigned)n;
		dst += n;
		if (src)
			src += n;
		len -= n;
	}
}

void chacha20_keystream(struct chacha20 *c, void *out, size_t len)
{
	stream(c, out, NULL, len);
}

void chacha20_xor(struct chacha20 *c, void *dst, const void *src, size_t len)
{
	stream(c, dst, src, len);
}

void chacha20_wipe(struct chacha20 *c)
{
	chacha20_memzero(c, sizeof(*c));
	c->used = CHACHA20_BLOCK_SIZE;
}

void chacha20_memzero(void *p, size_t len)
{
	volatile u8 *v = p;

	while (len--)
		*v++ = 0;
	barrier();
}
