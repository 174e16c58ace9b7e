"""
test_nanofs.py — nanofs in the kernel: `format nanofs`, `mount nanofs`,
`fsck`, the `mount=` parameter, and data that outlives the machine.

The host is the referee.  What the kernel writes is read back from the
image file with bin/nanofs (get, ls, fsck) after QEMU has powered off, and
what bin/nanofs put into an image is read by a NEW QEMU on the same file;
CRC-32s are compared with Python's zlib, never with the kernel's own idea
of what it wrote.

Machines (each a fresh QEMU on raw image files attached as virtio-blk):
  write     vda 64 MiB blank: format, mount, write, append, mkdir, del,
            sync; fsck and format refused while it is mounted; vdb 16 MiB
            with one MBR
            partition vdb1: mounting vdb1 makes `format nanofs vdb` busy;
            a blank disk is refused with the core's reason; power off
            without umount (the sync is what counts)
  reread    the same image with mount=vda:/data: the kernel's files and
            the host tool's are there with their CRC-32s; umount, then
            the in-kernel fsck is clean
  readonly  a formatted image attached with readonly=on: it mounts
            read-only by itself, reads work, every change is EROFS
"""

import shutil
import subprocess
import time
import zlib

import pytest

import nos_harness as nh
from nanofs_tool import fsck_clean as host_fsck_clean, run as host, tool  # noqa: F401 (fixture)

POWEROFF_TIMEOUT = 30
ERR = "{cmd}: {path}: {name} ({text})"
ROFS = "read-only filesystem"


def blk_args(drive_id, path, addr, drive_opts=""):
    return ["-drive", f"file={path},if=none,id={drive_id},format=raw{drive_opts}",
            "-device", f"virtio-blk-pci,drive={drive_id},addr={addr}"]


def blank(path, mib):
    with open(path, "wb") as f:
        f.truncate(mib << 20)


def partitioned(path, mib, start, count):
    """A disk with one MBR partition (type 0x83) at sectors start..+count."""
    blank(path, mib)
    entry = bytes([0, 0, 0, 0, 0x83, 0, 0, 0]) + start.to_bytes(4, "little") \
        + count.to_bytes(4, "little")
    with open(path, "r+b") as f:
        f.seek(446)
        f.write(entry)
        f.seek(510)
        f.write(b"\x55\xaa")


def power_off(vm):
    """`poweroff`, then wait for QEMU to exit."""
    vm.send("poweroff\r")
    vm.wait_for(r"poweroff\r\n")
    deadline = time.monotonic() + POWEROFF_TIMEOUT
    while vm.proc.poll() is None:
        if time.monotonic() > deadline:
            vm.fail(f"QEMU still runs {POWEROFF_TIMEOUT} s after poweroff")
        time.sleep(0.1)
    vm.wait_exit(5)


def crc_line(data, path):
    return f"{zlib.crc32(data):08x}  {path} ({len(data)} bytes)"


# What the first machine writes, by path on the volume.
TEXT = "hello from the kernel"
NESTED = "deep down"
LINE = "0123456789abcdef" * 4          # 64 bytes a line
BIG_LINES = 200                         # appended to /log: 12,800 bytes


def expected_kernel_files():
    return {
        "/hello": TEXT.encode(),
        "/d/e/nested": NESTED.encode(),
        "/log": (LINE * BIG_LINES).encode(),
    }


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    d = tmp_path_factory.mktemp("nanofs")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_persistence_across_machines_and_the_host_tool(boot_vm, tool, images):
    img = images / "vol.img"
    part = images / "part.img"
    zero = images / "zero.img"
    blank(img, 64)
    partitioned(part, 16, 2048, 16384)
    blank(zero, 4)

    # ---- machine 1: format, mount, write, sync, power off
    vm = boot_vm(extra_args=blk_args("a", img, 3) + blk_args("b", part, 4)
                 + blk_args("c", zero, 5))
    assert vm.run("format nanofs vda") == "formatted vda as nanofs (16384 blocks of 4 KiB)"
    assert vm.run("mkdir /data") == ""
    assert vm.run("mount nanofs vda /data") == "mounted nanofs vda on /data"
    row = [r for r in vm.run_lines("mounts") if r.endswith("  /data")]
    assert len(row) == 1 and row[0].startswith("nanofs   vda      rw  blocks "), row
    assert vm.run("format nanofs vda") == "format: vda is in use by nanofs /data (EBUSY)"
    assert vm.run("fsck vda") == "fsck: vda is in use by nanofs /data (EBUSY)"
    assert vm.run(f"write /data/hello {TEXT}") == ""
    assert vm.run("mkdir /data/d") == "" and vm.run("mkdir /data/d/e") == ""
    assert vm.run(f"write /data/d/e/nested {NESTED}") == ""
    for _ in range(BIG_LINES):
        assert vm.run(f"append /data/log {LINE}") == ""
    assert vm.run("write /data/gone soon") == "" and vm.run("del /data/gone") == ""
    for path, data in expected_kernel_files().items():
        assert vm.run(f"crc32 /data{path}") == crc_line(data, f"/data{path}")
    assert sorted(vm.run_lines("ls /data")) == ["d/", "hello", "log"]
    assert vm.run("sync") == "synced"

    # a partition in use makes its whole disk busy, and the other way round
    assert vm.run("format nanofs vdb1") == "formatted vdb1 as nanofs (2048 blocks of 4 KiB)"
    assert vm.run("mkdir /p") == "" and vm.run("mount nanofs vdb1 /p") == \
        "mounted nanofs vdb1 on /p"
    out = vm.run("format nanofs vdb")
    assert out.startswith("format: vdb ") and out.endswith("(EBUSY)"), out
    assert vm.run("umount /p") == "unmounted /p"
    assert vm.run("fsck vdb1") == "vdb1: clean"

    # a disk that holds no nanofs is refused with the core's reason
    out = vm.run("mount nanofs vdc /p")
    assert out.startswith("mount: /p: EINVAL"), out
    assert "nanofs: no nanofs superblock (bad magic)" in vm.run("dmesg nanofs:")
    report = vm.run_lines("fsck vdc")
    assert "primary superblock (block 0): no nanofs superblock (bad magic)" in report, report
    assert report[-1] == "vdc: 2 problems", report
    assert vm.run("fsck nosuch") == "fsck: no disk 'nosuch' (see 'disks')"
    assert vm.run("format ext4 vdc").startswith(
        "format: unknown filesystem type 'ext4' (only nanofs)")
    assert vm.run("mount nanofs nosuch /p").startswith("mount: /p: ENXIO")
    assert "nanofs: no disk 'nosuch'; not mounted on /p" in vm.run("dmesg nanofs:")
    assert vm.run("del /p") == ""
    power_off(vm)                        # no umount: the sync is what counts

    # ---- the host reads back what the kernel wrote, and adds its own
    host_fsck_clean(tool, img)
    listing = host(tool, "ls", img, "/").stdout.decode()
    for name in ("hello", "log", "d"):
        assert name in listing, listing
    assert "gone" not in listing, listing
    for path, data in expected_kernel_files().items():
        out = images / "got"
        host(tool, "get", img, path, out)
        assert out.read_bytes() == data, path
    from_host = {
        "/host/text": b"put there by bin/nanofs\n",
        "/host/binary": bytes(range(256)) * 4096 + b"\0\xff",   # 1 MiB + 2
        "/host/one": b"x",
    }
    host(tool, "mkdir", img, "/host")
    for path, data in from_host.items():
        src = images / "src"
        src.write_bytes(data)
        host(tool, "put", img, src, path)
    host_fsck_clean(tool, img)

    # ---- machine 2, a NEW QEMU on the same image, mounted at boot (the
    # parameter makes the mount point in the fresh root ramfs)
    vm = boot_vm("mount=vda:/data", extra_args=blk_args("a", img, 3))
    assert "nanofs: vda mounted on /data" in vm.run("dmesg nanofs:")
    assert sorted(vm.run_lines("ls /data")) == ["d/", "hello", "host/", "log"]
    assert vm.run("cat /data/hello") == TEXT
    for path, data in {**expected_kernel_files(), **from_host}.items():
        assert vm.run(f"crc32 /data{path}") == crc_line(data, f"/data{path}")
    assert vm.run("cat /data/host/text") == "put there by bin/nanofs"
    assert vm.run("write /data/second boot") == ""
    assert vm.run("umount /data") == "unmounted /data"
    assert vm.run("fsck vda") == "vda: clean"
    power_off(vm)

    host_fsck_clean(tool, img)
    out = images / "got"
    host(tool, "get", img, "/second", out)
    assert out.read_bytes() == b"boot"


def test_read_only_disk_mounts_read_only(boot_vm, tool, images):
    img = images / "ro.img"
    blank(img, 8)
    host(tool, "mkfs", img)
    src = images / "ro-src"
    src.write_bytes(b"read me")
    host(tool, "put", img, src, "/f")
    vm = boot_vm(extra_args=blk_args("a", img, 3, ",readonly=on"))
    assert vm.run("mkdir /ro") == ""
    assert vm.run("mount nanofs vda /ro") == "mounted nanofs vda on /ro"
    row = [r for r in vm.run_lines("mounts") if r.endswith("  /ro")]
    assert len(row) == 1 and row[0].startswith("nanofs   vda      ro  blocks "), row
    assert vm.run("cat /ro/f") == "read me"
    for cmd, path in [("write", "/ro/f x"), ("append", "/ro/f x"), ("touch", "/ro/g"),
                      ("mkdir", "/ro/d")]:
        p = path.split()[0]
        assert vm.run(f"{cmd} {path}") == ERR.format(cmd=cmd, path=p, name="EROFS", text=ROFS)
    assert "EROFS" in vm.run("mv /ro/f /ro/h")
    assert "EROFS" in vm.run("del /ro/f")
    assert vm.run("ls /ro") == "f"
    assert vm.run("sync") == "synced"
    assert vm.run("umount /ro") == "unmounted /ro"
    assert vm.run("fsck vda") == "vda: clean"
    assert vm.run("format nanofs vda") == "format: vda is read-only (EROFS)"
    power_off(vm)
    host_fsck_clean(tool, img)


def test_mount_by_label_finds_the_one_volume_so_labelled(boot_vm, tool, images):
    """mount=LABEL=<label>:<path> and `mount nanofs LABEL=<label>` find a
    volume by its label wherever it is (a partition of one disk here); a
    label nobody has, and one two volumes share, mount nothing and say why."""
    parted, twin = images / "label-parted.img", images / "label-twin.img"
    partitioned(parted, 12, 2048, 8192)                # vda1: 4 MiB at 1 MiB
    host(tool, "mkfs", f"{parted}@1", "--label", "alpha")
    src = images / "label-src"
    src.write_bytes(b"found by label")
    host(tool, "put", f"{parted}@1", src, "/f")
    blank(twin, 4)
    host(tool, "mkfs", twin, "--label", "beta")
    disks = blk_args("a", parted, 3) + blk_args("b", twin, 4)
    # mount points two levels down: the parents are made too, and taken
    # away again with the mount point when the mount fails
    vm = boot_vm("mount=LABEL=alpha:/srv/data mount=LABEL=nobody:/none/deeper",
                 extra_args=disks)
    log = vm.run("dmesg vfs:")
    assert "vfs: LABEL=alpha is vda1" in log
    assert "vfs: no nanofs volume is labelled 'nobody'" in log
    assert vm.run("cat /srv/data/f") == "found by label"
    rows = vm.run_lines("mounts")
    assert any(r.startswith("nanofs   vda1") and r.endswith("  /srv/data") for r in rows), rows
    assert not any(r.endswith("  /none/deeper") for r in rows), rows
    assert "ENOENT" in vm.run("ls /none")              # the mount points went again
    assert vm.run("mkdir /b") == ""
    assert vm.run("mount nanofs LABEL=beta /b") == "mounted nanofs LABEL=beta on /b"
    assert any(r.startswith("nanofs   vdb ") for r in vm.run_lines("mounts"))
    assert vm.run("umount /b") == "unmounted /b"
    assert "ENXIO" in vm.run("mount nanofs LABEL=gamma /b")
    assert "EINVAL" in vm.run("mount nanofs LABEL= /b")
    power_off(vm)

    # two volumes with one label: neither is chosen
    host(tool, "mkfs", twin, "--label", "alpha")
    vm = boot_vm("mount=LABEL=alpha:/data", extra_args=disks)
    log = vm.run("dmesg")
    assert "nanofs: both vda1 and vdb are labelled 'alpha'" in log
    assert "vfs: mount=LABEL=alpha:/data: cannot mount LABEL=alpha on /data: EEXIST" in log
    assert not any(r.endswith("  /data") for r in vm.run_lines("mounts"))
    assert "EEXIST" in vm.run("mount nanofs LABEL=alpha /")
    power_off(vm)
    host_fsck_clean(tool, f"{parted}@1")
