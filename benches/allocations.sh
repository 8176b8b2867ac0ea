#!/usr/bin/env bash
# Heap allocations per request of each server under load: calls to glibc's malloc, free and
# realloc, counted exactly by uprobes on libc (`perf probe`; needs root). A count, not a time:
# it does not move with the machine's noise, and every allocation a change removes shows.
#
#   bash benches/allocations.sh                      # typed-hyper, the erasmus example, axum
#   bash benches/allocations.sh old=A_BINARY new=B_BINARY
#
# Each server runs pinned to core 0, is warmed up with 1 s of `wrk -t1 -c64` (core 1), then
# `perf stat` counts its calls over 4 s in which wrk runs 3 s more; the counts are divided by
# the requests wrk made (the probes slow every call, so the request count is small and does
# not matter).
# Bounded: 4 s of load per server, loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
. benches/common.sh
install_missing wrk:wrk perf:linux-perf
# shellcheck disable=SC2046 # NAME=BINARY words, no spaces
[ $# -gt 0 ] || set -- $(default_servers)
# The libc the servers load, and a probe on each of its allocator's entry points.
LIBC=$(ldd "${1#*=}" | awk '/libc\.so/ {print $3}')
for function in malloc free realloc; do
  perf probe -q -x "$LIBC" "$function" 2>/dev/null || perf probe -l 2>/dev/null | grep -q "probe_libc:$function "
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; perf probe -q -d "probe_libc:*" 2>/dev/null || true' EXIT INT TERM
python3 benches/wrk_call.py "$BODY" "$TOKEN" --report > "$WORK/call.lua"
PORT=18480
printf '%-16s %9s %9s %9s %9s\n' server requests malloc free realloc
for server in "$@"; do
  name=${server%%=*}; binary=${server#*=}; PORT=$((PORT + 1))
  MOVEO_VERIFY_TOKEN=$TOKEN LISTEN_ADDR=127.0.0.1:$PORT RUST_LOG=warn taskset -c 0 "$binary" >/dev/null 2>&1 &
  pid=$!
  await_server "$PORT"
  taskset -c 1 wrk -t1 -c64 -d1s -s "$WORK/call.lua" "http://127.0.0.1:$PORT/webhook" >/dev/null
  # The count's window (4 s) holds wrk's whole run (3 s, from 0.2 s in); idle, a server
  # allocates nothing.
  perf stat -x, -e probe_libc:malloc,probe_libc:free,probe_libc:realloc -p "$pid" -o "$WORK/$name.stat" -- sleep 4 &
  stat_pid=$!
  sleep 0.2
  requests=$(taskset -c 1 wrk -t1 -c64 -d3s -s "$WORK/call.lua" "http://127.0.0.1:$PORT/webhook" | awk '/^RESULT/ {print $7}')
  wait "$stat_pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=
  python3 - "$WORK/$name.stat" "$name" "$requests" <<'PY'
import sys
path, name, requests = sys.argv[1], sys.argv[2], int(sys.argv[3])
counts = {}
for line in open(path):
    fields = line.strip().split(",")
    if len(fields) > 2 and fields[2].startswith("probe_libc:"):
        counts[fields[2].split(":")[1]] = int(fields[0])
print(f"{name:16} {requests:9d}" + "".join(f" {counts[f] / requests:9.2f}" for f in ("malloc", "free", "realloc")))
PY
done
