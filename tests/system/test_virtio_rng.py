"""
test_virtio_rng.py — the virtio entropy device over both virtio-pci
transports: modern only (disable-legacy=on) and legacy only
(disable-modern=on).  `random` must take its bytes from the device (the
`entropy` counters show where they came from) and they must differ.
"""

import re

import pytest


def hex_bytes(out):
    return bytes.fromhex("".join(out.split()))


def delivered(vm, name):
    m = re.search(rf"^{re.escape(name)}.*? +quality +\d+, (\d+) bytes delivered$",
                  vm.run("entropy"), re.M)
    assert m, vm.run("entropy")
    return int(m.group(1))


@pytest.mark.parametrize("transport, opts", [
    ("modern", "disable-legacy=on,disable-modern=off"),
    ("legacy", "disable-modern=on"),
])
def test_random_comes_from_virtio_rng(boot_vm, transport, opts):
    vm = boot_vm(extra_args=["-device", f"virtio-rng-pci,{opts}"])
    assert f"virtio-rng: {transport} transport" in vm.run("dmesg virtio-rng:")
    assert re.search(r"^00:\S+ 1af4:10(05|44) .* driver virtio-rng$", vm.run("pci"), re.M)
    before = delivered(vm, "virtio-rng")
    a = hex_bytes(vm.run("random 64"))
    b = hex_bytes(vm.run("random 64"))
    assert len(a) == 64 and len(b) == 64 and a != b
    assert delivered(vm, "virtio-rng") - before == 128


def test_without_virtio_rng_the_cpu_source_serves(shared_vm):
    out = shared_vm.run("entropy")
    assert "virtio-rng" not in out
    assert len(hex_bytes(shared_vm.run("random 16"))) == 16
