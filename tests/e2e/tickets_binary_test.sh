#!/usr/bin/env bash
# The built estate-tickets binary as a process, driven by clients we did not
# write into it: reflection and health via python3-grpcio (tools/grpcprobe),
# /metrics via curl. Needs the private test MariaDB (ESTATE_TEST_DB_PORT).
# Usage: tickets_binary_test.sh BINARY REPO_ROOT
set -uo pipefail
bin="$1"; root="$2"
probe="$root/tools/grpcprobe"
E2E_SCHEMA_PREFIX=e2e_tickets
source "$root/tests/e2e/lib.sh"
pwfile="$work/password"; printf 'pw-%s\n' "$$" > "$pwfile"
grpc_port=$(free_port); env_metrics_port=$(free_port); flag_metrics_port=$(free_port)

# Addresses from the environment, one of them overridden by a flag; the
# password from a file, as a mounted secret would give it.
ESTATE_GRPC_ADDR=127.0.0.1:$grpc_port ESTATE_METRICS_ADDR=127.0.0.1:$env_metrics_port \
ESTATE_DB_PORT=$ESTATE_TEST_DB_PORT ESTATE_DB_USER=$schema ESTATE_DB_NAME=$schema \
ESTATE_DB_PASSWORD_FILE=$pwfile \
  "$bin" --metrics_addr=127.0.0.1:$flag_metrics_port >"$work/log" 2>&1 &
pid=$!
cleanup() {
  kill -9 "$pid" 2>/dev/null
  drop_schema
}
trap cleanup EXIT

check "health turns SERVING" "$probe" wait 127.0.0.1:$grpc_port 30
services=$("$probe" list 127.0.0.1:$grpc_port)
check "reflection lists estate.tickets.v1" grep -qx estate.tickets.v1.TicketService <<<"$services"
check "reflection lists grpc.health.v1" grep -qx grpc.health.v1.Health <<<"$services"
check "service health SERVING" "$probe" health 127.0.0.1:$grpc_port estate.tickets.v1.TicketService
check "metrics on the flag's port" bash -c "curl -sf http://127.0.0.1:$flag_metrics_port/metrics | grep -q '^grpc_server_started_total{'"
# Where the service says it serves metrics: the flag's port, not the
# environment's. (Probing the environment's port for silence would race with
# the tests running beside this one, which may bind any free port.)
check "metrics served where the flag says, not where the environment says" \
  grep -q "metrics on 127.0.0.1:$flag_metrics_port (port $flag_metrics_port)" "$work/log"
migration_files=$(ls "$root"/services/kit/migrations/*.sql "$root"/services/tickets/migrations/*.sql | wc -l)
check "every migration file recorded once" bash -c "${admin[*]} -N -e 'SELECT COUNT(*) FROM $schema.schema_migrations' | grep -qx $migration_files"

# Identity: the port answers only callers a token signed with tickets' key
# names; a client that is not the gateway cannot claim to be anyone.
call_as() { /usr/bin/python3 "$root/tests/e2e/identity_call.py" 127.0.0.1:$grpc_port "$ESTATE_IDENTITY_KEYS_DIR/tickets.key" "$1"; }
check "forged x-estate-caller/x-estate-roles straight to the port are refused" test "$(call_as forged)" = UNAUTHENTICATED
check "an expired token is refused" test "$(call_as expired)" = UNAUTHENTICATED
check "a token signed with another key is refused" test "$(call_as wrong-key)" = UNAUTHENTICATED
check "a valid token gets through to the handler (no such ticket)" test "$(call_as valid)" = NOT_FOUND
check "the refusals are counted" bash -c "curl -sf http://127.0.0.1:$flag_metrics_port/metrics | grep -q '^estate_identity_refusals_total{reason=\"missing\"} 1'"

# TLS between processes: a CA, a server and a client certificate made here
# with openssl; the port then speaks only TLS with client certificates.
tls="$work/tls"; mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=estate-test-ca \
  -keyout "$tls/ca.key" -out "$tls/ca.pem" >/dev/null 2>&1
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=estate-$who" -keyout "$tls/$who.key" \
    -out "$tls/$who.csr" >/dev/null 2>&1
  openssl x509 -req -in "$tls/$who.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 1 -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n') \
    -out "$tls/$who.pem" >/dev/null 2>&1
done
tls_port=$(free_port)
tls_flags=(--tls_cert="$tls/server.pem" --tls_key="$tls/server.key" --tls_ca="$tls/ca.pem")
ESTATE_DB_PORT=$ESTATE_TEST_DB_PORT ESTATE_DB_USER=$schema ESTATE_DB_NAME=$schema \
ESTATE_DB_PASSWORD_FILE=$pwfile "$bin" --grpc_addr=127.0.0.1:$tls_port \
  --metrics_addr=127.0.0.1:$(free_port) "${tls_flags[@]}" >"$work/tls.log" 2>&1 &
tls_pid=$!
tls_ready() { ESTATE_DB_PASSWORD_FILE=$pwfile "$bin" --health_check --grpc_addr=127.0.0.1:$tls_port "${tls_flags[@]}"; }
for _ in $(seq 1 100); do tls_ready 2>/dev/null && break; sleep 0.1; done
check "--health_check answers 0 over TLS (the readiness probe)" tls_ready
check "a TLS client with a certificate and a valid token is served" \
  test "$(/usr/bin/python3 "$root/tests/e2e/identity_call.py" 127.0.0.1:$tls_port "$ESTATE_IDENTITY_KEYS_DIR/tickets.key" valid "$tls")" = NOT_FOUND
check "a TLS client still needs the identity token" \
  test "$(/usr/bin/python3 "$root/tests/e2e/identity_call.py" 127.0.0.1:$tls_port "$ESTATE_IDENTITY_KEYS_DIR/tickets.key" forged "$tls")" = UNAUTHENTICATED
check "plaintext is not served on the TLS port" bash -c "! '$probe' health 127.0.0.1:$tls_port"
kill -9 "$tls_pid" 2>/dev/null

# A second process on the same gRPC port must fail, not share the port.
ESTATE_DB_PORT=$ESTATE_TEST_DB_PORT ESTATE_DB_USER=$schema ESTATE_DB_NAME=$schema \
ESTATE_DB_PASSWORD_FILE=$pwfile timeout 30 "$bin" --grpc_addr=127.0.0.1:$grpc_port \
  --metrics_addr=127.0.0.1:$(free_port) >"$work/log2" 2>&1
rc=$?
check "a second instance on a taken port exits non-zero" test "$rc" -ne 0 -a "$rc" -ne 124
check "and says why" grep -q "cannot serve gRPC on 127.0.0.1:$grpc_port" "$work/log2"

# SIGTERM drains and exits cleanly.
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid"; rc=$?
check "SIGTERM exits 0" test "$rc" -eq 0
check "and logs the stop" grep -q "tickets stopped" "$work/log"

if [ "$failed" -gt 0 ]; then echo "--- service log"; cat "$work/log"; fi
finish
