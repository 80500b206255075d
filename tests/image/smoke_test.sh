#!/usr/bin/env bash
# Smoke run of the container images tools/image built: every binary started
# from its own image with `buildah run --isolation chroot` (the host's
# network, so 127.0.0.1 is this machine's) against a private MariaDB of its
# own (tools/db), as the user the image names, with the DB password and the
# identity keys mounted read-only as a Secret would be. Checks: the image's
# config (user 65532, entrypoint), no compiler or headers in it, no missing
# shared library; each service's gRPC health SERVING and estate_ metrics on
# /metrics; the gateway ready (/readyz: every backend SERVING, all of them the
# images' processes), its metrics and /openapi.json; SIGTERM stops each with
# exit status 0.
# Usage: smoke_test.sh REPO_ROOT [TAG]   (as root; tools/image --smoke runs it)
set -uo pipefail
root="$1"; tag="${2:-dev}"
source "$root/tools/lib.sh"
set +e
probe=(/usr/bin/python3 "$root/tools/grpcprobe")

passed=0; failed=0
check() {  # check "what" command...
  local what="$1"; shift
  if "$@" >/dev/null 2>&1; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what"; fi
}

services=(tickets billing archives cleaning handover)
declare -A grpc_port metrics_port ctr runner pid
work="$(mktemp -d)"
db_dir="$work/db"
cleanup() {
  local n
  for n in "${!pid[@]}"; do kill -9 "${pid[$n]}" 2>/dev/null; done
  for n in "${!runner[@]}"; do kill -9 "${runner[$n]}" 2>/dev/null; wait "${runner[$n]}" 2>/dev/null; done
  for n in "${!ctr[@]}"; do buildah umount "${ctr[$n]}" >/dev/null 2>&1; buildah rm "${ctr[$n]}" >/dev/null 2>&1; done
  "$root/tools/db" stop "$db_dir"
  rm -rf "$work"
}
trap cleanup EXIT
started=$SECONDS

db_port="$(free_port)"
"$root/tools/db" start "$db_dir" "$db_port" || { echo "FAIL: cannot start the test MariaDB"; exit 1; }
admin=(mariadb --no-defaults -h127.0.0.1 -P"$db_port" -uestate_admin -pestate-admin)

# What a Kubernetes Secret volume would hold, readable by uid 65532.
secrets="$work/secrets"
mkdir -p "$secrets/identity"
printf 'smoke-%s\n' "$$" >"$secrets/db-password"
# The dev overlay's HS256 secret (k8s/overlays/dev/kustomization.yaml).
printf %s estate-dev-gateway-jwt-hs256-secret-not-for-real-use >"$secrets/jwt-hs256-secret"
for n in "${services[@]}"; do
  head -c 32 /dev/urandom | base64 >"$secrets/identity/$n.key"
  "${admin[@]}" -e "CREATE DATABASE estate_$n; CREATE USER 'estate_$n'@'127.0.0.1' IDENTIFIED BY 'smoke-$$';
    GRANT ALL ON estate_$n.* TO 'estate_$n'@'127.0.0.1';" || { echo "FAIL: cannot create schema estate_$n"; exit 1; }
done
chmod 755 "$work" "$secrets" "$secrets/identity"
chmod 644 "$secrets/db-password" "$secrets/jwt-hs256-secret" "$secrets"/identity/*.key

# The image's own checks; leaves its working container in ctr[NAME].
inspect_image() {
  local n="$1" image="estate/$1:$tag" mnt
  if ! buildah inspect --type image "$image" >/dev/null 2>&1; then
    failed=$((failed + 1)); echo "FAIL: no image $image (run tools/image first)"; return 1
  fi
  ctr[$n]="$(buildah from --pull=false "$image")"
  mnt="$(buildah mount "${ctr[$n]}")"
  buildah inspect --type image "$image" | /usr/bin/python3 -c '
import json, sys
config = json.load(sys.stdin)["OCIv1"]["config"]
print(config.get("User"), json.dumps(config.get("Entrypoint")), json.dumps(config.get("Cmd") or []))
' >"$work/$n.config"
  check "$n: image user is 65532:65532" grep -q '^65532:65532 ' "$work/$n.config"
  check "$n: entrypoint is the binary, no default args" \
    grep -qx "65532:65532 \[\"/usr/local/bin/estate-$n\"\] \[\]" "$work/$n.config"
  check "$n: the binary is there" test -x "$mnt/usr/local/bin/estate-$n"
  check "$n: no other estate binary in it" test "$(ls "$mnt/usr/local/bin")" = "estate-$n"
  check "$n: no compiler, cmake or -dev headers in it" \
    bash -c "! test -e '$mnt/usr/bin/g++' && ! test -e '$mnt/usr/bin/cmake' && ! test -e '$mnt/usr/include/grpcpp'"
  check "$n: time zones are there (tzdata)" test -f "$mnt/usr/share/zoneinfo/Asia/Shanghai"
  buildah run --isolation chroot "${ctr[$n]}" -- ldd "/usr/local/bin/estate-$n" >"$work/$n.ldd" 2>&1
  check "$n: every shared library found (ldd)" bash -c "grep -q libc.so '$work/$n.ldd' && ! grep -q 'not found' '$work/$n.ldd'"
  # --help exits 1 (abseil); a missing library or a bad binary would be 127 or 126.
  buildah run --isolation chroot "${ctr[$n]}" -- "/usr/local/bin/estate-$n" --helpfull >"$work/$n.help" 2>&1
  check "$n: --helpfull prints the flags" grep -q -- "--grpc_addr" "$work/$n.help"
}

# start NAME ARGS...: the image's entrypoint with ARGS in the background;
# buildah run's pid in runner[NAME].
start() {
  local n="$1"; shift
  local extra=()
  # Services verify callers with identity keys once the kit has them.
  if grep -q -- "--identity_keys_dir" "$work/$n.help"; then
    extra+=(--identity_keys_dir=/etc/estate/identity)
  fi
  buildah run --isolation chroot --volume "$secrets:/etc/estate:ro" "${ctr[$n]}" -- \
    "/usr/local/bin/estate-$n" --shutdown_drain=0s --shutdown_grace=2s "${extra[@]}" "$@" \
    >"$work/$n.log" 2>&1 &
  runner[$n]=$!
}

# The pid of the process listening on 127.0.0.1:PORT (the binary inside the
# container, not buildah).
listener_pid() {
  ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2
}

# wait_serving NAME SECONDS: until its gRPC health is SERVING; fails at once
# if the process has exited.
wait_serving() {
  local i
  for i in $(seq 1 $(($2 * 2))); do
    kill -0 "${runner[$1]}" 2>/dev/null || return 1
    "${probe[@]}" health "127.0.0.1:${grpc_port[$1]}" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

wait_http() {  # URL SECONDS: until it answers 200
  local i
  for i in $(seq 1 $(($2 * 5))); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.2
  done
  return 1
}

for n in "${services[@]}" gateway; do inspect_image "$n" || { echo "$passed passed, $failed failed"; exit 1; }; done
log "images inspected in $((SECONDS - started)) s"

for n in "${services[@]}"; do grpc_port[$n]="$(free_port)"; metrics_port[$n]="$(free_port)"; done
db_args() {
  echo "--db_host=127.0.0.1 --db_port=$db_port --db_user=estate_$1 --db_name=estate_$1 \
    --db_password_file=/etc/estate/db-password \
    --grpc_addr=127.0.0.1:${grpc_port[$1]} --metrics_addr=127.0.0.1:${metrics_port[$1]}"
}
# The peers of cleaning and handover are the images' processes, not whatever
# else may listen on the default ports of this machine.
# shellcheck disable=SC2046
start tickets $(db_args tickets)
start billing $(db_args billing)
start archives $(db_args archives)
start cleaning $(db_args cleaning) --tickets_addr=127.0.0.1:${grpc_port[tickets]}
start handover $(db_args handover) --tickets_addr=127.0.0.1:${grpc_port[tickets]} \
  --billing_addr=127.0.0.1:${grpc_port[billing]} --archives_addr=127.0.0.1:${grpc_port[archives]}
gw_http="$(free_port)"; gw_grpc="$(free_port)"
backends="billing=127.0.0.1:${grpc_port[billing]},tickets=127.0.0.1:${grpc_port[tickets]}"
backends+=",archives=127.0.0.1:${grpc_port[archives]},handover=127.0.0.1:${grpc_port[handover]}"
backends+=",cleaning=127.0.0.1:${grpc_port[cleaning]}"
start gateway --http_addr=127.0.0.1:$gw_http --grpc_addr=127.0.0.1:$gw_grpc --backends="$backends" \
  --jwt_hs256_secret_file=/etc/estate/jwt-hs256-secret

for n in "${services[@]}"; do
  check "$n: gRPC health turns SERVING (from its image)" wait_serving "$n" 90
  check "$n: health SERVING" "${probe[@]}" health "127.0.0.1:${grpc_port[$n]}"
  check "$n: /metrics answers with estate_ metrics" \
    bash -c "curl -sf http://127.0.0.1:${metrics_port[$n]}/metrics | grep -q '^estate_'"
  pid[$n]="$(listener_pid "${grpc_port[$n]}")"
  check "$n: runs as uid 65532" bash -c "grep -Eq '^Uid:[[:space:]]+65532[[:space:]]' /proc/${pid[$n]:-0}/status"
done
check "gateway: /healthz answers" wait_http "http://127.0.0.1:$gw_http/healthz" 30
check "gateway: /readyz (every backend SERVING)" wait_http "http://127.0.0.1:$gw_http/readyz" 30
check "gateway: /metrics answers with estate_gateway_ metrics" \
  bash -c "curl -sf http://127.0.0.1:$gw_http/metrics | grep -q '^estate_gateway_'"
check "gateway: /openapi.json" bash -c "curl -sf http://127.0.0.1:$gw_http/openapi.json | grep -q '\"paths\"'"
pid[gateway]="$(listener_pid "$gw_http")"

# The README's curl calls (k8s/README.md's kind walkthrough makes the same),
# with a token as `estatectl token --site=demo --role=manager` mints it.
ESTATE_TOKEN="$(/usr/bin/python3 - "$secrets/jwt-hs256-secret" <<'EOF'
import base64, hashlib, hmac, json, sys, time
def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
secret = open(sys.argv[1], "rb").read().strip()
now = int(time.time())
claims = {"sub": "image-smoke", "iss": "estate", "aud": "estate-api", "iat": now,
          "exp": now + 600, "roles": ["manager"], "sites": ["demo"]}
signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
print(signing_input + "." + b64(signature))
EOF
)"
api="http://127.0.0.1:$gw_http"
curl -s -H "Authorization: Bearer $ESTATE_TOKEN" "$api/v1/sites/demo/tickets?page_size=3&kind=REPAIR" >"$work/list.json"
check "API: list tickets answers a list" grep -q '"tickets"' "$work/list.json"
curl -s -H "Authorization: Bearer $ESTATE_TOKEN" -X POST \
  "$api/v1/sites/demo/tickets?request_id=$(cat /proc/sys/kernel/random/uuid)" \
  -d '{"kind":"REPAIR","channel":"PHONE","title":"Tap leaks in 4-1-302","unit":"4-1-302"}' >"$work/create.json"
ticket="$(grep -o '"name": *"sites/demo/tickets/[0-9]*"' "$work/create.json" | grep -o 'sites/demo/tickets/[0-9]*')"
check "API: POST creates a ticket" test -n "$ticket"
curl -s -H "Authorization: Bearer $ESTATE_TOKEN" "$api/v1/${ticket:-none}/events" >"$work/events.json"
check "API: the new ticket's events" grep -q '"events"' "$work/events.json"
# The dev overlay has no API keys: the walkthrough asks for the stats with the token.
check "API: ticket stats" test "$(curl -s -o "$work/stats.json" -w '%{http_code}' -H "Authorization: Bearer $ESTATE_TOKEN" \
  "$api/v1/sites/demo/ticketStats?start_time=2026-01-01T00:00:00Z&end_time=2027-01-01T00:00:00Z")" = 200
check "API: no token, 401" test "$(curl -s -o /dev/null -w '%{http_code}' "$api/v1/sites/demo/tickets")" = 401
check "gateway: runs as uid 65532" bash -c "grep -Eq '^Uid:[[:space:]]+65532[[:space:]]' /proc/${pid[gateway]:-0}/status"
log "suite up from the images in $((SECONDS - started)) s"

# SIGTERM to the binary inside each container: it drains and exits 0, and
# buildah run hands that status back.
for n in gateway "${services[@]}"; do
  [ -n "${pid[$n]:-}" ] && kill -TERM "${pid[$n]}"
done
for n in gateway "${services[@]}"; do
  wait "${runner[$n]}"; rc=$?
  unset "runner[$n]" "pid[$n]"
  check "$n: SIGTERM exits 0" test "$rc" -eq 0
done

if [ "$failed" -gt 0 ]; then
  for n in "${services[@]}" gateway; do echo "--- $n log"; tail -20 "$work/$n.log"; done
  for f in list create events stats; do echo "--- $f.json"; head -c 600 "$work/$f.json" 2>/dev/null; echo; done
fi
echo "$passed passed, $failed failed ($((SECONDS - started)) s)"
[ "$failed" -eq 0 ]
