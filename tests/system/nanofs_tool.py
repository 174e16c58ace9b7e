"""
nanofs_tool.py — driving the host tool bin/nanofs from the system tests.

`tool` is a module fixture: the tool's path, built first unless
NOS_NO_BUILD=1.  A missing tool fails the test (it is part of `make`),
it is never a reason to skip.
"""

import os
import subprocess

import pytest

import nos_harness as nh

TOOL = nh.REPO / "bin" / "nanofs"


@pytest.fixture(scope="module")
def tool():
    if os.environ.get("NOS_NO_BUILD") != "1":
        subprocess.run(["make", "-s", "bin/nanofs"], cwd=nh.REPO, check=True)
    assert TOOL.exists(), "bin/nanofs missing: `make` builds it"
    return str(TOOL)


def run(tool, *args, ok=True):
    """Run `bin/nanofs ARGS`; with @ok, fail unless it exits 0."""
    p = subprocess.run([tool, *map(str, args)], capture_output=True, timeout=120)
    if ok:
        assert p.returncode == 0, p.stderr.decode() + p.stdout.decode()
    return p


def fsck_clean(tool, image):
    """fsck must call @image clean (exit 0)."""
    p = run(tool, "fsck", image, ok=False)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()
    return p
