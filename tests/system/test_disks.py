"""
test_disks.py — block devices seen from the shell: virtio-blk disks (vda,
vdb, ...), virtio-scsi LUNs (sda, sdb, ...) and the MBR partitions on them
(vda1 ...), read and written with `diskread` / `diskwrite`, measured with
`diskbench`, over MSI-X, INTx and polling.

The host is the referee.  Before a boot it writes a known 512-byte pattern
(derived from the image and sector, so no two sectors look alike) at known
sectors of each image file, and partitions one image (with sfdisk when it is
installed, otherwise with the same table written here); after the guest has
written and powered off, it reads the image files again.  Nothing the test
checks comes from the kernel's own idea of what it did.

Machines (few boots, each shared by the checks that fit it):
  main      vda  64 MiB raw, modern-only virtio-blk at 00:03.0, two
                 partitions: vda1 sectors 2048+2048, type 0x83;
                 vda2 8192+16384, type 0x0c, bootable
            vdb  32 MiB qcow2, legacy virtio-blk at 00:04.0
            virtio-scsi at 00:05.0 with three LUNs given in reverse order
            on QEMU's command line: (2,0) 40 MiB, (0,1) 24 MiB, (0,0)
            16 MiB, so sda = 16, sdb = 24, sdc = 40 MiB by (target, lun);
            sdc1 sectors 4096+8192
            virtio-rng at 00:06.0
  misc      vda 8 MiB scratch (diskbench), vdb read-only, vdc behind
            QEMU's blkdebug (EIO on every read of sector 100 and every
            write of sector 200), vdd..vdg hostile partition tables, vdh
            3 TiB (sparse: more than 2^32 sectors), vdi 0 bytes; a
            virtio-scsi controller with sda behind blkdebug, sdb 3 TiB, sdc
            scratch, sdd read-only (readonly=on: MODE SENSE says write
            protected)
  probe     devices the drivers must refuse (legacy queues larger than
            they take), beside one they serve
  irq       per virtio_irq=msix (default) | intx | poll, and per kind:
            two virtio-blk (modern, legacy) or two virtio-scsi controllers
            (modern, legacy) with one LUN each

What is checked, from the contract:
  disks      "name sectors bsize <n> <unit> rw|ro model" per device; the
             sectors are the image's size / 512; the model is "virtio-blk
             BB:DD.F modern|legacy msix|intx|poll", "virtio-scsi ..." or
             "partition N, type 0xTT[, boot], start S"
  diskread   32 hexdump -C lines "%08x  8 pairs  8 pairs  |ascii|" whose
             bytes are the image's; through a partition, the sector at
             partition start + n
  diskwrite  "wrote N bytes to D sector S"; the bytes replace the sector
             from the offset given (0 without one) and the rest is kept;
             "<hex>*N" repeats the bytes N times, so one line fills a sector;
             they are in the image file after power-off (a partition's
             sector 0 at start * 512)
  errors     "no disk 'x' (see 'disks')", "sector 'N' is not in D (0-M)"
             (numbers past 2^64 included), "'xyz' is not hex digit pairs
             ...", "offset must be 0-511", "N must be 1-512", "K bytes do not
             fit ..." (then a usage line), "D is empty (0 sectors)" (no usage
             line), "D is read-only" for diskwrite and diskbench,
             "D sector S: read failed" (or "write failed") + "error EIO"
             for an I/O error, also in the middle of a diskbench; the
             shell keeps working after each
  partitions MBR entries that overlap an earlier valid one, run past the
             end, start at LBA 0 or have no sectors are skipped with a
             warning naming them and "skipped"; extended and GPT
             protective entries are not registered; valid entries beside
             them are, under their slot number; no 0x55AA, no partitions
  interrupts `pci` says "irq MSI-X", "irq INTxP -> IRQ n" or "irq none
             (polled)"; `irqstat` rows of the driver rise with I/O (one
             vector per virtio-blk under MSI-X; rows on gsi n under INTx;
             none when polled)
  diskbench  its four lines, the stamps it wrote (inside a partition's
             bounds only), refusals
  big disks  sectors past 2^32 are read and written where they are, not
             32 bits lower
  probe      a device a driver refuses is reset and marked FAILED (QEMU's
             own status, over QMP), registers nothing, and the kernel goes on
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

import pytest

SECTOR = 512
MIB = 1024 * 1024
POWEROFF_TIMEOUT = 30
BENCH_TIMEOUT = 120

HEX_LINE_RE = re.compile(
    r"^([0-9a-f]{8})  ((?:[0-9a-f]{2} ){7}[0-9a-f]{2})  "
    r"((?:[0-9a-f]{2} ){7}[0-9a-f]{2})  \|(.{16})\|$")
BLK_MODEL_RE = re.compile(
    r"^virtio-blk ([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (modern|legacy) (msix|intx|poll)$")
BENCH_LINE_RE = re.compile(
    r"^(write|read): (\d+) MiB in (\d+) ms = (\d+\.\d\d) MiB/s, "
    r"(\d+) interrupts \((\d+) per MiB\)$", re.M)


# ------------------------------------------------------------ helpers ----

def pattern(tag, sector):
    """512 bytes that belong to (@tag, @sector) alone: every byte value
    turns up, printable and not, so the ASCII column is exercised too."""
    out = b""
    i = 0
    while len(out) < SECTOR:
        out += hashlib.sha256(f"{tag}:{sector}:{i}".encode()).digest()
        i += 1
    return out[:SECTOR]


def make_raw(path, mib, patterns=()):
    """A sparse raw image of @mib MiB with pattern(path.name, s) at each
    sector s of @patterns."""
    with open(path, "wb") as f:
        f.truncate(mib * MIB)
        for s in patterns:
            f.seek(s * SECTOR)
            f.write(pattern(path.name, s))
    return path


def image_bytes(path, fmt):
    """The size of the disk in image @path as QEMU will present it."""
    if fmt == "raw":
        return os.path.getsize(path)
    info = subprocess.run(["qemu-img", "info", "-U", "--output=json", str(path)], check=True,
                          stdout=subprocess.PIPE, text=True).stdout
    return json.loads(info)["virtual-size"]


def read_sector(path, sector, fmt="raw", scratch=None):
    """Sector @sector of image @path, read by the host (qcow2 via qemu-img)."""
    if fmt != "raw":
        raw = scratch / (path.name + ".raw")
        subprocess.run(["qemu-img", "convert", "-f", fmt, "-O", "raw", str(path),
                        str(raw)], check=True)
        path = raw
    with open(path, "rb") as f:
        f.seek(sector * SECTOR)
        return f.read(SECTOR)


def mbr_entry(status, ptype, start, count):
    """One 16-byte MBR entry; CHS holds the 1023/254/63 placeholders."""
    return (bytes([status, 0xFE, 0xFF, 0xFF, ptype, 0xFE, 0xFF, 0xFF])
            + start.to_bytes(4, "little") + count.to_bytes(4, "little"))


def write_mbr(path, entries, signature=True):
    """Write sector 0 of @path: up to four entries (None = empty), 0x55AA."""
    entries = list(entries) + [None] * (4 - len(entries))
    table = b"".join(mbr_entry(*e) if e else bytes(16) for e in entries)
    sector = bytes(446) + table + (b"\x55\xaa" if signature else b"\x00\x00")
    assert len(sector) == SECTOR
    with open(path, "r+b") as f:
        f.write(sector)


def sfdisk_path():
    for d in (None, "/usr/sbin", "/sbin"):
        found = shutil.which("sfdisk", path=d)
        if found:
            return found
    return None


def hexdump_bytes(out, length=SECTOR):
    """Parse `diskread` output; assert its form; return the bytes."""
    lines = out.split("\n")
    assert len(lines) == length // 16, f"{len(lines)} lines, not {length // 16}:\n{out}"
    data = b""
    for i, line in enumerate(lines):
        m = HEX_LINE_RE.match(line)
        assert m, f"not a hexdump line: {line!r}"
        assert int(m.group(1), 16) == i * 16, f"offset of line {i}: {line!r}"
        row = bytes.fromhex(m.group(2) + m.group(3))
        ascii_col = "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in row)
        assert m.group(4) == ascii_col, f"ASCII column of {line!r}"
        data += row
    return data


def diskread(vm, dev, sector):
    return hexdump_bytes(vm.run(f"diskread {dev} {sector}"))


def diskwrite(vm, dev, sector, data):
    out = vm.run(f"diskwrite {dev} {sector} {data.hex()}")
    assert out == f"wrote {len(data)} bytes to {dev} sector {sector}", out


@dataclass
class DiskRow:
    name: str
    sectors: int
    bsize: int
    size: str
    rw: str
    model: str


def disks(vm):
    """`disks` -> {name: DiskRow}; asserts the header and the form."""
    out = vm.run("disks")
    lines = out.split("\n")
    assert lines[0].split() == ["name", "sectors", "bsize", "size", "rw", "model"], out
    rows = {}
    for line in lines[1:]:
        f = line.split(None, 6)
        assert len(f) == 7 and f[1].isdigit() and f[2].isdigit(), f"row {line!r}"
        assert f[5] in ("rw", "ro"), f"row {line!r}"
        assert f[0] not in rows, f"{f[0]} listed twice:\n{out}"
        rows[f[0]] = DiskRow(f[0], int(f[1]), int(f[2]), f"{f[3]} {f[4]}", f[5], f[6])
    return rows


def human(nbytes):
    """The size as `disks` shows it, for whole MiB."""
    assert nbytes % MIB == 0
    return f"{nbytes // MIB} MiB"


def pci_blocks(out):
    """`pci` -> {"BB:DD.F": (first line, [indented lines])}."""
    blocks = {}
    cur = None
    for line in out.split("\n"):
        m = re.match(r"^([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) ", line)
        if m:
            cur = blocks[m.group(1)] = (line, [])
        elif line.startswith("  ") and cur:
            cur[1].append(line.strip())
    return blocks


def pci_irq(block):
    irqs = [l for l in block[1] if l.startswith("irq ")]
    assert len(irqs) == 1, f"no single irq line: {block}"
    return irqs[0]


def irq_rows(vm, driver):
    """{row key: (gsi or None, total)} of the irqstat rows named @driver.

    A shared INTx line gives several rows one vector, so a row's key is its
    vector and its place in the table (the order is the kernel's, stable).
    """
    rows = {}
    for i, line in enumerate(vm.run("irqstat").split("\n")):
        f = line.split()
        if not f or not f[0].startswith("0x") or f[-1] != driver:
            continue
        gsi = int(f[2]) if f[1] == "gsi" else None
        rows[f"{f[0]}#{i}"] = (gsi, int(f[-2]))
    return rows


def risen(before, after):
    return {k for k in after if after[k][1] > before.get(k, (None, 0))[1]}


def power_off(vm):
    """`poweroff`, then wait for QEMU to exit; its status."""
    vm.send("poweroff\r")
    vm.wait_for(r"poweroff\r\n")
    vm.wait_for(r"[^\r\n]*powering off[^\r\n]*\r\n")
    deadline = time.monotonic() + POWEROFF_TIMEOUT
    while vm.proc.poll() is None:
        if time.monotonic() > deadline:
            vm.fail(f"QEMU still runs {POWEROFF_TIMEOUT} s after 'powering off'")
        time.sleep(0.1)
    return vm.wait_exit(5)


def blk_args(drive_id, path, addr, opts="", fmt="raw", drive_opts=""):
    return ["-drive", f"file={path},if=none,id={drive_id},format={fmt}{drive_opts}",
            "-device", f"virtio-blk-pci,drive={drive_id},addr={addr}{opts}"]


def scsi_lun_args(drive_id, path, bus, target, lun, drive_opts=""):
    return ["-drive", f"file={path},if=none,id={drive_id},format=raw{drive_opts}",
            "-device", f"scsi-hd,drive={drive_id},bus={bus}.0,scsi-id={target},lun={lun}"]


MODERN = ",disable-legacy=on,disable-modern=off"
LEGACY = ",disable-modern=on"

DISKREAD_USAGE = "usage: diskread <disk> <sector>"
DISKWRITE_USAGE = "usage: diskwrite <disk> <sector> [offset] <hex>[*N]"
HEX_FORM = "hex digit pairs (or pairs*N, to repeat them)"
TWO_64 = 2**64
# Numbers checked in their full width (vda of the main machine: 131072
# sectors): past 2^64, at 2^64 - 1, negative, and products that overflow.
FULL_WIDTH_CASES = [
    (f"diskread vda {TWO_64}", f"diskread: sector '{TWO_64}' is not in vda (0-131071)"),
    (f"diskread vda {TWO_64 - 1}",
     f"diskread: sector '{TWO_64 - 1}' is not in vda (0-131071)"),
    ("diskread vda 0x10000000000000000",
     "diskread: sector '0x10000000000000000' is not in vda (0-131071)"),
    (f"diskread vda {TWO_64 + 5}", f"diskread: sector '{TWO_64 + 5}' is not in vda (0-131071)"),
    (f"diskwrite vda {TWO_64} 00", f"diskwrite: sector '{TWO_64}' is not in vda (0-131071)"),
    ("diskwrite vda 5 512 00", "diskwrite: offset must be 0-511, not '512'"),
    ("diskwrite vda 5 -1 00", "diskwrite: offset must be 0-511, not '-1'"),
    (f"diskwrite vda 5 {TWO_64} 00", f"diskwrite: offset must be 0-511, not '{TWO_64}'"),
    ("diskwrite vda 5 00*0", "diskwrite: N must be 1-512, not '0'"),
    ("diskwrite vda 5 00*-1", "diskwrite: N must be 1-512, not '-1'"),
    ("diskwrite vda 5 00*513", "diskwrite: N must be 1-512, not '513'"),
    (f"diskwrite vda 5 00*{TWO_64 + 1}", f"diskwrite: N must be 1-512, not '{TWO_64 + 1}'"),
    ("diskwrite vda 5 00*", "diskwrite: N must be 1-512, not ''"),
    ("diskwrite vda 5 *5", f"diskwrite: '*5' is not {HEX_FORM}"),
    ("diskwrite vda 5 0*5", f"diskwrite: '0*5' is not {HEX_FORM}"),
    # 256 * 256 bytes would wrap a 16-bit product; 300 bytes from 300 overflow the sector.
    ("diskwrite vda 5 " + "ab" * 256 + "*256", "diskwrite: 65536 bytes do not fit: at most "
     "512 from offset 0"),
    ("diskwrite vda 5 100 00*413", "diskwrite: 413 bytes do not fit: at most 412 from offset 100"),
    ("diskwrite vda 5 300 " + "cd" * 300,
     "diskwrite: 300 bytes do not fit: at most 212 from offset 300"),
    (f"diskbench vda {TWO_64 + 1}", f"diskbench: MiB must be 1-1024, not '{TWO_64 + 1}'"),
    ("diskbench vda -1", "diskbench: MiB must be 1-1024, not '-1'"),
]


# ------------------------------------------------------ the main machine ----

# Partitions of vda: (slot, start, sectors, type, bootable).
VDA_PARTS = [(1, 2048, 2048, 0x83, False), (2, 8192, 16384, 0x0C, True)]
# sdc gets a table too (written here), for partitions on a SCSI LUN.
SDC_PARTS = [(1, 4096, 8192, 0x83, False)]
SFDISK_SCRIPT = ("label: dos\n"
                 "start=2048, size=2048, type=83\n"
                 "start=8192, size=16384, type=c, bootable\n")

# name -> image file, MiB, format, where it sits
MAIN_DISKS = {
    "vda": ("vda.img", 64, "raw"),
    "vdb": ("vdb.qcow2", 32, "qcow2"),
    "sda": ("lun00.img", 16, "raw"),
    "sdb": ("lun01.img", 24, "raw"),
    "sdc": ("lun20.img", 40, "raw"),
}
# Sectors the host fills with a pattern, per disk: (device to read it
# through, sector there, sector in the image).  The last sector of each
# disk is among them.
MAIN_READS = {
    "vda": [("vda", 100, 100), ("vda", 131071, 131071), ("vda2", 5, 8197),
            ("vda", 8197, 8197), ("vda1", 2047, 4095)],
    "vdb": [("vdb", 0, 0), ("vdb", 65535, 65535)],
    "sda": [("sda", 7, 7), ("sda", 32767, 32767)],
    "sdb": [("sdb", 12345, 12345), ("sdb", 49151, 49151)],
    "sdc": [("sdc", 1, 1), ("sdc", 81919, 81919), ("sdc1", 10, 4106)],
}
# Writes: (device, sector there, image disk, sector in the image, length).
MAIN_WRITES = [
    ("vda", 300, "vda", 300, 503),  # the longest line the shell takes
    ("vda1", 0, "vda", 2048, 100),
    ("vda2", 16383, "vda", 8192 + 16383, 32),
    ("vdb", 1000, "vdb", 1000, 400),
    ("sda", 50, "sda", 50, 64),
    ("sdb", 49150, "sdb", 49150, 17),
    ("sdc", 40000, "sdc", 40000, 256),
    ("sdc1", 0, "sdc", 4096, 48),
]


@dataclass
class MainImages:
    dir: object
    paths: dict          # disk name -> Path
    parts: list          # [(slot, start, sectors, type, bootable)]
    made_by: str         # "sfdisk" or "python"
    args: tuple


def sector_sets():
    """Per disk: the image sectors the host fills with a pattern."""
    sectors = {name: {s for _, _, s in reads} for name, reads in MAIN_READS.items()}
    for _, _, disk, s, _ in MAIN_WRITES:
        sectors[disk].add(s)
    return sectors


def partition_vda(path):
    """Give @path the VDA_PARTS table (with sfdisk if there is one); return
    the layout as read back and who wrote it."""
    sfdisk = sfdisk_path()
    if not sfdisk:
        write_mbr(path, [(0x80 if boot else 0x00, t, start, n)
                         for _, start, n, t, boot in VDA_PARTS])
        return list(VDA_PARTS), "python"
    subprocess.run([sfdisk, "--no-reread", "--no-tell-kernel", "-q", str(path)],
                   input=SFDISK_SCRIPT, text=True, check=True,
                   stdout=subprocess.DEVNULL)
    table = json.loads(subprocess.run([sfdisk, "--json", str(path)], check=True,
                                      stdout=subprocess.PIPE, text=True).stdout)
    parts = []
    for p in table["partitiontable"]["partitions"]:
        slot = int(re.search(r"(\d+)$", p["node"]).group(1))
        parts.append((slot, p["start"], p["size"], int(p["type"], 16),
                      bool(p.get("bootable"))))
    return parts, "sfdisk"


@pytest.fixture(scope="module")
def main_images(tmp_path_factory):
    d = tmp_path_factory.mktemp("disks")
    sectors = sector_sets()
    paths = {}
    for name, (file, mib, fmt) in MAIN_DISKS.items():
        raw = make_raw(d / file, mib, sorted(sectors[name]))
        if fmt == "qcow2":
            src = raw.rename(d / (file + ".src"))
            subprocess.run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2",
                            str(src), str(d / file)], check=True)
            src.unlink()
        paths[name] = d / file
    parts, made_by = partition_vda(paths["vda"])
    write_mbr(paths["sdc"], [(0x80 if b else 0, t, st, n) for _, st, n, t, b in SDC_PARTS])
    args = (blk_args("b", paths["vdb"], 4, LEGACY, fmt="qcow2")  # before vda: PCI order wins
            + blk_args("a", paths["vda"], 3, MODERN)
            + ["-device", "virtio-scsi-pci,id=scsi0,addr=5"]
            + scsi_lun_args("s20", paths["sdc"], "scsi0", 2, 0)
            + scsi_lun_args("s01", paths["sdb"], "scsi0", 0, 1)
            + scsi_lun_args("s00", paths["sda"], "scsi0", 0, 0)
            + ["-device", "virtio-rng-pci,addr=6"])
    return MainImages(d, paths, parts, made_by, tuple(args))


def host_pattern(images, disk, image_sector):
    return pattern(images.paths[disk].name, image_sector)


@pytest.fixture
def main_vm(module_boot_vm, main_images):
    return module_boot_vm(extra_args=main_images.args)


def test_disks_lists_every_disk_with_its_size(main_vm, main_images):
    rows = disks(main_vm)
    want = (set(MAIN_DISKS) | {f"vda{p[0]}" for p in main_images.parts}
            | {f"sdc{p[0]}" for p in SDC_PARTS})
    assert set(rows) == want, f"disks lists {sorted(rows)}, QEMU has {sorted(want)}"
    for name, (file, mib, fmt) in MAIN_DISKS.items():
        size = image_bytes(main_images.paths[name], fmt)
        assert size == mib * MIB, f"{file} is {size} bytes"
        r = rows[name]
        assert (r.sectors, r.bsize, r.size, r.rw) == (size // SECTOR, SECTOR,
                                                      human(size), "rw"), r
    assert BLK_MODEL_RE.match(rows["vda"].model).groups() == ("00:03.0", "modern", "msix"), \
        rows["vda"]
    assert BLK_MODEL_RE.match(rows["vdb"].model).groups() == ("00:04.0", "legacy", "msix"), \
        rows["vdb"]
    for name in ("sda", "sdb", "sdc"):
        assert rows[name].model.startswith("virtio-scsi"), rows[name]


def test_partitions_follow_the_table(main_vm, main_images):
    rows = disks(main_vm)
    assert [p[0] for p in main_images.parts] == [1, 2], main_images.parts
    for disk, parts in (("vda", main_images.parts), ("sdc", SDC_PARTS)):
        for slot, start, count, ptype, boot in parts:
            name = f"{disk}{slot}"
            r = rows[name]
            model = (f"partition {slot}, type 0x{ptype:02x}{', boot' if boot else ''}, "
                     f"start {start}")
            assert (r.sectors, r.bsize, r.rw, r.model) == (count, SECTOR, "rw", model), r
            assert r.size == human(count * SECTOR), r
            # The partition ends where the table says: the next sector
            # is not in it.
            out = main_vm.run(f"diskread {name} {count}")
            assert out.split("\n")[0] == \
                f"diskread: sector '{count}' is not in {name} (0-{count - 1})", out


def test_partition_table_made_by_sfdisk(main_images):
    if main_images.made_by != "sfdisk":
        pytest.skip("sfdisk is not installed (Debian package 'fdisk'): vda's "
                    "table was written by this test instead")
    assert [(s, st, n) for s, st, n, _, _ in main_images.parts] == \
        [(s, st, n) for s, st, n, _, _ in VDA_PARTS]


def test_diskread_shows_what_the_host_wrote(main_vm, main_images):
    for disk, reads in MAIN_READS.items():
        for dev, sector, image_sector in reads:
            got = diskread(main_vm, dev, sector)
            want = host_pattern(main_images, disk, image_sector)
            assert got == want, (f"diskread {dev} {sector} differs from {disk} "
                                 f"image sector {image_sector}")
    # A sector nobody wrote reads as zeros (vdb's tail is unallocated qcow2).
    assert diskread(main_vm, "vdb", 60000) == bytes(SECTOR)


def test_bad_arguments_are_refused_and_the_shell_goes_on(main_vm):
    vm = main_vm
    cases = [
        ("diskread nosuch 0", "diskread: no disk 'nosuch' (see 'disks')",
         "usage: diskread <disk> <sector>"),
        ("diskread vda 131072", "diskread: sector '131072' is not in vda (0-131071)",
         "usage: diskread <disk> <sector>"),
        ("diskread sdb 49152", "diskread: sector '49152' is not in sdb (0-49151)",
         "usage: diskread <disk> <sector>"),
        ("diskread vda -1", "diskread: sector '-1' is not in vda (0-131071)",
         "usage: diskread <disk> <sector>"),
        ("diskread vda 12x", "diskread: sector '12x' is not in vda (0-131071)",
         "usage: diskread <disk> <sector>"),
        ("diskwrite vdx 0 00", "diskwrite: no disk 'vdx' (see 'disks')",
         DISKWRITE_USAGE),
        ("diskwrite vda1 2048 00", "diskwrite: sector '2048' is not in vda1 (0-2047)",
         DISKWRITE_USAGE),
        ("diskwrite vda 5 xyz", f"diskwrite: 'xyz' is not {HEX_FORM}", DISKWRITE_USAGE),
        ("diskwrite sda 5 abc", f"diskwrite: 'abc' is not {HEX_FORM}", DISKWRITE_USAGE),
        ("diskbench nosuch", "diskbench: no disk 'nosuch' (see 'disks')",
         "usage: diskbench <disk> [MiB]"),
    ] + [(cmd, error, {"diskread": DISKREAD_USAGE, "diskwrite": DISKWRITE_USAGE,
                       "diskbench": "usage: diskbench <disk> [MiB]"}[cmd.split()[0]])
         for cmd, error in FULL_WIDTH_CASES]
    for cmd, error, usage in cases:
        assert vm.run_lines(cmd) == [error, usage], cmd
        assert vm.run("version").startswith("nos "), f"after {cmd!r}"
    # Nothing was written by the refused commands.
    assert diskread(vm, "vda", 5)[:2] == bytes(2)


def test_diskwrite_help_says_what_fits(main_vm):
    """The whole help is true: a sector is filled from one line with *N,
    and any 512 bytes from two lines with offsets (1024 characters hold
    at most ~500 bytes in hex)."""
    out = main_vm.run_lines("help diskwrite")
    assert out[0] == DISKWRITE_USAGE, out
    assert "offset" in out[1] and "*N" in out[1], out


def test_random_gives_fresh_bytes(main_vm):
    a, b = main_vm.run_lines("random 32"), main_vm.run_lines("random 32")
    for out in (a, b):
        assert len(out) == 1 and re.fullmatch(r"[0-9a-f]{64}", out[0]), out
    assert a != b


def test_pci_lists_every_device_with_its_driver(main_vm):
    out = main_vm.run("pci")
    blocks = pci_blocks(out)
    virtio = {addr: line for addr, (line, _) in blocks.items()
              if re.match(r"^\S+ 1af4:10[0-9a-f]{2} ", line)}
    want = {"00:03.0": ("1af4:1042", "virtio-blk"),
            "00:04.0": ("1af4:1001", "virtio-blk"),
            "00:05.0": ("1af4:1004", "virtio-scsi"),
            "00:06.0": ("1af4:1005", "virtio-rng")}
    assert sorted(virtio) == sorted(want), f"virtio functions:\n{out}"
    for addr, (ids, driver) in want.items():
        line = virtio[addr]
        assert line.split()[1] == ids, line
        assert line.endswith(f" driver {driver}"), line
    assert re.search(rf"^{len(blocks)} functions$", out, re.M), out


def test_writes_round_trip_and_reach_the_image_files(main_vm, main_images):
    """diskwrite on each kind of disk and on partitions; diskread sees the
    bytes with the rest of the sector kept; after power-off the image files
    hold them at the same place.  Powers the VM off: keep it last."""
    vm = main_vm
    expect = {}
    for dev, sector, disk, image_sector, n in MAIN_WRITES:
        data = hashlib.sha256(f"w:{dev}:{sector}".encode()).digest() * 16
        data = data[:n]
        diskwrite(vm, dev, sector, data)
        want = data + host_pattern(main_images, disk, image_sector)[n:]
        assert diskread(vm, dev, sector) == want, f"{dev} sector {sector}"
        if dev != disk:  # the same bytes through the whole disk
            assert diskread(vm, disk, image_sector) == want, f"{disk} sector {image_sector}"
        expect[(disk, image_sector)] = want
    assert power_off(vm) == 0
    for (disk, image_sector), want in expect.items():
        fmt = MAIN_DISKS[disk][2]
        got = read_sector(main_images.paths[disk], image_sector, fmt, main_images.dir)
        assert got == want, f"{disk} image sector {image_sector} after power-off"
    # Sectors the guest only read are as the host left them.
    for disk, reads in MAIN_READS.items():
        fmt = MAIN_DISKS[disk][2]
        for _, _, image_sector in reads:
            if (disk, image_sector) not in expect:
                got = read_sector(main_images.paths[disk], image_sector, fmt,
                                  main_images.dir)
                assert got == host_pattern(main_images, disk, image_sector)


# ---------------------------------------------- the miscellaneous machine ----

BLKDEBUG_BAD = 100        # every read of it fails (EIO)
BLKDEBUG_BAD_WRITE = 200  # every write of it fails (EIO)
# 3 TiB, sparse: more than 2^32 sectors, so SCSI needs READ CAPACITY (16)
# and READ/WRITE (16), and no sector number may pass through 32 bits.
HUGE_MIB = 3 * 1024 * 1024
HUGE_SECTORS = [2**32 - 1, 2**32 + 5, HUGE_MIB * 2048 - 1]
# Hostile tables: (status, type, start, count) per slot, None = empty.
HOSTILE = {
    # 16 MiB = 32768 sectors
    "vdd": [(0x00, 0x83, 2048, 4096),     # valid
            (0x00, 0x83, 4000, 1000),     # overlaps slot 1
            (0x00, 0x07, 10240, 2048),    # valid
            (0x00, 0x83, 30000, 4000)],   # runs past the end
    "vde": [(0x00, 0x05, 2048, 2048),     # extended: not followed
            (0x00, 0x83, 0, 100),         # starts at LBA 0
            (0x00, 0x83, 8192, 0),        # no sectors
            (0x80, 0x0C, 8192, 2048)],    # valid, bootable
    "vdf": [(0x00, 0xEE, 1, 32767),       # GPT protective: not registered
            (0x12, 0x83, 2048, 2048),     # junk status byte
            (0x00, 0x83, 4096, 2048),     # valid (inside the 0xee range)
            None],
}
HOSTILE_VALID = {"vdd1": (2048, 4096, 0x83, False), "vdd3": (10240, 2048, 0x07, False),
                 "vde4": (8192, 2048, 0x0C, True), "vdf3": (4096, 2048, 0x83, False)}
HOSTILE_SKIPPED = [("vdd", 2), ("vdd", 4), ("vde", 2), ("vde", 3)]


@dataclass
class MiscImages:
    dir: object
    paths: dict
    args: tuple


@pytest.fixture(scope="module")
def misc_images(tmp_path_factory):
    d = tmp_path_factory.mktemp("misc")
    bad = [BLKDEBUG_BAD - 1, BLKDEBUG_BAD + 1, BLKDEBUG_BAD_WRITE]
    p = {"vda": make_raw(d / "scratch.img", 8),
         "vdb": make_raw(d / "ro.img", 4, [0, 10]),
         "vdc": make_raw(d / "bad.img", 4, bad),
         "vdd": make_raw(d / "hostile-d.img", 16, [10240 + 3]),
         "vde": make_raw(d / "hostile-e.img", 16),
         "vdf": make_raw(d / "hostile-f.img", 16, [4095, 6144]),
         "vdg": make_raw(d / "nosig.img", 4),
         "vdh": make_raw(d / "huge-blk.img", HUGE_MIB, HUGE_SECTORS),
         "sda": make_raw(d / "bad-lun.img", 4, bad),
         "sdb": make_raw(d / "huge-lun.img", HUGE_MIB, HUGE_SECTORS),
         "sdc": make_raw(d / "scratch-lun.img", 8),
         "sdd": make_raw(d / "ro-lun.img", 4, [0, 10]),
         "vdi": make_raw(d / "empty.img", 0)}
    for name, entries in HOSTILE.items():
        write_mbr(p[name], entries)
    write_mbr(p["vdg"], [(0x00, 0x83, 2048, 2048)], signature=False)
    cfg = d / "blkdebug.cfg"
    cfg.write_text(f'[inject-error]\nevent = "read_aio"\nerrno = "5"\n'
                   f'sector = "{BLKDEBUG_BAD}"\n\n'
                   f'[inject-error]\nevent = "write_aio"\nerrno = "5"\n'
                   f'sector = "{BLKDEBUG_BAD_WRITE}"\n')
    args = (blk_args("a", p["vda"], 3)
            + blk_args("b", p["vdb"], 4, drive_opts=",readonly=on")
            + blk_args("c", f"blkdebug:{cfg}:{p['vdc']}", 5)
            + blk_args("d", p["vdd"], 6) + blk_args("e", p["vde"], 7)
            + blk_args("f", p["vdf"], 8) + blk_args("g", p["vdg"], 9)
            + blk_args("h", p["vdh"], 10)
            + ["-device", "virtio-scsi-pci,id=scsi0,addr=11"]
            + scsi_lun_args("sa", f"blkdebug:{cfg}:{p['sda']}", "scsi0", 0, 0)
            + scsi_lun_args("sb", p["sdb"], "scsi0", 1, 0)
            + scsi_lun_args("sc", p["sdc"], "scsi0", 2, 0)
            + scsi_lun_args("sd", p["sdd"], "scsi0", 3, 0, drive_opts=",readonly=on")
            + blk_args("i", p["vdi"], 12))
    return MiscImages(d, p, tuple(args))


@pytest.fixture
def misc_vm(module_boot_vm, misc_images):
    return module_boot_vm(extra_args=misc_images.args)


@pytest.mark.parametrize("dev", ["vdb", "sdd"])
def test_read_only_disk_reads_but_refuses_writes(misc_vm, misc_images, dev):
    """vdb is a virtio-blk disk without write access (VIRTIO_BLK_F_RO), sdd
    a SCSI LUN whose MODE SENSE header has the write-protect bit: both are
    listed "ro" and refuse writes before sending any."""
    vm = misc_vm
    tag = misc_images.paths[dev].name
    row = disks(vm)[dev]
    assert (row.rw, row.sectors) == ("ro", 8192), row
    want = pattern(tag, 10)
    assert diskread(vm, dev, 10) == want
    assert vm.run_lines(f"diskwrite {dev} 10 00112233") == [f"diskwrite: {dev} is read-only"]
    assert vm.run_lines(f"diskwrite {dev} 10 4 ff*8") == [f"diskwrite: {dev} is read-only"]
    assert vm.run_lines(f"diskbench {dev} 1") == [f"diskbench: {dev} is read-only"]
    assert diskread(vm, dev, 10) == want
    assert vm.run("version").startswith("nos ")
    log = vm.run(f"dmesg {dev}")
    assert re.search(rf"\b{dev}: 8192 sectors of 512 bytes \(4 MiB\), read-only", log), log
    # No write reached the device, so none failed there either.
    assert not re.search(rf"\b{dev}: write .* failed", log), log
    with open(misc_images.paths[dev], "rb") as f:
        f.seek(10 * SECTOR)
        assert f.read(SECTOR) == want


def test_writable_luns_stay_writable(misc_vm):
    """The write-protect bit is read per LUN: the others are "rw"."""
    rows = disks(misc_vm)
    for dev in ("sda", "sdb", "sdc"):
        assert rows[dev].rw == "rw", rows[dev]


def test_empty_disk_says_it_is_empty(misc_vm):
    """vdi is a 0-byte image: it is listed, no partition table is looked
    for, and every command says the disk is empty (there is no sector
    range to name, and no usage line: the command was well formed)."""
    vm = misc_vm
    row = disks(vm)["vdi"]
    assert (row.sectors, row.bsize, row.size, row.rw) == (0, SECTOR, "0 B", "rw"), row
    assert BLK_MODEL_RE.match(row.model), row
    for cmd in ("diskread vdi 0", "diskread vdi 1", "diskwrite vdi 0 00",
                "diskwrite vdi 0 3 00*4", "diskbench vdi", "diskbench vdi 1"):
        name = cmd.split()[0]
        assert vm.run_lines(cmd) == [f"{name}: vdi is empty (0 sectors)"], cmd
        assert vm.run("version").startswith("nos "), f"after {cmd!r}"
    log = vm.run("dmesg vdi")
    assert "vdi: 0 sectors of 512 bytes" in log, log
    assert "partition table" not in log, log


def test_diskwrite_fills_whole_sectors(misc_vm, misc_images):
    """A sector filled from one line (a byte repeated 512 times) and from
    two (256 bytes each, the second at offset 256); an offset write keeps
    what is around it.  The host reads the same bytes from the image."""
    vm = misc_vm
    assert vm.run("diskwrite vda 16000 5a*512") == "wrote 512 bytes to vda sector 16000"
    assert diskread(vm, "vda", 16000) == b"\x5a" * SECTOR
    data = pattern("two-lines", 16001)
    assert vm.run(f"diskwrite vda 16001 {data[:256].hex()}") == \
        "wrote 256 bytes to vda sector 16001"
    assert vm.run(f"diskwrite vda 16001 256 {data[256:].hex()}") == \
        "wrote 256 bytes to vda sector 16001"
    assert diskread(vm, "vda", 16001) == data
    assert vm.run("diskwrite vda 16000 510 0102*1") == "wrote 2 bytes to vda sector 16000"
    assert vm.run("diskwrite vda 16000 100 c3d4*6") == "wrote 12 bytes to vda sector 16000"
    want = b"\x5a" * 100 + b"\xc3\xd4" * 6 + b"\x5a" * 398 + b"\x01\x02"
    assert diskread(vm, "vda", 16000) == want
    with open(misc_images.paths["vda"], "rb") as f:
        f.seek(16000 * SECTOR)
        assert f.read(2 * SECTOR) == want + data


def test_hostile_partition_tables(misc_vm):
    vm = misc_vm
    rows = disks(vm)
    parts = {n for n in rows if re.fullmatch(r"[sv]d[a-z]+\d+", n)}
    assert parts == set(HOSTILE_VALID), f"partitions {sorted(parts)}"
    for name, (start, count, ptype, boot) in HOSTILE_VALID.items():
        r = rows[name]
        model = (f"partition {name[3:]}, type 0x{ptype:02x}{', boot' if boot else ''}, "
                 f"start {start}")
        assert (r.sectors, r.model) == (count, model), r
    # vdd3 starts at 10240: the host's pattern at 10243 is its sector 3.
    assert diskread(vm, "vdd3", 3) == pattern("hostile-d.img", 10240 + 3)
    log = vm.run("dmesg")
    for disk, slot in HOSTILE_SKIPPED:
        assert re.search(rf"\b{disk}: partition {slot}\b[^\n]*skipped", log), \
            f"no warning that {disk} partition {slot} was skipped:\n{vm.run(f'dmesg {disk}')}"
    # No 0x55AA: the bytes are not a table, so nothing is registered and
    # nothing is reported about them.
    assert "vdg" in rows and not re.search(r"vdg(\d|: partition)", log), vm.run("dmesg vdg")


@pytest.mark.parametrize("dev", ["vdc", "sda"])
def test_io_error_is_reported_and_the_shell_goes_on(misc_vm, misc_images, dev):
    """QEMU's blkdebug fails every read of sector 100 and every write of
    sector 200 with EIO, on a virtio-blk disk and on a SCSI LUN."""
    vm = misc_vm
    tag = misc_images.paths[dev].name
    for _ in range(10):  # again and again: nothing may leak per failure
        assert vm.run_lines(f"diskread {dev} {BLKDEBUG_BAD}") == [
            f"diskread: {dev} sector {BLKDEBUG_BAD}: read failed", "diskread: error EIO"]
    for s in (BLKDEBUG_BAD - 1, BLKDEBUG_BAD + 1):
        assert diskread(vm, dev, s) == pattern(tag, s)
    for _ in range(3):
        assert vm.run_lines(f"diskwrite {dev} {BLKDEBUG_BAD_WRITE} 00ff") == [
            f"diskwrite: {dev} sector {BLKDEBUG_BAD_WRITE}: write failed",
            "diskwrite: error EIO"]
    assert diskread(vm, dev, BLKDEBUG_BAD_WRITE) == pattern(tag, BLKDEBUG_BAD_WRITE)
    diskwrite(vm, dev, BLKDEBUG_BAD + 1, b"\x5a" * 8)
    assert diskread(vm, dev, BLKDEBUG_BAD + 1)[:9] == b"\x5a" * 8 + pattern(
        tag, BLKDEBUG_BAD + 1)[8:9]
    # A failure in the middle of a run with 8 requests in flight.
    out = vm.run_lines(f"diskbench {dev} 1", timeout=BENCH_TIMEOUT)
    assert out[1:] == ["diskbench: write failed: EIO"], out
    assert vm.run("version").startswith("nos ")
    assert dev in disks(vm)
    assert len(diskread(vm, dev, BLKDEBUG_BAD - 1)) == SECTOR


@pytest.mark.parametrize("dev", ["vdh", "sdb"])
def test_disk_beyond_32_bit_sectors(misc_vm, misc_images, dev):
    vm = misc_vm
    tag = misc_images.paths[dev].name
    row = disks(vm)[dev]
    assert (row.sectors, row.size) == (HUGE_MIB * 2048, "3 TiB"), row
    for s in HUGE_SECTORS:
        assert diskread(vm, dev, s) == pattern(tag, s), f"{dev} sector {s}"
    last = HUGE_SECTORS[-1]
    out = vm.run_lines(f"diskread {dev} {last + 1}")
    assert out[0] == f"diskread: sector '{last + 1}' is not in {dev} (0-{last})", out
    data = hashlib.sha256(dev.encode()).digest()
    diskwrite(vm, dev, 2**32 + 5, data)
    assert diskread(vm, dev, 2**32 + 5) == data + pattern(tag, 2**32 + 5)[32:]
    # The write did not wrap around to sector 5.
    assert diskread(vm, dev, 5) == bytes(SECTOR)
    with open(misc_images.paths[dev], "rb") as f:
        f.seek(5 * SECTOR)
        assert f.read(SECTOR) == bytes(SECTOR)


def bench_ok(vm, dev, mib):
    """Run `diskbench @dev @mib`, check its four lines; the passes."""
    out = vm.run(f"diskbench {dev} {mib}", timeout=BENCH_TIMEOUT)
    lines = out.split("\n")
    assert lines[0] == (f"diskbench {dev}: {mib} MiB, requests of 64 KiB, 8 in flight "
                        "(data is overwritten)"), out
    passes = BENCH_LINE_RE.findall(out)
    assert [p[0] for p in passes] == ["write", "read"], out
    for what, n, ms, rate, irqs, per in passes:
        assert int(n) == mib, out
        assert int(per) == int(irqs) // mib, out
    assert lines[3:] == ["verify: ok"], out
    return passes


@pytest.mark.parametrize("dev", ["vda", "sdc"])
def test_diskbench_writes_reads_and_verifies(misc_vm, dev):
    vm = misc_vm
    for what, n, ms, rate, irqs, per in bench_ok(vm, dev, 4):
        assert int(irqs) >= 1, f"{what} on {dev} took no interrupts under MSI-X"
    # The data is on the disk: each 64 KiB chunk starts with its number.
    for chunk in (0, 1, 63):
        head = diskread(vm, dev, chunk * 128)[:72]
        assert head == chunk.to_bytes(8, "little") + bytes([chunk]) * 64, chunk


def test_diskbench_on_a_partition_stays_inside_it(misc_vm, misc_images):
    """vdf3 is sectors 4096-6143 of vdf: a 1 MiB run fills it exactly and
    the host's patterns on either side survive."""
    vm = misc_vm
    bench_ok(vm, "vdf3", 1)
    assert diskread(vm, "vdf", 4096 + 128)[:8] == (1).to_bytes(8, "little")
    for s in (4095, 6144):
        assert diskread(vm, "vdf", s) == pattern("hostile-f.img", s), f"vdf sector {s}"


def test_diskbench_refuses_bad_sizes(misc_vm):
    vm = misc_vm
    usage = "usage: diskbench <disk> [MiB]"
    assert vm.run_lines("diskbench vda 9") == ["diskbench: vda holds only 8 MiB", usage]
    assert vm.run_lines("diskbench vdd1 3") == ["diskbench: vdd1 holds only 2 MiB", usage]
    for bad in ("0", "1025", "x"):
        assert vm.run_lines(f"diskbench vda {bad}") == [
            f"diskbench: MiB must be 1-1024, not '{bad}'", usage]
    assert vm.run("version").startswith("nos ")


# ------------------------------------------------------ interrupt paths ----

IRQ_MODES = {"msix": "", "intx": "virtio_irq=intx", "poll": "virtio_irq=poll"}
KINDS = {"blk": "virtio-blk", "scsi": "virtio-scsi"}


def irq_machine(tmp_path, kind):
    """Two devices of @kind, modern at 00:03.0 and legacy at 00:04.0."""
    a = make_raw(tmp_path / "modern.img", 8)
    b = make_raw(tmp_path / "legacy.img", 4)
    if kind == "blk":
        return blk_args("a", a, 3, MODERN) + blk_args("b", b, 4, LEGACY)
    return (["-device", f"virtio-scsi-pci,id=scsi0,addr=3{MODERN}",
             "-device", f"virtio-scsi-pci,id=scsi1,addr=4{LEGACY}"]
            + scsi_lun_args("a", a, "scsi0", 0, 0) + scsi_lun_args("b", b, "scsi1", 0, 0))


def disk_at(rows, addr, prefix):
    """The name of the whole disk whose model names PCI address @addr."""
    found = [r.name for r in rows.values()
             if r.model.startswith(prefix) and f" {addr}" in r.model]
    assert len(found) == 1, f"disk at {addr}: {found} {rows}"
    return found[0]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", IRQ_MODES)
def test_interrupt_paths(boot_vm, tmp_path, mode, kind):
    driver = KINDS[kind]
    vm = boot_vm(IRQ_MODES[mode], extra_args=irq_machine(tmp_path, kind))
    rows = disks(vm)
    blocks = pci_blocks(vm.run("pci"))
    devs = {}
    for addr in ("00:03.0", "00:04.0"):
        assert blocks[addr][0].endswith(f" driver {driver}"), blocks[addr]
        irq = pci_irq(blocks[addr])
        dev = disk_at(rows, addr, driver)
        if mode == "msix":
            assert re.fullmatch(r"irq MSI-X, \d+ vectors?", irq), irq
        elif mode == "intx":
            assert re.fullmatch(r"irq INTx[A-D] -> IRQ \d+", irq), irq
        else:
            assert irq == "irq none (polled)", irq
        if kind == "blk":
            assert rows[dev].model.endswith(f" {mode}"), rows[dev]
        devs[dev] = int(irq.rsplit(" ", 1)[1]) if mode == "intx" else None
    assert len(devs) == 2
    seen = []
    for dev, gsi in devs.items():
        before = irq_rows(vm, driver)
        data = hashlib.sha256(f"{mode}{kind}{dev}".encode()).digest()
        diskwrite(vm, dev, 9, data)
        assert diskread(vm, dev, 9)[:32] == data
        after = irq_rows(vm, driver)
        up = risen(before, after)
        if mode == "poll":
            assert not after, f"{driver} has interrupt handlers while polled: {after}"
            continue
        assert up, f"no {driver} interrupt counted for I/O on {dev}: {before} -> {after}"
        if mode == "intx":
            assert all(after[v][0] == gsi for v in up), (dev, gsi, after)
        if kind == "blk":  # one queue, one handler per device
            assert len(up) == 1 and len(after) == 2, (dev, before, after)
        seen.append(up)
    if mode != "poll":  # each device's handler counts only its own
        assert not (seen[0] & seen[1]), f"one handler counted both devices: {seen}"
    assert vm.run("version").startswith("nos ")


# ------------------------------------------------------- refused devices ----

def virtio_status(vm, dev_id):
    """The device status bits QEMU reports for the virtio device @dev_id."""
    st = vm.qmp("x-query-virtio-status", path=f"/machine/peripheral/{dev_id}/virtio-backend")
    return st["status"]["statuses"]


def test_refused_devices_are_reset_and_the_kernel_goes_on(boot_vm, tmp_path):
    """Legacy devices fix their queue size; one of 512 entries is more than
    virtio-blk or virtio-scsi take, so their probes fail after the status
    handshake and the queue set-up have begun.  The failure path resets the
    device and marks it FAILED (QEMU shows no ACKNOWLEDGE, DRIVER or
    DRIVER_OK left), registers no disk, and the device served beside them
    works."""
    good = make_raw(tmp_path / "good.img", 4, [7])
    lost = make_raw(tmp_path / "lost.img", 4)
    lun = make_raw(tmp_path / "lun.img", 4)
    vm = boot_vm(qmp=True, extra_args=[
        *blk_args("l", lost, 3, LEGACY + ",queue-size=512,id=badblk"),
        "-device", "virtio-scsi-pci,id=badscsi,addr=4" + LEGACY + ",virtqueue_size=512",
        *scsi_lun_args("s", lun, "badscsi", 0, 0),
        *blk_args("g", good, 5, MODERN + ",id=goodblk")])
    log = vm.run("dmesg")
    for addr, driver, queue in (("00:03.0", "virtio-blk", 0), ("00:04.0", "virtio-scsi", 2)):
        assert re.search(rf"virtio {addr}: legacy queue {queue} has 512 entries; the driver "
                         r"takes a power of two up to 256", log), log
        assert f"pci: {addr}: driver {driver} refused it (ENOSPC)" in log, log
    for dev in ("badblk", "badscsi"):
        assert virtio_status(vm, dev) == ["VIRTIO_CONFIG_S_FAILED: Error in guest, device failed"]
    assert any("DRIVER_OK" in s for s in virtio_status(vm, "goodblk"))
    blocks = pci_blocks(vm.run("pci"))
    assert " driver " not in blocks["00:03.0"][0] and " driver " not in blocks["00:04.0"][0]
    assert blocks["00:05.0"][0].endswith(" driver virtio-blk"), blocks["00:05.0"]
    rows = disks(vm)
    assert list(rows) == ["vda"], rows  # the refused ones left no disk behind
    assert BLK_MODEL_RE.match(rows["vda"].model).group(1) == "00:05.0", rows["vda"]
    assert diskread(vm, "vda", 7) == pattern("good.img", 7)
    diskwrite(vm, "vda", 8, b"still here")
    assert diskread(vm, "vda", 8)[:10] == b"still here"
