#!/usr/bin/env bash
# Runs the dev overlay's Job estate-db-setup, as rendered, against a private
# MariaDB (tools/db), twice, and checks what it leaves: each service's user
# can log in with the password of its rendered Secret and use its own schema
# and nothing else; the backup user reads every schema and writes none.
#
#   bash tests/k8s/db_setup_test.sh <repo_root>
#
# What differs from the cluster: the server is tools/db's (root@127.0.0.1 gets
# the dev root password, as the mariadb image gives root@'%'), the Job's
# mounts (/opt/estate, /var/run/secrets/estate/db-users) are folders here
# filled from the rendered ConfigMap and Secrets, ESTATE_DB_HOST/PORT point at
# the private server. The Job's command itself is run as rendered.
set -euo pipefail
root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$root"
KUBECTL="${KUBECTL:-kubectl}"

passed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() { echo "FAIL: $*" >&2; echo "${passed} passed, 1 failed"; exit 1; }

tmp="$(mktemp -d)"
db="$tmp/db"
cleanup() { tools/db stop "$db" >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT

"$KUBECTL" kustomize k8s/overlays/dev >"$tmp/dev.yaml" 2>"$tmp/kustomize.err" || { cat "$tmp/kustomize.err" >&2; fail "kubectl kustomize k8s/overlays/dev"; }

# The Job's command, its mounts' content and the root password, from the
# rendered objects.
python3 - "$tmp" <<'PY' || fail "the rendered dev overlay has no usable Job estate-db-setup"
import base64, os, sys, yaml
tmp = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(f"{tmp}/dev.yaml")) if d]
by = lambda kind: {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}
job = by("Job")["estate-db-setup"]
pod = job["spec"]["template"]["spec"]
c = pod["containers"][0]
vols = {v["name"]: v for v in pod["volumes"]}
secrets, cms = by("Secret"), by("ConfigMap")
# Each mount's files under $tmp/root/<mountPath>; the command's /opt/estate
# and /var/run/secrets/estate are rewritten to point there.
for m in c["volumeMounts"]:
    v = vols[m["name"]]
    if "emptyDir" in v:
        continue  # scratch space (/tmp): the host's will do
    local = f"{tmp}/root{m['mountPath']}"
    os.makedirs(local)
    files = {}
    if "configMap" in v:
        files = cms[v["configMap"]["name"]]["data"]
    if "secret" in v:
        data = secrets[v["secret"]["secretName"]]["data"]
        for it in v["secret"].get("items") or [{"key": k, "path": k} for k in data]:
            files[it["path"]] = base64.b64decode(data[it["key"]]).decode()
    for src in (v.get("projected") or {}).get("sources") or []:
        data = secrets[src["secret"]["name"]]["data"]
        for it in src["secret"]["items"]:
            files[it["path"]] = base64.b64decode(data[it["key"]]).decode()
    for name, text in files.items():
        with open(f"{local}/{name}", "w") as f:
            f.write(text)
import re
script = re.sub(r"(?<![\w/])(/opt/estate|/var/run/secrets/estate)(?=[/\s\"']|$)",
                lambda m: f"{tmp}/root{m.group(1)}", c["command"][-1], flags=re.M)
with open(f"{tmp}/job.sh", "w") as f:
    f.write(script)
ref = next(e for e in c["env"] if e["name"] == "MYSQL_PWD")["valueFrom"]["secretKeyRef"]
with open(f"{tmp}/root-password", "w") as f:
    f.write(base64.b64decode(secrets[ref["name"]]["data"][ref["key"]]).decode())
# Each account's password, as the services read it.
for name in ("archives", "billing", "cleaning", "handover", "tickets", "backup"):
    sec = next(s for n, s in secrets.items() if n.startswith(f"estate-{name}-db-"))
    with open(f"{tmp}/{name}.password", "w") as f:
        f.write(base64.b64decode(sec["data"]["password"]).decode())
PY
ok "the Job's command, script and password files taken from the rendered dev overlay"

# A free port for the private server.
port=""
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free port"
tools/db start "$db" "$port" >/dev/null || fail "tools/db start"
root_pw="$(cat "$tmp/root-password")"
tools/db sql "$db" -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '$root_pw'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" \
  || fail "giving root@127.0.0.1 the dev root password"
ok "private MariaDB on 127.0.0.1:$port with the dev root password"

run_job() {
  ESTATE_DB_HOST=127.0.0.1 ESTATE_DB_PORT="$port" MYSQL_PWD="$root_pw" \
    timeout 120 bash "$tmp/job.sh" >"$tmp/job.out" 2>&1
}
run_job || { cat "$tmp/job.out" >&2; fail "the Job's command failed on an empty server"; }
ok "the Job's command creates the schemas and users: $(tail -1 "$tmp/job.out")"
run_job || { cat "$tmp/job.out" >&2; fail "the Job's command failed when run again"; }
ok "the Job's command runs again on a server that has everything (idempotent)"

as() {  # as USER PASSWORD_FILE SQL
  MYSQL_PWD="$(cat "$2")" mariadb --no-defaults --protocol=TCP --host=127.0.0.1 --port="$port" --user="$1" -N -B -e "$3"
}
services=(archives billing cleaning handover tickets)
for svc in "${services[@]}"; do
  user="estate_$svc"
  as "$user" "$tmp/$svc.password" "CREATE TABLE $user.t (id INT PRIMARY KEY); INSERT INTO $user.t VALUES (1); SELECT COUNT(*) FROM $user.t" \
    >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "$user cannot use its schema"; }
  ok "$user logs in with its Secret's password and writes its own schema"
  visible="$(as "$user" "$tmp/$svc.password" "SHOW DATABASES" | grep -v '^information_schema$' | tr '\n' ' ')"
  [ "$visible" = "$user " ] || fail "$user sees schemas other than its own: $visible"
  ok "$user sees only its own schema"
done
for svc in "${services[@]}"; do
  other="estate_$([ "$svc" = tickets ] && echo billing || echo tickets)"
  if as "estate_$svc" "$tmp/$svc.password" "SELECT * FROM $other.t" >"$tmp/out" 2>&1; then
    fail "estate_$svc reads $other.t"
  fi
  grep -q "denied" "$tmp/out" || { cat "$tmp/out" >&2; fail "estate_$svc reading $other.t failed for another reason than a denied access"; }
  ok "estate_$svc is denied $other"
done
n="$(as estate_backup "$tmp/backup.password" "SELECT (SELECT COUNT(*) FROM estate_archives.t) + (SELECT COUNT(*) FROM estate_tickets.t)")" \
  || fail "estate_backup cannot read the schemas"
[ "$n" = 2 ] || fail "estate_backup read $n rows, want 2"
ok "estate_backup reads every schema"
if as estate_backup "$tmp/backup.password" "INSERT INTO estate_tickets.t VALUES (2)" >"$tmp/out" 2>&1; then
  fail "estate_backup can write"
fi
ok "estate_backup cannot write"
# A changed password in a Secret reaches the account when the Job runs again.
# A missing password file fails the Job, and nothing is changed.
pwdir="$tmp/root/var/run/secrets/estate/db-users"
[ -f "$pwdir/tickets/password" ] || fail "the Job's tickets password is not at $pwdir/tickets/password"
mv "$pwdir/billing/password" "$tmp/billing.moved"
echo "another-tickets-password" >"$pwdir/tickets/password"
if run_job; then fail "the Job's command succeeded without billing's password file"; fi
mv "$tmp/billing.moved" "$pwdir/billing/password"
as estate_tickets "$tmp/tickets.password" "SELECT 1" >/dev/null 2>&1 || fail "a failed run changed estate_tickets' password"
ok "a missing password file fails the Job before anything is changed"
echo "a-new-tickets-password" >"$tmp/new"
cp "$tmp/new" "$pwdir/tickets/password"
run_job || { cat "$tmp/job.out" >&2; fail "the Job's command failed after a password change"; }
as estate_tickets "$tmp/new" "SELECT 1" >/dev/null 2>&1 || fail "estate_tickets does not have the changed password"
ok "a changed password in a Secret is applied when the Job runs again"

echo "${passed} passed, 0 failed"
