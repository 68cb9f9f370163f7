#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers at 127.0.0.1:5432 with trust authentication and a
# database `test`, as the store suite expects (override with ELICENSE_TEST_DATABASE_URL).
# Idempotent: a running server is left alone; a stopped cluster is started; on a fresh Debian
# machine without PostgreSQL, the distribution's server is installed, configured for local
# trust authentication (a throw-away test server only) and started. The server binaries
# (initdb, pg_ctl under /usr/lib/postgresql/VERSION/bin) must be present too: the outage test
# in crates/cli/tests/postgres.rs runs a cluster of its own and fails without them. Run as root.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

if command -v pg_isready >/dev/null 2>&1 && ready; then
    :
else
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        echo "installing PostgreSQL from Debian"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql
        for hba in /etc/postgresql/*/main/pg_hba.conf; do
            printf 'local all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n' >"$hba"
        done
    fi
    version=$(ls /etc/postgresql | sort -n | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do
        ready && break
        sleep 1
    done
    ready || { echo "PostgreSQL did not start at 127.0.0.1:5432" >&2; exit 1; }
fi

# The database the tests use (each test makes its own schema inside it).
if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
fi

# The server binaries, for the test that runs a cluster of its own (a server answering on
# 5432 may be another machine's or a container's, with no binaries here).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "installing the PostgreSQL server binaries (initdb) from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql
fi
