"""
test_panic.py — `panic [direct|pagefault|divzero|ud]` and the report it prints.

Each case boots a fresh VM (a panic ends it), triggers the panic from the
shell and reads the report the way a person debugging a crash would:

    *** KERNEL PANIC on cpu 0: <reason> ***
    error code: 0x<16 hex>            (exceptions only)
    cr2: 0x<16 hex>                   (exceptions only)
    ... rax=0x... rip=0x... rsp=0x... cr3=0x... ...
    backtrace:
      #0 0x<16 hex> <symbol>+0x<off>/0x<size>
      ...
    *** system halted ***

The backtrace is checked against bin/kernel64.elf: every symbolized frame's
address must equal the symbol's address plus the printed offset, and the
shell dispatcher shell_exec must be on the stack.  Afterwards the machine
must stay halted: QEMU still running, not one more byte of output.
"""

import time

import pytest

import nos_harness as nh

HIGHER_HALF = 0xFFFF800000000000
QUIET_AFTER_HALT = 3.0  # seconds of silence that show the halt holds

CASES = {
    "default": ("panic", "panic requested from the shell", False),
    "direct": ("panic direct", "panic requested from the shell", False),
    "pagefault": ("panic pagefault", "#PF page fault (vector 14)", True),
    "divzero": ("panic divzero", "#DE divide error (vector 0)", True),
    "ud": ("panic ud", "#UD invalid opcode (vector 6)", True),
}


def trigger(vm, cmd):
    vm.send(cmd + "\r")
    return vm.expect_panic()


@pytest.fixture(params=list(CASES), scope="module")
def case(request):
    return CASES[request.param]


@pytest.fixture(scope="module")
def crashed(request, case, nos_build):
    """One VM per case, crashed once and shared by the checks below."""
    cmd = case[0]
    iso = nos_build.iso
    vm = nh.NosVM(iso, name=f"panic-{cmd.replace(' ', '-')}").start()
    try:
        vm.wait_boot()
        report = trigger(vm, cmd)
        halted_at = vm.cursor  # just past "*** system halted ***\r\n"
        yield vm, report, halted_at
    finally:
        vm.close()


@pytest.fixture
def crash(request, crashed):
    vm, report, halted_at = crashed
    if not hasattr(request.node, "_nos_vms"):
        request.node._nos_vms = []
    request.node._nos_vms.append(vm)
    return crashed


def test_first_line_names_cpu_and_reason(case, crash):
    _, report, _ = crash
    assert report.lines[0] == f"*** KERNEL PANIC on cpu 0: {case[1]} ***"


def test_exception_reports_error_code_and_cr2(case, crash):
    _, report, _ = crash
    if not case[2]:
        pytest.skip("not an exception")
    assert report.error_code is not None, report.text
    assert report.cr2 is not None, report.text


def test_page_fault_address_and_error_code(case, crash):
    _, report, _ = crash
    if case[0] != "panic pagefault":
        pytest.skip("not a page fault")
    assert report.cr2 == 0xDEAD000, report.text
    err = report.error_code
    assert err & 0x2, f"error code {err:#x}: not a write"
    assert not err & 0x4, f"error code {err:#x}: user mode?"
    assert not err & 0x10, f"error code {err:#x}: instruction fetch?"


def test_registers_are_printed(crash):
    _, report, _ = crash
    regs = report.registers
    for name in ("rax", "rip", "rsp", "cr3"):
        assert name in regs, f"no {name}=0x... in\n{report.text}"
    assert regs["rip"] >= HIGHER_HALF, f"rip={regs['rip']:#x}"
    assert regs["rsp"] >= HIGHER_HALF, f"rsp={regs['rsp']:#x}"


def test_backtrace_is_symbolized_and_matches_the_elf(crash, symbols):
    _, report, _ = crash
    frames = report.frames
    assert "backtrace:" in report.lines, report.text
    assert [f.index for f in frames] == list(range(len(frames))), report.text
    named = [f for f in frames if f.symbol]
    assert len(named) >= 2, report.text
    assert "shell_exec" in [f.symbol for f in named], report.text
    for f in named:
        addrs = symbols.get(f.symbol, [])
        assert f.addr - f.offset in addrs, \
            f"{f.line}: {f.symbol} is at {[hex(a) for a in addrs]} in the ELF"


def test_backtrace_offsets_lie_within_the_symbol(crash):
    # A return address right after a call to a noreturn function is the
    # function's end, so offset == size is fine (Linux prints the same).
    _, report, _ = crash
    bad = [f.line for f in report.frames if f.symbol and f.offset > f.size]
    assert not bad, "offset beyond the symbol's size:\n" + "\n".join(bad) \
        + "\n\n" + report.text


def test_report_ends_with_halt_and_machine_stays_halted(crash):
    vm, report, halted_at = crash
    assert report.lines[-1] == "*** system halted ***"
    # The window counts from the arrival of the halt line.
    left = QUIET_AFTER_HALT - (time.monotonic() - vm.arrival_time(halted_at - 1))
    time.sleep(max(0.0, left))
    assert vm.alive, f"QEMU exited with {vm.proc.returncode}"
    assert vm.since(halted_at) == "", "output after the halt: " \
                                      f"{vm.since(halted_at)[:500]!r}"


def test_harness_fails_fast_on_an_unexpected_panic(boot_vm):
    """The harness itself: run() must raise NosPanic with the report."""
    vm = boot_vm()
    with pytest.raises(nh.NosPanic) as err:
        vm.run("panic ud")
    assert "*** KERNEL PANIC on cpu 0: #UD invalid opcode (vector 6) ***" \
        in err.value.report
    assert err.value.report.rstrip().endswith("*** system halted ***")
    assert str(vm.log_path) in str(err.value)
    assert not vm.healthy
    vm.keep_log = False  # the panic was the point
