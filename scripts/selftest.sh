#!/usr/bin/env bash
# selftest.sh — the boot-test level: boot nos with the `selftest` kernel
# parameter, show its output, and pass when the kernel leaves QEMU through
# isa-debug-exit with the "pass" code (33 = (0x10 << 1) | 1).
#   NOS_ACCEL=kvm, NOS_SMP=N as for qemu.sh; SELFTEST_TIMEOUT seconds (300);
#   SELFTEST_ARGS more kernel parameters (e.g. "selftest.slack=50" on a
#   loaded machine: it stretches the tests' lateness bounds).
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/scripts/mkiso.sh" "$here/bin/kernel64.elf" "$tmp/selftest.iso" \
	"selftest ${SELFTEST_ARGS:-}" || exit 1
case "${NOS_ACCEL:-tcg}" in
kvm) accel=(-accel kvm -cpu host) ;;
*) accel=(-accel tcg -cpu max) ;;
esac
timeout "${SELFTEST_TIMEOUT:-300}" qemu-system-x86_64 "${accel[@]}" -smp "${NOS_SMP:-2}" \
	-m 512M -cdrom "$tmp/selftest.iso" -boot d -display none -nic none -monitor none \
	-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 </dev/null | tee "$tmp/log"
rc=${PIPESTATUS[0]}
case $rc in
33) echo "selftest: PASS" ;;
35) if grep -q "built without boot tests" "$tmp/log"; then
	echo "selftest: FAIL (this kernel was built without boot tests: make KTESTS=0)"
    else
	echo "selftest: FAIL (some boot tests failed)"
    fi
    exit 1 ;;
124) echo "selftest: FAIL (timed out after ${SELFTEST_TIMEOUT:-300} s)"; exit 1 ;;
*) echo "selftest: FAIL (QEMU exit status $rc; a panic or no debug exit?)"; exit 1 ;;
esac
grep -qE '^[0-9]+ passed, 0 failed' <(tr -d '\r' < "$tmp/log") \
	|| { echo "selftest: FAIL (no closing count line)"; exit 1; }
