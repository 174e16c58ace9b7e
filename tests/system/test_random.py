"""
test_random.py — `random [len]`: bytes from the entropy registry (RDSEED /
RDRAND here), in hex, different on every call; bad lengths are refused.
"""

import re


def hex_bytes(out):
    text = "".join(out.split())
    assert re.fullmatch(r"[0-9a-f]*", text), out
    return bytes.fromhex(text)


def test_random_gives_the_bytes_asked_for_and_they_differ(shared_vm):
    a = hex_bytes(shared_vm.run("random 32"))
    b = hex_bytes(shared_vm.run("random 32"))
    assert len(a) == 32 and len(b) == 32
    assert a != b
    assert len(hex_bytes(shared_vm.run("random"))) == 32
    assert len(hex_bytes(shared_vm.run("random 1"))) == 1
    big = hex_bytes(shared_vm.run("random 4096"))
    assert len(big) == 4096
    assert len(set(big)) > 200, "4 KiB of random bytes use most byte values"


def test_random_refuses_bad_lengths(shared_vm):
    for arg in ("0", "4097", "-1", "x", "0x"):
        out = shared_vm.run(f"random {arg}")
        assert out.splitlines() == [f"random: length must be 1-4096, not '{arg}'",
                                    "usage: random [len]"], out
    assert len(hex_bytes(shared_vm.run("random 8"))) == 8
