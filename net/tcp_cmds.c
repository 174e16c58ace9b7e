/*
 * tcp_cmds.c — the shell's commands for TCP: tcpstat and nc.
 *
 * tcpstat lists every connection (TIME_WAIT included) and listener from
 * tcp_for_each(), then the totals of struct tcp_stats.
 *
 * nc is for people and for the system tests that move data through TCP:
 *
 *   nc [-n BYTES | -s TEXT] [-q] <host> <port>
 *   nc -l <port> [-n BYTES | -s TEXT] [-q]
 *
 * It connects (a name goes through the resolver, as ping's does) or
 * accepts one connection, sends TEXT or BYTES bytes of a repeating
 * pattern (byte i is 'a' + i % 26), shuts its sending side down, then
 * reads until the peer's FIN and prints what came, or with -q only
 * "received N bytes, crc32 XXXXXXXX, in T ms (R KiB/s)" (zlib's crc32,
 * the time from the connection's start to the end of the stream).  Every
 * wait is bounded — NC_CONNECT_NS to connect, NC_IDLE_NS without progress
 * while sending, receiving or waiting for a connection — and Ctrl-C stops
 * it (the connection is reset).  Errors read
 * "nc: connect 10.0.2.2:80: ECONNREFUSED (connection refused)".
 *
 * Only the public tcp.h and dns.h are used.  Working memory is kmalloc'd
 * (several shell sessions may run nc at once).
 */
#include "net/dns.h"
#include "net/tcp.h"
#include "errno.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "lib/crc32.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define NC_CONNECT_NS (10 * NS_PER_S)
#define NC_IDLE_NS (30 * NS_PER_S)
#define NC_BUF 16384
#define NC_BYTES_MAX (1ull << 32)

/* ------------------------------------------------------------- tcpstat */

struct stat_ctx {
	struct sh *sh;
};

static void addr_port(char *buf, size_t size, const struct ip_addr *a, u16 port, bool any)
{
	char ip[IP_STR_MAX];

	if (any)
		snprintf(buf, size, "*:%u", port);
	else
		snprintf(buf, size, "%s:%u", ip_format(a, ip), port);
}

static void stat_line(void *arg, const struct tcp_conn_info *i)
{
	struct stat_ctx *x = arg;
	char l[IP_STR_MAX + 8], r[IP_STR_MAX + 8];
	bool listen = i->state == TCP_LISTEN;

	addr_port(l, sizeof(l), &i->local, i->lport, listen);
	if (listen)
		snprintf(r, sizeof(r), "*:*");
	else
		addr_port(r, sizeof(r), &i->remote, i->rport, false);
	sh_printf(x->sh, "%-12s %-21s %-21s %7u %7u %5u.%01u/%-5u %7u %7u %6llu\n",
		  tcp_state_name(i->state), l, r, i->snd_queued, i->rcv_queued, i->srtt_us / 1000,
		  (i->srtt_us % 1000) / 100, i->rto_ms, i->cwnd, i->snd_wnd,
		  (unsigned long long)i->retransmits);
}

static int cmd_tcpstat(struct sh *sh, int argc, char **argv)
{
	struct stat_ctx x = { sh };
	struct tcp_stats st;

	(void)argc;
	(void)argv;
	sh_printf(sh, "%-12s %-21s %-21s %7s %7s %13s %7s %7s %6s\n", "state", "local", "remote",
		  "send-q", "recv-q", "srtt/rto ms", "cwnd", "wnd", "retx");
	tcp_for_each(stat_line, &x);
	tcp_get_stats(&st);
	sh_printf(sh, "segments: %llu in, %llu out; retransmits %llu (fast %llu, timeouts %llu)\n",
		  (unsigned long long)st.segs_in, (unsigned long long)st.segs_out,
		  (unsigned long long)st.retransmits, (unsigned long long)st.fast_retransmits,
		  (unsigned long long)st.rto_expiries);
	sh_printf(sh, "resets: %llu in, %llu out; no port %llu; bad checksum %llu, bad header %llu; "
		  "icmp errors %llu\n",
		  (unsigned long long)st.resets_in, (unsigned long long)st.resets_out,
		  (unsigned long long)st.no_port, (unsigned long long)st.bad_csum,
		  (unsigned long long)st.bad_hdr, (unsigned long long)st.icmp_errors);
	sh_printf(sh, "opens: %llu active, %llu passive, %llu failed; syn dropped %llu; "
		  "out of order %llu; dup acks %llu\n",
		  (unsigned long long)st.active_opens, (unsigned long long)st.passive_opens,
		  (unsigned long long)st.conn_failed, (unsigned long long)st.syn_dropped,
		  (unsigned long long)st.out_of_order, (unsigned long long)st.dup_acks);
	sh_printf(sh, "now: %u connections (%u in TIME_WAIT), %u listeners\n", st.conns,
		  st.time_wait, st.listeners);
	return sh_output_error(sh);
}
SHELL_CMD("tcpstat", "", "TCP connections and listeners (state, addresses, queues, RTT, cwnd) "
	  "and totals", 0, 0, cmd_tcpstat);

/* ------------------------------------------------------------------ nc */

struct nc_args {
	const char *host;
	u16 port;
	bool listen, quiet;
	const char *text;           /* -s */
	u64 nbytes;                 /* -n */
	bool has_n;
};

static const char *err_text(int rc)
{
	switch (rc) {
	case -ECONNREFUSED: return "connection refused";
	case -ECONNRESET: return "connection reset by peer";
	case -ECONNABORTED: return "connection aborted";
	case -ETIMEDOUT: return "timed out";
	case -EHOSTUNREACH: return "host unreachable";
	case -ENETUNREACH: return "network unreachable";
	case -EADDRNOTAVAIL: return "no local port free";
	case -EADDRINUSE: return "port in use";
	case -EINTR: return "interrupted";
	case -EPIPE: return "broken pipe";
	case -ENOMEM: return "out of memory";
	case -ENOTCONN: return "not connected";
	default: return "error";
	}
}

/* "nc: <what> <where>: ENAME (text)"; returns @rc. */
static int nc_fail(struct sh *sh, const char *what, const char *where, int rc)
{
	sh_printf(sh, "nc: %s%s%s: %s (%s)\n", what, where ? " " : "", where ? where : "",
		  errno_name(rc), err_text(rc));
	return rc;
}

static int parse_port(struct sh *sh, const char *arg, u16 *out)
{
	u64 v;
	int rc = sh_parse_uint(sh, arg, "port", 1, 65535, &v);

	if (!rc)
		*out = (u16)v;
	return rc;
}

static int nc_parse(struct sh *sh, int argc, char **argv, struct nc_args *a)
{
	const char *pos[2];
	unsigned npos = 0;
	int rc;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-q")) {
			a->quiet = true;
		} else if (!strcmp(argv[i], "-l")) {
			a->listen = true;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc && !a->has_n) {
			a->text = argv[++i];
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc && !a->text) {
			rc = sh_parse_uint(sh, argv[++i], "BYTES", 0, NC_BYTES_MAX, &a->nbytes);
			if (rc)
				return rc;
			a->has_n = true;
		} else if (argv[i][0] == '-' || npos == 2) {
			return -EINVAL;
		} else {
			pos[npos++] = argv[i];
		}
	}
	if (npos != (a->listen ? 1u : 2u))
		return -EINVAL;
	if (!a->listen)
		a->host = pos[0];
	return parse_port(sh, pos[npos - 1], &a->port);
}

/* Fill @buf with the pattern from stream offset @off. */
static void pattern(u8 *buf, u32 len, u64 off)
{
	for (u32 i = 0; i < len; i++)
		buf[i] = (u8)('a' + (off + i) % 26);
}

/*
 * Send what -s / -n asked for: 0 or the error.  @buf holds NC_BUF + 26
 * bytes: the pattern is written once, and a chunk at stream offset off
 * starts off % 26 bytes into it.
 */
static int nc_send(struct tcp_conn *c, const struct nc_args *a, u8 *buf)
{
	u64 off = 0, total = a->text ? strlen(a->text) : a->nbytes;

	if (!a->text)
		pattern(buf, NC_BUF + 26, 0);
	while (off < total) {
		u32 n = (u32)MIN(total - off, (u64)NC_BUF);
		const u8 *from = a->text ? (const u8 *)a->text + off : buf + off % 26;
		s64 got;

		got = tcp_send(c, from, n, NC_IDLE_NS);
		if (got < 0)
			return (int)got;
		off += (u64)got;
		/* Not only after a short send: a peer that reads as fast as we
		 * write leaves room in the ring, and tcp_send() never waits. */
		if (task_interrupted())
			return -EINTR;
	}
	return 0;
}

struct nc_result {
	u64 bytes;
	u32 crc;
};

/* Read until the end of the stream: 0 or the error. */
static int nc_recv(struct sh *sh, struct tcp_conn *c, const struct nc_args *a, u8 *buf,
		   struct nc_result *r)
{
	for (;;) {
		s64 got = tcp_recv(c, buf, NC_BUF, NC_IDLE_NS);

		if (got == 0)
			return 0;
		if (got < 0)
			return (int)got;
		r->bytes += (u64)got;
		r->crc = crc32_update(r->crc, buf, (size_t)got);
		if (!a->quiet && sh_write(sh, (const char *)buf, (size_t)got))
			return sh_output_error(sh);
		/*
		 * tcp_recv() sees Ctrl-C only when it has to wait.  A peer that
		 * sends faster than the console prints always has data waiting,
		 * so without this look nc would print until the peer stopped.
		 */
		if (task_interrupted())
			return -EINTR;
	}
}

static void nc_summary(struct sh *sh, const struct nc_result *r, u64 ns)
{
	u64 ms = ns / NS_PER_MS, kib_s = ns ? r->bytes * NS_PER_S / 1024 / ns : 0;

	sh_printf(sh, "received %llu bytes, crc32 %08x, in %llu ms (%llu KiB/s)\n",
		  (unsigned long long)r->bytes, r->crc, (unsigned long long)ms,
		  (unsigned long long)kib_s);
}

/* Talk over an open connection: send, shut down, read to the end.  Closes @c. */
static int nc_talk(struct sh *sh, struct tcp_conn *c, const struct nc_args *a, const char *where,
		   u64 start)
{
	struct nc_result r = { 0, 0 };
	u8 *buf = kmalloc(NC_BUF + 26);
	int rc;

	if (!buf) {
		tcp_abort(c);
		return nc_fail(sh, "buffer", NULL, -ENOMEM);
	}
	rc = nc_send(c, a, buf);
	if (rc) {
		nc_fail(sh, "send to", where, rc);
	} else {
		tcp_shutdown(c);
		rc = nc_recv(sh, c, a, buf, &r);
		if (rc)
			nc_fail(sh, "receive from", where, rc);
	}
	if (rc)
		tcp_abort(c);
	else
		tcp_close(c);
	kfree(buf);
	if (!rc && a->quiet)
		nc_summary(sh, &r, time_ns() - start);
	return rc;
}

static int nc_connect(struct sh *sh, const struct nc_args *a)
{
	char where[IP_STR_MAX + 8], ip[IP_STR_MAX];
	struct ip_addr dst;
	struct tcp_conn *c;
	u64 start = time_ns();
	int rc;

	if (ip_parse(a->host, &dst)) {
		rc = dns_resolve(a->host, &dst, DNS_TIMEOUT_NS);
		if (rc)
			return nc_fail(sh, "resolve", a->host, rc);
	}
	snprintf(where, sizeof(where), "%s:%u", ip_format(&dst, ip), a->port);
	rc = tcp_connect(&dst, a->port, NC_CONNECT_NS, &c);
	if (rc)
		return nc_fail(sh, "connect", where, rc);
	return nc_talk(sh, c, a, where, start);
}

static int nc_listen(struct sh *sh, const struct nc_args *a)
{
	char where[IP_STR_MAX + 8], ip[IP_STR_MAX];
	struct tcp_conn_info info;
	struct tcp_listener *l;
	struct tcp_conn *c;
	int rc;

	snprintf(where, sizeof(where), "port %u", a->port);
	rc = tcp_listen(a->port, 1, &l);
	if (rc)
		return nc_fail(sh, "listen on", where, rc);
	if (!a->quiet)
		sh_printf(sh, "listening on port %u\n", a->port);
	rc = tcp_accept(l, NC_IDLE_NS, &c);
	tcp_listener_close(l);
	if (rc)
		return nc_fail(sh, "accept on", where, rc);
	tcp_conn_get_info(c, &info);
	snprintf(where, sizeof(where), "%s:%u", ip_format(&info.remote, ip), info.rport);
	if (!a->quiet)
		sh_printf(sh, "connection from %s\n", where);
	return nc_talk(sh, c, a, where, time_ns());
}

static int cmd_nc(struct sh *sh, int argc, char **argv)
{
	struct nc_args a;
	int rc = nc_parse(sh, argc, argv, &a);

	if (rc)
		return rc;
	return a.listen ? nc_listen(sh, &a) : nc_connect(sh, &a);
}
SHELL_CMD("nc", "[-n BYTES | -s TEXT] [-q] <host> <port> | -l <port> [-n BYTES | -s TEXT] [-q]",
	  "TCP: connect (or accept one), send TEXT or BYTES of a pattern, then print what comes "
	  "back until EOF (-q: only its size, crc32 and rate)",
	  1, 6, cmd_nc);
