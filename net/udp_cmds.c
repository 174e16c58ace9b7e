/*
 * udp_cmds.c — the shell's commands for UDP, DHCP and DNS: udpsend, dhcp,
 * nslookup, dnsflush, and the hidden _udpsink that tests count datagrams
 * with.
 *
 * They use only the public headers (udp.h, dhcp.h, dns.h, netdev.h).  The
 * two that wait — `dhcp` for a lease, `nslookup` for an answer — wait
 * interruptibly and bounded (DHCP_WAIT_NS; the resolver's DNS_TIMEOUT_NS),
 * and Ctrl-C only stops the waiting: a DHCP client keeps trying in the
 * background, as it would after boot.  `nslookup` always asks a server
 * (like its namesake), so it shows the CNAME chain and how long the server
 * took; the answer still goes into the cache that `ping <name>` and other
 * lookups read.
 *
 * The sink is one kernel-wide object (a counting handler on one port), so
 * its state is file-level, guarded by the "udpsink" mutex between the
 * commands that open, show and close it; the handler only bumps atomic
 * counters.
 */
#include "net/dhcp.h"
#include "net/dhcp_msg.h"
#include "net/dns.h"
#include "net/netdev.h"
#include "net/udp.h"
#include "errno.h"
#include "kernel/mutex.h"
#include "kernel/shell.h"
#include "kernel/shell_parse.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define DHCP_WAIT_NS (10 * NS_PER_S)

/* "12.345" ms from @ns. */
static void fmt_ms(char *buf, size_t size, u64 ns)
{
	u64 us = (ns + 500) / 1000;

	snprintf(buf, size, "%llu.%03llu", (unsigned long long)(us / 1000),
		 (unsigned long long)(us % 1000));
}

/* Why a lookup failed, for people. */
static const char *lookup_why(int rc)
{
	switch (rc) {
	case -ENOENT: return "NXDOMAIN (no such name)";
	case -ENODATA: return "the name has no IPv4 address (no A record)";
	case -ETIMEDOUT: return "no answer from the DNS servers (timed out)";
	case -EIO: return "the DNS server failed (SERVFAIL, REFUSED or a truncated answer)";
	case -ENXIO: return "no DNS server configured (DHCP gives one, or ip=...,<dns>)";
	case -EOPNOTSUPP: return "DNS is off (dns=off)";
	case -EINVAL: return "not a valid host name";
	case -ENETUNREACH: return "network unreachable (no route to the DNS server)";
	default: return errno_name(rc);
	}
}

/* ------------------------------------------------------------ udpsend */

/* argv[3..] joined by single spaces into @buf (@cap bytes): the length, or -EMSGSIZE. */
static long join_words(char *buf, size_t cap, int argc, char **argv)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 3; i < argc; i++) {
		n = strlcat(buf, argv[i], cap);
		if (i + 1 < argc)
			n = strlcat(buf, " ", cap);
		if (n >= cap)
			return -EMSGSIZE;
	}
	return (long)n;
}

static int udpsend_to(struct sh *sh, const struct ip_addr *dst, u16 port, const char *msg,
		      size_t len)
{
	struct udp_sock *s;
	char a[IP_STR_MAX];
	int rc = udp_open(0, 1, &s);

	if (rc) {
		sh_printf(sh, "udpsend: no socket: %s\n", errno_name(rc));
		return rc;
	}
	rc = udp_sendto_bytes(s, dst, port, msg, len);
	if (!rc)
		sh_printf(sh, "sent %zu bytes to %s:%u from port %u\n", len, ip_format(dst, a), port,
			  udp_port(s));
	else
		sh_printf(sh, "udpsend: %s:%u: %s\n", ip_format(dst, a), port,
			  rc == -ENETUNREACH ? "network unreachable (no route)" : errno_name(rc));
	udp_close(s);
	return rc;
}

static int cmd_udpsend(struct sh *sh, int argc, char **argv)
{
	struct ip_addr dst;
	char *msg;
	long len;
	u64 port;
	int rc;

	rc = sh_parse_uint(sh, argv[2], "port", 1, 65535, &port);
	if (rc)
		return rc;
	rc = dns_resolve(argv[1], &dst, 0);
	if (rc == -EINTR)
		return rc;
	if (rc) {
		sh_printf(sh, "udpsend: %s: %s\n", argv[1], lookup_why(rc));
		return rc;
	}
	msg = kmalloc(UDP_PAYLOAD_MAX + 1);
	if (!msg)
		return -ENOMEM;
	len = join_words(msg, UDP_PAYLOAD_MAX + 1, argc, argv);
	rc = len < 0 ? sh_error(sh, "message longer than %u bytes", UDP_PAYLOAD_MAX)
		     : udpsend_to(sh, &dst, (u16)port, msg, (size_t)len);
	kfree(msg);
	return rc;
}
SHELL_CMD("udpsend", "<ip|name> <port> <message...>",
	  "send one UDP datagram (the words joined by spaces) from an ephemeral port", 3,
	  SHELL_ARGV_MAX - 1, cmd_udpsend);

/* --------------------------------------------------------------- dhcp */

static void show_lease(struct sh *sh, struct netdev *dev, const struct dhcp_info *in)
{
	char a[IP_STR_MAX], g[IP_STR_MAX], s[IP_STR_MAX], d[IP_STR_MAX];

	sh_printf(sh, "%s: %s %s/%u gw %s dns", dev->name, dhcp_state_name(in->state),
		  ip_format(&in->addr, a), in->prefix,
		  ip_is_v4(&in->gw) ? ip_format(&in->gw, g) : "none");
	if (!in->ndns)
		sh_printf(sh, " none");
	for (unsigned i = 0; i < in->ndns; i++)
		sh_printf(sh, "%s%s", i ? "," : " ", ip_format(&in->dns[i], d));
	sh_printf(sh, " server %s\n", ip_format(&in->server, s));
	if (in->lease_s == DHCP_LEASE_INFINITE) {
		sh_printf(sh, "  lease infinite\n");
		return;
	}
	sh_printf(sh, "  lease %u s: renew (T1) in %llu s, rebind (T2) in %llu s, expires in %llu s\n",
		  in->lease_s, (unsigned long long)(in->t1_in_ns / NS_PER_S),
		  (unsigned long long)(in->t2_in_ns / NS_PER_S),
		  (unsigned long long)(in->expiry_in_ns / NS_PER_S));
}

static bool leased(enum dhcp_state s)
{
	return s == DHCP_BOUND || s == DHCP_RENEWING || s == DHCP_REBINDING;
}

static int dhcp_wait_report(struct sh *sh, struct netdev *dev)
{
	struct dhcp_info in;
	int rc = dhcp_wait_bound(dev, DHCP_WAIT_NS);

	if (rc == -EINTR)
		return rc;
	dhcp_get_info(dev, &in);
	if (!rc && leased(in.state)) {
		show_lease(sh, dev, &in);
		return 0;
	}
	if (rc == -ETIMEDOUT)
		sh_printf(sh, "dhcp: %s: no lease after %llu s (%s, still trying in the background)\n",
			  dev->name, DHCP_WAIT_NS / NS_PER_S, dhcp_state_name(in.state));
	else
		sh_printf(sh, "dhcp: %s: %s\n", dev->name, errno_name(rc));
	return rc ? rc : -EAGAIN;
}

static int cmd_dhcp(struct sh *sh, int argc, char **argv)
{
	struct netdev *dev = argc > 1 ? netdev_find(argv[1]) : netdev_default();
	struct dhcp_info in;
	int rc;

	if (!dev && argc > 1)
		return sh_error(sh, "no device '%s' (see 'net')", argv[1]);
	if (!dev) {
		sh_printf(sh, "dhcp: no network device\n");
		return -ENODEV;
	}
	if (dhcp_get_mode() == DHCP_MODE_OFF) {
		sh_printf(sh, "dhcp: disabled by the kernel parameter dhcp=off\n");
		return -EPERM;
	}
	dhcp_get_info(dev, &in);
	if (leased(in.state)) {
		show_lease(sh, dev, &in);
		return 0;
	}
	if (!__atomic_load_n(&dev->link_up, __ATOMIC_RELAXED))
		sh_printf(sh, "dhcp: %s: the link is down; asking anyway\n", dev->name);
	rc = dhcp_start(dev);
	if (rc) {
		sh_printf(sh, "dhcp: %s: %s\n", dev->name, errno_name(rc));
		return rc;
	}
	return dhcp_wait_report(sh, dev);
}
SHELL_CMD("dhcp", "[dev]",
	  "show the DHCP lease, or ask for one and wait up to 10 s (Ctrl-C stops waiting)", 0, 1,
	  cmd_dhcp);

/* ----------------------------------------------------------- nslookup */

static void nslookup_show(struct sh *sh, const char *name, const struct dns_result *r, u64 ns)
{
	char a[IP_STR_MAX], ms[24];

	fmt_ms(ms, sizeof(ms), ns);
	if (ip_is_v4(&r->server))
		sh_printf(sh, "server:  %s\n", ip_format(&r->server, a));
	sh_printf(sh, "name:    %s\n", name);
	for (unsigned i = 0; i < r->ncnames; i++)
		sh_printf(sh, "cname:   %s\n", r->cnames[i]);
	for (unsigned i = 0; i < r->naddrs; i++)
		sh_printf(sh, "address: %s\n", ip_format(&r->addrs[i], a));
	sh_printf(sh, "ttl %u s, %s ms\n", r->ttl, ms);
}

static int cmd_nslookup(struct sh *sh, int argc, char **argv)
{
	struct dns_result *r = kmalloc(sizeof(*r));
	u64 start = time_ns();
	char ms[24];
	int rc;

	if (!r)
		return -ENOMEM;
	rc = dns_lookup(argv[1], r, 0, DNS_F_NOCACHE);
	if (!rc) {
		nslookup_show(sh, argv[1], r, time_ns() - start);
	} else if (rc != -EINTR) {
		fmt_ms(ms, sizeof(ms), time_ns() - start);
		sh_printf(sh, "nslookup: %s: %s", argv[1], lookup_why(rc));
		for (unsigned i = 0; i < r->ncnames; i++)
			sh_printf(sh, "%s%s", i ? " -> " : " (via ", r->cnames[i]);
		sh_printf(sh, "%s, %s ms\n", r->ncnames ? ")" : "", ms);
	}
	kfree(r);
	return rc;
}
SHELL_CMD("nslookup", "<name>",
	  "ask the DNS server for a name's IPv4 addresses: CNAME chain, NXDOMAIN, time taken", 1,
	  1, cmd_nslookup);

static int cmd_dnsflush(struct sh *sh, int argc, char **argv)
{
	struct dns_stats st;

	dns_get_stats(&st);
	dns_flush();
	sh_printf(sh, "dns: cache flushed (%u entr%s)\n", st.cached, st.cached == 1 ? "y" : "ies");
	return 0;
}
SHELL_CMD("dnsflush", "", "forget every cached DNS answer", 0, 0, cmd_dnsflush);

/* ------------------------------------------------------------ udpsink */

/* Legend: [m] sink.lock; [a] atomic. */
static struct {
	struct mutex lock;
	bool ready;                 /* [m] lock initialised (first use, under no lock: see below) */
	struct udp_sock *sock;      /* [m] */
	u64 datagrams, bytes;       /* [a] */
} sink;

static void sink_input(void *arg, struct netbuf *nb, const struct udp_meta *from)
{
	__atomic_fetch_add(&sink.datagrams, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sink.bytes, nb->len, __ATOMIC_RELAXED);
	nb_put(nb);
}

static void sink_show(struct sh *sh)
{
	sh_printf(sh, "udpsink: port %u: %llu datagrams, %llu bytes\n",
		  sink.sock ? udp_port(sink.sock) : 0,
		  (unsigned long long)__atomic_load_n(&sink.datagrams, __ATOMIC_RELAXED),
		  (unsigned long long)__atomic_load_n(&sink.bytes, __ATOMIC_RELAXED));
}

static int sink_open(struct sh *sh, const char *arg)
{
	u64 port;
	int rc = sh_parse_uint(sh, arg, "port", 1, 65535, &port);

	if (rc)
		return rc;
	udp_close(sink.sock);
	sink.sock = NULL;
	__atomic_store_n(&sink.datagrams, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sink.bytes, 0, __ATOMIC_RELAXED);
	rc = udp_bind((u16)port, sink_input, NULL, &sink.sock);
	if (rc) {
		sh_printf(sh, "_udpsink: port %llu: %s\n", (unsigned long long)port, errno_name(rc));
		return rc;
	}
	sink_show(sh);
	return 0;
}

static int cmd_udpsink(struct sh *sh, int argc, char **argv)
{
	static spinlock_t once = SPINLOCK_INIT("udpsink init");
	int rc = 0;

	spin_lock(&once);
	if (!sink.ready) {
		mutex_init(&sink.lock, "udpsink");
		sink.ready = true;
	}
	spin_unlock(&once);
	mutex_lock(&sink.lock);
	if (argc < 2)
		sink_show(sh);
	else if (!strcmp(argv[1], "off")) {
		sink_show(sh);
		udp_close(sink.sock);
		sink.sock = NULL;
	} else
		rc = sink_open(sh, argv[1]);
	mutex_unlock(&sink.lock);
	return rc;
}
SHELL_CMD("_udpsink", "[<port>|off]",
	  "test helper: count the datagrams arriving on a port (no argument: show the count)", 0, 1,
	  cmd_udpsink);
