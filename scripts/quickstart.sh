#!/usr/bin/env bash
# One command from a fresh clone to a running portal on http://127.0.0.1:8000: .venv, packages,
# an embedded SQLite database, the four cities' catalog and demo data, demo logins, and
# background jobs run in-process (no Redis needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=config.settings.local
unset DATABASE_URL REDIS_URL
"$PY" manage.py migrate --noinput -v0
echo "== loading the catalog"
"$PY" manage.py seed_catalog
if "$PY" manage.py help seed_demo >/dev/null 2>&1; then
  echo "== loading demo data"
  "$PY" manage.py seed_demo
  echo "== loading demo 督办 tasks"
  "$PY" manage.py seed_duban_demo
  echo "== loading demo departments, allocations and the 2015 assessment"
  "$PY" manage.py seed_accountability_demo
fi
"$PY" manage.py ensure_admin --username admin --password admin
echo
echo "Portal: http://127.0.0.1:8000   login: admin / admin (administrator)"
"$PY" manage.py demo_logins 2>/dev/null || true
echo
exec "$PY" manage.py runserver 127.0.0.1:8000 --noreload
