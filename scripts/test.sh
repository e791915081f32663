#!/usr/bin/env bash
# Runs every test: the Rust suites (domain, store on SQLite and PostgreSQL,
# API and CLI) and the browser tests in Chromium.
#
# PostgreSQL: PLAUDIT_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
# Chromium:   CHROMIUM_PATH (default /usr/bin/chromium).
# Python 3:   the SCIM conformance check installs the pinned scim2-cli from
#             PyPI into target/scim-venv (scripts/scim/requirements.txt).
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

# SCIM 2.0 conformance with the pinned scim2-cli, on SQLite and, when a
# PostgreSQL is configured for the tests, on PostgreSQL too.
bash scripts/scim-conformance.sh
if [ -n "${PLAUDIT_TEST_POSTGRES_URL:-}" ] || [ "${CI:-}" = "true" ]; then
  pg="${PLAUDIT_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  schema="plaudit_scim_$$"
  psql "$pg" -qc "CREATE SCHEMA $schema"
  trap 'psql "$pg" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true' EXIT
  PLAUDIT_DATABASE_URL="$pg?options=-csearch_path%3D$schema" bash scripts/scim-conformance.sh
fi
