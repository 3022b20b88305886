#!/usr/bin/env python3
"""Hold many slow HTTP connections against a running Healer and release them, again and again.

Starts `healer run` under an open-file limit (default 1024, hard), with a stub Prometheus it must keep querying,
then in every round opens --connections connections that trickle header bytes (slowloris), holds them, and
releases them all at once (half closed cleanly, half reset). Reports per round whether Healer survived, its
open descriptors at the peak, how many Prometheus queries it made while held, and how long /readyz took after
the release.

    bench/held-connections.py --healer .build/debug/healer [--rounds 13] [--connections 1100] [--hold 12]
"""
import argparse, http.server, json, os, resource, socket, struct, subprocess, sys, tempfile, threading, time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--healer", required=True)
parser.add_argument("--rounds", type=int, default=13)
parser.add_argument("--connections", type=int, default=1100)
parser.add_argument("--hold", type=float, default=12.0, help="seconds each round holds its connections")
parser.add_argument("--nofile", type=int, default=1024)
parser.add_argument("--max-connections", type=int, help="server.max_connections (default: Healer's)")
args = parser.parse_args()

queries = 0
class Stub(http.server.BaseHTTPRequestHandler):
    def answer(self):
        global queries
        queries += 1
        body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_GET = do_POST = answer
    def log_message(self, *_): pass

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

stub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
threading.Thread(target=stub.serve_forever, daemon=True).start()
port = free_port()
work = tempfile.mkdtemp(prefix="held-")
with open(f"{work}/rules.yaml", "w") as f:
    f.write('groups: [{ name: web, pool: web, rules: [{ name: E, expr: e, unhealthy: "> 1", healthy: "< 1", ladder: [{ quarantine: {} }] }] }]\n')
with open(f"{work}/healer.yaml", "w") as f:
    f.write(f"prometheus: {{ url: \"http://127.0.0.1:{stub.server_port}\" }}\npools: {{ web: {{ backend: be, servers: [s1] }} }}\n"
            f"rules: [rules.yaml]\nreconcile: {{ interval: 1s }}\nstate: {{ path: {work}/state.db }}\nserver: {{ listen: \"127.0.0.1:{port}\""
            + (f", max_connections: {args.max_connections}" if args.max_connections else "") + " }\n")

def limit():
    resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, args.nofile))
healer = subprocess.Popen([args.healer, "run", "--config", f"{work}/healer.yaml"], preexec_fn=limit,
                          stdout=open(f"{work}/healer.log", "w"), stderr=subprocess.STDOUT)

def get(path, timeout=2.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return s.recv(64).split(b" ")[1].decode()

def wait_ready(deadline):
    start = time.monotonic()
    while time.monotonic() - start < deadline:
        try:
            if get("/readyz") == "200": return time.monotonic() - start
        except OSError: pass
        time.sleep(0.05)
    return None

def open_fds():
    try: return len(os.listdir(f"/proc/{healer.pid}/fd"))
    except OSError: return -1

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.connections + 256)), hard))
print(f"healer pid {healer.pid}, limit {args.nofile} descriptors, {args.connections} connections x {args.rounds} rounds, hold {args.hold}s")
if wait_ready(30) is None:
    sys.exit(f"healer never became ready; log: {work}/healer.log")
print(f"{'round':>5} {'alive':>5} {'peak fds':>8} {'queries held':>12} {'readyz held':>16} {'readyz after':>12}")
crashes = 0
for round in range(1, args.rounds + 1):
    held = []
    for _ in range(args.connections):
        s = socket.socket(); s.setblocking(False)
        s.connect_ex(("127.0.0.1", port)); held.append(s)
    peak, before, start = 0, queries, time.monotonic()
    probe = {}
    def during_hold():
        time.sleep(1)
        began = time.monotonic()
        try: probe["status"] = get("/readyz", timeout=args.hold + 30)
        except OSError as error: probe["status"] = type(error).__name__
        probe["seconds"] = time.monotonic() - began
    prober = threading.Thread(target=during_hold); prober.start()
    while time.monotonic() - start < args.hold:
        for s in held:
            try: s.send(b"GET / HTTP/1.1\r\nX-Slow: a"[:1] if s.fileno() >= 0 else b"")
            except OSError: pass
        peak = max(peak, open_fds()); time.sleep(0.5)
    during = queries - before
    for index, s in enumerate(held):
        if index % 2: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset
        s.close()
    ready = wait_ready(30)
    prober.join()
    alive = healer.poll() is None
    crashes += not alive
    held_probe = f"{probe.get('status')} in {probe.get('seconds', 0):.2f}s"
    print(f"{round:>5} {'yes' if alive else 'NO':>5} {peak:>8} {during:>12} {held_probe:>16} {('%.2fs' % ready) if ready is not None else 'never':>12}")
    if not alive:
        print(f"healer exited with {healer.returncode}; log: {work}/healer.log"); break
healer.terminate(); healer.wait(30)
print(f"crashes: {crashes} in {round} rounds")
sys.exit(1 if crashes else 0)
