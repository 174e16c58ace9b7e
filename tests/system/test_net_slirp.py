"""
test_net_slirp.py — the network stack (ARP, IPv4, ICMP, the shell's network
commands) over a virtio-net NIC on QEMU user networking (slirp).

The rule of the rig: the guest addresses only 10.0.2.2, slirp's host
alias, which answers ARP and echo requests itself, and never looks a name
up.  The netdev is `restrict=on`, so even a mistake could not leave the
machine: slirp then forwards nothing and answers only for its own
addresses.  The boot line has `dhcp=off` (unknown parameters are only
reported, so this holds before DHCP exists too): the configuration is the
static one the tests give, and nothing else changes it under them.

What is checked:
  static     `ifconfig eth0 10.0.2.15/24 10.0.2.2` shows the configuration
             and `net` lists it, with its source
  ping       `ping 10.0.2.2` — one line per reply with the RTT to the
             microsecond, the summary with 0 % loss and min <= avg <= max;
             `arp` then knows slirp's MAC for 10.0.2.2; the ICMP and
             protocol counters moved (icmpstat, net)
  unreachable an on-link address nobody owns (10.0.2.77): "host
             unreachable" within seconds (ARP gives up after ~3 s), 100 %
             loss, `arp` shows the entry as failed; `arp flush` empties it
  Ctrl-C     stops a long ping at once, and the summary is still printed
  mistakes   bad ifconfig arguments, unknown devices, a name with no DNS
             server configured (nothing is sent), no route
"""

import re

import pytest

SLIRP = ["-netdev", "user,id=n0,restrict=on", "-device", "virtio-net-pci,netdev=n0"]
HOST = "10.0.2.2"
NOBODY = "10.0.2.77"
CTRL_C = b"\x03"

REPLY_RE = re.compile(r"^64 bytes from 10\.0\.2\.2: seq=(\d+) time=(\d+)\.(\d{3}) ms$", re.M)
SUMMARY_RE = re.compile(r"^(\d+) sent, (\d+) received, (\d+)% loss"
                        r"(?:, rtt min/avg/max = ([\d.]+)/([\d.]+)/([\d.]+) ms)?$", re.M)


@pytest.fixture
def vm(module_boot_vm):
    vm = module_boot_vm(cmdline="dhcp=off", extra_args=SLIRP)
    if "eth0" not in vm.run("net"):
        pytest.skip("no network device: the virtio-net driver does not register one yet")
    out = vm.run(f"ifconfig eth0 10.0.2.15/24 {HOST}")
    assert "ipv4 10.0.2.15/24, gateway 10.0.2.2" in out, out
    return vm


def summary(out):
    m = SUMMARY_RE.search(out)
    assert m, out
    return m


def test_static_configuration_is_shown(vm):
    out = vm.run("net")
    assert re.search(r"^eth0: MAC 52:54:00:[0-9a-f:]{8}, MTU 1500, link up$", out, re.M), out
    assert "ipv4 10.0.2.15/24, gateway 10.0.2.2, dns none (config static)" in out, out
    assert re.search(r"^netbufs: \d+ in use, \d+ cached, \d+ of 4096 made", out, re.M), out
    assert "ipv4 10.0.2.15/24" in vm.run("ifconfig eth0")


def test_ping_the_host_with_rtt(vm):
    before = vm.run("icmpstat")
    out = vm.run(f"ping {HOST} 5", timeout=30)
    seqs = [int(m.group(1)) for m in REPLY_RE.finditer(out)]
    assert seqs == [1, 2, 3, 4, 5], out
    m = summary(out)
    assert m.group(1, 2, 3) == ("5", "5", "0"), out
    lo, avg, hi = (float(x) for x in m.group(4, 5, 6))
    assert 0 < lo <= avg <= hi, out
    arp = vm.run("arp")
    assert re.search(r"^eth0\s+10\.0\.2\.2\s+52:55:0a:00:02:02\s+resolved", arp, re.M), arp

    def count(text, name, col):
        row = re.search(rf"^\d+\s+{name}\s+(\d+)\s+(\d+)$", text, re.M)
        assert row, text
        return int(row.group(col))

    after = vm.run("icmpstat")
    assert count(after, "echo reply", 1) - count(before, "echo reply", 1) == 5, after
    assert count(after, "echo request", 2) - count(before, "echo request", 2) == 5, after
    net = vm.run("net")
    icmp_rx = re.search(r"^  icmp rx\s+(\d+)", net, re.M)
    assert icmp_rx and int(icmp_rx.group(1)) >= 5, net


def test_unreachable_neighbour_is_reported_within_seconds(vm):
    vm.run("arp flush")
    # ARP gives up after three requests a second apart; the command's own
    # timeout is the bound (it fails the test if the answer takes longer).
    out = vm.run(f"ping {NOBODY} 1", timeout=10)
    assert f"from {NOBODY}: seq=1 host unreachable" in out, out
    assert summary(out).group(1, 2, 3) == ("1", "0", "100"), out
    arp = vm.run("arp")
    assert re.search(rf"^eth0\s+{re.escape(NOBODY)}\s+-\s+failed", arp, re.M), arp
    assert re.search(r"\b[1-9]\d* gave up\b", arp), arp
    assert "arp cache flushed" in vm.run("arp flush")
    assert NOBODY not in vm.run("arp")


def test_ping_with_an_interval_of_its_own(vm):
    """`ping IP COUNT 0`: back to back, each request after the last reply."""
    out = vm.run(f"ping {HOST} 20 0", timeout=60)
    assert [int(m.group(1)) for m in REPLY_RE.finditer(out)] == list(range(1, 21)), out
    assert summary(out).group(1, 2, 3) == ("20", "20", "0"), out


def test_ctrl_c_stops_ping_and_prints_the_summary(vm):
    vm.send(f"ping {HOST} 1000\r")
    vm.wait_for(r"seq=2 time=", timeout=30)
    vm.send(CTRL_C)
    out = vm.resync(timeout=15).replace("\r\n", "\n")
    assert "^C" in out, out
    m = summary(out)
    sent, received = int(m.group(1)), int(m.group(2))
    assert 2 <= received <= sent < 1000, out
    assert "ipv4 10.0.2.15/24" in vm.run("ifconfig eth0")   # the shell goes on


@pytest.mark.parametrize("cmd, expect", [
    ("ifconfig eth0 10.0.2.15/33", "bad prefix length"),
    ("ifconfig eth0 10.0.2.15", "want <addr>/<len>"),
    ("ifconfig eth0 10.0.2.15/24 10.0.3.1", "gateway not on the subnet"),
    ("ifconfig eth0 10.0.2.255/24", "network or broadcast address"),
    ("ifconfig eth9 10.0.2.15/24", "'eth9': no such network device"),
    # dhcp=off: no DNS server, so the name is refused without a packet sent
    ("ping host.example", "'host.example': no DNS server configured"),
    ("ping 10.0.2.2 0", "count must be"),
    ("ping 10.0.2.2 2 60001", "interval must be"),
])
def test_mistakes_are_one_line_errors(vm, cmd, expect):
    out = vm.run(cmd)
    assert expect in out, out
    assert "ipv4 10.0.2.15/24, gateway 10.0.2.2" in vm.run("ifconfig eth0")  # unchanged


def test_no_address_means_no_route(vm):
    assert "address removed" in vm.run("ifconfig eth0 none")
    out = vm.run(f"ping {HOST} 1")
    assert "network unreachable" in out, out
    assert summary(out).group(1, 2) == ("1", "0"), out
    assert "ipv4 none" in vm.run("ifconfig eth0")
