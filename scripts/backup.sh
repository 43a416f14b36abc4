#!/usr/bin/env bash
# Back up XHHT: the PostgreSQL database (pg_dump, custom format) and the media
# files (decision PDFs, evidence, job files), with a manifest to verify a restore.
#
# Usage:  DATABASE_URL=postgres://user@host:5432/xhht MEDIA_ROOT=/srv/xhht/media \
#             scripts/backup.sh [BACKUP_ROOT]
#
# Writes BACKUP_ROOT/xhht-YYYYmmddTHHMMSSZ/ (BACKUP_ROOT defaults to ./backups):
#   db.dump              pg_dump --format=custom of DATABASE_URL
#   media.tar            every file under MEDIA_ROOT (paths relative to it)
#   counts.tsv           row count of every table, same snapshot as db.dump
#   media.sha256         SHA-256 of every media file (sha256sum format)
#   files.sha256         SHA-256 of db.dump and media.tar
# The counts are taken in the very snapshot pg_dump exports (one REPEATABLE READ
# transaction shared through pg_export_snapshot), so they match the dump even
# while the application keeps writing. Prints the backup folder on stdout.
set -euo pipefail

: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to back up}"
case "$DATABASE_URL" in
postgres://* | postgresql://*) ;;
*)
    echo "backup.sh: DATABASE_URL must be a postgres:// URL" >&2
    exit 2
    ;;
esac
MEDIA_ROOT="${MEDIA_ROOT:-$(cd "$(dirname "$0")/.." && pwd)/media}"
BACKUP_ROOT="${1:-${BACKUP_ROOT:-backups}}"
for tool in pg_dump psql tar sha256sum; do
    command -v "$tool" >/dev/null || {
        echo "backup.sh: $tool is not on PATH" >&2
        exit 2
    }
done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
dest="$BACKUP_ROOT/xhht-$stamp"
[ -e "$dest" ] && {
    echo "backup.sh: $dest exists" >&2
    exit 1
}
mkdir -p "$dest"
dest="$(cd "$dest" && pwd)"

# Row counts of every table of the public schema, one "table<TAB>count" a line.
COUNT_SQL="SELECT 'COUNT' || chr(9) || table_name || chr(9) ||
  (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I',
   table_schema, table_name), false, true, '')))[1]::text
  FROM information_schema.tables
  WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name;"

# 1. One session holds a REPEATABLE READ snapshot for pg_dump and the counts.
coproc SNAPSHOT { psql "$DATABASE_URL" -X -q -A -t -v ON_ERROR_STOP=1 2>&1; }
snap_in="${SNAPSHOT[1]}"
snap_out="${SNAPSHOT[0]}"
cleanup() { [ -n "${SNAPSHOT_PID:-}" ] && kill "$SNAPSHOT_PID" 2>/dev/null || true; }
trap cleanup EXIT

read_until() { # read_until PREFIX: lines of the session up to the "<PREFIX>END" line
    local line
    while IFS= read -r -t 600 line <&"$snap_out"; do
        [ "$line" = "${1}END" ] && return 0
        printf '%s\n' "$line"
    done
    echo "backup.sh: the snapshot session stopped answering" >&2
    return 1
}

printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" \
    "SELECT 'SNAP' || chr(9) || pg_export_snapshot();" "SELECT 'SNAPEND';" >&"$snap_in"
# (coproc descriptors are not inherited by subshells: read into files, then parse)
read_until SNAP >"$dest/.session"
snapshot="$(awk -F'\t' '$1 == "SNAP" { print $2 }' "$dest/.session")"
[ -n "$snapshot" ] || {
    echo "backup.sh: could not export a snapshot" >&2
    exit 1
}

printf '%s\n' "$COUNT_SQL" "SELECT 'COUNTEND';" >&"$snap_in"
read_until COUNT >"$dest/.session"
awk -F'\t' '$1 == "COUNT" { print $2 "\t" $3 }' "$dest/.session" >"$dest/counts.tsv"
rm -f "$dest/.session"
[ -s "$dest/counts.tsv" ] || {
    echo "backup.sh: no table counted" >&2
    exit 1
}

# 2. The dump, in the same snapshot.
pg_dump --dbname="$DATABASE_URL" --format=custom --no-owner --no-privileges \
    --snapshot="$snapshot" --file="$dest/db.dump"
printf '%s\n' "COMMIT;" '\q' >&"$snap_in"
wait "$SNAPSHOT_PID" 2>/dev/null || true

# 3. The media: checksums of the listed files, and a tar of exactly those.
: >"$dest/media.sha256"
if [ -d "$MEDIA_ROOT" ]; then
    (
        cd "$MEDIA_ROOT"
        find . -type f -print0 | LC_ALL=C sort -z >"$dest/media.list"
        xargs -0 -r sha256sum -- <"$dest/media.list" >"$dest/media.sha256"
        tar --null --files-from="$dest/media.list" -cf "$dest/media.tar"
    )
    rm -f "$dest/media.list"
else
    echo "backup.sh: MEDIA_ROOT $MEDIA_ROOT does not exist; empty media archive" >&2
    tar -cf "$dest/media.tar" --files-from=/dev/null
fi

(cd "$dest" && sha256sum db.dump media.tar >files.sha256)
echo "$dest"
