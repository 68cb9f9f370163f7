#!/usr/bin/env bash
# The test command of the README: every test of the workspace, on a fresh Debian machine too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/postgres.sh
# A local Citus cluster (coordinator and two workers) for the hub index tests
# (crates/store/tests/citus.rs), unless ELICENSE_TEST_CITUS_URL names one already.
if [ -z "${ELICENSE_TEST_CITUS_URL:-}" ]; then
    citus_url=$(scripts/citus.sh)
    export ELICENSE_TEST_CITUS_URL=$citus_url
fi
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
else
    cargo test --workspace --no-fail-fast --lib --bins --tests
fi
# nextest does not run doc tests.
cargo test --workspace --doc --quiet
