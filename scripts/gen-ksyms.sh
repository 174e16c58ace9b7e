#!/usr/bin/env bash
# gen-ksyms.sh ELF — print, as NASM source, the kernel's table of function
# symbols (kernel/ksyms.c reads it to symbolize backtraces).  With /dev/null
# it prints an empty table for the first link pass.
#
# Layout (section .ksyms, read-only):
#   ksyms_count: dq N
#   ksyms_table: N × { dq address; dd size; dd offset of name in ksyms_names }
#   ksyms_names: NUL-terminated names
# Entries are sorted by address; a symbol without a size (NASM labels) has
# size 0, which the lookup reads as "up to the next symbol".
set -euo pipefail
elf=$1
echo "section .ksyms progbits alloc noexec nowrite align=8"
echo "global ksyms_count, ksyms_table, ksyms_names"
if [ "$elf" = /dev/null ]; then
	printf 'ksyms_count: dq 0\nksyms_table:\nksyms_names: db 0\n'
	exit 0
fi
nm -n -S --defined-only "$elf" | awk '
	BEGIN { n = 0 }
	NF == 4 && $3 ~ /^[tTwW]$/ { addr[n] = $1; size[n] = $2; name[n] = $4; n++; next }
	NF == 3 && $2 ~ /^[tTwW]$/ { addr[n] = $1; size[n] = ""; name[n] = $3; n++; next }
	END {
		printf "ksyms_count: dq %d\nksyms_table:\n", n
		off = 0
		for (i = 0; i < n; i++) {
			sz = size[i] == "" ? "0" : size[i]
			printf "\tdq 0x%s\n\tdd 0x%s, %d\n", addr[i], sz, off
			off += length(name[i]) + 1
		}
		printf "ksyms_names:\n"
		for (i = 0; i < n; i++)
			printf "\tdb \"%s\", 0\n", name[i]
	}'
