# Shared by the e2e scripts: tools/lib.sh, a check counter, and a fresh schema
# and user on the private test MariaDB (ESTATE_TEST_DB_PORT). Sourced.
# After sourcing: $schema, $work (a temp dir), admin (array: mariadb as admin),
# check "what" command..., finish (prints the tally, returns non-zero on failure).
: "${ESTATE_TEST_DB_PORT:?run through tools/test}"
source "$root/tools/lib.sh"
set +e

passed=0; failed=0
check() {  # check "what" command...
  local what="$1"; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

schema="${E2E_SCHEMA_PREFIX:-e2e}_$$"
admin=(mariadb --no-defaults -h127.0.0.1 -P"$ESTATE_TEST_DB_PORT" -uestate_admin -pestate-admin)
"${admin[@]}" -e "CREATE DATABASE $schema; CREATE USER '$schema'@'127.0.0.1' IDENTIFIED BY 'pw-$$';
  GRANT ALL ON $schema.* TO '$schema'@'127.0.0.1';" || { echo "cannot create schema"; exit 1; }
work="$(mktemp -d)"
# Service identity keys, as tools/up makes them: every process started by the
# script finds them through the environment.
mkdir -p "$work/identity"
for svc in billing tickets archives handover cleaning; do
  head -c 32 /dev/urandom | base64 > "$work/identity/$svc.key"
done
export ESTATE_IDENTITY_KEYS_DIR="$work/identity"
drop_schema() {
  "${admin[@]}" -e "DROP DATABASE IF EXISTS $schema; DROP USER IF EXISTS '$schema'@'127.0.0.1';"
  rm -rf "$work"
}
