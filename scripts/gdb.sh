#!/usr/bin/env bash
# gdb.sh — attach GDB, with the kernel's symbols, to a QEMU started by
# `make debug` (which waits, stopped, for a debugger on localhost:1234).
here=$(cd "$(dirname "$0")/.." && pwd)
exec gdb -q "$here/bin/kernel64.elf" \
	-ex "set architecture i386:x86-64" \
	-ex "target remote localhost:${GDB_PORT:-1234}" \
	-ex "break kmain" "$@"
