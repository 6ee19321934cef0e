#!/usr/bin/env bash
# Back up the portal: the PostgreSQL database (pg_dump, custom format: compressed, restorable
# table by table) and the uploaded files under MEDIA_ROOT (a tar.gz). Two files, both needed to
# restore (scripts/restore.sh):
#
#   DATABASE_URL=postgres://tracker@db/tracker MEDIA_ROOT=/srv/tracker/media \
#     scripts/backup.sh /backups            # -> /backups/tracker-20261203-0200.{dump,media.tar.gz}
#
# DATABASE_URL is the portal's own (postgres://user[:password]@host[:port]/name); MEDIA_ROOT
# defaults to .run/media as in the settings. PG_BIN may name the directory of pg_dump (it must
# be the server's major version or newer). A run that fails leaves no half-written backup.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=${1:-.run/backups}
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database of the portal}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "backup.sh: DATABASE_URL is not PostgreSQL (the quick start's SQLite file is .run/db.sqlite3: copy it while the portal is stopped)" >&2; exit 2 ;;
esac
MEDIA_ROOT=${MEDIA_ROOT:-$PWD/.run/media}
if [ -z "${PG_BIN:-}" ] && ! command -v pg_dump >/dev/null; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
PG_DUMP=${PG_BIN:+$PG_BIN/}pg_dump

mkdir -p "$DEST"
STAMP=${BACKUP_STAMP:-$(date -u +%Y%m%d-%H%M%S)}
BASE="$DEST/tracker-$STAMP"
trap 'rm -f "$BASE.dump.part" "$BASE.media.tar.gz.part"' EXIT

"$PG_DUMP" --format=custom --no-owner --no-privileges --file="$BASE.dump.part" "$DATABASE_URL"
mkdir -p "$MEDIA_ROOT"
tar -C "$MEDIA_ROOT" -czf "$BASE.media.tar.gz.part" .
mv "$BASE.dump.part" "$BASE.dump"
mv "$BASE.media.tar.gz.part" "$BASE.media.tar.gz"
echo "$BASE.dump"
echo "$BASE.media.tar.gz"
