/*
 * time.h — the kernel's clocks.
 *
 * time_ns() is the monotonic clock: nanoseconds since kernel entry (the TSC
 * value boot.asm read first thing), never going backwards on any CPU.  It
 * reads 0 until time_init() has calibrated the TSC.  Its source is the best
 * one available (kvmclock, the TSC, the PIT tick), chosen at boot and
 * logged.  The PIT ticks TIME_TICK_HZ times a second once time_tick_start()
 * has run; time_ticks() counts those interrupts.
 */
#ifndef NOS_TIME_H
#define NOS_TIME_H

#include "types.h"

#define TIME_TICK_HZ 100

enum time_source { TIME_SOURCE_NONE, TIME_SOURCE_PIT, TIME_SOURCE_TSC, TIME_SOURCE_KVMCLOCK };

void time_init(u64 entry_tsc);
/* Start the PIT tick (needs the IRQ layer).  Returns 0 or -errno. */
int time_tick_start(void);
u64 time_ns(void);
u64 time_ticks(void);
/* Switch the monotonic clock to @src, read by @read_ns (ns since kernel entry). */
void time_set_source(enum time_source src, u64 (*read_ns)(void));
const char *time_source_name(void);
/* Set the wall clock: @unix_secs is the Unix time now (from the RTC). */
void time_set_wall(s64 unix_secs);
/* Unix time now / at kernel entry, in ns; -ENODATA when never set. */
int time_wall(s64 *unix_ns);
int time_boot_wall(s64 *unix_ns);
/* Convert a TSC difference to nanoseconds (0 before calibration). */
u64 time_tsc_to_ns(u64 cycles);
u64 time_tsc_hz(void);
bool time_tsc_invariant(void);
/* Busy-wait at least @us microseconds. */
void time_udelay(u64 us);

#endif
