/*
 * http_url.h — http:// URLs for the client: parse one into the host to
 * connect to, the port and the request target, resolve a redirect's
 * Location against the URL it came from (RFC 3986 §5.2), and write them
 * back out.  Pure functions: no allocation, no state, any context.
 *
 * Accepted: "http://HOST[:PORT][/PATH][?QUERY][#FRAGMENT]".
 *  - The scheme is case-insensitive.  "https" is refused with
 *    -EPROTONOSUPPORT (so wget can say "https is not supported"); every
 *    other scheme, and a string without one, is -EINVAL.
 *  - HOST is a DNS name (letters, digits, '-', '_', '.'; labels of 1..63,
 *    at most HTTP_HOST_MAX, one trailing dot allowed) or a dotted quad; a
 *    host made only of digits and dots must be a valid dotted quad.  It is
 *    kept in lower case.  IPv6 literals, percent-escapes in the host and
 *    userinfo ("user@host") are refused.
 *  - PORT is decimal 1..65535; absent or empty means 80.
 *  - PATH defaults to "/"; its dot-segments are removed ("/a/./b/../c" is
 *    "/a/c").  PATH and QUERY are kept as written otherwise: the bytes
 *    must be visible ASCII (no space, control or non-ASCII byte — encode
 *    those as %XX) and every '%' must start a valid %XX escape.
 *  - The fragment is dropped: it is never sent.
 *  - The whole URL is at most HTTP_URL_MAX bytes, the target (path and
 *    query) at most HTTP_TARGET_MAX.
 * Every refusal comes with a short reason in *@why (when @why is not NULL).
 */
#ifndef NOS_NET_HTTP_URL_H
#define NOS_NET_HTTP_URL_H

#include "net/http_msg.h"

#define HTTP_HOST_MAX 253
#define HTTP_DEFAULT_PORT 80

struct http_url {
	char host[HTTP_HOST_MAX + 1];   /* lower case, as given (no trailing-dot removal) */
	bool host_is_ipv4;
	u32 ipv4;                       /* host order, when host_is_ipv4 */
	u16 port;
	char target[HTTP_TARGET_MAX + 1]; /* "/path?query", always starting with '/' */
};

/*
 * Parse the absolute URL @s into *@u (written only on success): 0,
 * -EPROTONOSUPPORT for https, -EINVAL otherwise.
 */
int http_url_parse(const char *s, struct http_url *u, const char **why);

/*
 * Resolve the reference @ref (a Location value) against @base into *@out:
 * an absolute "http://..." URL, a scheme-relative "//host/path", an
 * absolute path "/p", a query "?q", a relative path "p" or "../p", or ""
 * (the base itself).  The result's path has its dot-segments removed.
 * @out may be @base; it is written only on success.  Errors as
 * http_url_parse().
 */
int http_url_resolve(const struct http_url *base, const char *ref, struct http_url *out,
		     const char **why);

/*
 * Write @u as "http://host[:port]/target" (the port only when not 80) into
 * @buf (@cap bytes).  Returns as snprintf(): the full length.
 */
int http_url_format(const struct http_url *u, char *buf, size_t cap);
/* Write the Host field value for @u, "host" or "host:port".  As snprintf(). */
int http_url_authority(const struct http_url *u, char *buf, size_t cap);

/*
 * Remove the dot-segments of the absolute path at @path (@len bytes, the
 * first one '/') in place, as RFC 3986 §5.2.4 does; returns the new length
 * (at least 1: the result starts with '/').  Not NUL-terminated.
 */
size_t http_url_remove_dots(char *path, size_t len);

#endif
