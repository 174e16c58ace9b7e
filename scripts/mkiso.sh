#!/usr/bin/env bash
# mkiso.sh KERNEL OUT.iso "CMDLINE" — build a GRUB 2 rescue ISO that boots
# KERNEL through Multiboot2 with the kernel command line CMDLINE.
# The system tests call it to make one ISO per command line they need.
#
# CMDLINE is the user's text and is never treated as a pattern: each of its
# words goes into grub.cfg in single quotes, and \ ' and " are refused
# because GRUB would pass them on escaped (scripts/grub-cmdline.sh, shared
# with build-disk.sh, says why).
set -euo pipefail
if [[ $# -lt 2 || $# -gt 3 ]]; then
	echo "usage: mkiso.sh KERNEL OUT.iso [CMDLINE]" >&2
	exit 2
fi
kernel=$1 out=$2 cmdline=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/grub-cmdline.sh
. "$here/scripts/grub-cmdline.sh"
grub_cmdline_check mkiso.sh "$cmdline" || exit 2

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/iso/boot/grub"
cp "$kernel" "$tmp/iso/boot/kernel64.elf"
grub_cfg_render mkiso.sh "$here/build/grub.cfg" "$cmdline" >"$tmp/iso/boot/grub/grub.cfg"
# Only the i386-pc (BIOS) platform: QEMU's default firmware is SeaBIOS.
part=$(mktemp "$out.XXXXXX") # unique: two builds may run at once
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$part" "$tmp/iso" \
	--install-modules="multiboot2 normal iso9660 biosdisk serial terminal" \
	--locales= --fonts= --themes= >"$tmp/log" 2>&1 \
	|| { cat "$tmp/log" >&2; rm -f "$part"; exit 1; }
chmod 644 "$part"
mv "$part" "$out"
