/*
 * net.h — bringing the network stack up.
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

void net_init(void);
void net_start(void);

#endif
