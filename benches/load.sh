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
#                                                   # baseline), such as erasmus at two commits;
#                                                   # "NAME=VALUE BINARY" sets that server's env
#
# Prints requests/s, p50, p99, CPU time per request (and its user part), peak RSS (and its file-backed part: code)
# and time to the first 200 of each, and each one's ratio to the first server. Bounded: ROUNDS x
# DURATION per server, loopback only. The wrk script comes from benches/wrk_call.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
. benches/common.sh
install_missing wrk:wrk
if [ $# -eq 0 ]; then
  cargo build -q --profile "$PROFILE" -p moveo-dialog-examples --example erasmus
  cargo build -q --profile "$PROFILE" -p moveo-dialog-benches --bin typed-hyper --bin axum-same-work
  DIR=target/$PROFILE
  # The erasmus example as `cargo run` gives it (no metrics), and with its metrics collected
  # and served (METRICS_ADDR).
  set -- typed-hyper="$DIR/typed-hyper" moveo-dialog="$DIR/examples/erasmus" \
    moveo-dialog+metrics="METRICS_ADDR=127.0.0.1:0 $DIR/examples/erasmus" axum="$DIR/axum-same-work"
  echo "profile: $PROFILE" >&2
fi

LUA=$(mktemp --suffix .lua)
trap 'rm -f "$LUA"' EXIT INT TERM
python3 benches/wrk_call.py "$BODY" "$TOKEN" --report > "$LUA"
TOKEN=$TOKEN python3 benches/load.py "$LUA" "$BODY" "$@"
