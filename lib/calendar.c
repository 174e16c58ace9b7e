/*
 * calendar.c — the conversions of calendar.h.
 *
 * Dates become day numbers (days since 1970-01-01, negative before) and back
 * through the "days from civil" algorithms described by Howard Hinnant.
 * They treat the year as starting on March 1, so the leap day is the last
 * day of its year and never shifts the month arithmetic; a year is then
 * split into 400-year eras (146097 days each, an exact whole number of
 * weeks and of leap cycles), and within an era everything is small
 * non-negative integer arithmetic with no loops and no tables.  Floor
 * division at the era step makes the same code right for negative days.
 *
 * Unix time is then day number * 86400 + seconds of the day.  All the
 * arithmetic is in s64, where the supported span (years 0..9999, about
 * 3.2e11 seconds) is nowhere near overflow.
 *
 * The RTC decoding at the end is the pure half of drivers/rtc.c.
 */
#include "lib/calendar.h"
#include "errno.h"

/* 0000-03-01 to 1970-01-01, in days: the shift to and from the era origin. */
#define DAYS_0000_03_01_TO_EPOCH 719468
#define DAYS_PER_ERA 146097 /* 400 Gregorian years */
#define YEARS_PER_ERA 400
#define EPOCH_WEEKDAY 4 /* 1970-01-01 was a Thursday */

bool calendar_is_leap(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int calendar_days_in_month(int year, int month)
{
	static const u8 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month < 1 || month > 12)
		return 0;
	if (month == 2 && calendar_is_leap(year))
		return 29;
	return days[month - 1];
}

bool calendar_valid(const struct civil_time *t)
{
	if (t->year < CALENDAR_YEAR_MIN || t->year > CALENDAR_YEAR_MAX)
		return false;
	if (t->month < 1 || t->month > 12)
		return false;
	if (t->day < 1 || t->day > calendar_days_in_month(t->year, t->month))
		return false;
	return t->hour >= 0 && t->hour <= 23 && t->min >= 0 && t->min <= 59 &&
	       t->sec >= 0 && t->sec <= 59;
}

/* Floor division for a positive divisor: rounds towards minus infinity. */
static s64 floor_div(s64 a, s64 b)
{
	s64 q = a / b;

	return (a % b < 0) ? q - 1 : q;
}

/* Days since 1970-01-01 of a valid date (negative before it). */
static s64 days_from_civil(s64 y, int m, int d)
{
	s64 era, yoe, doy, doe;

	y -= m <= 2;                    /* Jan and Feb end the previous year */
	era = floor_div(y, YEARS_PER_ERA);
	yoe = y - era * YEARS_PER_ERA;  /* year of era, 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            /* 0..146096 */
	return era * DAYS_PER_ERA + doe - DAYS_0000_03_01_TO_EPOCH;
}

/* The inverse of days_from_civil(): fill year, month and day of @t. */
static void civil_from_days(s64 z, struct civil_time *t)
{
	s64 era, doe, yoe, doy, mp;

	z += DAYS_0000_03_01_TO_EPOCH;
	era = floor_div(z, DAYS_PER_ERA);
	doe = z - era * DAYS_PER_ERA;                                     /* 0..146096 */
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;      /* 0..399 */
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                    /* 0..365 */
	mp = (5 * doy + 2) / 153;                                         /* 0..11, Mar = 0 */
	t->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	t->month = (int)(mp < 10 ? mp + 3 : mp - 9);
	t->year = (int)(yoe + era * YEARS_PER_ERA + (t->month <= 2));
}

int calendar_to_unix(const struct civil_time *t, s64 *out)
{
	s64 days;

	if (!calendar_valid(t))
		return -EINVAL;
	days = days_from_civil(t->year, t->month, t->day);
	*out = days * CALENDAR_SECS_PER_DAY + t->hour * 3600 + t->min * 60 + t->sec;
	return 0;
}

int calendar_from_unix(s64 secs, struct civil_time *out)
{
	struct civil_time t;
	s64 days, rem;

	if (secs < CALENDAR_UNIX_MIN || secs > CALENDAR_UNIX_MAX)
		return -ERANGE;
	days = floor_div(secs, CALENDAR_SECS_PER_DAY);
	rem = secs - days * CALENDAR_SECS_PER_DAY; /* 0..86399 even before 1970 */
	civil_from_days(days, &t);
	t.hour = (int)(rem / 3600);
	t.min = (int)(rem / 60 % 60);
	t.sec = (int)(rem % 60);
	*out = t;
	return 0;
}

int calendar_weekday(const struct civil_time *t)
{
	s64 days;

	if (!calendar_valid(t))
		return -EINVAL;
	days = days_from_civil(t->year, t->month, t->day);
	return (int)(days + EPOCH_WEEKDAY - floor_div(days + EPOCH_WEEKDAY, 7) * 7);
}

/* Write @v as exactly @width decimal digits at @p; returns the end. */
static char *put_digits(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

int calendar_format(const struct civil_time *t, char *buf, size_t size)
{
	char *p = buf;
	int rc = 0;

	if (!calendar_valid(t))
		rc = -EINVAL;
	else if (size < CALENDAR_FMT_SIZE)
		rc = -ENOSPC;
	if (rc) {
		if (size)
			buf[0] = '\0';
		return rc;
	}
	p = put_digits(p, t->year, 4);
	*p++ = '-';
	p = put_digits(p, t->month, 2);
	*p++ = '-';
	p = put_digits(p, t->day, 2);
	*p++ = ' ';
	p = put_digits(p, t->hour, 2);
	*p++ = ':';
	p = put_digits(p, t->min, 2);
	*p++ = ':';
	p = put_digits(p, t->sec, 2);
	*p = '\0';
	return 0;
}

int bcd_to_bin(u8 bcd)
{
	if ((bcd >> 4) > 9 || (bcd & 0x0f) > 9)
		return -EINVAL;
	return (bcd >> 4) * 10 + (bcd & 0x0f);
}

int bin_to_bcd(int value)
{
	if (value < 0 || value > 99)
		return -EINVAL;
	return ((value / 10) << 4) | (value % 10);
}

/* One register's value in the format status B selects; -EINVAL if it has none. */
static int rtc_field(u8 raw, bool binary)
{
	if (binary)
		return raw <= 99 ? raw : -EINVAL;
	return bcd_to_bin(raw);
}

/*
 * The hour register: in 12-hour mode bit 7 is PM and the rest counts
 * 1..12, where 12 AM is midnight (hour 0) and 12 PM is noon (hour 12).
 * In 24-hour mode bit 7 must be clear.
 */
static int rtc_hour(u8 raw, u8 status_b)
{
	bool binary = status_b & RTC_STATUS_B_BINARY;
	bool pm = raw & RTC_HOUR_PM;
	int h;

	if (status_b & RTC_STATUS_B_24H)
		return pm ? -EINVAL : rtc_field(raw, binary);
	h = rtc_field(raw & ~RTC_HOUR_PM, binary);
	if (h < 1 || h > 12)
		return -EINVAL;
	return h % 12 + (pm ? 12 : 0);
}

/*
 * The century register is optional (its index comes from the ACPI FADT and
 * may be absent), so only a value that decodes to a plausible century is
 * believed; anything else means "not there", and the RTC's two-digit year
 * is taken to be in the default century.
 */
static int rtc_century(u8 raw, bool binary)
{
	int c = rtc_field(raw, binary);

	if (c < RTC_CENTURY_MIN || c > RTC_CENTURY_MAX)
		return RTC_CENTURY_DEFAULT;
	return c;
}

int calendar_decode_rtc(const struct calendar_rtc_regs *r, struct civil_time *out)
{
	bool binary = r->status_b & RTC_STATUS_B_BINARY;
	int year = rtc_field(r->year, binary);
	struct civil_time t = {
		.month = rtc_field(r->month, binary),
		.day = rtc_field(r->day, binary),
		.hour = rtc_hour(r->hour, r->status_b),
		.min = rtc_field(r->min, binary),
		.sec = rtc_field(r->sec, binary),
	};

	/* A failed field is negative, which calendar_valid() rejects. */
	if (year < 0)
		return -EINVAL;
	t.year = rtc_century(r->century, binary) * 100 + year;
	if (!calendar_valid(&t))
		return -EINVAL;
	*out = t;
	return 0;
}
