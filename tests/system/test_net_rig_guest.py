"""
test_net_rig_guest.py — nos as a host on a real (namespaced) Ethernet: Linux
peers ping it hard, it pings them, it keeps two NICs on two bridges apart,
boots with a static address, and survives a flood of hostile frames.

The rig (net_rig.py) is built once for the module with two segments of two
taps each.  One guest, booted once with the default command line
(dhcp=auto), has a NIC on the first tap of each segment — eth0 on br0,
eth1 on br1 — and most tests share it:

  - Linux `ping -c 1000 -i 0.002` from the bridge: every request answered,
    and the guest's `icmpstat` counted them (echo requests in, replies out).
  - After traffic `arp` lists each bridge, resolved, with the bridge's MAC.
  - `ping` of an on-link address nobody owns ends with "host unreachable"
    and 100 % loss after ARP gives up (~3 s); the only clock here is a
    generous bound on the host side that tells a hang from an answer.
  - Two NICs: each got its pinned lease in its own /24, each bridge's ping
    of its guest address arrives on that NIC (its counters move, the
    other's do not), and the guest pings both bridges.
  - A flood of garbage frames on eth0 (net_rig_wire.garbage_frames: random
    bytes, runts, truncated and malformed ARP/IPv4/UDP/ICMP, fragments,
    oversized frames), paced so that the tap drops none.  Afterwards the
    guest still answers and pings, its netbufs are back to the idle count,
    and the counters account for every frame exactly once.  Where each
    kind lands (see net/eth.c, ip.c, udp.c, icmp.c, arp_in.c and
    drivers/virtio/virtio_net.c):
        longer than one RX buffer (2048 B less the virtio-net header)
                                            device rx drop (merged buffers)
        longer than MTU + 18, fits a buffer "other" rx error (eth_input)
        random bytes (not our MAC)          "other" rx drop
        truncated ARP                       arp rx error
        truncated IPv4, bad header checksum, bad total length, bad IHL or
        version                             ipv4 rx error ("bad headers")
        fragments                           ipv4 rx drop ("fragments dropped")
        bad UDP checksum, truncated UDP     udp rx error
        echo request with a bad checksum    icmp rx error ("malformed"),
                                            never answered
        runts (payload under 46 bytes)      by EtherType: arp or ipv4 rx
                                            error, else "other" rx drop
    (QEMU passes frames to virtio-net unpadded: a runt stays a runt.)
    The frames are the same bytes at every run (seeded), so each count is
    exact, less what the tap dropped (ip -s link; none when paced).  eth1
    sees none of it.  This test runs last: it is the one that could break
    the shared guest.

A second guest boots with `ip=<addr>/24,<gw>,<dns> dhcp=off` on the second
tap of br0: `net` shows the static configuration, it pings the bridge (and
is pinged), `nslookup` goes to the given DNS server, and dnsmasq never sees
a DHCP message from its MAC.

Without root everything skips with "needs root" (a failure under
NOS_REQUIRE_ROOT_TESTS=1), like every rig test.
"""

import re
import time
from dataclasses import dataclass

import pytest

import nos_harness as nh
import net_rig as nr

NB_BUF_SIZE = 2048          # net/netbuf.h: one RX buffer the device writes
ETH_SLACK = 18              # eth_input takes MTU + header + a VLAN tag
FLOOD_FRAMES = 2000
STATIC_HOST = 60            # the static guest's host number: nobody else's
HANG_BOUND = 15             # s: far past ARP's ~3 s, short of a hang


# ------------------------------------------------------------ reading ----

@dataclass(frozen=True)
class Row:
    """One counter row of `net`: packets, bytes, drops, errors."""
    packets: int
    bytes: int
    drops: int
    errors: int


@dataclass
class NetView:
    """What `net` printed: per device its MAC, link, IPv4 line and rows
    ("rx", "tx", "arp rx", ...); the pool's in-use count; the IPv4 input
    counters ("delivered", "bad headers", "fragments dropped", ...)."""
    devs: dict
    netbufs_in_use: int
    ipv4_in: dict
    text: str

    def row(self, dev, name):
        return self.devs[dev]["rows"][name]

    def rx_bad(self, dev):
        """Every rx drop and error of @dev: the device's and each layer's."""
        rows = self.devs[dev]["rows"]
        return sum(r.drops + r.errors for name, r in rows.items()
                   if name == "rx" or name.endswith(" rx"))


DEV_RE = re.compile(r"(eth\d+): MAC (\S+), MTU (\d+), link (\w+)$")
ROW_RE = re.compile(r"  (rx|tx|\w+ rx|\w+ tx)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$")


def read_net(vm):
    out = vm.run("net")
    devs, dev = {}, None
    for line in out.split("\n"):
        if m := DEV_RE.match(line):
            dev = devs[m[1]] = {"mac": m[2], "mtu": int(m[3]), "link": m[4],
                                "ipv4": None, "rows": {}}
        elif dev and (m := ROW_RE.match(line)):
            dev["rows"][m[1]] = Row(*map(int, m.groups()[1:]))
        elif dev and (m := re.match(r"  ipv4 (.*)$", line)):
            dev["ipv4"] = m[1]
    pool = re.search(r"^netbufs: (\d+) in use", out, re.M)
    ipv4 = re.search(r"^ipv4 in: (.*)$", out, re.M)
    assert pool and ipv4 and devs, out
    ipv4_in = {name: int(n) for n, name in re.findall(r"(\d+) ([a-z ]+?)(?:,|$)",
                                                      ipv4[1])}
    return NetView(devs, int(pool[1]), ipv4_in, out)


def read_icmpstat(vm):
    """{type name: (received, sent)} and the "malformed received" count."""
    out = vm.run("icmpstat")
    rows = {m[1]: (int(m[2]), int(m[3])) for m in
            re.finditer(r"^\S+\s+(\w[\w ]*?)\s+(\d+)\s+(\d+)$", out, re.M)}
    malformed = re.search(r"^(\d+) malformed received", out, re.M)
    assert "echo request" in rows and "echo reply" in rows and malformed, out
    return rows, int(malformed[1]), out


def arp_entry(vm, dev, ip):
    """The `arp` row for @ip on @dev as (mac, state), or None."""
    out = vm.run("arp")
    m = re.search(rf"^{dev}\s+{re.escape(ip)}\s+(\S+)\s+(\w+)\s", out, re.M)
    return (m[1], m[2]) if m else None, out


def arp_stats(vm):
    """`arp`'s counter line: {"requests sent": n, "gave up": n, ...}."""
    out = vm.run("arp")
    line = re.search(r"^requests (\d+) sent, (\d+) received; replies (\d+) sent, "
                     r"(\d+) received; (\d+) resolved, (\d+) gave up", out, re.M)
    assert line, out
    names = ("requests sent", "requests received", "replies sent",
             "replies received", "resolved", "gave up")
    return dict(zip(names, map(int, line.groups())))


def linux_ping(rig, ip, count, interval):
    """Linux ping from the rig's namespace, with a deadline: ping then waits
    for every reply until it expires, where without one it gives up on a
    reply that comes more than one interval after the last request — a
    TCG guest descheduled for 10 ms on a busy host is not a lost packet."""
    deadline = int((count * interval * 3 + 10) * nh.timeout_scale())
    return rig.ping(ip, count=count, interval=interval, deadline=deadline)


def guest_ping(vm, ip, count=3, interval_ms=200):
    """The guest's `ping`; (sent, received, loss %) and its output."""
    out = vm.run(f"ping {ip} {count} {interval_ms}", timeout=30 * nh.timeout_scale())
    m = re.search(r"^(\d+) sent, (\d+) received, (\d+)% loss", out, re.M)
    assert m, out
    return tuple(map(int, m.groups())), out


# ------------------------------------------------------------ fixtures ----

@pytest.fixture(scope="module")
def _rig_guest(iso_cache):
    """The module's rig and its two-NIC guest (both leases in place)."""
    nr.require_rig()
    rig = nr.NetRig(segments=2, taps=2).start()
    vm = None
    try:
        vm = nh.NosVM(iso_cache.get(""), name="net_rig_guest", wrap=rig.wrap,
                      extra_args=rig.qemu_args())
        vm.start()
        vm.wait_boot()
        for seg in rig.segments:
            assert seg.wait_lease(seg.mac()) == seg.guest_ip(), seg.log()
        yield rig, vm
    finally:
        if vm is not None:
            vm.close()
        rig.close(raise_errors=False)


@pytest.fixture
def shared_rig(request, _rig_guest):
    """The module's rig, made known to conftest's failure report (dnsmasq's
    logs are kept when the test fails)."""
    request.node._nos_rigs = [_rig_guest[0]]
    return _rig_guest[0]


@pytest.fixture
def rig_guest(request, shared_rig, _rig_guest):
    """The shared rig and guest; the guest's serial log is kept too when the
    test fails."""
    rig, vm = _rig_guest
    request.node._nos_vms = getattr(request.node, "_nos_vms", []) + [vm]
    if not vm.healthy:
        pytest.fail("the module's guest is unfit (an earlier test broke it)")
    return rig, vm


def wait_bound(vm, dev, mask, timeout=15):
    """Wait until `net` shows @dev with the address from DHCP (the guest may
    log its lease a moment after dnsmasq logs the ACK)."""
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while True:
        view = read_net(vm)
        if view.devs[dev]["ipv4"].startswith(mask):
            return view
        if time.monotonic() > deadline:
            pytest.fail(f"{dev} never showed {mask}:\n{view.text}")
        time.sleep(0.3)


# --------------------------------------------------------------- tests ----

def test_linux_ping_flood_of_the_guest_is_answered_without_loss(rig_guest):
    rig, vm = rig_guest
    seg = rig.seg
    before, _, _ = read_icmpstat(vm)
    net_before = read_net(vm)
    r = linux_ping(rig, seg.guest_ip(), 1000, 0.002)
    assert (r.sent, r.received, r.loss) == (1000, 1000, 0.0), r.output[-600:]
    after, _, out = read_icmpstat(vm)
    requests = after["echo request"][0] - before["echo request"][0]
    replies = after["echo reply"][1] - before["echo reply"][1]
    assert requests >= 1000 and replies >= 1000, out
    net_after = read_net(vm)
    assert net_after.rx_bad("eth0") == net_before.rx_bad("eth0"), net_after.text


def test_arp_shows_each_bridge_resolved_with_its_mac(rig_guest):
    rig, vm = rig_guest
    for k, seg in enumerate(rig.segments):
        assert linux_ping(rig, seg.guest_ip(), 2, 0.05).received == 2
        (entry, out) = arp_entry(vm, f"eth{k}", seg.gateway)
        assert entry == (seg.bridge_mac, "resolved"), out
    # And Linux has learned the guest: the bridge's neighbour entry.
    neigh = rig.ns.ip("neigh", "show", "dev", rig.seg.bridge, rig.seg.guest_ip())
    assert rig.seg.mac() in neigh, neigh


def test_ping_of_a_silent_neighbour_reports_unreachable(rig_guest):
    rig, vm = rig_guest
    ip = rig.seg.unused_ip()
    bound = HANG_BOUND * nh.timeout_scale()
    arp_before = arp_stats(vm)
    t0 = time.monotonic()
    out = vm.run(f"ping {ip} 1", timeout=bound)
    elapsed = time.monotonic() - t0
    assert elapsed < bound, f"ping of {ip} took {elapsed:.1f} s:\n{out}"
    assert f"from {ip}: seq=1 host unreachable" in out, out
    assert "1 sent, 0 received, 100% loss" in out, out
    # ARP asked (3 requests, 1 s apart), gave up once, and shows the entry
    # failed while it holds it (3 s: an entry past that is not listed).
    arp_after = arp_stats(vm)
    assert arp_after["gave up"] - arp_before["gave up"] == 1, (arp_before, arp_after)
    assert arp_after["requests sent"] - arp_before["requests sent"] >= 3, \
        (arp_before, arp_after)
    entry, arp = arp_entry(vm, "eth0", ip)
    assert entry in (("-", "failed"), None), arp


def test_two_nics_on_two_bridges(rig_guest):
    rig, vm = rig_guest
    views = {}
    for k, seg in enumerate(rig.segments):
        views[k] = wait_bound(vm, f"eth{k}", f"{seg.guest_ip()}/24")
        assert views[k].devs[f"eth{k}"]["ipv4"] == (
            f"{seg.guest_ip()}/24, gateway {seg.gateway}, dns {seg.gateway} "
            "(config dhcp)"), views[k].text
        assert views[k].devs[f"eth{k}"]["mac"] == seg.mac()
    assert rig.segments[0].subnet != rig.segments[1].subnet
    # Each bridge's ping arrives on its own NIC, and only there.
    for k, seg in enumerate(rig.segments):
        other = f"eth{1 - k}"
        before = read_net(vm)
        r = linux_ping(rig, seg.guest_ip(), 20, 0.01)
        assert (r.sent, r.received) == (20, 20), r.output
        after = read_net(vm)
        got = after.row(f"eth{k}", "icmp rx").packets - before.row(f"eth{k}", "icmp rx").packets
        stray = after.row(other, "icmp rx").packets - before.row(other, "icmp rx").packets
        assert got >= 20 and stray == 0, after.text
    for seg in rig.segments:
        (sent, received, loss), out = guest_ping(vm, seg.gateway)
        assert (sent, received, loss) == (3, 3, 0), out
        assert f"from {seg.gateway}: seq=3 time=" in out, out


def test_static_boot_without_dhcp(shared_rig, boot_vm):
    rig = shared_rig
    seg = rig.seg
    mac, ip = seg.mac(1), seg.addr(STATIC_HOST)
    vm = boot_vm(f"ip={ip}/24,{seg.gateway},{seg.gateway} dhcp=off", wrap=rig.wrap,
                 extra_args=seg.qemu_args(1))
    view = read_net(vm)
    assert list(view.devs) == ["eth0"] and view.devs["eth0"]["mac"] == mac, view.text
    assert view.devs["eth0"]["ipv4"] == (f"{ip}/24, gateway {seg.gateway}, "
                                         f"dns {seg.gateway} (config static)"), view.text
    assert (f"net: eth0: static {ip}/24 gw {seg.gateway} dns {seg.gateway}"
            in vm.run("dmesg net:")), vm.run("dmesg net:")
    (sent, received, loss), out = guest_ping(vm, seg.gateway)
    assert (sent, received, loss) == (3, 3, 0), out
    r = linux_ping(rig, ip, 5, 0.05)
    assert r.received == 5, r.output
    out = vm.run("nslookup peer.nos.test", timeout=30 * nh.timeout_scale())
    assert out.split("\n")[:3] == [f"server:  {seg.gateway}", "name:    peer.nos.test",
                                   f"address: {seg.gateway}"], out
    asked = [q for q in seg.dns_queries() if q[1] == "peer.nos.test" and q[2] == ip]
    assert asked, seg.dns_queries()
    # dhcp=off: not one DHCP message from this MAC, and no client started.
    assert seg.dhcp_events(mac) == [], [e.line for e in seg.dhcp_events(mac)]
    assert "starting" not in vm.run("dmesg dhcp:"), vm.run("dmesg dhcp")


# Where a well-formed-enough garbage frame of each kind lands, once it
# passed the length and MAC checks (see the module comment).
KIND_LANDS = {
    "truncated_arp": ("arp rx", "errors"),
    "truncated_ipv4": ("ipv4 rx", "errors"), "bad_ip_checksum": ("ipv4 rx", "errors"),
    "bad_ip_length": ("ipv4 rx", "errors"), "bad_ihl": ("ipv4 rx", "errors"),
    "hostile_fragment": ("ipv4 rx", "drops"),
    "bad_udp_checksum": ("udp rx", "errors"), "truncated_udp": ("udp rx", "errors"),
    "bad_icmp_checksum": ("icmp rx", "errors"),
}
ETH_P_IPV4, ETH_P_ARP = b"\x08\x00", b"\x08\x06"


def landing(kind, frame, guest_mac, mtu, fits):
    """The `net` counter (row, column) garbage @frame must move, or None
    when that depends on its random bytes (a random frame to a multicast
    MAC with the IPv4 or ARP type, an oversized frame short enough for
    eth_input that reaches UDP with a random header)."""
    if len(frame) > fits:
        return ("rx", "drops")        # spread over RX buffers: the driver
    if len(frame) > mtu + ETH_SLACK:
        return ("other rx", "errors")  # eth_input: longer than the MTU
    dst, etype = frame[:6], frame[12:14]
    if not dst[0] & 1 and dst != guest_mac:
        return ("other rx", "drops")   # someone else's unicast
    if etype not in (ETH_P_IPV4, ETH_P_ARP):
        return ("other rx", "drops")   # IPv6, VLANs, nonsense
    if kind == "runt":                 # under 46 bytes: no header is whole
        return ("ipv4 rx", "errors") if etype == ETH_P_IPV4 else ("arp rx", "errors")
    return KIND_LANDS.get(kind)


def expected_landing(frames, guest_mac, mtu, hdr_len):
    """{counter: frames it must take} for @frames, and how many frames may
    land anywhere (landing() is None)."""
    fits = NB_BUF_SIZE - hdr_len
    mac = bytes.fromhex(guest_mac.replace(":", ""))
    want = {key: 0 for key in set(KIND_LANDS.values()) |
            {("rx", "drops"), ("other rx", "errors"), ("other rx", "drops")}}
    unsure = 0
    for kind, frame in frames:
        key = landing(kind, frame, mac, mtu, fits)
        if key is None:
            unsure += 1
        else:
            want[key] += 1
    return want, unsure


def virtio_header_len(vm):
    m = re.search(r"virtio-net: eth0 .* header (\d+)", vm.run("dmesg virtio-net:"))
    assert m, vm.run("dmesg virtio-net")
    return int(m[1])


def wait_settled(vm, dev, accounted, idle, timeout=30):
    """Wait until @accounted rx drops+errors are counted on @dev and the
    pool is back at @idle netbufs in use; the last `net`."""
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while True:
        view = read_net(vm)
        if view.rx_bad(dev) >= accounted and view.netbufs_in_use == idle:
            return view
        if time.monotonic() > deadline:
            return view  # the caller's assertions say what is missing
        time.sleep(0.5)


def test_garbage_flood_is_counted_and_survived(rig_guest):
    rig, vm = rig_guest
    seg, tap = rig.seg, rig.seg.taps[0]
    hdr_len = virtio_header_len(vm)
    # Quiet first: the earlier tests' traffic is done, the pool is idle.
    idle = read_net(vm).netbufs_in_use
    before = read_net(vm)
    icmp_before, malformed_before, _ = read_icmpstat(vm)
    tap_before = rig.link_stats(tap)["tx"]["dropped"]

    frames = rig.guest_garbage(FLOOD_FRAMES)
    sent = rig.flood(frames, batch=20)
    assert sum(sent.values()) == FLOOD_FRAMES
    lost = rig.link_stats(tap)["tx"]["dropped"] - tap_before
    after = wait_settled(vm, "eth0", before.rx_bad("eth0") + FLOOD_FRAMES - lost, idle)
    icmp_after, malformed_after, icmp_out = read_icmpstat(vm)

    # Every frame that reached the guest was counted once, as a drop or an
    # error, and each kind where it belongs.
    assert after.rx_bad("eth0") - before.rx_bad("eth0") == FLOOD_FRAMES - lost, \
        (lost, after.text)
    want, unsure = expected_landing(frames, seg.mac(), before.devs["eth0"]["mtu"], hdr_len)
    got = {key: getattr(after.row("eth0", key[0]), key[1]) -
           getattr(before.row("eth0", key[0]), key[1]) for key in want}
    assert unsure <= FLOOD_FRAMES // 100, (unsure, want)
    for key, n in want.items():
        assert n - lost <= got[key] <= n + unsure, (key, got, want, unsure, after.text)
    ipv4_in = {k: after.ipv4_in[k] - before.ipv4_in[k] for k in after.ipv4_in}
    assert ipv4_in["bad headers"] == got[("ipv4 rx", "errors")], after.text
    assert ipv4_in["fragments dropped"] == got[("ipv4 rx", "drops")], after.text
    assert malformed_after - malformed_before == got[("icmp rx", "errors")], icmp_out
    # The bad-checksum echo requests were not taken for requests, nor answered.
    assert icmp_after["echo request"] == icmp_before["echo request"], icmp_out
    assert icmp_after["echo reply"] == icmp_before["echo reply"], icmp_out
    # eth1 is on another bridge: it saw none of it.
    assert after.rx_bad("eth1") == before.rx_bad("eth1"), after.text
    # No netbuf leaked: the pool is back where it idles.
    assert after.netbufs_in_use == idle, after.text

    # And the guest carries on: the shell, a Linux ping, its own ping, and
    # the gateway's ARP entry still right (the garbage came from strangers).
    assert vm.run("version"), "the shell did not answer"
    r = linux_ping(rig, seg.guest_ip(), 20, 0.01)
    assert (r.sent, r.received) == (20, 20), r.output
    (sent_, received, loss), out = guest_ping(vm, seg.gateway)
    assert (sent_, received, loss) == (3, 3, 0), out
    entry, arp = arp_entry(vm, "eth0", seg.gateway)
    assert entry == (seg.bridge_mac, "resolved"), arp
    assert vm.alive and not vm.panicked
