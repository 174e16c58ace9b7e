"""
test_prof.py — `prof`, the sampling profiler (kernel/prof.c).

While on, every CPU's timer tick records the address it interrupted; `prof`
groups the samples by function.  Checked: nothing is sampled before a
start or after a stop; a second of `sleep` is mostly the idle loop, seen on
every CPU; a busy shell command (`membench`) shows up in the kernel's own
functions, not idle; the rows add up to the header's total and their shares
to 100 %; a restart begins again from zero; bad arguments get the usage.
"""

import re

import pytest

HEADER_RE = re.compile(r"^prof: (\d+) samples over (\d+) ms \((running|stopped), (\d+) Hz "
                       r"per CPU\)", re.M)
ROW_RE = re.compile(r"^ *(\d+) +(\d+)\.(\d)%  (\S+) +cpu ([\d,]+)$", re.M)


def profile(vm, cmd="prof -n 1024"):
    """(total, state, [(count, tenths of a percent, function, {cpus})])."""
    out = vm.run(cmd, timeout=60)
    m = HEADER_RE.search(out)
    assert m, out
    rows = [(int(c), int(p) * 10 + int(t), f, {int(x) for x in cpus.split(",")})
            for c, p, t, f, cpus in ROW_RE.findall(out)]
    return int(m[1]), m[3], rows


def cpus_of(vm):
    return len(re.findall(r"^cpu\d+", vm.run("cpu"), re.M)) or 1


def test_idle_is_sampled_on_every_cpu_and_the_rows_add_up(shared_vm):
    vm = shared_vm
    assert vm.run("prof start").startswith("prof: sampling every CPU")
    vm.run("sleep 1", timeout=30)
    total, state, rows = profile(vm, "prof stop")
    assert state == "stopped"
    assert total >= 20, rows          # 100 Hz per CPU for a second, with TCG's slack
    _, _, rows = profile(vm)
    assert sum(r[0] for r in rows) == total
    assert abs(sum(r[1] for r in rows) - 1000) <= len(rows)   # rounding down each row
    idle = [r for r in rows if r[2] == "idle_loop"]
    assert idle and idle[0][0] >= total // 2, rows
    assert idle[0][3] == set(range(cpus_of(vm))), rows


def test_a_busy_command_is_charged_to_kernel_functions(shared_vm):
    vm = shared_vm
    vm.run("prof start")
    vm.run("membench", timeout=120)
    total, _, rows = profile(vm, "prof stop")
    busy = sum(r[0] for r in rows if r[2] != "idle_loop")
    assert total and busy >= total // 4, rows
    assert all(not r[2].startswith("(outside") for r in rows[:3]), rows


def test_nothing_is_sampled_after_a_stop_and_a_start_begins_again(shared_vm):
    vm = shared_vm
    vm.run("prof start")
    vm.run("sleep 1")
    first, _, _ = profile(vm, "prof stop")
    vm.run("sleep 1")
    again, state, _ = profile(vm)
    assert (again, state) == (first, "stopped")
    vm.run("prof start")
    running, state, _ = profile(vm, "prof")
    assert state == "running" and running < first + 10
    vm.run("prof stop")


@pytest.mark.parametrize("args", ["-n 0", "-n x", "-n 1025", "start now", "-x", "-n"])
def test_bad_arguments_get_the_usage(shared_vm, args):
    out = shared_vm.run(f"prof {args}")
    assert out.startswith("prof: -n takes 1 to 1024") or out.startswith("usage: prof"), out
