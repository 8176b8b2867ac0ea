#!/usr/bin/env bash
# Instructions per request of each server under load, counted by callgrind: the measure that
# does not move with the machine's noise (SHA-256 runs in software under valgrind, ~58k of
# each request; natively the CPU's SHA extensions make it a small share).
#
#   bash benches/instructions.sh                      # typed-hyper, the erasmus example, axum
#   bash benches/instructions.sh old=A_BINARY new=B_BINARY
#   KEEP=/tmp/profiles bash benches/instructions.sh   # and keep the profiles
#
# Each server runs under valgrind, gets one call, has its counters zeroed, then serves
# `wrk -t1 -c8` for 6 s; its counters are dumped and divided by the requests wrk made.
# Also counted: clock reads (calls to clock_gettime) and locked instructions (atomic
# read-modify-writes, by benches/locked.py), which cost natively far more than one instruction,
# and code lines (the 64-byte lines of code every request runs, by benches/code_lines.py): under
# load each is fetched into the instruction cache again on each request.
# Bounded: 6 s of load per server, loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
. benches/common.sh
install_missing wrk:wrk valgrind:valgrind objdump:binutils
# shellcheck disable=SC2046 # NAME=BINARY words, no spaces
[ $# -gt 0 ] || set -- $(default_servers)
# KEEP=DIR keeps each server's profile as DIR/NAME.out.1 (for callgrind_annotate,
# benches/code_lines.py and benches/locked.py); without it they are deleted.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM
python3 benches/wrk_call.py "$BODY" "$TOKEN" > "$WORK/call.lua"
PORT=18280
for server in "$@"; do
  name=${server%%=*}; binary=${server#*=}; PORT=$((PORT + 1))
  MOVEO_VERIFY_TOKEN=$TOKEN LISTEN_ADDR=127.0.0.1:$PORT RUST_LOG=warn \
    valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file="$WORK/$name.out" "$binary" >/dev/null 2>&1 &
  pid=$!
  await_server "$PORT" 300
  callgrind_control -z "$pid" >/dev/null 2>&1
  requests=$(wrk -t1 -c8 -d6s -s "$WORK/call.lua" "http://127.0.0.1:$PORT/webhook" | awk '/requests in/ {print $1}')
  callgrind_control -d "$pid" >/dev/null 2>&1
  sleep 1
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  total=$(callgrind_annotate "$WORK/$name.out".1 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  # Clock reads cost ~20-40 ns natively but ~10 instructions under valgrind: count the calls.
  clocks=$(callgrind_annotate --tree=caller --threshold=100 "$WORK/$name.out".1 2>/dev/null | python3 -c '
import re, sys
for block in sys.stdin.read().split("\n\n"):
    if re.search(r"\*\s+\S*:clock_gettime", block):
        print(sum(int(n.replace(",", "")) for n in re.findall(r"<.*\(([\d,]+)x\)", block)))
        break
else:
    print(0)')
  # Atomic read-modify-writes are one instruction each to callgrind but ~6 ns natively.
  locked=$(python3 benches/locked.py "$WORK/$name.out".1 "$requests")
  # The code each request runs, in 64-byte lines: fetched again on every request under load.
  lines=$(python3 benches/code_lines.py "$WORK/$name.out".1 "$requests")
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$WORK/$name.out".1 "$KEEP/"; fi
  printf '%-14s %8d requests  %7d instructions  %5.1f clock reads  %5.1f locked instructions  %5d code lines per request\n' \
    "$name" "$requests" $((total / requests)) "$(python3 -c "print($clocks / $requests)")" "$locked" "$lines"
done
