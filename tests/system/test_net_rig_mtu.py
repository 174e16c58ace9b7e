"""
test_net_rig_mtu.py — DHCP option 26 (Interface MTU) from a real dnsmasq,
in the network-namespace rig (net_rig.py).  Compute Engine's DHCP server
hands out 1460; here dnsmasq hands out 1400 (`--dhcp-option=26,1400`,
which it sends only because the guest asks for option 26).

  - The guest logs the change ("dhcp: eth0: MTU 1400 (option 26), was
    1500") and `ifconfig eth0` shows MTU 1400.
  - `nc -q -n` from the guest to a Linux peer in the namespace: the
    guest's SYN, read off a raw socket in the namespace, announces MSS
    1360 (1400 less 40 bytes of IP and TCP headers); no segment from the
    guest is longer than 1400 bytes, and some are exactly that; the peer's
    socket sends at most 1360 bytes a segment (TCP_MAXSEG); the bytes
    echoed back arrive whole (size and crc32).

Without root this skips ("needs root"), as every rig test does.
"""

import socket
import struct
import threading
import time
import zlib

import pytest

import nos_harness as nh
import net_rig as nr

MTU = 1400
MSS = MTU - 40
NC_BYTES = 200000


def pattern(n):
    """nc's -n bytes: byte i is 'a' + i % 26."""
    unit = bytes(range(ord("a"), ord("a") + 26))
    return (unit * (n // 26 + 1))[:n]


class TcpTap:
    """A raw socket in the rig's namespace that sees every TCP segment
    coming in: the MSS option of each SYN to @port from @src, and the
    longest IP packet from @src to @port."""

    def __init__(self, rig, src, port):
        self.sock = rig.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        self.sock.settimeout(0.2)
        self.src, self.port = socket.inet_aton(src), port
        self.syn_mss, self.longest, self.at_mtu = [], 0, 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="tcp-tap")
        self.thread.start()

    def _run(self):
        with self.sock:
            while not self.stop.is_set():
                try:
                    pkt = self.sock.recv(65535)
                except socket.timeout:
                    continue
                self._take(pkt)

    def _take(self, pkt):
        ihl = (pkt[0] & 15) * 4
        total = struct.unpack_from("!H", pkt, 2)[0]
        if pkt[12:16] != self.src or len(pkt) < ihl + 20:
            return
        tcp = pkt[ihl:]
        if struct.unpack_from("!H", tcp, 2)[0] != self.port:
            return
        self.longest = max(self.longest, total)
        self.at_mtu += total == MTU
        flags, off = tcp[13], (tcp[12] >> 4) * 4
        if flags & 0x02 and not flags & 0x10:     # SYN, not SYN-ACK
            self.syn_mss.append(mss_option(tcp[20:off]))

    def close(self):
        self.stop.set()
        self.thread.join(5)


def mss_option(opts):
    """The MSS option's value in TCP options @opts, or None."""
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if kind == 2 and opts[i + 1] == 4:
            return struct.unpack_from("!H", opts, i + 2)[0]
        i += opts[i + 1]
    return None


def wait_logged(vm, want, timeout=30):
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while want not in vm.run("dmesg dhcp:"):
        if time.monotonic() > deadline:
            pytest.fail(f"the guest did not log {want!r}:\n{vm.run('dmesg dhcp')}")
        time.sleep(0.5)


@pytest.fixture
def rig_vm(net_rig, boot_vm):
    rig = net_rig(dnsmasq_args=[f"--dhcp-option=26,{MTU}"])
    vm = nr.boot_on_rig(boot_vm, rig)
    assert rig.seg.wait_lease(rig.seg.mac()) == rig.seg.guest_ip()
    wait_logged(vm, f"dhcp: eth0: MTU {MTU} (option 26), was 1500")
    return rig, vm


def test_dhcp_mtu_sets_the_device_mtu_and_the_tcp_mss(rig_vm):
    rig, vm = rig_vm
    seg = rig.seg
    out = vm.run("ifconfig eth0")
    assert f"eth0: MAC {seg.mac()}, MTU {MTU}, link up" in out, out
    assert f"ipv4 {seg.guest_ip()}/24" in out, out

    peer = nr.EchoSink(rig, seg.gateway)
    tap = TcpTap(rig, seg.guest_ip(), peer.port)
    try:
        out = vm.run(f"nc -q -n {NC_BYTES} {seg.gateway} {peer.port}",
                     timeout=60 * nh.timeout_scale())
        peer.thread.join(30 * nh.timeout_scale())
    finally:
        tap.close()
    state = (f"nc: {out!r}; peer: {peer.bytes} bytes, error {peer.error!r}, "
             f"TCP_MAXSEG {peer.maxseg}; SYN MSS {tap.syn_mss}, longest {tap.longest}, "
             f"{tap.at_mtu} at {MTU}")
    want_crc = zlib.crc32(pattern(NC_BYTES))
    assert peer.error is None and (peer.bytes, peer.crc) == (NC_BYTES, want_crc), state
    assert f"received {NC_BYTES} bytes, crc32 {want_crc:08x}" in out, state
    assert tap.syn_mss == [MSS], state
    assert tap.longest == MTU and tap.at_mtu > 0, state
    assert peer.maxseg is not None and peer.maxseg <= MSS, state
    print(f"\n{state}")
