"""
test_udpshell.py — the remote UDP shell (docs/udpshell.md) and its client,
scripts/udpsh.py.

Two halves.

The client against a stand-in (no VM): `StandIn` below is a small Python
server that speaks the protocol as the doc writes it and can misbehave on
purpose — drop the first requests, send chunks out of order and twice, mix
in foreign datagrams, sign with another key, stop half-way.  What the client
must do is checked there exactly: reassembly by index, streaming in order,
retransmission of the very same bytes, drops counted by reason, the
message and exit status when nobody answers, usage errors, the packet
functions against every malformed form, the interactive prompt under a
pseudo-terminal.

The client against the kernel: QEMU user networking with a forward of a
UDP port on the host's 127.0.0.1 to the guest's port 9000, booted with
`dhcp=off ip=10.0.2.15/24,10.0.2.2 udpshell=9000` so nothing waits for
DHCP.  Not `restrict=on`: libslirp drops every UDP datagram a restricted
guest sends before it looks for a socket, so the forward's replies would
never leave (checked: `udpsend 10.0.2.2` arrives without it, not with it).
The network rule holds all the same: the guest only answers the client,
through the forward, and pings 10.0.2.2, which slirp answers itself; no
DHCP, no DNS.  One VM per module and configuration (module_boot_vm): one without a
key, one with `udpshell.key=`.  The serial console is the referee: the same
command's output there, the `udpshell` command's drop counters, `ls /` and
`cat` for the traces left by commands that should or should not have run.

  commands   every command of `help` through `udpsh.py -c` (the few that
             stop the machine or run for long left out): the deterministic
             ones, and every usage error, give what the serial shell gives
  size       a 100 KiB file (written through the serial shell) comes back
             whole and in order, streamed in pieces
  many       100 commands in a row, each with its own reply; 4 clients at
             once, each with its own
  loss       through a seeded proxy on the loopback that drops 20 % and
             duplicates 10 % of the datagrams both ways: complete, correct
             replies, and `append` runs exactly once per command
  garbage    random bytes, another magic, a short header, a len past the
             end, chunk != 0, REPLY set, reserved != 0, bytes after the
             packet: dropped, counted, and the shell goes on
  key        an unsigned request, a wrongly signed one, a tampered one, an
             old one and replays (from another port, and from the same one
             after a newer request) leave no trace and are counted
  meanwhile  the serial shell works while a remote `sleep` runs; `ping`'s
             lines stream; kernel messages stay out of replies
  pty        the interactive client: a command, its reply, history (up
             arrow) and Ctrl-D
"""

import contextlib
import os
import pty
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

import nos_harness as nh

sys.path.insert(0, str(nh.REPO / "scripts"))
import udpsh  # noqa: E402

CLIENT = nh.REPO / "scripts" / "udpsh.py"
PYTHON = "/usr/bin/python3"
GUEST_PORT = 9000
BOOT = "dhcp=off ip=10.0.2.15/24,10.0.2.2 udpshell=9000"
KEY_HEX = "6e6f732075647073686b65792d2d7465737420312032203320342035203620ff"
KEY = bytes.fromhex(KEY_HEX)
OTHER_KEY = bytes(32)
BIG_PIECES = 103              # x 1000 bytes: a little over 100 KiB
BIG_PIECE = 1000


def scaled(seconds):
    return seconds * nh.timeout_scale()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_client(*args, timeout=60, env=None, input=None):
    """udpsh.py as a user runs it: (status, stdout bytes, stderr text)."""
    proc = subprocess.run([PYTHON, str(CLIENT), *map(str, args)], input=input,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=scaled(timeout), env=env)
    return proc.returncode, proc.stdout, proc.stderr.decode(errors="replace")


def env_without_key(**more):
    env = {k: v for k, v in os.environ.items() if k != "NOS_UDPSH_KEY"}
    env.update(more)
    return env


# ============================================================ stand-in ====

class StandIn:
    """The kernel's side as docs/udpshell.md writes it, in a thread.

    @answer(command) -> list of chunk payloads (bytes), or None for no
    answer at all.  Sessions by address and port; the same seq again gets
    the stored chunks again.  Knobs to misbehave: @ignore_first requests are
    dropped unseen; @shuffle sends the chunks in a random order, @dup each
    twice; @noise sends foreign datagrams before each reply; @reply_key
    signs replies with another key than it checks requests with; @cut sends
    only the first @cut chunks.
    """

    def __init__(self, answer, key=None, ignore_first=0, shuffle=False, dup=False,
                 noise=False, reply_key=None, cut=None, seed=1):
        self.answer, self.key = answer, key
        self.reply_key = reply_key if reply_key is not None else key
        self.ignore_first, self.shuffle, self.dup = ignore_first, shuffle, dup
        self.noise, self.cut = noise, cut
        self.rng = random.Random(seed)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.received = []        # every datagram, as it came
        self.runs = []            # commands actually run
        self.sessions = {}        # addr -> (seq, counter, packets)
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def close(self):
        self._stop = True
        self.sock.close()
        self._thread.join(5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _loop(self):
        self.sock.settimeout(0.05)
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(65536)
            except (socket.timeout, OSError):
                continue
            self.received.append(data)
            if len(self.received) <= self.ignore_first:
                continue
            try:
                self._serve(data, addr)
            except OSError:
                pass

    def _serve(self, data, addr):
        try:
            p = udpsh.parse_packet(data, self.key)
        except udpsh.ProtocolError:
            return
        last = self.sessions.get(addr)
        if last is not None and last[0] == p.seq:
            packets = last[2]
        else:
            cmd = p.payload.decode()
            self.runs.append(cmd)
            chunks = self.answer(cmd)
            if chunks is None:
                return
            packets = self._packets(p, chunks)
            self.sessions[addr] = (p.seq, p.counter, packets)
        self._send(packets, p, addr)

    def _packets(self, p, chunks):
        out = []
        for i, payload in enumerate(chunks):
            flags = udpsh.FLAG_REPLY | (udpsh.FLAG_LAST if i == len(chunks) - 1 else 0)
            out.append(udpsh.build_packet(p.seq, i, flags, payload, self.reply_key,
                                          p.counter))
        return out[:self.cut] if self.cut is not None else out

    def _send(self, packets, p, addr):
        if self.noise:
            for junk in (b"\x00" * 5, os.urandom(40),
                         udpsh.build_packet(p.seq ^ 1, 0, udpsh.FLAG_REPLY | udpsh.FLAG_LAST,
                                            b"other seq", self.reply_key, p.counter),
                         b"XXXX" + udpsh.build_packet(p.seq, 0, 5, b"bad magic")[4:],
                         udpsh.build_packet(p.seq, 0, udpsh.FLAG_LAST, b"no REPLY flag",
                                            self.reply_key, p.counter)):
                self.sock.sendto(junk, addr)
        order = list(packets) * (2 if self.dup else 1)
        if self.shuffle:
            self.rng.shuffle(order)
        for pkt in order:
            self.sock.sendto(pkt, addr)


def pieces(text, size):
    data = text.encode()
    return [data[i:i + size] for i in range(0, len(data), size)] or [b""]


def test_packet_layout_matches_the_doc():
    req = udpsh.build_request(0x01020304, "ls /")
    assert req == bytes.fromhex("4e4f5348 01020304 0000 0000 0004 0000") + b"ls /"
    p = udpsh.parse_packet(req)
    assert (p.seq, p.chunk, p.flags, p.payload, p.counter) == (0x01020304, 0, 0, b"ls /", None)
    signed = udpsh.build_request(7, "uptime", KEY, 0x1122334455667788)
    head = signed[:16 + 6]
    assert signed[8:10] == b"\x00\x00" and signed[10:12] == b"\x00\x02"  # chunk 0, AUTH
    assert signed[12:14] == b"\x00\x06"                                 # trailer not counted
    assert signed[22:30] == bytes.fromhex("1122334455667788")
    import hashlib
    import hmac
    assert signed[30:] == hmac.new(KEY, head + signed[22:30], hashlib.sha256).digest()
    assert len(signed) == 16 + 6 + 40
    assert udpsh.parse_packet(signed, KEY).counter == 0x1122334455667788


@pytest.mark.parametrize("name,data,reason", [
    ("empty", b"", "short"),
    ("short header", udpsh.build_request(1, "x")[:15], "short"),
    ("other magic", b"NOSX" + udpsh.build_request(1, "x")[4:], "magic"),
    ("reserved set", udpsh.build_packet(1, 0, 0, b"x", reserved=1), "malformed"),
    ("len past the end", udpsh.build_request(1, "abc")[:-1], "malformed"),
    ("bytes after", udpsh.build_request(1, "abc") + b"!", "malformed"),
    ("AUTH, no room for the trailer", udpsh.build_request(1, "abc", KEY, 5)[:-1], "malformed"),
    ("AUTH, wrong tag", udpsh.build_request(1, "abc", OTHER_KEY, 5), "tag"),
    ("no AUTH with a key", udpsh.build_request(1, "abc"), "unsigned"),
])
def test_parse_packet_rejects_every_malformed_form(name, data, reason):
    with pytest.raises(udpsh.ProtocolError) as e:
        udpsh.parse_packet(data, KEY if reason in ("tag", "unsigned") else None)
    assert e.value.reason == reason, name


def test_parse_packet_rejects_a_tampered_payload_or_counter():
    for at in (16, 16 + 3, 16 + 3 + 7):          # payload, counter, tag
        bad = bytearray(udpsh.build_request(1, "abc", KEY, 5))
        bad[at] ^= 1
        with pytest.raises(udpsh.ProtocolError) as e:
            udpsh.parse_packet(bytes(bad), KEY)
        assert e.value.reason == "tag"


def test_requests_refuse_what_cannot_be_sent():
    with pytest.raises(ValueError):
        udpsh.build_request(1, "a\0b")
    with pytest.raises(ValueError):
        udpsh.build_request(1, "x", KEY)           # signed needs a counter
    with pytest.raises(ValueError):
        udpsh.parse_key("abc")
    with pytest.raises(ValueError):
        udpsh.parse_key("zz" * 32)
    assert udpsh.parse_key(" " + KEY_HEX.upper() + "\n") == KEY


def test_counters_rise_and_seq_wraps():
    with StandIn(lambda c: [b""], key=KEY) as srv:
        c = udpsh.Client("127.0.0.1", srv.port, key=KEY, timeout=5, seq=0xFFFFFFFE)
        seqs, counters = [], []
        for _ in range(3):
            c.run("x")
            p = udpsh.parse_packet(c.last_request, KEY)
            seqs.append(p.seq)
            counters.append(p.counter)
        c.close()
    assert seqs == [0xFFFFFFFF, 0, 1]
    assert counters[0] < counters[1] < counters[2]
    assert abs(counters[0] - time.time_ns() // 1000) < 60_000_000  # the clock, in us


def test_client_reassembles_shuffled_duplicated_chunks_in_order():
    text = "".join(f"line {i:05d}\n" for i in range(3000))
    with StandIn(lambda c: pieces(text, 1024), shuffle=True, dup=True) as srv, \
            udpsh.Client("127.0.0.1", srv.port, timeout=5) as c:
        got = []
        out = c.run("big", got.append)
        assert out == text.encode()
        assert b"".join(got) == out and len(got) > 1
        assert c.stats["duplicate"] >= 1, c.describe_stats()
        assert srv.runs == ["big"]


def test_client_retransmits_the_same_bytes_until_answered():
    with StandIn(lambda c: [b"late\n"], key=KEY, ignore_first=2) as srv, \
            udpsh.Client("127.0.0.1", srv.port, key=KEY, timeout=10) as c:
        assert c.run("hello") == b"late\n"
        assert c.stats["retransmitted"] == 2
        assert srv.received == [c.last_request] * 3   # same seq, counter, tag
        assert srv.runs == ["hello"]


def test_client_drops_foreign_datagrams_and_counts_them():
    with StandIn(lambda c: [b"a\n", b"b\n"], noise=True) as srv, \
            udpsh.Client("127.0.0.1", srv.port, timeout=5) as c:
        for _ in range(3):
            assert c.run("x") == b"a\nb\n"
        assert c.stats["short"] == 3 and c.stats["magic"] == 6, c.describe_stats()
        assert c.stats["wrong_seq"] == 3 and c.stats["not_reply"] == 3, c.describe_stats()


def test_client_refuses_replies_signed_with_another_key():
    with StandIn(lambda c: [b"forged\n"], key=KEY, reply_key=OTHER_KEY) as srv, \
            udpsh.Client("127.0.0.1", srv.port, key=KEY, timeout=1.5) as c:
        with pytest.raises(udpsh.NoAnswer) as e:
            c.run("x")
        assert "no answer from 127.0.0.1" in str(e.value)
        assert c.stats["tag"] >= 1


def test_a_reply_cut_short_is_reported_with_what_came():
    with StandIn(lambda c: [b"one\n", b"two\n", b"three\n"], cut=2) as srv, \
            udpsh.Client("127.0.0.1", srv.port, timeout=1.5) as c:
        with pytest.raises(udpsh.NoAnswer) as e:
            c.run("x")
        assert e.value.partial == b"one\ntwo\n"
        assert "no complete reply" in str(e.value) and "got 2 chunks" in str(e.value)


def test_no_answer_message_and_exit_status():
    port = free_udp_port()   # nobody listens: the kernel of the host refuses
    t0 = time.monotonic()
    rc, out, err = run_client("-c", "version", "127.0.0.1", port, "1.5", env=env_without_key())
    assert rc == 1 and out == b""
    assert f"no answer from 127.0.0.1:{port} after 1.5 s" in err, err
    assert time.monotonic() - t0 >= 1.4


@pytest.mark.parametrize("args,what", [
    ([], "the following arguments are required"),
    (["127.0.0.1", "0"], "port must be 1-65535"),
    (["127.0.0.1", "70000"], "port must be 1-65535"),
    (["127.0.0.1", "9000", "-1"], "timeout must be a positive"),
    (["--key", "abc", "127.0.0.1"], "--key: a key is 64 hex digits"),
    (["127.0.0.1", "9000", "5", "extra"], "unrecognized arguments"),
])
def test_usage_errors_exit_2(args, what):
    rc, out, err = run_client(*args, env=env_without_key())
    assert rc == 2 and out == b"", err
    assert what in err and "usage: udpsh.py" in err, err


def test_bad_key_in_the_environment_is_a_usage_error():
    rc, _, err = run_client("-c", "x", "127.0.0.1", env=env_without_key(NOS_UDPSH_KEY="12"))
    assert rc == 2 and "NOS_UDPSH_KEY: a key is 64 hex digits" in err, err


def test_c_streams_the_reply_to_stdout():
    text = "".join(f"{i}\n" for i in range(5000))
    with StandIn(lambda c: pieces(text, 1000) if c == "count" else [b"?\n"]) as srv:
        rc, out, err = run_client("-c", "count", "127.0.0.1", srv.port, "5",
                                  env=env_without_key())
    assert rc == 0 and out == text.encode() and err == "", err


def test_commands_from_a_pipe():
    with StandIn(lambda c: [f"<{c}>\n".encode()]) as srv:
        rc, out, err = run_client("127.0.0.1", srv.port, "5", input=b"a\n\nb c\n",
                                  env=env_without_key())
    assert rc == 0 and out == b"<a>\n<b c>\n", err


# ------------------------------------------------ pseudo-terminal ----

class Pty:
    """udpsh.py interactive on a pseudo-terminal, read as a person would."""

    def __init__(self, port, home):
        env = env_without_key(HOME=str(home), NOS_UDPSH_HISTORY=str(home / "hist"),
                              TERM="xterm", INPUTRC="/dev/null")
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.execve(PYTHON, [PYTHON, str(CLIENT), "127.0.0.1", str(port), "10"], env)
        self.text = b""
        self.pos = 0

    def expect(self, pattern, timeout=20):
        rx = re.compile(pattern)
        deadline = time.monotonic() + scaled(timeout)
        while True:
            m = rx.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} in {self.text[self.pos:]!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    raise AssertionError(f"EOF before {pattern!r}: {self.text!r}")
                self.text += data

    def send(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=10):
        deadline = time.monotonic() + scaled(timeout)
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.pid = None
                return os.waitstatus_to_exitcode(status)
            try:
                os.read(self.fd, 4096)
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("the client did not exit")

    def close(self):
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.fd)


def drive_pty(port, home, command, reply_re):
    """Type @command, see @reply_re; up arrow + Enter runs it again; Ctrl-D
    leaves with status 0 and the command in the history file."""
    term = Pty(port, home)
    try:
        prompt = re.escape(f"nos 127.0.0.1:{port}> ".encode())
        term.expect(prompt)
        term.send(command.encode() + b"\r")
        term.expect(reply_re)
        term.expect(prompt)
        term.send(b"\x1b[A")
        term.expect(re.escape(command.encode()))      # readline shows it again
        term.send(b"\r")
        term.expect(reply_re)
        term.expect(prompt)
        term.send(b"\x04")
        assert term.wait() == 0
    finally:
        term.close()
    assert command in (home / "hist").read_text()


def test_interactive_client_on_a_pty_with_the_stand_in(tmp_path):
    with StandIn(lambda c: [f"ran {c}\n".encode()]) as srv:
        drive_pty(srv.port, tmp_path, "hello there", rb"ran hello there\r?\n")
        assert srv.runs == ["hello there", "hello there"]


# ====================================================== against the VM ====
# Everything below boots the kernel.

HOST_PORT = free_udp_port()
KEY_PORT = free_udp_port()


def forward(port):
    return ["-netdev", f"user,id=n0,hostfwd=udp:127.0.0.1:{port}-:{GUEST_PORT}",
            "-device", "virtio-net-pci,netdev=n0"]


def udpshell_ready(vm):
    """Skip (before the kernel side exists) or return the VM."""
    out = vm.run("help udpshell")
    if "unknown command" in out:
        pytest.skip("no udpshell command in this kernel yet")
    return vm


@pytest.fixture
def rvm(module_boot_vm):
    """The VM with an unauthenticated UDP shell on 127.0.0.1:HOST_PORT."""
    return udpshell_ready(module_boot_vm(cmdline=BOOT, extra_args=forward(HOST_PORT)))


@pytest.fixture
def kvm(module_boot_vm):
    """The VM whose UDP shell wants KEY, on 127.0.0.1:KEY_PORT."""
    return udpshell_ready(module_boot_vm(cmdline=f"{BOOT} udpshell.key={KEY_HEX}",
                                         extra_args=forward(KEY_PORT)))


def client(port=None, **kw):
    kw.setdefault("timeout", scaled(15))
    return udpsh.Client("127.0.0.1", port or HOST_PORT, **kw)


def remote(cmd, port=None, **kw):
    """Output of @cmd through the client functions, as text with LF."""
    with client(port, **kw) as c:
        return c.run(cmd).decode("latin-1")


def norm(text):
    """Serial output is CR LF and loses the final newline; compare by lines."""
    text = text.replace("\r\n", "\n")
    return text[:-1] if text.endswith("\n") else text


def drop_counts(vm):
    """{"dropped/magic": count, "auth failures/old counter": ...} from
    those two lines of `udpshell` ("dropped: short 0, bad magic 2, ..."),
    names in lower case without "bad ", and the whole output."""
    out = vm.run("udpshell")
    counts = {}
    for m in re.finditer(r"^(dropped|auth failures): (.*)$", out, re.M):
        for item in m.group(2).split(", "):
            name, _, value = item.rpartition(" ")
            name = name.lower().removeprefix("bad ")   # "bad magic" or "magic"
            counts[f"{m.group(1)}/{name}"] = int(value)
    if not counts:
        vm.fail(f"no drop counters in `udpshell`:\n{out}")
    return counts, out


def dropped(vm):
    """The sum of every drop counter, and `udpshell`'s output."""
    counts, out = drop_counts(vm)
    return sum(counts.values()), out


def grown(before, after):
    """{reason: increase} of the counters that rose."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


# ---------------------------------------------------------- commands ----

# Commands left out of "run everything": they stop or reset the machine,
# hang a CPU, or run for a long time.
LEFT_OUT = {"poweroff", "shutdown", "reboot", "halt", "hang", "panic", "selftest",
            "membench", "schedbench", "smpbench", "diskbench", "fsbench"}
# Commands whose output depends only on what was done before: compared with
# the serial shell's output of the same command exactly.
SAME = ["help", "version", "ls /", "ls -l /", "mounts", "pci", "disks", "acpi",
        "cat /ab", "stat /ab", "crc32 /ab", "ls /nowhere", "cat /nowhere",
        "nocommand", "help help", "dhcp", "ifconfig eth0", "udpshell bogus"]
# ...of which these also go through `udpsh.py -c`, one process each.  Each
# process is a new source port, so a new session, and the kernel keeps an
# idle session for 60 s in a table of 32: a process per command of `help`
# would fill it.
SAME_CLI = ["help", "version", "ls /", "cat /ab", "stat /ab", "nocommand",
            "help help", "cat /nowhere"]


def help_names(vm):
    return [l.split()[0] for l in vm.run_lines("help") if l.strip()]


def compare(vm, c, cmd):
    """None when @cmd gives the same through client @c as on serial, else
    a description of the difference."""
    try:
        got = c.run(cmd).decode("latin-1")
    except udpsh.NoAnswer as e:
        return f"{cmd!r}: {e}"
    want = norm(vm.run(cmd))
    return None if norm(got) == want else f"{cmd!r}: remote {got!r} != serial {want!r}"


def test_every_command_of_help_gives_what_the_serial_shell_gives(rvm):
    rvm.run("write /ab alpha beta")
    rvm.run("append /ab gamma")
    names = help_names(rvm)
    assert "udpshell" in names and "version" in names, names
    usage = nh.declared_commands()
    cmds = list(SAME)
    for name in names:
        cmds.append(f"help {name}")
        decl = usage.get(name)
        if name not in LEFT_OUT and decl and decl.min_args:
            cmds.append(name)          # too few arguments: the usage error
    with client() as c:
        errors = [e for e in (compare(rvm, c, cmd) for cmd in cmds) if e]
    for cmd in SAME_CLI:
        rc, out, err = run_client("-c", cmd, "127.0.0.1", HOST_PORT, scaled(15),
                                  env=env_without_key())
        want = norm(rvm.run(cmd))
        if rc != 0 or err or norm(out.decode("latin-1")) != want:
            errors.append(f"udpsh.py -c {cmd!r}: status {rc}, stderr {err!r}, "
                          f"stdout {out!r}, serial {want!r}")
    assert not errors, "\n".join(errors)


def test_the_other_commands_answer_without_protocol_errors(rvm):
    rvm.run("touch /x")
    names = help_names(rvm)
    usage = nh.declared_commands()
    plain = [n for n in names if n not in LEFT_OUT and not (usage.get(n) and usage[n].min_args)]
    assert {"uptime", "date", "ps", "net", "random", "memusage"} <= set(plain), plain
    silent = {"cls", "sync", "dnsflush", "sleep 1"}
    errors = []
    with client() as c:
        for cmd in plain + ["sleep 1", "random 64", "entropy 16", "dmesg boot:",
                            "ping 10.0.2.2 1", "stat /x", "arp flush"]:
            try:
                out = c.run(cmd)
            except udpsh.NoAnswer as e:
                errors.append(f"{cmd!r}: {e}")
                continue
            if cmd not in silent and not out.strip():
                errors.append(f"{cmd!r}: no output")
            if b"udpshell: busy" in out or b"too many clients" in out:
                errors.append(f"{cmd!r}: {out!r}")
        assert c.stats["tag"] + c.stats["malformed"] + c.stats["magic"] == 0, c.describe_stats()
    for cmd in ("uptime", "random 16", "sleep 1", "ps"):
        rc, out, err = run_client("-c", cmd, "127.0.0.1", HOST_PORT, scaled(20),
                                  env=env_without_key())
        if rc != 0 or err or (not out.strip()) != (cmd == "sleep 1"):
            errors.append(f"udpsh.py -c {cmd!r}: status {rc}, stderr {err!r}, stdout {out!r}")
    assert not errors, "\n".join(errors)
    assert rvm.run("version").startswith("nos ")


# ------------------------------------------------------------- size ----

def big_content():
    parts = []
    for i in range(BIG_PIECES):
        body = "".join(chr(ord("a") + (i + k) % 26) for k in range(BIG_PIECE - 7))
        parts.append(f"<{i:04d}>" + body)
    return "".join(parts)


@pytest.fixture
def big_file(rvm):
    """/big: BIG_PIECES appends of BIG_PIECE bytes each, made once per VM."""
    want = big_content()
    if rvm.run("stat /big").find(f"{len(want)}") < 0:
        rvm.run("write /big " + want[:BIG_PIECE])
        for i in range(1, BIG_PIECES):
            rvm.run("append /big " + want[i * BIG_PIECE:(i + 1) * BIG_PIECE])
    assert str(len(want)) in rvm.run("stat /big")
    return want + "\n"   # cat ends the output with a newline


def test_100_kib_arrives_whole_and_in_order(rvm, big_file):
    assert len(big_file) > 100 * 1024
    with client() as c:
        got = []
        out = c.run("cat /big", got.append)
    assert out.decode() == big_file
    assert len(got) >= len(big_file) // 1024, "the reply was not in chunks of ~1 KiB"
    assert max(len(g) for g in got) <= udpsh.CHUNK_MAX
    rc, stdout, err = run_client("-c", "cat /big", "127.0.0.1", HOST_PORT, scaled(20),
                                 env=env_without_key())
    assert rc == 0 and err == "" and stdout.decode() == big_file


# ------------------------------------------------------------- many ----

def test_100_commands_in_a_row_each_with_its_reply(rvm):
    names = help_names(rvm)
    want = {n: norm(rvm.run(f"help {n}")) for n in names}
    with client() as c:
        for i in range(100):
            n = names[i % len(names)]
            if i % 2:
                assert c.run(f"help {n}").decode() .rstrip("\n") == want[n], n
            else:
                out = c.run(f"stat /no-{i}").decode()
                assert f"/no-{i}" in out and out.count("\n") == 1, out


def test_four_clients_at_once_get_their_own_replies(rvm, big_file):
    errors = []

    def worker(k):
        try:
            with client() as c:
                for i in range(25):
                    if k == 0 and i % 10 == 0:
                        out = c.run("cat /big").decode()
                        if out != big_file:
                            errors.append(f"client {k}: cat /big came back wrong")
                        continue
                    out = c.run(f"stat /client{k}-{i}").decode()
                    if f"/client{k}-{i}:" not in out or out.count("\n") != 1:
                        errors.append(f"client {k}, command {i}: {out!r}")
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(f"client {k}: {e!r}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(scaled(120))
    assert not any(t.is_alive() for t in threads), "a client never finished"
    assert not errors, "\n".join(errors)


# ------------------------------------------------------------- loss ----

class LossyProxy:
    """A UDP relay on 127.0.0.1 between clients and @target that drops
    @drop and duplicates @dup of the datagrams in each direction (seeded).
    Each client address gets its own upstream socket, so the kernel sees one
    session per client, as without the proxy."""

    def __init__(self, target, drop=0.2, dup=0.1, seed=13):
        self.target, self.drop, self.dup = target, drop, dup
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.up = {}              # client addr -> upstream socket
        self.stats = {"dropped": 0, "duplicated": 0, "relayed": 0}
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _fate(self):
        with self.lock:
            r = self.rng.random()
        if r < self.drop:
            self.stats["dropped"] += 1
            return 0
        if r < self.drop + self.dup:
            self.stats["duplicated"] += 1
            return 2
        return 1

    def _relay(self, sock, data, addr):
        for _ in range(self._fate()):
            sock.sendto(data, addr)
            self.stats["relayed"] += 1

    def _loop(self):
        while not self._stop:
            socks = [self.front, *self.up.values()]
            r, _, _ = select.select(socks, [], [], 0.05)
            for s in r:
                try:
                    data, addr = s.recvfrom(65536)
                except OSError:
                    continue
                if s is self.front:
                    if addr not in self.up:
                        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        u.bind(("127.0.0.1", 0))
                        self.up[addr] = u
                    self._relay(self.up[addr], data, self.target)
                else:
                    back = next(a for a, u in self.up.items() if u is s)
                    self._relay(self.front, data, back)

    def close(self):
        self._stop = True
        self._thread.join(5)
        self.front.close()
        for u in self.up.values():
            u.close()


@contextlib.contextmanager
def lossy(port, **kw):
    p = LossyProxy(("127.0.0.1", port), **kw)
    try:
        yield p
    finally:
        p.close()


def test_replies_survive_loss_and_duplication_and_commands_run_once(rvm, big_file):
    rvm.run("write /once start")
    names = help_names(rvm)[:15]
    want = {n: norm(rvm.run(f"help {n}")) for n in names}
    with lossy(HOST_PORT) as proxy, client(proxy.port) as c:
        for n in names:
            assert c.run(f"help {n}").decode().rstrip("\n") == want[n], n
        for i in range(20):
            assert c.run(f"append /once {i}") == b""
        assert c.run("cat /big").decode() == big_file
        assert proxy.stats["dropped"] > 10 and proxy.stats["duplicated"] > 5, proxy.stats
        assert c.stats["retransmitted"] > 0 and c.stats["duplicate"] > 0, c.describe_stats()
    assert rvm.run("cat /once") == "start" + "".join(str(i) for i in range(20))


# ---------------------------------------------------------- garbage ----

def garbage_datagrams():
    """(datagram, the drop reason `udpshell` counts it under) for every
    malformed form; each would run `touch /garbage-ran` if taken."""
    rng = random.Random(7)
    cmd = b"touch /garbage-ran"
    good = udpsh.build_request(5, cmd)
    return [
        (b"\x00" + bytes(rng.randrange(256) for _ in range(63)), "magic"),   # random bytes
        (b"\xff" + bytes(rng.randrange(256) for _ in range(199)), "magic"),
        (b"", "short"),                                                     # empty
        (good[:10], "short"),                                               # short header
        (good[:15], "short"),
        (b"NOSX" + good[4:], "magic"),                                      # another magic
        (good[:12] + b"\x04\x00" + good[14:], "length"),                    # len past the end
        (good[:-1], "length"),                                              # truncated payload
        (udpsh.build_packet(6, 1, 0, cmd), "chunk"),                        # chunk != 0
        (udpsh.build_packet(7, 0, udpsh.FLAG_REPLY, cmd), "reply bit"),     # REPLY set
        (udpsh.build_packet(8, 0, 0, cmd, reserved=9), "reserved"),         # reserved != 0
        (udpsh.build_packet(9, 0, 1 << 9, cmd), "flags"),                   # unknown flag
        (good + b"tail", "extra bytes"),                                    # bytes after
        (udpsh.build_packet(10, 0, udpsh.FLAG_AUTH, cmd), "trailer"),       # AUTH, no trailer
        (udpsh.build_packet(11, 0, 0, cmd + b"\0x"), "nul byte"),           # NUL in the line
    ]


def test_garbage_is_dropped_counted_and_the_shell_goes_on(rvm):
    before, _ = drop_counts(rvm)
    forms = garbage_datagrams()
    want = {}
    for _, reason in forms:
        want[f"dropped/{reason}"] = want.get(f"dropped/{reason}", 0) + 1
    with client() as c:
        for data, _ in forms:
            c.send_raw(data)
        assert c.run("version").decode().startswith("nos ")   # after all of them
    after, out = drop_counts(rvm)
    assert grown(before, after) == want, out
    assert "garbage-ran" not in rvm.run("ls /")
    assert remote("version").startswith("nos ")


# -------------------------------------------------------------- key ----

def no_reply(port, data, wait=1.0):
    """Send @data from a new socket; True when nothing came back."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("127.0.0.1", port))
        s.send(data)
        s.settimeout(scaled(wait))
        try:
            s.recv(65536)
            return False
        except (socket.timeout, ConnectionRefusedError):
            return True


def test_the_key_never_reaches_the_log(kvm):
    """The boot line is logged, but a parameter named *key shows (hidden)."""
    log = kvm.run("dmesg boot:")
    assert "udpshell.key=(hidden)" in log, log
    assert KEY_HEX not in kvm.run("dmesg"), "the key is in the kernel log"


def test_with_a_key_signed_requests_work_and_replies_are_signed(kvm):
    with client(KEY_PORT, key=KEY) as c:
        assert c.run("version").decode().startswith("nos ")
        assert c.stats["tag"] == 0 and c.stats["unsigned"] == 0
    rc, out, err = run_client("-c", "version", "127.0.0.1", KEY_PORT, scaled(15),
                              env=env_without_key(NOS_UDPSH_KEY=KEY_HEX))
    assert rc == 0 and out.startswith(b"nos "), err
    rc, out, err = run_client("--key", KEY_HEX, "-c", "version", "127.0.0.1", KEY_PORT,
                              scaled(15), env=env_without_key())
    assert rc == 0 and out.startswith(b"nos "), err


def test_with_a_key_bad_requests_leave_no_trace_and_are_counted(kvm):
    before, _ = dropped(kvm)
    now = time.time_ns() // 1000
    bad = {
        "proof-1": udpsh.build_request(100, "touch /proof-1"),                    # unsigned
        "proof-2": udpsh.build_request(101, "touch /proof-2", OTHER_KEY, now),     # wrong key
        "proof-4": udpsh.build_request(103, "touch /proof-4", KEY,
                                       now - 600 * 1_000_000),                     # 10 min old
    }
    tampered = bytearray(udpsh.build_request(102, "touch /proof-3", KEY, now + 1))
    tampered[16 + len("touch /proof-")] = ord("9")                                # payload changed
    bad["proof-9"] = bytes(tampered)
    for name, data in bad.items():
        assert no_reply(KEY_PORT, data), f"{name}: got an answer"
    rc, out, err = run_client("-c", "touch /proof-5", "127.0.0.1", KEY_PORT, "1.5",
                              env=env_without_key())
    assert rc == 1 and "no answer from" in err, (rc, out, err)
    listing = kvm.run("ls /")
    for name in (*bad, "proof-5"):
        assert name not in listing, f"/{name} exists:\n{listing}"
    after, out = dropped(kvm)
    assert after - before >= len(bad) + 1, out
    assert remote("version", KEY_PORT, key=KEY).startswith("nos ")
    # Logged once per source: every bad request here came from 10.0.2.2.
    logged = kvm.run_lines("dmesg udpshell: dropped a request from 10.0.2.2")
    assert len(logged) == 1, logged


def answered(sock, seq, wait=1.0):
    """True when a reply with @seq comes to @sock within @wait seconds."""
    sock.settimeout(scaled(wait))
    try:
        while True:
            p = udpsh.parse_packet(sock.recv(65536), KEY)
            if p.seq == seq:
                return True
    except (socket.timeout, ConnectionRefusedError):
        return False


def test_with_a_key_a_replay_on_the_same_port_does_nothing(kvm):
    kvm.run("write /replay1 x")
    with client(KEY_PORT, key=KEY) as c:
        assert c.run("append /replay1 y") == b""
        captured = c.last_request
        seq = udpsh.parse_packet(captured, KEY).seq
        # At once, it is a retransmission: answered from the stored reply.
        c.send_raw(captured)
        assert answered(c.sock, seq), "a retransmission got no stored reply"
        assert kvm.run("cat /replay1") == "xy", "a retransmission ran the command again"
        # After a newer request its counter is old: dropped.
        assert c.run("version").decode().startswith("nos ")
        before, _ = drop_counts(kvm)
        c.send_raw(captured)
        assert not answered(c.sock, seq), "a replay after a newer request was answered"
        after, out = drop_counts(kvm)
    assert kvm.run("cat /replay1") == "xy", "a replay ran the command again"
    assert grown(before, after) == {"auth failures/old counter": 1}, out


def test_with_a_key_a_replay_from_another_port_does_nothing(kvm):
    kvm.run("write /replay2 x")
    with client(KEY_PORT, key=KEY) as c:
        assert c.run("append /replay2 y") == b""
        captured = c.last_request
    before, _ = drop_counts(kvm)
    # The recorded datagram, sent again from another socket (another
    # session as far as the kernel can tell), well within the window.
    assert no_reply(KEY_PORT, captured), "a replay from another port was answered"
    after, out = drop_counts(kvm)
    assert kvm.run("cat /replay2") == "xy", "a replay from another port ran the command again"
    assert sum(grown(before, after).values()) == 1, out


# -------------------------------------------------------- meanwhile ----

DMESG_IN_REPLY_RE = re.compile(r"^\[\d+:\d+\.\d{6}:[A-Za-z_][A-Za-z0-9_.$]*\] ", re.M)


def test_serial_shell_works_while_a_remote_command_runs(rvm):
    result = {}

    def slow():
        result["out"] = remote("sleep 3")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    assert rvm.run("version").startswith("nos ")
    assert rvm.run("stat /nowhere").startswith("stat: ")
    assert t.is_alive(), "the remote sleep ended before the serial commands ran"
    t.join(scaled(20))
    assert result.get("out") == ""


def test_ping_streams_and_kernel_messages_stay_out_of_replies(rvm):
    times, got = [], []

    def piece(b):
        times.append(time.monotonic())
        got.append(b)

    result = {}

    def pinger():
        with client() as c:
            result["out"] = c.run("ping 10.0.2.2 3", piece).decode()

    t = threading.Thread(target=pinger)
    t.start()
    time.sleep(0.5)
    # Kernel messages while the remote command runs: ifconfig logs one.
    for _ in range(3):
        rvm.run("ifconfig eth0 10.0.2.15/24 10.0.2.2")
        rvm.run("dnsflush")
    t.join(scaled(30))
    out = result["out"]
    lines = out.rstrip("\n").split("\n")
    assert len([l for l in lines if l.startswith("64 bytes from 10.0.2.2")]) == 3, out
    assert re.search(r"^3 sent, 3 received, 0% loss", out, re.M), out
    assert not DMESG_IN_REPLY_RE.search(out), out
    assert "eth0: static" not in out and "dns" not in out.lower().replace("dnsflush", ""), out
    assert len(got) >= 3, f"ping's output came in {len(got)} piece(s), not line by line"
    first_reply = next(i for i, g in enumerate(got) if b"64 bytes" in g)
    assert times[-1] - times[first_reply] > 0.5, "the reply lines came only at the end"
    # a remote command that itself logs: the reply is only the command's text
    logs = remote("ifconfig eth0 10.0.2.15/24 10.0.2.2")
    assert not DMESG_IN_REPLY_RE.search(logs), logs
    assert norm(logs) == norm(rvm.run("ifconfig eth0 10.0.2.15/24 10.0.2.2"))


# -------------------------------------------------------------- pty ----

def test_interactive_client_on_a_pty(rvm, tmp_path, nos_build):
    drive_pty(HOST_PORT, tmp_path, "version", re.escape(f"nos {nos_build.version}".encode()))
