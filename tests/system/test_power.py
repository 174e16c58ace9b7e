"""
test_power.py — ACPI: the tables the firmware gives, and what they are for
(power off through S5, reset, the CPUs of the MADT), on both of QEMU's PC
machines: `-machine pc` (i440FX + PIIX4, the default) and `-machine q35`
(Q35 + ICH9, whose PM registers, reset register and MCFG differ).

What is checked, from the contract:
  acpi       one line per table found, starting with its 4-character
             signature and giving its physical address: RSDT or XSDT,
             FACP, APIC, DSDT, and on q35 also MCFG; other lines are fine
  MADT       the CPU count it gives (`cpu`'s "<k> of <m>", and `acpi`'s
             "cpus <n>" where it states one) is -smp
  poweroff   and its alias `shutdown`: a line containing "powering off",
             then QEMU exits by itself with status 0 (ACPI S5; the
             isa-debug-exit device would give an odd status)
  reboot     on q35 too (test_reboot.py covers pc): the same QEMU comes
             back to a working prompt
"""

import re
import time

import pytest

import nos_harness as nh

MACHINES = ["pc", "q35"]
POWEROFF_TIMEOUT = 30
TABLE_RE = re.compile(r"^([A-Z0-9_]{4})\b.*?\b0x([0-9a-fA-F]+)\b")
CPU_SUMMARY_RE = re.compile(r"^(\d+) of (\d+) CPUs online", re.M)
# "cpus 4" or "4 CPUs", wherever `acpi` states the MADT's CPU count.
MADT_COUNT_RE = re.compile(r"\b(?:cpus:? (\d+)|(\d+) cpus)\b", re.I)


def machine_args(machine):
    return ["-machine", machine]


def acpi_tables(vm):
    """`acpi` -> ({signature: [address, ...]}, {signature: [line, ...]}, out)."""
    out = vm.run("acpi")
    addrs, lines = {}, {}
    for line in out.split("\n"):
        m = TABLE_RE.match(line)
        if m:
            addrs.setdefault(m.group(1), []).append(int(m.group(2), 16))
            lines.setdefault(m.group(1), []).append(line)
    return addrs, lines, out


# ---------------------------------------------------------------- acpi ----

@pytest.mark.parametrize("machine", MACHINES)
def test_acpi_lists_the_tables(module_boot_vm, machine):
    vm = module_boot_vm(smp=4, extra_args=machine_args(machine))
    addrs, _, out = acpi_tables(vm)
    want = ["FACP", "APIC", "DSDT"] + (["MCFG"] if machine == "q35" else [])
    missing = [s for s in want if s not in addrs]
    assert not missing, f"acpi does not list {missing}:\n{out}"
    assert "RSDT" in addrs or "XSDT" in addrs, f"no RSDT/XSDT:\n{out}"
    for sig in want + [s for s in ("RSDT", "XSDT") if s in addrs]:
        assert all(a != 0 for a in addrs[sig]), f"{sig} at address 0:\n{out}"
    found = [a for sig in want for a in addrs[sig]]
    assert len(found) == len(set(found)), f"two tables at one address:\n{out}"


@pytest.mark.parametrize("machine", MACHINES)
def test_madt_cpu_count_is_smp(module_boot_vm, machine):
    vm = module_boot_vm(smp=4, extra_args=machine_args(machine))
    out = vm.run("cpu")
    m = CPU_SUMMARY_RE.search(out)
    assert m, out
    assert int(m.group(2)) == 4, f"MADT lists {m.group(2)} CPUs, -smp 4"
    _, _, acpi_out = acpi_tables(vm)
    for n in MADT_COUNT_RE.finditer(acpi_out):
        assert int(n.group(1) or n.group(2)) == 4, f"{n.group(0)!r}:\n{acpi_out}"


# ------------------------------------------------------------ poweroff ----

def power_off(vm, cmd="poweroff"):
    """Type @cmd, see "powering off", wait for QEMU to exit; its status.

    Fails at once if the kernel reports that the machine stayed on.
    """
    vm.send(cmd + "\r")
    vm.wait_for(re.escape(cmd) + r"\r\n")
    vm.wait_for(r"[^\r\n]*powering off[^\r\n]*\r\n")
    deadline = time.monotonic() + POWEROFF_TIMEOUT
    while vm.proc.poll() is None:
        after = vm.since(vm.cursor)
        if "did not power off" in after or nh.PANIC_MARK in after:
            vm.fail(f"the machine stayed on after {cmd!r}")
        if time.monotonic() > deadline:
            vm.fail(f"QEMU still runs {POWEROFF_TIMEOUT} s after "
                    f"'powering off'")
        time.sleep(0.1)
    code = vm.wait_exit(5)
    assert "did not power off" not in vm.since(vm.cursor)
    return code


@pytest.mark.parametrize("machine", MACHINES)
@pytest.mark.parametrize("cmd", ["poweroff", "shutdown"])
def test_poweroff_stops_qemu(boot_vm, machine, cmd):
    vm = boot_vm(extra_args=machine_args(machine))
    code = power_off(vm, cmd)
    assert code == 0, f"QEMU exit status {code} (0 is a guest power-off)"


def test_poweroff_with_four_cpus(boot_vm):
    """With the APs online, S5 still switches off the whole machine."""
    vm = boot_vm(smp=4)
    vm.run("cpu")
    assert power_off(vm) == 0


# -------------------------------------------------------------- reboot ----

def test_reboot_on_q35(boot_vm, nos_build):
    vm = boot_vm(extra_args=machine_args("q35"))
    pid = vm.proc.pid
    vm.send("reboot\r")
    vm.wait_for(r"rebooting")
    vm.wait_boot()
    assert vm.boots == 2 and vm.alive and vm.proc.pid == pid
    assert vm.run("version").startswith(f"nos {nos_build.version}")
    banners = [l for l in vm.run_lines("dmesg starting")
               if f"nos {nos_build.version} starting" in l]
    assert len(banners) == 1, f"dmesg survived the reset: {banners}"


# ------------------------------------------------------ device shutdown ----

def virtio_status(vm, dev_id):
    """The device status bits QEMU reports for the virtio device @dev_id."""
    st = vm.qmp("x-query-virtio-status", path=f"/machine/peripheral/{dev_id}/virtio-backend")
    return st["status"]["statuses"]


def test_poweroff_resets_virtio_devices_first(boot_vm, tmp_path):
    """Drivers reset their devices before the power goes: with -no-shutdown
    QEMU keeps the machine after S5, and every virtio device's status is 0
    (no DMA after the kernel is gone) instead of DRIVER_OK."""
    disk = tmp_path / "disk.img"
    disk.write_bytes(bytes(1 << 20))
    devices = {"rng0": "virtio-rng-pci,id=rng0",
               "blk0": "virtio-blk-pci,drive=d0,id=blk0",
               "scsi0": "virtio-scsi-pci,id=scsi0"}
    vm = boot_vm(qmp=True, extra_args=[
        "-no-shutdown", "-drive", f"file={disk},if=none,id=d0,format=raw",
        *[a for spec in devices.values() for a in ("-device", spec)]])
    for dev in devices:
        assert any("DRIVER_OK" in s for s in virtio_status(vm, dev)), dev
    vm.send("poweroff\r")
    vm.wait_for(r"powering off")
    for _ in range(100):
        if vm.qmp("query-status")["status"] == "shutdown":
            break
        time.sleep(0.1)
    assert vm.qmp("query-status")["status"] == "shutdown"
    for dev in devices:
        assert virtio_status(vm, dev) == [], f"{dev} still set up after power-off"
