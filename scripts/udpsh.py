#!/usr/bin/env python3
"""
udpsh.py — the client of the nos UDP shell (the protocol: docs/udpshell.md).

    udpsh.py [-c CMD] [--key HEX] [-v] HOST [PORT] [TIMEOUT]

PORT is 9000 and TIMEOUT 30 s unless given.  Without -c it is an interactive
prompt with line editing and history (readline; the history is kept in
~/.nos_udpsh_history, or $NOS_UDPSH_HISTORY); Ctrl-D, `exit` or `quit` leaves
it.  With standard input not a terminal, each line read is one command.
`-c CMD` runs one command and exits.

Exit status: 0 when every command got its whole reply; 1 when one got no
complete reply within TIMEOUT (the host is down, the port closed, the key
wrong: a kernel with a key drops what it cannot verify without a word) or the
exchange failed; 2 for a usage error (bad arguments, a malformed key).  The
reply carries no status of the remote command itself: "0" means the kernel
answered, whatever it answered.

TIMEOUT is how long the client waits without hearing anything of the reply:
a command that runs silently for longer (`sleep 60`) needs a larger one.

Authentication: `--key HEX` (64 hex digits, 32 bytes) or the environment
variable NOS_UDPSH_KEY (safer: the command line of a process is public).
Every request then carries the AUTH trailer (a counter and an HMAC-SHA256
tag) and every reply must carry a valid one; replies that do not are dropped.
The counter is the clock in microseconds since 1970, and never less than
one past the previous counter this client sent.

How a command travels
---------------------
A request is one datagram.  The reply comes back in chunks, each with its
index; the client keeps them by index, writes out the run of chunks it has
from the next one it needs (so output streams as the command produces it,
in order, whatever order the datagrams come in) and is done when it has
every chunk up to the one flagged LAST.  When no new chunk has come for
RETRY seconds (0.4 s, growing by half each time nothing comes, up to 2 s),
it sends the very same request again — same seq, same counter, same bytes —
and the kernel answers with the chunks it has so far instead of running the
command again.  Datagrams that do not belong (another seq: a late answer to
an earlier command; bad magic; malformed; a bad tag; duplicates) are dropped
and counted; -v prints the counts after each command.

The module is importable (tests and scripts/bench.py use it):
build_request(), build_packet(), parse_packet(), sign(), parse_key(),
Client(host, port, key=None, timeout=30).run(cmd, out=None) -> bytes.
Python standard library only.
"""

import argparse
import hashlib
import hmac
import os
import secrets
import socket
import struct
import sys
import time
from collections import Counter, namedtuple

MAGIC = 0x4E4F5348            # "NOSH"
HEADER = struct.Struct(">IIHHHH")  # magic, seq, chunk, flags, len, reserved
HEADER_LEN = HEADER.size      # 16
FLAG_LAST = 1 << 0            # the reply's last chunk
FLAG_AUTH = 1 << 1            # a trailer (counter, tag) follows the payload
FLAG_REPLY = 1 << 2           # set on everything the kernel sends
COUNTER = struct.Struct(">Q")
TAG_LEN = 32                  # HMAC-SHA256
TRAILER_LEN = COUNTER.size + TAG_LEN  # 40
KEY_LEN = 32
MAX_PAYLOAD = 65535           # what a u16 len can say
CHUNK_MAX = 1024              # the kernel's chunks (docs/udpshell.md)

DEFAULT_PORT = 9000
DEFAULT_TIMEOUT = 30.0
RETRY = 0.4                   # first retransmission after this much silence
RETRY_MAX = 2.0
HISTORY_LEN = 1000

Packet = namedtuple("Packet", "seq chunk flags payload counter")


class ProtocolError(ValueError):
    """A datagram that is not a well-formed packet; .reason is a short word
    naming what was wrong (the key of the drop counters)."""

    def __init__(self, reason, detail):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class NoAnswer(Exception):
    """No complete reply within the timeout; .partial holds what came."""

    def __init__(self, message, partial=b""):
        super().__init__(message)
        self.partial = partial


# ------------------------------------------------------------- packets ----

def parse_key(text):
    """32 bytes from 64 hex digits (blanks around them allowed); ValueError
    with a message a user can act on otherwise."""
    text = text.strip()
    if len(text) != 2 * KEY_LEN:
        raise ValueError(f"a key is {2 * KEY_LEN} hex digits, not {len(text)}")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError("a key is hex digits only (0-9, a-f)") from None


def sign(key, header_and_payload, counter):
    """The tag: HMAC-SHA256 with @key over header ‖ payload ‖ counter (u64)."""
    return hmac.new(key, header_and_payload + COUNTER.pack(counter),
                    hashlib.sha256).digest()


def build_packet(seq, chunk, flags, payload, key=None, counter=None, reserved=0):
    """One datagram.  With @key, AUTH is set and the trailer for @counter
    appended.  @payload is bytes (or str, sent as UTF-8).  No check is made
    beyond what struct needs, so tests can build wrong packets with it."""
    if isinstance(payload, str):
        payload = payload.encode()
    if key is not None:
        flags |= FLAG_AUTH
    head = HEADER.pack(MAGIC, seq & 0xFFFFFFFF, chunk, flags, len(payload),
                       reserved) + payload
    if key is None:
        return head
    return head + COUNTER.pack(counter) + sign(key, head, counter)


def build_request(seq, command, key=None, counter=None):
    """The request for @command (str or bytes): chunk 0, no NUL, at most
    what a u16 len holds.  With @key it must have @counter."""
    if isinstance(command, str):
        command = command.encode()
    if b"\0" in command:
        raise ValueError("a command line cannot hold a NUL byte")
    if len(command) > MAX_PAYLOAD - TRAILER_LEN - HEADER_LEN:
        raise ValueError("command line too long for one datagram")
    if key is not None and counter is None:
        raise ValueError("a signed request needs a counter")
    return build_packet(seq, 0, 0, command, key, counter)


def parse_packet(data, key=None):
    """A Packet from datagram @data, or ProtocolError.

    With @key the packet must carry AUTH and a tag that verifies; without
    one a trailer is taken apart but not checked (nobody can check it).
    """
    if len(data) < HEADER_LEN:
        raise ProtocolError("short", f"{len(data)} bytes, a header is {HEADER_LEN}")
    magic, seq, chunk, flags, length, reserved = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ProtocolError("magic", f"magic {magic:#010x}")
    if reserved:
        raise ProtocolError("malformed", f"reserved field {reserved:#x}")
    end = HEADER_LEN + length
    if end > len(data):
        raise ProtocolError("malformed", f"len {length} runs past the "
                            f"{len(data) - HEADER_LEN} bytes after the header")
    counter = None
    if flags & FLAG_AUTH:
        if len(data) - end < TRAILER_LEN:
            raise ProtocolError("malformed", "AUTH set but no room for the trailer")
        (counter,) = COUNTER.unpack_from(data, end)
        tag = data[end + COUNTER.size:end + TRAILER_LEN]
        end += TRAILER_LEN
        if key is not None and not hmac.compare_digest(
                tag, sign(key, data[:HEADER_LEN + length], counter)):
            raise ProtocolError("tag", "the tag does not verify")
    elif key is not None:
        raise ProtocolError("unsigned", "no AUTH trailer, and a key is set")
    if end != len(data):
        raise ProtocolError("malformed", f"{len(data) - end} bytes after the packet")
    return Packet(seq, chunk, flags, bytes(data[HEADER_LEN:HEADER_LEN + length]),
                  counter)


# -------------------------------------------------------------- client ----

class Client:
    """A session with one UDP shell: one socket, so one source port, which
    is what the kernel keys its session on.  Not for use by two threads at
    once (make a Client per thread).

    stats counts, over the client's life: "sent", "retransmitted",
    "chunks", "duplicate", "wrong_seq", "stale" (a reply to an older
    counter), "not_reply" (REPLY flag missing), "past_last", and one entry
    per ProtocolError reason ("short", "magic", "malformed", "tag",
    "unsigned").  last_request holds the bytes of the last request sent.
    """

    def __init__(self, host, port=DEFAULT_PORT, key=None, timeout=DEFAULT_TIMEOUT,
                 retry=RETRY, retry_max=RETRY_MAX, seq=None):
        self.host, self.port = host, port
        self.key = key
        self.timeout = timeout
        self.retry, self.retry_max = retry, retry_max
        family, _, _, _, addr = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
        self.addr = addr
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        # connect(): the kernel only hands us datagrams from the shell's
        # address, and an ICMP port unreachable shows up as ECONNREFUSED.
        self.sock.connect(addr)
        self.seq = secrets.randbelow(1 << 32) if seq is None else seq
        self.counter = 0
        self.stats = Counter()
        self.refused = False          # an ICMP port unreachable came back
        self.last_error = None        # the last error sending a request
        self.last_request = None

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    @property
    def local_port(self):
        return self.sock.getsockname()[1]

    def next_request(self, command):
        """(seq, counter, bytes) of a new request for @command: the next
        seq, and with a key the next counter."""
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        counter = None
        if self.key is not None:
            self.counter = max(self.counter + 1, time.time_ns() // 1000)
            counter = self.counter
        return self.seq, counter, build_request(self.seq, command, self.key, counter)

    def run(self, command, out=None):
        """Run @command remotely; return its whole output (bytes).

        @out, when given, is called with each piece of output as soon as it
        is next in order (streaming).  Raises NoAnswer when nothing new of
        the reply came for self.timeout seconds; ValueError for a command
        that cannot be sent.
        """
        seq, counter, request = self.next_request(command)
        self.last_request = request
        return _Exchange(self, seq, counter, request, out).run()

    def send_raw(self, data):
        """Send @data as it is (tests: replays, garbage)."""
        self.sock.send(data)

    def describe_stats(self):
        return ", ".join(f"{k} {v}" for k, v in sorted(self.stats.items())) or "nothing"


class _Exchange:
    """One request and the gathering of its reply (see the module comment)."""

    def __init__(self, client, seq, counter, request, out):
        self.c = client
        self.seq, self.counter, self.request = seq, counter, request
        self.out = out
        self.chunks = {}          # index -> payload, not yet written out
        self.next = 0             # the next index to write out
        self.last = None          # index of the LAST chunk, once seen
        self.parts = []

    def run(self):
        c = self.c
        self._send()
        now = time.monotonic()
        heard = now                       # when the reply last made progress
        interval = c.retry
        resend_at = now + interval
        while self.last is None or self.next <= self.last:
            now = time.monotonic()
            if now - heard >= c.timeout:
                raise NoAnswer(self._silence_message(), b"".join(self.parts))
            if now >= resend_at:
                self._send(again=True)
                interval = min(interval * 1.5, c.retry_max)
                resend_at = now + interval
                continue
            c.sock.settimeout(max(0.001, min(resend_at, heard + c.timeout) - now))
            try:
                data = c.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionRefusedError:
                c.refused = True  # port unreachable; keep trying until the timeout
                continue
            if self._take(data):
                heard = time.monotonic()
                interval = c.retry
                resend_at = heard + interval
        return b"".join(self.parts)

    def _send(self, again=False):
        try:
            self.c.sock.send(self.request)
        except ConnectionRefusedError:
            self.c.refused = True
        except OSError as e:  # e.g. no route: the timeout reports it
            self.c.stats["send_error"] += 1
            self.c.last_error = e
        self.c.stats["retransmitted" if again else "sent"] += 1

    def _take(self, data):
        """File one datagram; True when it was a new chunk of this reply."""
        st = self.c.stats
        try:
            p = parse_packet(data, self.c.key)
        except ProtocolError as e:
            st[e.reason] += 1
            return False
        if p.seq != self.seq:
            st["wrong_seq"] += 1
            return False
        if not p.flags & FLAG_REPLY:
            st["not_reply"] += 1
            return False
        if self.counter is not None and p.counter != self.counter:
            st["stale"] += 1
            return False
        if p.chunk < self.next or p.chunk in self.chunks:
            st["duplicate"] += 1
            return False
        if self.last is not None and p.chunk > self.last:
            st["past_last"] += 1
            return False
        if p.flags & FLAG_LAST:
            self.last = p.chunk
            for i in [i for i in self.chunks if i > p.chunk]:
                del self.chunks[i]
                st["past_last"] += 1
        st["chunks"] += 1
        self.chunks[p.chunk] = p.payload
        while self.next in self.chunks:
            piece = self.chunks.pop(self.next)
            self.next += 1
            self.parts.append(piece)
            if self.out is not None and piece:
                self.out(piece)
        return True

    def _silence_message(self):
        c = self.c
        where = f"{c.host}:{c.port}"
        if not self.parts and not self.chunks and self.last is None:
            why = " (port unreachable)" if c.refused else ""
            return f"no answer from {where} after {c.timeout:g} s{why}"
        got = self.next + len(self.chunks)
        return (f"no complete reply from {where}: nothing new for {c.timeout:g} s "
                f"(got {got} chunk{'s' if got != 1 else ''})")


# ---------------------------------------------------------- the program ----

def _write_stdout(piece):
    sys.stdout.buffer.write(piece)
    sys.stdout.buffer.flush()


def run_one(client, command, verbose):
    """Run @command, streaming its output to stdout; True when the reply
    came whole.  Returns whether the output ended with a newline too."""
    ended = [True]

    def out(piece):
        ended[0] = piece.endswith(b"\n")
        _write_stdout(piece)

    try:
        client.run(command, out)
        ok = True
    except NoAnswer as e:
        if not ended[0]:
            _write_stdout(b"\n")
            ended[0] = True
        print(f"udpsh: {e}", file=sys.stderr)
        ok = False
    except ValueError as e:
        print(f"udpsh: {e}", file=sys.stderr)
        ok = False
    if verbose:
        print(f"udpsh: seq {client.seq}: {client.describe_stats()}", file=sys.stderr)
    return ok, ended[0]


def _setup_readline():
    """Line editing and a history file; None when readline is missing."""
    try:
        import readline
    except ImportError:
        return None
    path = os.environ.get("NOS_UDPSH_HISTORY") or os.path.expanduser("~/.nos_udpsh_history")
    try:
        readline.read_history_file(path)
    except (FileNotFoundError, PermissionError, OSError):
        pass
    readline.set_history_length(HISTORY_LEN)
    return readline, path


def _save_history(rl):
    if rl is None:
        return
    readline, path = rl
    try:
        readline.write_history_file(path)
    except OSError as e:
        print(f"udpsh: history not saved to {path}: {e}", file=sys.stderr)


def interactive(client, verbose):
    """The prompt loop; returns the exit status (1 if a command went
    unanswered, as for -c)."""
    rl = _setup_readline()
    prompt = f"nos {client.host}:{client.port}> "
    print(f"udpsh: {client.host}:{client.port}, "
          f"{'signed with a key' if client.key else 'no key'}; Ctrl-D leaves",
          file=sys.stderr)
    status = 0
    try:
        while True:
            try:
                line = input(prompt)
            except EOFError:
                print()
                break
            except KeyboardInterrupt:
                print("^C")
                continue
            line = line.strip()
            if not line:
                continue
            if line in ("exit", "quit"):
                break
            try:
                ok, ended = run_one(client, line, verbose)
            except KeyboardInterrupt:
                # The command goes on in the kernel; its late chunks carry
                # this seq and the next command ignores them.
                print("\n^C (the command may still be running on the host)",
                      file=sys.stderr)
                continue
            if not ended:
                _write_stdout(b"\n")
            if not ok:
                status = 1
    finally:
        _save_history(rl)
    return status


def from_stdin(client, verbose):
    status = 0
    for line in sys.stdin:
        line = line.strip()
        if line:
            status |= 0 if run_one(client, line, verbose)[0] else 1
    return status


class _Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _Usage(message)


def parse_args(argv):
    p = _Parser(prog="udpsh.py", description="client of the nos UDP shell "
                "(docs/udpshell.md)", epilog="exit status: 0 reply received, 1 no "
                "(complete) answer within the timeout, 2 usage error")
    p.add_argument("host", help="the kernel's address (make run: 127.0.0.1)")
    p.add_argument("port", nargs="?", default=str(DEFAULT_PORT), help="UDP port (9000)")
    p.add_argument("timeout", nargs="?", default=str(DEFAULT_TIMEOUT),
                   help="seconds without news of a reply before giving up (30)")
    p.add_argument("-c", dest="command", metavar="CMD", help="run CMD and exit")
    p.add_argument("--key", metavar="HEX", help="64 hex digits (or $NOS_UDPSH_KEY)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="after each command, count what was sent and dropped")
    a = p.parse_args(argv)
    try:
        a.port = int(a.port)
        if not 1 <= a.port <= 65535:
            raise ValueError
    except ValueError:
        raise _Usage(f"port must be 1-65535, not {a.port!r}") from None
    try:
        a.timeout = float(a.timeout)
        if not 0 < a.timeout < 1e6:
            raise ValueError
    except ValueError:
        raise _Usage(f"timeout must be a positive number of seconds, not "
                     f"{a.timeout!r}") from None
    key = a.key if a.key is not None else os.environ.get("NOS_UDPSH_KEY")
    try:
        a.key = parse_key(key) if key else None
    except ValueError as e:
        source = "--key" if a.key is not None else "NOS_UDPSH_KEY"
        raise _Usage(f"{source}: {e}") from None
    return a


def main(argv=None):
    try:
        a = parse_args(sys.argv[1:] if argv is None else argv)
    except _Usage as e:
        print(f"udpsh.py: {e}\nusage: udpsh.py [-c CMD] [--key HEX] [-v] "
              f"HOST [PORT] [TIMEOUT]", file=sys.stderr)
        return 2
    try:
        client = Client(a.host, a.port, a.key, a.timeout)
    except (socket.gaierror, OSError) as e:
        print(f"udpsh: {a.host}:{a.port}: {e}", file=sys.stderr)
        return 1
    with client:
        if a.command is not None:
            return 0 if run_one(client, a.command, a.verbose)[0] else 1
        if sys.stdin.isatty():
            return interactive(client, a.verbose)
        return from_stdin(client, a.verbose)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(1)
