/*
 * test_sha256.c — lib/sha256 against the FIPS 180-4 example messages (the
 * NIST "Examples with Intermediate Values": "abc", the 448-bit two-block
 * message, the 896-bit one) and the usual extras (the empty string, one
 * million 'a's), then the properties callers lean on: any split into
 * pieces hashes like one call, lengths either side of the padding boundary
 * agree with fixed digests made by another implementation, and final
 * wipes the context.
 *
 * Portable: built for the host and for the boot tests.
 */
#include "lib/ktest.h"
#include "lib/parse.h"
#include "lib/sha256.h"
#include "lib/string.h"

/* True when @d is the digest spelt by the 64 hex digits @hex. */
static bool digest_is(const u8 d[SHA256_DIGEST_SIZE], const char *hex)
{
	for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
		int hi = parse_hex_digit(hex[2 * i]), lo = hi < 0 ? -1 : parse_hex_digit(hex[2 * i + 1]);

		if (lo < 0 || d[i] != (u8)(hi << 4 | lo))
			return false;
	}
	return hex[2 * SHA256_DIGEST_SIZE] == '\0';
}

static void fill_pattern(struct ktest_ctx *kt, u8 *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (u8)ktest_rand(kt);
}

struct text_vector {
	const char *msg;
	const char *digest;
};

static const struct text_vector fips_vectors[] = {
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
};

KTEST(sha256, fips180_examples)
{
	u8 d[SHA256_DIGEST_SIZE];

	for (unsigned i = 0; i < ARRAY_SIZE(fips_vectors); i++) {
		const struct text_vector *v = &fips_vectors[i];

		sha256(v->msg, strlen(v->msg), d);
		if (!digest_is(d, v->digest))
			ktest_log(kt, "vector %u (\"%.10s...\") wrong", i, v->msg);
		KT_EXPECT(digest_is(d, v->digest));
	}
	KT_EXPECT_EQ(strlen(fips_vectors[2].msg), 56); /* 448 bits */
	KT_EXPECT_EQ(strlen(fips_vectors[3].msg), 112); /* 896 bits */
	sha256(NULL, 0, d);
	KT_EXPECT(digest_is(d, fips_vectors[1].digest));
}

/* One million 'a's, fed in 1000-byte pieces (and once in odd ones). */
KTEST(sha256, million_a)
{
	static const char expect[] =
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	static u8 chunk[1000];
	struct sha256_ctx c;
	u8 d[SHA256_DIGEST_SIZE];
	size_t left;

	memset(chunk, 'a', sizeof(chunk));
	sha256_init(&c);
	for (unsigned i = 0; i < 1000; i++)
		sha256_update(&c, chunk, sizeof(chunk));
	sha256_final(&c, d);
	KT_EXPECT(digest_is(d, expect));

	sha256_init(&c);
	for (left = 1000000; left; ) {
		size_t n = MIN(left, (size_t)(1 + ktest_rand(kt) % sizeof(chunk)));

		sha256_update(&c, chunk, n);
		left -= n;
	}
	sha256_final(&c, d);
	KT_EXPECT(digest_is(d, expect));
}

/*
 * n 'a's for n around the padding boundary: 55 is the longest message that
 * pads into one block, 56..63 need a second, 64/65 start the second block.
 * Made on the Debian host with
 *     head -c N /dev/zero | tr '\0' a | sha256sum
 */
static const struct { unsigned n; const char *digest; } boundary_vectors[] = {
	{ 1, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb" },
	{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318" },
	{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a" },
	{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34" },
	{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb" },
	{ 65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0" },
	{ 119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb" },
	{ 120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c" },
	{ 128, "6836cf13bac400e9105071cd6af47084dfacad4e5e302c94bfed24e013afb73e" },
};

KTEST(sha256, padding_boundary_lengths)
{
	u8 msg[128], d[SHA256_DIGEST_SIZE], byte_at_a_time[SHA256_DIGEST_SIZE];

	memset(msg, 'a', sizeof(msg));
	for (unsigned i = 0; i < ARRAY_SIZE(boundary_vectors); i++) {
		unsigned n = boundary_vectors[i].n;
		struct sha256_ctx c;

		sha256(msg, n, d);
		if (!digest_is(d, boundary_vectors[i].digest))
			ktest_log(kt, "%u 'a's: wrong digest", n);
		KT_EXPECT(digest_is(d, boundary_vectors[i].digest));

		sha256_init(&c);
		for (unsigned j = 0; j < n; j++)
			sha256_update(&c, msg + j, 1);
		sha256_final(&c, byte_at_a_time);
		KT_EXPECT(memcmp(d, byte_at_a_time, sizeof(d)) == 0);
	}
}

/* Every split of a 200-byte message into two updates equals one call. */
KTEST(sha256, every_two_way_split)
{
	u8 msg[200], whole[SHA256_DIGEST_SIZE], parts[SHA256_DIGEST_SIZE];

	fill_pattern(kt, msg, sizeof(msg));
	for (size_t len = 0; len <= sizeof(msg); len += len < 70 ? 1 : 13) {
		sha256(msg, len, whole);
		for (size_t cut = 0; cut <= len; cut++) {
			struct sha256_ctx c;

			sha256_init(&c);
			sha256_update(&c, msg, cut);
			sha256_update(&c, NULL, 0);
			sha256_update(&c, msg + cut, len - cut);
			sha256_final(&c, parts);
			if (memcmp(whole, parts, sizeof(whole)) != 0) {
				ktest_log(kt, "len %zu cut at %zu differs", len, cut);
				KT_ASSERT(false);
			}
		}
	}
}

/* Distinct messages give distinct digests; one flipped bit changes ~half. */
KTEST(sha256, one_bit_changes_the_digest)
{
	u8 msg[100], base[SHA256_DIGEST_SIZE], d[SHA256_DIGEST_SIZE];

	fill_pattern(kt, msg, sizeof(msg));
	sha256(msg, sizeof(msg), base);
	for (unsigned bit = 0; bit < 8 * sizeof(msg); bit += 37) {
		unsigned flipped = 0;

		msg[bit / 8] ^= (u8)(1u << (bit % 8));
		sha256(msg, sizeof(msg), d);
		msg[bit / 8] ^= (u8)(1u << (bit % 8));
		for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++)
			flipped += (unsigned)__builtin_popcount((unsigned)(base[i] ^ d[i]));
		/* 256 fair coins: 128 +- 8 sigma */
		KT_EXPECT(flipped > 128 - 64 && flipped < 128 + 64);
	}
	sha256(msg, sizeof(msg) - 1, d); /* a prefix is another message */
	KT_EXPECT(memcmp(base, d, sizeof(d)) != 0);
}

/* A copied context forks the hash; final leaves nothing behind. */
KTEST(sha256, copy_forks_and_final_wipes)
{
	static const char ab[] = "the quick brown fox";
	u8 d1[SHA256_DIGEST_SIZE], d2[SHA256_DIGEST_SIZE], expect[SHA256_DIGEST_SIZE];
	struct sha256_ctx c, fork;
	const u8 *raw = (const u8 *)&c;

	sha256_init(&c);
	sha256_update(&c, ab, 10);
	fork = c;
	sha256_update(&c, ab + 10, strlen(ab) - 10);
	sha256_update(&fork, ab + 10, strlen(ab) - 10);
	sha256_final(&c, d1);
	sha256_final(&fork, d2);
	sha256(ab, strlen(ab), expect);
	KT_EXPECT(memcmp(d1, expect, sizeof(expect)) == 0);
	KT_EXPECT(memcmp(d2, expect, sizeof(expect)) == 0);
	for (size_t i = 0; i < sizeof(c); i++)
		KT_ASSERT_EQ(raw[i], 0);
}
