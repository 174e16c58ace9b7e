"""
test_params.py — kernel parameters from the GRUB command line.

Each case builds an ISO with its own command line (scripts/mkiso.sh, cached
for the session) and boots it.  Unknown or malformed parameters must be
reported in dmesg and otherwise ignored: the kernel still reaches a working
prompt.  `selftest` runs the boot tests and leaves QEMU through
isa-debug-exit: status 33 when everything passed, 35 otherwise.  A long
command line is read whole up to the kernel's 4 KiB copy, and a cut beyond
that is reported, never silent.
"""

import nos_harness as nh

SELFTEST_TIMEOUT = 300  # every boot test, under TCG
EXIT_PASS, EXIT_FAIL = 33, 35


def messages(vm, flt):
    """Message texts (prefix removed) of `dmesg <flt>`."""
    out = []
    for line in vm.run_lines(f"dmesg {flt}"):
        m = nh.DMESG_LINE_RE.match(line)
        assert m, f"malformed dmesg line {line!r}"
        out.append(m.group(5))
    return out


def test_unknown_parameters_are_reported_and_ignored(boot_vm, nos_build):
    vm = boot_vm("nos_test_unknown=42 nos_test_flag")
    msgs = messages(vm, "params:")
    for name in ("nos_test_unknown", "nos_test_flag"):
        line = f"params: unknown parameter '{name}' ignored"
        assert any(line in m for m in msgs), f"no {line!r} in {msgs}"
    assert vm.run("version").startswith(f"nos {nos_build.version}")


def test_malformed_console_value_is_reported_and_ignored(boot_vm, nos_build):
    vm = boot_vm("console=bogus")
    msgs = messages(vm, "params:")
    assert any("bogus" in m for m in msgs), msgs
    assert vm.run("version").startswith(f"nos {nos_build.version}")


def test_console_serial_keeps_the_serial_console(boot_vm, nos_build):
    vm = boot_vm("console=serial")
    assert vm.run("version").startswith(f"nos {nos_build.version}")
    msgs = messages(vm, "params:")
    assert not [m for m in msgs if "console" in m], msgs


def test_selftest_parameter_runs_boot_tests_and_exits(boot_vm):
    vm = boot_vm("selftest", wait=False, boot_timeout=SELFTEST_TIMEOUT)
    vm.wait_for(nh.BANNER_RE)
    vm.wait_for(r"\d+ passed, \d+ failed\r\n", SELFTEST_TIMEOUT)
    code = vm.wait_exit(60)
    ok, fail, counts = nh.parse_selftest(vm.transcript)
    assert counts == [(len(ok), len(fail))], counts
    assert ok, "no boot test ran"
    assert not fail, f"failed boot tests: {fail}"
    assert code == EXIT_PASS, f"QEMU exit status {code}"


def padded_command_line(length, last):
    """Unknown words of 30 bytes each up to about @length bytes, then @last."""
    words = [f"nos_test_pad{i:04d}=" + "x" * 12 for i in range(length // 30)]
    line = " ".join(words) + " " + last
    assert len(line) >= length - 30
    return line


def test_a_long_command_line_is_read_to_its_last_word(boot_vm):
    """Hostile finding: a line past 1023 bytes used to be cut silently by the
    Multiboot2 copy.  A 3000-byte line reaches the parser whole: its last
    word is seen (and reported unknown), with no cut reported."""
    vm = boot_vm(padded_command_line(3000, "nos_test_last"))
    msgs = messages(vm, "params:")
    assert any("unknown parameter 'nos_test_last' ignored" in m for m in msgs), msgs[-3:]
    assert not [m for m in messages(vm, "mb2:") if "dropped" in m]


def test_a_command_line_past_4_kib_is_cut_with_a_warning(boot_vm, nos_build):
    """What does not fit the kernel's 4 KiB copy is dropped, and said so."""
    line = padded_command_line(6000, "nos_test_last")
    vm = boot_vm(line)
    cut = [m for m in messages(vm, "mb2:") if "command line" in m]
    assert cut == [f"mb2: the command line is {len(line)} bytes, only 4095 kept: "
                   f"the last {len(line) - 4095} bytes are dropped"], cut
    assert not any("nos_test_last" in m for m in messages(vm, "params:"))
    assert vm.run("version").startswith(f"nos {nos_build.version}")
