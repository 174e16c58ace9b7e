/*
 * http_req.c — the request-head parser and Range arithmetic (see
 * http_req.h for the rules).
 *
 * The request line is read through the same line reader as a response
 * head, but it is also watched while it grows: each byte is scanned once,
 * before the line reader takes it, to follow which part of the line it
 * belongs to, so a method that is not a token, or a target growing past
 * HTTP_TARGET_MAX, is refused at once (414 for the latter) instead of after
 * 8 KiB more have been buffered.  The complete line is then parsed
 * strictly on its own.
 */
#include "net/http_req.h"
#include "errno.h"
#include "lib/string.h"

enum req_state {
	RQ_LINE,
	RQ_FIELDS,
	RQ_DONE,
};

static const char *const method_names[] = {
	[HTTP_GET] = "GET",         [HTTP_HEAD] = "HEAD",       [HTTP_POST] = "POST",
	[HTTP_PUT] = "PUT",         [HTTP_DELETE] = "DELETE",   [HTTP_CONNECT] = "CONNECT",
	[HTTP_OPTIONS] = "OPTIONS", [HTTP_TRACE] = "TRACE",     [HTTP_PATCH] = "PATCH",
};
_Static_assert(ARRAY_SIZE(method_names) == HTTP_METHOD_OTHER, "a name per known method");

const char *http_method_name(enum http_method m)
{
	return (unsigned)m < HTTP_METHOD_OTHER ? method_names[m] : "?";
}

/* Methods are case-sensitive (RFC 9110 §9.1): "get" is an unknown method. */
static enum http_method method_lookup(const char *s, size_t n)
{
	for (unsigned m = 0; m < HTTP_METHOD_OTHER; m++)
		if (strlen(method_names[m]) == n && !memcmp(method_names[m], s, n))
			return (enum http_method)m;
	return HTTP_METHOD_OTHER;
}

void http_req_init(struct http_req *r)
{
	memset(r, 0, offsetof(struct http_req, lines));
	r->state = RQ_LINE;
	http_lines_reset(&r->lines);
}

/* ------------------------------------------------------ request line */

/*
 * Watch the request line grow: the @n bytes at @in are about to join it
 * (@ends: an LF follows them).  Judged strictly left to right, before the
 * line reader's own checks, so the first fault found is the same however
 * the line is cut up.
 */
static enum http_err line_scan(struct http_req *r, const u8 *in, size_t n, bool ends)
{
	for (size_t i = 0; i < n; i++) {
		u8 c = in[i];

		if (r->cr_pending)
			return HTTP_ERR_BARE_CR; /* a CR, then not the LF */
		if (c == '\r') {
			r->cr_pending = true;
			continue;
		}
		if (c == ' ' && r->line_part < 2) {
			r->line_part++;
			r->part_len = 0;
		} else if (r->line_part == 0) {
			if (!http_is_tchar(c) || ++r->part_len > HTTP_METHOD_MAX)
				return HTTP_ERR_METHOD;
		} else if (r->line_part == 1 && ++r->part_len > HTTP_TARGET_MAX) {
			return HTTP_ERR_TARGET_LONG;
		}
	}
	if (ends)
		r->cr_pending = false; /* it was the CR of the CRLF */
	return HTTP_ERR_NONE;
}

static enum http_err take_method(struct http_req *r, const char *s, size_t n)
{
	if (!n || n > HTTP_METHOD_MAX)
		return HTTP_ERR_METHOD;
	for (size_t i = 0; i < n; i++)
		if (!http_is_tchar((u8)s[i]))
			return HTTP_ERR_METHOD;
	memcpy(r->method_name, s, n);
	r->method_name[n] = '\0';
	r->method = method_lookup(s, n);
	return HTTP_ERR_NONE;
}

/* Visible ASCII and obs-text: no controls, no space, no DEL. */
static enum http_err take_target(struct http_req *r, const char *s, size_t n)
{
	if (!n)
		return HTTP_ERR_REQUEST_LINE; /* two spaces in a row */
	if (n > HTTP_TARGET_MAX)
		return HTTP_ERR_TARGET_LONG;
	for (size_t i = 0; i < n; i++)
		if ((u8)s[i] <= ' ' || (u8)s[i] == 0x7f)
			return HTTP_ERR_TARGET;
	memcpy(r->target, s, n);
	r->target[n] = '\0';
	r->target_len = n;
	return HTTP_ERR_NONE;
}

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

static enum http_err take_version(struct http_req *r, const char *s, size_t n)
{
	if (n != 8 || memcmp(s, "HTTP/", 5) || !digit(s[5]) || s[6] != '.' || !digit(s[7]))
		return HTTP_ERR_REQUEST_LINE;
	if (s[5] != '1')
		return HTTP_ERR_REQ_VERSION;
	r->minor = s[7] == '0' ? 0 : 1;
	return HTTP_ERR_NONE;
}

/* request-line = method SP request-target SP HTTP-version */
static enum http_err request_line(struct http_req *r, const char *s, size_t n)
{
	const char *sp1 = memchr(s, ' ', n), *t, *sp2;
	enum http_err err;

	if (!sp1)
		return HTTP_ERR_REQUEST_LINE;
	err = take_method(r, s, (size_t)(sp1 - s));
	if (err)
		return err;
	t = sp1 + 1;
	sp2 = memchr(t, ' ', n - (size_t)(t - s));
	err = take_target(r, t, sp2 ? (size_t)(sp2 - t) : n - (size_t)(t - s));
	if (err)
		return err;
	if (!sp2)
		return HTTP_ERR_NO_VERSION;
	return take_version(r, sp2 + 1, n - (size_t)(sp2 + 1 - s));
}

/* ------------------------------------------------------------ fields */

static bool host_byte(u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || digit((char)c) ||
	       (c && strchr("-._~%!$&'()*+,;=:[]", c));
}

static enum http_err take_host(struct http_req *r, const struct http_field *f)
{
	if (r->has_host || f->value_len > HTTP_HOST_FIELD_MAX)
		return HTTP_ERR_HOST;
	for (size_t i = 0; i < f->value_len; i++)
		if (!host_byte((u8)f->value[i]))
			return HTTP_ERR_HOST;
	memcpy(r->host, f->value, f->value_len);
	r->host[f->value_len] = '\0';
	r->has_host = true;
	return HTTP_ERR_NONE;
}

static enum http_err req_field(struct http_req *r, const struct http_field *f)
{
	if (http_field_is(f, "host"))
		return take_host(r, f);
	if (http_field_is(f, "content-length"))
		return http_field_length(f, &r->has_length, &r->length);
	if (http_field_is(f, "transfer-encoding"))
		http_field_coding(f, &r->te_seen, &r->chunked, &r->te_bad);
	else if (http_field_is(f, "connection"))
		http_field_connection(f, &r->conn_close, &r->conn_keep);
	else if (http_field_is(f, "range") && ++r->ranges == 1)
		http_range_parse(f->value, f->value_len, &r->range);
	return HTTP_ERR_NONE;
}

/* The empty line: check what only the whole head can tell. */
static enum http_err req_head_end(struct http_req *r)
{
	if (r->minor && !r->has_host)
		return HTTP_ERR_HOST;
	if (r->te_seen && r->has_length)
		return HTTP_ERR_LENGTH_AND_CODING;
	if (r->te_seen && r->te_bad)
		return HTTP_ERR_REQ_CODING;
	if (r->ranges > 1)
		r->range.kind = HTTP_RANGE_IGNORED;
	r->keep_alive = r->minor ? !r->conn_close : r->conn_keep && !r->conn_close;
	if (http_req_has_body(r))
		r->keep_alive = false; /* its bytes are never read */
	r->state = RQ_DONE;
	return HTTP_ERR_NONE;
}

static enum http_err req_line(struct http_req *r)
{
	struct http_lines *l = &r->lines;
	struct http_field f;
	enum http_err err;

	if (r->state == RQ_LINE) {
		if (!l->len) { /* an empty line before the request: skipped */
			r->part_len = r->line_part = 0;
			return HTTP_ERR_NONE;
		}
		err = request_line(r, l->buf, l->len);
		if (!err)
			r->state = RQ_FIELDS;
		return err;
	}
	if (!l->len)
		return req_head_end(r);
	err = http_field_split(l, l->buf, l->len, &f);
	return err ? err : req_field(r, &f);
}

/*
 * While the request line is read, feed the line reader no more than fits
 * in a line, so that the scan sees a long target (414) before the reader
 * refuses the line as too long (which says less).
 */
static size_t line_room(const struct http_req *r, size_t n)
{
	const struct http_lines *l = &r->lines;
	size_t have = l->complete ? 0 : l->len;
	size_t room = HTTP_LINE_MAX + 1 - have;

	if (!room)
		room = 1; /* the LF, or the byte that proves the line too long */
	return n < room ? n : room;
}

static enum http_err req_take(struct http_req *r, const u8 *in, size_t n, size_t *used)
{
	bool done;
	enum http_err err = HTTP_ERR_NONE;

	*used = 0;
	if (r->state == RQ_LINE) {
		const u8 *lf;

		n = line_room(r, n);
		lf = memchr(in, '\n', n);
		err = line_scan(r, in, lf ? (size_t)(lf - in) : n, lf != NULL);
	}
	if (!err)
		err = http_lines_take(&r->lines, in, n, used, &done);
	if (err == HTTP_ERR_LINE_LONG && r->state == RQ_LINE)
		err = r->line_part == 1 ? HTTP_ERR_TARGET_LONG : HTTP_ERR_REQUEST_LINE;
	if (err || !done)
		return err;
	return req_line(r);
}

int http_req_feed(struct http_req *r, const void *buf, size_t len, size_t *used)
{
	const u8 *in = buf;
	size_t pos = 0, n;
	enum http_err err = HTTP_ERR_NONE;

	*used = 0;
	if (r->err)
		return http_err_errno(r->err);
	if (len)
		r->seen_byte = true;
	while (r->state != RQ_DONE && pos < len && !err) {
		err = req_take(r, in + pos, len - pos, &n);
		pos += n;
	}
	*used = pos;
	if (err) {
		r->err = err;
		return http_err_errno(err);
	}
	return r->state == RQ_DONE ? HTTP_EV_DONE : HTTP_EV_MORE;
}

int http_req_eof(struct http_req *r)
{
	if (r->err)
		return http_err_errno(r->err);
	if (r->state == RQ_DONE)
		return HTTP_EV_DONE;
	if (!r->seen_byte)
		return 0;
	r->err = HTTP_ERR_TRUNCATED;
	return http_err_errno(r->err);
}

bool http_req_has_body(const struct http_req *r)
{
	return r->chunked || (r->has_length && r->length);
}

int http_req_status(const struct http_req *r)
{
	if (r->method == HTTP_GET || r->method == HTTP_HEAD)
		return http_req_has_body(r) ? 400 : 0;
	return r->method == HTTP_METHOD_OTHER ? 501 : 405;
}

/* -------------------------------------------------------------- Range */

/* Digits only; a number past 64 bits saturates (it can only mean "past the end"). */
static bool sat_dec(const char *s, size_t n, u64 *out)
{
	u64 v = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!digit(s[i]))
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			v = UINT64_MAX;
		else
			v = v * 10 + (u64)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* One range-spec: int-range "a-[b]" or suffix-range "-n". */
static void range_spec(const char *s, size_t n, struct http_range *out)
{
	const char *dash = memchr(s, '-', n);
	size_t head, tail;

	out->kind = HTTP_RANGE_IGNORED;
	if (!dash)
		return;
	head = (size_t)(dash - s);
	tail = n - head - 1;
	if (!head) {
		if (sat_dec(dash + 1, tail, &out->last))
			out->kind = HTTP_RANGE_SUFFIX;
		return;
	}
	if (!sat_dec(s, head, &out->first))
		return;
	if (!tail) {
		out->kind = HTTP_RANGE_FROM;
		return;
	}
	if (sat_dec(dash + 1, tail, &out->last) && out->last >= out->first)
		out->kind = HTTP_RANGE_SPAN;
}

void http_range_parse(const char *s, size_t len, struct http_range *out)
{
	const char *p, *end = s + len, *item, *second;
	size_t n, n2;

	*out = (struct http_range){ .kind = HTTP_RANGE_IGNORED };
	if (len < 6 || !http_token_eq(s, 5, "bytes") || s[5] != '=')
		return;
	p = s + 6;
	if (!http_list_next(&p, end, &item, &n) || http_list_next(&p, end, &second, &n2))
		return; /* no range, or more than one */
	range_spec(item, n, out);
}

int http_range_select(const struct http_range *r, u64 size, u64 *off, u64 *len)
{
	u64 last, n;

	switch (r->kind) {
	case HTTP_RANGE_SPAN:
	case HTTP_RANGE_FROM:
		if (r->first >= size)
			return 416;
		last = r->kind == HTTP_RANGE_FROM || r->last >= size ? size - 1 : r->last;
		*off = r->first;
		*len = last - r->first + 1;
		return 206;
	case HTTP_RANGE_SUFFIX:
		if (!r->last)
			return 416;
		if (!size)
			return 200; /* no byte to point at; the (empty) whole is the answer */
		n = r->last < size ? r->last : size;
		*off = size - n;
		*len = n;
		return 206;
	default:
		return 200;
	}
}
