#!/usr/bin/python3
"""capture-acpi.py — capture QEMU's real ACPI tables as unit-test data.

The ACPI parser (drivers/acpi_tables.c) is tested against the tables QEMU's
firmware really builds, not against hand-written ones.  This tool boots the
nos ISO in QEMU with no guest OS help at all: the tables sit in guest
physical memory from the moment SeaBIOS hands over to GRUB, so the host
reads them through the QEMU monitor (`pmemsave ADDR SIZE FILE`), the same
way firmware would find them:

  1. the u16 at physical 0x40E (the EBDA segment) and the first KiB of the
     EBDA, then 0xE0000-0xFFFFF, are searched on 16-byte boundaries for
     "RSD PTR " with a valid checksum (and extended checksum for rev >= 2);
  2. the RSDP names the RSDT (and the XSDT for revision >= 2); every table
     in the root table is read, header first for its length;
  3. the FADT names the DSDT (X_DSDT when present and non-zero) and FACS.

Each machine's tables are written to tests/unit/data/acpi/<machine>/ as raw
binaries plus a manifest (index.txt: file, physical address, length), and
tests/unit/acpi_data.h is generated from all manifests: one static const u8
array per blob and one struct acpi_test_machine per machine, so a test can
rebuild a fake physical memory from {phys, bytes, len}.

Usage (from anywhere; paths are relative to the repository):

    /usr/bin/python3 scripts/capture-acpi.py            # boot QEMU, capture, generate
    /usr/bin/python3 scripts/capture-acpi.py --header-only   # regenerate the header

QEMU runs with -accel tcg -cpu max -nic none -display none -serial none and
the monitor on a UNIX socket in a private temporary directory; it is killed
by its PID and the directory removed when the capture ends, whatever
happens.  Needs nos.iso (make builds it).
"""

import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA_DIR = os.path.join(ROOT, "tests", "unit", "data", "acpi")
HEADER = os.path.join(ROOT, "tests", "unit", "acpi_data.h")

# name, QEMU machine arguments, the CPU counts the tests expect
MACHINES = [
    ("pc", ["-machine", "pc", "-smp", "4"], {"cpus": 4, "enabled": 4}),
    ("q35", ["-machine", "q35", "-smp", "2,maxcpus=4"], {"cpus": 4, "enabled": 2}),
]

MAX_TABLE = 1 << 20


class Monitor:
    """The QEMU human monitor over a UNIX socket."""

    def __init__(self, path, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise RuntimeError("QEMU monitor did not come up")
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self._read_prompt()

    def _read_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("QEMU monitor closed")
            buf += chunk
        return buf

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\n")
        return self._read_prompt().decode("latin-1")

    def close(self):
        self.sock.close()


class Guest:
    """Reads guest physical memory through pmemsave into a temp file."""

    def __init__(self, mon, tmpdir):
        self.mon = mon
        self.tmp = os.path.join(tmpdir, "pmem.bin")

    def read(self, addr, size):
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)
        reply = self.mon.cmd(f'pmemsave 0x{addr:x} {size} "{self.tmp}"')
        try:
            with open(self.tmp, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
        if len(data) != size:
            raise RuntimeError(f"pmemsave 0x{addr:x} {size} failed: {reply.strip()}")
        return data


def checksum_ok(data):
    return sum(data) & 0xFF == 0


def rsdp_valid(blob):
    if blob[:8] != b"RSD PTR " or not checksum_ok(blob[:20]):
        return False
    if blob[15] >= 2:
        length = struct.unpack_from("<I", blob, 20)[0]
        return length == 36 and checksum_ok(blob[:36])
    return True


def find_rsdp(guest):
    """Return (phys, bytes) of the RSDP, searched the BIOS way."""
    seg = struct.unpack("<H", guest.read(0x40E, 2))[0]
    areas = []
    if seg:
        areas.append((seg << 4, 1024))
    areas.append((0xE0000, 0x20000))
    for base, size in areas:
        mem = guest.read(base, size) + b"\0" * 36
        for off in range(0, size, 16):
            if rsdp_valid(mem[off:off + 36]):
                rev = mem[off + 15]
                return base + off, mem[off:off + (36 if rev >= 2 else 20)], seg
    raise RuntimeError("no RSDP found")


def read_table(guest, phys):
    hdr = guest.read(phys, 36)
    length = struct.unpack_from("<I", hdr, 4)[0]
    if length < 36 or length > MAX_TABLE:
        raise RuntimeError(f"table at 0x{phys:x}: bad length {length}")
    data = guest.read(phys, length)
    if not checksum_ok(data):
        print(f"  warning: {data[:4]!r} at 0x{phys:x} has a bad checksum")
    return data


def capture_tables(guest):
    """Return a list of (name, phys, bytes) for everything the parser reads."""
    rsdp_phys, rsdp, seg = find_rsdp(guest)
    blobs = [("BDA40E", 0x40E, struct.pack("<H", seg)), ("RSDP", rsdp_phys, rsdp)]
    rev = rsdp[15]
    rsdt = struct.unpack_from("<I", rsdp, 16)[0]
    xsdt = struct.unpack_from("<Q", rsdp, 24)[0] if rev >= 2 else 0
    if xsdt:
        root, esize, name = xsdt, 8, "XSDT"
    else:
        root, esize, name = rsdt, 4, "RSDT"
    rdata = read_table(guest, root)
    blobs.append((name, root, rdata))
    fmt = "<Q" if esize == 8 else "<I"
    for off in range(36, len(rdata) - esize + 1, esize):
        phys = struct.unpack_from(fmt, rdata, off)[0]
        data = read_table(guest, phys)
        sig = data[:4].decode("latin-1")
        blobs.append((sig, phys, data))
        if sig == "FACP":
            blobs.extend(capture_fadt_targets(guest, data))
    return blobs


def capture_fadt_targets(guest, fadt):
    out = []
    dsdt = struct.unpack_from("<I", fadt, 40)[0]
    if len(fadt) >= 148:
        x = struct.unpack_from("<Q", fadt, 140)[0]
        dsdt = x or dsdt
    out.append(("DSDT", dsdt, read_table(guest, dsdt)))
    facs = struct.unpack_from("<I", fadt, 36)[0]
    if facs:
        hdr = guest.read(facs, 8)
        length = struct.unpack_from("<I", hdr, 4)[0]
        if hdr[:4] == b"FACS" and 64 <= length <= 4096:
            out.append(("FACS", facs, guest.read(facs, length)))
    return out


def qemu_version():
    out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                         text=True, check=True).stdout
    return out.splitlines()[0].strip()


def capture_machine(name, args, iso):
    tmpdir = tempfile.mkdtemp(prefix="nos-acpi-")
    sock = os.path.join(tmpdir, "mon.sock")
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", "512M",
           *args, "-nic", "none", "-display", "none", "-serial", "none",
           "-cdrom", iso, "-monitor", f"unix:{sock},server,nowait"]
    print(f"{name}: {' '.join(cmd)}")
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    mon = None
    try:
        mon = Monitor(sock)
        time.sleep(3)  # firmware, GRUB and the kernel are up by now
        blobs = capture_tables(Guest(mon, tmpdir))
    finally:
        if mon:
            mon.close()
        proc.kill()
        proc.wait()
        shutil.rmtree(tmpdir, ignore_errors=True)
    return cmd, blobs


def write_machine(name, cmd, blobs):
    d = os.path.join(DATA_DIR, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    lines = [f"# {qemu_version()}", "# " + " ".join(cmd[:-4] + ["-cdrom", "nos.iso"]),
             "# file phys length"]
    for sig, phys, data in blobs:
        fname = f"{sig}-{phys:08x}.bin"
        with open(os.path.join(d, fname), "wb") as f:
            f.write(data)
        lines.append(f"{fname} 0x{phys:x} {len(data)}")
        print(f"  {sig:6} 0x{phys:08x} {len(data):6} bytes")
    with open(os.path.join(d, "index.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def read_manifest(name):
    d = os.path.join(DATA_DIR, name)
    comments, blobs = [], []
    with open(os.path.join(d, "index.txt")) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                comments.append(line[1:].strip())
                continue
            fname, phys, length = line.split()
            with open(os.path.join(d, fname), "rb") as bf:
                data = bf.read()
            assert len(data) == int(length), fname
            blobs.append((fname.split("-")[0], int(phys, 16), data))
    return comments, blobs


def c_array(ident, data):
    out = [f"static const u8 {ident}[{len(data)}] = {{"]
    for i in range(0, len(data), 12):
        out.append("\t" + " ".join(f"0x{b:02x}," for b in data[i:i + 12]))
    out.append("};")
    return out


def generate_header():
    out = ["/*",
           " * acpi_data.h — real ACPI tables captured from QEMU, for test_acpi.c.",
           " *",
           " * GENERATED by scripts/capture-acpi.py from tests/unit/data/acpi/<machine>/;",
           " * do not edit.  Rerun `/usr/bin/python3 scripts/capture-acpi.py` to capture",
           " * again (boots QEMU), or add --header-only to rebuild this file from the",
           " * binaries and their index.txt.",
           " *",
           " * Each machine is a list of blobs {name, phys, bytes, len}: the BIOS data",
           " * area word at 0x40E (EBDA segment), the RSDP where the firmware put it,",
           " * the root table, every table it lists, and the DSDT and FACS the FADT",
           " * points to.  A test's map() callback serves exactly these ranges.",
           " */",
           "#ifndef NOS_TESTS_ACPI_DATA_H",
           "#define NOS_TESTS_ACPI_DATA_H",
           "",
           '#include "types.h"',
           "",
           "struct acpi_test_blob {",
           "\tconst char *name;",
           "\tu64 phys;",
           "\tconst u8 *data;",
           "\tu32 len;",
           "};",
           "",
           "struct acpi_test_machine {",
           "\tconst char *name;",
           "\tconst char *qemu;       /* how QEMU was started */",
           "\tunsigned cpus;          /* local APIC entries QEMU lists */",
           "\tunsigned cpus_enabled;  /* of which enabled (-smp N) */",
           "\tu64 rsdp_phys;",
           "\tconst struct acpi_test_blob *blobs;",
           "\tunsigned nblobs;",
           "};",
           ""]
    for name, _args, expect in MACHINES:
        comments, blobs = read_manifest(name)
        out.append(f"/* ---- {name}, {comments[0]}:")
        out.append(f" * {comments[1]} */")
        entries = []
        rsdp_phys = 0
        for sig, phys, data in blobs:
            ident = f"acpi_{name}_{sig.lower()}"
            out.extend(c_array(ident, data))
            entries.append(f'\t{{ "{sig}", 0x{phys:x}, {ident}, sizeof({ident}) }},')
            if sig == "RSDP":
                rsdp_phys = phys
        out.append(f"static const struct acpi_test_blob acpi_{name}_blobs[] = {{")
        out.extend(entries)
        out.append("};")
        qemu = comments[1].replace('"', "'")
        out.extend([f"static const struct acpi_test_machine acpi_machine_{name} = {{",
                    f'\t.name = "{name}",',
                    f'\t.qemu = "{qemu}",',
                    f"\t.cpus = {expect['cpus']},",
                    f"\t.cpus_enabled = {expect['enabled']},",
                    f"\t.rsdp_phys = 0x{rsdp_phys:x},",
                    f"\t.blobs = acpi_{name}_blobs,",
                    f"\t.nblobs = sizeof(acpi_{name}_blobs) / sizeof(acpi_{name}_blobs[0]),",
                    "};", ""])
    out.append("#endif")
    with open(HEADER, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {os.path.relpath(HEADER, ROOT)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--header-only", action="store_true",
                    help="do not run QEMU; regenerate the header from the binaries")
    ap.add_argument("--iso", default=os.path.join(ROOT, "nos.iso"))
    opts = ap.parse_args()
    if not opts.header_only:
        if not os.path.exists(opts.iso):
            sys.exit(f"capture-acpi: {opts.iso} missing; run make first")
        for name, args, _expect in MACHINES:
            cmd, blobs = capture_machine(name, args, opts.iso)
            write_machine(name, cmd, blobs)
    generate_header()


if __name__ == "__main__":
    main()
