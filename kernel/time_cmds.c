/*
 * time_cmds.c — `uptime`.
 */
#include "kernel/shell.h"
#include "kernel/time.h"

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
