/*
 * main.c — the host runner for the unit tests (out/unit-tests).
 *
 * Every test file linked into the binary registers its tests in the
 * "ktests" section (see lib/ktest.h); this file only runs them and supplies
 * what the host has to provide for lib/:
 *
 *   - the output sink, which writes each result line to stdout;
 *   - lib_alloc()/lib_free() (lib/alloc.h), forwarded to malloc/free, so
 *     ASan sees every lib allocation and reports leaks at exit;
 *   - the host shim's frame around every test (tests/unit/shim/shim.h): a
 *     kernel panic fails the test and the run goes on, and a test fails for
 *     the memory, locks and timers it leaves behind.
 *
 * Environment: NOS_UNIT_VERBOSE=1 prints every kernel message as it is
 * logged (a failing test's messages are printed anyway).
 *
 * Usage: unit-tests [FILTER]
 * FILTER picks the tests whose "suite.name" contains it ("btree" runs the
 * btree suite, "ring.random" one test).  The exit status is 0 when every
 * test that ran passed, 1 otherwise, and 2 when the filter matched nothing —
 * a typo in a CI filter must not look like success.
 */
#include "lib/ktest.h"
#include "lib/alloc.h"
#include "tests/unit/shim/shim.h"

#include <stdio.h>
#include <stdlib.h>

void *lib_alloc(size_t size)
{
	return malloc(size);
}

void lib_free(void *p)
{
	free(p);
}

static void unit_out(const char *line, void *arg)
{
	fputs(line, stdout);
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	struct ktest_summary sum;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	shim_install();
	rc = ktest_run(filter, unit_out, NULL, &sum);
	if (sum.passed + sum.failed == 0) {
		fprintf(stderr, "unit-tests: no test matches \"%s\"\n",
			filter ? filter : "");
		return 2;
	}
	return rc ? 1 : 0;
}
