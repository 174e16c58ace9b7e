#!/usr/bin/env bash
# gdb.sh [GDB ARGUMENTS...] — attach GDB to the QEMU that `make debug`
# started (stopped at its first instruction, GDB server on 127.0.0.1).
#
# GDB gets bin/kernel64.elf's symbols and types, the x86-64 architecture
# (set before connecting: QEMU sends 64-bit registers even while the CPU is
# still in real mode), and scripts/gdb/nos.py, sourced by path so that no
# auto-load safe-path setting is needed: nos-dmesg, nos-ps, nos-bt, nos-mem,
# nos-cpus (nos-help lists them; docs/debugging.md shows them at work).
#   NOS_GDB_PORT=N  the port of QEMU's GDB server (default 1234, as make debug)
#   NOS_GDB_ELF=F   symbols from F instead of bin/kernel64.elf (the tests pass
#                   the copy of the kernel they booted)
# Arguments are passed on to GDB after these, so a script or a test can run
#   scripts/gdb.sh -batch -ex 'nos-ps'
# No breakpoint is set: the machine waits at the reset vector until you
# `continue`, and what to stop at first is yours to choose — `break kmain`
# for the start of the C code, or a command's handler such as
# `break cmd_uptime`.  Under TCG (the default) every breakpoint works from
# the first instruction; under KVM use `hbreak` until paging is on.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
elf=${NOS_GDB_ELF:-$here/bin/kernel64.elf}
port=${NOS_GDB_PORT:-1234}
case "$port" in
'' | *[!0-9]*) echo "gdb.sh: NOS_GDB_PORT must be a port number, not '$port'" >&2; exit 2 ;;
esac
[ -e "$elf" ] || { echo "gdb.sh: $elf is missing (run make)" >&2; exit 2; }
exec gdb -q "$elf" \
	-ex "set architecture i386:x86-64" \
	-ex "source $here/scripts/gdb/nos.py" \
	-ex "target remote 127.0.0.1:$port" "$@"
