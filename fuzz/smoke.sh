#!/usr/bin/env bash
# Fuzz smoke test: build every cargo-fuzz target with the address sanitizer and run each for a
# short time (FUZZ_SECONDS, default 30) from the committed corpus. Exits non-zero on a crash.
# Without a nightly toolchain it prints a note and exits 0: the committed corpus is still
# replayed on stable by `cargo test --test fuzz_corpus`.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
seconds="${FUZZ_SECONDS:-30}"
targets=(parse_request validate json_body model_vs_server)

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz-smoke: SKIPPED - no nightly toolchain (rustup toolchain install nightly);"
    echo "fuzz-smoke: the committed corpus is replayed on stable by tests/fuzz_corpus.rs"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz-smoke: installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

echo "fuzz-smoke: building ${#targets[@]} targets (address sanitizer)"
cargo +nightly fuzz build

# The crate forbids unsafe code, so stack-use-after-return checks buy little and cost ~10%.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=0}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
passed=0
for target in "${targets[@]}"; do
    # New inputs go to a scratch corpus; the committed one is read only.
    mkdir -p "$work/$target"
    log="$work/$target.log"
    echo "fuzz-smoke: $target for ${seconds}s"
    if cargo +nightly fuzz run "$target" "$work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" \
        -dict="dict/$target.dict" \
        -rss_limit_mb=2048 \
        -malloc_limit_mb=512 \
        -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1; then
        execs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
        rate="$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')"
        echo "fuzz-smoke: $target ok: ${execs:-?} runs, ${rate:-?} exec/s"
        passed=$((passed + 1))
    else
        echo "fuzz-smoke: $target FAILED; last lines of its log:"
        tail -n 60 "$log"
        echo "fuzz-smoke: crash inputs are in $here/artifacts/$target/"
        failed=$((failed + 1))
    fi
done
echo "fuzz-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
