#!/usr/bin/env bash
# Native CPU time per request of each server under load, split by function, side by side: what
# the instruction count cannot show (under valgrind SHA-256 runs in software, ~58k of the
# baseline's ~100k instructions, so the framework's extra looks like 8%; natively the CPU's SHA
# extensions make the HMAC ~10% of the baseline's user time) and what load.sh cannot resolve
# (a few per cent of req/s between runs).
#
#   bash benches/profile.sh                        # typed-hyper, the erasmus example, axum
#   bash benches/profile.sh old=A_BINARY new=B_BINARY
#   ROUNDS=5 DURATION=4s ROWS=60 bash benches/profile.sh
#   KEEP=DIR bash benches/profile.sh               # keep perf's data and symbol lists in DIR
#
# The servers run pinned to core 0; ROUNDS rounds (3) visit each in a rotated order, putting it
# under `wrk -t1 -c64` (core 1) for DURATION (4s) while `perf record -e cpu-clock -c 100000`
# samples it: one sample per 100 us of its CPU time (a software clock, so it works on a VM
# without hardware counters). Prints each server's user and kernel us per request over all its
# rounds, then, for each server after the first, the difference from the first by crate and by
# function (ns per request). Sampling is statistical and the machine drifts: a row below ~30 ns
# a request is noise. Bounded: ROUNDS x DURATION of load per server, loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
PROFILE=${PROFILE:-release}
DURATION=${DURATION:-4s}
ROUNDS=${ROUNDS:-3}
ROWS=${ROWS:-30}
. benches/common.sh
install_missing wrk:wrk perf:linux-perf
# shellcheck disable=SC2046 # NAME=BINARY words, no spaces
[ $# -gt 0 ] || set -- $(default_servers)
WORK=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] && mkdir -p "$KEEP" && cp "$WORK"/* "$KEEP"/; rm -rf "$WORK"; [ -n "${pids[*]:-}" ] && kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
python3 benches/wrk_call.py "$BODY" "$TOKEN" --report > "$WORK/call.lua"
PORT=18380
names=() pids=() ports=()
for server in "$@"; do
  name=${server%%=*}; binary=${server#*=}; PORT=$((PORT + 1)); names+=("$name"); ports+=("$PORT")
  MOVEO_VERIFY_TOKEN=$TOKEN LISTEN_ADDR=127.0.0.1:$PORT RUST_LOG=warn taskset -c 0 "$binary" >/dev/null 2>&1 &
  pids+=("$!")
  await_server "$PORT"
  taskset -c 1 wrk -t1 -c64 -d2s -s "$WORK/call.lua" "http://127.0.0.1:$PORT/webhook" >/dev/null
done
# Rounds visit every server in a rotated order, so that the machine's drift falls on each alike.
for round in $(seq 1 "$ROUNDS"); do
  for step in "${!names[@]}"; do
    i=$(( (step + round) % ${#names[@]} ))
    name=${names[$i]} out="$WORK/${names[$i]}.$round"
    # perf attaches first; the load starts once it writes its file, and perf stops after it.
    perf record -q -e cpu-clock -c 100000 -p "${pids[$i]}" -o "$out.data" -- sleep 600 >/dev/null 2>&1 &
    perf_pid=$!
    for _ in $(seq 1 100); do [ -s "$out.data" ] && break; sleep 0.05; done
    taskset -c 1 wrk -t1 -c64 -d"$DURATION" -s "$WORK/call.lua" "http://127.0.0.1:${ports[$i]}/webhook" \
      | awk '/^RESULT/ {print $7}' > "$out.requests"
    kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null || true
    perf report -i "$out.data" --sort dso,symbol -q --stdio -F sample,dso,symbol 2>/dev/null > "$out.symbols"
    rm -f "$out.data"
  done
done
kill "${pids[@]}" 2>/dev/null || true
wait "${pids[@]}" 2>/dev/null || true
pids=()
python3 - "$WORK" "$ROWS" "$ROUNDS" "${names[@]}" <<'PY'
import collections, re, sys
work, rows, rounds, names = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
PERIOD_NS = 100_000  # perf record -c 100000 on cpu-clock: one sample per 100 us of CPU

def crate_of(symbol, dso):
    """The crate a function is named under (`<hyper::x::Y as Z>::f` is hyper's), else the
    library or kernel it is in (libc's functions have no path)."""
    match = re.match(r"<*&?(?:mut )?(?:dyn )?([A-Za-z_][A-Za-z0-9_]*)::", symbol)
    return match[1] if match else dso

def load(name):
    """A server's rounds summed: requests, ns per request by function and by crate."""
    requests = sum(int(open(f"{work}/{name}.{r}.requests").read().split()[0]) for r in range(1, rounds + 1))
    ns = PERIOD_NS / requests
    per_symbol, per_crate = collections.Counter(), collections.Counter()
    for line in (line for r in range(1, rounds + 1) for line in open(f"{work}/{name}.{r}.symbols")):
        match = re.match(r"\s*(\d+)\s+(\S+)\s+\[(.)\]\s+(.*)", line)
        if not match:
            continue
        samples, dso, where, symbol = int(match[1]), match[2], match[3], match[4]
        # Columns are padded; a symbol never holds two spaces in a row.
        symbol = re.sub(r"::h[0-9a-f]{16}$", "", re.split(r"\s{2,}", symbol.strip())[0])
        if where == "k":
            symbol, crate = "[kernel]" + symbol, "[kernel]"
        else:
            crate = crate_of(symbol, dso)
        # Shared library code (hyper, serde_json, libc, the kernel) lines up across binaries.
        per_symbol[symbol] += samples * ns
        per_crate[crate] += samples * ns
    return requests, per_symbol, per_crate

loaded = {name: load(name) for name in names}
print(f"{'server':16}{'requests':>10}{'user us/req':>13}{'kernel us/req':>15}{'total':>8}")
for name in names:
    requests, _, crates = loaded[name]
    kernel = crates["[kernel]"] / 1000
    user = sum(crates.values()) / 1000 - kernel
    print(f"{name:16}{requests:>10}{user:>13.2f}{kernel:>15.2f}{user + kernel:>8.2f}")

_, base, base_crates = loaded[names[0]]
for name in names[1:]:
    _, other, other_crates = loaded[name]
    print(f"\n{name} against {names[0]} by crate: ns per request (each binary's own code under its own name)")
    for delta, crate in sorted(((other_crates.get(c, 0) - base_crates.get(c, 0), c)
                                for c in set(base_crates) | set(other_crates)), reverse=True):
        if abs(delta) >= 10 or max(base_crates.get(crate, 0), other_crates.get(crate, 0)) >= 100:
            print(f"{delta:8.0f} {base_crates.get(crate, 0):7.0f} {other_crates.get(crate, 0):7.0f}  {crate}")
    diff = sorted(((other.get(k, 0) - base.get(k, 0), k) for k in set(base) | set(other)), reverse=True)
    print(f"\n{name} against {names[0]}: ns per request (positive: {name} spends more)")
    for delta, symbol in diff[:rows]:
        print(f"{delta:8.0f} {base.get(symbol, 0):7.0f} {other.get(symbol, 0):7.0f}  {symbol[:110]}")
    print("   ...")
    for delta, symbol in diff[-max(rows // 3, 5):]:
        print(f"{delta:8.0f} {base.get(symbol, 0):7.0f} {other.get(symbol, 0):7.0f}  {symbol[:110]}")
PY
