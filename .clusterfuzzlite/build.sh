#!/bin/bash -eu
# Builds every cargo-fuzz target of cogsync into $OUT with its seed corpus, dictionary and
# libFuzzer options. The builder image sets the sanitizer flags; cargo fuzz adds libFuzzer.
cd "$SRC/cogsync/fuzz"

targets=(parse_request validate json_body model_vs_server)

# -O: optimised build; --debug-assertions keeps overflow checks, which are findings too.
cargo fuzz build -O --debug-assertions

release="target/x86_64-unknown-linux-gnu/release"
for target in "${targets[@]}"; do
    cp "$release/$target" "$OUT/$target"
    # Seeds: the committed corpus (what tests/fuzz_corpus.rs replays on stable).
    (cd "corpus/$target" && zip -q -r "$OUT/${target}_seed_corpus.zip" .)
    cp "dict/$target.dict" "$OUT/$target.dict"
    cat > "$OUT/$target.options" <<OPTIONS
[libfuzzer]
dict = $target.dict
max_len = 65536
rss_limit_mb = 2048
malloc_limit_mb = 512
OPTIONS
done
