/*
 * httpd_cmds.c — the `httpd` command (net/httpd.h).
 *
 *   httpd                      status: port, directory, connections, counters
 *   httpd start [port] [dir]   serve dir (default /) on port (default 8080)
 *   httpd stop                 close the port, reset what is open, join the tasks
 *
 *   _httpd_limit <n>           (hidden, for tests) at most n connections open
 *
 * `httpd start /data` is accepted too: an argument that starts with '/' is
 * the directory.  Messages read "httpd: serving / on TCP port 8080",
 * "httpd: TCP port 8080 is in use", "httpd: /nosuch: ENOENT (...)".
 */
#include "net/httpd.h"
#include "errno.h"
#include "kernel/shell.h"
#include "lib/string.h"

static int hd_cmd_status(struct sh *sh)
{
	struct httpd_status st;
	const struct httpd_stats *s = &st.stats;

	httpd_get_status(&st);
	if (st.running)
		sh_printf(sh, "httpd: on, TCP port %u, serving %s\n", st.port, st.dir);
	else
		sh_printf(sh, "httpd: off\n");
	sh_printf(sh, "connections: %u open (%u being served, at most %u open, %u workers)\n",
		  st.open, st.serving, st.conn_max, HTTPD_WORKERS);
	sh_printf(sh, "accepted %llu, refused %llu (503 at the limit), timed out %llu, reset %llu\n",
		  (unsigned long long)s->accepted, (unsigned long long)s->refused,
		  (unsigned long long)s->timeouts, (unsigned long long)s->aborted);
	sh_printf(sh, "requests %llu, bytes sent %llu\n", (unsigned long long)s->requests,
		  (unsigned long long)s->bytes_sent);
	sh_printf(sh, "by status:");
	for (unsigned i = 0; i < HTTPD_NCODES; i++)
		sh_printf(sh, " %d %llu", httpd_code_at(i), (unsigned long long)s->by_code[i]);
	sh_printf(sh, " other %llu\n", (unsigned long long)s->other_codes);
	return sh_output_error(sh);
}

static int hd_cmd_start(struct sh *sh, int argc, char **argv)
{
	const char *dir = "/";
	u64 port = HTTPD_PORT_DEFAULT;
	int i = 2, rc;

	if (i < argc && argv[i][0] != '/') {
		rc = sh_parse_uint(sh, argv[i], "port", 1, 65535, &port);
		if (rc)
			return rc;
		i++;
	}
	if (i < argc)
		dir = argv[i++];
	if (i < argc)
		return -EINVAL;
	rc = httpd_start((u16)port, dir);
	if (rc == -EALREADY)
		sh_printf(sh, "httpd: already running (httpd stop first)\n");
	else if (rc == -EADDRINUSE)
		sh_printf(sh, "httpd: TCP port %llu is in use\n", (unsigned long long)port);
	else if (rc == -ENOENT || rc == -ENOTDIR || rc == -ENAMETOOLONG || rc == -EINVAL)
		sh_printf(sh, "httpd: %s: %s (not a directory to serve)\n", dir, errno_name(rc));
	else if (rc)
		sh_printf(sh, "httpd: cannot start: %s\n", errno_name(rc));
	else
		sh_printf(sh, "httpd: serving %s on TCP port %llu\n", dir, (unsigned long long)port);
	return rc;
}

static int cmd_httpd(struct sh *sh, int argc, char **argv)
{
	int rc;

	if (argc == 1)
		return hd_cmd_status(sh);
	if (strcmp(argv[1], "start") == 0)
		return hd_cmd_start(sh, argc, argv);
	if (strcmp(argv[1], "stop") == 0 && argc == 2) {
		rc = httpd_stop();
		if (rc == -ENOENT)
			sh_printf(sh, "httpd: not running\n");
		else
			sh_printf(sh, "httpd: stopped\n");
		return rc;
	}
	return -EINVAL;
}
SHELL_CMD("httpd", "[start [port] [dir] | stop]",
	  "the HTTP file server: status and counters, start (default 8080 /), stop", 0, 3,
	  cmd_httpd);

static int cmd_httpd_limit(struct sh *sh, int argc, char **argv)
{
	u64 n;
	int rc = sh_parse_uint(sh, argv[1], "limit", 1, HTTPD_CONN_MAX, &n);

	(void)argc;
	if (rc)
		return rc;
	rc = httpd_set_conn_limit((unsigned)n);
	if (!rc)
		sh_printf(sh, "httpd: at most %llu connections open\n", (unsigned long long)n);
	return rc;
}
SHELL_CMD("_httpd_limit", "<n>", "test: lower httpd's limit on open connections", 1, 1,
	  cmd_httpd_limit);
