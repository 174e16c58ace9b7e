"""
test_tasks.py — tasks as a person sees them: `ps`, `bt <pid>` and
`schedbench`.

`ps` is the scheduler's own bookkeeping, so a row per task with the right
CPU and pinning shows that every CPU got its idle and SoftIrq task; CPU
time that grows shows the accounting runs.  `bt` walks a switched-out
task's switch frame, or asks the CPU a task is running on for the frame it
interrupted: symbolized frames that match bin/kernel64.elf show both paths
work.  `schedbench` starts and joins its own tasks; none may be left over.

What is checked, from the contract:
  ps          header "  PID NAME             STATE    CPU   CPU TIME(s)
              SWITCHES", then per task: pid, name, state (running | ready |
              blocked | idle | dead), CPU, CPU seconds with milliseconds,
              switches, " (pinned)" for pinned tasks.  With -smp N (1, 2, 4)
              exactly idle/0..N-1, softirq/0..N-1 (each pinned to its CPU)
              and shell, besides at most one task per kernel service
              (random, nanofs-sync); pids unique; the shell's own row says running.
              Two calls a second apart: every idle task's CPU time grew, no
              CPU time or switch count went down.
  bt <pid>    "task <pid>[ (running)]:" then "  #<n> 0x<16 hex>
              <symbol>+0x<off>/0x<size>" frames, numbered from 0, each at
              the ELF's address of its symbol plus the offset.  idle/1 on
              -smp 2 is running on cpu1 and shows idle_loop (asked many
              times in a row: the cross-CPU path must not give up); the
              blocked softirq/0 shows __schedule+0x and softirq_task; the
              shell can trace itself; every task in `ps` can be traced.
              "bt 99999" -> "bt: no task with pid 99999"; "bt abc" (or -1,
              '', 2^31, 2^32 + 1, 2^64 + 1) -> "bt: pid must be
              0-2147483647, not 'abc'" and a usage line.
  schedbench  "context switch: <ns> ns (...)", "cross-cpu wakeup: <ns> ns
              (...)", "fairness spread: <p>% (...)" on -smp 2; afterwards
              `ps` lists exactly the tasks it listed before (the bench tasks
              were joined) and their pids are gone.  The figures themselves
              are scripts/bench.py's business.
"""

import re
import time

import pytest

import nos_harness as nh

PS_HEADER = "  PID NAME             STATE    CPU   CPU TIME(s)   SWITCHES"
PS_ROW_RE = re.compile(
    r"^ *(\d+) (\S+) +(running|ready|blocked|idle|dead) +(\d+) +(\d+)\.(\d{3})"
    r" +(\d+)( \(pinned\))?$")
FRAME_RE = re.compile(
    r"^  #(\d+) 0x([0-9a-f]{16})(?: (\S+?)\+0x([0-9a-f]+)/0x([0-9a-f]+))?$")
BT_HEAD_RE = re.compile(r"^task (\d+)( \(running\))?:$")

# Kernel services with tasks of their own, besides the per-CPU idle and
# SoftIrq tasks and the shell: the CSPRNG's reseeder, nanofs's periodic sync,
# the UDP shell's runners and resender (the default ISO starts udpshell=9000).
SERVICE_TASKS = {"random", "nanofs-sync", "udpsh/0", "udpsh/1", "udpsh/2", "udpsh/3",
                 "udpsh-resend"}

SCHEDBENCH_RES = {
    "switch": re.compile(r"^context switch: (\d+) ns \((.+)\)$"),
    "wakeup": re.compile(r"^cross-cpu wakeup: (\d+) ns \(cpu(\d+) -> cpu(\d+)\)$"),
    "fairness": re.compile(r"^fairness spread: (\d+)% \((.+)\)$"),
}


# ------------------------------------------------------------- parsing ----

def ps(vm):
    """`ps` -> [{pid, name, state, cpu, ns, switches, pinned}] in its order."""
    out = vm.run("ps")
    lines = out.split("\n")
    assert lines[0] == PS_HEADER, f"ps header is {lines[0]!r}:\n{out}"
    rows = []
    for line in lines[1:]:
        m = PS_ROW_RE.match(line)
        assert m, f"malformed ps row {line!r}:\n{out}"
        rows.append({"pid": int(m.group(1)), "name": m.group(2),
                     "state": m.group(3), "cpu": int(m.group(4)),
                     "ns": int(m.group(5)) * 10**9 + int(m.group(6)) * 10**6,
                     "switches": int(m.group(7)), "pinned": bool(m.group(8)),
                     "line": line})
    assert rows, f"ps lists no task:\n{out}"
    pids = [r["pid"] for r in rows]
    assert len(set(pids)) == len(pids), f"pids not unique:\n{out}"
    return rows


def by_name(rows, name):
    found = [r for r in rows if r["name"] == name]
    assert len(found) == 1, f"{len(found)} tasks named {name!r}: " \
                            f"{[r['line'] for r in rows]}"
    return found[0]


def bt(vm, pid):
    """`bt <pid>` -> (running, [nh.Frame], text); fails on a malformed line."""
    out = vm.run(f"bt {pid}")
    lines = out.split("\n")
    head = BT_HEAD_RE.match(lines[0])
    assert head and int(head.group(1)) == pid, \
        f"bt {pid}: first line is not 'task {pid}[ (running)]:'\n{out}"
    frames = []
    for line in lines[1:]:
        f = FRAME_RE.match(line)
        assert f, f"bt {pid}: malformed frame line {line!r}\n{out}"
        frames.append(nh.Frame(
            int(f.group(1)), int(f.group(2), 16), f.group(3),
            int(f.group(4), 16) if f.group(4) else None,
            int(f.group(5), 16) if f.group(5) else None, line))
    return bool(head.group(2)), frames, out


def check_frames(frames, symbols, text):
    """Frames numbered from 0, symbolized ones where the ELF says."""
    assert frames, f"no frames:\n{text}"
    assert [f.index for f in frames] == list(range(len(frames))), text
    assert frames[0].symbol, f"frame #0 is not symbolized:\n{text}"
    for f in frames:
        if not f.symbol:
            continue
        addrs = symbols.get(f.symbol, [])
        assert f.addr - f.offset in addrs, \
            f"{f.line}: {f.symbol} is at {[hex(a) for a in addrs]} in the ELF" \
            f"\n{text}"
        # A return address right after a call to a noreturn function is the
        # function's end, so offset == size is fine.
        assert f.offset <= f.size, f"{f.line}: offset beyond the symbol\n{text}"


def named(frames):
    return [f.symbol for f in frames if f.symbol]


def schedbench(vm):
    """`schedbench` -> {kind: match}; every line must be one of the three."""
    lines = vm.run_lines("schedbench", timeout=120)
    found = {}
    for line in lines:
        kinds = [k for k, rx in SCHEDBENCH_RES.items() if rx.match(line)]
        assert len(kinds) == 1 and kinds[0] not in found, \
            f"unexpected schedbench line {line!r}:\n" + "\n".join(lines)
        found[kinds[0]] = SCHEDBENCH_RES[kinds[0]].match(line)
    return found, lines


# ------------------------------------------------------------------ ps ----

@pytest.mark.parametrize("n", [1, 2, 4])
def test_ps_lists_idle_softirq_and_shell_per_cpu(module_boot_vm, n):
    vm = module_boot_vm(smp=n)
    rows = ps(vm)
    names = sorted(r["name"] for r in rows if r["name"] not in SERVICE_TASKS)
    expected = sorted([f"idle/{c}" for c in range(n)] +
                      [f"softirq/{c}" for c in range(n)] + ["shell"])
    assert names == expected, "\n".join(r["line"] for r in rows)
    services = [r["name"] for r in rows if r["name"] in SERVICE_TASKS]
    assert len(services) == len(set(services)), "\n".join(r["line"] for r in rows)
    for c in range(n):
        for name in (f"idle/{c}", f"softirq/{c}"):
            r = by_name(rows, name)
            assert r["cpu"] == c and r["pinned"], r["line"]
            assert r["state"] != "dead", r["line"]
        assert by_name(rows, f"idle/{c}")["state"] in ("idle", "running"), \
            by_name(rows, f"idle/{c}")["line"]
    shell = by_name(rows, "shell")
    assert shell["state"] == "running", shell["line"]
    assert 0 <= shell["cpu"] < n, shell["line"]


def test_ps_cpu_time_grows_and_counters_never_go_back(module_boot_vm):
    vm = module_boot_vm(smp=2)
    before = {r["pid"]: r for r in ps(vm)}
    time.sleep(1.0)
    after = {r["pid"]: r for r in ps(vm)}
    assert sorted(before) == sorted(after), (before, after)
    for pid, b in before.items():
        a = after[pid]
        assert a["name"] == b["name"], (b["line"], a["line"])
        assert a["ns"] >= b["ns"] and a["switches"] >= b["switches"], \
            f"went back:\n{b['line']}\n{a['line']}"
        if b["name"].startswith("idle/"):
            assert a["ns"] > b["ns"], \
                f"idle task's CPU time did not grow:\n{b['line']}\n{a['line']}"


def test_ps_takes_no_arguments(module_boot_vm):
    vm = module_boot_vm(smp=2)
    out = vm.run("ps x")
    assert out.startswith("ps: ") and "usage: ps" in out, out
    ps(vm)  # and it still works


# ------------------------------------------------------------------ bt ----

def test_bt_of_an_idle_task_running_on_another_cpu(module_boot_vm, symbols):
    vm = module_boot_vm(smp=2)
    idle1 = by_name(ps(vm), "idle/1")
    assert idle1["cpu"] == 1, idle1["line"]
    # Each call is a cross-CPU call into cpu1; it must work every time.
    for _ in range(10):
        running, frames, text = bt(vm, idle1["pid"])
        assert running, f"idle/1 is not shown running:\n{text}"
        check_frames(frames, symbols, text)
        assert "idle_loop" in named(frames), text


def test_bt_of_a_blocked_softirq_task(module_boot_vm, symbols):
    vm = module_boot_vm(smp=2)
    rows = ps(vm)
    for name in ("softirq/0", "softirq/1"):
        task = by_name(rows, name)
        running, frames, text = bt(vm, task["pid"])
        assert not running, f"{name} is shown running:\n{text}"
        check_frames(frames, symbols, text)
        # A switched-out task's trace starts at its return into the
        # scheduler (__schedule, which schedule() wraps).
        assert frames[0].symbol in ("schedule", "__schedule"), text
        assert "softirq_task" in named(frames), text


def test_bt_of_the_shell_itself(module_boot_vm, symbols):
    vm = module_boot_vm(smp=2)
    shell = by_name(ps(vm), "shell")
    running, frames, text = bt(vm, shell["pid"])
    assert running, f"the shell is not shown running:\n{text}"
    check_frames(frames, symbols, text)
    assert "shell_exec" in named(frames), text


@pytest.mark.parametrize("n", [1, 2, 4])
def test_bt_of_every_task(module_boot_vm, symbols, n):
    vm = module_boot_vm(smp=n)
    for task in ps(vm):
        running, frames, text = bt(vm, task["pid"])
        check_frames(frames, symbols, text)
        if task["name"] == "shell":
            assert running, text
        if task["name"].startswith("softirq/"):
            assert "softirq_task" in named(frames), text


PID_RANGE = "bt: pid must be 0-2147483647, not "


@pytest.mark.parametrize("arg, first", [
    ("99999", "bt: no task with pid 99999"),
    ("0", "bt: no task with pid 0"),
    ("0x1869f", "bt: no task with pid 99999"),
    ("2147483647", "bt: no task with pid 2147483647"),
    ("abc", PID_RANGE + "'abc'"),
    ("-1", PID_RANGE + "'-1'"),
    ("''", PID_RANGE + "''"),
    ("2147483648", PID_RANGE + "'2147483648'"),
    ("4294967296", PID_RANGE + "'4294967296'"),
    ("4294967297", PID_RANGE + "'4294967297'"),  # not pid 1 cut to 32 bits
    ("18446744073709551617", PID_RANGE + "'18446744073709551617'"),
    ("0x100000001", PID_RANGE + "'0x100000001'"),
])
def test_bt_errors(module_boot_vm, arg, first):
    vm = module_boot_vm(smp=2)
    lines = vm.run_lines(f"bt {arg}")
    assert lines[0] == first, lines
    if first.startswith(PID_RANGE):
        assert lines[1:] == ["usage: bt <pid>"], lines
    else:
        assert lines[1:] == [], lines
    assert by_name(ps(vm), "shell")["state"] == "running"


# ---------------------------------------------------------- schedbench ----

def test_schedbench_reports_and_joins_its_tasks(module_boot_vm):
    vm = module_boot_vm(smp=2)
    before = ps(vm)
    found, lines = schedbench(vm)
    assert sorted(found) == ["fairness", "switch", "wakeup"], lines
    assert int(found["switch"].group(1)) > 0, lines
    assert int(found["wakeup"].group(1)) > 0, lines
    assert found["wakeup"].group(2) != found["wakeup"].group(3), lines
    after = ps(vm)
    assert [(r["pid"], r["name"]) for r in after] == \
        [(r["pid"], r["name"]) for r in before], \
        "tasks left over after schedbench:\n" + "\n".join(r["line"] for r in after)
    # Pids only grow, so the next pid after the boot tasks' was a bench
    # task's; it must be gone, not just hidden from ps.
    first_new = max(r["pid"] for r in before) + 1
    assert vm.run(f"bt {first_new}") == f"bt: no task with pid {first_new}"


def test_schedbench_on_one_cpu_joins_its_tasks(module_boot_vm):
    vm = module_boot_vm(smp=1)
    before = ps(vm)
    found, lines = schedbench(vm)
    assert "switch" in found and "fairness" in found, lines
    after = ps(vm)
    assert [(r["pid"], r["name"]) for r in after] == \
        [(r["pid"], r["name"]) for r in before], \
        "tasks left over after schedbench:\n" + "\n".join(r["line"] for r in after)
