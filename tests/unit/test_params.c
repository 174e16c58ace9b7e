/*
 * test_params.c — the kernel-parameter parser against good and bad command
 * lines: what is accepted, what is reported, and that the last word wins.
 */
#include "kernel/params.h"
#include "lib/ktest.h"
#include "lib/format.h"
#include "lib/string.h"

#include "tests/unit/params_defs.h"

struct reports {
	unsigned count;
	char last[160];
	bool saw_too_long;
};

static void collect(const char *msg, void *arg)
{
	struct reports *r = arg;

	r->count++;
	strlcpy(r->last, msg, sizeof(r->last));
	if (strstr(msg, "longer than"))
		r->saw_too_long = true;
}

static struct param_set set;

static int parse(const char *cmdline, struct reports *r)
{
	memset(r, 0, sizeof(*r));
	return params_parse(&set, defs, ARRAY_SIZE(defs), cmdline, collect, r);
}

KTEST(params, accepts_declared_words)
{
	struct reports r;

	KT_ASSERT_EQ(parse("  console=vga\tselftest root=/dev/vda1  ", &r), 0);
	KT_EXPECT_EQ(r.count, 0);
	KT_EXPECT_STREQ(params_lookup(&set, "console"), "vga");
	KT_EXPECT_STREQ(params_lookup(&set, "selftest"), "");
	KT_EXPECT_STREQ(params_lookup(&set, "root"), "/dev/vda1");
	KT_EXPECT(params_lookup(&set, "smp") == NULL);
}

KTEST(params, empty_and_null_lines)
{
	struct reports r;

	KT_EXPECT_EQ(parse("", &r), 0);
	KT_EXPECT_EQ(set.count, 0);
	KT_EXPECT_EQ(parse(NULL, &r), 0);
	KT_EXPECT_EQ(parse("   \t ", &r), 0);
	KT_EXPECT_EQ(set.count, 0);
}

KTEST(params, rejects_and_reports)
{
	struct reports r;

	KT_EXPECT_EQ(parse("bogus", &r), 1);
	KT_EXPECT(strstr(r.last, "unknown parameter 'bogus'") != NULL);
	KT_EXPECT_EQ(parse("console=bogus", &r), 1);
	KT_EXPECT(strstr(r.last, "bogus") && strstr(r.last, "serial|vga"));
	KT_EXPECT(params_lookup(&set, "console") == NULL);
	KT_EXPECT_EQ(parse("console console=", &r), 2);
	KT_EXPECT(strstr(r.last, "needs a value") != NULL);
	KT_EXPECT_EQ(parse("selftest=yes", &r), 1);
	KT_EXPECT(strstr(r.last, "takes no value") != NULL);
	KT_EXPECT(params_lookup(&set, "selftest") == NULL);
	KT_EXPECT_EQ(parse("=x == console=vgaa console=serial", &r), 3);
	KT_EXPECT_STREQ(params_lookup(&set, "console"), "serial");
}

KTEST(params, last_one_wins)
{
	struct reports r;

	KT_EXPECT_EQ(parse("console=vga console=serial", &r), 0);
	KT_EXPECT_STREQ(params_lookup(&set, "console"), "serial");
	KT_EXPECT_EQ(set.count, 1);
}

KTEST(params, overlong_line_is_cut_and_reported)
{
	static char line[PARAM_CMDLINE_MAX + 200];
	struct reports r;
	size_t n = 0;

	while (n + 9 < sizeof(line) - 1) {
		memcpy(line + n, "selftest ", 9);
		n += 9;
	}
	line[n] = '\0';
	KT_EXPECT(parse(line, &r) >= 1);
	KT_EXPECT(r.saw_too_long);
	KT_EXPECT_STREQ(params_lookup(&set, "selftest"), "");
}

KTEST(params, random_bytes_never_break_the_parser)
{
	static char line[300];
	struct reports r;

	for (unsigned round = 0; round < 500; round++) {
		size_t n = ktest_rand(kt) % (sizeof(line) - 1);

		for (size_t i = 0; i < n; i++)
			line[i] = (char)(1 + ktest_rand(kt) % 255);
		line[n] = '\0';
		parse(line, &r);
		KT_ASSERT(set.count <= PARAM_MAX);
		for (unsigned i = 0; i < set.count; i++)
			KT_ASSERT(set.name[i] && set.value[i]);
	}
}

KTEST(params, repeatable_keeps_every_word_in_order)
{
	struct reports r;

	KT_ASSERT_EQ(parse("mount=vda:/a console=vga mount=vdb:/b:ro mount=vda:/a", &r), 0);
	KT_EXPECT_STREQ(params_lookup_nth(&set, "mount", 0), "vda:/a");
	KT_EXPECT_STREQ(params_lookup_nth(&set, "mount", 1), "vdb:/b:ro");
	KT_EXPECT_STREQ(params_lookup_nth(&set, "mount", 2), "vda:/a");
	KT_EXPECT(params_lookup_nth(&set, "mount", 3) == NULL);
	KT_EXPECT_STREQ(params_lookup(&set, "mount"), "vda:/a");
	KT_EXPECT_STREQ(params_lookup_nth(&set, "console", 0), "vga");
	KT_EXPECT(params_lookup_nth(&set, "console", 1) == NULL);
	KT_EXPECT(params_lookup_nth(&set, "root", 0) == NULL);
}

KTEST(params, repeatable_still_checked_and_bounded)
{
	static char line[PARAM_CMDLINE_MAX];
	struct reports r;
	size_t n = 0;

	KT_EXPECT_EQ(parse("mount mount= mount=x", &r), 2);
	KT_EXPECT_STREQ(params_lookup_nth(&set, "mount", 0), "x");
	KT_EXPECT(params_lookup_nth(&set, "mount", 1) == NULL);
	for (unsigned i = 0; i < PARAM_MAX + 3; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "mount=d%u:/m ", i);
	KT_EXPECT_EQ(parse(line, &r), 3);
	KT_EXPECT(strstr(r.last, "more than") != NULL);
	KT_EXPECT_EQ(set.count, PARAM_MAX);
	KT_EXPECT_STREQ(params_lookup_nth(&set, "mount", PARAM_MAX - 1), "d31:/m");
}
