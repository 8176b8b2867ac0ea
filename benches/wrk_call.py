#!/usr/bin/env python3
"""Prints the wrk Lua script of the load benchmarks: a POST of BODY_FILE signed with TOKEN
(X-Moveo-Signature, the HMAC-SHA256 of the body), and with --report a `done` hook that prints
`RESULT requests/s p50_us p99_us non2xx socket_errors requests` for benches/load.py.

usage: wrk_call.py BODY_FILE TOKEN [--report] > call.lua   (used by load.sh and instructions.sh)
"""
import hashlib, hmac, json, sys

body_file, token = sys.argv[1:3]
body = open(body_file, "rb").read()
print("wrk.method = 'POST'")
print("wrk.body = " + json.dumps(body.decode()))
print("wrk.headers['Content-Type'] = 'application/json'")
print("wrk.headers['X-Moveo-Signature'] = '%s'" % hmac.new(token.encode(), body, hashlib.sha256).hexdigest())
if "--report" in sys.argv[3:]:
    print("""done = function(summary, latency, requests)
  io.write(string.format("RESULT %.1f %.1f %.1f %d %d %d\\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.requests))
end""")
