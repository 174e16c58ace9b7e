/*
 * http_msg.c — the pieces of HTTP/1.x both directions share (errors, the
 * line reader, field splitting and the common field values) and the
 * incremental response parser (see http_msg.h for the rules and events).
 *
 * The head is read a line at a time through struct http_lines, which
 * copies bytes into its buffer with one memchr/memcpy per run however the
 * input is cut up, and charges every byte to the head's budget before it
 * is accepted.  A line is looked at only once it is whole, so a line split
 * across feeds parses exactly as if it came in one piece.
 *
 * The body is never copied: a feed points at the body bytes inside the
 * caller's buffer.  Chunk framing (size line, CRLF after the data) is read
 * one byte at a time by a small state machine, which needs no buffer at
 * all; only the trailer goes back through the line reader.
 *
 * States of the response parser, in order:
 *	STATUS -> FIELDS -(1xx)-> STATUS ...
 *	FIELDS -> DONE | BODY_LEN -> DONE | BODY_EOF -> (eof) DONE
 *	FIELDS -> CHUNK_SIZE -> [CHUNK_BWS] -> [CHUNK_EXT] -> CHUNK_LF
 *	       -> CHUNK_DATA -> DATA_CR -> DATA_LF -> CHUNK_SIZE ...
 *	       (size 0) -> TRAILER -> DONE
 */
#include "net/http_msg.h"
#include "errno.h"
#include "lib/parse.h"
#include "lib/string.h"

/* ------------------------------------------------------------ errors */

struct err_info {
	const char *text;
	int errno_val;              /* negative */
	int status;                 /* what a server answers */
};

#define BAD(text) { text, -EBADMSG, 400 }

static const struct err_info errs[] = {
	[HTTP_ERR_NONE] = { "no error", 0, 200 },
	[HTTP_ERR_LINE_LONG] = { "header line too long", -EMSGSIZE, 431 },
	[HTTP_ERR_HEAD_LONG] = { "header block too long", -EMSGSIZE, 431 },
	[HTTP_ERR_TOO_MANY_FIELDS] = { "too many header fields", -EMSGSIZE, 431 },
	[HTTP_ERR_BARE_CR] = BAD("CR not followed by LF"),
	[HTTP_ERR_NUL] = BAD("NUL byte in the header"),
	[HTTP_ERR_OBS_FOLD] = BAD("folded header line"),
	[HTTP_ERR_FIELD_NAME] = BAD("bad header field name"),
	[HTTP_ERR_FIELD_VALUE] = BAD("control character in a header value"),
	[HTTP_ERR_CONTENT_LENGTH] = BAD("bad Content-Length"),
	[HTTP_ERR_LENGTHS_DIFFER] = BAD("conflicting Content-Length values"),
	[HTTP_ERR_CODING] = { "unsupported transfer coding", -EOPNOTSUPP, 501 },
	[HTTP_ERR_TRUNCATED] = { "connection closed before the end of the message", -EPIPE, 400 },
	[HTTP_ERR_NOT_HTTP] = BAD("not an HTTP response"),
	[HTTP_ERR_VERSION] = { "unsupported HTTP version", -EOPNOTSUPP, 505 },
	[HTTP_ERR_STATUS] = BAD("bad status code"),
	[HTTP_ERR_REASON] = BAD("control character in the reason phrase"),
	[HTTP_ERR_SWITCH] = { "unexpected 101 Switching Protocols", -EOPNOTSUPP, 400 },
	[HTTP_ERR_INTERIM] = { "too many 1xx responses", -EMSGSIZE, 400 },
	[HTTP_ERR_CONTENT_RANGE] = BAD("bad Content-Range"),
	[HTTP_ERR_CHUNK_HEX] = BAD("chunk size is not hex"),
	[HTTP_ERR_CHUNK_OVERFLOW] = BAD("chunk size too large"),
	[HTTP_ERR_CHUNK_EXT] = BAD("bad chunk extension"),
	[HTTP_ERR_CHUNK_LINE_LONG] = { "chunk size line too long", -EMSGSIZE, 400 },
	[HTTP_ERR_CHUNK_CRLF] = BAD("missing CRLF after chunk data"),
	[HTTP_ERR_EMPTY] = { "connection closed without a response", -EPIPE, 400 },
	[HTTP_ERR_METHOD] = BAD("bad method"),
	[HTTP_ERR_REQUEST_LINE] = BAD("bad request line"),
	[HTTP_ERR_NO_VERSION] = BAD("no HTTP version (HTTP/0.9 is not supported)"),
	[HTTP_ERR_REQ_VERSION] = { "unsupported HTTP version", -EOPNOTSUPP, 505 },
	[HTTP_ERR_TARGET] = BAD("bad request target"),
	[HTTP_ERR_TARGET_LONG] = { "request target too long", -EMSGSIZE, 414 },
	[HTTP_ERR_HOST] = BAD("missing or bad Host"),
	[HTTP_ERR_REQ_CODING] = { "unsupported transfer coding", -EOPNOTSUPP, 501 },
	[HTTP_ERR_LENGTH_AND_CODING] = BAD("both Content-Length and Transfer-Encoding"),
};
_Static_assert(ARRAY_SIZE(errs) == HTTP_ERR_COUNT, "one entry per enum http_err");

static const struct err_info *err_info(enum http_err err)
{
	static const struct err_info unknown = { "unknown error", -EINVAL, 400 };

	return (unsigned)err < HTTP_ERR_COUNT ? &errs[err] : &unknown;
}

const char *http_err_str(enum http_err err)
{
	return err_info(err)->text;
}

int http_err_errno(enum http_err err)
{
	return err_info(err)->errno_val;
}

int http_err_status(enum http_err err)
{
	return err_info(err)->status;
}

static const struct {
	u16 code;
	const char *text;
} status_texts[] = {
	{ 100, "Continue" },          { 101, "Switching Protocols" },
	{ 200, "OK" },                { 201, "Created" },
	{ 202, "Accepted" },          { 204, "No Content" },
	{ 206, "Partial Content" },   { 301, "Moved Permanently" },
	{ 302, "Found" },             { 303, "See Other" },
	{ 304, "Not Modified" },      { 307, "Temporary Redirect" },
	{ 308, "Permanent Redirect" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" },      { 403, "Forbidden" },
	{ 404, "Not Found" },         { 405, "Method Not Allowed" },
	{ 408, "Request Timeout" },   { 411, "Length Required" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" },
	{ 416, "Range Not Satisfiable" }, { 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" },       { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },   { 505, "HTTP Version Not Supported" },
};

const char *http_status_text(int code)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_texts); i++)
		if (status_texts[i].code == code)
			return status_texts[i].text;
	return "Unknown";
}

/* ------------------------------------------------------ byte classes */

static bool is_digit(u8 c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ows(u8 c)
{
	return c == ' ' || c == '\t';
}

/* Field content of RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB. */
static bool is_field_byte(u8 c)
{
	return (c >= 0x20 && c != 0x7f) || c == '\t';
}

bool http_is_tchar(u8 c)
{
	return is_alpha(c) || is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static u8 lower(u8 c)
{
	return c >= 'A' && c <= 'Z' ? (u8)(c - 'A' + 'a') : c;
}

bool http_token_eq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!lit[i] || lower((u8)s[i]) != lower((u8)lit[i]))
			return false;
	return lit[i] == '\0';
}

bool http_list_next(const char **p, const char *end, const char **item, size_t *len)
{
	const char *s = *p, *b;

	while (s < end && (is_ows((u8)*s) || *s == ','))
		s++;
	if (s == end) {
		*p = s;
		return false;
	}
	b = s;
	while (s < end && *s != ',')
		s++;
	*p = s;
	while (s > b && is_ows((u8)s[-1]))
		s--;
	*item = b;
	*len = (size_t)(s - b);
	return true;
}

/* Exactly @n >= 1 decimal digits into *@out: 0, -EINVAL or -ERANGE. */
static int dec_u64(const char *s, size_t n, u64 *out)
{
	u64 v = 0;

	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit((u8)s[i]))
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int http_parse_length(const char *s, size_t len, u64 *out)
{
	const char *p = s, *end = s + len, *item;
	size_t n;
	bool any = false;
	u64 first = 0;

	while (http_list_next(&p, end, &item, &n)) {
		u64 v;
		int rc = dec_u64(item, n, &v);

		if (rc)
			return rc;
		if (any && v != first)
			return -EINVAL;
		first = v;
		any = true;
	}
	if (!any)
		return -EINVAL;
	*out = first;
	return 0;
}

/* "FIRST-LAST" of a Content-Range at @s (@n bytes) into @cr. */
static int range_resp(const char *s, size_t n, struct http_content_range *cr)
{
	const char *dash = memchr(s, '-', n);

	if (!dash || dec_u64(s, (size_t)(dash - s), &cr->first) ||
	    dec_u64(dash + 1, n - (size_t)(dash - s) - 1, &cr->last) || cr->last < cr->first)
		return -EINVAL;
	return 0;
}

int http_parse_content_range(const char *s, size_t len, struct http_content_range *out)
{
	struct http_content_range cr = { 0 };
	const char *slash;
	size_t head;

	if (len < 6 || !http_token_eq(s, 5, "bytes") || s[5] != ' ')
		return -EINVAL;
	s += 6, len -= 6;
	slash = memchr(s, '/', len);
	if (!slash)
		return -EINVAL;
	head = (size_t)(slash - s);
	if (head == 1 && s[0] == '*')
		cr.unsatisfied = true;
	else if (range_resp(s, head, &cr))
		return -EINVAL;
	s += head + 1, len -= head + 1;
	if (len == 1 && s[0] == '*') {
		if (cr.unsatisfied)
			return -EINVAL; /* "* / *" says nothing at all */
	} else {
		if (dec_u64(s, len, &cr.size))
			return -EINVAL;
		cr.size_known = true;
		if (!cr.unsatisfied && cr.last >= cr.size)
			return -EINVAL;
	}
	*out = cr;
	return 0;
}

/* ------------------------------------------------------- line reader */

void http_lines_reset(struct http_lines *l)
{
	l->len = 0;
	l->head = 0;
	l->fields = 0;
	l->complete = false;
}

/* The line just ended: strip its CR and check its bytes. */
static enum http_err line_finish(struct http_lines *l)
{
	if (l->len && l->buf[l->len - 1] == '\r')
		l->len--;
	if (l->len > HTTP_LINE_MAX)
		return HTTP_ERR_LINE_LONG;
	if (memchr(l->buf, '\r', l->len))
		return HTTP_ERR_BARE_CR;
	if (memchr(l->buf, '\0', l->len))
		return HTTP_ERR_NUL;
	l->buf[l->len] = '\0';
	l->complete = true;
	return HTTP_ERR_NONE;
}

enum http_err http_lines_take(struct http_lines *l, const u8 *in, size_t n, size_t *used,
			      bool *done)
{
	const u8 *lf = memchr(in, '\n', n);
	size_t run = lf ? (size_t)(lf - in) : n;
	size_t take = lf ? run + 1 : run;
	enum http_err err;

	*used = 0;
	*done = false;
	if (l->complete) {
		l->len = 0;
		l->complete = false;
	}
	/* One byte over the limit is room for the CR that may precede the LF. */
	if (run > HTTP_LINE_MAX + 1 - l->len)
		return HTTP_ERR_LINE_LONG;
	if (take > HTTP_HEAD_MAX - l->head)
		return HTTP_ERR_HEAD_LONG;
	memcpy(l->buf + l->len, in, run);
	l->len += run;
	l->head += take;
	*used = take;
	if (!lf)
		return HTTP_ERR_NONE;
	err = line_finish(l);
	*done = !err;
	return err;
}

enum http_err http_field_split(struct http_lines *l, const char *s, size_t n,
			       struct http_field *f)
{
	size_t i = 0, v, e;

	if (++l->fields > HTTP_HEADERS_MAX)
		return HTTP_ERR_TOO_MANY_FIELDS;
	if (n && is_ows((u8)s[0]))
		return HTTP_ERR_OBS_FOLD;
	while (i < n && http_is_tchar((u8)s[i]))
		i++;
	if (!i || i == n || s[i] != ':')
		return HTTP_ERR_FIELD_NAME;
	for (v = i + 1; v < n && is_ows((u8)s[v]); v++)
		;
	for (e = n; e > v && is_ows((u8)s[e - 1]); e--)
		;
	for (size_t k = v; k < e; k++)
		if (!is_field_byte((u8)s[k]))
			return HTTP_ERR_FIELD_VALUE;
	*f = (struct http_field){ s, i, s + v, e - v };
	return HTTP_ERR_NONE;
}

/* ------------------------------------------------------ common fields */

bool http_field_is(const struct http_field *f, const char *lit)
{
	return http_token_eq(f->name, f->name_len, lit);
}

enum http_err http_field_length(const struct http_field *f, bool *has, u64 *len)
{
	u64 v;

	if (http_parse_length(f->value, f->value_len, &v))
		return HTTP_ERR_CONTENT_LENGTH;
	if (*has && *len != v)
		return HTTP_ERR_LENGTHS_DIFFER;
	*has = true;
	*len = v;
	return HTTP_ERR_NONE;
}

void http_field_coding(const struct http_field *f, bool *seen, bool *chunked, bool *bad)
{
	const char *p = f->value, *end = f->value + f->value_len, *item;
	size_t n;

	*seen = true;
	while (http_list_next(&p, end, &item, &n)) {
		/* Anything but chunked, or anything after it, is a coding we cannot undo. */
		if (*chunked || !http_token_eq(item, n, "chunked"))
			*bad = true;
		else
			*chunked = true;
	}
	if (!*chunked)
		*bad = true;
}

void http_field_connection(const struct http_field *f, bool *close, bool *keep)
{
	const char *p = f->value, *end = f->value + f->value_len, *item;
	size_t n;

	while (http_list_next(&p, end, &item, &n)) {
		if (http_token_eq(item, n, "close"))
			*close = true;
		else if (http_token_eq(item, n, "keep-alive"))
			*keep = true;
	}
}

/* Copy @n bytes at @s into @dst (@cap bytes), cut short if need be. */
static void copy_cut(char *dst, size_t cap, const char *s, size_t n)
{
	if (n > cap - 1)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* ------------------------------------------------- response: the head */

enum resp_state {
	RS_STATUS,
	RS_FIELDS,
	RS_BODY_LEN,
	RS_BODY_EOF,
	RS_CHUNK_SIZE,
	RS_CHUNK_BWS,
	RS_CHUNK_EXT,
	RS_CHUNK_LF,
	RS_CHUNK_DATA,
	RS_DATA_CR,
	RS_DATA_LF,
	RS_TRAILER,
	RS_DONE,
};

/* Forget the fields of the last head (a 1xx) before the next one. */
static void resp_reset_head(struct http_resp *p)
{
	p->status = 0;
	p->minor = 0;
	p->reason[0] = '\0';
	p->framing = HTTP_FRAME_NONE;
	p->has_length = p->chunked = p->keep_alive = false;
	p->length = 0;
	p->has_location = p->location_long = false;
	p->location[0] = '\0';
	p->content_type[0] = '\0';
	p->has_range = p->range_bad = false;
	p->conn_close = p->conn_keep = false;
	p->te_seen = p->te_chunked = p->te_bad = false;
	http_lines_reset(&p->lines);
	p->state = RS_STATUS;
}

void http_resp_init(struct http_resp *p, unsigned flags)
{
	memset(p, 0, offsetof(struct http_resp, lines));
	p->flags = flags;
	resp_reset_head(p);
}

/* "HTTP/1.x": the version's minor digit, or the error. */
static enum http_err status_version(struct http_resp *p, const char *s, size_t n)
{
	if (n < 5 || memcmp(s, "HTTP/", 5))
		return HTTP_ERR_NOT_HTTP;
	if (n < 8 || !is_digit((u8)s[5]) || s[6] != '.' || !is_digit((u8)s[7]))
		return HTTP_ERR_VERSION;
	if (s[5] != '1' || (n > 8 && s[8] != ' '))
		return HTTP_ERR_VERSION;
	p->minor = s[7] == '0' ? 0 : 1;
	return HTTP_ERR_NONE;
}

/* status-line = HTTP-version SP 3DIGIT SP reason (a missing reason is let pass) */
static enum http_err status_line(struct http_resp *p, const char *s, size_t n)
{
	enum http_err err = status_version(p, s, n);
	int code;

	if (err)
		return err;
	if (n < 12 || !is_digit((u8)s[9]) || !is_digit((u8)s[10]) || !is_digit((u8)s[11]))
		return HTTP_ERR_STATUS;
	code = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (code < 100 || code > 599 || (n > 12 && s[12] != ' '))
		return HTTP_ERR_STATUS;
	for (size_t i = 13; i < n; i++)
		if (!is_field_byte((u8)s[i]))
			return HTTP_ERR_REASON;
	p->status = code;
	if (n > 13)
		copy_cut(p->reason, sizeof(p->reason), s + 13, n - 13);
	return HTTP_ERR_NONE;
}

/*
 * Garbage is refused as soon as its first bytes show it is not "HTTP/":
 * the bytes about to join the first five of the status line are compared
 * before the line reader takes them, so the verdict is the same however
 * the line arrives (and comes before any rule about the rest of the line).
 */
static enum http_err status_prefix(const struct http_lines *l, const u8 *in, size_t n)
{
	size_t at = l->complete ? 0 : l->len;

	for (size_t i = 0; at + i < 5 && i < n && in[i] != '\n'; i++)
		if (in[i] != (u8)"HTTP/"[at + i])
			return HTTP_ERR_NOT_HTTP;
	return HTTP_ERR_NONE;
}

static enum http_err resp_field(struct http_resp *p, const struct http_field *f)
{
	if (http_field_is(f, "content-length"))
		return http_field_length(f, &p->has_length, &p->length);
	if (http_field_is(f, "transfer-encoding"))
		http_field_coding(f, &p->te_seen, &p->te_chunked, &p->te_bad);
	else if (http_field_is(f, "connection"))
		http_field_connection(f, &p->conn_close, &p->conn_keep);
	else if (http_field_is(f, "location") && !p->has_location) {
		p->has_location = true;
		if (f->value_len > HTTP_URL_MAX)
			p->location_long = true;
		else
			copy_cut(p->location, sizeof(p->location), f->value, f->value_len);
	} else if (http_field_is(f, "content-type")) {
		copy_cut(p->content_type, sizeof(p->content_type), f->value, f->value_len);
	} else if (http_field_is(f, "content-range")) {
		p->has_range = !http_parse_content_range(f->value, f->value_len, &p->range);
		p->range_bad = !p->has_range;
	}
	return HTTP_ERR_NONE;
}

/* How the body is framed (RFC 9112 §6.3), once the head is complete. */
static enum http_err resp_framing(struct http_resp *p)
{
	bool no_body = (p->flags & HTTP_RESP_NO_BODY) || p->status == 204 || p->status == 304;

	if (no_body) {
		p->framing = HTTP_FRAME_NONE;
	} else if (p->te_seen) {
		if (p->te_bad)
			return HTTP_ERR_CODING;
		p->framing = HTTP_FRAME_CHUNKED;
		p->chunked = true;
	} else if (p->has_length) {
		p->framing = p->length ? HTTP_FRAME_LENGTH : HTTP_FRAME_NONE;
	} else {
		p->framing = HTTP_FRAME_EOF;
	}
	p->keep_alive = p->minor ? !p->conn_close : p->conn_keep && !p->conn_close;
	/* A close ends the body; a coding beside a length (or in 1.0) is suspect. */
	if (p->framing == HTTP_FRAME_EOF || (p->te_seen && (p->has_length || !p->minor)))
		p->keep_alive = false;
	return HTTP_ERR_NONE;
}

static const u8 framing_state[] = {
	[HTTP_FRAME_NONE] = RS_DONE,
	[HTTP_FRAME_LENGTH] = RS_BODY_LEN,
	[HTTP_FRAME_CHUNKED] = RS_CHUNK_SIZE,
	[HTTP_FRAME_EOF] = RS_BODY_EOF,
};

/* The empty line after the fields: an interim response or the real head. */
static enum http_err resp_head_end(struct http_resp *p, int *ev)
{
	enum http_err err;

	if (p->status < 200) {
		if (p->status == 101)
			return HTTP_ERR_SWITCH;
		if (++p->interim > HTTP_INTERIM_MAX)
			return HTTP_ERR_INTERIM;
		resp_reset_head(p);
		return HTTP_ERR_NONE;
	}
	if (p->status == 206 && p->range_bad)
		return HTTP_ERR_CONTENT_RANGE;
	err = resp_framing(p);
	if (err)
		return err;
	p->left = p->framing == HTTP_FRAME_LENGTH ? p->length : 0;
	p->state = framing_state[p->framing];
	p->chunk_digits = 0;
	p->chunk_line = 0;
	*ev = HTTP_EV_HEAD;
	return HTTP_ERR_NONE;
}

/* One whole line of the head or the trailer. */
static enum http_err resp_line(struct http_resp *p, int *ev)
{
	struct http_lines *l = &p->lines;
	struct http_field f;
	enum http_err err;

	if (p->state == RS_STATUS) {
		err = status_line(p, l->buf, l->len);
		if (!err)
			p->state = RS_FIELDS;
		return err;
	}
	if (!l->len) {
		if (p->state == RS_TRAILER) {
			p->state = RS_DONE;
			return HTTP_ERR_NONE;
		}
		return resp_head_end(p, ev);
	}
	err = http_field_split(l, l->buf, l->len, &f);
	if (err || p->state == RS_TRAILER)
		return err; /* trailer fields are checked and dropped */
	return resp_field(p, &f);
}

static enum http_err resp_lines(struct http_resp *p, const u8 *in, size_t n, size_t *used,
				int *ev)
{
	bool done;
	enum http_err err = HTTP_ERR_NONE;

	*used = 0;
	if (p->state == RS_STATUS)
		err = status_prefix(&p->lines, in, n);
	if (!err)
		err = http_lines_take(&p->lines, in, n, used, &done);
	if (err || !done)
		return err;
	return resp_line(p, ev);
}

/* ------------------------------------------------- response: the body */

/* The chunk-size line ended: data next, or the trailer after the last chunk. */
static void chunk_line_end(struct http_resp *p)
{
	if (p->left) {
		p->state = RS_CHUNK_DATA;
		return;
	}
	http_lines_reset(&p->lines);
	p->state = RS_TRAILER;
}

/* A byte of the chunk size itself. */
static enum http_err chunk_size_byte(struct http_resp *p, u8 c)
{
	int h = parse_hex_digit(c);

	if (h >= 0) {
		if (p->left >> 60)
			return HTTP_ERR_CHUNK_OVERFLOW;
		p->left = p->left << 4 | (u64)h;
		p->chunk_digits++;
		return HTTP_ERR_NONE;
	}
	if (!p->chunk_digits)
		return HTTP_ERR_CHUNK_HEX;
	if (is_ows(c))
		p->state = RS_CHUNK_BWS;
	else if (c == ';')
		p->state = RS_CHUNK_EXT;
	else if (c == '\r')
		p->state = RS_CHUNK_LF;
	else if (c == '\n')
		chunk_line_end(p);
	else
		return HTTP_ERR_CHUNK_HEX;
	return HTTP_ERR_NONE;
}

/* After the size: white space, then ";" extensions (skipped) or the line end. */
static enum http_err chunk_tail_byte(struct http_resp *p, u8 c)
{
	if (c == '\r') {
		p->state = RS_CHUNK_LF;
	} else if (c == '\n') {
		chunk_line_end(p);
	} else if (p->state == RS_CHUNK_BWS) {
		if (c == ';')
			p->state = RS_CHUNK_EXT;
		else if (!is_ows(c))
			return HTTP_ERR_CHUNK_EXT;
	} else if (!is_field_byte(c)) {
		return HTTP_ERR_CHUNK_EXT;
	}
	return HTTP_ERR_NONE;
}

/* The CRLF after a chunk's data is in: the next size line starts. */
static void next_chunk(struct http_resp *p)
{
	p->state = RS_CHUNK_SIZE;
	p->chunk_digits = 0;
	p->chunk_line = 0;
	p->left = 0;
}

/* A byte of the chunk-size line. */
static enum http_err chunk_line_byte(struct http_resp *p, u8 c)
{
	if (++p->chunk_line > HTTP_CHUNK_LINE_MAX)
		return HTTP_ERR_CHUNK_LINE_LONG;
	if (p->state == RS_CHUNK_SIZE)
		return chunk_size_byte(p, c);
	if (p->state != RS_CHUNK_LF)
		return chunk_tail_byte(p, c);
	if (c != '\n')
		return HTTP_ERR_BARE_CR;
	chunk_line_end(p);
	return HTTP_ERR_NONE;
}

/* One byte of chunk framing: the size line, or the CRLF after the data. */
static enum http_err chunk_byte(struct http_resp *p, u8 c)
{
	if (p->state != RS_DATA_CR && p->state != RS_DATA_LF)
		return chunk_line_byte(p, c);
	if (p->state == RS_DATA_CR && c == '\r') {
		p->state = RS_DATA_LF;
		return HTTP_ERR_NONE;
	}
	if (c != '\n') /* a bare LF after the data is let pass, as on any line */
		return HTTP_ERR_CHUNK_CRLF;
	next_chunk(p);
	return HTTP_ERR_NONE;
}

/* Body bytes available now: how many of @avail belong to the body. */
static size_t take_body(struct http_resp *p, size_t avail)
{
	size_t n = avail;

	if (p->state != RS_BODY_EOF) {
		if (n > p->left)
			n = (size_t)p->left;
		p->left -= n;
		if (!p->left)
			p->state = p->state == RS_CHUNK_DATA ? RS_DATA_CR : RS_DONE;
	}
	p->body_bytes += n;
	return n;
}

static int resp_fail(struct http_resp *p, enum http_err err)
{
	p->err = err;
	return http_err_errno(err);
}

int http_resp_feed(struct http_resp *p, const void *buf, size_t len, size_t *used,
		   struct http_span *body)
{
	const u8 *in = buf;
	size_t pos = 0, n;
	enum http_err err = HTTP_ERR_NONE;
	int ev = HTTP_EV_MORE;

	*used = 0;
	*body = (struct http_span){ 0, 0 };
	if (p->err)
		return http_err_errno(p->err);
	if (len)
		p->seen_byte = true;
	while (ev == HTTP_EV_MORE && !err) {
		if (p->state == RS_DONE) {
			ev = HTTP_EV_DONE;
			break;
		}
		if (pos == len)
			break;
		switch (p->state) {
		case RS_STATUS:
		case RS_FIELDS:
		case RS_TRAILER:
			err = resp_lines(p, in + pos, len - pos, &n, &ev);
			pos += n;
			break;
		case RS_BODY_LEN:
		case RS_BODY_EOF:
		case RS_CHUNK_DATA:
			n = take_body(p, len - pos);
			*body = (struct http_span){ pos, n };
			pos += n;
			ev = HTTP_EV_BODY;
			break;
		default:
			err = chunk_byte(p, in[pos++]);
		}
	}
	*used = pos;
	return err ? resp_fail(p, err) : ev;
}

int http_resp_eof(struct http_resp *p)
{
	if (p->err)
		return http_err_errno(p->err);
	if (p->state == RS_BODY_EOF)
		p->state = RS_DONE;
	if (p->state == RS_DONE)
		return HTTP_EV_DONE;
	return resp_fail(p, p->seen_byte ? HTTP_ERR_TRUNCATED : HTTP_ERR_EMPTY);
}
