#!/usr/bin/env bash
# The bytes a server copies with memcpy per request, and from which source lines: the cost that
# instruction counts hide (each async layer that takes the request by value copies it). The
# server runs under gdb with a breakpoint on each of glibc's vectorised memmove entry points
# that prints the size and the stack; it gets 1 signed request on one connection in one run
# and 11 in another, and the difference over 10 is one request's copies.
#
#   bash benches/copies.sh                        # the erasmus example and typed-hyper
#   bash benches/copies.sh BINARY...              # any servers (built with line tables, for
#                                                 # the source lines:
#   CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release -p moveo-dialog-examples --example erasmus)
#
# Prints, per server: calls and bytes per request, then the largest sites (size, the first
# frame's source line, the innermost line of the framework's own). Bounded: 2 runs per server,
# 12 requests, loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh
install_missing gdb:gdb
if [ $# -eq 0 ]; then
  export CARGO_PROFILE_RELEASE_DEBUG=line-tables-only CARGO_TARGET_DIR=target/line-tables
  cargo build -q --release -p moveo-dialog-examples --example erasmus
  cargo build -q --release -p moveo-dialog-benches --bin typed-hyper
  set -- "$CARGO_TARGET_DIR/release/examples/erasmus" "$CARGO_TARGET_DIR/release/typed-hyper"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT INT TERM
cat > "$WORK/gdb" <<'GDB'
set pagination off
set breakpoint pending on
break __memmove_evex_unaligned_erms
break __memmove_avx512_unaligned_erms
break __memmove_avx_unaligned_erms
break __memmove_evex_unaligned
commands 1-4
silent
printf "MEMCPY %d\n", $rdx
bt 6
continue
end
run
GDB
PORT=18560
for binary in "$@"; do
  for requests in 1 11; do
    PORT=$((PORT + 1))
    MOVEO_VERIFY_TOKEN=bench-verify-token LISTEN_ADDR=127.0.0.1:$PORT RUST_LOG=warn \
      timeout 120 gdb -batch -x "$WORK/gdb" --args "$binary" > "$WORK/$requests.out" 2>&1 &
    gdb_pid=$!
    python3 - "$PORT" "$requests" <<'PY'
import hashlib, hmac, socket, sys, time
port, count = int(sys.argv[1]), int(sys.argv[2])
body = open("tests/fixtures/spec/dialog-request.json", "rb").read()
signature = hmac.new(b"bench-verify-token", body, hashlib.sha256).hexdigest()
request = (f"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\nX-Moveo-Signature: {signature}\r\n\r\n").encode() + body
deadline = time.monotonic() + 60
while True:
    try:
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"nothing listens on {port}")
        time.sleep(0.2)
for _ in range(count):
    connection.sendall(request)
    answer = b""
    while not (b"\r\n\r\n" in answer and answer.endswith(b"}")):
        chunk = connection.recv(65536)
        if not chunk:
            sys.exit("the server closed the connection")
        answer += chunk
PY
    sleep 1
    pkill -f "gdb -batch -x $WORK/gdb" || true
    pkill -9 -f "^$binary\$" || true
    wait "$gdb_pid" 2>/dev/null || true
  done
  echo "== $binary"
  python3 - "$WORK/1.out" "$WORK/11.out" <<'PY'
import collections, re, sys
def sites(path):
    counts = collections.Counter()
    for block in re.split(r"\nMEMCPY ", "\n" + open(path, errors="replace").read())[1:]:
        lines = block.splitlines()
        if not lines[0].strip().isdigit():
            continue
        size = int(lines[0].strip())
        places = []
        for frame in (line for line in lines[1:] if line.startswith("#")):
            where = re.search(r" at (\S+):(\d+)\s*$", frame)
            if where:
                path_, line = where.groups()
                short = re.sub(r"^.*/registry/src/[^/]+/|^/rustc/[0-9a-f]+/", "", path_)
                places.append(f"{short}:{line}")
        own = next((p for p in places if p.startswith(("moveo-dialog/", "examples/", "benches/"))), "-")
        counts[(size, places[1] if len(places) > 1 else "?", own)] += 1
    return counts
one, eleven = sites(sys.argv[1]), sites(sys.argv[2])
rows = [((eleven[k] - one[k]) / 10, k) for k in eleven if eleven[k] > one[k]]
calls = sum(n for n, _ in rows)
print(f"per request: {calls:.1f} calls, {sum(n * k[0] for n, k in rows):.0f} bytes")
for n, (size, first, own) in sorted(rows, key=lambda r: -r[0] * r[1][0])[:25]:
    print(f"{n * size:7.0f} B  {n:4.1f} x {size:5d}  {first:60.60}  {own}")
PY
done
