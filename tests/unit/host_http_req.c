/*
 * host_http_req.c — the server's request parser and Range arithmetic
 * (net/http_req.c) on the host: request lines of every shape, the limits
 * and the status each maps to (400, 414, 431, 501, 505), Host rules,
 * bodies, Range forms and unsatisfiable ones, pipelined requests.  As for
 * responses, each request is also fed split at every byte and one byte at
 * a time, from heap copies of exactly the bytes given.
 */
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/http_req.h"

/* Feed @len bytes of @msg cut at @cut (0 or @len: whole); the last event and where it ended. */
static int feed_cut(struct http_req *r, const char *msg, size_t len, size_t cut, bool bytewise,
		    size_t *end)
{
	size_t off = 0;
	int rc = HTTP_EV_MORE;

	http_req_init(r);
	while (off < len && rc == HTTP_EV_MORE) {
		size_t n = bytewise ? 1 : (off < cut ? cut - off : len - off), used;
		u8 *piece = kmalloc(n);

		memcpy(piece, msg + off, n);
		rc = http_req_feed(r, piece, n, &used);
		kfree(piece);
		off += used;
		if (rc == HTTP_EV_MORE && used != n)
			return -1000; /* MORE must mean "all consumed" */
	}
	*end = off;
	return rc;
}

/* Parse @msg whole, then check every split and bytewise feeding agree. */
static int parse_req(struct ktest_ctx *kt, struct http_req *r, const char *msg, size_t *end)
{
	size_t len = strlen(msg), e1, e2;
	enum http_err err;
	int rc = feed_cut(r, msg, len, len, true, &e1), rc2;

	err = r->err;
	for (size_t k = 1; k < len; k++) {
		rc2 = feed_cut(r, msg, len, k, false, &e2);
		if (rc2 != rc || r->err != err || (rc == HTTP_EV_DONE && e1 != e2))
			ktest_fail(kt, __FILE__, __LINE__, "\"%.20s...\": split at %zu gives %d/%d",
				   msg, k, rc2, rc);
	}
	rc = feed_cut(r, msg, len, len, false, &e2); /* whole, last: r keeps its results */
	if (end)
		*end = e2;
	return rc;
}

#define HOSTED(line) line "\r\nHost: vm\r\n\r\n"

KTEST(http_req, get_and_head)
{
	struct http_req *r = kmalloc(sizeof(*r));
	size_t end;

	KT_ASSERT_EQ(parse_req(kt, r, "GET /dir/f.txt?x=1 HTTP/1.1\r\nHost: vm:8080\r\n"
				   "User-Agent: t\r\n\r\n", &end), HTTP_EV_DONE);
	KT_EXPECT_EQ(r->method, HTTP_GET);
	KT_EXPECT_STREQ(r->method_name, "GET");
	KT_EXPECT_STREQ(r->target, "/dir/f.txt?x=1");
	KT_EXPECT_EQ(r->target_len, 14);
	KT_EXPECT_STREQ(r->host, "vm:8080");
	KT_EXPECT_EQ(r->minor, 1);
	KT_EXPECT(r->keep_alive);
	KT_EXPECT_EQ(r->range.kind, HTTP_RANGE_NONE);
	KT_EXPECT_EQ(http_req_status(r), 0);
	KT_EXPECT(!http_req_has_body(r));

	KT_ASSERT_EQ(parse_req(kt, r, HOSTED("HEAD / HTTP/1.1"), NULL), HTTP_EV_DONE);
	KT_EXPECT_EQ(r->method, HTTP_HEAD);
	KT_EXPECT_EQ(http_req_status(r), 0);

	/* HTTP/1.0: no Host needed, no keep-alive unless asked */
	KT_ASSERT_EQ(parse_req(kt, r, "GET / HTTP/1.0\r\n\r\n", NULL), HTTP_EV_DONE);
	KT_EXPECT(!r->keep_alive);
	KT_EXPECT(!r->has_host);
	KT_ASSERT_EQ(parse_req(kt, r, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL),
		     HTTP_EV_DONE);
	KT_EXPECT(r->keep_alive);
	KT_ASSERT_EQ(parse_req(kt, r, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
			       NULL), HTTP_EV_DONE);
	KT_EXPECT(!r->keep_alive);
	/* leading empty lines are skipped; a bare LF ends a line */
	KT_ASSERT_EQ(parse_req(kt, r, "\r\n\n\r\nGET /x HTTP/1.1\nHost: a\n\n", NULL),
		     HTTP_EV_DONE);
	KT_EXPECT_STREQ(r->target, "/x");
	/* HTTP/1.9 is read as 1.1 */
	KT_ASSERT_EQ(parse_req(kt, r, HOSTED("GET / HTTP/1.9"), NULL), HTTP_EV_DONE);
	KT_EXPECT_EQ(r->minor, 1);
	kfree(r);
}

KTEST(http_req, methods)
{
	static const struct {
		const char *line;
		enum http_method m;
		int status;
	} cases[] = {
		{ "POST / HTTP/1.1", HTTP_POST, 405 },
		{ "PUT / HTTP/1.1", HTTP_PUT, 405 },
		{ "DELETE / HTTP/1.1", HTTP_DELETE, 405 },
		{ "CONNECT h:80 HTTP/1.1", HTTP_CONNECT, 405 },
		{ "OPTIONS * HTTP/1.1", HTTP_OPTIONS, 405 },
		{ "TRACE / HTTP/1.1", HTTP_TRACE, 405 },
		{ "PATCH / HTTP/1.1", HTTP_PATCH, 405 },
		{ "FOO / HTTP/1.1", HTTP_METHOD_OTHER, 501 },
		{ "get / HTTP/1.1", HTTP_METHOD_OTHER, 501 },
		{ "M-SEARCH * HTTP/1.1", HTTP_METHOD_OTHER, 501 },
	};
	struct http_req *r = kmalloc(sizeof(*r));
	char msg[128];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(msg, sizeof(msg), "%s\r\nHost: a\r\n\r\n", cases[i].line);
		KT_EXPECT_EQ(parse_req(kt, r, msg, NULL), HTTP_EV_DONE);
		KT_EXPECT_EQ(r->method, cases[i].m);
		KT_EXPECT_EQ(http_req_status(r), cases[i].status);
		KT_EXPECT(!strncmp(cases[i].line, r->method_name, strlen(r->method_name)));
	}
	KT_EXPECT_STREQ(http_method_name(HTTP_OPTIONS), "OPTIONS");
	KT_EXPECT_STREQ(http_method_name(HTTP_METHOD_OTHER), "?");
	kfree(r);
}

KTEST(http_req, bad_requests)
{
	static const struct {
		const char *msg;
		enum http_err err;
		int status;
	} cases[] = {
		{ "GET /\r\n\r\n", HTTP_ERR_NO_VERSION, 400 },
		{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_REQUEST_LINE, 400 },
		{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", HTTP_ERR_REQUEST_LINE, 400 },
		{ "GET / http/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_REQUEST_LINE, 400 },
		{ "GET / HTTP/1\r\nHost: a\r\n\r\n", HTTP_ERR_REQUEST_LINE, 400 },
		{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", HTTP_ERR_REQ_VERSION, 505 },
		{ "GET / HTTP/0.9\r\n\r\n", HTTP_ERR_REQ_VERSION, 505 },
		{ "GET\r\n\r\n", HTTP_ERR_REQUEST_LINE, 400 },
		{ " GET / HTTP/1.1\r\n\r\n", HTTP_ERR_METHOD, 400 },
		{ "G(T / HTTP/1.1\r\n\r\n", HTTP_ERR_METHOD, 400 },
		{ "AVERYLONGMETHODNAMEX / HTTP/1.1\r\n\r\n", HTTP_ERR_METHOD, 400 },
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", HTTP_ERR_METHOD, 400 },
		{ "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_TARGET, 400 },
		{ "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", HTTP_ERR_TARGET, 400 },
		{ "GET / HTTP/1.1\r\n\r\n", HTTP_ERR_HOST, 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", HTTP_ERR_HOST, 400 },
		{ "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", HTTP_ERR_HOST, 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n x\r\n\r\n", HTTP_ERR_OBS_FOLD, 400 },
		{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", HTTP_ERR_FIELD_NAME, 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", HTTP_ERR_CONTENT_LENGTH, 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		  HTTP_ERR_LENGTHS_DIFFER, 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
		  HTTP_ERR_LENGTH_AND_CODING, 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", HTTP_ERR_REQ_CODING, 501 },
		{ "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", HTTP_ERR_BARE_CR, 400 },
	};
	struct http_req *r = kmalloc(sizeof(*r));

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc = parse_req(kt, r, cases[i].msg, NULL);

		if (rc != http_err_errno(cases[i].err) || r->err != cases[i].err ||
		    http_err_status(r->err) != cases[i].status)
			ktest_fail(kt, __FILE__, __LINE__, "case %zu: rc %d err %d (%s)", i, rc,
				   r->err, http_err_str(r->err));
	}
	kfree(r);
}

/* Garbage that never ends a line is refused from its first bytes. */
KTEST(http_req, refused_early)
{
	struct http_req *r = kmalloc(sizeof(*r));
	size_t used;

	http_req_init(r);
	KT_EXPECT_EQ(http_req_feed(r, "\x16\x03", 2, &used), -EBADMSG);
	KT_EXPECT_EQ(r->err, HTTP_ERR_METHOD);
	KT_EXPECT_EQ(http_req_feed(r, "GET", 3, &used), -EBADMSG); /* errors stick */
	KT_EXPECT_EQ(used, 0);
	kfree(r);
}

KTEST(http_req, target_limit)
{
	struct http_req *r = kmalloc(sizeof(*r));
	size_t n = HTTP_TARGET_MAX + 64, used;
	char *msg = kmalloc(n + 10000);
	int k;

	/* exactly HTTP_TARGET_MAX is fine */
	k = snprintf(msg, 8, "GET /");
	memset(msg + k, 'a', HTTP_TARGET_MAX - 1);
	strlcpy(msg + k + HTTP_TARGET_MAX - 1, " HTTP/1.1\r\nHost: a\r\n\r\n", 64);
	KT_EXPECT_EQ(feed_cut(r, msg, strlen(msg), strlen(msg), false, &used), HTTP_EV_DONE);
	KT_EXPECT_EQ(r->target_len, HTTP_TARGET_MAX);
	/* one more is 414, whole or bytewise */
	memset(msg + k, 'a', HTTP_TARGET_MAX);
	strlcpy(msg + k + HTTP_TARGET_MAX, " HTTP/1.1\r\nHost: a\r\n\r\n", 64);
	KT_EXPECT_EQ(feed_cut(r, msg, strlen(msg), strlen(msg), false, &used), -EMSGSIZE);
	KT_EXPECT_EQ(http_err_status(r->err), 414);
	KT_EXPECT_EQ(feed_cut(r, msg, strlen(msg), 0, true, &used), -EMSGSIZE);
	KT_EXPECT_EQ(http_err_status(r->err), 414);
	/* a target with no end: 414 as soon as it is too long, before any newline */
	memset(msg + k, 'b', n + 9000 - (size_t)k);
	http_req_init(r);
	KT_EXPECT_EQ(http_req_feed(r, msg, n + 9000, &used), -EMSGSIZE);
	KT_EXPECT_EQ(r->err, HTTP_ERR_TARGET_LONG);
	/* a version part with no end is a bad request line */
	k = snprintf(msg, 32, "GET / ");
	memset(msg + k, 'v', 9000);
	http_req_init(r);
	KT_EXPECT_EQ(http_req_feed(r, msg, (size_t)k + 9000, &used), -EBADMSG);
	KT_EXPECT_EQ(r->err, HTTP_ERR_REQUEST_LINE);
	kfree(msg);
	kfree(r);
}

KTEST(http_req, header_limits)
{
	struct http_req *r = kmalloc(sizeof(*r));
	size_t cap = 256u << 10, n, used; /* past HTTP_HEAD_MAX, within kmalloc's limit */
	char *msg = kmalloc(cap);

	n = (size_t)snprintf(msg, cap, "GET / HTTP/1.1\r\nHost: a\r\n");
	while (n + 16 < cap)
		n += (size_t)snprintf(msg + n, cap - n, "X-Field: value\r\n");
	http_req_init(r);
	KT_EXPECT_EQ(http_req_feed(r, msg, n, &used), -EMSGSIZE);
	KT_EXPECT_EQ(r->err, HTTP_ERR_TOO_MANY_FIELDS);
	KT_EXPECT_EQ(http_err_status(r->err), 431);
	n = (size_t)snprintf(msg, cap, "GET / HTTP/1.1\r\nX-Long: ");
	memset(msg + n, 'x', HTTP_LINE_MAX);
	http_req_init(r);
	KT_EXPECT_EQ(http_req_feed(r, msg, n + HTTP_LINE_MAX, &used), -EMSGSIZE);
	KT_EXPECT_EQ(r->err, HTTP_ERR_LINE_LONG);
	KT_EXPECT_EQ(http_err_status(r->err), 431);
	kfree(msg);
	kfree(r);
}

KTEST(http_req, bodies)
{
	struct http_req *r = kmalloc(sizeof(*r));

	KT_ASSERT_EQ(parse_req(kt, r, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", NULL),
		     HTTP_EV_DONE);
	KT_EXPECT(!http_req_has_body(r));
	KT_EXPECT_EQ(http_req_status(r), 0);
	KT_EXPECT(r->keep_alive);
	KT_ASSERT_EQ(parse_req(kt, r, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
			       NULL), HTTP_EV_DONE);
	KT_EXPECT(http_req_has_body(r));
	KT_EXPECT_EQ(http_req_status(r), 400);
	KT_EXPECT(!r->keep_alive); /* the body was not read: close after answering */
	KT_ASSERT_EQ(parse_req(kt, r, "POST /f HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
			       NULL), HTTP_EV_DONE);
	KT_EXPECT(r->chunked && http_req_has_body(r));
	KT_EXPECT_EQ(http_req_status(r), 405);
	KT_EXPECT(!r->keep_alive);
	kfree(r);
}

KTEST(http_req, pipelined)
{
	static const char two[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
				  "HEAD /b HTTP/1.1\r\nHost: x\r\nRange: bytes=1-2\r\n\r\n"
				  "GET /c HTTP/1.0\r\n\r\nGET /d";
	struct http_req *r = kmalloc(sizeof(*r));
	const char *targets[] = { "/a", "/b", "/c" };
	size_t off = 0, len = sizeof(two) - 1, end;

	for (int bytewise = 0; bytewise <= 1; bytewise++) {
		off = 0;
		for (int i = 0; i < 3; i++) {
			KT_ASSERT_EQ(feed_cut(r, two + off, len - off, len - off, bytewise, &end),
				     HTTP_EV_DONE);
			KT_EXPECT_STREQ(r->target, targets[i]);
			off += end;
		}
		KT_EXPECT_STREQ(two + off, "GET /d");
		KT_EXPECT_EQ(feed_cut(r, two + off, len - off, len - off, bytewise, &end),
			     HTTP_EV_MORE);
		KT_EXPECT_EQ(http_req_eof(r), -EPIPE);
		KT_EXPECT_EQ(r->err, HTTP_ERR_TRUNCATED);
	}
	/* after DONE, more input is left alone */
	KT_ASSERT_EQ(feed_cut(r, two, len, len, false, &end), HTTP_EV_DONE);
	KT_EXPECT_EQ(http_req_feed(r, two + end, len - end, &end), HTTP_EV_DONE);
	KT_EXPECT_EQ(end, 0);
	KT_EXPECT_EQ(http_req_eof(r), HTTP_EV_DONE);
	/* a connection closed between requests is not an error */
	http_req_init(r);
	KT_EXPECT_EQ(http_req_eof(r), 0);
	kfree(r);
}

/* ------------------------------------------------------------- Range */

KTEST(http_req, range_forms)
{
	static const struct {
		const char *value;
		enum http_range_kind kind;
		u64 first, last;
	} cases[] = {
		{ "bytes=0-499", HTTP_RANGE_SPAN, 0, 499 },
		{ "bytes=500-", HTTP_RANGE_FROM, 500, 0 },
		{ "bytes=-500", HTTP_RANGE_SUFFIX, 0, 500 },
		{ "Bytes=1-2", HTTP_RANGE_SPAN, 1, 2 },
		{ "bytes= 1-2 ", HTTP_RANGE_SPAN, 1, 2 },
		{ "bytes=5-5", HTTP_RANGE_SPAN, 5, 5 },
		{ "bytes=99999999999999999999999-", HTTP_RANGE_FROM, UINT64_MAX, 0 },
		{ "bytes=0-99999999999999999999999", HTTP_RANGE_SPAN, 0, UINT64_MAX },
		{ "bytes=0-1,5-6", HTTP_RANGE_IGNORED, 0, 0 },
		{ "bytes=0-1,", HTTP_RANGE_SPAN, 0, 1 }, /* an empty list element is no range */
		{ "bytes=5-1", HTTP_RANGE_IGNORED, 0, 0 },
		{ "bytes=abc", HTTP_RANGE_IGNORED, 0, 0 },
		{ "bytes=-", HTTP_RANGE_IGNORED, 0, 0 },
		{ "bytes=1-2-3", HTTP_RANGE_IGNORED, 0, 0 },
		{ "bytes=+1-2", HTTP_RANGE_IGNORED, 0, 0 },
		{ "bytes=", HTTP_RANGE_IGNORED, 0, 0 },
		{ "bytes 1-2", HTTP_RANGE_IGNORED, 0, 0 },
		{ "items=1-2", HTTP_RANGE_IGNORED, 0, 0 },
	};
	struct http_range rg;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		enum http_range_kind k = cases[i].kind;
		bool ok;

		http_range_parse(cases[i].value, strlen(cases[i].value), &rg);
		ok = rg.kind == k;
		if (ok && (k == HTTP_RANGE_SPAN || k == HTTP_RANGE_FROM))
			ok = rg.first == cases[i].first;
		if (ok && (k == HTTP_RANGE_SPAN || k == HTTP_RANGE_SUFFIX))
			ok = rg.last == cases[i].last;
		if (!ok)
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\": kind %d first %llu last %llu",
				   cases[i].value, rg.kind, (unsigned long long)rg.first,
				   (unsigned long long)rg.last);
	}
}

KTEST(http_req, range_in_request)
{
	struct http_req *r = kmalloc(sizeof(*r));

	KT_ASSERT_EQ(parse_req(kt, r, "GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\n\r\n", NULL),
		     HTTP_EV_DONE);
	KT_EXPECT_EQ(r->range.kind, HTTP_RANGE_SPAN);
	KT_EXPECT(r->range.first == 10 && r->range.last == 19);
	/* two Range fields: neither is honoured */
	KT_ASSERT_EQ(parse_req(kt, r, "GET /f HTTP/1.1\r\nHost: a\r\nRange: bytes=1-2\r\n"
				   "Range: bytes=3-4\r\n\r\n", NULL), HTTP_EV_DONE);
	KT_EXPECT_EQ(r->range.kind, HTTP_RANGE_IGNORED);
	kfree(r);
}

static int sel(const char *value, u64 size, u64 *off, u64 *len)
{
	struct http_range rg;

	*off = *len = 12345;
	http_range_parse(value, strlen(value), &rg);
	return http_range_select(&rg, size, off, len);
}

KTEST(http_req, range_select)
{
	struct http_range none = { .kind = HTTP_RANGE_NONE };
	u64 off, len;

	KT_EXPECT_EQ(sel("bytes=0-499", 1000, &off, &len), 206);
	KT_EXPECT(off == 0 && len == 500);
	KT_EXPECT_EQ(sel("bytes=500-", 1000, &off, &len), 206);
	KT_EXPECT(off == 500 && len == 500);
	KT_EXPECT_EQ(sel("bytes=-300", 1000, &off, &len), 206);
	KT_EXPECT(off == 700 && len == 300);
	KT_EXPECT_EQ(sel("bytes=-2000", 1000, &off, &len), 206);
	KT_EXPECT(off == 0 && len == 1000);
	KT_EXPECT_EQ(sel("bytes=900-5000", 1000, &off, &len), 206);
	KT_EXPECT(off == 900 && len == 100);
	KT_EXPECT_EQ(sel("bytes=999-999", 1000, &off, &len), 206);
	KT_EXPECT(off == 999 && len == 1);
	KT_EXPECT_EQ(sel("bytes=0-99999999999999999999999", 1000, &off, &len), 206);
	KT_EXPECT(off == 0 && len == 1000);
	/* unsatisfiable */
	KT_EXPECT_EQ(sel("bytes=1000-", 1000, &off, &len), 416);
	KT_EXPECT_EQ(sel("bytes=1000-2000", 1000, &off, &len), 416);
	KT_EXPECT_EQ(sel("bytes=-0", 1000, &off, &len), 416);
	KT_EXPECT_EQ(sel("bytes=0-", 0, &off, &len), 416);
	KT_EXPECT_EQ(sel("bytes=99999999999999999999999-", 1000, &off, &len), 416);
	/* served whole */
	KT_EXPECT_EQ(sel("bytes=-5", 0, &off, &len), 200);
	KT_EXPECT_EQ(sel("bytes=0-1,3-4", 1000, &off, &len), 200);
	KT_EXPECT_EQ(sel("bytes=5-1", 1000, &off, &len), 200);
	KT_EXPECT_EQ(sel("lines=1-2", 1000, &off, &len), 200);
	KT_EXPECT_EQ(http_range_select(&none, 1000, &off, &len), 200);
	/* the largest file */
	KT_EXPECT_EQ(sel("bytes=-1", UINT64_MAX, &off, &len), 206);
	KT_EXPECT(off == UINT64_MAX - 1 && len == 1);
}

/* Valid requests with random bytes changed: the same outcome however they are cut. */
KTEST(http_req, random_mutations)
{
	static const char *const seeds[] = {
		"GET /a/b?c HTTP/1.1\r\nHost: vm:8080\r\nRange: bytes=1-9\r\nConnection: close\r\n\r\n",
		"HEAD / HTTP/1.0\r\nUser-Agent: t\r\n\r\nGET / HTTP/1.1\r\n",
		"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
	};
	struct http_req *r = kmalloc(sizeof(*r));
	char msg[256];

	for (int iter = 0; iter < 3000; iter++) {
		const char *s = seeds[ktest_rand(kt) % ARRAY_SIZE(seeds)];
		size_t len = strlen(s), e1, e2;
		enum http_err err;
		int rc1, rc2;
		size_t cut;

		memcpy(msg, s, len);
		for (int f = 0; f < 2; f++) {
			u64 x = ktest_rand(kt);

			msg[x % len] = (char)(x >> 32);
		}
		cut = 1 + ktest_rand(kt) % (len - 1);
		rc1 = feed_cut(r, msg, len, len, false, &e1);
		err = r->err;
		rc2 = feed_cut(r, msg, len, cut, false, &e2);
		if (rc1 == rc2 && r->err == err && (rc1 != HTTP_EV_DONE || e1 == e2))
			rc2 = feed_cut(r, msg, len, 0, true, &e2);
		if (rc1 != rc2 || r->err != err || (rc1 == HTTP_EV_DONE && e1 != e2)) {
			ktest_fail(kt, __FILE__, __LINE__, "\"%.*s\": err %d vs %d, rc %d vs %d",
				   (int)len, msg, err, r->err, rc1, rc2);
			break;
		}
	}
	kfree(r);
}
