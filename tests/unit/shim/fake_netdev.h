/*
 * fake_netdev.h — a network driver for host unit tests of the stack: the
 * host's stand-in for virtio-net, lwIP-style (it records what is sent).
 *
 * A fake is a real driver (struct netdev_ops) registered with the real
 * net/netdev.c, under the real protocols (net_init() has run).  What the
 * stack transmits is kept, in order, for the test to pop and inspect; what
 * the test injects goes up through netdev_rx() and the NET_RX SoftIrq
 * exactly as a frame from a device would.  Optionally the fake plays one
 * neighbour on its link, the "peer": it answers ARP requests for the
 * peer's address and, if asked to, ICMP echo requests to it — at once or
 * after peer_delay_ns of simulated time — which is what a test needs to
 * run code that waits for the network (icmp_ping(), arp_resolve_wait()).
 *
 * Lifetime: the stack and FAKE_NETDEV_MAX fakes (eth0..eth3, MACs
 * 02:00:00:00:00:01..04: fake_netdev_mac()) are made on first use and
 * live for the rest of the run, like the kernel's devices (there is no
 * unregister), so tests share them: start each test with
 * fake_netdev_reset(), which also empties the ARP cache, and end it with
 * fake_netdev_reset() too: it gives the pool's cached netbufs back to
 * kmalloc (nb_pool_shrink()), which the shim would otherwise count as the
 * test's leaks.  At its end a test must hold no netbuf (fake_net_in_use()
 * back where it was) and must have run the SoftIrqs it raised
 * (fake_net_run()).
 *
 * Frames: the builders below write a whole Ethernet frame into a buffer of
 * at least FAKE_FRAME_MAX bytes and return its length; addresses are in
 * host order (0x0A000001 is 10.0.0.1).  Checksums are filled in.
 *
 * Legend: [t] the test sets it between frames; [f] the fake's own.
 */
#ifndef NOS_FAKE_NETDEV_H
#define NOS_FAKE_NETDEV_H

#include "types.h"
#include "kernel/ktimer.h"
#include "lib/list.h"
#include "net/netdev_driver.h"

#define FAKE_NETDEV_MAX 4
#define FAKE_FRAME_MAX 1600

struct fake_netdev {
	struct netdev dev;              /* registered; dev.name is "ethN" */
	struct list_head sent;          /* [f] netbufs transmitted, oldest first */
	unsigned nsent;                 /* [f] how many wait in sent */
	u64 xmits;                      /* [f] frames ever transmitted */
	u32 rx_headroom;                /* [t] headroom of injected frames (default 32) */
	bool rx_no_tsc;                 /* [t] inject without a receive timestamp */
	/* the peer */
	bool peer_arp;                  /* [t] answer ARP requests for peer_ip */
	bool peer_echo;                 /* [t] answer echo requests to peer_ip */
	bool peer_unreach;              /* [t] ...with "host unreachable" instead, as a router */
	u32 peer_ip;                    /* [t] host order */
	struct mac_addr peer_mac;       /* [t] */
	u64 peer_delay_ns;              /* [t] answers arrive this much later */
	u64 peer_answers;               /* [f] */
	struct list_head delayed;       /* [f] answers not yet delivered */
	struct ktimer delay_timer;      /* [f] delivers them */
};

/* Fake @i (0..FAKE_NETDEV_MAX-1), making the stack and the fakes on first use. */
struct fake_netdev *fake_netdev_get(unsigned i);

/*
 * Back to a known state: link up, no IPv4 address, nothing in sent, no
 * peer (peer_answers 0), no delayed answers, default rx options; and the
 * ARP cache flushed.
 * SoftIrqs are run first; the pool's cache is emptied last.
 */
void fake_netdev_reset(struct fake_netdev *f);

/* Configure "<addr>/<len>[,<gw>[,<dns>]]" (net_parse_static()); 0 or -EINVAL.
 * The gratuitous ARP this sends is left in sent (fake_netdev_clear() it). */
int fake_netdev_set_ipv4(struct fake_netdev *f, const char *spec);

/* Play the peer @ip/@mac on @f's link: ARP always, echo replies if @echo. */
void fake_netdev_peer(struct fake_netdev *f, u32 ip, const struct mac_addr *mac, bool echo);

/* Receive @len bytes as a frame: copied into a netbuf, netdev_rx(), SoftIrqs run. 0 or -ENOBUFS. */
int fake_netdev_inject(struct fake_netdev *f, const void *frame, u32 len);

/* The oldest frame sent (data at the Ethernet header; the caller owns it), or NULL. */
struct netbuf *fake_netdev_pop(struct fake_netdev *f);

/* Drop every frame in sent. */
void fake_netdev_clear(struct fake_netdev *f);

/* Run pending SoftIrqs (frames injected or looped back, transmit retries). */
void fake_net_run(void);

/* Netbufs in use in the pool now (compare at a test's start and end). */
u32 fake_net_in_use(void);

/* The fakes' MACs: 02:00:00:00:00:0N for fake N-1. */
struct mac_addr fake_netdev_mac(unsigned i);

/* ------------------------------------------------------- frame builders */

/* An Ethernet header; the payload goes at frame + 14.  Returns 14. */
u32 fake_frame_eth(u8 *frame, const struct mac_addr *dst, const struct mac_addr *src, u16 type);

/* An ARP packet (@op 1 or 2) in an Ethernet frame from @sha to @eth_dst. */
u32 fake_frame_arp(u8 *frame, const struct mac_addr *eth_dst, u16 op, const struct mac_addr *sha,
		   u32 spa, const struct mac_addr *tha, u32 tpa);

/* An IPv4 packet (20-byte header, TTL 64, id 1, DF, checksum) with @len payload bytes. */
u32 fake_frame_ipv4(u8 *frame, const struct mac_addr *dst, const struct mac_addr *src, u32 saddr,
		    u32 daddr, u8 proto, const void *payload, u32 len);

/* An ICMP echo request (@type 8) or reply (0) with @len pattern bytes, in IPv4 and Ethernet. */
u32 fake_frame_echo(u8 *frame, const struct mac_addr *dst, const struct mac_addr *src, u32 saddr,
		    u32 daddr, u8 type, u16 id, u16 seq, u32 len);

#endif
