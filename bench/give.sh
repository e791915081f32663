#!/usr/bin/env bash
# Giving recognition over HTTP: 16 concurrent clients (wrk) against a release
# server on SQLite with the demo directory, then `plaudit verify`.
# Needs wrk (apt-get install -y wrk) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }; }
cargo build --release -p plaudit -q
BIN=$PWD/target/release/plaudit
WORK=$(mktemp -d)
SERVER=
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
export PLAUDIT_DATA_DIR=$WORK/data
$BIN org create --name Bench --slug bench --admin-email owner@bench.test --admin-password bench-password --plan paid >/dev/null
$BIN import members --org bench crates/app/demo/directory.csv >/dev/null
PORT=$((20000 + RANDOM % 20000))
URL=http://127.0.0.1:$PORT
$BIN serve --bind 127.0.0.1:$PORT >"$WORK/server.log" 2>&1 &
SERVER=$!
until curl -sf "$URL/readyz" >/dev/null; do sleep 0.05; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
signin() { curl -sf -c "$WORK/jar-$1" -H 'content-type: application/json' -d "{\"org\":\"bench\",\"email\":\"$1\",\"password\":\"bench-password\"}" "$URL/api/v1/session"; }
CSRF=$(signin owner@bench.test | json '["csrf_token"]')
curl -sf -b "$WORK/jar-owner@bench.test" -H "x-csrf-token: $CSRF" -H 'content-type: application/json' -X PATCH \
  -d '{"default_allowance":1000000}' "$URL/api/v1/org" >/dev/null

mapfile -t EMAILS < <(awk -F, 'NR>1 && $13 ~ /^active/ {print $2}' crates/app/demo/directory.csv | head -32)
echo "tokens = {" >"$WORK/bench_data.lua"
for email in "${EMAILS[@]:0:16}"; do
  $BIN member set-password --org bench "$email" --password bench-password >/dev/null
  C=$(signin "$email" | json '["csrf_token"]')
  T=$(curl -sf -b "$WORK/jar-$email" -H "x-csrf-token: $C" -H 'content-type: application/json' -d '{"name":"bench"}' "$URL/api/v1/tokens" | json '["token"]')
  echo "  \"$T\"," >>"$WORK/bench_data.lua"
done
echo "}" >>"$WORK/bench_data.lua"
echo "recipients = {" >>"$WORK/bench_data.lua"
for email in "${EMAILS[@]:16:16}"; do echo "  \"$email\"," >>"$WORK/bench_data.lua"; done
echo "}" >>"$WORK/bench_data.lua"

echo "== giving recognition: 16 connections for $DURATION"
BENCH_DATA=$WORK/bench_data.lua wrk -t2 -c16 -d"$DURATION" --latency -s bench/give.lua "$URL" | grep -E 'Latency|50%|99%|Requests/sec|requests in|Non-2xx'
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
POSTS=$(python3 -c "import sqlite3;print(sqlite3.connect('$WORK/data/plaudit.db').execute(\"select count(*) from recognitions\").fetchone()[0])")
echo "recognitions stored: $POSTS"
$BIN verify
