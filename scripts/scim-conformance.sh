#!/usr/bin/env bash
# SCIM 2.0 conformance: runs the pinned scim2-cli (scripts/scim/requirements.txt)
# against `plaudit serve` on a free 127.0.0.1 port with a fresh data dir, and
# fails if any check fails.
#
# SCIM_VENV    where the Python venv lives (default target/scim-venv)
# PLAUDIT_BIN  a built plaudit binary (default: cargo build -p plaudit)
# PLAUDIT_DATABASE_URL is honoured (default: SQLite in the temp data dir).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${SCIM_VENV:-target/scim-venv}"
requirements=scripts/scim/requirements.txt
stamp="$venv/.requirements"
if ! cmp -s "$requirements" "$stamp" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
fi

if [ -z "${PLAUDIT_BIN:-}" ]; then
  cargo build --quiet -p plaudit
  PLAUDIT_BIN=target/debug/plaudit
fi

data_dir="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export PLAUDIT_DATA_DIR="$data_dir"
unset PLAUDIT_BIND

# A paid organisation (the checker creates far more Users than the free
# plan's 50), named per run in case PLAUDIT_DATABASE_URL is a shared database.
slug="scim-conformance-$$"
"$PLAUDIT_BIN" org create --name "SCIM conformance" --slug "$slug" \
  --admin-email "owner@$slug.test" --plan paid >/dev/null
token="$("$PLAUDIT_BIN" scim create-token --org "$slug" --name conformance 2>/dev/null)"

PLAUDIT_PUBLIC_URL="$base" PLAUDIT_LOG="${PLAUDIT_LOG:-warn}" \
  "$PLAUDIT_BIN" serve --bind "127.0.0.1:$port" >"$data_dir/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
  if python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$base/healthz" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$data_dir/server.log" >&2
    echo "scim-conformance: the server did not start" >&2
    exit 1
  fi
  sleep 0.1
done

output="$data_dir/scim2-test.txt"
status=0
"$venv/bin/scim2" --url "$base/scim/v2" -h "Authorization: Bearer $token" test >"$output" 2>&1 || status=$?
cat "$output"
# scim2 prints one line per check, starting with its status; anything but
# SUCCESS (ERROR, SKIPPED, DEVIATION, …) counts as a failure.
errors="$(grep -E '^[A-Z_]+ ' "$output" | grep -vc '^SUCCESS ' || true)"
if [ "$status" -ne 0 ] || [ "$errors" -ne 0 ]; then
  echo "scim-conformance: $errors check(s) failed (exit status $status)" >&2
  exit 1
fi
checks="$(grep -c '^SUCCESS ' "$output" || true)"
if [ "$checks" -eq 0 ]; then
  echo "scim-conformance: no check passed; is the output format of the pinned scim2-cli as expected?" >&2
  exit 1
fi
echo "scim-conformance: all $checks checks passed"
