#!/usr/bin/env bash
# build-disk.sh — make the bootable disk image of nos: nos.img (raw),
# nos.qcow2 (QEMU, Yandex Cloud) and nos-gce.tar.gz (disk.raw for Google
# Compute Engine's image import).  `make disk` runs it; docs/cloud.md says
# what the clouds do with it.
#
# It runs as any user.  Nothing is mounted, no loop device, no root: every
# tool works on a plain file.  sfdisk writes the partition table into the
# image, mtools formats and fills the FAT partition at its byte offset
# (IMAGE@@OFFSET), grub-mkimage makes GRUB's core image and dd puts it and
# the boot code at their sectors, bin/nanofs formats and fills partition 2.
#
# Layout (512-byte sectors):
#   0            MBR: GRUB's boot.img code (bytes 0-439), the disk signature
#                and partition table sfdisk wrote (440-509), 55 AA
#   1 ... 2047   GRUB's i386-pc core image: diskboot.img, then GRUB's kernel
#                with the modules below, prefix (,msdos1)/boot/grub
#   2048 ...     partition 1, type 0x0e (FAT16, LBA), bootable, BOOT_MIB MiB:
#                /boot/kernel64.elf, /boot/grub/grub.cfg (build/grub-disk.cfg
#                with the command line in), /boot/grub/i386-pc/ (GRUB's
#                modules and lists, boot.img and core.img, as grub-install
#                leaves them)
#   ... end      partition 2, type 0xda (non-filesystem data: nanofs has no
#                id of its own), a nanofs volume labelled nos-data
#
# The MBR and the core image are patched the way grub-bios-setup would
# patch them when it embeds GRUB after the MBR (GRUB's util/setup.c and
# include/grub/i386/pc/boot.h): boot.img's kernel sector (offset 0x5c, 64
# bits) is the core image's first sector, 1; its boot drive (0x64) is 0xff,
# "the drive the BIOS booted"; the 2-byte jump at 0x66 that skips the check
# of the BIOS's drive number becomes two NOPs, as for any hard disk, so a
# BIOS that passes a floppy number still boots drive 0x80; the BPB area
# (0x03-0x59) is the disk's, zeros on a new disk, as boot.img has it.  The
# core image's first sector (diskboot.img) ends with a blocklist: sector 2,
# one fewer sectors than the core image has, loaded at segment 0x820 —
# grub-mkimage fills in the length, and this script checks all three,
# because diskboot follows the list blindly.
#
# The outputs are built in a temporary directory inside the output
# directory and renamed into place at the end, so a failed or interrupted
# build leaves the old outputs (or none) and nothing else: no file is
# written outside the output directory, and the repository is only read.
#
# Exit status: 0 done, 1 a step failed, 2 bad input (nothing was made).
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin # sfdisk, for users whose PATH lacks them
export MTOOLS_SKIP_CHECK=1 # mtools: our geometry is a formality, not a disk's

prog=build-disk.sh
here=$(cd "$(dirname "$0")/.." && pwd)
grub_dir=/usr/lib/grub/i386-pc
label=nos-data
default_cmdline="mount=LABEL=$label:/data udpshell=9000"
# What GRUB needs before it can read the modules directory: the BIOS disk
# driver, the partition map, the FAT reader; the rest (menu, serial
# terminal, the Multiboot2 loader) is embedded too, so the boot does not
# depend on finding them.  grub-mkimage adds their dependencies.
grub_modules=(biosdisk part_msdos fat normal multiboot2 serial terminal boot)
gap_sectors=2048      # the MBR and the core image; partition 1 starts here
boot_mib=32           # partition 1
data_min_mib=16       # the smallest partition 2 we make
mib=$((1 << 20)) gib=$((1 << 30))
max_bytes=$((1 << 41)) # an MBR counts sectors in 32 bits: 2 TiB

usage() {
	cat <<EOF
usage: $prog [--help]

Make nos.img, nos.qcow2 and nos-gce.tar.gz from bin/kernel64.elf and
bin/nanofs (run make first).  No root needed.  From the environment:

  NOS_DISK_SIZE=SIZE     the disk: bytes, or with K, M or G (default 1G);
                         a whole number of MiB, at least $(min_mib) MiB.  The
                         GCE disk.raw is rounded up to whole GiB.
  NOS_DISK_CMDLINE=TEXT  the kernel command line, without \\ ' or "
                         (default: $default_cmdline)
  NOS_UDPSH_KEY=HEX      64 hex digits: adds udpshell.key=HEX
  NOS_DISK_FILES=DIR     copy DIR's files and directories into the data
                         partition (mounted at /data by the default line)
  NOS_DISK_OUT=DIR       where the outputs go (default: the repository)
EOF
}

min_mib() {
	echo $((gap_sectors / 2048 + boot_mib + data_min_mib))
}

die() {
	echo "$prog: $*" >&2
	exit 1
}

bad_input() {
	echo "$prog: $*" >&2
	exit 2
}

# Bytes in @1 (digits, then K, M or G for KiB, MiB, GiB); bad input dies.
parse_size() {
	local s=$1 n unit
	[[ $s =~ ^([0-9]{1,13})([KkMmGg]?)$ ]] ||
		bad_input "NOS_DISK_SIZE='$s' is not a size (e.g. 1G, 512M)"
	n=$((10#${BASH_REMATCH[1]})) unit=${BASH_REMATCH[2]}
	case $unit in
	K | k) n=$((n << 10)) ;;
	M | m) n=$((n << 20)) ;;
	G | g) n=$((n << 30)) ;;
	esac
	echo "$n"
}

check_size() {
	local bytes=$1 min=$(($(min_mib) * mib))
	((bytes % mib == 0)) || bad_input "NOS_DISK_SIZE=$NOS_DISK_SIZE is not a whole number of MiB"
	((bytes >= min)) || bad_input "NOS_DISK_SIZE=$NOS_DISK_SIZE is too small: the disk needs at" \
		"least $((min / mib)) MiB (1 for the MBR and GRUB, $boot_mib for partition 1, $data_min_mib for the data)"
	((bytes <= max_bytes)) || bad_input "NOS_DISK_SIZE=$NOS_DISK_SIZE is too big: an MBR describes at most 2 TiB"
}

check_key() {
	[[ $1 =~ ^[0-9A-Fa-f]{64}$ ]] ||
		bad_input "NOS_UDPSH_KEY must be 64 hex digits (32 bytes); it has ${#1} characters"
}

# NOS_DISK_FILES: a readable directory of files and directories only.
check_files_dir() {
	local dir=$1 odd
	[ -d "$dir" ] || bad_input "NOS_DISK_FILES=$dir is not a directory"
	odd=$(find "$dir" -mindepth 1 ! -type f ! -type d -print -quit)
	[ -z "$odd" ] || bad_input "NOS_DISK_FILES: only files and directories can go on the disk, not $odd"
	odd=$(find "$dir" ! -readable -print -quit)
	[ -z "$odd" ] || bad_input "NOS_DISK_FILES: cannot read $odd"
}

check_tools() {
	local t
	for t in sfdisk mformat mcopy grub-mkimage qemu-img tar gzip truncate; do
		command -v "$t" >/dev/null 2>&1 || die "$t is missing (scripts/install-deps.sh installs it)"
	done
	[ -r "$grub_dir/boot.img" ] || die "$grub_dir/boot.img is missing (package grub-pc-bin)"
}

# Partition 1 from sector 2048, partition 2 from its end to the disk's end.
write_table() {
	local img=$1 p2=$((gap_sectors + boot_mib * 2048))
	printf 'label: dos\nunit: sectors\n\nstart=%d, size=%d, type=e, bootable\nstart=%d, type=da\n' \
		"$gap_sectors" "$((boot_mib * 2048))" "$p2" |
		sfdisk --quiet --no-reread --no-tell-kernel "$img" >/dev/null
}

# A FAT volume at partition 1's offset, filled from the staging tree @2.
fill_boot_partition() {
	local img=$1 stage=$2 at="$1@@$((gap_sectors * 512))"
	mformat -i "$at" -T "$((boot_mib * 2048))" -h 64 -s 32 -H "$gap_sectors" -v NOSBOOT :: ||
		die "mformat failed on partition 1"
	mcopy -s -Q -i "$at" "$stage/boot" ::/ ||
		die "could not fill partition 1 ($boot_mib MiB) with GRUB and the kernel (is it too small?)"
}

# Unsigned little-endian integer of @3 bytes at offset @2 of file @1.
read_le() {
	od -An -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' \n'
}

# grub-mkimage's core image with its first blocklist checked (see above).
make_core() {
	local core=$1 sectors
	grub-mkimage -O i386-pc -d "$grub_dir" -p '(,msdos1)/boot/grub' -o "$core" "${grub_modules[@]}" ||
		die "grub-mkimage failed"
	sectors=$((($(stat -c %s "$core") + 511) / 512))
	# diskboot.img loads below 0x78000 from 0x8200 (GRUB's setup.c limit),
	# and the image must end before partition 1.
	((sectors <= (0x78000 - 0x8200) / 512 && sectors < gap_sectors)) ||
		die "GRUB's core image has $sectors sectors: too big for the gap after the MBR"
	# start (8 bytes), length (2), segment (2); the entry before: the end
	local list
	list="$(read_le "$core" 500 8) $(read_le "$core" 508 2) $(read_le "$core" 510 2) $(read_le "$core" 496 2)"
	[ "$list" = "2 $((sectors - 1)) $((0x820)) 0" ] ||
		die "GRUB's core image does not load sectors 2-$sectors at 0x820 (start, length," \
			"segment, next length: $list; unknown GRUB version?)"
}

# Bytes given as \xHH escapes in @3, at offset @2 of file @1.
poke() {
	# shellcheck disable=SC2059 # the format is the escapes themselves
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# boot.img's code into the MBR and the core image after it, as
# grub-bios-setup leaves them.
install_grub() {
	local img=$1 core=$2
	dd if="$grub_dir/boot.img" of="$img" bs=440 count=1 conv=notrunc status=none
	poke "$img" $((0x5c)) '\x01\x00\x00\x00\x00\x00\x00\x00' # kernel sector: 1
	poke "$img" $((0x64)) '\xff'                             # the BIOS's boot drive
	poke "$img" $((0x66)) '\x90\x90'                         # no floppy check
	dd if="$core" of="$img" bs=512 seek=1 conv=notrunc status=none
}

# Partition 2: nanofs, then NOS_DISK_FILES's tree (parents come first).
make_data() {
	local img=$1 src=$2 path rel
	"$nanofs" mkfs "$img@2" --label "$label" >/dev/null || die "bin/nanofs mkfs failed"
	if [ -n "$src" ]; then
		while IFS= read -r -d '' path; do
			rel=${path#"$src"}
			if [ -d "$path" ]; then
				"$nanofs" mkdir "$img@2" "$rel" || die "bin/nanofs mkdir $rel failed"
			else
				"$nanofs" put "$img@2" "$path" "$rel" ||
					die "bin/nanofs put $rel failed (is the disk too small?)"
			fi
		done < <(find "$src" -mindepth 1 -print0)
	fi
	"$nanofs" fsck "$img@2" >/dev/null || die "bin/nanofs fsck of partition 2 found problems"
}

# nos-gce.tar.gz: disk.raw, whole GiB, sparse, in a GNU tar.
make_gce() {
	local img=$1 bytes=$2 gce_bytes=$((($2 + gib - 1) / gib * gib))
	mkdir gce
	cp --sparse=always "$img" gce/disk.raw
	if ((gce_bytes != bytes)); then
		truncate -s "$gce_bytes" gce/disk.raw
		echo "$prog: disk.raw is $((gce_bytes / gib)) GiB: Compute Engine takes whole GiB," \
			"so NOS_DISK_SIZE=$NOS_DISK_SIZE is rounded up (the space after partition 2 stays unused)"
	fi
	tar --format=oldgnu --sparse --owner=0 --group=0 --numeric-owner -czf nos-gce.tar.gz -C gce disk.raw
	rm -rf gce
}

human() {
	numfmt --to=iec-i --suffix=B "$1"
}

summary() {
	local f shown=$1
	echo "$prog: made in $outdir:"
	for f in nos.img nos.qcow2 nos-gce.tar.gz; do
		printf '  %-15s %9s, %s on disk\n' "$f" "$(human "$(stat -c %s "$outdir/$f")")" \
			"$(human $(($(stat -c %b "$outdir/$f") * 512)))"
	done
	echo "  kernel command line: $shown"
}

main() {
	case $#:${1:-} in
	1:-h | 1:--help) usage; exit 0 ;;
	0:) ;;
	*) usage >&2; exit 2 ;;
	esac

	kernel=$here/bin/kernel64.elf nanofs=$here/bin/nanofs
	local template=$here/build/grub-disk.cfg
	[ -r "$kernel" ] || die "$kernel is missing: run make first"
	[ -x "$nanofs" ] || die "$nanofs is missing: run make first"
	[ -r "$template" ] || die "$template is missing"
	check_tools

	NOS_DISK_SIZE=${NOS_DISK_SIZE:-1G}
	local bytes cmdline shown cfg key=${NOS_UDPSH_KEY:-} files=${NOS_DISK_FILES:-}
	bytes=$(parse_size "$NOS_DISK_SIZE")
	check_size "$bytes"
	cmdline=${NOS_DISK_CMDLINE:-$default_cmdline} shown=$cmdline
	if [ -n "$key" ]; then
		check_key "$key"
		cmdline+=" udpshell.key=$key" shown+=" udpshell.key=(hidden)"
	fi
	# shellcheck source=scripts/grub-cmdline.sh
	. "$here/scripts/grub-cmdline.sh"
	grub_cmdline_check "$prog" "$cmdline" || exit 2
	cfg=$(grub_cfg_render "$prog" "$template" "$cmdline") || exit
	if [ -n "$files" ]; then
		check_files_dir "$files"
		files=$(cd "$files" && pwd)
	fi
	outdir=${NOS_DISK_OUT:-$here}
	[ ! -e "$outdir" ] || [ -d "$outdir" ] || bad_input "NOS_DISK_OUT=$outdir is not a directory"
	mkdir -p "$outdir" || die "cannot make $outdir"
	outdir=$(cd "$outdir" && pwd)
	[ -w "$outdir" ] || die "cannot write to $outdir"

	work=$(mktemp -d "$outdir/.build-disk.XXXXXX") || die "cannot write to $outdir"
	trap 'rm -rf "$work"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	cd "$work" # relative names: an '@' in a directory name cannot confuse IMAGE@PART
	mkdir -p stage/boot/grub/i386-pc
	printf '%s\n' "$cfg" >stage/boot/grub/grub.cfg
	cp "$kernel" stage/boot/kernel64.elf
	cp "$grub_dir"/*.mod "$grub_dir"/*.lst "$grub_dir/boot.img" stage/boot/grub/i386-pc/
	make_core stage/boot/grub/i386-pc/core.img

	truncate -s "$bytes" nos.img
	write_table nos.img || die "sfdisk failed"
	fill_boot_partition nos.img stage
	install_grub nos.img stage/boot/grub/i386-pc/core.img
	make_data nos.img "$files"
	qemu-img convert -f raw -O qcow2 nos.img nos.qcow2 || die "qemu-img convert failed"
	make_gce nos.img "$bytes"

	chmod 644 nos.img nos.qcow2 nos-gce.tar.gz
	mv -f nos.img nos.qcow2 nos-gce.tar.gz "$outdir/"
	summary "$shown"
}

main "$@"
