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


IRQ_LINE = {"msix": "irq MSI-X, 1 vector", "intx": "irq INTxA -> IRQ", "poll": "irq none (polled)"}


@pytest.mark.parametrize("transport, opts, irq", [
    ("modern", "disable-legacy=on,disable-modern=off", "msix"),
    ("legacy", "disable-modern=on", "msix"),
    ("modern", "disable-legacy=on,disable-modern=off", "intx"),
    ("legacy", "disable-modern=on", "poll"),
])
def test_random_comes_from_virtio_rng(boot_vm, transport, opts, irq):
    vm = boot_vm(cmdline="" if irq == "msix" else f"virtio_irq={irq}",
                 extra_args=["-device", f"virtio-rng-pci,{opts}"])
    assert f"virtio-rng: {transport} transport, {irq}" in vm.run("dmesg virtio-rng:")
    pci = vm.run("pci")
    assert re.search(r"^00:\S+ 1af4:10(05|44) .* driver virtio-rng$", pci, re.M), pci
    assert IRQ_LINE[irq] in pci, pci
    before = delivered(vm, "virtio-rng")
    a = hex_bytes(vm.run("random 64"))
    b = hex_bytes(vm.run("random 64"))
    assert len(a) == 64 and len(b) == 64 and a != b
    assert delivered(vm, "virtio-rng") - before == 128
    irqs = [line for line in vm.run("irqstat").splitlines() if line.endswith("virtio-rng")]
    if irq == "poll":
        assert not irqs, irqs
    else:
        assert len(irqs) == 1 and int(irqs[0].split()[-2]) >= 2, irqs


def test_without_virtio_rng_the_cpu_source_serves(shared_vm):
    out = shared_vm.run("entropy")
    assert "virtio-rng" not in out
    assert len(hex_bytes(shared_vm.run("random 16"))) == 16
