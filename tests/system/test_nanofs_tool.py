"""
test_nanofs_tool.py — bin/nanofs, the host tool for nanofs images.

No QEMU here: the tool is the kernel's own fs/nanofs*.c over a file, and
these tests drive it the way a user does before booting (mkfs, put) and
after (ls, get, fsck): text and binary files from 1 byte to a few MiB come
back byte for byte, rm frees what put took, fsck is clean after every step
and names the problem (exit status 1) on a damaged image, and IMAGE@2
reaches the second partition of a disk made with sfdisk.
"""
import os
import shutil
import subprocess

import pytest

import nos_harness as nh
from nanofs_tool import fsck_clean, run, tool  # noqa: F401 (fixture)



def test_put_get_ls_rm_roundtrip(tool, tmp_path):
    img = tmp_path / "vol.img"
    run(tool, "mkfs", img, "32M")
    assert img.stat().st_size == 32 << 20
    fsck_clean(tool, img)
    files = {
        "one": b"x",
        "text.txt": b"hello, nanofs\n" * 100,
        "bin": bytes(range(256)) * 17 + b"\0\0\xff",
        "big": os.urandom(5 * 1024 * 1024 + 123),
    }
    run(tool, "mkdir", img, "/dir/sub")
    for name, data in files.items():
        src = tmp_path / ("src-" + name)
        src.write_bytes(data)
        run(tool, "put", img, src, "/dir/sub/" + name)
    listing = run(tool, "ls", img, "/dir/sub").stdout.decode()
    for name in files:
        assert name in listing
    for name, data in files.items():
        out = tmp_path / ("out-" + name)
        run(tool, "get", img, "/dir/sub/" + name, out)
        assert out.read_bytes() == data, name
    assert run(tool, "cat", img, "/dir/sub/text.txt").stdout == files["text.txt"]
    fsck_clean(tool, img)
    # replacing a file keeps one copy; removing the tree frees everything
    before = run(tool, "stat", img).stdout.decode()
    (tmp_path / "small").write_bytes(b"replaced")
    run(tool, "put", img, tmp_path / "small", "/dir/sub/big")
    assert run(tool, "cat", img, "/dir/sub/big").stdout == b"replaced"
    run(tool, "rm", img, "/dir")
    assert "dir" not in run(tool, "ls", img, "/").stdout.decode()
    after = run(tool, "stat", img).stdout.decode()
    free = lambda s: int(s.split("free_blocks ")[1].split()[0])
    assert free(after) > free(before)
    fsck_clean(tool, img)
    p = run(tool, "cat", img, "/dir/sub/one", ok=False)
    assert p.returncode == 1 and b"No such file" in p.stderr


def test_damaged_image_fails_fsck_with_the_problem_named(tool, tmp_path):
    img = tmp_path / "vol.img"
    run(tool, "mkfs", img, "4M")
    src = tmp_path / "f"
    content = os.urandom(100000)
    src.write_bytes(content)
    run(tool, "put", img, src, "/f")
    fsck_clean(tool, img)
    # flip a byte in the file's third block: found by the data checksum
    data = bytearray(img.read_bytes())
    at = data.find(content[8192:12288])
    assert at > 0 and at % 4096 == 0
    data[at + 10] ^= 0x55
    img.write_bytes(bytes(data))
    p = run(tool, "fsck", img, ok=False)
    assert p.returncode == 1, p.stdout.decode()
    assert b"data checksum mismatch" in p.stdout
    p = run(tool, "get", img, "/f", tmp_path / "out", ok=False)
    assert p.returncode == 1 and b"checksum mismatch" in p.stderr
    # a damaged primary superblock: named, and --repair restores it
    data[0] ^= 0xFF
    img.write_bytes(bytes(data))
    p = run(tool, "fsck", img, ok=False)
    assert p.returncode == 1 and b"bad magic" in p.stdout
    p = run(tool, "ls", img, ok=False)
    assert p.returncode == 1 and b"bad magic" in p.stderr
    run(tool, "fsck", img, "--repair", ok=False)
    p = run(tool, "fsck", img, ok=False)
    assert b"bad magic" not in p.stdout


@pytest.mark.skipif(shutil.which("sfdisk") is None, reason="sfdisk missing")
def test_second_mbr_partition(tool, tmp_path):
    disk = tmp_path / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    subprocess.run(["sfdisk", "-q", str(disk)], input=b"2048,8192,83\n10240,,83\n",
                   check=True, capture_output=True)
    run(tool, "mkfs", f"{disk}@2")
    src = tmp_path / "hello"
    src.write_bytes(b"on the second partition\n")
    run(tool, "put", f"{disk}@2", src, "/hello")
    assert run(tool, "cat", f"{disk}@2", "/hello").stdout == src.read_bytes()
    fsck_clean(tool, f"{disk}@2")
    # the first partition was not touched, and is not a nanofs
    p = run(tool, "ls", f"{disk}@1", ok=False)
    assert p.returncode == 1 and b"bad magic" in p.stderr
    raw = disk.read_bytes()
    assert raw[2048 * 512:10240 * 512] == bytes(8192 * 512)
    p = run(tool, "ls", f"{disk}@3", ok=False)
    assert p.returncode == 1
