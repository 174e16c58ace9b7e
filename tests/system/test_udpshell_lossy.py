"""
test_udpshell_lossy.py — the UDP shell (docs/udpshell.md) over a bad wire:
frames dropped, doubled, held back and corrupted by the relay
(net_relay.py) both ways, or dropped at random by nftables; and a TCP
upload through a relay that corrupts.

test_udpshell.py's LossyProxy sits on the host's loopback and only drops
and doubles whole datagrams; here the damage is done to Ethernet frames
between the guest's NIC and the rig's bridge, so the guest's own IPv4 and
UDP input must catch a flipped byte (the relay XORs one byte inside the
IPv4 packet), and the Linux peer's must catch those of the replies.

One rig, one relay and one guest for the module (`udpshell=9000`, its
lease from the rig's dnsmasq); the client is scripts/udpsh.py's Client on a
socket made inside the rig's namespace (rig.socket()), talking to the
guest's address.  The referee is the serial console.

  relay      ROUNDS x `append /ram/count <i>` and whole replies of `help
             <name>` (compared with the serial console's) under 5 % drop,
             5 % duplication, 5 % reordering and 5 % corruption of UDP
             frames each way: every append ran exactly once (`cat` on the
             serial console), every reply is whole; the relay corrupted
             frames both ways, and the guest dropped at least as many as
             reached it (its `net`: IPv4 bad headers + UDP rx errors), the
             namespace's Linux counted the others (IP InHdrErrors + UDP
             InCsumErrors); the client retransmitted
  nft        the same appends with the relay clean and nftables dropping
             10 % each way on the tap
  dead wire  the relay blackholes everything: the client says NoAnswer
             after its timeout, with what came; the wire back, the session
             answers again
  tcp        `nc -n 1 MiB` to a Linux sink under 3 % corruption and 1 %
             drop of TCP frames each way (test_tcp_lossy.py has no
             corruption): the sink got the 1 MiB pattern, nc's echo crc32
             is right, and the guest's tcpstat counted bad checksums

Without root everything skips with "needs root" (a failure under
NOS_REQUIRE_ROOT_TESTS=1).  Figures (appends, retransmissions, frames
corrupted and dropped) are printed for `pytest -s`.
"""

import re
import socket
import sys
import zlib

import pytest

import net_relay as rl
import net_rig as nr
import nos_harness as nh
from test_udpshell import norm

sys.path.insert(0, str(nh.REPO / "scripts"))
import udpsh  # noqa: E402

SEED = 16
PORT = 9000
ROUNDS = 60
HELP_NAMES = ["ls", "cat", "write", "append", "mv", "cp", "wget", "nc", "udpshell", "ping"]
BAD = {"drop": 0.05, "duplicate": 0.05, "reorder": 0.05, "corrupt": 0.05, "kinds": ["udp"]}
TCP_BAD = {"drop": 0.01, "corrupt": 0.03, "kinds": ["tcp"]}
NC_BYTES = 1 << 20
NC_RE = re.compile(r"^received (\d+) bytes, crc32 ([0-9a-f]{8}), in \d+ ms", re.M)
IP_BAD_RE = re.compile(r"^ipv4 in: \d+ delivered, (\d+) bad headers", re.M)
UDP_RX_RE = re.compile(r"^\s*udp rx\s+\d+\s+\d+\s+\d+\s+(\d+)$", re.M)
TCP_CSUM_RE = re.compile(r"bad checksum (\d+)")


@pytest.fixture(scope="module")
def wire(request):
    """(rig, relay, vm) for the module: the guest's NIC on the relay."""
    nr.require_rig()
    iso = request.getfixturevalue("iso_cache").get(f"udpshell={PORT}")
    with rl.guest_behind_relay(iso, "udpshell_lossy", SEED) as (rig, relay, vm):
        vm.run("mkdir /ram")
        assert vm.run("mount ramfs /ram") == "mounted ramfs on /ram"
        yield rig, relay, vm


@pytest.fixture
def bad(request, wire):
    rig, relay, vm = wire
    rl.take_module_wire(request, rig, relay, vm)
    yield rig, relay, vm
    if relay.alive:
        relay.clear()
    if vm.healthy:
        assert vm.run("version").startswith("nos "), "the serial shell answers"


def client(rig, **kw):
    """A udpsh Client whose socket lives in the rig's namespace."""
    kw.setdefault("timeout", 20 * nh.timeout_scale())
    c = udpsh.Client(rig.seg.guest_ip(), PORT, **kw)
    c.sock.close()
    c.sock = rig.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.sock.connect(c.addr)
    return c


def guest_drops(vm):
    """IPv4 bad headers + UDP receive errors (checksums) from `net`."""
    out = vm.run("net")
    ip, udp = IP_BAD_RE.search(out), UDP_RX_RE.search(out)
    assert ip and udp, out
    return int(ip[1]) + int(udp[1])


def linux_drops(rig):
    """The namespace's IP InHdrErrors + UDP InCsumErrors (/proc/net/snmp)."""
    rows = {}
    for line in rig.exec(["cat", "/proc/net/snmp"]).stdout.splitlines():
        key, _, rest = line.partition(": ")
        rows.setdefault(key, []).append(rest.split())
    ip = dict(zip(*rows["Ip"]))
    udp = dict(zip(*rows["Udp"]))
    return int(ip["InHdrErrors"]) + int(udp["InCsumErrors"])


def appends_run_once(vm, c, name, rounds):
    """@rounds appends through @c; the file then holds each number once."""
    vm.run(f"write /ram/{name} start")
    for i in range(rounds):
        assert c.run(f"append /ram/{name} .{i}") == b"", i
    want = "start" + "".join(f".{i}" for i in range(rounds))
    assert vm.run(f"cat /ram/{name}") == want, "an append ran twice, or not at all"


def test_commands_run_once_through_drop_dup_reorder_corrupt(bad):
    rig, relay, vm = bad
    want = {n: norm(vm.run(f"help {n}")) for n in HELP_NAMES}
    g0, l0 = guest_drops(vm), linux_drops(rig)
    with relay.impaired(both={**BAD, "seed": SEED + 1}), client(rig) as c:
        appends_run_once(vm, c, "count", ROUNDS)
        for n in HELP_NAMES:
            assert norm(c.run(f"help {n}").decode()) == want[n], n
        stats = relay.stats()
    got = {d: relay.counters(d, "udp", stats) for d in rl.DIRECTIONS}
    g, linux = guest_drops(vm) - g0, linux_drops(rig) - l0
    print(f"\nudpsh over the relay: {ROUNDS} appends + {len(HELP_NAMES)} helps; relay udp "
          + "; ".join(f"{d}: {k['in']} in, {k['dropped']} dropped, {k['duplicated']} doubled, "
                      f"{k['reordered']} held back, {k['corrupted']} corrupted"
                      for d, k in got.items())
          + f"; guest dropped {g} bad, Linux {linux}; client {c.describe_stats()}")
    for d in rl.DIRECTIONS:
        assert got[d]["corrupted"] > 0 and got[d]["dropped"] > 0, got
    # Each corrupted frame reaches its receiver once, or twice when it was
    # also doubled; every one of them must be dropped there, none taken.
    assert got["to_guest"]["corrupted"] <= g <= 2 * got["to_guest"]["corrupted"], (g, got)
    assert got["from_guest"]["corrupted"] <= linux <= 2 * got["from_guest"]["corrupted"], \
        (linux, got)
    assert c.stats["retransmitted"] > 0, c.describe_stats()


def test_commands_run_once_through_nft_random_drop(bad):
    rig, relay, vm = bad
    with rig.losing(10, 10), client(rig) as c:
        appends_run_once(vm, c, "nft", ROUNDS // 2)
        lost = rig.loss_counters()
    print(f"\nudpsh through nft 10 % each way: {ROUNDS // 2} appends; nft {lost}; "
          f"client {c.describe_stats()}")
    assert lost["to"]["dropped"] > 0 and lost["from"]["dropped"] > 0, lost
    assert c.stats["retransmitted"] > 0, c.describe_stats()


def test_a_dead_wire_is_reported_and_the_session_recovers(bad):
    rig, relay, vm = bad
    with client(rig, timeout=3 * nh.timeout_scale()) as c:
        assert c.run("version").decode().startswith("nos ")
        relay.blackhole(True)
        try:
            with pytest.raises(udpsh.NoAnswer) as e:
                c.run("append /ram/dead x")
        finally:
            relay.blackhole(False)
        assert "no" in str(e.value).lower(), str(e.value)
        assert c.run("version").decode().startswith("nos ")
    assert vm.run("cat /ram/dead") in ("cat: /ram/dead: ENOENT (no such file or directory)",
                                       "x"), "at most once"


def pattern(n):
    unit = bytes(range(ord("a"), ord("a") + 26))
    return (unit * (n // 26 + 1))[:n]


def test_tcp_upload_through_corruption(bad):
    rig, relay, vm = bad
    sink = nr.EchoSink(rig, rig.seg.gateway)
    csum0 = int(TCP_CSUM_RE.search(vm.run("tcpstat"))[1])
    with relay.impaired(both={**TCP_BAD, "seed": SEED + 2}):
        out = vm.run(f"nc -q -n {NC_BYTES} {rig.seg.gateway} {sink.port}",
                     timeout=200 * nh.timeout_scale())
        stats = relay.stats()
    sink.thread.join(30)
    csum = int(TCP_CSUM_RE.search(vm.run("tcpstat"))[1]) - csum0
    corrupted = {d: relay.counters(d, "tcp", stats)["corrupted"] for d in rl.DIRECTIONS}
    print(f"\nnc 1 MiB through 3 % corruption: relay corrupted {corrupted}; guest counted "
          f"{csum} bad TCP checksums")
    want = zlib.crc32(pattern(NC_BYTES))
    assert sink.error is None and (sink.bytes, sink.crc) == (NC_BYTES, want), \
        (sink.bytes, sink.error, out)
    m = NC_RE.search(out)
    assert m and (int(m[1]), int(m[2], 16)) == (NC_BYTES, want), out
    assert all(corrupted.values()), corrupted
    assert csum > 0, "no corrupted segment reached the guest's checksum"
