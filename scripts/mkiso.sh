#!/usr/bin/env bash
# mkiso.sh KERNEL OUT.iso "CMDLINE" — build a GRUB 2 rescue ISO that boots
# KERNEL through Multiboot2 with the kernel command line CMDLINE.
# The system tests call it to make one ISO per command line they need.
set -euo pipefail
kernel=$1 out=$2 cmdline=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/iso/boot/grub"
cp "$kernel" "$tmp/iso/boot/kernel64.elf"
here=$(cd "$(dirname "$0")/.." && pwd)
sed "s|@CMDLINE@|$cmdline|" "$here/build/grub.cfg" > "$tmp/iso/boot/grub/grub.cfg"
# Only the i386-pc (BIOS) platform: QEMU's default firmware is SeaBIOS.
part=$(mktemp "$out.XXXXXX") # unique: two builds may run at once
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$part" "$tmp/iso" \
	--install-modules="multiboot2 normal iso9660 biosdisk serial terminal" \
	--locales= --fonts= --themes= >"$tmp/log" 2>&1 \
	|| { cat "$tmp/log" >&2; rm -f "$part"; exit 1; }
chmod 644 "$part"
mv "$part" "$out"
