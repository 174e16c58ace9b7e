/*
 * selftest.c — the boot-test runner and the `selftest` shell command.
 *
 * Both run the tests linked into the "ktests" section: the portable unit
 * tests from tests/unit/ and the machine tests from tests/kernel/.  At boot
 * the results go to the console and the outcome leaves QEMU as an exit
 * status (make selftest checks it); from the shell they go to the session.
 */
#include "kernel/selftest.h"
#include "config.h"
#include "kernel/console.h"
#include "kernel/power.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "lib/ktest.h"
#include "lib/string.h"

static void out_console(const char *line, void *arg)
{
	console_write(line, strlen(line));
}

__noreturn void selftest_boot_and_exit(void)
{
	struct ktest_summary sum;
	int rc;

	pr_info("selftest: running the boot tests");
	rc = ktest_run(NULL, out_console, NULL, &sum);
	pr_info("selftest: %u passed, %u failed; leaving QEMU", sum.passed, sum.failed);
	power_qemu_exit(rc == 0 ? DEBUG_EXIT_PASS : DEBUG_EXIT_FAIL);
}

static void out_shell(const char *line, void *arg)
{
	sh_write(arg, line, strlen(line));
}

static int cmd_selftest(struct sh *sh, int argc, char **argv)
{
	struct ktest_summary sum;

	ktest_run(argc > 1 ? argv[1] : NULL, out_shell, sh, &sum);
	return 0;
}

SHELL_CMD("selftest", "[filter]", "run the in-kernel tests (those whose name contains filter)",
	  0, 1, cmd_selftest);
