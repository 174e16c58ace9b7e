/*
 * rtc.h — the CMOS real-time clock: the date and time of day, to the
 * second, kept by the battery-backed MC146818-compatible clock every PC
 * (and every PC virtual machine) has.
 *
 * The RTC is the kernel's only source of wall-clock time before the
 * network, and a slow one (two port accesses per register), so read it at
 * boot and keep the offset; the monotonic clock (kernel/time.h) carries
 * time forward from there.  The RTC keeps whatever the firmware or
 * hypervisor set, which on virtual machines and on most Linux-managed
 * hardware is UTC; the result is treated as UTC.
 *
 * Results: 0, -ETIMEDOUT when the clock reports an update in progress for
 * far longer than the 2 ms the part may, or -EIO when the clock gives
 * unstable or undecodable values (never a made-up time).  Callable from any
 * context except NMI; takes cmos_lock with interrupts off for a few port
 * accesses at a time.  The CMOS index/data ports belong to this file: any
 * other CMOS user must go through it, or share its lock.
 */
#ifndef NOS_DRIVERS_RTC_H
#define NOS_DRIVERS_RTC_H

#include "types.h"
#include "lib/calendar.h"

/* Read the current date and time (UTC) into *@out; untouched on error. */
int rtc_read(struct civil_time *out);

/* Read the current time as Unix seconds into *@out; untouched on error. */
int rtc_read_unix(s64 *out);

#endif
