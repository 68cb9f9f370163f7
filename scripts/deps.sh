#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain, idempotently, on Debian:
# - the OpenSSL command line (SM2 interoperability tests verify our signatures with it).
# Run as root (CI is); does nothing when everything is present.
set -euo pipefail

need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)

if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}"
fi
