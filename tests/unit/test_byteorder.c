/*
 * test_byteorder.c — lib/byteorder.h: value swaps and the unaligned
 * accessors at every offset, checked against explicit byte patterns.
 */
#include "lib/ktest.h"
#include "lib/byteorder.h"

KTEST(byteorder, value_conversions)
{
	KT_EXPECT_EQ(htons(0x1234), 0x3412);
	KT_EXPECT_EQ(ntohs(0x3412), 0x1234);
	KT_EXPECT_EQ(htonl(0x0a000201u), 0x0102000au);
	KT_EXPECT_EQ(ntohl(0x0102000au), 0x0a000201u);
	KT_EXPECT_EQ(htobe64(0x0102030405060708ULL), 0x0807060504030201ULL);
	KT_EXPECT_EQ(be64toh(0x0807060504030201ULL), 0x0102030405060708ULL);
	KT_EXPECT_EQ(htobe16(0xabcd), 0xcdab);
	KT_EXPECT_EQ(be32toh(0x78563412u), 0x12345678u);
	KT_EXPECT_EQ(htole32(0x12345678u), 0x12345678u);
	KT_EXPECT_EQ(le16toh(0xbeef), 0xbeef);
	KT_EXPECT_EQ(cpu_to_be32(be32_to_cpu(0xdeadbeefu)), 0xdeadbeefu);
	KT_EXPECT_EQ(cpu_to_le64(0x1122334455667788ULL), 0x1122334455667788ULL);
}

KTEST(byteorder, unaligned_get)
{
	static const u8 bytes[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				    0x07, 0x08, 0x09, 0x0a };

	/* Every odd offset is unaligned for some width; UBSan would object
	 * to a cast-and-dereference here, the accessors must not. */
	KT_EXPECT_EQ(get_be16(bytes + 1), 0x0102);
	KT_EXPECT_EQ(get_le16(bytes + 1), 0x0201);
	KT_EXPECT_EQ(get_be32(bytes + 3), 0x03040506u);
	KT_EXPECT_EQ(get_le32(bytes + 3), 0x06050403u);
	KT_EXPECT_EQ(get_be64(bytes + 1), 0x0102030405060708ULL);
	KT_EXPECT_EQ(get_le64(bytes + 1), 0x0807060504030201ULL);
}

KTEST(byteorder, unaligned_put_roundtrip)
{
	u8 buf[16];
	size_t off, i;

	for (off = 0; off < 8; off++) {
		for (i = 0; i < sizeof(buf); i++)
			buf[i] = 0xee;
		put_be32(buf + off, 0xa1b2c3d4u);
		KT_EXPECT_EQ(buf[off], 0xa1);
		KT_EXPECT_EQ(buf[off + 3], 0xd4);
		KT_EXPECT_EQ(buf[off + 4], 0xee); /* nothing written past it */
		KT_EXPECT_EQ(get_be32(buf + off), 0xa1b2c3d4u);
		put_le32(buf + off, 0xa1b2c3d4u);
		KT_EXPECT_EQ(buf[off], 0xd4);
		KT_EXPECT_EQ(get_le32(buf + off), 0xa1b2c3d4u);
		put_be16(buf + off, 0x1234);
		KT_EXPECT_EQ(get_be16(buf + off), 0x1234);
		KT_EXPECT_EQ(buf[off], 0x12);
		put_le16(buf + off, 0x1234);
		KT_EXPECT_EQ(buf[off], 0x34);
		put_be64(buf + off, 0x0102030405060708ULL);
		KT_EXPECT_EQ(buf[off], 0x01);
		KT_EXPECT_EQ(buf[off + 7], 0x08);
		KT_EXPECT_EQ(get_be64(buf + off), 0x0102030405060708ULL);
		put_le64(buf + off, 0x0102030405060708ULL);
		KT_EXPECT_EQ(buf[off], 0x08);
		KT_EXPECT_EQ(get_le64(buf + off), 0x0102030405060708ULL);
	}
}
