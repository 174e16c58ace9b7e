"""
test_selftest.py — the `selftest [filter]` shell command.

It runs the in-kernel boot tests whose "suite.name" contains the filter
(all of them without one): a line "ok suite.name" or "FAIL suite.name" per
test, then "N passed, N failed".  The tests get a VM of their own: running
the boot tests exercises allocators, tasks and timers, which is not what
the session's shared VM is for.

`selftest.slack=N` multiplies the tests' lateness bounds (kernel/selftest.h);
a value that is not a number from 1 to 1000 is reported and the default used.
"""

import pytest

import nos_harness as nh

TIMEOUT = 300  # every boot test, under TCG


@pytest.fixture
def full_run(module_vm):
    """Results of a plain `selftest`, run once per VM."""
    if not hasattr(module_vm, "full_selftest"):
        out = module_vm.run("selftest", TIMEOUT)
        module_vm.full_selftest = nh.parse_selftest(out)
    return module_vm.full_selftest


def test_selftest_runs_every_test_and_all_pass(full_run):
    ok, fail, counts = full_run
    assert counts == [(len(ok), len(fail))], counts
    assert ok, "no boot test ran"
    assert not fail, f"failed boot tests: {fail}"
    names = ok + fail
    assert len(names) == len(set(names)), "a test ran twice"


def test_selftest_filter_selects_by_substring(module_vm, full_run):
    ok, fail, _ = full_run
    names = ok + fail
    suite = names[0].split(".")[0]
    for flt in (suite + ".", names[-1]):
        out = module_vm.run(f"selftest {flt}", TIMEOUT)
        f_ok, f_fail, f_counts = nh.parse_selftest(out)
        assert sorted(f_ok + f_fail) == sorted(n for n in names if flt in n)
        assert f_counts == [(len(f_ok), len(f_fail))]


def test_selftest_filter_without_matches(module_vm):
    out = module_vm.run("selftest no-such-test-xyzzy", TIMEOUT)
    assert out == "0 passed, 0 failed"


def test_bad_timing_slack_is_reported_and_the_default_used(boot_vm):
    vm = boot_vm("selftest.slack=0")
    out = vm.run("selftest timer.one_shots", TIMEOUT)
    assert nh.parse_selftest(out) == (["timer.one_shots_fire_in_order_never_early"], [],
                                      [(1, 0)])
    assert "selftest.slack='0' is not a number from 1 to 1000; using 10" \
        in vm.run("dmesg params:")
