/*
 * fuzz_udpshell_proto.c — checks that the network shell's framing and HMAC check (net/udpshell_proto.c) refuse any datagram not sealed under the key, reading only inside it, and accept one that is.
 *
 * Two runs per input:
 *  - The input, in libFuzzer's exact-size buffer, is a datagram from the
 *    network: ush_parse() and, when it parses, ush_check_request() and
 *    ush_verify() under a fixed key.  Beyond "no read past it": a datagram
 *    that parses has payload and trailer back to back exactly filling it,
 *    only known flags, and the counter and tag where the header says; and
 *    ush_verify() is true exactly when it carries AUTH and its tag is
 *    HMAC-SHA256 (computed here with lib/hmac.c directly, not through the
 *    key's precomputed state) of everything before the tag.
 *  - The target seals a datagram itself with ush_build() under the key:
 *    seq, chunk and flags from the input's bytes 4..11, the counter from
 *    bytes 0..7, the payload the input's bytes from 16 on (at most
 *    USH_CHUNK_MAX).  Copied into a heap block of exactly its length it
 *    must parse with those fields, verify under the key, fail under
 *    another key, and fail (or no longer parse) with one bit flipped, the
 *    bit picked by the input.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "lib/byteorder.h"
#include "lib/hmac.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/udpshell_proto.h"

static const u8 key_bytes[USH_KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
	0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d,
	0x1e, 0x1f,
};

static u64 in_be(size_t off, unsigned n)
{
	u64 v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | (off + i < fuzz_size ? fuzz_data[off + i] : 0);
	return v;
}

static void check_received(struct ktest_ctx *kt, const struct ush_key *key)
{
	struct ush_pkt p;
	enum ush_bad why = ush_parse(fuzz_data, fuzz_size, &p);
	u8 want[USH_TAG_LEN];
	bool tag_ok = false;
	size_t body;

	KT_ASSERT(why < USH_BAD_COUNT && ush_bad_name(why) != NULL);
	if (why)
		return;
	KT_EXPECT(!(p.h.flags & ~USH_F_KNOWN));
	KT_EXPECT(p.raw == fuzz_data && p.payload == fuzz_data + USH_HDR_LEN);
	body = p.h.len + (p.h.flags & USH_F_AUTH ? USH_TRAILER_LEN : 0);
	KT_EXPECT_EQ(USH_HDR_LEN + body, fuzz_size);
	if (p.h.flags & USH_F_AUTH) {
		KT_ASSERT(p.tag == p.payload + p.h.len + USH_COUNTER_LEN);
		KT_EXPECT_EQ(p.counter, get_be64(p.payload + p.h.len));
		hmac_sha256(key_bytes, USH_KEY_LEN, fuzz_data, fuzz_size - USH_TAG_LEN, want);
		tag_ok = !memcmp(want, p.tag, USH_TAG_LEN);
	} else {
		KT_EXPECT(p.tag == NULL && p.counter == 0);
	}
	KT_EXPECT(ush_check_request(&p) < USH_BAD_COUNT);
	KT_EXPECT_EQ(ush_verify(key, &p), tag_ok);
}

static void check_sealed(struct ktest_ctx *kt, const struct ush_key *key,
			 const struct ush_key *other)
{
	struct ush_hdr h = {
		.seq = (u32)in_be(4, 4), .chunk = (u16)in_be(8, 2),
		.flags = (u16)(in_be(10, 2) & USH_F_KNOWN),
		.len = (u16)(fuzz_size > USH_HDR_LEN ? MIN(fuzz_size - USH_HDR_LEN,
							  (size_t)USH_CHUNK_MAX) : 0),
	};
	u64 counter = in_be(0, 8);
	u8 *buf = kmalloc(USH_PKT_MAX), *pkt;
	size_t n = ush_build(buf, &h, fuzz_data + USH_HDR_LEN, key, counter), bit;
	struct ush_pkt p;

	KT_ASSERT(n == USH_HDR_LEN + h.len + USH_TRAILER_LEN);
	pkt = kmalloc(n);
	memcpy(pkt, buf, n);
	kfree(buf);
	KT_ASSERT_EQ(ush_parse(pkt, n, &p), USH_OK);
	KT_EXPECT(p.h.seq == h.seq && p.h.chunk == h.chunk && p.h.len == h.len);
	KT_EXPECT_EQ(p.h.flags, h.flags | USH_F_AUTH);
	KT_EXPECT_EQ(p.counter, counter);
	KT_EXPECT(!memcmp(p.payload, fuzz_data + USH_HDR_LEN, h.len));
	KT_EXPECT(ush_verify(key, &p));
	KT_EXPECT(!ush_verify(other, &p));
	bit = (size_t)in_be(12, 4) % (n * 8);
	pkt[bit / 8] ^= (u8)(1u << (bit % 8));
	if (ush_parse(pkt, n, &p) == USH_OK && ush_verify(key, &p))
		ktest_fail(kt, __FILE__, __LINE__, "a sealed datagram with bit %zu flipped verifies",
			   bit);
	kfree(pkt);
}

KTEST(fuzz, udpshell_proto)
{
	struct ush_key *key = kmalloc(sizeof(*key)), *other = kmalloc(sizeof(*other));
	u8 other_bytes[USH_KEY_LEN];

	memcpy(other_bytes, key_bytes, USH_KEY_LEN);
	other_bytes[USH_KEY_LEN - 1] ^= 0x80;
	ush_key_init(key, key_bytes);
	ush_key_init(other, other_bytes);
	check_received(kt, key);
	check_sealed(kt, key, other);
	kfree(other);
	kfree(key);
}
