"""
net_relay — a lossy wire of our own between a QEMU guest and the network
rig: it drops, duplicates, reorders, delays and corrupts Ethernet frames,
each direction on its own, from a seed, and counts what it did.

Why a relay
-----------
This machine's kernel has no `netem` qdisc, so Linux cannot be asked to
make a link bad.  nftables can drop a share of the frames at random (the
rig's `random_loss()`), but it cannot hold one back, send one twice or
flip a byte.  TCP needs all of that to be tested, so the frames take a
detour through a small program that can.

Picture (the rig's namespace; nothing of it is outside):

    QEMU  -netdev dgram  127.0.0.1:Q  <── one frame per UDP datagram ──>
    relay 127.0.0.1:R  ── impairments ──  /dev/net/tun fd of tap0_0 ── br0

The guest's NIC is a QEMU `dgram` netdev (QEMU 7.2 and later; older ones
get the equivalent `-netdev socket,udp=...,localaddr=...`): QEMU sends each
frame the guest transmits as one UDP datagram to the relay's port and takes
each datagram it receives as one frame for the guest.  The relay opens the
rig's tap (IFF_TAP | IFF_NO_PI: bare Ethernet frames), the very tap QEMU
would have used, so the guest sits on the bridge exactly where it would sit
without the relay: same MAC, same pinned DHCP lease, same dnsmasq.

The relay is one process, this file run as a script inside the rig's
namespace (`ip netns exec NS python3 net_relay.py ...`), started by the
test side (`Relay`, below).  Its UDP sockets and QEMU's are on that
namespace's loopback, so both ends must run in it, as the rig already
requires of QEMU.  The process needs nothing but the standard library: it
reads frames from the UDP socket and the tap in one selectors loop, and
keeps delayed frames on a heap and held ones in a list; there are no
threads.  When it is ready it prints one JSON line (its ports) and nothing
else after.

Directions and impairments
--------------------------
"to_guest" is tap -> QEMU, "from_guest" is QEMU -> tap.  Each direction has
its own settings (all off by default):

    drop         probability a frame is dropped
    duplicate    probability a frame is sent twice (the copy right after)
    corrupt      probability one byte is XORed with a random non-zero value,
                 at a random offset inside the IPv4 packet (past the
                 Ethernet header, short of any padding), so that the IP,
                 ICMP, UDP or TCP checksum must catch it.  Only IPv4 frames
                 are corrupted: ARP has no checksum, and a flipped byte
                 there would poison a neighbour table instead of testing a
                 checksum.  (A UDP datagram sent with checksum 0 is not
                 protected; nothing catches that, by design of UDP.)
    reorder      probability a frame is held back and released right after
                 the next `reorder_gap` frames of its direction have gone
                 on (default 1), or after `reorder_ms` (default 100) when
                 no more come, so nothing is held for ever
    delay_ms     every frame waits this long ...
    jitter_ms    ... plus or minus up to this much (uniform); frames leave
                 in the order they fall due, so a jitter wider than the gap
                 between two frames reorders them, as netem's does
    blackhole    drop every frame, whatever `kinds` says: the peer has
                 vanished (a test toggles it at run time)
    kinds        the frame kinds the others apply to, a list from KINDS
                 ("arp", "icmp", "tcp", "udp", "ipv4", "ipv6", "other"), or
                 None for all; other kinds pass at once, untouched
    seed         (only in a `set`) reseed this direction's generator now

The order for one frame is: blackhole, drop, corrupt, duplicate, reorder,
delay.

Deterministic from the seed
---------------------------
Each direction has its own random.Random, seeded from the relay's seed and
the direction's name, or from a `seed` given with `set`.  Every frame the
impairments apply to (not blackholed, its kind in `kinds`) takes exactly
seven numbers from it, whatever the settings are, so the fate of the n-th
such frame after a seed depends on the seed and the settings alone, not on
timing.  (When a held or delayed frame leaves is timing; which frames are
dropped, doubled, corrupted where, and held, is not.)

Counters
--------
Per direction, in total and per kind: in, forwarded (written out, copies
included), dropped (blackholed ones included), blackholed, duplicated,
reordered (frames held back), corrupted, delayed (frames that waited on the
heap), errors (a write that failed).  `pending` is what is held or delayed
right now.  At every moment

    in + duplicated == forwarded + dropped + errors + pending

and "strangers" counts UDP datagrams that did not come from QEMU's port
(ignored).

Control channel
---------------
A UNIX stream socket in the rig's temporary directory (UNIX sockets are
file system objects and work across network namespaces).  One request is
one line of JSON, one reply is one line of JSON; a connection may carry
any number.  A request is an object with any of these keys, applied in this
order:

    {"clear": true}                  every setting back to off, both ways
    {"set": {"both": {...}, "to_guest": {...}, "from_guest": {...}}}
                                     change the settings given ("both"
                                     first); others keep their values
    {"stats": true}                  reply["stats"]: the counters
    {"settings": true}               reply["settings"]: what is in force

The reply is {"ok": true, ...}, or {"ok": false, "error": "why"} for a
request that is not JSON, names an unknown key, setting or kind, or gives a
value out of range; a refused request changes nothing.  No input makes the
relay exit.

The test side
-------------
    relay = net_relay(rig)                        # the fixture: started Relay
    vm = boot_through_relay(boot_vm, rig, relay)  # QEMU on the relay
    with relay.impaired(to_guest={"drop": 0.3, "kinds": ["icmp"]}):
        r = rig.ping(rig.seg.guest_ip(), count=100, interval=0.05)
    relay.counters("to_guest", "icmp")["dropped"]
    relay.blackhole(True) ... relay.blackhole(False)

`Relay(rig, segment=0, tap=0, seed=1, settings=None, netdev="auto")` runs on
the segment's tap `tap`; `netdev` forces "dgram" or "socket" (auto: dgram
when `qemu-system-x86_64 -netdev help` lists it).  The relay process is
started with the rig's `popen`, so it gets PR_SET_PDEATHSIG and the rig's
close() stops it by its PID even if the test never closes the Relay;
`close()` stops it (SIGTERM, then SIGKILL) by PID.  The tap is the rig's
and goes away with the rig's namespace.
"""

import contextlib
import errno
import fcntl
import heapq
import json
import os
import random
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

# The relay process runs this file as a script and needs only the standard
# library; the test side (the Relay class and the fixture) also needs the
# rig and pytest, which the relay should not pay for at start-up.
TEST_SIDE = __name__ != "__main__"
if TEST_SIDE:
    import pytest

    import net_rig as nr
    import nos_harness as nh

HERE = Path(__file__).resolve().parent
DIRECTIONS = ("to_guest", "from_guest")
KINDS = ("arp", "icmp", "tcp", "udp", "ipv4", "ipv6", "other")
COUNTERS = ("in", "forwarded", "dropped", "blackholed", "duplicated",
            "reordered", "corrupted", "delayed", "errors")
DEFAULTS = {"drop": 0.0, "duplicate": 0.0, "corrupt": 0.0, "reorder": 0.0,
            "reorder_gap": 1, "reorder_ms": 100.0, "delay_ms": 0.0,
            "jitter_ms": 0.0, "blackhole": False, "kinds": None}
PROBABILITIES = ("drop", "duplicate", "corrupt", "reorder")
MILLISECONDS = ("reorder_ms", "delay_ms", "jitter_ms")
MS_MAX = 60000.0
GAP_MAX = 10000
ETH_HLEN = 14
LOOPBACK = "127.0.0.1"
READ_BATCH = 256            # frames read per wake-up from one source
CONTROL_LINE_MAX = 65536
SOCKET_BUFFER = 4 << 20
TUNSETIFF = 0x400454ca
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
READY_TIMEOUT = 10.0


class RelayError(Exception):
    """The relay could not do what it was asked; the message says why."""


# ----------------------------------------------------- frames, settings ----

def frame_kind(frame):
    """One of KINDS for an Ethernet frame (no VLAN tags are expected)."""
    if len(frame) < ETH_HLEN:
        return "other"
    etype = frame[12:14]
    if etype == b"\x08\x06":
        return "arp"
    if etype == b"\x86\xdd":
        return "ipv6"
    if etype != b"\x08\x00":
        return "other"
    if len(frame) < ETH_HLEN + 20:
        return "ipv4"
    return {1: "icmp", 6: "tcp", 17: "udp"}.get(frame[ETH_HLEN + 9], "ipv4")


def corrupt_frame(frame, where, xor):
    """@frame with one byte XORed with @xor (1..255), at fraction @where
    (0 <= where < 1) of the IPv4 packet it carries; None if it carries no
    IPv4 packet that a checksum protects."""
    if len(frame) < ETH_HLEN + 20 or frame[12:14] != b"\x08\x00":
        return None
    total = struct.unpack(">H", frame[ETH_HLEN + 2:ETH_HLEN + 4])[0]
    span = len(frame) - ETH_HLEN
    if 20 <= total < span:
        span = total                  # leave the Ethernet padding alone
    off = ETH_HLEN + min(int(where * span), span - 1)
    return frame[:off] + bytes([frame[off] ^ xor]) + frame[off + 1:]


def _number(key, value, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not lo <= value <= hi:
        raise ValueError(f"{key} must be a number from {lo} to {hi}, not {value!r}")
    return value


def check_settings(patch, allow_seed=True):
    """@patch (a dict of settings) checked and normalised; ValueError
    naming the first bad key or value."""
    if not isinstance(patch, dict):
        raise ValueError(f"settings must be an object, not {patch!r}")
    out = {}
    for key, value in patch.items():
        if key in PROBABILITIES:
            out[key] = float(_number(key, value, 0, 1))
        elif key in MILLISECONDS:
            out[key] = float(_number(key, value, 0, MS_MAX))
        elif key == "reorder_gap":
            if not isinstance(value, int) or isinstance(value, bool) or \
                    not 1 <= value <= GAP_MAX:
                raise ValueError(f"reorder_gap must be an integer from 1 to "
                                 f"{GAP_MAX}, not {value!r}")
            out[key] = value
        elif key == "blackhole":
            if not isinstance(value, bool):
                raise ValueError(f"blackhole must be true or false, not {value!r}")
            out[key] = value
        elif key == "kinds":
            if value is not None and (not isinstance(value, list) or not value
                                      or any(k not in KINDS for k in value)):
                raise ValueError(f"kinds must be null or a non-empty list from "
                                 f"{list(KINDS)}, not {value!r}")
            out[key] = None if value is None else sorted(set(value))
        elif key == "seed" and allow_seed:
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"seed must be an integer, not {value!r}")
            out[key] = value
        else:
            raise ValueError(f"unknown setting {key!r} (known: "
                             f"{', '.join([*DEFAULTS, 'seed'])})")
    return out


# ------------------------------------------------------------ the core ----

class Direction:
    """One direction's settings, generator, counters and held frames.

    @out(frame) writes a frame to the far side (False when it failed);
    @later(due, direction, frame, kind) puts a frame on the core's heap.
    """

    def __init__(self, name, seed, out, later):
        self.name = name
        self.out = out
        self.later = later
        self.settings = dict(DEFAULTS)
        self.rng = random.Random(f"{seed}:{name}")
        self.totals = dict.fromkeys(COUNTERS, 0)
        self.kinds = {}
        self.held = []           # [frames, kind, delay, frames still to pass, deadline]
        self.delayed_now = 0

    def count(self, kind, what, n=1):
        self.totals[what] += n
        per = self.kinds.get(kind)
        if per is None:
            per = self.kinds[kind] = dict.fromkeys(COUNTERS, 0)
        per[what] += n

    def update(self, patch):
        patch = dict(patch)
        if "seed" in patch:
            self.rng = random.Random(f"{patch.pop('seed')}:{self.name}")
        self.settings.update(patch)

    def pending(self):
        return sum(len(h[0]) for h in self.held) + self.delayed_now

    def stats(self):
        return {**self.totals, "pending": self.pending(),
                "kinds": {k: dict(v) for k, v in sorted(self.kinds.items())}}

    # ------------------------------------------------ one frame's way ----

    def receive(self, frame, now):
        """A frame arrived from the near side at @now (seconds)."""
        s = self.settings
        kind = frame_kind(frame)
        self.count(kind, "in")
        if s["blackhole"]:
            self.count(kind, "dropped")
            self.count(kind, "blackholed")
            return
        if s["kinds"] is not None and kind not in s["kinds"]:
            self.write(frame, kind)
            return
        rng = self.rng
        u_drop, u_dup, u_corrupt, u_reorder, u_jitter, where = \
            (rng.random() for _ in range(6))
        xor = rng.randrange(1, 256)
        if u_drop < s["drop"]:
            self.count(kind, "dropped")
            return
        if u_corrupt < s["corrupt"]:
            bad = corrupt_frame(frame, where, xor)
            if bad is not None:
                frame = bad
                self.count(kind, "corrupted")
        frames = [frame]
        if u_dup < s["duplicate"]:
            frames.append(frame)
            self.count(kind, "duplicated")
        delay = max(0.0, s["delay_ms"] + (2 * u_jitter - 1) * s["jitter_ms"]) / 1000
        if u_reorder < s["reorder"]:
            self.count(kind, "reordered")
            self.held.append([frames, kind, delay, s["reorder_gap"],
                              now + s["reorder_ms"] / 1000])
            return
        self.pass_on(frames, kind, delay, now)
        self.one_passed(now)

    def one_passed(self, now):
        """A frame went past the held ones: release those it was the last
        of their gap for (after it, in the order they were held)."""
        still = []
        for h in self.held:
            h[3] -= 1
            if h[3] <= 0:
                self.pass_on(h[0], h[1], h[2], now)
            else:
                still.append(h)
        self.held = still

    def release_held(self, now, everything=False):
        """Held frames whose time is up go on (all of them if @everything)."""
        due = [h for h in self.held if everything or h[4] <= now]
        if due:
            self.held = [h for h in self.held if not (everything or h[4] <= now)]
            for h in due:
                self.pass_on(h[0], h[1], h[2], now)

    def next_deadline(self):
        return min((h[4] for h in self.held), default=None)

    def pass_on(self, frames, kind, delay, now):
        for frame in frames:
            if delay > 0:
                self.count(kind, "delayed")
                self.delayed_now += 1
                self.later(now + delay, self, frame, kind)
            else:
                self.write(frame, kind)

    def write(self, frame, kind):
        self.count(kind, "forwarded" if self.out(frame) else "errors")


class RelayCore:
    """Both directions and the heap of delayed frames: all of the relay
    that is not sockets, so that it can be driven with a fake clock.

    @outs maps each of DIRECTIONS to its write function (frame -> bool).
    """

    def __init__(self, seed, outs, settings=None):
        self._heap = []
        self._seq = 0
        self.dirs = {name: Direction(name, seed, outs[name], self._later)
                     for name in DIRECTIONS}
        self.strangers = 0
        if settings:
            self.apply({"set": settings})

    def _later(self, due, direction, frame, kind):
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, direction, frame, kind))

    def receive(self, direction, frame, now):
        self.dirs[direction].receive(frame, now)

    def run_due(self, now):
        """Send every delayed frame due by @now, release held frames whose
        time is up."""
        for d in self.dirs.values():
            d.release_held(now)
        while self._heap and self._heap[0][0] <= now:
            _due, _seq, d, frame, kind = heapq.heappop(self._heap)
            d.delayed_now -= 1
            d.write(frame, kind)

    def next_deadline(self):
        """When run_due() next has something to do (None: nothing waits)."""
        times = [d.next_deadline() for d in self.dirs.values()]
        if self._heap:
            times.append(self._heap[0][0])
        times = [t for t in times if t is not None]
        return min(times) if times else None

    def stats(self):
        return {**{n: d.stats() for n, d in self.dirs.items()},
                "strangers": self.strangers}

    def settings(self):
        return {n: dict(d.settings) for n, d in self.dirs.items()}

    # ----------------------------------------------------- commands ----

    def apply(self, req):
        """Carry out one control request (see the module comment); the
        reply.  Raises ValueError, having changed nothing, when it is bad."""
        if not isinstance(req, dict) or not req:
            raise ValueError("a request is a non-empty JSON object")
        unknown = set(req) - {"clear", "set", "stats", "settings"}
        if unknown:
            raise ValueError(f"unknown request key(s) {sorted(unknown)} "
                             "(known: clear, set, stats, settings)")
        patches = self._check_set(req.get("set", {}))
        if req.get("clear"):
            for d in self.dirs.values():
                d.settings = dict(DEFAULTS)
        for name, patch in patches:
            self.dirs[name].update(patch)
        reply = {"ok": True}
        if req.get("stats"):
            reply["stats"] = self.stats()
        if req.get("settings"):
            reply["settings"] = self.settings()
        return reply

    def _check_set(self, spec):
        if not isinstance(spec, dict):
            raise ValueError(f"set takes an object, not {spec!r}")
        bad = set(spec) - {"both", *DIRECTIONS}
        if bad:
            raise ValueError(f"set: unknown direction(s) {sorted(bad)} "
                             f"(known: both, {', '.join(DIRECTIONS)})")
        patches = []
        if "both" in spec:
            both = check_settings(spec["both"])
            patches += [(name, both) for name in DIRECTIONS]
        patches += [(name, check_settings(spec[name]))
                    for name in DIRECTIONS if name in spec]
        return patches


# ---------------------------------------------------- the relay process ----

def open_tap(name):
    """An fd on tap @name (IFF_TAP | IFF_NO_PI), non-blocking."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(),
                                               IFF_TAP | IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd


def free_udp_port():
    """A UDP port on the loopback that nobody holds now (for QEMU's end;
    the namespace is the test's own, so nobody takes it meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


class RelayProcess:
    """The sockets and the loop around a RelayCore."""

    def __init__(self, tap, control, seed, settings):
        self.tap_fd = open_tap(tap)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            self.udp.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
        self.udp.bind((LOOPBACK, 0))
        self.udp.setblocking(False)
        self.qemu = (LOOPBACK, free_udp_port())
        self.control_path = control
        self.ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.ctl.bind(control)
        self.ctl.listen(8)
        self.ctl.setblocking(False)
        self.core = RelayCore(seed, {"to_guest": self.to_qemu,
                                     "from_guest": self.to_tap}, settings)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.tap_fd, selectors.EVENT_READ, self.read_tap)
        self.sel.register(self.udp, selectors.EVENT_READ, self.read_udp)
        self.sel.register(self.ctl, selectors.EVENT_READ, self.accept)
        self.clients = {}

    def ready_line(self):
        return json.dumps({"ready": True, "pid": os.getpid(),
                           "relay_port": self.udp.getsockname()[1],
                           "qemu_port": self.qemu[1]})

    # ------------------------------------------------------ frames ----

    def to_qemu(self, frame):
        try:
            self.udp.sendto(frame, self.qemu)
            return True
        except OSError:
            return False

    def to_tap(self, frame):
        try:
            return os.write(self.tap_fd, frame) == len(frame)
        except OSError:
            return False

    def read_tap(self):
        for _ in range(READ_BATCH):
            try:
                frame = os.read(self.tap_fd, 65536)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EINTR):
                    return
                raise
            self.core.receive("to_guest", frame, time.monotonic())

    def read_udp(self):
        for _ in range(READ_BATCH):
            try:
                frame, src = self.udp.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return        # an ICMP error from the loopback: not a frame
            if src != self.qemu:
                self.core.strangers += 1
                continue
            self.core.receive("from_guest", frame, time.monotonic())

    # ----------------------------------------------------- control ----

    def accept(self):
        try:
            conn, _ = self.ctl.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(False)
        self.clients[conn] = b""
        self.sel.register(conn, selectors.EVENT_READ, lambda: self.talk(conn))

    def drop_client(self, conn):
        self.sel.unregister(conn)
        del self.clients[conn]
        conn.close()

    def talk(self, conn):
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop_client(conn)
            return
        buf = self.clients[conn] + data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip() and not self.answer(conn, line):
                return
        if len(buf) > CONTROL_LINE_MAX:
            if self.send(conn, {"ok": False, "error": "request line longer "
                                f"than {CONTROL_LINE_MAX} bytes"}):
                self.drop_client(conn)
            return
        self.clients[conn] = buf

    def answer(self, conn, line):
        """Reply to one request line; False if the client went away."""
        try:
            reply = self.core.apply(json.loads(line))
        except Exception as e:  # noqa: BLE001 (no request may end the relay)
            reply = {"ok": False, "error": f"{e}" or type(e).__name__}
        return self.send(conn, reply)

    def send(self, conn, reply):
        """One reply line; False (the client dropped) if it cannot go."""
        try:
            conn.setblocking(True)
            conn.settimeout(2)
            conn.sendall(json.dumps(reply).encode() + b"\n")
            conn.setblocking(False)
            return True
        except OSError:
            self.drop_client(conn)
            return False

    # --------------------------------------------------------- loop ----

    def run(self):
        while True:
            deadline = self.core.next_deadline()
            timeout = None if deadline is None else \
                max(0.0, deadline - time.monotonic())
            for key, _ in self.sel.select(timeout):
                key.data()
            self.core.run_due(time.monotonic())

    def close(self):
        for conn in list(self.clients):
            self.drop_client(conn)
        self.sel.close()
        self.udp.close()
        self.ctl.close()
        os.close(self.tap_fd)
        with contextlib.suppress(OSError):
            os.unlink(self.control_path)


def _terminate(_sig, _frame):
    raise SystemExit(0)


def main(argv=None):
    import argparse
    p = argparse.ArgumentParser(description="a lossy Ethernet relay between "
                                "a QEMU dgram netdev and a tap (see the "
                                "module comment)")
    p.add_argument("--tap", required=True, help="the tap to open (it exists)")
    p.add_argument("--control", required=True, help="UNIX socket path to make")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--settings", default="{}",
                   help='initial settings: {"both"|"to_guest"|"from_guest": {...}}')
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        relay = RelayProcess(args.tap, args.control, args.seed,
                             json.loads(args.settings))
    except (OSError, ValueError) as e:
        print(f"net_relay: cannot start on {args.tap}: {e}", file=sys.stderr)
        return 1
    try:
        print(relay.ready_line(), flush=True)
        relay.run()
    finally:
        relay.close()
    return 0


# --------------------------------------------------------- the test side ----

_dgram_known = None


def qemu_has_dgram():
    """Whether this QEMU has the dgram netdev (7.2 and later)."""
    global _dgram_known
    if _dgram_known is None:
        try:
            out = subprocess.run(["qemu-system-x86_64", "-netdev", "help"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        _dgram_known = "dgram" in out.split()
    return _dgram_known


def netdev_option(nid, qemu_port, relay_port, kind="auto"):
    """The -netdev value for a NIC on the relay: dgram, or the older
    socket backend's UDP mode (the same wire: one frame per datagram)."""
    if kind == "auto":
        kind = "dgram" if qemu_has_dgram() else "socket"
    if kind == "dgram":
        return (f"dgram,id={nid},local.type=inet,local.host={LOOPBACK},"
                f"local.port={qemu_port},remote.type=inet,"
                f"remote.host={LOOPBACK},remote.port={relay_port}")
    if kind == "socket":
        return (f"socket,id={nid},udp={LOOPBACK}:{relay_port},"
                f"localaddr={LOOPBACK}:{qemu_port}")
    raise ValueError(f"netdev must be auto, dgram or socket, not {kind!r}")


class Relay:
    """The relay process for one tap of a rig, and its control channel."""

    def __init__(self, rig, segment=0, tap=0, seed=1, settings=None,
                 netdev="auto"):
        self.rig = rig
        self.seg = rig.segments[segment]
        self.tap_index = tap
        self.tap = self.seg.taps[tap]
        self.seed = seed
        self.initial = settings or {}
        self.netdev = netdev
        self.proc = None
        self.ports = None
        self.control_path = rig.tmp / f"relay-{self.tap}.sock"
        self.err_path = rig.tmp / f"relay-{self.tap}.err"

    def start(self):
        netdev_option("x", 1, 2, self.netdev)   # a bad @netdev fails here
        argv = [sys.executable, str(HERE / "net_relay.py"), "--tap", self.tap,
                "--control", str(self.control_path), "--seed", str(self.seed),
                "--settings", json.dumps(self.initial)]
        with open(self.err_path, "wb") as err:
            self.proc = self.rig.ns.popen(argv, stdout=subprocess.PIPE,
                                          stderr=err)
        try:
            self.ports = self._wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def _wait_ready(self):
        import select
        deadline = time.monotonic() + READY_TIMEOUT * nh.timeout_scale()
        with self.proc.stdout:
            while (left := deadline - time.monotonic()) > 0:
                if select.select([self.proc.stdout], [], [], left)[0]:
                    line = self.proc.stdout.readline()
                    if not line:
                        break          # it exited
                    return json.loads(line)
        self.proc.poll()
        raise RelayError(f"the relay on {self.tap} did not start "
                         f"(exit {self.proc.returncode}): {self.errors()}")

    def errors(self):
        """What the relay process wrote on stderr."""
        try:
            return self.err_path.read_text(errors="replace").strip()
        except OSError:
            return ""

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def qemu_args(self, model="virtio-net-pci", device_opts=""):
        """QEMU options for the guest's NIC on the relay (the MAC the rig
        pins on this tap)."""
        nid = f"relay{self.seg.index}_{self.tap_index}"
        return ["-netdev", netdev_option(nid, self.ports["qemu_port"],
                                         self.ports["relay_port"], self.netdev),
                "-device", f"{model},netdev={nid},mac={self.seg.mac(self.tap_index)}"
                           f"{device_opts}"]

    # ----------------------------------------------------- control ----

    def request(self, req, timeout=5.0):
        """Send one request (a dict, or a raw str line); the reply dict.
        RelayError when the relay refuses it or does not answer."""
        line = req if isinstance(req, str) else json.dumps(req)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(timeout * nh.timeout_scale())
                s.connect(str(self.control_path))
                s.sendall(line.encode() + b"\n")
                buf = b""
                while not buf.endswith(b"\n"):
                    data = s.recv(65536)
                    if not data:
                        break
                    buf += data
        except OSError as e:
            raise RelayError(f"relay on {self.tap}: {e}; {self.errors()}") from e
        try:
            reply = json.loads(buf)
        except ValueError as e:
            raise RelayError(f"relay on {self.tap} answered {buf!r}") from e
        if not reply.get("ok"):
            raise RelayError(f"relay on {self.tap} refused {line}: "
                             f"{reply.get('error')}")
        return reply

    def set(self, *, both=None, to_guest=None, from_guest=None, clear=False):
        """Change settings (dicts as in the module comment); with @clear,
        everything else goes back to off first."""
        spec = {k: v for k, v in (("both", both), ("to_guest", to_guest),
                                  ("from_guest", from_guest)) if v is not None}
        req = {"set": spec}
        if clear:
            req["clear"] = True
        return self.request(req)

    def clear(self):
        return self.request({"clear": True})

    def blackhole(self, on=True, direction="both"):
        """Drop everything (@direction "both", "to_guest" or "from_guest")."""
        return self.request({"set": {direction: {"blackhole": bool(on)}}})

    def settings(self):
        return self.request({"settings": True})["settings"]

    def stats(self):
        return self.request({"stats": True})["stats"]

    def counters(self, direction, kind=None, stats=None):
        """A direction's counters (in total, or of frames of @kind: zeros
        for a kind never seen), from @stats or asked now."""
        d = (stats or self.stats())[direction]
        if kind is None:
            return {k: d[k] for k in (*COUNTERS, "pending")}
        return dict(d["kinds"].get(kind, dict.fromkeys(COUNTERS, 0)))

    @contextlib.contextmanager
    def impaired(self, **spec):
        """set(clear=True, **spec) for the body, everything off after."""
        self.set(clear=True, **spec)
        try:
            yield self
        finally:
            if self.alive:
                self.clear()

    def close(self):
        """Stop the relay process by its PID (idempotent)."""
        if self.proc is not None:
            nr._stop(self.proc)
            if self.proc in self.rig.ns.procs:
                self.rig.ns.procs.remove(self.proc)


def boot_through_relay(boot_vm, rig, relay, cmdline="", extra_args=(), **kw):
    """Boot a VM (conftest's boot_vm) whose NIC is on @relay, QEMU inside
    the rig's namespace (where the relay's loopback ports are)."""
    return boot_vm(cmdline, wrap=rig.wrap,
                   extra_args=[*relay.qemu_args(), *extra_args], **kw)


@contextlib.contextmanager
def guest_behind_relay(iso, name, seed):
    """A module's wire: a new rig, a relay (@seed) on its tap and a guest
    booted from @iso behind it, its lease in place and its address bound.
    Yields (rig, relay, vm); all three are closed afterwards, even when the
    boot or the body fails."""
    rig = nr.NetRig().start()
    relay = vm = None
    try:
        relay = Relay(rig, seed=seed).start()
        vm = nh.NosVM(iso, name=name, wrap=rig.wrap, extra_args=relay.qemu_args())
        vm.start()
        vm.wait_boot()
        assert rig.seg.wait_lease(rig.seg.mac()) == rig.seg.guest_ip(), rig.seg.log()
        nr.wait_bound(vm)
        yield rig, relay, vm
    finally:
        if vm is not None:
            vm.close()
        if relay is not None:
            relay.close()
        rig.close(raise_errors=False)


def take_module_wire(request, rig, relay, vm):
    """For one test of a module sharing guest_behind_relay()'s wire: its
    failure report shows the rig and the guest; a guest or relay a test
    before left unfit fails this one; the relay starts clean."""
    request.node._nos_rigs = [rig]
    request.node._nos_vms = [vm]
    if not vm.healthy or not relay.alive:
        pytest.fail(f"the module's guest or relay is unfit: {relay.errors()}")
    relay.clear()


if TEST_SIDE:
    @pytest.fixture
    def net_relay(net_rig):
        """Factory: net_relay(rig, **Relay options) -> started Relay; each
        is stopped at teardown (before the rig, which this depends on).
        Import it into a test module: `from net_relay import net_relay`."""
        made = []

        def make(rig, **kw):
            relay = Relay(rig, **kw)
            made.append(relay)
            return relay.start()

        yield make
        for relay in reversed(made):
            relay.close()


if __name__ == "__main__":
    sys.exit(main())
