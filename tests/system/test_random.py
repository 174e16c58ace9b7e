"""
test_random.py — `random [len]`: bytes from the kernel's ChaCha20 CSPRNG,
in hex, 32 bytes a line, different on every call; bad lengths are refused.
`entropy` lists the raw sources and the CSPRNG's seeding, and reads raw
bytes from the sources (here RDSEED/RDRAND) with the same hex format.
"""

import re


def hex_bytes(out):
    lines = out.split("\n")
    assert all(re.fullmatch(r"(?:[0-9a-f]{2}){1,32}", l) for l in lines), out
    assert all(len(l) == 64 for l in lines[:-1]), f"32 bytes a line: {out}"
    return bytes.fromhex("".join(lines))


def test_random_gives_the_bytes_asked_for_and_they_differ(shared_vm):
    a = hex_bytes(shared_vm.run("random 32"))
    b = hex_bytes(shared_vm.run("random 32"))
    assert len(a) == 32 and len(b) == 32
    assert a != b
    assert len(hex_bytes(shared_vm.run("random"))) == 32
    assert len(hex_bytes(shared_vm.run("random 1"))) == 1
    assert len(hex_bytes(shared_vm.run("random 33"))) == 33
    big = hex_bytes(shared_vm.run("random 4096"))
    assert len(big) == 4096
    assert len(set(big)) > 200, "4 KiB of random bytes use most byte values"


def test_random_never_repeats_across_calls(shared_vm):
    seen = [hex_bytes(shared_vm.run("random 8")) for _ in range(12)]
    assert len(set(seen)) == len(seen), seen


def test_random_refuses_bad_lengths(shared_vm):
    for arg in ("0", "4097", "-1", "x", "0x", "18446744073709551617"):
        out = shared_vm.run(f"random {arg}")
        assert out.splitlines() == [f"random: length must be 1-4096, not '{arg}'",
                                    "usage: random [len]"], out
    assert len(hex_bytes(shared_vm.run("random 8"))) == 8


def test_entropy_lists_sources_and_the_csprng(shared_vm):
    out = shared_vm.run("entropy")
    m = re.search(r"^(\d+) sources$", out, re.M)
    assert m, out
    rows = re.findall(r"^\S.*? +quality +\d+, \d+ bytes delivered$", out, re.M)
    assert len(rows) == int(m.group(1)), out
    assert re.search(r"^csprng: ChaCha20, last seeded \d+ s ago from \d+ bytes of \d+ "
                     r"sources, \d+ reseeds since boot$", out, re.M), out


def test_entropy_reads_raw_bytes_from_the_sources(shared_vm):
    if re.search(r"^0 sources$", shared_vm.run("entropy"), re.M):
        out = shared_vm.run("entropy 16")
        assert "no source could provide more than 0 of 16 bytes" in out, out
        return
    a = hex_bytes(shared_vm.run("entropy 40"))
    b = hex_bytes(shared_vm.run("entropy 40"))
    assert len(a) == 40 and len(b) == 40 and a != b


def test_entropy_refuses_bad_arguments(shared_vm):
    for arg in ("0", "4097", "x", "-3"):
        out = shared_vm.run(f"entropy {arg}")
        assert out.splitlines() == [f"entropy: length must be 1-4096, not '{arg}'",
                                    "usage: entropy [len [source]]"], out
    out = shared_vm.run("entropy 8 no-such-source")
    assert out.splitlines()[0] == ("entropy: no source named 'no-such-source' "
                                   "(`entropy` lists them)"), out
    out = shared_vm.run("entropy 8 ''")
    assert out.splitlines()[0] == "entropy: no source named '' (`entropy` lists them)", out
    out = shared_vm.run("entropy 1 2 3")
    assert "wrong number of arguments" in out, out
