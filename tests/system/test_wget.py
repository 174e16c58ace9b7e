"""
test_wget.py — the HTTP client and `wget` over QEMU user networking, against
an HTTP server of the test's own on the host's loopback.

The rig: a virtio-net NIC on slirp, the static address 10.0.2.15/24 with
10.0.2.2 (slirp's alias of the host's 127.0.0.1) as gateway, `dhcp=off
dns=off` on the boot line, so no DHCP server and no DNS server is ever
configured and a name is refused before anything is sent.  The guest
addresses 10.0.2.2 only.  (The netdev is not `restrict=on`: that would
stop the guest's connections to the host too.)  The server is a
ThreadingHTTPServer on 127.0.0.1 at a free port, with routes for every
case below; a second port that listens and never answers, and a third
that nobody listens on.  One virtio-blk disk carries a nanofs on /data.

What is checked:
  sizes      16 KiB, 1 MiB and 32 MiB of random data saved on nanofs and
             on ramfs: the guest's `crc32` equals zlib.crc32 of what the
             server sent; without a path: status, size, time and rate;
             the request line and fields the server saw
  console    `-O -` (and `<url> -`) prints a small text body
  redirects  each of 301, 302, 303, 307, 308 with an absolute and a
             relative Location; a chain of exactly 5 is followed; a loop
             stops after 5 with "too many redirects" and 6 requests seen
  failures   a closed port: refused at once; no address: "network
             unreachable" (nothing sent); a server that never answers:
             "timed out" after -T seconds and the shell still answers; a
             bad Content-Length: "bad response"; a body cut short:
             "truncated body", the partial file deleted; 404: no file;
             https: refused; a name with dns=off: "cannot resolve"
  chunked    a chunked body saved intact
  Ctrl-C     during a trickling download: the prompt comes back, the
             partial file is deleted
  HEAD       `-I`: status and size, no body asked for
After every test `tcpstat` shows no connection outside TIME_WAIT.
Download rates are printed (pytest -s), never asserted.
"""

import random
import re
import socket
import subprocess
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import nos_harness as nh

HOST = "10.0.2.2"
CTRL_C = b"\x03"
SLIRP = ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
SIZES = {"16k": 16 << 10, "1m": 1 << 20, "32m": 32 << 20}
TEXT = b"hello from the host\n"
REDIRECTS = [301, 302, 303, 307, 308]
SUMMARY_RE = re.compile(r"^(\d{3}) (.*?), (\d+) bytes in (\d+\.\d\d) s \(([\d.]+ [KM]?i?B/s)\)"
                        r"(?:, saved to (\S+))?$", re.M)


def payload(name):
    return random.Random(name).randbytes(SIZES[name])


CHUNKED = random.Random("chunked").randbytes(300_001)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_body(self, body, ctype="application/octet-stream", code=200):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, code, location):
        self.send_response(code)
        self.send_header("Location", location)
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"moved\r\n")

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        srv = self.server
        with srv.lock:
            srv.requests.append((self.command, self.path, dict(self.headers.items())))
        parts = self.path.strip("/").split("/")
        try:
            self.route(parts)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def route(self, parts):
        port = self.server.server_address[1]
        if parts[0] == "data" and len(parts) == 2 and parts[1] in SIZES:
            self.send_body(self.server.payloads[parts[1]])
        elif parts == ["text"]:
            self.send_body(TEXT, "text/plain")
        elif parts[0] == "redir" and len(parts) == 3:
            # absolute, or relative to /redir/<code>/rel: ../../text is /text
            loc = f"http://{HOST}:{port}/text" if parts[2] == "abs" else "../../text"
            self.redirect(int(parts[1]), loc)
        elif parts[0] == "chain" and len(parts) == 2:
            n = int(parts[1])
            self.redirect(302, f"/chain/{n - 1}" if n > 1 else "/text")
        elif parts[0] == "loop":
            self.redirect(302, f"/loop/{int(parts[1]) + 1}")
        elif parts == ["chunked"]:
            self.chunked()
        elif parts == ["badlen"]:
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nhello")
        elif parts == ["short"]:
            self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)
        elif parts == ["trickle"]:
            self.trickle()
        else:
            self.send_body(b"not here\n", "text/plain", 404)

    def raw(self, data):
        self.wfile.write(data)
        self.wfile.flush()
        self.close_connection = True

    def chunked(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        rng, off = random.Random(7), 0
        while off < len(CHUNKED):
            n = min(rng.choice([1, 17, 1000, 4096, 65536, 70001]), len(CHUNKED) - off)
            ext = b";x=y" if n == 17 else b""
            self.wfile.write(b"%x%s\r\n" % (n, ext) + CHUNKED[off:off + n] + b"\r\n")
            off += n
        self.wfile.write(b"0\r\nX-Trailer: done\r\n\r\n")

    def trickle(self):
        self.send_response(200)
        self.send_header("Content-Length", str(4 << 20))
        self.end_headers()
        for _ in range(2000):   # at most 200 s; stops at the guest's reset
            self.wfile.write(b"t" * 1024)
            self.wfile.flush()
            time.sleep(0.1)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.requests = []
        self.payloads = {name: payload(name) for name in SIZES}

    def take_requests(self):
        with self.lock:
            out, self.requests = self.requests, []
        return out


@pytest.fixture(scope="module")
def server():
    with nh.serving(Server(), "wget-http") as srv:
        yield srv


@pytest.fixture(scope="module")
def silent_port():
    """A port that completes handshakes (the listen backlog) and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    yield s.getsockname()[1]
    s.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    path = tmp_path_factory.mktemp("wget") / "data.img"
    subprocess.run(["truncate", "-s", "160M", str(path)], check=True)
    return path


@pytest.fixture
def vm(module_boot_vm, disk, server):
    blk = ["-drive", f"file={disk},if=none,id=d0,format=raw",
           "-device", "virtio-blk-pci,drive=d0"]
    vm = module_boot_vm(cmdline="dhcp=off dns=off", extra_args=SLIRP + blk)
    if "wget" not in vm.run("help"):
        pytest.skip("no wget command")
    if "10.0.2.15/24" not in vm.run("ifconfig eth0"):
        out = vm.run(f"ifconfig eth0 10.0.2.15/24 {HOST}")
        assert "ipv4 10.0.2.15/24, gateway 10.0.2.2" in out, out
    if "/data" not in vm.run("mounts"):
        out = vm.run("format nanofs vda", timeout=60)
        assert out.startswith("formatted vda as nanofs"), out
        vm.run("mkdir /data")
        assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"
    server.take_requests()
    yield vm
    if vm.healthy:
        assert_no_live_connections(vm)


def assert_no_live_connections(vm, timeout=15):
    """tcpstat lists nothing but TIME_WAIT (closing states are waited out)."""
    deadline = time.monotonic() + timeout
    while True:
        out = vm.run("tcpstat")
        rows = [line.split()[0] for line in out.split("\n")[1:]
                if re.match(r"^[A-Z][A-Z_0-9]+ ", line)]
        live = [r for r in rows if r != "TIME_WAIT"]
        if not live:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"connections left open: {out}")
        time.sleep(1)


def url(server, path):
    return f"http://{HOST}:{server.server_address[1]}{path}"


def last_line(out):
    """The summary: what follows the last progress line's '\\r'."""
    return out.split("\r")[-1].strip("\n").split("\n")[-1]


def summary(out):
    m = SUMMARY_RE.search(last_line(out))
    assert m, repr(out)
    return m


def run_download(vm, cmd, timeout=150):
    """Run a long wget; if it never ends, say where it stands before failing."""
    try:
        return vm.run(cmd, timeout=timeout)
    except nh.NosTimeout:
        vm.send(CTRL_C)
        try:
            after = vm.resync(timeout=20)
            state = f"Ctrl-C brought the prompt back: {after!r}\n" + vm.run("tcpstat")
        except nh.NosError as e:
            state = f"not even Ctrl-C brought the prompt back: {e}"
        pytest.fail(f"`{cmd}` never ended ({timeout} s; every wait in it has a 30 s "
                    f"timeout)\n{state}")


def guest_crc(vm, path):
    out = vm.run(f"crc32 {path}", timeout=180)
    m = re.match(r"^([0-9a-f]{8})  (\S+) \((\d+) bytes\)$", out)
    assert m, out
    return int(m.group(1), 16), int(m.group(3))


@pytest.mark.parametrize("name", ["16k", "1m", "32m"])
@pytest.mark.parametrize("where", ["/data", "/ram"])
def test_download_saved_to_a_file_matches_the_host_crc(vm, server, name, where):
    if where == "/ram" and "/ram" not in vm.run("mounts"):
        vm.run("mkdir /ram")
        assert vm.run("mount ramfs /ram") == "mounted ramfs on /ram"
    path = f"{where}/{name}.bin"
    out = run_download(vm, f"wget {url(server, '/data/' + name)} {path}")
    m = summary(out)
    size = SIZES[name]
    assert m.group(1, 2, 3, 6) == ("200", "OK", str(size), path), out
    print(f"\nwget {name} -> {where}: {m.group(4)} s, {m.group(5)}")
    assert guest_crc(vm, path) == (zlib.crc32(server.payloads[name]), size)
    assert vm.run(f"del {path}") == ""
    (method, target, fields), = server.take_requests()
    assert (method, target) == ("GET", f"/data/{name}")
    assert fields["Host"] == f"{HOST}:{server.server_address[1]}", fields
    assert fields["User-Agent"] == "nos-wget/1", fields
    assert fields["Accept"] == "*/*" and fields["Connection"] == "close", fields


@pytest.mark.parametrize("name", ["1m", "32m"])
def test_without_a_path_status_size_time_and_rate(vm, server, name):
    out = run_download(vm, f"wget {url(server, '/data/' + name)}")
    m = summary(out)
    assert m.group(1, 2, 3) == ("200", "OK", str(SIZES[name])), out
    assert m.group(6) is None, out
    print(f"\nwget {name} (not saved): {m.group(4)} s, {m.group(5)}")


def test_dash_o_dash_prints_the_body(vm, server):
    assert vm.run(f"wget -O - {url(server, '/text')}") == TEXT.decode().rstrip("\n")
    assert vm.run(f"wget -q {url(server, '/text')} -") == TEXT.decode().rstrip("\n")


def test_head_reports_status_and_size(vm, server):
    assert vm.run(f"wget -I {url(server, '/data/1m')}") == f"200 OK, {1 << 20} bytes"
    assert [r[:2] for r in server.take_requests()] == [("HEAD", "/data/1m")]


@pytest.mark.parametrize("kind", ["abs", "rel"])
@pytest.mark.parametrize("code", REDIRECTS)
def test_each_redirect_code_is_followed(vm, server, code, kind):
    out = vm.run(f"wget {url(server, f'/redir/{code}/{kind}')}")
    lines = out.split("\n")
    assert lines[0] == f"followed 1 redirect to {url(server, '/text')}", out
    assert summary(out).group(1, 3) == ("200", str(len(TEXT))), out
    assert [r[1] for r in server.take_requests()] == [f"/redir/{code}/{kind}", "/text"]


def test_redirect_saved_to_a_file(vm, server):
    out = vm.run(f"wget {url(server, '/redir/307/rel')} /data/r.txt")
    assert summary(out).group(6) == "/data/r.txt", out
    assert vm.run("cat /data/r.txt") == TEXT.decode().rstrip("\n")
    vm.run("del /data/r.txt")


def test_five_redirects_are_followed_a_sixth_is_too_many(vm, server):
    out = vm.run(f"wget {url(server, '/chain/5')}")
    assert f"followed 5 redirects to {url(server, '/text')}" in out, out
    assert summary(out).group(1) == "200", out
    server.take_requests()
    out = vm.run(f"wget {url(server, '/loop/0')} /data/loop.bin")
    assert out == "wget: too many redirects (more than 5)", out
    assert [r[1] for r in server.take_requests()] == [f"/loop/{i}" for i in range(6)]
    assert "loop.bin" not in vm.run("ls /data")


def test_closed_port_is_refused_at_once(vm):
    port = free_port()
    t0 = time.monotonic()
    out = vm.run(f"wget http://{HOST}:{port}/x", timeout=8)   # the connect timeout is 10 s
    assert out == f"wget: connection refused by {HOST}:{port}", out
    assert time.monotonic() - t0 < 8


def test_no_route_is_network_unreachable(vm, server):
    port = server.server_address[1]
    assert "address removed" in vm.run("ifconfig eth0 none")
    try:
        out = vm.run(f"wget {url(server, '/text')}", timeout=10)
    finally:
        vm.run(f"ifconfig eth0 10.0.2.15/24 {HOST}")
    assert out == f"wget: connecting to {HOST}:{port}: network unreachable (no route)", out
    assert server.take_requests() == []


def test_silent_server_times_out_and_the_shell_answers(vm, silent_port):
    out = vm.run(f"wget -T 3 http://{HOST}:{silent_port}/x /data/silent.bin", timeout=30)
    assert out == f"wget: timed out waiting for the response from {HOST}:{silent_port} (3 s)", out
    assert "silent.bin" not in vm.run("ls /data")
    assert "ipv4 10.0.2.15/24" in vm.run("ifconfig eth0")


def test_ctrl_c_stops_a_slow_download(vm, server):
    vm.send(f"wget {url(server, '/trickle')} /data/slow.bin\r")
    vm.wait_for(r"KiB of 4\.0 MiB", timeout=30)     # the progress line: it is running
    vm.send(CTRL_C)
    out = vm.resync(timeout=15)
    assert "wget: interrupted" in out, repr(out)
    assert "wget: removed the partial file /data/slow.bin" in out, repr(out)
    assert "slow.bin" not in vm.run("ls /data")


def test_chunked_body_is_saved_intact(vm, server):
    out = vm.run(f"wget {url(server, '/chunked')} /data/chunked.bin", timeout=60)
    assert summary(out).group(1, 3) == ("200", str(len(CHUNKED))), out
    assert guest_crc(vm, "/data/chunked.bin") == (zlib.crc32(CHUNKED), len(CHUNKED))
    vm.run("del /data/chunked.bin")


def test_bad_content_length_is_a_bad_response(vm, server):
    port = server.server_address[1]
    out = vm.run(f"wget {url(server, '/badlen')} /data/bad.bin")
    assert out == f"wget: bad response from {HOST}:{port}: bad Content-Length", out
    assert "bad.bin" not in vm.run("ls /data")


def test_truncated_body_is_reported_and_the_file_removed(vm, server):
    port = server.server_address[1]
    out = vm.run(f"wget {url(server, '/short')} /data/short.bin")
    assert out.split("\n") == [
        f"wget: truncated body: {HOST}:{port} closed after 5000 of 100000 bytes",
        "wget: removed the partial file /data/short.bin (5000 bytes)"], out
    assert "short.bin" not in vm.run("ls /data")


def test_not_found_writes_no_file(vm, server):
    out = vm.run(f"wget {url(server, '/nope')} /data/nope.bin")
    assert out == f"wget: {url(server, '/nope')}: 404 Not Found", out
    assert "nope.bin" not in vm.run("ls /data")


def test_a_file_that_cannot_be_made_is_reported(vm, server):
    out = vm.run(f"wget {url(server, '/text')} /nosuch/t.txt")
    assert out == "wget: /nosuch/t.txt: ENOENT (no such directory)", out
    out = vm.run(f"wget {url(server, '/text')} /data")
    assert out == "wget: /data: EISDIR (is a directory)", out


@pytest.mark.parametrize("cmd, expect", [
    ("wget https://10.0.2.2/x", "wget: https is not supported (only http:// URLs)"),
    ("wget http://nosuch.example/x",
     "wget: cannot resolve 'nosuch.example': name lookups are off (dns=off)"),
    ("wget ftp://10.0.2.2/x", "wget: bad URL: "),
    ("wget -T 0 http://10.0.2.2/x", "wget: seconds must be"),
])
def test_refusals_are_one_line_errors(vm, cmd, expect):
    out = vm.run(cmd)
    assert out.startswith(expect), out
