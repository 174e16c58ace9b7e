"""
net_rig — a small private network for system tests: a network namespace
with Linux bridges, tap devices for QEMU, dnsmasq and Linux peers.

Why a rig of its own
--------------------
QEMU's user networking (slirp) is a stand-in for a network, not one: its
DHCP server cannot renew on a schedule we choose, its DNS forwards to the
world, and no Linux host stands on the wire to ping the guest or throw bad
frames at it.  The rig builds the real thing, and builds it where it can
touch nothing else: inside a network namespace of its own.  All traffic a
test makes through it stays in namespaces the rig created (the network rule
of this project); the root namespace never sees a device of the rig.

Picture (one rig, two segments):

    namespace nosrig-<pid>-<n>
      br0 192.168.70.1/24 ── tap0_0 ── QEMU NIC 52:54:00:4e:46:10
        │  dnsmasq (DHCP + DNS, only on br0)
        └── veth0_0 ── namespace nosrig-<pid>-<n>-h0: eth0 192.168.70.20
      br1 192.168.71.1/24 ── tap1_0 ── QEMU NIC 52:54:00:4e:47:10
           dnsmasq (its own, only on br1)

Each bridge is a *segment* with its own /24: 192.168.X.0/24 where X is 70
for the first segment in use in this process, 71 for the next, and so on,
so two rigs (or two segments) never share a subnet and their logs cannot be
confused.  The bridge itself is the Linux peer: it has the address .1 and is
the router and DNS server the guest gets from DHCP.  More Linux hosts can
stand on a segment with `add_host()` (a namespace of their own joined to the
bridge by a veth pair).

How QEMU attaches, and why this way
-----------------------------------
The taps are created persistent, inside the namespace, already enslaved to
their bridge.  QEMU's `-netdev tap,ifname=tapX` opens /dev/net/tun and looks
the name up in *its own* network namespace, so QEMU must run inside the
rig's namespace: the rig gives `wrap` = `ip netns exec <ns>`, which
`nos_harness.NosVM(wrap=...)` puts in front of the QEMU command line.
`ip netns exec` execs QEMU in the same process, so the PID the harness
holds is QEMU's, and QEMU's serial port and QMP are UNIX sockets on the
file system, which work across network namespaces.  (Creating the tap in
the root namespace and moving it would also work — an open tap survives
the move — but it puts a device in the root namespace for a moment, needs
QEMU started before the move, and leaks a device there if the test dies.)

The taps have an MTU of 9000 so that oversized frames can be sent to the
guest on purpose; the bridge's MTU is pinned at 1500 so that nothing else
grows.

dnsmasq
-------
One dnsmasq per segment, bound to that bridge only (`--bind-interfaces
--interface=brX --except-interface=lo`), reading no configuration, no
resolv.conf and no hosts file, with `--no-ping` (its ARP probe would hold
each OFFER back ~3 s).  Leases last 2 minutes (dnsmasq's minimum), so a
guest renews at T1 = 60 s.  DNS knows only the names the rig gives it
(`names`, `cnames`, TTL `ttl`); every other name is NXDOMAIN at once
(`--local=/#/`), never REFUSED or a timeout.  The guest's MAC on each tap is
pinned to a known address (`guest_ip()`, .50 + tap index) unless
`pin=False`; the dynamic range is .100–.199.  Everything is logged
(`--log-dhcp --log-queries`) to a file that `Segment.dhcp_events()`,
`wait_dhcp()`, `wait_lease()`, `wait_renewal()` and `dns_queries()` read.

Peers and tools
---------------
- `rig.ping(ip, count, interval)` runs Debian's iputils `ping` in the
  namespace and parses it (`PingResult`: sent, received, loss, every RTT).
- `rig.socket(...)` makes a socket *inside* the namespace from this very
  process (a short-lived thread enters the namespace with setns(2), makes
  the socket and leaves; the socket stays in the namespace), so UDP peers
  need no subprocess: `udp_listener(port)`, `udp_sender()`.
- `NsHttpServer(ns, ip, files)` serves {name: bytes} over HTTP/1.0 from
  a socket in a namespace, in a thread of this process (the guest's `wget`
  downloads from it); `url(name)`, `counts`, `close()`.
- `dns_query()` asks a DNS server and parses the answer (A and CNAME).
- `DhcpProbe` is a tiny DHCP client for a host peer: checks the server
  without a guest.
- `garbage_frames()` (net_rig_wire.py, beside the DNS and DHCP formats)
  makes a bounded, seeded list of hostile frames (random bytes, runts,
  truncated ARP/IPv4/UDP headers, bad checksums, bad lengths, hostile
  fragments, oversized frames); `rig.guest_garbage(n)`
  makes them for the guest on the first tap, and `rig.flood(frames)` sends
  them straight into that tap with an AF_PACKET socket.  They come from
  .250 (GARBAGE_HOST) and random MACs, never the gateway, so the guest's
  ARP entry for the gateway stays right.  A tap drops what QEMU does not
  read in time (`link_stats(tap)["tx"]["dropped"]` says how many);
  `flood(frames, batch=20)` paces the sending so that none is dropped.
- `seg.unused_ip()` (.99) is on-link and answered by nobody;
  `seg.bridge_mac` is the gateway's MAC.
- `rig.drop(percent)` installs an nftables bridge table that drops that
  share of frames at random (input, output and forward); `drop(0)` removes
  it; `with rig.dropping(p):` does both.
- `rig.random_loss(to_dev, from_dev, dev)` drops `to_dev` % of the frames
  the bridge sends out of port `dev` (the first tap: to the guest) and
  `from_dev` % of those coming in on it, each way counted by nftables'
  named counters (`loss_counters()`: frames seen and dropped each way);
  `random_loss(0, 0)` removes it, `with rig.losing(...):` does both, and
  close() removes it too.  (The bridge family works on this kernel; for
  delay, reordering, duplication and corruption see net_relay.py.)
- `rig.mute_port(port, proto)` drops every datagram or segment to that port
  of the rig's own stack (e.g. 53: dnsmasq's DNS goes silent, and no error
  comes back), counted (`muted_count()`); `mute_port(None)` removes it,
  `with rig.muting(port):` does both, and close() removes it too.

Using it from a test
--------------------
The `net_rig` fixture is a factory; list it *before* `boot_vm`:

    def test_lease(net_rig, boot_vm):
        rig = net_rig()                       # NetRig(...) options
        vm = boot_on_rig(boot_vm, rig, "dhcp=auto")
        ip = rig.seg.wait_lease(rig.seg.mac())
        assert rig.ping(ip, count=10).loss == 0

Without root the fixture skips with a reason that starts "needs root";
conftest.py turns such a skip into a failure when NOS_REQUIRE_ROOT_TESTS=1
(.ci/run sets it), so CI always runs these tests.

Cleanup
-------
`close()` (also the context manager's exit and the fixture's teardown)
first closes any NosVM still running in the rig's namespace, then closes
the rig's sockets, stops every process the rig started — dnsmasq and peers,
by PID — deletes the taps, the host namespaces and the rig's namespace, and
removes its temporary directory.  Each step runs even if an earlier one
failed.  Rigs still open when the interpreter exits are closed by an
atexit hook; every process the rig starts gets PR_SET_PDEATHSIG, and a new
rig deletes namespaces left by rigs of processes that no longer exist (a
pytest killed outright).  A
failing test keeps each segment's dnsmasq log in tests/system/logs/ and the
report gets a "net rig" section (conftest.py's report hook).
"""

import atexit
import contextlib
import ctypes
import ipaddress
import json
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import nos_harness as nh
from net_rig_wire import (GARBAGE_KINDS, DnsAnswer, WireError,  # noqa: F401
                          dhcp_packet, dhcp_reply, dns_question,
                          garbage_frames, parse_dns)

SUBNET_FIRST = 70            # 192.168.70.0/24 is the first segment's subnet
SUBNET_LAST = 119
DOMAIN = "nos.test"
LEASE = "2m"                 # dnsmasq will not go lower
GUEST_HOST = 50              # pinned guest addresses: .50 + tap index
HOST_FIRST = 20              # add_host() addresses: .20, .21, ...
UNUSED_HOST = 99             # never given to anyone: unused_ip()
GARBAGE_HOST = 250           # source address of garbage frames
DHCP_RANGE = (100, 199)
TAP_MTU = 9000
BRIDGE_MTU = 1500
# Names every segment's DNS knows unless the rig is given others.  An int
# is a host number in the segment's own subnet.
DEFAULT_NAMES = {"peer.nos.test": 1, "gw.nos.test": 1}
DEFAULT_CNAMES = {"www.nos.test": "peer.nos.test"}
NEEDED_TOOLS = ("ip", "dnsmasq", "ping", "nft")
NS_PREFIX = "nosrig-"
LOSS_TABLE = "nosrig_loss"   # random_loss()'s nftables table (bridge family)
LOSS_COUNTERS = ("to_seen", "to_dropped", "from_seen", "from_dropped")
MUTE_TABLE = "nosrig_mute"   # mute_port()'s nftables table (inet family)
READY_PROBE = "ready.probe"  # the name the rig asks to see dnsmasq is up
CLONE_NEWNET = 0x40000000

_octets_in_use = set()       # segment subnets taken in this process
_octets_lock = threading.Lock()
_rig_count = 0


class RigError(Exception):
    """The rig could not do what it was asked; the message says why."""


# ------------------------------------------------- can it run here? ----

def _find_tool(name):
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def rig_unavailable():
    """Why the rig cannot run on this machine, or None if it can."""
    if os.geteuid() != 0:
        return "needs root: network namespaces, bridges and taps need root"
    missing = [t for t in NEEDED_TOOLS if not _find_tool(t)]
    if missing:
        return (f"needs root and host tools: {', '.join(missing)} not found "
                "(run scripts/install-deps.sh)")
    if not os.path.exists("/dev/net/tun"):
        return "needs root and /dev/net/tun: no tun/tap support here"
    return None


def require_rig():
    """Skip the calling test when the rig cannot run (see conftest.py for
    how CI turns this skip into a failure)."""
    reason = rig_unavailable()
    if reason:
        pytest.skip(reason)


# ------------------------------------------------------ processes ----

def _preexec():
    """In each child: die with the test process (never outlive it)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PDEATHSIG=KILL
    except OSError:
        pass


def _run(argv, timeout=30, check=True, input=None):
    """Run @argv; RigError with its output when it fails and @check."""
    try:
        proc = subprocess.run(argv, input=input, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True,
                              timeout=timeout * nh.timeout_scale())
    except subprocess.TimeoutExpired as e:
        raise RigError(f"{' '.join(argv)}: no end after {timeout} s") from e
    if check and proc.returncode != 0:
        raise RigError(f"{' '.join(argv)} failed ({proc.returncode}):\n"
                       f"{proc.stdout}")
    return proc


def _stop(proc, grace=5):
    """Stop a process we started (by its PID), harder if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_namespaces():
    """Delete namespaces of rigs whose process is gone (a killed pytest).

    Only names this module makes (nosrig-<pid>-...) with a dead <pid> are
    touched; nothing is killed.
    """
    out = _run(["ip", "netns", "list"], check=False).stdout
    for line in out.splitlines():
        m = re.match(rf"({re.escape(NS_PREFIX)}(\d+)-\S+)", line)
        if m and not _pid_alive(int(m.group(2))):
            _run(["ip", "netns", "delete", m.group(1)], check=False)


# -------------------------------------------------------- namespace ----

class Netns:
    """A network namespace the rig made, and what runs in it.

    Processes started with popen() and sockets made with socket() belong
    to it and are stopped/closed by close().
    """

    def __init__(self, name):
        self.name = name
        self.procs = []
        self.sockets = []
        self.created = False

    def create(self):
        _run(["ip", "netns", "add", self.name])
        self.created = True
        # IPv6 off before any device exists, so none sends multicast.
        # (/proc/sys/net shows the namespace of whoever opens it.)
        self.exec(["sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6"
                   " && echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"])
        self.ip("link", "set", "lo", "up")
        return self

    @property
    def wrap(self):
        """Command prefix that runs a program inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def ip(self, *args, check=True):
        """`ip -n <ns> ARGS`; returns its output."""
        return _run(["ip", "-n", self.name, *args], check=check).stdout

    def exec(self, argv, timeout=30, check=True, input=None):
        """Run @argv in the namespace to the end; CompletedProcess (text)."""
        return _run([*self.wrap, *argv], timeout, check, input)

    def popen(self, argv, **kw):
        """Start @argv in the namespace; it is stopped by close()."""
        kw.setdefault("stdin", subprocess.DEVNULL)
        proc = subprocess.Popen([*self.wrap, *argv], preexec_fn=_preexec, **kw)
        self.procs.append(proc)
        return proc

    def socket(self, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0):
        """A socket that lives in this namespace; closed by close()."""
        box = []

        def enter_and_make():
            try:
                libc = ctypes.CDLL("libc.so.6", use_errno=True)
                with open(f"/run/netns/{self.name}") as f:
                    if libc.setns(f.fileno(), CLONE_NEWNET) != 0:
                        raise OSError(ctypes.get_errno(), "setns")
                box.append(socket.socket(family, type, proto))
            except Exception as e:  # handed to the caller's thread
                box.append(e)

        t = threading.Thread(target=enter_and_make, name=f"setns-{self.name}")
        t.start()
        t.join()
        if isinstance(box[0], Exception):
            raise RigError(f"socket in {self.name}: {box[0]}")
        self.sockets.append(box[0])
        return box[0]

    def udp_listener(self, port=0, ip="0.0.0.0"):
        """A UDP socket bound to @ip:@port in the namespace."""
        s = self.socket()
        s.bind((ip, port))
        return s

    def udp_sender(self):
        return self.socket()

    def ping(self, ip, count=3, interval=0.2, size=None, wait=1, deadline=None):
        """Linux ping of @ip from the namespace; PingResult.

        @interval below 0.2 s needs root (the rig has it); @wait is ping's
        -W (how long the last reply is awaited), @deadline its -w.  Without
        a deadline, iputils stops waiting about one interval after its last
        request, so a reply that a busy host delays a little counts as lost:
        the default deadline is generous instead (ping still ends as soon as
        every reply is in).
        """
        if deadline is None:
            deadline = int(count * max(interval, 0.002) * 3) + wait + 2
        argv = ["ping", "-n", "-c", str(count), "-i", str(interval),
                "-W", str(wait)]
        if size is not None:
            argv += ["-s", str(size)]
        if deadline is not None:
            argv += ["-w", str(deadline)]
        limit = deadline + 10
        out = self.exec([*argv, ip], timeout=limit, check=False).stdout
        return PingResult.parse(out)

    def link_stats(self, dev):
        """`ip -s link` counters of @dev: {"rx": {...}, "tx": {...}}."""
        data = json.loads(self.ip("-s", "-j", "link", "show", "dev", dev))
        return data[0]["stats64"]

    def close(self, errors):
        """Undo everything; append what went wrong to @errors."""
        for s in self.sockets:
            s.close()
        self.sockets.clear()
        for proc in self.procs:
            try:
                _stop(proc)
            except OSError as e:
                errors.append(f"stopping {proc.args}: {e}")
        self.procs.clear()
        if self.created:
            proc = _run(["ip", "netns", "delete", self.name], check=False)
            if proc.returncode != 0:
                errors.append(f"ip netns delete {self.name}: {proc.stdout}")
            self.created = False


@dataclass
class PingResult:
    """What Linux ping said: counts, loss in %, every reply's RTT in ms."""
    sent: int
    received: int
    loss: float
    rtts: list = field(default_factory=list)
    summary: tuple = None       # (min, avg, max, mdev) in ms, when printed
    output: str = ""

    @classmethod
    def parse(cls, out):
        m = re.search(r"(\d+) packets transmitted, (\d+) received.*?"
                      r"([\d.]+)% packet loss", out)
        if not m:
            raise RigError(f"ping printed no summary:\n{out}")
        s = re.search(r"= ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", out)
        rtts = [float(t) for t in re.findall(r"icmp_seq=\d+ .*?time=([\d.]+) ms",
                                             out)]
        return cls(int(m.group(1)), int(m.group(2)), float(m.group(3)), rtts,
                   tuple(float(x) for x in s.groups()) if s else None, out)


# ---------------------------------------------------------- segment ----

DHCP_LINE_RE = re.compile(r"DHCP([A-Z]+)\((\S+)\)(.*)$")
MAC_RE = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$")
QUERY_RE = re.compile(r"query\[(\w+)\] (\S+) from (\S+)")


@dataclass
class DhcpEvent:
    """One DHCP line of dnsmasq's log, e.g. kind "ACK" ip mac."""
    kind: str
    ip: str
    mac: str
    line: str


def _is_ipv4(token):
    try:
        ipaddress.IPv4Address(token)
        return True
    except ValueError:
        return False


class Segment:
    """One bridge with its subnet, taps, dnsmasq and log.

    Addresses: .1 the bridge (router and DNS), .20+ hosts, .50+j the
    guest's pinned address on tap j, .100-.199 the dynamic range.
    """

    def __init__(self, rig, index, octet, taps):
        self.rig = rig
        self.index = index
        self.octet = octet
        self.bridge = f"br{index}"
        self.taps = [f"tap{index}_{j}" for j in range(taps)]
        self.prefix = 24
        self.netmask = "255.255.255.0"
        self.subnet = f"192.168.{octet}.0/24"
        self.gateway = self.addr(1)
        self.dnsmasq = None
        self.log_path = rig.tmp / f"dnsmasq-{self.bridge}.log"
        self.lease_path = rig.tmp / f"leases-{self.bridge}"

    def addr(self, host):
        """The address of host number @host in this segment."""
        return f"192.168.{self.octet}.{host}"

    def unused_ip(self):
        """An on-link address nobody answers for (ARP goes unanswered)."""
        return self.addr(UNUSED_HOST)

    @property
    def bridge_mac(self):
        """The gateway's MAC (what the guest's ARP table should show)."""
        link = json.loads(self.rig.ns.ip("-j", "link", "show", "dev", self.bridge))
        return link[0]["address"]

    def mac(self, tap=0):
        """The MAC the rig gives the guest's NIC on tap @tap."""
        return f"52:54:00:4e:{self.octet:02x}:{0x10 + tap:02x}"

    def guest_ip(self, tap=0):
        """The address dnsmasq gives that MAC (when the rig pins it)."""
        return self.addr(GUEST_HOST + tap)

    def qemu_args(self, tap=0, model="virtio-net-pci", device_opts=""):
        """QEMU options for a NIC on tap @tap (device_opts: ",a=b,...")."""
        nid = f"rig{self.index}_{tap}"
        return ["-netdev", f"tap,id={nid},ifname={self.taps[tap]},"
                           "script=no,downscript=no",
                "-device", f"{model},netdev={nid},mac={self.mac(tap)}"
                           f"{device_opts}"]

    # ------------------------------------------------------ set up ----

    def create(self):
        ns = self.rig.ns
        ns.ip("link", "add", self.bridge, "type", "bridge", "stp_state", "0",
              "forward_delay", "0", "mcast_snooping", "0")
        # A bridge follows its ports' smallest MTU unless the MTU was set by
        # hand, and setting it to the value it has does not count: change it
        # twice, so the 9000-byte taps cannot raise it.
        ns.ip("link", "set", self.bridge, "mtu", str(BRIDGE_MTU - 100))
        ns.ip("link", "set", self.bridge, "mtu", str(BRIDGE_MTU))
        ns.ip("addr", "add", f"{self.gateway}/{self.prefix}", "dev", self.bridge)
        for tap in self.taps:
            ns.ip("tuntap", "add", "dev", tap, "mode", "tap")
            ns.ip("link", "set", tap, "mtu", str(TAP_MTU), "master",
                  self.bridge, "up")
        ns.ip("link", "set", self.bridge, "up")

    def _resolve(self, ip):
        return self.addr(ip) if isinstance(ip, int) else ip

    def dnsmasq_argv(self):
        r = self.rig
        argv = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                "--user=root", "--group=root", "--pid-file=",
                "--no-resolv", "--no-hosts", "--no-ping", "--bind-interfaces",
                f"--interface={self.bridge}", "--except-interface=lo",
                "--log-dhcp", "--log-queries", f"--log-facility={self.log_path}",
                "--local=/#/", f"--local-ttl={r.ttl}", f"--domain={DOMAIN}"]
        if not r.dns:
            argv.append("--port=0")
        for name, ip in r.names.items():
            argv.append(f"--host-record={name},{self._resolve(ip)}")
        for alias, target in r.cnames.items():
            argv.append(f"--cname={alias},{target}")
        if r.dhcp:
            lo, hi = DHCP_RANGE
            argv += [f"--dhcp-range={self.addr(lo)},{self.addr(hi)},"
                     f"{self.netmask},{r.lease}",
                     f"--dhcp-leasefile={self.lease_path}",
                     "--dhcp-authoritative",
                     f"--dhcp-option=option:router,{self.gateway}",
                     f"--dhcp-option=option:dns-server,{self.gateway}"]
            if r.pin:
                argv += [f"--dhcp-host={self.mac(j)},{self.guest_ip(j)}"
                         for j in range(len(self.taps))]
        return argv + list(r.dnsmasq_args)

    def start_dnsmasq(self):
        self.log_path.touch()
        out = open(self.rig.tmp / f"dnsmasq-{self.bridge}.out", "wb")
        with out:
            self.dnsmasq = self.rig.ns.popen(self.dnsmasq_argv(), stdout=out,
                                             stderr=subprocess.STDOUT)
        self._wait_dnsmasq_ready()

    def _wait_dnsmasq_ready(self, timeout=10):
        """dnsmasq is up once it answers DNS (or, without DNS, once it
        logged that its DHCP sockets are bound)."""
        deadline = time.monotonic() + timeout * nh.timeout_scale()
        while time.monotonic() < deadline:
            if self.dnsmasq.poll() is not None:
                raise RigError(f"dnsmasq on {self.bridge} exited with "
                               f"{self.dnsmasq.returncode}:\n{self.output()}")
            if self.rig.dns:
                try:
                    dns_query(self.rig.ns, self.gateway, READY_PROBE, timeout=0.2)
                    return
                except (OSError, RigError):
                    pass
            elif "sockets bound" in self.log():
                return
            time.sleep(0.05)
        raise RigError(f"dnsmasq on {self.bridge} never became ready:\n"
                       f"{self.output()}")

    def output(self):
        """dnsmasq's log and what it printed itself."""
        printed = self.rig.tmp / f"dnsmasq-{self.bridge}.out"
        text = printed.read_text(errors="replace") if printed.exists() else ""
        return self.log() + text

    # ---------------------------------------------------- the log ----

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def dhcp_events(self, mac=None, kind=None):
        """DHCP lines of the log as DhcpEvents, oldest first, filtered by
        @mac and @kind ("DISCOVER", "OFFER", "REQUEST", "ACK", "NAK", ...)."""
        events = []
        for line in self.log().splitlines():
            m = DHCP_LINE_RE.search(line)
            if not m or m.group(2) != self.bridge:
                continue
            tokens = m.group(3).split()
            ip = next((t for t in tokens if _is_ipv4(t)), None)
            hw = next((t for t in tokens if MAC_RE.match(t)), None)
            ev = DhcpEvent(m.group(1), ip, hw, line)
            if (mac is None or ev.mac == mac.lower()) and \
                    (kind is None or ev.kind == kind):
                events.append(ev)
        return events

    def wait_dhcp(self, kind, mac=None, count=1, timeout=30):
        """Wait until the log has @count @kind events (for @mac); return
        them.  RigError with the log when they do not come."""
        deadline = time.monotonic() + timeout * nh.timeout_scale()
        while True:
            events = self.dhcp_events(mac, kind)
            if len(events) >= count:
                return events
            if time.monotonic() > deadline:
                raise RigError(f"{self.bridge}: {count} DHCP{kind} for {mac} "
                               f"not seen in {timeout} s; dnsmasq log:\n"
                               f"{self.log()[-4000:]}")
            time.sleep(0.1)

    def wait_lease(self, mac=None, timeout=30):
        """The address of the first DHCPACK (to @mac)."""
        mac = mac or self.mac()
        return self.wait_dhcp("ACK", mac, 1, timeout)[0].ip

    def wait_renewal(self, mac=None, timeout=150):
        """Wait for the second DHCPREQUEST/DHCPACK pair of @mac (a 2-minute
        lease renews at T1 = 60 s); return the second ACK."""
        mac = mac or self.mac()
        self.wait_dhcp("REQUEST", mac, 2, timeout)
        return self.wait_dhcp("ACK", mac, 2, 10)[1]

    def dns_queries(self):
        """[(type, name, from)] for every query dnsmasq logged (but the
        rig's own readiness probe)."""
        return [q for q in QUERY_RE.findall(self.log()) if q[1] != READY_PROBE]

    def leases(self):
        """dnsmasq's lease file: [(expiry, mac, ip, hostname)]."""
        try:
            lines = self.lease_path.read_text().splitlines()
        except OSError:
            return []
        return [tuple(line.split()[:4]) for line in lines if line.strip()]


# ------------------------------------------------------------- host ----

class Host:
    """A Linux host on a segment: its own namespace, eth0 joined to the
    bridge by a veth pair (port `port` in the rig's namespace)."""

    def __init__(self, rig, seg, k, host, mtu, mac):
        self.seg = seg
        self.ns = Netns(f"{rig.ns.name}-h{k}")
        self.port = f"veth{seg.index}_{k}"
        self.ip = seg.addr(host) if host is not None else None
        self.mtu = mtu
        self.mac = mac

    def create(self, rig_ns):
        self.ns.create()
        rig_ns.ip("link", "add", self.port, "mtu", str(self.mtu), "type",
                  "veth", "peer", "name", "eth0", "mtu", str(self.mtu),
                  "netns", self.ns.name)
        if self.mac:
            self.ns.ip("link", "set", "eth0", "address", self.mac)
        rig_ns.ip("link", "set", self.port, "master", self.seg.bridge, "up")
        if self.ip:
            self.ns.ip("addr", "add", f"{self.ip}/{self.seg.prefix}",
                       "dev", "eth0")
        self.ns.ip("link", "set", "eth0", "up")
        if self.ip:
            self.ns.ip("route", "add", "default", "via", self.seg.gateway)
        link = json.loads(self.ns.ip("-j", "link", "show", "dev", "eth0"))
        self.mac = link[0]["address"]

    def ping(self, ip, **kw):
        return self.ns.ping(ip, **kw)


# -------------------------------------------------------------- rig ----

def _take_octets(n):
    with _octets_lock:
        free = [o for o in range(SUBNET_FIRST, SUBNET_LAST + 1)
                if o not in _octets_in_use][:n]
        if len(free) < n:
            raise RigError("no free 192.168.X.0/24 subnets left for a rig")
        _octets_in_use.update(free)
        return free


def _close_all_at_exit():
    for rig in list(NetRig.live):
        rig.close(raise_errors=False)


atexit.register(_close_all_at_exit)


class NetRig:
    """A namespace with @segments bridges of @taps taps each, dnsmasq on
    every bridge, and the tools above.  Use as a context manager or
    start()/close(); the `net_rig` fixture does it for tests.

    @dhcp, @dns     turn dnsmasq's DHCP / DNS off
    @names          {name: ip or host number} for DNS (DEFAULT_NAMES)
    @cnames         {alias: target} (DEFAULT_CNAMES); targets must be names
    @ttl            TTL of every local answer, seconds
    @lease          DHCP lease time (dnsmasq syntax, at least "2m")
    @pin            pin each tap's MAC to guest_ip(tap)
    @dnsmasq_args   more dnsmasq options, appended
    """

    live = set()  # rigs started and not yet closed (for the atexit hook)

    def __init__(self, segments=1, taps=1, *, dhcp=True, dns=True,
                 names=None, cnames=None, ttl=60, lease=LEASE, pin=True,
                 dnsmasq_args=()):
        global _rig_count
        _rig_count += 1
        self.ns = Netns(f"{NS_PREFIX}{os.getpid()}-{_rig_count}")
        self.name = self.ns.name
        self.n_segments, self.n_taps = segments, taps
        self.dhcp, self.dns, self.ttl, self.lease, self.pin = \
            dhcp, dns, ttl, lease, pin
        self.names = dict(DEFAULT_NAMES if names is None else names)
        self.cnames = dict(DEFAULT_CNAMES if cnames is None else cnames)
        self.dnsmasq_args = list(dnsmasq_args)
        self.segments = []
        self.hosts = []
        self.tmp = None
        self.keep_logs = False       # set by conftest when the test failed
        self._octets = []
        self._dropping = False
        self._losing = False
        self._muted = False

    # --------------------------------------------------- lifecycle ----

    def start(self):
        reason = rig_unavailable()
        if reason:
            raise RigError(reason)
        NetRig.live.add(self)
        try:
            sweep_stale_namespaces()
            self.tmp = Path(tempfile.mkdtemp(prefix="nos-rig-"))
            self.ns.create()
            self._octets = _take_octets(self.n_segments)
            for i, octet in enumerate(self._octets):
                seg = Segment(self, i, octet, self.n_taps)
                self.segments.append(seg)
                seg.create()
            for seg in self.segments:
                seg.start_dnsmasq()
        except BaseException:
            self.close(raise_errors=False)
            raise
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.keep_logs = True
        self.close(raise_errors=exc_type is None)
        return False

    def close(self, raise_errors=True):
        """Tear everything down (see the module comment); idempotent."""
        errors = []
        for vm in list(nh.NosVM.live):
            if list(getattr(vm, "wrap", ())) == self.wrap:
                vm.close()   # a VM of the test still inside the namespace
        if self.keep_logs:
            self._keep_logs()
        for host in self.hosts:
            host.ns.close(errors)
        self.hosts.clear()
        if self._losing and self.ns.created:
            self.exec(["nft", "delete", "table", "bridge", LOSS_TABLE], check=False)
            self._losing = False
        if self._muted and self.ns.created:
            self.exec(["nft", "delete", "table", "inet", MUTE_TABLE], check=False)
            self._muted = False
        for seg in self.segments:
            for tap in seg.taps:
                self.ns.ip("link", "del", tap, check=False)
        self.ns.close(errors)
        self.segments.clear()
        with _octets_lock:
            _octets_in_use.difference_update(self._octets)
        self._octets = []
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        NetRig.live.discard(self)
        if errors and raise_errors:
            raise RigError(f"{self.name} cleanup: " + "; ".join(errors))

    def kept_log_path(self, seg):
        return nh.DEFAULT_LOG_DIR / f"{self.name}-{seg.bridge}-dnsmasq.log"

    def _keep_logs(self):
        nh.DEFAULT_LOG_DIR.mkdir(parents=True, exist_ok=True)
        for seg in self.segments:
            self.kept_log_path(seg).write_text(seg.output())

    def describe(self):
        """For a failure report: each segment's kept log and its tail."""
        parts = []
        for seg in self.segments:
            tail = seg.log().splitlines()[-15:]
            parts.append(f"{self.name} {seg.bridge} {seg.subnet}: dnsmasq log "
                         f"{self.kept_log_path(seg)}\n    " + "\n    ".join(tail))
        return "\n".join(parts)

    # ------------------------------------------------- what QEMU needs ----

    @property
    def wrap(self):
        """Prefix for QEMU's command line (NosVM(wrap=...))."""
        return self.ns.wrap

    @property
    def seg(self):
        return self.segments[0]

    def qemu_args(self, model="virtio-net-pci", device_opts=""):
        """One NIC per segment, on the segment's first tap, in order."""
        args = []
        for seg in self.segments:
            args += seg.qemu_args(0, model, device_opts)
        return args

    # ------------------------------------------------------- peers ----

    def add_host(self, segment=0, host=None, mtu=BRIDGE_MTU, address=True,
                 mac=None):
        """A Linux host on segment @segment at host number @host (next free
        from .20 when None; no address at all unless @address), with MAC
        @mac (a random one when None)."""
        seg = self.segments[segment]
        k = len(self.hosts)
        if address and host is None:
            host = HOST_FIRST + sum(1 for h in self.hosts if h.seg is seg)
        h = Host(self, seg, k, host if address else None, mtu, mac)
        self.hosts.append(h)
        h.create(self.ns)
        return h

    def exec(self, argv, **kw):
        return self.ns.exec(argv, **kw)

    def popen(self, argv, **kw):
        return self.ns.popen(argv, **kw)

    def socket(self, *args):
        return self.ns.socket(*args)

    def udp_listener(self, port=0, ip="0.0.0.0"):
        return self.ns.udp_listener(port, ip)

    def udp_sender(self):
        return self.ns.udp_sender()

    def ping(self, ip, **kw):
        return self.ns.ping(ip, **kw)

    def link_stats(self, dev):
        return self.ns.link_stats(dev)

    # ------------------------------------------------ hostile wire ----

    def guest_garbage(self, count, seed=1, segment=0, tap=0, **kw):
        """garbage_frames() aimed at the guest's NIC on that tap."""
        seg = self.segments[segment]
        return garbage_frames(count, seg.mac(tap), seg.guest_ip(tap),
                              src_ip=seg.addr(GARBAGE_HOST), seed=seed, **kw)

    def flood(self, frames, dev=None, batch=0, pause=0.002):
        """Send raw Ethernet @frames ([(kind, bytes)]) out of @dev (the
        first tap by default: straight into the guest); Counter of kinds
        sent.  With @batch, sleep @pause s after every @batch frames, so a
        guest under TCG can keep up and the tap drops none.  A frame the
        kernel refuses raises RigError."""
        dev = dev or self.seg.taps[0]
        s = self.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s.bind((dev, 0))
        sent = Counter()
        try:
            for i, (kind, frame) in enumerate(frames, 1):
                s.send(frame)
                sent[kind] += 1
                if batch and i % batch == 0:
                    time.sleep(pause)
        except OSError as e:
            raise RigError(f"sending a {len(frame)}-byte {kind} frame on "
                           f"{dev}: {e}") from e
        return sent

    def drop(self, percent, dev=None):
        """Drop @percent % of the frames the bridges see, at random (0:
        remove the rule).  @dev limits it to frames to or from one port."""
        if self._dropping:
            self.exec(["nft", "delete", "table", "bridge", "nosrig"])
            self._dropping = False
        if not 0 <= percent <= 100:
            raise ValueError(f"drop percentage {percent} is not 0..100")
        if percent == 0:
            return
        rule = "drop;" if percent == 100 else \
            f"numgen random mod 100 < {int(percent)} drop;"
        ins = [f'iifname "{dev}" {rule}'] if dev else [rule]
        outs = [f'oifname "{dev}" {rule}'] if dev else [rule]
        hooks = {"input": ins, "output": outs,
                 "forward": ins + outs if dev else [rule]}
        chains = "".join(
            f"  chain drop_{hook} {{ type filter hook {hook} priority 0; "
            f"policy accept; {' '.join(rules)} }}\n"
            for hook, rules in hooks.items())
        self.exec(["nft", "-f", "-"], input=f"table bridge nosrig {{\n{chains}}}\n")
        self._dropping = True

    @contextlib.contextmanager
    def dropping(self, percent, dev=None):
        self.drop(percent, dev)
        try:
            yield self
        finally:
            self.drop(0)

    def random_loss(self, to_dev=0, from_dev=0, dev=None):
        """Drop @to_dev % of the frames the bridge sends out of port @dev
        (default: the first tap, i.e. toward the guest) and @from_dev % of
        the frames that come in on it, at random (`numgen random mod 100`),
        each way through named counters (loss_counters()).  Both 0: remove
        the table.  Frames the bridge itself sends or takes pass the output
        and input hooks; frames between two ports pass forward."""
        dev = dev or self.seg.taps[0]
        if self._losing:
            self.exec(["nft", "delete", "table", "bridge", LOSS_TABLE])
            self._losing = False
        for p in (to_dev, from_dev):
            if not isinstance(p, int) or isinstance(p, bool) or not 0 <= p <= 100:
                raise ValueError(f"loss percentage {p!r} is not an integer 0..100")
        if to_dev == 0 and from_dev == 0:
            return
        to = (f'oifname "{dev}" counter name "to_seen" numgen random mod 100 '
              f'< {to_dev} counter name "to_dropped" drop;')
        frm = (f'iifname "{dev}" counter name "from_seen" numgen random mod 100 '
               f'< {from_dev} counter name "from_dropped" drop;')
        hooks = {"output": to, "input": frm, "forward": f"{to} {frm}"}
        body = "".join(f"  counter {c} {{ }}\n" for c in LOSS_COUNTERS)
        body += "".join(f"  chain loss_{hook} {{ type filter hook {hook} priority 0; "
                        f"policy accept; {rules} }}\n" for hook, rules in hooks.items())
        self.exec(["nft", "-f", "-"], input=f"table bridge {LOSS_TABLE} {{\n{body}}}\n")
        self._losing = True

    def mute_port(self, port, proto="udp"):
        """Drop every @proto ("udp" or "tcp") packet to @port that the
        rig's own stack receives (the bridges' addresses: dnsmasq, say),
        silently: the service seems down and no ICMP error says so.  None
        removes the rule.  Counted: muted_count()."""
        if self._muted:
            self.exec(["nft", "delete", "table", "inet", MUTE_TABLE])
            self._muted = False
        if port is None:
            return
        if proto not in ("udp", "tcp") or not 0 < int(port) < 65536:
            raise ValueError(f"cannot mute {proto} port {port!r}")
        self.exec(["nft", "-f", "-"], input=(
            f"table inet {MUTE_TABLE} {{\n  chain mute_input {{ type filter hook input "
            f"priority 0; policy accept; {proto} dport {int(port)} counter drop; }}\n}}\n"))
        self._muted = True

    @contextlib.contextmanager
    def muting(self, port, proto="udp"):
        self.mute_port(port, proto)
        try:
            yield self
        finally:
            self.mute_port(None)

    def muted_count(self):
        """Packets mute_port() has dropped so far; RigError when none is set."""
        if not self._muted:
            raise RigError("no mute_port() rule is installed")
        out = self.exec(["nft", "list", "table", "inet", MUTE_TABLE]).stdout
        m = re.search(r"counter packets (\d+)", out)
        if not m:
            raise RigError(f"no counter in the mute table:\n{out}")
        return int(m.group(1))

    def loss_counters(self):
        """The random_loss() counters: {"to": {"seen": n, "dropped": n},
        "from": {...}} (frames); RigError when no loss table is installed."""
        if not self._losing:
            raise RigError("no random_loss() table is installed")
        out = self.exec(["nft", "-j", "list", "counters", "table", "bridge",
                         LOSS_TABLE]).stdout
        got = {}
        for item in json.loads(out)["nftables"]:
            c = item.get("counter")
            if c and c["name"] in LOSS_COUNTERS:
                way, what = c["name"].split("_")
                got.setdefault(way, {})[what] = c["packets"]
        return got

    @contextlib.contextmanager
    def losing(self, to_dev=0, from_dev=0, dev=None):
        self.random_loss(to_dev, from_dev, dev)
        try:
            yield self
        finally:
            self.random_loss(0, 0)


def wait_bound(vm, timeout=15):
    """Until the guest has taken its lease (dnsmasq logs the ACK a moment
    before the guest has it)."""
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while "bound to" not in vm.run("dmesg dhcp:"):
        if time.monotonic() > deadline:
            vm.fail("the guest never logged its DHCP lease")
        time.sleep(0.2)


class EchoSink:
    """One TCP connection accepted in @rig's namespace at @ip: everything it
    brings is counted and checksummed (zlib.crc32), then sent back once the
    peer has shut its side down.  Notes the socket's send MSS (TCP_MAXSEG)
    and any socket error; `port` is the port it listens on."""

    def __init__(self, rig, ip):
        self.listener = rig.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((ip, 0))
        self.listener.listen(1)
        self.listener.settimeout(30 * nh.timeout_scale())
        self.port = self.listener.getsockname()[1]
        self.bytes, self.crc, self.maxseg, self.error, self.echoed = 0, 0, None, None, False
        self.thread = threading.Thread(target=self._serve, daemon=True, name="echo-sink")
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(60 * nh.timeout_scale())
                self.maxseg = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
                got = []
                while data := conn.recv(1 << 16):
                    got.append(data)
                    self.bytes += len(data)
                    self.crc = zlib.crc32(data, self.crc)
                conn.sendall(b"".join(got))
                self.echoed = True
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(1 << 16):
                    pass
        except OSError as e:
            self.error = e
        finally:
            self.listener.close()


class _FileHandler(BaseHTTPRequestHandler):
    """GET /<name> of NsHttpServer's files; HTTP/1.0, so the server closes
    each connection after its response (the TIME_WAIT stays on the Linux
    side, not in the guest)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.server.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        self.server.count("requests")
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.server.count("sent whole")
        except OSError:
            self.server.count("cut short")


class NsHttpServer(ThreadingHTTPServer):
    """A static HTTP server on @ip (port chosen by the kernel) inside
    namespace @ns (a Netns, or anything with .socket()), serving @files
    ({name: bytes}) at /<name>, in a daemon thread of this process.
    `counts` tallies "requests", "sent whole" and "cut short".  close()
    stops it; the namespace's own close() closes the socket too."""
    daemon_threads = True

    def __init__(self, ns, ip, files):
        super().__init__((ip, 0), _FileHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((ip, 0))
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = self.server_address
        self.server_activate()
        self.files = dict(files)
        self.counts = Counter()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                        name=f"ns-http-{self.server_port}")
        self._thread.start()

    def url(self, name):
        return f"http://{self.server_name}:{self.server_port}/{name}"

    def count(self, what):
        with self._lock:
            self.counts[what] += 1

    def close(self):
        self.shutdown()
        self.server_close()
        self._thread.join(10)


def boot_on_rig(boot_vm, rig, cmdline="", extra_args=(), **kw):
    """Boot a VM (conftest's boot_vm factory) with one NIC on each of the
    rig's segments, QEMU running inside the rig's namespace."""
    return boot_vm(cmdline, wrap=rig.wrap,
                   extra_args=[*rig.qemu_args(), *extra_args], **kw)


@pytest.fixture
def net_rig(request):
    """Factory: net_rig(**NetRig options) -> started NetRig; every rig it
    made is closed at teardown.  Skips without root (see require_rig)."""
    require_rig()
    made = []
    request.node._nos_rigs = made

    def make(**kw):
        rig = NetRig(**kw)
        made.append(rig)
        return rig.start()

    yield make
    errors = []
    for rig in reversed(made):
        try:
            rig.close()
        except RigError as e:
            errors.append(str(e))
    if errors:
        raise RigError("; ".join(errors))


# ------------------------------------------------ DNS and DHCP peers ----

def dns_query(ns, server, name, qtype=1, timeout=2.0):
    """Ask @server (from namespace @ns) for @name; a DnsAnswer.  RigError
    when no answer comes within @timeout s or it does not parse."""
    s = ns.socket()
    try:
        s.settimeout(timeout)
        qid = random.randrange(65536)
        s.sendto(dns_question(qid, name, qtype), (server, 53))
        while True:
            msg = s.recv(4096)
            if len(msg) >= 12 and struct.unpack(">H", msg[:2])[0] == qid:
                return parse_dns(msg)
    except (OSError, WireError) as e:
        raise RigError(f"DNS query for {name} to {server}: {e}") from e
    finally:
        s.close()
        ns.sockets.remove(s)


class DhcpProbe:
    """A minimal DHCP client on a Host without an address (its eth0):
    DISCOVER/REQUEST and a unicast renewal, to check dnsmasq without a
    guest.  Replies are dicts of options (dhcp_reply())."""

    def __init__(self, host, timeout=5.0):
        self.host = host
        self.mac = bytes.fromhex(host.mac.replace(":", ""))
        self.timeout = timeout * nh.timeout_scale()
        self.xid = random.randrange(1 << 32)
        self.ack = None
        self.s = host.ns.socket()
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
        self.s.bind(("0.0.0.0", 68))

    def _send(self, msg_type, to="255.255.255.255", **kw):
        self.s.sendto(dhcp_packet(self.xid, self.mac, msg_type, **kw), (to, 67))

    def _reply(self, want):
        deadline = time.monotonic() + self.timeout
        while (left := deadline - time.monotonic()) > 0:
            self.s.settimeout(left)
            try:
                opts = dhcp_reply(self.s.recv(2048), self.xid)
            except (OSError, WireError) as e:
                raise RigError(f"no DHCP reply of type {want}: {e}") from e
            if opts and opts[53][0] in want:
                return opts
        raise RigError(f"no DHCP reply of type {want}")

    def lease(self):
        """DISCOVER, OFFER, REQUEST, ACK (or NAK); the reply's options."""
        self._send(1)
        offer = self._reply({2})
        opts = (bytes([50, 4]) + socket.inet_aton(offer["yiaddr"]) +
                bytes([54, 4]) + offer[54])
        self._send(3, options=opts)
        self.ack = self._reply({5, 6})
        return self.ack

    def renew(self):
        """RENEWING: a unicast REQUEST from the leased address (the host
        puts it on eth0 first); the reply's options."""
        ip = self.ack["yiaddr"]
        self.host.ns.ip("addr", "replace", f"{ip}/24", "dev", "eth0")
        self._send(3, to=socket.inet_ntoa(self.ack[54]), ciaddr=ip)
        return self._reply({5, 6})
