"""
test_interrupt.py — Ctrl-C stops a running command and gives the prompt back.

A command runs as the console's foreground task; the Ctrl-C byte (0x03) on
the serial line marks it interrupted, its waits return early and its loops
stop, and the shell prints "^C" before the next prompt.  Each test starts a
command that would run far longer than the test waits for it (or, for the
short benchmarks, whose full output would show that it finished), sends the
byte once the command is under way, and checks:

  - the prompt is back well before the command could have ended by itself
    (a Ctrl-C that is ignored makes the wait time out);
  - the command's output ends with the "^C" line, and what it prints only
    at its end is missing (so it was the command, not the prompt after it,
    that got the byte);
  - the shell still works, and whatever the command started is gone (no
    `hang`, bench or test task left in `ps`).

Covered: sleep, hang (irqoff on another CPU, preemptoff on another CPU and
on the shell's own CPU), schedbench, membench, selftest (stops between two
tests) and diskbench (stops between two batches of requests, with none in
flight, and leaves the disk unclaimed).

nc, over QEMU user networking against peers of the test's own on the host's
loopback: receiving from a silent peer, from one that trickles a line every
0.2 s and from one that floods (printed and with -q), sending 4 GiB, `nc -l`
with nobody connecting, and — in a network namespace of the test's own whose
loopback drops the SYNs (root only) — a connect that is never answered.
Each time the command says "EINTR (interrupted)" for the step it was in,
tcpstat shows nothing of it but TIME_WAIT (a reset was sent; no listener is
left), and the peer finds its connection gone.

File commands, on a 2 GiB nanofs disk with a 512 MiB file and on ramfs:
crc32 and cat of the big file, cp between ramfs and nanofs both ways and
within nanofs (no partial target is left, also when one of that name was
there before), fsbench on nanofs and ramfs (its file is deleted, the volume
still checks clean), and fsck of the volume (stops between runs of data
blocks, leaves the disk unclaimed; a full check is then clean).

Not covered: `hang 0 N irqoff`, which cannot be stopped early — the
console's interrupt goes to cpu0, whose interrupts that command turns off;
smpbench, which finishes in a small fraction of a second (it is
interruptible between batches of rounds all the same); `format nanofs`,
which writes only the metadata and takes a few tens of ms even on 1 GiB
(it has no interruption point); fsbench's create/delete phase and `del` of
a tree, each well under a second for what a test can make (both look at
the mark per file).  nslookup is in test_net_rig_dns.py (it needs a DNS
server that goes silent); ping, dhcp, wget and entropy have theirs beside
their other tests.
"""

import itertools
import os
import re
import socket
import subprocess
import threading
import time

import pytest

import net_rig as nr
import nos_harness as nh

CTRL_C = b"\x03"
# How long the prompt may take to come back after Ctrl-C: far less than any
# command below runs by itself (30 s and more), far more than delivery needs.
BACK_IN = 12.0
# Let the command get under way before the byte is sent (no timing is
# asserted: waiting longer only makes the tests slower).
SETTLE = 0.5


def start(vm, cmd, started=None, timeout=None):
    """Type @cmd and wait for its echo (and for @started, a regex, if given)."""
    if not vm.healthy:
        vm.wait_prompt(timeout)
    vm.send(cmd + "\r")
    begin = vm.wait_for(re.escape(cmd) + r"\r\n", timeout).end()
    if started:
        vm.wait_for(started, timeout)
    return begin


def interrupt(vm, cmd, started=None, settle=SETTLE, start_timeout=None):
    """Run @cmd, press Ctrl-C once it is under way; return its output (LF)."""
    begin = start(vm, cmd, started, start_timeout)
    time.sleep(settle)
    vm.send(CTRL_C)
    prompt = vm.wait_prompt(BACK_IN * nh.timeout_scale())
    out = vm.since(begin)[:prompt.start(1) - begin].replace("\r\n", "\n")
    assert out.endswith("^C\n"), f"`{cmd}` was not interrupted:\n{out}"
    return out[:-len("^C\n")]


def task_names(vm):
    return [l.split()[1] for l in vm.run_lines("ps")[1:]]


def still_works(vm, leftover=()):
    assert vm.run("version").startswith("nos "), "the shell is broken"
    names = task_names(vm)
    left = [n for n in names if n in leftover]
    assert not left, f"tasks left behind: {left}\n{names}"


# ------------------------------------------------------------------ sleep ----

def test_sleep_is_interrupted(module_boot_vm):
    vm = module_boot_vm(smp=2)
    assert interrupt(vm, "sleep 3600") == ""
    still_works(vm)


def test_sleep_runs_its_time_without_ctrl_c(module_boot_vm):
    vm = module_boot_vm(smp=2)
    assert vm.run("sleep 1") == ""
    assert vm.run("sleep 0") == ""


def test_ctrl_c_at_the_prompt_does_not_reach_the_next_command(module_boot_vm):
    """The mark is cleared before each command: an earlier Ctrl-C typed at
    the prompt must not cut the next command short."""
    vm = module_boot_vm(smp=2)
    vm.send(CTRL_C)
    vm.resync()
    t0 = vm.run("uptime")
    assert vm.run("sleep 1") == ""
    t1 = vm.run("uptime")
    secs = [float(re.search(r"\(([0-9.]+) s\)", t).group(1)) for t in (t0, t1)]
    assert secs[1] - secs[0] >= 1.0, (t0, t1)


# ------------------------------------------------------------------- hang ----

@pytest.mark.parametrize("cpu, mode", [(1, "irqoff"), (1, "preemptoff"),
                                       (0, "preemptoff")])
def test_hang_is_interrupted(module_boot_vm, cpu, mode):
    vm = module_boot_vm(smp=2)
    out = interrupt(vm, f"hang {cpu} 30 {mode}", started=rf"cpu{cpu} stuck for 30 s")
    assert out.strip() == f"cpu{cpu} stuck for 30 s with " + \
        ("interrupts off" if mode == "irqoff" else "preemption off"), out
    still_works(vm, leftover=("hang",))
    # The CPU is free again: a short hang on it runs to its end.
    assert vm.run(f"hang {cpu} 1 {mode}", timeout=20) == \
        f"cpu{cpu} stuck for 1 s with " + \
        ("interrupts off" if mode == "irqoff" else "preemption off")


# -------------------------------------------------------------- benchmarks ----

def test_schedbench_is_interrupted_and_joins_its_tasks(module_boot_vm):
    vm = module_boot_vm(smp=2)
    before = task_names(vm)
    out = interrupt(vm, "schedbench")
    assert "fairness spread" not in out, out
    still_works(vm, leftover=("yield-a", "yield-b", "wake-target", "fair"))
    assert task_names(vm) == before


def test_membench_is_interrupted(module_boot_vm):
    vm = module_boot_vm(smp=2)
    out = interrupt(vm, "membench", settle=0.1)
    assert "page_alloc(1)+page_free" not in out, out
    still_works(vm)
    lines = vm.run_lines("membench", timeout=60)
    assert len(lines) == 2 and lines[1].startswith("page_alloc(1)+page_free: "), lines


# ---------------------------------------------------------------- selftest ----

def test_selftest_stops_between_tests(boot_vm):
    vm = boot_vm(smp=2)  # its own: the boot tests leave their traces
    out = interrupt(vm, "selftest", started=r"\r\nok \S+\r\n", settle=0.2,
                    start_timeout=60)
    lines = out.strip().split("\n")
    ok, fail, counts = nh.parse_selftest(out)
    assert ok, out[-2000:]
    stopped = [l for l in lines if l.startswith("stopped: ")]
    assert len(stopped) == 1, lines[-5:]
    not_run = int(re.match(r"stopped: (\d+) tests not run$", stopped[0]).group(1))
    assert not_run > 0, stopped
    assert counts == [(len(ok), len(fail))], lines[-3:]
    assert lines[-1] == f"{len(ok)} passed, {len(fail)} failed", lines[-3:]
    still_works(vm)


# --------------------------------------------------------------- diskbench ----

@pytest.fixture
def big_disk(tmp_path):
    """A sparse 1 GiB raw image (only what diskbench writes takes space)."""
    path = tmp_path / "big.img"
    with open(path, "wb") as f:
        f.truncate(1024 << 20)
    yield ["-drive", f"file={path},if=none,id=big,format=raw",
           "-device", "virtio-blk-pci,drive=big"]
    path.unlink(missing_ok=True)  # pytest keeps its tmp dirs for a while


def test_diskbench_is_interrupted_and_releases_the_disk(boot_vm, big_disk):
    vm = boot_vm(smp=2, extra_args=big_disk)
    out = interrupt(vm, "diskbench vda 1024", started=r"diskbench vda: 1024 MiB.*\r\n",
                    settle=1.0)
    # Ctrl-C lands in the write pass or, on a busy host, the read pass:
    # either way the run stops between batches, before the verification.
    assert out.endswith("diskbench: interrupted\n"), out
    assert "verify" not in out and "read:" not in out, out
    assert "failed" not in out, out
    # Not claimed any more, and its buffers and slots are whole: a short
    # run works and verifies.
    assert "claimed" not in vm.run("disks")
    lines = vm.run_lines("diskbench vda 1", timeout=120)
    assert lines[-1] == "verify: ok", lines
    still_works(vm)


# ---------------------------------------------------------------------- nc ----
#
# QEMU user networking, `dhcp=off dns=off`, the static address 10.0.2.15 with
# 10.0.2.2 (slirp's alias of the host's 127.0.0.1) as gateway: the guest
# talks to peers of the test's own on the host's loopback and nothing else.

HOST = "10.0.2.2"
SLIRP = ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
NC_EINTR = "nc: {what} {where}: EINTR (interrupted)"
# How long a peer may take to notice that the guest's side is gone: slirp
# closes its host socket when the reset comes, the peer's next sends fail.
PEER_NOTICES = 15.0


class Peer:
    """A TCP peer on 127.0.0.1 (a free port) that accepts one connection
    and then behaves as @mode says:

      silent   reads the guest's end of stream (nc shuts its sending side
               down at once) and sends nothing, until probe_gone();
      trickle  sends b"tick\\n" every 0.2 s;
      flood    sends 64 KiB chunks (lines of 63 'f') as fast as the guest
               takes them.

    The sending modes stop at the first failed send and set `gone`: the
    guest's connection no longer exists (slirp closed its socket when the
    guest reset the connection)."""

    def __init__(self, mode):
        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.conn = None
        self.accepted = threading.Event()
        self.eof = threading.Event()
        self.gone = threading.Event()
        self.sent = 0
        self.thread = threading.Thread(target=self._serve, daemon=True,
                                       name=f"nc-peer-{mode}")
        self.thread.start()

    def _serve(self):
        try:
            self.conn, _ = self.sock.accept()
        except OSError:
            return  # closed before anybody came
        self.accepted.set()
        if self.mode == "silent":
            self._read_to_eof()
            return
        chunk = b"tick\n" if self.mode == "trickle" else (b"f" * 63 + b"\n") * 1024
        try:
            while True:
                self.conn.sendall(chunk)
                self.sent += len(chunk)
                if self.mode == "trickle":
                    time.sleep(0.2)
        except OSError:
            self.gone.set()

    def _read_to_eof(self):
        try:
            while self.conn.recv(4096):
                pass
            self.eof.set()
        except OSError:
            pass

    def probe_gone(self, timeout):
        """Send a byte every 0.2 s until a send fails: True, or False when
        every send for @timeout s went through (the connection is alive)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.conn.send(b"?")
            except OSError:
                return True
            time.sleep(0.2)
        return False

    def close(self):
        for s in (self.conn, self.sock):
            if s is not None:
                s.close()
        self.thread.join(5)


@pytest.fixture
def peer():
    made = []

    def make(mode):
        p = Peer(mode)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


@pytest.fixture
def netvm(module_boot_vm):
    vm = module_boot_vm(cmdline="dhcp=off dns=off", smp=2, extra_args=SLIRP)
    if "10.0.2.15/24" not in vm.run("ifconfig eth0"):
        out = vm.run(f"ifconfig eth0 10.0.2.15/24 {HOST}")
        assert "ipv4 10.0.2.15/24, gateway 10.0.2.2" in out, out
    return vm


def tcp_rows(vm):
    """(state, local, remote) of every connection and listener in tcpstat,
    and the counters ("resets_out", "listeners", ...) of its summary."""
    out = vm.run("tcpstat")
    rows = [tuple(l.split()[:3]) for l in out.split("\n")[1:]
            if re.match(r"^[A-Z][A-Z_0-9]+ ", l)]
    resets = re.search(r"^resets: (\d+) in, (\d+) out", out, re.M)
    now = re.search(r"^now: (\d+) connections \((\d+) in TIME_WAIT\), (\d+) listeners",
                    out, re.M)
    assert resets and now, out
    counts = {"resets_in": int(resets.group(1)), "resets_out": int(resets.group(2)),
              "conns": int(now.group(1)), "time_wait": int(now.group(2)),
              "listeners": int(now.group(3))}
    return rows, counts


def assert_nothing_open(vm, port=None):
    """Only TIME_WAIT may remain (of a connection to @port, if given), and
    no listener: what nc had open is gone."""
    rows, counts = tcp_rows(vm)
    live = [r for r in rows if r[0] != "TIME_WAIT"
            and (port is None or r[2].endswith(f":{port}") or r[1].endswith(f":{port}"))]
    assert not live, f"left open: {live}"
    assert counts["listeners"] == 0, counts
    return counts


def test_nc_to_a_silent_peer_is_interrupted_and_reset(netvm, peer):
    """nc connects, sends nothing, shuts down its side and waits for the
    peer's data (NC_IDLE_NS, 30 s); Ctrl-C resets the connection: it is
    gone from tcpstat with one more reset sent, and the peer finds it gone."""
    p = peer("silent")
    before = tcp_rows(netvm)[1]
    where = f"{HOST}:{p.port}"
    out = interrupt(netvm, f"nc {HOST} {p.port}")
    assert p.eof.wait(5), "nc never got as far as its receive (no end of stream)"
    assert out == NC_EINTR.format(what="receive from", where=where) + "\n", out
    counts = assert_nothing_open(netvm, p.port)
    assert counts["resets_out"] > before["resets_out"], (before, counts)
    assert p.probe_gone(PEER_NOTICES), "the peer's connection is still alive"
    still_works(netvm)


def test_nc_receiving_a_trickle_is_interrupted(netvm, peer):
    """A peer that keeps the connection busy with a line every 0.2 s: nc
    prints what comes until Ctrl-C, then resets; the peer's sends fail."""
    p = peer("trickle")
    before = tcp_rows(netvm)[1]
    where = f"{HOST}:{p.port}"
    out = interrupt(netvm, f"nc {HOST} {p.port}", started=r"tick\r\ntick\r\n")
    lines = out.split("\n")
    assert lines[-2:] == [NC_EINTR.format(what="receive from", where=where), ""], lines[-3:]
    assert set(lines[:-2]) == {"tick"}, lines
    counts = assert_nothing_open(netvm, p.port)
    assert counts["resets_out"] > before["resets_out"], (before, counts)
    assert p.gone.wait(PEER_NOTICES), "the peer could still send"
    still_works(netvm)


@pytest.mark.parametrize("quiet", [False, True], ids=["printing", "quiet"])
def test_nc_receiving_a_flood_is_interrupted(netvm, peer, quiet):
    """A peer that sends as fast as the guest takes it.  Printed, the data
    comes faster than the console shows it, so some is always waiting and
    tcp_recv() never sleeps: the receive loop itself must see the mark (it
    did not, and nc printed until the peer stopped).  With -q nc only
    counts, and the output must not have the end-of-stream summary."""
    p = peer("flood")
    before = tcp_rows(netvm)[1]
    where = f"{HOST}:{p.port}"
    out = interrupt(netvm, f"nc {'-q ' if quiet else ''}{HOST} {p.port}", settle=1.0)
    assert out.endswith(NC_EINTR.format(what="receive from", where=where) + "\n"), out[-300:]
    assert "received" not in out, out[-300:]
    if not quiet:
        assert out.startswith("f" * 63 + "\n"), out[:100]
    counts = assert_nothing_open(netvm, p.port)
    assert counts["resets_out"] > before["resets_out"], (before, counts)
    assert p.gone.wait(PEER_NOTICES), "the peer could still send"
    still_works(netvm)


def test_nc_sending_is_interrupted(netvm, peer):
    """4 GiB to a peer that reads everything (minutes of sending): Ctrl-C
    stops the send loop and resets the connection."""
    p = peer("silent")
    before = tcp_rows(netvm)[1]
    where = f"{HOST}:{p.port}"
    out = interrupt(netvm, f"nc -q -n 4294967296 {HOST} {p.port}", settle=1.0)
    assert out == NC_EINTR.format(what="send to", where=where) + "\n", out
    counts = assert_nothing_open(netvm, p.port)
    assert counts["resets_out"] > before["resets_out"], (before, counts)
    assert p.probe_gone(PEER_NOTICES), "the peer's connection is still alive"
    still_works(netvm)


def test_nc_listen_with_nobody_connecting_is_interrupted(netvm):
    """`nc -l` waits up to NC_IDLE_NS (30 s) for a connection; Ctrl-C ends
    the wait and the listener is closed (no LISTEN row, 0 listeners)."""
    out = interrupt(netvm, "nc -l 5101", started=r"listening on port 5101\r\n")
    assert out == "listening on port 5101\n" + \
        NC_EINTR.format(what="accept on", where="port 5101") + "\n", out
    assert_nothing_open(netvm)
    # The port is free again: a new listener can take it (and is stopped too).
    out = interrupt(netvm, "nc -l 5101", started=r"listening on port 5101\r\n")
    assert "EADDRINUSE" not in out, out
    still_works(netvm)


MUTE_PORT = 5202
MUTE_TABLE = "nos_ctrlc_mute"
_mute_count = itertools.count(1)


@pytest.fixture
def mute_ns():
    """A network namespace of the test's own (net_rig's Netns, so a killed
    run's namespace is swept) whose loopback drops every TCP segment to
    MUTE_PORT.  QEMU runs in it with user networking: the guest's SYN to
    10.0.2.2:MUTE_PORT makes slirp connect to 127.0.0.1:MUTE_PORT there,
    that SYN is dropped, and slirp answers the guest nothing until its own
    connect gives up (minutes).  Needs root; list it before boot_vm."""
    nr.require_rig()
    ns = nr.Netns(f"{nr.NS_PREFIX}{os.getpid()}-ctrlc{next(_mute_count)}")
    try:
        ns.create()
        ns.exec(["nft", "-f", "-"], input=(
            f"table inet {MUTE_TABLE} {{\n  chain out {{ type filter hook output "
            f"priority 0; policy accept; tcp dport {MUTE_PORT} counter drop; }}\n}}\n"))
        yield ns
    finally:
        for vm in list(nh.NosVM.live):
            if list(vm.wrap) == ns.wrap:
                vm.close()
        errors = []
        ns.close(errors)
        assert not errors, errors


def muted_packets(ns):
    out = ns.exec(["nft", "list", "table", "inet", MUTE_TABLE]).stdout
    m = re.search(r"counter packets (\d+)", out)
    assert m, out
    return int(m.group(1))


def test_nc_connect_with_syns_unanswered_is_interrupted(mute_ns, boot_vm):
    """The connect waits up to NC_CONNECT_NS (10 s) for an answer that never
    comes; Ctrl-C ends it with EINTR, not ETIMEDOUT, and nothing stays in
    SYN_SENT.  (The nft counter shows slirp's SYNs really were dropped.)"""
    vm = boot_vm("dhcp=off dns=off", wrap=mute_ns.wrap, extra_args=SLIRP)
    assert "gateway 10.0.2.2" in vm.run(f"ifconfig eth0 10.0.2.15/24 {HOST}")
    out = interrupt(vm, f"nc {HOST} {MUTE_PORT}", settle=1.0)
    assert out == NC_EINTR.format(what="connect", where=f"{HOST}:{MUTE_PORT}") + "\n", out
    assert muted_packets(mute_ns) > 0
    assert_nothing_open(vm)
    still_works(vm)


# ------------------------------------------------------------ file commands ----
#
# One VM with a 2 GiB sparse nanofs disk on /data, made on the host by
# bin/nanofs with a 512 MiB text file in it (reading it takes the guest
# seconds), and a ramfs on /ram.  Each command is told to do far more than
# it can in the moment before Ctrl-C: what it prints only at its end, or
# the file it would leave complete, shows whether it stopped.

BIG_MIB = 512
BIG_LINES_PER_MIB = 16384          # 64-byte lines, numbered within each MiB
BIG_TEXT = b"the quick brown fox jumps over the lazy dog, again and again"[:54]
BIG_LINE_RE = re.compile(r"\d{8} " + re.escape(BIG_TEXT.decode()) + "$")


def big_text_mib():
    return b"".join(b"%08d %s\n" % (i, BIG_TEXT) for i in range(BIG_LINES_PER_MIB))


@pytest.fixture(scope="module")
def fs_image(tmp_path_factory, nos_build):
    """The disk: 2 GiB sparse, nanofs with /big.txt (BIG_MIB MiB of lines)."""
    tool = nos_build.repo / "bin" / "nanofs"
    tmp = tmp_path_factory.mktemp("interrupt-fs")
    img, src = tmp / "data.img", tmp / "big.txt"
    with open(img, "wb") as f:
        f.truncate(2 << 30)
    mib = big_text_mib()
    with open(src, "wb") as f:
        for _ in range(BIG_MIB):
            f.write(mib)
    for argv in ([tool, "mkfs", img], [tool, "put", img, src, "/big.txt"]):
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, timeout=120)
    src.unlink()
    yield img
    img.unlink(missing_ok=True)  # pytest keeps its tmp dirs for a while


@pytest.fixture
def fsvm(module_boot_vm, fs_image):
    """The VM with /data (nanofs on vda) and /ram (ramfs) mounted."""
    disk = ["-drive", f"file={fs_image},if=none,id=d0,format=raw",
            "-device", "virtio-blk-pci,drive=d0"]
    vm = module_boot_vm(smp=2, mem="2G", extra_args=disk)  # room for 1 GiB in ramfs
    mounts = vm.run("mounts")
    if " /data" not in mounts:
        vm.run("mkdir /data")
        assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"
    if " /ram" not in mounts:
        vm.run("mkdir /ram")
        assert vm.run("mount ramfs /ram") == "mounted ramfs on /ram"
    return vm


def listing(vm, path):
    return vm.run_lines(f"ls {path}")


def test_crc32_of_a_big_file_is_interrupted(fsvm):
    out = interrupt(fsvm, "crc32 /data/big.txt")
    assert out == "", out          # the sum is printed only at the end
    still_works(fsvm)


def test_cat_of_a_big_file_is_interrupted(fsvm):
    out = interrupt(fsvm, "cat /data/big.txt", started=r"\d{8} the quick")
    lines = out.split("\n")
    assert lines[-1] == "", lines[-3:]      # cat ends its last line itself
    # Whole lines of the file (the last may be cut where the chunk ended),
    # far fewer than it has.
    assert all(BIG_LINE_RE.match(l) for l in lines[:-2]), lines[:3]
    assert 0 < len(lines) < BIG_MIB * BIG_LINES_PER_MIB // 2, len(lines)
    still_works(fsvm)


@pytest.mark.parametrize("src, dst", [("/data/big.txt", "/ram/copy.txt"),
                                      ("/ram/big.txt", "/data/copy.txt"),
                                      ("/data/big.txt", "/data/copy.txt")],
                         ids=["nanofs-to-ramfs", "ramfs-to-nanofs", "nanofs-to-nanofs"])
def test_cp_interrupted_leaves_no_partial_file(fsvm, src, dst):
    """cp streams 64 KiB chunks and stops between two; the target, a prefix
    of the source, is removed (as wget removes a partial download) — also
    when a file of that name was there before (cp had emptied it)."""
    if src.startswith("/ram") and "big.txt" not in listing(fsvm, "/ram"):
        assert fsvm.run(f"cp /data/big.txt {src}", timeout=120) == ""
    try:
        directory, name = dst.rsplit("/", 1)
        for existed in (False, True):
            if existed:
                fsvm.run(f"write {dst} an older file of that name")
            assert interrupt(fsvm, f"cp {src} {dst}") == ""
            assert name not in listing(fsvm, directory), listing(fsvm, directory)
    finally:
        if src.startswith("/ram"):
            fsvm.run(f"del {src}")
    still_works(fsvm)


def fsck_clean(vm, remount=True):
    """Unmount /data, check it (fsck needs it unmounted), mount it again."""
    assert vm.run("umount /data") == "unmounted /data"
    try:
        assert vm.run("fsck vda", timeout=120) == "vda: clean"
    finally:
        if remount:
            assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"


@pytest.mark.parametrize("where, mib", [("/data", 1024), ("/ram", 1024)],
                         ids=["nanofs", "ramfs"])
def test_fsbench_is_interrupted_and_deletes_its_file(fsvm, where, mib):
    """fsbench writes then reads @mib MiB in 64 KiB requests (seconds on
    ramfs, most of a minute on nanofs) and stops between two; its file is
    deleted, and the nanofs volume is still consistent."""
    before = listing(fsvm, where)
    out = interrupt(fsvm, f"fsbench {where} {mib}", settle=0.3,
                    started=rf"fsbench {where}: {mib} MiB in 64 KiB requests.*\r\n")
    assert out.split("\n")[1:] == [""], out   # only the header: no rate line
    assert listing(fsvm, where) == before
    if where == "/data":
        fsck_clean(fsvm)
    still_works(fsvm)


def test_fsck_of_a_full_volume_is_interrupted(fsvm):
    """fsck reads and checks every data block (BIG_MIB MiB here, a minute
    or more on a big full disk); it stops on Ctrl-C after a run of blocks,
    says so, and gives the disk back: a full check then finds it clean."""
    assert fsvm.run("umount /data") == "unmounted /data"
    try:
        out = interrupt(fsvm, "fsck vda", settle=0.3)
        assert out == "fsck: vda: interrupted, not checked to the end\n", out
        assert "claimed" not in fsvm.run("disks")
        assert fsvm.run("fsck vda", timeout=120) == "vda: clean"
    finally:
        assert fsvm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"
    still_works(fsvm)
