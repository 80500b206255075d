#!/usr/bin/env bash
# The one backup procedure of the estate suite, run by tools/backup on a
# tools/db server and by the estate-backup CronJob (cronjob.yaml) on the
# cluster's database:
#   estate-backup.sh OUT_DIR [CLIENT OPTION...]
# CLIENT OPTIONs (e.g. --host=… --port=… --user=…; the password in MYSQL_PWD)
# are given to both mariadb and mariadb-dump. Writes OUT_DIR/estate.sql.gz and,
# last, OUT_DIR/manifest.txt: a directory without a manifest is not a backup.
#  - One consistent snapshot of all schemas (mariadb-dump --single-transaction:
#    one REPEATABLE READ transaction started before the first row is read), so
#    that a payment and the outbox row it queued are both in or both out. The
#    services keep writing meanwhile; nothing is locked but the brief metadata
#    locks of each table's dump.
#  - The schemas' users and their grants (not root, not the admin or backup
#    accounts), so that the services can log in to the restored server as before.
#  - The manifest records when the snapshot was asked for: every write a
#    client saw acknowledged before `snapshot_requested` is in the backup.
# Where the server has a binary log (a replica set), ESTATE_BACKUP_BINLOG=1
# records its position in the dump (--master-data=2) for point-in-time recovery.
set -euo pipefail
out="${1:?usage: estate-backup.sh OUT_DIR [CLIENT OPTION...]}"
shift
client=("$@")
mkdir -p "$out"
sql() { mariadb "${client[@]}" -N -B "$@"; }

schemas=$(sql -e "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN
                  ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1")
[ -n "$schemas" ] || { echo "estate-backup: no schema to back up" >&2; exit 1; }

# Users with a grant on one of the schemas (the services' own).
users_sql="$out/users.sql.tmp"
: >"$users_sql"
while IFS=$'\t' read -r user host; do
  [ -n "$user" ] || continue
  create=$(sql -e "SHOW CREATE USER '$user'@'$host'")
  echo "${create/CREATE USER/CREATE USER IF NOT EXISTS};" >>"$users_sql"
  sql -e "SHOW GRANTS FOR '$user'@'$host'" | { grep -v "^GRANT USAGE" || true; } \
    | sed 's/$/;/' >>"$users_sql"
done < <(sql -e "SELECT DISTINCT user, host FROM mysql.db
                 WHERE user NOT IN ('root', 'estate_admin', 'estate_backup', '')")

binlog=()
[ "${ESTATE_BACKUP_BINLOG:-0}" != 1 ] || binlog=(--master-data=2)
requested=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
# shellcheck disable=SC2086
mariadb-dump "${client[@]}" --single-transaction --quick --routines --triggers --events \
  --hex-blob --no-tablespaces "${binlog[@]}" --databases $schemas >"$out/estate.sql.tmp"
cat "$users_sql" >>"$out/estate.sql.tmp"
gzip -c "$out/estate.sql.tmp" >"$out/estate.sql.gz"
rm -f "$out/estate.sql.tmp" "$users_sql"
{
  echo "snapshot_requested $requested"
  echo "finished $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "server $(sql -e 'SELECT VERSION()')"
  echo "schemas $(echo $schemas)"
  echo "sha256 $(sha256sum "$out/estate.sql.gz" | cut -d' ' -f1)"
} >"$out/manifest.tmp"
mv "$out/manifest.tmp" "$out/manifest.txt"
echo "estate-backup: $(echo "$schemas" | wc -w) schema(s) in $out" >&2
