#!/usr/bin/env bash
# The whole test suite against the real parts: ruff, `makemigrations --check`, then pytest on a
# throwaway PostgreSQL and Redis started on 127.0.0.1 under .run/test (installed with apt-get if
# missing). Tests that need a live Celery worker start one against the test database (see
# tests/conftest.py); browser tests drive Debian's Chromium. Everything started here is stopped
# on exit, and any failure exits non-zero. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUN=$ROOT/.run/test
PGRUN=$RUN

need=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing with apt-get: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

BOOTSTRAP_DEV=1 scripts/bootstrap.sh
PY=$ROOT/.venv/bin/python

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGPORT=$(free_port)
REDISPORT=$(free_port)

# PostgreSQL refuses to run as root: run it as the postgres user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

cleanup() {
  set +e
  [ -f "$RUN/redis.pid" ] && kill "$(cat "$RUN/redis.pid")" 2>/dev/null
  [ -d "$PGRUN/pg" ] && as_pg "$PGBIN/pg_ctl" -D "$PGRUN/pg" -m immediate -w stop >/dev/null 2>&1
  pkill -f "celery -A config worker.*$RUN" 2>/dev/null
  [ "$PGRUN" != "$RUN" ] && rm -rf "$PGRUN"
}
trap cleanup EXIT

rm -rf "$RUN"
mkdir -p "$RUN"
# As root, PostgreSQL runs as the postgres user, which may not be able to enter the checkout (a
# clone under a private `mktemp -d`): its data and socket then live in a directory of its own.
PGRUN=$RUN
if [ "$(id -u)" = 0 ]; then
  PGRUN=$(mktemp -d /tmp/tracker-test-pg.XXXXXX)
  chmod 755 "$PGRUN"
fi
mkdir -p "$PGRUN/pg" "$PGRUN/sock"
[ "$(id -u)" = 0 ] && chown -R postgres "$PGRUN/pg" "$PGRUN/sock"
echo "== starting PostgreSQL on 127.0.0.1:$PGPORT and Redis on 127.0.0.1:$REDISPORT"
as_pg "$PGBIN/initdb" -D "$PGRUN/pg" -U tracker --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
# Durability is off: this instance is thrown away after the run.
as_pg "$PGBIN/pg_ctl" -D "$PGRUN/pg" -l "$PGRUN/pg/server.log" -w \
  -o "-p $PGPORT -k $PGRUN/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
as_pg "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U tracker tracker
redis-server --port "$REDISPORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --pidfile "$RUN/redis.pid" --dir "$RUN" --logfile "$RUN/redis.log"

export DATABASE_URL="postgres://tracker@127.0.0.1:$PGPORT/tracker"
export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
export DJANGO_SETTINGS_MODULE=config.settings.test
export TRACKER_TEST_RUN_DIR="$RUN"

echo "== ruff"
"$ROOT/.venv/bin/ruff" check .
"$ROOT/.venv/bin/ruff" format --check .
echo "== makemigrations --check"
"$PY" manage.py makemigrations --check --dry-run
echo "== pytest"
"$PY" -m pytest "$@"
