"""
test_net_udp.py — UDP and DHCP over QEMU user networking (slirp), and the
dhcp=, dns= and ip= parameters.

The guest addresses only slirp's own DHCP server and 10.0.2.2, which slirp
maps to the host's loopback; no test looks a name up (slirp's DNS at
10.0.2.3 would ask a real resolver): name resolution is tested in the
namespace rig (test_net_rig_dns.py) and on the host (host_dns*.c).

  - The lease: 10.0.2.15/24 with gateway 10.0.2.2 and DNS 10.0.2.3, logged
    and shown by `dhcp`; dhcp=on waits for the command, dhcp=off refuses
    it; ip= configures eth0 statically (a bad one is reported and DHCP runs
    instead).
  - `udpsend 10.0.2.2 PORT msg` arrives at a socket the test binds on the
    host's 127.0.0.1:PORT, byte for byte.
  - 10,000 datagrams from the host into the guest through a hostfwd rule,
    counted by the guest's _udpsink exactly.  Pacing: they go in windows of
    WINDOW datagrams, and the next window leaves only once the guest has
    counted every datagram sent so far.  At most WINDOW datagrams are ever
    in flight, fewer than any queue on the way holds (the 256-entry RX ring
    and software queue), so a datagram that is missing is a lost one, not
    an overflow the sender provoked — and the total is exact, well past the
    first ring's worth.
  - `dhcp` on a link with no server stops on Ctrl-C, or gives up after its
    10 s; dns=off and bad names are refused without any traffic; bad
    dhcp= and dns= values are reported and the defaults used.
"""

import contextlib
import re
import socket
import time

import pytest

import nos_harness as nh

SLIRP = ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
# A NIC on a QEMU hub with nothing else on it: frames go nowhere.
NOWHERE = ["-netdev", "hubport,id=n0,hubid=0", "-device", "virtio-net-pci,netdev=n0"]
BOUND_RE = r"dhcp: eth0: bound to 10\.0\.2\.15/24 gw 10\.0\.2\.2 dns 10\.0\.2\.3 lease \d+ s"
TOTAL = 10000
WINDOW = 200
PAYLOAD = b"nos-udp-%05d"


def wait_lease(vm, timeout=30):
    """Wait until dmesg shows the lease from slirp; return the line."""
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while True:
        m = re.search(BOUND_RE, vm.run("dmesg dhcp:"))
        if m:
            return m.group(0)
        if time.monotonic() > deadline:
            pytest.fail(f"no DHCP lease within {timeout} s:\n{vm.run('dmesg dhcp')}")
        time.sleep(0.5)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def host_listener():
    """A UDP socket on the host's 127.0.0.1 (what the guest reaches as 10.0.2.2): (sock, port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(15 * nh.timeout_scale())
        yield s, s.getsockname()[1]


def udpsend(vm, port, text, nbytes):
    out = vm.run(f"udpsend 10.0.2.2 {port} {text}")
    assert re.fullmatch(rf"sent {nbytes} bytes to 10\.0\.2\.2:{port} from port \d+", out), out


# ------------------------------------------------------------------ DHCP ----

def test_lease_from_slirp_at_boot(boot_vm):
    vm = boot_vm(extra_args=SLIRP)
    wait_lease(vm)
    log = vm.run("dmesg dhcp:")
    assert "dhcp: eth0: SELECTING: DISCOVER" in log, log
    assert "dhcp: eth0: REQUESTING: offer of 10.0.2.15 from 10.0.2.2" in log, log
    out = vm.run("dhcp")
    assert re.search(r"^eth0: BOUND 10\.0\.2\.15/24 gw 10\.0\.2\.2 dns 10\.0\.2\.3 server "
                     r"10\.0\.2\.2$", out, re.M), out
    assert re.search(r"lease \d+ s: renew \(T1\) in \d+ s, rebind \(T2\) in \d+ s, "
                     r"expires in \d+ s", out), out
    net = vm.run("net")
    assert "ipv4 10.0.2.15/24, gateway 10.0.2.2, dns 10.0.2.3 (config dhcp)" in net, net
    assert vm.run("dhcp eth9").startswith("dhcp: no device 'eth9' (see 'net')")


def test_dhcp_on_waits_for_the_command(boot_vm):
    vm = boot_vm("dhcp=on", extra_args=SLIRP)
    time.sleep(1)
    assert "dhcp: eth0: starting" not in vm.run("dmesg dhcp")
    assert "ipv4 none" in vm.run("net")
    out = vm.run("dhcp eth0", timeout=30)
    assert out.startswith("eth0: BOUND 10.0.2.15/24 gw 10.0.2.2"), out
    wait_lease(vm)


def test_dhcp_off_refuses(boot_vm):
    vm = boot_vm("dhcp=off", extra_args=SLIRP)
    assert vm.run("dhcp") == "dhcp: disabled by the kernel parameter dhcp=off"
    assert "dhcp: eth0" not in vm.run("dmesg dhcp")
    assert "ipv4 none" in vm.run("net")


def test_static_ip_parameter(boot_vm):
    vm = boot_vm("ip=10.0.2.20/24,10.0.2.2,10.0.2.3", extra_args=SLIRP)
    net = vm.run("net")
    assert "ipv4 10.0.2.20/24, gateway 10.0.2.2, dns 10.0.2.3 (config static)" in net, net
    assert "net: eth0: static 10.0.2.20/24 gw 10.0.2.2 dns 10.0.2.3" in vm.run("dmesg static")
    time.sleep(1)
    assert "dhcp: eth0" not in vm.run("dmesg dhcp"), "DHCP ran on a static eth0"
    # The static address works: a datagram to the host from it.
    with host_listener() as (s, port):
        udpsend(vm, port, "static", 6)
        assert s.recvfrom(2048)[0] == b"static"


def test_bad_ip_parameter_is_reported_and_dhcp_runs(boot_vm):
    vm = boot_vm("ip=10.0.2.20/24,192.168.9.1", extra_args=SLIRP)
    assert ("net: ip=10.0.2.20/24,192.168.9.1: gateway not on the subnet; ignored"
            in vm.run("dmesg ip=")), vm.run("dmesg ip=")
    wait_lease(vm)


def test_bad_dhcp_and_dns_values_are_reported_and_ignored(boot_vm):
    vm = boot_vm("dhcp=sometimes dns=maybe", extra_args=SLIRP)
    msgs = vm.run("dmesg params:")
    assert "sometimes" in msgs and "maybe" in msgs, msgs
    wait_lease(vm)  # the defaults: dhcp=auto
    out = vm.run_lines("udpsend bad..name 9 x")  # then the usage line
    assert out[0] == "udpsend: bad..name: not a valid host name", out  # dns=on: checked


def test_dhcp_without_a_server_stops_on_ctrl_c_or_gives_up(boot_vm):
    vm = boot_vm("dhcp=on", extra_args=NOWHERE)
    vm.send("dhcp\r")
    begin = vm.wait_for(r"dhcp\r\n").end()
    time.sleep(1.5)
    vm.send(b"\x03")
    prompt = vm.wait_prompt(8 * nh.timeout_scale())
    out = vm.since(begin)[:prompt.start(1) - begin].replace("\r\n", "\n")
    assert out.endswith("^C\n"), out
    assert "no lease" not in out, out
    t0 = time.monotonic()
    out = vm.run("dhcp", timeout=40)
    assert re.fullmatch(r"dhcp: eth0: no lease after 10 s \((SELECTING|REQUESTING), still "
                        r"trying in the background\)", out), out
    assert time.monotonic() - t0 >= 9, "the wait ended early"


# ------------------------------------------------------------------- UDP ----

def test_udpsend_reaches_a_listener_on_the_hosts_loopback(boot_vm):
    vm = boot_vm(extra_args=SLIRP)
    wait_lease(vm)
    with host_listener() as (s, port):
        udpsend(vm, port, "hello from   nos", 14)
        assert s.recvfrom(2048)[0] == b"hello from nos"
        # A second one, longer than one small buffer, byte for byte.
        msg = "x" * 1000
        udpsend(vm, port, msg, 1000)
        assert s.recvfrom(2048)[0] == msg.encode()
    net = vm.run("net")
    m = re.search(r"^  udp tx +(\d+) ", net, re.M)
    assert m and int(m.group(1)) >= 2, net


def test_udpsend_refuses_bad_arguments(boot_vm):
    vm = boot_vm("dns=off", extra_args=SLIRP)
    out = vm.run("udpsend 10.0.2.2 0 x")
    assert "port must be 1-65535" in out, out
    out = vm.run("udpsend 10.0.2.2 70000 x")
    assert "port must be 1-65535" in out, out
    out = vm.run("udpsend some.host 9 x")
    assert out == "udpsend: some.host: DNS is off (dns=off)", out


def test_10000_datagrams_from_the_host_counted_exactly(boot_vm):
    hostport, guestport = free_udp_port(), 7777
    fwd = ["-netdev", f"user,id=n0,hostfwd=udp:127.0.0.1:{hostport}-:{guestport}",
           "-device", "virtio-net-pci,netdev=n0"]
    vm = boot_vm(extra_args=fwd)
    wait_lease(vm)
    assert vm.run(f"_udpsink {guestport}") == f"udpsink: port {guestport}: 0 datagrams, 0 bytes"
    sent = nbytes = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        while sent < TOTAL:
            for _ in range(min(WINDOW, TOTAL - sent)):
                p = PAYLOAD % sent
                s.sendto(p, ("127.0.0.1", hostport))
                sent += 1
                nbytes += len(p)
            got = wait_count(vm, guestport, sent)
            assert got == sent, f"after {sent} datagrams the guest counted {got}"
    out = vm.run(f"_udpsink off")
    assert out == f"udpsink: port {guestport}: {TOTAL} datagrams, {nbytes} bytes", out
    net = vm.run("net")
    m = re.search(r"^  udp rx +(\d+) +\d+ +(\d+) +(\d+)$", net, re.M)
    assert m and int(m.group(1)) >= TOTAL and m.group(2) == "0" and m.group(3) == "0", net


def wait_count(vm, port, want, timeout=30):
    """Poll the sink until it has counted @want datagrams (or time runs out)."""
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while True:
        out = vm.run("_udpsink")
        m = re.fullmatch(rf"udpsink: port {port}: (\d+) datagrams, \d+ bytes", out)
        assert m, out
        got = int(m.group(1))
        if got >= want or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


# ------------------------------------------------------------------- DNS ----

def test_dns_off_and_bad_names_need_no_server(boot_vm):
    vm = boot_vm("dns=off", extra_args=SLIRP)
    wait_lease(vm)
    out = vm.run("nslookup example.test")
    assert re.fullmatch(r"nslookup: example\.test: DNS is off \(dns=off\), [\d.]+ ms", out), out
    out = vm.run("nslookup 10.0.2.2")
    assert "address: 10.0.2.2" in out, out
    assert vm.run("dnsflush").startswith("dns: cache flushed")
    vm2 = boot_vm(extra_args=NOWHERE)
    out = vm2.run("nslookup bad..name")
    assert "not a valid host name" in out, out
    out = vm2.run("nslookup nowhere.test")
    assert "no DNS server configured" in out, out
