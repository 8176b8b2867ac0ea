#!/usr/bin/env bash
# The dialog webhook load benchmark: the erasmus example beside the fastest honest
# implementation of the same work (`typed-hyper`: hyper 1 alone, HMAC over the raw body, typed
# decode borrowing from the body, a derived reply) and axum 0.8 doing the same work
# (`axum-same-work`), side by side in one run. Servers are pinned to core 0, wrk to core 1; each
# round visits every server, in a rotated order. The driver checks that all three answer the
# same bytes before measuring.
#
#   bash benches/load.sh                          # plain --release: the headline
#   PROFILE=bench-lto bash benches/load.sh        # release + fat LTO + one codegen unit
#   ROUNDS=6 DURATION=10s CONNECTIONS=64 bash benches/load.sh
#   bash benches/load.sh old=A_BINARY new=B_BINARY  # any servers instead (the first is the
#                                                   # baseline), such as erasmus at two commits
#
# Prints requests/s, p50, p99, peak RSS and time to the first 200 of each, and each one's
# ratio to typed-hyper. Bounded: ROUNDS x DURATION per server, loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
TOKEN=bench-verify-token
BODY=tests/fixtures/spec/dialog-request.json

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)" >&2
  { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null 2>&1 || sudo apt-get install -y -qq wrk >/dev/null
fi
if [ $# -eq 0 ]; then
  cargo build -q --profile "$PROFILE" -p moveo-dialog-examples --example erasmus
  cargo build -q --profile "$PROFILE" -p moveo-dialog-benches --bin typed-hyper --bin axum-same-work
  DIR=target/$PROFILE
  set -- typed-hyper="$DIR/typed-hyper" moveo-dialog="$DIR/examples/erasmus" axum="$DIR/axum-same-work"
  echo "profile: $PROFILE" >&2
fi

SIG=$(python3 -c 'import hmac,hashlib,sys; print(hmac.new(sys.argv[1].encode(), open(sys.argv[2],"rb").read(), hashlib.sha256).hexdigest())' "$TOKEN" "$BODY")
LUA=$(mktemp --suffix .lua)
trap 'rm -f "$LUA"' EXIT INT TERM
python3 - "$BODY" "$SIG" > "$LUA" <<'PY'
import json, sys
print("wrk.method = 'POST'")
print("wrk.body = " + json.dumps(open(sys.argv[1], "rb").read().decode()))
print("wrk.headers['Content-Type'] = 'application/json'")
print("wrk.headers['X-Moveo-Signature'] = '%s'" % sys.argv[2])
print("""done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %d %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end""")
PY
TOKEN=$TOKEN python3 benches/load.py "$LUA" "$BODY" "$SIG" "$@"
