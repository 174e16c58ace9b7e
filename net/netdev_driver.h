/*
 * netdev_driver.h — what a network driver implements and calls.
 *
 * A driver fills a struct netdev (mac, mtu, features, ops, priv), sets the
 * link state and calls netdev_register(), which names it ethN.  Then:
 *
 *  - Receive: the driver's interrupt handler masks the device's receive
 *    interrupt and calls netdev_schedule_poll().  The NET_RX SoftIrq then
 *    calls ops->poll(dev, budget): the driver takes up to @budget frames off
 *    its ring, hands each to netdev_rx() (data/len set to the Ethernet
 *    frame, in the very buffer the device wrote), refills the ring, and
 *    returns how many it took.  Returning @budget means "more may be
 *    waiting": poll is called again on a later pass.  Returning less, the
 *    driver unmasks its interrupt — and must look at the ring once more
 *    after unmasking (a frame that arrived in between raises no interrupt).
 *    One device is polled by one CPU at a time.
 *  - Transmit: when frames wait on the transmit queue the layer calls
 *    ops->xmit(dev): the driver takes frames with netdev_tx_dequeue() while
 *    its ring has room, and gives each back with netdev_tx_done() when the
 *    device is finished with it.  When its ring was full and slots free up,
 *    it calls netdev_tx_wake(): the layer calls ops->xmit again from the
 *    NET_TX SoftIrq.  xmit may run on several CPUs at once: the driver
 *    serialises its ring itself.
 *
 * Ownership follows netbuf.h: netdev_rx() and netdev_tx_done() take the
 * driver's reference; netdev_tx_dequeue() gives the caller one.
 */
#ifndef NOS_NET_NETDEV_DRIVER_H
#define NOS_NET_NETDEV_DRIVER_H

#include "net/netdev.h"

struct netdev_ops {
	/* Take frames off the transmit queue while the ring has room (any context). */
	void (*xmit)(struct netdev *dev);
	/* Deliver up to @budget received frames; how many (NET_RX SoftIrq). */
	int (*poll)(struct netdev *dev, int budget);
};

/*
 * Register @dev (fields above filled, ops->xmit and ops->poll set): its
 * index, or -EINVAL (missing ops, zero MTU), -ENOSPC (NETDEV_MAX devices).
 */
int netdev_register(struct netdev *dev);

/* A received frame (takes ownership); any context.  Counted; dropped when the queue is full. */
void netdev_rx(struct netdev *dev, struct netbuf *nb);

/* Ask the NET_RX SoftIrq to call ops->poll (from the interrupt handler, or any context). */
void netdev_schedule_poll(struct netdev *dev);

/* The next frame to send, or NULL when the queue is empty; the caller owns it. */
struct netbuf *netdev_tx_dequeue(struct netdev *dev);

/* A frame the device mangled (counted as an RX error) or had no room for (an RX drop). */
void netdev_rx_error(struct netdev *dev);
void netdev_rx_drop(struct netdev *dev);

/* The device is done with a frame (sent when @ok; else counted as a TX error). */
void netdev_tx_done(struct netdev *dev, struct netbuf *nb, bool ok);

/* Ring room again after it was full: call ops->xmit from the NET_TX SoftIrq. */
void netdev_tx_wake(struct netdev *dev);

/* The link went up or down (device config change); logged. */
void netdev_set_link(struct netdev *dev, bool up);

/* Start-up, once, before any driver registers (kernel/main.c). */
void netdev_init(void);

#endif
