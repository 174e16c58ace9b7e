/*
 * ip_route.c — where an IPv4 packet goes (see ip.h).
 *
 * There is no routing table: each device's configuration (address,
 * prefix, gateway) is its routes — its subnet on-link, and its gateway as a
 * default route.  A destination on several devices' subnets goes by the
 * longest prefix; one on none goes to the gateway of the first device
 * that has one.  The subnet's broadcast address (for prefixes up to /30)
 * and 255.255.255.255 leave as link broadcasts; one of our own addresses
 * is "local" (ip_output loops it back).  Unroutable by design: 0.0.0.0,
 * multicast (no IGMP here), 127.0.0.0/8 (no loopback device).
 *
 * Every lookup reads each device's configuration through netdev_get_ipv4()
 * (a consistent copy under its sequence count); no lock of our own.  A device
 * whose link is down still routes: the frame is refused further down.
 */
#include "net/ip.h"
#include "net/net_priv.h"
#include "errno.h"

/* How @dst relates to a device configured with @cfg. */
enum ip_match { M_NONE, M_GATEWAY, M_SUBNET, M_BCAST, M_LOCAL };

static enum ip_match ip_match(const struct netdev_ipv4 *cfg, u32 dst)
{
	u32 mask, addr;

	if (!ip_is_v4(&cfg->addr))
		return M_NONE;
	addr = cfg->addr.v4;
	mask = ip_v4_mask(cfg->prefix);
	if (dst == addr)
		return M_LOCAL;
	if (cfg->prefix <= 30 && dst == (addr | ~mask))
		return M_BCAST;
	if ((dst & mask) == (addr & mask))
		return M_SUBNET;
	return ip_is_v4(&cfg->gw) ? M_GATEWAY : M_NONE;
}

static void ip_route_fill(struct ip_route *out, struct netdev *dev, const struct netdev_ipv4 *cfg,
			  enum ip_match m, u32 dst)
{
	out->dev = dev;
	out->src = ip_is_v4(&cfg->addr) ? cfg->addr : ip_v4(0);
	out->nexthop = m == M_GATEWAY ? cfg->gw : ip_v4(dst);
	out->broadcast = m == M_BCAST || dst == IP_BROADCAST;
	out->local = m == M_LOCAL;
}

static bool ip_routable(u32 dst)
{
	return dst && !ip_v4_is_loopback(dst) && (!ip_v4_is_multi(dst) || dst == IP_BROADCAST);
}

int ip_route_dev(struct netdev *dev, const struct ip_addr *dst, struct ip_route *out)
{
	struct netdev_ipv4 cfg;
	enum ip_match m;

	if (!dev || !ip_is_v4(dst) || !ip_routable(dst->v4))
		return -ENETUNREACH;
	netdev_get_ipv4(dev, &cfg);
	m = dst->v4 == IP_BROADCAST ? M_BCAST : ip_match(&cfg, dst->v4);
	if (m == M_NONE)
		return -ENETUNREACH;
	ip_route_fill(out, dev, &cfg, m, dst->v4);
	return 0;
}

int ip_route(const struct ip_addr *dst, struct ip_route *out)
{
	struct netdev *best = NULL, *gw = NULL;
	struct netdev_ipv4 best_cfg, gw_cfg;
	enum ip_match best_m = M_NONE;

	if (!ip_is_v4(dst) || !ip_routable(dst->v4))
		return -ENETUNREACH;
	if (dst->v4 == IP_BROADCAST)
		return ip_route_dev(netdev_default(), dst, out);
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev *dev = netdev_at(i);
		struct netdev_ipv4 cfg;
		enum ip_match m;

		netdev_get_ipv4(dev, &cfg);
		m = ip_match(&cfg, dst->v4);
		if (m == M_GATEWAY && !gw) {
			gw = dev;
			gw_cfg = cfg;
		} else if (m > M_GATEWAY && (!best || m == M_LOCAL ||
					     (best_m != M_LOCAL && cfg.prefix > best_cfg.prefix))) {
			best = dev;
			best_cfg = cfg;
			best_m = m;
		}
	}
	if (best)
		ip_route_fill(out, best, &best_cfg, best_m, dst->v4);
	else if (gw)
		ip_route_fill(out, gw, &gw_cfg, M_GATEWAY, dst->v4);
	else
		return -ENETUNREACH;
	return 0;
}

bool ip_is_local(const struct ip_addr *a)
{
	if (!ip_is_v4(a) || !a->v4)
		return false;
	for (unsigned i = 0; i < netdev_count(); i++) {
		struct netdev_ipv4 cfg;

		netdev_get_ipv4(netdev_at(i), &cfg);
		if (ip_is_v4(&cfg.addr) && cfg.addr.v4 == a->v4)
			return true;
	}
	return false;
}
