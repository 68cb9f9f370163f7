#!/usr/bin/env bash
# A local Citus cluster for the hub index tests (crates/store/tests/citus.rs): a coordinator and
# two workers, each a PostgreSQL 15 instance of its own on 127.0.0.1, trust authentication on
# 127.0.0.1 only, a database `test` with the `citus` extension, both workers registered.
#
#   scripts/citus.sh         build/install Citus if needed, start the cluster, print its URL
#   scripts/citus.sh stop    stop the cluster (its data stays)
#
# Citus is not packaged by Debian: it is built from the vendored source
# (../shared/vendor/citus-13.2.2-pg15.tar.gz next to the repository, see its README; override
# with ELICENSE_CITUS_TARBALL) in .cache/citus/, against Debian's PostgreSQL 15, and installed
# (`make install`) only when PostgreSQL 15's citus.so is missing or of another version. The
# build dependencies are installed from Debian when missing.
#
# Settings (environment):
#   ELICENSE_CITUS_DIR    data directories (default .cache/citus/cluster, or a directory of
#                         this checkout's under /var/tmp/elicense-citus when the postgres user
#                         cannot reach .cache)
#   ELICENSE_CITUS_PORT   the coordinator's port for a new cluster (default 9700); the workers
#                         use the next two. A cluster keeps the ports it was made with.
#
# Idempotent: a running cluster is left alone, a stopped one is started, a missing one is made
# (initdb). Outside CI a cluster of another checkout answering on the port is used as it is;
# under CI (CI set) never: the new cluster moves to free ports instead. Progress goes to stderr, the coordinator's URL (for ELICENSE_TEST_CITUS_URL) to
# stdout. Run as root (CI is): the instances run as the `postgres` user, as Debian's do
# (initdb refuses root); as another user it runs them as that user and installs nothing.
# A throw-away test cluster: small memory, fsync off.
#
# Measured on a 2-core Debian 12 machine busy with three other Rust builds (load 8-10): a
# fresh run took 6 min 46 s: apt-get update and the build dependencies (postgresql-server-dev-15
# pulls in clang) 50 s, configure 5 s, `make -j2` 5 min 44 s (about a minute on idle cores, per
# the vendor README), make install, three initdb, start and node registration 12 s. A re-run
# with the cluster running takes 0.6 s; starting a stopped cluster 1.4 s; `stop` 0.5 s; a new
# cluster with Citus already installed (three initdb) 22 s.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

CITUS_VERSION=13.2.2
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
# The vendored source: ELICENSE_CITUS_TARBALL, else shared/vendor/ beside the repository or
# beside any directory above it (a clone made elsewhere under the same workspace).
TARBALL_NAME=citus-$CITUS_VERSION-pg$PG_MAJOR.tar.gz
TARBALL=${ELICENSE_CITUS_TARBALL:-}
if [ -z "$TARBALL" ]; then
    TARBALL=$repo/../shared/vendor/$TARBALL_NAME
    up=$repo
    while [ "$up" != / ] && [ ! -f "$TARBALL" ]; do
        up=$(dirname "$up")
        [ -f "$up/shared/vendor/$TARBALL_NAME" ] && TARBALL=$up/shared/vendor/$TARBALL_NAME
    done
fi
CACHE=$repo/.cache/citus
CLUSTER=${ELICENSE_CITUS_DIR:-$CACHE/cluster}
PORT=${ELICENSE_CITUS_PORT:-9700}
NODES=(coordinator worker1 worker2)
PORTS=("$PORT" $((PORT + 1)) $((PORT + 2)))
DB=test

say() { echo "citus.sh: $*" >&2; }
die() {
    say "$*"
    exit 1
}

if [ "$(id -u)" -eq 0 ]; then
    PG_USER=postgres
    id "$PG_USER" >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql \
        --shell /bin/bash "$PG_USER"
    as_pg() { runuser -u "$PG_USER" -- "$@"; }
else
    PG_USER=$(id -un)
    as_pg() { "$@"; }
fi

# psql as the cluster's superuser `postgres`, on one instance, stopping at the first error.
sql() {
    local port=$1 db=$2
    shift 2
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "$db" "$@"
}

# Where the data goes when the postgres user cannot reach the default directory: one
# directory per checkout, so that two checkouts never share a cluster by accident.
FALLBACK=/var/tmp/elicense-citus/$(printf %s "$repo" | sha1sum | cut -c1-12)

stop_cluster() {
    local dir name dirs=("$CLUSTER")
    [ -n "${ELICENSE_CITUS_DIR:-}" ] || dirs+=("$FALLBACK")
    for dir in "${dirs[@]}"; do
        for name in "${NODES[@]}"; do
            if [ -f "$dir/$name/PG_VERSION" ] \
                && as_pg "$PG_BIN/pg_ctl" -D "$dir/$name" status >/dev/null 2>&1; then
                say "stopping $name ($dir)"
                as_pg "$PG_BIN/pg_ctl" -D "$dir/$name" -m fast -w stop >/dev/null
            fi
        done
    done
}

case "${1:-start}" in
    start) ;;
    stop)
        stop_cluster
        exit 0
        ;;
    *) die "usage: scripts/citus.sh [start|stop]" ;;
esac

usable() {
    mkdir -p "$1" && chown "$PG_USER" "$1" && as_pg test -w "$1" -a -x "$1"
}
if ! usable "$CLUSTER"; then
    # A checkout under a directory closed to other users (/root): the instances' data cannot
    # live in it.
    [ -z "${ELICENSE_CITUS_DIR:-}" ] || die "$PG_USER cannot write $CLUSTER"
    CLUSTER=$FALLBACK
    say "$PG_USER cannot reach $repo/.cache: the cluster lives in $CLUSTER"
    usable "$CLUSTER" || die "$PG_USER cannot write $CLUSTER: set ELICENSE_CITUS_DIR"
fi

# --- Ports --------------------------------------------------------------------------------

# Whether a Citus coordinator with two active workers answers on a port.
answers() {
    [ -x "$PG_BIN/psql" ] && [ "$(sql "$1" "$DB" -tAc \
        "SELECT count(*) FROM citus_get_active_worker_nodes()" 2>/dev/null)" = 2 ]
}
# Whether the instance on a port is this checkout's coordinator.
ours() {
    local dir
    dir=$(sql "$1" "$DB" -tAc "SHOW data_directory" 2>/dev/null) || return 1
    [ "$(realpath -m "$dir")" = "$(realpath -m "$CLUSTER/coordinator")" ]
}
# Whether anything listens on a port of 127.0.0.1.
taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# This checkout's cluster keeps the ports written in its configuration at initdb.
made_port=$(sed -n 's/^port = \([0-9][0-9]*\)$/\1/p' "$CLUSTER/coordinator/postgresql.conf" \
    2>/dev/null | tail -n 1 || true)
if [ -n "$made_port" ]; then
    PORT=$made_port
elif [ -z "${CI:-}" ] && answers "$PORT"; then
    # On a developer's machine a cluster started from another checkout of this repository (or
    # with another ELICENSE_CITUS_DIR) is used as it is: two cannot share the ports.
    say "a Citus cluster with two workers already answers on 127.0.0.1:$PORT; using it"
    echo "postgres://postgres@127.0.0.1:$PORT/$DB"
    exit 0
else
    # Under CI the tests never use a cluster this checkout did not make (it belongs to someone
    # who may stop it mid-run): a new one takes the first three free ports from $PORT up, in
    # steps of ten.
    tries=0
    while taken "$PORT" || taken $((PORT + 1)) || taken $((PORT + 2)); do
        tries=$((tries + 1))
        [ "$tries" -lt 50 ] || die "no three free ports from ${PORTS[0]} up"
        PORT=$((PORT + 10))
    done
    [ "$PORT" = "${PORTS[0]}" ] || say "ports ${PORTS[0]}-$((${PORTS[0]} + 2)) are taken: using $PORT-$((PORT + 2))"
fi
PORTS=("$PORT" $((PORT + 1)) $((PORT + 2)))

if answers "$PORT" && ours "$PORT"; then
    say "this checkout's Citus cluster already runs on 127.0.0.1:$PORT"
    echo "postgres://postgres@127.0.0.1:$PORT/$DB"
    exit 0
fi

# --- Debian packages ----------------------------------------------------------------------

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

apt_updated=
apt_install() {
    [ "$(id -u)" -eq 0 ] || die "needs Debian packages ($*): run as root"
    export DEBIAN_FRONTEND=noninteractive
    if [ -z "$apt_updated" ]; then
        apt-get update -qq >&2
        apt_updated=1
    fi
    say "installing: $*"
    apt-get install -y -qq --no-install-recommends "$@" >&2
}

[ -x "$PG_BIN/initdb" ] || apt_install "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"

# --- Citus --------------------------------------------------------------------------------

PG_CONFIG=$PG_BIN/pg_config
so() { echo "$("$PG_CONFIG" --pkglibdir)/citus.so"; }

# The version a citus.so was built as: its citus_version() string is "Citus X.Y.Z on ...".
citus_ok() { [ -f "$1" ] && grep -aqF "Citus $CITUS_VERSION on " "$1"; }

if ! { [ -x "$PG_CONFIG" ] && citus_ok "$(so)"; }; then
    need=()
    for p in "postgresql-server-dev-$PG_MAJOR" liblz4-dev libzstd-dev libkrb5-dev \
        libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev gcc make; do
        installed "$p" || need+=("$p")
    done
    [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

    src=$CACHE/citus-$CITUS_VERSION
    if ! citus_ok "$src/src/backend/distributed/citus.so"; then
        [ -f "$TARBALL" ] || die "Citus source not found at $TARBALL (set ELICENSE_CITUS_TARBALL)"
        say "building Citus $CITUS_VERSION from $TARBALL in $src"
        rm -rf "$src"
        mkdir -p "$CACHE"
        tar xzf "$TARBALL" -C "$CACHE"
        [ -d "$src" ] || die "$TARBALL did not unpack to $src"
        (
            cd "$src"
            ./configure PG_CONFIG="$PG_CONFIG" --without-libcurl >"$CACHE/configure.log" 2>&1 \
                || die "configure failed, see $CACHE/configure.log"
            make -j"$(nproc)" >"$CACHE/build.log" 2>&1 || die "build failed, see $CACHE/build.log"
        )
    fi
    [ "$(id -u)" -eq 0 ] || die "Citus $CITUS_VERSION is not installed for PostgreSQL $PG_MAJOR: run as root"
    say "installing Citus $CITUS_VERSION into $("$PG_CONFIG" --pkglibdir)"
    make -C "$src" install >"$CACHE/install.log" 2>&1 || die "make install failed, see $CACHE/install.log"
    citus_ok "$(so)" || die "$(so) is not Citus $CITUS_VERSION after make install"
    # A running instance still has the old library loaded.
    stop_cluster
fi

# --- The cluster --------------------------------------------------------------------------

for i in 0 1 2; do
    name=${NODES[$i]}
    port=${PORTS[$i]}
    data=$CLUSTER/$name
    if [ ! -f "$data/PG_VERSION" ]; then
        say "initdb $name (port $port)"
        rm -rf "$data"
        as_pg "$PG_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth=trust >"$CLUSTER/$name.initdb.log" 2>&1 \
            || die "initdb failed, see $CLUSTER/$name.initdb.log"
        # TCP on 127.0.0.1 only (no socket file: the path may be too long), no password.
        as_pg tee "$data/pg_hba.conf" >/dev/null <<'EOF'
host all all 127.0.0.1/32 trust
EOF
        as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# scripts/citus.sh: a throw-away test instance.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
shared_preload_libraries = 'citus'
max_connections = 100
shared_buffers = 32MB
work_mem = 4MB
maintenance_work_mem = 32MB
max_wal_size = 256MB
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        say "starting $name on 127.0.0.1:$port"
        as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start >/dev/null \
            || die "$name did not start, see $data/server.log (is port $port taken?)"
    fi
done

for port in "${PORTS[@]}"; do
    if [ -z "$(sql "$port" postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
        sql "$port" postgres -c "CREATE DATABASE $DB"
    fi
    sql "$port" "$DB" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS citus"
done

coord=${PORTS[0]}
sql "$coord" "$DB" -c "SET client_min_messages = warning" -c "
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE groupid = 0) THEN
        PERFORM citus_set_coordinator_host('127.0.0.1', $coord);
    END IF;
END \$\$;"
for port in "${PORTS[@]:1}"; do
    if [ -z "$(sql "$coord" "$DB" -tAc "SELECT 1 FROM pg_dist_node WHERE nodename = '127.0.0.1' AND nodeport = $port")" ]; then
        say "adding worker 127.0.0.1:$port"
        sql "$coord" "$DB" -c "SELECT citus_add_node('127.0.0.1', $port)" >/dev/null
    fi
done

workers=$(sql "$coord" "$DB" -tAc "SELECT count(*) FROM citus_get_active_worker_nodes()")
[ "$workers" = 2 ] || die "the coordinator sees $workers active workers, not 2"

echo "postgres://postgres@127.0.0.1:$coord/$DB"
