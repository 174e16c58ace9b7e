/*
 * fuzz.h — what the libFuzzer targets in tests/fuzz share (see runner.c).
 *
 * A target is one file, tests/fuzz/fuzz_<name>.c, linked with the runner,
 * the host shim and the same kernel sources as the unit tests (the
 * Makefile's fuzzing section).  It registers exactly one test,
 * KTEST(fuzz, <name>), whose body reads the input from fuzz_data and
 * fuzz_size.  The runner runs that test once per input inside the shim's
 * frame, as tests/unit/main.c runs a unit test, so everything the unit
 * tests are held to holds per input: a panic, a failed KT_EXPECT, memory,
 * a lock, a timer or a SoftIrq left behind fails the input, and a failed
 * input is a crash (abort()) for libFuzzer, with the test's report and log
 * on stderr.  ASan and UBSan findings are crashes of their own.
 *
 * The input is libFuzzer's buffer of exactly fuzz_size bytes: a read past
 * it is an ASan report.  Host only.
 */
#ifndef NOS_FUZZ_H
#define NOS_FUZZ_H

#include "types.h"

extern const u8 *fuzz_data;
extern size_t fuzz_size;

#endif
