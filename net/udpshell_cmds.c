/*
 * udpshell_cmds.c — the `udpshell` command and the udpshell= /
 * udpshell.key= boot parameters.
 *
 *   udpshell                   status: port, key, sessions, counters
 *   udpshell start <port>      serve on a UDP port
 *   udpshell stop              interrupt what runs, close the port
 *   udpshell key <hex>|none    set (64 hex digits) or remove the key
 *
 * A malformed udpshell.key= keeps the shell from starting at boot: whoever
 * wrote it meant the shell to be closed to strangers, and an open one
 * would be the wrong way to fail.  The parameter is still in the boot
 * log's command line: that log is for people who may read the key anyway.
 */
#include "net/udpshell.h"
#include "errno.h"
#include "kernel/params.h"
#include "kernel/printk.h"
#include "kernel/shell.h"
#include "lib/parse.h"
#include "lib/string.h"
#include "net/udpshell_priv.h"

KPARAM(udpshell, "udpshell", NULL, "udpshell=PORT: the remote shell on that UDP port");
KPARAM(udpshell_key, "udpshell.key", NULL,
       "udpshell.key=<64 hex digits>: the UDP shell's key (requests need an HMAC-SHA256 tag)");

void udpshell_boot(const char *port, const char *key)
{
	u8 k[USH_KEY_LEN];
	u64 p;
	int rc;

	if (key && udpshell_parse_key(key, k)) {
		pr_err("udpshell: udpshell.key must be 64 hex digits (32 bytes); not starting");
		return;
	}
	if (key)
		udpshell_set_key(k);
	crypto_memzero(k, sizeof(k));
	if (!port)
		return;
	if (parse_u64_range(port, 1, 65535, &p)) {
		pr_err("udpshell: udpshell=%s is not a UDP port (1-65535); not starting", port);
		return;
	}
	rc = udpshell_start((u16)p);
	if (rc)
		pr_err("udpshell: cannot listen on UDP port %llu: %s", (unsigned long long)p,
		       errno_name(rc));
}

/* ----------------------------------------------------------- status */

static void ush_show_state(struct sh *sh, const struct udpshell_status *st)
{
	if (!st->running)
		sh_printf(sh, "udpshell: off, %s\n", st->keyed ? "key set" : "no key");
	else if (st->keyed)
		sh_printf(sh, "udpshell: on, UDP port %u, key set (requests need an HMAC-SHA256 tag)\n",
			  st->port);
	else
		sh_printf(sh, "udpshell: on, UDP port %u, no key: anyone who can reach it runs "
			  "commands\n", st->port);
	sh_printf(sh, "sessions: %u of %u, %u running a command (at most %u at once); idle ones "
		  "expire after %llu s\n", st->sessions, USH_SESSIONS, st->running_cmds,
		  USH_RUN_MAX, (unsigned long long)(USH_IDLE_NS / USH_NS_PER_S));
	sh_printf(sh, "replies kept: %llu KiB (at most %llu KiB each, %llu KiB in all)\n",
		  (unsigned long long)(st->stored_bytes + 1023) / 1024,
		  (unsigned long long)ush.keep_reply / 1024,
		  (unsigned long long)ush.keep_total / 1024);
}

static void ush_show_sessions(struct sh *sh)
{
	struct udpshell_session_info info[USH_SESSIONS];
	unsigned n = udpshell_sessions(info, USH_SESSIONS);
	char a[IP_STR_MAX];

	for (unsigned i = 0; i < n; i++)
		sh_printf(sh, "  %s:%u  idle %llu.%01llu s  seq %u  %s  chunks %u (kept %u, %llu "
			  "bytes)\n", ip_format(&info[i].addr, a), info[i].port,
			  (unsigned long long)(info[i].idle_ns / USH_NS_PER_S),
			  (unsigned long long)(info[i].idle_ns / 100000000 % 10), info[i].seq,
			  info[i].running ? "running" : "done", info[i].chunks, info[i].kept,
			  (unsigned long long)info[i].kept_bytes);
}

/* One "name count" list: the drop reasons [@from, @to). */
static u64 ush_show_drops(struct sh *sh, const struct udpshell_stats *s, unsigned from,
			  unsigned to)
{
	u64 sum = 0;

	for (unsigned i = from; i < to; i++) {
		sh_printf(sh, "%s%s %llu", i == from ? "" : ", ", ush_drop_name(i),
			  (unsigned long long)s->drops[i]);
		sum += s->drops[i];
	}
	sh_printf(sh, "\n");
	return sum;
}

static void ush_show_counters(struct sh *sh, const struct udpshell_stats *s)
{
	sh_printf(sh, "datagrams %llu, requests %llu, retransmissions %llu, busy %llu, "
		  "refused %llu (table full)\n", (unsigned long long)s->rx,
		  (unsigned long long)s->requests, (unsigned long long)s->retransmissions,
		  (unsigned long long)s->busy, (unsigned long long)s->refused);
	sh_printf(sh, "replies %llu, chunks %llu, resent %llu, notes %llu, not kept %llu, "
		  "send errors %llu\n", (unsigned long long)s->replies,
		  (unsigned long long)s->chunks, (unsigned long long)s->resent,
		  (unsigned long long)s->notes, (unsigned long long)s->not_kept,
		  (unsigned long long)s->send_errors);
	sh_printf(sh, "dropped: ");
	ush_show_drops(sh, s, USH_BAD_SHORT, USH_BAD_COUNT);
	sh_printf(sh, "auth failures: ");
	ush_show_drops(sh, s, USH_DROP_AUTH_FIRST, USH_DROP_COUNT);
}

static int ush_cmd_status(struct sh *sh)
{
	struct udpshell_status st;

	udpshell_get_status(&st);
	ush_show_state(sh, &st);
	ush_show_sessions(sh);
	ush_show_counters(sh, &st.stats);
	return sh_output_error(sh);
}

/* ---------------------------------------------------------- control */

static int ush_cmd_start(struct sh *sh, const char *arg)
{
	u64 port;
	int rc = sh_parse_uint(sh, arg, "port", 1, 65535, &port);

	if (rc)
		return rc;
	rc = udpshell_start((u16)port);
	if (rc == -EALREADY)
		sh_printf(sh, "udpshell: already running (udpshell stop first)\n");
	else if (rc == -EADDRINUSE)
		sh_printf(sh, "udpshell: UDP port %llu is in use\n", (unsigned long long)port);
	else if (rc)
		sh_printf(sh, "udpshell: cannot start: %s\n", errno_name(rc));
	else
		sh_printf(sh, "udpshell: listening on UDP port %llu\n", (unsigned long long)port);
	return rc;
}

static int ush_cmd_stop(struct sh *sh)
{
	int rc = udpshell_stop();

	if (rc == -ENOENT)
		sh_printf(sh, "udpshell: not running\n");
	else if (rc == -EBUSY)
		sh_printf(sh, "udpshell: a command run over the UDP shell cannot stop it "
			  "(stop it from the console)\n");
	else if (rc)
		sh_printf(sh, "udpshell: cannot stop: %s\n", errno_name(rc));
	else
		sh_printf(sh, "udpshell: stopped\n");
	return rc;
}

static int ush_cmd_key(struct sh *sh, const char *arg)
{
	u8 key[USH_KEY_LEN];

	if (strcmp(arg, "none") == 0) {
		udpshell_set_key(NULL);
		sh_printf(sh, "udpshell: no key: anyone who can reach the port runs commands\n");
		return 0;
	}
	if (udpshell_parse_key(arg, key))
		return sh_error(sh, "the key must be 64 hex digits (32 bytes), or 'none'");
	udpshell_set_key(key);
	crypto_memzero(key, sizeof(key));
	sh_printf(sh, "udpshell: key set; requests need an HMAC-SHA256 tag\n");
	return 0;
}

static int cmd_udpshell(struct sh *sh, int argc, char **argv)
{
	if (argc == 1)
		return ush_cmd_status(sh);
	if (strcmp(argv[1], "start") == 0 && argc == 3)
		return ush_cmd_start(sh, argv[2]);
	if (strcmp(argv[1], "stop") == 0 && argc == 2)
		return ush_cmd_stop(sh);
	if (strcmp(argv[1], "key") == 0 && argc == 3)
		return ush_cmd_key(sh, argv[2]);
	return -EINVAL;
}
SHELL_CMD("udpshell", "[start <port>|stop|key <hex|none>]",
	  "the remote UDP shell: status and counters, start, stop, set or remove the key",
	  0, 2, cmd_udpshell);
