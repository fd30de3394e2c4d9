#!/usr/bin/env bash
# Start a throw-away PostgreSQL for the session-store tests and print the URL to use:
#
#   eval "$(bash .ci/postgres.sh)"
#
# stdout carries only the `export` line (everything else goes to stderr), so eval is safe.
# Idempotent: a second run reuses the running cluster. Listens on 127.0.0.1 only, with
# trust authentication: for CI and development machines, never for real data.
# Stop it with: pg_ctl -D "$AIGUILLAGE_PG_DIR/data" stop (as the cluster's owner).
set -euo pipefail

# Not $TMPDIR: when we are root the postgres account must be able to reach it.
PG_DIR="${AIGUILLAGE_PG_DIR:-/tmp/aiguillage-postgres}"
PG_PORT="${AIGUILLAGE_PG_PORT:-55432}"
PG_DB="${AIGUILLAGE_PG_DB:-aiguillage_test}"
DATA="$PG_DIR/data"

say() { echo "postgres.sh: $*" >&2; }

find_bindir() {
    # Debian keeps the server binaries out of PATH, one directory per major version.
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$dir" && -x "$dir/initdb" ]]; then
        echo "$dir"
    elif command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

BIN=$(find_bindir)
if [[ -z "$BIN" ]]; then
    say "installing PostgreSQL from Debian"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq </dev/null >&2
    apt-get install -y -qq postgresql </dev/null >&2
    BIN=$(find_bindir)
    [[ -n "$BIN" ]] || { say "initdb not found after installation"; exit 1; }
fi

# initdb and postgres refuse to run as root: use the postgres account when we are root.
if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_DIR" postgres
    OWNER=postgres
    as_owner() { runuser -u postgres -- "$@"; }
else
    OWNER=$(id -un)
    as_owner() { "$@"; }
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mkdir -p "$PG_DIR"
chown "$OWNER" "$PG_DIR"
chmod 700 "$PG_DIR"

if [[ ! -s "$DATA/PG_VERSION" ]]; then
    say "creating a cluster in $DATA"
    rm -rf "$DATA"
    as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
        </dev/null >&2
fi

if as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    # Already running (second call): reuse its port whatever the requested one.
    PG_PORT=$(sed -n 4p "$DATA/postmaster.pid")
    say "reusing the cluster on port $PG_PORT"
else
    while port_busy "$PG_PORT"; do
        PG_PORT=$((PG_PORT + 1))
    done
    say "starting on 127.0.0.1:$PG_PORT"
    # The socket lives in the data directory: /var/run/postgresql may not exist or be ours.
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$PG_DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $DATA -c fsync=off" start \
        </dev/null >&2 || { cat "$PG_DIR/server.log" >&2; exit 1; }
fi

exists=$("$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'" </dev/null)
if [[ "$exists" != "1" ]]; then
    "$BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DB" </dev/null >&2
fi

echo "export AIGUILLAGE_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/$PG_DB"
