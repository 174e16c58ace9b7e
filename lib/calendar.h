/*
 * calendar.h — civil dates and times, Unix time, BCD, and the decoding of
 * the CMOS real-time clock's registers.
 *
 * A struct civil_time is a UTC date and time of day in the proleptic
 * Gregorian calendar (the Gregorian leap rule applied to every year, as ISO
 * 8601 and POSIX do).  Unix time is seconds since 1970-01-01 00:00:00 UTC
 * without leap seconds: every day has exactly 86400 of them, so sec is
 * 0..59 and a leap second (xx:59:60) cannot be represented.
 *
 * The supported years are CALENDAR_YEAR_MIN..CALENDAR_YEAR_MAX, 0000..9999:
 * exactly the years the four-digit ISO 8601 form can write.  Year 0 is
 * 1 BC, as in ISO 8601.  Unix times outside that span (before
 * CALENDAR_UNIX_MIN or after CALENDAR_UNIX_MAX) are -ERANGE.
 *
 * Rules shared by every function here:
 *  - Results are 0 or a negative errno; an output is written only on
 *    success and left untouched on error.
 *  - A civil time is valid when every field is within its range for that
 *    month of that year: Feb 29 only in leap years, day 31 only in 31-day
 *    months.  Anything else is -EINVAL; nothing is normalised ("Jan 32" is
 *    not Feb 1).
 *  - Nothing allocates, locks or keeps state; any context may call them.
 *
 * The RTC part (calendar_decode_rtc) lives here rather than in the driver so
 * that the conversion of raw register bytes — the part with the corner
 * cases: BCD or binary, 12- or 24-hour, the century register — is pure and
 * is tested exhaustively on the host.  drivers/rtc.c only does the I/O.
 */
#ifndef NOS_LIB_CALENDAR_H
#define NOS_LIB_CALENDAR_H

#include "compiler.h" /* before types.h: see ktest.h */
#include "types.h"

#define CALENDAR_YEAR_MIN 0
#define CALENDAR_YEAR_MAX 9999
/* 0000-01-01 00:00:00 and 9999-12-31 23:59:59 as Unix time. */
#define CALENDAR_UNIX_MIN (-62167219200LL)
#define CALENDAR_UNIX_MAX 253402300799LL

#define CALENDAR_SECS_PER_DAY 86400

/* "YYYY-MM-DD HH:MM:SS" plus its NUL: the buffer calendar_format() needs. */
#define CALENDAR_FMT_SIZE 20

struct civil_time {
	int year;  /* CALENDAR_YEAR_MIN..CALENDAR_YEAR_MAX */
	int month; /* 1..12 */
	int day;   /* 1..28/29/30/31, by month and year */
	int hour;  /* 0..23 */
	int min;   /* 0..59 */
	int sec;   /* 0..59 */
};

/* Leap year in the Gregorian rule (every 4th, not every 100th, every 400th). */
bool calendar_is_leap(int year);

/* Days in @month (1..12) of @year; 0 when @month is out of range. */
int calendar_days_in_month(int year, int month);

/* True when every field of @t is in range (see the file comment). */
bool calendar_valid(const struct civil_time *t);

/*
 * Convert @t to Unix time in *@out.  -EINVAL when @t is not valid.
 */
int calendar_to_unix(const struct civil_time *t, s64 *out);

/*
 * Convert Unix time @secs to a civil time in *@out; negative values are
 * before 1970.  -ERANGE outside CALENDAR_UNIX_MIN..CALENDAR_UNIX_MAX.
 */
int calendar_from_unix(s64 secs, struct civil_time *out);

/*
 * Day of the week of the date in @t: 0 = Sunday .. 6 = Saturday (the
 * numbering of C's tm_wday).  -EINVAL when @t is not valid.
 */
int calendar_weekday(const struct civil_time *t);

/*
 * Write @t as "YYYY-MM-DD HH:MM:SS" (ISO 8601 with a space, UTC implied)
 * and a NUL into @buf of @size bytes.  -EINVAL when @t is not valid,
 * -ENOSPC when @size < CALENDAR_FMT_SIZE; on either error @buf holds ""
 * if it has room for that.
 */
int calendar_format(const struct civil_time *t, char *buf, size_t size);

/*
 * Packed BCD: one decimal digit per nibble, tens high.  bcd_to_bin()
 * returns 0..99, or -EINVAL when either nibble is above 9; bin_to_bcd()
 * returns the BCD byte for 0..99, or -EINVAL for anything else.
 */
int bcd_to_bin(u8 bcd);
int bin_to_bcd(int value);

/*
 * The MC146818-compatible CMOS clock's time registers, as read, and the
 * status B bits that say how to read them.
 */
#define RTC_STATUS_B_24H 0x02    /* set: hours 0..23; clear: 1..12 + PM bit */
#define RTC_STATUS_B_BINARY 0x04 /* set: binary values; clear: BCD */
#define RTC_HOUR_PM 0x80         /* 12-hour mode: the hour is after noon */

/* Plausible decoded values of the century register; others are ignored. */
#define RTC_CENTURY_MIN 19
#define RTC_CENTURY_MAX 29
/* Century assumed when the century register is missing or implausible. */
#define RTC_CENTURY_DEFAULT 20

struct calendar_rtc_regs {
	u8 sec;      /* register 0x00 */
	u8 min;      /* 0x02 */
	u8 hour;     /* 0x04 */
	u8 day;      /* 0x07, day of the month */
	u8 month;    /* 0x08 */
	u8 year;     /* 0x09, two digits */
	u8 century;  /* 0x32 on PC-compatibles, or 0 when there is none */
	u8 status_b; /* 0x0B */
};

/*
 * Turn raw RTC register bytes into a civil time in *@out, honouring the
 * BCD/binary and 12/24-hour bits of @r->status_b.  The century register is
 * used when it decodes (in the same BCD/binary format as the other
 * registers) to RTC_CENTURY_MIN..RTC_CENTURY_MAX, else the century is
 * RTC_CENTURY_DEFAULT.  -EINVAL for any field that does not decode or is out
 * of range — a bad BCD nibble, a PM bit in 24-hour mode, hour 0 in 12-hour
 * mode, Feb 30 — so garbage from the device never becomes a time.
 */
int calendar_decode_rtc(const struct calendar_rtc_regs *r, struct civil_time *out);

#endif
