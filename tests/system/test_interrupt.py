"""
test_interrupt.py — Ctrl-C stops a running command and gives the prompt back.

A command runs as the console's foreground task; the Ctrl-C byte (0x03) on
the serial line marks it interrupted, its waits return early and its loops
stop, and the shell prints "^C" before the next prompt.  Each test starts a
command that would run far longer than the test waits for it (or, for the
short benchmarks, whose full output would show that it finished), sends the
byte once the command is under way, and checks:

  - the prompt is back well before the command could have ended by itself
    (a Ctrl-C that is ignored makes the wait time out);
  - the command's output ends with the "^C" line, and what it prints only
    at its end is missing (so it was the command, not the prompt after it,
    that got the byte);
  - the shell still works, and whatever the command started is gone (no
    `hang`, bench or test task left in `ps`).

Covered: sleep, hang (irqoff on another CPU, preemptoff on another CPU and
on the shell's own CPU), schedbench, membench, selftest (stops between two
tests) and diskbench (stops between two batches of requests, with none in
flight, and leaves the disk unclaimed).  Not covered: `hang 0 N irqoff`,
which cannot be stopped early — the console's interrupt goes to cpu0, whose
interrupts that command turns off — and smpbench, which finishes in a small
fraction of a second (it is interruptible between batches of rounds all the
same).
"""

import re
import time

import pytest

import nos_harness as nh

CTRL_C = b"\x03"
# How long the prompt may take to come back after Ctrl-C: far less than any
# command below runs by itself (30 s and more), far more than delivery needs.
BACK_IN = 12.0
# Let the command get under way before the byte is sent (no timing is
# asserted: waiting longer only makes the tests slower).
SETTLE = 0.5


def start(vm, cmd, started=None, timeout=None):
    """Type @cmd and wait for its echo (and for @started, a regex, if given)."""
    if not vm.healthy:
        vm.wait_prompt(timeout)
    vm.send(cmd + "\r")
    begin = vm.wait_for(re.escape(cmd) + r"\r\n", timeout).end()
    if started:
        vm.wait_for(started, timeout)
    return begin


def interrupt(vm, cmd, started=None, settle=SETTLE, start_timeout=None):
    """Run @cmd, press Ctrl-C once it is under way; return its output (LF)."""
    begin = start(vm, cmd, started, start_timeout)
    time.sleep(settle)
    vm.send(CTRL_C)
    prompt = vm.wait_prompt(BACK_IN * nh.timeout_scale())
    out = vm.since(begin)[:prompt.start(1) - begin].replace("\r\n", "\n")
    assert out.endswith("^C\n"), f"`{cmd}` was not interrupted:\n{out}"
    return out[:-len("^C\n")]


def task_names(vm):
    return [l.split()[1] for l in vm.run_lines("ps")[1:]]


def still_works(vm, leftover=()):
    assert vm.run("version").startswith("nos "), "the shell is broken"
    names = task_names(vm)
    left = [n for n in names if n in leftover]
    assert not left, f"tasks left behind: {left}\n{names}"


# ------------------------------------------------------------------ sleep ----

def test_sleep_is_interrupted(module_boot_vm):
    vm = module_boot_vm(smp=2)
    assert interrupt(vm, "sleep 3600") == ""
    still_works(vm)


def test_sleep_runs_its_time_without_ctrl_c(module_boot_vm):
    vm = module_boot_vm(smp=2)
    assert vm.run("sleep 1") == ""
    assert vm.run("sleep 0") == ""


def test_ctrl_c_at_the_prompt_does_not_reach_the_next_command(module_boot_vm):
    """The mark is cleared before each command: an earlier Ctrl-C typed at
    the prompt must not cut the next command short."""
    vm = module_boot_vm(smp=2)
    vm.send(CTRL_C)
    vm.resync()
    t0 = vm.run("uptime")
    assert vm.run("sleep 1") == ""
    t1 = vm.run("uptime")
    secs = [float(re.search(r"\(([0-9.]+) s\)", t).group(1)) for t in (t0, t1)]
    assert secs[1] - secs[0] >= 1.0, (t0, t1)


# ------------------------------------------------------------------- hang ----

@pytest.mark.parametrize("cpu, mode", [(1, "irqoff"), (1, "preemptoff"),
                                       (0, "preemptoff")])
def test_hang_is_interrupted(module_boot_vm, cpu, mode):
    vm = module_boot_vm(smp=2)
    out = interrupt(vm, f"hang {cpu} 30 {mode}", started=rf"cpu{cpu} stuck for 30 s")
    assert out.strip() == f"cpu{cpu} stuck for 30 s with " + \
        ("interrupts off" if mode == "irqoff" else "preemption off"), out
    still_works(vm, leftover=("hang",))
    # The CPU is free again: a short hang on it runs to its end.
    assert vm.run(f"hang {cpu} 1 {mode}", timeout=20) == \
        f"cpu{cpu} stuck for 1 s with " + \
        ("interrupts off" if mode == "irqoff" else "preemption off")


# -------------------------------------------------------------- benchmarks ----

def test_schedbench_is_interrupted_and_joins_its_tasks(module_boot_vm):
    vm = module_boot_vm(smp=2)
    before = task_names(vm)
    out = interrupt(vm, "schedbench")
    assert "fairness spread" not in out, out
    still_works(vm, leftover=("yield-a", "yield-b", "wake-target", "fair"))
    assert task_names(vm) == before


def test_membench_is_interrupted(module_boot_vm):
    vm = module_boot_vm(smp=2)
    out = interrupt(vm, "membench", settle=0.1)
    assert "page_alloc(1)+page_free" not in out, out
    still_works(vm)
    lines = vm.run_lines("membench", timeout=60)
    assert len(lines) == 2 and lines[1].startswith("page_alloc(1)+page_free: "), lines


# ---------------------------------------------------------------- selftest ----

def test_selftest_stops_between_tests(boot_vm):
    vm = boot_vm(smp=2)  # its own: the boot tests leave their traces
    out = interrupt(vm, "selftest", started=r"\r\nok \S+\r\n", settle=0.2,
                    start_timeout=60)
    lines = out.strip().split("\n")
    ok, fail, counts = nh.parse_selftest(out)
    assert ok, out[-2000:]
    stopped = [l for l in lines if l.startswith("stopped: ")]
    assert len(stopped) == 1, lines[-5:]
    not_run = int(re.match(r"stopped: (\d+) tests not run$", stopped[0]).group(1))
    assert not_run > 0, stopped
    assert counts == [(len(ok), len(fail))], lines[-3:]
    assert lines[-1] == f"{len(ok)} passed, {len(fail)} failed", lines[-3:]
    still_works(vm)


# --------------------------------------------------------------- diskbench ----

@pytest.fixture
def big_disk(tmp_path):
    """A sparse 1 GiB raw image (only what diskbench writes takes space)."""
    path = tmp_path / "big.img"
    with open(path, "wb") as f:
        f.truncate(1024 << 20)
    yield ["-drive", f"file={path},if=none,id=big,format=raw",
           "-device", "virtio-blk-pci,drive=big"]
    path.unlink(missing_ok=True)  # pytest keeps its tmp dirs for a while


def test_diskbench_is_interrupted_and_releases_the_disk(boot_vm, big_disk):
    vm = boot_vm(smp=2, extra_args=big_disk)
    out = interrupt(vm, "diskbench vda 1024", started=r"diskbench vda: 1024 MiB.*\r\n",
                    settle=1.0)
    # Ctrl-C lands in the write pass or, on a busy host, the read pass:
    # either way the run stops between batches, before the verification.
    assert out.endswith("diskbench: interrupted\n"), out
    assert "verify" not in out and "read:" not in out, out
    assert "failed" not in out, out
    # Not claimed any more, and its buffers and slots are whole: a short
    # run works and verifies.
    assert "claimed" not in vm.run("disks")
    lines = vm.run_lines("diskbench vda 1", timeout=120)
    assert lines[-1] == "verify: ok", lines
    still_works(vm)
