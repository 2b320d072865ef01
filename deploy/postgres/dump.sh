#!/usr/bin/env bash
# Logical dumps of the platform's databases, one custom-format file per database, as a second,
# portable copy beside pgBackRest's physical backups (restore one table or move to a new major
# version). Run daily as a user that may read both databases:
#
#   deploy/postgres/dump.sh DEST_DIR [DATABASE_URL ...]
#
# URLs are libpq ones (postgresql://user@host:5432/dbname; the password from ~/.pgpass). Without
# URLs, the local sso_idp and sso_training databases are dumped. Dumps older than
# DUMP_KEEP_DAYS (default 14) are deleted. The dumps hold password hashes and encrypted
# identity data: DEST_DIR must be as protected as the database itself.
set -euo pipefail
umask 077

if (($# < 1)); then
    echo "usage: $0 DEST_DIR [DATABASE_URL ...]" >&2
    exit 2
fi
dest="$1"
shift
keep_days="${DUMP_KEEP_DAYS:-14}"
if ! [[ "$keep_days" =~ ^[0-9]+$ ]] || ((keep_days < 1)); then
    echo "DUMP_KEEP_DAYS must be a whole number of days, got '$keep_days'" >&2
    exit 2
fi
if (($# == 0)); then
    set -- "postgresql:///sso_idp" "postgresql:///sso_training"
fi

mkdir -p "$dest"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
for url in "$@"; do
    db="$(psql --no-psqlrc --tuples-only --no-align --dbname="$url" --command='SELECT current_database()')"
    if ! [[ "$db" =~ ^[A-Za-z0-9_]+$ ]]; then
        echo "refusing to name a dump after database '$db'" >&2
        exit 1
    fi
    target="$dest/$db-$stamp.dump"
    # Written under a temporary name, so a dump cut short never looks like a good one.
    pg_dump --dbname="$url" --format=custom --compress=6 --no-owner --file="$target.partial"
    pg_restore --list "$target.partial" >/dev/null
    mv "$target.partial" "$target"
    echo "$target"
done

find "$dest" -maxdepth 1 -type f -name '*.dump' -mtime "+$keep_days" -delete
find "$dest" -maxdepth 1 -type f -name '*.dump.partial' -mmin +1440 -delete
