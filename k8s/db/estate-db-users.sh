#!/usr/bin/env bash
# The one definition of the estate database accounts, used by tools/up (on its
# private tools/db server) and by the dev cluster's Job estate-db-setup
# (setup-job.yaml, which mounts this file from the generated ConfigMap
# estate-db-setup). It prints SQL for an admin client to run; it connects to
# nothing itself:
#
#   estate-db-users.sh service HOST SCHEMA PASSWORD_FILE
#       the schema SCHEMA and its user 'SCHEMA'@'HOST', with every privilege
#       on that schema and none elsewhere (DESIGN.md: a service never reads
#       another's tables)
#   estate-db-users.sh backup HOST PASSWORD_FILE
#       the read-only account 'estate_backup'@'HOST' of the backup CronJob
#       (../base/backup): SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES on *.*
#
# HOST is the account's host part: 127.0.0.1 for tools/up (its server runs
# with skip-name-resolve and the services connect over loopback), % in a
# cluster (pods connect from changing addresses). The password is the file's
# content without trailing whitespace, as the services' --db_password_file
# reads it, so a Secret written with a final newline still matches.
#
# Every statement can run again: the schema and user are created if missing,
# the password is reset to the file's, the grant is idempotent. Running it
# after a password change in a Secret updates the account.
set -euo pipefail

usage() {
  echo "usage: estate-db-users.sh service HOST SCHEMA PASSWORD_FILE" >&2
  echo "       estate-db-users.sh backup HOST PASSWORD_FILE" >&2
  exit 2
}

# A quoted SQL string literal: backslashes and single quotes escaped.
sql_string() {
  local s="${1//\\/\\\\}"
  printf "'%s'" "${s//\'/\\\'}"
}

password_from() {
  local file="$1" pw
  [ -r "$file" ] || { echo "estate-db-users.sh: cannot read password file $file" >&2; exit 1; }
  pw="$(cat "$file")"
  # Trailing whitespace dropped (spaces, tabs, newlines), as the services do.
  pw="${pw%"${pw##*[![:space:]]}"}"
  [ -n "$pw" ] || { echo "estate-db-users.sh: password file $file is empty" >&2; exit 1; }
  printf '%s' "$pw"
}

check_host() {
  [[ "$1" =~ ^[%A-Za-z0-9._:-]+$ ]] || { echo "estate-db-users.sh: bad HOST '$1'" >&2; exit 2; }
}

what="${1:-}"
case "$what" in
  service)
    [ $# -eq 4 ] || usage
    host="$2" schema="$3"
    check_host "$host"
    # Also the user name: MariaDB user names are at most 80 characters.
    [[ "$schema" =~ ^[a-z][a-z0-9_]{0,63}$ ]] || { echo "estate-db-users.sh: bad SCHEMA '$schema'" >&2; exit 2; }
    # Two steps: a failure inside a nested $(...) would not stop the script.
    raw="$(password_from "$4")"
    pw="$(sql_string "$raw")"
    account="'$schema'@'$host'"
    cat <<SQL
CREATE DATABASE IF NOT EXISTS \`$schema\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS $account IDENTIFIED BY $pw;
ALTER USER $account IDENTIFIED BY $pw;
GRANT ALL PRIVILEGES ON \`$schema\`.* TO $account;
SQL
    ;;
  backup)
    [ $# -eq 3 ] || usage
    host="$2"
    check_host "$host"
    raw="$(password_from "$3")"
    pw="$(sql_string "$raw")"
    account="'estate_backup'@'$host'"
    cat <<SQL
CREATE USER IF NOT EXISTS $account IDENTIFIED BY $pw;
ALTER USER $account IDENTIFIED BY $pw;
GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON *.* TO $account;
SQL
    ;;
  *) usage ;;
esac
