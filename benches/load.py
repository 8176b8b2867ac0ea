#!/usr/bin/env python3
"""The dialog webhook load benchmark's driver (run through benches/load.sh).

Starts each server pinned to core 0, times its first 200 from process start, checks that every
server answers the same bytes, warms each up, then runs ROUNDS rounds of wrk (core 1), each
round visiting every server in a rotated order so no server always runs first. Prints medians
per server and, per round, the ratio of each server to the typed baseline (their median is the
headline: it cancels the machine's drift).

usage: load.py LUA_SCRIPT BODY_FILE NAME=BINARY...   (the first NAME is the baseline; TOKEN signs;
       BINARY may be "SETTING=VALUE ... PATH": that server's own environment)
"""
import hashlib, hmac, os, shlex, socket, statistics, subprocess, sys, time

lua, body_file = sys.argv[1:3]
servers = [arg.split("=", 1) for arg in sys.argv[3:]]
duration = os.environ.get("DURATION", "5s")
rounds = int(os.environ.get("ROUNDS", "6"))
connections = os.environ.get("CONNECTIONS", "64")
token = os.environ.get("TOKEN", "bench-verify-token")
two_cores = os.cpu_count() >= 2
server_cpu = ["taskset", "-c", "0"] if two_cores else []
load_cpu = ["taskset", "-c", "1"] if two_cores else []
body = open(body_file, "rb").read()
signature = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()

def request(port):
    return (f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"X-Moveo-Signature: {signature}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body

def call(port):
    """One signed call on a fresh connection: (status, body), or None when nothing listens."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
            conn.sendall(request(port))
            data = b""
            while chunk := conn.recv(65536):
                data += chunk
    except OSError:
        return None
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    if b"transfer-encoding: chunked" in head.lower():
        out = b""
        while True:
            size, _, rest = rest.partition(b"\r\n")
            size = int(size, 16)
            if size == 0:
                break
            out, rest = out + rest[:size], rest[size + 2:]
        rest = out
    return status, rest

procs, started = [], {}
try:
    for index, (name, binary) in enumerate(servers):
        port = 18180 + index
        if call(port) is not None:
            sys.exit(f"something already listens on 127.0.0.1:{port}")
        env = dict(os.environ, MOVEO_VERIFY_TOKEN=token, LISTEN_ADDR=f"127.0.0.1:{port}", RUST_LOG="warn")
        # `NAME=VALUE ... BINARY`: settings of this server's own.
        *settings, binary = shlex.split(binary)
        env.update(setting.split("=", 1) for setting in settings)
        t0 = time.monotonic()
        proc = subprocess.Popen(server_cpu + [binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(proc)
        while (answer := call(port)) is None or answer[0] != 200:
            if proc.poll() is not None or time.monotonic() - t0 > 10:
                sys.exit(f"{name} did not answer 200 within 10 s: {answer}")
            time.sleep(0.0005)
        started[name] = ((time.monotonic() - t0) * 1000, answer[1], port, proc)
    bodies = {started[name][1] for name, _ in servers}
    if len(bodies) != 1:
        sys.exit("the servers answer different bytes:\n" + "\n".join(f"{n}: {started[n][1]!r}" for n, _ in servers))

    def cpu_seconds(pid):
        """(user, system) CPU the process has used (every thread), from /proc/PID/stat."""
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return int(fields[11]) / os.sysconf("SC_CLK_TCK"), int(fields[12]) / os.sysconf("SC_CLK_TCK")

    def wrk(name, length):
        port, pid = started[name][2], started[name][3].pid
        before = cpu_seconds(pid)
        out = subprocess.run(load_cpu + ["wrk", "-t1", f"-c{connections}", f"-d{length}", "-s", lua,
                              f"http://127.0.0.1:{port}/webhook"], capture_output=True, text=True, check=True).stdout
        after = cpu_seconds(pid)
        user, system = after[0] - before[0], after[1] - before[1]
        line = next(l for l in out.splitlines() if l.startswith("RESULT"))
        rps, p50, p99, non2xx, sock, requests = map(float, line.split()[1:])
        if non2xx or sock:
            sys.exit(f"port {port}: {non2xx:.0f} non-2xx answers, {sock:.0f} socket errors")
        return rps, p50, p99, (user + system) * 1e6 / requests, user * 1e6 / requests

    for name, _ in servers:
        wrk(name, "2s")
    results = {name: [] for name, _ in servers}
    for r in range(rounds):
        order = servers[r % len(servers):] + servers[:r % len(servers)]
        for name, _ in order:
            results[name].append(wrk(name, duration))
        print(f"round {r + 1}: " + " | ".join(f"{n} {results[n][-1][0]:.0f} req/s p99 {results[n][-1][2] / 1000:.3f} ms"
                                              for n, _ in servers), file=sys.stderr)
    baseline = servers[0][0]
    print(f"wrk -t1 -c{connections}, {rounds} rounds x {duration} per server (medians), servers on core 0, wrk on core 1")
    width = max(16, *(len(name) + 1 for name, _ in servers))
    print(f"{'server':{width}}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}{'user us/req':>13}{'peak RSS MiB':>14}"
          f"{'code MiB':>10}{'first 200 ms':>14}{'req/s ratio':>13}{'p99 ratio':>11}")
    for name, _ in servers:
        rows = results[name]
        status = {l.split(":")[0]: int(l.split()[1]) for l in open(f"/proc/{started[name][3].pid}/status")
                  if l.startswith(("VmHWM", "RssFile"))}
        ratio = statistics.median(a[0] / b[0] for a, b in zip(rows, results[baseline]))
        p99_ratio = statistics.median(a[2] / b[2] for a, b in zip(rows, results[baseline]))
        print(f"{name:{width}}{statistics.median(r[0] for r in rows):>10.0f}{statistics.median(r[1] for r in rows) / 1000:>9.3f}"
              f"{statistics.median(r[2] for r in rows) / 1000:>9.3f}{statistics.median(r[3] for r in rows):>12.2f}"
              f"{statistics.median(r[4] for r in rows):>13.2f}"
              f"{status['VmHWM'] / 1024:>14.1f}{status['RssFile'] / 1024:>10.1f}{started[name][0]:>14.1f}"
              f"{ratio:>13.3f}{p99_ratio:>11.3f}")
    print(f"(ratios: the median over rounds of each server's figure over {baseline}'s in the same round; CPU: user +"
          f" system time of the server per request, user: the user part alone (the kernel's share is the same"
          f" work for every server); code: its file-backed pages, binary and libraries)")
finally:
    for proc in procs:
        proc.kill()
