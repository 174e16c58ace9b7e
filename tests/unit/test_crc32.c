/*
 * test_crc32.c — lib/crc32 (CRC-32 and CRC-32C) against published check values, against a
 * bit-at-a-time model of the same CRC, and for the incremental property
 * (any split of a buffer gives the CRC of the whole).
 */
#include "lib/ktest.h"
#include "lib/crc32.h"
#include "lib/string.h"

/* The textbook bitwise algorithm: slow, but nothing in it can be mistyped. */
static u32 model_crc(u32 poly, const u8 *p, size_t len)
{
	u32 r = 0xffffffffu;
	int bit;

	while (len--) {
		r ^= *p++;
		for (bit = 0; bit < 8; bit++)
			r = (r >> 1) ^ ((r & 1) ? poly : 0);
	}
	return ~r;
}

static u32 model_crc32(const u8 *p, size_t len)
{
	return model_crc(0xEDB88320u, p, len);
}

KTEST(crc32, known_vectors)
{
	static const u8 zeros[32];
	static const u8 ones[4] = { 0xff, 0xff, 0xff, 0xff };
	const char *fox = "The quick brown fox jumps over the lazy dog";

	KT_EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
	KT_EXPECT_EQ(crc32("", 0), 0);
	KT_EXPECT_EQ(crc32(NULL, 0), 0);
	KT_EXPECT_EQ(crc32("a", 1), 0xE8B7BE43u);
	KT_EXPECT_EQ(crc32("abc", 3), 0x352441C2u);
	KT_EXPECT_EQ(crc32(fox, strlen(fox)), 0x414FA339u);
	KT_EXPECT_EQ(crc32(zeros, sizeof(zeros)), 0x190A55ADu);
	KT_EXPECT_EQ(crc32(ones, sizeof(ones)), 0xFFFFFFFFu);
}

/* Byte table and slices alike, at every alignment. */
KTEST(crc32, matches_bitwise_model)
{
	static u8 buf[600];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)ktest_rand(kt);
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; off + len <= sizeof(buf); len += 7)
			KT_ASSERT_EQ(crc32(buf + off, len), model_crc32(buf + off, len));
}

KTEST(crc32, incremental_equals_one_shot)
{
	static u8 buf[200];
	size_t split, i;
	u32 whole;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)ktest_rand(kt);
	whole = crc32(buf, sizeof(buf));
	for (split = 0; split <= sizeof(buf); split++) {
		u32 c = crc32_update(crc32(buf, split), buf + split, sizeof(buf) - split);

		KT_ASSERT_EQ(c, whole);
	}
	/* Byte by byte, starting from the CRC of nothing. */
	for (i = 0, whole = 0; i < sizeof(buf); i++)
		whole = crc32_update(whole, buf + i, 1);
	KT_EXPECT_EQ(whole, crc32(buf, sizeof(buf)));
	KT_EXPECT_EQ(crc32_update(0x12345678u, buf, 0), 0x12345678u);
}

KTEST(crc32, detects_single_bit_flips)
{
	static u8 buf[64];
	u32 good;
	size_t bit;

	for (bit = 0; bit < sizeof(buf); bit++)
		buf[bit] = (u8)ktest_rand(kt);
	good = crc32(buf, sizeof(buf));
	for (bit = 0; bit < sizeof(buf) * 8; bit++) {
		buf[bit / 8] ^= (u8)(1u << (bit % 8));
		KT_ASSERT(crc32(buf, sizeof(buf)) != good);
		buf[bit / 8] ^= (u8)(1u << (bit % 8));
	}
}

/* RFC 3720 appendix B.4 and the catalogue's check value. */
KTEST(crc32c, known_vectors)
{
	static u8 zeros[32], ones[32], up[32];

	memset(ones, 0xff, sizeof(ones));
	for (unsigned i = 0; i < sizeof(up); i++)
		up[i] = (u8)i;
	KT_EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
	KT_EXPECT_EQ(crc32c(NULL, 0), 0);
	KT_EXPECT_EQ(crc32c(zeros, sizeof(zeros)), 0x8A9136AAu);
	KT_EXPECT_EQ(crc32c(ones, sizeof(ones)), 0x62A8AB43u);
	KT_EXPECT_EQ(crc32c(up, sizeof(up)), 0x46DD794Eu);
	KT_EXPECT_EQ(crc32c_soft_update(0, "123456789", 9), 0xE3069283u);
}

/* Whichever way crc32c() computes (instruction or table), at every offset and length. */
KTEST(crc32c, matches_bitwise_model_and_the_table)
{
	static u8 buf[600];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)ktest_rand(kt);
	for (size_t off = 0; off < 9; off++) {
		for (size_t len = 0; off + len <= sizeof(buf); len += 13) {
			u32 want = model_crc(0x82F63B78u, buf + off, len);

			KT_ASSERT_EQ(crc32c(buf + off, len), want);
			KT_ASSERT_EQ(crc32c_soft_update(0, buf + off, len), want);
		}
	}
}

KTEST(crc32c, incremental_equals_one_shot)
{
	static u8 buf[200];
	u32 whole;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)ktest_rand(kt);
	whole = crc32c(buf, sizeof(buf));
	for (size_t split = 0; split <= sizeof(buf); split++)
		KT_ASSERT_EQ(crc32c_update(crc32c(buf, split), buf + split, sizeof(buf) - split), whole);
}
