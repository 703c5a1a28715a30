#!/bin/sh
# Runs every fuzz target one after the other at nice 19 and keeps each one's libFuzzer log in
# fuzz/logs/<target>.log. Usage: fuzz/run-all.sh SECONDS [TARGET...] (from the repository root,
# after `cargo +nightly fuzz build -O --debug-assertions` in fuzz/ and `fuzz/seed.py`).
set -u
secs=$1
shift
targets=${*:-"pipeline tcp capture annotate http ws_frames deflate engineio socketio har log units"}
bin=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p fuzz/logs fuzz/artifacts
for t in $targets; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    nice -n 19 "$bin/$t" "fuzz/corpus/$t" -max_total_time="$secs" -runs=10000000 -timeout=10 \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$t/" >"fuzz/logs/$t.log" 2>&1
    echo "$t exit $?" >>fuzz/logs/summary
done
