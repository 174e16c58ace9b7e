#!/usr/bin/env bash
# qemu.sh [IMAGE.iso] — boot nos in QEMU with the serial console on this
# terminal (Ctrl-A X quits).  Works without a display.
#   NOS_ACCEL=kvm   use KVM instead of TCG (needs a usable /dev/kvm)
#   NOS_SMP=N       number of CPUs (default 2)
#   NOS_MEM=SIZE    memory (default 512M)
#   NOS_DISK=FILE   raw image attached as a virtio-blk disk (default
#                   out/scratch.img, made empty at 64 MiB when missing;
#                   "none" attaches no disk)
#   NOS_NET=user    a virtio-net NIC on QEMU user networking (the default):
#                   the kernel's DHCP (dhcp=auto) gets 10.0.2.15 from QEMU,
#                   and UDP to the host's 127.0.0.1:NOS_UDPSH_PORT (default
#                   9000) is forwarded to the guest's port 9000, where the
#                   ISO's udpshell=9000 runs the UDP shell (scripts/udpsh.py
#                   127.0.0.1 9000); "none" attaches no NIC
#   NOS_DEBUG=1     start stopped (-S) with QEMU's GDB server on
#                   127.0.0.1:NOS_GDB_PORT; attach with scripts/gdb.sh from
#                   another terminal (make debug sets it; docs/debugging.md)
#   NOS_GDB_PORT=N  the GDB server's port with NOS_DEBUG=1 (default 1234)
#   QEMU_EXTRA=...  more QEMU arguments
# A virtio-rng device is always attached.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
iso=${1:-$here/nos.iso}
case "${NOS_ACCEL:-tcg}" in
kvm) accel=(-accel kvm -cpu host) ;;
tcg) accel=(-accel tcg -cpu max) ;;
*) echo "qemu.sh: NOS_ACCEL must be tcg or kvm" >&2; exit 2 ;;
esac
disk=${NOS_DISK:-$here/out/scratch.img}
devices=(-device virtio-rng-pci)
if [ "$disk" != none ]; then
	[ -e "$disk" ] || { mkdir -p "$(dirname "$disk")" && truncate -s 64M "$disk"; }
	devices+=(-drive "file=$disk,if=none,id=scratch,format=raw" -device virtio-blk-pci,drive=scratch)
fi
case "${NOS_NET:-user}" in
user) devices+=(-netdev "user,id=net0,hostfwd=udp:127.0.0.1:${NOS_UDPSH_PORT:-9000}-:9000"
	-device virtio-net-pci,netdev=net0) ;;
none) ;;
*) echo "qemu.sh: NOS_NET must be user or none" >&2; exit 2 ;;
esac
debug=()
if [ "${NOS_DEBUG:-0}" = 1 ]; then
	gdb_port=${NOS_GDB_PORT:-1234}
	case "$gdb_port" in
	'' | *[!0-9]*) echo "qemu.sh: NOS_GDB_PORT must be a port number" >&2; exit 2 ;;
	esac
	debug=(-S -gdb "tcp:127.0.0.1:$gdb_port")
	echo "qemu.sh: QEMU waits for GDB on 127.0.0.1:$gdb_port; run scripts/gdb.sh in another terminal" >&2
fi
# shellcheck disable=SC2086
exec qemu-system-x86_64 "${accel[@]}" -smp "${NOS_SMP:-2}" -m "${NOS_MEM:-512M}" \
	-cdrom "$iso" -boot d -display none -serial mon:stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 "${devices[@]}" ${debug[@]+"${debug[@]}"} \
	${QEMU_EXTRA:-}
