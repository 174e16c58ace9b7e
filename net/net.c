/*
 * net.c — start-up of the network stack, and the static configuration
 * parser that the `ip=` parameter and `ifconfig` share (see net.h).
 *
 * Order matters only once: the protocols must be ready before the first
 * frame can arrive, so net_init() runs before PCI probes the NICs and
 * registers the link-layer input last.  net_start() runs once the drivers
 * have registered their devices; it is where the kernel parameters are
 * applied.
 */
#include "net/net.h"
#include "net/arp.h"
#include "net/dhcp.h"
#include "net/dns.h"
#include "net/eth.h"
#include "net/icmp.h"
#include "net/ip.h"
#include "net/net_priv.h"
#include "net/tcp.h"
#include "net/udp.h"
#include "net/udpshell.h"
#include "errno.h"
#include "kernel/params.h"
#include "kernel/printk.h"
#include "lib/string.h"

void net_init(void)
{
	arp_init();
	ip_init();
	icmp_init();
	udp_init();
	tcp_init();
	dhcp_init();
	netdev_set_input(eth_input);
}

void net_start(void)
{
	pr_info("net: %u device%s", netdev_count(), netdev_count() == 1 ? "" : "s");
	/*
	 * ---- kernel parameters: ip=, dhcp=, dns=, udpshell=, udpshell.key= ----
	 * Applied here, to the devices just registered.  A static `ip=` goes
	 * through net_parse_static(); it wins over DHCP on the device it
	 * configures.  The parameters are read only in the kernel (the host
	 * tests call dns_set_enabled() and dhcp_boot() themselves).
	 */
#ifdef NOS_KERNEL
	dns_set_enabled(!param_is("dns", "off"));
	dhcp_boot(param_get("ip"), param_get("dhcp"));
	udpshell_boot(param_get("udpshell"), param_get("udpshell.key"));
#endif
}

/* Copy the text up to @stop (or the end) of *@s into @buf; advance past @stop. */
static bool take_field(const char **s, char stop, char *buf, size_t size)
{
	const char *end = strchr(*s, stop);
	size_t n = end ? (size_t)(end - *s) : strlen(*s);

	if (n >= size)
		return false;
	memcpy(buf, *s, n);
	buf[n] = '\0';
	*s += n + (end ? 1 : 0);
	return true;
}

static int refuse(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

static int parse_prefix(const char *s, u8 *out)
{
	unsigned v = 0;

	if (!*s || strlen(s) > 2)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
	}
	if (v < 1 || v > 32)
		return -EINVAL;
	*out = (u8)v;
	return 0;
}

static bool unicast_v4(u32 a)
{
	return a && a != IP_BROADCAST && !ip_v4_is_multi(a) && !ip_v4_is_loopback(a);
}

/* The checks net.h lists, on a parsed configuration; NULL when it is good. */
static const char *static_check(const struct netdev_ipv4 *c)
{
	u32 mask = ip_v4_mask(c->prefix), a = c->addr.v4;

	if (!unicast_v4(a))
		return "address is not a unicast address";
	if (c->prefix <= 30 && ((a & ~mask) == 0 || (a & ~mask) == ~mask))
		return "address is the subnet's network or broadcast address";
	if (ip_is_v4(&c->gw) && (!unicast_v4(c->gw.v4) || (c->gw.v4 & mask) != (a & mask)))
		return "gateway not on the subnet";
	if (ip_is_v4(&c->gw) && c->gw.v4 == a)
		return "gateway is the address itself";
	if (ip_is_v4(&c->dns[0]) && !unicast_v4(c->dns[0].v4))
		return "DNS server is not a unicast address";
	return NULL;
}

static int parse_fields(const char *s, struct netdev_ipv4 *c, const char **why)
{
	char buf[IP_STR_MAX];

	if (!take_field(&s, '/', buf, sizeof(buf)) || ip_parse(buf, &c->addr))
		return refuse(why, "bad address (want a.b.c.d/len)");
	if (!take_field(&s, ',', buf, sizeof(buf)) || parse_prefix(buf, &c->prefix))
		return refuse(why, "bad prefix length (want 1-32)");
	if (*s && (!take_field(&s, ',', buf, sizeof(buf)) || ip_parse(buf, &c->gw)))
		return refuse(why, "bad gateway address");
	if (*s && (!take_field(&s, ',', buf, sizeof(buf)) || ip_parse(buf, &c->dns[0]) || *s))
		return refuse(why, "bad DNS server address");
	return 0;
}

int net_parse_static(const char *spec, struct netdev_ipv4 *out, const char **why)
{
	struct netdev_ipv4 c;
	const char *dummy;
	int rc;

	if (!why)
		why = &dummy;
	memset(&c, 0, sizeof(c));
	if (!spec || !strchr(spec, '/'))
		return refuse(why, "want <addr>/<len>[,<gw>[,<dns>]]");
	rc = parse_fields(spec, &c, why);
	if (rc)
		return rc;
	*why = static_check(&c);
	if (*why)
		return -EINVAL;
	c.source = NET_CFG_STATIC;
	*out = c;
	return 0;
}
