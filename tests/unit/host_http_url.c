/*
 * host_http_url.c — URL parsing and redirect resolution (net/http_url.c)
 * on the host: the parts of good URLs, every refusal with its errno and
 * the rule that a refused URL leaves the output alone, dot-segment
 * removal, and RFC 3986 §5.4's reference resolution examples against
 * their base "http://a/b/c/d;p?q" (the fragment dropped, as we never send
 * one).
 */
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/http_url.h"

static char *fmt(const struct http_url *u, char *buf, size_t cap)
{
	http_url_format(u, buf, cap);
	return buf;
}

KTEST(http_url, parts)
{
	struct http_url *u = kmalloc(sizeof(*u));
	const char *why = NULL;

	KT_ASSERT_EQ(http_url_parse("http://example.com", u, &why), 0);
	KT_EXPECT_STREQ(u->host, "example.com");
	KT_EXPECT_EQ(u->port, 80);
	KT_EXPECT_STREQ(u->target, "/");
	KT_EXPECT(!u->host_is_ipv4);

	KT_ASSERT_EQ(http_url_parse("HTTP://Example.COM:8080/a/B?x=1&y=%41#frag", u, &why), 0);
	KT_EXPECT_STREQ(u->host, "example.com");
	KT_EXPECT_EQ(u->port, 8080);
	KT_EXPECT_STREQ(u->target, "/a/B?x=1&y=%41");

	KT_ASSERT_EQ(http_url_parse("http://10.0.2.2:8000/data/f.bin", u, &why), 0);
	KT_EXPECT(u->host_is_ipv4);
	KT_EXPECT_EQ(u->ipv4, 0x0a000202);
	KT_EXPECT_STREQ(u->target, "/data/f.bin");

	KT_ASSERT_EQ(http_url_parse("http://h?q=/x", u, &why), 0);
	KT_EXPECT_STREQ(u->target, "/?q=/x");
	KT_ASSERT_EQ(http_url_parse("http://h#f", u, &why), 0);
	KT_EXPECT_STREQ(u->target, "/");
	KT_ASSERT_EQ(http_url_parse("http://h:/x", u, &why), 0);
	KT_EXPECT_EQ(u->port, 80);
	KT_ASSERT_EQ(http_url_parse("http://h:65535/", u, &why), 0);
	KT_EXPECT_EQ(u->port, 65535);
	KT_ASSERT_EQ(http_url_parse("http://h:00081/", u, &why), 0);
	KT_EXPECT_EQ(u->port, 81);
	KT_ASSERT_EQ(http_url_parse("http://a_b-c.d./", u, &why), 0);
	KT_EXPECT_STREQ(u->host, "a_b-c.d.");
	KT_ASSERT_EQ(http_url_parse("http://h/a/./b/../c/%2e%2e/d?x/../y", u, &why), 0);
	KT_EXPECT_STREQ(u->target, "/a/c/%2e%2e/d?x/../y"); /* escapes and the query stay */
	KT_ASSERT_EQ(http_url_parse("http://h/../../x", u, &why), 0);
	KT_EXPECT_STREQ(u->target, "/x");
	KT_ASSERT_EQ(http_url_parse("http://h/a/..", u, &why), 0);
	KT_EXPECT_STREQ(u->target, "/");
	KT_ASSERT_EQ(http_url_parse("http://h/a|b{c}^", u, &why), 0);
	kfree(u);
}

KTEST(http_url, refused)
{
	static const struct {
		const char *url;
		int rc;
	} cases[] = {
		{ "https://h/", -EPROTONOSUPPORT }, { "HTTPS://h/", -EPROTONOSUPPORT },
		{ "ftp://h/", -EINVAL },            { "h/x", -EINVAL },
		{ "example.com", -EINVAL },         { "", -EINVAL },
		{ "http:/h", -EINVAL },             { "http:h", -EINVAL },
		{ "http://", -EINVAL },             { "http:///x", -EINVAL },
		{ "http://:80/", -EINVAL },         { "http://h:0/", -EINVAL },
		{ "http://h:65536/", -EINVAL },     { "http://h:99999999999/", -EINVAL },
		{ "http://h:8a/", -EINVAL },        { "http://h:-1/", -EINVAL },
		{ "http://h:80:81/", -EINVAL },     { "http://user:pw@h/", -EINVAL },
		{ "http://u@h/", -EINVAL },         { "http://[::1]/", -EINVAL },
		{ "http://a..b/", -EINVAL },        { "http://.a/", -EINVAL },
		{ "http://./", -EINVAL },           { "http://h%41/", -EINVAL },
		{ "http://h!/", -EINVAL },          { "http://h/a b", -EINVAL },
		{ "http://h/a\tb", -EINVAL },       { "http://h/a\x01", -EINVAL },
		{ "http://h/\x7f", -EINVAL },       { "http://h/caf\xc3\xa9", -EINVAL },
		{ "http://h/%zz", -EINVAL },        { "http://h/%4", -EINVAL },
		{ "http://h/%", -EINVAL },          { "http://h/?%g1", -EINVAL },
		{ "http://1.2.3.256/", -EINVAL },   { "http://1.2.3/", -EINVAL },
		{ "http://01.2.3.4/", -EINVAL },    { " http://h/", -EINVAL },
		{ "http://h/ ", -EINVAL },
	};
	struct http_url *u = kmalloc(sizeof(*u)), *keep = kmalloc(sizeof(*keep));

	memset(u, 0x5a, sizeof(*u));
	memcpy(keep, u, sizeof(*u));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *why = NULL;
		int rc = http_url_parse(cases[i].url, u, &why);

		if (rc != cases[i].rc || !why || !why[0])
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\": %d (%s)", cases[i].url, rc,
				   why ? why : "no reason");
		if (memcmp(u, keep, sizeof(*u)))
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\" wrote the result", cases[i].url);
	}
	{
		const char *why = NULL;

		KT_EXPECT_EQ(http_url_parse("https://example.com/", u, &why), -EPROTONOSUPPORT);
		KT_EXPECT_STREQ(why, "https is not supported");
		KT_EXPECT_EQ(http_url_parse("http://a@b/", u, NULL), -EINVAL); /* why may be NULL */
	}
	kfree(keep);
	kfree(u);
}

KTEST(http_url, limits)
{
	struct http_url *u = kmalloc(sizeof(*u));
	char *s = kmalloc(HTTP_URL_MAX + 64);
	const char *why;
	int n;

	/* a host name of 253 characters in labels of 63 */
	n = snprintf(s, 16, "http://");
	for (int i = 0; i < 4; i++) {
		memset(s + n, 'a' + i, i < 3 ? 63 : 61);
		n += i < 3 ? 63 : 61;
		s[n++] = i < 3 ? '.' : '/';
	}
	s[n] = '\0';
	KT_EXPECT_EQ(http_url_parse(s, u, &why), 0);
	KT_EXPECT_EQ(strlen(u->host), 253);
	s[n - 1] = 'x', s[n] = '/', s[n + 1] = '\0';
	KT_EXPECT_EQ(http_url_parse(s, u, &why), -EINVAL); /* 254 */
	/* a label of 64 */
	n = snprintf(s, 16, "http://");
	memset(s + n, 'a', 64);
	strlcpy(s + n + 64, "/", 2);
	KT_EXPECT_EQ(http_url_parse(s, u, &why), -EINVAL);
	/* the whole URL: HTTP_URL_MAX is fine, one more is not */
	n = snprintf(s, 16, "http://h/");
	memset(s + n, 'p', HTTP_URL_MAX - (size_t)n);
	s[HTTP_URL_MAX] = '\0';
	KT_EXPECT_EQ(http_url_parse(s, u, &why), 0);
	KT_EXPECT_EQ(strlen(u->target), HTTP_URL_MAX - 8);
	s[HTTP_URL_MAX] = 'p', s[HTTP_URL_MAX + 1] = '\0';
	KT_EXPECT_EQ(http_url_parse(s, u, &why), -EINVAL);
	KT_EXPECT_STREQ(why, "URL too long");
	kfree(s);
	kfree(u);
}

KTEST(http_url, remove_dots)
{
	static const char *const cases[][2] = {
		{ "/", "/" },           { "/a/b/c/./../../g", "/a/g" }, { "/./", "/" },
		{ "/.", "/" },          { "/..", "/" },                 { "/a/..", "/" },
		{ "/a/../", "/" },      { "/a/b/..", "/a/" },           { "/a//..", "/a/" },
		{ "/a//b", "/a//b" },   { "/../../x", "/x" },           { "/a/./b/", "/a/b/" },
		{ "/.a/..b/.../c.", "/.a/..b/.../c." }, { "/a/b/../../..", "/" },
	};
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = strlen(cases[i][0]);

		memcpy(buf, cases[i][0], n);
		n = http_url_remove_dots(buf, n);
		buf[n] = '\0';
		if (strcmp(buf, cases[i][1]))
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\" -> \"%s\", want \"%s\"",
				   cases[i][0], buf, cases[i][1]);
	}
}

/* RFC 3986 §5.4.1 and §5.4.2, fragments dropped from the expectations. */
KTEST(http_url, resolve_rfc3986)
{
	static const char *const cases[][2] = {
		{ "g", "http://a/b/c/g" },          { "./g", "http://a/b/c/g" },
		{ "g/", "http://a/b/c/g/" },        { "/g", "http://a/g" },
		{ "//g", "http://g/" },             { "?y", "http://a/b/c/d;p?y" },
		{ "g?y", "http://a/b/c/g?y" },      { "#s", "http://a/b/c/d;p?q" },
		{ "g#s", "http://a/b/c/g" },        { "g?y#s", "http://a/b/c/g?y" },
		{ ";x", "http://a/b/c/;x" },        { "g;x", "http://a/b/c/g;x" },
		{ "g;x?y#s", "http://a/b/c/g;x?y" }, { "", "http://a/b/c/d;p?q" },
		{ ".", "http://a/b/c/" },           { "./", "http://a/b/c/" },
		{ "..", "http://a/b/" },            { "../", "http://a/b/" },
		{ "../g", "http://a/b/g" },         { "../..", "http://a/" },
		{ "../../", "http://a/" },          { "../../g", "http://a/g" },
		{ "../../../g", "http://a/g" },     { "../../../../g", "http://a/g" },
		{ "/./g", "http://a/g" },           { "/../g", "http://a/g" },
		{ "g.", "http://a/b/c/g." },        { ".g", "http://a/b/c/.g" },
		{ "g..", "http://a/b/c/g.." },      { "..g", "http://a/b/c/..g" },
		{ "./../g", "http://a/b/g" },       { "./g/.", "http://a/b/c/g/" },
		{ "g/./h", "http://a/b/c/g/h" },    { "g/../h", "http://a/b/c/h" },
		{ "g;x=1/./y", "http://a/b/c/g;x=1/y" }, { "g;x=1/../y", "http://a/b/c/y" },
		{ "g?y/./x", "http://a/b/c/g?y/./x" }, { "g?y/../x", "http://a/b/c/g?y/../x" },
		{ "g#s/./x", "http://a/b/c/g" },    { "g#s/../x", "http://a/b/c/g" },
		{ "?", "http://a/b/c/d;p?" },
		{ "http://other:8080/z?k", "http://other:8080/z?k" },
		{ "HTTP://Other/./z/../w", "http://other/w" },
		{ "//g:81/x/../y", "http://g:81/y" },
	};
	struct http_url *base = kmalloc(sizeof(*base)), *out = kmalloc(sizeof(*out));
	char buf[256];
	const char *why;

	KT_ASSERT_EQ(http_url_parse("http://a/b/c/d;p?q", base, &why), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc = http_url_resolve(base, cases[i][0], out, &why);

		if (rc || strcmp(fmt(out, buf, sizeof(buf)), cases[i][1]))
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\" -> %d \"%s\", want \"%s\"",
				   cases[i][0], rc, rc ? why : buf, cases[i][1]);
	}
	/* schemes we do not follow; "http:g" has no authority */
	KT_EXPECT_EQ(http_url_resolve(base, "g:h", out, &why), -EINVAL);
	KT_EXPECT_EQ(http_url_resolve(base, "http:g", out, &why), -EINVAL);
	KT_EXPECT_EQ(http_url_resolve(base, "https://a/", out, &why), -EPROTONOSUPPORT);
	KT_EXPECT_EQ(http_url_resolve(base, "//", out, &why), -EINVAL);
	KT_EXPECT_EQ(http_url_resolve(base, "/a b", out, &why), -EINVAL);
	kfree(out);
	kfree(base);
}

KTEST(http_url, resolve_in_place)
{
	struct http_url *u = kmalloc(sizeof(*u)), *keep = kmalloc(sizeof(*keep));
	char buf[HTTP_URL_MAX + 64], *ref = kmalloc(HTTP_TARGET_MAX + 8);
	const char *why;

	KT_ASSERT_EQ(http_url_parse("http://h:8080/d/e/f?q", u, &why), 0);
	KT_ASSERT_EQ(http_url_resolve(u, "../x?y", u, &why), 0);
	KT_EXPECT_STREQ(fmt(u, buf, sizeof(buf)), "http://h:8080/d/x?y");
	KT_ASSERT_EQ(http_url_resolve(u, "?z", u, &why), 0);
	KT_EXPECT_STREQ(fmt(u, buf, sizeof(buf)), "http://h:8080/d/x?z");
	KT_ASSERT_EQ(http_url_resolve(u, "/abs", u, &why), 0);
	KT_EXPECT_STREQ(fmt(u, buf, sizeof(buf)), "http://h:8080/abs");
	KT_ASSERT_EQ(http_url_resolve(u, "//n/p", u, &why), 0);
	KT_EXPECT_STREQ(fmt(u, buf, sizeof(buf)), "http://n/p");
	KT_EXPECT_EQ(http_url_authority(u, buf, sizeof(buf)), 1);
	KT_EXPECT_STREQ(buf, "n");

	/* a merge that would overflow the target is refused and changes nothing */
	KT_ASSERT_EQ(http_url_parse("http://h:81/dir/file", u, &why), 0);
	memcpy(keep, u, sizeof(*u));
	memset(ref, 'r', HTTP_TARGET_MAX - 4);
	ref[HTTP_TARGET_MAX - 4] = '\0';
	KT_EXPECT_EQ(http_url_resolve(u, ref, u, &why), -EINVAL);
	KT_EXPECT(!memcmp(u, keep, sizeof(*u)));
	ref[HTTP_TARGET_MAX - 5] = '\0'; /* "/dir/" + 2043 = 2048 exactly */
	KT_EXPECT_EQ(http_url_resolve(u, ref, u, &why), 0);
	KT_EXPECT_EQ(strlen(u->target), HTTP_TARGET_MAX);
	KT_EXPECT_EQ(http_url_authority(u, buf, sizeof(buf)), 4);
	KT_EXPECT_STREQ(buf, "h:81");
	kfree(ref);
	kfree(keep);
	kfree(u);
}
