#!/usr/bin/env bash
# The test command of the README: every test of the workspace, on a fresh Debian machine too.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/postgres.sh
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast
else
    cargo test --workspace --no-fail-fast --lib --bins --tests
fi
# nextest does not run doc tests.
cargo test --workspace --doc --quiet
