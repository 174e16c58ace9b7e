"""
test_disk_image.py — the bootable disk image (scripts/build-disk.sh, `make
disk`) and scripts/qemu-disk.sh: made by an unprivileged user, laid out the
way grub-install would leave it, and booted in QEMU with each cloud's device
set and no CD drive (docs/cloud.md).

The host is the referee.  The image is read with sfdisk, mtools and
bin/nanofs, its MBR is compared byte for byte with GRUB's own boot.img as
grub-bios-setup patches it, and what the guest wrote is read back from the
image file after QEMU has gone.

The image is built ONCE for the module, by `nobody` when the tests run as
root (runuser; by the current user otherwise), from a copy of just the
files the script needs, into a directory of its own, with a TMPDIR of its
own: afterwards the copy is unchanged, TMPDIR is empty and the output
directory holds the three outputs and nothing else.  Its size, 200 MiB, is
not a whole number of GiB, so the Compute Engine disk.raw must be rounded
up (to 1 GiB); a second, quick build checks the default size (1 GiB).

Machines (each boots from the disk, bootindex=0, with -nodefaults: QEMU's PC
machines otherwise come with an empty CD drive, which a cloud VM has not):
  blk    nos.img, virtio-blk, pc, VGA, 2 CPUs: the disk is the only drive
         (QMP query-block), GRUB's menu on the serial port,
         /data mounted from vda2, the NOS_DISK_FILES tree readable, a file
         written and synced, then `poweroff`
  scsi   the same nos.img, virtio-scsi, no VGA device, a virtio-net NIC
         (DHCP), 2 CPUs: the file is back (and bin/nanofs reads it on the
         host after this machine's power off)
  gce    disk.raw unpacked from nos-gce.tar.gz, virtio-scsi, no VGA, a NIC,
         8 CPUs
  yandex nos.qcow2, virtio-blk, q35
Bad input (size, key, command line, files, arguments) is an error with exit
status 2 and nothing made; a build that fails part-way leaves nothing
either.  qemu-disk.sh's command lines are checked against a stand-in QEMU.
"""

import gzip
import json
import os
import pwd
import re
import shutil
import struct
import subprocess
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

import nos_harness as nh

GRUB_DIR = Path("/usr/lib/grub/i386-pc")
SIZE_MIB = 200                         # not whole GiB: GCE rounds up
GIB = 1 << 30
BOOT_START = 2048                      # partition 1, in sectors
BOOT_OFFSET = BOOT_START * 512         # for mtools' IMAGE@@OFFSET
KEY = "0123456789abcdef" * 4           # NOS_UDPSH_KEY
CMDLINE = "mount=LABEL=nos-data:/data udpshell=9000"
POWEROFF_TIMEOUT = 30
SBIN = "/usr/sbin:/sbin"
NIC = ["-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0"]
# QEMU's PC machines have an empty CD drive (and a floppy drive) unless
# -nodefaults; a cloud VM has neither.  The devices wanted are then named.
NO_DEFAULTS = ["-nodefaults"]
LEASE_RE = r"dhcp: eth0: bound to 10\.0\.2\.15/24"

# What NOS_DISK_FILES holds: path on the volume -> bytes (None: a directory).
TEXT = b"hello from the host"
BLOB = bytes((i * 7919 + (i >> 8)) & 0xFF for i in range(40000))
FILES = {
    "/hello.txt": TEXT,
    "/empty": None,
    "/sub": None,
    "/sub/notes.txt": b"a file in a subdirectory",
    "/sub/deeper": None,
    "/sub/deeper/blob.bin": BLOB,
}
NOTE = "written by the guest before power off"


def tool_env(**extra):
    """The environment for the tools and the script: sfdisk's directories on
    PATH, and none of the caller's own NOS_DISK_* / NOS_UDPSH_KEY settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NOS_DISK_", "NOS_UDPSH_KEY"))}
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin") + ":" + SBIN,
               MTOOLS_SKIP_CHECK="1")
    env.update(extra)
    return env


def file_crc(path, length=None):
    """CRC-32 of the first @length bytes of @path (all of it by default)."""
    crc, left = 0, length
    with open(path, "rb") as f:
        while left is None or left > 0:
            chunk = f.read(1 << 20 if left is None else min(1 << 20, left))
            if not chunk:
                break
            crc = zlib.crc32(chunk, crc)
            if left is not None:
                left -= len(chunk)
    return crc


def crc_line(data, path):
    return f"{zlib.crc32(data):08x}  {path} ({len(data)} bytes)"


def listing(root):
    """{relative path: (mode, size, mtime)} of everything under @root."""
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath, name)
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


# ------------------------------------------------------------ building ----

@dataclass
class Build:
    root: Path          # temp tree, removed at the end
    tree: Path          # the copy of the repository files the script needs
    out: Path
    tmp: Path           # the build's TMPDIR
    uid: int            # who ran it
    proc: subprocess.CompletedProcess
    tree_before: dict
    img_crc: int        # of nos.img right after the build

    @property
    def img(self):
        return self.out / "nos.img"


def make_tree(root, nos_build, kernel=True):
    """The files build-disk.sh reads, copied under @root/tree, readable by all."""
    tree = root / "tree"
    for rel in ("scripts/build-disk.sh", "scripts/grub-cmdline.sh", "build/grub-disk.cfg",
                "bin/nanofs"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(nos_build.repo / rel, tree / rel)
    if kernel:
        shutil.copy2(nos_build.kernel, tree / "bin" / "kernel64.elf")
    for dirpath, dirs, files in os.walk(root):
        os.chmod(dirpath, 0o755)
        for f in files:
            p = Path(dirpath, f)
            os.chmod(p, 0o755 if os.access(p, os.X_OK) else 0o644)
    return tree


def make_files(d):
    for rel, data in FILES.items():
        p = d / rel.lstrip("/")
        if data is None:
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)


def unprivileged():
    """(uid, command prefix): nobody through runuser when we are root."""
    if os.geteuid() != 0:
        return os.geteuid(), []
    runuser = shutil.which("runuser", path=os.environ.get("PATH", "") + ":" + SBIN)
    assert runuser, "runuser (util-linux) is missing"
    return pwd.getpwnam("nobody").pw_uid, [runuser, "-u", "nobody", "--"]


def give(path, uid):
    if os.geteuid() == 0:
        os.chown(path, uid, -1)


def run_build(tree, *args, as_user=None, **env):
    """Run build-disk.sh from @tree with NOS_* settings in @env."""
    prefix = as_user or []
    e = tool_env(**{k: str(v) for k, v in env.items()})
    return subprocess.run([*prefix, "env", *[f"{k}={v}" for k, v in e.items()
                                             if k.startswith(("NOS_", "TMPDIR"))],
                           str(tree / "scripts" / "build-disk.sh"), *args],
                          env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def disk(nos_build):
    root = Path(tempfile.mkdtemp(prefix="nos-disk-image-"))
    try:
        tree = make_tree(root, nos_build)
        make_files(root / "files")
        os.chmod(root, 0o755)
        for dirpath, dirs, files in os.walk(root / "files"):
            os.chmod(dirpath, 0o755)
            for f in files:
                os.chmod(Path(dirpath, f), 0o644)
        uid, prefix = unprivileged()
        out, tmp = root / "out", root / "tmp"
        out.mkdir()
        tmp.mkdir()
        give(out, uid)
        give(tmp, uid)
        before = listing(tree)
        proc = run_build(tree, as_user=prefix, NOS_DISK_SIZE=f"{SIZE_MIB}M",
                         NOS_DISK_FILES=root / "files", NOS_DISK_OUT=out,
                         NOS_UDPSH_KEY=KEY, TMPDIR=tmp)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        crc = file_crc(out / "nos.img")
        yield Build(root, tree, out, tmp, uid, proc, before, crc)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_built_by_an_unprivileged_user_into_its_output_dir_only(disk):
    assert disk.uid != 0
    assert sorted(os.listdir(disk.out)) == ["nos-gce.tar.gz", "nos.img", "nos.qcow2"]
    for f in disk.out.iterdir():
        assert f.stat().st_uid == disk.uid, f
    assert os.listdir(disk.tmp) == [], "the build left files in TMPDIR"
    assert listing(disk.tree) == disk.tree_before, "the build changed its inputs"
    assert disk.proc.stderr == ""
    # the summary: each output with its size, the command line without the key
    out = disk.proc.stdout
    assert f"made in {disk.out}" in out
    assert re.search(r"^  nos\.img +200MiB, ", out, re.M), out
    assert re.search(r"^  nos\.qcow2 ", out, re.M) and re.search(r"^  nos-gce\.tar\.gz ", out, re.M)
    assert f"kernel command line: {CMDLINE} udpshell.key=(hidden)" in out
    assert KEY not in out
    assert "disk.raw is 1 GiB" in out and "rounded up" in out


def test_raw_image_is_sparse_and_the_size_asked_for(disk):
    st = disk.img.stat()
    assert st.st_size == SIZE_MIB << 20
    assert st.st_blocks * 512 < st.st_size // 4, "nos.img is not sparse"


def sfdisk_json(img):
    out = subprocess.run(["sfdisk", "--json", str(img)], env=tool_env(), check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)["partitiontable"]


def test_partition_table(disk):
    table = sfdisk_json(disk.img)
    sectors = disk.img.stat().st_size // 512
    assert table["label"] == "dos" and table["sectorsize"] == 512
    p1, p2 = table["partitions"]          # exactly two
    assert p1["start"] == BOOT_START and p1.get("bootable") is True and p1["type"] == "e"
    assert p2["start"] == p1["start"] + p1["size"] and not p2.get("bootable")
    assert p2["start"] + p2["size"] == sectors, "partition 2 does not reach the end"
    dump = subprocess.run(["sfdisk", "--dump", str(disk.img)], env=tool_env(), check=True,
                          stdout=subprocess.PIPE, text=True).stdout
    assert "label: dos" in dump and "bootable" in dump


def mtools_get(img, path, dest):
    subprocess.run(["mcopy", "-n", "-i", f"{img}@@{BOOT_OFFSET}", f"::{path}", str(dest)],
                   env=tool_env(), check=True)
    return Path(dest).read_bytes()


def test_mbr_is_grubs_boot_code_patched_as_grub_bios_setup_does(disk):
    with open(disk.img, "rb") as f:
        mbr = f.read(512)
    want = bytearray((GRUB_DIR / "boot.img").read_bytes()[:440])
    want[0x5C:0x64] = struct.pack("<Q", 1)   # the core image's first sector
    want[0x64] = 0xFF                        # the drive the BIOS booted from
    want[0x66:0x68] = b"\x90\x90"            # no floppy drive check
    assert mbr[:440] == bytes(want)
    assert mbr[510:512] == b"\x55\xaa"


def test_core_image_is_in_the_gap_and_loads_itself(disk, tmp_path):
    core = mtools_get(disk.img, "/boot/grub/i386-pc/core.img", tmp_path / "core.img")
    n = (len(core) + 511) // 512
    assert n < BOOT_START
    with open(disk.img, "rb") as f:
        f.seek(512)
        gap = f.read(n * 512)
    assert gap[:len(core)] == core
    # diskboot's blocklist: the rest of the core image, from sector 2, to 0x820:0
    start, length, segment = struct.unpack_from("<QHH", gap, 500)
    assert (start, length, segment) == (2, n - 1, 0x820)
    assert struct.unpack_from("<H", gap, 496)[0] == 0  # the list ends there


def test_boot_partition_holds_grub_the_kernel_and_the_menu(disk, nos_build, tmp_path):
    assert mtools_get(disk.img, "/boot/kernel64.elf", tmp_path / "k") == \
        nos_build.kernel.read_bytes()
    for name in ("normal.mod", "multiboot2.mod", "moddep.lst", "boot.img"):
        assert mtools_get(disk.img, f"/boot/grub/i386-pc/{name}", tmp_path / name) == \
            (GRUB_DIR / name).read_bytes(), name
    cfg = mtools_get(disk.img, "/boot/grub/grub.cfg", tmp_path / "grub.cfg").decode()
    assert "set timeout=1\n" in cfg
    assert "serial --unit=0 --speed=115200\n" in cfg
    assert "terminal_input serial console\n" in cfg and "terminal_output serial console\n" in cfg
    words = " ".join(f"'{w}'" for w in (CMDLINE + " udpshell.key=" + KEY).split())
    assert f"\tmultiboot2 /boot/kernel64.elf {words}\n" in cfg, cfg


def test_data_partition_is_clean_nanofs_labelled_and_filled(disk):
    tool = str(disk.tree / "bin" / "nanofs")
    spec = f"{disk.img}@2"
    p = subprocess.run([tool, "fsck", spec], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    st = subprocess.run([tool, "stat", spec], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^label nos-data$", st, re.M), st
    for path, data in FILES.items():
        if data is not None:
            got = subprocess.run([tool, "cat", spec, path], capture_output=True, check=True).stdout
            assert got == data, path
    assert subprocess.run([tool, "ls", spec, "/empty"], capture_output=True,
                          text=True, check=True).stdout.strip() == ""


def test_default_size_is_one_gib(nos_build, tmp_path):
    tree = make_tree(tmp_path, nos_build)
    p = run_build(tree, NOS_DISK_OUT=tmp_path / "out")
    assert p.returncode == 0, p.stdout + p.stderr
    assert (tmp_path / "out" / "nos.img").stat().st_size == GIB
    assert "rounded up" not in p.stdout
    assert f"kernel command line: {CMDLINE}\n" in p.stdout
    with tarfile.open(tmp_path / "out" / "nos-gce.tar.gz") as t:
        assert [(m.name, m.size) for m in t.getmembers()] == [("disk.raw", GIB)]


# ------------------------------------------------------------ bad input ----

BAD = [
    ({"NOS_DISK_SIZE": "garbage"}, "is not a size"),
    ({"NOS_DISK_SIZE": "1T"}, "is not a size"),
    ({"NOS_DISK_SIZE": "-5M"}, "is not a size"),
    ({"NOS_DISK_SIZE": "16M"}, "is too small"),
    ({"NOS_DISK_SIZE": "48M"}, "is too small"),
    ({"NOS_DISK_SIZE": "100000K"}, "whole number of MiB"),
    ({"NOS_DISK_SIZE": "4096G"}, "at most 2 TiB"),
    ({"NOS_UDPSH_KEY": "abc"}, "64 hex digits"),
    ({"NOS_UDPSH_KEY": "g" + KEY[1:]}, "64 hex digits"),
    ({"NOS_UDPSH_KEY": KEY + "0"}, "64 hex digits"),
    ({"NOS_DISK_FILES": "/nonexistent/nos-files"}, "is not a directory"),
    ({"NOS_DISK_CMDLINE": 'say "hi"'}, "may not contain"),
    ({"NOS_DISK_CMDLINE": "it's"}, "may not contain"),
    ({"NOS_DISK_CMDLINE": "a\\b"}, "may not contain"),
]


@pytest.fixture(scope="module")
def bad_tree(nos_build, tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("bad"), nos_build)


@pytest.mark.parametrize("env,message", BAD, ids=[f"{list(e)[0]}={list(e.values())[0]}"
                                                  for e, _ in BAD])
def test_bad_input_is_refused_and_nothing_is_made(bad_tree, tmp_path, env, message):
    out = tmp_path / "out"                  # does not exist: must not be made
    p = run_build(bad_tree, NOS_DISK_OUT=out, **env)
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.startswith("build-disk.sh: ") and message in p.stderr, p.stderr
    assert not out.exists(), "a refused build made its output directory"
    if "NOS_UDPSH_KEY" in env:
        assert env["NOS_UDPSH_KEY"] not in p.stderr, "the key was printed"


def test_files_other_than_files_and_directories_are_refused(bad_tree, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "ok").write_text("fine")
    (files / "link").symlink_to("ok")
    out = tmp_path / "out"
    p = run_build(bad_tree, NOS_DISK_OUT=out, NOS_DISK_FILES=files)
    assert p.returncode == 2 and "only files and directories" in p.stderr, p.stderr
    assert str(files / "link") in p.stderr
    assert not out.exists()


def test_a_build_that_fails_part_way_leaves_nothing(bad_tree, tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    (files / "big").write_bytes(bytes(24 << 20))   # more than a 16 MiB partition 2
    out = tmp_path / "out"
    out.mkdir()
    p = run_build(bad_tree, NOS_DISK_OUT=out, NOS_DISK_FILES=files, NOS_DISK_SIZE="49M")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "too small" in p.stderr, p.stderr
    assert os.listdir(out) == [], "a failed build left files behind"


def test_usage(bad_tree, nos_build, tmp_path):
    p = run_build(bad_tree, "--help")
    assert p.returncode == 0 and p.stdout.startswith("usage: build-disk.sh")
    for var in ("NOS_DISK_SIZE", "NOS_DISK_CMDLINE", "NOS_UDPSH_KEY", "NOS_DISK_FILES",
                "NOS_DISK_OUT"):
        assert var in p.stdout, var
    p = run_build(bad_tree, "--bogus", NOS_DISK_OUT=tmp_path / "out")
    assert p.returncode == 2 and p.stderr.startswith("usage: build-disk.sh")
    assert not (tmp_path / "out").exists()
    # without a kernel: say to run make
    tree = make_tree(tmp_path / "nokernel", nos_build, kernel=False)
    p = run_build(tree, NOS_DISK_OUT=tmp_path / "out")
    assert p.returncode == 1 and "run make first" in p.stderr, p.stderr
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------- booting ----

@pytest.fixture
def disk_vm(request):
    """Factory: a VM that boots from the disk given in @disk_args (no CD
    drive), waited to the prompt; every VM it made is closed at teardown
    and keeps its log when the test fails."""
    made = []

    def boot(disk_args, smp=2, extra=(), qmp=False):
        vm = nh.NosVM(None, smp=smp, name=f"{request.node.name}-{len(made)}",
                      extra_args=[*NO_DEFAULTS, *disk_args, *extra], qmp=qmp)
        made.append(vm)
        request.node._nos_vms = getattr(request.node, "_nos_vms", []) + [vm]
        vm.start()
        vm.wait_boot()
        return vm

    yield boot
    for vm in made:
        vm.close()


def blk_disk(path, fmt="raw"):
    return ["-drive", f"file={path},if=none,id=boot,format={fmt}",
            "-device", "virtio-blk-pci,drive=boot,bootindex=0"]


def scsi_disk(path, fmt="raw"):
    return ["-drive", f"file={path},if=none,id=boot,format={fmt}",
            "-device", "virtio-scsi-pci,id=scsi0",
            "-device", "scsi-hd,drive=boot,bus=scsi0.0,bootindex=0"]


def check_grub_then_kernel(vm):
    """GRUB's menu was on the serial port, with a 1 s countdown, before the
    kernel's first line; the kernel got the image's command line."""
    text = vm.transcript
    banner = re.search(nh.BANNER_RE, text).start()
    marks = ["GNU GRUB", "*nos", "executed automatically in 1s", "Booting `nos'"]
    places = [text.find(m) for m in marks]
    assert all(0 <= p < banner for p in places), list(zip(marks, places))
    assert places == sorted(places), list(zip(marks, places))
    m = re.search(r"boot: loader 'GRUB [^']*', command line '(.*)'\r\n", vm.boot_log)
    assert m and m.group(1) == f"{CMDLINE} udpshell.key=(hidden)", vm.boot_log[-2000:]


def check_data(vm, dev):
    """/data is partition 2 of @dev, and holds the NOS_DISK_FILES tree."""
    rows = [r for r in vm.run_lines("mounts") if r.endswith("  /data")]
    assert len(rows) == 1 and rows[0].startswith(f"nanofs   {dev}2 ") and " rw " in rows[0], rows
    assert re.search(rf"^{dev}2 .*claimed by nanofs /data$", vm.run("disks"), re.M)
    assert vm.run("cat /data/hello.txt") == TEXT.decode()
    assert vm.run("cat /data/sub/notes.txt") == FILES["/sub/notes.txt"].decode()
    for path, data in FILES.items():
        if data is not None:
            assert vm.run(f"crc32 /data{path}") == crc_line(data, f"/data{path}")
    assert {"hello.txt", "empty/", "sub/"} <= set(vm.run_lines("ls /data"))
    assert sorted(vm.run_lines("ls /data/sub")) == ["deeper/", "notes.txt"]


def check_disk(vm, dev, driver, sectors):
    row = [r for r in vm.run_lines("disks") if r.startswith(f"{dev} ")]
    assert len(row) == 1 and driver in row[0], vm.run("disks")
    assert int(row[0].split()[1]) == sectors, row


def wait_lease(vm, timeout=30):
    deadline = time.monotonic() + timeout * nh.timeout_scale()
    while not re.search(LEASE_RE, vm.run("dmesg dhcp:")):
        if time.monotonic() > deadline:
            vm.fail(f"no DHCP lease in {timeout} s:\n{vm.run('dmesg dhcp')}")
        time.sleep(0.5)


def power_off(vm):
    vm.send("poweroff\r")
    vm.wait_for(r"poweroff\r\n")
    try:
        vm.proc.wait(timeout=POWEROFF_TIMEOUT * nh.timeout_scale())
    except subprocess.TimeoutExpired:
        vm.fail(f"QEMU still runs {POWEROFF_TIMEOUT} s after poweroff")
    vm.wait_exit(5)


def vga(vm):
    return "(class 0300 " in vm.run("pci")


def test_boots_from_virtio_blk_then_virtio_scsi_and_keeps_data(disk, disk_vm):
    sectors = SIZE_MIB << 11
    # virtio-blk on pc, with the default VGA: what `make run-disk` does
    vm = disk_vm(blk_disk(disk.img), extra=["-vga", "std"], qmp=True)
    assert [b["device"] for b in vm.qmp("query-block")] == ["boot"], "not the only drive"
    check_grub_then_kernel(vm)
    check_disk(vm, "vda", "virtio-blk", sectors)
    check_data(vm, "vda")
    assert vga(vm)
    assert vm.run(f"write /data/note {NOTE}") == ""
    assert vm.run("sync") == "synced"
    power_off(vm)

    # virtio-scsi, serial only, a virtio-net NIC: Compute Engine's set
    vm = disk_vm(scsi_disk(disk.img), extra=["-vga", "none", *NIC])
    check_grub_then_kernel(vm)
    check_disk(vm, "sda", "virtio-scsi", sectors)
    check_data(vm, "sda")
    assert not vga(vm)
    assert vm.run("cat /data/note") == NOTE
    wait_lease(vm)
    power_off(vm)

    tool = str(disk.tree / "bin" / "nanofs")
    got = subprocess.run([tool, "cat", f"{disk.img}@2", "/note"], capture_output=True,
                         check=True).stdout
    assert got == NOTE.encode()
    assert subprocess.run([tool, "fsck", f"{disk.img}@2"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def gce_raw(disk):
    """disk.raw unpacked from nos-gce.tar.gz, after checking the archive."""
    tgz = disk.out / "nos-gce.tar.gz"
    with gzip.open(tgz) as g:
        header = g.read(512)
    assert header[257:265] == b"ustar  \0", "not a GNU (oldgnu) tar header"
    assert header[156:157] == b"S", "disk.raw is not stored as a GNU sparse file"
    d = disk.root / "gce"
    d.mkdir()
    with tarfile.open(tgz) as t:
        members = t.getmembers()
        assert [m.name for m in members] == ["disk.raw"]
        assert members[0].issparse() and members[0].isfile()
        kw = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        t.extract(members[0], d, **kw)
    return d / "disk.raw"


def test_gce_tarball_holds_a_whole_gib_sparse_disk_raw(disk, gce_raw):
    st = gce_raw.stat()
    assert st.st_size % GIB == 0 and st.st_size == GIB
    assert st.st_blocks * 512 < (SIZE_MIB << 20) // 4, "disk.raw is not sparse"
    size = SIZE_MIB << 20
    assert file_crc(gce_raw, size) == disk.img_crc, "disk.raw does not begin with nos.img"
    with open(gce_raw, "rb") as f:
        try:                                    # nothing but a hole after it
            data = os.lseek(f.fileno(), size, os.SEEK_DATA)
        except OSError:
            data = None
        assert data is None, f"data at {data} past nos.img's end"
    table = sfdisk_json(gce_raw)
    assert [(p["start"], p["size"]) for p in table["partitions"]] == \
        [(p["start"], p["size"]) for p in sfdisk_json(disk.img)["partitions"]]


def test_gce_disk_raw_boots_on_virtio_scsi_with_8_cpus(gce_raw, disk_vm):
    vm = disk_vm(scsi_disk(gce_raw), smp=8, extra=["-vga", "none", *NIC])
    check_grub_then_kernel(vm)
    assert "smp: 8 of 8 CPUs online" in vm.boot_log
    check_disk(vm, "sda", "virtio-scsi", GIB // 512)
    check_data(vm, "sda")
    assert not vga(vm)
    wait_lease(vm)


def test_qcow2_boots_from_virtio_blk_on_q35(disk, disk_vm):
    out = subprocess.run(["qemu-img", "info", "--output=json", str(disk.out / "nos.qcow2")],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    info = json.loads(out)
    assert info["format"] == "qcow2" and info["virtual-size"] == SIZE_MIB << 20
    vm = disk_vm(blk_disk(disk.out / "nos.qcow2", "qcow2"), extra=["-machine", "q35"])
    check_grub_then_kernel(vm)
    check_disk(vm, "vda", "virtio-blk", SIZE_MIB << 11)
    check_data(vm, "vda")
    assert "MCFG" in vm.run("acpi")         # it is q35
    assert vm.run("write /data/q35 yes") == "" and vm.run("sync") == "synced"
    power_off(vm)


# --------------------------------------------------------- qemu-disk.sh ----

FAKE_QEMU = """#!/bin/sh
for a in "$@"; do printf '%s\\n' "$a"; done > "$NOS_FAKE_ARGS"
"""


def qemu_disk(nos_build, tmp_path, *args, **env):
    """Run scripts/qemu-disk.sh against a stand-in QEMU; (status, argv, stderr)."""
    fake = tmp_path / "fakebin"
    fake.mkdir(exist_ok=True)
    (fake / "qemu-system-x86_64").write_text(FAKE_QEMU)
    (fake / "qemu-system-x86_64").chmod(0o755)
    argv_file = tmp_path / "argv"
    if argv_file.exists():
        argv_file.unlink()
    e = {k: v for k, v in os.environ.items() if not k.startswith(("NOS_", "QEMU_"))}
    e.update(PATH=f"{fake}:{os.environ.get('PATH', '/usr/bin:/bin')}",
             NOS_FAKE_ARGS=str(argv_file), **env)
    p = subprocess.run([str(nos_build.repo / "scripts" / "qemu-disk.sh"), *map(str, args)],
                       env=e, capture_output=True, text=True, timeout=60)
    argv = argv_file.read_text().split("\n")[:-1] if argv_file.exists() else None
    return p.returncode, argv, p.stderr


def pairs(argv):
    return list(zip(argv, argv[1:]))


def test_qemu_disk_defaults(nos_build, disk, tmp_path):
    rc, argv, err = qemu_disk(nos_build, tmp_path, disk.img)
    assert rc == 0, err
    assert "-cdrom" not in argv and "-boot" not in argv
    assert ("-drive", f"file={disk.img},if=none,id=boot,format=raw") in pairs(argv)
    assert ("-device", "virtio-blk-pci,drive=boot,bootindex=0") in pairs(argv)
    assert ("-serial", "mon:stdio") in pairs(argv)
    assert ("-netdev", "user,id=net0,hostfwd=udp:127.0.0.1:9000-:9000") in pairs(argv)
    assert ("-smp", "2") in pairs(argv) and ("-m", "512M") in pairs(argv)
    assert "-nodefaults" in argv and ("-vga", "std") in pairs(argv)   # no CD drive
    assert "-machine" not in argv and "-S" not in argv


def test_qemu_disk_cloud_options(nos_build, disk, tmp_path):
    rc, argv, err = qemu_disk(nos_build, tmp_path, "--scsi", "--serial-only", "--q35",
                              disk.out / "nos.qcow2", NOS_SMP="8", NOS_NET="none",
                              NOS_DEBUG="1", NOS_GDB_PORT="4321")
    assert rc == 0, err
    p = pairs(argv)
    assert ("-drive", f"file={disk.out / 'nos.qcow2'},if=none,id=boot,format=qcow2") in p
    assert ("-device", "scsi-hd,drive=boot,bus=scsi0.0,bootindex=0") in p
    assert ("-device", "virtio-scsi-pci,id=scsi0") in p
    assert ("-vga", "none") in p and ("-display", "none") in p and ("-machine", "q35") in p
    assert ("-smp", "8") in p and "-netdev" not in argv
    assert ("-gdb", "tcp:127.0.0.1:4321") in p and "-S" in argv
    # a name that says nothing: qemu-img tells qcow2 from raw
    plain = tmp_path / "image"
    shutil.copy(disk.out / "nos.qcow2", plain)
    rc, argv, err = qemu_disk(nos_build, tmp_path, plain)
    assert rc == 0 and ("-drive", f"file={plain},if=none,id=boot,format=qcow2") in pairs(argv)


@pytest.mark.parametrize("args,message", [
    (["/nonexistent.img"], "not found"),
    (["{out}/nos-gce.tar.gz"], "unpack disk.raw"),
    (["--floppy"], "unknown option"),
    (["{out}/nos.img", "{out}/nos.img"], "usage:"),
    (["{out}/nos.img", "NOS_DEBUG=1", "NOS_GDB_PORT=12x"], "must be a port number"),
])
def test_qemu_disk_bad_arguments(nos_build, disk, tmp_path, args, message):
    env = dict(a.split("=", 1) for a in args if a.startswith("NOS_"))
    args = [a.format(out=disk.out) for a in args if not a.startswith("NOS_")]
    rc, argv, err = qemu_disk(nos_build, tmp_path, *args, **env)
    assert rc == 2 and message in err and argv is None, err
