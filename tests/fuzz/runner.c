/*
 * runner.c — libFuzzer's side of every target in tests/fuzz (see fuzz.h).
 *
 * libFuzzer supplies main(); this file supplies its two hooks and what the
 * host must provide for lib/ (lib_alloc/lib_free, as tests/unit/main.c
 * does: malloc and free, so ASan sees them).
 *
 *   LLVMFuzzerInitialize   installs the shim's per-test frame
 *                          (shim_install(): the fake clock and the kernel's
 *                          timer queue), once;
 *   LLVMFuzzerTestOneInput runs the target's one KTEST on the input through
 *                          ktest_run(), and abort()s when it failed, after
 *                          printing the test's report lines.
 *
 * The report lines of a passing input are dropped; only a failing one's
 * are printed, so a long run's output is libFuzzer's own.
 */
#include "tests/fuzz/fuzz.h"
#include "tests/unit/shim/shim.h"
#include "lib/alloc.h"
#include "lib/ktest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_MAX 16384

const u8 *fuzz_data;
size_t fuzz_size;

static char report[REPORT_MAX];
static size_t report_len;

void *lib_alloc(size_t size)
{
	return malloc(size);
}

void lib_free(void *p)
{
	free(p);
}

static void keep_line(const char *line, void *arg)
{
	size_t n = strlen(line);

	if (report_len + n >= REPORT_MAX)
		return;
	memcpy(report + report_len, line, n);
	report_len += n;
	report[report_len] = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	shim_install();
	return 0;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct ktest_summary sum;
	int rc;

	fuzz_data = data;
	fuzz_size = size;
	report_len = 0;
	report[0] = 0;
	rc = ktest_run(NULL, keep_line, NULL, &sum);
	if (rc || sum.passed != 1) {
		fflush(stdout);
		fprintf(stderr, "fuzz: the input failed the target's checks:\n%s", report);
		abort();
	}
	return 0;
}
