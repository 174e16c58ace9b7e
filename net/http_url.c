/*
 * http_url.c — parsing and resolving http:// URLs (see http_url.h).
 *
 * Parsing validates everything before it writes a byte of the result, so
 * a refused URL leaves *u as it was and resolving may write over its own
 * base.  The authority (host and port) is split off first and checked on
 * its own; the path and query are only checked for their bytes, kept as
 * written, and the path loses its dot-segments.
 *
 * Resolving follows RFC 3986 §5.2.2 for the cases an HTTP Location can
 * take.  A reference with a scheme, or starting "//", is parsed as a URL
 * of its own; otherwise the base's host and port stay and the target is
 * merged in place in the result: a query replaces the base's query, an
 * absolute path replaces the whole target, a relative path replaces what
 * follows the base path's last '/'.  The merged path then goes through
 * http_url_remove_dots().
 */
#include "net/http_url.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/parse.h"
#include "lib/string.h"

static int refuse(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -EINVAL;
}

static bool is_alpha(u8 c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(u8 c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(u8 c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Every byte visible ASCII, every '%' the start of a %XX escape. */
static int check_bytes(const char *s, size_t n, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		u8 c = (u8)s[i];

		if (c >= 0x80)
			return refuse(why, "non-ASCII byte in the URL (percent-encode it)");
		if (c <= ' ' || c == 0x7f)
			return refuse(why, "space or control character in the URL");
		if (c == '%' && (i + 2 >= n || !is_hex((u8)s[i + 1]) || !is_hex((u8)s[i + 2])))
			return refuse(why, "bad %-escape in the URL");
	}
	return 0;
}

/* The length of the scheme @s starts with ("http" of "http://"), 0 if none. */
static size_t scheme_len(const char *s, size_t n)
{
	size_t i = 0;

	if (!n || !is_alpha((u8)s[0]))
		return 0;
	while (i < n && (is_alpha((u8)s[i]) || is_digit((u8)s[i]) || s[i] == '+' ||
			 s[i] == '-' || s[i] == '.'))
		i++;
	return i < n && s[i] == ':' ? i : 0;
}

/* ------------------------------------------------------------ authority */

struct authority {
	char host[HTTP_HOST_MAX + 1];
	bool is_ipv4;
	u32 ipv4;
	u16 port;
};

/* A DNS name or a dotted quad, into a->host in lower case. */
static int take_host(const char *h, size_t n, struct authority *a, const char **why)
{
	bool numeric = true;
	size_t label = 0;

	if (!n)
		return refuse(why, "no host in the URL");
	if (n > HTTP_HOST_MAX)
		return refuse(why, "host name too long");
	for (size_t i = 0; i < n; i++) {
		u8 c = (u8)h[i];

		if (c == '.') {
			if (!label)
				return refuse(why, "empty label in the host name");
			label = 0;
		} else if (is_alpha(c) || is_digit(c) || c == '-' || c == '_') {
			if (++label > 63)
				return refuse(why, "host name label too long");
			numeric = numeric && is_digit(c);
		} else {
			return refuse(why, "bad character in the host name");
		}
		a->host[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	a->host[n] = '\0';
	a->is_ipv4 = numeric;
	if (numeric && parse_ipv4(a->host, &a->ipv4))
		return refuse(why, "bad IPv4 address");
	return 0;
}

/* ":PORT" after the host: 1..65535, empty for the default. */
static int take_port(const char *p, size_t n, struct authority *a, const char **why)
{
	u32 v = 0;

	a->port = HTTP_DEFAULT_PORT;
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((u8)p[i]))
			return refuse(why, "bad port");
		v = v * 10 + (u32)(p[i] - '0');
		if (v > 65535)
			return refuse(why, "port out of range");
	}
	if (!v)
		return refuse(why, "port out of range");
	a->port = (u16)v;
	return 0;
}

static int take_authority(const char *s, size_t n, struct authority *a, const char **why)
{
	const char *colon;
	int rc;

	if (memchr(s, '@', n))
		return refuse(why, "user names in URLs are not supported");
	if (n && s[0] == '[')
		return refuse(why, "IPv6 addresses are not supported");
	colon = memchr(s, ':', n);
	rc = take_host(s, colon ? (size_t)(colon - s) : n, a, why);
	if (rc)
		return rc;
	if (!colon)
		return take_port(s, 0, a, why);
	return take_port(colon + 1, n - (size_t)(colon - s) - 1, a, why);
}

/* ------------------------------------------------------------- targets */

size_t http_url_remove_dots(char *path, size_t len)
{
	size_t r = 0, w = 0;

	while (r < len) { /* path[r] is the '/' before a segment */
		size_t s = r + 1, e = s;
		bool last;

		while (e < len && path[e] != '/')
			e++;
		last = e == len;
		if (e - s == 1 && path[s] == '.') {
			if (last)
				path[w++] = '/';
		} else if (e - s == 2 && path[s] == '.' && path[s + 1] == '.') {
			while (w > 0 && path[--w] != '/')
				; /* drop the last segment written */
			if (last)
				path[w++] = '/';
		} else {
			memmove(path + w, path + r, e - r);
			w += e - r;
		}
		r = e;
	}
	if (!w)
		path[w++] = '/';
	return w;
}

/* Append "?query" (when @q) at t[n]; NUL-terminate.  The room was checked. */
static void put_query(char *t, size_t n, const char *q, size_t qlen, bool has_q)
{
	if (has_q) {
		t[n++] = '?';
		memcpy(t + n, q, qlen);
		n += qlen;
	}
	t[n] = '\0';
}

/* The path and query of @rest (@n bytes, the fragment already cut). */
struct ref_parts {
	const char *path;
	size_t path_len;
	const char *query;
	size_t query_len;
	bool has_query;
};

static void split_ref(const char *rest, size_t n, struct ref_parts *r)
{
	const char *q = memchr(rest, '?', n);

	r->path = rest;
	r->path_len = q ? (size_t)(q - rest) : n;
	r->has_query = q != NULL;
	r->query = q ? q + 1 : rest + n;
	r->query_len = q ? n - r->path_len - 1 : 0;
}

static size_t query_room(const struct ref_parts *r)
{
	return r->has_query ? 1 + r->query_len : 0;
}

/* Everything after "//": authority, then path and query. */
static int parse_after_slashes(const char *s, size_t n, struct http_url *u, const char **why)
{
	struct authority a;
	struct ref_parts rp;
	size_t auth = 0, plen;
	const char *hash = memchr(s, '#', n);
	int rc;

	if (hash)
		n = (size_t)(hash - s);
	while (auth < n && s[auth] != '/' && s[auth] != '?')
		auth++;
	rc = take_authority(s, auth, &a, why);
	if (rc)
		return rc;
	split_ref(s + auth, n - auth, &rp);
	plen = rp.path_len ? rp.path_len : 1;
	if (plen + query_room(&rp) > HTTP_TARGET_MAX)
		return refuse(why, "URL too long");
	memcpy(u->host, a.host, sizeof(u->host));
	u->host_is_ipv4 = a.is_ipv4;
	u->ipv4 = a.is_ipv4 ? a.ipv4 : 0;
	u->port = a.port;
	if (rp.path_len) {
		memcpy(u->target, rp.path, rp.path_len);
		plen = http_url_remove_dots(u->target, rp.path_len);
	} else {
		u->target[0] = '/';
	}
	put_query(u->target, plen, rp.query, rp.query_len, rp.has_query);
	return 0;
}

/* The URL's length and bytes: 0 with *@len set, or the refusal. */
static int check_url(const char *s, size_t *len, const char **why)
{
	size_t n = strnlen(s, HTTP_URL_MAX + 1);

	if (n > HTTP_URL_MAX)
		return refuse(why, "URL too long");
	*len = n;
	return check_bytes(s, n, why);
}

int http_url_parse(const char *s, struct http_url *u, const char **why)
{
	size_t n, sl;
	int rc = check_url(s, &n, why);

	if (rc)
		return rc;
	sl = scheme_len(s, n);
	if (!sl)
		return refuse(why, "not a URL (expected http://host/path)");
	if (http_token_eq(s, sl, "https")) {
		if (why)
			*why = "https is not supported";
		return -EPROTONOSUPPORT;
	}
	if (!http_token_eq(s, sl, "http"))
		return refuse(why, "unsupported scheme (only http:// is)");
	if (n < sl + 3 || s[sl + 1] != '/' || s[sl + 2] != '/')
		return refuse(why, "expected // after http:");
	return parse_after_slashes(s + sl + 3, n - sl - 3, u, why);
}

/* The base's path (without its query) and where its directory ends. */
static size_t base_path_len(const struct http_url *base)
{
	return strcspn(base->target, "?");
}

static size_t base_dir_len(const struct http_url *base, size_t plen)
{
	size_t d = plen;

	while (d > 0 && base->target[d - 1] != '/')
		d--;
	return d ? d : 1; /* a target always starts with '/' */
}

/* Merge a reference without scheme or authority into @out (a copy of the base). */
static int merge(const struct http_url *base, const struct ref_parts *rp, struct http_url *out,
		 const char **why)
{
	size_t plen = base_path_len(base), keep, n;

	if (!rp->path_len) {
		keep = plen; /* same path; a new query, if any */
	} else if (rp->path[0] == '/') {
		keep = 0;
	} else {
		keep = base_dir_len(base, plen);
	}
	if (keep + rp->path_len + query_room(rp) > HTTP_TARGET_MAX)
		return refuse(why, "URL too long");
	if (out != base)
		*out = *base;
	if (!rp->path_len) {
		if (rp->has_query)
			put_query(out->target, plen, rp->query, rp->query_len, true);
		return 0;
	}
	memcpy(out->target + keep, rp->path, rp->path_len);
	n = http_url_remove_dots(out->target, keep + rp->path_len);
	put_query(out->target, n, rp->query, rp->query_len, rp->has_query);
	return 0;
}

int http_url_resolve(const struct http_url *base, const char *ref, struct http_url *out,
		     const char **why)
{
	struct ref_parts rp;
	const char *hash;
	size_t n;
	int rc = check_url(ref, &n, why);

	if (rc)
		return rc;
	if (scheme_len(ref, n))
		return http_url_parse(ref, out, why);
	if (n >= 2 && ref[0] == '/' && ref[1] == '/')
		return parse_after_slashes(ref + 2, n - 2, out, why);
	hash = memchr(ref, '#', n);
	split_ref(ref, hash ? (size_t)(hash - ref) : n, &rp);
	return merge(base, &rp, out, why);
}

int http_url_format(const struct http_url *u, char *buf, size_t cap)
{
	if (u->port == HTTP_DEFAULT_PORT)
		return snprintf(buf, cap, "http://%s%s", u->host, u->target);
	return snprintf(buf, cap, "http://%s:%u%s", u->host, u->port, u->target);
}

int http_url_authority(const struct http_url *u, char *buf, size_t cap)
{
	if (u->port == HTTP_DEFAULT_PORT)
		return snprintf(buf, cap, "%s", u->host);
	return snprintf(buf, cap, "%s:%u", u->host, u->port);
}
