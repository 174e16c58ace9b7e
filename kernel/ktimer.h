/*
 * ktimer.h — one-shot and periodic kernel timers.
 *
 * A timer's callback runs in SoftIrq context on the CPU that started it,
 * no earlier than its expiry (the tick is 10 ms, so up to a tick later).
 * ktimer_cancel() removes a pending timer and waits for a callback that is
 * already running, so the timer may be freed once it returns.  A periodic timer is re-armed from its previous expiry,
 * so it does not drift.
 */
#ifndef NOS_KTIMER_H
#define NOS_KTIMER_H

#include "kernel/timerq.h"

void ktimer_init(struct ktimer *t, ktimer_fn fn, void *arg);
/* Arm @t to fire in @delay_ns and then every @period_ns (0: once).
 * Re-arming a pending timer moves it. */
void ktimer_start(struct ktimer *t, u64 delay_ns, u64 period_ns);
/* True when @t was pending and will not fire. */
bool ktimer_cancel(struct ktimer *t);
/* Called from each CPU's tick: raise the timer SoftIrq when one is due. */
void ktimer_tick(void);
void ktimer_subsystem_init(void);

#endif
