"""
nos.py — GDB commands that read nos's own structures, as Linux's lx- helpers
read Linux's.

scripts/gdb.sh sources this file into a GDB attached to QEMU's GDB server
(`make debug`).  The commands look at the kernel the way its own shell
commands do, but from outside: they work with the machine stopped, also when
the shell is wedged, interrupts are off or the kernel has panicked.

    nos-dmesg [filter]  the dmesg ring, the lines the shell's `dmesg` prints
    nos-ps              every task: the columns of the shell's `ps`
    nos-bt <pid>        one task's stack, walked through its frame pointers
    nos-mem             page allocator totals, the page lines of `memusage`
    nos-cpus            which GDB thread is which CPU, and what it runs
    nos-help            this list

Where the layout comes from.  Every structure is read through the kernel's
DWARF types (it is built with -g): fields by name, array lengths from their
types, so a change to a struct needs no change here.  Three facts are not
in the DWARF and are written down below: the 4 KiB page size (a macro), the
frame kernel/switch.asm pushes (assembly), and that a C frame starts with
the caller's RBP and the return address (the kernel is built with
-fno-omit-frame-pointer, the same fact kernel/panic.c's backtrace rests on).

Threads are CPUs.  QEMU's GDB server shows one thread per virtual CPU.  A
CPU is matched to its thread by the thread's GS base, which the kernel
points at that CPU's `percpu_area` entry (kernel/percpu.h); before that is
set (early boot) thread N is taken to be CPU N-1.

Consistency.  With the machine stopped nothing changes under the reader,
but a CPU may have been stopped in the middle of an update (a message half
stored, a task half switched).  The commands read without locks, as a
debugger must, and stop rather than loop on a list or frame chain that does
not make sense.
"""

import contextlib
import re

import gdb

PAGE_SIZE = 4096        # mm/paging.h: one frame (a macro, not in the DWARF)
# kernel/switch.asm: sched_switch() pushes rbp rbx r12 r13 r14 r15, so from
# the saved stack pointer up: r15 r14 r13 r12 rbx rbp, then the return
# address into the scheduler.  (kernel/sched_cmds.c reads the same words.)
SWITCH_FRAME = ("r15", "r14", "r13", "r12", "rbx", "rbp", "ret")
FRAMES_MAX = 32         # as BACKTRACE_MAX in kernel/panic.c
LIST_MAX = 1 << 16      # more tasks than this: the list is corrupted

CONNECT_HINT = ("start the kernel with `make debug` and attach with scripts/gdb.sh "
                "(or `target remote 127.0.0.1:1234`)")


# ------------------------------------------------------------ helpers ----

def need_target():
    """Fail with a clear message unless GDB is attached to a live target."""
    if gdb.selected_inferior().pid == 0 or gdb.selected_thread() is None:
        raise gdb.GdbError(f"not attached to a kernel: {CONNECT_HINT}")


def symbol(name):
    """The kernel variable @name (global or file-static) as a gdb.Value."""
    sym = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    if sym is None:
        raise gdb.GdbError(f"no symbol '{name}' in the loaded file: load the running "
                           "kernel's bin/kernel64.elf (`file bin/kernel64.elf`)")
    return sym.value()


def lookup_type(name):
    try:
        return gdb.lookup_type(name)
    except gdb.error:
        raise gdb.GdbError(f"no type '{name}': is bin/kernel64.elf (built with -g) loaded?")


def field(type_, name):
    """The gdb.Field @name of struct @type_ (for its offset and type)."""
    for f in type_.strip_typedefs().fields():
        if f.name == name:
            return f
    raise gdb.GdbError(f"{type_} has no field '{name}': this script is older than the kernel")


def array_len(value):
    lo, hi = value.type.strip_typedefs().range()
    return hi - lo + 1


def address_of(name):
    """Address of a linker symbol (no debug type).  `info address` rather
    than evaluating `&name`: for a symbol in the NASM boot code the latter
    makes GDB print internal warnings about the assembler's line table."""
    try:
        text = gdb.execute(f"info address {name}", to_string=True)
    except gdb.error:
        text = ""
    m = re.search(r" is at (0x[0-9a-f]+)", text)
    if not m:
        raise gdb.GdbError(f"no symbol '{name}' in the loaded file")
    return int(m.group(1), 16)


def read(addr, size):
    try:
        return gdb.selected_inferior().read_memory(addr, size).tobytes()
    except gdb.MemoryError:
        raise gdb.GdbError(f"cannot read {size} bytes at {addr:#x}")


def read_u64s(addr, count):
    """@count little-endian u64s at @addr, or None when unreadable."""
    try:
        raw = gdb.selected_inferior().read_memory(addr, 8 * count).tobytes()
    except gdb.MemoryError:
        return None
    return [int.from_bytes(raw[i:i + 8], "little") for i in range(0, len(raw), 8)]


def unpack(buf, base, f):
    """Integer field @f of the struct that starts at @buf[@base]."""
    start = base + f.bitpos // 8
    return int.from_bytes(buf[start:start + f.type.sizeof], "little")


def c_string(value):
    """A char array field, up to its first NUL."""
    raw = read(int(value.address), value.type.sizeof)
    return raw.split(b"\0", 1)[0].decode("utf-8", "backslashreplace")


def kib(nbytes):
    return nbytes >> 10


# --------------------------------------------------------- the tasks ----

def tasks():
    """Every struct task on task_list (kernel/sched.c), oldest first."""
    head = symbol("task_list")
    head_addr = int(head.address)
    task_ptr = lookup_type("struct task").pointer()
    link_off = field(lookup_type("struct task"), "all_link").bitpos // 8
    node = int(head["next"])
    for _ in range(LIST_MAX):
        if node == head_addr:
            return
        t = gdb.Value(node - link_off).cast(task_ptr).dereference()
        yield t
        node = int(t["all_link"]["next"])
    raise gdb.GdbError("task_list does not come back to its head: corrupted?")


def find_task(pid):
    for t in tasks():
        if int(t["pid"]) == pid:
            return t
    return None


def state_names():
    """The names task_state_name() uses, read from the kernel itself."""
    try:
        names = gdb.parse_and_eval("task_state_name::names")
        return [names[i].string() for i in range(array_len(names))]
    except gdb.error:
        enum = lookup_type("enum task_state")
        return [f.name.removeprefix("TASK_").lower() for f in enum.fields()]


def enum_value(type_name, name):
    for f in lookup_type(type_name).fields():
        if f.name == name:
            return f.enumval
    raise gdb.GdbError(f"{type_name} has no {name}: this script is older than the kernel")


def task_state(t, names):
    """What `ps` shows: task_state_name() in kernel/sched.c, done here."""
    state, on_cpu = int(t["state"]), bool(t["on_cpu"])
    if bool(t["idle"]) and not on_cpu:
        return "idle"
    if state == enum_value("enum task_state", "TASK_RUNNING") and not on_cpu:
        return "ready"
    return names[state] if 0 <= state < len(names) else f"?{state}"


# ---------------------------------------------------------- the CPUs ----

@contextlib.contextmanager
def user_selection_kept():
    """Give the user back the thread and frame they had selected."""
    thread = gdb.selected_thread()
    try:
        frame = gdb.selected_frame()
    except gdb.error:
        frame = None
    try:
        yield
    finally:
        thread.switch()
        if frame is not None and frame.is_valid():
            frame.select()


def cpu_threads():
    """{cpu index: gdb.InferiorThread} for every CPU thread QEMU shows."""
    area = symbol("percpu_area")
    base, size, count = int(area.address), area[0].type.sizeof, array_len(area)
    found = {}
    with user_selection_kept():
        for th in gdb.selected_inferior().threads():
            th.switch()
            try:
                gs = int(gdb.parse_and_eval("$gs_base"))
            except gdb.error:
                gs = 0
            off = gs - base
            if 0 <= off < size * count and off % size == 0:
                found[off // size] = th
            else:
                found.setdefault(th.num - 1, th)  # GS not set yet: boot order
    return found


def thread_regs(th, *names):
    with user_selection_kept():
        th.switch()
        frame = gdb.newest_frame()
        return [int(frame.read_register(n)) & (2**64 - 1) for n in names]


# -------------------------------------------------------- backtraces ----

_INFO_SYMBOL_RE = re.compile(r"^(\S+)(?: \+ (\d+))? in section")


def describe(addr, lookup):
    """'function+0xoff (file:line)' for @addr, looked up at @lookup (addr - 1
    for a return address, so a call that ends a function is blamed on it)."""
    text = gdb.execute(f"info symbol {lookup:#x}", to_string=True).strip()
    m = _INFO_SYMBOL_RE.match(text)
    if not m:
        return "?"
    off = int(m.group(2) or 0) + (addr - lookup)
    name = m.group(1)
    where = f"{name}+{off:#x}"
    # Only C functions have a DWARF subprogram; asking GDB for the line of
    # an address in the NASM boot code makes it print internal warnings.
    if gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name):
        sal = gdb.find_pc_line(lookup)
        if sal.symtab is not None and sal.line:
            where += f" ({sal.symtab.filename}:{sal.line})"
    return where


def frame_chain(pc, rbp, pc_is_return):
    """[(addr, description)]: @pc, then the return addresses on the
    frame-pointer chain from @rbp — the walk kernel/panic.c does."""
    lo, hi = address_of("__text_start"), address_of("__kernel_end")
    frames = [(pc, describe(pc, pc - 1 if pc_is_return else pc))]
    while len(frames) < FRAMES_MAX and rbp and rbp % 8 == 0:
        words = read_u64s(rbp, 2)
        if words is None:
            break
        saved_rbp, ret = words
        if not lo <= ret < hi:
            break
        frames.append((ret, describe(ret, ret - 1)))
        if saved_rbp <= rbp:
            break  # the chain must climb the stack
        rbp = saved_rbp
    return frames


def switched_out_chain(t):
    """A task's frames from what sched_switch() left at its saved rsp."""
    rsp = int(t["rsp"])
    words = read_u64s(rsp, len(SWITCH_FRAME))
    if words is None:
        raise gdb.GdbError(f"cannot read task {int(t['pid'])}'s switch frame at {rsp:#x}")
    saved = dict(zip(SWITCH_FRAME, words))
    return frame_chain(saved["ret"], saved["rbp"], True)


# ---------------------------------------------------------- commands ----

class NosCommand(gdb.Command):
    """Base: a GDB user command whose failures are one clear line."""

    name = ""

    def __init__(self):
        super().__init__(self.name, gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        try:
            need_target()
            self.run(arg.strip())
        except (gdb.GdbError, gdb.error) as e:  # gdb.MemoryError included
            raise gdb.GdbError(f"{self.name}: {e}") from None

    def run(self, arg):
        raise NotImplementedError


class NosDmesg(NosCommand):
    """nos-dmesg [filter]: the kernel log ring, oldest first.

The lines the shell's `dmesg` prints, "[cpu:seconds.micros:function] text",
read from the ring in kernel/printk.c; with a filter, only the lines that
contain it."""

    name = "nos-dmesg"

    def run(self, arg):
        d = symbol("dmesg")
        first, nxt = int(d["first"]), int(d["next"])
        slots = d["slots"]
        nslots = array_len(slots)
        stype = slots.type.strip_typedefs().target()
        f_off, f_len = field(stype, "off"), field(stype, "len")
        table = read(int(slots.address), stype.sizeof * nslots)
        text_addr, text_size = int(d["text"].address), d["text"].type.sizeof
        first = max(first, nxt - nslots)  # never more live than slots
        for seq in range(first, nxt):
            base = (seq % nslots) * stype.sizeof
            off, length = unpack(table, base, f_off), unpack(table, base, f_len)
            if off + length > text_size:
                gdb.write(f"(message {seq}: slot out of range, skipped)\n")
                continue
            line = read(text_addr + off, length).decode("utf-8", "backslashreplace")
            if not arg or arg in line:
                gdb.write(line + "\n")


class NosPs(NosCommand):
    """nos-ps: every task with its pid, name, state and CPU.

The columns of the shell's `ps` (kernel/sched_cmds.c).  CPU TIME is what the
scheduler has accounted: for a task on a CPU, up to when it was switched in."""

    name = "nos-ps"

    def run(self, arg):
        all_tasks = list(tasks())
        names = state_names()
        gdb.write("  PID NAME             STATE    CPU   CPU TIME(s)   SWITCHES\n")
        for t in all_tasks:
            ns = int(t["cpu_ns"])
            pinned = " (pinned)" if int(t["affinity"]) >= 0 else ""  # TASK_ANY_CPU is -1
            gdb.write("%5d %-16s %-8s %3d %9d.%03d %10d%s\n" % (
                int(t["pid"]), c_string(t["name"]), task_state(t, names), int(t["cpu"]),
                ns // 1000000000, ns // 1000000 % 1000, int(t["switches"]), pinned))


class NosBt(NosCommand):
    """nos-bt <pid>: the stack of task <pid>, by its frame pointers.

A switched-out task is walked from the frame sched_switch() left at its saved
stack pointer; a task on a CPU from that CPU's registers (for GDB's own view,
with inlined frames and arguments: `thread N` then `bt`, see nos-cpus)."""

    name = "nos-bt"

    def run(self, arg):
        if not re.fullmatch(r"\d+", arg):
            raise gdb.GdbError("usage: nos-bt <pid> (pids are in nos-ps)")
        pid = int(arg)
        t = find_task(pid)
        if t is None:
            raise gdb.GdbError(f"no task with pid {pid}")
        if int(t["state"]) == enum_value("enum task_state", "TASK_DEAD"):
            gdb.write(f"task {pid} ({c_string(t['name'])}) has exited\n")
            return
        if bool(t["on_cpu"]):
            frames, how = self.running(t)
        else:
            frames = switched_out_chain(t)
            how = f"{task_state(t, state_names())}, switched out"
        gdb.write(f"task {pid} ({c_string(t['name'])}), {how}:\n")
        for n, (addr, where) in enumerate(frames):
            gdb.write(f"#{n:<2} {addr:#018x} in {where}\n")

    @staticmethod
    def running(t):
        cpu = int(t["cpu"])
        th = cpu_threads().get(cpu)
        if th is None:
            raise gdb.GdbError(f"task {int(t['pid'])} runs on cpu{cpu}, which GDB does not show")
        pc, rbp = thread_regs(th, "rip", "rbp")
        return frame_chain(pc, rbp, False), f"running on cpu{cpu} (thread {th.num})"


class NosMem(NosCommand):
    """nos-mem: page allocator totals.

What the shell's `memusage` prints about pages (mm/mm_cmds.c): the RAM, its
accounts, free, used and the largest free block; then the buddy allocator's
frames and free blocks per order (mm/buddy.h).  `memusage` first hands the
pools' cached empty slabs back, so its "free" can be a little higher than a
reading taken here before it."""

    name = "nos-mem"

    def run(self, arg):
        mm, b = symbol("memmap"), symbol("buddy")
        names = symbol("account_names")
        total = int(mm["total_ram"])
        accounts = [int(mm["account"][a]) for a in range(array_len(mm["account"]))]
        free = int(b["free_pages"])
        managed = int(b["managed_pages"])
        nfree = [int(b["nfree_blocks"][o]) for o in range(array_len(b["nfree_blocks"]))]
        largest = max((1 << o for o, n in enumerate(nfree) if n), default=0)
        gdb.write(f"total: {kib(total)} KiB of RAM\n")
        for a, nbytes in enumerate(accounts):
            gdb.write("  %-20s %10d KiB\n" % (names[a].string(), kib(nbytes)))
        gdb.write(f"free: {kib(free * PAGE_SIZE)} KiB\n")
        gdb.write(f"used: {kib(total - free * PAGE_SIZE)} KiB (page allocator: "
                  f"{kib((managed - free) * PAGE_SIZE)} KiB handed out)\n")
        gdb.write(f"largest free block: {kib(largest * PAGE_SIZE)} KiB\n")
        gdb.write(f"firmware-reserved (not RAM): {kib(int(mm['firmware_reserved']))} KiB\n")
        gdb.write(f"frames: {managed} managed, {free} free, "
                  f"{int(b['live_allocs'])} allocations live\n")
        gdb.write("free blocks by order: "
                  + " ".join(f"{o}:{n}" for o, n in enumerate(nfree)) + "\n")
        if sum(accounts) != total:
            gdb.write(f"WARNING: accounts sum to {kib(sum(accounts))} KiB, not the total\n")


class NosCpus(NosCommand):
    """nos-cpus: each CPU's GDB thread, its state and the task it runs."""

    name = "nos-cpus"

    def run(self, arg):
        area = symbol("percpu_area")
        try:
            state_enum = lookup_type("enum cpu_state").fields()
            cpu_states = {f.enumval: f.name.removeprefix("CPU_").lower() for f in state_enum}
        except gdb.GdbError:
            cpu_states = {}
        threads = cpu_threads()
        for cpu in range(array_len(area)):
            pc = area[cpu]
            state = int(pc["state"])
            th = threads.get(cpu)
            if th is None and state == 0:
                continue  # CPU_OFFLINE and not in the machine
            curr = pc["curr"]
            running = "-"
            if int(curr):
                t = curr.dereference()
                running = f"{int(t['pid'])} {c_string(t['name'])}"
            thread = f"thread {th.num}" if th is not None else "no thread"
            gdb.write(f"cpu{cpu}: {thread}, {cpu_states.get(state, state)}, "
                      f"apic {int(pc['apic_id'])}, runs {running}\n")


class NosHelp(gdb.Command):
    """nos-help: list the nos-* commands."""

    def __init__(self):
        super().__init__("nos-help", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        for cmd in COMMANDS:
            gdb.write(f"{(cmd.__doc__ or '').splitlines()[0]}\n")
        gdb.write("nos-help: this list (`help nos-bt` and so on say more)\n")


COMMANDS = (NosDmesg, NosPs, NosBt, NosMem, NosCpus)

for _cmd in COMMANDS:
    _cmd()
NosHelp()
