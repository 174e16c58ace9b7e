"""
test_net_rig_dns.py — DHCP renewal and DNS against a real dnsmasq, in the
network-namespace rig (net_rig.py): QEMU's NIC is a tap on the rig's
bridge, dnsmasq hands out 2-minute leases and answers only the rig's names.

  - The lease: dnsmasq logs DISCOVER/OFFER/REQUEST/ACK for the guest's MAC
    and the guest logs the address, gateway and DNS server it was given;
    at T1 (60 s into the 2-minute lease) the guest asks again and dnsmasq
    logs the second REQUEST/ACK — the guest says it renewed, without ever
    rebinding or losing the address.
  - nslookup of a local name (the server, the address, the rig's TTL), of a
    CNAME chain (each link in order), and of a missing name: NXDOMAIN, from
    a single query in dnsmasq's log (a timeout would have retried).
  - `ping <name>`: resolved through the same server, then answered.
  - Ctrl-C during an nslookup that the server does not answer (the rig
    drops every datagram to port 53: `rig.muting(53)`): the prompt comes
    back at once with "^C" and nothing else — no "timed out", which the
    lookup would print after its 5 s had it ignored the byte; once the
    server answers again, so does nslookup.

Without root these skip ("needs root"), as every rig test does.
"""

import re
import time

import pytest

import nos_harness as nh
import net_rig as nr

CTRL_C = b"\x03"
# How long the prompt may take to come back after Ctrl-C (as in
# test_interrupt.py): far more than delivery needs.
BACK_IN = 12.0

NAMES = {"peer.nos.test": 1, "far.nos.test": "10.9.8.7"}
CNAMES = {"alias.nos.test": "peer.nos.test", "chain.nos.test": "alias.nos.test"}
TTL = 77


def guest_bound(vm, seg, timeout=30):
    """Wait for the guest's own log of its lease from the rig; return the line."""
    want = (f"dhcp: eth0: bound to {seg.guest_ip()}/24 gw {seg.gateway} "
            f"dns {seg.gateway} lease 120 s")
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while want not in vm.run("dmesg dhcp:"):
        if time.monotonic() > deadline:
            pytest.fail(f"the guest did not log {want!r}:\n{vm.run('dmesg dhcp')}")
        time.sleep(0.5)
    return want


def queries_for(seg, name):
    return [q for q in seg.dns_queries() if q[1] == name]


@pytest.fixture
def rig_vm(net_rig, boot_vm):
    rig = net_rig(names=NAMES, cnames=CNAMES, ttl=TTL)
    vm = nr.boot_on_rig(boot_vm, rig)
    assert rig.seg.wait_lease(rig.seg.mac()) == rig.seg.guest_ip()
    guest_bound(vm, rig.seg)
    return rig, vm


def test_lease_obtained_and_renewed_at_t1(rig_vm):
    rig, vm = rig_vm
    seg = rig.seg
    kinds = [e.kind for e in seg.dhcp_events(seg.mac())]
    assert kinds[:4] == ["DISCOVER", "OFFER", "REQUEST", "ACK"], kinds
    out = vm.run("dhcp")
    assert out.startswith(f"eth0: BOUND {seg.guest_ip()}/24 gw {seg.gateway} "
                          f"dns {seg.gateway} server {seg.gateway}"), out
    assert "lease 120 s: renew (T1) in" in out, out
    second = seg.wait_renewal(seg.mac(), timeout=150)
    assert second.ip == seg.guest_ip()
    deadline = time.monotonic() + 10 * nh.timeout_scale()
    while "renewed" not in vm.run("dmesg dhcp:") and time.monotonic() < deadline:
        time.sleep(0.5)
    log = vm.run("dmesg dhcp:")
    assert f"dhcp: eth0: RENEWING: T1, asking the server ({seg.gateway})" in log, log
    assert f"dhcp: eth0: renewed {seg.guest_ip()}, lease 120 s" in log, log
    assert "REBINDING" not in log and "expired" not in log, log
    assert f"ipv4 {seg.guest_ip()}/24" in vm.run("net")


def test_nslookup_local_name(rig_vm):
    rig, vm = rig_vm
    seg = rig.seg
    out = vm.run("nslookup peer.nos.test")
    lines = out.split("\n")
    assert lines[:3] == [f"server:  {seg.gateway}", "name:    peer.nos.test",
                         f"address: {seg.gateway}"], out
    assert re.fullmatch(rf"ttl {TTL} s, [\d.]+ ms", lines[3]), out
    assert queries_for(seg, "peer.nos.test"), seg.dns_queries()
    out = vm.run("nslookup FAR.nos.test.")
    assert "address: 10.9.8.7" in out, out


def test_nslookup_cname_chain(rig_vm):
    rig, vm = rig_vm
    out = vm.run("nslookup chain.nos.test")
    assert ("cname:   alias.nos.test\ncname:   peer.nos.test\n"
            f"address: {rig.seg.gateway}\n") in out, out


def test_nslookup_missing_name_is_nxdomain_from_one_query(rig_vm):
    rig, vm = rig_vm
    out = vm.run("nslookup missing.nos.test")
    assert re.fullmatch(r"nslookup: missing\.nos\.test: NXDOMAIN \(no such name\), [\d.]+ ms",
                        out), out
    # One query: the answer came; a lost one would have been asked again.
    assert len(queries_for(rig.seg, "missing.nos.test")) == 1, rig.seg.dns_queries()
    out = vm.run("ping missing.nos.test 1")
    assert "NXDOMAIN" in out or "no such" in out, out


def test_ping_by_name(rig_vm):
    rig, vm = rig_vm
    out = vm.run("ping peer.nos.test 3", timeout=30)
    assert f"PING peer.nos.test ({rig.seg.gateway})" in out, out
    m = re.search(r"^(\d+) sent, (\d+) received, 0% loss", out, re.M)
    assert m and m.groups() == ("3", "3"), out
    # The name went into the cache: `dnsflush` reports it.
    assert re.fullmatch(r"dns: cache flushed \([1-9]\d* entr(y|ies)\)", vm.run("dnsflush"))


def test_nslookup_is_interrupted_while_the_server_is_silent(rig_vm):
    """Queries dropped on their way to dnsmasq: Ctrl-C ends the wait with
    nothing printed but "^C" (a lookup that ignored it would say "timed out"
    after its 5 s); the query was sent (the drop counter), dnsmasq never saw
    it, and with the rule gone the same lookup is answered."""
    rig, vm = rig_vm
    seg = rig.seg
    with rig.muting(53):
        vm.send("nslookup peer.nos.test\r")
        begin = vm.wait_for(r"nslookup peer\.nos\.test\r\n").end()
        # The first of DNS_TRIES sends waits 20% of DNS_TIMEOUT_NS (1 s):
        # let it go and the next start, then press Ctrl-C.
        time.sleep(1.5)
        vm.send(CTRL_C)
        prompt = vm.wait_prompt(BACK_IN * nh.timeout_scale())
        out = vm.since(begin)[:prompt.start(1) - begin].replace("\r\n", "\n")
        assert out == "^C\n", f"nslookup was not interrupted: {out!r}"
        assert rig.muted_count() >= 1, "no query reached the rig"
    assert not queries_for(seg, "peer.nos.test"), seg.dns_queries()
    out = vm.run("nslookup peer.nos.test")
    assert f"address: {seg.gateway}" in out, out
    assert queries_for(seg, "peer.nos.test"), seg.dns_queries()
