# Sourced by test.sh: starts a private PostgreSQL cluster for the tests of
# the PostgreSQL store, unless WERKTAFEL_TEST_PG already names a server.
#
# The cluster is this run's alone: its own data directory under a temporary
# directory, its own free port on 127.0.0.1, trust authentication for local
# connections only, stopped and removed when the sourcing shell exits. Run as
# root (CI), the server runs as the `postgres` user, since PostgreSQL refuses
# to run as root.
#
# Exports WERKTAFEL_TEST_PG (a URL to the `postgres` database as the
# superuser `postgres`); each test creates and drops a database of its own.

# The newest installed server's binaries (Debian keeps them out of PATH).
postgres_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

# A TCP port on 127.0.0.1 that nothing listens on now (bash alone: a
# connection to it is refused).
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    if ! (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

start_test_postgres() {
  if [ -n "${WERKTAFEL_TEST_PG:-}" ]; then
    echo "PostgreSQL tests use WERKTAFEL_TEST_PG from the environment"
    return 0
  fi
  local bin
  bin=$(postgres_bin)
  if [ -z "$bin" ]; then
    echo "PostgreSQL is not installed: its store tests will fail." >&2
    echo "Install it (Debian: apt-get install postgresql) or set WERKTAFEL_TEST_PG." >&2
    return 0
  fi
  PG_TEST_DIR=$(mktemp -d -t werktafel-pg.XXXXXX)
  local port as=() tries
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$PG_TEST_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust \
    --no-sync >"$PG_TEST_DIR/initdb.log" 2>&1 ||
    { cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
  # fsync stays on: the tests check that acknowledged writes survive a
  # killed server, which is only meaningful with real commits.
  # Another process may take the port between the probe and the start.
  for tries in 1 2 3 4 5; do
    port=$(free_port)
    if "${as[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_TEST_DIR -c max_connections=200" \
      start >/dev/null; then
      break
    fi
    if [ "$tries" = 5 ]; then
      cat "$PG_TEST_DIR/server.log" >&2
      return 1
    fi
  done
  PG_TEST_STOP=("${as[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop)
  trap stop_test_postgres EXIT
  export WERKTAFEL_TEST_PG="postgres://postgres@127.0.0.1:$port/postgres"
  echo "started a private PostgreSQL on port $port ($PG_TEST_DIR)"
}

stop_test_postgres() {
  if [ -n "${PG_TEST_DIR:-}" ]; then
    "${PG_TEST_STOP[@]}" >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
    PG_TEST_DIR=
  fi
}
