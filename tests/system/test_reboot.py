"""
test_reboot.py — `reboot` resets the machine and nos comes back.

QEMU runs without -no-reboot, so a reset must bring the same QEMU process
through the firmware, GRUB and a fresh kernel: the harness sees "rebooting",
then the boot banner and a prompt again, and the new kernel works and
remembers nothing of the old one.
"""


def test_reboot_comes_back_to_a_working_shell(boot_vm, nos_build):
    vm = boot_vm()
    pid = vm.proc.pid
    vm.send("reboot\r")
    vm.wait_for(r"reboot\r\n")
    vm.wait_for(r"rebooting")
    vm.wait_boot()
    assert vm.boots == 2
    assert vm.alive and vm.proc.pid == pid
    assert vm.version == nos_build.version
    assert vm.run("version").startswith(f"nos {nos_build.version}")
    banners = [l for l in vm.run_lines("dmesg starting")
               if f"nos {nos_build.version} starting" in l]
    assert len(banners) == 1, f"dmesg survived the reset: {banners}"


def test_reboot_twice(boot_vm, nos_build):
    vm = boot_vm(smp=1)
    for n in (2, 3):
        vm.send("reboot\r")
        vm.wait_for(r"rebooting")
        vm.wait_boot()
        assert vm.boots == n
    assert vm.run("version").startswith(f"nos {nos_build.version}")
