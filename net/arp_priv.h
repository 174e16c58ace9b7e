/*
 * arp_priv.h — what arp.c (the table, resolution, the timer) and
 * arp_in.c (received packets) share; nothing else includes it.
 *
 * The table and its lock are described in arp.c's opening comment; the
 * rules for everyone here: arp_tab.lock is taken irqsave and is a leaf —
 * no sending, freeing, waking, timer or device-configuration call under it
 * (the functions below say which ones need it held: [c]); after any change
 * to a PENDING entry, bump arp_tab.seq under the lock and call
 * arp_timer_sync() after it.
 */
#ifndef NOS_NET_ARP_PRIV_H
#define NOS_NET_ARP_PRIV_H

#include "net/arp.h"
#include "kernel/ktimer.h"
#include "kernel/waitq.h"

struct arp_entry {
	struct netdev *dev;         /* NULL when FREE */
	u32 ip;                     /* host order */
	struct mac_addr mac;
	u8 state;                   /* enum arp_state */
	u8 tries;                   /* requests sent while PENDING */
	u64 stamp;                  /* see arp.c's opening comment */
	u64 next;
	struct list_head queue;     /* PENDING: netbufs, data at the IP header */
	u32 queued;
};

/* Legend: [c] lock; [a] atomic; [I] set by arp_init(). */
struct arp_table {
	spinlock_t lock;
	struct arp_entry e[ARP_CACHE_SIZE];        /* [c] */
	u32 announced[NETDEV_MAX];                 /* [c] address last announced per device */
	u64 seq;                                   /* [c] bumped by every change to PENDING */
	u64 timer_at;                              /* [c] the timer's expiry as last set, 0: off */
	u64 conflict_logged;                       /* [c] when a conflict was last logged */
	struct ktimer timer;                       /* [I] */
	struct waitq wait;                         /* [I] arp_resolve_wait() sleepers */
	struct arp_stats st;                       /* [a] */
};

extern struct arp_table arp_tab;

#define ARP_STAT_INC(field) __atomic_fetch_add(&arp_tab.st.field, 1, __ATOMIC_RELAXED)

/* The live entry for (@dev, @ip), freeing it if it expired; NULL if none. [c] */
struct arp_entry *arp_entry_find(struct netdev *dev, u32 ip, u64 now);
/* A fresh entry in @state (evicting if need be); NULL when all are PENDING. [c] */
struct arp_entry *arp_entry_new(struct netdev *dev, u32 ip, u8 state, u64 now);
/* Arm or cancel the timer to match the PENDING entries (lock not held). */
void arp_timer_sync(void);

/* Our IPv4 address on @dev in host order, 0 when it has none (lock not held). */
u32 arp_our_addr(struct netdev *dev);
/* Fill @a as an ARP packet from @dev. */
void arp_fill(struct arp_hdr *a, struct netdev *dev, u16 op, u32 spa, const struct mac_addr *tha,
	      u32 tpa);
/* Send each frame on @frames to @mac, or drop them all when @mac is NULL (lock not held). */
void arp_release_frames(struct netdev *dev, struct list_head *frames, const struct mac_addr *mac);

#endif
