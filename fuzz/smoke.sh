#!/usr/bin/env bash
# Fuzz smoke test: build every cargo-fuzz target once with the address sanitizer, then run each
# built binary for a short time (FUZZ_SECONDS, default 30) from the committed corpus. Exits
# non-zero on a crash. Without a nightly toolchain it prints a note and exits 0: the committed
# corpus is still replayed on stable by `cargo test --test fuzz_corpus`.
#
# The binaries are run directly rather than through `cargo fuzz run`, which would check the
# build again before each target. The build happens in fuzz/, so that fuzz/.cargo/config.toml
# applies (coverage instrumentation of the code under test only; see fuzz/rustc-coverage.sh).
# CARGO_TARGET_DIR is honoured, so CI keeps one target directory for every step.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# A relative CARGO_TARGET_DIR means relative to where this script was started.
target_dir="$(realpath -m "${CARGO_TARGET_DIR:-$here/target}")"
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

echo "fuzz-smoke: building ${#targets[@]} targets (address sanitizer) in $target_dir"
started=$SECONDS
cargo +nightly fuzz build --target-dir "$target_dir"
echo "fuzz-smoke: build took $((SECONDS - started))s"
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
bin_dir="$target_dir/$triple/release"

# The crate forbids unsafe code, so stack-use-after-return checks buy little and cost ~10%.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_stack_use_after_return=0}"

# libFuzzer options of one target. model_vs_server: each input covers thousands of features,
# and while fewer than 255 runs have hit a feature, libFuzzer's entropic schedule counts it as
# rare and scans the whole list of rare features for it on every run: that scan took 60-65%
# of the target's time. Counting a feature as rare only until its 8th hit keeps the schedule
# (and every coverage signal) and ran 2-3x as many inputs in the same time, reaching as much
# coverage. The other targets lose speed with it, so it is theirs alone.
target_options() {
    case "$1" in
        model_vs_server) echo "-entropic_feature_frequency_threshold=8" ;;
    esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
passed=0
for target in "${targets[@]}"; do
    # New inputs go to a scratch corpus; the committed one is read only.
    mkdir -p "$work/$target" "$here/artifacts/$target"
    log="$work/$target.log"
    echo "fuzz-smoke: $target for ${seconds}s"
    if "$bin_dir/$target" "$work/$target" "corpus/$target" \
        -artifact_prefix="$here/artifacts/$target/" \
        -max_total_time="$seconds" \
        -dict="dict/$target.dict" \
        -rss_limit_mb=2048 \
        -malloc_limit_mb=512 \
        -timeout=10 \
        -print_final_stats=1 $(target_options "$target") >"$log" 2>&1; then
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
