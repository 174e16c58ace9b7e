/*
 * http_req.h — the server's side of HTTP/1.x as bytes: an incremental
 * request-head parser and the Range arithmetic (RFC 9112 §3, RFC 9110
 * §14).  Pure functions over a caller-owned struct, like http_msg.h, whose
 * limits, line reader and error codes it shares; the struct embeds a line
 * buffer, so kmalloc it (one per connection).
 *
 * A request:
 *
 *	GET /dir/file.txt?x=1 HTTP/1.1\r\n     METHOD SP target SP version
 *	Host: vm:8080\r\n
 *	Range: bytes=100-\r\n
 *	\r\n
 *
 * The parser reads the head only.  It stops right after the empty line
 * and returns HTTP_EV_DONE with *used telling where the head ended, so
 * pipelined requests are handled by re-initialising and feeding the rest.
 * Empty lines before the request line are skipped (RFC 9112 §2.2).
 *
 * What it checks, each with an http_err that maps to the status to answer
 * (http_err_status()): the method is a token of at most HTTP_METHOD_MAX
 * bytes (400); single spaces between the three parts (400); a target of
 * visible bytes (no controls or spaces), at most HTTP_TARGET_MAX long
 * (414, noticed as soon as the target grows past it); a version "HTTP/1.x"
 * (a missing one, HTTP/0.9 style, is 400; another major is 505); lines and
 * the head within HTTP_LINE_MAX / HTTP_HEADERS_MAX / HTTP_HEAD_MAX (431);
 * field syntax as for responses (400); for HTTP/1.1 exactly one Host
 * (400, as RFC 9112 §3.2 requires); Content-Length digits and consistent
 * (400); Transfer-Encoding only chunked (else 501) and never together with
 * Content-Length (400: the request-smuggling shape).
 *
 * What it leaves to the server, reported in the struct: the method (GET
 * and HEAD are served; http_req_status() says 405 for the other standard
 * methods and 501 for unknown ones), and whether a body follows.  This
 * server reads no request bodies: a GET or HEAD with a non-empty body
 * (which RFC 9110 §9.3.1 allows but gives no meaning) is answered 400, and
 * after answering any request with a body the connection must be closed,
 * since the body's bytes were never read.  Content-Length: 0 is no body.
 *
 * Range (RFC 9110 §14.1.2): one "bytes=" range, first-last, first- or
 * -suffix.  Anything else — another unit, several ranges, bad syntax, or
 * last < first — is ignored and the whole file served, as §14.2 permits.
 * Whether a valid range can be met depends on the file's size, so the
 * server asks http_range_select() with it: 206 with the span, 416 when no
 * byte of it exists, or 200 to send everything.
 */
#ifndef NOS_NET_HTTP_REQ_H
#define NOS_NET_HTTP_REQ_H

#include "net/http_msg.h"

#define HTTP_METHOD_MAX 16
#define HTTP_HOST_FIELD_MAX 255     /* a Host value kept */

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_PUT,
	HTTP_DELETE,
	HTTP_CONNECT,
	HTTP_OPTIONS,
	HTTP_TRACE,
	HTTP_PATCH,
	HTTP_METHOD_OTHER,          /* a token we do not know: method_name has it */
};

enum http_range_kind {
	HTTP_RANGE_NONE,            /* no Range field */
	HTTP_RANGE_IGNORED,         /* a Range we do not honour (see the top) */
	HTTP_RANGE_SPAN,            /* first-last */
	HTTP_RANGE_FROM,            /* first- */
	HTTP_RANGE_SUFFIX,          /* -last: the last "last" bytes */
};

/* A Range as asked.  Numbers too large for 64 bits read as UINT64_MAX. */
struct http_range {
	enum http_range_kind kind;
	u64 first, last;
};

struct http_req {
	/* results: method and target once the request line is in, the rest at HTTP_EV_DONE */
	enum http_method method;
	char method_name[HTTP_METHOD_MAX + 1];
	char target[HTTP_TARGET_MAX + 1];
	size_t target_len;
	u8 minor;                   /* HTTP/1.minor: 0 or 1 (higher reads as 1) */
	bool has_host;
	char host[HTTP_HOST_FIELD_MAX + 1];
	bool keep_alive;            /* the client wants to send another request */
	bool has_length;
	u64 length;                 /* Content-Length, when has_length */
	bool chunked;               /* Transfer-Encoding: chunked */
	struct http_range range;
	enum http_err err;
	/* parser state */
	u8 state;
	bool seen_byte;             /* a byte of this request arrived */
	bool conn_close, conn_keep;
	bool te_seen, te_bad;
	unsigned line_part;         /* request line: 0 method, 1 target, 2 version */
	size_t part_len;            /* bytes of that part so far */
	bool cr_pending;            /* the request line's last byte so far is a CR */
	unsigned ranges;            /* Range fields seen */
	struct http_lines lines;
};

void http_req_init(struct http_req *r);
/*
 * Feed @len bytes at @buf: HTTP_EV_MORE when all were consumed and the
 * head goes on, HTTP_EV_DONE when the head is complete (*@used bytes of
 * @buf were its end; the rest belongs to what follows), or a negative errno
 * with r->err set (answer http_err_status(r->err) and close).  Errors
 * stick; after DONE further feeds return DONE and consume nothing.
 */
int http_req_feed(struct http_req *r, const void *buf, size_t len, size_t *used);
/*
 * The client closed the connection: 0 when no byte of a request had come
 * (a keep-alive connection ending between requests), else -EPIPE
 * (HTTP_ERR_TRUNCATED) — or HTTP_EV_DONE if the head was already complete.
 */
int http_req_eof(struct http_req *r);

/* Does a body follow the head (Content-Length > 0 or chunked)? */
bool http_req_has_body(const struct http_req *r);
/*
 * The server's verdict on a complete head: 0 to serve it (GET or HEAD, no
 * body), 405 for a standard method we do not serve, 501 for an unknown
 * method, 400 for a GET/HEAD with a body.
 */
int http_req_status(const struct http_req *r);
/* The method's name for @m ("GET"), or "?" for HTTP_METHOD_OTHER. */
const char *http_method_name(enum http_method m);

/*
 * Decide a Range for a file of @size bytes: 206 with the first byte in
 * *@off and the count in *@len; 416 when the range cannot be met (answer
 * with "Content-Range: bytes * / size", spaces removed); 200 to send the
 * whole file (no range, an ignored one, or a suffix range of an empty file).
 */
int http_range_select(const struct http_range *r, u64 size, u64 *off, u64 *len);

/* Parse a Range value (@len bytes at @s) into *@out; never fails (see kinds). */
void http_range_parse(const char *s, size_t len, struct http_range *out);

#endif
