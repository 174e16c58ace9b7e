"""
test_pci.py — `pci` lists every PCI function QEMU was given, behind bridges
too, with the BARs and capabilities the devices really have.

QEMU's pc machine brings a host bridge (8086:1237), the PIIX3 ISA bridge
(8086:7000), its IDE (8086:7010) and ACPI (8086:7113) functions and the VGA
(1234:1111).  The test adds a virtio-rng on bus 0 and a PCI-to-PCI bridge
(1b36:0001) with a second virtio-rng behind it, so the bridge must be
followed to find it.
"""

import re

ROW = re.compile(r"^([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) ([0-9a-f]{4}):([0-9a-f]{4}) (.+?) \(class",
                 re.M)

EXTRA = ["-device", "virtio-rng-pci,addr=5",
         "-device", "pci-bridge,id=br1,chassis_nr=1,addr=6",
         "-device", "virtio-rng-pci,bus=br1,addr=3"]


def functions(out):
    return [(int(b, 16), int(d, 16), int(f), f"{v}:{p}", name)
            for b, d, f, v, p, name in ROW.findall(out)]


def test_pci_lists_every_device_behind_bridges(boot_vm):
    vm = boot_vm(extra_args=EXTRA)
    out = vm.run("pci")
    found = functions(out)
    ids = [f[3] for f in found]
    for expected in ("8086:1237", "8086:7000", "8086:7010", "8086:7113", "1234:1111",
                     "1b36:0001"):
        assert expected in ids, out
    rngs = [f for f in found if f[3] == "1af4:1005"]
    assert len(rngs) == 2, out
    assert (0, 5, 0) in [f[:3] for f in rngs], out
    behind = [f for f in rngs if f[0] != 0]
    assert len(behind) == 1 and behind[0][1] == 3, f"device behind the bridge:\n{out}"
    assert re.search(rf"^{len(found)} functions$", out, re.M), out
    assert len(set(f[:3] for f in found)) == len(found), "an address twice"


def test_pci_shows_bars_and_capabilities(boot_vm):
    vm = boot_vm(extra_args=EXTRA[:2])
    out = vm.run("pci")
    block = out.split("00:05.0 ", 1)[1].split("\n0", 1)[0]
    # virtio-rng (modern + legacy): an I/O BAR, a 4 KiB MMIO BAR for MSI-X,
    # a 64-bit prefetchable BAR for the virtio structures, MSI-X and
    # vendor-specific capabilities.
    assert re.search(r"bar0 io 0x[0-9a-f]+ size 0x20", block), block
    assert re.search(r"bar1 mem32 0x[0-9a-f]+ size 0x1000", block), block
    assert re.search(r"bar4 mem64 0x[0-9a-f]+ size 0x4000 prefetchable", block), block
    assert "msix:0x11@" in block and "vendor:0x09@" in block, block
    vga = out.split("00:02.0 ", 1)[1].split("\n0", 1)[0]
    assert re.search(r"bar0 mem32 0x[0-9a-f]+ size 0x1000000 prefetchable", vga), vga


def test_q35_uses_ecam_and_finds_devices_behind_a_root_port(boot_vm):
    """q35 has an MCFG table: configuration space goes through ECAM, and a
    device behind a PCIe root port (bus 1) is found and bound."""
    vm = boot_vm(extra_args=["-machine", "q35",
                             "-device", "pcie-root-port,id=rp1,chassis=1",
                             "-device", "virtio-rng-pci,bus=rp1"])
    log = vm.run("dmesg pci:")
    assert re.search(r"pci: ECAM at 0x[0-9a-f]+ for buses \d+-\d+", log), log
    assert "functions found through ECAM" in log, log
    out = vm.run("pci")
    found = functions(out)
    assert "8086:29c0" in [f[3] for f in found], out  # the q35 host bridge
    rng = [f for f in found if f[3] == "1af4:1044"]
    assert len(rng) == 1 and rng[0][0] == 1, out
    assert re.search(r"^01:00\.0 1af4:1044 .* driver virtio-rng$", out, re.M), out


def test_pc_machine_without_mcfg_uses_port_io(shared_vm):
    log = shared_vm.run("dmesg pci:")
    assert "functions found through port I/O" in log, log
    assert "ECAM" not in log, log
