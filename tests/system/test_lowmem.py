"""
test_lowmem.py — nos in 64 MiB of RAM: the everyday work still runs, and
running out of memory is an error message, never a panic.

One machine for the module (module_boot_vm, `-m 64M`): QEMU user
networking with the static address 10.0.2.15 and 10.0.2.2 (slirp's name
for the host's loopback) as gateway, `dhcp=off dns=off`, so the guest
talks to nothing but the test's own servers on 127.0.0.1; two forwards
from the host's loopback, TCP to the guest's httpd and UDP to its
udpshell; one 16 MiB virtio-blk disk for a nanofs on /data, a ramfs on
/ram.  The host's http.server serves a few MiB of seeded random bytes.

  nanofs     a 4 MiB wget into /data, a cp of it, both crc32s right, sync
  wget/httpd 4 MiB from the host into /ram (crc32), then the guest's httpd
             serves it to an HTTP client on the host through the forward:
             the body is byte for byte what the host served first
  udpsh      commands through the UDP forward come back as the serial
             console prints them; `append` runs once per command
  fill       copies of the 4 MiB file on ramfs until one fails: the copy
             says ENOMEM or ENOSPC (no panic, no hang), the half-made copy
             is gone or short, the shell, `ls`, `memusage`, a wget and the
             UDP shell answer with memory exhausted (success or a clear
             error); deleting the copies gives the memory back (`memusage`
             free within a little of what it was)
  selftest   the boot tests run in 64 MiB; every one passes

  too little  the kernel is loaded at 16 MiB and its image is some 4 MiB, so
             below 23 MiB (found by hand, -m 16M to 64M) GRUB cannot load
             it and the kernel never runs: GRUB's own "error: out of
             memory." must reach the serial line (build/grub.cfg sends
             GRUB's output there too), and the kernel must not start

Figures (free memory, copies made) are printed for `pytest -s`.
"""

import random
import re
import socket
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import nos_harness as nh
from test_mm import memusage
from test_nanofs import blk_args, crc_line
from test_udpshell import free_udp_port

sys.path.insert(0, str(nh.REPO / "scripts"))
import udpsh  # noqa: E402

MEM = "64M"
GUEST = "10.0.2.15"
HOST = "10.0.2.2"
BOOT = f"dhcp=off dns=off ip={GUEST}/24,{HOST} udpshell=9000"
HTTPD_PORT = 8080
BIG = random.Random("lowmem").randbytes(4 << 20)
MAX_COPIES = 40              # 160 MiB: far more than 64 MiB can hold
FREE_SLACK_KIB = 512         # what deleting may leave behind (slabs, caches)
SELFTEST_TIMEOUT = 400
WGET_TIMEOUT = 120


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(BIG)))
        self.end_headers()
        self.wfile.write(BIG)


@pytest.fixture(scope="module")
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    with nh.serving(srv, "lowmem-http"):
        yield srv


@pytest.fixture(scope="module")
def ports():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    tcp = s.getsockname()[1]
    s.close()
    return tcp, free_udp_port()


@pytest.fixture(scope="module")
def disk(tmp_path_factory):
    path = tmp_path_factory.mktemp("lowmem") / "data.img"
    with open(path, "wb") as f:
        f.truncate(16 << 20)
    return path


@pytest.fixture
def vm(module_boot_vm, disk, ports):
    tcp, udp = ports
    net = ["-netdev", f"user,id=n0,hostfwd=tcp:127.0.0.1:{tcp}-:{HTTPD_PORT},"
           f"hostfwd=udp:127.0.0.1:{udp}-:9000", "-device", "virtio-net-pci,netdev=n0"]
    vm = module_boot_vm(cmdline=BOOT, mem=MEM, extra_args=net + blk_args("a", disk, 5))
    if "/ram" not in vm.run("mounts"):
        assert vm.run("mkdir /ram") == ""
        assert vm.run("mount ramfs /ram") == "mounted ramfs on /ram"
    return vm


def url(server):
    return f"http://{HOST}:{server.server_address[1]}/big"


def wget(vm, server, path):
    out = vm.run(f"wget -q {url(server)} {path}", timeout=WGET_TIMEOUT)
    return out.split("\r")[-1].strip()


def crc(vm, path):
    return vm.run(f"crc32 {path}", timeout=60)


def test_boots_in_64_mib(vm):
    vals, out = memusage(vm)
    assert 60 << 10 < vals["total"] <= 64 << 10, out
    print(f"\n64 MiB: memusage total {vals['total']} KiB, free {vals['free']} KiB at the prompt")


def test_nanofs_file_work(vm, server):
    if "/data" not in vm.run("mounts"):
        assert vm.run("format nanofs vda", timeout=60).startswith("formatted vda as nanofs")
        assert vm.run("mkdir /data") == ""
        assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"
    assert "saved to /data/big" in wget(vm, server, "/data/big")
    assert vm.run("cp /data/big /data/copy", timeout=60) == ""
    for path in ("/data/big", "/data/copy"):
        assert crc(vm, path) == crc_line(BIG, path)
    assert vm.run("sync") == "synced"
    assert vm.run("del /data/copy") == ""


def test_wget_into_ramfs_and_httpd_to_the_host(vm, server, ports):
    assert "saved to /ram/big" in wget(vm, server, "/ram/big")
    assert crc(vm, "/ram/big") == crc_line(BIG, "/ram/big")
    out = vm.run(f"httpd start {HTTPD_PORT} /ram")
    assert out == f"httpd: serving /ram on TCP port {HTTPD_PORT}", out
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[0]}/big",
                                    timeout=60 * nh.timeout_scale()) as r:
            body = r.read()
        assert r.status == 200 and len(body) == len(BIG) and body == BIG
    finally:
        assert vm.run("httpd stop", timeout=30) == "httpd: stopped"


def udp_client(ports):
    return udpsh.Client("127.0.0.1", ports[1], timeout=15 * nh.timeout_scale())


def test_udpsh_commands(vm, ports):
    vm.run("write /ram/once start")
    with udp_client(ports) as c:
        assert c.run("version").decode().startswith("nos ")
        for i in range(10):
            assert c.run(f"append /ram/once {i}") == b""
        got = c.run("cat /ram/once").decode().rstrip("\n")
        assert got == "start" + "".join(map(str, range(10)))
    assert vm.run("del /ram/once") == ""


def _fill(vm):
    """cp /ram/big to /ram/fill<k> until a copy fails; (copies made, the
    failing copy's message)."""
    for k in range(MAX_COPIES):
        out = vm.run(f"cp /ram/big /ram/fill{k}", timeout=60)
        if out:
            return k, out
    pytest.fail(f"{MAX_COPIES} copies of 4 MiB fit in {MEM}: memusage\n{vm.run('memusage')}")


def test_ramfs_fills_memory_and_gives_it_back(vm, server, ports):
    if "big" not in vm.run("ls /ram"):
        assert "saved to /ram/big" in wget(vm, server, "/ram/big")
    before, _ = memusage(vm)
    copies, msg = _fill(vm)
    assert re.fullmatch(rf"cp: /ram/fill{copies}: (ENOMEM \(out of memory\)|"
                        r"ENOSPC \(no space left\))", msg), msg
    full, full_text = memusage(vm)
    # With memory gone, everything answers: success or a clear error.
    listing = vm.run("ls /ram")
    assert f"fill{copies - 1}" in listing.split("\n"), listing
    assert vm.run("version").startswith("nos ")
    out = wget(vm, server, "/ram/one-more")
    assert "saved to /ram/one-more" in out or re.search(r"ENOMEM|ENOSPC|out of memory|"
                                                        r"no space", out), out
    try:
        with udp_client(ports) as c:
            udp = c.run("version").decode()
        assert udp.startswith("nos ") or "memory" in udp, udp
    except udpsh.NoAnswer as e:        # no netbuf to answer with: a loss, said clearly
        udp = f"no answer: {e}"
    for k in range(copies + 1):
        vm.run(f"del /ram/fill{k}")
    vm.run("del /ram/one-more")
    after, after_text = memusage(vm)
    print(f"\nramfs fill at {MEM}: {copies} copies of 4 MiB, then {msg!r}; free "
          f"{before['free']} KiB before, {full['free']} KiB full, {after['free']} KiB "
          f"after deleting; udpsh while full: {udp[:40]!r}")
    assert full["free"] < before["free"] - (copies * 4 << 10) + FREE_SLACK_KIB, full_text
    assert after["free"] >= before["free"] - FREE_SLACK_KIB, \
        f"{before['free']} KiB free before, {after['free']} after:\n{after_text}"
    assert vm.run("ls /ram").split("\n") == ["big"]


def test_selftest_in_64_mib(vm):
    out = vm.run("selftest", SELFTEST_TIMEOUT * nh.timeout_scale())
    ok, fail, counts = nh.parse_selftest(out)
    print(f"\nselftest at {MEM}: {len(ok)} passed, {len(fail)} failed {fail}")
    assert counts == [(len(ok), len(fail))] and ok, out[-2000:]
    assert not fail, f"boot tests failing in {MEM}: {fail}"


def test_too_little_memory_is_said_by_grub(nos_build):
    """At 20 MiB the kernel cannot be loaded: GRUB says so on the serial
    line, and no kernel starts."""
    with nh.NosVM(nos_build.iso, mem="20M", name="lowmem-20m") as vm:
        vm.wait_for(r"error: out of memory", timeout=vm.boot_timeout)
        assert " starting (x86_64" not in vm.transcript
