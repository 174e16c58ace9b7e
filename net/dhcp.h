/*
 * dhcp.h — the DHCP client (RFC 2131): one per device, in the background.
 *
 * States, and what moves between them:
 *
 *   STOPPED ──dhcp_start──▶ SELECTING: DISCOVER broadcast, retransmitted
 *                           with backoff (4, 8, 16 ... 64 s, ±1 s)
 *   SELECTING ──OFFER──▶ REQUESTING: REQUEST broadcast for the offered
 *                           address and server (up to 4 sends, then INIT)
 *   REQUESTING ──ACK──▶ BOUND: the address, prefix, gateway and DNS
 *                           servers are set on the device, and its MTU
 *                           (option 26, else the driver's)
 *   BOUND ──T1──▶ RENEWING: REQUEST unicast to the server, again at half
 *                           the time left to T2 (at least 4 s)
 *   RENEWING ──T2──▶ REBINDING: REQUEST broadcast, to any server
 *   RENEWING | REBINDING ──ACK──▶ BOUND (new lease times)
 *   REBINDING ──lease expiry──▶ the address is removed; SELECTING again
 *   any exchange ──NAK──▶ INIT: the address (if any) is removed, and
 *                           discovery starts over after NAK_DELAY
 *
 * T1 and T2 come from options 58/59, else 0.5 and 0.875 of the lease
 * (option 51); an infinite lease is never renewed.  Every message carries
 * the hostname "nos", a client identifier and the parameter request list
 * (mask, router, DNS, lease, server id, T1, T2, MTU).  Each exchange has a
 * random xid; replies with another xid or another MAC are ignored.  Each
 * transition is logged ("dhcp: eth0: bound to 10.0.2.15/24 gw 10.0.2.2 dns
 * 10.0.2.3 lease 86400 s"), and so is an MTU change.  A lease given up
 * (expired, NAK, stop) puts the driver's MTU back along with removing the
 * address.
 *
 * Why no task: the client never has to wait for anything in the middle of
 * its work — every step is "a message came" or "a time passed", and ends
 * by sending at most one message and arming one timer.  So it runs from
 * the UDP input (SoftIrq) and from its ktimer (SoftIrq), costs no stack
 * while it idles between renewals (days, usually), and the host tests
 * drive it with the fake clock and injected frames alone.  Only
 * dhcp_wait_bound() sleeps, in the caller's task.
 *
 * Time is time_ns() (the host shim fakes it).
 *
 * Locks: each client's "dhcp client" spinlock guards its state; a leaf.
 * It is never held while sending, setting the device's configuration
 * (whose listeners send gratuitous ARP), waking waiters or cancelling the
 * timer.
 */
#ifndef NOS_NET_DHCP_H
#define NOS_NET_DHCP_H

#include "net/netdev.h"

enum dhcp_state {
	DHCP_STOPPED, DHCP_INIT, DHCP_SELECTING, DHCP_REQUESTING,
	DHCP_BOUND, DHCP_RENEWING, DHCP_REBINDING,
};

/* What the kernel parameter dhcp= asked for. */
enum dhcp_mode {
	DHCP_MODE_AUTO,     /* started at boot on every device with its link up */
	DHCP_MODE_ON,       /* only when the `dhcp` command asks */
	DHCP_MODE_OFF,      /* never: dhcp_start() refuses */
};

#define DHCP_NAK_DELAY_NS (2ull * 1000000000ull)
#define DHCP_REQUEST_TRIES 4

/* A client's state and lease, as dhcp_get_info() reports it. */
struct dhcp_info {
	enum dhcp_state state;
	struct ip_addr addr, gw, server;    /* IP_NONE when unknown */
	u8 prefix;
	struct ip_addr dns[NETDEV_DNS_MAX];
	unsigned ndns;
	u32 lease_s, t1_s, t2_s;            /* as granted (lease_s: ~0u infinite) */
	u64 t1_in_ns, t2_in_ns, expiry_in_ns;   /* from now; 0 once passed */
	u32 binds;                          /* leases obtained or renewed since start */
	u32 tries;                          /* sends of the current message */
};

/*
 * Start (or restart) the client on @dev from the beginning: a new DISCOVER
 * goes out now.  A lease the client held is given up (its address is
 * removed); a static address stays until a lease replaces it (the replies
 * are asked to come broadcast meanwhile).  0, -EPERM (dhcp=off), -ENODEV
 * (before dhcp_init).  Any context but hard IRQ; never sleeps.
 */
int dhcp_start(struct netdev *dev);

/*
 * Stop the client on @dev; an address it had configured is removed.  Task
 * context (it waits for a running timer callback).
 */
void dhcp_stop(struct netdev *dev);

/*
 * Wait (task context, interruptible) until @dev's client holds a lease
 * (BOUND, RENEWING or REBINDING), at most @timeout_ns: 0, -ETIMEDOUT,
 * -EINTR, -ESRCH (the client is stopped).
 */
int dhcp_wait_bound(struct netdev *dev, u64 timeout_ns);

/* A consistent copy of @dev's client state. */
void dhcp_get_info(struct netdev *dev, struct dhcp_info *out);

const char *dhcp_state_name(enum dhcp_state s);

/* "auto", "on", "off" into *@out: 0 or -EINVAL; NULL is the default (auto). */
int dhcp_parse_mode(const char *s, enum dhcp_mode *out);
void dhcp_set_mode(enum dhcp_mode m);
enum dhcp_mode dhcp_get_mode(void);

/*
 * Apply the boot configuration: @ip_spec (the ip= value, may be NULL) as
 * eth0's static configuration (net_parse_static; a bad one is logged and
 * ignored), then @mode (the dhcp= value, NULL: auto): with auto, the
 * client starts on every device with its link up, except one given a
 * static address.  Never waits.  Returns how many clients it started.
 */
int dhcp_boot(const char *ip_spec, const char *mode);

/* Bind the client port (once, after udp_init; net_init). */
void dhcp_init(void);

#endif
