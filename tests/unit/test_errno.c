/*
 * test_errno.c — errno_name(): both signs, the fallback, and that every
 * known number has its own name.
 */
#include "lib/ktest.h"
#include "errno.h"

KTEST(errno, names_either_sign)
{
	KT_EXPECT_STREQ(errno_name(-EINVAL), "EINVAL");
	KT_EXPECT_STREQ(errno_name(EINVAL), "EINVAL");
	KT_EXPECT_STREQ(errno_name(-ENOMEM), "ENOMEM");
	KT_EXPECT_STREQ(errno_name(-EPERM), "EPERM");
	KT_EXPECT_STREQ(errno_name(-EINPROGRESS), "EINPROGRESS");
	KT_EXPECT_STREQ(errno_name(-E2BIG), "E2BIG");
	KT_EXPECT_STREQ(errno_name(-ETIMEDOUT), "ETIMEDOUT");
}

KTEST(errno, unknown_and_zero)
{
	KT_EXPECT_STREQ(errno_name(0), "0");
	KT_EXPECT_STREQ(errno_name(10), "E?");  /* ECHILD: not in our errno.h */
	KT_EXPECT_STREQ(errno_name(-9999), "E?");
	KT_EXPECT_STREQ(errno_name(2147483647), "E?");
	KT_EXPECT_STREQ(errno_name(-2147483647 - 1), "E?"); /* no -INT_MIN */
}

KTEST(errno, names_are_distinct)
{
	static const char *seen[200];
	int e, f;

	for (e = 1; e < 200; e++) {
		const char *name = errno_name(-e);

		seen[e] = name;
		KT_ASSERT(name[0] == 'E' || name[0] == '0');
		if (ktest_strcmp(name, "E?") == 0)
			continue;
		for (f = 1; f < e; f++)
			KT_ASSERT(ktest_strcmp(seen[f], name) != 0);
	}
}
