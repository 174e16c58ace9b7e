"""
test_httpd.py — the HTTP file server `httpd`, fetched from by the host's real
`curl` and by Python's http.client and raw sockets.

The rig: a virtio-net NIC on QEMU user networking with one host forward,
127.0.0.1:<free port> -> guest port 8080; `dhcp=off dns=off` on the boot
line and the static address 10.0.2.15/24, so the guest sends nothing but
the answers on the forwarded connections.  A nanofs disk, made on the host
with bin/nanofs (random 4 MiB, 32 MiB and 512 KiB files), is mounted on
/srv/data; small files and directories are written on the root
ramfs in /srv by the shell.  The server serves /srv; /secret.txt lies
outside it.

What is checked:
  files      a small file (headers: Content-Length, Content-Type by
             extension, Server), 4 MiB and 32 MiB from nanofs byte for
             byte (curl's rate is printed, never asserted); HEAD gives the
             head only
  ranges     first-last, first-, -suffix: 206 with Content-Range and the
             exact bytes; past the end: 416 with "bytes */size"
  listings   the names HTML-escaped, hrefs percent-encoded, directories
             with '/', a link to ../ (not at the root); a directory
             without its slash: 301 to the slash form
  errors     404, 405 (POST, with Allow), 414 (a 4 KiB target), 400 for
             a request that is not HTTP; escapes (/../x, /%2e%2e/x,
             /a/%2e%2e/%2e%2e/x, .%2e, ...) are 400 or 404 and never
             return the file outside the directory
  keep-alive two requests on one http.client connection; two pipelined
             requests on a raw socket answered in order; Connection: close
             honoured
  load       20 concurrent curls, every body right
  timeouts   a client that sends nothing is closed after the head timeout
             while others are served
  limit      at the limit (lowered to 4 by the test-only `_httpd_limit`:
             slirp forwards host connections too slowly to open 32 within
             one head timeout) the next connection gets 503 or is closed
  stop       `httpd stop` during a slow download: the prompt comes back,
             no httpd task is left (`ps`), tcpstat shows no connection
             outside TIME_WAIT and no listener
No timing is asserted; the waits are bounds that fail a hung server.
"""

import hashlib
import http.client
import random
import re
import socket
import subprocess
import time

import pytest

from nanofs_tool import run as nanofs, tool  # noqa: F401 (fixture)

GUEST_PORT = 8080
SIZES = {"big4.bin": 4 << 20, "big32.bin": 32 << 20, "mid.bin": 512 << 10}
HELLO = "hello from nos httpd"
SECRET = "top secret outside the served directory"
WEIRD = '<a&b> "q\'.txt'     # every HTML-special byte, and a space


def free_tcp_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HOST_PORT = free_tcp_port()
SLIRP = ["-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{HOST_PORT}-:{GUEST_PORT}",
         "-device", "virtio-net-pci,netdev=n0"]


def payload(name):
    return random.Random(name).randbytes(SIZES[name])


@pytest.fixture(scope="module")
def disk(tmp_path_factory, tool):  # noqa: F811 (the fixture)
    d = tmp_path_factory.mktemp("httpd")
    img = d / "data.img"
    with open(img, "wb") as f:
        f.truncate(64 << 20)
    nanofs(tool, "mkfs", img)
    for name in SIZES:
        src = d / name
        src.write_bytes(payload(name))
        nanofs(tool, "put", img, src, f"/{name}")
        src.unlink()
    return img


def shell_quote(s):
    """@s as one shell word: double quotes, with \\ and \" escaped."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def vm(module_boot_vm, disk):
    """The module's VM with the files made and the server on /srv."""
    drive = ["-drive", f"file={disk},if=none,id=d0,format=raw",
             "-device", "virtio-blk-pci,drive=d0"]
    vm = module_boot_vm(cmdline="dhcp=off dns=off",
                        extra_args=SLIRP + drive)
    if not getattr(vm, "_httpd_files", False):
        if "eth0" not in vm.run("net"):
            pytest.skip("no network device")
        assert "ipv4 10.0.2.15/24" in vm.run("ifconfig eth0 10.0.2.15/24 10.0.2.2")
        assert vm.run("mkdir /srv") == "" and vm.run("mkdir /srv/data") == ""
        assert vm.run("mount nanofs vda /srv/data") == "mounted nanofs vda on /srv/data"
        assert "big4.bin" in vm.run("ls /srv/data")
        for cmd in ["mkdir /srv/sub", "mkdir /srv/sub/deeper", "mkdir /srv/a",
                    f"write /srv/hello.txt {shell_quote(HELLO)}",
                    "write /srv/page.html '<p>hi</p>'",
                    "write /srv/info.json '{\"ok\": true}'",
                    "write /srv/sub/inner.txt inner",
                    f"write {shell_quote('/srv/' + WEIRD)} weird",
                    f"write /secret.txt {shell_quote(SECRET)}",
                    "write /srv/a/%2e%2e literal"]:
            assert vm.run(cmd) == "", cmd
        vm._httpd_files = True
    if vm.run("httpd").startswith("httpd: off"):
        out = vm.run("httpd start 8080 /srv")
        assert out == "httpd: serving /srv on TCP port 8080", out
    return vm


def url(path):
    return f"http://127.0.0.1:{HOST_PORT}{path}"


def curl(*args, timeout=120):
    p = subprocess.run(["curl", "-sS", "--noproxy", "*", *args], capture_output=True,
                       timeout=timeout)
    return p


def request(method, path, headers=None, body=None):
    """One request on its own connection: (status, headers, body)."""
    c = http.client.HTTPConnection("127.0.0.1", HOST_PORT, timeout=60)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r, r.read()
    finally:
        c.close()


def raw(data, timeout=60):
    """Send @data on a fresh connection and read until the server closes."""
    with socket.create_connection(("127.0.0.1", HOST_PORT), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
    return b"".join(chunks)


def status_of(resp):
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", resp)
    assert m, resp[:200]
    return int(m.group(1))


def httpd_status(vm):
    return vm.run("httpd")


def open_conns(vm):
    m = re.search(r"^connections: (\d+) open", httpd_status(vm), re.M)
    assert m, httpd_status(vm)
    return int(m.group(1))


def wait_open(vm, pred, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        n = open_conns(vm)
        if pred(n):
            return n
        if time.monotonic() > deadline:
            pytest.fail(f"connections open: {n}\n{httpd_status(vm)}")
        time.sleep(0.5)


# ------------------------------------------------------------------ files

def test_small_file_with_its_headers(vm):
    st, r, body = request("GET", "/hello.txt")
    assert st == 200 and body == HELLO.encode()
    assert r.getheader("Content-Length") == str(len(HELLO))
    assert r.getheader("Content-Type").startswith("text/plain")
    assert r.getheader("Server") == "nos-httpd/1"
    assert r.getheader("Accept-Ranges") == "bytes"
    assert request("GET", "/page.html")[1].getheader("Content-Type").startswith("text/html")
    assert request("GET", "/info.json")[1].getheader("Content-Type") == "application/json"
    st, r, body = request("GET", "/data/mid.bin")
    assert st == 200 and r.getheader("Content-Type") == "application/octet-stream"
    assert body == payload("mid.bin")


@pytest.mark.parametrize("name", ["big4.bin", "big32.bin"])
def test_big_file_from_nanofs_byte_for_byte(vm, tmp_path, name):
    out = tmp_path / name
    p = curl("-o", str(out), "-w", "%{http_code} %{size_download} %{speed_download}",
             url(f"/data/{name}"), timeout=600)
    assert p.returncode == 0, p.stderr.decode()
    code, size, speed = p.stdout.decode().split()
    assert code == "200" and int(size) == SIZES[name]
    assert hashlib.sha256(out.read_bytes()).digest() == \
        hashlib.sha256(payload(name)).digest()
    print(f"\ncurl {name}: {SIZES[name] >> 20} MiB at {float(speed) / 1e6:.1f} MB/s")


def test_head_gives_the_head_only(vm):
    st, r, body = request("HEAD", "/data/big4.bin")
    assert st == 200 and body == b""
    assert r.getheader("Content-Length") == str(SIZES["big4.bin"])
    # and the connection is still usable: HEAD sent no body bytes
    c = http.client.HTTPConnection("127.0.0.1", HOST_PORT, timeout=60)
    try:
        c.request("HEAD", "/hello.txt")
        r = c.getresponse()
        assert r.read() == b"" and r.getheader("Content-Length") == str(len(HELLO))
        c.request("GET", "/hello.txt")
        assert c.getresponse().read() == HELLO.encode()
    finally:
        c.close()
    p = curl("-I", url("/hello.txt"))
    assert p.returncode == 0 and b"HTTP/1.1 200 OK" in p.stdout, p.stdout


# ----------------------------------------------------------------- ranges

@pytest.mark.parametrize("spec,first,last", [
    ("100-199", 100, 199), ("4194000-", 4194000, (4 << 20) - 1),
    ("-10", (4 << 20) - 10, (4 << 20) - 1), ("0-0", 0, 0),
    ("4194300-99999999", 4194300, (4 << 20) - 1)])
def test_range_gives_206_and_exact_bytes(vm, spec, first, last):
    data = payload("big4.bin")
    st, r, body = request("GET", "/data/big4.bin", {"Range": f"bytes={spec}"})
    assert st == 206, body[:200]
    assert r.getheader("Content-Range") == f"bytes {first}-{last}/{len(data)}"
    assert body == data[first:last + 1]


def test_range_with_curl(vm):
    p = curl("-r", "1000-1999", url("/data/mid.bin"))
    assert p.returncode == 0 and p.stdout == payload("mid.bin")[1000:2000]


def test_unsatisfiable_range_is_416(vm):
    for spec in ["bytes=4194304-", "bytes=99999999-100000000"]:
        st, r, body = request("GET", "/data/big4.bin", {"Range": spec})
        assert st == 416, spec
        assert r.getheader("Content-Range") == f"bytes */{4 << 20}"
    # a range we do not honour is ignored: the whole file
    st, r, body = request("GET", "/hello.txt", {"Range": "bytes=0-1,3-4"})
    assert st == 200 and body == HELLO.encode()


# --------------------------------------------------------------- listings

def test_directory_listing_escapes_names(vm):
    st, r, body = request("GET", "/")
    assert st == 200 and r.getheader("Content-Type").startswith("text/html")
    html = body.decode()
    assert 'href="hello.txt">hello.txt</a>' in html, html
    assert 'href="sub/">sub/</a>' in html and 'href="data/">data/</a>' in html, html
    assert "&lt;a&amp;b&gt; &quot;q&#39;.txt" in html or \
        "&lt;a&amp;b&gt; &quot;q&#x27;.txt" in html, html
    assert 'href="%3Ca%26b%3E%20%22q%27.txt"' in html, html
    assert WEIRD not in html
    assert 'href="../"' not in html          # nothing above the root
    st, _, body = request("GET", "/%3Ca%26b%3E%20%22q%27.txt")
    assert st == 200 and body == b"weird"
    st, _, body = request("GET", "/sub/")
    html = body.decode()
    assert 'href="../"' in html and 'href="deeper/">deeper/</a>' in html, html
    assert 'href="inner.txt"' in html, html
    st, _, body = request("GET", "/data/")
    for name in SIZES:
        assert f'href="{name}"' in body.decode()
    p = curl(url("/sub/"))
    assert p.returncode == 0 and b"inner.txt" in p.stdout


def test_directory_without_slash_redirects(vm):
    st, r, _ = request("GET", "/sub")
    assert st == 301 and r.getheader("Location") == "/sub/"
    st, r, _ = request("GET", "/sub/deeper")
    assert st == 301 and r.getheader("Location") == "/sub/deeper/"
    p = curl("-L", url("/sub"))
    assert p.returncode == 0 and b"inner.txt" in p.stdout


# ----------------------------------------------------------------- errors

def test_errors_404_405_414_400(vm):
    assert request("GET", "/nope.txt")[0] == 404
    assert request("GET", "/hello.txt/")[0] == 404      # a file is not a directory
    st, r, _ = request("POST", "/hello.txt", body=b"x=1")
    assert st == 405 and "GET" in r.getheader("Allow")
    assert request("DELETE", "/hello.txt")[0] == 405
    assert status_of(raw(b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n")) == 501
    assert status_of(raw(b"GET /" + b"a" * 4096 + b" HTTP/1.1\r\nHost: x\r\n\r\n")) == 414
    assert status_of(raw(b"GET / HTTP/1.1\r\n\r\n")) == 400                  # no Host
    assert status_of(raw(b"hello there\r\n\r\n")) == 400
    assert status_of(raw(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n")) == 505
    big = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"p" * 9000 + b"\r\n\r\n"
    assert status_of(raw(big)) == 431
    out = httpd_status(vm)
    for code in ("404", "405", "414", "400"):
        assert re.search(rf" {code} [1-9]\d*", out), out


@pytest.mark.parametrize("target", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/a/%2e%2e/%2e%2e/secret.txt",
    "/.%2e/secret.txt", "/%2E%2E/secret.txt", "/sub/../../secret.txt",
    "/..%2fsecret.txt", "/%2e%2e%2fsecret.txt", "/..\\secret.txt",
    "http://x/../secret.txt", "//../secret.txt"])
def test_no_escape_from_the_directory(vm, target):
    resp = raw(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert status_of(resp) in (400, 404), resp[:200]
    assert SECRET.encode() not in resp


def test_double_encoding_is_a_literal_name(vm):
    # %252e%252e decodes once, to the file named "%2e%2e" inside /srv/a
    st, _, body = request("GET", "/a/%252e%252e")
    assert st == 200 and body == b"literal"


# ------------------------------------------------------------- keep-alive

def test_keep_alive_two_requests_one_connection(vm):
    c = http.client.HTTPConnection("127.0.0.1", HOST_PORT, timeout=60)
    try:
        c.request("GET", "/hello.txt")
        r = c.getresponse()
        assert r.read() == HELLO.encode() and r.getheader("Connection") != "close"
        sock = c.sock
        assert sock is not None
        c.request("GET", "/data/mid.bin")
        r = c.getresponse()
        assert r.read() == payload("mid.bin")
        assert c.sock is sock                # the same connection carried both
    finally:
        c.close()


def test_pipelined_requests_answered_in_order(vm):
    reqs = (b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /sub/inner.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    resp = raw(reqs)
    statuses = [int(s) for s in re.findall(rb"HTTP/1\.1 (\d{3}) ", resp)]
    assert statuses == [200, 404, 200], resp
    assert resp.index(HELLO.encode()) < resp.index(b"inner")
    assert resp.endswith(b"inner")


def test_http10_closes_unless_asked(vm):
    resp = raw(b"GET /hello.txt HTTP/1.0\r\n\r\n")
    assert status_of(resp) == 200 and b"Connection: close" in resp
    assert resp.endswith(HELLO.encode())


# ------------------------------------------------------------------- load

def test_twenty_concurrent_curls(vm, tmp_path):
    procs = []
    for i in range(20):
        out = tmp_path / f"c{i}"
        procs.append((out, subprocess.Popen(
            ["curl", "-sS", "--noproxy", "*", "-o", str(out), url("/data/mid.bin")],
            stderr=subprocess.PIPE)))
    want = hashlib.sha256(payload("mid.bin")).digest()
    for out, p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
        assert hashlib.sha256(out.read_bytes()).digest() == want
    wait_open(vm, lambda n: n == 0)


# --------------------------------------------------------------- timeouts

def test_silent_client_is_closed_while_others_are_served(vm):
    before = re.search(r"timed out (\d+)", httpd_status(vm)).group(1)
    s = socket.create_connection(("127.0.0.1", HOST_PORT), timeout=60)
    try:
        for _ in range(3):
            st, _, body = request("GET", "/hello.txt")
            assert st == 200 and body == HELLO.encode()
        # the server closes it (the bound here is the socket's 60 s, not the
        # server's timeout)
        assert s.recv(100) == b""
    finally:
        s.close()
    after = re.search(r"timed out (\d+)", httpd_status(vm)).group(1)
    assert int(after) > int(before)


def test_connection_limit(vm):
    # QEMU's user networking hands host connections to the guest a few per
    # second, too slowly to open 32 within one head timeout: the test lowers
    # the limit (the same check, a smaller number)
    assert "connections: 0 open" in httpd_status(vm) or wait_open(vm, lambda n: n == 0) == 0
    assert vm.run("_httpd_limit 4") == "httpd: at most 4 connections open"
    silent = []
    try:
        for _ in range(4):
            silent.append(socket.create_connection(("127.0.0.1", HOST_PORT), timeout=60))
        wait_open(vm, lambda n: n == 4, timeout=30)
        assert "at most 4 open" in httpd_status(vm)
        before = re.search(r"refused (\d+)", httpd_status(vm)).group(1)
        try:
            resp = raw(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n", timeout=30)
        except (ConnectionResetError, BrokenPipeError):
            resp = b""
        assert resp == b"" or status_of(resp) == 503, resp
        print("\nover the limit:", "503" if resp else "closed without an answer")
        after = re.search(r"refused (\d+)", httpd_status(vm)).group(1)
        assert int(after) == int(before) + 1
    finally:
        for s in silent:
            s.close()
        vm.run("_httpd_limit 32")
    wait_open(vm, lambda n: n == 0)
    assert "at most 32 open" in httpd_status(vm)
    assert request("GET", "/hello.txt")[0] == 200


# ------------------------------------------------------------------- stop

def tcp_live(vm):
    out = vm.run("tcpstat")
    rows = [line.split()[0] for line in out.split("\n")[1:]
            if re.match(r"^[A-Z][A-Z_0-9]+ ", line)]
    return [r for r in rows if r != "TIME_WAIT"], out


def test_stop_during_a_download(vm, tmp_path):
    out = tmp_path / "partial"
    p = subprocess.Popen(["curl", "-sS", "--noproxy", "*", "--limit-rate", "500k", "-o",
                          str(out), url("/data/big32.bin")], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() or out.stat().st_size < 100_000:
            assert time.monotonic() < deadline, "the download did not start"
            assert p.poll() is None, p.stderr.read().decode()
            time.sleep(0.2)
        assert vm.run("httpd stop", timeout=30) == "httpd: stopped"
        p.wait(timeout=60)
        assert p.returncode != 0                     # cut short, not completed
        assert out.stat().st_size < SIZES["big32.bin"]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert "httpd" not in vm.run("ps")
    assert vm.run("httpd").startswith("httpd: off")
    deadline = time.monotonic() + 60
    while True:
        live, text = tcp_live(vm)
        if not live:
            break
        assert time.monotonic() < deadline, f"connections left: {text}"
        time.sleep(1)
    assert vm.run("httpd stop") == "httpd: not running"
    # and it starts again on the same port
    assert vm.run("httpd start 8080 /srv") == "httpd: serving /srv on TCP port 8080"
    assert request("GET", "/hello.txt")[2] == HELLO.encode()
    assert vm.run("httpd stop") == "httpd: stopped"


def test_start_mistakes(vm):
    assert vm.run("httpd stop") == "httpd: stopped"
    assert vm.run("httpd start 8081 /nosuch").startswith("httpd: /nosuch: ENOENT")
    assert vm.run("httpd start 8081 /srv/hello.txt").startswith("httpd: /srv/hello.txt: ENOTDIR")
    assert vm.run("httpd start 8082 /srv") == "httpd: serving /srv on TCP port 8082"
    assert vm.run("httpd start 8083") == "httpd: already running (httpd stop first)"
    assert vm.run("httpd stop") == "httpd: stopped"
