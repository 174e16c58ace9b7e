/*
 * sha256.c — SHA-256 (FIPS 180-4 sections 4.1.2, 4.2.2, 5.1.1, 6.2).
 *
 * The compression function takes the eight-word state H0..H7 and one
 * 64-byte block:
 *
 *  1. The block is read as sixteen big-endian words W0..W15 and stretched
 *     to 64 by  Wt = s1(Wt-2) + Wt-7 + s0(Wt-15) + Wt-16,  where
 *     s0(x) = ror7 ^ ror18 ^ shr3 and s1(x) = ror17 ^ ror19 ^ shr10.
 *  2. Eight working words a..h start as the state.  Each of 64 rounds
 *     computes  T1 = h + S1(e) + Ch(e,f,g) + Kt + Wt  and
 *     T2 = S0(a) + Maj(a,b,c),  shifts the words down one place (h = g,
 *     ..., b = a) and sets  e = d + T1,  a = T1 + T2.  Here
 *     S0(a) = ror2 ^ ror13 ^ ror22,  S1(e) = ror6 ^ ror11 ^ ror25,
 *     Ch picks f or g bit by bit as e says, Maj is the bitwise majority.
 *  3. The working words are added into the state (a Davies-Meyer feed
 *     forward: without it the rounds could be inverted).
 *
 * Kt are the first 32 bits of the fractional parts of the cube roots of
 * the first 64 primes, and the initial state the same for the square roots
 * of the first 8 — numbers chosen in the open so that no one could hide a
 * trapdoor in them.
 *
 * The schedule is kept as a sliding window of 16 words rather than all 64
 * (less stack, which the kernel keeps small).  The rounds are unrolled by
 * eight: after eight rounds every working word is back in its first role,
 * so instead of shifting a..h down each round the code renames them, and
 * a round moves no data at all (about twice the speed of a rolled loop,
 * which matters most under QEMU's TCG, where every instruction costs).
 * The schedule window is wiped after use; the working words are not, as
 * they live in registers and spill slots that C cannot name.
 * Nothing indexes memory by data, so timing leaks nothing but the length.
 */
#include "lib/sha256.h"
#include "lib/byteorder.h"

static const u32 sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const u32 sha256_h0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

static inline u32 ror32(u32 v, unsigned n)
{
	return (v >> n) | (v << (32 - n));
}

/* Schedule word t (16 <= t < 64) into the window slot of word t - 16. */
static inline u32 schedule(u32 w[16], unsigned t)
{
	u32 w15 = w[(t - 15) & 15], w2 = w[(t - 2) & 15];
	u32 s0 = ror32(w15, 7) ^ ror32(w15, 18) ^ (w15 >> 3);
	u32 s1 = ror32(w2, 17) ^ ror32(w2, 19) ^ (w2 >> 10);

	w[t & 15] += s0 + w[(t - 7) & 15] + s1;
	return w[t & 15];
}

#define BSIG0(x) (ror32(x, 2) ^ ror32(x, 13) ^ ror32(x, 22))
#define BSIG1(x) (ror32(x, 6) ^ ror32(x, 11) ^ ror32(x, 25))
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

/*
 * Round t on the working words named in their current roles: only d and h
 * change, and the caller renames the rest instead of moving them.  Uses
 * the caller's schedule window w[] and its flag early (t < 16).
 */
#define ROUND(a, b, c, d, e, f, g, h, t)                                       \
	do {                                                                   \
		u32 wt_ = early ? w[t] : schedule(w, t);                       \
		u32 t1_ = h + BSIG1(e) + CH(e, f, g) + sha256_k[t] + wt_;      \
		d += t1_;                                                      \
		h = t1_ + BSIG0(a) + MAJ(a, b, c);                             \
	} while (0)

/* Fold the @nblocks 64-byte blocks at @p into the state @h. */
static void sha256_blocks(u32 h[8], const u8 *p, size_t nblocks)
{
	u32 w[16];

	while (nblocks--) {
		u32 a = h[0], b = h[1], c = h[2], d = h[3];
		u32 e = h[4], f = h[5], g = h[6], hh = h[7];

		for (unsigned i = 0; i < 16; i++)
			w[i] = get_be32(p + 4 * i);
		/* eight rounds bring every name back to its first role */
		for (unsigned t = 0; t < 64; t += 8) {
			bool early = t < 16; /* rounds 0-15 take the block as it is */

			ROUND(a, b, c, d, e, f, g, hh, t);
			ROUND(hh, a, b, c, d, e, f, g, t + 1);
			ROUND(g, hh, a, b, c, d, e, f, t + 2);
			ROUND(f, g, hh, a, b, c, d, e, t + 3);
			ROUND(e, f, g, hh, a, b, c, d, t + 4);
			ROUND(d, e, f, g, hh, a, b, c, t + 5);
			ROUND(c, d, e, f, g, hh, a, b, t + 6);
			ROUND(b, c, d, e, f, g, hh, a, t + 7);
		}
		h[0] += a; h[1] += b; h[2] += c; h[3] += d;
		h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
		p += SHA256_BLOCK_SIZE;
	}
	crypto_memzero(w, sizeof(w));
}

void sha256_init(struct sha256_ctx *c)
{
	for (unsigned i = 0; i < 8; i++)
		c->h[i] = sha256_h0[i];
	c->bytes = 0;
	c->fill = 0;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
	const u8 *p = data;
	size_t whole;

	if (!len)
		return; /* @data may be NULL; NULL + 0 is undefined in C */
	c->bytes += len;
	if (c->fill) {
		size_t n = MIN(len, (size_t)(SHA256_BLOCK_SIZE - c->fill));

		for (size_t i = 0; i < n; i++)
			c->buf[c->fill + i] = p[i];
		c->fill += (u32)n;
		p += n;
		len -= n;
		if (c->fill < SHA256_BLOCK_SIZE)
			return;
		sha256_blocks(c->h, c->buf, 1);
		c->fill = 0;
	}
	whole = len / SHA256_BLOCK_SIZE;
	if (whole)
		sha256_blocks(c->h, p, whole);
	p += whole * SHA256_BLOCK_SIZE;
	len -= whole * SHA256_BLOCK_SIZE;
	for (size_t i = 0; i < len; i++)
		c->buf[i] = p[i];
	c->fill = (u32)len;
}

/*
 * Padding: 0x80, zeros up to 56 bytes into a block, then the bit length.
 * When fewer than 9 bytes of the block are left the padding spills into
 * one more block.
 */
void sha256_final(struct sha256_ctx *c, u8 out[SHA256_DIGEST_SIZE])
{
	u64 bits = c->bytes << 3;
	u32 i = c->fill;

	c->buf[i++] = 0x80;
	if (i > SHA256_BLOCK_SIZE - 8) {
		while (i < SHA256_BLOCK_SIZE)
			c->buf[i++] = 0;
		sha256_blocks(c->h, c->buf, 1);
		i = 0;
	}
	while (i < SHA256_BLOCK_SIZE - 8)
		c->buf[i++] = 0;
	put_be64(c->buf + SHA256_BLOCK_SIZE - 8, bits);
	sha256_blocks(c->h, c->buf, 1);
	for (i = 0; i < 8; i++)
		put_be32(out + 4 * i, c->h[i]);
	crypto_memzero(c, sizeof(*c));
}

void sha256(const void *data, size_t len, u8 out[SHA256_DIGEST_SIZE])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, out);
}

void crypto_memzero(void *p, size_t len)
{
	volatile u8 *v = p;

	while (len--)
		*v++ = 0;
	barrier();
}
