#!/usr/bin/env python3
"""Time from process start to the first 200 of a server, several starts in a row.

usage: python3 benches/first_200.py BINARY [STARTS] [--cold]

Each start runs BINARY pinned to core 0 (MOVEO_VERIFY_TOKEN=bench-verify-token, LISTEN_ADDR
on loopback) and sends the spec's example request, signed, every 0.5 ms until it answers 200.
The first start after a build or a while idle pays for reading the binary from disk; `--cold`
drops the page cache before every start (`sync; echo 1 > /proc/sys/vm/drop_caches`: root
only) to measure that on purpose. Bounded: STARTS (default 5) starts of at most 10 s each.
"""
import hashlib
import hmac
import os
import socket
import subprocess
import sys
import time

args = [arg for arg in sys.argv[1:] if arg != "--cold"]
if not args:
    sys.exit(__doc__)
binary, starts, cold = args[0], int(args[1]) if len(args) > 1 else 5, "--cold" in sys.argv
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
body = open(os.path.join(root, "tests/fixtures/spec/dialog-request.json"), "rb").read()
signature = hmac.new(b"bench-verify-token", body, hashlib.sha256).hexdigest()
request = (f"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\nX-Moveo-Signature: {signature}\r\n"
           f"Connection: close\r\n\r\n").encode() + body
port = 18790


def status():
    """The status of one call, or None while nothing listens."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            connection.sendall(request)
            answer = b""
            while chunk := connection.recv(65536):
                answer += chunk
            return int(answer.split(b" ")[1])
    except (OSError, IndexError, ValueError):
        return None


env = dict(os.environ, MOVEO_VERIFY_TOKEN="bench-verify-token", LISTEN_ADDR=f"127.0.0.1:{port}",
           RUST_LOG="warn")
for _ in range(starts):
    if cold:
        subprocess.run(["sync"], check=True)
        with open("/proc/sys/vm/drop_caches", "w") as caches:
            caches.write("1\n")
    started = time.monotonic()
    server = subprocess.Popen(["taskset", "-c", "0", binary], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while status() != 200:
            if server.poll() is not None or time.monotonic() - started > 10:
                sys.exit(f"{binary} did not answer 200 within 10 s")
            time.sleep(0.0005)
        print(f"first 200 after {(time.monotonic() - started) * 1000:.1f} ms" + (" (cold)" if cold else ""))
    finally:
        server.kill()
        server.wait()
