"""
test_mkiso.py — scripts/mkiso.sh puts the kernel command line in the ISO as
it was given.

The kernel logs what the boot loader handed it ("boot: loader '...', command
line '...'"), so a command line full of characters that sed, the shell or
GRUB's script language would read as syntax must come back exactly.  GRUB's
multiboot2 loader itself writes \\ ' and " with a backslash in front, so
mkiso.sh refuses those with a clear error instead of letting them change.
"""

import re
import subprocess

import pytest

SPECIAL = ("console=serial|vga nos_test=a&b&&c x;y $HOME ${X} `id` <in >out "
           "{brace} #hash *glob? [set] ~tilde %pct @CMDLINE@ a|b")


def test_special_characters_reach_the_kernel_exactly(boot_vm):
    vm = boot_vm(SPECIAL)
    m = re.search(r"boot: loader '[^']*', command line '(.*)'\r\n", vm.boot_log)
    assert m, "no command line in the boot log"
    assert m.group(1) == SPECIAL
    # and the parameter parser saw the words, not a mangled line
    assert vm.run("version").startswith("nos ")
    assert "console" in vm.run("dmesg params:")


def test_blanks_between_words_become_one_space(boot_vm):
    vm = boot_vm("  nos_test_a=1 \t nos_test_b  ")
    m = re.search(r"command line '(.*)'\r\n", vm.boot_log)
    assert m and m.group(1) == "nos_test_a=1 nos_test_b"


@pytest.mark.parametrize("cmdline", ["a\\b", "it's", 'say "hi"'])
def test_characters_grub_would_escape_are_refused(nos_build, tmp_path, cmdline):
    out = tmp_path / "refused.iso"
    proc = subprocess.run(
        [str(nos_build.repo / "scripts" / "mkiso.sh"), str(nos_build.kernel),
         str(out), cmdline], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    assert proc.returncode == 2
    assert "may not contain" in proc.stderr and cmdline in proc.stderr
    assert not out.exists()
    assert not list(tmp_path.glob("refused.iso.*")), "a partial ISO was left"


def test_usage_error_without_arguments(nos_build):
    proc = subprocess.run([str(nos_build.repo / "scripts" / "mkiso.sh")],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: mkiso.sh")
