/*
 * smp.h — starting the other CPUs and making them run code.
 *
 * smp_init() starts every enabled CPU the MADT lists (at most
 * CONFIG_MAX_CPUS; none with `smp=off`), one at a time, and records for each
 * how long it took or at which step it stopped.  Started CPUs sit in an
 * idle loop with interrupts on, halting between interrupts.
 *
 * smp_call() runs a function on another CPU in interrupt context and waits
 * for it; it must be called with interrupts enabled (a CPU that waits with
 * interrupts off could never answer the other CPU's own request).
 */
#ifndef NOS_SMP_H
#define NOS_SMP_H

#include "types.h"

typedef void (*smp_fn)(void *arg);

void smp_init(void);
/* CPUs online, the boot CPU included. */
unsigned smp_cpu_count(void);
/* CPUs the firmware listed (online or not). */
unsigned smp_cpus_listed(void);
bool smp_cpu_online(unsigned cpu);

/*
 * Run @fn(@arg) on @cpu (in its interrupt context; on the caller's CPU it is
 * a plain call) and wait until it returned.  -EINVAL for a CPU that is not
 * online, -ETIMEDOUT when it does not answer within a second: the call is
 * then cancelled and @fn never runs, so @arg may live on the caller's stack.
 * (A call that has started is always waited out.)
 */
int smp_call(unsigned cpu, smp_fn fn, void *arg);
/* Run @fn(@arg) on every other online CPU and wait for all of them. */
int smp_call_others(smp_fn fn, void *arg);
/* Run @fn(@arg) on every online CPU at once, the caller included; wait. */
int smp_call_all(smp_fn fn, void *arg);
/* Stop every other CPU with an NMI (panic path; does not wait). */
void smp_stop_others(void);
/* True once a panic has started stopping the CPUs. */
bool smp_stopping(void);

#endif
