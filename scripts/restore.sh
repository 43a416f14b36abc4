#!/usr/bin/env bash
# Restore an XHHT backup made by scripts/backup.sh into a FRESH database and a
# media folder, then verify it against the backup's manifest.
#
# Usage:  DATABASE_URL=postgres://user@host:5432/xhht \
#             scripts/restore.sh BACKUP_DIR NEW_DATABASE MEDIA_TARGET
#
#   BACKUP_DIR     a folder written by backup.sh (db.dump, media.tar, *.sha256, counts.tsv)
#   NEW_DATABASE   name of the database to create on DATABASE_URL's server; it must
#                  not exist yet (a restore never overwrites a database)
#   MEDIA_TARGET   folder to unpack the media into (created; must be empty if it exists)
#
# Steps: check the archives' SHA-256 (files.sha256), create NEW_DATABASE,
# pg_restore db.dump into it, untar media.tar into MEDIA_TARGET, then compare the
# row count of every table with counts.tsv and every media file with
# media.sha256. Exits non-zero on the first difference. Point the application at
# the restored copy with DATABASE_URL=<same server>/NEW_DATABASE and
# MEDIA_ROOT=MEDIA_TARGET.
set -euo pipefail

if [ "$#" -ne 3 ]; then
    echo "usage: DATABASE_URL=postgres://... $0 BACKUP_DIR NEW_DATABASE MEDIA_TARGET" >&2
    exit 2
fi
backup="$1"
newdb="$2"
target="$3"
: "${DATABASE_URL:?DATABASE_URL must name a database on the server to restore into}"
case "$DATABASE_URL" in
postgres://*/* | postgresql://*/*) ;;
*)
    echo "restore.sh: DATABASE_URL must be a postgres://host/db URL" >&2
    exit 2
    ;;
esac
[[ "$newdb" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || {
    echo "restore.sh: NEW_DATABASE must be a plain lower-case name" >&2
    exit 2
}
for file in db.dump media.tar files.sha256 media.sha256 counts.tsv; do
    [ -f "$backup/$file" ] || {
        echo "restore.sh: $backup/$file is missing" >&2
        exit 2
    }
done
for tool in pg_restore psql tar sha256sum; do
    command -v "$tool" >/dev/null || {
        echo "restore.sh: $tool is not on PATH" >&2
        exit 2
    }
done
backup="$(cd "$backup" && pwd)"

# The new database's URL: DATABASE_URL with its path (the database name) replaced.
new_url="$(printf '%s' "$DATABASE_URL" | sed -E "s#^(postgres(ql)?://[^/]*/)[^?]*#\1$newdb#")"

echo "Checking the archives …"
(cd "$backup" && sha256sum --check --quiet files.sha256)

exists="$(psql "$DATABASE_URL" -X -A -t -v ON_ERROR_STOP=1 \
    -c "SELECT 1 FROM pg_database WHERE datname = '$newdb'")"
[ -z "$exists" ] || {
    echo "restore.sh: database $newdb exists; restore only into a fresh database" >&2
    exit 1
}
if [ -e "$target" ] && [ -n "$(ls -A "$target")" ]; then
    echo "restore.sh: $target is not empty" >&2
    exit 1
fi

echo "Restoring the database into $newdb …"
psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$newdb\""
pg_restore --dbname="$new_url" --no-owner --no-privileges --exit-on-error "$backup/db.dump"

echo "Unpacking the media into $target …"
mkdir -p "$target"
tar -xf "$backup/media.tar" -C "$target"

echo "Verifying the row counts …"
COUNT_SQL="SELECT table_name || chr(9) ||
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
   table_schema, table_name), false, true, '')))[1]::text
  FROM information_schema.tables
  WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name;"
restored="$(mktemp)"
trap 'rm -f "$restored"' EXIT
psql "$new_url" -X -A -t -v ON_ERROR_STOP=1 -c "$COUNT_SQL" >"$restored"
if ! diff -u "$backup/counts.tsv" "$restored"; then
    echo "restore.sh: row counts differ from the manifest (- backup, + restored)" >&2
    exit 1
fi

echo "Verifying the media checksums …"
(cd "$target" && sha256sum --check --quiet --strict "$backup/media.sha256")
files="$(wc -l <"$backup/media.sha256")"
tables="$(wc -l <"$backup/counts.tsv")"
echo "Restore verified: $tables tables, $files media files, database $newdb, media in $target."
