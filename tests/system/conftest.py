"""
conftest.py — pytest fixtures for the nos system tests.

Fixtures
  nos_build   (session) runs `make all` once (NOS_NO_BUILD=1 skips it),
              copies kernel64.elf and nos.iso aside for the session, and
              knows the tree: repo path, NOS_VERSION, kernel ELF, ISO.
  iso_cache   (session) ISOs per kernel command line (scripts/mkiso.sh),
              built into a session temp dir the first time they are asked for.
  shared_vm   (function) a VM booted once per session with the default ISO
              and shared by every test that only runs well-behaved commands.
              If a test leaves it unfit (panic, dead QEMU, no prompt), the
              next test that asks gets a freshly booted one.
  module_vm   (function) the same, but one VM per test module: for tests
              that change the kernel's state (e.g. run the boot tests) and
              should not do it to the session's shared VM.
  boot_vm     (function) factory for fresh VMs: boot_vm(cmdline="", smp=2,
              wait=True, **NosVM options such as extra_args=["-machine",
              "q35"] or qmp=True) -> NosVM.  Every VM it made is closed at
              teardown.  Use it for anything that panics, reboots or needs
              parameters.
  module_boot_vm (function) like boot_vm, but the VM is booted once per test
              module for each configuration (cmdline, smp, mem, extra_args,
              qmp) and shared by the module's tests that ask for the same
              one: module_boot_vm(smp=4) -> NosVM, already at a prompt.  For
              tests that need a particular machine but leave it as it was.
              A VM left unfit is replaced like shared_vm's.

Environment
  NOS_ACCEL=kvm         KVM instead of TCG
  NOS_SMP, NOS_MEM      CPUs and memory of the shared VM and the default for
                        boot_vm (2 and 512M)
  NOS_TIMEOUT_SCALE     multiply every timeout
  NOS_NO_BUILD=1        do not run make (use the tree as it is)
  NOS_STRESS_BOOTS=N    run the stress loop of test_stress.py with N boots
                        (NOS_STRESS=N: N per CPU count; NOS_STRESS_JOBS=2)
  NOS_REQUIRE_ROOT_TESTS=1  a test skipped with a reason that starts "needs
                        root" fails instead (.ci/run sets it: CI runs as root,
                        so such a skip there means something is broken)

Network rig
  net_rig     (function) factory for private networks in a namespace:
              net_rig(segments=1, ...) -> net_rig.NetRig, closed at teardown
              (see tests/system/net_rig.py); list it before boot_vm.

Failures
  When a test fails, every VM it used keeps its serial log, and the report
  gets a "nos serial logs" section with each log's path and its last lines.
  Kept logs older than a day are deleted when a session starts.
"""

import os
import shutil
import time
from pathlib import Path

import pytest

import nos_harness as nh
from net_rig import net_rig  # noqa: F401  (the fixture, for every test file)


class Build:
    """What the tests need to know about the built tree.

    The kernel and the ISO are copied into @snapdir, so that a rebuild in
    the tree during the session cannot mix two kernels in one test (the
    ELF read for symbols must be the one that runs).
    """

    def __init__(self, repo, snapdir):
        self.repo = Path(repo)
        self.version = nh.read_version(repo)
        self.kernel = Path(snapdir) / "kernel64.elf"
        self.iso = Path(snapdir) / "nos.iso"
        shutil.copyfile(self.repo / "bin" / "kernel64.elf", self.kernel)
        shutil.copyfile(self.repo / "nos.iso", self.iso)


def _drop_old_logs(days=1):
    """Logs of failures are kept; those older than @days go at session start."""
    cutoff = time.time() - days * 86400
    for log in nh.DEFAULT_LOG_DIR.glob("*.log"):
        if log.stat().st_mtime < cutoff:
            log.unlink()


@pytest.fixture(scope="session")
def nos_build(tmp_path_factory):
    _drop_old_logs()
    if os.environ.get("NOS_NO_BUILD") != "1":
        try:
            nh.build(nh.REPO)
        except nh.NosError as e:
            pytest.exit(str(e), returncode=2)
    repo = nh.REPO
    if not (repo / "nos.iso").exists() or not (repo / "bin/kernel64.elf").exists():
        pytest.exit("nos.iso / bin/kernel64.elf missing (run make)", returncode=2)
    return Build(repo, tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def iso_cache(nos_build, tmp_path_factory):
    return nh.IsoCache(tmp_path_factory.mktemp("isos"), nos_build.kernel,
                       nos_build.iso, nos_build.repo)


def _track(request, vm):
    """Remember that the running test used @vm (for logs on failure)."""
    if not hasattr(request.node, "_nos_vms"):
        request.node._nos_vms = []
    request.node._nos_vms.append(vm)


class _VMHolder:
    """A VM shared by several tests, rebooted when a test leaves it unfit.

    @vm_kw are passed to NosVM (smp, mem, extra_args, qmp, ...).
    """

    def __init__(self, iso, name, **vm_kw):
        self.iso = iso
        self.name = name
        self.vm_kw = vm_kw
        self.vm = None
        self.count = 0

    def get(self):
        if self.vm is not None and not self.vm.healthy:
            self.vm.keep_log = True  # whatever broke it is in this log
            self.vm.close()
            self.vm = None
        if self.vm is None:
            self.count += 1
            self.vm = nh.NosVM(self.iso, name=f"{self.name}-{self.count}",
                               **self.vm_kw)
            self.vm.start()
            self.vm.wait_boot()
        return self.vm

    def close(self):
        if self.vm is not None:
            self.vm.close()


@pytest.fixture(scope="session")
def _shared_holder(nos_build):
    holder = _VMHolder(nos_build.iso, "shared")
    yield holder
    holder.close()


@pytest.fixture(scope="module")
def _module_holder(request, nos_build):
    holder = _VMHolder(nos_build.iso, request.module.__name__)
    yield holder
    holder.close()


@pytest.fixture(scope="module")
def _module_holders(request):
    holders = {}
    yield holders
    for holder in holders.values():
        holder.close()


@pytest.fixture
def module_boot_vm(request, _module_holders, iso_cache):
    def get(cmdline="", smp=None, mem=None, extra_args=(), qmp=False):
        """The module's VM for this configuration, booted on first use."""
        key = (cmdline, smp, mem, tuple(extra_args), qmp)
        if key not in _module_holders:
            name = f"{request.module.__name__}-{len(_module_holders)}"
            _module_holders[key] = _VMHolder(
                iso_cache.get(cmdline), name, smp=smp, mem=mem,
                extra_args=extra_args, qmp=qmp)
        vm = _module_holders[key].get()
        _track(request, vm)
        return vm

    return get


@pytest.fixture
def shared_vm(request, _shared_holder):
    vm = _shared_holder.get()
    _track(request, vm)
    return vm


@pytest.fixture
def module_vm(request, _module_holder):
    vm = _module_holder.get()
    _track(request, vm)
    return vm


@pytest.fixture
def boot_vm(request, nos_build, iso_cache):
    made = []

    def boot(cmdline="", smp=None, mem=None, wait=True, **kw):
        """Start a VM with kernel command line @cmdline; wait for the prompt
        unless @wait is false."""
        name = f"{request.node.name}-{len(made)}"
        vm = nh.NosVM(iso_cache.get(cmdline), smp=smp, mem=mem, name=name,
                      **kw)
        made.append(vm)
        _track(request, vm)
        vm.start()
        if wait:
            vm.wait_boot()
        return vm

    yield boot
    for vm in made:
        vm.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    _root_skip_fails(rep)
    if not rep.failed:
        return
    rigs = getattr(item, "_nos_rigs", [])
    for rig in rigs:
        rig.keep_logs = True
    if rigs:
        rep.sections.append(("net rig", "\n".join(r.describe() for r in rigs)))
    vms = getattr(item, "_nos_vms", [])
    for vm in vms:
        vm.keep_log = True
    if vms:
        rep.sections.append(("nos serial logs", _describe_logs(vms)))


def _root_skip_fails(rep):
    """With NOS_REQUIRE_ROOT_TESTS=1, a "needs root" skip is a failure."""
    if not rep.skipped or os.environ.get("NOS_REQUIRE_ROOT_TESTS") != "1":
        return
    longrepr = rep.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith("needs root"):
        rep.outcome = "failed"
        rep.longrepr = (f"NOS_REQUIRE_ROOT_TESTS=1, but the test was skipped: "
                        f"{reason}")


def _describe_logs(vms):
    parts = []
    for vm in vms:
        tail = vm.transcript.replace("\r\n", "\n").split("\n")[-25:]
        parts.append(f"{vm.name}: {vm.log_path}\n  last lines:\n    "
                     + "\n    ".join(repr(t)[1:-1] for t in tail))
    return "\n".join(parts)


@pytest.fixture(scope="session")
def symbols(nos_build):
    """The kernel ELF's symbols (name -> address, size), for checking
    backtraces the kernel prints."""
    return nh.elf_symbols(nos_build.kernel)
