/*
 * time_cmds.c — `uptime`, `date` and `sleep`.
 *
 * `sleep` is the plainest blocking command there is: it waits on a timer
 * and gives way to Ctrl-C, so scripts (and the tests of Ctrl-C itself) can
 * use it.
 */
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "lib/calendar.h"

#define SLEEP_MAX_SECONDS 3600

static int cmd_uptime(struct sh *sh, int argc, char **argv)
{
	u64 ns = time_ns(), s = ns / 1000000000ULL;

	sh_printf(sh, "up %llu:%02llu:%02llu.%03llu (%llu.%03llu s), %llu PIT ticks, clock: %s\n",
		  (unsigned long long)(s / 3600), (unsigned long long)(s / 60 % 60),
		  (unsigned long long)(s % 60), (unsigned long long)(ns / 1000000 % 1000),
		  (unsigned long long)s, (unsigned long long)(ns / 1000000 % 1000),
		  (unsigned long long)time_ticks(), time_source_name());
	return 0;
}
SHELL_CMD("uptime", "", "time since the kernel started", 0, 0, cmd_uptime);

static int print_unix(struct sh *sh, const char *label, s64 unix_ns)
{
	char text[CALENDAR_FMT_SIZE];
	struct civil_time t;
	s64 secs = unix_ns / 1000000000LL;

	if (calendar_from_unix(secs, &t) || calendar_format(&t, text, sizeof(text)))
		return sh_error(sh, "time %lld is out of range", (long long)secs);
	sh_printf(sh, "%s%s UTC\n", label, text);
	return 0;
}

static int cmd_date(struct sh *sh, int argc, char **argv)
{
	s64 now, boot;

	if (time_wall(&now) || time_boot_wall(&boot))
		return sh_error(sh, "no wall clock (the RTC could not be read at boot)");
	if (print_unix(sh, "", now))
		return -EINVAL;
	return print_unix(sh, "booted ", boot);
}
SHELL_CMD("date", "", "wall-clock time (from the RTC) and when the kernel booted", 0, 0,
	  cmd_date);

static int cmd_sleep(struct sh *sh, int argc, char **argv)
{
	u64 secs;
	int rc = sh_parse_uint(sh, argv[1], "seconds", 0, SLEEP_MAX_SECONDS, &secs);

	if (rc)
		return rc;
	return sched_sleep_interruptible(secs * 1000000000ULL);
}
SHELL_CMD("sleep", "<seconds>", "wait that long (0-3600 s; Ctrl-C ends it early)", 1, 1,
	  cmd_sleep);
