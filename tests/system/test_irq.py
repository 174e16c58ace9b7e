"""
test_irq.py — interrupts are routed, delivered and counted per CPU.

`irqstat` shows one row per handler with a count per CPU column; the rows
are the kernel's own bookkeeping of the interrupts it took, so counts that
rise when the device acts show that the IOAPIC routes (from the MADT's
interrupt source overrides), the LAPIC delivers and the handler runs.

What is checked, from the contract:
  header     "vec ... cpu0 cpu1 ... total  device": one column per CPU
  rows       "0x<vec> [gsi <n>] <count per CPU...> <total>  <name>", the
             total is the sum of the columns, vectors are distinct; rows for
             pit, serial, keyboard, lapic-timer and ipi-call; last line
             "spurious: <n>"
  routing    QEMU's MADT overrides ISA IRQ 0 to GSI 2: the PIT is on gsi 2;
             the COM1 UART on gsi 4, the 8042 keyboard on gsi 1; the LAPIC
             timer and the IPI have no GSI
  counting   pit and lapic-timer totals grow between two calls; with -smp 2
             the lapic-timer counts on both CPUs are non-zero and grow;
             serial grows when you type; keyboard grows when a key is pressed
             (QMP send-key); `cpu` (a cross-CPU call) raises ipi-call on the
             other CPU; the same on -machine q35
"""

import re
import time

import pytest

ROW_RE = re.compile(r"^0x([0-9a-fA-F]{2})\s+(?:gsi (\d+)\s+)?((?:\d+\s+)+)(\S.*)$")
SPURIOUS_RE = re.compile(r"^spurious: (\d+)$")
DEVICES = ("pit", "serial", "keyboard", "lapic-timer", "ipi-call")
GSI = {"pit": 2, "serial": 4, "keyboard": 1}


def parse_irqstat(out):
    """`irqstat` -> (["cpu0", ...], {name: row}, spurious).

    A row is {vec, gsi (None if not shown), counts [per CPU], total}.
    """
    lines = out.split("\n")
    head = lines[0].split()
    assert head[0] == "vec" and head[-2:] == ["total", "device"], lines[0]
    cols = head[1:-2]
    assert cols == [f"cpu{i}" for i in range(len(cols))] and cols, lines[0]
    ends = [i for i, line in enumerate(lines) if SPURIOUS_RE.match(line)]
    assert len(ends) == 1, f"no single 'spurious: <n>' line:\n{out}"
    sp = SPURIOUS_RE.match(lines[ends[0]])
    # After it, one 'softirq <count per CPU> <total> <type>' line per type.
    for line in lines[ends[0] + 1:]:
        f = line.split()
        assert f[0] == "softirq" and len(f) == len(cols) + 3, line
        assert int(f[-2]) == sum(int(x) for x in f[1:-2]), line
    rows = {}
    vectors = []
    for line in lines[1:ends[0]]:
        m = ROW_RE.match(line)
        assert m, f"malformed irqstat row {line!r}\n{out}"
        nums = [int(x) for x in m.group(3).split()]
        name = m.group(4).strip()
        assert len(nums) == len(cols) + 1, f"{line!r}: one count per CPU " \
                                           f"and a total"
        row = {"vec": int(m.group(1), 16),
               "gsi": int(m.group(2)) if m.group(2) else None,
               "counts": nums[:-1], "total": nums[-1]}
        assert row["total"] == sum(row["counts"]), f"total of {line!r}"
        vectors.append(row["vec"])
        rows.setdefault(name, row)
    assert len(vectors) == len(set(vectors)), f"a vector twice:\n{out}"
    return cols, rows, int(sp.group(1))


def irqstat(vm):
    return parse_irqstat(vm.run("irqstat"))


@pytest.fixture
def vm(module_boot_vm):
    """The module's VM: two CPUs, QMP for the keyboard."""
    return module_boot_vm(smp=2, qmp=True)


def test_header_has_one_column_per_cpu(vm):
    cols, _, _ = irqstat(vm)
    assert cols == ["cpu0", "cpu1"]


def test_every_device_has_a_row(vm):
    _, rows, _ = irqstat(vm)
    missing = [d for d in DEVICES if d not in rows]
    assert not missing, f"no irqstat row for {missing}; rows: {sorted(rows)}"


def test_isa_devices_sit_on_their_gsis(vm):
    _, rows, _ = irqstat(vm)
    got = {d: rows[d]["gsi"] for d in GSI}
    assert got == GSI, "PIT on GSI 2 (MADT override), COM1 on 4, 8042 on 1"
    assert rows["lapic-timer"]["gsi"] is None
    assert rows["ipi-call"]["gsi"] is None


def test_vectors_are_device_vectors(vm):
    _, rows, _ = irqstat(vm)
    for name, row in rows.items():
        assert 0x20 <= row["vec"] <= 0xff, f"{name}: vector {row['vec']:#x}"


def test_timer_counts_rise(vm):
    _, a, _ = irqstat(vm)
    time.sleep(1.0)
    _, b, _ = irqstat(vm)
    assert b["pit"]["total"] > a["pit"]["total"]
    assert b["lapic-timer"]["total"] > a["lapic-timer"]["total"]
    for cpu, (x, y) in enumerate(zip(a["lapic-timer"]["counts"],
                                     b["lapic-timer"]["counts"])):
        assert y > x, f"lapic-timer on cpu{cpu}: {x} -> {y}"


def test_serial_counts_what_you_type(vm, nos_build):
    _, a, _ = irqstat(vm)
    for _ in range(3):
        assert vm.run("version").startswith(f"nos {nos_build.version}")
    vm.run("dmesg " + "no-such-message-" * 8)
    _, b, _ = irqstat(vm)
    assert b["serial"]["total"] > a["serial"]["total"], \
        f"serial {a['serial']} -> {b['serial']}"


def test_keyboard_counts_key_presses(vm):
    _, a, _ = irqstat(vm)
    # Shift alone: scancodes and interrupts, but no character for the shell.
    for _ in range(3):
        vm.qmp("send-key", keys=[{"type": "qcode", "data": "shift"}])
    time.sleep(0.5)
    _, b, _ = irqstat(vm)
    assert b["keyboard"]["total"] > a["keyboard"]["total"], \
        f"keyboard {a['keyboard']} -> {b['keyboard']}"


def test_cross_cpu_call_is_counted_on_the_target(vm):
    cols, a, _ = irqstat(vm)
    assert len(cols) == 2, f"cpu1 has no column: {cols}"
    vm.run("cpu")  # asks cpu1 for its registers with an IPI
    _, b, _ = irqstat(vm)
    assert b["ipi-call"]["counts"][1] > a["ipi-call"]["counts"][1], \
        f"ipi-call {a['ipi-call']} -> {b['ipi-call']}"


def test_interrupts_on_q35(module_boot_vm, nos_build):
    vm = module_boot_vm(smp=2, extra_args=["-machine", "q35"])
    cols, a, _ = irqstat(vm)
    assert cols == ["cpu0", "cpu1"]
    assert {d: a[d]["gsi"] for d in GSI} == GSI
    time.sleep(1.0)
    assert vm.run("version").startswith(f"nos {nos_build.version}")
    _, b, _ = irqstat(vm)
    for dev in ("pit", "serial"):
        assert b[dev]["total"] > a[dev]["total"], f"{dev}: {a[dev]} -> {b[dev]}"
    for cpu, (x, y) in enumerate(zip(a["lapic-timer"]["counts"],
                                     b["lapic-timer"]["counts"])):
        assert y > x, f"lapic-timer on cpu{cpu}: {x} -> {y}"
