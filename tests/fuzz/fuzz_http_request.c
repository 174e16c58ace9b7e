/*
 * fuzz_http_request.c — checks that httpd's request parser (net/http_req.c) agrees with itself however the bytes are cut, and that net/http_path.c never lets a ".." through.
 *
 * Input: byte 0 picks where the stream is cut in two, as a fraction
 * (0..255)/255 of its length; the rest is what the client sent, then the
 * connection closes.  The stream is parsed twice — whole, and in the two
 * pieces — each piece in a heap block of exactly its size, so ASan sees a
 * read past what a feed was given.  Only the first request is parsed: the
 * parser starts afresh for a pipelined one (http_req_init()), which is the
 * same as another input.
 *
 * Checks beyond "no crash": a feed consumes at most what it was given and
 * MORE means all of it; the two runs agree on the result, the error, where
 * the head ended and, for a complete head, every field the parser reports
 * (method, target, Host, version, keep-alive, Content-Length, chunked,
 * Range).  A complete head's
 * target then goes through http_path_from_target(): the result is 0,
 * -EINVAL or -ENAMETOOLONG, and a path it returns starts with '/', fits
 * the buffer, and holds no "..", "." or empty segment, no backslash and no
 * control byte (what host_http_path.c requires of the targets it tries).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/http_path.h"
#include "net/http_req.h"

#define PATH_CAP 512

/* Feed @n bytes at @src (a heap copy of exactly that) to @r: the event. */
static int feed_piece(struct ktest_ctx *kt, struct http_req *r, const u8 *src, size_t n,
		      size_t *off)
{
	u8 *piece = kmalloc(n ? n : 1);
	size_t used = ~(size_t)0;
	int ev;

	memcpy(piece, src, n);
	ev = http_req_feed(r, piece, n, &used);
	kfree(piece);
	if (used > n) {
		ktest_fail(kt, __FILE__, __LINE__, "a feed of %zu consumed %zu", n, used);
		return -1000;
	}
	if (ev == HTTP_EV_MORE)
		KT_EXPECT_EQ(used, n);
	*off += used;
	return ev;
}

/* Parse @len bytes at @s cut at @cut, then the close: the last event; *@end where it ended. */
static int run_stream(struct ktest_ctx *kt, struct http_req *r, const u8 *s, size_t len,
		      size_t cut, size_t *end)
{
	int ev;

	*end = 0;
	http_req_init(r);
	ev = feed_piece(kt, r, s, cut, end);
	if (ev == HTTP_EV_MORE && cut < len)
		ev = feed_piece(kt, r, s + *end, len - *end, end);
	if (ev == HTTP_EV_MORE)
		ev = http_req_eof(r);
	return ev;
}

static bool same_req(const struct http_req *a, const struct http_req *b)
{
	return a->err == b->err && a->method == b->method &&
	       !strcmp(a->method_name, b->method_name) && a->target_len == b->target_len &&
	       !memcmp(a->target, b->target, a->target_len) && a->minor == b->minor &&
	       a->has_host == b->has_host && !strcmp(a->host, b->host) &&
	       a->keep_alive == b->keep_alive && a->has_length == b->has_length &&
	       a->length == b->length && a->chunked == b->chunked &&
	       a->range.kind == b->range.kind && a->range.first == b->range.first &&
	       a->range.last == b->range.last;
}

/* The target through http_path_from_target(), and what its result must be. */
static void check_path(struct ktest_ctx *kt, const struct http_req *r)
{
	char *out = kmalloc(PATH_CAP);
	int rc = http_path_from_target(r->target, r->target_len, out, PATH_CAP, NULL);
	size_t n;

	KT_EXPECT(rc == 0 || rc == -EINVAL || rc == -ENAMETOOLONG);
	if (rc)
		goto out;
	n = strnlen(out, PATH_CAP);
	KT_EXPECT(n < PATH_CAP);
	KT_EXPECT(out[0] == '/');
	for (size_t i = 0; i < n; i++)
		KT_EXPECT((u8)out[i] >= 0x20 && out[i] != 0x7f && out[i] != '\\');
	for (const char *seg = out + 1; seg < out + n;) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);

		if (!len && slash)
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\": an empty segment", out);
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\": a dot segment", out);
		seg += len + 1;
	}
out:
	kfree(out);
}

KTEST(fuzz, http_request)
{
	struct http_req *whole = kmalloc(sizeof(*whole)), *split = kmalloc(sizeof(*split));
	const u8 *s = fuzz_data + 1;
	size_t len = fuzz_size ? fuzz_size - 1 : 0;
	size_t cut = fuzz_size ? fuzz_data[0] * len / 255 : 0;
	size_t end_w, end_s;
	int ev_w = run_stream(kt, whole, s, len, len, &end_w);
	int ev_s = run_stream(kt, split, s, len, cut, &end_s);

	if (ev_w != ev_s || (ev_w == HTTP_EV_DONE && end_w != end_s) ||
	    whole->err != split->err || (ev_w == HTTP_EV_DONE && !same_req(whole, split)))
		ktest_fail(kt, __FILE__, __LINE__,
			   "whole and cut at %zu differ: rc %d/%d err %d/%d end %zu/%zu", cut,
			   ev_w, ev_s, whole->err, split->err, end_w, end_s);
	else if (ev_w == HTTP_EV_DONE)
		check_path(kt, whole);
	kfree(split);
	kfree(whole);
}
