#!/usr/bin/env bash
# linux-ref.sh — build the Linux reference guest that `bench.py --only
# linuxref` measures against nos: Debian's stock kernel and an initramfs of
# busybox-static plus the virtio-net modules, in out/linuxref/.
#
#   scripts/linux-ref.sh        build out/linuxref/{vmlinuz,initrd.gz,version}
#                               unless vmlinuz and initrd.gz are already there
#
# The packages come from `apt-get download` (any user; needs the Debian
# archive reachable).  The kernel is the one linux-image-amd64 depends on
# (bookworm: 6.1), so a rebuild after `rm -rf out/linuxref` may pick a newer
# point release; out/linuxref/version says which one was used.  No root is
# needed: the archive is written by `cpio -o -H newc -R 0:0` from a plain
# directory (the host's cpio, else the downloaded busybox's own).  Device
# nodes are not needed in it: the kernel's built-in initramfs supplies
# /dev/console and /init mounts devtmpfs.
#
# The guest's /init takes from the kernel command line
#   nosref.url=URL   what to fetch (with busybox wget, body to /dev/null)
#   nosref.n=N       how many times (default 5)
# gets an address from slirp's DHCP, prints one line per download
#   linuxref: <bytes> bytes in <centiseconds> cs
# (or `linuxref: wget failed`), then `linuxref: done` and powers off.
#
# On failure it prints one line saying why and exits 1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/out/linuxref
MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net"

fail() {
	echo "linux-ref: $*" >&2
	exit 1
}

if [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.gz" ]; then
	exit 0
fi
for tool in apt-get apt-cache dpkg-deb xz gzip find; do
	command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (a Debian/Ubuntu host is needed)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The exact package, e.g. linux-image-6.1.0-57-amd64; the metapackage has
# no files of its own.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
[ -n "$kpkg" ] || fail "apt-cache knows no linux-image-amd64 (apt-get update, or add the Debian archive)"
(cd "$tmp" && apt-get download -q "$kpkg" busybox-static >"$tmp/apt.log" 2>&1) ||
	fail "apt-get download $kpkg busybox-static failed: $(grep -m1 -E '^(E|Err):' "$tmp/apt.log" || tail -n 1 "$tmp/apt.log")"
for deb in "$tmp"/*.deb; do
	dpkg-deb -x "$deb" "$tmp/pkg" || fail "dpkg-deb -x $(basename "$deb") failed"
done
kver=${kpkg#linux-image-}
[ -f "$tmp/pkg/boot/vmlinuz-$kver" ] || fail "$kpkg has no boot/vmlinuz-$kver"
busybox=$tmp/pkg/bin/busybox
[ -x "$busybox" ] || fail "busybox-static has no bin/busybox"

if command -v cpio >/dev/null 2>&1; then
	cpio=(cpio)
elif "$busybox" cpio --help 2>&1 | grep -q -- '-o'; then
	cpio=("$busybox" cpio) # static x86-64: runs on the host too
else
	fail "cpio is missing (apt-get install cpio)"
fi

root=$tmp/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,mod,usr/share/udhcpc}
cp "$busybox" "$root/bin/busybox"
for applet in sh mount insmod ip udhcpc wget cut sed grep tr cat echo poweroff; do
	ln -s busybox "$root/bin/$applet"
done
for m in $MODULES; do
	ko=$(find "$tmp/pkg/lib/modules/$kver" -name "$m.ko*" | head -n 1)
	[ -n "$ko" ] || fail "$kpkg has no module $m"
	case "$ko" in
	*.xz) xz -dc "$ko" >"$root/mod/$m.ko" ;;
	*) cp "$ko" "$root/mod/$m.ko" ;;
	esac
done

cat >"$root/usr/share/udhcpc/default.script" <<'EOF'
#!/bin/sh
# udhcpc's hook: configure the lease slirp hands out.
case "$1" in
bound|renew)
	ip addr flush dev "$interface"
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface"
	echo "linuxref: dhcp $ip/$mask router $router"
	;;
esac
exit 0
EOF

cat >"$root/init" <<EOF
#!/bin/sh
# The Linux reference guest (scripts/linux-ref.sh): fetch nosref.url
# nosref.n times with busybox wget, one result line each, then power off.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $MODULES; do
	insmod /mod/\$m.ko || echo "linuxref: insmod \$m failed"
done
url= n=5
for word in \$(cat /proc/cmdline); do
	case "\$word" in
	nosref.url=*) url=\${word#nosref.url=} ;;
	nosref.n=*) n=\${word#nosref.n=} ;;
	esac
done
ip link set lo up
ip link set eth0 up
udhcpc -i eth0 -q -n -t 5 -s /usr/share/udhcpc/default.script >/dev/null 2>&1 ||
	echo "linuxref: no DHCP lease"
i=0
while [ "\$i" -lt "\$n" ]; do
	i=\$((i + 1))
	t0=\$(cut -d' ' -f1 /proc/uptime | tr -d .)
	# -S prints the response headers (to stderr): Content-Length is the
	# size; the body goes to /dev/null as in the investigation of issue 14.
	wget -S -q -O /dev/null "\$url" 2>/tmp/headers
	rc=\$?
	t1=\$(cut -d' ' -f1 /proc/uptime | tr -d .)
	bytes=\$(sed -n 's/^ *[Cc]ontent-[Ll]ength: *\([0-9]*\).*/\1/p' /tmp/headers)
	if [ "\$rc" -eq 0 ] && [ -n "\$bytes" ]; then
		echo "linuxref: \$bytes bytes in \$((t1 - t0)) cs"
	else
		echo "linuxref: wget failed"
	fi
done
echo "linuxref: done"
poweroff -f
EOF
chmod 755 "$root/init" "$root/usr/share/udhcpc/default.script"

mkdir -p "$out"
(cd "$root" && find . | LC_ALL=C sort | "${cpio[@]}" -o -H newc -R 0:0 2>/dev/null) |
	gzip -9 >"$tmp/initrd.gz" || fail "cpio -o -H newc failed"
echo "$kpkg $(dpkg-deb -f "$tmp"/linux-image-*.deb Version)" >"$out/version"
cp "$tmp/pkg/boot/vmlinuz-$kver" "$out/vmlinuz.part"
mv "$out/vmlinuz.part" "$out/vmlinuz"
mv "$tmp/initrd.gz" "$out/initrd.gz"
echo "linux-ref: built $out ($kpkg)"
