/*
 * rtc.c — reading the CMOS real-time clock without tearing.
 *
 * The clock is reached through an index port (0x70: bit 7 masks NMI, bits
 * 0..6 select a register) and a data port (0x71).  Once a second it
 * advances its time registers, and for up to ~2 ms around that it sets UIP
 * (status A bit 7); reads during the update can return a mix of the old
 * and new time (59 seconds with the new minute).  The datasheet promises
 * that once UIP reads clear, no update begins for at least 244 µs, enough
 * for the eight reads of one snapshot on real hardware.
 *
 * On a virtual machine that promise is weaker: the vCPU can be descheduled
 * between any two reads.  So a time is accepted only when two consecutive
 * snapshots, each started with UIP clear, are identical — the clock did not
 * move between them, so neither was torn.  Every wait is bounded: UIP is
 * polled RTC_UIP_POLLS times (each poll is a few ISA port accesses, about a
 * microsecond or more apiece on hardware, so this is well over the 2 ms an
 * update may take), and snapshots are compared RTC_READ_TRIES times.
 *
 * cmos_lock makes the index write and the data read one step; without it a
 * second CPU could move the index in between.  Bit 7 of the index is set
 * during our accesses so an NMI cannot arrive between the two halves either.
 * Port 0x70 is write-only on most chipsets, so the previous NMI mask cannot
 * be read back; this kernel never masks NMI through it, so on release the
 * bit is left clear (NMI enabled), and the index parked on status D, a
 * read-only register, so a stray write to port 0x71 cannot corrupt the time.
 *
 * Decoding the raw bytes (BCD or binary, 12- or 24-hour, the century) is
 * calendar_decode_rtc() in lib/calendar.c, tested on the host.
 */
#include "drivers/rtc.h"
#include "errno.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_NMI_DISABLE 0x80

#define RTC_REG_SEC 0x00
#define RTC_REG_MIN 0x02
#define RTC_REG_HOUR 0x04
#define RTC_REG_DAY 0x07
#define RTC_REG_MONTH 0x08
#define RTC_REG_YEAR 0x09
#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_D 0x0D
#define RTC_REG_CENTURY 0x32 /* the usual FADT century index */

#define RTC_A_UIP 0x80 /* update in progress */
#define RTC_D_VRT 0x80 /* valid RAM and time: the battery held */

#define RTC_UIP_POLLS 100000
#define RTC_READ_TRIES 8

static spinlock_t cmos_lock = SPINLOCK_INIT("cmos"); /* protects the index/data port pair */
static bool rtc_warned_battery, rtc_warned_garbage;

/* One register, with NMI masked while the index is set.  cmos_lock held. */
static u8 cmos_read(u8 reg)
{
	outb(CMOS_INDEX, CMOS_NMI_DISABLE | reg);
	return inb(CMOS_DATA);
}

/* Unmask NMI and park the index on read-only status D.  cmos_lock held. */
static void cmos_release(void)
{
	outb(CMOS_INDEX, RTC_REG_D);
}

/* Read the time registers unless an update is in progress (-EAGAIN). */
static int rtc_snapshot(struct calendar_rtc_regs *r)
{
	u64 flags = spin_lock_irqsave(&cmos_lock);
	int rc = -EAGAIN;

	if (!(cmos_read(RTC_REG_A) & RTC_A_UIP)) {
		r->sec = cmos_read(RTC_REG_SEC);
		r->min = cmos_read(RTC_REG_MIN);
		r->hour = cmos_read(RTC_REG_HOUR);
		r->day = cmos_read(RTC_REG_DAY);
		r->month = cmos_read(RTC_REG_MONTH);
		r->year = cmos_read(RTC_REG_YEAR);
		r->century = cmos_read(RTC_REG_CENTURY);
		r->status_b = cmos_read(RTC_REG_B);
		rc = 0;
	}
	cmos_release();
	spin_unlock_irqrestore(&cmos_lock, flags);
	return rc;
}

/* A snapshot taken with UIP clear; -ETIMEDOUT if it never clears. */
static int rtc_snapshot_settled(struct calendar_rtc_regs *r)
{
	for (unsigned i = 0; i < RTC_UIP_POLLS; i++) {
		if (rtc_snapshot(r) == 0)
			return 0;
		cpu_relax();
	}
	return -ETIMEDOUT;
}

static bool rtc_regs_equal(const struct calendar_rtc_regs *a, const struct calendar_rtc_regs *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
	       a->day == b->day && a->month == b->month && a->year == b->year &&
	       a->century == b->century && a->status_b == b->status_b;
}

/* Two identical consecutive snapshots into *@r, or -EIO / -ETIMEDOUT. */
static int rtc_read_stable(struct calendar_rtc_regs *r)
{
	struct calendar_rtc_regs prev;
	int rc = rtc_snapshot_settled(&prev);

	for (unsigned i = 0; !rc && i < RTC_READ_TRIES; i++) {
		rc = rtc_snapshot_settled(r);
		if (!rc && rtc_regs_equal(&prev, r))
			return 0;
		prev = *r;
	}
	return rc ? rc : -EIO;
}

/*
 * A clear VRT bit means the battery failed at some point: the time is then
 * whatever the firmware reset it to.  Still a time, so it is returned, but
 * said once in dmesg so that a 2000-01-01 clock is explained.
 */
static void rtc_check_battery(void)
{
	u64 flags;
	u8 d;

	if (rtc_warned_battery)
		return;
	flags = spin_lock_irqsave(&cmos_lock);
	d = cmos_read(RTC_REG_D);
	cmos_release();
	spin_unlock_irqrestore(&cmos_lock, flags);
	if (!(d & RTC_D_VRT)) {
		rtc_warned_battery = true;
		pr_warn("rtc: status D %#x: the battery lost power; the time may be a reset default",
			d);
	}
}

int rtc_read(struct civil_time *out)
{
	struct calendar_rtc_regs r;
	int rc = rtc_read_stable(&r);

	if (rc) {
		pr_warn("rtc: no stable reading (%s)", errno_name(rc));
		return rc;
	}
	rtc_check_battery();
	if (calendar_decode_rtc(&r, out)) {
		if (!rtc_warned_garbage)
			pr_warn("rtc: undecodable time %02x:%02x:%02x %02x/%02x/%02x%02x, status B %#x",
				r.hour, r.min, r.sec, r.day, r.month, r.century, r.year,
				r.status_b);
		rtc_warned_garbage = true;
		return -EIO;
	}
	return 0;
}

int rtc_read_unix(s64 *out)
{
	struct civil_time t;
	int rc = rtc_read(&t);

	if (rc)
		return rc;
	/* A decoded RTC time is always valid, so this cannot fail. */
	return calendar_to_unix(&t, out);
}
