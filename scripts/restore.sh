#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into the database at DATABASE_URL and the directory
# MEDIA_ROOT. Meant for an empty database (a new one, `createdb`) and an empty media directory;
# with --replace, the tables in the database and the files in MEDIA_ROOT are dropped first.
# Stop the web and worker processes while restoring.
#
#   DATABASE_URL=postgres://tracker@db/tracker_restored MEDIA_ROOT=/srv/tracker/media \
#     scripts/restore.sh /backups/tracker-20261203-0200.dump /backups/tracker-20261203-0200.media.tar.gz
#
# The whole database restore is one transaction: it is all there or not at all.
set -euo pipefail
cd "$(dirname "$0")/.."
REPLACE=0
if [ "${1:-}" = "--replace" ]; then REPLACE=1; shift; fi
DUMP=${1:?usage: restore.sh [--replace] BACKUP.dump BACKUP.media.tar.gz}
MEDIA_TAR=${2:?usage: restore.sh [--replace] BACKUP.dump BACKUP.media.tar.gz}
: "${DATABASE_URL:?set DATABASE_URL to the database to restore into}"
MEDIA_ROOT=${MEDIA_ROOT:-$PWD/.run/media}
[ -f "$DUMP" ] && [ -f "$MEDIA_TAR" ] || { echo "restore.sh: missing $DUMP or $MEDIA_TAR" >&2; exit 2; }
if [ -z "${PG_BIN:-}" ] && ! command -v pg_restore >/dev/null; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
PG_RESTORE=${PG_BIN:+$PG_BIN/}pg_restore

tar -tzf "$MEDIA_TAR" >/dev/null  # a damaged archive stops us before the database is touched
clean=()
[ "$REPLACE" = 1 ] && clean=(--clean --if-exists)
"$PG_RESTORE" --no-owner --no-privileges --single-transaction --exit-on-error "${clean[@]}" \
  --dbname="$DATABASE_URL" "$DUMP"

mkdir -p "$MEDIA_ROOT"
if [ "$REPLACE" = 1 ]; then
  find "$MEDIA_ROOT" -mindepth 1 -delete
fi
tar -C "$MEDIA_ROOT" -xzf "$MEDIA_TAR"
echo "restored $DUMP into the database and $MEDIA_TAR into $MEDIA_ROOT"
