/*
 * net.h — bringing the network stack up, and static IPv4 configuration.
 *
 * net_init() (kernel/main.c, after netdev_init() and before PCI probes the
 * NICs) initialises the protocols and registers eth_input() as the link
 * layer's input.  net_start() (after PCI) applies the kernel parameters —
 * `ip=` for a static configuration, `dhcp=auto|on|off`, `dns=on|off` —
 * to the devices the drivers registered.  Neither waits for the network:
 * DHCP runs in the background and the prompt comes first.
 */
#ifndef NOS_NET_NET_H
#define NOS_NET_NET_H

#include "net/netdev.h"

void net_init(void);
void net_start(void);

/*
 * Parse a static configuration "<addr>/<len>[,<gw>[,<dns>]]" (the `ip=`
 * parameter's value; `ifconfig` builds the same) into @out, source
 * NET_CFG_STATIC.  The address must be a unicast host address of its
 * subnet (not the network or broadcast address for prefixes up to /30),
 * the prefix 1..32, the gateway on the subnet and not the address itself,
 * the DNS server unicast.  0, or -EINVAL with *@why (may be NULL) naming
 * what is wrong, e.g. "gateway not on the subnet".  Pure: any context.
 */
int net_parse_static(const char *spec, struct netdev_ipv4 *out, const char **why);

#endif
