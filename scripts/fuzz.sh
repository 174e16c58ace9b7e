#!/usr/bin/env bash
# fuzz.sh TARGET SECONDS — run the libFuzzer target out/fuzz/TARGET over its
# seeds for SECONDS (make fuzz, make fuzz-smoke; docs/testing.md).
#
# Corpus directories, in libFuzzer's order: out/fuzz/corpus/TARGET first
# (scratch: the new inputs it finds are written there and kept for the next
# run), then the checked-in seeds tests/fuzz/corpus/TARGET (read only: the
# source tree is never written).  A crash, leak, timeout or failed check
# leaves its input in out/fuzz/artifacts/TARGET/ and fails the run; the
# whole log is out/fuzz/TARGET.log.  tests/fuzz/TARGET.dict is used when
# it exists.
set -u
t=$1 secs=$2
bin=out/fuzz/$t seeds=tests/fuzz/corpus/$t
scratch=out/fuzz/corpus/$t arts=out/fuzz/artifacts/$t log=out/fuzz/$t.log
dict=tests/fuzz/$t.dict

[ -x "$bin" ] || { echo "fuzz: $bin not built" >&2; exit 1; }
[ -d "$seeds" ] || { echo "fuzz: no seeds in $seeds" >&2; exit 1; }
mkdir -p "$scratch" "$arts"
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$arts/")
[ -f "$dict" ] && args+=(-dict="$dict")

echo "  FUZZ    $t (${secs}s)"
if ! "$bin" "${args[@]}" "$scratch" "$seeds" >"$log" 2>&1; then
	tail -n 60 "$log" >&2
	echo "fuzz: $t failed; the input is in $arts/, the log in $log" >&2
	exit 1
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
echo "  FUZZ    $t: ${execs:-?} executions, ${cov:-cov: ?}, corpus $(ls "$scratch" | wc -l) new inputs"
