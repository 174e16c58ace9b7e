/*
 * fuzz_http_response.c — the HTTP response parser (net/http_msg.c: status
 * line, head, Content-Length, chunked and until-close bodies, pipelined
 * responses) on arbitrary bytes.
 *
 * Input: byte 0 picks the run, the rest is what the server sent, then the
 * connection closes.  Bit 7 of byte 0 says the request was HEAD
 * (HTTP_RESP_NO_BODY); bits 0..6 pick where the stream is cut in two,
 * as a fraction (0..127)/127 of its length.  The stream is parsed twice —
 * whole, and in the two pieces — each piece in a heap block of exactly its
 * size, so ASan sees a read past what a feed was given.  After a response
 * ends (HTTP_EV_DONE) the next one starts on the bytes that follow, as on a
 * kept-alive connection, for at most MSGS_MAX responses.
 *
 * Checks beyond "no crash": every feed consumes at most what it was given,
 * MORE means all of it was consumed, a body span lies inside what the feed
 * consumed, the parser always makes progress, and the two runs agree on
 * every response: its result, error, status, HEAD count, body bytes and
 * end offset (as host_http_msg.c requires of every split).
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/http_msg.h"

#define MSGS_MAX 8

/* What one response came to. */
struct msg_run {
	int rc;                 /* HTTP_EV_DONE, or the error; HTTP_EV_MORE when cut off */
	enum http_err err;
	int status;
	unsigned heads;
	u64 body_len;
	u64 body_hash;          /* FNV-1a over the body bytes, in order */
	size_t end;             /* stream offset of its end (DONE) */
};

struct run {
	struct msg_run m[MSGS_MAX];
	unsigned n;             /* responses begun */
	bool over;              /* an error or MSGS_MAX responses: the rest is not parsed */
};

static u64 fnv(u64 h, const u8 *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/*
 * Feed one piece (a heap copy of exactly @n bytes at stream offset @base)
 * to @p, starting the next response after each DONE.
 */
static void feed_piece(struct ktest_ctx *kt, struct http_resp *p, unsigned flags,
		       const u8 *src, size_t n, size_t base, struct run *r)
{
	u8 *piece = kmalloc(n ? n : 1);
	size_t off = 0;
	unsigned calls = 0;

	memcpy(piece, src, n);
	while (!r->over) {
		struct msg_run *m = &r->m[r->n - 1];
		struct http_span sp = { 0 };
		size_t used = ~(size_t)0;
		int ev = http_resp_feed(p, piece + off, n - off, &used, &sp);

		KT_ASSERT(used <= n - off);
		if (sp.len) {
			KT_ASSERT(ev == HTTP_EV_BODY);
			KT_ASSERT(sp.off <= used && sp.len <= used - sp.off);
			m->body_hash = fnv(m->body_hash, piece + off + sp.off, sp.len);
			m->body_len += sp.len;
		}
		off += used;
		/* A HEAD then DONE may consume nothing; a run of empty events may not go on. */
		calls = used ? 0 : calls + 1;
		KT_ASSERT(calls < 4);
		if (ev == HTTP_EV_HEAD)
			m->heads++;
		if (ev == HTTP_EV_MORE) {
			KT_EXPECT_EQ(off, n); /* MORE means everything was consumed */
			break;
		}
		if (ev < 0 || ev == HTTP_EV_DONE) {
			m->rc = ev;
			m->err = p->err;
			m->status = p->status;
			m->end = base + off;
			if (ev < 0 || r->n == MSGS_MAX) {
				r->over = true;
				break;
			}
			http_resp_init(p, flags);
			r->m[r->n++] = (struct msg_run){ .rc = HTTP_EV_MORE,
							 .body_hash = 0xcbf29ce484222325ull };
		}
	}
	kfree(piece);
}

/* Parse @len bytes at @s cut at @cut (== @len: whole), then the close. */
static void run_stream(struct ktest_ctx *kt, struct http_resp *p, unsigned flags,
		       const u8 *s, size_t len, size_t cut, struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->n = 1;
	r->m[0].rc = HTTP_EV_MORE;
	r->m[0].body_hash = 0xcbf29ce484222325ull;
	http_resp_init(p, flags);
	feed_piece(kt, p, flags, s, cut, 0, r);
	if (cut < len)
		feed_piece(kt, p, flags, s + cut, len - cut, cut, r);
	if (!r->over) {
		struct msg_run *m = &r->m[r->n - 1];
		int ev = http_resp_eof(p);

		KT_EXPECT(ev == HTTP_EV_DONE || ev < 0);
		/* A response that had not begun when the stream closed is no response. */
		if (ev < 0 && p->err == HTTP_ERR_EMPTY && r->n > 1) {
			r->n--;
		} else {
			m->rc = ev;
			m->err = p->err;
			m->status = p->status;
			m->end = len;
		}
	}
}

static bool same_msg(const struct msg_run *a, const struct msg_run *b)
{
	return a->rc == b->rc && a->err == b->err && a->status == b->status &&
	       a->heads == b->heads && a->body_len == b->body_len &&
	       a->body_hash == b->body_hash && (a->rc != HTTP_EV_DONE || a->end == b->end);
}

KTEST(fuzz, http_response)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	struct run *whole = kmalloc(sizeof(*whole)), *split = kmalloc(sizeof(*split));
	const u8 *s = fuzz_data + 1;
	size_t len = fuzz_size ? fuzz_size - 1 : 0;
	unsigned flags = fuzz_size && (fuzz_data[0] & 0x80) ? HTTP_RESP_NO_BODY : 0;
	size_t cut = fuzz_size ? (fuzz_data[0] & 0x7f) * len / 127 : 0;

	run_stream(kt, p, flags, s, len, len, whole);
	run_stream(kt, p, flags, s, len, cut, split);
	KT_EXPECT_EQ(whole->n, split->n);
	for (unsigned i = 0; i < whole->n && i < split->n; i++)
		if (!same_msg(&whole->m[i], &split->m[i])) {
			ktest_fail(kt, __FILE__, __LINE__,
				   "response %u: whole and cut at %zu differ: rc %d/%d err %d/%d "
				   "status %d/%d heads %u/%u body %llu/%llu end %zu/%zu",
				   i, cut, whole->m[i].rc, split->m[i].rc, whole->m[i].err,
				   split->m[i].err, whole->m[i].status, split->m[i].status,
				   whole->m[i].heads, split->m[i].heads,
				   (unsigned long long)whole->m[i].body_len,
				   (unsigned long long)split->m[i].body_len, whole->m[i].end,
				   split->m[i].end);
			break;
		}
	kfree(split);
	kfree(whole);
	kfree(p);
}
