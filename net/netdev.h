/*
 * netdev.h — network devices, for the protocols and the shell.
 *
 * A netdev is one link (eth0, eth1, ...): its MAC, MTU and link state, its
 * IPv4 configuration, two software queues of NETDEV_QUEUE_LEN frames and
 * counters.  Drivers create and feed them through netdev_driver.h; the
 * protocols never see a driver.
 *
 * Receive path: the driver hands each frame to netdev_rx() (any context);
 * the NET_RX SoftIrq drains the receive queue, NETDEV_RX_BUDGET frames at a
 * time, into the link-layer input that eth registered with
 * netdev_set_input().  Transmit path: netdev_xmit() puts a finished frame
 * on the transmit queue and lets the driver take what its ring holds; when
 * the ring was full the driver asks for a retry from the NET_TX SoftIrq as
 * it frees slots.  A full queue drops the frame (counted): nothing here
 * ever blocks.
 *
 * The MTU starts as the driver's and may be lowered below it (DHCP's
 * option 26 does, with netdev_set_mtu()); IP and TCP read dev->mtu for
 * what they send, without a lock.  Input takes frames up to the driver's
 * mtu_max whatever the MTU.
 *
 * Devices are never unregistered, so a struct netdev pointer stays valid
 * for the rest of the boot and the registry is read without a lock.
 *
 * Locks (none nests inside another here): cfg_lock serialises writers of
 * the IPv4 configuration, which readers copy under the cfg_seq sequence
 * count without a lock (every frame in and out reads it); txq_lock and
 * rxq_lock guard their queues.  All three are taken with interrupts off
 * (drivers call in from interrupt handlers) and are leaves: nothing is
 * called with them held.  Counters are atomic.
 */
#ifndef NOS_NET_NETDEV_H
#define NOS_NET_NETDEV_H

#include "kernel/seqlock.h"
#include "kernel/spinlock.h"
#include "lib/list.h"
#include "net/inet.h"
#include "net/netbuf.h"

#define NETDEV_MAX 8
#define NETDEV_NAME_MAX 8
#define NETDEV_QUEUE_LEN 256
#define NETDEV_RX_BUDGET 64     /* frames one NET_RX pass takes per device */
#define NETDEV_DNS_MAX 2

/* What the per-protocol counters count. */
enum net_proto { NP_ARP, NP_IPV4, NP_ICMP, NP_UDP, NP_TCP, NP_OTHER, NP_COUNT };

struct net_counters {
	u64 packets, bytes;         /* [a] */
	u64 drops;                  /* [a] refused for want of room or a listener */
	u64 errors;                 /* [a] malformed: bad length, checksum, header */
};

struct netdev_stats {
	struct net_counters rx, tx;                 /* the device as a whole */
	struct net_counters proto_rx[NP_COUNT];     /* by protocol, as parsed */
	struct net_counters proto_tx[NP_COUNT];
};

enum net_cfg_source { NET_CFG_NONE, NET_CFG_STATIC, NET_CFG_DHCP };

struct netdev_ipv4 {
	struct ip_addr addr;        /* IP_NONE: no address */
	u8 prefix;                  /* 0..32 */
	struct ip_addr gw;          /* IP_NONE: no gateway */
	struct ip_addr dns[NETDEV_DNS_MAX];
	enum net_cfg_source source;
};

struct netdev_ops;

/*
 * Legend: [I] set before netdev_register() and never changed; [a] atomic;
 * [cfg] cfg_lock; [txq] txq_lock; [rxq] rxq_lock; [drv] the driver's own.
 */
struct netdev {
	char name[NETDEV_NAME_MAX];         /* [I] "eth0" (given by netdev_register) */
	unsigned index;                     /* [I] 0 for eth0 */
	struct mac_addr mac;                /* [I] */
	u32 mtu;                            /* [a] the largest IP packet now: netdev_set_mtu() */
	u32 mtu_max;                        /* [I] the driver's mtu (netdev_register copies it) */
	u32 features;                       /* [I] NETDEV_F_* */
	const struct netdev_ops *ops;       /* [I] */
	void *priv;                         /* [drv] */
	bool link_up;                       /* [a] */

	spinlock_t cfg_lock;
	struct seqcount cfg_seq;            /* [cfg] odd while ipv4 changes */
	struct netdev_ipv4 ipv4;            /* [cfg] written; read under cfg_seq */

	spinlock_t txq_lock;
	struct list_head txq;               /* [txq] netbufs waiting for the driver */
	u32 txq_len;                        /* [txq] */

	spinlock_t rxq_lock;
	struct list_head rxq;               /* [rxq] netbufs waiting for the protocols */
	u32 rxq_len;                        /* [rxq] */
	u32 poll_state;                     /* [a] see netdev.c */

	struct netdev_stats stats;
};

/* features */
#define NETDEV_F_RX_CSUM (1u << 0)  /* sets NB_F_CSUM_OK on frames it verified */

/* The registry: how many devices, the @i-th (NULL past the end), by name (NULL if none). */
unsigned netdev_count(void);
struct netdev *netdev_at(unsigned i);
struct netdev *netdev_find(const char *name);

/*
 * Transmit a complete frame (Ethernet header included) on @dev.  Takes
 * ownership of @nb in every case.  0 when queued;
 * -ENETDOWN when the link is down, -ENOBUFS when the queue is full (both
 * counted as drops).  Any context.
 */
int netdev_xmit(struct netdev *dev, struct netbuf *nb);

/*
 * The link-layer input: called from the NET_RX SoftIrq with each received
 * frame (nb->dev set, data at the Ethernet header), taking ownership.
 * Registered once at start-up; frames arriving before are dropped.
 */
typedef void (*netdev_input_fn)(struct netbuf *nb);
/* Returns the input it replaces (tests put it back). */
netdev_input_fn netdev_set_input(netdev_input_fn fn);

/* IPv4 configuration: a consistent copy out, or a whole new one in. */
void netdev_get_ipv4(struct netdev *dev, struct netdev_ipv4 *out);
void netdev_set_ipv4(struct netdev *dev, const struct netdev_ipv4 *cfg);

/*
 * The MTU IP and TCP go by from now on (connections keep the MSS they
 * announced): @mtu, clamped to the driver's mtu_max; 0 restores the
 * driver's.  0, or -EINVAL (logged, the MTU unchanged) below
 * NETDEV_MTU_MIN, the datagram every IPv4 host must take (RFC 791).  Any
 * context.
 */
#define NETDEV_MTU_MIN 576
int netdev_set_mtu(struct netdev *dev, u32 mtu);
u32 netdev_mtu(const struct netdev *dev);

/*
 * Called (in the caller's context, after the change, no lock held) each
 * time an address is set or removed — ARP sends its gratuitous request from
 * here.  At most NETDEV_LISTENERS; registered at start-up.
 */
#define NETDEV_LISTENERS 4
typedef void (*netdev_ipv4_listener)(struct netdev *dev, const struct netdev_ipv4 *cfg);
int netdev_listen_ipv4(netdev_ipv4_listener fn);

/* Protocol counters, for the layer that parsed (rx) or built (tx) the packet. */
void netdev_count_rx(struct netdev *dev, enum net_proto p, u32 bytes);
void netdev_count_tx(struct netdev *dev, enum net_proto p, u32 bytes);
void netdev_count_drop(struct netdev *dev, enum net_proto p);
void netdev_count_error(struct netdev *dev, enum net_proto p);

const char *net_proto_name(enum net_proto p);

/* The first device with the link up and an IPv4 address, else the first device, else NULL. */
struct netdev *netdev_default(void);

#endif
