"""
test_virtio_rng.py — the virtio entropy device over both virtio-pci
transports: modern only (disable-legacy=on) and legacy only
(disable-modern=on).  `entropy N virtio-rng` must take raw bytes from the
device (the `entropy` counters show where they came from) and they must
differ; the CSPRNG behind `random` reseeds from it.

A slow device (QEMU's rate limit: 4 bytes a second) must hold nobody
hostage: `random 4096` answers at once (it never reads a source), a raw
`entropy` read stops after its deadline with what it got and says why, and
Ctrl-C stops a raw read early.
"""

import re
import time

import pytest

SLOW_RNG = ["-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-pci,rng=rng0,max-bytes=4,period=1000"]


def hex_bytes(out):
    return bytes.fromhex("".join(out.split()))


def raw_read(vm, cmd):
    """Run a raw `entropy` read; return (bytes, the message lines after them)."""
    lines = vm.run_lines(cmd)
    hexl = [l for l in lines if re.fullmatch(r"[0-9a-f]+", l)]
    rest = [l for l in lines if l not in hexl]
    return hex_bytes("".join(hexl)), rest


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
    a = hex_bytes(vm.run("entropy 64 virtio-rng"))
    b = hex_bytes(vm.run("entropy 64 virtio-rng"))
    assert len(a) == 64 and len(b) == 64 and a != b
    # the CSPRNG's reseed task may have read from it meanwhile
    assert delivered(vm, "virtio-rng") - before >= 128
    irqs = [line for line in vm.run("irqstat").splitlines() if line.endswith("virtio-rng")]
    if irq == "poll":
        assert not irqs, irqs
    else:
        assert len(irqs) == 1 and int(irqs[0].split()[-2]) >= 2, irqs


def test_without_virtio_rng_the_cpu_source_serves(shared_vm):
    out = shared_vm.run("entropy")
    assert "virtio-rng" not in out
    assert len(hex_bytes(shared_vm.run("random 16"))) == 16


def wait_for_reseed_from(vm, nsources, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        out = vm.run("entropy")
        m = re.search(r"^csprng: .* from (\d+) bytes of (\d+) sources, (\d+) reseeds", out, re.M)
        assert m, out
        if int(m.group(2)) >= nsources and int(m.group(3)) >= 1:
            return int(m.group(1))
        assert time.monotonic() < deadline, f"no reseed from {nsources} sources: {out}"
        time.sleep(1)


def test_the_csprng_reseeds_from_virtio_rng(boot_vm):
    vm = boot_vm(extra_args=["-device", "virtio-rng-pci"])
    assert wait_for_reseed_from(vm, 2) >= 64  # 32 from the device, 32 from the CPU
    assert "random: reseeded from" in vm.run("dmesg random:")
    a, b = hex_bytes(vm.run("random 64")), hex_bytes(vm.run("random 64"))
    assert len(a) == 64 and a != b


@pytest.fixture
def slow_vm(module_boot_vm):
    """One VM per module with the rate-limited device."""
    return module_boot_vm(extra_args=SLOW_RNG)


def test_random_does_not_wait_for_a_slow_source(slow_vm):
    assert "virtio-rng" in slow_vm.run("entropy")
    for _ in range(2):  # the normal command timeout: no waiting on the device
        assert len(hex_bytes(slow_vm.run("random 4096"))) == 4096


@pytest.mark.parametrize("cmd", ["entropy 4096", "entropy 4096 virtio-rng",
                                 "entropy 64 virtio"])
def test_raw_read_from_a_slow_source_stops_with_a_clear_message(slow_vm, cmd):
    want = int(cmd.split()[1])
    got, rest = raw_read(slow_vm, cmd)
    assert 0 < len(got) < want, (got, rest)
    assert rest == [f"entropy: only {len(got)} of {want} bytes in 3 s: the source is slow "
                    "(raw reads stop after 3 s; `random` never waits)"], rest


def test_ctrl_c_stops_a_raw_read(slow_vm):
    slow_vm.run("")  # at a fresh prompt
    slow_vm.send("entropy 4096 virtio-rng\r")
    slow_vm.wait_for(r"entropy 4096 virtio-rng\r?\n")
    time.sleep(0.5)
    slow_vm.send("\x03")
    out = slow_vm.resync().replace("\r\n", "\n")
    m = re.search(r"^entropy: interrupted after (\d+) of 4096 bytes$", out, re.M)
    assert m, out
    assert "^C" in out, out
    assert len(hex_bytes(slow_vm.run("random 16"))) == 16
