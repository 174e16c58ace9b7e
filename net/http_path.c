/*
 * http_path.c — request targets to safe paths, and HTML/URL escaping for
 * directory listings (see http_path.h for the rules).
 *
 * The target is walked one segment at a time.  Each segment is decoded
 * straight onto the end of the output (after a '/'), then judged as a
 * whole: dropped ("", "."), refused (".."), or kept by moving the end of
 * the output past it.  Judging the decoded bytes, never the raw ones, is
 * what makes "%2e%2e" and ".." the same thing to the checks.
 *
 * The escapers write whole replacements only: output cut short at @cap
 * never ends in half an entity ("&am") or half an escape ("%2").
 */
#include "net/http_path.h"
#include "errno.h"
#include "lib/parse.h"
#include "lib/string.h"

static int refuse(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -EINVAL;
}

/* Where the path of @t starts: after "http://authority" in the absolute form. */
static int path_start(const char *t, size_t len, size_t *start, const char **why)
{
	static const char abs_prefix[] = "http://";
	size_t i, plen = sizeof(abs_prefix) - 1;

	if (len && t[0] == '/') {
		*start = 0;
		return 0;
	}
	if (len < plen || strncasecmp(t, abs_prefix, plen))
		return refuse(why, "request target is not a path");
	for (i = plen; i < len && t[i] != '/' && t[i] != '?'; i++)
		;
	*start = i; /* may be the end, or a '?': an empty path, which is "/" */
	return 0;
}

/* Decode the byte at t[*i] (a %XX escape or a plain byte) into *@b. */
static int decode_byte(const char *t, size_t end, size_t *i, u8 *b, const char **why)
{
	u8 c = (u8)t[*i];
	int hi, lo;

	if (c == '%') {
		if (*i + 2 >= end || (hi = parse_hex_digit((u8)t[*i + 1])) < 0 ||
		    (lo = parse_hex_digit((u8)t[*i + 2])) < 0)
			return refuse(why, "bad %-escape in the path");
		c = (u8)(hi << 4 | lo);
		*i += 2;
		if (!c)
			return refuse(why, "%00 in the path");
		if (c == '/')
			return refuse(why, "encoded '/' in the path");
	}
	if (c == '\\')
		return refuse(why, "backslash in the path");
	if (c < 0x20 || c == 0x7f)
		return refuse(why, "control character in the path");
	*b = c;
	return 0;
}

/*
 * Decode the segment t[s, e) onto the end of out[0, *n) and judge it:
 * kept (*@n moves past it and the '/' before it) or dropped ("" and ".",
 * which *@dir reports: they name a directory).  Room is checked for the
 * NUL after every byte, so the result fits @cap exactly when it can.
 */
static int take_segment(const char *t, size_t s, size_t e, char *out, size_t cap, size_t *n,
			bool *dir, const char **why)
{
	size_t o = *n, first;
	int rc;

	if (o > 1) { /* a separator after the last segment kept */
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		out[o++] = '/';
	}
	first = o;
	for (size_t i = s; i < e; i++) {
		u8 b;

		rc = decode_byte(t, e, &i, &b, why);
		if (rc)
			return rc;
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		out[o++] = (char)b;
	}
	*dir = o == first || (o - first == 1 && out[first] == '.');
	if (*dir)
		return 0;
	if (o - first == 2 && out[first] == '.' && out[first + 1] == '.')
		return refuse(why, "'..' in the path");
	if (o - first > HTTP_PATH_SEG_MAX)
		return -ENAMETOOLONG;
	*n = o;
	return 0;
}

int http_path_from_target(const char *target, size_t len, char *out, size_t cap,
			  const char **why)
{
	size_t start, end, n = 1, s;
	const char *query;
	bool dir = true;
	int rc;

	rc = path_start(target, len, &start, why);
	if (rc)
		return rc;
	if (memchr(target, '#', len))
		return refuse(why, "'#' in the request target");
	if (cap < 2)
		return -ENAMETOOLONG;
	query = memchr(target + start, '?', len - start);
	end = query ? (size_t)(query - target) : len;
	out[0] = '/';
	for (s = start; s < end; ) {
		size_t e = s + 1;

		while (e < end && target[e] != '/')
			e++;
		rc = take_segment(target, s + 1, e, out, cap, &n, &dir, why);
		if (rc)
			return rc;
		s = e;
	}
	if (dir && n > 1) { /* the target ended in "/" or "/.": keep the slash */
		if (n + 1 >= cap)
			return -ENAMETOOLONG;
		out[n++] = '/';
	}
	out[n] = '\0';
	return 0;
}

/* ------------------------------------------------------------- escaping */

struct esc_out {
	char *buf;
	size_t cap, written, need;
	bool cut;
};

/* Emit @n bytes as one piece: all of them, or (once anything is cut) none. */
static void emit(struct esc_out *o, const char *s, size_t n)
{
	if (!o->cut && o->written + n < o->cap) {
		memcpy(o->buf + o->written, s, n);
		o->written += n;
	} else {
		o->cut = true;
	}
	o->need += n;
}

static size_t esc_finish(struct esc_out *o)
{
	if (o->cap)
		o->buf[o->written] = '\0';
	return o->need;
}

size_t http_html_escape(const char *s, size_t len, char *out, size_t cap)
{
	struct esc_out o = { out, cap, 0, 0, false };

	for (size_t i = 0; i < len; i++) {
		u8 c = (u8)s[i];

		switch (c) {
		case '&': emit(&o, "&amp;", 5); break;
		case '<': emit(&o, "&lt;", 4); break;
		case '>': emit(&o, "&gt;", 4); break;
		case '"': emit(&o, "&quot;", 6); break;
		case '\'': emit(&o, "&#39;", 5); break;
		default:
			emit(&o, c < 0x20 || c == 0x7f ? "?" : (const char *)&s[i], 1);
		}
	}
	return esc_finish(&o);
}

static bool unreserved(u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

size_t http_pct_encode(const char *s, size_t len, char *out, size_t cap, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	struct esc_out o = { out, cap, 0, 0, false };

	for (size_t i = 0; i < len; i++) {
		u8 c = (u8)s[i];
		char esc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (unreserved(c) || (keep_slash && c == '/'))
			emit(&o, &s[i], 1);
		else
			emit(&o, esc, 3);
	}
	return esc_finish(&o);
}
