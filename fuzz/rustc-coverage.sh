#!/usr/bin/env bash
# rustc wrapper of the fuzz build (set in fuzz/.cargo/config.toml): coverage feedback only from
# the code under test, and no comparison tracing.
#
# cargo fuzz instruments every crate for coverage (sanitizer-coverage level 4 with comparison
# tracing). For a crate from the registry or a git dependency this script appends level 0,
# which turns that instrumentation off; such crates are still built with the address sanitizer,
# so memory errors in them are still caught, and what each target checks is unchanged. Why:
# libFuzzer pays for every covered edge on every run, and the edges of tokio, axum, hyper,
# regex or rusqlite are not progress for these targets (model_vs_server spent over half its
# time in that bookkeeping). This repository's crates keep their coverage, and so does
# serde_json: it is the front end of the request parser that parse_request and json_body fuzz.
#
# Comparison tracing (-sanitizer-coverage-trace-compares) is dropped for every crate: it calls
# into libFuzzer at each comparison, also inside serde_json's per-byte loops, which cost the
# validate target most of its time on megabyte record values (4x fewer executions per second).
# Measured on the same inputs and for the same time, no target reached less coverage without
# it; the targets' inputs are structure-aware or come with dictionaries (fuzz/dict/), which
# give the fuzzer the words that comparison tracing would find. This is `cargo fuzz build
# --no-trace-compares`, made here so that every `cargo fuzz` command run from fuzz/ builds
# the same binaries and one build serves all targets.
#
# Cargo's per-package profile rustflags cannot do this: they come before cargo fuzz's flags,
# and LLVM takes the last value of an option. Cargo does not see what this script changes:
# after editing it, rebuild from an empty target directory.
set -euo pipefail
rustc="$1"
shift
crate=""
dependency=false
sancov=false
prev=""
args=()
for arg in "$@"; do
    [ "$prev" = "--crate-name" ] && crate="$arg"
    case "$arg" in
        */registry/src/*.rs | */git/checkouts/*.rs) dependency=true ;;
        -Cpasses=sancov-module) sancov=true ;;
    esac
    prev="$arg"
    [ "$arg" = "-Cllvm-args=-sanitizer-coverage-trace-compares" ] || args+=("$arg")
done
if $sancov && $dependency && [ "$crate" != serde_json ]; then
    exec "$rustc" "${args[@]}" -Cllvm-args=-sanitizer-coverage-level=0
fi
exec "$rustc" "${args[@]}"
