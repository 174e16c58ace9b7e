#!/usr/bin/env bash
# mkiso.sh KERNEL OUT.iso "CMDLINE" — build a GRUB 2 rescue ISO that boots
# KERNEL through Multiboot2 with the kernel command line CMDLINE.
# The system tests call it to make one ISO per command line they need.
#
# CMDLINE is the user's text and is never treated as a pattern: it is split
# into words at blanks, and each word goes into grub.cfg in single quotes,
# because GRUB's script language gives | & ; $ < > quotes and \ a meaning.
# GRUB then joins the words with one space into the Multiboot2 command line,
# so what the kernel receives is the words joined by single spaces.  GRUB's
# multiboot2 loader writes \ ' and " with a backslash before them; a command
# line holding one of those would not arrive as written, so it is refused.
set -euo pipefail
if [[ $# -lt 2 || $# -gt 3 ]]; then
	echo "usage: mkiso.sh KERNEL OUT.iso [CMDLINE]" >&2
	exit 2
fi
kernel=$1 out=$2 cmdline=${3:-}
case $cmdline in
*[\\\'\"]*)
	echo "mkiso.sh: the command line may not contain \\, ' or \" (GRUB would" \
		"pass them on escaped): $cmdline" >&2
	exit 2 ;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
template=$(<"$here/build/grub.cfg")
marker=@CMDLINE@
if [[ $template != *"$marker"* || ${template#*"$marker"} == *"$marker"* ]]; then
	echo "mkiso.sh: build/grub.cfg must hold $marker exactly once" >&2
	exit 1
fi

# The words of the command line, each in single quotes for GRUB.
read -r -d '' -a words <<<"$cmdline" || true # to the end, newlines too
quoted=""
for w in ${words[@]+"${words[@]}"}; do
	quoted+="${quoted:+ }'$w'"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/iso/boot/grub"
cp "$kernel" "$tmp/iso/boot/kernel64.elf"
# Cut the template at the marker and put the words between the halves: no
# tool ever reads the command line as a pattern or a replacement.
printf '%s%s%s\n' "${template%%"$marker"*}" "$quoted" "${template#*"$marker"}" \
	>"$tmp/iso/boot/grub/grub.cfg"
# Only the i386-pc (BIOS) platform: QEMU's default firmware is SeaBIOS.
part=$(mktemp "$out.XXXXXX") # unique: two builds may run at once
grub-mkrescue -d /usr/lib/grub/i386-pc -o "$part" "$tmp/iso" \
	--install-modules="multiboot2 normal iso9660 biosdisk serial terminal" \
	--locales= --fonts= --themes= >"$tmp/log" 2>&1 \
	|| { cat "$tmp/log" >&2; rm -f "$part"; exit 1; }
chmod 644 "$part"
mv "$part" "$out"
