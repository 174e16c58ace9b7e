/*
 * x86.h (host shim) — the few CPU instructions that portable kernel code
 * uses, simulated for the host unit tests.  Shadows kernel/x86.h (see
 * tests/unit/shim/kernel/spinlock.h for how shadowing works).
 *
 * The interrupt flag is a variable of the shim's one CPU: cli()/sti() clear
 * and set it, read_rflags() reports it in RFLAGS_IF, and the shim's checks
 * use it (a lock shared with an interrupt handler taken with interrupts on,
 * a sleep with interrupts off, a test that ends with them off).  Code that
 * looks at the flag to choose a path (block/blk.c polls its device when
 * interrupts are off) therefore takes the path a test sets up.
 *
 * GS is simulated as far as kernel/percpu.h uses it: the shim CPU's GS base
 * is percpu_area[0], whose first field points at itself, so this_cpu() is
 * CPU 0 (tests/unit/shim/shim_test.c sets it up as cpu_init_tables() does).
 *
 * rdtsc() reads the fake clock (shim_time.c): a 1 GHz TSC, so a round trip
 * a test simulates comes out to the nanosecond.
 *
 * cpu_relax() counts: a test that busy-waits a million times is stuck (on
 * the host nothing else runs to end the wait), and panics instead of
 * hanging the run.
 *
 * Port I/O, control registers, MSRs and the rest are deliberately missing:
 * code that touches hardware is not host code, and should not compile here.
 */
#ifndef NOS_X86_H
#define NOS_X86_H

#include "types.h"
#include "compiler.h"

#define RFLAGS_IF (1ul << 9)

u64 shim_read_gs_qword0(void);
u64 shim_rdtsc(void);
u64 shim_read_rflags(void);
void shim_irq_set(bool on);
void shim_cpu_relax(void);

static inline u64 read_gs_qword0(void)
{
	return shim_read_gs_qword0();
}

static inline u64 read_rflags(void)
{
	return shim_read_rflags();
}

static inline void cli(void)
{
	shim_irq_set(false);
}

static inline void sti(void)
{
	shim_irq_set(true);
}

static inline void cpu_relax(void)
{
	shim_cpu_relax();
}

/* The TSC ticks once per nanosecond of the fake clock (shim_time.c). */
static inline u64 rdtsc(void)
{
	return shim_rdtsc();
}

#endif
