"""
test_boot.py — what a person sees on the serial console while nos boots.

The boot log is everything from the first serial byte to the first prompt.
Every line the kernel prints before the shell is a kernel message with the
dmesg prefix "[cpu:seconds.micros:function] ", ends with CR LF, and two of
them are fixed by the contract: the "nos <VERSION> starting" banner and
"boot: shell ready in <float> ms since kernel entry" just before the prompt.

Repeated boots with 1..8 CPUs (start-up races) are in test_stress.py.
"""

import re

import pytest

import nos_harness as nh


def _boot_lines(vm):
    text = nh.ANSI_RE.sub("", vm.boot_log)
    return [l for l in text.split("\r\n") if l]


def test_banner_shows_version_from_config(shared_vm, nos_build):
    assert shared_vm.version == nos_build.version
    banners = [l for l in _boot_lines(shared_vm) if " starting" in l]
    assert len(banners) == 1, banners
    assert f"nos {nos_build.version} starting" in banners[0]


def test_boot_messages_have_dmesg_prefix(shared_vm):
    bad = [l for l in _boot_lines(shared_vm) if not nh.DMESG_LINE_RE.match(l)]
    assert not bad, f"lines without the [cpu:sec.usec:func] prefix: {bad}"


def test_boot_lines_end_in_crlf(shared_vm):
    log = shared_vm.boot_log
    bare = [m.start() for m in re.finditer(r"(?<!\r)\n", log)]
    assert not bare, f"LF without CR at offsets {bare[:10]}: " \
                     f"{log[max(0, bare[0] - 60):bare[0] + 1]!r}"
    assert log.endswith("\r\n"), "the prompt must start a fresh line"


def test_shell_ready_is_the_last_message(shared_vm):
    lines = _boot_lines(shared_vm)
    assert "boot: shell ready in" in lines[-1]
    assert shared_vm.ready_ms > 0


@pytest.mark.parametrize("smp", [1, 4])
def test_boots_with_other_cpu_counts(boot_vm, nos_build, smp):
    vm = boot_vm(smp=smp)
    assert vm.run("version").startswith(f"nos {nos_build.version}")
    cpus = [l for l in vm.run_lines("cpu") if re.match(r"cpu\d+:", l)]
    assert 1 <= len(cpus) <= smp, cpus
