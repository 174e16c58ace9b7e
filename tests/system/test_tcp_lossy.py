"""
test_tcp_lossy.py — nos's TCP over a bad path: frames dropped, held back
and delayed by the relay (net_relay.py), or dropped by nftables (the rig's
random_loss()), with Linux peers in the rig's namespace on the other end.

One rig, one relay (seeded) and one guest for the module: the guest's NIC
is on the relay, the relay on the rig's tap, so every frame between the
guest and the bridge passes the relay, and the bridge's nftables rules on
that tap as well.  The Linux peers live in this very process, on sockets
made inside the namespace (rig.socket()): an HTTP server (http.server's
ThreadingHTTPServer) on the bridge's address, a sink that counts what the
guest sends and echoes it back, and an http.client that fetches from the
guest's `httpd`.  The guest keeps a ramfs on /ram.

"Lossy" below is the relay's 2 % drop each way and 3 % of frames held back
behind the next one (reordering), on TCP frames only (ARP and DHCP pass
untouched, so a lease renewal cannot be what fails), and 20 ms of delay on
every TCP frame toward the guest; each test reseeds both directions with a
seed of its own, so which frames it loses does not depend on the tests
before it.

That the loss was real is shown three ways: the relay's (or nftables')
drop counters, the namespace's TCP RetransSegs in /proc/net/snmp (what
the Linux peer sent again) and the guest's `tcpstat` — its retransmission
count when it is the sender, its out-of-order count when it receives (a
receiver's pure ACKs are never resent, so its retransmissions stay put).

  wget 8 MiB   `wget -q` of 8 MiB from the namespace's HTTP server into
               /ram under the lossy path: the guest's `crc32` equals
               zlib.crc32 of what the server sent; the relay dropped TCP
               frames both ways and `tcpstat` counted retransmissions.
  nc out       `nc -q -n 4194304` to the sink under the lossy path: the
               sink got exactly the 4 MiB of nc's pattern ('a' + i % 26),
               echoed them, and nc reports the same size and crc32.
  httpd        a Linux client downloads 4 MiB from the guest's `httpd`
               (the file fetched into /ram with wget first) under the
               lossy path: the body is the server's file, byte for byte.
  nft loss     the relay clean, nftables dropping 5 % each way on the tap
               instead: a 4 MiB download with the right crc32; the rules
               dropped frames both ways.  (No second boot: the relay writes
               into the very tap the rules watch.  Toward the guest the
               bridge's hooks see the Linux stack's GSO packets, several
               segments each, so one drop there loses a burst.)
  vanish       a slow download under way, then the relay's blackhole both
               ways: wget (-T 5) ends with its idle timeout, removes the
               partial file, the prompt comes back and the shell answers;
               no connection is left in the guest; once the blackhole is
               lifted the server's own retransmission is answered with a
               RST, which ends the server's side too.

After every test `tcpstat` lists nothing outside TIME_WAIT and the `net`
netbuf count is back to what it was when the guest was idle at the start
(TIME_WAIT connections hold no netbuf).  Retransmission counts are printed
(pytest -s); the only clocks are generous bounds that tell a hang from an
answer.  Without root everything skips with "needs root" (a failure under
NOS_REQUIRE_ROOT_TESTS=1).

The tests where the guest receives are the ones that found the need for
SACK: without it Linux's blind resends after a timeout drew duplicate ACKs,
it decided the path reordered a whole window and waited out doubling RTOs
(docs/tcp.md, "SACK").  A stalled transfer's failure message carries
Linux's `ss -tni` samples of the connection.
"""

import http.client
import random
import re
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import net_relay as rl
import net_rig as nr
import nos_harness as nh

SEED = 14
SIZES = {"8m": 8 << 20, "4m": 4 << 20}
SLOW_SIZE = 64 << 20        # the vanish test's body: never sent whole
SLOW_CHUNK = 32 << 10
SLOW_PAUSE = 0.02           # s between chunks: ~1.5 MiB/s, a download mid-way for long
VANISH_AFTER = 2 << 20      # bytes sent before the peer vanishes
NC_BYTES = 4 << 20
HTTPD_PORT = 8080
NETBUF_SLACK = 2            # netbufs in flight on the idle guest (an ARP, a lease)
LOSSY = {"both": {"drop": 0.02, "reorder": 0.03, "kinds": ["tcp"]},
         "to_guest": {"delay_ms": 20}}


def lossy_path(seed):
    """LOSSY with both directions' generators reseeded (each test its own
    seed, so that which frames it loses does not depend on the tests before)."""
    return {**LOSSY, "both": {**LOSSY["both"], "seed": seed}}
SUMMARY_RE = re.compile(r"^200 OK, (\d+) bytes in [\d.]+ s \([^)]*\), saved to (\S+)$", re.M)
NC_RE = re.compile(r"^received (\d+) bytes, crc32 ([0-9a-f]{8}), in \d+ ms", re.M)
RETX_RE = re.compile(r"^segments: \d+ in, \d+ out; retransmits (\d+) "
                     r"\(fast (\d+), timeouts (\d+)\)$", re.M)
OOO_RE = re.compile(r"; out of order (\d+); dup acks (\d+)$", re.M)
NETBUFS_RE = re.compile(r"^netbufs: (\d+) in use", re.M)

PAYLOADS = {name: random.Random(f"tcp-lossy-{name}").randbytes(n)
            for name, n in SIZES.items()}


def pattern(n):
    """nc's -n bytes: byte i is 'a' + i % 26."""
    unit = bytes(range(ord("a"), ord("a") + 26))
    return (unit * (n // 26 + 1))[:n]


# ------------------------------------------------------ Linux peers ----

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60                 # a socket stuck under the blackhole ends

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        name = self.path.strip("/")
        srv.note(name, "requests", 1)
        try:
            if name in PAYLOADS:
                self.send_whole(PAYLOADS[name])
            elif name == "slow":
                self.send_slowly()
            else:
                self.send_error(404)
            srv.note(name, "ended", "complete")
        except OSError as e:
            srv.note(name, "ended", type(e).__name__)

    def head(self, length):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()

    def send_whole(self, body):
        self.head(len(body))
        self.wfile.write(body)

    def send_slowly(self):
        self.head(SLOW_SIZE)
        chunk = bytes(SLOW_CHUNK)
        for _ in range(SLOW_SIZE // SLOW_CHUNK):
            self.wfile.write(chunk)
            self.wfile.flush()
            self.server.note("slow", "sent", SLOW_CHUNK)
            time.sleep(SLOW_PAUSE)


class NsHttpServer(ThreadingHTTPServer):
    """http.server on a listening socket inside the rig's namespace."""
    daemon_threads = True

    def __init__(self, rig, ip):
        super().__init__((ip, 0), Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = rig.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((ip, 0))
        self.server_address = self.socket.getsockname()
        self.server_name, self.server_port = self.server_address
        self.server_activate()
        self.lock = threading.Lock()
        self.stats = {}

    def note(self, name, what, value):
        with self.lock:
            per = self.stats.setdefault(name, {"requests": 0, "sent": 0, "ended": None})
            if what == "ended":
                per[what] = value
            else:
                per[what] += value

    def get(self, name, what):
        with self.lock:
            return self.stats.get(name, {}).get(what)

    def forget(self, name):
        with self.lock:
            self.stats.pop(name, None)


# ------------------------------------------------------- the guest ----

def netbufs(vm):
    out = vm.run("net")
    m = NETBUFS_RE.search(out)
    assert m, out
    return int(m[1])


def retransmits(vm):
    """tcpstat's totals: (retransmits, fast, timeouts)."""
    return tcp_totals(vm, "retransmits", "fast", "timeouts")


def tcp_totals(vm, *names):
    """tcpstat's totals ({name: n} of @names, or of all)."""
    out = vm.run("tcpstat")
    m, o = RETX_RE.search(out), OOO_RE.search(out)
    assert m and o, out
    got = dict(zip(("retransmits", "fast", "timeouts"), map(int, m.groups())))
    got["out_of_order"], got["dup_acks"] = int(o[1]), int(o[2])
    return tuple(got[n] for n in names) if names else got


def linux_retransmits(rig):
    """The namespace's TCP RetransSegs (/proc/net/snmp is per namespace):
    what the Linux peers sent again."""
    lines = [l.split() for l in rig.exec(["cat", "/proc/net/snmp"]).stdout.split("\n")
             if l.startswith("Tcp:")]
    names, values = lines[0], lines[1]
    return int(values[names.index("RetransSegs")])


def live_connections(vm):
    """tcpstat's rows outside TIME_WAIT (listeners included), and its text."""
    out = vm.run("tcpstat")
    rows = [line for line in out.split("\n")[1:] if re.match(r"^[A-Z][A-Z_0-9]+ ", line)]
    return [r for r in rows if not r.startswith("TIME_WAIT")], out


def wait_until(what, check, timeout):
    """Poll @check() until it is truthy; its last value (falsy on timeout)."""
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def assert_nothing_leaks(vm, idle_netbufs):
    live = wait_until("no live connection", lambda: not live_connections(vm)[0], 20)
    assert live, f"connections left open:\n{live_connections(vm)[1]}"
    back = wait_until("netbufs idle",
                      lambda: netbufs(vm) <= idle_netbufs + NETBUF_SLACK, 15)
    assert back, f"netbufs {netbufs(vm)} in use, {idle_netbufs} when idle:\n" + vm.run("net")


def guest_crc(vm, path):
    out = vm.run(f"crc32 {path}", timeout=120 * nh.timeout_scale())
    m = re.match(r"^([0-9a-f]{8})  (\S+) \((\d+) bytes\)$", out)
    assert m, out
    return int(m[1], 16), int(m[3])


def run_long(vm, cmd, timeout=200):
    """Run a long command; if it never ends, say where it stands before
    failing (every wait in wget and nc has its own bound)."""
    try:
        return vm.run(cmd, timeout=timeout * nh.timeout_scale())
    except nh.NosTimeout:
        vm.send(b"\x03")
        try:
            state = vm.resync(timeout=20) + "\n" + vm.run("tcpstat")
        except nh.NosError as e:
            state = f"not even Ctrl-C brought the prompt back: {e}"
        pytest.fail(f"`{cmd}` never ended ({timeout} s)\n{state}")


def wget_to(rig, vm, server, name, path):
    """wget -q of @name into @path; checks the summary line."""
    url = f"http://{server.server_name}:{server.server_port}/{name}"
    with SsSampler(rig, server.server_port) as ss:
        out = run_long(vm, f"wget -q {url} {path}")
    m = SUMMARY_RE.search(out)
    assert m and m.group(1, 2) == (str(SIZES[name]), path), \
        f"{out}\nthe server's socket (ss) meanwhile:\n{ss.text()}"
    return out


class SsSampler:
    """Linux's view of the TCP connections on @port in the namespace (`ss
    -tni`), sampled every @every s while a transfer runs, the last few
    kept: when the guest's side stalls, the failure shows what the sender
    was doing (backoff, unacked, the window it was offered)."""

    def __init__(self, rig, port, every=2.0, keep=6):
        self.rig, self.port, self.every, self.keep = rig, port, every, keep
        self.samples = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="ss-sampler")

    def _run(self):
        t0 = time.monotonic()
        while not self.stop.wait(self.every):
            try:
                out = self.rig.exec(["ss", "-tni", f"( sport = :{self.port} or "
                                     f"dport = :{self.port} )"], check=False).stdout
            except Exception as e:  # noqa: BLE001 (a sample is only a clue)
                out = repr(e)
            self.samples = (self.samples + [f"t={time.monotonic() - t0:.0f}s {out.strip()}"]
                            )[-self.keep:]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
        return False

    def text(self):
        return "\n".join(self.samples)


def tcp_dropped(relay, stats=None):
    stats = stats or relay.stats()
    return {d: relay.counters(d, "tcp", stats)["dropped"] for d in rl.DIRECTIONS}


# ----------------------------------------------------------- fixtures ----

@pytest.fixture(scope="module")
def _lossy_guest(request):
    """The module's rig, relay, guest (lease in place, /ram mounted), the
    namespace's HTTP server and the guest's idle netbuf count."""
    nr.require_rig()                 # before the build is even looked at
    iso = request.getfixturevalue("iso_cache").get("")
    with rl.guest_behind_relay(iso, "tcp_lossy_guest", SEED) as (rig, relay, vm):
        vm.run("mkdir /ram")
        assert vm.run("mount ramfs /ram") == "mounted ramfs on /ram"
        with nh.serving(NsHttpServer(rig, rig.seg.gateway), "ns-http") as server:
            yield rig, relay, vm, server, netbufs(vm)


@pytest.fixture
def lossy(request, _lossy_guest):
    rig, relay, vm, server, idle = _lossy_guest
    rl.take_module_wire(request, rig, relay, vm)
    yield rig, relay, vm, server
    if relay.alive:
        relay.clear()
    if rig._losing:
        rig.random_loss(0, 0)
    if vm.healthy:
        assert_nothing_leaks(vm, idle)


# -------------------------------------------------------------- tests ----

def test_wget_8m_over_a_lossy_path(lossy):
    rig, relay, vm, server = lossy
    before, dropped0 = tcp_totals(vm), tcp_dropped(relay)
    linux0 = linux_retransmits(rig)
    with relay.impaired(**lossy_path(SEED + 1)):
        wget_to(rig, vm, server, "8m", "/ram/8m")
        stats = relay.stats()
    assert guest_crc(vm, "/ram/8m") == (zlib.crc32(PAYLOADS["8m"]), SIZES["8m"])
    after, dropped = tcp_totals(vm), tcp_dropped(relay, stats)
    linux = linux_retransmits(rig) - linux0
    d = {k: after[k] - before[k] for k in after}
    print(f"\n8 MiB wget, lossy: Linux sender retransmitted {linux}; guest tcpstat "
          f"{d}; relay dropped {dict((k, dropped[k] - dropped0[k]) for k in dropped)}, "
          f"reordered {stats['to_guest']['kinds']['tcp']['reordered']} toward the guest")
    # The loss was real: the relay dropped segments and ACKs, the sender
    # (Linux) sent segments again, and the guest saw holes in the stream
    # (tcpstat's out-of-order count; its retransmits move only when its
    # request or FIN was lost: a receiver's pure ACKs are never resent).
    assert all(dropped[k] > dropped0[k] for k in rl.DIRECTIONS), (dropped0, dropped)
    assert stats["to_guest"]["kinds"]["tcp"]["reordered"] > 0, stats
    assert linux > 0 and d["out_of_order"] > 0, (linux, d)
    assert server.get("8m", "ended") == "complete"
    assert vm.run("del /ram/8m") == ""


def test_nc_sends_to_a_linux_sink_over_a_lossy_path(lossy):
    rig, relay, vm, server = lossy
    sink = nr.EchoSink(rig, rig.seg.gateway)
    before, linux0 = retransmits(vm), linux_retransmits(rig)
    t0 = time.monotonic()
    with relay.impaired(**lossy_path(SEED + 2)):
        with SsSampler(rig, sink.port) as ss:
            out = run_long(vm, f"nc -q -n {NC_BYTES} {rig.seg.gateway} {sink.port}")
        took = time.monotonic() - t0
        stats = relay.stats()
    sink.thread.join(30)
    after, linux = retransmits(vm), linux_retransmits(rig) - linux0
    print(f"\nnc 4 MiB out and back, lossy: guest retransmits {after[0] - before[0]} "
          f"(fast {after[1] - before[1]}, timeouts {after[2] - before[2]}); Linux "
          f"retransmits {linux}")
    want = zlib.crc32(pattern(NC_BYTES))
    state = (f"nc: {out!r} after {took:.1f} s; sink: {sink.bytes} bytes, "
             f"crc {sink.crc:08x}, error {sink.error!r}, echoed {sink.echoed}; "
             f"relay {stats}\nthe sink's socket (ss) meanwhile:\n{ss.text()}")
    assert sink.error is None and not sink.thread.is_alive(), state
    assert (sink.bytes, sink.crc) == (NC_BYTES, want), state
    m = NC_RE.search(out)
    assert m and (int(m[1]), int(m[2], 16)) == (NC_BYTES, want), state
    # The guest sent 4 MiB through 2 % loss: it must have sent some again.
    assert after[0] > before[0], (before, after)


def test_linux_client_downloads_from_httpd_over_a_lossy_path(lossy):
    rig, relay, vm, server = lossy
    wget_to(rig, vm, server, "4m", "/ram/4m")
    out = vm.run(f"httpd start {HTTPD_PORT} /ram")
    assert out == f"httpd: serving /ram on TCP port {HTTPD_PORT}", out
    ip = rig.seg.guest_ip()
    try:
        before, dropped0 = retransmits(vm), tcp_dropped(relay)
        with relay.impaired(**lossy_path(SEED + 3)):
            sock = rig.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(60 * nh.timeout_scale())
            sock.connect((ip, HTTPD_PORT))
            conn = http.client.HTTPConnection(ip, HTTPD_PORT)
            conn.sock = sock
            conn.request("GET", "/4m", headers={"Connection": "close"})
            resp = conn.getresponse()
            body = resp.read()
            conn.close()
            dropped = tcp_dropped(relay)
        after = retransmits(vm)
        print(f"\nhttpd 4 MiB to Linux, lossy: guest retransmits {after[0] - before[0]} "
              f"(fast {after[1] - before[1]}, timeouts {after[2] - before[2]}); relay "
              f"dropped {dict((d, dropped[d] - dropped0[d]) for d in dropped)}")
        assert resp.status == 200 and resp.getheader("Content-Length") == str(SIZES["4m"])
        assert len(body) == SIZES["4m"] and body == PAYLOADS["4m"]
        assert all(dropped[d] > dropped0[d] for d in rl.DIRECTIONS), (dropped0, dropped)
        assert after[0] > before[0], (before, after)   # the guest was the sender
    finally:
        assert vm.run("httpd stop", timeout=30) == "httpd: stopped"
        vm.run("del /ram/4m")


def test_wget_4m_through_nftables_random_loss(lossy):
    rig, relay, vm, server = lossy
    server.forget("4m")
    before, linux0 = tcp_totals(vm), linux_retransmits(rig)
    with rig.losing(5, 5):
        wget_to(rig, vm, server, "4m", "/ram/4m-nft")
        c = rig.loss_counters()
    after, linux = tcp_totals(vm), linux_retransmits(rig) - linux0
    d = {k: after[k] - before[k] for k in after}
    print(f"\n4 MiB wget, nft 5 % each way: Linux sender retransmitted {linux}; "
          f"guest tcpstat {d}; nft {c}")
    assert guest_crc(vm, "/ram/4m-nft") == (zlib.crc32(PAYLOADS["4m"]), SIZES["4m"])
    assert c["to"]["dropped"] > 0 and c["from"]["dropped"] > 0, c
    assert linux > 0 and d["out_of_order"] > 0, (linux, d)
    assert vm.run("del /ram/4m-nft") == ""


def resets_sent(vm):
    out = vm.run("tcpstat")
    m = re.search(r"^resets: \d+ in, (\d+) out", out, re.M)
    assert m, out
    return int(m[1])


def test_the_peer_vanishing_mid_transfer_ends_it(lossy):
    rig, relay, vm, server = lossy
    url = f"http://{server.server_name}:{server.server_port}/slow"
    vm.send(f"wget -q -T 5 {url} /ram/slow.bin\r")
    moving = wait_until("mid-way", lambda: (server.get("slow", "sent") or 0) >= VANISH_AFTER, 60)
    assert moving, f"the slow download never got going: {server.stats}"
    relay.blackhole(True)
    try:
        # wget's 5 s without data, then the prompt (60 s tells it from a hang).
        out = vm.resync(timeout=60 * nh.timeout_scale())
        assert re.search(r"wget: timed out: no data from \S+ for 5 s", out), repr(out)
        assert "wget: removed the partial file /ram/slow.bin" in out, repr(out)
        assert vm.run("version"), "the shell did not answer"
        assert "slow.bin" not in vm.run("ls /ram")
        live, text = live_connections(vm)
        assert not live, text            # wget's reset freed it, heard or not
        resets = resets_sent(vm)
        s = relay.stats()
        assert s["to_guest"]["blackholed"] > 0 and s["from_guest"]["blackholed"] > 0, s
    finally:
        relay.blackhole(False)
    rig.exec(["ip", "neigh", "flush", "all"])   # an entry the silence failed
    # The server still retransmits into a connection the guest has dropped:
    # the guest answers with a RST and the server's side ends as well.
    ended = wait_until("server side reset", lambda: server.get("slow", "ended"), 45)
    assert ended in ("ConnectionResetError", "BrokenPipeError"), (ended, server.stats)
    assert resets_sent(vm) > resets
    assert server.get("slow", "sent") < SLOW_SIZE
