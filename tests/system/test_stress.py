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

Boots cycle through CONFIGS, every machine type (the i440FX `pc` and the
Q35 `q35`: different interrupt routing, AHCI instead of IDE for the CD)
with one, two, four and eight CPUs, so eight boots in a row already cover
each once.  Boots run STRESS_JOBS at a time (two QEMUs: the machine has two
cores).  Every boot is run even after one fails, so the summary says how
often and on which machine it failed; the failure shows the whole serial
log of the first failing boots.

    make stress                            400 boots: 50 per configuration
    NOS_STRESS_BOOTS=40 make stress        fewer (NOS_STRESS_BOOTS)
    NOS_STRESS=N                           N boots per configuration

A short smoke of SMOKE_BOOTS boots (each configuration once) runs in every
`make systest`.
"""

import os
import re
import threading
from dataclasses import dataclass

import pytest

import nos_harness as nh

MACHINES = ("pc", "q35")
CONFIGS = tuple((machine, smp) for smp in (1, 2, 4, 8) for machine in MACHINES)
SMOKE_BOOTS = len(CONFIGS)
STRESS_JOBS = int(os.environ.get("NOS_STRESS_JOBS", "2"))
LOGS_SHOWN = 3     # failing boots whose whole serial log goes in the report


@dataclass
class Boot:
    index: int
    machine: str
    smp: int
    error: str = None    # None: the boot passed
    log: str = ""        # the serial log of a failed boot


def stress_boots():
    """Boots asked for: NOS_STRESS_BOOTS, else NOS_STRESS per configuration,
    else 0."""
    if os.environ.get("NOS_STRESS_BOOTS"):
        return int(os.environ["NOS_STRESS_BOOTS"])
    return len(CONFIGS) * int(os.environ.get("NOS_STRESS", "0"))


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
    vm = nh.NosVM(build.iso, smp=boot.smp, extra_args=["-machine", boot.machine],
                  name=f"stress-{boot.index}-{boot.machine}-smp{boot.smp}")
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
    boots = [Boot(i, *CONFIGS[i % len(CONFIGS)]) for i in range(count)]
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
    """One line per failed boot, failures per configuration, the first logs."""
    failed = [b for b in boots if b.error is not None]
    per_config = {config: [0, 0] for config in CONFIGS}
    for b in boots:
        per_config[b.machine, b.smp][0] += 1
        per_config[b.machine, b.smp][1] += b.error is not None
    text = [f"{len(failed)} of {len(boots)} boots failed",
            "failed/boots per machine and -smp: " + ", ".join(
                f"{m} {smp}: {f}/{n}" for (m, smp), (n, f) in per_config.items() if n)]
    text += [f"  boot {b.index} ({b.machine}, -smp {b.smp}): {b.error}" for b in failed]
    for b in failed[:LOGS_SHOWN]:
        text.append(f"\n===== serial log of boot {b.index} ({b.machine}, -smp {b.smp}) "
                    f"=====\n{b.log}")
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
