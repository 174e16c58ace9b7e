/*
 * selftest.c — the boot-test runner, the `selftest` shell command, and the
 * one knob the boot tests share (their timing slack).
 *
 * Both entry points run the tests linked into the "ktests" section: the
 * portable unit tests from tests/unit/ and the machine tests from
 * tests/kernel/.  At boot the results go to the console and the outcome
 * leaves QEMU as an exit status (make selftest checks it); from the shell
 * they go to the session, and the command fails when a test fails.
 *
 * A kernel built with `make KTESTS=0` links none of tests/ (they are most
 * of the image) and is compiled with NOS_KTESTS=0: then both entry points
 * say so instead of reporting "0 passed, 0 failed", which would read like
 * a filter that matched nothing, and the boot run leaves QEMU with the fail
 * code, because nothing was shown to work.
 *
 * Timing slack: a test may check that a sleep or a timer was never early,
 * exactly, but how late it may be depends on the host — a TCG vCPU on a
 * busy machine can stall for a long time.  Those upper bounds are written
 * for an idle host and multiplied by selftest_slack() (parameter
 * `selftest.slack=N`); the lateness itself is measured by `make bench`.
 */
#include "kernel/selftest.h"
#include "config.h"
#include "errno.h"
#include "kernel/console.h"
#include "kernel/params.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "lib/ktest.h"
#include "lib/parse.h"
#include "lib/string.h"

#ifndef NOS_KTESTS
#define NOS_KTESTS 1 /* the Makefile passes 0 for a kernel without tests/ */
#endif

#define SELFTEST_SLACK_DEFAULT 10
#define SELFTEST_SLACK_MAX 1000

KPARAM(selftest_slack, "selftest.slack", NULL,
       "multiply the boot tests' lateness bounds by N (1-1000, default 10)");

static const char no_tests_msg[] =
	"selftest: this kernel was built without boot tests (make KTESTS=0)";

u64 selftest_slack(void)
{
	static u64 slack; /* 0 until the parameter has been read */
	const char *v;
	u64 n;

	if (slack)
		return slack;
	v = param_get("selftest.slack");
	if (!v) {
		n = SELFTEST_SLACK_DEFAULT;
	} else if (parse_u64_range(v, 1, SELFTEST_SLACK_MAX, &n) < 0) {
		pr_warn("params: selftest.slack='%s' is not a number from 1 to %d; using %d", v,
			SELFTEST_SLACK_MAX, SELFTEST_SLACK_DEFAULT);
		n = SELFTEST_SLACK_DEFAULT;
	}
	slack = n; /* racing readers compute the same value */
	return slack;
}

static void out_console(const char *line, void *arg)
{
	console_write(line, strlen(line));
}

__noreturn void selftest_boot_and_exit(void)
{
	struct ktest_summary sum;
	int rc;

	if (!NOS_KTESTS) {
		pr_err("%s; leaving QEMU", no_tests_msg);
		power_qemu_exit(DEBUG_EXIT_FAIL);
	}
	pr_info("selftest: running the boot tests (timing slack x%llu)",
		(unsigned long long)selftest_slack());
	rc = ktest_run(NULL, out_console, NULL, &sum);
	pr_info("selftest: %u passed, %u failed; leaving QEMU", sum.passed, sum.failed);
	power_qemu_exit(rc == 0 ? DEBUG_EXIT_PASS : DEBUG_EXIT_FAIL);
}

static void out_shell(const char *line, void *arg)
{
	sh_write(arg, line, strlen(line));
}

/* Between two tests: stop on Ctrl-C, or when the session's output fails. */
static bool selftest_should_stop(void *sh)
{
	return task_interrupted() || sh_output_error(sh);
}

/* 0 when every selected test passed; -EIO when one failed (the count line
 * says which); -EINTR (or the sink's error) when stopped between tests;
 * -ENOSYS in a kernel without boot tests. */
static int cmd_selftest(struct sh *sh, int argc, char **argv)
{
	struct ktest_summary sum;
	int rc;

	if (!NOS_KTESTS) {
		sh_printf(sh, "%s\n", no_tests_msg);
		return -ENOSYS;
	}
	rc = ktest_run_until(argc > 1 ? argv[1] : NULL, out_shell, sh, selftest_should_stop,
			    &sum);
	if (rc < 0)
		return -EIO;
	if (rc)
		return sh_output_error(sh) ? sh_output_error(sh) : -EINTR;
	return 0;
}

SHELL_CMD("selftest", "[filter]", "run the in-kernel tests (those whose name contains filter)",
	  0, 1, cmd_selftest);
