"""
test_time.py — the kernel's clocks tell the time the host tells.

`uptime` reads the monotonic clock (TSC, kvmclock or the PIT tick count,
whichever the kernel chose); `date` reads the wall clock, which starts from
the CMOS RTC.  QEMU's RTC follows the host's UTC clock (`-rtc base=utc`), or
starts from a given date (`-rtc base=2035-06-15T12:00:00`) and runs on at
the host's rate.

The host's side is measured with time.monotonic() / time.time() taken just
before a command is sent and just after its output came back, so the
guest's reading must fall inside that window, widened by the tolerance:
  uptime     elapsed guest seconds between two calls >= 5 s apart are the
             host's elapsed seconds within 10%
  date       the host's UTC time within 5 s; "booted" is the time at boot,
             i.e. the date minus the uptime (within the seconds' rounding)
These tolerances are about the clock being right, not about speed.

What is checked, from the contract:
  uptime     "up H:MM:SS.mmm (<seconds>.<ms> s), <n> PIT ticks, clock:
             <TSC|kvmclock|PIT>", both renderings of the same instant,
             never going back, the PIT ticks rising
  date       "YYYY-MM-DD HH:MM:SS UTC" then "booted YYYY-MM-DD HH:MM:SS UTC";
             the host's UTC; a 2035 base date; across the turn of the
             century (1999 -> 2000); past 2038-01-19 03:14:07 (Y2038)
"""

import datetime as dt
import re
import time

import pytest

UPTIME_RE = re.compile(r"^up (\d+):(\d{2}):(\d{2})\.(\d{3}) \((\d+)\.(\d{3}) s\), "
                       r"(\d+) PIT ticks, clock: (TSC|kvmclock|PIT)$")
DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) UTC$")
BOOTED_RE = re.compile(r"^booted (\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) "
                       r"UTC$")
GAP = 6.0          # seconds between the two readings of a rate check
RATE_TOL = 0.10    # the contract's 10%
WALL_TOL = 5.0     # the contract's "a few seconds" for the RTC
UTC = dt.timezone.utc


def uptime(vm):
    """Run `uptime`; return (seconds as float, PIT ticks, clock, host
    monotonic before sending, host monotonic after the reply)."""
    t0 = time.monotonic()
    out = vm.run("uptime")
    t1 = time.monotonic()
    m = UPTIME_RE.match(out)
    assert m, f"uptime output {out!r} does not match the contract"
    h, mi, s, ms, secs, ms2, ticks, clock = m.groups()
    total = int(h) * 3600 + int(mi) * 60 + int(s)
    assert int(mi) < 60 and int(s) < 60, out
    assert total == int(secs) and ms == ms2, \
        f"the two renderings disagree: {out!r}"
    return int(secs) + int(ms) / 1000.0, int(ticks), clock, t0, t1


def _stamp(groups):
    y, mo, d, h, mi, s = (int(g) for g in groups)
    try:
        return dt.datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError as e:
        pytest.fail(f"the guest printed an impossible time {groups}: {e}")


def date(vm):
    """Run `date`; return (now, booted, host UTC before, host UTC after)."""
    before = dt.datetime.now(UTC)
    lines = vm.run_lines("date")
    after = dt.datetime.now(UTC)
    assert len(lines) >= 2, f"date printed {lines}"
    m = DATE_RE.match(lines[0])
    assert m, f"first line {lines[0]!r} is not 'YYYY-MM-DD HH:MM:SS UTC'"
    b = BOOTED_RE.match(lines[1])
    assert b, f"second line {lines[1]!r} is not 'booted YYYY-MM-DD HH:MM:SS UTC'"
    return _stamp(m.groups()), _stamp(b.groups()), before, after


def within(guest, lo, hi, tol):
    """@guest (whole seconds) lies in [lo - tol, hi + tol]."""
    return lo - dt.timedelta(seconds=tol + 1) <= guest <= \
        hi + dt.timedelta(seconds=tol)


@pytest.fixture
def vm(module_boot_vm):
    return module_boot_vm(smp=2, extra_args=["-rtc", "base=utc"])


# -------------------------------------------------------------- uptime ----

def test_uptime_format(vm):
    secs, ticks, clock, _, _ = uptime(vm)
    assert secs > 0 and ticks >= 0


def test_uptime_never_goes_back(vm):
    last = -1.0
    for _ in range(10):
        secs, _, _, _, _ = uptime(vm)
        assert secs >= last, f"uptime went back: {last} -> {secs}"
        last = secs


def test_uptime_follows_the_host_clock(vm):
    g0, p0, _, a0, b0 = uptime(vm)
    time.sleep(GAP)
    g1, p1, _, a1, b1 = uptime(vm)
    guest = g1 - g0
    # The host interval between the two readings lies in [a1 - b0, b1 - a0].
    lo, hi = a1 - b0, b1 - a0
    assert lo * (1 - RATE_TOL) <= guest <= hi * (1 + RATE_TOL), \
        f"guest {guest:.3f} s while the host took {lo:.3f}..{hi:.3f} s"
    assert p1 > p0, f"PIT ticks did not rise: {p0} -> {p1}"


def test_uptime_agrees_with_date(vm):
    """The monotonic clock and the RTC run at the same rate."""
    d0, _, _, _ = date(vm)
    g0, _, _, _, _ = uptime(vm)
    time.sleep(GAP)
    d1, _, _, _ = date(vm)
    g1, _, _, _, _ = uptime(vm)
    wall = (d1 - d0).total_seconds()
    # Each date reading is whole seconds: up to 1 s lost at each end.
    assert wall - 2 <= g1 - g0 <= wall + 2, \
        f"RTC advanced {wall} s, uptime {g1 - g0:.3f} s"


# ---------------------------------------------------------------- date ----

def test_date_is_the_host_utc_time(vm):
    now, _, before, after = date(vm)
    assert within(now, before, after, WALL_TOL), \
        f"guest {now}, host {before}..{after}"


def test_date_booted_is_now_minus_uptime(vm):
    now, booted, _, _ = date(vm)
    secs, _, _, _, _ = uptime(vm)
    assert booted <= now, f"booted {booted} after now {now}"
    since = (now - booted).total_seconds()
    # `date` comes before `uptime`; whole seconds on both RTC readings.
    assert since - 2 <= secs <= since + 2 + 5, \
        f"now - booted = {since} s, uptime {secs} s"


def test_date_booted_does_not_move(vm):
    _, b0, _, _ = date(vm)
    time.sleep(1.5)
    _, b1, _, _ = date(vm)
    assert abs((b1 - b0).total_seconds()) <= 1, f"booted moved: {b0} -> {b1}"


# QEMU keeps the -rtc base offset from the host's clock in an int, so a
# base more than 68 years away wraps around (2100 comes out as 1964): the
# other century is reached from 1999 instead.
@pytest.mark.parametrize("base,day", [
    ("2035-06-15T12:00:00", "2035-06-15"),   # the contract's case
    ("1999-12-31T23:59:59", "2000-01-01"),   # the century register moves on
    ("2038-01-19T03:14:05", "2038-01-19"),   # past 2^31 s of Unix time
])
def test_date_follows_an_rtc_base(boot_vm, base, day):
    """The RTC starts at @base when QEMU starts and runs at the host rate.

    The date is read at least 3.5 s after QEMU started, so 1999-12-31
    23:59:59 has become 2000-01-01 and 2038-01-19 03:14:05 is past
    03:14:07, the last second a signed 32-bit Unix time can hold.
    """
    vm = boot_vm(extra_args=["-rtc", f"base={base}"])
    start = dt.datetime.fromisoformat(base).replace(tzinfo=UTC)
    wait = vm.t_spawn + 3.5 - time.monotonic()
    if wait > 0:
        time.sleep(wait)
    t0 = time.monotonic()
    now, booted, _, _ = date(vm)
    t1 = time.monotonic()
    lo = start + dt.timedelta(seconds=t0 - vm.t_spawn)
    hi = start + dt.timedelta(seconds=t1 - vm.t_spawn)
    assert now.date().isoformat() == day, f"guest {now}, expected {lo}..{hi}"
    assert within(now, lo, hi, WALL_TOL), f"guest {now}, expected {lo}..{hi}"
    assert within(booted, start, now, WALL_TOL) and booted <= now, \
        f"booted {booted}, RTC started at {start}, now {now}"
