#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain, idempotently, on Debian:
# - the OpenSSL command line (SM2 interoperability tests verify our signatures with it);
# - Debian's Chromium and its chromedriver (browser tests, crates/server/tests/browser.rs)
#   and poppler-utils (pdftotext/pdftoppm read the PDFs the node serves);
# - axe-core (the accessibility check the browser tests inject into each page), pinned,
#   from npm into the git-ignored .cache/browser/;
# - oidc-provider (a certified OpenID Connect provider the OIDC sign-in tests run on
#   127.0.0.1, crates/server/tests/idp/provider.mjs), pinned, from npm into .cache/oidc/.
# - an outside SD-JWT VC verifier from npm (exact versions from a committed lock file) into
#   the git-ignored .cache/sdjwt/;
# - outside OpenID4VP/OpenID4VCI wallets and verifiers (@openid4vc, dcql, jose; committed lock)
#   into the git-ignored .cache/oid4vc/.
# - pyHanko (PAdES validation of sealed PDFs, crates/pdfsign/tests), pinned, from PyPI into the
#   git-ignored .cache/pyhanko/.
# No CJK font package on purpose: pages must render Chinese with the web font the node serves.
# Run as root (CI is); does nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION=4.10.3
AXE_DIR=.cache/browser

need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)

if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

axe_pkg="$AXE_DIR/node_modules/axe-core/package.json"
if [ ! -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] \
    || ! grep -q "\"version\": \"$AXE_VERSION\"" "$axe_pkg" 2>/dev/null; then
    echo "installing: axe-core@$AXE_VERSION into $AXE_DIR"
    mkdir -p "$AXE_DIR"
    npm install --prefix "$AXE_DIR" --no-audit --no-fund --no-save --no-package-lock \
        --loglevel=error "axe-core@$AXE_VERSION"
    test -f "$AXE_DIR/node_modules/axe-core/axe.min.js"
fi

OIDC_PROVIDER_VERSION=9.13.3
OIDC_DIR=.cache/oidc
oidc_pkg="$OIDC_DIR/node_modules/oidc-provider/package.json"
if ! grep -q "\"version\": \"$OIDC_PROVIDER_VERSION\"" "$oidc_pkg" 2>/dev/null; then
    echo "installing: oidc-provider@$OIDC_PROVIDER_VERSION into $OIDC_DIR"
    mkdir -p "$OIDC_DIR"
    npm install --prefix "$OIDC_DIR" --no-audit --no-fund --no-save --no-package-lock \
        --loglevel=error "oidc-provider@$OIDC_PROVIDER_VERSION"
    grep -q "\"version\": \"$OIDC_PROVIDER_VERSION\"" "$oidc_pkg"
fi

# An outside SD-JWT VC verifier (crates/server/tests/sdjwt_interop.rs runs
# crates/server/tests/sdjwt/verify.mjs with node): @sd-jwt/sd-jwt-vc with its Token Status List
# support and its node crypto helper, every package pinned by the committed package-lock.json,
# installed with `npm ci` into the git-ignored .cache/sdjwt/ (again only when the lock changed).
SDJWT_SRC=crates/server/tests/sdjwt
SDJWT_DIR=.cache/sdjwt
if [ ! -f "$SDJWT_DIR/node_modules/@sd-jwt/sd-jwt-vc/package.json" ] \
    || ! cmp -s "$SDJWT_SRC/package-lock.json" "$SDJWT_DIR/package-lock.json"; then
    echo "installing: the SD-JWT VC verifier's packages into $SDJWT_DIR"
    mkdir -p "$SDJWT_DIR"
    cp "$SDJWT_SRC/package.json" "$SDJWT_SRC/package-lock.json" "$SDJWT_DIR/"
    npm ci --prefix "$SDJWT_DIR" --no-audit --no-fund --loglevel=error
    test -f "$SDJWT_DIR/node_modules/@sd-jwt/sd-jwt-vc/package.json"
fi

# Outside OpenID4VP and OpenID4VCI wallets and verifiers (crates/server/tests/oid4vc/*.mjs, run
# by crates/server/tests/oid4vp.rs and oid4vci.rs): the @openid4vc packages, dcql (DCQL
# queries), jose (JWS/JWE) and the SD-JWT VC library, every package pinned by the committed
# package-lock.json, installed with `npm ci` into the git-ignored .cache/oid4vc/.
OID4VC_SRC=crates/server/tests/oid4vc
OID4VC_DIR=.cache/oid4vc
if [ ! -f "$OID4VC_DIR/node_modules/@openid4vc/openid4vp/package.json" ] \
    || ! cmp -s "$OID4VC_SRC/package-lock.json" "$OID4VC_DIR/package-lock.json"; then
    echo "installing: the OpenID4VC packages into $OID4VC_DIR"
    mkdir -p "$OID4VC_DIR"
    cp "$OID4VC_SRC/package.json" "$OID4VC_SRC/package-lock.json" "$OID4VC_DIR/"
    npm ci --prefix "$OID4VC_DIR" --no-audit --no-fund --loglevel=error
    test -f "$OID4VC_DIR/node_modules/@openid4vc/openid4vp/package.json"
fi

# An independent OpenAPI validator (crates/server/tests/openapi.rs validates the served
# document with it) and the API fuzzer (crates/server/tests/fuzz.rs, scripts/fuzz-api.sh),
# pinned, from PyPI into a venv in the git-ignored .cache/openapi/.
OPENAPI_VALIDATOR_VERSION=0.9.0
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_VENV=.cache/openapi
want_py=("openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION" "schemathesis==$SCHEMATHESIS_VERSION")
if [ ! -x "$OPENAPI_VENV/bin/python" ] \
    || ! "$OPENAPI_VENV/bin/python" -m pip freeze 2>/dev/null | grep -qx "${want_py[0]}" \
    || ! "$OPENAPI_VENV/bin/python" -m pip freeze 2>/dev/null | grep -qx "${want_py[1]}"; then
    echo "installing: ${want_py[*]} into $OPENAPI_VENV"
    python3 -m venv "$OPENAPI_VENV"
    "$OPENAPI_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${want_py[@]}"
    test -x "$OPENAPI_VENV/bin/openapi-spec-validator"
    test -x "$OPENAPI_VENV/bin/schemathesis"
fi

# pyHanko, an outside PAdES validator and incremental-update writer (crates/pdfsign/tests:
# `pyhanko sign validate` judges our seals; tests/scripts/update.py appends updates made by
# another tool), pinned, from PyPI into a venv in the git-ignored .cache/pyhanko/.
PYHANKO_VERSION=0.38.0
PYHANKO_CLI_VERSION=0.6.0
PYHANKO_VENV=.cache/pyhanko
want_ph=("pyHanko==$PYHANKO_VERSION" "pyhanko-cli==$PYHANKO_CLI_VERSION")
# Read the list first: `pip freeze | grep -q` can die of SIGPIPE under pipefail.
have_ph=$("$PYHANKO_VENV/bin/python" -m pip freeze 2>/dev/null || true)
if [ ! -x "$PYHANKO_VENV/bin/pyhanko" ] \
    || ! grep -qix "${want_ph[0]}" <<<"$have_ph" \
    || ! grep -qix "${want_ph[1]}" <<<"$have_ph"; then
    echo "installing: ${want_ph[*]} into $PYHANKO_VENV"
    python3 -m venv "$PYHANKO_VENV"
    "$PYHANKO_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${want_ph[@]}"
    test -x "$PYHANKO_VENV/bin/pyhanko"
fi
