/*
 * http_path.h — from a request target to a path the server may open, and
 * the escaping a directory listing needs.  Pure functions, any context.
 *
 * http_path_from_target() is the only way a request names a file, so
 * every rule that keeps a client inside the served directory is here:
 *  - The target is the origin form "/path[?query]" or the absolute form
 *    "http://host[:port]/path[?query]" (whose authority is skipped: RFC
 *    9112 §3.2.2 has servers accept it).  Anything else ("*", "x") is
 *    refused.  The query is split off and ignored; a '#' is refused (a
 *    fragment is never sent, so one in a target is a bad request).
 *  - Each segment is percent-decoded exactly once.  A '%' not followed by
 *    two hex digits, a decoded NUL, a decoded '/' ("%2f": decoding it would
 *    change where the segments split, so it is refused rather than kept as
 *    a name byte), a backslash raw or decoded, and any control byte or DEL
 *    raw or decoded, are refused.
 *  - After decoding, a ".." segment is refused wherever it is ("/a/../b"
 *    too, though it would stay inside: there is no honest reason to send
 *    one), so "..", "%2e%2e", ".%2e" and "%2E%2E" all fail.  "." and
 *    empty segments ("//") are dropped.  A double-encoded "%252e%252e"
 *    decodes once, to the literal name "%2e%2e", which is harmless: it is
 *    an ordinary file name and is looked up as one.
 *  - Bytes 0x80..0xff (raw or decoded) pass: file names may be UTF-8.
 *  - A segment longer than HTTP_PATH_SEG_MAX, or a result over the
 *    caller's buffer, is -ENAMETOOLONG.
 * The result is "/" or "/seg/seg" with a trailing '/' kept when the target
 * ended in one (a directory was asked for), ready to be joined to the
 * served directory.  -EINVAL means answer 400; *why says why.
 */
#ifndef NOS_NET_HTTP_PATH_H
#define NOS_NET_HTTP_PATH_H

#include "compiler.h"
#include "types.h"

#define HTTP_PATH_SEG_MAX 255

/*
 * Map the request target @target (@len bytes) to a relative path in @out
 * (@cap bytes, NUL-terminated).  0, -EINVAL (with *@why, which may be
 * NULL) or -ENAMETOOLONG.  @out is garbage on failure.
 */
int http_path_from_target(const char *target, size_t len, char *out, size_t cap,
			  const char **why);

/*
 * Escape @len bytes at @s for HTML text or a quoted attribute: & < > " '
 * become entities, and control bytes (which HTML has no use for) become
 * '?'.  Writes at most @cap bytes to @out, NUL-terminated when @cap > 0;
 * returns the length the whole escaped text needs (as snprintf: a result
 * >= @cap means it was cut).
 */
size_t http_html_escape(const char *s, size_t len, char *out, size_t cap);

/*
 * Percent-encode @len bytes at @s for a URL path: everything but the
 * unreserved characters (letters, digits, "-._~") becomes %XX, and '/' is
 * kept when @keep_slash.  The result is also safe inside an HTML
 * attribute, so an href needs no further escaping.  Returns and writes as
 * http_html_escape().
 */
size_t http_pct_encode(const char *s, size_t len, char *out, size_t cap, bool keep_slash);

#endif
