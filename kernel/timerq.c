/*
 * timerq.c — the sorted timer queue (see timerq.h).  Insertion walks from
 * the tail because new timers usually expire after those already queued,
 * which keeps the common case short.
 */
#include "kernel/timerq.h"

void timerq_init(struct timerq *q)
{
	list_init(&q->timers);
	q->count = 0;
}

void timerq_add(struct timerq *q, struct ktimer *t)
{
	struct list_head *pos = q->timers.prev;

	while (pos != &q->timers && list_entry(pos, struct ktimer, link)->expires > t->expires)
		pos = pos->prev;
	list_add(&t->link, pos); /* after pos: equal expiries stay in FIFO order */
	t->queued = true;
	q->count++;
}

bool timerq_remove(struct timerq *q, struct ktimer *t)
{
	if (!t->queued)
		return false;
	list_del(&t->link);
	t->queued = false;
	q->count--;
	return true;
}

struct ktimer *timerq_pop_expired(struct timerq *q, u64 now)
{
	struct ktimer *t;

	if (list_empty(&q->timers))
		return NULL;
	t = list_first_entry(&q->timers, struct ktimer, link);
	if (t->expires > now)
		return NULL;
	timerq_remove(q, t);
	return t;
}

u64 timerq_next(const struct timerq *q)
{
	if (list_empty(&q->timers))
		return ~0ULL;
	return list_first_entry(&q->timers, struct ktimer, link)->expires;
}
