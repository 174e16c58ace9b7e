"""
test_virtio_net.py — the virtio-net driver over both virtio-pci transports
(modern only: disable-legacy=on; legacy only: disable-modern=on; legacy
without ANY_LAYOUT, where the header rides in a descriptor of its own) and
the three interrupt modes (MSI-X, virtio_irq=intx, virtio_irq=poll).

Frames come from the host through QEMU's socket netdev: each Ethernet frame
is one UDP datagram on the host's loopback (`Wire`), so a test can put
exactly what it wants on a NIC's wire, see every frame the guest sends, and
nothing leaves the machine.  `Wire.serve()` makes the test a peer on that
wire that answers ARP and ICMP echo for one address.

What is checked:
  probe      one dmesg line per NIC: "virtio-net: ethN BB:DD.F modern|legacy
             transport, msix|intx|poll, mac M, link up, rx P/R tx T, header
             12[ apart], features ..." with every RX buffer posted, the MAC
             the device was given and the features QEMU offers us; `pci`
             shows the driver and the interrupt mode; `net` lists the NIC
  receive    a flood of frames well past one ring (a driver that loses
             track of its buffers stops receiving after the first ring),
             counted exactly in `net`'s rx packets; then single frames that
             must each still raise the RX interrupt; a frame too big for one
             buffer (the device merges it over two) is dropped with one
             warning, counted as an rx drop, and the NIC goes on receiving
  transmit   `ping` of the peer on the wire: ARP out and back, every echo
             request reaches the host and every reply comes back, the tx
             counter matches what the host saw
  leaks      once quiet, the netbufs in use are exactly the RX buffers
             posted (every TX frame was given back)
  two NICs   eth0 and eth1 with their own MACs, interrupts, wires, counters
  link       QMP set_link off/on reaches the netdev layer ("link down",
             "link up") on both transports
  tap        on a tap with a virtio-net header (the namespace rig, root
             only) the device offers GUEST_CSUM and the driver takes it
  slirp      with QEMU user networking and a filter-dump pcap, the ARP and
             echo requests the guest sends reach slirp and its replies come
             back
"""

import re
import socket
import struct
import threading
import time

import pytest

GUEST_MAC = "52:54:00:ab:cd:01"
PEER_MAC = bytes.fromhex("020000000001")    # locally administered, the host side
ETHERTYPE = b"\x88\xb5"                     # IEEE local experimental
FLOOD = 2000                                # frames: eight rings' worth

MODERN = "disable-legacy=on,disable-modern=off"
LEGACY = "disable-modern=on"
IRQ_LINE = {"msix": "irq MSI-X, 2 vectors", "intx": "irq INTxA -> IRQ",
            "poll": "irq none (polled)"}

PROBE_RE = re.compile(
    r"virtio-net: (eth\d+) (\S+) (modern|legacy) transport, (msix|intx|poll), "
    r"mac ([0-9a-f:]{17}), link (up|down), rx (\d+)/(\d+) tx (\d+), "
    r"header (\d+)( apart)?, features (\S+)$", re.M)


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", ""))


def frame(dst=GUEST_MAC, size=64, tag=0):
    body = struct.pack(">I", tag) + bytes(max(0, size - 18))
    return mac_bytes(dst) + PEER_MAC + ETHERTYPE + body


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Wire:
    """One NIC's Ethernet segment on the host's loopback: QEMU sends each
    frame the guest transmits to our socket and takes frames on its port."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.qemu_port = free_udp_port()

    def args(self, netdev, device_opts):
        return ["-netdev", f"socket,id={netdev},udp=127.0.0.1:{self.port},"
                           f"localaddr=127.0.0.1:{self.qemu_port}",
                "-device", f"virtio-net-pci,netdev={netdev},{device_opts}"]

    def send(self, data):
        self.sock.sendto(data, ("127.0.0.1", self.qemu_port))

    def flood(self, n, burst=32, pause=0.005):
        """@n frames in bursts, paced so the host's socket buffers keep them."""
        for i in range(n):
            self.send(frame(tag=i))
            if i % burst == burst - 1:
                time.sleep(pause)

    def serve(self, ip):
        """Answer ARP and ICMP echo for @ip (PEER_MAC) from a thread; every
        frame from the guest is kept in self.seen."""
        self.seen, self.peer_ip = [], socket.inet_aton(ip)
        self._stop = False
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop:
            try:
                f = self.sock.recv(70000)
            except (socket.timeout, OSError):
                continue
            self.seen.append(f)
            reply = peer_reply(f, self.peer_ip)
            if reply:
                self.send(reply)

    def close(self):
        if getattr(self, "_thread", None):
            self._stop = True
            self._thread.join()
        self.sock.close()


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f">{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def peer_reply(f, ip):
    """The peer's answer to frame @f (an ARP request or an echo request for
    @ip), or None."""
    src = f[6:12]
    if f[12:14] == b"\x08\x06" and len(f) >= 42 and f[20:22] == b"\0\x01" and f[38:42] == ip:
        arp = f[14:20] + b"\0\x02" + PEER_MAC + ip + f[22:28] + f[28:32]
        return src + PEER_MAC + b"\x08\x06" + arp
    if f[12:14] != b"\x08\x00" or len(f) < 42 or f[23] != 1 or f[30:34] != ip:
        return None
    ihl = (f[14] & 15) * 4
    total = struct.unpack(">H", f[16:18])[0]
    icmp = f[14 + ihl:14 + total]
    if icmp[0] != 8:
        return None
    icmp = b"\0\0\0\0" + icmp[4:]
    icmp = icmp[:2] + struct.pack(">H", csum(icmp)) + icmp[4:]
    iph = f[14:26] + f[30:34] + f[26:30] + f[34:14 + ihl]  # addresses swapped: same sum
    return src + PEER_MAC + b"\x08\x00" + iph + icmp


def net_stats(vm, dev="eth0"):
    """`net`'s counters of @dev: {"rx": (packets, bytes, drops, errors), ...},
    and the netbufs in use under the key "netbufs"."""
    out = vm.run("net")
    block = re.search(rf"^{dev}: .*?(?=^\S|\Z)", out, re.M | re.S)
    assert block, out
    stats = {m.group(1): tuple(int(x) for x in m.groups()[1:]) for m in re.finditer(
        r"^  (rx|tx) +(\d+) +(\d+) +(\d+) +(\d+)$", block.group(0), re.M)}
    stats["netbufs"] = int(re.search(r"^netbufs: (\d+) in use", out, re.M).group(1))
    return stats


@pytest.fixture
def wires():
    made = []

    def make():
        made.append(Wire())
        return made[-1]

    yield make
    for w in made:
        w.close()


def probe_lines(vm):
    return {m.group(1): m for m in PROBE_RE.finditer(vm.run("dmesg virtio-net:"))}


def nic_irqs(vm):
    """Totals of the irqstat rows of virtio-net, in vector order."""
    rows = [l.split() for l in vm.run("irqstat").splitlines() if l.endswith(" virtio-net")]
    return [int(r[-2]) for r in rows]


def wait_until(what, check, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def rx_vector(irq, nic):
    """The irqstat row of @nic's RX interrupt: with MSI-X each NIC has two
    vectors (RX first), with INTx one line."""
    return 2 * nic if irq == "msix" else nic


def single_frames_interrupt(vm, wire, irq, nic=0, count=3):
    """Each lone frame raises the RX interrupt again: buffers were reposted
    and the interrupt was unmasked after the poll."""
    for i in range(count):
        before = nic_irqs(vm)[rx_vector(irq, nic)]
        wire.send(frame(tag=0x10000 + i))
        wait_until(f"an RX interrupt for lone frame {i}",
                   lambda: nic_irqs(vm)[rx_vector(irq, nic)] > before)


def merged_warning(vm):
    return "dropped a frame spread over buffers (2)" in vm.run("dmesg virtio-net:")


def check_net_listing(vm, name, mac):
    out = vm.run("net")
    assert re.search(rf"^{name}: MAC {mac}, MTU 1500, link up$", out, re.M), out


def ping_the_peer(vm, wire, count=3):
    """The guest pings the peer on @wire (serving since boot): all
    answered, the host saw each request, and the tx counter agrees with
    every frame that reached the host (DHCP's tries at boot included)."""
    vm.run("ifconfig eth0 10.0.9.2/24")
    out = vm.run(f"ping 10.0.9.1 {count}", timeout=30)
    assert out.count("bytes from 10.0.9.1: seq=") == count, out
    from_guest = [f for f in wire.seen if f[6:12] == mac_bytes(GUEST_MAC)]
    echo = [f for f in from_guest if f[12:14] == b"\x08\x00" and f[34] == 8]
    assert len(echo) == count, [f.hex() for f in from_guest]
    assert any(f[12:14] == b"\x08\x06" for f in from_guest), "no ARP from the guest"
    def guest_frames():
        return sum(f[6:12] == mac_bytes(GUEST_MAC) for f in list(wire.seen))
    wait_until("the tx counter to match the host's count",
               lambda: net_stats(vm)["tx"][:1] + net_stats(vm)["tx"][2:] ==
               (guest_frames(), 0, 0))


@pytest.mark.parametrize("transport, opts, irq", [
    ("modern", MODERN, "msix"),
    ("legacy", LEGACY, "msix"),
    ("modern", MODERN, "intx"),
    ("legacy", LEGACY, "poll"),
    ("legacy", LEGACY + ",any_layout=off", "msix"),
], ids=["modern-msix", "legacy-msix", "modern-intx", "legacy-poll", "legacy-split-header"])
def test_probe_and_receive(boot_vm, wires, transport, opts, irq):
    wire = wires()
    vm = boot_vm(cmdline="" if irq == "msix" else f"virtio_irq={irq}",
                 extra_args=wire.args("n0", f"{opts},mac={GUEST_MAC}"))
    nics = probe_lines(vm)
    assert list(nics) == ["eth0"], vm.run("dmesg virtio-net")
    m = nics["eth0"]
    assert (m.group(3), m.group(4), m.group(5), m.group(6)) == (transport, irq, GUEST_MAC, "up")
    posted, ring, tx = int(m.group(7)), int(m.group(8)), int(m.group(9))
    split = "any_layout=off" in opts
    assert ring >= 64 and tx >= 64 and posted == min(256, ring // (2 if split else 1)), m.group(0)
    assert m.group(10) == "12" and bool(m.group(11)) == split, m.group(0)
    features = set(m.group(12).split(","))
    assert {"mac", "status", "mrg_rxbuf"} <= features, features
    assert ("version_1" in features) == (transport == "modern"), features
    assert ("any_layout" in features) == (transport == "legacy" and not split), features
    pci = vm.run("pci")
    assert re.search(r"^00:\S+ 1af4:10(00|41) .* driver virtio-net$", pci, re.M), pci
    assert IRQ_LINE[irq] in pci, pci
    check_net_listing(vm, "eth0", GUEST_MAC)

    wire.serve("10.0.9.1")
    wire.flood(FLOOD)
    wait_until(f"{FLOOD} frames counted", lambda: net_stats(vm)["rx"][0] == FLOOD)
    assert net_stats(vm)["rx"][1:] == (FLOOD * 64, 0, 0)
    if irq == "poll":
        assert nic_irqs(vm) == [], vm.run("irqstat")
    else:
        single_frames_interrupt(vm, wire, irq)
    wire.send(frame(size=3000))
    wait_until("the warning about a merged frame", lambda: merged_warning(vm))
    assert net_stats(vm)["rx"][2] == 1
    if irq != "poll":
        single_frames_interrupt(vm, wire, irq)
    wire.send(frame(size=3000))  # only counted now
    wire.flood(300)
    lone = 0 if irq == "poll" else 6
    wait_until("the rest counted", lambda: net_stats(vm)["rx"][0] == FLOOD + lone + 300)
    assert net_stats(vm)["rx"][2:] == (2, 0)
    assert vm.run("dmesg virtio-net:").count("spread over buffers") == 1
    ping_the_peer(vm, wire)
    wait_until("netbufs in use back to the posted RX buffers",
               lambda: net_stats(vm)["netbufs"] == posted)


def test_two_nics(boot_vm, wires):
    a, b = wires(), wires()
    mac_b = "52:54:00:ab:cd:02"
    vm = boot_vm(extra_args=a.args("n0", f"{MODERN},mac={GUEST_MAC},addr=03") +
                 b.args("n1", f"{LEGACY},mac={mac_b},addr=04"))
    nics = probe_lines(vm)
    assert sorted(nics) == ["eth0", "eth1"], vm.run("dmesg virtio-net")
    assert (nics["eth0"].group(2), nics["eth0"].group(3), nics["eth0"].group(5)) == \
        ("00:03.0", "modern", GUEST_MAC)
    assert (nics["eth1"].group(2), nics["eth1"].group(3), nics["eth1"].group(5)) == \
        ("00:04.0", "legacy", mac_b)
    assert len(nic_irqs(vm)) == 4, vm.run("irqstat")
    check_net_listing(vm, "eth1", mac_b)
    # traffic on eth1's wire only: its RX interrupt and counters rise, eth0's do not
    before = nic_irqs(vm)
    b.flood(FLOOD)
    wait_until(f"{FLOOD} frames on eth1", lambda: net_stats(vm, "eth1")["rx"][0] == FLOOD)
    single_frames_interrupt(vm, b, "msix", nic=1)
    after = nic_irqs(vm)
    assert after[rx_vector("msix", 0)] == before[rx_vector("msix", 0)], (before, after)
    assert net_stats(vm, "eth0")["rx"][0] == 0
    a.flood(100)
    wait_until("100 frames on eth0", lambda: net_stats(vm, "eth0")["rx"][0] == 100)
    single_frames_interrupt(vm, a, "msix", nic=0)
    assert net_stats(vm, "eth1")["rx"][0] == FLOOD + 3


def link_state(vm, state):
    return f"net: eth0: link {state}" in vm.run("dmesg eth0:")


@pytest.mark.parametrize("opts, cmdline", [(MODERN, "virtio_irq=poll"), (LEGACY, "")],
                         ids=["modern-poll", "legacy-msix"])
def test_link_follows_the_device(boot_vm, opts, cmdline):
    vm = boot_vm(cmdline=cmdline, qmp=True,
                 extra_args=["-netdev", "user,id=n0",
                             "-device", f"virtio-net-pci,netdev=n0,{opts}"])
    assert probe_lines(vm)["eth0"].group(6) == "up"
    # through the human monitor: Qmp.command() takes "name" for itself
    vm.qmp("human-monitor-command", **{"command-line": "set_link n0 off"})
    wait_until("link down", lambda: link_state(vm, "down"))
    vm.qmp("human-monitor-command", **{"command-line": "set_link n0 on"})
    wait_until("link up", lambda: link_state(vm, "up"))


def test_tap_offers_guest_csum(net_rig, boot_vm):
    rig = net_rig()
    seg = rig.segments[0]
    vm = boot_vm(wrap=rig.wrap, extra_args=seg.qemu_args())
    m = probe_lines(vm)["eth0"]
    assert m.group(5) == seg.mac() and m.group(6) == "up", m.group(0)
    assert "guest_csum" in m.group(12).split(","), m.group(0)


def pcap_frames(path):
    """The frames of a pcap file (classic format, as filter-dump writes it)."""
    data = path.read_bytes()
    frames, at = [], 24
    while at + 16 <= len(data):
        incl = struct.unpack_from("<I", data, at + 8)[0]
        frames.append(data[at + 16:at + 16 + incl])
        at += 16 + incl
    return frames


def test_guest_frames_reach_slirp(boot_vm, tmp_path):
    pcap = tmp_path / "n0.pcap"
    vm = boot_vm(extra_args=["-netdev", "user,id=n0",
                             "-device", f"virtio-net-pci,netdev=n0,mac={GUEST_MAC}",
                             "-object", f"filter-dump,id=f0,netdev=n0,file={pcap}"])
    vm.run("ifconfig eth0 10.0.2.15/24 10.0.2.2")
    vm.run("ping 10.0.2.2 3", timeout=30)
    sent = [f for f in pcap_frames(pcap) if f[6:12] == mac_bytes(GUEST_MAC)]
    got = [f for f in pcap_frames(pcap) if f[0:6] == mac_bytes(GUEST_MAC)]
    assert any(f[12:14] == b"\x08\x06" for f in sent), "no ARP from the guest"
    assert sum(f[12:14] == b"\x08\x00" and f[23] == 1 for f in sent) >= 3, "no ICMP out"
    assert sum(f[12:14] == b"\x08\x00" and f[23] == 1 for f in got) >= 3, "no ICMP back"
