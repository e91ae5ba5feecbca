#!/usr/bin/env bash
# Starts `cogsync serve` on a free loopback port, then drives it with boto3 and the AWS CLI the
# way a new user would. Installs both into a throw-away virtualenv from PyPI when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=${COGSYNC_INTEROP_VENV:-target/interop-venv}
if [ ! -x "$venv/bin/aws" ] || ! "$venv/bin/python" -c 'import boto3' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check boto3 awscli
fi

cargo build --locked --quiet --bin cogsync
log=$(mktemp)
./target/debug/cogsync serve --addr 127.0.0.1:0 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log" | head -n 1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "cogsync serve did not print its URL:"; cat "$log"; exit 1; }
echo "cogsync serve is at $url"

"$venv/bin/python" tests/interop/boto3_smoke.py "$url"

export AWS_ACCESS_KEY_ID=AKIDTEST AWS_SECRET_ACCESS_KEY=test-secret AWS_DEFAULT_REGION=us-east-1
export AWS_MAX_ATTEMPTS=1 AWS_PAGER=""
aws() { "$venv/bin/aws" --endpoint-url "$url" --output json "$@"; }
pool=us-east-1:00000000-0000-4000-8000-0000000000c1
id=us-east-1:00000000-0000-4000-8000-00000000c0c1
token=$(aws cognito-sync list-records --identity-pool-id "$pool" --identity-id "$id" \
  --dataset-name cli --query SyncSessionToken --output text)
aws cognito-sync update-records --identity-pool-id "$pool" --identity-id "$id" \
  --dataset-name cli --sync-session-token "$token" \
  --record-patches Op=replace,Key=greeting,Value=hello,SyncCount=0 >/dev/null
count=$(aws cognito-sync list-records --identity-pool-id "$pool" --identity-id "$id" \
  --dataset-name cli --query DatasetSyncCount --output text)
[ "$count" = "1" ] || { echo "AWS CLI: DatasetSyncCount is $count, not 1"; exit 1; }
if aws cognito-sync update-records --identity-pool-id "$pool" --identity-id "$id" \
  --dataset-name cli --sync-session-token "$token" \
  --record-patches Op=replace,Key=greeting,Value=bye,SyncCount=0 2>"$log.err" >/dev/null; then
  echo "AWS CLI: a stale write was accepted"; exit 1
fi
grep -q ResourceConflictException "$log.err" || { echo "AWS CLI did not see ResourceConflictException:"; cat "$log.err"; exit 1; }
rm -f "$log.err"
echo "AWS CLI smoke: list-records, update-records and the stale-write conflict answered as the service would"
