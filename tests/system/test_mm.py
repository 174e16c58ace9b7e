"""
test_mm.py — memory management as a person sees it: `memusage` adds up and
does not leak, and the protections the kernel sets up (W^X, stack guard
pages) turn a bug into a readable panic report instead of silent damage.
"""

import re

import pytest

KIB = re.compile(r"^\s*(.+?)\s+(\d+) KiB$")


def memusage(vm):
    """Parse `memusage` into {label: KiB} plus 'total', 'free', 'used'."""
    out = vm.run("memusage")
    vals = {}
    for line in out.split("\n"):
        m = re.match(r"^(total|free|used): (\d+) KiB", line)
        if m:
            vals[m.group(1)] = int(m.group(2))
            continue
        m = KIB.match(line)
        if m:
            vals[m.group(1)] = int(m.group(2))
    assert "WARNING" not in out, out
    for key in ("total", "free", "used", "kernel image", "page allocator"):
        assert key in vals, f"memusage lacks {key!r}:\n{out}"
    return vals, out


def test_memusage_adds_up(shared_vm):
    vals, out = memusage(shared_vm)
    assert vals["free"] + vals["used"] == vals["total"], out
    accounts = ["low 1 MiB", "kernel image", "boot information", "page metadata",
                "alignment slivers", "page allocator"]
    # Every account is printed in whole KiB, so allow one KiB of rounding each.
    assert abs(sum(vals[a] for a in accounts) - vals["total"]) <= len(accounts), out
    assert 0 < vals["free"] <= vals["page allocator"], out
    # QEMU was given 512 MiB (the harness default); nearly all of it is RAM.
    assert 480 * 1024 <= vals["total"] <= 512 * 1024, out


def test_memusage_free_returns_after_a_burst(shared_vm):
    before, _ = memusage(shared_vm)
    out = shared_vm.run("selftest kmalloc", timeout=120)
    assert re.search(r"^\d+ passed, 0 failed$", out, re.M), out
    after, text = memusage(shared_vm)
    assert after["free"] == before["free"], text


@pytest.mark.parametrize("kind, reason", [
    ("textwrite", r"#PF page fault \(vector 14\)"),
    ("nxexec", r"#PF page fault \(vector 14\)"),
    ("overflow", r"stack overflow in 'shell'"),  # the task running the shell
])
def test_protection_faults_panic_with_a_report(boot_vm, kind, reason):
    vm = boot_vm()
    start = vm.cursor
    vm.send(f"panic {kind}\r")
    vm.expect_panic()
    report = vm.since(start).replace("\r\n", "\n")
    assert re.search(r"\*\*\* KERNEL PANIC on cpu 0: " + reason, report), report
    err = int(re.search(r"error code: 0x([0-9a-f]{16})", report).group(1), 16)
    cr2 = int(re.search(r"cr2: 0x([0-9a-f]{16})", report).group(1), 16)
    if kind == "textwrite":
        assert err & 0x3 == 0x3, report          # present page, write access
        assert "panic_textwrite+0x" in report, report
    elif kind == "nxexec":
        assert err & 0x11 == 0x11, report        # present page, instruction fetch
        rip = int(re.search(r"rip=0x([0-9a-f]{16})", report).group(1), 16)
        assert rip == cr2, report                # it faulted fetching the data page
    else:
        assert 0xFFFFA00000000000 <= cr2 < 0xFFFFA00040000000, report
        assert "panic_overflow+0x" in report, report
    assert "*** system halted ***" in report
