#!/usr/bin/env bash
# install-deps.sh — install every Debian/Ubuntu package that building,
# running and testing nos needs.
#
#   scripts/install-deps.sh                     install (or upgrade) them all
#   scripts/install-deps.sh --check-or-install  do nothing when every tool is
#                                               already there (make run/test)
#
# Runs apt-get as root, or through sudo; says what to do when it can do
# neither.
set -euo pipefail

PACKAGES=(
	make clang binutils nasm          # build
	grub-pc-bin grub-common xorriso mtools  # the ISO
	qemu-system-x86 qemu-utils        # run
	python3 python3-pytest            # system tests and benchmarks
	fdisk                             # sfdisk: partition tables (disk image, disk tests)
	tar gzip util-linux               # the disk image's GCE tarball; runuser in its tests
	gdb                               # make debug / scripts/gdb.sh
	iproute2 dnsmasq-base iputils-ping nftables  # network rig (tests/system/net_rig.py)
	curl                              # a real HTTP client for httpd (tests/system/test_httpd.py)
)

have_everything() {
	local tool
	for tool in make clang ld nm nasm grub-mkrescue xorriso mformat \
		grub-mkimage mcopy tar gzip qemu-system-x86_64 qemu-img gdb curl; do
		command -v "$tool" >/dev/null 2>&1 || return 1
	done
	[ -f /usr/lib/grub/i386-pc/boot.img ] || return 1
	# sfdisk and runuser live in /usr/sbin, which a normal user's PATH may
	# lack; so do the network rig's ip, dnsmasq and nft.
	for tool in sfdisk runuser ip dnsmasq nft; do
		command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || return 1
	done
	command -v ping >/dev/null 2>&1 || return 1
	/usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 || return 1
}

if [ "${1:-}" = "--check-or-install" ] && have_everything; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null 2>&1; then
	as_root=(sudo)
else
	echo "install-deps: need root to install packages, and sudo is not available." >&2
	echo "Run as root:  apt-get install ${PACKAGES[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${PACKAGES[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
have_everything || { echo "install-deps: packages installed but a tool is still missing" >&2; exit 1; }
echo "install-deps: done"
