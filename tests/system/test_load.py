"""
test_load.py — everything at once: the whole system under load from Linux
peers in the namespace rig, and afterwards nothing left behind (issue 16,
"Load").

Why: each subsystem has tests of its own, one thing at a time.  Under load
they meet — the NIC's rings are full of flood pings while httpd streams
files, the UDP shell's runners take turns with a disk benchmark, a download
competes with all of it for the network task — and what breaks there
(a leaked netbuf, a connection that never leaves the table, a counter that
skips, a panic in a path that only a race reaches) shows nowhere else.

The rig: one bridge (net_rig.py), the guest on its tap with the pinned
address from DHCP, -smp 2, a sparse 256 MiB raw scratch disk as virtio-blk
(vda, for `diskbench`), the UDP shell on its default port 9000.  Three
Linux hosts stand on the bridge, each in a namespace of its own: the
pinger (.20), the web clients (.21) and the shell clients (.22); the
bridge's own namespace (.1) serves the guest's downloads (http.server,
HTTP/1.0).  Before the load the guest fetches three files of random bytes
(64 KiB, 256 KiB, 1 MiB) into /srv on its ramfs with `wget` (their crc32
checked) and serves /srv with `httpd`.

The load, all at once for LOAD_S (60) seconds:
  ping     `ping -f -i 0.002 -w 60 -c 200000` from the pinger (a request
           whenever a reply comes and at least every 2 ms).  Under TCG a flood
           loses some: the guest must answer most (>= MIN_PING_SHARE), not
           all.
  httpd    rounds of 100 concurrent connections from the web clients, each
           fetching one of the files; a fetch ends with the whole file
           (sha256 checked) or a clean 503 (httpd refuses beyond its 32
           open connections), never a short body, a reset or a hang past
           a timeout.  A client that got 503 tries again (bounded) until it
           has its file: every client of every round gets it.
  shell    8 clients of the UDP shell (scripts/udpsh.py's Client, on a
           socket in the shell host's namespace), each in a loop: `version`
           (the serial shell's text exactly), `cat` of a file of its own
           (its own words, so a piece of another client's reply would
           show), `ls /srv`, `cpu`, `memusage` (whole, first to last line).
           A "busy" answer (at most 4 commands run at once) is counted and
           the client goes on.
  disk     a ninth shell client runs `diskbench vda 32` in a loop: every
           pass verifies.
  wget     the serial shell downloads 16 MiB from the bridge's server
           again and again into /dl.bin on the root ramfs (crc32 checked,
           then deleted).
Every loop is bounded in count as well as in time.

Afterwards:
  - no panic (the harness raises on one), the serial shell answers;
  - `tcpstat` shows the httpd listener and no connection at all, once
    TIME_WAIT (2 MSL = 60 s) has drained — a bounded wait; the UDP shell's
    sessions have expired by then too (60 s idle);
  - the UDP shell keeps no reply ("replies kept: 0 KiB"): its sessions
    expired and the resender freed what they held (this is what found the
    bug below);
  - "back to idle": the `net` netbuf count in use equals the idle figure
    taken before the load (the RX ring's buffers; up to NETBUF_SLACK more
    for a frame in flight — an ARP, a DHCP renewal).  In `memusage`, every
    pool class has exactly its idle count of objects in use (plus at most
    POOL_SLACK) but for one cache that legitimately grows: the netbuf pool
    keeps every netbuf a burst made (net/netbuf.c), one descriptor (class
    64) and one 2 KiB buffer (class 2048) each, and `net` says how many
    were made; so those two classes may hold that many more.  The KiB
    used outside the pools is within MEM_SLACK_KIB of idle.  The idle
    figures are taken after a warm-up that already talked to every host
    (ARP entries, the first slabs for connections);
  - the counters add up: the guest's ICMP echo replies >= the replies the
    pinger got, echo requests <= what it sent; httpd's 200s = the fetches
    completed, its 503s and "refused" = the 503s the clients got, its
    accepted = the connections made; the UDP shell's requests = the
    commands that got a real reply and its busy = the busy answers (exact
    when no client had to retransmit; bounds otherwise).
Bug found (fixed in net/udpshell_session.c and udpshell_task.c): an
expired session's stored reply was freed only when another request came
(or the store filled), so a quiet shell kept up to 4 MiB of replies for
good; the resender now frees them every USH_REAP_NS (5 s).  Unit test:
udpshell.the_reaper_frees_an_expired_sessions_reply_without_a_request.

Figures (pings, connections, commands, MB downloaded, disk MB/s) are printed
(pytest -s) for docs/reliability.md; none is asserted as a rate.  Without
root the test skips with "needs root" (a failure under
NOS_REQUIRE_ROOT_TESTS=1).  The whole test is bounded: about 3 minutes.
"""

import hashlib
import random
import re
import socket
import subprocess
import sys
import threading
import time
import zlib
from collections import Counter

import pytest

import net_rig as nr
import nos_harness as nh

sys.path.insert(0, str(nh.REPO / "scripts"))
import udpsh  # noqa: E402

LOAD_S = 60
HTTPD_PORT = 8080
SHELL_PORT = 9000
FILES = {"f64k.bin": 64 << 10, "f256k.bin": 256 << 10, "f1m.bin": 1 << 20}
DOWNLOAD = "d16m.bin"
DOWNLOAD_SIZE = 16 << 20
WEB_CLIENTS = 100
FETCH_TRIES = 60            # attempts per client per round (503s retried)
FETCH_TIMEOUT = 30          # s: a connect, or silence mid-response
SHELL_CLIENTS = 8
SHELL_CMD_CAP = 2000        # commands per shell client, at most
# The bridge loses nothing, so a client resends only when a reply is slow;
# resending late (udpsh's own default is 0.4 s) keeps the counters exact: a
# resent request that had been answered "busy" may run after all.
SHELL_RETRY = 2.0
DISKBENCH_RETRY = 10.0      # diskbench is silent while it writes 32 MiB
DISKBENCH = "diskbench vda 32"
DISKBENCH_CAP = 40
WGET_CAP = 20
PING_CAP = 200000
PING_INTERVAL = "0.002"     # s: with -f, a request at least this often, replies or not
MIN_PING_SHARE = 0.5        # of the flood's requests the guest must answer
NETBUF_SLACK = 2
POOL_SLACK = 2              # objects per pool class
MEM_SLACK_KIB = 16          # pages outside the pools (a stack, a buffer in flight)
NB_DESC_CLASS, NB_BUF_CLASS = 64, 2048   # a netbuf's descriptor and buffer (net/netbuf.c)
JOIN_S = 120                # after the window: the last round and commands end
DRAIN_S = 100               # TIME_WAIT (60 s) and session expiry (60 s)
BUSY = b"udpshell: busy:"

PAYLOADS = {name: random.Random(f"load-{name}").randbytes(n) for name, n in FILES.items()}
DIGESTS = {name: hashlib.sha256(b).digest() for name, b in PAYLOADS.items()}
DOWNLOAD_BODY = random.Random("load-download").randbytes(DOWNLOAD_SIZE)

WGET_RE = re.compile(r"^200 OK, (\d+) bytes in ([\d.]+) s \(([^)]*)\), saved to (\S+)$", re.M)
NETBUFS_RE = re.compile(r"^netbufs: (\d+) in use, \d+ cached, (\d+) of \d+ made", re.M)
USED_RE = re.compile(r"^used: (\d+) KiB", re.M)
POOL_RE = re.compile(r"^\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", re.M)
BENCH_RE = re.compile(r"^(write|read): (\d+) MiB in (\d+) ms = ([\d.]+) MiB/s", re.M)


def scaled(seconds):
    return seconds * nh.timeout_scale()


def client_words(i):
    """The contents of shell client @i's own file: nobody else's."""
    return f"client {i} owns this line: " + random.Random(f"words-{i}").randbytes(24).hex()


# ------------------------------------------------------ guest figures ----

def netbufs(vm):
    """(netbufs in use, netbufs made) from `net`."""
    out = vm.run("net")
    m = NETBUFS_RE.search(out)
    assert m, out
    return int(m[1]), int(m[2])


def link_drops(vm):
    """eth0's (rx drops, tx drops) and the netbuf allocations that failed, from `net`."""
    out = vm.run("net")
    rx = re.search(r"^  rx\s+\d+\s+\d+\s+(\d+)\s+\d+$", out, re.M)
    tx = re.search(r"^  tx\s+\d+\s+\d+\s+(\d+)\s+\d+$", out, re.M)
    failed = re.search(r"allocations, (\d+) failed", out)
    assert rx and tx and failed, out
    return int(rx[1]), int(tx[1]), int(failed[1])


def memory(vm):
    """(KiB used outside the pools, {pool class: objects in use}, text) from
    `memusage` (which hands cached empty slabs back first)."""
    out = vm.run("memusage")
    used = USED_RE.search(out)
    rows = list(POOL_RE.finditer(out))
    assert used and rows, out
    pools = {int(m[1]): int(m[3]) for m in rows}
    return int(used[1]) - sum(int(m[5]) for m in rows), pools, out


def counters(text, *names):
    """{name: int} for "name N" / "N name" pairs in a status text."""
    got = {}
    for name in names:
        m = re.search(rf"\b{re.escape(name)} (\d+)", text)
        assert m, f"{name!r} not in:\n{text}"
        got[name] = int(m[1])
    return got


def icmp_counts(vm):
    """(echo requests received, echo replies sent)."""
    out = vm.run("icmpstat")
    req = re.search(r"^8\s+echo request\s+(\d+)\s+(\d+)$", out, re.M)
    rep = re.search(r"^0\s+echo reply\s+(\d+)\s+(\d+)$", out, re.M)
    assert req and rep, out
    return int(req[1]), int(rep[2])


def httpd_counts(vm):
    out = vm.run("httpd")
    got = counters(out, "accepted", "refused", "requests", "reset", "timed out")
    codes = dict(re.findall(r" (\d{3}) (\d+)", out.split("by status:")[1]))
    got["200"], got["503"] = int(codes["200"]), int(codes["503"])
    return got


def shell_counts(vm):
    out = vm.run("udpshell")
    got = counters(out, "datagrams", "requests", "busy", "retransmissions", "send errors")
    got["sessions"] = int(re.search(r"^sessions: (\d+) of", out, re.M)[1])
    got["kept KiB"] = int(re.search(r"^replies kept: (\d+) KiB", out, re.M)[1])
    return got


def tcp_rows(vm):
    """tcpstat's connection and listener rows (their state first), and the text."""
    out = vm.run("tcpstat")
    rows = [line for line in out.split("\n")[1:] if re.match(r"^[A-Z][A-Z_0-9]+ ", line)]
    return rows, out


def wait_until(check, timeout):
    deadline = time.monotonic() + scaled(timeout)
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(1)


# ---------------------------------------------------------- web load ----

class FetchError(Exception):
    pass


def _read_head(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(4096)
        if not data:
            raise FetchError(f"closed before the end of the head ({len(buf)} bytes)")
        buf += data
        if len(buf) > 16384:
            raise FetchError("a head of more than 16 KiB")
    head, rest = buf.split(b"\r\n\r\n", 1)
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", head)
    length = re.search(rb"\r\ncontent-length: *(\d+)", head, re.I)
    if not m or not length:
        raise FetchError(f"a head without status or length: {head[:200]!r}")
    return int(m[1]), int(length[1]), rest


def fetch_once(ns, ip, name):
    """One GET of /@name on a new connection: (status, body).  FetchError
    for anything but a complete response (short body, reset, timeout)."""
    s = ns.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(scaled(FETCH_TIMEOUT))
        s.connect((ip, HTTPD_PORT))
        s.sendall(f"GET /{name} HTTP/1.1\r\nHost: nos\r\n\r\n".encode())
        status, length, body = _read_head(s)
        body = bytearray(body)
        while len(body) < length:
            data = s.recv(min(1 << 16, length - len(body)))
            if not data:
                raise FetchError(f"{status} body cut at {len(body)} of {length} bytes")
            body += data
        if len(body) != length:
            raise FetchError(f"{len(body) - length} bytes past Content-Length")
        return status, bytes(body)
    except OSError as e:
        raise FetchError(f"{type(e).__name__}: {e}") from e
    finally:
        s.close()
        try:
            ns.sockets.remove(s)
        except ValueError:
            pass


class WebLoad:
    """Rounds of WEB_CLIENTS concurrent clients until @deadline; tallies
    connections, fetches, 503s and every failure (with its reason)."""

    def __init__(self, ns, ip, deadline):
        self.ns, self.ip, self.deadline = ns, ip, deadline
        self.tally = Counter()
        self.failures = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._rounds, daemon=True, name="web-load")

    def _note(self, what, n=1):
        with self.lock:
            self.tally[what] += n

    def _client(self, i, rnd):
        name = list(FILES)[(i + rnd) % len(FILES)]
        for attempt in range(FETCH_TRIES):
            self._note("connections")
            try:
                status, body = fetch_once(self.ns, self.ip, name)
            except FetchError as e:
                self._note("errors")
                with self.lock:
                    self.failures.append(f"round {rnd} client {i} {name}: {e}")
                return
            if status == 503:
                self._note("503")
                time.sleep(0.2 + 0.05 * min(attempt, 10))
                continue
            if status != 200 or hashlib.sha256(body).digest() != DIGESTS[name]:
                with self.lock:
                    self.failures.append(f"round {rnd} client {i} {name}: status {status}, "
                                         f"{len(body)} bytes, content wrong")
                return
            self._note("fetched")
            self._note("bytes", len(body))
            return
        with self.lock:
            self.failures.append(f"round {rnd} client {i}: 503 {FETCH_TRIES} times")

    def _rounds(self):
        rnd = 0
        while time.monotonic() < self.deadline and not self.failures:
            threads = [threading.Thread(target=self._client, args=(i, rnd), daemon=True)
                       for i in range(WEB_CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(scaled(FETCH_TRIES * (FETCH_TIMEOUT + 1)))
            if any(t.is_alive() for t in threads):
                self.failures.append(f"round {rnd}: a client never ended")
                return
            rnd += 1
            self._note("rounds")


# -------------------------------------------------------- shell load ----

class NsShellClient(udpsh.Client):
    """udpsh.Client on a socket of the rig's namespace @ns (the guest is
    reachable only from there)."""

    def __init__(self, ns, host, port, **kw):
        super().__init__(host, port, **kw)
        self.sock.close()
        self.sock = ns.socket()
        self.sock.connect(self.addr)


class ShellLoop:
    """One UDP shell client running @commands (a list of (command, check))
    in turn until @deadline or @cap commands; check(reply) -> None or the
    reason the reply is wrong."""

    def __init__(self, name, ns, ip, commands, deadline, cap=SHELL_CMD_CAP, retry=SHELL_RETRY):
        self.name, self.commands, self.deadline, self.cap = name, commands, deadline, cap
        self.client = NsShellClient(ns, ip, SHELL_PORT, timeout=scaled(60), retry=retry,
                                    retry_max=2 * retry)
        self.tally = Counter()
        self.failures = []
        self.replies = []          # kept by checks that want the figures
        self.thread = threading.Thread(target=self._loop, daemon=True, name=name)

    def _loop(self):
        for n in range(self.cap):
            if time.monotonic() >= self.deadline:
                return
            cmd, check = self.commands[n % len(self.commands)]
            self.tally["sent"] += 1
            try:
                reply = self.client.run(cmd)
            except udpsh.NoAnswer as e:
                self.failures.append(f"{self.name}: `{cmd}`: {e}")
                return
            if reply.startswith(BUSY):
                self.tally["busy"] += 1
                time.sleep(0.05)
                continue
            self.tally["ran"] += 1
            why = check(reply.decode(errors="replace"))
            if why:
                self.failures.append(f"{self.name}: `{cmd}`: {why}\n{reply[:600]!r}")
                return


def exactly(want):
    return lambda got: None if got == want else "not the serial shell's text"


def memusage_whole(got):
    lines = got.rstrip("\n").split("\n")
    if not (lines[0].startswith("total: ") and lines[-1].startswith("firmware-reserved")):
        return "not one whole memusage"
    if sum(line.startswith("total: ") for line in lines) != 1:
        return "two memusage tables in one reply"
    return None


def cpu_whole(got):
    lines = got.rstrip("\n").split("\n")
    ok = lines[0].startswith("cpu0: ") and re.match(r"^2 of 2 CPUs online", lines[-1])
    return None if ok and sum(line.startswith("cpu1: ") for line in lines) == 1 \
        else "not one whole cpu listing"


def bench_ok(loop):
    def check(got):
        if "verify: ok" not in got or len(BENCH_RE.findall(got)) != 2:
            return "diskbench did not write, read and verify"
        loop.replies.append(got)
        return None
    return check


# --------------------------------------------------------------- the test ----

@pytest.fixture
def load_rig(net_rig, boot_vm, tmp_path):
    """The rig with its three hosts and server, the guest booted and set up,
    its files served by httpd."""
    rig = net_rig()
    hosts = {"ping": rig.add_host(), "web": rig.add_host(), "shell": rig.add_host()}
    disk = tmp_path / "scratch.img"
    with open(disk, "wb") as f:
        f.truncate(256 << 20)
    vm = nr.boot_on_rig(boot_vm, rig, extra_args=[
        "-drive", f"file={disk},if=none,id=d0,format=raw",
        "-device", "virtio-blk-pci,drive=d0"])
    ip = rig.seg.wait_lease(rig.seg.mac())
    assert ip == rig.seg.guest_ip(), rig.seg.log()
    nr.wait_bound(vm)
    server = nr.NsHttpServer(rig.ns, rig.seg.gateway, {**PAYLOADS, DOWNLOAD: DOWNLOAD_BODY})
    try:
        assert vm.run("mkdir /srv") == ""
        for name, body in PAYLOADS.items():
            out = vm.run(f"wget -q {server.url(name)} /srv/{name}", timeout=scaled(60))
            assert WGET_RE.search(out), out
            assert vm.run(f"crc32 /srv/{name}").startswith(f"{zlib.crc32(body):08x}  ")
        for i in range(SHELL_CLIENTS):
            assert vm.run(f"write /srv/c{i}.txt '{client_words(i)}'") == ""
        assert vm.run(f"httpd start {HTTPD_PORT} /srv") == \
            f"httpd: serving /srv on TCP port {HTTPD_PORT}"
        yield rig, hosts, vm, server, ip
    finally:
        server.close()


def warm_up(hosts, vm, ip):
    """Talk to every host once, so that what an idle guest keeps anyway (ARP
    entries, the pools' first slabs for connections) is there before the
    idle figures are taken."""
    for h in hosts.values():
        assert h.ping(ip, count=2).received == 2
    for name in FILES:
        status, body = fetch_once(hosts["web"].ns, ip, name)
        assert status == 200 and hashlib.sha256(body).digest() == DIGESTS[name]
    assert "verify: ok" in vm.run("diskbench vda 1", timeout=scaled(60))


def test_everything_at_once(load_rig):
    rig, hosts, vm, server, ip = load_rig
    t_setup = time.monotonic()
    warm_up(hosts, vm, ip)
    assert wait_until(lambda: len(tcp_rows(vm)[0]) == 1, DRAIN_S), \
        f"the warm-up's connections never left:\n{tcp_rows(vm)[1]}"
    idle_nb, idle_made = netbufs(vm)
    drops0 = link_drops(vm)
    idle_used, idle_pools, idle_mem = memory(vm)
    icmp0, httpd0, shell0 = icmp_counts(vm), httpd_counts(vm), shell_counts(vm)
    version = vm.run("version")
    ls_srv = vm.run("ls /srv")

    t0 = time.monotonic()
    deadline = t0 + LOAD_S
    pinger = hosts["ping"].ns.popen(
        ["ping", "-n", "-q", "-f", "-i", PING_INTERVAL, "-w", str(LOAD_S), "-c", str(PING_CAP),
         ip],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    web = WebLoad(hosts["web"].ns, ip, deadline)
    shells = []
    for i in range(SHELL_CLIENTS):
        cmds = [("version", exactly(version + "\n")),
                (f"cat /srv/c{i}.txt", exactly(client_words(i) + "\n")),
                ("ls /srv", exactly(ls_srv + "\n")),
                ("cpu", cpu_whole), ("memusage", memusage_whole)]
        shells.append(ShellLoop(f"shell-{i}", hosts["shell"].ns, ip, cmds[i % 5:] + cmds[:i % 5],
                                deadline))
    bench = ShellLoop("diskbench", hosts["shell"].ns, ip, [], deadline, cap=DISKBENCH_CAP,
                      retry=DISKBENCH_RETRY)
    bench.commands = [(DISKBENCH, bench_ok(bench))]
    for loop in [web, *shells, bench]:
        loop.thread.start()

    downloads, dl_seconds = 0, 0.0
    try:
        while time.monotonic() < deadline and downloads < WGET_CAP:
            out = vm.run(f"wget -q {server.url(DOWNLOAD)} /dl.bin", timeout=scaled(120))
            m = WGET_RE.search(out)
            assert m and int(m[1]) == DOWNLOAD_SIZE, out
            crc = vm.run("crc32 /dl.bin", timeout=scaled(60))
            assert crc.startswith(f"{zlib.crc32(DOWNLOAD_BODY):08x}  "), crc
            assert vm.run("del /dl.bin") == ""
            downloads += 1
            dl_seconds += float(m[2])
    finally:
        end = time.monotonic() + scaled(JOIN_S)
        for loop in [web, *shells, bench]:
            loop.thread.join(max(0.1, end - time.monotonic()))
        try:
            ping_out, _ = pinger.communicate(timeout=scaled(LOAD_S + 30))
        except subprocess.TimeoutExpired:
            pinger.kill()
            ping_out, _ = pinger.communicate()
    elapsed = time.monotonic() - t0

    # --- what the peers saw
    assert not web.thread.is_alive() and not web.failures, "\n".join(web.failures[:20])
    for loop in [*shells, bench]:
        assert not loop.thread.is_alive(), f"{loop.name} never ended"
        assert not loop.failures, "\n".join(loop.failures)
    ping = nr.PingResult.parse(ping_out)
    assert ping.sent > 0 and ping.received >= MIN_PING_SHARE * ping.sent, ping_out

    # --- the guest is well and empties its tables
    assert vm.run("version") == version

    def drained():
        rows, _ = tcp_rows(vm)
        sh = shell_counts(vm)
        return len(rows) == 1 and sh["sessions"] == 0 and sh["kept KiB"] == 0
    t_drain = time.monotonic()
    wait_until(drained, DRAIN_S)
    t_drain = time.monotonic() - t_drain
    rows, text = tcp_rows(vm)
    assert len(rows) == 1 and rows[0].startswith("LISTEN") and f":{HTTPD_PORT}" in rows[0], \
        f"connections left after {DRAIN_S} s:\n{text}"
    shell1 = shell_counts(vm)
    assert shell1["sessions"] == 0 and shell1["kept KiB"] == 0, \
        f"the UDP shell keeps replies of expired sessions:\n{vm.run('udpshell')}"

    # --- back to idle
    nb = wait_until(lambda: (lambda n: n if n[0] <= idle_nb + NETBUF_SLACK else None)(
        netbufs(vm)), 15)
    assert nb is not None and idle_nb <= nb[0], \
        f"netbufs in use {netbufs(vm)}, {idle_nb} when idle\n" + vm.run("net")
    nb, made = nb
    used, pools, mem = memory(vm)
    # The netbuf pool keeps what a burst made (net/netbuf.c): each netbuf
    # made since the idle figures is a descriptor (pool class 64) and a
    # buffer (class 2048) that stay allocated, cached.  Nothing else may
    # stay: every class holds its idle count, plus at most POOL_SLACK.
    cache = made - idle_made
    want = dict(idle_pools)
    want[NB_DESC_CLASS] = want.get(NB_DESC_CLASS, 0) + cache
    want[NB_BUF_CLASS] = want.get(NB_BUF_CLASS, 0) + cache
    grown = {c: (want.get(c, 0), n) for c, n in pools.items()
             if n > want.get(c, 0) + POOL_SLACK}
    assert not grown and used <= idle_used + MEM_SLACK_KIB, \
        f"memory not back to idle (class: expected, now {grown}; {cache} netbufs " \
        f"made since idle):\nidle:\n{idle_mem}\nnow:\n{mem}"

    # --- the counters add up
    icmp1, httpd1 = icmp_counts(vm), httpd_counts(vm)
    drops = [b - a for a, b in zip(drops0, link_drops(vm))]
    requests, replies = icmp1[0] - icmp0[0], icmp1[1] - icmp0[1]
    assert replies >= ping.received and requests <= ping.sent, \
        (requests, replies, ping_out)
    # the bridge's server: the setup's files, then every download whole
    assert server.counts["sent whole"] == len(FILES) + downloads, server.counts
    assert server.counts["cut short"] == 0, server.counts
    d = {k: httpd1[k] - httpd0[k] for k in httpd1}
    t = web.tally
    assert d["200"] == t["fetched"] and d["503"] == t["503"] == d["refused"], (d, t)
    assert d["accepted"] == t["connections"], (d, t)
    ran = sum(s.tally["ran"] for s in [*shells, bench])
    busy = sum(s.tally["busy"] for s in [*shells, bench])
    sent = sum(s.tally["sent"] for s in [*shells, bench])
    retx = sum(s.client.stats["retransmitted"] for s in [*shells, bench])
    dreq = shell1["requests"] - shell0["requests"]
    dbusy = shell1["busy"] - shell0["busy"]
    d_retx = shell1["retransmissions"] - shell0["retransmissions"]
    d_dgrams = shell1["datagrams"] - shell0["datagrams"]
    facts = (f"guest before {shell0}, after {shell1}; clients: {sent} commands, {ran} ran, "
             f"{busy} busy, {retx} resent")
    # every datagram the guest took is a new command, a resend or a busy
    # answer (our clients send nothing malformed), and it took no more than
    # the clients sent
    assert d_dgrams == dreq + d_retx + dbusy and d_dgrams <= sent + retx, facts
    if retx == 0:
        assert (dreq, dbusy) == (ran, busy), facts
    else:
        # a resend of a request that was answered "busy" may run it after all
        assert ran <= dreq <= sent and dreq + dbusy >= sent, facts

    rates = [(m[1], float(m[4])) for r in bench.replies for m in BENCH_RE.finditer(r)]
    w = [r for k, r in rates if k == "write"]
    rd = [r for k, r in rates if k == "read"]
    print(f"\nwarm-up {t0 - t_setup:.0f} s, load for {elapsed:.0f} s (window {LOAD_S} s), "
          f"tables drained {t_drain:.0f} s after:"
          f"\n  flood ping: {ping.sent} sent, {ping.received} answered ({ping.loss:g} % lost);"
          f" guest counted {requests} echo requests, {replies} replies"
          f"\n  httpd: {t['rounds']} rounds of {WEB_CLIENTS} clients, {t['connections']} "
          f"connections, {t['fetched']} files ({t['bytes'] / 1e6:.1f} MB), {t['503']} x 503"
          f"\n  udp shell: {sent} commands from {SHELL_CLIENTS + 1} clients, {ran} ran, "
          f"{busy} busy, {retx} retransmissions (the guest counted "
          f"{shell1['retransmissions'] - shell0['retransmissions']}, and "
          f"{shell1['send errors'] - shell0['send errors']} send errors)"
          f"\n  wget: {downloads} x {DOWNLOAD_SIZE >> 20} MiB = "
          f"{downloads * DOWNLOAD_SIZE / 1e6:.1f} MB in {dl_seconds:.1f} s"
          f"\n  diskbench: {len(bench.replies)} passes of 32 MiB, write "
          f"{min(w, default=0):.1f}-{max(w, default=0):.1f} MiB/s, read "
          f"{min(rd, default=0):.1f}-{max(rd, default=0):.1f} MiB/s"
          f"\n  eth0: {drops[0]} frames dropped in, {drops[1]} out; {drops[2]} netbuf "
          f"allocations failed"
          f"\n  after: netbufs {nb} in use (idle {idle_nb}), {cache} more made and cached;"
          f" {used} KiB used outside the pools (idle {idle_used} KiB)")
