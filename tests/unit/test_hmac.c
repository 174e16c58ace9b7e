/*
 * test_hmac.c — lib/hmac against the HMAC-SHA-256 vectors of RFC 4231
 * (test cases 1-7: short keys, a key shorter than the digest, 131-byte keys
 * that must be hashed first, and case 5's tag truncated to 128 bits), then
 * the properties of the definition itself — a key longer than a block acts
 * as its hash, zero bytes at the end of a short key change nothing, any
 * split of the message gives the same tag, a copied keyed context can be
 * reused — and crypto_memeq() on every position of a difference.
 *
 * Portable: built for the host and for the boot tests.
 */
#include "lib/ktest.h"
#include "lib/hmac.h"
#include "lib/parse.h"
#include "lib/string.h"

#define VEC_MAX 160

/* Decode hex digits into @out; returns the byte count, -1 if malformed. */
static int unhex(const char *s, u8 *out, size_t cap)
{
	size_t n = 0;

	for (; s[0]; s += 2) {
		int hi = parse_hex_digit(s[0]), lo = hi < 0 ? -1 : parse_hex_digit(s[1]);

		if (lo < 0 || n == cap)
			return -1;
		out[n++] = (u8)(hi << 4 | lo);
	}
	return (int)n;
}

/* A test case of RFC 4231 section 4: key and data as bytes, or repeated. */
struct rfc4231_case {
	u8 key_byte;          /* key: key_len copies of this ... */
	size_t key_len;
	const char *key_hex;  /* ... unless this is set */
	const char *data;     /* data: this text ... */
	u8 data_byte;         /* ... or data_len copies of this */
	size_t data_len;
	const char *tag_hex;  /* the expected tag, maybe truncated */
};

static const struct rfc4231_case rfc4231[] = {
	{ 0x0b, 20, NULL, "Hi There", 0, 0,
	  "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ 0, 4, "4a656665", "what do ya want for nothing?", 0, 0, /* key "Jefe" */
	  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ 0xaa, 20, NULL, NULL, 0xdd, 50,
	  "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ 0, 25, "0102030405060708090a0b0c0d0e0f10111213141516171819", NULL, 0xcd, 50,
	  "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ 0x0c, 20, NULL, "Test With Truncation", 0, 0,
	  "a3b6167473100ee06e0c796c2955552b" }, /* 128 of the 256 bits */
	{ 0xaa, 131, NULL, "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0,
	  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ 0xaa, 131, NULL,
	  "This is a test using a larger than block-size key and a larger than block-size "
	  "data. The key needs to be hashed before being used by the HMAC algorithm.", 0, 0,
	  "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static void case_bytes(const struct rfc4231_case *v, u8 *key, u8 *data, size_t *data_len)
{
	if (v->key_hex)
		unhex(v->key_hex, key, VEC_MAX);
	else
		memset(key, v->key_byte, v->key_len);
	if (v->data) {
		*data_len = strlen(v->data);
		memcpy(data, v->data, *data_len);
	} else {
		*data_len = v->data_len;
		memset(data, v->data_byte, v->data_len);
	}
}

KTEST(hmac, rfc4231_cases_1_to_7)
{
	for (unsigned i = 0; i < ARRAY_SIZE(rfc4231); i++) {
		const struct rfc4231_case *v = &rfc4231[i];
		u8 key[VEC_MAX], data[VEC_MAX], expect[SHA256_DIGEST_SIZE];
		u8 tag[SHA256_DIGEST_SIZE], split[SHA256_DIGEST_SIZE];
		struct hmac_sha256_ctx c;
		size_t data_len;
		int tag_len = unhex(v->tag_hex, expect, sizeof(expect));

		KT_ASSERT(tag_len == 32 || tag_len == 16);
		case_bytes(v, key, data, &data_len);
		hmac_sha256(key, v->key_len, data, data_len, tag);
		if (!crypto_memeq(tag, expect, (size_t)tag_len))
			ktest_log(kt, "RFC 4231 test case %u: wrong tag", i + 1);
		KT_EXPECT(crypto_memeq(tag, expect, (size_t)tag_len));

		hmac_sha256_init(&c, key, v->key_len);
		hmac_sha256_update(&c, data, data_len / 3);
		hmac_sha256_update(&c, data + data_len / 3, data_len - data_len / 3);
		hmac_sha256_final(&c, split);
		KT_EXPECT(memcmp(split, tag, sizeof(tag)) == 0);
	}
	KT_EXPECT_EQ(strlen(rfc4231[6].data), 152);
}

/* RFC 2104: a key longer than the block is replaced by its hash. */
KTEST(hmac, long_key_is_its_hash)
{
	u8 key[200], hashed[SHA256_DIGEST_SIZE], msg[70], a[32], b[32];

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (u8)ktest_rand(kt);
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (u8)ktest_rand(kt);
	for (size_t len = 65; len <= sizeof(key); len += 45) {
		sha256(key, len, hashed);
		hmac_sha256(key, len, msg, sizeof(msg), a);
		hmac_sha256(hashed, sizeof(hashed), msg, sizeof(msg), b);
		KT_EXPECT(memcmp(a, b, sizeof(a)) == 0);
	}
	/* exactly one block is used as it is, not hashed */
	sha256(key, 64, hashed);
	hmac_sha256(key, 64, msg, sizeof(msg), a);
	hmac_sha256(hashed, sizeof(hashed), msg, sizeof(msg), b);
	KT_EXPECT(memcmp(a, b, sizeof(a)) != 0);
}

/* Short keys are zero-padded to a block, so trailing zeros are invisible. */
KTEST(hmac, short_key_zero_padding)
{
	u8 key[SHA256_BLOCK_SIZE] = { 'k', 'e', 'y' }, a[32], b[32], empty[32];

	hmac_sha256(key, 3, "msg", 3, a);
	hmac_sha256(key, sizeof(key), "msg", 3, b);
	KT_EXPECT(memcmp(a, b, sizeof(a)) == 0);
	hmac_sha256(NULL, 0, "msg", 3, empty);
	hmac_sha256(key + 3, 10, "msg", 3, b); /* ten zero bytes */
	KT_EXPECT(memcmp(empty, b, sizeof(b)) == 0);
	KT_EXPECT(memcmp(a, empty, sizeof(a)) != 0);
	key[63] = 1;
	hmac_sha256(key, sizeof(key), "msg", 3, b);
	KT_EXPECT(memcmp(a, b, sizeof(a)) != 0);
}

/* Key once, then tag many messages from copies of the keyed context. */
KTEST(hmac, keyed_context_copies)
{
	static const u8 key[32] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	u8 msg[300], a[32], b[32];
	struct hmac_sha256_ctx keyed, c;

	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (u8)ktest_rand(kt);
	hmac_sha256_init(&keyed, key, sizeof(key));
	for (size_t len = 0; len <= sizeof(msg); len += 23) {
		c = keyed;
		for (size_t at = 0; at < len; at += 7)
			hmac_sha256_update(&c, msg + at, MIN((size_t)7, len - at));
		hmac_sha256_final(&c, a);
		hmac_sha256(key, sizeof(key), msg, len, b);
		KT_EXPECT(memcmp(a, b, sizeof(a)) == 0);
	}
	crypto_memzero(&keyed, sizeof(keyed));
}

KTEST(hmac, final_wipes_the_context)
{
	struct hmac_sha256_ctx c;
	const u8 *raw = (const u8 *)&c;
	u8 tag[32];

	hmac_sha256_init(&c, "secret", 6);
	hmac_sha256_update(&c, "data", 4);
	hmac_sha256_final(&c, tag);
	for (size_t i = 0; i < sizeof(c); i++)
		KT_ASSERT_EQ(raw[i], 0);
}

/* Equal strings compare equal; a difference anywhere, in any bit, does not. */
KTEST(hmac, crypto_memeq_every_position)
{
	u8 a[SHA256_DIGEST_SIZE + 7], b[sizeof(a)];

	for (unsigned i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (u8)ktest_rand(kt);
	KT_EXPECT(crypto_memeq(a, b, sizeof(a)));
	KT_EXPECT(crypto_memeq(a, b, 0));
	KT_EXPECT(crypto_memeq(NULL, NULL, 0));
	for (unsigned pos = 0; pos < sizeof(a); pos++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			b[pos] ^= (u8)(1u << bit);
			KT_EXPECT(!crypto_memeq(a, b, sizeof(a)));
			KT_EXPECT(crypto_memeq(a, b, pos)); /* the prefix still agrees */
			b[pos] ^= (u8)(1u << bit);
		}
		b[pos] = (u8)~a[pos];
		KT_EXPECT(!crypto_memeq(a, b, pos + 1));
		b[pos] = a[pos];
		KT_EXPECT(crypto_memeq(a, b, sizeof(a)));
	}
}
