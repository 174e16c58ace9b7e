"""
test_nanofs_faults.py — nanofs when things go wrong: power cuts in the
middle of bursts of writes, disks that fail reads, writes and flushes
(on chosen blocks, or from a random point on), and disks too small or
very large.

The host is the referee here too: after every fault the image file is
checked with `bin/nanofs fsck` and read back with `bin/nanofs ls/get`, never
through the kernel that was just killed.

Power cuts (test_sigkill_during_bursts_of_writes)
  One 32 MiB image, made by the host tool with a 150,000-byte /src on it,
  goes through ROUNDS rounds.  Each round boots a QEMU with mount=vda:/data,
  types a burst of random commands (write = atomic replace, append, touch,
  mkdir, mv, del, cp of /src, sync), a few at a time without waiting for
  their prompts, and SIGKILLs QEMU at a random instant.  Then the image must
  be fsck-clean and hold the tree of one *cut* of the burst at or after the
  last sync that came back (nanofs_faults_util.Timeline explains cuts).
  The tree read back is where the next round starts.  At the end a last
  machine mounts the volume, finds every file with the CRC-32 the host
  read, unmounts it and calls it clean with the in-kernel fsck.  The seed is
  printed with every failure (NOS_NANOFS_SEED=N repeats its commands and
  kill delays; the guest's timing still varies).

Failing disks (test_blkdebug_eio_on_reads_and_writes)
  A 4 MiB image with /keep, /dir/inner and /bad, attached through QEMU's
  blkdebug: reads of /bad's blocks fail, and so does every write to a block
  that is free (so the first new data block written fails).  Reading /bad is
  EIO with the block in dmesg, other files read, a synced mkdir survives;
  the first failing write is EIO and turns the volume read-only; umount
  says EIO and unmounts; the in-kernel fsck names the unreadable inode and
  blocks; nothing panics and the shell goes on.  A second machine fails
  every write to the journal: a read-write mount is refused with EIO, a
  read-only one works.  A third machine without blkdebug mounts the image,
  which fsck (kernel and host) calls clean, with every untouched file and
  the synced directory intact.
  Two more: a failed read or write names the file (inode) and its blocks
  in dmesg, and `sync` says EIO once a failed write dropped the running
  transaction (and `mounts` shows the volume ro).

Errors at random points (test_blkdebug_errors_at_random_points)
  RANDOM_ROUNDS rounds (NOS_BLKDEBUG_ROUNDS=N), each on a fresh 4 MiB
  volume with /keep, /dir/inner and a random /src: a seeded choice of
  reads, writes or flushes, of how many of them pass first (blkdebug has no
  probability, so its state machine counts them:
  nanofs_faults_util.blkdebug_after) and of whether the error comes once
  or for good.  The machine mounts by hand and runs a Burst (the power-cut
  test's commands) with crc32 reads between its commands.  Each command
  prints what it should or an EIO/EROFS line, the mount included, and
  nothing panics; after the first error a few more commands (write, sync,
  reads, ls, mkdir) get an answer, any answer, and the shell still runs.
  Then a machine without blkdebug mounts the volume, umounts it and calls
  it clean; so does the host's fsck; and, read with bin/nanofs, every path
  holds a state it held at or after the last sync that answered before the
  first error: a path untouched since then (the host's files that no
  command changed among them) holds exactly its synced bytes
  (Timeline.strays; a whole-cut check cannot hold once a command has
  failed half-way).  The soak variant (-m stress, NOS_BLKDEBUG_SOAK=N)
  runs N rounds.

Bad disks (test_tiny_and_huge_disks)
  vda is one sector (512 bytes): format and mount refuse it and say why.
  vdb is 2^33 sectors (4 TiB, a sparse file): format, mount, write, read,
  `mounts` (sizes from docs/nanofs.md's layout), umount; the backup
  superblock sits past sector 2^32; the host's fsck calls it clean.  The
  in-kernel fsck is left out: it takes over a minute under TCG.  vdc is
  1 MiB plus 3 sectors: it formats as 256 blocks and the 3 sectors past
  them are left as they were.  Format and mount times are printed (-s),
  never judged.
"""

import os
import random
import re
import shutil
import signal
import threading
import time

import pytest

import nos_harness as nh
from nanofs_faults_util import (DIR, Burst, Timeline, blkdebug_after, blkdebug_rules,
                                blocks_holding,
                                confirmed_outputs, free_data_blocks, layout, pattern_file,
                                read_volume)
from nanofs_tool import fsck_clean as host_fsck_clean, run as host, tool  # noqa: F401 (fixture)
from test_nanofs import blk_args, blank, crc_line, power_off

ROUNDS = 20
VOLUME_MIB = 32
SRC_BYTES = 150_000          # three cp chunks of 64 KiB, the last one short
KILL_WINDOW = (0.02, 0.8)    # seconds after the burst's first command (TCG runs ~250 a second)
MAX_COMMANDS = 600           # a bound only: the kill comes first
GROUP = (1, 4)               # commands typed before waiting for their prompts
EIO = "EIO (I/O error)"


@pytest.fixture
def images(tmp_path):
    """A directory for the test's images, removed afterwards even when the
    test fails (the 4 TiB one holds 132 MiB).  Ask for it before boot_vm, so
    that the VMs are gone first."""
    d = tmp_path / "images"
    d.mkdir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def _seed():
    env = os.environ.get("NOS_NANOFS_SEED")
    return int(env) if env else random.SystemRandom().randrange(1 << 32)


class Stats:
    def __init__(self):
        self.sent = self.acked = self.syncs = self.kills = self.replays = 0
        self.behind = self.at = self.ahead = 0     # recovered cut vs the last reply


def _type_until_killed(vm, burst, rng, stats):
    """Type commands in small groups until QEMU is gone (or MAX_COMMANDS)."""
    try:
        while len(burst.tl.commands) < MAX_COMMANDS:
            group = [burst.next() for _ in range(rng.randint(*GROUP))]
            vm.send("".join(line + "\r" for line in group))
            stats.sent += len(group)
            for _ in group:
                vm.wait_for(nh.PROMPT_RE)
    except (nh.NosExited, OSError):
        pass                       # the kill landed: that is the point


def _power_cut_round(vm, rng, timeline, burst, stats):
    """One burst and one SIGKILL; returns how many commands came back."""
    start = len(vm.transcript)
    killer = threading.Timer(rng.uniform(*KILL_WINDOW), vm.proc.kill)
    killer.start()
    try:
        _type_until_killed(vm, burst, rng, stats)
    finally:
        killer.cancel()
        if vm.proc.poll() is None:
            vm.proc.kill()         # the burst ran out before the delay did
        vm.proc.wait(timeout=30)
    stats.kills += 1
    assert vm.proc.returncode == -signal.SIGKILL, \
        f"QEMU ended with {vm.proc.returncode} before the kill"
    lines = [c for c, _ in timeline.commands]
    done = confirmed_outputs(vm.since(start), lines)
    for (line, out), (_, want) in zip(done, timeline.commands):
        assert out == want, f"{line!r} said {out!r}, expected {want!r}"
    stats.acked += len(done)
    stats.syncs += sum(1 for line, _ in done if line == "sync")
    return len(done)


def _classify(stats, cuts, acked_cut):
    """Count where the volume came back: at the last command that answered,
    behind it (unsynced work lost) or ahead (work that never answered)."""
    if acked_cut in cuts:
        stats.at += 1
    elif max(cuts) < acked_cut:
        stats.behind += 1
    else:
        stats.ahead += 1


def _check_in_kernel(vm, tree):
    """The kernel sees what the host read: the files' CRC-32s, the dirs."""
    for path, state in sorted(tree.items()):
        if state == DIR:
            out = vm.run(f"stat /data{path}")
            assert out.startswith(f"/data{path}: directory"), out
        else:
            assert vm.run(f"crc32 /data{path}") == crc_line(state, f"/data{path}")
    names = {p.rsplit("/", 1)[1] + ("/" if s == DIR else "")
             for p, s in tree.items() if p.count("/") == 1}
    assert set(vm.run_lines("ls /data")) == names


def test_sigkill_during_bursts_of_writes(images, boot_vm, tool):
    seed = _seed()
    rng = random.Random(seed)
    img, scratch = images / "vol.img", images / "got"
    blank(img, VOLUME_MIB)
    host(tool, "mkfs", img)
    src = images / "src"
    src.write_bytes(rng.randbytes(SRC_BYTES))
    host(tool, "put", img, src, "/src")
    tree = read_volume(tool, img, scratch)
    stats, counter, t0 = Stats(), [0], time.monotonic()
    for rnd in range(ROUNDS):
        where = f"seed {seed} (NOS_NANOFS_SEED), round {rnd}"
        vm = boot_vm("mount=vda:/data", extra_args=blk_args("a", img, 3))
        log = vm.run("dmesg nanofs:")
        assert "nanofs: vda mounted on /data" in log, f"{where}: {log}"
        stats.replays += log.count("nanofs: replayed journal")
        timeline = Timeline(tree)
        burst = Burst(rng, timeline, f"r{rnd}", "/src", counter)
        try:
            acked = _power_cut_round(vm, rng, timeline, burst, stats)
        except (AssertionError, nh.NosError) as e:   # a panic too: say the seed
            raise AssertionError(f"{where}: {e}") from None
        p = host(tool, "fsck", img, ok=False)
        assert p.returncode == 0, f"{where}: fsck after the kill:\n" + p.stdout.decode() \
            + p.stderr.decode() + "\ncommands: " + "; ".join(c for c, _ in timeline.commands)
        observed = read_volume(tool, img, scratch)
        wrong = timeline.verdict(observed, acked)
        assert wrong is None, f"{where}, {acked} of {len(timeline.commands)} " \
            f"commands came back:\n{wrong}"
        _classify(stats, timeline.where(observed, acked), timeline.acked_cut(acked))
        tree = observed
        vm.keep_log = False        # the kill marked it; this round passed
        vm.close()

    vm = boot_vm("mount=vda:/data", extra_args=blk_args("a", img, 3))
    _check_in_kernel(vm, tree)
    assert vm.run("umount /data") == "unmounted /data"
    assert vm.run("fsck vda") == "vda: clean"
    power_off(vm)
    host_fsck_clean(tool, img)
    print(f"\nnanofs power cuts: {ROUNDS} rounds, {stats.sent} commands typed, "
          f"{stats.acked} came back ({stats.syncs} syncs), {stats.kills} SIGKILLs; the "
          f"volume came back at the last reply {stats.at}x, behind it {stats.behind}x, "
          f"ahead of it {stats.ahead}x; {stats.replays} journal replays at mount, "
          f"{len(tree)} paths at the end, "
          f"seed {seed}, {time.monotonic() - t0:.0f} s")


# ------------------------------------------------------- failing disks ----

EIO_MIB = 4
KEEP = pattern_file("keep", 2)
INNER = b"inside a directory\n" * 300
BAD = pattern_file("bad", 3)


def _eio_image(tool, d):
    """A 4 MiB volume with /keep, /dir/inner and /bad; returns (image,
    /bad's blocks, the free data blocks)."""
    img = d / "eio.img"
    blank(img, EIO_MIB)
    host(tool, "mkfs", img)
    host(tool, "mkdir", img, "/dir")
    for path, data in (("/keep", KEEP), ("/dir/inner", INNER), ("/bad", BAD)):
        src = d / "src"
        src.write_bytes(data)
        host(tool, "put", img, src, path)
    host_fsck_clean(tool, img)
    return img, blocks_holding(img, BAD), free_data_blocks(img)


def _ino(tool, img, path):
    out = host(tool, "stat", img, path).stdout.decode()
    return int(re.search(r"^inode (\d+)$", out, re.M).group(1))


def _blkdebug(d, name, rules, img):
    cfg = d / name
    cfg.write_text(rules)
    return blk_args("a", f"blkdebug:{cfg}:{img}", 3)


def test_blkdebug_eio_on_reads_and_writes(images, boot_vm, tool):
    img, bad_blocks, free = _eio_image(tool, images)
    assert free and min(free) > max(bad_blocks), (bad_blocks, free[:4])
    ERR = "{cmd}: {path}: " + EIO

    # ---- machine 1: reads of /bad fail, and every write to a free block
    vm = boot_vm(extra_args=_blkdebug(images, "rw.cfg", blkdebug_rules("read_aio", bad_blocks)
                                      + blkdebug_rules("write_aio", free), img))
    assert vm.run("mkdir /data") == ""
    assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"
    assert vm.run("crc32 /data/keep") == crc_line(KEEP, "/data/keep")
    assert vm.run("crc32 /data/dir/inner") == crc_line(INNER, "/data/dir/inner")
    assert vm.run("cat /data/bad") == ERR.format(cmd="cat", path="/data/bad")
    assert vm.run("crc32 /data/bad") == ERR.format(cmd="crc32", path="/data/bad")
    log = vm.run("dmesg nanofs:")
    assert f"nanofs: read of 3 blocks at {bad_blocks[0]} failed" in log, log
    assert vm.run("stat /data/bad").startswith("/data/bad: file"), "metadata still reads"
    # metadata only (the entry fits the root's block): commits, survives
    assert vm.run("mkdir /data/made") == "" and vm.run("sync") == "synced"
    # the first new data block cannot be written: EIO, then the volume is read-only
    assert vm.run("write /data/new fresh") == ERR.format(cmd="write", path="/data/new")
    log = vm.run("dmesg nanofs:")
    assert "failed; the volume is read-only until remounted" in log, log
    out = vm.run("append /data/keep more")
    assert out in (ERR.format(cmd="append", path="/data/keep"),
                   "append: /data/keep: EROFS (read-only filesystem)"), out
    assert vm.run("crc32 /data/keep") == crc_line(KEEP, "/data/keep"), "reads go on"
    names = set(vm.run_lines("ls /data"))
    assert names - {"new.~write"} == {"bad", "dir/", "keep", "made/"}, names
    # umount says the last commit failed, and unmounts all the same
    assert vm.run("umount /data") == ERR.format(cmd="umount", path="/data")
    assert not [r for r in vm.run_lines("mounts") if r.endswith(" /data")]
    # fsck names the file and blocks it cannot read, and goes on
    assert vm.run_lines("fsck vda") == [
        f"inode {_ino(tool, img, '/bad')}: blocks {bad_blocks[0]}..{bad_blocks[-1]} unreadable",
        "vda: 1 problem"]
    assert vm.run("version").startswith("nos ")
    power_off(vm)
    host_fsck_clean(tool, img)

    # ---- machine 2: every write to the journal fails
    lay = layout(img)
    journal = range(lay["journal_start"], lay["journal_start"] + lay["journal_blocks"])
    vm = boot_vm(extra_args=_blkdebug(images, "journal.cfg",
                                      blkdebug_rules("write_aio", journal), img))
    assert vm.run("mkdir /data") == ""
    assert vm.run("mount nanofs vda /data") == ERR.format(cmd="mount", path="/data")
    log = vm.run("dmesg nanofs:")
    assert re.search(r"nanofs: commit of transaction \d+ failed", log), log
    assert "nanofs: cannot mount vda on /data: EIO" in log, log
    assert vm.run("mount nanofs vda /data ro") == "mounted nanofs vda on /data (read-only)"
    assert vm.run("crc32 /data/bad") == crc_line(BAD, "/data/bad")
    assert vm.run("umount /data") == "unmounted /data"
    power_off(vm)
    host_fsck_clean(tool, img)

    # ---- machine 3: the same image without blkdebug
    vm = boot_vm(extra_args=blk_args("a", img, 3))
    assert vm.run("mkdir /data") == ""
    assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"
    for path, data in (("/keep", KEEP), ("/dir/inner", INNER), ("/bad", BAD)):
        assert vm.run(f"crc32 /data{path}") == crc_line(data, f"/data{path}")
    assert vm.run("stat /data/made").startswith("/data/made: directory")
    assert set(vm.run_lines("ls /data")) == {"bad", "dir/", "keep", "made/"}
    assert vm.run("umount /data") == "unmounted /data"
    assert vm.run("fsck vda") == "vda: clean"
    power_off(vm)
    host_fsck_clean(tool, img)
    got = images / "got"
    for path, data in (("/keep", KEEP), ("/dir/inner", INNER), ("/bad", BAD)):
        host(tool, "get", img, path, got)
        assert got.read_bytes() == data, path


def _free_writes_fail_vm(boot_vm, tool, d):
    """A machine with the EIO image mounted on /data, reads of /bad and
    writes to free blocks failing; returns (vm, image, /bad's blocks)."""
    img, bad_blocks, free = _eio_image(tool, d)
    vm = boot_vm(extra_args=_blkdebug(d, "rw.cfg", blkdebug_rules("read_aio", bad_blocks)
                                      + blkdebug_rules("write_aio", free), img))
    assert vm.run("mkdir /data") == ""
    assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"
    return vm, img, bad_blocks


def test_eio_in_dmesg_names_the_file(images, boot_vm, tool):
    """The issue: -EIO 'with the file and block named in dmesg'.  A checksum
    mismatch names the inode; so must a failed read or write of the device."""
    vm, img, bad_blocks = _free_writes_fail_vm(boot_vm, tool, images)
    assert vm.run("cat /data/bad") == f"cat: /data/bad: {EIO}"
    assert vm.run("write /data/new fresh") == f"write: /data/new: {EIO}"
    new_ino = re.search(r"inode (\d+)", vm.run("stat /data/new.~write")).group(1)
    log = vm.run("dmesg nanofs:")
    assert re.search(rf"inode {_ino(tool, img, '/bad')}\b.*\b{bad_blocks[0]}\b", log), log
    assert re.search(rf"inode {new_ino}\b.*\bblock", log), log


def test_sync_after_a_failed_write_is_an_error(images, boot_vm, tool):
    """A failed write drops the running transaction: sync must not say it
    synced, and the mount table shows the volume read-only."""
    vm, _img, _bad = _free_writes_fail_vm(boot_vm, tool, images)
    assert vm.run("write /data/new fresh") == f"write: /data/new: {EIO}"
    assert vm.run("sync") == f"sync: sync: {EIO}"
    row = [r for r in vm.run("mounts").splitlines() if r.endswith(" /data")]
    assert len(row) == 1 and row[0].split()[2] == "ro", row


# ----------------------------------------------------------- bad disks ----

HUGE_SECTORS = 1 << 33                 # 4 TiB
ODD_SECTORS = 2048 + 3                 # 1 MiB and three sectors
TAIL = (b"a tail sector, not nanofs's; " * 60)[:3 * 512]


def nanofs_layout(blocks):
    """docs/nanofs.md's layout of a volume of @blocks blocks: (data blocks,
    inodes).  The kernel must agree."""
    def ceil(a, b):
        return -(-a // b)
    journal = min(max(blocks // 64, 32), 1024)
    inodes = ceil(min(max(blocks // 4, 64), 1 << 25), 16) * 16
    meta = 2 + journal + ceil(inodes, 32704) + inodes // 16
    rest = blocks - 1 - meta
    return rest - ceil(rest, 32705), inodes


def _timed(vm, cmd, timeout=300):
    t = time.monotonic()
    out = vm.run(cmd, timeout=timeout)
    return out, time.monotonic() - t


def test_tiny_and_huge_disks(images, boot_vm, tool):
    one, huge, odd = images / "one.img", images / "huge.img", images / "odd.img"
    one.write_bytes(b"\xa5" * 512)
    with open(huge, "wb") as f:
        f.truncate(HUGE_SECTORS * 512)
    with open(odd, "wb") as f:
        f.seek(2048 * 512)
        f.write(TAIL)
    assert os.path.getsize(odd) == ODD_SECTORS * 512
    vm = boot_vm(extra_args=blk_args("a", one, 3) + blk_args("b", huge, 4)
                 + blk_args("c", odd, 5))
    assert vm.run("mkdir /t") == ""

    # ---- one sector: too small for anything, and said so
    out = vm.run("format nanofs vda")
    assert out == "format: vda: too small for nanofs (0 KiB; at least 1 MiB)", out
    assert "nanofs: cannot format 0 blocks of 4 KiB: smaller than 1 MiB" in vm.run("dmesg nanofs:")
    assert vm.run("mount nanofs vda /t").startswith("mount: /t: EINVAL")
    log = vm.run("dmesg nanofs:")
    assert "nanofs: device of 0 blocks is smaller than 1 MiB" in log, log
    assert not [r for r in vm.run_lines("mounts") if r.endswith(" /t")]
    assert vm.run("umount /t") == "umount: /t: not a mount point (EINVAL)"
    assert vm.run_lines("fsck vda") == ["device of 0 blocks is smaller than 1 MiB",
                                        "vda: 1 problem"]
    assert one.read_bytes() == b"\xa5" * 512, "nothing was written"

    # ---- 1 MiB and a bit: 256 blocks, the odd sectors left alone
    assert vm.run("format nanofs vdc") == "formatted vdc as nanofs (256 blocks of 4 KiB)"
    assert vm.run("mount nanofs vdc /t") == "mounted nanofs vdc on /t"
    assert vm.run("write /t/f small volume") == ""
    assert vm.run("umount /t") == "unmounted /t"
    assert vm.run("fsck vdc") == "vdc: clean"

    # ---- 4 TiB: formatted over all of it (under the 2^32-1 block cap)
    blocks = HUGE_SECTORS * 512 // 4096
    data_blocks, inodes = nanofs_layout(blocks)
    out, t_format = _timed(vm, "format nanofs vdb")
    assert out == f"formatted vdb as nanofs ({blocks} blocks of 4 KiB)"
    assert vm.run("mkdir /big") == ""
    out, t_mount = _timed(vm, "mount nanofs vdb /big")
    assert out == "mounted nanofs vdb on /big"
    row = [r for r in vm.run_lines("mounts") if r.endswith("  /big")]
    assert row == [f"nanofs   vdb      rw  blocks 0 used {data_blocks} free (4096 B)  "
                   f"inodes 1 used {inodes - 2} free  /big"], row
    assert vm.run("write /big/hello four tebibytes") == ""
    assert vm.run("cat /big/hello") == "four tebibytes"
    row = [r for r in vm.run_lines("mounts") if r.endswith("  /big")]
    assert row == [f"nanofs   vdb      rw  blocks 2 used {data_blocks - 2} free (4096 B)  "
                   f"inodes 2 used {inodes - 3} free  /big"], row
    out, t_umount = _timed(vm, "umount /big")
    assert out == "unmounted /big"
    power_off(vm)

    with open(huge, "rb") as f:          # the backup superblock, past 2^32 sectors
        f.seek((blocks - 1) * 4096)
        assert f.read(8) == b"NANOFS2\0"
    t = time.monotonic()
    host_fsck_clean(tool, huge)
    t_host_fsck = time.monotonic() - t
    got = images / "got"
    host(tool, "get", huge, "/hello", got)
    assert got.read_bytes() == b"four tebibytes"
    host_fsck_clean(tool, odd)
    assert odd.read_bytes()[2048 * 512:] == TAIL, "format wrote past its 256 blocks"
    with open(odd, "rb") as f:
        f.seek(255 * 4096)
        assert f.read(8) == b"NANOFS2\0", "the backup superblock ends the volume"
    print(f"\n4 TiB nanofs under {os.environ.get('NOS_ACCEL', 'tcg')}: format {t_format:.1f} s, "
          f"mount {t_mount:.1f} s, umount {t_umount:.1f} s, host fsck {t_host_fsck:.1f} s; "
          f"{os.stat(huge).st_blocks * 512 >> 20} MiB of the image written")


# ------------------------------------------- errors at random points ----

RANDOM_ROUNDS = int(os.environ.get("NOS_BLKDEBUG_ROUNDS", "10"))
RANDOM_COMMANDS = 40         # Burst commands per round, at most
# Where an error may start: how many events of its kind pass first.
# Measured with QMP's query-blockstats on a 4 MiB volume: the mount makes
# 7 reads, 8 writes and 4 flushes, a 40-command burst some 25 reads, 130
# writes and 50 flushes.  The ranges start inside the mount (a refused
# mount is a case too) and reach a little past a short burst.
START = {"read_aio": (0, 40), "write_aio": (0, 150), "flush_to_disk": (0, 60)}
IO_ERROR_RE = re.compile(r"^\w+: .*: (EIO \(I/O error\)|EROFS \(read-only filesystem\))$")
# After the first error a round stops drawing from its model (a command
# that failed half-way leaves it behind) and types these instead.
AFTER_ERROR = ["write /data/after still here?", "sync", "crc32 /data/keep", "ls /data",
               "cat /data/dir/inner", "mkdir /data/after-dir"]


def _random_image(tool, d, rng):
    """A 4 MiB volume with /keep, /dir/inner and a random /src: the files
    no command changes, whatever fails."""
    img = d / "rnd.img"
    blank(img, EIO_MIB)
    host(tool, "mkfs", img)
    host(tool, "mkdir", img, "/dir")
    src = rng.randbytes(SRC_BYTES)
    for path, data in (("/keep", KEEP), ("/dir/inner", INNER), ("/src", src)):
        (d / "put").write_bytes(data)
        host(tool, "put", img, d / "put", path)
    return img


def _io_error_or(out, want):
    """True for a command's @want output, False for an I/O error (EIO, or
    EROFS once a failed write turned the volume read-only); anything else
    fails the test."""
    if out == want:
        return True
    assert IO_ERROR_RE.match(out.splitlines()[-1] if out else ""), \
        f"neither the output {want!r} nor an I/O error: {out!r}"
    return False


def _random_fault_round(vm, rng, timeline, burst, stats):
    """Mount, then burst commands with reads of the model's files between
    them until the first error (then AFTER_ERROR); returns how many burst
    commands had answered right before it."""
    out = vm.run("mount nanofs vda /data")
    if not _io_error_or(out, "mounted nanofs vda on /data"):
        stats["failed mounts"] += 1
        return 0
    answered = 0
    for _ in range(RANDOM_COMMANDS):
        files = [p for p, s in timeline.tree.items() if s != DIR]
        if rng.random() < 0.25 and files:
            path = rng.choice(files)
            want = crc_line(timeline.tree[path], f"/data{path}")
            if not _io_error_or(vm.run(f"crc32 /data{path}"), want):
                break
            stats["reads ok"] += 1
        else:
            line = burst.next()
            if not _io_error_or(vm.run(line), timeline.commands[-1][1]):
                break                        # its cuts stay: it may have half run
            answered += 1
    else:
        stats["commands ok"] += answered
        return answered
    stats["commands ok"] += answered
    stats["rounds with an error"] += 1
    for line in AFTER_ERROR:         # success or an error message, never worse
        out = vm.run(line)
        stats["after the error, EIO/EROFS" if IO_ERROR_RE.match(out.splitlines()[-1] if out
                                                                 else "") else
              "after the error, other"] += 1
    assert vm.run("version").startswith("nos ")
    return answered


def test_blkdebug_errors_at_random_points(images, boot_vm, tool):
    """Reads, writes or flushes fail from a random point on (once, or for
    good): each command succeeds or says EIO/EROFS, the shell goes on; the
    volume then mounts without blkdebug, is clean, and what was synced
    before the first error is there."""
    _random_points(images, boot_vm, tool, RANDOM_ROUNDS)


@pytest.mark.stress
def test_blkdebug_errors_at_random_points_soak(images, boot_vm, tool):
    rounds = int(os.environ.get("NOS_BLKDEBUG_SOAK", "0"))
    if rounds <= 0:
        pytest.skip("set NOS_BLKDEBUG_SOAK=N for N rounds of errors at random points")
    _random_points(images, boot_vm, tool, rounds)


def _random_points(images, boot_vm, tool, rounds):
    seed = _seed()
    rng = random.Random(seed)
    stats = {k: 0 for k in ("failed mounts", "rounds with an error", "commands ok",
                            "reads ok", "after the error, EIO/EROFS",
                            "after the error, other")}
    injected = []
    t0 = time.monotonic()
    for rnd in range(rounds):
        event = rng.choice(sorted(START))
        start, once = rng.randint(*START[event]), rng.random() < 0.4
        where = (f"seed {seed} (NOS_NANOFS_SEED), round {rnd}: {event} fails after "
                 f"{start} {'once' if once else 'for good'}")
        img = _random_image(tool, images, rng)
        tree = read_volume(tool, img, images / "got")
        timeline = Timeline(tree)
        burst = Burst(rng, timeline, f"r{rnd}", "/src", [0])
        cfg = images / "rnd.cfg"
        cfg.write_text(blkdebug_after(event, start, once))
        vm = boot_vm(extra_args=blk_args("a", f"blkdebug:{cfg}:{img}", 3))
        try:
            assert vm.run("mkdir /data") == ""
            confirmed = _random_fault_round(vm, rng, timeline, burst, stats)
            log = vm.run("dmesg nanofs:")
        except (AssertionError, nh.NosError) as e:   # a panic too: say the seed
            raise AssertionError(f"{where}: {e}") from None
        injected.append((event, start, once, "failed" in log))
        vm.close()
        _after_faults_volume_is_whole(boot_vm, tool, img, images, timeline, confirmed, where)
    kinds = {e: (sum(1 for i in injected if i[0] == e), sum(1 for i in injected
                                                         if i[0] == e and i[3]))
             for e in START}
    print(f"\nblkdebug at random points: {rounds} rounds; per event (rounds, errors "
          f"logged by nanofs) {kinds}; {stats}; seed {seed}, {time.monotonic() - t0:.0f} s")
    assert stats["rounds with an error"] + stats["failed mounts"] > 0, \
        "no round ever met its error: the start points are too late"


def _after_faults_volume_is_whole(boot_vm, tool, img, d, timeline, confirmed, where):
    """Boot without blkdebug: the volume mounts, both fscks call it clean,
    and every path holds a state it held since the last sync that answered
    before the first error (a path untouched since: exactly that state)."""
    vm = boot_vm(extra_args=blk_args("a", img, 3))
    try:
        assert vm.run("mkdir /data") == ""
        assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data", where
        assert vm.run("umount /data") == "unmounted /data", where
        assert vm.run("fsck vda") == "vda: clean", where
        power_off(vm)
    except (AssertionError, nh.NosError) as e:
        raise AssertionError(f"{where}: {e}") from None
    p = host(tool, "fsck", img, ok=False)
    assert p.returncode == 0, f"{where}: host fsck:\n{p.stdout.decode()}{p.stderr.decode()}"
    observed = {p: s for p, s in read_volume(tool, img, d / "got").items()
                if not p.startswith("/after")}       # AFTER_ERROR's, unmodelled
    wrong = timeline.strays(observed, timeline.first_allowed(confirmed))
    assert not wrong, f"{where}, {confirmed} commands answered before the first error:\n" \
        + "\n".join(wrong) + "\ncommands: " + "; ".join(c for c, _ in timeline.commands)
