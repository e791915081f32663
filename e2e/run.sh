#!/usr/bin/env bash
# Runs the browser tests: builds the plaudit binary if needed, installs the
# pinned playwright-core, and runs node's test runner. Chromium comes from the
# system (CHROMIUM_PATH, default /usr/bin/chromium); without it the tests are
# skipped with a notice, except when CI=true.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
bin="${PLAUDIT_BIN:-$target/debug/plaudit}"
if [[ -z "${PLAUDIT_BIN:-}" ]]; then
  # cargo is quick when nothing changed, and rebuilds a stale binary.
  (cd "$root" && cargo build -p plaudit --quiet)
fi
[[ -x "$bin" ]] || { echo "e2e: no plaudit binary at $bin" >&2; exit 1; }

cd "$here"
if [[ -f package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm install --no-audit --no-fund --loglevel=error
fi

exec node --test --test-reporter=spec tests/*.test.mjs
