#!/usr/bin/env bash
# Foundation benchmarks (release build, SQLite):
#   - importing shared/data/directory.csv (1,470 members)
#   - importing a generated 100,000-member CSV: time and peak memory
#   - start-up to ready on an existing database, and idle server RSS
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p plaudit -q
BIN=target/release/plaudit
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
SERVER=

measure() { /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >/dev/null; read -r secs kb <"$WORK/time"; echo "$secs s, peak RSS $((kb / 1024)) MB"; }

$BIN --data-dir "$WORK/a" org create --name Bench --slug bench --admin-email owner@bench.test --plan paid >/dev/null
echo "import directory.csv (1,470 rows):        $(measure $BIN --data-dir "$WORK/a" import members --org bench crates/app/demo/directory.csv)"
echo "re-import directory.csv (no changes):     $(measure $BIN --data-dir "$WORK/a" import members --org bench crates/app/demo/directory.csv)"

python3 bench/gen_directory.py 100000 >"$WORK/big.csv"
$BIN --data-dir "$WORK/b" org create --name Big --slug big --admin-email owner@big.test --plan paid >/dev/null
echo "import 100,000 rows ($(du -h "$WORK/big.csv" | cut -f1)):          $(measure $BIN --data-dir "$WORK/b" import members --org big "$WORK/big.csv")"
echo "re-import 100,000 rows (no changes):      $(measure $BIN --data-dir "$WORK/b" import members --org big "$WORK/big.csv")"

PORT=$((20000 + RANDOM % 20000))
start=$(date +%s%N)
$BIN --data-dir "$WORK/b" serve --bind 127.0.0.1:$PORT >/dev/null 2>&1 &
SERVER=$!
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.01; done
ready=$(( ($(date +%s%N) - start) / 1000000 ))
echo "start-up to ready (100,000 members):      ${ready} ms"
sleep 2
echo "idle server RSS:                          $(( $(awk '/VmRSS/ {print $2}' /proc/$SERVER/status) / 1024 )) MB"
