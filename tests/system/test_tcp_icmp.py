"""
test_tcp_icmp.py — nos's TCP hears ICMP errors about its segments (RFC 1122
§4.2.3.9, RFC 5927; docs/tcp.md "ICMP errors"), from a real Linux on the
other end.

One rig (net_rig.py, one segment) and one guest on DHCP.  In the rig's
namespace an nftables table rejects TCP to a few ports of the bridge's
address with an ICMP error instead of the RST Linux would send for a
closed port:

    port 7101  reject with icmp type host-unreachable
    port 7102  reject with icmp type admin-prohibited
    port 7103  reject with icmp type net-unreachable
    port 7104  reject with icmp type port-unreachable

The guest runs `nc <bridge> <port>` for each: nc fails with the error the
ICMP code maps to ("host unreachable", "network unreachable", "connection
refused") rather than "timed out" after its 10 s connect bound (the SYN's
own retries would take a minute) — the error text is the check; the time
is printed, with only a generous bound that tells an answer from a hang.
The port-unreachable case reads like a RST, so tcpstat must show no reset
received for it.  Afterwards the shell answers, tcpstat's "icmp errors"
total rose by one per connect, and tcpstat lists no connection.

Without root everything skips with "needs root" (a failure under
NOS_REQUIRE_ROOT_TESTS=1), like every rig test.
"""

import re
import time

import pytest

import nos_harness as nh
import net_rig as nr

TABLE = "nos_tcp_icmp"
CASES = [  # port, nft's icmp type, the guest's errno and its text
    (7101, "host-unreachable", "EHOSTUNREACH", "host unreachable"),
    (7102, "admin-prohibited", "EHOSTUNREACH", "host unreachable"),
    (7103, "net-unreachable", "ENETUNREACH", "network unreachable"),
    (7104, "port-unreachable", "ECONNREFUSED", "connection refused"),
]
HANG_BOUND = 30              # s: nc's own connect bound is 10 s; past this it hangs
TOTALS_RE = re.compile(r"^resets: (\d+) in, \d+ out; .*; icmp errors (\d+)$", re.M)


def totals(vm):
    """tcpstat's (resets in, icmp errors)."""
    out = vm.run("tcpstat")
    m = TOTALS_RE.search(out)
    assert m, out
    return int(m[1]), int(m[2])


def live_connections(vm):
    """tcpstat's connection and listener rows, and its text."""
    out = vm.run("tcpstat")
    rows = [line for line in out.split("\n")[1:] if re.match(r"^[A-Z][A-Z_0-9]+ ", line)]
    return rows, out


def reject_rules(rig):
    """The nftables table of the module comment, in the rig's namespace."""
    rules = " ".join(f"tcp dport {port} reject with icmp type {kind};"
                     for port, kind, _, _ in CASES)
    rig.exec(["nft", "-f", "-"], input=f"table ip {TABLE} {{\n  chain input {{ type filter "
             f"hook input priority 0; policy accept; {rules} }}\n}}\n")


@pytest.fixture
def icmp_guest(net_rig, boot_vm):
    rig = net_rig()
    vm = nr.boot_on_rig(boot_vm, rig)
    assert rig.seg.wait_lease(rig.seg.mac()) == rig.seg.guest_ip(), rig.seg.log()
    nr.wait_bound(vm)
    reject_rules(rig)
    yield rig, vm
    rig.exec(["nft", "delete", "table", "ip", TABLE], check=False)


def test_icmp_errors_fail_nc_at_once(icmp_guest):
    rig, vm = icmp_guest
    peer = rig.seg.gateway
    resets0, icmp0 = totals(vm)
    for port, kind, errno, text in CASES:
        t0 = time.monotonic()
        out = vm.run(f"nc {peer} {port}", timeout=HANG_BOUND * nh.timeout_scale())
        took = time.monotonic() - t0
        print(f"\nnc to a port that answers {kind}: {took:.2f} s: {out}")
        assert out == f"nc: connect {peer}:{port}: {errno} ({text})", (kind, out)
    assert "ESTABLISHED" not in vm.run("tcpstat")   # the shell answers
    resets, icmp = totals(vm)
    assert icmp - icmp0 == len(CASES), vm.run("tcpstat")
    assert resets == resets0, "a RST, not the ICMP error, ended a connect:\n" + vm.run("tcpstat")
    rows, text = live_connections(vm)
    assert rows == [], f"connections left:\n{text}"
