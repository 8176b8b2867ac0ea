#!/usr/bin/env bash
# Simulated cache misses and branch mispredicts per request of each server under load, counted
# by cachegrind: what makes the framework's extra instructions cost more than their number
# (each request finds its connection's state and its code evicted by the others').
#
#   bash benches/caches.sh                        # typed-hyper, the erasmus example, axum
#   bash benches/caches.sh old=A_BINARY new=B_BINARY
#
# Each server runs under `valgrind --tool=cachegrind --cache-sim=yes --branch-sim=yes`, one at
# a time, gets one call, then serves `wrk -t1 -c64` for 8 s; the program's totals are divided
# by the requests wrk made. Prints instructions, I1 misses, D1 read and write misses,
# conditional and indirect branch mispredicts a request. Bounded: 8 s of load per server,
# loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
. benches/common.sh
install_missing wrk:wrk valgrind:valgrind
# shellcheck disable=SC2046 # NAME=BINARY words, no spaces
[ $# -gt 0 ] || set -- $(default_servers)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM
python3 benches/wrk_call.py "$BODY" "$TOKEN" > "$WORK/call.lua"
PORT=18480
printf '%-20s %9s %9s %8s %8s %8s %8s %8s\n' server requests Ir I1mr D1mr D1mw Bcm Bim
for server in "$@"; do
  name=${server%%=*}; binary=${server#*=}; PORT=$((PORT + 1))
  MOVEO_VERIFY_TOKEN=$TOKEN LISTEN_ADDR=127.0.0.1:$PORT RUST_LOG=warn \
    valgrind --tool=cachegrind --cache-sim=yes --branch-sim=yes \
    --cachegrind-out-file="$WORK/$name.out" "$binary" >/dev/null 2>&1 &
  pid=$!
  await_server "$PORT" 300
  requests=$(wrk -t1 -c64 -d8s -s "$WORK/call.lua" "http://127.0.0.1:$PORT/webhook" | awk '/requests in/ {print $1}')
  # SIGINT: the servers stop on Ctrl-C, so cachegrind writes its totals.
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  cg_annotate --show-percs=no "$WORK/$name.out" 2>/dev/null | awk -v name="$name" -v requests="$requests" '
    /PROGRAM TOTALS/ && !done {
      for (i = 1; i <= 13; i++) { gsub(",", "", $i); v[i] = $i / requests }
      # Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw Bc Bcm Bi Bim
      printf "%-20s %9d %9.0f %8.0f %8.0f %8.0f %8.0f %8.0f\n", name, requests, v[1], v[2], v[5], v[8], v[11], v[13]
      done = 1
    }'
done
