/*
 * net_cmds.c — the shell's network commands: net, arp, icmpstat, ping,
 * ifconfig.
 *
 * They read the stack through its public headers only (netdev, arp, ip,
 * icmp, netbuf) and change it only through them: `ifconfig` sets a
 * device's configuration with netdev_set_ipv4(), which also makes ARP
 * announce the address.  `ping` is the one that waits: each request waits
 * up to PING_TIMEOUT_NS for ARP and its reply (ARP gives up after ~3 s, so
 * an unreachable neighbour is reported as such), requests start a second
 * apart, and Ctrl-C ends it at once — the summary is printed anyway.  A
 * name is resolved first (net/dns.h), within DNS_TIMEOUT_NS.
 */
#include "net/arp.h"
#include "net/dns.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/net.h"
#include "net/netbuf.h"
#include "net/netdev.h"
#include "errno.h"
#include "kernel/random.h"
#include "kernel/sched.h"
#include "kernel/shell.h"
#include "kernel/time.h"
#include "lib/format.h"
#include "lib/string.h"
#include "mm/kmalloc.h"

#define NS_PER_MS 1000000ull
#define PING_TIMEOUT_NS (4000 * NS_PER_MS)
#define PING_INTERVAL_NS (1000 * NS_PER_MS)
#define PING_DATA 56
#define PING_COUNT_DEFAULT 4
#define PING_COUNT_MAX 100000

static const char *cfg_source_name(enum net_cfg_source s)
{
	switch (s) {
	case NET_CFG_STATIC: return "static";
	case NET_CFG_DHCP: return "dhcp";
	default: return "none";
	}
}

/* ------------------------------------------------------------------ net */

static void net_show_ipv4(struct sh *sh, struct netdev *dev)
{
	struct netdev_ipv4 c;
	char a[IP_STR_MAX];

	netdev_get_ipv4(dev, &c);
	if (!ip_is_v4(&c.addr)) {
		sh_printf(sh, "  ipv4 none (config %s)\n", cfg_source_name(c.source));
		return;
	}
	sh_printf(sh, "  ipv4 %s/%u", ip_format(&c.addr, a), c.prefix);
	sh_printf(sh, ", gateway %s", ip_is_v4(&c.gw) ? ip_format(&c.gw, a) : "none");
	sh_printf(sh, ", dns");
	if (!ip_is_v4(&c.dns[0]))
		sh_printf(sh, " none");
	for (unsigned i = 0; i < NETDEV_DNS_MAX; i++)
		if (ip_is_v4(&c.dns[i]))
			sh_printf(sh, " %s", ip_format(&c.dns[i], a));
	sh_printf(sh, " (config %s)\n", cfg_source_name(c.source));
}

static void net_show_counters(struct sh *sh, const char *what, const struct net_counters *c)
{
	sh_printf(sh, "  %-8s %10llu %12llu %8llu %8llu\n", what,
		  (unsigned long long)c->packets, (unsigned long long)c->bytes,
		  (unsigned long long)c->drops, (unsigned long long)c->errors);
}

/* "eth0: MAC ..., MTU 1500, link up" and the IPv4 line: `net` and `ifconfig <dev>`. */
static void net_show_head(struct sh *sh, struct netdev *dev)
{
	char mac[MAC_STR_MAX];

	sh_printf(sh, "%s: MAC %s, MTU %u, link %s\n", dev->name, mac_format(&dev->mac, mac),
		  netdev_mtu(dev), __atomic_load_n(&dev->link_up, __ATOMIC_RELAXED) ? "up" : "down");
	net_show_ipv4(sh, dev);
}

static void net_show_dev(struct sh *sh, struct netdev *dev)
{
	const struct netdev_stats *st = &dev->stats;
	char name[16];

	net_show_head(sh, dev);
	sh_printf(sh, "  %-8s %10s %12s %8s %8s\n", "", "packets", "bytes", "drops", "errors");
	net_show_counters(sh, "rx", &st->rx);
	net_show_counters(sh, "tx", &st->tx);
	for (int p = 0; p < NP_COUNT; p++) {
		snprintf(name, sizeof(name), "%s rx", net_proto_name((enum net_proto)p));
		net_show_counters(sh, name, &st->proto_rx[p]);
		snprintf(name, sizeof(name), "%s tx", net_proto_name((enum net_proto)p));
		net_show_counters(sh, name, &st->proto_tx[p]);
	}
}

static void net_show_stack(struct sh *sh)
{
	struct nb_pool_stats nb;
	struct ip_stats ip;

	nb_pool_stats(&nb);
	ip_get_stats(&ip);
	sh_printf(sh, "netbufs: %u in use, %u cached, %u of %u made; %llu allocations, %llu failed\n",
		  nb.in_use, nb.cached, nb.total, NB_POOL_MAX, (unsigned long long)nb.allocs,
		  (unsigned long long)nb.fails);
	sh_printf(sh, "ipv4 in: %llu delivered, %llu bad headers, %llu fragments dropped, "
		  "%llu not ours, %llu martians, %llu no protocol\n",
		  (unsigned long long)ip.rx_delivered, (unsigned long long)ip.rx_hdr_errors,
		  (unsigned long long)ip.rx_frags, (unsigned long long)ip.rx_not_ours,
		  (unsigned long long)ip.rx_martians, (unsigned long long)ip.rx_no_proto);
	sh_printf(sh, "ipv4 out: %llu sent, %llu to ourselves, %llu no route, %llu too big, "
		  "%llu other errors\n",
		  (unsigned long long)ip.tx_packets, (unsigned long long)ip.tx_looped,
		  (unsigned long long)ip.tx_no_route, (unsigned long long)ip.tx_too_big,
		  (unsigned long long)ip.tx_errors);
}

static int cmd_net(struct sh *sh, int argc, char **argv)
{
	if (!netdev_count())
		sh_printf(sh, "no network devices\n");
	for (unsigned i = 0; i < netdev_count() && !sh_output_error(sh); i++)
		net_show_dev(sh, netdev_at(i));
	net_show_stack(sh);
	return sh_output_error(sh);
}
SHELL_CMD("net", "", "network devices: MAC, link, IPv4 configuration, counters", 0, 0, cmd_net);

/* ------------------------------------------------------------------ arp */

static const char *arp_state_name(enum arp_state s)
{
	switch (s) {
	case ARP_PENDING: return "pending";
	case ARP_RESOLVED: return "resolved";
	case ARP_FAILED: return "failed";
	default: return "?";
	}
}

static void arp_show_entry(struct sh *sh, const struct arp_entry_info *e)
{
	char ip[IP_STR_MAX], mac[MAC_STR_MAX];
	u64 ms = e->age_ns / NS_PER_MS;

	sh_printf(sh, "%-6s %-15s %-17s %-8s %5llu.%01llu s", e->dev->name, ip_format(&e->ip, ip),
		  e->state == ARP_RESOLVED ? mac_format(&e->mac, mac) : "-",
		  arp_state_name(e->state), (unsigned long long)(ms / 1000),
		  (unsigned long long)(ms % 1000 / 100));
	if (e->state == ARP_PENDING)
		sh_printf(sh, ", %u queued", e->queued);
	sh_printf(sh, "\n");
}

static void arp_show_stats(struct sh *sh)
{
	struct arp_stats s;

	arp_get_stats(&s);
	sh_printf(sh, "requests %llu sent, %llu received; replies %llu sent, %llu received; "
		  "%llu resolved, %llu gave up, %llu frames dropped, %llu conflicts\n",
		  (unsigned long long)s.requests_tx, (unsigned long long)s.requests_rx,
		  (unsigned long long)s.replies_tx, (unsigned long long)s.replies_rx,
		  (unsigned long long)s.resolved, (unsigned long long)s.failed,
		  (unsigned long long)s.queue_drops, (unsigned long long)s.conflicts);
}

static int cmd_arp(struct sh *sh, int argc, char **argv)
{
	struct arp_entry_info *e;
	unsigned n;

	if (argc == 2) {
		if (strcmp(argv[1], "flush"))
			return -EINVAL;
		arp_flush();
		sh_printf(sh, "arp cache flushed\n");
		return 0;
	}
	e = kmalloc(ARP_CACHE_SIZE * sizeof(*e));
	if (!e) {
		sh_error(sh, "out of memory");
		return -ENOMEM;
	}
	n = MIN(arp_snapshot(e, ARP_CACHE_SIZE), ARP_CACHE_SIZE);
	if (!n)
		sh_printf(sh, "arp cache empty\n");
	else
		sh_printf(sh, "%-6s %-15s %-17s %-8s %7s\n", "dev", "address", "MAC", "state", "age");
	for (unsigned i = 0; i < n && !sh_output_error(sh); i++)
		arp_show_entry(sh, &e[i]);
	kfree(e);
	arp_show_stats(sh);
	return sh_output_error(sh);
}
SHELL_CMD("arp", "[flush]", "the ARP cache and counters; flush: forget every entry", 0, 1, cmd_arp);

/* ------------------------------------------------------------- icmpstat */

static const char *icmp_type_name(unsigned t)
{
	switch (t) {
	case ICMP_ECHO_REPLY: return "echo reply";
	case ICMP_DEST_UNREACH: return "destination unreachable";
	case 4: return "source quench";
	case 5: return "redirect";
	case ICMP_ECHO_REQUEST: return "echo request";
	case 9: return "router advertisement";
	case 10: return "router solicitation";
	case ICMP_TIME_EXCEEDED: return "time exceeded";
	case 12: return "parameter problem";
	case 13: return "timestamp";
	case 14: return "timestamp reply";
	case ICMP_TYPES: return "other";
	default: return NULL;
	}
}

static int cmd_icmpstat(struct sh *sh, int argc, char **argv)
{
	struct icmp_stats s;

	icmp_get_stats(&s);
	sh_printf(sh, "%-4s %-24s %10s %10s\n", "type", "", "received", "sent");
	for (unsigned t = 0; t <= ICMP_TYPES; t++) {
		const char *name = icmp_type_name(t);
		bool always = t == ICMP_ECHO_REPLY || t == ICMP_ECHO_REQUEST || t == ICMP_DEST_UNREACH;

		if (!always && !s.rx[t] && !s.tx[t])
			continue;
		if (t == ICMP_TYPES)
			sh_printf(sh, "%-4s ", ">18");
		else
			sh_printf(sh, "%-4u ", t);
		sh_printf(sh, "%-24s %10llu %10llu\n", name ? name : "", (unsigned long long)s.rx[t],
			  (unsigned long long)s.tx[t]);
	}
	sh_printf(sh, "%llu malformed received, %llu errors not sent (rate limit), "
		  "%llu echo requests not answered (broadcast, no address), %llu replies matched\n",
		  (unsigned long long)s.rx_errors, (unsigned long long)s.rate_limited,
		  (unsigned long long)s.echo_unanswered, (unsigned long long)s.replies_matched);
	return sh_output_error(sh);
}
SHELL_CMD("icmpstat", "", "ICMP messages received and sent, by type", 0, 0, cmd_icmpstat);

/* ----------------------------------------------------------------- ping */

struct ping_tally {
	unsigned sent, received;
	u64 min_ns, max_ns, sum_ns;
};

/* "0.412" for 412 µs: milliseconds with three decimals. */
static void fmt_ms(char *buf, size_t size, u64 ns)
{
	u64 us = (ns + 500) / 1000;

	snprintf(buf, size, "%llu.%03llu", (unsigned long long)(us / 1000),
		 (unsigned long long)(us % 1000));
}

static void ping_summary(struct sh *sh, const struct ping_tally *t)
{
	char mn[24], av[24], mx[24];
	unsigned loss = t->sent ? (t->sent - t->received) * 100 / t->sent : 0;

	sh_printf(sh, "%u sent, %u received, %u%% loss", t->sent, t->received, loss);
	if (t->received) {
		fmt_ms(mn, sizeof(mn), t->min_ns);
		fmt_ms(av, sizeof(av), t->sum_ns / t->received);
		fmt_ms(mx, sizeof(mx), t->max_ns);
		sh_printf(sh, ", rtt min/avg/max = %s/%s/%s ms", mn, av, mx);
	}
	sh_printf(sh, "\n");
}

/* Report one request's outcome; false when pinging on makes no sense. */
static bool ping_report(struct sh *sh, const struct ip_addr *dst, unsigned seq, int rc, u64 rtt,
			struct ping_tally *t)
{
	char a[IP_STR_MAX], ms[24];

	ip_format(dst, a);
	if (rc == -EINTR)
		return false;
	t->sent++;
	switch (rc) {
	case 0:
		t->received++;
		t->min_ns = t->received == 1 ? rtt : MIN(t->min_ns, rtt);
		t->max_ns = MAX(t->max_ns, rtt);
		t->sum_ns += rtt;
		fmt_ms(ms, sizeof(ms), rtt);
		sh_printf(sh, "%u bytes from %s: seq=%u time=%s ms\n", PING_DATA + ICMP_HLEN, a, seq, ms);
		return true;
	case -ETIMEDOUT:
		sh_printf(sh, "no reply from %s: seq=%u (timed out)\n", a, seq);
		return true;
	case -EHOSTUNREACH:
		sh_printf(sh, "from %s: seq=%u host unreachable\n", a, seq);
		return true;
	case -ENETUNREACH:
		sh_printf(sh, "%s: network unreachable (no route: see ifconfig)\n", a);
		return false;
	default:
		sh_printf(sh, "%s: seq=%u: %s\n", a, seq, errno_name(rc));
		return rc == -ENOBUFS || rc == -EBUSY;
	}
}

static const char *dns_err_text(int rc)
{
	switch (rc) {
	case -ENOENT: return "no such name";
	case -ENODATA: return "the name has no IPv4 address";
	case -ETIMEDOUT: return "no DNS server answered";
	case -ENXIO: return "no DNS server configured";
	case -EOPNOTSUPP: return "name lookups are off (dns=off)";
	case -EINVAL: return "not an IPv4 address or a valid name";
	case -EINTR: return "interrupted";
	default: return errno_name(rc);
	}
}

/* @arg as an address: a dotted quad, or a name through the resolver. */
static int ping_target(struct sh *sh, const char *arg, struct ip_addr *dst)
{
	int rc;

	if (!ip_parse(arg, dst))
		return 0;
	rc = dns_resolve(arg, dst, DNS_TIMEOUT_NS);
	if (rc)
		sh_error(sh, "'%s': %s", arg, dns_err_text(rc));
	return rc;
}

static int cmd_ping(struct sh *sh, int argc, char **argv)
{
	struct ping_tally t = { 0 };
	struct ip_addr dst;
	char a[IP_STR_MAX];
	u64 count = PING_COUNT_DEFAULT, interval_ms = PING_INTERVAL_NS / 1000000;
	u16 id = (u16)random_u32();
	int rc = 0;

	rc = ping_target(sh, argv[1], &dst);
	if (rc)
		return rc == -EINVAL ? -EPERM : rc;
	if (argc > 2 && (rc = sh_parse_uint(sh, argv[2], "count", 1, PING_COUNT_MAX, &count)))
		return rc;
	if (argc > 3 && (rc = sh_parse_uint(sh, argv[3], "interval", 0, 60000, &interval_ms)))
		return rc;
	if (strcmp(argv[1], ip_format(&dst, a)))
		sh_printf(sh, "PING %s (%s): %u data bytes\n", argv[1], a, PING_DATA);
	else
		sh_printf(sh, "PING %s: %u data bytes\n", a, PING_DATA);
	for (unsigned seq = 1; seq <= count; seq++) {
		u64 start = time_ns(), rtt = 0, spent;

		rc = icmp_ping(&dst, id, (u16)seq, PING_DATA, PING_TIMEOUT_NS, &rtt);
		if (!ping_report(sh, &dst, seq, rc, rtt, &t) || sh_output_error(sh))
			break;
		rc = 0;
		spent = time_ns() - start;
		if (seq < count && spent < interval_ms * 1000000 &&
		    (rc = sched_sleep_interruptible(interval_ms * 1000000 - spent)))
			break;
	}
	ping_summary(sh, &t);
	if (rc == -EINTR || sh_output_error(sh))
		return rc == -EINTR ? rc : sh_output_error(sh);
	return t.received ? 0 : -EHOSTUNREACH;
}
SHELL_CMD("ping", "<ip|name> [count] [interval ms]",
	  "ICMP echo: RTT of each reply, then loss and min/avg/max (default 4, 1000 ms apart; "
	  "Ctrl-C stops)",
	  1, 3, cmd_ping);

/* ------------------------------------------------------------- ifconfig */

static int ifconfig_set(struct sh *sh, struct netdev *dev, int argc, char **argv)
{
	struct netdev_ipv4 cfg;
	const char *why = NULL;
	char spec[3 * IP_STR_MAX + 8];
	int n;

	if (!strcmp(argv[2], "none")) {
		if (argc > 3)
			return -EINVAL;
		memset(&cfg, 0, sizeof(cfg));
		netdev_set_ipv4(dev, &cfg);
		sh_printf(sh, "%s: address removed\n", dev->name);
		return 0;
	}
	n = snprintf(spec, sizeof(spec), "%s%s%s", argv[2], argc > 3 ? "," : "",
		     argc > 3 ? argv[3] : "");
	if (n < 0 || (size_t)n >= sizeof(spec) || net_parse_static(spec, &cfg, &why)) {
		sh_error(sh, "%s: %s", argv[2], why ? why : "too long");
		return -EPERM;
	}
	netdev_set_ipv4(dev, &cfg);
	net_show_ipv4(sh, dev);
	return 0;
}

static int cmd_ifconfig(struct sh *sh, int argc, char **argv)
{
	struct netdev *dev = netdev_find(argv[1]);

	if (!dev) {
		sh_error(sh, "'%s': no such network device (see net)", argv[1]);
		return -ENODEV;
	}
	if (argc == 2) {
		net_show_head(sh, dev);
		return 0;
	}
	return ifconfig_set(sh, dev, argc, argv);
}
SHELL_CMD("ifconfig", "<dev> [<addr>/<len> [gw] | none]",
	  "show or set a device's static IPv4 address, prefix and gateway", 1, 3, cmd_ifconfig);
