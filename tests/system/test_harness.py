"""
test_harness.py — the harness's own waiting logic, against a stand-in for QEMU.

NosVM's console is a UNIX socket on which QEMU listens and writes the guest's
serial output.  Here a small Python program takes QEMU's place (`StandIn`
below): it listens on the socket the harness names, plays a script (send
text, pause, echo typed lines like the shell, exit with a status) and goes
away, so each case is a few hundred milliseconds and needs no ISO.

The regression these guard against: a wait whose match came in the last
bytes before QEMU exited, or any wait after the output ended, blocked on a
condition that nobody would signal again and slept out its whole timeout.
Instead of timing the waits, every VM here gets a condition variable that
fails the test the moment anyone blocks on it after end of file; the waits
are given timeouts of an hour, so a regression that did not trip the guard
would still be unmistakable.
"""

import json
import sys
import threading

import pytest

import nos_harness as nh

HOUR = 3600.0

# The stand-in.  argv: the socket path and a JSON list of steps:
#   ["send", text]   write text (latin-1) to the harness
#   ["sleep", s]     pause
#   ["shell", n]     n times: write "$ ", read a line up to CR, echo it with
#                    CR LF, answer "you typed <line>" (a line "bye" ends the
#                    script at once, as `poweroff` would)
#   ["exit", code]   leave with that status (also the end of the script)
STAND_IN = r'''
import json, os, socket, sys, time
path, steps = sys.argv[1], json.loads(sys.argv[2])
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
conn, _ = srv.accept()

def line():
    data = b""
    while not data.endswith(b"\r"):
        b = conn.recv(1)
        if not b:
            sys.exit(9)
        data += b
    return data[:-1].decode("latin-1")

code = 0
for op, arg in steps:
    if op == "send":
        conn.sendall(arg.encode("latin-1"))
    elif op == "sleep":
        time.sleep(arg)
    elif op == "shell":
        for _ in range(arg):
            conn.sendall(b"$ ")
            typed = line()
            conn.sendall(typed.encode("latin-1") + b"\r\n")
            if typed == "bye":
                conn.sendall(b"powering off\r\n")
                break
            conn.sendall(b"you typed " + typed.encode("latin-1") + b"\r\n")
    elif op == "exit":
        code = arg
        break
os._exit(code)
'''


class NoWaitAfterEof(threading.Condition):
    """A Condition that fails the test if anyone waits on it after EOF."""

    def __init__(self, vm):
        super().__init__()
        self.vm = vm

    def wait(self, timeout=None):
        if self.vm._eof:
            raise AssertionError("the harness blocked waiting for output "
                                 "after the output had ended")
        return super().wait(timeout)


class StandIn(nh.NosVM):
    """A NosVM whose 'QEMU' is the stand-in program playing @steps."""

    def __init__(self, tmp_path, steps, **kw):
        iso = tmp_path / "unused.iso"
        iso.write_bytes(b"")
        super().__init__(iso, name="harness", log_dir=tmp_path,
                         cmd_timeout=HOUR, boot_timeout=HOUR, **kw)
        self.steps = steps
        self._cond = NoWaitAfterEof(self)

    def command_line(self, serial_path):
        return [sys.executable, "-c", STAND_IN, str(serial_path),
                json.dumps(self.steps)]


@pytest.fixture
def stand_in(tmp_path):
    made = []

    def start(*steps):
        vm = StandIn(tmp_path, list(steps))
        made.append(vm)
        return vm.start()

    yield start
    for vm in made:
        vm.close()


def test_match_in_the_last_output_before_exit_is_returned(stand_in):
    vm = stand_in(["send", "booting\r\n"], ["sleep", 0.3],
                  ["send", "all done\r\n"], ["exit", 3])
    assert vm.wait_for(r"booting\r\n")
    m = vm.wait_for(r"all (\w+)\r\n")
    assert m.group(1) == "done"
    assert vm.wait_exit() == 3


def test_match_already_in_the_final_transcript_is_returned(stand_in):
    vm = stand_in(["send", "one\r\ntwo\r\n"], ["exit", 0])
    assert vm.wait_exit() == 0
    assert vm.wait_for(r"two").group(0) == "two"
    assert vm.cursor == len("one\r\ntwo")


def test_wait_after_the_output_ended_fails_at_once(stand_in):
    vm = stand_in(["send", "last words\r\n"], ["exit", 5])
    assert vm.wait_exit() == 5
    with pytest.raises(nh.NosExited) as err:
        vm.wait_for("never printed")
    assert "status 5" in str(err.value)
    assert "never printed" in str(err.value)
    assert vm.keep_log


def test_wait_that_started_before_the_exit_ends_with_it(stand_in):
    vm = stand_in(["send", "partial"], ["sleep", 0.3], ["exit", 7])
    with pytest.raises(nh.NosExited) as err:
        vm.wait_for("never printed")
    assert "status 7" in str(err.value)
    assert vm.transcript == "partial"


def test_wait_quiet_returns_the_rest_at_eof(stand_in):
    vm = stand_in(["send", "a\r\n"], ["sleep", 0.2], ["send", "b\r\n"], ["exit", 0])
    vm.wait_exit()
    assert vm.wait_quiet(quiet=HOUR) == "a\r\nb\r\n"
    assert vm.wait_quiet(quiet=HOUR) == ""


def test_panic_cut_short_by_the_exit_is_reported(stand_in):
    vm = stand_in(["send", "*** KERNEL PANIC on cpu 1: boom ***\r\nrip=0x1\r\n"],
                  ["exit", 0])
    with pytest.raises(nh.NosPanic) as err:
        vm.wait_for(r"\$ ")
    assert "boom" in err.value.report
    assert "rip=0x1" in err.value.report
    assert vm.panicked


def test_timeout_while_the_output_goes_on(stand_in):
    vm = stand_in(["send", "waiting"], ["sleep", HOUR])
    with pytest.raises(nh.NosTimeout):
        vm.wait_for("never printed", timeout=0.3)
    assert vm.alive


def test_run_returns_the_reply_and_the_last_command_ends_cleanly(stand_in):
    vm = stand_in(["shell", 3], ["exit", 0])
    vm.wait_prompt()
    assert vm.run("hello world") == "you typed hello world"
    assert vm.run("again") == "you typed again"
    vm.send("bye\r")
    vm.wait_for(r"powering off\r\n")
    assert vm.wait_exit() == 0
    with pytest.raises(nh.NosExited):
        vm.wait_prompt()


def test_resync_after_the_exit_fails_at_once(stand_in):
    vm = stand_in(["send", "no prompt here"], ["exit", 0])
    vm.wait_exit()
    calls = []
    quiet = vm.wait_quiet

    def counted(*args, **kw):
        calls.append(args)
        if len(calls) > 3:
            raise AssertionError("resync kept polling output that had ended")
        return quiet(*args, **kw)

    vm.wait_quiet = counted
    with pytest.raises(nh.NosExited) as err:
        vm.resync(timeout=HOUR)
    assert "waiting for a prompt" in str(err.value)
