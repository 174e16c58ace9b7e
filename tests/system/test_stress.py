"""
test_stress.py — boot the same ISO many times and talk to it at once.

Start-up races show only now and then: a CPU that comes online while the
shell starts, a serial interrupt that arrives while the shell task is between
preparing its wait and switching away.  One such bug killed about one boot in
a hundred at the first command typed after "boot: shell ready", and only with
the harness's timing.  So each boot here does what the system tests do, as
fast as they do it: the moment a prompt appears the next command is typed
(`run()` sends the whole line in one write), three commands in a row, each
reply checked, and any panic fails the boot with its report.

The CPU count cycles through SMP_CYCLE, so a short run already covers one,
two, four and eight CPUs.  Boots run STRESS_JOBS at a time (two QEMUs: the
machine has two cores).  Every boot is run even after one fails, so the
summary says how often and with which -smp it failed; the failure shows the
whole serial log of the first failing boots.

    make stress                            200 boots (NOS_STRESS_BOOTS)
    NOS_STRESS_BOOTS=50 make stress        fewer
    NOS_STRESS=N                           N boots per CPU count (8 N)

A short smoke of SMOKE_BOOTS boots runs in every `make systest`.
"""

import os
import re
import threading
from dataclasses import dataclass

import pytest

import nos_harness as nh

SMP_CYCLE = (1, 2, 4, 8, 3, 5, 6, 7)
SMOKE_BOOTS = 6
STRESS_JOBS = int(os.environ.get("NOS_STRESS_JOBS", "2"))
LOGS_SHOWN = 3     # failing boots whose whole serial log goes in the report


@dataclass
class Boot:
    index: int
    smp: int
    error: str = None    # None: the boot passed
    log: str = ""        # the serial log of a failed boot


def stress_boots():
    """Boots asked for: NOS_STRESS_BOOTS, else 8 x NOS_STRESS, else 0."""
    if os.environ.get("NOS_STRESS_BOOTS"):
        return int(os.environ["NOS_STRESS_BOOTS"])
    return len(SMP_CYCLE) * int(os.environ.get("NOS_STRESS", "0"))


def exercise(vm, version):
    """The commands of one boot, each typed the moment the prompt shows."""
    vm.wait_boot()
    lines = vm.run_lines("dmesg boot:")
    if not lines or not all("boot:" in l for l in lines):
        vm.fail(f"`dmesg boot:` gave {lines!r}")
    out = vm.run("version")
    if not out.startswith(f"nos {version}"):
        vm.fail(f"`version` gave {out!r}")
    cpus = [l for l in vm.run_lines("cpu") if re.match(r"cpu\d+:", l)]
    if len(cpus) != vm.smp:
        vm.fail(f"`cpu` listed {len(cpus)} CPUs on -smp {vm.smp}: {cpus!r}")


def one_boot(build, boot):
    vm = nh.NosVM(build.iso, smp=boot.smp, name=f"stress-{boot.index}-smp{boot.smp}")
    try:
        vm.start()
        exercise(vm, build.version)
    except Exception as e:  # anything, or the boot would count as passed
        vm.keep_log = True
        boot.error = str(e).split("\n", 1)[0] or type(e).__name__
        if isinstance(e, nh.NosPanic):
            boot.error += " | " + e.report.split("\n", 1)[0]
    finally:
        vm.close()
        if boot.error is not None and vm.log_path is not None:
            boot.log = vm.log_path.read_text(encoding="latin-1").replace("\r\n", "\n")
            boot.log += f"\n--- kept at {vm.log_path}"


def boot_loop(build, count, jobs=STRESS_JOBS):
    """Run @count boots, @jobs at a time; return the Boot records."""
    boots = [Boot(i, SMP_CYCLE[i % len(SMP_CYCLE)]) for i in range(count)]
    todo = iter(boots)
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                boot = next(todo, None)
            if boot is None:
                return
            one_boot(build, boot)

    threads = [threading.Thread(target=worker, name=f"stress-{j}")
               for j in range(max(1, min(jobs, count)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return boots


def summary(boots):
    """One line per failed boot, failures per -smp, and the first logs."""
    failed = [b for b in boots if b.error is not None]
    per_smp = {smp: [0, 0] for smp in sorted(SMP_CYCLE)}
    for b in boots:
        per_smp[b.smp][0] += 1
        per_smp[b.smp][1] += b.error is not None
    text = [f"{len(failed)} of {len(boots)} boots failed",
            "failed/boots per -smp: " + ", ".join(
                f"{smp}: {f}/{n}" for smp, (n, f) in per_smp.items() if n)]
    text += [f"  boot {b.index} (-smp {b.smp}): {b.error}" for b in failed]
    for b in failed[:LOGS_SHOWN]:
        text.append(f"\n===== serial log of boot {b.index} (-smp {b.smp}) =====\n{b.log}")
    return "\n".join(text)


def check(boots):
    if any(b.error is not None for b in boots):
        pytest.fail(summary(boots), pytrace=False)


def test_boot_and_type_at_once_smoke(nos_build):
    check(boot_loop(nos_build, SMOKE_BOOTS))


@pytest.mark.stress
def test_boot_and_type_at_once_stress(nos_build):
    count = stress_boots()
    if count <= 0:
        pytest.skip("set NOS_STRESS_BOOTS=N (or run `make stress`) for N boots")
    boots = boot_loop(nos_build, count)
    check(boots)
    print("\n" + summary(boots))
