/*
 * test_timerq.c — the timer queue's ordering against a reference model:
 * timers come out in expiry order, equal expiries in insertion order, only
 * once expired, and removal of any timer keeps the rest in order.
 */
#include "kernel/timerq.h"
#include "lib/ktest.h"
#include "lib/string.h"

#define TQ_N 64

static struct ktimer tq_timers[TQ_N];
static struct timerq tq;

KTEST(timerq, pops_in_expiry_then_fifo_order)
{
	timerq_init(&tq);
	for (unsigned i = 0; i < TQ_N; i++) {
		tq_timers[i].expires = (ktest_rand(kt) % 8) * 10; /* many ties */
		tq_timers[i].arg = (void *)(uintptr_t)i;
		timerq_add(&tq, &tq_timers[i]);
	}
	KT_EXPECT_EQ(tq.count, TQ_N);
	{
		u64 last_exp = 0;
		uintptr_t last_idx = 0;
		unsigned popped = 0;
		struct ktimer *t;

		while ((t = timerq_pop_expired(&tq, ~0ULL - 1))) {
			uintptr_t idx = (uintptr_t)t->arg;

			KT_ASSERT(t->expires >= last_exp);
			if (popped && t->expires == last_exp)
				KT_ASSERT(idx > last_idx); /* ties keep insertion order */
			KT_EXPECT(!t->queued);
			last_exp = t->expires;
			last_idx = idx;
			popped++;
		}
		KT_EXPECT_EQ(popped, TQ_N);
		KT_EXPECT_EQ(tq.count, 0);
		KT_EXPECT_EQ(timerq_next(&tq), ~0ULL);
	}
}

KTEST(timerq, only_expired_timers_pop)
{
	timerq_init(&tq);
	tq_timers[0].expires = 100;
	tq_timers[1].expires = 50;
	timerq_add(&tq, &tq_timers[0]);
	timerq_add(&tq, &tq_timers[1]);
	KT_EXPECT_EQ(timerq_next(&tq), 50);
	KT_EXPECT(timerq_pop_expired(&tq, 49) == NULL);
	KT_EXPECT(timerq_pop_expired(&tq, 50) == &tq_timers[1]);
	KT_EXPECT(timerq_pop_expired(&tq, 99) == NULL);
	KT_EXPECT(timerq_pop_expired(&tq, 1000) == &tq_timers[0]);
	KT_EXPECT(timerq_pop_expired(&tq, 1000) == NULL);
}

/* Random adds and removes against a model: a flag per timer. */
KTEST(timerq, random_add_remove_keeps_order)
{
	bool queued[TQ_N];

	memset(queued, 0, sizeof(queued));
	timerq_init(&tq);
	for (unsigned i = 0; i < TQ_N; i++)
		tq_timers[i].queued = false;
	for (unsigned op = 0; op < 5000; op++) {
		unsigned i = ktest_rand(kt) % TQ_N;

		if (queued[i]) {
			KT_ASSERT(timerq_remove(&tq, &tq_timers[i]));
			queued[i] = false;
		} else {
			tq_timers[i].expires = ktest_rand(kt) % 1000;
			timerq_add(&tq, &tq_timers[i]);
			queued[i] = true;
		}
		/* Removing reports exactly whether the timer was queued. */
		unsigned j = (unsigned)(ktest_rand(kt) % TQ_N);
		KT_ASSERT_EQ(timerq_remove(&tq, &tq_timers[j]), queued[j]);
		queued[j] = false;
	}
	{
		unsigned n = 0;
		u64 last = 0;
		struct ktimer *t;

		for (unsigned i = 0; i < TQ_N; i++)
			n += queued[i];
		KT_EXPECT_EQ(tq.count, n);
		while ((t = timerq_pop_expired(&tq, ~0ULL - 1))) {
			KT_ASSERT(t->expires >= last);
			last = t->expires;
			n--;
		}
		KT_EXPECT_EQ(n, 0);
	}
}
