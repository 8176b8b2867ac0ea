#!/usr/bin/env bash
# The load benchmark: the erasmus example against a bare hyper server doing the same work
# (HMAC check, JSON decode, the same reply), side by side in one run, both built with the
# `bench-lto` profile. Servers are pinned to core 0, wrk to core 1.
#
#   bash benches/load.sh                # 7 alternating rounds of 5 s each per server
#   DURATION=30s ROUNDS=5 CONNECTIONS=64 bash benches/load.sh
#
# Prints requests/s, p50, p99 and peak RSS of both, and the ratios. Bounded: ROUNDS x DURATION
# per server, loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
ROUNDS=${ROUNDS:-7}
CONNECTIONS=${CONNECTIONS:-32}
TOKEN=bench-verify-token
FRAMEWORK_ADDR=127.0.0.1:18080
BASELINE_ADDR=127.0.0.1:18090

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null 2>&1 || sudo apt-get install -y -qq wrk >/dev/null
fi
cores=$(nproc)
if [ "$cores" -ge 2 ]; then SERVER_CPU="taskset -c 0"; LOAD_CPU="taskset -c 1"; else SERVER_CPU=""; LOAD_CPU=""; fi

cargo build -q --profile bench-lto -p moveo-dialog-examples --example erasmus
cargo build -q --profile bench-lto -p moveo-dialog-benches --bin bare-hyper
FRAMEWORK_BIN=target/bench-lto/examples/erasmus
BASELINE_BIN=target/bench-lto/bare-hyper

BODY_FILE=tests/fixtures/spec/dialog-request.json
SIGNATURE=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).hexdigest())' "$TOKEN" "$BODY_FILE")
LUA=$(mktemp --suffix .lua)
trap 'rm -f "$LUA"; kill $(jobs -p) 2>/dev/null || true' EXIT INT TERM
python3 - "$BODY_FILE" "$SIGNATURE" > "$LUA" <<'PY'
import json, sys
body = open(sys.argv[1], "rb").read().decode()
print("wrk.method = 'POST'")
print("wrk.body = " + json.dumps(body))
print("wrk.headers['Content-Type'] = 'application/json'")
print("wrk.headers['X-Moveo-Signature'] = '%s'" % sys.argv[2])
print("wrk.headers['X-Moveo-Request-Id'] = 'bench'")
print("""
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %d %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
""")
PY

for addr in "$FRAMEWORK_ADDR" "$BASELINE_ADDR"; do
  if curl -s -o /dev/null --max-time 1 "http://$addr/"; then echo "something already listens on $addr" >&2; exit 1; fi
done
wait_up() {
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "http://$1/healthz" || [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$1/")" != "000" ]; then return 0; fi
    sleep 0.05
  done
  echo "server on $1 did not start" >&2; exit 1
}
check() { # addr: one signed call must answer 200
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$1/webhook" -H 'content-type: application/json' \
    -H "x-moveo-signature: $SIGNATURE" --data-binary @"$BODY_FILE")
  [ "$code" = 200 ] || { echo "server on $1 answered $code, not 200" >&2; exit 1; }
}

MOVEO_VERIFY_TOKEN=$TOKEN LISTEN_ADDR=$FRAMEWORK_ADDR RUST_LOG=warn $SERVER_CPU "$FRAMEWORK_BIN" >/dev/null 2>&1 &
FW_PID=$!
MOVEO_VERIFY_TOKEN=$TOKEN LISTEN_ADDR=$BASELINE_ADDR $SERVER_CPU "$BASELINE_BIN" >/dev/null 2>&1 &
BL_PID=$!
wait_up "$FRAMEWORK_ADDR"; wait_up "$BASELINE_ADDR"
kill -0 "$FW_PID" "$BL_PID" || { echo "a server exited at start" >&2; exit 1; }
check "$FRAMEWORK_ADDR"; check "$BASELINE_ADDR"

# Warm both up, then alternate rounds so drift on the machine hits both alike.
$LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d2s -s "$LUA" "http://$FRAMEWORK_ADDR/webhook" >/dev/null
$LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d2s -s "$LUA" "http://$BASELINE_ADDR/webhook" >/dev/null
declare -a FW BL
for round in $(seq 1 "$ROUNDS"); do
  FW+=("$($LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$LUA" "http://$FRAMEWORK_ADDR/webhook" | grep '^RESULT')")
  BL+=("$($LOAD_CPU wrk -t1 -c"$CONNECTIONS" -d"$DURATION" -s "$LUA" "http://$BASELINE_ADDR/webhook" | grep '^RESULT')")
  echo "round $round: framework ${FW[-1]#RESULT } | baseline ${BL[-1]#RESULT }" >&2
done
FW_RSS=$(awk '/VmHWM/ {print $2}' "/proc/$FW_PID/status")
BL_RSS=$(awk '/VmHWM/ {print $2}' "/proc/$BL_PID/status")

python3 - "$FW_RSS" "$BL_RSS" "$CONNECTIONS" "$DURATION" "$ROUNDS" "${FW[@]}" -- "${BL[@]}" <<'PY'
import statistics, sys
fw_rss, bl_rss, conns, duration, rounds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
rest = sys.argv[6:]
split = rest.index("--")
def parse(lines):
    rows = [list(map(float, l.split()[1:])) for l in lines]
    return {k: statistics.median(r[i] for r in rows) for i, k in enumerate(["rps", "p50", "p99", "status_errors", "socket_errors"])}
fw, bl = parse(rest[:split]), parse(rest[split + 1:])
print(f"load: wrk, 1 thread, {conns} connections, {rounds} x {duration} per server (medians), servers on core 0, wrk on core 1")
print(f"{'':12}{'req/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'peak RSS MiB':>14}{'non-2xx':>9}{'sock err':>9}")
for name, r, rss in (("framework", fw, fw_rss), ("bare hyper", bl, bl_rss)):
    print(f"{name:12}{r['rps']:>12.0f}{r['p50']/1000:>10.3f}{r['p99']/1000:>10.3f}{rss/1024:>14.1f}{r['status_errors']:>9.0f}{r['socket_errors']:>9.0f}")
print(f"ratio of medians    throughput {fw['rps']/bl['rps']:.3f}   p99 {fw['p99']/bl['p99']:.3f}")
# Each framework round runs right before its baseline round: their ratio cancels machine drift.
f_rows = [list(map(float, l.split()[1:])) for l in rest[:split]]
b_rows = [list(map(float, l.split()[1:])) for l in rest[split + 1:]]
paired_rps = statistics.median(f[0] / b[0] for f, b in zip(f_rows, b_rows))
paired_p99 = statistics.median(f[2] / b[2] for f, b in zip(f_rows, b_rows))
print(f"paired ratio (median of rounds)   throughput {paired_rps:.3f}   p99 {paired_p99:.3f}   (targets: >= 0.90, <= 1.20; framework RSS < 20 MiB)")
PY
