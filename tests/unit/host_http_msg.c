/*
 * host_http_msg.c — the HTTP response and request parsers (net/http_msg.c,
 * net/http_req.c) on the host.
 *
 * Every case in the tables below is parsed whole, split in two at every
 * possible byte, and fed one byte at a time, and must come out the same
 * each way: the same events, status, body, error and end offset.  Each
 * piece is copied into a heap block of exactly its size, so ASan sees any
 * read past what a feed was given.  Beyond the tables: hostile volume
 * (10 MiB of header lines, a 10 MiB line, a body that never ends), random
 * chunkings of a large chunked body, pipelining, and the Range arithmetic.
 */
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/http_msg.h"
#include "net/http_req.h"

#define BODY_CAP 4096

/* What a whole run of the response parser produced. */
struct run {
	int rc;                 /* HTTP_EV_DONE, HTTP_EV_MORE or a negative errno */
	enum http_err err;
	int status;
	unsigned heads;         /* HTTP_EV_HEAD events */
	size_t end;             /* offset of the message's end (when DONE) */
	size_t body_len;
	char body[BODY_CAP];
	bool bad_span;          /* a body span outside what was consumed */
};

/* Feed one piece (a heap copy of exactly @n bytes) until it is used up or the message ends. */
static bool feed_piece(struct http_resp *p, const char *src, size_t n, size_t base,
		       struct run *r)
{
	u8 *piece = kmalloc(n ? n : 1);
	size_t off = 0;
	bool stop = false;

	memcpy(piece, src, n);
	for (;;) {
		struct http_span sp;
		size_t used;
		int ev = http_resp_feed(p, piece + off, n - off, &used, &sp);

		if (sp.len && (sp.off + sp.len > used || r->body_len + sp.len > BODY_CAP))
			r->bad_span = true;
		else if (sp.len) {
			memcpy(r->body + r->body_len, piece + off + sp.off, sp.len);
			r->body_len += sp.len;
		}
		off += used;
		if (ev == HTTP_EV_HEAD)
			r->heads++;
		if (ev < 0 || ev == HTTP_EV_DONE) {
			r->rc = ev;
			r->end = base + off;
			stop = true;
			break;
		}
		if (ev == HTTP_EV_MORE) {
			if (off != n)
				r->bad_span = true; /* MORE must mean "all consumed" */
			break;
		}
	}
	kfree(piece);
	return stop;
}

/* Run @msg through a fresh parser, cut at the offsets @cuts (ascending). */
static void run_resp(struct http_resp *p, unsigned flags, const char *msg, size_t len,
		     const size_t *cuts, size_t ncuts, bool eof, struct run *r)
{
	size_t from = 0;

	memset(r, 0, sizeof(*r));
	r->rc = HTTP_EV_MORE;
	http_resp_init(p, flags);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;

		if (feed_piece(p, msg + from, to - from, from, r))
			goto out;
		from = to;
	}
	if (eof) {
		r->rc = http_resp_eof(p);
		r->end = len;
	}
out:
	r->err = p->err;
	r->status = p->status;
}

static bool same_run(const struct run *a, const struct run *b)
{
	return a->rc == b->rc && a->err == b->err && a->status == b->status &&
	       a->heads == b->heads && a->body_len == b->body_len &&
	       !memcmp(a->body, b->body, a->body_len) && !a->bad_span && !b->bad_span &&
	       (a->rc != HTTP_EV_DONE || a->end == b->end);
}

/* Whole, every split in two, and byte by byte: all must agree with the whole. */
static bool splits_agree(struct ktest_ctx *kt, struct http_resp *p, unsigned flags,
			 const char *msg, size_t len, bool eof, struct run *whole)
{
	struct run *r = kmalloc(sizeof(*r));
	size_t *cuts = kmalloc((len ? len : 1) * sizeof(size_t));
	bool ok = true;

	run_resp(p, flags, msg, len, NULL, 0, eof, whole);
	for (size_t k = 0; k <= len && ok; k++) {
		run_resp(p, flags, msg, len, &k, 1, eof, r);
		if (!same_run(whole, r)) {
			ktest_log(kt, "split at %zu differs (rc %d/%d err %d/%d)", k, whole->rc,
				  r->rc, whole->err, r->err);
			ok = false;
		}
	}
	for (size_t k = 0; k + 1 < len; k++)
		cuts[k] = k + 1;
	run_resp(p, flags, msg, len, cuts, len ? len - 1 : 0, eof, r);
	if (ok && !same_run(whole, r)) {
		ktest_log(kt, "byte-at-a-time differs (rc %d/%d err %d/%d)", whole->rc, r->rc,
			  whole->err, r->err);
		ok = false;
	}
	kfree(cuts);
	kfree(r);
	return ok;
}

/* ------------------------------------------------------- the tables */

struct resp_case {
	const char *name;
	const char *msg;
	unsigned flags;
	bool eof;               /* the connection closes after msg */
	int rc;                 /* HTTP_EV_DONE, HTTP_EV_MORE or -errno */
	enum http_err err;
	int status;
	const char *body;
};

#define OK200 "HTTP/1.1 200 OK\r\n"

static const struct resp_case good[] = {
	{ "length", OK200 "Content-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello", 0,
	  false, HTTP_EV_DONE, 0, 200, "hello" },
	{ "length zero", OK200 "Content-Length: 0\r\n\r\n", 0, false, HTTP_EV_DONE, 0, 200, "" },
	{ "length leading zeros", OK200 "Content-Length: 0003\r\n\r\nabc", 0, false,
	  HTTP_EV_DONE, 0, 200, "abc" },
	{ "length repeated", OK200 "Content-Length: 3\r\nContent-Length: 3, 3\r\n\r\nabc", 0,
	  false, HTTP_EV_DONE, 0, 200, "abc" },
	{ "chunked", OK200 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
	  0, false, HTTP_EV_DONE, 0, 200, "hello world" },
	{ "chunked ext+trailer",
	  OK200 "Transfer-Encoding: Chunked\r\n\r\n"
		"5;name=val;x=\"q\"\r\nhello\r\n"
		"6 ; x\r\n world\r\n"
		"A\r\n0123456789\r\n"
		"000\r\nX-Trailer: 1\r\nChecksum: abc\r\n\r\n",
	  0, false, HTTP_EV_DONE, 0, 200, "hello world0123456789" },
	{ "chunked beats length",
	  OK200 "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 0,
	  false, HTTP_EV_DONE, 0, 200, "ok" },
	{ "chunked leading zeros",
	  OK200 "Transfer-Encoding: chunked\r\n\r\n0000000000000000000001\r\nz\r\n0\r\n\r\n",
	  0, false, HTTP_EV_DONE, 0, 200, "z" },
	{ "bare LF", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 0, false, HTTP_EV_DONE, 0,
	  200, "ok" },
	{ "bare LF chunked", OK200 "Transfer-Encoding: chunked\n\n2\nok\n0\n\n", 0, false,
	  HTTP_EV_DONE, 0, 200, "ok" },
	{ "until close", "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nabcdef", 0, true, HTTP_EV_DONE, 0,
	  200, "abcdef" },
	{ "until close, open", "HTTP/1.0 200 OK\r\n\r\nabcdef", 0, false, HTTP_EV_MORE, 0, 200,
	  "abcdef" },
	{ "no reason", "HTTP/1.1 404\r\nContent-Length: 1\r\n\r\nx", 0, false, HTTP_EV_DONE, 0,
	  404, "x" },
	{ "empty reason", "HTTP/1.1 500 \r\nContent-Length: 0\r\n\r\n", 0, false,
	  HTTP_EV_DONE, 0, 500, "" },
	{ "HTTP/1.2 reads as 1.1", "HTTP/1.2 200 OK\r\nContent-Length: 1\r\n\r\nx", 0, false,
	  HTTP_EV_DONE, 0, 200, "x" },
	{ "100 continue", "HTTP/1.1 100 Continue\r\n\r\n" OK200 "Content-Length: 2\r\n\r\nok", 0,
	  false, HTTP_EV_DONE, 0, 200, "ok" },
	{ "two interim",
	  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\n"
	  "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
	  0, false, HTTP_EV_DONE, 0, 201, "ok" },
	{ "HEAD", OK200 "Content-Length: 100\r\n\r\n", HTTP_RESP_NO_BODY, false, HTTP_EV_DONE, 0,
	  200, "" },
	{ "HEAD with coding", OK200 "Transfer-Encoding: gzip\r\n\r\n", HTTP_RESP_NO_BODY, false,
	  HTTP_EV_DONE, 0, 200, "" },
	{ "204", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", 0, false, HTTP_EV_DONE,
	  0, 204, "" },
	{ "304", "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", 0, false,
	  HTTP_EV_DONE, 0, 304, "" },
	{ "bad range on a 200 ignored", OK200 "Content-Range: junk\r\nContent-Length: 1\r\n\r\nx", 0,
	  false, HTTP_EV_DONE, 0, 200, "x" },
	{ "obs-text value", OK200 "X-Name: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n", 0, false,
	  HTTP_EV_DONE, 0, 200, "" },
};

#define BAD_RESP(name_, msg_, err_) { name_, msg_, 0, true, 0, err_, 0, NULL }

static const struct resp_case bad[] = {
	BAD_RESP("length huge", OK200 "Content-Length: 99999999999999999999\r\n\r\n",
		 HTTP_ERR_CONTENT_LENGTH),
	BAD_RESP("length -1", OK200 "Content-Length: -1\r\n\r\n", HTTP_ERR_CONTENT_LENGTH),
	BAD_RESP("length 1 2", OK200 "Content-Length: 1 2\r\n\r\n", HTTP_ERR_CONTENT_LENGTH),
	BAD_RESP("length +5", OK200 "Content-Length: +5\r\n\r\n", HTTP_ERR_CONTENT_LENGTH),
	BAD_RESP("length hex", OK200 "Content-Length: 0x10\r\n\r\n", HTTP_ERR_CONTENT_LENGTH),
	BAD_RESP("length empty", OK200 "Content-Length:\r\n\r\n", HTTP_ERR_CONTENT_LENGTH),
	BAD_RESP("length list differs", OK200 "Content-Length: 5, 6\r\n\r\n",
		 HTTP_ERR_CONTENT_LENGTH),
	BAD_RESP("lengths differ", OK200 "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
		 HTTP_ERR_LENGTHS_DIFFER),
	BAD_RESP("truncated length", OK200 "Content-Length: 10\r\n\r\nabc", HTTP_ERR_TRUNCATED),
	BAD_RESP("truncated chunk", OK200 "Transfer-Encoding: chunked\r\n\r\n5\r\nab",
		 HTTP_ERR_TRUNCATED),
	BAD_RESP("truncated trailer", OK200 "Transfer-Encoding: chunked\r\n\r\n0\r\nX: y\r\n",
		 HTTP_ERR_TRUNCATED),
	BAD_RESP("truncated head", OK200 "Content-Length: 1\r\n", HTTP_ERR_TRUNCATED),
	BAD_RESP("empty", "", HTTP_ERR_EMPTY),
	BAD_RESP("gzip", OK200 "Transfer-Encoding: gzip\r\n\r\n", HTTP_ERR_CODING),
	BAD_RESP("gzip, chunked", OK200 "Transfer-Encoding: gzip, chunked\r\n\r\n",
		 HTTP_ERR_CODING),
	BAD_RESP("chunked twice",
		 OK200 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
		 HTTP_ERR_CODING),
	BAD_RESP("chunked param", OK200 "Transfer-Encoding: chunked;x=1\r\n\r\n", HTTP_ERR_CODING),
	BAD_RESP("coding empty", OK200 "Transfer-Encoding: ,\r\n\r\n", HTTP_ERR_CODING),
	BAD_RESP("chunk not hex", OK200 "Transfer-Encoding: chunked\r\n\r\nzz\r\n",
		 HTTP_ERR_CHUNK_HEX),
	BAD_RESP("chunk 5g", OK200 "Transfer-Encoding: chunked\r\n\r\n5g\r\n", HTTP_ERR_CHUNK_HEX),
	BAD_RESP("chunk -1", OK200 "Transfer-Encoding: chunked\r\n\r\n-1\r\n", HTTP_ERR_CHUNK_HEX),
	BAD_RESP("chunk empty", OK200 "Transfer-Encoding: chunked\r\n\r\n\r\n", HTTP_ERR_CHUNK_HEX),
	BAD_RESP("chunk space first", OK200 "Transfer-Encoding: chunked\r\n\r\n 5\r\n",
		 HTTP_ERR_CHUNK_HEX),
	BAD_RESP("chunk 5 x", OK200 "Transfer-Encoding: chunked\r\n\r\n5 x\r\n", HTTP_ERR_CHUNK_EXT),
	BAD_RESP("chunk ext ctl", OK200 "Transfer-Encoding: chunked\r\n\r\n5;a\x01\r\n",
		 HTTP_ERR_CHUNK_EXT),
	BAD_RESP("chunk 2^64", OK200 "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
		 HTTP_ERR_CHUNK_OVERFLOW),
	BAD_RESP("chunk huge", OK200 "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
		 HTTP_ERR_CHUNK_OVERFLOW),
	BAD_RESP("chunk no CRLF", OK200 "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n",
		 HTTP_ERR_CHUNK_CRLF),
	BAD_RESP("chunk CR only", OK200 "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r5\r\n",
		 HTTP_ERR_CHUNK_CRLF),
	BAD_RESP("chunk next size glued", OK200 "Transfer-Encoding: chunked\r\n\r\n1\r\na0\r\n\r\n",
		 HTTP_ERR_CHUNK_CRLF),
	BAD_RESP("chunk bare CR", OK200 "Transfer-Encoding: chunked\r\n\r\n5\rx", HTTP_ERR_BARE_CR),
	BAD_RESP("trailer fold", OK200 "Transfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n c\r\n\r\n",
		 HTTP_ERR_OBS_FOLD),
	BAD_RESP("garbage", "<html>hello</html>\r\n\r\n", HTTP_ERR_NOT_HTTP),
	BAD_RESP("HTTP/0.9 body", "hello world", HTTP_ERR_NOT_HTTP),
	BAD_RESP("lower-case version", "http/1.1 200 OK\r\n\r\n", HTTP_ERR_NOT_HTTP),
	BAD_RESP("HTTP/2", "HTTP/2.0 200 OK\r\n\r\n", HTTP_ERR_VERSION),
	BAD_RESP("HTTP/0.9", "HTTP/0.9 200 OK\r\n\r\n", HTTP_ERR_VERSION),
	BAD_RESP("HTTP/1.10", "HTTP/1.10 200 OK\r\n\r\n", HTTP_ERR_VERSION),
	BAD_RESP("HTTP/1", "HTTP/1 200 OK\r\n\r\n", HTTP_ERR_VERSION),
	BAD_RESP("status 99", "HTTP/1.1 99 Low\r\n\r\n", HTTP_ERR_STATUS),
	BAD_RESP("status 600", "HTTP/1.1 600 High\r\n\r\n", HTTP_ERR_STATUS),
	BAD_RESP("status 099", "HTTP/1.1 099 Low\r\n\r\n", HTTP_ERR_STATUS),
	BAD_RESP("status 2000", "HTTP/1.1 2000 OK\r\n\r\n", HTTP_ERR_STATUS),
	BAD_RESP("status abc", "HTTP/1.1 abc OK\r\n\r\n", HTTP_ERR_STATUS),
	BAD_RESP("no status", "HTTP/1.1\r\n\r\n", HTTP_ERR_STATUS),
	BAD_RESP("two spaces", "HTTP/1.1  200 OK\r\n\r\n", HTTP_ERR_STATUS),
	BAD_RESP("reason ctl", "HTTP/1.1 200 O\x01K\r\n\r\n", HTTP_ERR_REASON),
	BAD_RESP("101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", HTTP_ERR_SWITCH),
	BAD_RESP("obs-fold", OK200 "X-A: a\r\n b\r\nContent-Length: 0\r\n\r\n", HTTP_ERR_OBS_FOLD),
	BAD_RESP("space first field", OK200 " X-A: a\r\n\r\n", HTTP_ERR_OBS_FOLD),
	BAD_RESP("space before colon", OK200 "Content-Length : 5\r\n\r\nhello",
		 HTTP_ERR_FIELD_NAME),
	BAD_RESP("no colon", OK200 "Content-Length 5\r\n\r\n", HTTP_ERR_FIELD_NAME),
	BAD_RESP("empty name", OK200 ": x\r\n\r\n", HTTP_ERR_FIELD_NAME),
	BAD_RESP("name not token", OK200 "X(y): x\r\n\r\n", HTTP_ERR_FIELD_NAME),
	BAD_RESP("value ctl", OK200 "X-A: a\x01" "b\r\n\r\n", HTTP_ERR_FIELD_VALUE),
	BAD_RESP("value DEL", OK200 "X-A: a\x7f\r\n\r\n", HTTP_ERR_FIELD_VALUE),
	BAD_RESP("bare CR", OK200 "X-A: a\rb\r\n\r\n", HTTP_ERR_BARE_CR),
	BAD_RESP("bare CR status", "HTTP/1.1 200 O\rK\r\n\r\n", HTTP_ERR_BARE_CR),
	BAD_RESP("206 bad range", "HTTP/1.1 206 Partial\r\nContent-Range: bytes 5-1/10\r\n"
				  "Content-Length: 0\r\n\r\n", HTTP_ERR_CONTENT_RANGE),
};

static void check_case(struct ktest_ctx *kt, struct http_resp *p, const struct resp_case *c,
		       struct run *whole)
{
	size_t len = strlen(c->msg);
	int want_rc = c->body ? c->rc : http_err_errno(c->err);

	if (!splits_agree(kt, p, c->flags, c->msg, len, c->eof, whole))
		ktest_fail(kt, __FILE__, __LINE__, "case \"%s\": pieces disagree", c->name);
	if (whole->rc != want_rc || whole->err != c->err)
		ktest_fail(kt, __FILE__, __LINE__, "case \"%s\": rc %d err %d (%s), want %d err %d",
			   c->name, whole->rc, whole->err, http_err_str(whole->err), want_rc,
			   c->err);
	if (c->body && (whole->status != c->status || whole->body_len != strlen(c->body) ||
			memcmp(whole->body, c->body, whole->body_len)))
		ktest_fail(kt, __FILE__, __LINE__, "case \"%s\": status %d body \"%.*s\"", c->name,
			   whole->status, (int)whole->body_len, whole->body);
	if (c->body && c->rc == HTTP_EV_DONE && !c->eof && whole->end != len)
		ktest_fail(kt, __FILE__, __LINE__, "case \"%s\": ended at %zu of %zu", c->name,
			   whole->end, len);
}

KTEST(http_msg, good_responses_any_split)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	struct run *whole = kmalloc(sizeof(*whole));

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		check_case(kt, p, &good[i], whole);
	kfree(whole);
	kfree(p);
}

KTEST(http_msg, bad_responses_any_split)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	struct run *whole = kmalloc(sizeof(*whole));

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		check_case(kt, p, &bad[i], whole);
	kfree(whole);
	kfree(p);
}

/* ----------------------------------------------------- result fields */

/* Parse @msg whole; the result of the last feed (after eof if @eof). */
static int parse_whole(struct http_resp *p, unsigned flags, const char *msg, bool eof)
{
	struct run *r = kmalloc(sizeof(*r));
	int rc;

	run_resp(p, flags, msg, strlen(msg), NULL, 0, eof, r);
	rc = r->rc;
	kfree(r);
	return rc;
}

KTEST(http_msg, fields_and_keep_alive)
{
	struct http_resp *p = kmalloc(sizeof(*p));

	KT_EXPECT_EQ(parse_whole(p, 0, OK200 "Content-Length: 0\r\nLocation: /x\r\n"
					 "content-type:  text/html; charset=utf-8  \r\n\r\n", false),
		     HTTP_EV_DONE);
	KT_EXPECT_STREQ(p->reason, "OK");
	KT_EXPECT_EQ(p->minor, 1);
	KT_EXPECT(p->keep_alive);
	KT_EXPECT(p->has_location);
	KT_EXPECT_STREQ(p->location, "/x");
	KT_EXPECT_STREQ(p->content_type, "text/html; charset=utf-8");
	KT_EXPECT_EQ(p->framing, HTTP_FRAME_NONE);

	parse_whole(p, 0, OK200 "Connection: close\r\nContent-Length: 0\r\n\r\n", false);
	KT_EXPECT(!p->keep_alive);
	parse_whole(p, 0, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false);
	KT_EXPECT(!p->keep_alive);
	KT_EXPECT_EQ(p->minor, 0);
	parse_whole(p, 0, "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
		    false);
	KT_EXPECT(p->keep_alive);
	parse_whole(p, 0, OK200 "Connection: upgrade, close\r\nContent-Length: 0\r\n\r\n", false);
	KT_EXPECT(!p->keep_alive);
	/* chunked beside a length: the chunks frame it, but the connection is not reused */
	parse_whole(p, 0, OK200 "Content-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		    false);
	KT_EXPECT(p->chunked);
	KT_EXPECT(!p->keep_alive);
	KT_EXPECT_EQ(p->framing, HTTP_FRAME_CHUNKED);
	/* no length: the close ends the body, so no reuse either */
	parse_whole(p, 0, OK200 "\r\nabc", true);
	KT_EXPECT_EQ(p->framing, HTTP_FRAME_EOF);
	KT_EXPECT(!p->keep_alive);
	KT_EXPECT_EQ(p->body_bytes, 3);
	kfree(p);
}

KTEST(http_msg, interim_fields_do_not_leak)
{
	struct http_resp *p = kmalloc(sizeof(*p));

	KT_EXPECT_EQ(parse_whole(p, 0, "HTTP/1.1 100 Continue\r\nLocation: /no\r\n"
					"Content-Length: 7\r\n\r\n"
					OK200 "Content-Length: 1\r\n\r\nx", false),
		     HTTP_EV_DONE);
	KT_EXPECT_EQ(p->status, 200);
	KT_EXPECT_EQ(p->interim, 1);
	KT_EXPECT(!p->has_location);
	KT_EXPECT_EQ(p->length, 1);
	kfree(p);
}

KTEST(http_msg, too_many_interim)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	char msg[512] = "";

	for (int i = 0; i <= HTTP_INTERIM_MAX; i++)
		strlcat(msg, "HTTP/1.1 100 Continue\r\n\r\n", sizeof(msg));
	KT_EXPECT_EQ(parse_whole(p, 0, msg, false), -EMSGSIZE);
	KT_EXPECT_EQ(p->err, HTTP_ERR_INTERIM);
	kfree(p);
}

KTEST(http_msg, location_and_range)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	char *msg = kmalloc(HTTP_URL_MAX + 200);
	int n;

	KT_EXPECT_EQ(parse_whole(p, 0, "HTTP/1.1 206 Partial Content\r\n"
					"Content-Range: bytes 100-199/1000\r\nContent-Length: 0\r\n\r\n",
				 false),
		     HTTP_EV_DONE);
	KT_EXPECT(p->has_range);
	KT_EXPECT_EQ(p->range.first, 100);
	KT_EXPECT_EQ(p->range.last, 199);
	KT_EXPECT_EQ(p->range.size, 1000);
	parse_whole(p, 0, "HTTP/1.1 416 Range Not Satisfiable\r\n"
			  "Content-Range: bytes */1000\r\nContent-Length: 0\r\n\r\n", false);
	KT_EXPECT(p->has_range && p->range.unsatisfied && p->range.size == 1000);

	/* A Location over the limit is flagged, not kept, and not an error. */
	n = snprintf(msg, HTTP_URL_MAX + 200, "HTTP/1.1 302 Found\r\nLocation: /");
	memset(msg + n, 'a', HTTP_URL_MAX);
	strlcpy(msg + n + HTTP_URL_MAX, "\r\nContent-Length: 0\r\n\r\n", 200);
	KT_EXPECT_EQ(parse_whole(p, 0, msg, false), HTTP_EV_DONE);
	KT_EXPECT(p->has_location && p->location_long);
	KT_EXPECT_STREQ(p->location, "");
	kfree(msg);
	kfree(p);
}

KTEST(http_msg, content_range_syntax)
{
	struct http_content_range cr;
	static const char *const bad_ones[] = {
		"bytes 1-2", "bytes 2-1/10", "bytes 0-10/10", "bytes */*", "bytes -1/10",
		"bytes 1-/10", "bytes  1-2/10", "items 1-2/10", "bytes 1-2/x", "",
	};

	KT_ASSERT_EQ(http_parse_content_range("bytes 0-9/10", 12, &cr), 0);
	KT_EXPECT(cr.first == 0 && cr.last == 9 && cr.size_known && cr.size == 10);
	KT_ASSERT_EQ(http_parse_content_range("Bytes 5-6/*", 11, &cr), 0);
	KT_EXPECT(!cr.size_known && cr.first == 5 && cr.last == 6);
	for (size_t i = 0; i < ARRAY_SIZE(bad_ones); i++)
		if (!http_parse_content_range(bad_ones[i], strlen(bad_ones[i]), &cr))
			ktest_fail(kt, __FILE__, __LINE__, "accepted \"%s\"", bad_ones[i]);
}

KTEST(http_msg, nul_in_head)
{
	static const char msg[] = OK200 "X-A: a\0b\r\n\r\n";
	struct http_resp *p = kmalloc(sizeof(*p));
	struct run *r = kmalloc(sizeof(*r));

	KT_EXPECT(splits_agree(kt, p, 0, msg, sizeof(msg) - 1, true, r));
	KT_EXPECT_EQ(r->err, HTTP_ERR_NUL);
	KT_EXPECT_EQ(r->rc, -EBADMSG);
	kfree(r);
	kfree(p);
}

KTEST(http_msg, garbage_refused_early)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	struct http_span sp;
	size_t used;

	/* No newline needed: the first bytes already show it is not HTTP. */
	http_resp_init(p, 0);
	KT_EXPECT_EQ(http_resp_feed(p, "HT", 2, &used, &sp), HTTP_EV_MORE);
	KT_EXPECT_EQ(http_resp_feed(p, "TX", 2, &used, &sp), -EBADMSG);
	KT_EXPECT_EQ(p->err, HTTP_ERR_NOT_HTTP);
	/* errors stick */
	KT_EXPECT_EQ(http_resp_feed(p, "P/1.1", 5, &used, &sp), -EBADMSG);
	KT_EXPECT_EQ(used, 0);
	KT_EXPECT_EQ(http_resp_eof(p), -EBADMSG);
	KT_EXPECT_STREQ(http_err_str(p->err), "not an HTTP response");
	kfree(p);
}

/* ------------------------------------------------------------ volume */

/* Feed all of @buf: the last event (MORE when all was taken), DONE or an error. */
static int feed_all(struct http_resp *p, const void *buf, size_t n, size_t *consumed)
{
	size_t off = 0, used;
	struct http_span sp;
	int rc;

	do {
		rc = http_resp_feed(p, (const u8 *)buf + off, n - off, &used, &sp);
		off += used;
	} while (rc != HTTP_EV_MORE && rc != HTTP_EV_DONE && rc >= 0);
	*consumed += off;
	return rc;
}

/* Feed @total bytes of the pattern @pat after @start, 64 KiB at a time, until an error. */
static int flood(struct http_resp *p, const char *start, const char *pat, size_t total,
		 size_t *consumed)
{
	size_t chunk = 65536, plen = strlen(pat);
	u8 *buf = kmalloc(chunk);
	int rc;

	*consumed = 0;
	http_resp_init(p, 0);
	rc = feed_all(p, start, strlen(start), consumed);
	for (size_t i = 0; i < chunk; i++)
		buf[i] = (u8)pat[i % plen];
	for (size_t sent = 0; rc == HTTP_EV_MORE && sent < total; sent += chunk)
		rc = feed_all(p, buf, chunk, consumed);
	kfree(buf);
	return rc;
}

KTEST(http_msg, endless_headers)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	size_t used;

	/* 10 MiB of short field lines: refused at the field count. */
	KT_EXPECT_EQ(flood(p, OK200, "X-Field: value\r\n", 10u << 20, &used), -EMSGSIZE);
	KT_EXPECT_EQ(p->err, HTTP_ERR_TOO_MANY_FIELDS);
	KT_EXPECT(used <= HTTP_HEAD_MAX);
	/* Long lines under the line limit: refused at the head limit. */
	{
		char pat[1002];

		memset(pat, 'v', sizeof(pat));
		memcpy(pat, "X-Long: ", 8);
		pat[sizeof(pat) - 3] = '\r', pat[sizeof(pat) - 2] = '\n', pat[sizeof(pat) - 1] = 0;
		KT_EXPECT_EQ(flood(p, OK200, pat, 10u << 20, &used), -EMSGSIZE);
		KT_EXPECT_EQ(p->err, HTTP_ERR_HEAD_LONG);
		KT_EXPECT(used <= HTTP_HEAD_MAX);
	}
	/* One line that never ends. */
	KT_EXPECT_EQ(flood(p, OK200 "X-A: ", "a", 10u << 20, &used), -EMSGSIZE);
	KT_EXPECT_EQ(p->err, HTTP_ERR_LINE_LONG);
	KT_EXPECT(used <= HTTP_LINE_MAX + 64);
	/* A status line that never ends. */
	KT_EXPECT_EQ(flood(p, "HTTP/1.1 200 ", "a", 10u << 20, &used), -EMSGSIZE);
	KT_EXPECT_EQ(p->err, HTTP_ERR_LINE_LONG);
	/* A chunk-size line whose extensions never end. */
	KT_EXPECT_EQ(flood(p, OK200 "Transfer-Encoding: chunked\r\n\r\n5;", "x", 10u << 20, &used),
		     -EMSGSIZE);
	KT_EXPECT_EQ(p->err, HTTP_ERR_CHUNK_LINE_LONG);
	/* A trailer that never ends. */
	KT_EXPECT_EQ(flood(p, OK200 "Transfer-Encoding: chunked\r\n\r\n0\r\n", "T: x\r\n",
			   10u << 20, &used), -EMSGSIZE);
	KT_EXPECT_EQ(p->err, HTTP_ERR_TOO_MANY_FIELDS);
	kfree(p);
}

KTEST(http_msg, line_limit_exact)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	size_t hdr = strlen(OK200), n;
	char *msg = kmalloc(hdr + HTTP_LINE_MAX + 64);
	struct run *r = kmalloc(sizeof(*r));
	size_t cuts[1];

	for (int extra = 0; extra <= 1; extra++) {
		memcpy(msg, OK200, hdr);
		n = hdr;
		memcpy(msg + n, "X: ", 3);
		memset(msg + n + 3, 'a', HTTP_LINE_MAX - 3 + (size_t)extra);
		n += HTTP_LINE_MAX + (size_t)extra;
		n += (size_t)snprintf(msg + n, 64, "\r\nContent-Length: 0\r\n\r\n");
		for (size_t k = n - 40; k <= n; k += 1) {
			cuts[0] = k;
			run_resp(p, 0, msg, n, cuts, 1, false, r);
			if (extra)
				KT_EXPECT_EQ(r->err, HTTP_ERR_LINE_LONG);
			else
				KT_EXPECT_EQ(r->rc, HTTP_EV_DONE);
		}
	}
	kfree(r);
	kfree(msg);
	kfree(p);
}

/* A response that never ends: without a length, everything is body until the close. */
KTEST(http_msg, body_until_close)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	size_t used;

	KT_EXPECT_EQ(flood(p, "HTTP/1.0 200 OK\r\n\r\n", "0123456789abcdef", 10u << 20, &used),
		     HTTP_EV_MORE);
	KT_EXPECT_EQ(p->body_bytes, 10u << 20);
	KT_EXPECT_EQ(http_resp_eof(p), HTTP_EV_DONE);
	/* With a length, a close before the end is an error, not a short file. */
	KT_EXPECT_EQ(flood(p, OK200 "Content-Length: 20000000\r\n\r\n", "x", 10u << 20, &used),
		     HTTP_EV_MORE);
	KT_EXPECT_EQ(http_resp_eof(p), -EPIPE);
	KT_EXPECT_EQ(p->err, HTTP_ERR_TRUNCATED);
	kfree(p);
}

/* A body past what fits in 32 bits of length, in chunks near the limits. */
KTEST(http_msg, large_lengths)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	struct http_span sp;
	size_t used;
	static const char head[] = OK200 "Content-Length: 18446744073709551615\r\n\r\n";
	static const char chunk[] = OK200 "Transfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nab";

	http_resp_init(p, 0);
	KT_EXPECT_EQ(http_resp_feed(p, head, sizeof(head) - 1, &used, &sp), HTTP_EV_HEAD);
	KT_EXPECT_EQ(p->length, UINT64_MAX);
	KT_EXPECT_EQ(http_resp_feed(p, "abc", 3, &used, &sp), HTTP_EV_BODY);
	KT_EXPECT_EQ(sp.len, 3);
	http_resp_init(p, 0);
	KT_EXPECT_EQ(http_resp_feed(p, chunk, sizeof(chunk) - 1, &used, &sp), HTTP_EV_HEAD);
	KT_EXPECT_EQ(http_resp_feed(p, chunk + used, sizeof(chunk) - 1 - used, &used, &sp),
		     HTTP_EV_BODY);
	KT_EXPECT_EQ(sp.len, 2);
	KT_EXPECT_EQ(p->left, UINT64_MAX - 2);
	kfree(p);
}

/* ----------------------------------------------- random chunked bodies */

KTEST(http_msg, random_chunked_body)
{
	enum { BODY = 50000 };
	struct http_resp *p = kmalloc(sizeof(*p));
	u8 *body = kmalloc(BODY), *got = kmalloc(BODY);
	char *wire = kmalloc(BODY * 2 + 4096);
	size_t n, gotn;

	for (size_t i = 0; i < BODY; i++)
		body[i] = (u8)ktest_rand(kt);
	for (int round = 0; round < 20; round++) {
		size_t at = 0, off = 0;

		n = (size_t)snprintf(wire, 128, OK200 "Transfer-Encoding: chunked\r\n\r\n");
		while (at < BODY) {
			size_t c = 1 + ktest_rand(kt) % 3000;

			if (c > BODY - at)
				c = BODY - at;
			n += (size_t)snprintf(wire + n, 64, "%zx%s\r\n", c,
					      ktest_rand(kt) % 2 ? ";ext=1" : "");
			memcpy(wire + n, body + at, c);
			n += c;
			wire[n++] = '\r', wire[n++] = '\n';
			at += c;
		}
		n += (size_t)snprintf(wire + n, 64, "0\r\nT: 1\r\n\r\nNEXT");
		http_resp_init(p, 0);
		gotn = 0;
		for (;;) {
			size_t piece = 1 + ktest_rand(kt) % 1500, used;
			struct http_span sp;
			int ev;

			if (piece > n - off)
				piece = n - off;
			KT_ASSERT(piece > 0); /* the message must end before the wire does */
			ev = http_resp_feed(p, wire + off, piece, &used, &sp);
			KT_ASSERT(ev >= 0);
			if (sp.len) {
				KT_ASSERT(gotn + sp.len <= BODY);
				memcpy(got + gotn, wire + off + sp.off, sp.len);
				gotn += sp.len;
			}
			off += used;
			if (ev == HTTP_EV_DONE)
				break;
		}
		KT_EXPECT_EQ(gotn, BODY);
		KT_EXPECT(!memcmp(got, body, BODY));
		KT_EXPECT_EQ(n - off, 4); /* "NEXT" is left for the next response */
	}
	kfree(wire);
	kfree(got);
	kfree(body);
	kfree(p);
}

KTEST(http_msg, pipelined_responses)
{
	static const char two[] = OK200 "Content-Length: 3\r\n\r\nabc"
				  OK200 "Transfer-Encoding: chunked\r\n\r\n1\r\nd\r\n0\r\n\r\n"
				  "HTTP/1.1 304 Not Modified\r\n\r\n";
	struct http_resp *p = kmalloc(sizeof(*p));
	struct run *r = kmalloc(sizeof(*r));
	size_t off = 0, len = sizeof(two) - 1;
	const char *want[] = { "abc", "d", "" };

	for (int i = 0; i < 3; i++) {
		run_resp(p, 0, two + off, len - off, NULL, 0, false, r);
		KT_ASSERT_EQ(r->rc, HTTP_EV_DONE);
		KT_EXPECT_EQ(r->body_len, strlen(want[i]));
		KT_EXPECT(!memcmp(r->body, want[i], r->body_len));
		off += r->end;
	}
	KT_EXPECT_EQ(off, len);
	kfree(r);
	kfree(p);
}

KTEST(http_msg, helpers)
{
	const char *list = " a ,, b\t,c ", *p = list, *item;
	size_t n;
	u64 v;

	KT_ASSERT(http_list_next(&p, list + strlen(list), &item, &n));
	KT_EXPECT(n == 1 && item[0] == 'a');
	KT_ASSERT(http_list_next(&p, list + strlen(list), &item, &n));
	KT_EXPECT(n == 1 && item[0] == 'b');
	KT_ASSERT(http_list_next(&p, list + strlen(list), &item, &n));
	KT_EXPECT(n == 1 && item[0] == 'c');
	KT_EXPECT(!http_list_next(&p, list + strlen(list), &item, &n));
	KT_EXPECT(http_token_eq("Chunked", 7, "chunked"));
	KT_EXPECT(!http_token_eq("chunke", 6, "chunked"));
	KT_EXPECT(!http_token_eq("chunkedx", 8, "chunked"));
	KT_EXPECT_EQ(http_parse_length("18446744073709551615", 20, &v), 0);
	KT_EXPECT_EQ(v, UINT64_MAX);
	KT_EXPECT_EQ(http_parse_length("18446744073709551616", 20, &v), -ERANGE);
	KT_EXPECT_STREQ(http_status_text(404), "Not Found");
	KT_EXPECT_STREQ(http_status_text(299), "Unknown");
	for (int e = 0; e < HTTP_ERR_COUNT; e++) {
		KT_EXPECT(http_err_str((enum http_err)e)[0]);
		KT_EXPECT(e == 0 || http_err_errno((enum http_err)e) < 0);
	}
	KT_EXPECT_EQ(http_err_status(HTTP_ERR_TARGET_LONG), 414);
	KT_EXPECT_EQ(http_err_status(HTTP_ERR_TOO_MANY_FIELDS), 431);
	KT_EXPECT_EQ(http_err_status(HTTP_ERR_REQ_VERSION), 505);
	KT_EXPECT_STREQ(http_err_str(HTTP_ERR_CHUNK_HEX), "chunk size is not hex");
}

/*
 * Hostile bytes: valid responses with a few bytes changed at random must
 * parse the same whole, cut at random places and byte by byte — whatever
 * the outcome — and never read past what they were given.
 */
KTEST(http_msg, random_mutations)
{
	struct http_resp *p = kmalloc(sizeof(*p));
	struct run *a = kmalloc(sizeof(*a)), *b = kmalloc(sizeof(*b));
	char msg[512];
	size_t cuts[512];

	for (int iter = 0; iter < 3000; iter++) {
		const struct resp_case *c = &good[ktest_rand(kt) % ARRAY_SIZE(good)];
		size_t len = strlen(c->msg), ncuts = 0;
		unsigned flips = 1 + (unsigned)(ktest_rand(kt) % 3);

		memcpy(msg, c->msg, len);
		for (unsigned f = 0; f < flips; f++) {
			u64 x = ktest_rand(kt);

			msg[x % len] = (char)(x >> 32);
		}
		for (size_t k = 1; k < len; k++)
			if (ktest_rand(kt) % 8 == 0)
				cuts[ncuts++] = k;
		run_resp(p, c->flags, msg, len, NULL, 0, true, a);
		run_resp(p, c->flags, msg, len, cuts, ncuts, true, b);
		if (same_run(a, b)) {
			for (size_t k = 0; k + 1 < len; k++)
				cuts[k] = k + 1;
			run_resp(p, c->flags, msg, len, cuts, len - 1, true, b);
		}
		if (!same_run(a, b)) {
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\" mutated: err %d vs %d, rc %d vs %d",
				   c->name, a->err, b->err, a->rc, b->rc);
			break;
		}
	}
	kfree(b);
	kfree(a);
	kfree(p);
}
