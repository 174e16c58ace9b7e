"""
test_watchdog.py — the lockup detector catches a stuck CPU and says where.

`hang <cpu> <seconds> [irqoff|preemptoff]` starts a task pinned to <cpu>
that spins with interrupts off (the CPU stops ticking: a hard lockup, seen
by another CPU, reported through an NMI) or with preemption off (it ticks
but cannot switch: a soft lockup, seen by its own tick).  The shell waits
for the task, so the prompt comes back only when the CPU is free again.

What is checked, from the contract:
  hang       prints "cpu<N> stuck for <S> s with interrupts off" (irqoff,
             the default) or "... with preemption off", blocks the shell at
             least that long (guest clock), then the prompt returns and no
             'hang' task is left in `ps`.  Bad CPU, seconds or mode: an
             error line starting "hang: " naming the bad value, nothing
             hangs, the shell keeps working.  Numbers are checked in
             their full width ("hang 4294967296 1" is not cpu0): "hang: cpu
             must be 0-<last online>, not '<arg>'", "hang: seconds must be
             1-30, not '<arg>'"; 0x hex is accepted.
  reports    -smp 2: `hang 1 4 irqoff` -> one new dmesg line "watchdog: hard
             lockup: no timer tick for 2 s (interrupts off?) on cpu1 in task
             'hang' (pid <n>)", right after it a backtrace ("  #0 0x...
             hang_task+0x...", frames at the ELF's addresses); `hang 1 4
             preemptoff` -> "watchdog: soft lockup: preemption off for 2 s on
             cpu1 in task 'hang' (pid <n>)" and its backtrace; `hang 0 4
             irqoff` (the shell's own CPU) is caught too.  A 1 s hang is
             below the 2 s threshold and reported by nobody.
  watchdog   "watchdog: timeout 2 s; hard and soft lockups" (-smp 2) or
             "...; soft lockups only ..." (-smp 1), then per online CPU
             "cpu<N>: ticks <t>, last seen moving <ms> ms ago, hard lockups
             <h>, soft lockups <s>"; each report above adds exactly one to
             the right count of the right CPU and nothing elsewhere.
  -smp 1     `hang 0 3 preemptoff` is reported as a soft lockup; `hang 0 3
             irqoff` has no witness: nothing reported, the machine recovers.

The counts are compared before and after each hang, so the tests do not
depend on their order even though they share one VM per CPU count.
"""

import re
import time

import pytest

import nos_harness as nh

WD_HEAD_RE = re.compile(r"^watchdog: timeout 2 s; (.+)$")
WD_CPU_RE = re.compile(r"^cpu(\d+): ticks (\d+), last seen moving (\d+) ms ago, "
                       r"hard lockups (\d+), soft lockups (\d+)$")
HARD_RE = (r"^watchdog: hard lockup: no timer tick for 2 s \(interrupts off\?\) "
           r"on cpu{cpu} in task 'hang' \(pid (\d+)\)$")
SOFT_RE = (r"^watchdog: soft lockup: preemption off for 2 s on cpu{cpu} in task "
           r"'hang' \(pid (\d+)\)$")
FRAME_RE = re.compile(
    r"^  #(\d+) 0x([0-9a-f]{16})(?: (\S+?)\+0x([0-9a-f]+)/0x([0-9a-f]+))?$")
UPTIME_RE = re.compile(r"\(([0-9]+\.[0-9]+) s\)")
MODE_TEXT = {"irqoff": "interrupts off", "preemptoff": "preemption off"}


# ------------------------------------------------------------- helpers ----

def watchdog(vm):
    """`watchdog` -> (mode text, {cpu: (hard, soft)}, output)."""
    out = vm.run("watchdog")
    lines = out.split("\n")
    head = WD_HEAD_RE.match(lines[0])
    assert head, f"first line of watchdog:\n{out}"
    counts = {}
    for line in lines[1:]:
        m = WD_CPU_RE.match(line)
        assert m, f"malformed watchdog line {line!r}:\n{out}"
        counts[int(m.group(1))] = (int(m.group(4)), int(m.group(5)))
    return head.group(1), counts, out


def dmesg(vm):
    """The dmesg messages as [(cpu, function, text)]."""
    msgs = []
    for line in vm.run_lines("dmesg"):
        m = nh.DMESG_LINE_RE.match(line)
        assert m, f"malformed dmesg line {line!r}"
        msgs.append((int(m.group(1)), m.group(4), m.group(5)))
    return msgs


def uptime(vm):
    out = vm.run("uptime")
    m = UPTIME_RE.search(out)
    assert m, f"uptime: {out!r}"
    return float(m.group(1))


def hang(vm, cpu, secs, mode=None):
    """Run `hang`; check its line, that it blocked >= @secs (guest clock),
    and that its task is gone.  Returns the dmesg messages it added."""
    logged = len(dmesg(vm))
    t0 = uptime(vm)
    cmd = f"hang {cpu} {secs}" + (f" {mode}" if mode else "")
    out = vm.run(cmd, timeout=secs + nh.CMD_TIMEOUT * nh.timeout_scale())
    t1 = uptime(vm)
    assert out == f"cpu{cpu} stuck for {secs} s with " \
                  f"{MODE_TEXT[mode or 'irqoff']}", out
    assert t1 - t0 >= secs, \
        f"`{cmd}` returned after {t1 - t0:.3f} s of guest time"
    assert "hang" not in [l.split()[1] for l in vm.run_lines("ps")[1:]], \
        vm.run("ps")
    return dmesg(vm)[logged:]


def find_report(new, pattern, cpu, symbols):
    """The one report matching @pattern among the @new dmesg messages, and
    the backtrace right after it; checks the frames against the ELF."""
    rx = re.compile(pattern.format(cpu=cpu))
    text = "\n".join(m[2] for m in new)
    hits = [i for i, m in enumerate(new) if rx.match(m[2])]
    assert len(hits) == 1, f"{len(hits)} reports matching {rx.pattern!r}:\n{text}"
    frames = []
    for _, _, msg in new[hits[0] + 1:]:
        f = FRAME_RE.match(msg)
        if not f:
            break
        frames.append(f)
    assert frames, f"no backtrace right after the report:\n{text}"
    assert [int(f.group(1)) for f in frames] == list(range(len(frames))), text
    for f in frames:
        if f.group(3):
            addr, off = int(f.group(2), 16), int(f.group(4), 16)
            assert addr - off in symbols.get(f.group(3), []), \
                f"{f.group(0)}: not where the ELF has {f.group(3)}\n{text}"
    assert "hang_task" in [f.group(3) for f in frames], text
    assert any("hang_task+0x" in f.group(0) for f in frames), text
    return rx.match(new[hits[0]][2]), text


def delta(before, after):
    """{cpu: (hard, soft)} increments between two `watchdog` calls."""
    assert sorted(before) == sorted(after), (before, after)
    return {c: (after[c][0] - before[c][0], after[c][1] - before[c][1])
            for c in before}


# -------------------------------------------------------------- -smp 2 ----

def test_watchdog_state_on_two_cpus(module_boot_vm):
    vm = module_boot_vm(smp=2)
    mode, counts, out = watchdog(vm)
    assert mode == "hard and soft lockups", out
    assert sorted(counts) == [0, 1], out


def test_hard_lockup_on_another_cpu(module_boot_vm, symbols):
    vm = module_boot_vm(smp=2)
    _, before, _ = watchdog(vm)
    new = hang(vm, 1, 4, "irqoff")
    find_report(new, HARD_RE, 1, symbols)
    assert not [m for m in new if "soft lockup" in m[2]], new
    _, after, out = watchdog(vm)
    assert delta(before, after) == {0: (0, 0), 1: (1, 0)}, out


def test_soft_lockup_on_another_cpu(module_boot_vm, symbols):
    vm = module_boot_vm(smp=2)
    _, before, _ = watchdog(vm)
    new = hang(vm, 1, 4, "preemptoff")
    find_report(new, SOFT_RE, 1, symbols)
    # Interrupts stayed on: cpu1 kept ticking, so no hard lockup.
    assert not [m for m in new if "hard lockup" in m[2]], new
    _, after, out = watchdog(vm)
    assert delta(before, after) == {0: (0, 0), 1: (0, 1)}, out


def test_hard_lockup_of_the_shells_cpu(module_boot_vm, symbols):
    vm = module_boot_vm(smp=2)
    shell = [l.split() for l in vm.run_lines("ps")[1:] if l.split()[1] == "shell"]
    assert shell and shell[0][3] == "0", "the shell is expected on cpu0"
    _, before, _ = watchdog(vm)
    new = hang(vm, 0, 4, "irqoff")
    find_report(new, HARD_RE, 0, symbols)
    _, after, out = watchdog(vm)
    assert delta(before, after) == {0: (1, 0), 1: (0, 0)}, out


def test_default_mode_and_a_short_hang_is_no_lockup(module_boot_vm):
    vm = module_boot_vm(smp=2)
    _, before, _ = watchdog(vm)
    new = hang(vm, 1, 1)                 # irqoff by default; 1 s < 2 s
    assert not [m for m in new if "watchdog" in m[2]], new
    _, after, out = watchdog(vm)
    assert delta(before, after) == {0: (0, 0), 1: (0, 0)}, out


RANGES = {"cpu": "0-1", "seconds": "1-30"}  # -smp 2


@pytest.mark.parametrize("args, bad, what", [
    ("7 3", "'7'", "cpu"),            # no such CPU with -smp 2
    ("1 99", "'99'", "seconds"),      # seconds out of range
    ("1 0", "'0'", "seconds"),
    ("1 3 bogus", "'bogus'", None),   # unknown mode
    ("x 3", "'x'", "cpu"),
    # Hostile finding #2: numbers are checked in their full width, never
    # cut to 32 bits first (2^32 would have been cpu0, 2^32 + 1 cpu1).
    ("4294967296 1", "'4294967296'", "cpu"),
    ("4294967297 1", "'4294967297'", "cpu"),
    ("0x100000001 1", "'0x100000001'", "cpu"),
    ("18446744073709551616 1", "'18446744073709551616'", "cpu"),   # 2^64
    ("18446744073709551617 1", "'18446744073709551617'", "cpu"),   # 2^64 + 1
    ("-1 1", "'-1'", "cpu"),
    ("'' 1", "''", "cpu"),
    ("1 ''", "''", "seconds"),
    ("1 4294967297", "'4294967297'", "seconds"),
    ("1 0x1f", "'0x1f'", "seconds"),
])
def test_hang_bad_arguments(module_boot_vm, args, bad, what):
    vm = module_boot_vm(smp=2)
    _, before, _ = watchdog(vm)
    lines = vm.run_lines(f"hang {args}", timeout=5 * nh.timeout_scale())
    assert lines and lines[0].startswith("hang: ") and bad in lines[0], lines
    if what:
        assert lines[0] == f"hang: {what} must be {RANGES[what]}, not {bad}", lines
    assert "stuck" not in "\n".join(lines), lines
    assert lines[-1].startswith("usage: hang "), lines
    _, after, out = watchdog(vm)
    assert delta(before, after) == {0: (0, 0), 1: (0, 0)}, out
    assert vm.run("version").startswith("nos ")


def test_hex_arguments_are_numbers_too(module_boot_vm):
    vm = module_boot_vm(smp=2)
    out = vm.run("hang 0x1 0x1", timeout=nh.CMD_TIMEOUT * nh.timeout_scale())
    assert out == "cpu1 stuck for 1 s with interrupts off", out


# -------------------------------------------------------------- -smp 1 ----

def test_watchdog_state_on_one_cpu(module_boot_vm):
    vm = module_boot_vm(smp=1)
    mode, counts, out = watchdog(vm)
    assert mode.startswith("soft lockups only"), out
    assert sorted(counts) == [0], out
    lines = vm.run_lines("hang 1 3", timeout=5 * nh.timeout_scale())
    assert lines[0] == "hang: cpu must be 0, not '1'", lines


def test_soft_lockup_on_one_cpu(module_boot_vm, symbols):
    vm = module_boot_vm(smp=1)
    _, before, _ = watchdog(vm)
    new = hang(vm, 0, 3, "preemptoff")
    find_report(new, SOFT_RE, 0, symbols)
    _, after, out = watchdog(vm)
    assert delta(before, after) == {0: (0, 1)}, out


def test_interrupts_off_on_one_cpu_has_no_witness(module_boot_vm):
    vm = module_boot_vm(smp=1)
    _, before, _ = watchdog(vm)
    new = hang(vm, 0, 3, "irqoff")
    assert not [m for m in new if "watchdog" in m[2]], new
    _, after, out = watchdog(vm)
    assert delta(before, after) == {0: (0, 0)}, out
    # The CPU ticks again afterwards.
    ticks = [int(WD_CPU_RE.match(l).group(2))
             for l in out.split("\n")[1:]]
    time.sleep(0.5)
    _, _, out2 = watchdog(vm)
    ticks2 = [int(WD_CPU_RE.match(l).group(2)) for l in out2.split("\n")[1:]]
    assert ticks2[0] > ticks[0], (out, out2)
