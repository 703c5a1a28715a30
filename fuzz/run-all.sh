#!/usr/bin/env bash
# Runs every fuzz target one after the other and keeps each one's libFuzzer log in
# fuzz/logs/<target>.log, and one line per target in fuzz/logs/summary: its exit status and the
# wall, user and system seconds it took (user + system is the CPU it really got: on a shared machine
# 30 minutes of wall time can be far less fuzzing).
# Usage: fuzz/run-all.sh SECONDS [TARGET...]   (from the repository root, after
# `cargo +nightly fuzz build -O --debug-assertions` in fuzz/ and `fuzz/seed.py`).
# Each target stops at SECONDS or 10 million runs, whichever comes first. FUZZ_NICE (default 19)
# is the niceness the fuzzers run at.
set -u
secs=$1
shift
targets=${*:-"pipeline tcp capture annotate http ws_frames deflate engineio socketio har log units"}
bin=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p fuzz/logs fuzz/artifacts
TIMEFORMAT="%R %U %S"
for t in $targets; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    { time nice -n "${FUZZ_NICE:-19}" "$bin/$t" "fuzz/corpus/$t" -max_total_time="$secs" \
        -runs=10000000 -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$t/" >"fuzz/logs/$t.log" 2>&1
      echo "$?" >"fuzz/logs/$t.exit"; } 2>"fuzz/logs/$t.time"
    echo "$t exit $(cat "fuzz/logs/$t.exit") wall/user/sys $(cat "fuzz/logs/$t.time")" >>fuzz/logs/summary
done
