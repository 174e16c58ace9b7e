#!/usr/bin/env bash
# qemu-disk.sh [--scsi] [--serial-only] [--q35] [IMAGE] — boot the disk image
# (default: nos.img from `make disk`, in NOS_DISK_OUT when that is set; raw
# or qcow2) in QEMU the way a cloud boots it: from the disk, with no CD
# drive, the serial console on this terminal (Ctrl-A X quits).  QEMU's PC
# machines come with an empty CD drive (and a floppy) unless -nodefaults,
# so it is given, and the devices wanted are named one by one.
#   --scsi          the disk on a virtio-scsi controller (Compute Engine)
#                   instead of virtio-blk (Yandex Cloud, the default)
#   --serial-only   no VGA device at all (-vga none), as on a cloud where
#                   the serial port is the only console
#   --q35           the q35 machine instead of QEMU's default i440FX
# The environment works as for scripts/qemu.sh:
#   NOS_ACCEL=kvm   use KVM instead of TCG (needs a usable /dev/kvm)
#   NOS_SMP=N       number of CPUs (default 2)
#   NOS_MEM=SIZE    memory (default 512M)
#   NOS_NET=user    a virtio-net NIC on QEMU user networking (the default):
#                   DHCP gets 10.0.2.15, and UDP to the host's
#                   127.0.0.1:NOS_UDPSH_PORT (default 9000) reaches the
#                   image's UDP shell on port 9000; "none": no NIC
#   NOS_DEBUG=1     start stopped (-S), GDB server on 127.0.0.1:NOS_GDB_PORT
#                   (default 1234); attach with scripts/gdb.sh
#   QEMU_EXTRA=...  more QEMU arguments
# A virtio-rng device is always attached, as qemu.sh does.  The guest
# writes to the image: /data lives on it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
prog=qemu-disk.sh

usage() {
	echo "usage: $prog [--scsi] [--serial-only] [--q35] [IMAGE]" >&2
	exit 2
}

# raw or qcow2, from the name, else from what qemu-img sees in the file.
image_format() {
	case $1 in
	*.qcow2) echo qcow2 ;;
	*.img | *.raw) echo raw ;;
	*.tar.gz) echo "$prog: $1 is an archive: unpack disk.raw from it first" >&2; exit 2 ;;
	*) qemu-img info --output=json "$1" | sed -n 's/^ *"format": "\([a-z0-9]*\)".*/\1/p' ;;
	esac
}

scsi=0 serial_only=0 machine=() image=""
for arg in "$@"; do
	case $arg in
	--scsi) scsi=1 ;;
	--serial-only) serial_only=1 ;;
	--q35) machine=(-machine q35) ;;
	-h | --help) usage ;;
	-*) echo "$prog: unknown option $arg" >&2; usage ;;
	*) [ -z "$image" ] || usage; image=$arg ;;
	esac
done
image=${image:-${NOS_DISK_OUT:-$here}/nos.img} # where build-disk.sh put it
[ -f "$image" ] || { echo "$prog: $image not found (make disk makes nos.img)" >&2; exit 2; }
format=$(image_format "$image") || exit 2
case $format in
raw | qcow2) ;;
*) echo "$prog: $image is neither raw nor qcow2 (${format:-unknown})" >&2; exit 2 ;;
esac

case "${NOS_ACCEL:-tcg}" in
kvm) accel=(-accel kvm -cpu host) ;;
tcg) accel=(-accel tcg -cpu max) ;;
*) echo "$prog: NOS_ACCEL must be tcg or kvm" >&2; exit 2 ;;
esac
devices=(-device virtio-rng-pci -drive "file=$image,if=none,id=boot,format=$format")
if [ "$scsi" = 1 ]; then
	devices+=(-device "virtio-scsi-pci,id=scsi0" -device "scsi-hd,drive=boot,bus=scsi0.0,bootindex=0")
else
	devices+=(-device "virtio-blk-pci,drive=boot,bootindex=0")
fi
case "${NOS_NET:-user}" in
user) devices+=(-netdev "user,id=net0,hostfwd=udp:127.0.0.1:${NOS_UDPSH_PORT:-9000}-:9000"
	-device "virtio-net-pci,netdev=net0") ;;
none) ;;
*) echo "$prog: NOS_NET must be user or none" >&2; exit 2 ;;
esac
if [ "$serial_only" = 1 ]; then
	devices+=(-vga none)
else
	devices+=(-vga std)
fi
if [ "${NOS_DEBUG:-0}" = 1 ]; then # as qemu.sh does
	gdb_port=${NOS_GDB_PORT:-1234}
	case "$gdb_port" in
	'' | *[!0-9]*) echo "$prog: NOS_GDB_PORT must be a port number" >&2; exit 2 ;;
	esac
	devices+=(-S -gdb "tcp:127.0.0.1:$gdb_port")
	echo "$prog: QEMU waits for GDB on 127.0.0.1:$gdb_port; run scripts/gdb.sh in another terminal" >&2
fi
# shellcheck disable=SC2086
exec qemu-system-x86_64 "${accel[@]}" ${machine[@]+"${machine[@]}"} -nodefaults \
	-smp "${NOS_SMP:-2}" -m "${NOS_MEM:-512M}" -display none -serial mon:stdio \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 "${devices[@]}" ${QEMU_EXTRA:-}
