"""
test_shell.py — the interactive shell on the serial console.

Everything here runs on the session's shared VM: the commands only read
state, and the error and garbage tests check that the shell is still fit
afterwards (if one is not, the next test gets a freshly booted VM and this
one fails with the log).

What is checked, from the contract:
  help       one line per command, first word = name, with the help text;
             lists exactly the SHELL_CMD()s declared in the sources (hidden
             '_' ones excepted)
  version    "nos <NOS_VERSION>"
  cls        clears, prints nothing else
  dmesg      "[cpu:sec.usec:func] msg" lines; [filter] keeps matching lines
  cpu        "cpuN: <vendor> ..." per CPU; cr0/cr3/cr4/efer values that a
             64-bit paging kernel must have
  errors     unknown command, wrong argument count (for every declared
             command, against its declared bounds and usage), bad argument:
             one exact line (two for a bad argument), then the shell works;
             a command name that would not read back as typed (empty, with
             blanks) is shown quoted: "'': unknown command ..."
  numbers    an argument is checked in its full 64-bit width and more
             (2^32, 2^64, 2^64 + 1, -1, '', "0x"): "<cmd>: <what> must be
             <min>-<max>, not '<arg>'" and the usage line; 0x hex is a number
  input      1024-character lines work, longer ones are refused once and as
             a whole; Ctrl-C discards a line; random bytes never hurt it
"""

import random
import re

import pytest

import nos_harness as nh

# What the sources declare (collected once, at import): expectations for
# help and usage lines come from here, not from copies in this file.
COMMANDS = nh.declared_commands()
VISIBLE = sorted(n for n in COMMANDS if not n.startswith("_"))
PANIC_KINDS = ("direct", "pagefault", "divzero", "ud")  # the contract's
VENDORS = ("GenuineIntel", "AuthenticAMD", "HygonGenuine", "CentaurHauls",
           "  Shanghai  ", "TCGTCGTCGTCG", "KVMKVMKVM")
LINE_MAX = 1024


def check_version_works(vm, version):
    out = vm.run("version")
    assert out.split("\n")[0].startswith(f"nos {version}"), out


# ---------------------------------------------------------------- help ----

def help_names(vm):
    lines = vm.run_lines("help")
    assert lines, "help printed nothing"
    return [l.split()[0] for l in lines if l.strip()], lines


def test_help_lists_every_declared_command(shared_vm, nos_build):
    names, lines = help_names(shared_vm)
    anywhere = set(nh.declared_commands(nos_build.repo, include_tests=True))
    assert VISIBLE, "no SHELL_CMD(\"...\") found in the sources"
    missing = set(VISIBLE) - set(names)
    assert not missing, f"declared but not in help: {sorted(missing)}\n{lines}"
    unknown = set(names) - anywhere
    assert not unknown, f"help lines that are not commands: {sorted(unknown)}"


def test_help_line_shows_the_declared_text(shared_vm):
    _, lines = help_names(shared_vm)
    by_name = {l.split()[0]: l for l in lines if l.strip()}
    for name in VISIBLE:
        text = COMMANDS[name].help
        if text and name in by_name:
            assert text in by_name[name], by_name[name]


def test_help_hides_underscore_commands_and_has_no_duplicates(shared_vm):
    names, lines = help_names(shared_vm)
    assert not [n for n in names if n.startswith("_")], lines
    assert len(names) == len(set(names)), lines


def test_help_includes_the_commands_of_this_issue(shared_vm):
    names, _ = help_names(shared_vm)
    for cmd in ("help", "version", "cls", "dmesg", "cpu", "panic", "reboot",
                "selftest"):
        assert cmd in names


# ------------------------------------------------------ plain commands ----

def test_version(shared_vm, nos_build):
    out = shared_vm.run("version")
    assert re.match(rf"nos {re.escape(nos_build.version)}\b", out), out


def test_empty_line_gives_a_new_prompt(shared_vm):
    assert shared_vm.run("") == ""


def test_blanks_around_words_are_ignored(shared_vm, nos_build):
    check_version_works(shared_vm, nos_build.version)
    out = shared_vm.run("   version   ")
    assert out.startswith(f"nos {nos_build.version}"), out


def test_cls_prints_nothing_but_control_sequences(shared_vm, nos_build):
    out = shared_vm.run("cls")
    assert nh.ANSI_RE.sub("", out).strip() == "", repr(out)
    check_version_works(shared_vm, nos_build.version)


# --------------------------------------------------------------- dmesg ----

def test_dmesg_lines_have_the_prefix(shared_vm):
    lines = shared_vm.run_lines("dmesg")
    bad = [l for l in lines if not nh.DMESG_LINE_RE.match(l)]
    assert lines and not bad, f"malformed dmesg lines: {bad[:10]}"


def test_dmesg_holds_the_boot_messages_in_order(shared_vm, nos_build):
    lines = shared_vm.run_lines("dmesg")
    boot = [l for l in nh.ANSI_RE.sub("", shared_vm.boot_log).split("\r\n") if l]
    it = iter(lines)
    missing = [b for b in boot if not any(b == l for l in it)]
    assert not missing, f"boot messages missing from dmesg (or out of " \
                        f"order): {missing}"
    assert any(f"nos {nos_build.version} starting" in l for l in lines)
    assert any("boot: shell ready in" in l for l in lines)


def test_dmesg_filter_keeps_only_matching_lines(shared_vm, nos_build):
    lines = shared_vm.run_lines("dmesg starting")
    assert lines and all("starting" in l for l in lines), lines
    assert any(f"nos {nos_build.version} starting" in l for l in lines)
    full = [l for l in shared_vm.run_lines("dmesg") if "starting" in l]
    assert lines == full


def test_dmesg_filter_may_contain_blanks_when_quoted(shared_vm):
    lines = shared_vm.run_lines('dmesg "shell ready"')
    assert lines and all("shell ready" in l for l in lines), lines


def test_dmesg_filter_without_matches_prints_nothing(shared_vm):
    assert shared_vm.run("dmesg no-such-message-xyzzy") == ""


# ----------------------------------------------------------------- cpu ----

def _reg_values(text, name):
    return [int(v, 16) for v in
            re.findall(rf"\b{name}=(?:0x)?([0-9a-fA-F]+)", text)]


def test_cpu_lists_cpus_with_vendor(shared_vm):
    lines = shared_vm.run_lines("cpu")
    cpus = [l for l in lines if re.match(r"cpu\d+:", l)]
    ids = [int(re.match(r"cpu(\d+):", l).group(1)) for l in cpus]
    assert ids and ids == list(range(len(ids))), lines
    assert len(ids) <= shared_vm.smp, lines
    assert any(v in cpus[0] for v in VENDORS), cpus[0]


def test_cpu_control_registers_are_those_of_long_mode(shared_vm):
    out = shared_vm.run("cpu")
    regs = {n: _reg_values(out, n) for n in ("cr0", "cr3", "cr4", "efer")}
    assert all(regs.values()), f"missing registers in:\n{out}"
    for cr0 in regs["cr0"]:
        assert cr0 & 1 and cr0 & (1 << 31), f"cr0={cr0:#x}: PE and PG"
    for cr4 in regs["cr4"]:
        assert cr4 & (1 << 5), f"cr4={cr4:#x}: PAE"
    for efer in regs["efer"]:
        assert efer & (1 << 8) and efer & (1 << 10), f"efer={efer:#x}: LME, LMA"
        assert efer & (1 << 11), f"efer={efer:#x}: NXE (W^X needs NX)"


# -------------------------------------------------------------- errors ----

def test_unknown_command(shared_vm, nos_build):
    out = shared_vm.run("frobnicate now")
    assert out == "frobnicate: unknown command (type 'help' for a list)"
    check_version_works(shared_vm, nos_build.version)


@pytest.mark.parametrize("line, shown", [
    ("''", "''"),
    ('""', "''"),
    ("'' version", "''"),
    ("'ver sion'", "'ver sion'"),
])
def test_unknown_command_names_are_quoted_when_needed(shared_vm, nos_build, line,
                                                      shown):
    out = shared_vm.run(line)
    assert out == f"{shown}: unknown command (type 'help' for a list)", out
    check_version_works(shared_vm, nos_build.version)


def test_help_for_an_empty_name(shared_vm):
    assert shared_vm.run("help ''") == "help: '': unknown command"
    assert shared_vm.run("help 'a b'") == "help: 'a b': unknown command"


def usage_error(name):
    """The contract's line for a wrong argument count, from the source."""
    usage = COMMANDS[name].usage or ""
    return f"{name}: wrong number of arguments; usage: {name} {usage}".rstrip()


def test_panic_usage_names_the_contract_kinds():
    usage = COMMANDS["panic"].usage
    assert usage and all(k in usage.strip("[]").split("|") for k in PANIC_KINDS)


def test_wrong_argument_count_prints_usage(shared_vm, nos_build):
    out = shared_vm.run("panic direct extra")
    assert out == usage_error("panic")
    check_version_works(shared_vm, nos_build.version)


@pytest.mark.parametrize("name", [n for n in VISIBLE
                                  if COMMANDS[n].max_args is not None])
def test_every_command_checks_its_argument_count(shared_vm, name):
    cmd = COMMANDS[name]
    counts = [cmd.max_args + 1] + ([cmd.min_args - 1] if cmd.min_args else [])
    for n in counts:
        out = shared_vm.run(" ".join([name] + ["x"] * n))
        assert out.rstrip() == usage_error(name), f"{n} arguments"


def test_bad_argument_prints_reason_and_usage(shared_vm, nos_build):
    out = shared_vm.run("panic bogus")
    assert out.split("\n") == ["panic: unknown type 'bogus'",
                               "usage: panic " + COMMANDS["panic"].usage]
    check_version_works(shared_vm, nos_build.version)


# ------------------------------------------------------------- numbers ----

@pytest.mark.parametrize("arg", [
    "3601", "4294967296", "4294967297", "18446744073709551615",
    "18446744073709551616", "18446744073709551617", "-1", "''", "0x", "1x",
    "0x100000001", " 1", "1.5",
])
def test_numbers_are_checked_in_full_width(shared_vm, arg):
    shown = "'" + arg.strip("'") + "'"
    line = f"sleep {arg}" if arg != " 1" else "sleep ' 1'"
    lines = shared_vm.run_lines(line)
    assert lines == [f"sleep: seconds must be 0-3600, not {shown}",
                     "usage: sleep " + COMMANDS["sleep"].usage], lines


def test_hex_numbers_are_accepted(shared_vm):
    assert shared_vm.run("sleep 0x0") == ""
    assert shared_vm.run("sleep 0X1") == ""


# --------------------------------------------------------------- input ----

def test_line_of_max_length_runs(shared_vm, nos_build):
    cmd = "version".ljust(LINE_MAX)
    out = shared_vm.run(cmd)
    assert out.startswith(f"nos {nos_build.version}"), out


@pytest.mark.parametrize("length,fill", [(LINE_MAX + 1, " "), (4096, "a")])
def test_overlong_line_is_refused_as_a_whole(shared_vm, nos_build, length,
                                             fill):
    # "version" padded with blanks would run if the line were truncated;
    # padded with letters it would be an unknown command.
    shared_vm.send("version".ljust(length, fill) + "\r")
    out = shared_vm.resync(quiet=1.0, timeout=60)
    lines = out.split("\r\n")
    assert lines.count("shell: line too long (max 1024 characters)") == 1, lines[1:]
    assert "unknown command" not in out, out[-400:]
    assert f"nos {nos_build.version}" not in out, "a truncated line was run"
    check_version_works(shared_vm, nos_build.version)


def test_ctrl_c_discards_the_line(shared_vm, nos_build):
    shared_vm.send("frobnicate\x03")
    out = shared_vm.resync()
    assert "^C" in out and "unknown command" not in out, repr(out)
    check_version_works(shared_vm, nos_build.version)


def test_backspace_edits_the_line(shared_vm, nos_build):
    shared_vm.send("versiox\x7fn\r")
    out = shared_vm.resync()
    assert f"nos {nos_build.version}" in out, repr(out)


def _garbage(seed, n, exclude=b""):
    rng = random.Random(seed)
    allowed = [b for b in range(256) if b not in exclude]
    return bytes(rng.choice(allowed) for _ in range(n))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_garbage_on_one_line_then_ctrl_c(shared_vm, nos_build, seed):
    shared_vm.send(_garbage(seed, 2048, exclude=b"\r\n\x03") + b"\x03\r")
    shared_vm.resync(quiet=1.0, timeout=60)
    check_version_works(shared_vm, nos_build.version)


@pytest.mark.parametrize("seed", [11, 12])
def test_garbage_with_every_byte_value(shared_vm, nos_build, seed):
    shared_vm.send(_garbage(seed, 4096) + b"\x03\r")
    shared_vm.resync(quiet=1.5, timeout=90)
    check_version_works(shared_vm, nos_build.version)
