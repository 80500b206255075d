#!/usr/bin/env bash
# The built estate-gateway and every service binary as processes, driven
# the way the README tells people to: curl with a token from estatectl, an
# API key, tools/grpcprobe (python3-grpcio) for reflection through the
# gateway. Needs the private test MariaDB (ESTATE_TEST_DB_PORT).
# Usage: gateway_binary_test.sh BIN_DIR REPO_ROOT
set -uo pipefail
bindir="$1"; root="$2"
probe="$root/tools/grpcprobe"
E2E_SCHEMA_PREFIX=e2e_gw
source "$root/tests/e2e/lib.sh"
head -c 48 /dev/urandom | base64 | tr -d '/+=\n' > "$work/secret"
key_out="$("$bindir/estatectl" apikey --name=ops-robot --role=viewer --site=north)"
api_key="$(sed -n 's/^key (.*): //p' <<<"$key_out")"
printf '{"api_keys": [%s]}\n' "$(sed -n 's/^entry for --api_keys_file: //p' <<<"$key_out")" > "$work/keys.json"
t_port=$(free_port); t_metrics=$(free_port); http_port=$(free_port); grpc_port=$(free_port)
b_port=$(free_port); b_metrics=$(free_port); a_port=$(free_port); a_metrics=$(free_port)
c_port=$(free_port); c_metrics=$(free_port); h_port=$(free_port); h_metrics=$(free_port)

ESTATE_DB_PORT=$ESTATE_TEST_DB_PORT ESTATE_DB_USER=$schema ESTATE_DB_NAME=$schema ESTATE_DB_PASSWORD=pw-$$ \
  "$bindir/estate-tickets" --grpc_addr=127.0.0.1:$t_port --metrics_addr=127.0.0.1:$t_metrics --log_level=debug \
  >"$work/tickets.log" 2>&1 &
tickets_pid=$!
# Billing and archives share the test's schema: their tables and migrations
# are their own.
ESTATE_DB_PORT=$ESTATE_TEST_DB_PORT ESTATE_DB_USER=$schema ESTATE_DB_NAME=$schema ESTATE_DB_PASSWORD=pw-$$ \
  "$bindir/estate-billing" --grpc_addr=127.0.0.1:$b_port --metrics_addr=127.0.0.1:$b_metrics \
  >"$work/billing.log" 2>&1 &
billing_pid=$!
ESTATE_DB_PORT=$ESTATE_TEST_DB_PORT ESTATE_DB_USER=$schema ESTATE_DB_NAME=$schema ESTATE_DB_PASSWORD=pw-$$ \
  "$bindir/estate-archives" --grpc_addr=127.0.0.1:$a_port --metrics_addr=127.0.0.1:$a_metrics \
  >"$work/archives.log" 2>&1 &
archives_pid=$!
ESTATE_DB_PORT=$ESTATE_TEST_DB_PORT ESTATE_DB_USER=$schema ESTATE_DB_NAME=$schema ESTATE_DB_PASSWORD=pw-$$ \
  "$bindir/estate-cleaning" --grpc_addr=127.0.0.1:$c_port --metrics_addr=127.0.0.1:$c_metrics --log_level=debug --log_format=json \
  --tickets_addr=127.0.0.1:$t_port >"$work/cleaning.log" 2>&1 &
cleaning_pid=$!
# Handover has a schema of its own: its outbox table must not be cleaning's,
# or either relay could deliver the other's calls (as the other).
"${admin[@]}" -e "CREATE DATABASE ${schema}_h; GRANT ALL ON ${schema}_h.* TO '$schema'@'127.0.0.1';"
ESTATE_DB_PORT=$ESTATE_TEST_DB_PORT ESTATE_DB_USER=$schema ESTATE_DB_NAME=${schema}_h ESTATE_DB_PASSWORD=pw-$$ \
  "$bindir/estate-handover" --grpc_addr=127.0.0.1:$h_port --metrics_addr=127.0.0.1:$h_metrics \
  --archives_addr=127.0.0.1:$a_port --billing_addr=127.0.0.1:$b_port --tickets_addr=127.0.0.1:$t_port \
  >"$work/handover.log" 2>&1 &
handover_pid=$!
ESTATE_BACKENDS="archives=127.0.0.1:$a_port,billing=127.0.0.1:$b_port,cleaning=127.0.0.1:$c_port,handover=127.0.0.1:$h_port,tickets=127.0.0.1:$t_port" \
  "$bindir/estate-gateway" --http_addr=127.0.0.1:$http_port --grpc_addr=127.0.0.1:$grpc_port \
  --jwt_hs256_secret_file="$work/secret" --api_keys_file="$work/keys.json" >"$work/gateway.log" 2>&1 &
gw_pid=$!
cleanup() {
  kill -9 "$gw_pid" "$tickets_pid" "$billing_pid" "$archives_pid" "$cleaning_pid" "$handover_pid" 2>/dev/null
  "${admin[@]}" -e "DROP DATABASE IF EXISTS ${schema}_h;"
  drop_schema
}
trap cleanup EXIT

for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$http_port/readyz" >/dev/null && break; sleep 0.1; done
check "readyz once every service serves" curl -fs "http://127.0.0.1:$http_port/readyz"
check "healthz" curl -fs "http://127.0.0.1:$http_port/healthz"

token="$("$bindir/estatectl" token --secret_file="$work/secret" --site=north --role=staff --sub=desk-zhao)"
api="http://127.0.0.1:$http_port/v1"
created="$(curl -s -H "Authorization: Bearer $token" -X POST \
  "$api/sites/north/tickets?request_id=$(cat /proc/sys/kernel/random/uuid)" \
  -d '{"kind":"REPAIR","channel":"PHONE","title":"Lobby light out in building 2","unit":"2-1-101"}')"
name="$(/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["name"])' <<<"$created")"
check "create over HTTP returns the ticket" grep -q '^sites/north/tickets/[0-9]*$' <<<"$name"
check "the service recorded the token's subject" grep -q '"createdBy":"user:desk-zhao"' <<<"$created"
check "get it back" bash -c "curl -fs -H 'Authorization: Bearer $token' '$api/$name' | grep -q 'Lobby light out'"
check "list it with a query filter" bash -c "curl -fs -H 'Authorization: Bearer $token' '$api/sites/north/tickets?kind=REPAIR&page_size=5' | grep -q '$name'"
check "no token is 401" test "$(curl -s -o /dev/null -w '%{http_code}' "$api/$name")" = 401
check "another site is 403" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$api/sites/south/tickets")" = 403
check "the API key reads" bash -c "curl -fs -H 'X-Api-Key: $api_key' '$api/$name' | grep -q Lobby"
check "the viewer API key cannot write" test "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Api-Key: $api_key" -X POST "$api/$name:start" -d '{}')" = 403
check "estatectl call works" env ESTATE_TOKEN="$token" "$bindir/estatectl" call --gateway=127.0.0.1:$http_port GET "/v1/$name"
ops="$("$bindir/estatectl" token --secret_file="$work/secret" --site=north --role=admin --sub=ops-ma)"
check "estatectl outbox list answers an admin" env ESTATE_TOKEN="$ops" "$bindir/estatectl" outbox list cleaning north --gateway=127.0.0.1:$http_port
check "estatectl outbox list refuses staff" bash -c "! ESTATE_TOKEN='$token' '$bindir/estatectl' outbox list cleaning north --gateway=127.0.0.1:$http_port"

# One X-Request-Id through three processes: a failed inspection sent to the
# gateway, its outbox row in cleaning (JSON logs), the rectification ticket
# it opens in tickets (text logs).
manager="$("$bindir/estatectl" token --secret_file="$work/secret" --site=north --role=manager --sub=manager-zhao)"
post() {  # post PATH JSON [X-Request-Id] -> the resource's name
  curl -s -H "Authorization: Bearer $manager" ${3:+-H "X-Request-Id: $3"} -X POST \
    "$api/$1?requestId=$(cat /proc/sys/kernel/random/uuid)" -d "$2" |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin).get("name",""))'
}
team="$(post sites/north/teams '{"displayName":"Team A","monitor":"Monitor Wu","members":["Li"]}')"
zone="$(post sites/north/zones "{\"displayName\":\"Lobby\",\"building\":\"2\",\"team\":\"$team\",\"standard\":{\"passScore\":80,\"items\":[{\"code\":\"floor\",\"weight\":100}]}}")"
trace="e2e-trace-$$-$RANDOM"
inspection="$(post sites/north/inspections "{\"zone\":\"$zone\",\"inspector\":\"Monitor Wu\",\"scores\":[{\"code\":\"floor\",\"score\":10}]}" "$trace")"
check "a failed inspection is recorded" grep -q '^sites/north/inspections/' <<<"$inspection"
for _ in $(seq 1 100); do grep -q "$trace" "$work/tickets.log" && break; sleep 0.1; done
check "cleaning's JSON log lines carry the request id" grep -q "\"request_id\":\"$trace\"" "$work/cleaning.log"
check "the outbox delivery carries it into tickets' log" grep -q "request_id=$trace method=/estate.tickets.v1.TicketService/CreateTicket caller=service:cleaning" "$work/tickets.log"
check "cleaning's log is one JSON object a line" /usr/bin/python3 -c "import json,sys; [json.loads(l) for l in open('$work/cleaning.log') if l.strip()]"
check "openapi.json is served" bash -c "curl -fs http://127.0.0.1:$http_port/openapi.json | grep -q '\"openapi\":\"3.0.3\"'"
check "metrics count the calls by route" bash -c "curl -fs http://127.0.0.1:$http_port/metrics | grep -qF 'http_requests_total{code=\"200\",method=\"POST\",route=\"/v1/{parent=sites/*}/tickets\"} 1'"
services="$("$probe" list 127.0.0.1:$grpc_port)"
check "reflection through the gateway lists tickets" grep -qx estate.tickets.v1.TicketService <<<"$services"
check "reflection through the gateway describes the methods" bash -c "'$probe' describe 127.0.0.1:$grpc_port estate.tickets.v1.TicketService | grep -qx 'CloseTicket(estate.tickets.v1.CloseTicketRequest) returns (estate.tickets.v1.Ticket)'"
check "gateway gRPC health" "$probe" health 127.0.0.1:$grpc_port
check "reflection through the gateway lists billing" grep -qx estate.billing.v1.BillingService <<<"$services"
check "reflection through the gateway lists archives" grep -qx estate.archives.v1.ArchivesService <<<"$services"
check "reflection through the gateway lists cleaning" grep -qx estate.cleaning.v1.CleaningService <<<"$services"
check "reflection through the gateway lists handover" grep -qx estate.handover.v1.HandoverService <<<"$services"
check "cleaning answers through the gateway" bash -c "curl -fs -H 'Authorization: Bearer $token' '$api/sites/north/cleaningSettings' | grep -q '\"timeZone\":\"UTC\"'"
finance="$("$bindir/estatectl" token --secret_file="$work/secret" --site=north --role=finance --sub=cashier-wu)"
check "billing answers through the gateway" bash -c "curl -fs -H 'Authorization: Bearer $finance' '$api/sites/north/billingSettings' | grep -q '\"currencyCode\":\"CNY\"'"
check "staff may not take payments" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" -X POST "$api/sites/north/payments?request_id=$(cat /proc/sys/kernel/random/uuid)" -d '{}')" = 403
check "finance reaches billing's own validation" test "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $finance" -X POST "$api/sites/north/payments?request_id=$(cat /proc/sys/kernel/random/uuid)" -d '{}')" = 400

# With ESTATE_E2E_PROMETHEUS_DIR (ctest prometheus_e2e_test): a real
# Prometheus scrapes this suite with the alert rules loaded, its data under
# that directory (tests/e2e/prometheus_check.py says what it checks).
if [ -n "${ESTATE_E2E_PROMETHEUS_DIR:-}" ]; then
  if /usr/bin/python3 "$root/tests/e2e/prometheus_check.py" --root="$root" --bin="$bindir" \
      --work="$ESTATE_E2E_PROMETHEUS_DIR" --secret="$work/secret" --gateway="127.0.0.1:$http_port" \
      --target="tickets=127.0.0.1:$t_metrics" --target="billing=127.0.0.1:$b_metrics" \
      --target="archives=127.0.0.1:$a_metrics" --target="cleaning=127.0.0.1:$c_metrics" \
      --target="handover=127.0.0.1:$h_metrics" --target="gateway=127.0.0.1:$http_port"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "FAIL: Prometheus on this suite (prometheus_check.py above)"
  fi
fi

kill -TERM "$gw_pid"
for _ in $(seq 1 100); do kill -0 "$gw_pid" 2>/dev/null || break; sleep 0.1; done
wait "$gw_pid"; rc=$?
check "SIGTERM stops the gateway cleanly" test "$rc" -eq 0

if [ "$failed" -gt 0 ]; then
  for f in gateway cleaning handover tickets; do echo "--- $f log (tail)"; tail -20 "$work/$f.log"; done
fi
finish
