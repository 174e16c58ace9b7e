/*
 * netbuf.c — the netbuf pool (see netbuf.h).
 *
 * Free netbufs, each with its buffer still attached, wait on a free list
 * under pool_lock.  nb_alloc() takes one from the list, or makes a new one
 * (a descriptor and a 2 KiB kmalloc buffer, which the allocator keeps
 * within one page: physically contiguous, as DMA needs) while fewer than
 * NB_POOL_MAX exist.  Only nb_pool_shrink() gives memory back.  The allocation happens outside the lock — the lock
 * is a leaf, taken from interrupt handlers and under protocol locks, so
 * nothing that takes other locks runs under it.  The pool keeps what a
 * burst made, up to its bound, until nb_pool_shrink().
 */
#include "net/netbuf.h"
#include "errno.h"
#include "kernel/panic.h"
#include "kernel/spinlock.h"
#include "lib/string.h"
#include "mm/addr.h"
#include "mm/kmalloc.h"

static spinlock_t pool_lock = SPINLOCK_INIT("netbuf pool");
static struct list_head pool_free = LIST_HEAD_INIT(pool_free);  /* [pool_lock] */
static struct nb_pool_stats pool;                               /* [pool_lock] */

/* A cached netbuf in *@out (0), leave to make a new one (1), or -ENOBUFS. */
static int pool_take(struct netbuf **out)
{
	u64 flags = spin_lock_irqsave(&pool_lock);
	int rc = 0;

	*out = NULL;
	if (!list_empty(&pool_free)) {
		*out = list_first_entry(&pool_free, struct netbuf, link);
		list_del_init(&(*out)->link);
		pool.cached--;
		pool.in_use++;
		pool.allocs++;
	} else if (pool.total < NB_POOL_MAX) {
		pool.total++; /* claimed now, made by the caller */
		rc = 1;
	} else {
		pool.fails++;
		rc = -ENOBUFS;
	}
	spin_unlock_irqrestore(&pool_lock, flags);
	return rc;
}

static void pool_account(bool made)
{
	u64 flags = spin_lock_irqsave(&pool_lock);

	if (made) {
		pool.in_use++;
		pool.allocs++;
	} else {
		pool.total--;
		pool.fails++;
	}
	spin_unlock_irqrestore(&pool_lock, flags);
}

static struct netbuf *nb_make(void)
{
	struct netbuf *nb = kmalloc(sizeof(*nb));
	u8 *buf = nb ? kmalloc(NB_BUF_SIZE) : NULL;

	if (!buf) {
		kfree(nb);
		pool_account(false);
		return NULL;
	}
	nb->head = buf;
	list_init(&nb->link);
	pool_account(true);
	return nb;
}

struct netbuf *nb_alloc(u32 headroom)
{
	struct netbuf *nb;

	if (headroom >= NB_BUF_SIZE)
		return NULL;
	switch (pool_take(&nb)) {
	case 0:
		break;
	case 1:
		if ((nb = nb_make()))
			break;
		/* fall through */
	default:
		return NULL;
	}
	nb->data = nb->head + headroom;
	nb->len = 0;
	nb->refs = 1;
	nb->dev = NULL;
	nb->l2_off = nb->l3_off = 0;
	nb->flags = 0;
	nb->tsc = 0;
	return nb;
}

struct netbuf *nb_get(struct netbuf *nb)
{
	__atomic_fetch_add(&nb->refs, 1, __ATOMIC_RELAXED);
	return nb;
}

void nb_put(struct netbuf *nb)
{
	u32 old;
	u64 flags;

	if (!nb)
		return;
	old = __atomic_fetch_sub(&nb->refs, 1, __ATOMIC_ACQ_REL);
	if (old == 0)
		panic("netbuf %p: reference dropped below zero", (void *)nb);
	if (old != 1)
		return;
	flags = spin_lock_irqsave(&pool_lock);
	list_add(&nb->link, &pool_free);
	pool.in_use--;
	pool.cached++;
	pool.frees++;
	spin_unlock_irqrestore(&pool_lock, flags);
}

struct netbuf *nb_clone(const struct netbuf *nb)
{
	struct netbuf *c = nb_alloc(nb_headroom(nb));

	if (!c)
		return NULL;
	memcpy(c->data, nb->data, nb->len);
	c->len = nb->len;
	c->dev = nb->dev;
	c->l2_off = nb->l2_off;
	c->l3_off = nb->l3_off;
	c->flags = nb->flags;
	c->tsc = nb->tsc;
	return c;
}

int nb_append_bytes(struct netbuf *nb, const void *src, u32 n)
{
	void *at = nb_append(nb, n);

	if (!at)
		return -EMSGSIZE;
	memcpy(at, src, n);
	return 0;
}

u64 nb_bus(const struct netbuf *nb)
{
	return virt_to_phys(nb->data);
}

void nb_pool_stats(struct nb_pool_stats *st)
{
	u64 flags = spin_lock_irqsave(&pool_lock);

	*st = pool;
	spin_unlock_irqrestore(&pool_lock, flags);
}

void nb_pool_shrink(void)
{
	for (;;) {
		u64 flags = spin_lock_irqsave(&pool_lock);
		struct netbuf *nb = NULL;

		if (!list_empty(&pool_free)) {
			nb = list_first_entry(&pool_free, struct netbuf, link);
			list_del(&nb->link);
			pool.cached--;
			pool.total--;
		}
		spin_unlock_irqrestore(&pool_lock, flags);
		if (!nb)
			return;
		kfree(nb->head);
		kfree(nb);
	}
}
