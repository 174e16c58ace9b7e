/*
 * test_chacha20.c — lib/chacha20 against the test vectors of RFC 8439
 * (section 2.3.2 for the block function, 2.4.2 for encryption, appendix
 * A.1 and A.2), then the properties the CSPRNG leans on: any split of a
 * keystream request gives the same bytes, XOR twice is the identity, the
 * counter wraps like the RFC's 32-bit one, and one flipped key or nonce
 * bit changes about half of a block.
 *
 * The vectors are written as in the RFC, hex pairs with spaces, and
 * decoded by unhex().  Portable: built for the host and for the boot tests.
 */
#include "lib/ktest.h"
#include "lib/byteorder.h"
#include "lib/chacha20.h"
#include "lib/parse.h"
#include "lib/string.h"

#define VEC_MAX 400

/* Decode hex pairs, skipping spaces; returns the byte count (-1 if malformed). */
static int unhex(const char *s, u8 *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		int hi, lo;

		if (*s == ' ') {
			s++;
			continue;
		}
		hi = parse_hex_digit(s[0]);
		lo = hi < 0 ? -1 : parse_hex_digit(s[1]);
		if (lo < 0 || n == cap)
			return -1;
		out[n++] = (u8)(hi << 4 | lo);
		s += 2;
	}
	return (int)n;
}

/* Index of the first difference, or -1 when @a and @b are equal. */
static long first_diff(const u8 *a, const u8 *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return (long)i;
	return -1;
}

static void key_counting(u8 key[CHACHA20_KEY_SIZE])
{
	for (unsigned i = 0; i < CHACHA20_KEY_SIZE; i++)
		key[i] = (u8)i;
}

/* Section 2.3.2: the state after the whole block function, word by word. */
KTEST(chacha20, rfc8439_2_3_2_block_function)
{
	static const u32 expect[16] = {
		0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3,
		0xc7f4d1c7, 0x0368c033, 0x9aaa2204, 0x4e6cd4c3,
		0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9,
		0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2,
	};
	static const u32 setup[16] = {
		0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
		0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c,
		0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
		0x00000001, 0x09000000, 0x4a000000, 0x00000000,
	};
	u8 key[CHACHA20_KEY_SIZE], nonce[CHACHA20_NONCE_SIZE], out[CHACHA20_BLOCK_SIZE];
	u32 words[16];

	chacha20_block_words(setup, words);
	for (unsigned i = 0; i < 16; i++)
		KT_EXPECT_EQ(words[i], expect[i]);

	key_counting(key);
	KT_ASSERT_EQ(unhex("00 00 00 09 00 00 00 4a 00 00 00 00", nonce, sizeof(nonce)), 12);
	chacha20_block(key, 1, nonce, out);
	for (unsigned i = 0; i < 16; i++)
		KT_EXPECT_EQ(get_le32(out + 4 * i), expect[i]);
	KT_EXPECT_EQ(out[0], 0x10);
	KT_EXPECT_EQ(out[63], 0x4e);
}

/* The block function may run in place. */
KTEST(chacha20, block_words_in_place)
{
	u32 a[16], b[16];

	for (unsigned i = 0; i < 16; i++)
		a[i] = b[i] = (u32)ktest_rand(kt);
	chacha20_block_words(a, a);
	chacha20_block_words(b, b);
	KT_EXPECT(memcmp(a, b, sizeof(a)) == 0);
	for (unsigned i = 0; i < 16; i++)
		b[i] = (u32)ktest_rand(kt);
	chacha20_block_words(b, b);
	KT_EXPECT(memcmp(a, b, sizeof(a)) != 0);
}

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
	"the future, sunscreen would be it.";

static const char sunscreen_ct[] =
	"6e 2e 35 9a 25 68 f9 80 41 ba 07 28 dd 0d 69 81"
	"e9 7e 7a ec 1d 43 60 c2 0a 27 af cc fd 9f ae 0b"
	"f9 1b 65 c5 52 47 33 ab 8f 59 3d ab cd 62 b3 57"
	"16 39 d6 24 e6 51 52 ab 8f 53 0c 35 9f 08 61 d8"
	"07 ca 0d bf 50 0d 6a 61 56 a3 8e 08 8a 22 b6 5e"
	"52 bc 51 4d 16 cc f8 06 81 8c e9 1a b7 79 37 36"
	"5a f9 0b bf 74 a3 5b e6 b4 0b 8e ed f2 78 5e 42"
	"87 4d";

/* Section 2.4.2: encrypt the sunscreen text, counter 1; decrypt it back. */
KTEST(chacha20, rfc8439_2_4_2_encryption)
{
	u8 key[CHACHA20_KEY_SIZE], nonce[CHACHA20_NONCE_SIZE];
	u8 expect[VEC_MAX], out[VEC_MAX];
	size_t len = strlen(sunscreen);
	struct chacha20 c;

	KT_ASSERT_EQ(len, 114);
	KT_ASSERT_EQ(unhex(sunscreen_ct, expect, sizeof(expect)), 114);
	key_counting(key);
	KT_ASSERT_EQ(unhex("00 00 00 00 00 00 00 4a 00 00 00 00", nonce, sizeof(nonce)), 12);

	chacha20_init(&c, key, nonce, 1);
	chacha20_xor(&c, out, sunscreen, len);
	KT_EXPECT_EQ(first_diff(out, expect, len), -1);

	chacha20_init(&c, key, nonce, 1);
	chacha20_xor(&c, out, out, len); /* in place */
	KT_EXPECT(memcmp(out, sunscreen, len) == 0);
	chacha20_wipe(&c);
}

struct block_vector {
	const char *key;
	const char *nonce;
	u32 counter;
	const char *keystream;
};

static const char zero_key[] =
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00";
static const char one_key[] =
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
	"00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01";
static const char zero_nonce[] = "00 00 00 00 00 00 00 00 00 00 00 00";
static const char two_nonce[] = "00 00 00 00 00 00 00 00 00 00 00 02";

static const char a1_1_stream[] =
	"76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28"
	"bd d2 19 b8 a0 8d ed 1a a8 36 ef cc 8b 77 0d c7"
	"da 41 59 7c 51 57 48 8d 77 24 e0 3f b8 d8 4a 37"
	"6a 43 b8 f4 15 18 a1 1c c3 87 b6 69 b2 ee 65 86";

/* Appendix A.1, test vectors #1-#5. */
static const struct block_vector a1_vectors[] = {
	{ zero_key, zero_nonce, 0, a1_1_stream },
	{ zero_key, zero_nonce, 1,
	  "9f 07 e7 be 55 51 38 7a 98 ba 97 7c 73 2d 08 0d"
	  "cb 0f 29 a0 48 e3 65 69 12 c6 53 3e 32 ee 7a ed"
	  "29 b7 21 76 9c e6 4e 43 d5 71 33 b0 74 d8 39 d5"
	  "31 ed 1f 28 51 0a fb 45 ac e1 0a 1f 4b 79 4d 6f" },
	{ one_key, zero_nonce, 1,
	  "3a eb 52 24 ec f8 49 92 9b 9d 82 8d b1 ce d4 dd"
	  "83 20 25 e8 01 8b 81 60 b8 22 84 f3 c9 49 aa 5a"
	  "8e ca 00 bb b4 a7 3b da d1 92 b5 c4 2f 73 f2 fd"
	  "4e 27 36 44 c8 b3 61 25 a6 4a dd eb 00 6c 13 a0" },
	{ "00 ff 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
	  "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
	  zero_nonce, 2,
	  "72 d5 4d fb f1 2e c4 4b 36 26 92 df 94 13 7f 32"
	  "8f ea 8d a7 39 90 26 5e c1 bb be a1 ae 9a f0 ca"
	  "13 b2 5a a2 6c b4 a6 48 cb 9b 9d 1b e6 5b 2c 09"
	  "24 a6 6c 54 d5 45 ec 1b 73 74 f4 87 2e 99 f0 96" },
	{ zero_key, two_nonce, 0,
	  "c2 c6 4d 37 8c d5 36 37 4a e2 04 b9 ef 93 3f cd"
	  "1a 8b 22 88 b3 df a4 96 72 ab 76 5b 54 ee 27 c7"
	  "8a 97 0e 0e 95 5c 14 f3 a8 8e 74 1b 97 c2 86 f7"
	  "5f 8f c2 99 e8 14 83 62 fa 19 8a 39 53 1b ed 6d" },
};

KTEST(chacha20, rfc8439_a1_block_vectors)
{
	for (unsigned i = 0; i < ARRAY_SIZE(a1_vectors); i++) {
		const struct block_vector *v = &a1_vectors[i];
		u8 key[CHACHA20_KEY_SIZE], nonce[CHACHA20_NONCE_SIZE];
		u8 expect[CHACHA20_BLOCK_SIZE], out[CHACHA20_BLOCK_SIZE];
		long diff;

		KT_ASSERT_EQ(unhex(v->key, key, sizeof(key)), 32);
		KT_ASSERT_EQ(unhex(v->nonce, nonce, sizeof(nonce)), 12);
		KT_ASSERT_EQ(unhex(v->keystream, expect, sizeof(expect)), 64);
		chacha20_block(key, v->counter, nonce, out);
		diff = first_diff(out, expect, sizeof(out));
		if (diff >= 0)
			ktest_log(kt, "A.1 #%u differs at byte %ld", i + 1, diff);
		KT_EXPECT_EQ(diff, -1);
	}
}

struct cipher_vector {
	const char *key;
	const char *nonce;
	u32 counter;
	const char *plaintext; /* text; NULL: 64 zero bytes */
	const char *ciphertext;
};

static const char ietf_text[] =
	"Any submission to the IETF intended by the Contributor for publication as all or "
	"part of an IETF Internet-Draft or RFC and any statement made within the context "
	"of an IETF activity is considered an \"IETF Contribution\". Such statements "
	"include oral statements in IETF sessions, as well as written and electronic "
	"communications made at any time or place, which are addressed to";

static const char jabberwocky[] =
	"'Twas brillig, and the slithy toves\nDid gyre and gimble in the wabe:\n"
	"All mimsy were the borogoves,\nAnd the mome raths outgrabe.";

/* Appendix A.2, test vectors #1-#3. */
static const struct cipher_vector a2_vectors[] = {
	{ zero_key, zero_nonce, 0, NULL, a1_1_stream },
	{ one_key, two_nonce, 1, ietf_text,
	  "a3 fb f0 7d f3 fa 2f de 4f 37 6c a2 3e 82 73 70"
	  "41 60 5d 9f 4f 4f 57 bd 8c ff 2c 1d 4b 79 55 ec"
	  "2a 97 94 8b d3 72 29 15 c8 f3 d3 37 f7 d3 70 05"
	  "0e 9e 96 d6 47 b7 c3 9f 56 e0 31 ca 5e b6 25 0d"
	  "40 42 e0 27 85 ec ec fa 4b 4b b5 e8 ea d0 44 0e"
	  "20 b6 e8 db 09 d8 81 a7 c6 13 2f 42 0e 52 79 50"
	  "42 bd fa 77 73 d8 a9 05 14 47 b3 29 1c e1 41 1c"
	  "68 04 65 55 2a a6 c4 05 b7 76 4d 5e 87 be a8 5a"
	  "d0 0f 84 49 ed 8f 72 d0 d6 62 ab 05 26 91 ca 66"
	  "42 4b c8 6d 2d f8 0e a4 1f 43 ab f9 37 d3 25 9d"
	  "c4 b2 d0 df b4 8a 6c 91 39 dd d7 f7 69 66 e9 28"
	  "e6 35 55 3b a7 6c 5c 87 9d 7b 35 d4 9e b2 e6 2b"
	  "08 71 cd ac 63 89 39 e2 5e 8a 1e 0e f9 d5 28 0f"
	  "a8 ca 32 8b 35 1c 3c 76 59 89 cb cf 3d aa 8b 6c"
	  "cc 3a af 9f 39 79 c9 2b 37 20 fc 88 dc 95 ed 84"
	  "a1 be 05 9c 64 99 b9 fd a2 36 e7 e8 18 b0 4b 0b"
	  "c3 9c 1e 87 6b 19 3b fe 55 69 75 3f 88 12 8c c0"
	  "8a aa 9b 63 d1 a1 6f 80 ef 25 54 d7 18 9c 41 1f"
	  "58 69 ca 52 c5 b8 3f a3 6f f2 16 b9 c1 d3 00 62"
	  "be bc fd 2d c5 bc e0 91 19 34 fd a7 9a 86 f6 e6"
	  "98 ce d7 59 c3 ff 9b 64 77 33 8f 3d a4 f9 cd 85"
	  "14 ea 99 82 cc af b3 41 b2 38 4d d9 02 f3 d1 ab"
	  "7a c6 1d d2 9c 6f 21 ba 5b 86 2f 37 30 e3 7c fd"
	  "c4 fd 80 6c 22 f2 21" },
	{ "1c 92 40 a5 eb 55 d3 8a f3 33 88 86 04 f6 b5 f0"
	  "47 39 17 c1 40 2b 80 09 9d ca 5c bc 20 70 75 c0",
	  two_nonce, 42, jabberwocky,
	  "62 e6 34 7f 95 ed 87 a4 5f fa e7 42 6f 27 a1 df"
	  "5f b6 91 10 04 4c 0d 73 11 8e ff a9 5b 01 e5 cf"
	  "16 6d 3d f2 d7 21 ca f9 b2 1e 5f b1 4c 61 68 71"
	  "fd 84 c5 4f 9d 65 b2 83 19 6c 7f e4 f6 05 53 eb"
	  "f3 9c 64 02 c4 22 34 e3 2a 35 6b 3e 76 43 12 a6"
	  "1a 55 32 05 57 16 ea d6 96 25 68 f8 7d 3f 3f 77"
	  "04 c6 a8 d1 bc d1 bf 4d 50 d6 15 4b 6d a7 31 b1"
	  "87 b5 8d fd 72 8a fa 36 75 7a 79 7a c1 88 d1" },
};

static const size_t a2_lengths[] = { 64, 375, 127 };

KTEST(chacha20, rfc8439_a2_encryption_vectors)
{
	static u8 plain[VEC_MAX], expect[VEC_MAX], out[VEC_MAX];

	for (unsigned i = 0; i < ARRAY_SIZE(a2_vectors); i++) {
		const struct cipher_vector *v = &a2_vectors[i];
		u8 key[CHACHA20_KEY_SIZE], nonce[CHACHA20_NONCE_SIZE];
		size_t len = a2_lengths[i];
		struct chacha20 c;
		long diff;

		memset(plain, 0, sizeof(plain));
		if (v->plaintext) {
			KT_ASSERT_EQ(strlen(v->plaintext), len);
			memcpy(plain, v->plaintext, len);
		}
		KT_ASSERT_EQ(unhex(v->key, key, sizeof(key)), 32);
		KT_ASSERT_EQ(unhex(v->nonce, nonce, sizeof(nonce)), 12);
		KT_ASSERT_EQ(unhex(v->ciphertext, expect, sizeof(expect)), (long long)len);
		chacha20_init(&c, key, nonce, v->counter);
		chacha20_xor(&c, out, plain, len);
		diff = first_diff(out, expect, len);
		if (diff >= 0)
			ktest_log(kt, "A.2 #%u differs at byte %ld", i + 1, diff);
		KT_EXPECT_EQ(diff, -1);
	}
}

/* Any split of a request gives the bytes of one request; xor agrees. */
KTEST(chacha20, keystream_splits_agree)
{
	static u8 whole[700], parts[700], zeros[700], xored[700];
	u8 key[CHACHA20_KEY_SIZE], nonce[CHACHA20_NONCE_SIZE] = { 1, 2, 3 };
	struct chacha20 c;

	key_counting(key);
	chacha20_init(&c, key, nonce, 7);
	chacha20_keystream(&c, whole, sizeof(whole));
	for (unsigned round = 0; round < 20; round++) {
		size_t at = 0;

		chacha20_init(&c, key, nonce, 7);
		while (at < sizeof(parts)) {
			size_t n = (size_t)(ktest_rand(kt) % 130); /* may be 0 */

			n = MIN(n, sizeof(parts) - at);

			chacha20_keystream(&c, parts + at, n);
			at += n;
		}
		KT_ASSERT_EQ(first_diff(parts, whole, sizeof(whole)), -1);
	}
	memset(zeros, 0, sizeof(zeros));
	chacha20_init(&c, key, nonce, 7);
	chacha20_xor(&c, xored, zeros, 100);
	chacha20_xor(&c, xored + 100, zeros + 100, sizeof(xored) - 100);
	KT_EXPECT_EQ(first_diff(xored, whole, sizeof(whole)), -1);
	/* block n of the stream is chacha20_block(counter 7 + n) */
	chacha20_block(key, 9, nonce, parts);
	KT_EXPECT_EQ(first_diff(parts, whole + 2 * CHACHA20_BLOCK_SIZE, 64), -1);
}

/* The 32-bit counter wraps to 0, as the RFC's block count does. */
KTEST(chacha20, counter_wraps_at_32_bits)
{
	u8 key[CHACHA20_KEY_SIZE], nonce[CHACHA20_NONCE_SIZE] = { 0 };
	u8 stream[2 * CHACHA20_BLOCK_SIZE], last[CHACHA20_BLOCK_SIZE], first[CHACHA20_BLOCK_SIZE];
	struct chacha20 c;

	key_counting(key);
	chacha20_init(&c, key, nonce, 0xffffffffu);
	chacha20_keystream(&c, stream, sizeof(stream));
	chacha20_block(key, 0xffffffffu, nonce, last);
	chacha20_block(key, 0, nonce, first);
	KT_EXPECT_EQ(first_diff(stream, last, 64), -1);
	KT_EXPECT_EQ(first_diff(stream + 64, first, 64), -1);
}

static unsigned bits_differing(const u8 *a, const u8 *b, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		n += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
	return n;
}

/* One flipped key or nonce bit changes roughly half of the 512 output bits. */
KTEST(chacha20, one_input_bit_changes_half_the_block)
{
	u8 key[CHACHA20_KEY_SIZE], nonce[CHACHA20_NONCE_SIZE] = { 0 };
	u8 base[CHACHA20_BLOCK_SIZE], out[CHACHA20_BLOCK_SIZE];

	key_counting(key);
	chacha20_block(key, 0, nonce, base);
	for (unsigned bit = 0; bit < 8 * CHACHA20_KEY_SIZE; bit += 13) {
		key[bit / 8] ^= (u8)(1u << (bit % 8));
		chacha20_block(key, 0, nonce, out);
		key[bit / 8] ^= (u8)(1u << (bit % 8));
		/* 512 fair coins: 256 +- 8 sigma */
		KT_EXPECT(bits_differing(base, out, 64) > 256 - 90);
		KT_EXPECT(bits_differing(base, out, 64) < 256 + 90);
	}
	nonce[11] ^= 0x80;
	chacha20_block(key, 0, nonce, out);
	KT_EXPECT(bits_differing(base, out, 64) > 256 - 90);
}

KTEST(chacha20, wipe_forgets_the_key)
{
	u8 key[CHACHA20_KEY_SIZE], nonce[CHACHA20_NONCE_SIZE] = { 0 }, out[16];
	struct chacha20 c;
	const u8 *raw = (const u8 *)&c;

	memset(key, 0xa5, sizeof(key));
	chacha20_init(&c, key, nonce, 0);
	chacha20_keystream(&c, out, sizeof(out));
	chacha20_wipe(&c);
	for (size_t i = 0; i < offsetof(struct chacha20, used); i++)
		KT_ASSERT_EQ(raw[i], 0);
}
