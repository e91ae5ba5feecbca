#!/usr/bin/env bash
# rustc wrapper of the fuzz build (set in fuzz/.cargo/config.toml): coverage feedback only from
# the code under test.
#
# cargo fuzz instruments every crate for coverage (sanitizer-coverage level 4 with comparison
# tracing). For a crate from the registry or a git dependency this script appends level 0,
# which turns that instrumentation off; such crates are still built with the address sanitizer,
# so memory errors in them are still caught, and what each target checks is unchanged. Why:
# libFuzzer pays for every covered edge on every run, and the edges of tokio, axum, hyper,
# regex or rusqlite are not progress for these targets (model_vs_server spent over half its
# time in that bookkeeping). This repository's crates keep their coverage, and so does
# serde_json: it is the front end of the request parser that parse_request and json_body fuzz.
# Cargo's per-package profile rustflags cannot do this: they come before cargo fuzz's flags,
# and LLVM takes the last value of an option.
set -euo pipefail
rustc="$1"
shift
crate=""
dependency=false
sancov=false
prev=""
for arg in "$@"; do
    [ "$prev" = "--crate-name" ] && crate="$arg"
    case "$arg" in
        */registry/src/*.rs | */git/checkouts/*.rs) dependency=true ;;
        -Cpasses=sancov-module) sancov=true ;;
    esac
    prev="$arg"
done
if $sancov && $dependency && [ "$crate" != serde_json ]; then
    exec "$rustc" "$@" -Cllvm-args=-sanitizer-coverage-level=0
fi
exec "$rustc" "$@"
