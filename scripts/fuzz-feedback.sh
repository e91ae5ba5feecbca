#!/usr/bin/env bash
# Blind vs feedback, with the same seeds and time budget:
#  1. distinct behaviour signatures reached by `cogsync fuzz` against the embedded reference
#     server in SIGNATURE_SECONDS (default 300) per mode;
#  2. for every fault of `cogsync serve --fault list`, the time, requests and iterations to the
#     first finding, capped at FAULT_SECONDS (default 20) per run, for each seed of SEEDS
#     (default "1 2 3"). A fault neither mode finds with the first seed is reported as not seen
#     and not run with the others.
# Prints a Markdown table (the README and the closing notes quote it). Needs python3.
# Usage: cargo build --release && bash scripts/fuzz-feedback.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${COGSYNC:-target/release/cogsync}"
sig_seconds="${SIGNATURE_SECONDS:-300}"
cap="${FAULT_SECONDS:-20}"
seeds="${SEEDS:-1 2 3}"
out="${OUT:-$(mktemp -d)}"
mkdir -p "$out"
echo "fuzz-feedback: results in $out" >&2

run() { # name, then fuzz arguments
    local name="$1"
    shift
    "$bin" fuzz --json "$out/$name.json" --artifacts "$out/artifacts" "$@" >"$out/$name.log" 2>&1 || true
}
found() { # name: whether that run filed a finding
    python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1])).get("first_finding") else 1)' "$out/$1.json"
}

for mode in blind feedback; do
    flag=()
    [ "$mode" = blind ] && flag=(--blind)
    # Kept from an earlier run into the same OUT (they take the longest).
    [ -s "$out/signatures-$mode.json" ] && continue
    echo "fuzz-feedback: signatures, $mode, ${sig_seconds}s" >&2
    run "signatures-$mode" --seed 1 --duration "${sig_seconds}s" "${flag[@]}"
done

faults=$("$bin" serve --fault list | awk '{print $1}')
for fault in $faults; do
    for seed in $seeds; do
        for mode in blind feedback; do
            flag=()
            [ "$mode" = blind ] && flag=(--blind)
            run "fault-$fault-$mode-$seed" --fault "$fault" --seed "$seed" --duration "${cap}s" \
                --stop-on-finding "${flag[@]}"
        done
        first_seed="${seeds%% *}"
        if [ "$seed" = "$first_seed" ] && ! found "fault-$fault-blind-$seed" \
            && ! found "fault-$fault-feedback-$seed"; then
            break
        fi
    done
    echo "fuzz-feedback: $fault done" >&2
done

python3 - "$out" "$cap" "$seeds" $faults <<'PY'
import json, os, statistics, sys
out, cap, seeds, faults = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(), sys.argv[4:]
def load(name):
    path = os.path.join(out, name + ".json")
    return json.load(open(path)) if os.path.exists(path) else None
print("| mode | signatures | requests | requests/s |")
print("|---|---|---|---|")
for mode in ("blind", "feedback"):
    r = load("signatures-" + mode)
    if r:
        print(f"| {mode} | {r['signatures']} | {r['requests']} | {r['requests'] * 1000 / r['elapsed_ms']:.0f} |")
print()
print(f"Time to the first finding (median over the seeds that found it; found/seeds; cap {cap:.0f} s):")
print()
print("| fault | blind: s | blind: requests | blind found | feedback: s | feedback: requests | feedback found |")
print("|---|---|---|---|---|---|---|")
totals = {"blind": [0, 0], "feedback": [0, 0]}
for fault in faults:
    cells = []
    for mode in ("blind", "feedback"):
        firsts = []
        ran = 0
        for seed in seeds:
            r = load(f"fault-{fault}-{mode}-{seed}")
            if r is None:
                continue
            ran += 1
            if r.get("first_finding"):
                firsts.append(r["first_finding"])
        totals[mode][0] += len(firsts)
        totals[mode][1] += ran
        if firsts:
            s = statistics.median(f["elapsed_ms"] for f in firsts) / 1000
            q = statistics.median(f["requests"] for f in firsts)
            cells += [f"{s:.2f}", f"{q:.0f}", f"{len(firsts)}/{ran}"]
        else:
            cells += ["—", "—", f"0/{ran}"]
    print(f"| {fault} | " + " | ".join(cells) + " |")
print()
for mode, (found, ran) in totals.items():
    print(f"{mode}: {found} of {ran} runs found their fault")
PY
