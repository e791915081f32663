#!/usr/bin/env bash
# Runs every test: the Rust suites (domain, store on SQLite and PostgreSQL,
# API and CLI) and the browser tests in Chromium.
#
# PostgreSQL: PLAUDIT_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
# Chromium:   CHROMIUM_PATH (default /usr/bin/chromium).
# Without them the affected tests are skipped with a notice; with CI=true a
# missing PostgreSQL or browser fails the run instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
  # nextest does not run doctests; there are none worth a second build.
else
  cargo test --workspace --no-fail-fast
fi

cargo build -p plaudit
bash e2e/run.sh
