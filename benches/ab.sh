#!/usr/bin/env bash
# Two builds of a dialog webhook server side by side in one run: the same signed spec request,
# alternating rounds, servers pinned to core 0 and wrk to core 1. Prints each round and the
# mean requests/s of each slot, and slot 2 / slot 1. Run a binary against itself to see the
# bias of the second slot (about 1.5% on the 2-core machine).
#
#   bash benches/ab.sh OLD_BINARY NEW_BINARY            # 8 rounds of 5 s each
#   ROUNDS=4 DURATION=10s CONNECTIONS=64 bash benches/ab.sh A B
#
# A binary is any server that reads MOVEO_VERIFY_TOKEN and LISTEN_ADDR and serves
# POST /webhook, such as target/release/examples/erasmus built at two commits.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: bash benches/ab.sh BINARY_1 BINARY_2" >&2; exit 2; }
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-8}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
TOKEN=bench-verify-token
BODY=tests/fixtures/spec/dialog-request.json
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
SIG=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).hexdigest())' "$TOKEN" "$BODY")
LUA=$(mktemp --suffix .lua)
trap 'rm -f "$LUA"; kill $(jobs -p) 2>/dev/null || true' EXIT INT TERM
python3 - "$BODY" "$SIG" > "$LUA" <<'PY'
import json, sys
print("wrk.method = 'POST'")
print("wrk.body = " + json.dumps(open(sys.argv[1], "rb").read().decode()))
print("wrk.headers['Content-Type'] = 'application/json'")
print("wrk.headers['X-Moveo-Signature'] = '%s'" % sys.argv[2])
print("""done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.errors.status))
end""")
PY
MOVEO_VERIFY_TOKEN=$TOKEN LISTEN_ADDR=127.0.0.1:18081 RUST_LOG=warn taskset -c 0 "$1" >/dev/null 2>&1 &
MOVEO_VERIFY_TOKEN=$TOKEN LISTEN_ADDR=127.0.0.1:18082 RUST_LOG=warn taskset -c 0 "$2" >/dev/null 2>&1 &
for port in 18081 18082; do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.05; done
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/webhook" -H 'content-type: application/json' \
    -H "x-moveo-signature: $SIG" --data-binary @"$BODY")
  [ "$code" = 200 ] || { echo "the server on $port answered $code, not 200" >&2; exit 1; }
  taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d2s -s "$LUA" "http://127.0.0.1:$port/webhook" >/dev/null
done
for round in $(seq 1 "$ROUNDS"); do
  for slot in 1 2; do
    echo "slot$slot $(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$LUA" "http://127.0.0.1:1808$slot/webhook" | grep RESULT)"
  done
done | tee /dev/stderr | awk '/slot1/{a+=$3;n++} /slot2/{b+=$3} END {printf "slot 1 %.0f req/s, slot 2 %.0f req/s, slot 2 / slot 1 = %.3f\n", a/n, b/n, b/a}'
