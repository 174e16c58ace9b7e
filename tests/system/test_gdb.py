"""
test_gdb.py — GDB against QEMU's GDB server, the way `make debug` and
scripts/gdb.sh are used, and the nos-* commands of scripts/gdb/nos.py held
up against the shell commands they mirror.

How the machine is driven.  QEMU is started by the harness (it cleans up)
with `-S -gdb tcp:127.0.0.1:PORT` on a port the test picks, as
scripts/qemu.sh does for NOS_DEBUG=1; one test also runs scripts/qemu.sh
itself.  GDB runs in batch mode through scripts/gdb.sh, every command an
`-ex` (an error in one does not cancel the rest, as it would in a script
file), each output introduced by an `echo` marker so the test can cut it
into sections, and under a subprocess timeout.

Reading a running kernel: the test first takes the shell's readings (ps,
bt, dmesg, memusage), then stops the machine through QMP, attaches GDB to
the stopped machine, reads, detaches, and lets it go on (`cont`).  Nothing
runs between the last shell reading and the stop except the shell printing
its prompt and waiting for input, so the page counts must agree exactly:
an idle nos with no NIC and no disk allocates nothing on its own.  The
prompt is on the host before the shell has finished writing it, so a stop
that finds the shell still running is undone and tried again.

A breakpoint at cmd_uptime can only be hit by typing `uptime`: GDB must
still be waiting after the boot, and stop once the command is typed.
"""

import os
import re
import shutil
import socket
import subprocess
import time

import pytest

import nos_harness as nh

GDB_SH = nh.REPO / "scripts" / "gdb.sh"
QEMU_SH = nh.REPO / "scripts" / "qemu.sh"
GDB_TIMEOUT = 60 * nh.timeout_scale()
STOP_TRIES = 10
BT_TASKS = ("udpsh/0", "random")  # service tasks that sleep: bt and nos-bt agree

pytestmark = pytest.mark.skipif(shutil.which("gdb") is None,
                                reason="needs gdb (scripts/install-deps.sh)")

MARK = "=== nos-test "
FRAME_RE = re.compile(r"^#(\d+)\s+(0x[0-9a-f]+) in (\S+?)\+0x[0-9a-f]+")
KBT_RE = re.compile(r"^\s*#(\d+) (0x[0-9a-f]+) (\S+?)\+0x")
GDB_BT_RE = re.compile(r"^#\d+\s+(?:0x[0-9a-f]+ in )?([A-Za-z_][A-Za-z0-9_.]*) \(")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gdb_args(commands):
    """-ex arguments for @commands, each output after a marker.  A command
    given as (name, text) is filed under name; a plain string under itself."""
    args = []
    for c in commands:
        name, text = c if isinstance(c, tuple) else (c, c)
        args += ["-ex", f"echo {MARK}{name}\\n", "-ex", text]
    return args + ["-ex", f"echo {MARK}(end)\\n"]  # what GDB says on leaving


def sections(out):
    """{name: output lines} of a run made with gdb_args()."""
    found, cur = {}, None
    for line in out.split("\n"):
        if line.startswith(MARK):
            cur = line[len(MARK):].strip()
            found[cur] = []
        elif cur is not None and line:
            found[cur].append(line)
    return found


def gdb_env(port, elf):
    return dict(os.environ, NOS_GDB_PORT=str(port), NOS_GDB_ELF=str(elf))


def run_gdb(port, elf, commands, *, extra=()):
    """scripts/gdb.sh -batch with @commands; returns (rc, sections, output).
    stderr goes into the same stream, so each error sits in its section."""
    try:
        r = subprocess.run([str(GDB_SH), "-batch", "-nx", *extra, *gdb_args(commands)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=gdb_env(port, elf), timeout=GDB_TIMEOUT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"gdb did not finish within {GDB_TIMEOUT:.0f} s:\n{e.output}")
    return r.returncode, sections(r.stdout), r.stdout


def gdb_vm(nos_build, request, smp=2):
    """A VM made as `make debug` makes it: stopped, GDB server on a port of
    its own.  A first GDB detaches at once, which lets it boot."""
    port = free_port()
    vm = nh.NosVM(nos_build.iso, smp=smp, name=f"{request.node.name}-gdb", qmp=True,
                  extra_args=["-S", "-gdb", f"tcp:127.0.0.1:{port}"])
    vm.gdb_port = port
    request.node._nos_vms = getattr(request.node, "_nos_vms", []) + [vm]
    vm.start()
    return vm


def frames(lines):
    """Function names of nos-bt's '#n 0xADDR in function+off' lines."""
    return [m.group(3) for m in map(FRAME_RE.match, lines) if m]


def stopped_gdb(vm, elf, commands):
    """Stop @vm through QMP, run GDB on it, let it go on again."""
    vm.qmp("stop")
    try:
        assert vm.qmp("query-status")["running"] is False
        return run_gdb(vm.gdb_port, elf, commands)
    finally:
        vm.qmp("cont")


def ps_rows(lines):
    """[(pid, name, state, cpu, pinned)] from `ps` / nos-ps lines."""
    rows = []
    for line in lines[1:]:
        m = re.match(r"^\s*(\d+) (\S+)\s+(\S+)\s+(\d+)\s+\d+\.\d{3}\s+\d+( \(pinned\))?$", line)
        assert m, f"not a ps row: {line!r}"
        rows.append((int(m.group(1)), m.group(2), m.group(3), int(m.group(4)),
                     bool(m.group(5))))
    return rows


# ------------------------------------------------- the snapshot tests ----

class Snapshot:
    """The shell's readings of one VM and GDB's of the same VM, stopped."""


@pytest.fixture(scope="module")
def _snapshot(nos_build, request):
    snap = Snapshot()
    port = free_port()
    vm = nh.NosVM(nos_build.iso, smp=2, name="test_gdb-snapshot", qmp=True,
                  extra_args=["-S", "-gdb", f"tcp:127.0.0.1:{port}"])
    vm.gdb_port = port
    snap.vm = vm
    try:
        vm.start()
        rc, _, out = run_gdb(port, nos_build.kernel, ["detach"])
        assert rc == 0, out
        vm.wait_boot()
        take_snapshot(snap, vm, nos_build.kernel)
        yield snap
    except BaseException:
        vm.keep_log = True
        raise
    finally:
        vm.close()


def take_snapshot(snap, vm, elf):
    snap.ps = vm.run_lines("ps")
    rows = ps_rows(snap.ps)
    snap.pids = {name: pid for pid, name, *_ in rows}
    snap.shell_bt = {name: vm.run_lines(f"bt {snap.pids[name]}")
                     for name in BT_TASKS}
    snap.dmesg = vm.run_lines("dmesg")
    snap.dmesg_smp = vm.run_lines("dmesg smp:")
    snap.memusage = vm.run_lines("memusage")  # last: it hands back empty slabs
    commands = ["nos-ps", "nos-dmesg", ("nos-dmesg smp:", "nos-dmesg smp:"), "nos-mem",
                "info threads", "nos-cpus", "nos-help"]
    commands += [(f"bt {pid}", f"nos-bt {pid}") for pid in snap.pids.values()]
    commands += [(f"thread {n}", f"thread {n}") for n in (1, 2)]
    commands += [(f"pc {n}", f"thread apply {n} printf \"%#018lx\\n\", $pc") for n in (1, 2)]
    commands += [("bt none", "nos-bt 99999"), ("bt bad", "nos-bt one")]
    # The prompt reaches the host while the shell is still in serial_write()
    # sending it, and `random` wakes now and then to reseed: read again
    # until the stop finds the shell waiting for a key and both asleep.
    for _ in range(STOP_TRIES):
        snap.rc, snap.gdb, snap.gdb_out = stopped_gdb(vm, elf, commands)
        states = {n: st for _, n, st, _, _ in ps_rows(snap.gdb.get("nos-ps", [""]))}
        if all(states.get(n) == "blocked" for n in ("shell", *BT_TASKS)):
            break
    else:
        pytest.fail(f"no stop in {STOP_TRIES} found the shell, {BT_TASKS} asleep:\n"
                    f"{snap.gdb_out}")
    snap.after = vm.run("version")  # the machine goes on after GDB


@pytest.fixture
def snap(request, _snapshot):
    request.node._nos_vms = [_snapshot.vm]  # keep its log if the test fails
    return _snapshot


def test_machine_runs_on_after_gdb(snap):
    assert snap.after.startswith("nos "), snap.after


def test_nos_ps_lists_the_tasks_ps_lists(snap):
    nos = snap.gdb["nos-ps"]
    assert nos[0] == snap.ps[0], nos  # the same header
    shell_rows, nos_rows = ps_rows(snap.ps), ps_rows(nos)
    assert [(p, n, pin) for p, n, _, _, pin in nos_rows] == \
        [(p, n, pin) for p, n, _, _, pin in shell_rows]
    states = {name: state for _, name, state, _, _ in nos_rows}
    assert set(states.values()) <= {"running", "ready", "blocked", "idle", "dead"}
    # Stopped at the prompt, the shell waits for a key; it ran `ps` itself.
    assert states["shell"] == "blocked", nos
    assert dict((n, s) for _, n, s, _, _ in shell_rows)["shell"] == "running"
    # Pinned tasks (idle/N, softirq/N) stay on their CPU.
    for (_, name, _, cpu, pinned), (_, _, _, ncpu, _) in zip(shell_rows, nos_rows):
        if pinned:
            assert cpu == ncpu, name


def test_nos_dmesg_holds_the_lines_of_dmesg(snap):
    # A fresh boot logs a few dozen of the ring's 2048 messages, so none was
    # dropped; the log may only have grown at its end since `dmesg` ran.
    nos = snap.gdb["nos-dmesg"]
    assert len(snap.dmesg) > 10
    assert nos[:len(snap.dmesg)] == snap.dmesg
    assert all(nh.DMESG_LINE_RE.match(line) for line in nos if line), nos
    assert any("shell ready" in line for line in nos)
    assert snap.gdb["nos-dmesg smp:"] == snap.dmesg_smp
    assert len(snap.dmesg_smp) >= 2  # "cpu1 online", "2 of 2 CPUs online"


def test_nos_mem_agrees_with_memusage(snap):
    nos = snap.gdb["nos-mem"]
    pages = snap.memusage[:snap.memusage.index(next(
        line for line in snap.memusage if line.startswith("  pools:")))]
    firmware = [line for line in snap.memusage if line.startswith("firmware-reserved")]
    # total, the accounts, free, used, largest free block, firmware-reserved
    assert nos[:len(pages) + 1] == pages + firmware, (nos, snap.memusage)
    m = re.search(r"^frames: (\d+) managed, (\d+) free, (\d+) allocations live$",
                  "\n".join(nos), re.M)
    assert m, nos
    managed, free = int(m.group(1)), int(m.group(2))
    allocator_kib = int(re.search(r"page allocator\s+(\d+) KiB", "\n".join(pages)).group(1))
    free_kib = int(re.search(r"^free: (\d+) KiB", "\n".join(pages), re.M).group(1))
    assert managed * 4 == allocator_kib
    assert free * 4 == free_kib
    orders = re.search(r"^free blocks by order: (.*)$", "\n".join(nos), re.M).group(1)
    assert sum(int(n) << int(o) for o, n in (p.split(":") for p in orders.split())) == free


def test_info_threads_shows_each_cpu(snap):
    threads = [line for line in snap.gdb["info threads"] if "Thread 1." in line]
    assert len(threads) == 2, snap.gdb["info threads"]
    cpus = snap.gdb["nos-cpus"]
    assert len(cpus) == 2 and all("online" in c for c in cpus), cpus
    assert {re.match(r"cpu(\d+): thread (\d+),", c).groups() for c in cpus} == \
        {("0", "1"), ("1", "2")}


def test_nos_bt_of_a_blocked_task_matches_bt(snap):
    for name in BT_TASKS:
        pid = snap.pids[name]
        shell = [m.group(3) for m in map(KBT_RE.match, snap.shell_bt[name]) if m]
        nos = snap.gdb[f"bt {pid}"]
        assert re.match(rf"task {pid} \({re.escape(name)}\), blocked", nos[0]), nos
        # The same chain, from the same frame sched_switch() left.
        assert frames(nos) == shell, (nos, snap.shell_bt[name])
        assert frames(nos)[0] in ("__schedule", "schedule")
        assert frames(nos)[-2:] == ["task_start", "task_first_run"]
    assert "reseed_task" in frames(snap.gdb[f"bt {snap.pids['random']}"])


def test_nos_bt_of_the_shell_waiting_for_input(snap):
    nos = snap.gdb[f"bt {snap.pids['shell']}"]
    names = frames(nos)
    for fn in ("console_getc", "shell_run_console", "shell_task", "task_start"):
        assert fn in names, nos
    assert names.index("console_getc") < names.index("shell_run_console")


def test_nos_bt_of_a_running_task_uses_its_cpu(snap):
    running = 0
    for pid in snap.pids.values():
        out = snap.gdb[f"bt {pid}"]
        m = re.match(rf"task {pid} \(\S+\), running on cpu(\d) \(thread (\d)\):", out[0])
        if not m:
            continue
        running += 1
        pc = snap.gdb[f"pc {m.group(2)}"]
        assert FRAME_RE.match(out[1]).group(2) in "\n".join(pc), (out, pc)
    assert running >= 1  # each CPU runs something (its idle task at least)


def test_nos_commands_report_bad_input(snap):
    assert any("nos-bt: no task with pid 99999" in line for line in snap.gdb["bt none"])
    assert any("usage: nos-bt <pid>" in line for line in snap.gdb["bt bad"])
    help_text = "\n".join(snap.gdb["nos-help"])
    for cmd in ("nos-dmesg", "nos-ps", "nos-bt", "nos-mem", "nos-cpus"):
        assert cmd in help_text


# -------------------------------------------------- breakpoints, CPUs ----

def test_breakpoint_in_a_command_handler(nos_build, request):
    vm = gdb_vm(nos_build, request)
    try:
        commands = ["break cmd_uptime", "continue", "bt", "finish", "detach"]
        gdb = subprocess.Popen([str(GDB_SH), "-batch", "-nx", *gdb_args(commands)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=gdb_env(vm.gdb_port, nos_build.kernel))
        try:
            vm.wait_boot()
            assert gdb.poll() is None, "the breakpoint hit before `uptime` was typed"
            mark = vm.cursor
            vm.send("uptime\r")
            out, _ = gdb.communicate(timeout=GDB_TIMEOUT)
        finally:
            if gdb.poll() is None:
                gdb.kill()
                gdb.wait()
        got = sections(out)
        assert any("hit Breakpoint 1, cmd_uptime" in line for line in got["continue"]), out
        names = [m.group(1) for m in map(GDB_BT_RE.match, got["bt"]) if m]
        assert names[0] == "cmd_uptime", got["bt"]
        chain = ["cmd_uptime", "sh_run", "sh_exec_line", "shell_exec", "shell_console_run",
                 "shell_run_console", "shell_task", "task_start"]
        assert [n for n in names if n in chain] == chain, got["bt"]
        assert any("Value returned is $1 = 0" in line for line in got["finish"]), out
        vm.wait_prompt()
        assert re.search(r"up \d+:\d\d:\d\d\.\d{3} \(", vm.since(mark)), vm.since(mark)
    finally:
        vm.close()


@pytest.mark.parametrize("smp", [4])
def test_info_threads_one_per_cpu(nos_build, request, smp):
    vm = gdb_vm(nos_build, request, smp=smp)
    try:
        # At the reset vector, before the kernel: the CPUs are there already.
        rc, got, out = run_gdb(vm.gdb_port, nos_build.kernel, ["info threads", "detach"])
        assert len([l for l in got["info threads"] if "Thread 1." in l]) == smp, out
        vm.wait_boot()
        _, got, out = stopped_gdb(vm, nos_build.kernel, ["info threads", "nos-cpus"])
        assert len([l for l in got["info threads"] if "Thread 1." in l]) == smp, out
        cpus = [re.match(r"cpu(\d+): thread (\d+), online", c) for c in got["nos-cpus"]]
        assert all(cpus) and len(cpus) == smp, got["nos-cpus"]
        assert sorted(int(m.group(1)) for m in cpus) == list(range(smp))
        assert len({m.group(2) for m in cpus}) == smp  # a thread each
        assert vm.run("uptime").startswith("up ")
    finally:
        vm.close()


# ----------------------------------------------------------- failures ----

def test_nothing_to_attach_to(nos_build):
    port = free_port()  # nobody listens there
    _, got, out = run_gdb(port, nos_build.kernel, ["nos-ps", "nos-dmesg"])
    assert "Connection refused" in out or "connect" in out.lower(), out
    for cmd in ("nos-ps", "nos-dmesg"):
        assert any(f"{cmd}: not attached to a kernel" in l for l in got[cmd]), out


def test_missing_symbols_are_named(nos_build, request):
    """Attached, but without the kernel's ELF: the command says what is missing."""
    vm = gdb_vm(nos_build, request)
    try:
        script = nh.REPO / "scripts" / "gdb" / "nos.py"
        cmd = ["gdb", "-batch", "-nx", "-ex", "set architecture i386:x86-64",
               "-ex", f"source {script}", "-ex", f"target remote 127.0.0.1:{vm.gdb_port}",
               *gdb_args(["nos-ps", "nos-mem", "detach"])]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=GDB_TIMEOUT)
        got = sections(r.stdout)
        assert any("nos-ps: no symbol 'task_list'" in l for l in got["nos-ps"]), r.stdout
        assert any("nos-mem: no symbol 'memmap'" in l for l in got["nos-mem"]), r.stdout
    finally:
        vm.close()


def test_qemu_sh_debug_waits_for_gdb(nos_build):
    """scripts/qemu.sh with NOS_DEBUG=1 (what `make debug` runs): stopped at
    the reset vector, GDB server on NOS_GDB_PORT, one thread per CPU."""
    port = free_port()
    env = dict(os.environ, NOS_DEBUG="1", NOS_GDB_PORT=str(port), NOS_DISK="none",
               NOS_NET="none", NOS_SMP="2")
    qemu = subprocess.Popen([str(QEMU_SH), str(nos_build.iso)], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=nh._die_with_parent)
    try:
        line = qemu.stderr.readline()  # printed before QEMU starts
        assert f"waits for GDB on 127.0.0.1:{port}" in line and "scripts/gdb.sh" in line
        deadline = time.monotonic() + GDB_TIMEOUT
        while True:  # QEMU opens its port a moment after the script's line
            rc, got, out = run_gdb(port, nos_build.kernel,
                                   ["info threads", ("pc", "printf \"%#lx\\n\", $pc"), "kill"])
            if "Connection refused" not in out or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len([l for l in got["info threads"] if "Thread 1." in l]) == 2, out
        assert got["pc"][0] == "0xfff0", out  # -S: nothing has run yet
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait(timeout=10)
        qemu.stderr.close()
        qemu.stdin.close()
