"""
nanofs_faults_util.py — the referee's tools for test_nanofs_faults.py: a
model of what a volume may hold after a power cut, a reader that takes a
whole volume apart with bin/nanofs, a generator of random shell bursts, and
helpers that look inside an image file (superblock, data bitmap) and write
QEMU blkdebug rules (errors on chosen sectors, or after the first N events).

The crash model
---------------
A shell command is not one step for the filesystem: `write P TEXT` makes
P.~write, fills it and renames it over P (fs/fs_cmds.c, put_replace), `cp`
creates its target and writes it 64 KiB at a time, `del DIR` removes one
entry after another.  nanofs commits whenever it likes between two calls
into its core (at `sync`, from its periodic sync task, when the journal
fills), so after a power cut the volume must look like the tree after some
*cut*: a point between two such calls.  `Timeline` keeps the tree at each
cut of every command sent in a round, in order:

    cuts[0]            the tree the round started from (what the host read
                       after the previous cut: durable, the kernel replayed it)
    cuts[1..]          after each step of each command, in the order sent

The volume after a kill must equal one cut at or after the last `sync`
whose "synced" came back (data synced before is never lost), and no cut
later than the last step of the last command sent.  A cut is a map from
path to the *set* of states the path may be in there (a state is the file's
bytes, DIR, or absent); it is one state per path except inside a recursive
`del`, whose order of removal the model does not predict: there every path
of the doomed subtree may be there or gone.  Checking against one cut at a
time is stronger than checking every path on its own: it also catches a
later operation surviving while an earlier one is lost.  When no cut fits,
the report lists, path by path, what the path holds against every state it
could have held since that sync, and the cut that comes closest.

The steps assumed are those of fs_cmds.c and fs/vfs_ops.c today: one core
call per create, mkdir, rename, unlink, and per write of a shell text or a
64 KiB piece of cp (a write of up to 64 blocks is one atomic step of the
core, docs/nanofs.md).
"""

import re
import struct

from nanofs_tool import run as host

DIR = "<dir>"           # the state of a directory in a tree
ABSENT = None
TMP_SUFFIX = ".~write"  # fs_cmds.c's temporary name for write's new content
CP_CHUNK = 64 * 1024    # fs_cmds.c copies in pieces of this size
BLOCK = 4096


# ------------------------------------------------------------- trees ----

def subtree(tree, top):
    """Paths of @tree at or below @top."""
    return [p for p in tree if p == top or p.startswith(top + "/")]


def describe(state):
    if state is ABSENT:
        return "absent"
    if state == DIR:
        return "a directory"
    if len(state) <= 48:
        return repr(state)
    return f"{len(state)} bytes {state[:24]!r}..."


# ---------------------------------------------------------- timeline ----

class Timeline:
    """The cuts of one round; see the module comment."""

    def __init__(self, start_tree):
        self.tree = dict(start_tree)      # after every command sent so far
        self.cuts = [self._exact(self.tree)]
        self.cmd_of_cut = [None]          # which command each cut belongs to
        self.commands = []                # (line, expected output)
        self.sync_cut = {}                # command index -> cut index at its sync

    @staticmethod
    def _exact(tree):
        return {p: {s} for p, s in tree.items()}

    def _cut(self, tree):
        self.tree = tree
        self.cuts.append(self._exact(tree))
        self.cmd_of_cut.append(len(self.commands))

    def _fuzzy(self, doomed):
        """A cut in the middle of removing @doomed: each may be there or not."""
        cut = self._exact(self.tree)
        for p in doomed:
            cut[p] = {self.tree[p], ABSENT}
        self.cuts.append(cut)
        self.cmd_of_cut.append(len(self.commands))

    # One method per command: record the cuts, then the command itself.

    def write(self, path, data):
        tmp = path + TMP_SUFFIX
        self._cut({**self.tree, tmp: b""})
        self._cut({**self.tree, tmp: data})
        t = dict(self.tree)
        del t[tmp]
        t[path] = data
        self._cut(t)
        self._command(f"write /data{path} {data.decode()}")

    def append(self, path, data):
        if path not in self.tree:
            self._cut({**self.tree, path: b""})
        self._cut({**self.tree, path: self.tree[path] + data})
        self._command(f"append /data{path} {data.decode()}")

    def touch(self, path):
        if path not in self.tree:
            self._cut({**self.tree, path: b""})
        self._command(f"touch /data{path}")

    def mkdir(self, path):
        self._cut({**self.tree, path: DIR})
        self._command(f"mkdir /data{path}")

    def mv(self, src, dst):
        t = {p: s for p, s in self.tree.items() if p not in subtree(self.tree, src)}
        t.pop(dst, None)                  # a file it replaces
        for p in subtree(self.tree, src):
            t[dst + p[len(src):]] = self.tree[p]
        self._cut(t)
        self._command(f"mv /data{src} /data{dst}")

    def delete(self, path):
        doomed = subtree(self.tree, path)
        if len(doomed) > 1:
            self._fuzzy(doomed)
        self._cut({p: s for p, s in self.tree.items() if p not in doomed})
        self._command(f"del /data{path}")

    def cp(self, src, dst):
        data = self.tree[src]
        self._cut({**self.tree, dst: b""})
        for end in range(CP_CHUNK, len(data) + CP_CHUNK, CP_CHUNK):
            self._cut({**self.tree, dst: data[:end]})
        self._command(f"cp /data{src} /data{dst}")

    def sync(self):
        self.sync_cut[len(self.commands)] = len(self.cuts) - 1
        self._command("sync", "synced")

    def _command(self, line, expect=""):
        self.commands.append((line, expect))

    # ---------------------------------------------------- the verdict

    def first_allowed(self, confirmed):
        """The first cut the volume may be at, given that the first
        @confirmed commands came back."""
        done = [c for c in self.sync_cut if c < confirmed]
        return self.sync_cut[max(done)] if done else 0

    def matches(self, observed, cut):
        for p in set(cut) | set(observed):
            if observed.get(p, ABSENT) not in cut.get(p, {ABSENT}):
                return False
        return True

    def acked_cut(self, confirmed):
        """The cut right after the last of the first @confirmed commands."""
        return max([i for i, c in enumerate(self.cmd_of_cut) if c is not None and c < confirmed],
                   default=0)

    def where(self, observed, confirmed):
        """Which cuts from the last confirmed sync on @observed equals."""
        return [i for i in range(self.first_allowed(confirmed), len(self.cuts))
                if self.matches(observed, self.cuts[i])]

    def verdict(self, observed, confirmed):
        """None when @observed is a cut at or after the last confirmed sync,
        else a report of what is wrong, path by path."""
        if self.where(observed, confirmed):
            return None
        return self._explain(observed, self.first_allowed(confirmed))

    def strays(self, observed, first):
        """Lines for each path of @observed in a state it held in no cut
        from @first on.  A path no command touched since that cut may hold
        its state there only: this is the weaker, path-by-path check, for
        a round where a command failed half-way and no whole cut can be
        expected."""
        paths = set(observed).union(*self.cuts[first:])
        allowed = {p: set() for p in paths}
        for cut in self.cuts[first:]:
            for p in paths:
                allowed[p].update(cut.get(p, {ABSENT}))
        lines = []
        for p in sorted(allowed):
            got = observed.get(p, ABSENT)
            if got not in allowed[p]:
                lines.append(f"  {p}: holds {describe(got)}; may hold only "
                             + ", ".join(sorted(describe(s) for s in allowed[p])))
        return lines

    def _explain(self, observed, first):
        lines = [f"the volume matches no cut from {first} (after the last confirmed "
                 f"sync) to {len(self.cuts) - 1}"]
        lines.extend(self.strays(observed, first))
        if len(lines) == 1:
            lines.append("  every path holds a state it may hold, but no single cut has "
                         "them all: a later operation survived an earlier one, or synced "
                         "data is missing")
        lines.extend(self._closest(observed, first))
        lines.append("  commands sent: " + "; ".join(c for c, _ in self.commands))
        return "\n".join(lines)


    def _mismatches(self, observed, cut):
        return [p for p in sorted(set(cut) | set(observed))
                if observed.get(p, ABSENT) not in cut.get(p, {ABSENT})]

    def _closest(self, observed, first):
        """Lines naming the cut that differs from @observed in fewest paths."""
        best = min(range(first, len(self.cuts)),
                   key=lambda i: len(self._mismatches(observed, self.cuts[i])))
        cmd = self.cmd_of_cut[best]
        what = "the round's start" if cmd is None else \
            f"command {cmd} ({self.commands[cmd][0][:60]})"
        lines = [f"  closest: cut {best}, in {what}; there"]
        for p in self._mismatches(observed, self.cuts[best]):
            want = ", ".join(sorted(describe(x) for x in self.cuts[best].get(p, {ABSENT})))
            lines.append(f"    {p} holds {want}, the volume {describe(observed.get(p))}")
        return lines


# ------------------------------------------------------ host reading ----

def read_volume(tool, image, scratch):
    """{path: bytes or DIR} of everything on the volume (root excluded),
    read with bin/nanofs ls and get."""
    tree, todo = {}, ["/"]
    while todo:
        d = todo.pop()
        out = host(tool, "ls", image, d).stdout.decode()
        for line in out.splitlines():
            kind, _ino, name = line.split(maxsplit=2)
            path = (d.rstrip("/") + "/" + name.rstrip("/"))
            if kind == "d":
                tree[path] = DIR
                todo.append(path)
            else:
                host(tool, "get", image, path, scratch)
                tree[path] = scratch.read_bytes()
    return tree


# ------------------------------------------------------------ bursts ----

class Burst:
    """Random commands for one round, drawn against @timeline's tree so
    that every one of them succeeds when run in order.  @src is a large file
    that is only ever copied."""

    WEIGHTS = [("write", 30), ("append", 18), ("mkdir", 7), ("mv", 10), ("del", 10),
               ("cp", 7), ("touch", 4), ("sync", 14)]

    def __init__(self, rng, timeline, tag, src, counter):
        self.rng = rng
        self.tl = timeline
        self.tag = tag
        self.src = src
        self.counter = counter            # a one-element list: names never repeat

    def _name(self, kind):
        self.counter[0] += 1
        return f"{kind}{self.counter[0]}"

    def _text(self):
        n = self.rng.randrange(6, 160)
        self.counter[0] += 1
        head = f"{self.tag}n{self.counter[0]}-"
        return (head + "".join(self.rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                               for _ in range(n))).encode()

    def _files(self, tmp=False):
        """Files commands may use (@tmp: with write's leftovers too)."""
        return [p for p, s in self.tl.tree.items() if s != DIR and p != self.src
                and (tmp or not p.endswith(TMP_SUFFIX))]

    def _crowded(self):
        return len(self._files()) >= 20

    def _dirs(self):
        return ["/"] + [p for p, s in self.tl.tree.items() if s == DIR]

    def _new_path(self, kind, max_depth=2):
        dirs = [d for d in self._dirs() if d.count("/") <= max_depth or d == "/"]
        d = self.rng.choice(dirs)
        return d.rstrip("/") + "/" + self._name(kind)

    def _copies(self):
        return [p for p in self._files() if len(self.tl.tree[p]) > BLOCK]

    def next(self):
        """Add one random command to the timeline; returns its line."""
        kinds, weights = zip(*self.WEIGHTS)
        while True:
            kind = self.rng.choices(kinds, weights)[0]
            if getattr(self, "_" + kind)():
                return self.tl.commands[-1][0]

    def _write(self):
        files = self._files()
        path = self.rng.choice(files) if files and (self._crowded() or self.rng.random() < 0.6) \
            else self._new_path("f")
        self.tl.write(path, self._text())
        return True

    def _append(self):
        files = [p for p in self._files() if len(self.tl.tree[p]) < 3000]
        path = self.rng.choice(files) if files and (self._crowded() or self.rng.random() < 0.7) \
            else self._new_path("f")
        self.tl.append(path, self._text())
        return True

    def _touch(self):
        if self._crowded():
            return False
        self.tl.touch(self._new_path("f"))
        return True

    def _mkdir(self):
        if len(self._dirs()) > 6:
            return False
        self.tl.mkdir(self._new_path("d", 1))
        return True

    def _mv(self):
        movable = self._files() + [d for d in self._dirs() if d != "/"]
        if not movable:
            return False
        src = self.rng.choice(movable)
        is_dir = self.tl.tree[src] == DIR
        targets = self._dirs()
        if is_dir:                  # not into itself, and not too deep
            targets = [d for d in targets if d != src and not d.startswith(src + "/")
                       and d.count("/") <= 1]
        files = [f for f in self._files() if f != src]
        if not is_dir and files and self.rng.random() < 0.3:
            dst = self.rng.choice(files)             # replace a file
        else:
            dst = self.rng.choice(targets).rstrip("/") + "/" + self._name("m")
        self.tl.mv(src, dst)
        return True

    def _del(self):
        victims = self._files(tmp=True) + [d for d in self._dirs() if d != "/"]
        big = self._copies()
        if not victims:
            return False
        self.tl.delete(self.rng.choice(big if len(big) > 3 else victims))
        return True

    def _cp(self):
        if len(self._copies()) > 4:
            return False
        self.tl.cp(self.src, self._new_path("c"))
        return True

    def _sync(self):
        self.tl.sync()
        return True


def confirmed_outputs(text, lines):
    """Walk the console @text (from the burst's start) for the commands
    @lines sent in order: [(line, output)] for each whose echo and next
    prompt both arrived, stopping at the first that did not."""
    prompt = re.compile(r"^(?:\x1b\[[0-?]*[ -/]*[@-~])*\$ ", re.M)
    done, pos = [], 0
    for line in lines:
        echo = re.compile(re.escape(line) + r"\r?\n").search(text, pos)
        if not echo:
            break
        p = prompt.search(text, echo.end())
        if not p:
            break
        out = text[echo.end():p.start()].replace("\r\n", "\n")
        done.append((line, out[:-1] if out.endswith("\n") else out))
        pos = p.end()
    return done


# -------------------------------------------------- inside an image ----

SUPER = struct.Struct("<8sII14Q")   # magic, version, block size, blocks .. data_blocks
SUPER_FIELDS = ("blocks", "inodes", "journal_start", "journal_blocks", "ibitmap_start",
                "ibitmap_blocks", "itable_start", "itable_blocks", "dbitmap_start",
                "dbitmap_blocks", "data_start", "data_blocks")


def layout(image):
    """The region fields of @image's primary superblock (docs/nanofs.md)."""
    with open(image, "rb") as f:
        raw = f.read(SUPER.size)
    magic, version, bsize, *rest = SUPER.unpack(raw)
    assert magic == b"NANOFS2\0" and version == 2 and bsize == BLOCK, raw[:16]
    return dict(zip(SUPER_FIELDS, rest))


def free_data_blocks(image):
    """Block numbers of the data region that the data bitmap calls free."""
    lay = layout(image)
    free = []
    bits_per_block = (BLOCK - 8) * 8
    with open(image, "rb") as f:
        for bi in range(lay["dbitmap_blocks"]):
            f.seek((lay["dbitmap_start"] + bi) * BLOCK)
            bmp = f.read(BLOCK - 8)
            for b in range(bits_per_block):
                i = bi * bits_per_block + b
                if i >= lay["data_blocks"]:
                    break
                if not bmp[b // 8] & (1 << (b % 8)):
                    free.append(lay["data_start"] + i)
    return free


def blocks_holding(image, data):
    """Blocks of @image whose 4 KiB equal the 4 KiB pieces of @data (a file
    whose size is a multiple of 4 KiB and whose blocks are all distinct)."""
    pieces = {data[i:i + BLOCK]: i // BLOCK for i in range(0, len(data), BLOCK)}
    found = {}
    with open(image, "rb") as f:
        blk = 0
        while True:
            b = f.read(BLOCK)
            if len(b) < BLOCK:
                break
            if b in pieces:
                found[pieces[b]] = blk
            blk += 1
    assert len(found) == len(pieces), f"only {len(found)} of {len(pieces)} blocks found"
    return [found[k] for k in sorted(found)]


def blkdebug_rules(event, blocks):
    """blkdebug [inject-error] sections: EIO on @event ("read_aio" or
    "write_aio") for any request that touches one of @blocks."""
    return "".join(f'[inject-error]\nevent = "{event}"\nerrno = "5"\nonce = "off"\n'
                   f'sector = "{b * (BLOCK // 512)}"\n\n' for b in blocks)


def blkdebug_after(event, start, once):
    """blkdebug rules that let @start events of @event ("read_aio",
    "write_aio" or "flush_to_disk") pass and fail the requests after them
    with EIO: the next one only (@once) or every one from then on.

    blkdebug has no probability; what it has is a state machine, one
    step per event: [set-state] rules walk the state from 1 to start+1,
    one event at a time, and the error rule waits in the last state.  An
    error rule that fires arms itself for the requests of its `iotype`
    only, so a flush error hits a flush and not the writes around it."""
    iotype = {"read_aio": "read", "write_aio": "write", "flush_to_disk": "flush"}[event]
    steps = "".join(f'[set-state]\nevent = "{event}"\nstate = "{k}"\n'
                    f'new_state = "{k + 1}"\n\n' for k in range(1, start + 1))
    return steps + (f'[inject-error]\nevent = "{event}"\nstate = "{start + 1}"\n'
                    f'iotype = "{iotype}"\nerrno = "5"\n'
                    f'once = "{"on" if once else "off"}"\n\n')


def pattern_file(tag, nblocks):
    """@nblocks distinct 4 KiB blocks of text that name @tag and the block."""
    return b"".join((f"{tag} block {k} ".encode() * BLOCK)[:BLOCK] for k in range(nblocks))
