"""
test_locks.py — the spinlock checks of debug builds (kernel/spinlock.c).

`_lockbug KIND` commits one misuse on purpose; each must end in a panic
whose first line names the lock and what was wrong, instead of a silent
deadlock or corruption.
"""

import pytest

import nos_harness as nh

CASES = {
    "recursion": "spinlock 'lockbug': taken again by the CPU that holds it (recursion)",
    "unheld": "spinlock 'lockbug': released but not held",
    "irq": "spinlock 'lockbug': taken with interrupts on, but an interrupt handler shares it",
    "order": "spinlock 'lockbug-inner' (rank 20) taken while holding 'lockbug-outer' "
             "(rank 30): against the order in kernel/lock_order.h",
}


@pytest.mark.parametrize("kind", list(CASES))
def test_lock_misuse_panics_with_the_lock_named(boot_vm, kind):
    vm = boot_vm()
    vm.send(f"_lockbug {kind}\r")
    report = vm.expect_panic()
    assert CASES[kind] in report.lines[0], report.lines[0]
    assert "the check did not fire" not in vm.transcript
    vm.keep_log = False  # the panic was the point
