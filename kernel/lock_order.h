/*
 * lock_order.h — the declared order of the kernel's ranked spinlocks.
 *
 * A CPU that holds a ranked lock may take another ranked lock only if the
 * new one's rank is higher; in debug builds spinlock.c panics on an
 * inversion and names both locks.  Unranked locks (rank 0) are not
 * ordered by this table: give a lock a rank when it nests with others.
 *
 * The order, outermost first, and where each nesting happens:
 *   waitgroup -> waitq        waitgroup_done() wakes under its lock
 *   tcp conn -> tcp listener -> tcp table
 *                             dropping a connection detaches it from its
 *                             listener and unhashes it under its own lock;
 *                             all three wake waiters (waitq) while held
 *   waitq     -> task         waitq_prepare() marks the waiter BLOCKED;
 *                             waitq_wake_*() wakes each waiter
 *   task      -> runqueue     task_wake() and schedule() queue the task
 *   kmalloc   -> paging -> page
 *                             a new slab comes from page_alloc(); page tables
 *                             are allocated while mapping
 *   random                    a leaf under anything but dmesg and console:
 *                             random_bytes() may run under any driver or
 *                             protocol lock, from any context
 *   dmesg, console            leaves: pr_*() may be called under any lock
 */
#ifndef NOS_LOCK_ORDER_H
#define NOS_LOCK_ORDER_H

enum lock_rank {
	LOCK_UNRANKED = 0,
	LOCK_RANK_WAITGROUP = 10,
	LOCK_RANK_TCP_CONN = 12,
	LOCK_RANK_TCP_LISTENER = 14,
	LOCK_RANK_TCP_TABLE = 16,
	LOCK_RANK_WAITQ = 20,
	LOCK_RANK_TASK = 30,
	LOCK_RANK_RUNQUEUE = 40,
	LOCK_RANK_KMALLOC = 100,
	LOCK_RANK_PAGING = 110,
	LOCK_RANK_PAGE = 120,
	LOCK_RANK_RANDOM = 190,
	LOCK_RANK_DMESG = 200,
	LOCK_RANK_CONSOLE = 210,
};

#endif
