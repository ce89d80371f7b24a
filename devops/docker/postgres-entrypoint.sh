#!/bin/bash
# First start: initdb with the official image's variables; every start: run the server (PGPORT, PGDATA).
set -euo pipefail
: "${POSTGRES_PASSWORD:?}"
user="${POSTGRES_USER:-postgres}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") --auth-host=scram-sha-256 \
    --auth-local=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  database="${POSTGRES_DB:-$user}"
  if [ "$database" != postgres ]; then
    echo "CREATE DATABASE \"$database\"" | postgres --single -D "$PGDATA" -j postgres >/dev/null
  fi
fi
exec "$@" -c "listen_addresses=${POSTGRES_ADDRESS:-*}" -c unix_socket_directories=/tmp
