#!/usr/bin/env bash
# Starts `cogsync serve` on free loopback ports and drives it with JavaScript clients: two
# devices of the official sync manager (amazon-cognito-js on the AWS SDK for JavaScript v2),
# and the AWS SDK for JavaScript v3 calling all 17 operations. Installs Node.js (Debian
# packages) when missing and the pinned npm packages with `npm ci`.
#
# Environment:
#   COGSYNC_BIN=PATH      test this cogsync binary instead of building target/debug/cogsync
#   COGSYNC_FAULT=NAME    serve with `--fault NAME` (to see the lane fail on a broken server)
#   COGSYNC_INTEROP_OTHER_OPS=optional
#                         accept a server that answers the eleven pool/push operations with a
#                         4xx (spec §10); by default the reference server must implement them
#   COGSYNC_INTEROP_TIMEOUT=SECONDS  limit for each script (default 120)
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
here=tests/interop-js

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 18 ] || { echo "Node.js $(node --version) is too old: the AWS SDK v3 needs 18 or later"; exit 1; }
echo "node $(node --version), npm $(npm --version)"

# The lockfile pins every package; reinstall only when it changed since the last install.
if ! [ "$here/node_modules/.installed" -nt "$here/package-lock.json" ]; then
  (cd "$here" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error ${COGSYNC_NPM_CACHE:+--cache "$COGSYNC_NPM_CACHE"})
  touch "$here/node_modules/.installed"
fi

bin=${COGSYNC_BIN:-}
if [ -z "$bin" ]; then
  cargo build --locked --quiet --bin cogsync
  bin="${CARGO_TARGET_DIR:-target}/debug/cogsync"
fi
fault=()
[ -z "${COGSYNC_FAULT:-}" ] || fault=(--fault "$COGSYNC_FAULT")
limit=${COGSYNC_INTEROP_TIMEOUT:-120}

servers=()
logs=()
cleanup() {
  for pid in "${servers[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -f "${logs[@]}"
}
trap cleanup EXIT

# start_server ARGS...: starts `cogsync serve ARGS` on a free port, sets $url.
start_server() {
  local log
  log=$(mktemp)
  logs+=("$log")
  "$bin" serve --addr 127.0.0.1:0 "$@" >"$log" 2>&1 &
  servers+=("$!")
  url=""
  for _ in $(seq 1 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
    [ -n "$url" ] && break
    sleep 0.1
  done
  [ -n "$url" ] || { echo "cogsync serve $* did not print its URL:"; cat "$log"; exit 1; }
}

# run NAME SCRIPT ARGS...: runs one script under the time limit; a failure names the lane.
run() {
  local name=$1
  shift
  local status=0
  # The SDKs' notices about their own support windows say nothing about the server.
  (cd "$here" && AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1 \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true timeout "$limit" node "$@") || status=$?
  if [ "$status" -ne 0 ]; then
    [ "$status" -ne 124 ] || echo "FAIL: $name did not finish within ${limit} s"
    echo "interop-js: $name failed against cogsync serve${fault[*]:+ ${fault[*]}} (exit status $status)"
    exit 1
  fi
}

# One fresh in-memory server per script, so each starts from an empty store.
start_server "${fault[@]}"
echo "cogsync serve${fault[*]:+ ${fault[*]}} is at $url (amazon-cognito-js, two devices)"
run "amazon-cognito-js (two devices)" devices.js "$url"

# A server may serve smaller pages than asked (AMB-PAGE-SIZE); against one that does, the
# manager must follow NextToken through 15 pages of each 750-record dataset.
if [ -z "${COGSYNC_FAULT:-}" ]; then
  start_server --variant pages-of-50
  echo "cogsync serve --variant pages-of-50 is at $url (amazon-cognito-js, paging)"
  run "amazon-cognito-js against pages of 50" devices.js "$url" 50
fi

start_server "${fault[@]}"
echo "cogsync serve${fault[*]:+ ${fault[*]}} is at $url (AWS SDK for JavaScript v3, 17 operations)"
run "@aws-sdk/client-cognito-sync (17 operations)" sdk_v3.js "$url" \
  --other-ops "${COGSYNC_INTEROP_OTHER_OPS:-required}"
echo "interop-js: amazon-cognito-js and the AWS SDK for JavaScript v3 got the answers the spec requires from $repo's cogsync serve"
