/*
 * host_http_path.c — the server's path handling (net/http_path.c) on the
 * host: targets that map to paths under the served directory, every
 * escape attempt we know of (raw, encoded, mixed case, double-encoded,
 * backslashes, NULs), length limits to the byte, and the HTML and URL
 * escapers a directory listing uses.  Every target is given from a heap
 * block of exactly its length, without a NUL, so ASan sees any read past
 * it.
 */
#include "tests/unit/shim/shim.h"
#include "errno.h"
#include "lib/format.h"
#include "lib/ktest.h"
#include "lib/string.h"
#include "mm/kmalloc.h"
#include "net/http_path.h"

static int map(const char *target, size_t len, char *out, size_t cap, const char **why)
{
	char *copy = kmalloc(len ? len : 1);
	int rc;

	memcpy(copy, target, len);
	rc = http_path_from_target(copy, len, out, cap, why);
	kfree(copy);
	return rc;
}

KTEST(http_path, good_targets)
{
	static const char *const cases[][2] = {
		{ "/", "/" },                   { "/a/b", "/a/b" },
		{ "/a/b/", "/a/b/" },           { "//a///b", "/a/b" },
		{ "/./a/./b/.", "/a/b/" },      { "/a/./", "/a/" },
		{ "/a?x=1&y=/../z", "/a" },     { "/?q", "/" },
		{ "/a%20b", "/a b" },           { "/%41%62c", "/Abc" },
		{ "/%2e", "/" },                { "/%2E/x", "/x" },
		{ "/...", "/..." },             { "/.a/..b/a..", "/.a/..b/a.." },
		{ "/%252e%252e/x", "/%2e%2e/x" }, /* decoded once: a literal name */
		{ "/caf%C3%A9", "/caf\xc3\xa9" }, { "/caf\xc3\xa9", "/caf\xc3\xa9" },
		{ "/a:b;c=d@e", "/a:b;c=d@e" },
		{ "http://vm:8080/x/y?z", "/x/y" }, { "HTTP://vm", "/" },
		{ "http://vm?q", "/" },         { "http://vm/", "/" },
	};
	char out[256];
	const char *why = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc = map(cases[i][0], strlen(cases[i][0]), out, sizeof(out), &why);

		if (rc || strcmp(out, cases[i][1]))
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\" -> %d \"%s\", want \"%s\"",
				   cases[i][0], rc, rc ? why : out, cases[i][1]);
	}
}

KTEST(http_path, escapes_refused)
{
	static const char *const cases[] = {
		"/../etc/passwd", "/..", "/a/..", "/a/../b", "/a/../../b", "/%2e%2e/x",
		"/%2E%2e/x", "/%2E%2e%2Fx", "/.%2e/x", "/%2e./x", "/x/%2e%2E", "/a/..?q",
		"/a%2fb", "/a%2F..%2Fb", "/a\\b", "/a%5cb", "/..\\x", "/a%00b", "/a%00",
		"/a%01", "/a%1f", "/a%7f", ("/a\x01" "b"), "/a\x7f", "/a\tb", "/%", "/%4",
		"/%g0", "/%0g", "/a#b", "/#", "*", "", "x/y", "ftp://h/x", "http:/x",
		"http://h/../x", "http://h/%2e%2e",
	};
	char out[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *why = NULL;
		int rc = map(cases[i], strlen(cases[i]), out, sizeof(out), &why);

		if (rc != -EINVAL || !why || !why[0])
			ktest_fail(kt, __FILE__, __LINE__, "\"%s\" -> %d", cases[i], rc);
	}
	/* a NUL inside the target itself, not encoded */
	{
		const char *why = NULL;

		KT_EXPECT_EQ(map("/a\0b", 4, out, sizeof(out), &why), -EINVAL);
		KT_EXPECT_EQ(map("/a/..", 5, out, sizeof(out), NULL), -EINVAL); /* why may be NULL */
	}
}

KTEST(http_path, lengths)
{
	char target[800], out[1024];
	const char *why;
	size_t n;

	/* a segment of HTTP_PATH_SEG_MAX is fine, one more is not */
	target[0] = '/';
	memset(target + 1, 's', HTTP_PATH_SEG_MAX + 1);
	KT_EXPECT_EQ(map(target, 1 + HTTP_PATH_SEG_MAX, out, sizeof(out), &why), 0);
	KT_EXPECT_EQ(strlen(out), 1 + HTTP_PATH_SEG_MAX);
	KT_EXPECT_EQ(map(target, 2 + HTTP_PATH_SEG_MAX, out, sizeof(out), &why), -ENAMETOOLONG);
	/* encoded bytes count once decoded: 255 * "%41" is a 255-byte name */
	for (n = 0; n < HTTP_PATH_SEG_MAX; n++)
		memcpy(target + 1 + 3 * n, "%41", 3);
	KT_EXPECT_EQ(map(target, 1 + 3 * n, out, sizeof(out), &why), 0);
	KT_EXPECT_EQ(strlen(out), 1 + HTTP_PATH_SEG_MAX);
	/* the output buffer, to the byte: "/abc/def" needs 9 */
	KT_EXPECT_EQ(map("/abc/def", 8, out, 9, &why), 0);
	KT_EXPECT_STREQ(out, "/abc/def");
	KT_EXPECT_EQ(map("/abc/def", 8, out, 8, &why), -ENAMETOOLONG);
	KT_EXPECT_EQ(map("/abc/def/", 9, out, 10, &why), 0);
	KT_EXPECT_STREQ(out, "/abc/def/");
	KT_EXPECT_EQ(map("/abc/def/", 9, out, 9, &why), -ENAMETOOLONG);
	KT_EXPECT_EQ(map("/abc//./def", 11, out, 9, &why), 0); /* dropped parts cost nothing */
	KT_EXPECT_STREQ(out, "/abc/def");
	KT_EXPECT_EQ(map("/", 1, out, 2, &why), 0);
	KT_EXPECT_STREQ(out, "/");
	KT_EXPECT_EQ(map("/", 1, out, 1, &why), -ENAMETOOLONG);
	/* many segments: bounded by the output, not by anything else */
	for (n = 0; n < 600; n += 2)
		memcpy(target + n, "/a", 2);
	KT_EXPECT_EQ(map(target, n, out, sizeof(out), &why), 0);
	KT_EXPECT_EQ(strlen(out), n);
	KT_EXPECT_EQ(map(target, n, out, n, &why), -ENAMETOOLONG);
}

KTEST(http_path, html_escape)
{
	char out[128];
	const char *s = "<a href=\"x\">&'</a>";

	KT_EXPECT_EQ(http_html_escape(s, strlen(s), out, sizeof(out)), 48);
	KT_EXPECT_STREQ(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
	KT_EXPECT_EQ(http_html_escape("a\x01\nb", 4, out, sizeof(out)), 4);
	KT_EXPECT_STREQ(out, "a??b");
	KT_EXPECT_EQ(http_html_escape("caf\xc3\xa9", 5, out, sizeof(out)), 5);
	KT_EXPECT_STREQ(out, "caf\xc3\xa9");
	/* cut short: whole entities only, the full length still reported */
	KT_EXPECT_EQ(http_html_escape("ab&cd", 5, out, 5), 9);
	KT_EXPECT_STREQ(out, "ab");
	KT_EXPECT_EQ(http_html_escape("ab&cd", 5, out, 8), 9);
	KT_EXPECT_STREQ(out, "ab&amp;");
	KT_EXPECT_EQ(http_html_escape("abc", 3, NULL, 0), 3);
	KT_EXPECT_EQ(http_html_escape("", 0, out, 1), 0);
	KT_EXPECT_STREQ(out, "");
}

KTEST(http_path, pct_encode)
{
	char out[128];

	KT_EXPECT_EQ(http_pct_encode("a b/c%", 6, out, sizeof(out), true), 10);
	KT_EXPECT_STREQ(out, "a%20b/c%25");
	KT_EXPECT_EQ(http_pct_encode("a b/c%", 6, out, sizeof(out), false), 12);
	KT_EXPECT_STREQ(out, "a%20b%2Fc%25");
	KT_EXPECT_EQ(http_pct_encode("<>\"'&?#", 7, out, sizeof(out), false), 21);
	KT_EXPECT_STREQ(out, "%3C%3E%22%27%26%3F%23");
	KT_EXPECT_EQ(http_pct_encode("caf\xc3\xa9-._~", 9, out, sizeof(out), false), 13);
	KT_EXPECT_STREQ(out, "caf%C3%A9-._~");
	KT_EXPECT_EQ(http_pct_encode("a b", 3, out, 3, false), 5);
	KT_EXPECT_STREQ(out, "a"); /* never half an escape */
	/* what the encoder makes, the path mapper reads back */
	{
		const char *name = "we ird%na\xc3\xa9me";
		char enc[64], back[64], target[80];
		const char *why;

		http_pct_encode(name, strlen(name), enc, sizeof(enc), false);
		snprintf(target, sizeof(target), "/%s", enc);
		KT_ASSERT_EQ(map(target, strlen(target), back, sizeof(back), &why), 0);
		KT_EXPECT_STREQ(back + 1, name);
	}
}
