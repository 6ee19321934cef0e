#!/usr/bin/env bash
# Creates .venv in the repository root and installs everything the portal needs: pinned Python
# packages, the front-end packages (ECharts) from npm, and compiled translations. Idempotent and
# quick on a second run: each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
# BOOTSTRAP_DEV=1 (set by scripts/test.sh) adds the test, lint and bench tools.
reqs=requirements.txt
[ "${BOOTSTRAP_DEV:-0}" = 1 ] && reqs=requirements-dev.txt
stamp=.venv/.requirements.sha256
want=$(cat requirements.txt "$reqs" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== installing Python packages ($reqs)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$reqs"
  echo "$want" > "$stamp"
fi

if [ -f package.json ]; then
  nstamp=node_modules/.package-lock.sha256
  nwant=$(cat package.json package-lock.json 2>/dev/null | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$nstamp" 2>/dev/null)" != "$nwant" ]; then
    if ! command -v npm >/dev/null; then
      echo "== npm is missing: installing Debian's nodejs and npm"
      if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
      else sudo apt-get update -qq && sudo apt-get install -y -qq nodejs npm >/dev/null; fi
    fi
    echo "== installing front-end packages (package.json)"
    npm ci --no-audit --no-fund --silent
    echo "$nwant" > "$nstamp"
  fi
fi

.venv/bin/python scripts/compilemessages.py
mkdir -p "$ROOT/.run"
