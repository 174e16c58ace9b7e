"""
test_net_relay.py — the lossy-path tools (net_relay.py's relay and the
rig's nftables random_loss()) proved with what the kernel has today, ICMP
and raw frames, so that the TCP and HTTP tests can trust them.

Three layers, cheapest first:

  - The relay's core (no sockets, a fake clock; runs as any user): the same
    seed gives the same frames through, whatever the timing; every frame is
    accounted for (in + duplicated == forwarded + dropped + errors +
    pending); a corrupted IPv4 frame differs in exactly one byte that its
    checksums catch, ARP is never corrupted; reordering releases a held
    frame after the next one, or at its hold limit; the blackhole and the
    `kinds` filter; bad requests refused, changing nothing.
  - The relay process in a rig, without a guest (root): 400 frames each way
    between a stand-in for QEMU on the namespace's loopback and the tap, and
    exactly the frames a core with the same seed lets through come out; a
    datagram from a stranger is ignored and counted; bad control lines get
    an error and the relay carries on; close() leaves no process or socket.
  - A guest booted through the relay (root; one guest for the module): its
    DHCP lease from the rig's dnsmasq; Linux `ping -c 100 -i 0.05` with no
    impairment answered in full; 30 % drop toward the guest loses the
    requests the relay dropped (ping may also stop waiting for a last
    reply: LATE_SLACK), and the guest answered every one that reached it;
    duplication shows as DUP! replies, one per copy; corruption is counted
    by the guest's checksum errors, one per corrupted frame, and never
    answered; reordering shows as replies out of order and a 10 ms delay
    each way as RTTs never under 20 ms; the blackhole silences the guest
    both ways and lifting it brings it back; the guest's own `ping` loses
    exactly the requests a core with the same seed says it drops; an
    nftables 20 % loss each way drops frames (counters above 0, the loss
    within what they dropped) and, removed, leaves no rule and no loss.  A
    second boot shows the older `-netdev socket` backend carries the guest
    as well.

Counts only: no assertion on how long anything took, except that a delayed
frame is never early.  Without root the rig tests skip with "needs root"
(a failure under NOS_REQUIRE_ROOT_TESTS=1).
"""

import json
import re
import socket
import struct
import time

import pytest

import net_relay as rl
import net_rig as nr
import net_rig_wire as nrw
import nos_harness as nh
from net_relay import net_relay  # noqa: F401  (the fixture)

GUEST_MAC = bytes.fromhex("52540000aa01")
PEER_MAC = bytes.fromhex("02000000bb02")
ETH_P_TEST = b"\x88\xb5"       # IEEE local experimental EtherType
PING_COUNT = 100
PING_INTERVAL = 0.05
LATE_SLACK = 2             # replies a lossy ping may stop waiting for (see ping())


# ------------------------------------------------------------ frames ----

def icmp_frame(seq, data=56, src="192.168.9.1", dst="192.168.9.2"):
    """An Ethernet frame with a valid ICMP echo request (padded to 60)."""
    body = struct.pack(">BBHHH", 8, 0, 0, 0x4e4f, seq) + bytes(range(data % 256))[:data]
    icmp = body[:2] + struct.pack(">H", nrw.checksum(body)) + body[4:]
    frame = PEER_MAC + GUEST_MAC + b"\x08\x00" + nrw.ipv4_packet(src, dst, 1, icmp)
    return frame + bytes(max(0, 60 - len(frame)))


def arp_frame(seq):
    arp = struct.pack(">HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, PEER_MAC,
                      bytes([10, 0, seq >> 8 & 255, seq & 255]), bytes(6),
                      bytes([10, 0, 0, 1]))
    return b"\xff" * 6 + PEER_MAC + b"\x08\x06" + arp + bytes(18)


def plain_frame(seq, src=PEER_MAC, dst=GUEST_MAC):
    return dst + src + ETH_P_TEST + struct.pack(">I", seq) + bytes(46)


def seq_of(frame):
    return struct.unpack(">I", frame[14:18])[0]


def seq_of_icmp(frame):
    return struct.unpack(">H", frame[14 + 20 + 6:14 + 20 + 8])[0]


def ip_packet_ok(frame):
    """Both checksums of an ICMP-in-IPv4 frame hold."""
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[0] >> 4 != 4 or ihl < 20 or nrw.checksum(ip[:ihl]) != 0:
        return False
    total = struct.unpack(">H", ip[2:4])[0]
    return total <= len(ip) and nrw.checksum(ip[ihl:total]) == 0


class Wire:
    """The far ends of a RelayCore: what each direction wrote."""

    def __init__(self, seed, settings):
        self.out = {d: [] for d in rl.DIRECTIONS}
        self.core = rl.RelayCore(seed, {d: self._writer(d) for d in rl.DIRECTIONS},
                                 settings)

    def _writer(self, d):
        def write(frame):
            self.out[d].append(frame)
            return True
        return write

    def feed(self, frames, step=0.001, start=0.0):
        """Frames in, alternating directions, @step s apart; then time runs
        out for everything held or delayed."""
        t = start
        for i, frame in enumerate(frames):
            self.core.receive(rl.DIRECTIONS[i % 2], frame, t)
            self.core.run_due(t)
            t += step
        self.mid = self.core.stats()
        self.core.run_due(t + 100)
        return self.core.stats()


def balanced(d):
    """The accounting identity of one direction's counters."""
    return d["in"] + d["duplicated"] == \
        d["forwarded"] + d["dropped"] + d["errors"] + d["pending"]


# ------------------------------------------------- the core, no root ----

MIXED = {"both": {"drop": 0.2, "duplicate": 0.1, "corrupt": 0.1, "reorder": 0.1,
                  "reorder_gap": 2, "delay_ms": 5, "jitter_ms": 5}}


def test_core_same_seed_same_frames_whatever_the_timing():
    frames = [icmp_frame(i) if i % 3 else arp_frame(i) for i in range(2000)]
    a, b, c = Wire(7, MIXED), Wire(7, MIXED), Wire(8, MIXED)
    sa, sb, sc = a.feed(frames), b.feed(frames, step=0.00003), c.feed(frames)
    for d in rl.DIRECTIONS:
        # Which frames got through, doubled or corrupted where, is the
        # seed's; only the order (held and delayed frames) is the clock's.
        assert sorted(a.out[d]) == sorted(b.out[d]), d
        assert sorted(a.out[d]) != sorted(c.out[d]), d
        for k in ("dropped", "duplicated", "corrupted", "reordered"):
            assert sa[d][k] == sb[d][k], (d, k)
        assert sa[d]["in"] == 1000 and sa[d]["pending"] == 0, sa[d]
        assert 120 <= sa[d]["dropped"] <= 280, sa[d]        # 20 % of 1000
        assert all(sa[d][k] > 0 for k in
                   ("duplicated", "corrupted", "reordered", "delayed")), sa[d]
        assert sa[d]["forwarded"] == len(a.out[d])
        for s in (sa, sb, sc, a.mid):
            assert balanced(s[d]), s[d]
        assert sum(k["in"] for k in sa[d]["kinds"].values()) == 1000
    assert sum(a.mid[d]["pending"] for d in rl.DIRECTIONS) > 0, \
        "nothing was in flight at the last frame"


def test_core_corrupts_one_byte_that_a_checksum_catches():
    w = Wire(3, {"both": {"corrupt": 1.0}})
    short = [icmp_frame(i, data=4) for i in range(200)]     # padded frames
    frames = [f for i in range(200) for f in (icmp_frame(i), short[i], arp_frame(i))]
    stats = w.feed(frames)
    sent = {d: frames[i::2] for i, d in enumerate(rl.DIRECTIONS)}
    for d in rl.DIRECTIONS:
        assert len(w.out[d]) == len(sent[d])
        for before, after in zip(sent[d], w.out[d]):
            diff = [i for i in range(len(before)) if before[i] != after[i]]
            if before[12:14] == b"\x08\x06":
                assert diff == [], "ARP has no checksum: never corrupted"
                continue
            total = struct.unpack(">H", before[16:18])[0]
            assert len(diff) == 1 and 14 <= diff[0] < 14 + total, diff
            assert ip_packet_ok(before) and not ip_packet_ok(after)
        icmp = stats[d]["kinds"]["icmp"]
        assert icmp["corrupted"] == icmp["in"] == 200
        assert stats[d]["kinds"]["arp"]["corrupted"] == 0


def test_core_reorders_after_the_next_frame_or_at_the_hold_limit():
    w = Wire(5, {"to_guest": {"reorder": 0.3, "reorder_gap": 1}})
    seqs = list(range(400))
    core = w.core
    for i in seqs:
        core.receive("to_guest", plain_frame(i), i * 0.001)
        core.run_due(i * 0.001)
    core.run_due(1000)
    out = [seq_of(f) for f in w.out["to_guest"]]
    held = core.stats()["to_guest"]["reordered"]
    assert sorted(out) == seqs and out != seqs and 60 <= held <= 180, held
    # A held frame goes on right after the next frame that was not held.
    late = [s for i, s in enumerate(out) if i and s < out[i - 1]]
    assert late and all(out[out.index(s) - 1] > s for s in late)

    # The last frame has no successor: the hold limit lets it go.
    lone = Wire(1, {"to_guest": {"reorder": 1.0, "reorder_ms": 100}})
    lone.core.receive("to_guest", plain_frame(1), 10.0)
    lone.core.run_due(10.099)
    assert lone.out["to_guest"] == [] and lone.core.stats()["to_guest"]["pending"] == 1
    assert lone.core.next_deadline() == pytest.approx(10.1)
    lone.core.run_due(10.1)
    assert [seq_of(f) for f in lone.out["to_guest"]] == [1]


def test_core_delay_is_never_early_and_keeps_order_without_jitter():
    w = Wire(2, {"from_guest": {"delay_ms": 20}})
    times = []
    w.core.dirs["from_guest"].out = lambda f: times.append((seq_of(f), now)) or True
    for i in range(50):
        now = i * 0.005
        w.core.receive("from_guest", plain_frame(i), now)
        w.core.run_due(now)
    for k in range(200):
        now = 0.25 + k * 0.001
        w.core.run_due(now)
    assert [s for s, _ in times] == list(range(50))
    assert all(t >= s * 0.005 + 0.020 - 1e-9 for s, t in times)
    assert w.core.stats()["from_guest"]["delayed"] == 50


def test_core_blackhole_kinds_and_bad_requests():
    w = Wire(4, {"both": {"drop": 1.0, "kinds": ["icmp"]}})
    w.feed([icmp_frame(1), icmp_frame(1), arp_frame(2), arp_frame(2)])
    assert [rl.frame_kind(f) for f in w.out["to_guest"]] == ["arp"]
    assert [rl.frame_kind(f) for f in w.out["from_guest"]] == ["arp"]
    w.core.apply({"set": {"to_guest": {"blackhole": True}}})
    for frame in (arp_frame(3), icmp_frame(3)):     # whatever the kind
        w.core.receive("to_guest", frame, 0)
    s = w.core.stats()["to_guest"]
    assert s["blackholed"] == 2 and s["kinds"]["arp"]["blackholed"] == 1
    assert len(w.out["to_guest"]) == 1 and balanced(s)

    before = w.core.settings()
    bad = [[], {}, {"nope": 1}, {"set": []}, {"set": {"sideways": {}}},
           {"set": {"both": {"drop": 1.5}}}, {"set": {"both": {"drop": True}}},
           {"set": {"both": {"drop": "0.1"}}}, {"set": {"both": {"reorder_gap": 0}}},
           {"set": {"both": {"delay_ms": -1}}}, {"set": {"both": {"jitter_ms": 1e9}}},
           {"set": {"both": {"kinds": ["icmp", "smtp"]}}},
           {"set": {"both": {"kinds": []}}}, {"set": {"both": {"blackhole": 1}}},
           {"set": {"both": {"seed": 1.5}}}, {"set": {"both": {"colour": "red"}}},
           # the good half of a request must not be applied either
           {"set": {"to_guest": {"drop": 0.5}, "from_guest": {"drop": 9}}}]
    for req in bad:
        with pytest.raises(ValueError):
            w.core.apply(req)
    assert w.core.settings() == before
    reply = w.core.apply({"clear": True, "settings": True, "stats": True})
    assert reply["ok"] and reply["settings"]["to_guest"] == rl.DEFAULTS
    assert reply["stats"]["to_guest"]["in"] == 4


# ---------------------------------------- the relay process, no guest ----

def drain(sock, want, settle=1.0):
    """Datagrams/frames from @sock until none came for @settle s."""
    got = []
    sock.settimeout(settle * nh.timeout_scale())
    while True:
        try:
            data, addr = sock.recvfrom(65536)
        except socket.timeout:
            return got
        if want(data, addr):
            got.append(data)


def test_relay_process_lets_through_what_its_seed_says(net_rig, net_relay):
    rig = net_rig()
    settings = {"both": {"drop": 0.25, "duplicate": 0.1}}
    relay = net_relay(rig, seed=11, settings=settings)
    ports = relay.ports
    tap = rig.seg.taps[0]
    qemu = rig.socket()
    qemu.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    qemu.bind(("127.0.0.1", ports["qemu_port"]))
    cap = rig.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    cap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    cap.bind((tap, 0))
    wire = rig.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    wire.bind((tap, 0))

    n = 400
    for i in range(n):
        qemu.sendto(plain_frame(i, GUEST_MAC, PEER_MAC),
                    ("127.0.0.1", ports["relay_port"]))
        wire.send(plain_frame(10000 + i))
        if i % 25 == 24:
            time.sleep(0.005)   # the tap's queue holds 1000; stay well under
    from_guest = drain(cap, lambda d, a: a[2] != socket.PACKET_OUTGOING
                       and d[12:14] == ETH_P_TEST)
    to_guest = drain(qemu, lambda d, a: True)

    # The same seed in a core of our own, fed the same frames in order.
    model = Wire(11, settings)
    for i in range(n):
        model.core.receive("from_guest", plain_frame(i, GUEST_MAC, PEER_MAC), 0)
        model.core.receive("to_guest", plain_frame(10000 + i), 0)
    assert [seq_of(f) for f in from_guest] == [seq_of(f) for f in model.out["from_guest"]]
    assert [seq_of(f) for f in to_guest] == [seq_of(f) for f in model.out["to_guest"]]
    stats = relay.stats()
    for d in rl.DIRECTIONS:
        s = stats[d]
        assert s["in"] == n and balanced(s) and s["pending"] == 0, s
        assert s["dropped"] > 0 and s["duplicated"] > 0, s
    assert stats["from_guest"]["forwarded"] == len(from_guest)
    assert stats["to_guest"]["forwarded"] == len(to_guest)

    # A datagram from anyone but QEMU's port is not a frame.
    stranger = rig.socket()
    stranger.sendto(plain_frame(1), ("127.0.0.1", ports["relay_port"]))
    time.sleep(0.2)
    assert relay.stats()["strangers"] == 1
    assert relay.stats()["from_guest"]["in"] == n

    # Bad lines are refused with a reason; the relay carries on.
    for line, why in (("{", "Expecting"), ("[1]", "non-empty JSON object"),
                      ('{"set": {"both": {"drop": 7}}}', "drop must be"),
                      ('{"zap": 1}', "unknown request key")):
        with pytest.raises(rl.RelayError, match=why):
            relay.request(line)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:   # two in one
        s.connect(str(relay.control_path))
        s.sendall(b'{"stats": true}\n{"settings": true}\n')
        s.settimeout(5)
        buf = b""
        while buf.count(b"\n") < 2:
            buf += s.recv(65536)
    first, second = map(json.loads, buf.splitlines())
    assert "stats" in first and "settings" in second
    assert relay.settings()["to_guest"]["drop"] == 0.25
    assert relay.alive, relay.errors()

    relay.close()
    assert not relay.alive and not relay.control_path.exists()
    assert relay.proc not in rig.ns.procs


def test_relay_reports_why_it_cannot_start(net_rig):
    rig = net_rig()
    relay = rl.Relay(rig)
    relay.tap = rig.seg.bridge            # a device, but not a tap
    with pytest.raises(rl.RelayError, match=f"cannot start on {rig.seg.bridge}"):
        relay.start()
    with pytest.raises(rl.RelayError, match="drop must be"):
        rl.Relay(rig, settings={"both": {"drop": -1}}).start()
    with pytest.raises(ValueError, match="netdev must be"):
        rl.Relay(rig, netdev="vde").start()
    assert not [p for p in rig.ns.procs if "net_relay.py" in " ".join(p.args)
                and p.poll() is None]


# ------------------------------------------------------- with a guest ----

@pytest.fixture(scope="module")
def _relay_guest(request):
    """The module's rig, relay and guest (its lease in place)."""
    nr.require_rig()                 # before the build is even looked at
    iso = request.getfixturevalue("iso_cache").get("")
    with rl.guest_behind_relay(iso, "net_relay_guest", 1) as wire:
        yield wire


@pytest.fixture
def relay_guest(request, _relay_guest):
    rig, relay, vm = _relay_guest
    rl.take_module_wire(request, rig, relay, vm)
    yield rig, relay, vm
    if relay.alive:
        relay.clear()
    if rig._losing:
        rig.random_loss(0, 0)


def ping(rig, count=PING_COUNT, interval=PING_INTERVAL, lossy=False):
    """Linux ping of the guest, exactly @count requests.

    Without loss, a generous deadline (-w): ping ends when the last reply is
    in, and a slow one is not taken for lost.  With loss it cannot have one:
    under -w iputils sends until it has @count replies, so it would send
    more.  Then it waits max(2 RTT, interval) after the last request, so
    the reply to the very last one or two may come too late to count:
    LATE_SLACK in the assertions below."""
    if not lossy:
        deadline = int((count * interval * 3 + 8) * nh.timeout_scale())
        return rig.ping(rig.seg.guest_ip(), count=count, interval=interval,
                        deadline=deadline)
    argv = ["ping", "-n", "-c", str(count), "-i", str(interval), "-W", "2",
            rig.seg.guest_ip()]
    out = rig.exec(argv, timeout=count * interval * 3 + 20, check=False).stdout
    return nr.PingResult.parse(out)


def settled(relay, direction, before, want, kind="icmp", timeout=5):
    """Frames of @kind forwarded in @direction since @before, once it
    reached @want or stopped moving for a second."""
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    last, since = None, time.monotonic()
    while True:
        n = relay.counters(direction, kind)["forwarded"] - before["forwarded"]
        if n >= want or time.monotonic() > deadline or \
                (n == last and time.monotonic() - since > 1):
            return n
        if n != last:
            last, since = n, time.monotonic()
        time.sleep(0.05)


def duplicates(r):
    m = re.search(r"\+(\d+) duplicates", r.output)
    return int(m[1]) if m else 0


def delta(after, before):
    return {k: after[k] - before[k] for k in rl.COUNTERS}


def guest_ping(vm, ip, count, interval_ms=0):
    """The guest's `ping`: (sent, received) and its output.  Each lost
    request costs the guest's 4 s wait."""
    out = vm.run(f"ping {ip} {count} {interval_ms}",
                 timeout=(count * 5 + 10) * nh.timeout_scale())
    m = re.search(r"^(\d+) sent, (\d+) received, (\d+)% loss", out, re.M)
    assert m, out
    return (int(m[1]), int(m[2])), out


def guest_counters(vm):
    """eth0's IPv4 and ICMP rx errors, icmpstat's malformed count and the
    netbufs in use, from `net` and `icmpstat`."""
    net = vm.run("net")
    rows = dict(re.findall(r"^  (\w+ rx)\s+\d+\s+\d+\s+\d+\s+(\d+)$", net, re.M))
    icmp = vm.run("icmpstat")
    malformed = re.search(r"^(\d+) malformed received", icmp, re.M)
    pool = re.search(r"^netbufs: (\d+) in use", net, re.M)
    assert "ipv4 rx" in rows and malformed and pool, net + icmp
    return {"ipv4": int(rows["ipv4 rx"]), "icmp": int(rows["icmp rx"]),
            "malformed": int(malformed[1]), "netbufs": int(pool[1])}


def test_guest_leases_and_answers_through_the_relay(relay_guest):
    rig, relay, vm = relay_guest
    seg = rig.seg
    # The lease went through the relay: the guest's DHCP, dnsmasq's answer.
    assert relay.counters("from_guest", "udp")["forwarded"] >= 2    # DISCOVER, REQUEST
    assert relay.counters("to_guest", "udp")["forwarded"] >= 2      # OFFER, ACK
    assert [e.kind for e in seg.dhcp_events(seg.mac())][:4] == \
        ["DISCOVER", "OFFER", "REQUEST", "ACK"]
    before = relay.counters("to_guest", "icmp")
    r = ping(rig)
    assert (r.sent, r.received, duplicates(r)) == (PING_COUNT, PING_COUNT, 0), \
        r.output[-600:]
    moved = delta(relay.counters("to_guest", "icmp"), before)
    assert moved["in"] == moved["forwarded"] == PING_COUNT, moved


def test_drop_toward_the_guest_is_the_ping_loss(relay_guest):
    rig, relay, vm = relay_guest
    before = relay.counters("to_guest", "icmp")
    back = relay.counters("from_guest", "icmp")
    with relay.impaired(to_guest={"drop": 0.3, "kinds": ["icmp"], "seed": 30}):
        r = ping(rig, lossy=True)
    moved = delta(relay.counters("to_guest", "icmp"), before)
    lost = r.sent - r.received
    assert r.sent == PING_COUNT and moved["in"] == PING_COUNT, (r.output[-300:], moved)
    assert 10 <= lost <= 50, r.output[-300:]
    # Every request the relay dropped is a ping lost, and nothing else is
    # (but a last reply ping stopped waiting for).
    assert moved["dropped"] <= lost <= moved["dropped"] + LATE_SLACK, \
        (moved, r.output[-300:])
    # The guest answered every request that reached it, exactly.
    assert settled(relay, "from_guest", back, moved["forwarded"]) == moved["forwarded"]


def test_duplicates_come_back_as_dup_replies(relay_guest):
    rig, relay, vm = relay_guest
    before = relay.counters("to_guest", "icmp")
    back = relay.counters("from_guest", "icmp")
    with relay.impaired(to_guest={"duplicate": 0.3, "kinds": ["icmp"]}):
        r = ping(rig)
        moved = delta(relay.counters("to_guest", "icmp"), before)
        # The guest answered every copy ...
        assert settled(relay, "from_guest", back, moved["forwarded"]) == \
            moved["forwarded"] == PING_COUNT + moved["duplicated"], moved
    assert (r.sent, r.received) == (PING_COUNT, PING_COUNT), r.output[-300:]
    # ... and ping saw each as a DUP!, but for the copy of the last one,
    # which may come after ping had its 100 replies and ended.
    assert "DUP!" in r.output and moved["duplicated"] > 10, r.output[-300:]
    assert moved["duplicated"] - 1 <= duplicates(r) <= moved["duplicated"], \
        (moved, r.output[-300:])


def test_corruption_is_caught_by_the_guests_checksums(relay_guest):
    rig, relay, vm = relay_guest
    idle = guest_counters(vm)
    before = relay.counters("to_guest", "icmp")
    with relay.impaired(to_guest={"corrupt": 0.3, "kinds": ["icmp"]}):
        r = ping(rig, lossy=True)
    moved = delta(relay.counters("to_guest", "icmp"), before)
    after = guest_counters(vm)
    caught = sum(after[k] - idle[k] for k in ("ipv4", "icmp"))
    assert moved["corrupted"] > 10, moved
    # Each corrupted request failed a checksum in the guest (the IPv4
    # header's or the ICMP message's), was counted once and not answered.
    assert caught == moved["corrupted"], (idle, after, moved)
    assert after["malformed"] - idle["malformed"] == after["icmp"] - idle["icmp"]
    lost = r.sent - r.received
    assert moved["corrupted"] <= lost <= moved["corrupted"] + LATE_SLACK, r.output[-300:]
    assert after["netbufs"] == idle["netbufs"]
    assert vm.healthy and vm.run("version")


def test_reordering_and_delay_toward_the_guest(relay_guest):
    rig, relay, vm = relay_guest
    before = relay.counters("to_guest", "icmp")
    back = relay.counters("from_guest", "icmp")
    # Hold a request until the next one went on (the limit is ten times
    # the ping interval, so it is the next request that releases it; only
    # a last request held waits out the limit).  Exactly 40 requests: under
    # -w, ping would send a 41st while waiting for a held 40th.
    with relay.impaired(to_guest={"reorder": 0.3, "reorder_ms": 500,
                                  "kinds": ["icmp"]}):
        r = ping(rig, count=40, lossy=True)
        answered = settled(relay, "from_guest", back, 40)
    moved = delta(relay.counters("to_guest", "icmp"), before)
    assert (moved["in"], moved["forwarded"], answered) == (40, 40, 40), moved
    assert moved["reordered"] > 3, moved
    seqs = [int(s) for s in re.findall(r"icmp_seq=(\d+)", r.output)]
    assert r.sent == 40 and r.received >= 40 - LATE_SLACK, r.output
    assert len(set(seqs)) == len(seqs) == r.received and seqs != sorted(seqs), seqs
    with relay.impaired(both={"delay_ms": 10, "kinds": ["icmp"]}):
        r = ping(rig, count=20)
    assert r.received == 20 and min(r.rtts) >= 20.0, r.output
    assert relay.counters("from_guest", "icmp")["delayed"] >= 20


def test_blackhole_silences_the_guest_until_lifted(relay_guest):
    rig, relay, vm = relay_guest
    seg = rig.seg
    relay.blackhole(True)
    try:
        r = ping(rig, count=10, lossy=True)
        assert r.received == 0, r.output
        (sent, received), out = guest_ping(vm, seg.gateway, 1)
        assert (sent, received) == (1, 0) and "no reply" in out, out
        assert vm.run("version"), "the shell did not answer"
        s = relay.stats()
        assert s["to_guest"]["blackholed"] >= 10 and s["from_guest"]["blackholed"] >= 1
    finally:
        relay.blackhole(False)
    rig.exec(["ip", "neigh", "flush", "all"])   # an entry the silence failed
    r = ping(rig, count=10)
    assert r.received == 10, r.output
    (sent, received), out = guest_ping(vm, seg.gateway, 3)
    assert (sent, received) == (3, 3), out


def test_guest_ping_loses_what_the_relay_drops_from_it(relay_guest):
    rig, relay, vm = relay_guest
    lossy = {"drop": 0.3, "kinds": ["icmp"], "seed": 10}
    # Only the guest's echo requests are subject to it, so which of them
    # are lost is the seed's: a core of our own says which.
    model = Wire(0, {"from_guest": lossy})
    for seq in range(1, 9):
        model.core.receive("from_guest", icmp_frame(seq), 0)
    kept = {seq_of_icmp(f) for f in model.out["from_guest"]}
    doomed = sorted(set(range(1, 9)) - kept)
    assert 0 < len(doomed) < 8, doomed
    before = relay.counters("from_guest", "icmp")
    with relay.impaired(from_guest=lossy):
        (sent, received), out = guest_ping(vm, rig.seg.gateway, 8)
    moved = delta(relay.counters("from_guest", "icmp"), before)
    # The guest waits 4 s for each reply: no late ones here.
    assert (sent, received, moved["in"], moved["dropped"]) == \
        (8, 8 - len(doomed), 8, len(doomed)), (moved, out)
    timed_out = [int(s) for s in re.findall(r"seq=(\d+) \(timed out\)", out)]
    assert timed_out == doomed, out
    assert vm.run("version")


def test_nft_random_loss_each_way_and_gone_after(relay_guest):
    rig, relay, vm = relay_guest
    with rig.losing(20, 20):
        ruleset = rig.exec(["nft", "list", "ruleset"]).stdout
        assert "numgen random mod 100 < 20" in ruleset, ruleset
        r = ping(rig, lossy=True)
        c = rig.loss_counters()
    lost = r.sent - r.received
    assert r.sent == PING_COUNT and lost > 0, r.output[-300:]
    assert c["to"]["dropped"] > 0 and c["from"]["dropped"] > 0, c
    assert c["to"]["seen"] >= PING_COUNT and c["from"]["seen"] >= r.received, c
    # A lost ping is a request or a reply nftables dropped (ARP may have
    # been dropped too, so the rules may have dropped more than was lost).
    assert lost <= c["to"]["dropped"] + c["from"]["dropped"], (c, lost)
    assert rig.exec(["nft", "list", "ruleset"]).stdout.strip() == ""
    with pytest.raises(nr.RigError, match="no random_loss"):
        rig.loss_counters()
    with pytest.raises(ValueError):
        rig.random_loss(101)
    rig.exec(["ip", "neigh", "flush", "all"])
    r = ping(rig, count=20)
    assert r.received == 20, r.output


def test_the_socket_netdev_carries_the_guest_too(net_rig, net_relay, boot_vm):
    rig = net_rig()
    relay = net_relay(rig, netdev="socket")
    assert relay.qemu_args()[1].startswith("socket,id=relay0_0,udp=127.0.0.1:")
    vm = rl.boot_through_relay(boot_vm, rig, relay)
    assert rig.seg.wait_lease(rig.seg.mac()) == rig.seg.guest_ip()
    nr.wait_bound(vm)
    r = ping(rig, count=10)
    assert r.received == 10, r.output
    assert relay.counters("to_guest", "icmp")["forwarded"] == 10
