#!/usr/bin/env python3
"""
bench.py — measure nos and report the figures as a table and as bench.json.

    /usr/bin/python3 scripts/bench.py [--runs N] [--smp N] [--only NAME]...

`make bench` runs it after building.  Numbers are reported, never judged:
no benchmark fails because something is slow; a benchmark fails only when
the kernel does not do what it measures (no prompt, a panic, a timeout),
and then its serial log is kept and its path printed.  A benchmark that
cannot run on this host (linuxref without the Debian archive) raises Skip:
the reason is printed and the others are still reported.

How it is organised
-------------------
A benchmark is one function decorated with @benchmark.  It gets a Bench
context, does one measurement run (usually: boot a VM with ctx.vm(), drive
it, read clocks) and returns a list of Figure(name, value, unit, what).
The runner calls every selected benchmark --runs times, round-robin so that
slow phases of the host spread over all of them, after --warmup unmeasured
rounds, then prints median, min and max of each figure and writes
bench.json.  Adding a measurement is adding one such function.

Clocks
------
Host-side figures use time.monotonic() taken by the harness: just before
QEMU is spawned, and when the chunk holding the byte of interest arrived on
the serial socket (QEMU waits for the harness to connect before it starts
the guest, so no output is missed).  Guest-side figures are what the kernel
prints from its own clock.  Under TCG (the default here) every figure is
far slower than on KVM; NOS_ACCEL=kvm switches.
"""

import argparse
import datetime
import functools
import http.client
import http.server
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "system"))

import nos_harness as nh  # noqa: E402


@dataclass
class Figure:
    name: str     # "group.figure", e.g. "boot.qemu_to_prompt"
    value: float
    unit: str
    what: str     # one line for the table's legend and the JSON


class Skip(Exception):
    """Raised by a benchmark that cannot run on this host (a missing tool,
    no network): the runner prints the reason and drops it, and the other
    benchmarks' results are still reported."""


BENCHMARKS = {}


def benchmark(fn):
    """Register @fn(ctx) -> [Figure, ...] under its name without 'bench_'."""
    BENCHMARKS[fn.__name__.removeprefix("bench_")] = fn
    return fn


class Bench:
    """What a benchmark needs: VMs configured from the command line."""

    def __init__(self, args, log_dir):
        self.args = args
        self.log_dir = log_dir
        self.isos = nh.IsoCache(log_dir / "isos", default_iso=args.iso)
        self._count = 0

    def vm(self, cmdline="", **kw):
        """A started NosVM (use it with `with`); the kernel gets @cmdline."""
        self._count += 1
        iso = self.isos.get(cmdline)
        kw.setdefault("smp", self.args.smp)
        kw.setdefault("mem", self.args.mem)
        return nh.NosVM(iso, name=f"bench-{self._count}", log_dir=self.log_dir,
                        **kw).start()


# ------------------------------------------------------------ benchmarks ----

@benchmark
def bench_boot(ctx):
    with ctx.vm() as vm:
        vm.wait_boot()
        return [
            Figure("boot.qemu_to_first_byte", ms(vm.t_first_byte - vm.t_spawn),
                   "ms", "QEMU spawned -> first serial byte (host clock)"),
            Figure("boot.qemu_to_prompt", ms(vm.t_prompt - vm.t_spawn),
                   "ms", "QEMU spawned -> first prompt (host clock)"),
            Figure("boot.kernel_to_prompt", vm.ready_ms, "ms",
                   "kernel entry -> shell ready (guest clock)"),
        ]


@benchmark
def bench_memory(ctx):
    """Allocator speed (`membench`) and memory in use right after boot."""
    with ctx.vm() as vm:
        vm.wait_boot()
        usage = vm.run("memusage")
        speed = vm.run("membench", timeout=120)
    used = int(re.search(r"^used: (\d+) KiB", usage, re.M).group(1))
    kmalloc = int(re.search(r"kmalloc\(64\)\+kfree: (\d+)", speed).group(1))
    page = int(re.search(r"page_alloc\(1\)\+page_free: (\d+)", speed).group(1))
    return [
        Figure("mm.used_after_boot", used / 1024.0, "MiB",
               "RAM in use right after boot (memusage: total - free)"),
        Figure("mm.kmalloc64_per_s", kmalloc / 1e6, "M/s",
               "kmalloc(64)+kfree pairs per second (guest clock)"),
        Figure("mm.page1_per_s", page / 1e6, "M/s",
               "page_alloc(1)+page_free pairs per second (guest clock)"),
    ]


SMP_BENCH_CPUS = 4


@benchmark
def bench_smp(ctx):
    """`smpbench` on -smp 4: IPI round trip, TLB shootdown, AP start-up."""
    with ctx.vm(smp=SMP_BENCH_CPUS) as vm:
        vm.wait_boot()
        out = vm.run("smpbench", timeout=120)
    ipi = re.search(r"^ipi round trip: (\d+) ns \(cpu\d+ -> cpu\d+\)$", out, re.M)
    tlb = re.search(r"^tlb shootdown: (\d+) ns \(one page, (\d+) CPUs\)$",
                    out, re.M)
    aps = [int(us) for us in
           re.findall(r"^ap startup: cpu\d+ (\d+) us$", out, re.M)]
    if not ipi or not tlb or len(aps) != SMP_BENCH_CPUS - 1:
        raise nh.NosError(f"smpbench output not understood "
                          f"(-smp {SMP_BENCH_CPUS}):\n{out}")
    return [
        Figure("smp.ipi_round_trip_ns", int(ipi.group(1)), "ns",
               f"cross-CPU call to another CPU and back, -smp "
               f"{SMP_BENCH_CPUS} (guest clock)"),
        Figure("smp.tlb_shootdown_ns", int(tlb.group(1)), "ns",
               f"unmap one page and shoot it down on {tlb.group(2)} CPUs "
               f"(guest clock)"),
        Figure("smp.ap_startup_us", statistics.median(aps), "us",
               f"INIT/SIPI -> AP online, median of the {len(aps)} APs "
               f"(guest clock)"),
    ]


SCHED_BENCH_CPUS = 2


@benchmark
def bench_sched(ctx):
    """`schedbench` on -smp 2: context switch, cross-CPU wakeup, fairness."""
    with ctx.vm(smp=SCHED_BENCH_CPUS) as vm:
        vm.wait_boot()
        out = vm.run("schedbench", timeout=120)
    switch = re.search(r"^context switch: (\d+) ns \((.+)\)$", out, re.M)
    wakeup = re.search(r"^cross-cpu wakeup: (\d+) ns \((cpu\d+ -> cpu\d+)\)$",
                       out, re.M)
    fair = re.search(r"^fairness spread: (\d+)% \(.*?(\d+) busy tasks\)$",
                     out, re.M)
    if not switch or not wakeup or not fair:
        raise nh.NosError(f"schedbench output not understood "
                          f"(-smp {SCHED_BENCH_CPUS}):\n{out}")
    return [
        Figure("sched.context_switch_ns", int(switch.group(1)), "ns",
               f"one task switch: {switch.group(2)} (guest clock)"),
        Figure("sched.cross_cpu_wakeup_ns", int(wakeup.group(1)), "ns",
               f"task_wake() -> the woken task running, {wakeup.group(2)}, "
               f"mean of the run (guest clock)"),
        Figure("sched.fairness_spread_pct", int(fair.group(1)), "%",
               f"(max - min) / mean CPU time of {fair.group(2)} busy tasks "
               f"over 0.5 s, -smp {SCHED_BENCH_CPUS}"),
    ]


LATENESS_TESTS = "sched.sleep_lasts_at_least_its_duration timer.one_shots_fire_in_order_never_early"
LATENESS_RE = re.compile(
    r"^  [\w.]+: (sleep|timer) late max (\d+) us, mean (\d+) us over \d+ \w+", re.M)


@benchmark
def bench_lateness(ctx):
    """How late sleeps and one-shot timers end, from the boot tests' logs.

    The boot tests check only that neither is early (their upper bounds are
    generous, see selftest.slack); the lateness they log is reported here.
    """
    figures = []
    with ctx.vm() as vm:
        vm.wait_boot()
        for test in LATENESS_TESTS.split():
            out = vm.run(f"selftest {test}", timeout=120)
            m = LATENESS_RE.search(out)
            ok, fail, _ = nh.parse_selftest(out)
            if not m or ok != [test] or fail:
                raise nh.NosError(f"selftest {test} output not understood "
                                  f"(a kernel built with KTESTS=0?):\n{out}")
            kind = m.group(1)
            what = ("sched_sleep_ns() of 1, 14, 27, 40 ms" if kind == "sleep"
                    else "ktimer one-shots of 10-50 ms")
            figures += [
                Figure(f"time.{kind}_late_max_us", int(m.group(2)), "us",
                       f"{what}: worst time past due (guest clock)"),
                Figure(f"time.{kind}_late_mean_us", int(m.group(3)), "us",
                       f"{what}: mean time past due (guest clock)"),
            ]
    return figures


DISK_BENCH_IMAGE_MIB = 256
DISK_BENCH_MIB = 64
DISK_BENCH_RE = re.compile(
    r"^(write|read): (\d+) MiB in (\d+) ms = (\d+\.\d+) MiB/s, (\d+) interrupts", re.M)


def disk_bench_args(tmp):
    """A modern virtio-blk disk (vda) and a virtio-scsi LUN (sda), sparse
    raw images of DISK_BENCH_IMAGE_MIB in @tmp."""
    for name in ("blk", "scsi"):
        with open(tmp / f"{name}.img", "wb") as f:
            f.truncate(DISK_BENCH_IMAGE_MIB << 20)
    return ["-drive", f"file={tmp / 'blk.img'},if=none,id=blk,format=raw",
            "-device", "virtio-blk-pci,drive=blk,disable-legacy=on,disable-modern=off",
            "-device", "virtio-scsi-pci,id=scsi0",
            "-drive", f"file={tmp / 'scsi.img'},if=none,id=lun,format=raw",
            "-device", "scsi-hd,drive=lun,bus=scsi0.0,scsi-id=0,lun=0"]


def disk_figures(dev, what, out):
    """Throughput and interrupts per MiB of each pass of `diskbench @dev`."""
    passes = {m.group(1): m for m in DISK_BENCH_RE.finditer(out)}
    if set(passes) != {"write", "read"} or "verify: ok" not in out:
        raise nh.NosError(f"diskbench {dev} output not understood:\n{out}")
    figures = []
    for op in ("write", "read"):
        m = passes[op]
        mib = int(m.group(2))
        figures += [
            Figure(f"disk.{dev}_{op}_mib_s", float(m.group(4)), "MiB/s",
                   f"diskbench {dev} ({what}): sequential {op} of {mib} MiB, "
                   f"64 KiB requests, 8 in flight (guest clock)"),
            Figure(f"disk.{dev}_{op}_irqs_per_mib", int(m.group(5)) / mib, "1/MiB",
                   f"interrupts the {op} pass of diskbench {dev} took per MiB moved"),
        ]
    return figures


@benchmark
def bench_disk(ctx):
    """`diskbench` of 64 MiB on a virtio-blk disk and on a virtio-scsi LUN."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="nos-bench-disk-") as tmp:
        with ctx.vm(extra_args=disk_bench_args(Path(tmp))) as vm:
            vm.wait_boot()
            for dev, what in (("vda", "virtio-blk, modern"), ("sda", "virtio-scsi LUN")):
                out = vm.run(f"diskbench {dev} {DISK_BENCH_MIB}", timeout=300)
                figures += disk_figures(dev, what, out)
    return figures


FS_BENCH_MIB = 64
FS_RATE_RE = re.compile(r"^(write|read): (\d+) MiB in (\d+) ms = (\d+\.\d+) MiB/s", re.M)
FS_FILES_RE = re.compile(r"^(create|delete): (\d+) files in (\d+) ms = (\d+) per s", re.M)


def fs_figures(fs, what, out):
    """Stream rates and file operations per second of one `fsbench` run."""
    rates = {m.group(1): float(m.group(4)) for m in FS_RATE_RE.finditer(out)}
    files = {m.group(1): int(m.group(4)) for m in FS_FILES_RE.finditer(out)}
    if set(rates) != {"write", "read"} or set(files) != {"create", "delete"}:
        raise nh.NosError(f"fsbench on {fs} output not understood:\n{out}")
    figures = [Figure(f"fs.{fs}_{op}_mib_s", rates[op], "MiB/s",
                      f"fsbench on {what}: sequential {op} of a {FS_BENCH_MIB} MiB file, "
                      f"64 KiB calls (guest clock)") for op in ("write", "read")]
    figures += [Figure(f"fs.{fs}_{op}_per_s", files[op], "1/s",
                       f"fsbench on {what}: empty files {op}d per second") for op in
                ("create", "delete")]
    return figures, rates


@benchmark
def bench_fs(ctx):
    """`fsbench` of a 64 MiB file on nanofs over virtio-blk, next to
    `diskbench` on the same disk first, and on the root ramfs."""
    with tempfile.TemporaryDirectory(prefix="nos-bench-fs-") as tmp:
        with ctx.vm(extra_args=disk_bench_args(Path(tmp))) as vm:
            vm.wait_boot()
            raw = disk_figures("vda", "virtio-blk, modern", vm.run(
                f"diskbench vda {DISK_BENCH_MIB}", timeout=300))
            for cmd in ("format nanofs vda", "mkdir /data", "mount nanofs vda /data"):
                vm.run(cmd, timeout=120)
            nano, nano_rates = fs_figures("nanofs", "nanofs over virtio-blk", vm.run(
                f"fsbench /data {FS_BENCH_MIB}", timeout=600))
            ram, _ = fs_figures("ramfs", "the root ramfs", vm.run(
                f"fsbench / {FS_BENCH_MIB}", timeout=600))
    disk = {f.name: f.value for f in raw}
    ratios = [Figure(f"fs.nanofs_{op}_pct_of_disk",
                     100.0 * nano_rates[op] / max(disk[f"disk.vda_{op}_mib_s"], 0.001), "%",
                     f"nanofs {op} MiB/s as a share of diskbench vda's in the same VM "
                     f"(goal: 80 % or more)") for op in ("write", "read")]
    return nano + ratios + ram


SLIRP_ARGS = ["-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0"]
GUEST_PING_RE = re.compile(r"seq=\d+ time=(\d+\.\d+) ms")
FLOOD_RE = re.compile(r"(\d+) packets transmitted, (\d+) received.*time (\d+)ms")
NET_PINGS = 200
NET_FLOOD = 5000
NET_DATAGRAMS = 20000
SINK_PORT = 9999
SINK_RE = re.compile(r"udpsink: port \d+: (\d+) datagrams")


def rtt_figures(name, rtts_us, what):
    """min, median and p99 of round trips in microseconds."""
    if not rtts_us:
        raise nh.NosError(f"{name}: no round trips to report")
    ordered = sorted(rtts_us)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return [Figure(f"{name}_min_us", ordered[0], "us", f"{what}: fastest"),
            Figure(f"{name}_median_us", statistics.median(ordered), "us", f"{what}: median"),
            Figure(f"{name}_p99_us", p99, "us", f"{what}: 99th percentile")]


def slirp_figures(ctx):
    """Guest -> host (10.0.2.2, slirp) round trips, pinging back to back."""
    with ctx.vm(cmdline="dhcp=off", extra_args=SLIRP_ARGS) as vm:
        vm.wait_boot()
        vm.run("ifconfig eth0 10.0.2.15/24 10.0.2.2")
        vm.run("ping 10.0.2.2 3 0", timeout=60)          # ARP resolved first
        out = vm.run(f"ping 10.0.2.2 {NET_PINGS} 0", timeout=300)
    rtts = [float(t) * 1000 for t in GUEST_PING_RE.findall(out)]
    return rtt_figures("net.ping_guest_to_slirp", rtts,
                       f"`ping 10.0.2.2 {NET_PINGS} 0` in the guest (TSC, guest clock)")


def sink_count(vm):
    m = SINK_RE.search(vm.run("_udpsink"))
    if not m:
        raise nh.NosError("_udpsink output not understood")
    return int(m.group(1))


def udp_rate(rig, vm, ip):
    """Datagrams the guest counts per second while the host sends as fast as
    it can: the count over the time until it stops rising."""
    vm.run(f"_udpsink {SINK_PORT}")
    tx = rig.udp_sender()
    t0 = time.monotonic()
    for i in range(NET_DATAGRAMS):
        tx.sendto(b"%08d" % i + b"x" * 56, (ip, SINK_PORT))
    last, t_last = -1, t0
    while True:
        n = sink_count(vm)
        if n == last:
            break
        last, t_last = n, time.monotonic()
        time.sleep(0.2)
    tx.close()
    vm.run("_udpsink off")
    return last / max(t_last - t0, 1e-3), NET_DATAGRAMS - last


def rig_figures(ctx):
    """Host -> guest round trips, a Linux flood, and UDP into the guest, on
    a network namespace of the benchmark's own (root only)."""
    import net_rig
    if net_rig.rig_unavailable():
        print(f"  net: no namespace rig ({net_rig.rig_unavailable()}); "
              "host-to-guest figures skipped", file=sys.stderr)
        return []
    with net_rig.NetRig() as rig:
        with ctx.vm(cmdline="dhcp=auto", wrap=rig.wrap, extra_args=rig.qemu_args()) as vm:
            vm.wait_boot()
            ip = rig.seg.wait_lease(rig.seg.mac())
            rig.ping(ip, count=5, interval=0.05)
            pings = rig.ping(ip, count=NET_PINGS, interval=0.005)
            flood = rig.exec(["ping", "-n", "-q", "-f", "-c", str(NET_FLOOD), "-W", "1", ip],
                             timeout=300, check=False).stdout
            rate, lost = udp_rate(rig, vm, ip)
    m = FLOOD_RE.search(flood)
    if not m:
        raise nh.NosError(f"ping -f output not understood:\n{flood}")
    figures = rtt_figures("net.ping_host_to_guest", [r * 1000 for r in pings.rtts],
                          f"Linux `ping -i 0.005` of the guest from a namespace (host clock)")
    figures += [
        Figure("net.echo_replies_per_s", int(m.group(2)) / max(int(m.group(3)) / 1000, 1e-3),
               "1/s", f"echo replies per second to Linux `ping -f -c {NET_FLOOD}`"),
        Figure("net.flood_loss_pct", 100.0 * (int(m.group(1)) - int(m.group(2)))
               / max(int(m.group(1)), 1), "%", "requests of that flood left unanswered"),
        Figure("net.udp_rx_per_s", rate, "1/s",
               f"datagrams counted per second by the guest, {NET_DATAGRAMS} sent back to back"),
        Figure("net.udp_rx_lost", lost, "datagrams", "of those, never counted (queues full)"),
    ]
    return figures


@benchmark
def bench_net(ctx):
    """Ping round trips both ways, an ICMP flood and UDP into the guest."""
    return slirp_figures(ctx) + rig_figures(ctx)


UDPSH_ROUND_TRIPS = 100
UDPSH_BIG_PIECES = 103        # x 1000 bytes appended: a little over 100 KiB
UDPSH_BOOT = "dhcp=off ip=10.0.2.15/24,10.0.2.2 udpshell=9000"


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@benchmark
def bench_udpshell(ctx):
    """Round trips of `uptime` through scripts/udpsh.py's client, and the
    time to receive a 100 KiB `cat`, over slirp with a host UDP forward."""
    sys.path.insert(0, str(REPO / "scripts"))
    import udpsh
    port = free_udp_port()
    # Not restrict=on: slirp would drop the guest's replies (any UDP from a
    # restricted guest, forwarded or not).
    fwd = ["-netdev", f"user,id=n0,hostfwd=udp:127.0.0.1:{port}-:9000",
           "-device", "virtio-net-pci,netdev=n0"]
    with ctx.vm(cmdline=UDPSH_BOOT, extra_args=fwd) as vm:
        vm.wait_boot()
        vm.run("write /big " + "b" * 1000)
        for _ in range(UDPSH_BIG_PIECES - 1):
            vm.run("append /big " + "b" * 1000)
        with udpsh.Client("127.0.0.1", port, timeout=30) as c:
            for _ in range(5):                         # ARP, sessions, caches
                c.run("uptime")
            rtts, odd = [], []
            for _ in range(UDPSH_ROUND_TRIPS):
                t0 = time.perf_counter()
                out = c.run("uptime")
                rtts.append(time.perf_counter() - t0)
                if not out.startswith(b"up "):
                    odd.append(out)
            t0 = time.perf_counter()
            n = len(c.run("cat /big"))
            big = time.perf_counter() - t0
            retx = c.stats["retransmitted"]
    if n != UDPSH_BIG_PIECES * 1000 + 1:
        raise nh.NosError(f"udpshell: cat /big returned {n} bytes")
    if odd:   # e.g. "busy": no command ran, so no round trip to report
        raise nh.NosError(f"udpshell: {len(odd)} of {UDPSH_ROUND_TRIPS} `uptime` replies "
                          f"were not uptime's output, e.g. {odd[0]!r}")
    ordered = sorted(rtts)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    what = f"`uptime` through udpsh.Client, {UDPSH_ROUND_TRIPS} in a row (host clock)"
    return [
        Figure("udpsh.rtt_median_ms", ms(statistics.median(ordered)), "ms", f"{what}: median"),
        Figure("udpsh.rtt_p99_ms", ms(p99), "ms", f"{what}: 99th percentile"),
        Figure("udpsh.cat_100k_ms", ms(big), "ms",
               f"`cat` of a {n // 1024} KiB file: request -> last chunk (host clock)"),
        Figure("udpsh.retransmissions", retx, "requests",
               "requests the client had to send again during the benchmark"),
    ]


TCP_WGET_MIB = (1, 8, 32)
TCP_HTTPD_MIB = 32
TCP_CONNECTS = 50
WGET_RATE_RE = re.compile(r"^200 OK, (\d+) bytes in [\d.]+ s \((\d+\.\d+) (MiB|KiB)/s\)", re.M)


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wget_figures(vm, port):
    """`wget` of each TCP_WGET_MIB file from the host, bodies not saved."""
    out = []
    for mib in TCP_WGET_MIB:
        text = vm.run(f"wget -q http://10.0.2.2:{port}/{mib}m", timeout=600)
        m = WGET_RATE_RE.search(text)
        if not m or int(m.group(1)) != mib << 20:
            raise nh.NosError(f"wget of {mib} MiB: {text!r}")
        rate = float(m.group(2)) * (1 << 20 if m.group(3) == "MiB" else 1 << 10) / 1e6
        out.append(Figure(f"tcp.wget_{mib}m_mb_s", rate, "MB/s",
                          f"`wget` of {mib} MiB from a Python HTTP server on the host "
                          "(slirp; guest clock, body not saved)"))
    return out


def curl_get(url):
    """GET @url with curl, the body thrown away: (bytes, seconds), curl's
    own figures (a Python client would spend the host CPU QEMU needs)."""
    out = subprocess.run(["curl", "-sS", "--max-time", "300", "-o", "/dev/null", "-w",
                          "%{size_download} %{time_total}", url],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise nh.NosError(f"curl {url}: {out.stderr.strip()}")
    size, secs = out.stdout.split()
    return int(size), float(secs)


def httpd_figures(vm, port, fwd_port):
    """A TCP_HTTPD_MIB file read from the guest's httpd (first fetched from
    the host server on @port), and new connections per second (one small GET
    each), host clock."""
    vm.run(f"wget -q http://10.0.2.2:{port}/{TCP_HTTPD_MIB}m /big", timeout=600)
    vm.run("write /small x")
    if not vm.run("httpd start 8080 /").startswith("httpd"):
        raise nh.NosError("httpd did not start")
    n, big = curl_get(f"http://127.0.0.1:{fwd_port}/big")
    if n != TCP_HTTPD_MIB << 20:
        raise nh.NosError(f"httpd: /big returned {n} bytes")
    t0 = time.perf_counter()
    for _ in range(TCP_CONNECTS):
        c = http.client.HTTPConnection("127.0.0.1", fwd_port, timeout=30)
        c.request("GET", "/small")
        if c.getresponse().read() != b"x":
            raise nh.NosError("httpd: /small is not x")
        c.close()
    each = (time.perf_counter() - t0) / TCP_CONNECTS
    vm.run("httpd stop")
    return [Figure("tcp.httpd_32m_mb_s", (n / big) / 1e6, "MB/s",
                   f"GET of a {TCP_HTTPD_MIB} MiB file from httpd (ramfs) to curl on the "
                   "host through a slirp forward (curl's clock)"),
            Figure("tcp.connects_per_s", 1 / each, "conn/s",
                   f"{TCP_CONNECTS} new connections to httpd in a row, one small GET each "
                   "(host clock; slirp accepts the host's connections slowly)")]


@benchmark
def bench_tcp(ctx):
    """TCP over QEMU user networking: wget from the host, httpd to the host."""
    serve = Path(tempfile.mkdtemp(prefix="nos-bench-http-"))
    try:
        for mib in sorted(set(TCP_WGET_MIB + (TCP_HTTPD_MIB,))):
            (serve / f"{mib}m").write_bytes(os.urandom(mib << 20))
        handler = functools.partial(_QuietFiles, directory=str(serve))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        fwd = free_tcp_port()
        args = ["-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{fwd}-:8080",
                "-device", "virtio-net-pci,netdev=n0"]
        try:
            with ctx.vm(cmdline="dhcp=off dns=off ip=10.0.2.15/24,10.0.2.2",
                        extra_args=args) as vm:
                vm.wait_boot()
                port = server.server_address[1]
                return wget_figures(vm, port) + httpd_figures(vm, port, fwd)
        finally:
            server.shutdown()
            server.server_close()
    finally:
        shutil.rmtree(serve, ignore_errors=True)


LINUXREF_MIB = 32
LINUXREF_FETCHES = 5
LINUXREF_TIMEOUT_S = 600
LINUXREF_RE = re.compile(r"^linuxref: (\d+) bytes in (\d+) cs\r?$", re.M)


def linuxref_build():
    """out/linuxref/ from scripts/linux-ref.sh (cached there): (vmlinuz,
    initrd.gz, the kernel package).  Skip when it cannot be built."""
    out = subprocess.run([str(REPO / "scripts" / "linux-ref.sh")],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, check=False)
    if out.returncode:
        lines = out.stdout.strip().splitlines() or ["linux-ref.sh failed"]
        raise Skip(lines[-1])
    ref = REPO / "out" / "linuxref"
    # "linux-image-6.1.0-57-amd64 6.1.192-3": package, Debian version
    words = (ref / "version").read_text().split() if (ref / "version").exists() else []
    version = (f"{words[1].split('-')[0]}, {words[0]}" if len(words) == 2
               else "version unknown")
    return ref / "vmlinuz", ref / "initrd.gz", version


def linuxref_boot(ctx, kernel, initrd, url, log_path):
    """Boot the reference guest with bench_tcp's QEMU options; its serial
    output.  QEMU is killed on every way out."""
    cmd = ["qemu-system-x86_64", *nh.accel_args(),
           "-smp", str(ctx.args.smp), "-m", ctx.args.mem,
           "-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0",
           "-kernel", str(kernel), "-initrd", str(initrd),
           "-append", f"console=ttyS0 quiet panic=-1 nosref.url={url} "
                      f"nosref.n={LINUXREF_FETCHES}",
           "-serial", "stdio", "-monitor", "none", "-display", "none", "-no-reboot"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=LINUXREF_TIMEOUT_S * nh.timeout_scale())
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        log_path.write_bytes(out)
        raise nh.NosError(f"linuxref: no poweroff in {LINUXREF_TIMEOUT_S} s "
                          f"(serial log: {log_path})")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log_path.write_bytes(out)
    return out.decode(errors="replace")


@benchmark
def bench_linuxref(ctx):
    """busybox wget on Debian's Linux in the same QEMU, next to tcp.wget_32m.

    The reference for issue 14 (our wget at least as fast as Linux's).
    Skipped when scripts/linux-ref.sh cannot build the guest (no Debian
    archive, no cpio).
    """
    kernel, initrd, version = linuxref_build()
    serve = Path(tempfile.mkdtemp(prefix="nos-bench-linuxref-"))
    try:
        (serve / f"{LINUXREF_MIB}m").write_bytes(os.urandom(LINUXREF_MIB << 20))
        handler = functools.partial(_QuietFiles, directory=str(serve))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://10.0.2.2:{server.server_address[1]}/{LINUXREF_MIB}m"
            ctx._count += 1
            log = ctx.log_dir / f"bench-{ctx._count}-linuxref.log"
            out = linuxref_boot(ctx, kernel, initrd, url, log)
        finally:
            server.shutdown()
            server.server_close()
    finally:
        shutil.rmtree(serve, ignore_errors=True)
    got = [(int(b), int(cs)) for b, cs in LINUXREF_RE.findall(out)]
    if len(got) != LINUXREF_FETCHES or any(b != LINUXREF_MIB << 20 or cs <= 0
                                           for b, cs in got):
        raise nh.NosError(f"linuxref: {len(got)} of {LINUXREF_FETCHES} downloads "
                          f"reported whole (serial log: {log})")
    rate = statistics.median(b / (cs / 100.0) / 1e6 for b, cs in got)
    return [Figure(f"tcp.linux_wget_{LINUXREF_MIB}m_mb_s", rate, "MB/s",
                   f"busybox `wget -O /dev/null` of {LINUXREF_MIB} MiB on Debian's Linux "
                   f"({version}) in the same QEMU, median of {LINUXREF_FETCHES} in one "
                   f"boot (guest /proc/uptime); compare tcp.wget_{LINUXREF_MIB}m_mb_s")]


def ms(seconds):
    return seconds * 1000.0


# ---------------------------------------------------------------- runner ----

def run_all(ctx, names, runs, warmup):
    """{figure name: (Figure of the first run, [values])}, in report order."""
    results = {}
    names = list(names)
    for i in range(warmup + runs):
        for name in list(names):
            try:
                figures = BENCHMARKS[name](ctx)
            except Skip as e:
                print(f"bench: {name} skipped: {e}", file=sys.stderr)
                names.remove(name)
                continue
            if i < warmup:
                continue
            for f in figures:
                results.setdefault(f.name, (f, []))[1].append(f.value)
        if i >= warmup:
            print(f"  run {i - warmup + 1}/{runs} done", file=sys.stderr)
    return results


def summarize(results):
    out = {}
    for name, (fig, values) in results.items():
        out[name] = {"unit": fig.unit, "what": fig.what,
                     "median": round(statistics.median(values), 3),
                     "min": round(min(values), 3), "max": round(max(values), 3),
                     "values": [round(v, 3) for v in values]}
    return out


def print_table(meta, summary):
    print(f"nos {meta['nos_version']} — {meta['runs']} runs, -smp "
          f"{meta['smp']}, -m {meta['mem']}, {meta['accel']}, {meta['qemu']}")
    width = max([len("figure")] + [len(n) for n in summary])
    print(f"{'figure':<{width}}  {'median':>10} {'min':>10} {'max':>10}  unit")
    for name, s in summary.items():
        print(f"{name:<{width}}  {s['median']:>10.2f} {s['min']:>10.2f} "
              f"{s['max']:>10.2f}  {s['unit']}")
    print()
    for name, s in summary.items():
        print(f"  {name}: {s['what']}")


def metadata(args):
    qemu = subprocess.run(["qemu-system-x86_64", "--version"],
                          stdout=subprocess.PIPE, text=True).stdout
    return {
        "nos_version": nh.read_version(REPO),
        "date": datetime.datetime.now(datetime.timezone.utc)
                .isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "qemu": qemu.splitlines()[0] if qemu else "unknown",
        "accel": os.environ.get("NOS_ACCEL", "tcg"),
        "smp": args.smp,
        "mem": args.mem,
        "runs": args.runs,
        "warmup": args.warmup,
    }


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="measured runs (5)")
    p.add_argument("--warmup", type=int, default=1,
                   help="unmeasured rounds first (1)")
    p.add_argument("--smp", type=int, default=2, help="guest CPUs (2)")
    p.add_argument("--mem", default="512M", help="guest memory (512M)")
    p.add_argument("--only", action="append", choices=sorted(BENCHMARKS),
                   help="run only this benchmark (repeatable)")
    p.add_argument("--iso", default=str(REPO / "nos.iso"))
    p.add_argument("--json", default=str(REPO / "bench.json"),
                   help="where to write the results (bench.json)")
    p.add_argument("--list", action="store_true", help="list benchmarks")
    args = p.parse_args(argv)
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        print("\n".join(BENCHMARKS))
        return 0
    if not Path(args.iso).exists():
        print(f"bench: {args.iso} not found; run make first", file=sys.stderr)
        return 2
    names = args.only or list(BENCHMARKS)
    log_dir = Path(tempfile.mkdtemp(prefix="nos-bench-"))
    ctx = Bench(args, log_dir)
    try:
        results = run_all(ctx, names, args.runs, args.warmup)
    except nh.NosError as e:
        print(f"bench: {e}", file=sys.stderr)
        print(f"bench: logs kept in {log_dir}", file=sys.stderr)
        return 1
    shutil.rmtree(log_dir, ignore_errors=True)
    meta = metadata(args)
    summary = summarize(results)
    print_table(meta, summary)
    Path(args.json).write_text(json.dumps({**meta, "results": summary},
                                          indent=2) + "\n")
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
