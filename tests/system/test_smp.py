"""
test_smp.py — every CPU QEMU gives the machine comes up, runs and ticks.

The CPUs are found in the ACPI MADT and started with INIT/SIPI; `cpu` asks
each one for its own registers through a cross-CPU call, so a CPU listed as
online with sane long-mode registers really is running kernel code.

What is checked, from the contract:
  cpu        one block per CPU: "cpu<N>: apic <A>, <state>, <vendor>, ..."
             then indented lines ("  cr0=... cr3=... cr4=... efer=...
             ticks=<n>", more may follow); a closing line "<k> of <m> CPUs
             online; TSC <n> kHz...".  With -smp N (1, 2, 4, 8; pc and q35):
             exactly cpu0..cpuN-1, all online, distinct APIC ids, "N of N"
             (m is the MADT's count).  smp=off with -smp 4: cpu0 only and
             "1 of 4".  Every CPU's ticks rise between two calls a second
             apart.
  dmesg      "smp: <k> of <m> CPUs online", and per AP "smp: cpuN (apic A)
             online in <us> us" with the APIC id `cpu` shows.
  smpbench   "ipi round trip: <ns> ns (cpu0 -> cpuK)", "tlb shootdown: <ns>
             ns (one page, <n> CPUs)", "ap startup: cpu<N> <us> us" per AP
             (the figures themselves are scripts/bench.py's business).
"""

import re
import time

import pytest

import nos_harness as nh

CPU_RE = re.compile(r"^cpu(\d+): apic (\d+), (online|failed|starting|offline)"
                    r"(.*)$")
SUMMARY_RE = re.compile(r"^(\d+) of (\d+) CPUs online; TSC (\d+) kHz")
REGS = ("cr0", "cr3", "cr4", "efer", "ticks")
AP_ONLINE_RE = re.compile(r"smp: cpu(\d+) \(apic (\d+)\) online in (\d+) us")
SMP_SUMMARY_RE = re.compile(r"smp: (\d+) of (\d+) CPUs online")


def parse_cpu(out):
    """`cpu` -> ([{cpu, apic, state, vendor, rest, cr0..ticks}], (k, m)).

    Fails on any line that is not a block header, an indented line inside a
    block, or the closing line (which must be the last).
    """
    lines = out.split("\n")
    assert lines, "cpu printed nothing"
    m = SUMMARY_RE.match(lines[-1])
    assert m, f"last line is not '<k> of <m> CPUs online; TSC ...':\n{out}"
    summary = (int(m.group(1)), int(m.group(2)))
    cpus = []
    for line in lines[:-1]:
        h = CPU_RE.match(line)
        if h:
            rest = h.group(4)
            vendor = rest[2:].split(",")[0] if rest.startswith(", ") else None
            cpus.append({"cpu": int(h.group(1)), "apic": int(h.group(2)),
                         "state": h.group(3), "vendor": vendor,
                         "rest": rest, "lines": [line]})
            continue
        assert line.startswith("  ") and cpus, \
            f"line outside a cpu block: {line!r}\n{out}"
        cpus[-1]["lines"].append(line)
        for reg in REGS:
            r = re.search(rf"\b{reg}=(0x[0-9a-fA-F]+|\d+)\b", line)
            if r:
                cpus[-1][reg] = int(r.group(1), 0)
    return cpus, summary


def dmesg_messages(vm, flt):
    msgs = []
    for line in vm.run_lines(f"dmesg {flt}"):
        m = nh.DMESG_LINE_RE.match(line)
        assert m, f"malformed dmesg line {line!r}"
        msgs.append(m.group(5))
    return msgs


def check_long_mode_regs(c):
    for reg in REGS:
        assert reg in c, f"cpu{c['cpu']}: no {reg}= in {c['lines']}"
    assert c["cr0"] & 1 and c["cr0"] & (1 << 31), f"cpu{c['cpu']}: cr0 PE|PG"
    assert c["cr4"] & (1 << 5), f"cpu{c['cpu']}: cr4 PAE"
    assert c["efer"] & (1 << 8) and c["efer"] & (1 << 10), \
        f"cpu{c['cpu']}: efer LME|LMA"
    assert c["efer"] & (1 << 11), f"cpu{c['cpu']}: efer NXE"


def check_all_online(vm, n):
    """`cpu` and dmesg agree that exactly @n CPUs are up; returns cpus."""
    out = vm.run("cpu")
    cpus, summary = parse_cpu(out)
    assert [c["cpu"] for c in cpus] == list(range(n)), out
    assert all(c["state"] == "online" for c in cpus), out
    assert summary == (n, n), out
    apics = [c["apic"] for c in cpus]
    assert len(set(apics)) == n, f"APIC ids not distinct: {apics}"
    vendors = {c["vendor"] for c in cpus}
    assert len(vendors) == 1 and None not in vendors, out
    for c in cpus:
        check_long_mode_regs(c)

    msgs = dmesg_messages(vm, "smp:")
    summaries = [SMP_SUMMARY_RE.search(m) for m in msgs]
    summaries = [(int(s.group(1)), int(s.group(2))) for s in summaries if s]
    assert summaries == [(n, n)], msgs
    aps = {}
    for m in msgs:
        a = AP_ONLINE_RE.search(m)
        if a:
            aps[int(a.group(1))] = int(a.group(2))
    assert aps == {c["cpu"]: c["apic"] for c in cpus[1:]}, \
        f"per-AP online messages {aps} do not match `cpu`:\n{msgs}\n{out}"
    assert not [m for m in msgs if "did not come up" in m], msgs
    return cpus


# ------------------------------------------------------------ counts ----

@pytest.mark.parametrize("n", [1, 2, 4, 8])
def test_every_cpu_comes_online(boot_vm, n):
    vm = boot_vm(smp=n)
    check_all_online(vm, n)


@pytest.mark.parametrize("n", [2, 4])
def test_every_cpu_comes_online_on_q35(boot_vm, n):
    vm = boot_vm(smp=n, extra_args=["-machine", "q35"])
    check_all_online(vm, n)


def test_smp_off_runs_on_the_boot_cpu_only(module_boot_vm):
    vm = module_boot_vm("smp=off", smp=4)
    out = vm.run("cpu")
    cpus, summary = parse_cpu(out)
    assert [c["cpu"] for c in cpus] == [0], out
    assert cpus[0]["state"] == "online", out
    check_long_mode_regs(cpus[0])
    assert summary == (1, 4), out


def test_smp_off_boot_messages(module_boot_vm):
    """The boot summary is there with smp=off too, and no AP started."""
    vm = module_boot_vm("smp=off", smp=4)
    msgs = dmesg_messages(vm, "smp:")
    assert any(SMP_SUMMARY_RE.search(m) and
               SMP_SUMMARY_RE.search(m).groups() == ("1", "4") for m in msgs), \
        f"no 'smp: 1 of 4 CPUs online' in dmesg: {msgs}"
    assert not [m for m in msgs if AP_ONLINE_RE.search(m)], msgs


# ------------------------------------------------- a running machine ----

def test_ticks_rise_on_every_cpu(module_boot_vm):
    vm = module_boot_vm(smp=4)
    before, _ = parse_cpu(vm.run("cpu"))
    time.sleep(1.0)
    after, _ = parse_cpu(vm.run("cpu"))
    assert [c["cpu"] for c in before] == [c["cpu"] for c in after] == \
        [0, 1, 2, 3]
    stuck = [a["cpu"] for b, a in zip(before, after)
             if not a["ticks"] > b["ticks"]]
    assert not stuck, (f"ticks did not rise on cpu{stuck}: before "
                       f"{[c['ticks'] for c in before]}, after "
                       f"{[c['ticks'] for c in after]}")


def test_cpu_is_stable_across_many_calls(module_boot_vm):
    """Every `cpu` is a cross-CPU call to each AP; they must keep working."""
    vm = module_boot_vm(smp=4)
    for _ in range(20):
        cpus, summary = parse_cpu(vm.run("cpu"))
        assert summary == (4, 4)
        assert all(c["state"] == "online" and "ticks" in c for c in cpus)


SMPBENCH_IPI_RE = re.compile(r"^ipi round trip: (\d+) ns \(cpu(\d+) -> cpu(\d+)\)$")
SMPBENCH_TLB_RE = re.compile(r"^tlb shootdown: (\d+) ns \(one page, (\d+) CPUs\)$")
SMPBENCH_AP_RE = re.compile(r"^ap startup: cpu(\d+) (\d+) us$")


def test_smpbench_reports_every_figure(module_boot_vm):
    vm = module_boot_vm(smp=4)
    lines = vm.run_lines("smpbench", timeout=120)
    ipi = [SMPBENCH_IPI_RE.match(l) for l in lines if SMPBENCH_IPI_RE.match(l)]
    tlb = [SMPBENCH_TLB_RE.match(l) for l in lines if SMPBENCH_TLB_RE.match(l)]
    aps = [SMPBENCH_AP_RE.match(l) for l in lines if SMPBENCH_AP_RE.match(l)]
    assert len(ipi) == 1 and len(tlb) == 1, lines
    assert len(ipi) + len(tlb) + len(aps) == len(lines), \
        f"unexpected lines: {lines}"
    assert int(ipi[0].group(1)) > 0, lines
    assert ipi[0].group(2) == "0" and ipi[0].group(3) in ("1", "2", "3"), lines
    assert int(tlb[0].group(1)) > 0 and tlb[0].group(2) == "4", lines
    # The start-up times are the ones measured at boot, as dmesg has them.
    started = {int(a.group(1)): int(a.group(2)) for a in aps}
    at_boot = {}
    for m in dmesg_messages(vm, "smp:"):
        a = AP_ONLINE_RE.search(m)
        if a:
            at_boot[int(a.group(1))] = int(a.group(3))
    assert sorted(started) == [1, 2, 3], lines
    assert started == at_boot, f"smpbench {started} vs dmesg {at_boot}"


def test_smpbench_needs_a_second_cpu(boot_vm, nos_build):
    vm = boot_vm(smp=1)
    out = vm.run("smpbench", timeout=60)
    assert out.startswith("smpbench: "), out
    assert "ipi round trip" not in out, out
    assert vm.run("version").startswith(f"nos {nos_build.version}")
