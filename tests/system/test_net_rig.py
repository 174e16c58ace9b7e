"""
test_net_rig.py — the network-namespace rig (net_rig.py) checked on its own.

Most of these need no guest: the rig comes up and goes away without a
trace, its dnsmasq answers DHCP (a small client on a Linux host in the rig)
and DNS (local names, a CNAME, NXDOMAIN for the rest), two rigs and two
segments coexist, cleanup happens when the body raises and while a process
still holds a tap, Linux ping/UDP peers and the nftables drop rule work,
and the garbage frames reach the wire intact.  A non-root run skips with a
"needs root" reason, and fails instead with NOS_REQUIRE_ROOT_TESTS=1.

The last tests boot nos on the rig: QEMU runs inside the namespace and its
NICs come up on the taps; when the kernel has its DHCP client, dnsmasq must
see the guest's DISCOVER and hand out the pinned address.
"""

import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import net_rig as nr
import net_rig_wire as nrw

HERE = Path(__file__).resolve().parent


def netns_names():
    out = subprocess.run(["ip", "netns", "list"], stdout=subprocess.PIPE,
                         text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def root_links():
    out = subprocess.run(["ip", "-j", "link", "show"], stdout=subprocess.PIPE,
                         text=True).stdout
    return {link["ifname"] for link in json.loads(out)}


def listening(rig, proto):
    """"addr:port" strings dnsmasq listens on in the rig (ss -l)."""
    out = rig.exec(["ss", "-H", "-l", "-n", f"-{proto}", "-p"]).stdout
    return [line.split()[3] for line in out.splitlines() if "dnsmasq" in line]


def test_rig_comes_up_and_goes_away(net_rig):
    before = root_links()
    rig = net_rig()
    seg = rig.seg
    assert rig.name in netns_names()
    assert str(os.getpid()) in rig.name
    addrs = json.loads(rig.ns.ip("-j", "addr", "show", "dev", seg.bridge))[0]
    assert "UP" in addrs["flags"]
    assert [a["local"] for a in addrs["addr_info"]] == [seg.gateway]
    assert seg.subnet == f"192.168.{seg.octet}.0/24"
    bridge = json.loads(rig.ns.ip("-d", "-j", "link", "show", "dev", seg.bridge))[0]
    info = bridge["linkinfo"]["info_data"]
    assert info["stp_state"] == 0 and info["forward_delay"] == 0
    assert bridge["mtu"] == nr.BRIDGE_MTU
    tap = json.loads(rig.ns.ip("-d", "-j", "link", "show", "dev", seg.taps[0]))[0]
    assert tap["master"] == seg.bridge and tap["mtu"] == nr.TAP_MTU
    v6 = rig.exec(["cat", "/proc/sys/net/ipv6/conf/all/disable_ipv6"]).stdout
    assert v6.strip() == "1"
    assert f"{seg.gateway}:53" in listening(rig, "u")
    assert f"0.0.0.0%{seg.bridge}:67" in listening(rig, "u")
    dnsmasq, tmp = seg.dnsmasq, rig.tmp
    assert dnsmasq.poll() is None and tmp.is_dir()
    assert root_links() == before, "a rig device appeared in the root namespace"

    rig.close()
    assert rig.name not in netns_names()
    assert dnsmasq.poll() is not None
    assert not tmp.exists()
    assert root_links() == before
    rig.close()  # a second close is harmless


def test_dns_answers_local_names_a_cname_and_nxdomain(net_rig):
    rig = net_rig(names={"peer.nos.test": 1, "far.nos.test": "10.9.8.7",
                         "bare": 33},
                  cnames={"alias.nos.test": "peer.nos.test",
                          "chain.nos.test": "alias.nos.test"},
                  ttl=77)
    seg = rig.seg
    ask = lambda name: nr.dns_query(rig.ns, seg.gateway, name)
    a = ask("peer.nos.test")
    assert (a.rcode, a.addresses, a.ttls) == (0, [seg.gateway], [77])
    assert ask("far.nos.test").addresses == ["10.9.8.7"]
    assert ask("bare").addresses == [seg.addr(33)]
    c = ask("alias.nos.test")
    assert c.rcode == 0 and c.cnames == ["peer.nos.test"]
    assert c.addresses == [seg.gateway]
    chain = ask("chain.nos.test")
    assert chain.cnames == ["alias.nos.test", "peer.nos.test"], chain
    assert chain.addresses == [seg.gateway]
    for missing in ("missing.nos.test", "missing", "www.example.com"):
        t0 = time.monotonic()
        m = ask(missing)
        assert (m.rcode, m.addresses) == (3, []), (missing, m)
        assert time.monotonic() - t0 < 1.5, "NXDOMAIN must come at once"
    queried = [name for _t, name, _src in seg.dns_queries()]
    assert "alias.nos.test" in queried and "missing" in queried


def test_dhcp_lease_and_renewal_show_in_the_log(net_rig):
    rig = net_rig(pin=True)
    seg = rig.seg
    client = rig.add_host(address=False)
    probe = nr.DhcpProbe(client)
    ack = probe.lease()
    ip = ack["yiaddr"]
    lo, hi = nr.DHCP_RANGE
    assert ip.startswith(seg.addr("")) and lo <= int(ip.split(".")[3]) <= hi, ip
    assert socket.inet_ntoa(ack[3]) == seg.gateway        # router
    assert socket.inet_ntoa(ack[6]) == seg.gateway        # DNS server
    assert socket.inet_ntoa(ack[1]) == seg.netmask
    assert int.from_bytes(ack[51], "big") == 120          # 2-minute lease
    assert seg.wait_lease(client.mac, timeout=5) == ip
    kinds = [e.kind for e in seg.dhcp_events(client.mac)]
    assert kinds == ["DISCOVER", "OFFER", "REQUEST", "ACK"], kinds
    assert [(mac, lip) for _exp, mac, lip, _n in seg.leases()] == [(client.mac, ip)]

    assert probe.renew()["yiaddr"] == ip
    second = seg.wait_renewal(client.mac, timeout=5)
    assert second.ip == ip and second.kind == "ACK"

    # A MAC the rig pins (the guest's on tap 0) gets its pinned address.
    pinned = rig.add_host(address=False, mac=seg.mac(0))
    assert nr.DhcpProbe(pinned).lease()["yiaddr"] == seg.guest_ip(0)
    assert seg.wait_lease(seg.mac(0), timeout=5) == seg.guest_ip(0)


def test_wait_dhcp_explains_what_never_came(net_rig):
    rig = net_rig()
    with pytest.raises(nr.RigError, match="DHCPDISCOVER .*dnsmasq log"):
        rig.seg.wait_dhcp("DISCOVER", "52:54:00:00:00:01", timeout=0.3)


def test_two_rigs_coexist_and_close_apart(net_rig):
    a, b = net_rig(), net_rig()
    assert a.name != b.name and a.seg.subnet != b.seg.subnet
    for rig in (a, b):
        assert nr.dns_query(rig.ns, rig.seg.gateway, "peer.nos.test").addresses \
            == [rig.seg.gateway]
    # Each namespace sees only its own bridge address.
    assert nr.dns_query(b.ns, b.seg.gateway, "gw.nos.test").rcode == 0
    with pytest.raises(nr.RigError):
        nr.dns_query(a.ns, b.seg.gateway, "gw.nos.test", timeout=0.5)
    a.close()
    assert a.name not in netns_names() and b.name in netns_names()
    assert nr.dns_query(b.ns, b.seg.gateway, "peer.nos.test").rcode == 0


def test_two_segments_each_with_its_own_server(net_rig):
    rig = net_rig(segments=2)
    s0, s1 = rig.segments
    assert s0.subnet != s1.subnet and s0.bridge != s1.bridge
    for seg in (s0, s1):
        assert nr.dns_query(rig.ns, seg.gateway, "peer.nos.test").addresses \
            == [seg.gateway]
        assert f"{seg.gateway}:53" in listening(rig, "u")
    args = rig.qemu_args()
    assert args.count("-netdev") == 2 and args.count("-device") == 2
    assert any(f"ifname={s0.taps[0]}," in x for x in args)
    assert any(f"ifname={s1.taps[0]}," in x for x in args)
    assert s0.mac() != s1.mac()
    # A host on each segment; the rig routes nothing between them, but each
    # reaches its own gateway.
    h0, h1 = rig.add_host(0), rig.add_host(1)
    assert h0.ping(s0.gateway, count=2, interval=0.05).received == 2
    assert h1.ping(s1.gateway, count=2, interval=0.05).received == 2


def test_cleanup_happens_when_the_body_raises():
    reason = nr.rig_unavailable()
    if reason:
        pytest.skip(reason)
    before = root_links()
    with pytest.raises(ZeroDivisionError):
        with nr.NetRig() as rig:
            name, proc, tmp = rig.name, rig.seg.dnsmasq, rig.tmp
            kept = rig.kept_log_path(rig.seg)
            rig.add_host()
            1 / 0
    try:
        assert name not in netns_names()
        assert f"{name}-h0" not in netns_names()
        assert proc.poll() is not None
        assert not tmp.exists()
        assert root_links() == before
        assert "started, version" in kept.read_text(), "log kept on failure"
    finally:
        kept.unlink(missing_ok=True)


HOLD_TAP = r"""
import fcntl, os, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH22x", sys.argv[1].encode(), 0x1002))
print("attached", flush=True)
time.sleep(600)
"""


def test_cleanup_while_a_process_still_holds_a_tap():
    """Like a QEMU that outlived the test: close() still finishes and
    leaves nothing behind; the holder keeps running until we stop it."""
    reason = nr.rig_unavailable()
    if reason:
        pytest.skip(reason)
    before = root_links()
    rig = nr.NetRig().start()
    holder = subprocess.Popen([*rig.wrap, sys.executable, "-c", HOLD_TAP,
                               rig.seg.taps[0]], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "attached"
        rig.close()
        assert rig.name not in netns_names()
        assert holder.poll() is None
        assert root_links() == before
    finally:
        holder.kill()
        holder.wait()
        rig.close(raise_errors=False)


def test_ping_and_udp_between_the_bridge_and_a_host(net_rig):
    rig = net_rig()
    host = rig.add_host()
    r = rig.ping(host.ip, count=200, interval=0.002)
    assert (r.sent, r.received, r.loss) == (200, 200, 0.0), r.output[-500:]
    assert len(r.rtts) == 200 and r.summary[0] <= r.summary[2]
    gone = rig.ping(rig.seg.unused_ip(), count=2, interval=0.1, wait=1)
    assert gone.received == 0 and gone.loss == 100.0

    listener = rig.udp_listener(9999, rig.seg.gateway)
    listener.settimeout(5)
    sender = host.ns.udp_sender()
    for i in range(100):
        sender.sendto(f"datagram {i}".encode(), (rig.seg.gateway, 9999))
    got = [listener.recvfrom(2048) for _ in range(100)]
    assert [d for d, _ in got] == [f"datagram {i}".encode() for i in range(100)]
    assert {addr[0] for _, addr in got} == {host.ip}
    neigh = json.loads(host.ns.ip("-j", "neigh", "show", rig.seg.gateway))
    assert neigh and neigh[0]["lladdr"] == rig.seg.bridge_mac


def test_drop_rule_drops_and_goes_away(net_rig):
    rig = net_rig()
    host = rig.add_host()
    with rig.dropping(100):
        assert "drop" in rig.exec(["nft", "list", "ruleset"]).stdout
        r = rig.ping(host.ip, count=5, interval=0.01, wait=1)
        assert r.received == 0, r.output
    assert rig.exec(["nft", "list", "ruleset"]).stdout.strip() == ""
    rig.drop(30, dev=host.port)
    ruleset = rig.exec(["nft", "list", "ruleset"]).stdout
    assert "numgen random mod 100 < 30 drop" in ruleset
    assert f'oifname "{host.port}"' in ruleset
    rig.drop(0)
    # The 100 % drop left the bridge's neighbour entry for the host FAILED,
    # which makes the next ping fail at once instead of asking again.
    rig.exec(["ip", "neigh", "flush", "all"])
    assert rig.ping(host.ip, count=5, interval=0.01).received == 5
    with pytest.raises(ValueError):
        rig.drop(101)


def test_garbage_frames_reach_the_wire_as_made(net_rig):
    rig = net_rig()
    host = rig.add_host(mtu=nr.TAP_MTU)
    src = rig.seg.addr(nr.GARBAGE_HOST)
    frames = nr.garbage_frames(240, host.mac, host.ip, src_ip=src, seed=7)
    assert frames == nr.garbage_frames(240, host.mac, host.ip, src_ip=src, seed=7)
    assert {k for k, _ in frames} == set(nr.GARBAGE_KINDS)
    sizes = [len(f) for _, f in frames]
    assert min(sizes) >= 14 and max(sizes) > 1514
    assert all(len(f) > 1514 for k, f in frames if k == "oversized")
    aimed = rig.guest_garbage(12)
    assert all(f[:6] == bytes.fromhex(rig.seg.mac().replace(":", ""))
               for k, f in aimed if k != "random")

    cap = host.ns.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    cap.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    cap.bind(("eth0", 0))
    cap.settimeout(5)
    sent = rig.flood(frames, dev=host.port)
    assert sum(sent.values()) == 240
    want = sorted(f for _, f in frames)
    got = []
    while len(got) < len(want):
        data, addr = cap.recvfrom(16384)
        if addr[2] != socket.PACKET_OUTGOING and data in want:
            got.append(data)
    assert sorted(got) == want


def test_wire_parsers_reject_hostile_input():
    """The rig's own parsers: loops, cut records and runaway options are
    WireErrors, not hangs or IndexErrors."""
    loop = bytes(4) + struct.pack(">HHHH", 1, 0, 0, 0) + b"\xc0\x0c" + bytes(4)
    cut = nr.dns_question(1, "peer.nos.test")[:-3]
    past = bytes(4) + struct.pack(">HHHH", 1, 0, 0, 0) + b"\x3fabc"
    for msg in (loop, cut, past, b"short"):
        with pytest.raises(nr.WireError):
            nr.parse_dns(msg)
    with pytest.raises(nr.WireError):
        nrw.dhcp_options(bytes([1, 4, 255, 255]))
    assert nrw.dhcp_options(bytes([0, 53, 1, 2, 255, 9])) == {53: b"\x02"}
    header = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert nrw.checksum(header) == 0xb861


def test_non_root_skips_and_ci_makes_it_fail():
    """Run one rig test as nobody: a "needs root" skip, and with
    NOS_REQUIRE_ROOT_TESTS=1 a failure."""
    if os.geteuid() != 0 or not nr.shutil.which("setpriv"):
        pytest.skip("needs root to become nobody (and setpriv)")
    as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if subprocess.run([*as_nobody, "test", "-r", str(HERE / "net_rig.py")]).returncode:
        pytest.skip("nobody cannot read the test tree here")
    env = {k: v for k, v in os.environ.items() if k != "NOS_REQUIRE_ROOT_TESTS"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    with tempfile.TemporaryDirectory(prefix="nos-rig-nobody-") as work:
        os.chmod(work, 0o777)  # nobody's cwd and pytest's basetemp
        cmd = [*as_nobody, "/usr/bin/python3", "-m", "pytest", "-q", "-rs",
               "-p", "no:cacheprovider", f"--basetemp={work}/bt",
               str(HERE / "test_net_rig.py"), "-k",
               "test_rig_comes_up_and_goes_away"]
        run = lambda e: subprocess.run(cmd, env=e, cwd=work, text=True,
                                       stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, timeout=120)
        plain = run(env)
        strict = run({**env, "NOS_REQUIRE_ROOT_TESTS": "1"})
    assert "1 skipped" in plain.stdout and "needs root" in plain.stdout, plain.stdout
    assert plain.returncode == 0, plain.stdout
    assert strict.returncode != 0, strict.stdout
    assert "NOS_REQUIRE_ROOT_TESTS=1, but the test was skipped" in strict.stdout, \
        strict.stdout


# ------------------------------------------------------- with a guest ----

def test_guest_nics_attach_to_the_taps_inside_the_namespace(net_rig, boot_vm):
    rig = net_rig(segments=2)
    vm = nr.boot_on_rig(boot_vm, rig)
    netns_ino = os.stat(f"/run/netns/{rig.name}").st_ino
    assert os.stat(f"/proc/{vm.proc.pid}/ns/net").st_ino == netns_ino
    assert Path(f"/proc/{vm.proc.pid}/exe").resolve().name.startswith("qemu")
    pci = vm.run("pci")
    nics = [line for line in pci.splitlines()
            if " 1af4:1000 " in line or " 1af4:1041 " in line]
    assert len(nics) == 2, pci
    for seg in rig.segments:
        link = json.loads(rig.ns.ip("-j", "link", "show", "dev", seg.taps[0]))[0]
        assert "LOWER_UP" in link["flags"], (seg.taps[0], link["flags"])
    vm.close()
    link = json.loads(rig.ns.ip("-j", "link", "show", "dev", rig.seg.taps[0]))[0]
    assert "NO-CARRIER" in link["flags"]


def test_guest_gets_its_pinned_lease_from_the_rig(net_rig, boot_vm):
    rig = net_rig()
    vm = nr.boot_on_rig(boot_vm, rig, "dhcp=auto")
    if "unknown parameter 'dhcp'" in vm.run("dmesg params:"):
        pytest.skip("the kernel has no DHCP client yet (no dhcp= parameter)")
    seg = rig.seg
    seg.wait_dhcp("DISCOVER", seg.mac(), timeout=30)
    assert seg.wait_lease(seg.mac(), timeout=30) == seg.guest_ip()
    r = rig.ping(seg.guest_ip(), count=10, interval=0.01)
    assert r.received == 10, r.output
