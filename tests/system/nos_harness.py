"""
nos_harness — boot nos in QEMU and drive its serial console like a person would.

The system tests, `scripts/bench.py` and anything else that needs a running
kernel go through this module.  Its job is to make every wait bounded, every
failure explained and every QEMU process cleaned up.

How a VM is run
---------------
`NosVM` starts `qemu-system-x86_64` itself, never through scripts/qemu.sh, so
it controls every option:

    -accel tcg -cpu max            (NOS_ACCEL=kvm: -accel kvm -cpu host)
    -smp N -m SIZE -cdrom ISO -boot d   (iso=None: no ISO; the disk in
                                         extra_args boots, and -nodefaults
                                         there drops QEMU's empty CD drive)
    -display none -nic none -monitor none
    -chardev socket,...,server=on,wait=on -serial chardev:ser0
    -device isa-debug-exit,iobase=0xf4,iosize=0x04

`extra_args` are appended as they are (e.g. `-machine q35`, `-rtc base=...`).
`wrap` is put in front of the whole command, e.g. `ip netns exec NS` to run
QEMU inside a network namespace (tests/system/net_rig.py); the wrapper must
exec QEMU, so that the PID the harness holds and signals is QEMU's.
With `qmp=True` QEMU also gets `-qmp unix:...,server=on,wait=off` and
`vm.qmp(command, **arguments)` talks to it (see `Qmp`): for what only the
machine can do, such as pressing a key on the PS/2 keyboard.

The serial port is a UNIX socket on which QEMU waits (`wait=on`): QEMU does not
start the guest until the harness has connected, so no byte of output is lost
and "QEMU start -> first serial byte" can be timed.  `-no-reboot` is *not*
given: a guest reset (the `reboot` command) must reboot, not quit.

A reader thread copies everything that arrives on the socket into an
in-memory transcript and a log file, and records when each chunk arrived.
The transcript is kept as text decoded with latin-1, so one byte is one
character and offsets into the text are offsets into the byte stream.

Reading the console
-------------------
The harness keeps a cursor into the transcript.  `wait_for(regex)` searches
from the cursor and moves it past the match; nothing before the cursor is
looked at again.  Every wait has a timeout (scaled by NOS_TIMEOUT_SCALE) and
raises `NosTimeout` with the tail of the output and the log path.

When QEMU exits, its end of the socket closes and the reader marks end of
file.  From then on the transcript is final and no wait blocks: all of them
block only through `_wait_locked`, which returns at once after EOF.  A wait
whose match is in the last bytes QEMU wrote returns it; one that cannot be
satisfied any more raises `NosExited` straight away instead of sleeping out
its timeout (tests/system/test_harness.py checks this against a stand-in
for QEMU).

Every wait also watches for "*** KERNEL PANIC" anywhere in new output.  Unless
the caller announced a panic (`expect_panic()`), the wait collects the report
up to "*** system halted ***" and raises `NosPanic` at once: a test that
crashes the kernel fails with the crash, not with a timeout 20 s later.

Shell protocol (the kernel's side of the contract)
--------------------------------------------------
Lines end with CR LF.  The prompt is "$ " at the start of a line.  The shell
echoes what is typed; Enter is sent as CR.  `run(cmd)` sends the line, finds
its echo followed by CR LF, and returns everything between that and the next
prompt, with CR LF turned into LF and the final newline dropped.

Logs
----
Each VM writes its whole serial log to `tests/system/logs/<name>-<pid>.log`
(or a directory the caller chooses).  `close()` deletes the log unless the
VM was marked `keep_log` — the harness marks it itself whenever one of its
own checks fails, and the pytest hooks in conftest.py mark it when a test
that used the VM fails.  The path is in every error message.

Cleanup
-------
`close()` (also `__exit__`, and an atexit hook for VMs still open when the
interpreter ends) terminates QEMU by its PID, waits for it, joins the reader
thread and removes the VM's temporary directory.  QEMU is also started with
PR_SET_PDEATHSIG so it dies if the Python process is killed outright.
"""

import atexit
import bisect
import contextlib
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_LOG_DIR = Path(__file__).resolve().parent / "logs"

BOOT_TIMEOUT = 60.0   # QEMU start -> prompt, TCG on a slow machine
CMD_TIMEOUT = 20.0    # one shell command
PANIC_TAIL_TIMEOUT = 10.0  # panic banner -> "system halted"

PANIC_MARK = "*** KERNEL PANIC"
PANIC_RE = re.compile(r"\*\*\* KERNEL PANIC on cpu (\d+): (.*?) \*\*\*\r\n")
HALTED_RE = re.compile(r"\*\*\* system halted \*\*\*\r\n")
BANNER_RE = re.compile(r"nos (\S+) starting")
READY_RE = re.compile(
    r"boot: shell ready in ([0-9]+(?:\.[0-9]+)?) ms since kernel entry\r\n")
# "$ " at the start of a line.  A command such as `cls` may leave terminal
# control sequences right before it; group 1 is the "$ " itself.
PROMPT_RE = re.compile(r"^(?:\x1b\[[0-?]*[ -/]*[@-~])*(\$ )", re.M)
_ENDS_WITH_PROMPT_RE = re.compile(r"(?:^|\n)(?:\x1b\[[0-?]*[ -/]*[@-~])*\$ \Z")
ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
DMESG_LINE_RE = re.compile(
    r"^\[(\d+):(\d+)\.(\d{6}):([A-Za-z_][A-Za-z0-9_.$]*)\] (.*)$")


# ------------------------------------------------------------ servers ----

@contextlib.contextmanager
def serving(server, name="server"):
    """Run @server (a socketserver, e.g. an http.server) in a daemon thread
    for the body; then shut it down, close its socket and join the thread."""
    thread = threading.Thread(target=server.serve_forever, daemon=True, name=name)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


# ------------------------------------------------------------- errors ----


class NosError(Exception):
    """A harness check failed; the message carries the log path."""


class NosTimeout(NosError):
    pass


class NosPanic(NosError):
    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


class NosExited(NosError):
    """QEMU went away while the harness was still waiting for output."""


# -------------------------------------------------- environment knobs ----

def timeout_scale():
    """NOS_TIMEOUT_SCALE stretches every timeout (slow CI machines)."""
    return float(os.environ.get("NOS_TIMEOUT_SCALE", "1"))


def accel_args(accel=None):
    """QEMU acceleration options: TCG by default, NOS_ACCEL=kvm for KVM."""
    accel = accel or os.environ.get("NOS_ACCEL", "tcg")
    if accel == "kvm":
        return ["-accel", "kvm", "-cpu", "host"]
    if accel == "tcg":
        return ["-accel", "tcg", "-cpu", "max"]
    raise ValueError(f"NOS_ACCEL must be tcg or kvm, not {accel!r}")


# ------------------------------------------------- facts from the tree ----

def read_version(repo=REPO):
    """NOS_VERSION from include/config.h."""
    text = (Path(repo) / "include" / "config.h").read_text()
    m = re.search(r'#\s*define\s+NOS_VERSION\s+"([^"]+)"', text)
    if not m:
        raise NosError("NOS_VERSION not found in include/config.h")
    return m.group(1)


@dataclass
class ShellCmd:
    """A SHELL_CMD() declaration; fields the regex could not read are None."""
    name: str
    usage: str = None
    help: str = None
    min_args: int = None
    max_args: int = None


_C_STRINGS = r'((?:"(?:[^"\\]|\\.)*"\s*)+)'
_SHELL_CMD_RE = re.compile(r'\bSHELL_CMD\(\s*"([^"]*)"')
_SHELL_CMD_FULL_RE = re.compile(
    r'\bSHELL_CMD\(\s*"([^"]*)"\s*,\s*' + _C_STRINGS + r',\s*' + _C_STRINGS
    + r',\s*(\d+)\s*,\s*(\d+)\s*,')
_SOURCE_SKIP = {"out", "bin", "tests", "docs", "scripts", "tools", ".git"}


def _c_string(literals):
    """The value of adjacent C string literals (simple escapes only)."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', literals)
    return "".join(parts).encode().decode("unicode_escape")


def declared_commands(repo=REPO, include_tests=False):
    """{name: ShellCmd} for every SHELL_CMD("name", ...) in the C sources.

    Sources under tests/ are skipped unless @include_tests (the boot tests
    are linked into the kernel and may declare hidden commands).
    """
    skip = set(_SOURCE_SKIP)
    if include_tests:
        skip.discard("tests")
    cmds = {}
    for root, dirs, files in os.walk(repo):
        if Path(root) == Path(repo):
            dirs[:] = [d for d in dirs if d not in skip]
        for f in files:
            if f.endswith((".c", ".h")):
                _scan_commands(Path(root, f).read_text(errors="replace"), cmds)
    return cmds


def _scan_commands(text, cmds):
    for name in _SHELL_CMD_RE.findall(text):
        cmds.setdefault(name, ShellCmd(name))
    for m in _SHELL_CMD_FULL_RE.finditer(text):
        cmds[m.group(1)] = ShellCmd(m.group(1), _c_string(m.group(2)),
                                    _c_string(m.group(3)), int(m.group(4)),
                                    int(m.group(5)))


def elf_symbols(elf):
    """{name: [address, ...]} of the function symbols in @elf (via nm)."""
    out = subprocess.run(["nm", "--defined-only", str(elf)], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    syms = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.setdefault(parts[2], []).append(int(parts[0], 16))
    return syms


# ------------------------------------------------------- build and ISO ----

def build(repo=REPO, jobs=2):
    """Run `make all`; raise NosError with the tail of the output on failure."""
    proc = subprocess.run(["make", f"-j{jobs}", "all"], cwd=repo,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-40:])
        raise NosError(f"make failed (exit {proc.returncode}):\n{tail}")


class IsoCache:
    """ISOs per kernel command line, built once with scripts/mkiso.sh.

    @kernel is the ELF to put in them.  The empty command line is
    @default_iso when given (the ISO `make` built); anything else is built
    into @workdir, named by a hash of the command line.
    """

    def __init__(self, workdir, kernel=None, default_iso=None, repo=REPO):
        self.repo = Path(repo)
        self.kernel = Path(kernel or self.repo / "bin" / "kernel64.elf")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._isos = {}
        if default_iso is not None:
            self._isos[""] = Path(default_iso)

    def get(self, cmdline=""):
        if cmdline not in self._isos:
            self._isos[cmdline] = self._make(cmdline)
        return self._isos[cmdline]

    def _make(self, cmdline):
        digest = hashlib.sha1(cmdline.encode()).hexdigest()[:12]
        out = self.workdir / f"nos-{digest}.iso"
        proc = subprocess.run(
            [str(self.repo / "scripts" / "mkiso.sh"), str(self.kernel),
             str(out), cmdline],
            cwd=self.repo, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        if proc.returncode != 0:
            raise NosError(f"mkiso.sh failed for {cmdline!r}:\n{proc.stdout}")
        return out


# ------------------------------------------------------- panic report ----

@dataclass
class Frame:
    index: int
    addr: int
    symbol: str = None   # None when the frame was not symbolized
    offset: int = None
    size: int = None
    line: str = ""


@dataclass
class PanicReport:
    """A parsed "*** KERNEL PANIC ... *** system halted ***" block."""
    text: str                    # the report, LF line ends
    cpu: int
    reason: str
    error_code: int = None
    cr2: int = None
    registers: dict = field(default_factory=dict)
    frames: list = field(default_factory=list)

    @property
    def lines(self):
        return self.text.split("\n")


_FRAME_RE = re.compile(
    r"^  #(\d+) 0x([0-9a-f]{16})(?: (\S+?)\+0x([0-9a-f]+)/0x([0-9a-f]+))?\s*$")
_REG_RE = re.compile(r"\b([a-z][a-z0-9]*) *=0x([0-9a-fA-F]+)")


def parse_panic(text):
    """Parse a panic report (CR LF or LF line ends) into a PanicReport."""
    text = text.replace("\r\n", "\n")
    m = re.search(r"\*\*\* KERNEL PANIC on cpu (\d+): (.*?) \*\*\*", text)
    if not m:
        raise NosError("not a panic report:\n" + text)
    rep = PanicReport(text=text[m.start():].rstrip("\n"),
                      cpu=int(m.group(1)), reason=m.group(2))
    in_backtrace = False
    for line in rep.lines[1:]:
        if line.startswith("backtrace:"):
            in_backtrace = True
            continue
        if in_backtrace:
            f = _FRAME_RE.match(line)
            if f:
                rep.frames.append(Frame(
                    int(f.group(1)), int(f.group(2), 16), f.group(3),
                    int(f.group(4), 16) if f.group(4) else None,
                    int(f.group(5), 16) if f.group(5) else None, line))
            continue
        _parse_panic_field(rep, line)
    return rep


def _parse_panic_field(rep, line):
    m = re.match(r"^error code: 0x([0-9a-f]{16})$", line)
    if m:
        rep.error_code = int(m.group(1), 16)
        return
    m = re.match(r"^cr2: 0x([0-9a-f]{16})$", line)
    if m:
        rep.cr2 = int(m.group(1), 16)
        return
    for name, value in _REG_RE.findall(line):
        rep.registers[name] = int(value, 16)


# ---------------------------------------------------- selftest output ----

def parse_selftest(text):
    """(ok names, FAIL names, [(passed, failed), ...]) from selftest output.

    Accepts the shell command's output and the boot log of a `selftest`
    boot alike: CR LF or LF line ends, lines with or without the dmesg
    prefix.  Other lines (check failures, test logs) are ignored.
    """
    ok, fail, counts = [], [], []
    for line in text.replace("\r\n", "\n").split("\n"):
        m = DMESG_LINE_RE.match(line)
        body = m.group(5) if m else line
        r = re.fullmatch(r"(ok|FAIL) (\S+)", body)
        if r:
            (ok if r.group(1) == "ok" else fail).append(r.group(2))
        c = re.fullmatch(r"(\d+) passed, (\d+) failed", body)
        if c:
            counts.append((int(c.group(1)), int(c.group(2))))
    return ok, fail, counts


# ---------------------------------------------------------------- QMP ----

class Qmp:
    """A minimal synchronous QMP client on QEMU's UNIX socket.

    `command(name, **arguments)` sends one command and returns its "return"
    value; an "error" reply raises NosError.  Asynchronous events that
    arrive meanwhile are kept in `events` (a list of dicts).
    """

    def __init__(self, path, timeout):
        self.events = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(str(path))
        self._buf = b""
        self._read()                     # the greeting
        self.command("qmp_capabilities")

    def _read(self):
        while b"\n" not in self._buf:
            data = self._sock.recv(65536)
            if not data:
                raise NosExited("QMP connection closed by QEMU")
            self._buf += data
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, /, **arguments):
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self._sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
            elif "error" in reply:
                raise NosError(f"QMP {name}: {reply['error']}")
            elif "return" in reply:
                return reply["return"]

    def close(self):
        self._sock.close()


# ------------------------------------------------------------ the VM ----

def _die_with_parent():
    """preexec_fn: QEMU gets SIGKILL if the process that started it dies."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class NosVM:
    """One QEMU running nos, with its serial console.

    smp and mem default to $NOS_SMP and $NOS_MEM, else 2 CPUs and 512M.

    Use as a context manager, or call start()/close() yourself:

        with NosVM(iso, smp=2, name="demo") as vm:
            vm.wait_boot()
            print(vm.run("version"))
    """

    live = set()  # every VM not yet closed (atexit and pytest hooks use it)

    def __init__(self, iso, *, smp=None, mem=None, accel=None, name="nos",
                 log_dir=None, extra_args=(), qmp=False, wrap=(),
                 boot_timeout=BOOT_TIMEOUT, cmd_timeout=CMD_TIMEOUT):
        self.iso = Path(iso) if iso is not None else None  # None: no ISO
        self.smp = smp or int(os.environ.get("NOS_SMP", "2"))
        self.mem = mem or os.environ.get("NOS_MEM", "512M")
        self.accel = accel
        self.name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:80]
        self.log_dir = Path(log_dir or DEFAULT_LOG_DIR)
        self.extra_args = list(extra_args)
        self.wrap = list(wrap)       # command prefix, e.g. ip netns exec NS
        self.qmp_enabled = qmp
        self._qmp = None
        self.boot_timeout = boot_timeout * timeout_scale()
        self.cmd_timeout = cmd_timeout * timeout_scale()
        self.keep_log = False
        self.proc = None
        self.log_path = None
        self.version = None          # from the boot banner
        self.ready_ms = None         # guest's "shell ready in X ms"
        self.t_spawn = None          # time.monotonic() before Popen
        self.t_first_byte = None     # arrival of the first serial byte
        self.t_prompt = None         # arrival of the first prompt
        self.boots = 0               # boot banners seen so far
        self.boot_log = ""           # see wait_boot()
        self.loader_log = ""         # ...and what came before it
        self._text = ""
        self._chunk_ends = []        # transcript offset after each chunk
        self._chunk_times = []       # ...and when that chunk arrived
        self._pos = 0                # cursor: nothing before it is searched
        self._panic_scan = 0         # panic marks before this are handled
        self._expect_panic = False
        self.panicked = False        # a panic report was seen
        self._at_prompt = False
        self._eof = False
        self._cond = threading.Condition()
        self._sock = None
        self._reader = None
        self._tmp = None
        self._log = None

    # ---------------------------------------------------- lifecycle ----

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            self.keep_log = True
        self.close()
        return False

    def command_line(self, serial_path):
        return ["qemu-system-x86_64", *accel_args(self.accel),
                "-smp", str(self.smp), "-m", str(self.mem),
                *self._cdrom_args(),
                "-display", "none", "-nic", "none", "-monitor", "none",
                "-chardev", f"socket,id=ser0,path={serial_path},server=on,wait=on",
                "-serial", "chardev:ser0",
                "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
                *self._qmp_args(serial_path), *self.extra_args]

    def _cdrom_args(self):
        """The ISO as a CD to boot from; with iso=None none, and extra_args
        must give a bootable disk (bootindex=0) — with -nodefaults, or the
        PC machines still have an empty CD drive."""
        if self.iso is None:
            return []
        return ["-cdrom", str(self.iso), "-boot", "d"]

    def _qmp_args(self, serial_path):
        if not self.qmp_enabled:
            return []
        path = Path(serial_path).parent / "qmp.sock"
        return ["-qmp", f"unix:{path},server=on,wait=off"]

    def qmp(self, command, /, **arguments):
        """Run QMP @command (the VM must have been made with qmp=True); the
        arguments may be named anything, `name` included (set_link takes one)."""
        if not self.qmp_enabled:
            raise NosError("this VM was started without qmp=True")
        if self._qmp is None:
            self._qmp = Qmp(self._tmp / "qmp.sock", self.cmd_timeout)
        return self._qmp.command(command, **arguments)

    def start(self):
        """Start QEMU and connect to its serial port; the guest then runs.

        On failure everything started so far is stopped again (the log is
        kept) before the exception propagates.
        """
        if self.iso is not None and not self.iso.exists():
            raise NosError(f"{self.iso} does not exist (run make)")
        NosVM.live.add(self)
        try:
            self._spawn()
        except BaseException:
            self.keep_log = True
            self.close()
            raise
        return self

    def _spawn(self):
        self._tmp = Path(tempfile.mkdtemp(prefix="nos-vm-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_dir / f"{self.name}-{os.getpid()}-{id(self):x}.log"
        self._log = open(self.log_path, "wb")
        serial_path = self._tmp / "serial.sock"
        with open(self._tmp / "qemu.out", "wb") as qemu_out:
            self.t_spawn = time.monotonic()
            self.proc = subprocess.Popen(
                [*self.wrap, *self.command_line(serial_path)],
                stdin=subprocess.DEVNULL,
                stdout=qemu_out, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent)
        self._sock = self._connect(serial_path)
        self._reader = threading.Thread(target=self._read_loop,
                                        name=f"serial-{self.name}", daemon=True)
        self._reader.start()

    def _connect(self, path):
        deadline = time.monotonic() + 30 * timeout_scale()
        while True:
            if self.proc.poll() is not None:
                self.keep_log = True
                raise NosExited(f"QEMU exited with {self.proc.returncode} "
                                f"before the serial port opened:\n"
                                f"{self.qemu_output()}")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(str(path))
                return s
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
            if time.monotonic() > deadline:
                raise NosTimeout("QEMU's serial socket never appeared")
            time.sleep(0.01)

    def qemu_output(self):
        """What QEMU itself printed on stdout/stderr."""
        try:
            return (self._tmp / "qemu.out").read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    def close(self):
        """Stop QEMU (by PID), join the reader, drop temp files and the log."""
        if self._qmp is not None:
            self._qmp.close()
            self._qmp = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._sock.close()
            self._sock = None
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
            if not self.keep_log and self.log_path.exists():
                self.log_path.unlink()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        NosVM.live.discard(self)

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def healthy(self):
        """Running, never panicked and sitting at a prompt: fit to share."""
        return self.alive and not self.panicked and self._at_prompt

    # ---------------------------------------------------- the reader ----

    def _read_loop(self):
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                data = b""
            now = time.monotonic()
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                if self.t_first_byte is None:
                    self.t_first_byte = now
                self._text += data.decode("latin-1")
                self._chunk_ends.append(len(self._text))
                self._chunk_times.append(now)
                if self._log:
                    self._log.write(data)
                    self._log.flush()
                self._cond.notify_all()

    def arrival_time(self, offset):
        """When the byte at transcript @offset arrived (time.monotonic())."""
        with self._cond:
            i = bisect.bisect_right(self._chunk_ends, offset)
            return self._chunk_times[min(i, len(self._chunk_times) - 1)]

    @property
    def transcript(self):
        """Everything received so far (latin-1 decoded, CR LF kept)."""
        with self._cond:
            return self._text

    @property
    def cursor(self):
        return self._pos

    def since(self, offset):
        with self._cond:
            return self._text[offset:]

    # ------------------------------------------------------ waiting ----

    def _wait_locked(self, seconds):
        """Block up to @seconds for new output; False once no more can come.

        The only place the harness waits on the condition: after end of file
        nobody will ever notify it, so at EOF this returns at once and the
        caller must decide with the text it has.  The reader notifies at EOF
        (QEMU's exit closes the socket), so a wait that started before EOF
        is woken by it.  Called with self._cond held.
        """
        if self._eof:
            return False
        self._cond.wait(seconds)
        return True

    def wait_for(self, pattern, timeout=None):
        """Wait for @pattern (regex or compiled) after the cursor.

        Moves the cursor past the match and returns it.  Raises NosPanic on
        an unexpected panic, NosExited if the output ended (QEMU exited)
        without a match, NosTimeout otherwise.  A match in the last bytes
        QEMU wrote before it exited is found and returned.
        """
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        timeout = self.cmd_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                m = rx.search(self._text, self._pos)
                self._check_panic_locked()
                if m:
                    self._pos = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise self._failure(NosTimeout, f"timed out after {timeout:.0f} s "
                                        f"waiting for {rx.pattern!r}")
                if not self._wait_locked(left):
                    raise self._exited_failure(f"waiting for {rx.pattern!r}")

    def _exited_failure(self, doing):
        """NosExited for a wait (@doing says which) that the end of the
        output cut short."""
        try:
            status = self.proc.wait(timeout=5)  # the socket closes as it exits
        except subprocess.TimeoutExpired:
            status = None
        return self._failure(NosExited, f"QEMU exited (status {status}) while "
                             f"{doing}\n{self.qemu_output()}")

    def _check_panic_locked(self):
        if self._expect_panic:
            return
        i = self._text.find(PANIC_MARK, self._panic_scan)
        if i < 0:
            self._panic_scan = max(0, len(self._text) - len(PANIC_MARK))
            return
        deadline = time.monotonic() + PANIC_TAIL_TIMEOUT * timeout_scale()
        while not HALTED_RE.search(self._text, i):
            left = deadline - time.monotonic()
            if left <= 0 or not self._wait_locked(left):
                break
        m = HALTED_RE.search(self._text, i)
        end = m.end() if m else len(self._text)
        self._panic_scan = end
        report = self._text[i:end].replace("\r\n", "\n")
        self._at_prompt = False
        self.panicked = True
        err = self._failure(NosPanic, "unexpected kernel panic:\n" + report,
                            report)
        raise err

    def _failure(self, cls, message, *extra):
        """Build an exception that shows recent output and keeps the log."""
        self.keep_log = True
        tail = self._text[max(0, self._pos - 200):][-3000:]
        tail = tail.replace("\r\n", "\n")
        msg = (f"[{self.name}] {message}\n--- serial output near the cursor "
               f"---\n{tail}\n--- full serial log: {self.log_path}")
        return cls(msg, *extra)

    def fail(self, message):
        """Raise a NosError for a check the caller made (keeps the log)."""
        with self._cond:
            raise self._failure(NosError, message)

    def wait_quiet(self, quiet=1.0, timeout=None):
        """Wait until no output arrived for @quiet seconds; return the new text.

        The cursor moves to the end of the output.  Panics are still caught.
        """
        timeout = self.cmd_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._cond:
            start = self._pos
            while True:
                self._check_panic_locked()
                seen = len(self._text)
                if not self._wait_locked(quiet) or len(self._text) == seen:
                    break  # quiet for @quiet s, or quiet for good (EOF)
                if time.monotonic() > deadline:
                    raise self._failure(NosTimeout, "output never went quiet")
            self._check_panic_locked()
            self._pos = len(self._text)
            return self._text[start:]

    # -------------------------------------------------------- input ----

    def send(self, data):
        """Send raw bytes (or a str, encoded latin-1) to the serial port."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        self._at_prompt = False
        self._sock.sendall(data)

    # --------------------------------------------------------- boot ----

    def wait_boot(self, timeout=None):
        """Wait for the banner, the "shell ready" line and the prompt.

        Works for the first boot and after a reboot.  Returns the boot log,
        the kernel's own: everything from the start of the banner's line up
        to the prompt.  It is kept in self.boot_log; what came before the
        banner's line (GRUB writes to the serial port too, with its own
        line ends and escape sequences) is kept in self.loader_log.
        """
        timeout = self.boot_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        cursor = self._pos
        banner = self.wait_for(BANNER_RE, timeout)
        self.version = banner.group(1)
        with self._cond:
            start = self._text.rfind("\n", 0, banner.start()) + 1
            while self._text[start] == "\r":      # GRUB ends its lines in LF CR
                start += 1
            self.loader_log = self._text[cursor:start]
        self.boots += 1
        ready = self.wait_for(READY_RE, max(1.0, deadline - time.monotonic()))
        self.ready_ms = float(ready.group(1))
        prompt = self.wait_prompt(max(1.0, deadline - time.monotonic()))
        self.boot_log = self.since(start)[: prompt.start(1) - start]
        return self.boot_log

    def wait_prompt(self, timeout=None):
        m = self.wait_for(PROMPT_RE, timeout)
        if self.t_prompt is None:
            self.t_prompt = self.arrival_time(m.end() - 1)
        self._at_prompt = True
        return m

    def resync(self, quiet=1.0, timeout=None):
        """After raw input: wait until the output is quiet and ends in a prompt.

        Returns the output that arrived since the cursor.  Fails if the
        console has not come back to a prompt within @timeout.
        """
        timeout = self.cmd_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        out = ""
        while True:
            out += self.wait_quiet(quiet, max(quiet, deadline - time.monotonic()))
            if _ENDS_WITH_PROMPT_RE.search(out):
                self._at_prompt = True
                return out
            with self._cond:
                if self._eof:  # no prompt can come any more
                    raise self._exited_failure("waiting for a prompt; last "
                                               f"output {out[-300:]!r}")
            if time.monotonic() > deadline:
                self.fail("the console did not come back to a prompt; last "
                          f"output {out[-300:]!r}")

    # ---------------------------------------------------------- shell ----

    def run(self, cmd, timeout=None):
        """Run one shell command; return its output (LF line ends)."""
        if not self._at_prompt:
            self.wait_prompt(timeout)
        self.send(cmd + "\r")
        echo = self.wait_for(re.escape(cmd) + r"\r?\n", timeout)
        prompt = self.wait_prompt(timeout)
        out = self._text[echo.end():prompt.start(1)]
        out = out.replace("\r\n", "\n")
        return out[:-1] if out.endswith("\n") else out

    def run_lines(self, cmd, timeout=None):
        out = self.run(cmd, timeout)
        return out.split("\n") if out else []

    # -------------------------------------------------------- panics ----

    def expect_panic(self, timeout=None):
        """Wait for a panic report up to "*** system halted ***"; parse it."""
        self._expect_panic = True
        self._at_prompt = False
        self.panicked = True
        start = self.wait_for(PANIC_RE, timeout)
        self.wait_for(HALTED_RE, PANIC_TAIL_TIMEOUT * timeout_scale())
        return parse_panic(self._text[start.start():self._pos])

    # ---------------------------------------------------------- exit ----

    def wait_exit(self, timeout=None):
        """Wait for QEMU to exit on its own; return its exit status.

        isa-debug-exit makes QEMU exit with (value << 1) | 1.
        """
        timeout = self.boot_timeout if timeout is None else timeout
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with self._cond:
                raise self._failure(NosTimeout, f"QEMU did not exit within "
                                    f"{timeout:.0f} s")
        if self._reader is not None:
            self._reader.join(timeout=5)
        return code


def _close_all_at_exit():
    for vm in list(NosVM.live):
        vm.keep_log = True
        vm.close()


atexit.register(_close_all_at_exit)
