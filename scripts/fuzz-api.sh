#!/usr/bin/env bash
# Runs the API fuzz test (crates/server/tests/fuzz.rs: schemathesis over the node's own OpenAPI
# document, with keys, no 5xx allowed) with EXAMPLES examples per operation (default 100)
# instead of the suite's few. Usage: scripts/fuzz-api.sh [EXAMPLES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
export ELICENSE_FUZZ_EXAMPLES="${1:-100}"
export ELICENSE_FUZZ_SEED="${2:-$RANDOM}"
echo "schemathesis: $ELICENSE_FUZZ_EXAMPLES examples per operation, seed $ELICENSE_FUZZ_SEED"
cargo test -p elicense-server --test fuzz -- --nocapture
