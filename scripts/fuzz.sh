#!/usr/bin/env bash
# Builds and runs every cargo-fuzz target of the workspace (crates/core/fuzz and
# crates/crypto/fuzz) for a fixed time each. For developers, not CI.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  time per target, default 30
#   TARGET   only these targets (e.g. identifier sdjwt_parse); default all
# Environment:
#   FUZZ_SANITIZER   address (default), none, ... (passed to cargo fuzz --sanitizer)
#   FUZZ_TARGET_DIR  cargo target dir for fuzz builds, default <repo>/target/fuzz
#
# Inputs: fuzz/seeds/<target>/ (small, committed) is read as a second corpus dir; new
# inputs go to fuzz/corpus/<target>/ and crashes to fuzz/artifacts/<target>/ (both
# git-ignored). Reproduce a crash with:
#   (cd crates/<crate> && RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=../../target/fuzz \
#      cargo fuzz run <target> fuzz/artifacts/<target>/crash-...)
set -euo pipefail

seconds="${1:-30}"
shift || true
only=("$@")

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: $0 [SECONDS] [TARGET...]" >&2
    exit 2
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sanitizer="${FUZZ_SANITIZER:-address}"

# cargo-fuzz passes nightly-only flags (-Zsanitizer=address, -Cpasses=sancov-module,
# ...) to rustc, and this machine has only a stable toolchain. RUSTC_BOOTSTRAP=1 lets the
# stable compiler accept them (the ASan runtime ships with stable). It is scoped to this
# script: never set it for normal builds.
export RUSTC_BOOTSTRAP=1
# A target dir of its own: the instrumented flags would otherwise invalidate the main
# build in <repo>/target/{debug,release}. Shared by both fuzz workspaces, so the
# common dependencies are built once.
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$root/target/fuzz}"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

wanted() {
    [ "${#only[@]}" -eq 0 ] && return 0
    local t
    for t in "${only[@]}"; do
        [ "$t" = "$1" ] && return 0
    done
    return 1
}

failed=()
ran=0
for crate in core crypto log; do
    dir="$root/crates/$crate"
    [ -f "$dir/fuzz/Cargo.toml" ] || continue
    cd "$dir"
    targets=()
    while IFS= read -r t; do
        wanted "$t" && targets+=("$t")
    done < <(cargo fuzz list)
    [ "${#targets[@]}" -gt 0 ] || continue

    echo "==> building fuzz targets of crates/$crate (sanitizer: $sanitizer)"
    cargo fuzz build --sanitizer "$sanitizer"

    for t in "${targets[@]}"; do
        echo "==> fuzzing $t for ${seconds}s"
        corpora=("fuzz/corpus/$t")
        mkdir -p "fuzz/corpus/$t"
        [ -d "fuzz/seeds/$t" ] && corpora+=("fuzz/seeds/$t")
        ran=$((ran + 1))
        if ! cargo fuzz run --sanitizer "$sanitizer" "$t" "${corpora[@]}" -- \
            -max_total_time="$seconds" -print_final_stats=1; then
            failed+=("$crate/$t")
            echo "!!> $t failed: see crates/$crate/fuzz/artifacts/$t/" >&2
        fi
    done
done

if [ "$ran" -eq 0 ]; then
    echo "no fuzz target matched: ${only[*]}" >&2
    exit 2
fi
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz targets with crashes: ${failed[*]}" >&2
    exit 1
fi
echo "==> all $ran fuzz targets ran ${seconds}s without a crash"
