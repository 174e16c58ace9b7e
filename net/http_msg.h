/*
 * http_msg.h — HTTP/1.x messages as bytes: the incremental response parser
 * a client feeds from a TCP stream, the limits and error codes it shares
 * with the request parser (net/http_req.h), and small helpers over field
 * values.  Syntax from RFC 9112, meaning from RFC 9110.
 *
 * Everything here is a pure function over bytes and a state struct the
 * caller owns: nothing allocates, sleeps, locks or keeps global state, so
 * the same code runs in the kernel, in the host unit tests and under a
 * fuzzer.  The state structs embed a line buffer (HTTP_LINE_MAX), so they
 * are around 10 KiB: kmalloc them, do not put them on a kernel stack.
 *
 * A response on the wire:
 *
 *	HTTP/1.1 200 OK\r\n                    status line
 *	Content-Length: 5\r\n                  header fields, name ":" OWS value OWS
 *	\r\n                                   the empty line ends the head
 *	hello                                  the body, framed as below
 *
 * Framing of the body, in the order RFC 9112 §6.3 decides it:
 *  - none: a response to HEAD (HTTP_RESP_NO_BODY), a 204 or a 304; 1xx
 *    interim responses (100 Continue ...) are skipped whole and the parser
 *    goes on to the real response after them;
 *  - chunked: Transfer-Encoding: chunked, which takes precedence over any
 *    Content-Length (the connection is then not reused: a message with both
 *    is a smuggling signal);
 *  - Content-Length: exactly that many bytes;
 *  - otherwise the body runs until the server closes the connection (the
 *    caller reports that with http_resp_eof()).
 * A chunked body is "hex-size [;extensions] CRLF data CRLF" repeated, then
 * "0 CRLF", optional trailer fields and an empty line.
 *
 * What is refused, each with its own error code (enum http_err) and a short
 * text for messages (http_err_str()): a start line that is not HTTP/1.x, a
 * status outside 100..599, a 101 (we never ask to switch protocols), a line
 * longer than HTTP_LINE_MAX, more than HTTP_HEADERS_MAX fields, a head over
 * HTTP_HEAD_MAX bytes, a NUL, bare CR or other control byte, a field name
 * that is not a token or has space before its colon, obsolete line folding,
 * a Content-Length that is not plain digits, overflows 64 bits or differs
 * between two fields, a transfer coding other than a lone "chunked", a
 * chunk size that is not hex or overflows 64 bits, chunk data not followed
 * by CRLF, a chunk-size line over HTTP_CHUNK_LINE_MAX, and a connection
 * that closes before the message ends.  Lines may end in CRLF or in a bare
 * LF (RFC 9112 §2.2 lets a recipient accept the latter); a CR anywhere
 * else is an error.  Limits hold per message, so "endless headers" end in
 * an error after at most HTTP_HEAD_MAX bytes, never in memory growth.
 *
 * Feeding (http_resp_feed): hand over whatever bytes arrived, of any size
 * (one byte at a time works).  Each call consumes a prefix of them, reports
 * how many in *used, and returns one event:
 *	HTTP_EV_MORE	everything was consumed; read more from the network.
 *	HTTP_EV_HEAD	the head of the final response is complete: the result
 *			fields (status, length, location ...) are valid now.
 *	HTTP_EV_BODY	*body is a span of body bytes inside the buffer just
 *			passed (zero-copy: write them out before reusing it).
 *	HTTP_EV_DONE	the message is complete; bytes after *used belong to
 *			the next response on the connection.
 * or a negative errno (-EBADMSG malformed, -EMSGSIZE over a limit,
 * -EOPNOTSUPP unsupported, -EPIPE closed early) with p->err saying which
 * rule broke.  Errors stick: every later call returns the same one.
 * After anything but MORE, call again with the bytes that remain — even
 * none: a response without a body reports DONE on the call after HEAD.
 *
 *	for (;;) {
 *		ev = http_resp_feed(p, buf + off, n - off, &used, &body);
 *		off += used;
 *		if (ev < 0)          -> fail with http_err_str(p->err)
 *		if (ev == HTTP_EV_MORE) -> n = recv(buf), off = 0, or on EOF
 *		                           ev = http_resp_eof(p)
 *		if (ev == HTTP_EV_BODY) -> write body.len bytes at
 *		                           buf + (off - used) + body.off
 *		if (ev == HTTP_EV_DONE) -> finished
 *	}
 */
#ifndef NOS_NET_HTTP_MSG_H
#define NOS_NET_HTTP_MSG_H

#include "compiler.h"
#include "types.h"

/* ---------------------------------------------------------------- limits */

#define HTTP_LINE_MAX 8192        /* a start line or one field line, CRLF excluded */
#define HTTP_HEADERS_MAX 100      /* field lines in one head (or trailer) */
#define HTTP_HEAD_MAX 65536       /* bytes of one head, start line and CRLFs included */
#define HTTP_CHUNK_LINE_MAX 1024  /* a chunk-size line with its extensions */
#define HTTP_INTERIM_MAX 8        /* 1xx responses skipped before the real one */
#define HTTP_URL_MAX 2048         /* an absolute URL, or a Location value */
#define HTTP_TARGET_MAX 2048      /* a request target (path and query) */
#define HTTP_REASON_MAX 63        /* reason phrase kept (the rest is dropped) */
#define HTTP_CTYPE_MAX 127        /* Content-Type kept (the rest is dropped) */

/* ---------------------------------------------------------------- errors */

/*
 * Why a message was refused.  http_err_str() gives a short text ("chunk
 * size is not hex"), http_err_errno() the errno a feed returns for it, and
 * http_err_status() the status a server answers a bad request with.
 */
enum http_err {
	HTTP_ERR_NONE = 0,
	/* lines and fields, both directions */
	HTTP_ERR_LINE_LONG,         /* a line over HTTP_LINE_MAX */
	HTTP_ERR_HEAD_LONG,         /* a head over HTTP_HEAD_MAX */
	HTTP_ERR_TOO_MANY_FIELDS,   /* over HTTP_HEADERS_MAX field lines */
	HTTP_ERR_BARE_CR,           /* a CR not followed by LF */
	HTTP_ERR_NUL,               /* a NUL byte in the head */
	HTTP_ERR_OBS_FOLD,          /* a field line starting with SP/HTAB */
	HTTP_ERR_FIELD_NAME,        /* no colon, not a token, or space before the colon */
	HTTP_ERR_FIELD_VALUE,       /* a control byte in a field value */
	HTTP_ERR_CONTENT_LENGTH,    /* not digits, or over 2^64 - 1 */
	HTTP_ERR_LENGTHS_DIFFER,    /* two Content-Length values that differ */
	HTTP_ERR_CODING,            /* a transfer coding other than one "chunked" */
	HTTP_ERR_TRUNCATED,         /* the connection closed inside the message */
	/* responses */
	HTTP_ERR_NOT_HTTP,          /* the status line does not start "HTTP/" */
	HTTP_ERR_VERSION,           /* not HTTP/1.x */
	HTTP_ERR_STATUS,            /* not three digits 100..599 */
	HTTP_ERR_REASON,            /* a control byte in the reason phrase */
	HTTP_ERR_SWITCH,            /* 101 Switching Protocols: never asked for */
	HTTP_ERR_INTERIM,           /* more than HTTP_INTERIM_MAX 1xx responses */
	HTTP_ERR_CONTENT_RANGE,     /* a 206 with a malformed Content-Range */
	HTTP_ERR_CHUNK_HEX,         /* a chunk size that is not hex */
	HTTP_ERR_CHUNK_OVERFLOW,    /* a chunk size over 2^64 - 1 */
	HTTP_ERR_CHUNK_EXT,         /* junk after the size, or a control byte in an extension */
	HTTP_ERR_CHUNK_LINE_LONG,   /* a chunk-size line over HTTP_CHUNK_LINE_MAX */
	HTTP_ERR_CHUNK_CRLF,        /* chunk data not followed by CRLF */
	HTTP_ERR_EMPTY,             /* closed before a single byte of response */
	/* requests */
	HTTP_ERR_METHOD,            /* the method is not a token (or over HTTP_METHOD_MAX) */
	HTTP_ERR_REQUEST_LINE,      /* not "METHOD SP target SP HTTP/x.y" */
	HTTP_ERR_NO_VERSION,        /* an HTTP/0.9-style "GET /" */
	HTTP_ERR_REQ_VERSION,       /* a version other than HTTP/1.x */
	HTTP_ERR_TARGET,            /* a control or space byte in the target, or empty */
	HTTP_ERR_TARGET_LONG,       /* a target over HTTP_TARGET_MAX */
	HTTP_ERR_HOST,              /* HTTP/1.1 without Host, two Hosts, or a bad one */
	HTTP_ERR_REQ_CODING,        /* a request transfer coding other than chunked */
	HTTP_ERR_LENGTH_AND_CODING, /* a request with Content-Length and Transfer-Encoding */
	HTTP_ERR_COUNT
};

const char *http_err_str(enum http_err err);
/* The negative errno a feed returns for @err (0 for HTTP_ERR_NONE). */
int http_err_errno(enum http_err err);
/* The status to answer a request refused for @err: 400, 414, 431, 501 or 505. */
int http_err_status(enum http_err err);

/* The reason phrase we send with @code ("Not Found"), "Unknown" if none. */
const char *http_status_text(int code);

/* ------------------------------------------------- the parsers' events */

enum http_event {
	HTTP_EV_MORE = 0,
	HTTP_EV_HEAD,
	HTTP_EV_BODY,
	HTTP_EV_DONE,
};

/* Body bytes found by a feed: @len bytes at offset @off of its buffer. */
struct http_span {
	size_t off;
	size_t len;
};

/*
 * The line reader both parsers are built on: it gathers one line at a
 * time into buf (however the bytes arrive) and counts the head against the
 * limits.  Internal to net/http_*.c; callers only reserve room for it.
 */
struct http_lines {
	size_t len;                 /* bytes in buf so far */
	size_t head;                /* bytes of the current head, CRLFs included */
	unsigned fields;            /* field lines in the current head */
	bool complete;              /* buf holds a whole line; the next take starts anew */
	char buf[HTTP_LINE_MAX + 2]; /* the line, its CR until stripped, a NUL */
};

/* One "name: value" line, split: pointers into the line, OWS trimmed. */
struct http_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* Start a new head: no line in progress, nothing counted. */
void http_lines_reset(struct http_lines *l);
/*
 * Take bytes from @in (@n of them) up to and including the first LF into
 * the current line; *@used is how many.  *@done says a whole line is in
 * l->buf: l->len bytes, CRLF or LF stripped, NUL-terminated (the next call
 * starts a new line).  Returns HTTP_ERR_NONE or the limit or byte rule the
 * line broke (nothing is consumed then).
 */
enum http_err http_lines_take(struct http_lines *l, const u8 *in, size_t n, size_t *used,
			      bool *done);
/*
 * Split the field line @line (@len bytes) into *@f and count it against
 * HTTP_HEADERS_MAX in @l.  HTTP_ERR_NONE or the rule it broke.
 */
enum http_err http_field_split(struct http_lines *l, const char *line, size_t len,
			       struct http_field *f);

/*
 * The fields both parsers read the same way, folded into the caller's
 * flags: Content-Length (HTTP_ERR_CONTENT_LENGTH, or LENGTHS_DIFFER when it
 * contradicts an earlier one), Transfer-Encoding (*@bad unless the codings
 * over all such fields are exactly one "chunked"), Connection ("close",
 * "keep-alive"; other options are ignored).
 */
enum http_err http_field_length(const struct http_field *f, bool *has, u64 *len);
void http_field_coding(const struct http_field *f, bool *seen, bool *chunked, bool *bad);
void http_field_connection(const struct http_field *f, bool *close, bool *keep);
/* Is field @f named @lit (ASCII case ignored)? */
bool http_field_is(const struct http_field *f, const char *lit);

/* ------------------------------------------------ field-value helpers */

/* tchar of RFC 9110 §5.6.2: the bytes a token (a method, a field name) is made of. */
bool http_is_tchar(u8 c);
/* Is the @len bytes at @s equal to the NUL-terminated @lit, ASCII case ignored? */
bool http_token_eq(const char *s, size_t len, const char *lit);
/*
 * Step through a comma-separated list ("a, b,,c"): the next non-empty
 * element from *@p (before @end) into *@item and *@len, OWS trimmed, and *@p
 * past it.  false when the list is exhausted.
 */
bool http_list_next(const char **p, const char *end, const char **item, size_t *len);
/*
 * Parse a Content-Length value: decimal digits only (no sign, no space
 * inside, no "0x"), or a list of identical such values ("42, 42", which
 * RFC 9110 §8.6 lets a recipient accept).  0, -EINVAL or -ERANGE.
 */
int http_parse_length(const char *s, size_t len, u64 *out);

/*
 * A Content-Range value (RFC 9110 §14.4): "bytes FIRST-LAST/SIZE", where
 * SIZE may be an asterisk (unknown), or an asterisk, a slash and SIZE for
 * the answer to an unsatisfiable range.
 */
struct http_content_range {
	bool unsatisfied;           /* the 416 form: no first/last */
	bool size_known;            /* false when SIZE is an asterisk */
	u64 first, last;            /* inclusive; unset when unsatisfied */
	u64 size;                   /* the whole representation, if size_known */
};

/* Parse @len bytes at @s as a byte Content-Range: 0 or -EINVAL. */
int http_parse_content_range(const char *s, size_t len, struct http_content_range *out);

/* -------------------------------------------------- the response parser */

/* http_resp_init() flags */
#define HTTP_RESP_NO_BODY 0x1u      /* the request was HEAD: no body whatever the fields say */

enum http_framing {
	HTTP_FRAME_NONE,            /* no body (HEAD, 204, 304, Content-Length: 0) */
	HTTP_FRAME_LENGTH,          /* Content-Length bytes */
	HTTP_FRAME_CHUNKED,         /* Transfer-Encoding: chunked */
	HTTP_FRAME_EOF,             /* until the connection closes */
};

/*
 * The response parser.  The result fields are valid from HTTP_EV_HEAD on
 * and describe the final response (never a skipped 1xx); the rest is the
 * parser's own.
 */
struct http_resp {
	/* results */
	int status;                 /* 100..599 */
	u8 minor;                   /* HTTP/1.minor: 0 or 1 (a higher minor reads as 1) */
	char reason[HTTP_REASON_MAX + 1];
	enum http_framing framing;
	bool has_length;
	u64 length;                 /* Content-Length, when has_length */
	bool chunked;               /* Transfer-Encoding: chunked */
	bool keep_alive;            /* the connection may carry another request */
	bool has_location;
	bool location_long;         /* a Location over HTTP_URL_MAX, not kept */
	char location[HTTP_URL_MAX + 1];
	char content_type[HTTP_CTYPE_MAX + 1];
	bool has_range;
	struct http_content_range range;
	unsigned interim;           /* 1xx responses skipped */
	u64 body_bytes;             /* body bytes delivered so far */
	enum http_err err;          /* why the last feed failed */
	/* parser state */
	unsigned flags;
	u8 state;
	bool seen_byte;             /* any byte received: an empty reply reads differently */
	bool conn_close, conn_keep;
	bool te_seen, te_chunked, te_bad; /* see http_field_coding() */
	bool range_bad;
	u64 left;                   /* body or chunk bytes still to come */
	unsigned chunk_digits;
	size_t chunk_line;          /* bytes of the current chunk-size line */
	struct http_lines lines;
};

/* Start parsing a response (@flags: HTTP_RESP_NO_BODY for a HEAD request). */
void http_resp_init(struct http_resp *p, unsigned flags);
/*
 * Feed @len bytes at @buf (see the top for the events).  *@used is set in
 * every case; *@body is set for HTTP_EV_BODY and empty otherwise.
 */
int http_resp_feed(struct http_resp *p, const void *buf, size_t len, size_t *used,
		   struct http_span *body);
/*
 * The server closed the connection: HTTP_EV_DONE when that ends the
 * message (a body delimited by the close, or a message already complete),
 * else the error (HTTP_ERR_EMPTY before any byte, HTTP_ERR_TRUNCATED).
 */
int http_resp_eof(struct http_resp *p);

#endif
