#!/usr/bin/env python3
"""The used-insight benchmark: every layer against the peers, in one run.

Started by bench/run.sh after it has installed nginx and wrk and built
everything; see bench/README.md. Progress goes to stderr; the result is one
markdown table on stdout, also written to bench/results/latest.md.
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import re
import shutil
import signal
import secrets
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
WORK = os.path.join(TARGET, "bench")
RELEASE = os.path.join(TARGET, "release")

TOKEN = "bench-token"
USER = "alice@contoso.com"
# Header values that differ per request or per server; every other header is
# sent byte for byte as the core sends it.
PER_TARGET_HEADERS = {"host", "content-length"}


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes

def run_child(cmd, timeout=600, env=None):
    """Runs a command to completion; returns (stdout, wall seconds, rusage)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out, err = p.communicate(timeout=timeout)
    wall = time.perf_counter() - t0
    # Popen has reaped the child; its rusage is in RUSAGE_CHILDREN. Take a
    # per-child figure by running each child alone (we never run two at once).
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n"
                           f"{err.decode(errors='replace')}{out.decode(errors='replace')}")
    return out.decode(), wall, err.decode()


def run_measured(cmd):
    """Runs a fresh process to completion; returns (wall seconds, the peak
    RSS in KiB it reported, or None)."""
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n"
                           f"{p.stderr.decode(errors='replace')}")
    rss = None
    for line in p.stdout.decode().splitlines():
        if line.startswith("{") and "peak_rss_kib" in line:
            rss = json.loads(line)["peak_rss_kib"]
    return wall, rss


def json_line(out):
    lines = [l for l in out.splitlines() if l.startswith("{")]
    if not lines:
        raise RuntimeError(f"no result line in: {out!r}")
    return [json.loads(l) for l in lines]


def cpu_busy(seconds=1.0):
    """Share of all CPUs busy over `seconds` (from /proc/stat): other work on
    the machine, when nothing of ours is running."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]  # total, idle + iowait
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1 - (i1 - i0) / max(1, t1 - t0)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, what):
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{what} is not listening on {port}")


# ---------------------------------------------------------------- servers

class Emulator:
    """graph-emulator on a free loopback port; with `tls`, over HTTPS with
    its own throwaway CA, whose PEM file is `self.ca`."""

    def __init__(self, tls=False, extra=()):
        exe = os.path.join(RELEASE, "graph-emulator")
        self.proc = subprocess.Popen([exe, "--port", "0"] + (["--tls"] if tls else []) + list(extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"graph-emulator said {line!r}")
        self.url = line[len("listening on "):]
        self.ca = self.context = None
        if tls:
            line = self.proc.stdout.readline().strip()
            if not line.startswith("ca "):
                raise RuntimeError(f"graph-emulator said {line!r}")
            self.ca = line[len("ca "):]
            self.context = ssl.create_default_context(cafile=self.ca)

    def control(self, method, path):
        req = urllib.request.Request(self.url + path, method=method,
                                     data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, context=self.context) as r:
            return json.load(r)

    def reset(self):
        self.control("POST", "/_emulator/reset")

    def requests(self):
        return self.control("GET", "/_emulator/requests")["requests"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


OPENSSL_CNF = """
[req]
distinguished_name = dn
prompt = no
[dn]
CN = used-insight bench
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


def make_certificates(tmp):
    """A throwaway CA and a server certificate it signs (localhost,
    127.0.0.1), ECDSA P-256 as graph-emulator's, valid for two days, made
    with `openssl` in the run's temp dir. Returns (CA PEM, cert, key)."""
    d = os.path.join(tmp, "tls")
    os.makedirs(d, exist_ok=True)
    cnf, ca_key, ca, key, csr, cert = (os.path.join(d, n) for n in (
        "openssl.cnf", "ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    with open(cnf, "w") as f:
        f.write(OPENSSL_CNF)

    def openssl(*args):
        p = subprocess.run(["openssl", *args], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"openssl {' '.join(args)} failed:\n{p.stderr}")

    for k in (ca_key, key):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", k)
    openssl("req", "-x509", "-new", "-key", ca_key, "-config", cnf, "-extensions", "ca_ext",
            "-subj", "/CN=used-insight bench throwaway CA", "-days", "2",
            "-set_serial", str(secrets.randbits(63)), "-out", ca)
    openssl("req", "-new", "-key", key, "-config", cnf, "-subj", "/CN=localhost", "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-days", "2",
            "-set_serial", str(secrets.randbits(63)), "-extfile", cnf,
            "-extensions", "server_ext", "-out", cert)
    return ca, cert, key


class Nginx:
    """nginx from Debian's package with a generated config in a temp dir:
    one worker, keep-alive, access log off, a fixed 201 usedInsight body;
    the same server also on a second port over TLS (`tls`: cert and key)."""

    def __init__(self, tmp, body, tls):
        self.port = free_port()
        self.tls_port = free_port()
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(os.path.join(self.dir, "logs"), exist_ok=True)
        if "'" in body or "$" in body:
            raise RuntimeError("the fixed body must not contain ' or $ (nginx quoting)")
        conf = f"""
daemon off;
master_process on;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    client_body_temp_path {self.dir}/body;
    proxy_temp_path {self.dir}/proxy;
    fastcgi_temp_path {self.dir}/fastcgi;
    uwsgi_temp_path {self.dir}/uwsgi;
    scgi_temp_path {self.dir}/scgi;
    client_body_buffer_size 64k;
    server {{
        listen 127.0.0.1:{self.port};
        listen 127.0.0.1:{self.tls_port} ssl;
        ssl_certificate {tls[0]};
        ssl_certificate_key {tls[1]};
        ssl_protocols TLSv1.2 TLSv1.3;
        location ~ ^/v1\\.0/users/[^/]+/insights/used$ {{
            limit_except POST {{ deny all; }}
            default_type application/json;
            return 201 '{body}';
        }}
        location / {{ return 404; }}
    }}
}}
"""
        self.conf = os.path.join(self.dir, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-p", self.dir, "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_listening(self.port, self.proc, "nginx")
        wait_listening(self.tls_port, self.proc, "nginx")
        self.base = f"http://127.0.0.1:{self.port}"
        self.tls_base = f"https://127.0.0.1:{self.tls_port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown of master and worker
            self.proc.wait(10)


# ---------------------------------------------------------------- the request

def capture_request(emu, insight_path):
    """What the core sends, as seen by the emulator: the template every
    fixed-bytes contestant (wrk, bare ureq, requests) replays."""
    emu.reset()
    run_child([BIN, "core", "--base", emu.url, "--insight", insight_path, "--count", "1"])
    sent = emu.requests()[0]
    headers = [[k, v] for k, v in sorted(sent["headers"].items()) if k not in PER_TARGET_HEADERS]
    return {"method": sent["method"], "path": sent["path"], "headers": headers,
            "body": sent["body"]}


def request_file(template, base, name):
    path = os.path.join(WORK, f"request-{name}.json")
    with open(path, "w") as f:
        json.dump({"url": base + template["path"], "headers": template["headers"],
                   "body": template["body"]}, f)
    return path


def wrk_script(template, name):
    def lua(s):
        # Printable ASCII as is, every other byte (and " and \\) as \\ddd.
        return '"' + "".join(chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:03d}"
                             for b in s.encode()) + '"'

    lines = ['wrk.method = "POST"', f"wrk.body = {lua(template['body'])}"]
    lines += [f"wrk.headers[{lua(k)}] = {lua(v)}" for k, v in template["headers"]]
    path = os.path.join(WORK, f"wrk-{name}.lua")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# ---------------------------------------------------------------- contestants

class Contestants:
    """How each contestant is run against one server; with `ca` (the PEM
    file of the CA behind an https:// `base`), every driver trusts it."""

    def __init__(self, opts, template, base, insight, ca=None, name="nginx"):
        self.opts = opts
        self.base = base
        self.insight = insight
        self.request = request_file(template, base, name)
        self.url = base + template["path"]
        self.wrk_lua = wrk_script(template, name)
        self.ca = ["--ca", ca] if ca else []

    def wrk(self, seconds):
        secs = max(1, round(seconds))
        cmd = ["wrk", "-t1", "-c1", f"-d{secs}s", "-s", self.wrk_lua, self.url]
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        out = p.stdout.read().decode()
        err = p.stderr.read().decode()
        p.stdout.close()
        p.stderr.close()
        wall = time.perf_counter() - t0
        m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
        if os.waitstatus_to_exitcode(status) != 0 or not m or "Non-2xx" in out or err:
            raise RuntimeError(f"wrk failed:\n{out}{err}")
        n, dur = int(m.group(1)), float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
        # wrk's CPU is its whole process (start-up is ~1 ms of it).
        return {"creates": n, "wall_s": dur, "cpu_s": ru.ru_utime + ru.ru_stime,
                "process_wall_s": wall}

    def _one(self, cmd):
        out, _, _ = run_child(cmd)
        return json_line(out)[-1]

    def ureq(self, seconds, *flags):
        return self._one([BIN, "ureq", "--request", self.request, "--seconds", str(seconds),
                          *flags, *self.ca])

    def core(self, seconds, threads=1, *flags):
        return self._one([BIN, "core", "--base", self.base, "--insight", self.insight,
                          "--seconds", str(seconds), "--threads", str(threads), *flags,
                          *self.ca])

    def c(self, seconds):
        return self._one([C_DRIVER, "loop", *self.ca, self.base, TOKEN, USER, self.insight,
                          str(seconds)])

    def python(self, seconds, threads=1):
        return self._one([self.opts.python, PY_DRIVER, "layer", "--base", self.base,
                          "--insight", self.insight, "--seconds", str(seconds),
                          "--threads", str(threads), *self.ca])

    def python_async(self, seconds):
        return self._one([self.opts.python, PY_DRIVER, "async", "--base", self.base,
                          "--insight", self.insight, "--seconds", str(seconds), *self.ca])

    def requests(self, seconds):
        return self._one([self.opts.python, PY_DRIVER, "requests", "--request", self.request,
                          "--seconds", str(seconds)])

    def msgraph(self, count):
        return self._one([self.opts.msgraph_python, PY_DRIVER, "msgraph", "--base", self.base,
                          "--insight", self.insight, "--count", str(count)])


def wire_check(opts, emu, template, insight):
    """Sends one round of every contestant to the emulator and compares what
    arrived with the template: same method, path, body bytes and headers.
    Over TLS (an emulator with `tls`), the contestants of the TLS rows."""
    tls = emu.ca is not None
    c = Contestants(opts, template, emu.url, insight, ca=emu.ca,
                    name="emulator-tls" if tls else "emulator")
    runs = {
        "wrk": lambda: subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", c.wrk_lua, c.url],
                                      check=True, capture_output=True),
        "ureq": lambda: c.ureq(0),
        "core": lambda: c.core(0),
        "C": lambda: c.c(0),
        "Python": lambda: c.python(0),
    }
    if not tls:
        runs["requests"] = lambda: c.requests(0)
    if opts.msgraph_python and not tls:
        runs["msgraph-sdk"] = lambda: c.msgraph(1)
    expected = dict(template["headers"])
    report = {}
    for name, run in runs.items():
        emu.reset()
        run()
        got = emu.requests()[0]
        diffs = []
        if got["method"] != template["method"] or got["path"] != template["path"]:
            diffs.append(f"{got['method']} {got['path']}")
        if got["body"] != template["body"]:
            diffs.append(f"a body of {len(got['body'])} bytes, formatted its own way")
        headers = {k: v for k, v in got["headers"].items() if k not in PER_TARGET_HEADERS}
        for k in sorted(set(headers) | set(expected)):
            if k == "client-request-id" and k in headers:
                continue  # a fresh UUID per call by design; same length
            if k not in headers:
                diffs.append(f"no {k}")
            elif headers.get(k) != expected.get(k):
                diffs.append(f"{k}: {headers[k]}")
        report[name] = diffs
    emu.reset()
    return report


# ---------------------------------------------------------------- phases

def stats(values):
    return min(values), statistics.median(values), max(values)


def sequential(opts, c, names, what="sequential"):
    runs = {n: [] for n in names}
    per_round_msgraph = max(1, opts.msgraph_creates // opts.rounds)
    for r in range(opts.rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        log(f"{what} round {r + 1}/{opts.rounds}: {' '.join(order)}")
        for n in order:
            if n == "wrk":
                res = c.wrk(opts.seconds)
            elif n == "ureq":
                res = c.ureq(opts.seconds)
            elif n == "ureq-timeouts":
                res = c.ureq(opts.seconds, "--timeouts")
            elif n == "core":
                res = c.core(opts.seconds)
            elif n == "core-json":
                res = c.core(opts.seconds, 1, "--json")
            elif n == "core-limited":
                res = c.core(opts.seconds, 1, "--rate-limit", NEVER_BINDING)
            elif n == "C":
                res = c.c(opts.seconds)
            elif n == "Python":
                res = c.python(opts.seconds)
            elif n == "Python async":
                res = c.python_async(opts.seconds)
            elif n == "requests":
                res = c.requests(opts.seconds)
            else:
                res = c.msgraph(per_round_msgraph)
            runs[n].append(res)
    return runs


def threaded(opts, c):
    kinds = [(layer, n) for layer in ("core", "Python") for n in (1, 2, 4)]
    runs = {k: [] for k in kinds}
    for r in range(opts.rounds):
        order = kinds[r % len(kinds):] + kinds[:r % len(kinds)]
        log(f"threads round {r + 1}/{opts.rounds}")
        for layer, n in order:
            f = c.core if layer == "core" else c.python
            runs[(layer, n)].append(f(opts.thread_seconds, threads=n))
    return runs


def startup(opts, base, tls_base, ca, insight):
    """Fresh processes, alternated: interpreter start, import, first create
    (plain and over TLS, the handshake included)."""
    py = opts.python
    kinds = {
        "python -c pass": [py, "-c", "pass"],
        "import used_insight": [py, "-c", "import used_insight"],
        "first create: core": [BIN, "first-create", "--base", base, "--insight", insight],
        "first create: core TLS": [BIN, "first-create", "--base", tls_base, "--insight", insight,
                                   "--ca", ca],
        "first create: C": [C_DRIVER, "first", base, TOKEN, USER, insight],
        "first create: C TLS": [C_DRIVER, "first", "--ca", ca, tls_base, TOKEN, USER, insight],
        # A minimal program, so the figure is the library's, not argparse's.
        "first create: Python": [py, "-c", FIRST_CREATE_PY, base, insight],
        "first create: Python TLS": [py, "-c", FIRST_CREATE_PY, tls_base, insight, ca],
    }
    slow = {}
    if opts.msgraph_python:
        slow["import msgraph"] = [opts.msgraph_python, "-c", "import msgraph"]
        slow["first create: msgraph-sdk"] = [opts.msgraph_python, PY_DRIVER, "first-msgraph",
                                             "--base", base, "--insight", insight]
    # Peak RSS of the bare interpreter, for comparison (VmHWM, as the
    # drivers report theirs).
    hwm = ("import json; print(json.dumps({'peak_rss_kib': int(next(l.split()[1] "
           "for l in open('/proc/self/status') if l.startswith('VmHWM:')))}))")
    slow["rss: python"] = [py, "-c", hwm]
    results = {k: [] for k in list(kinds) + list(slow)}
    # Warm the page cache once so the first round is not an outlier.
    for cmd in list(kinds.values()) + list(slow.values()):
        run_measured(cmd)
    for r in range(opts.startup_runs):
        for name, cmd in kinds.items():
            results[name].append(run_measured(cmd))
        if r < opts.msgraph_startup_runs:
            for name, cmd in slow.items():
                results[name].append(run_measured(cmd))
    return results


def many(opts, emu, insight):
    out, _, _ = run_child([BIN, "many", "--base", emu.url, "--insight", insight,
                           "--count", str(opts.many_count), "--rounds", str(opts.many_rounds),
                           "--concurrency", "1", "--concurrency", "4", "--reset"])
    lines = json_line(out)
    has_many = subprocess.run([opts.python, "-c", "import sys, used_insight; "
                               "sys.exit(not hasattr(used_insight.Client, 'create_many'))"])
    if has_many.returncode == 0:
        out, _, _ = run_child([opts.python, PY_DRIVER, "many", "--base", emu.url, "--insight",
                               insight, "--count", str(opts.many_count),
                               "--rounds", str(opts.many_rounds)])
        lines += json_line(out)
    else:
        log("the Python layer has no Client.create_many: its rows are left out")
    runs = {}
    for line in lines:
        runs.setdefault(line["contestant"], []).append(line)
    return runs


# The bulk section: Graph's Insights limits (4 in flight, 10,000 per 600 s)
# scaled down in time, with a latency standing in for Graph's time per request.
BULK = {"max_concurrent": 4, "requests": 100, "per_s": 2.0, "latency_ms": 2, "count": 400}
BULK_HOWS = [
    ("loop", "a `create` loop, 1 thread"),
    ("threads:16", "`create` on 16 threads sharing the client"),
    ("many:1", "`create_many_with`, concurrency 1"),
    ("many:4", "`create_many_with`, concurrency 4"),
]
# A rate limit that never binds: for the limiter's own cost.
NEVER_BINDING = "64,4000000000,1"


def bulk_floor(how):
    """The least time the limits allow for the bulk run: the window lets
    `requests` go at once and as many again each `per`; the last of them
    need their latency, `max_concurrent` at a time (one at a time for a
    one-thread loop); and no more than `max_concurrent` are ever in flight."""
    b = BULK
    in_flight = 1 if how == "loop" else b["max_concurrent"]
    latency = b["latency_ms"] / 1000
    windows = math.ceil(b["count"] / b["requests"]) - 1
    last = b["count"] - windows * b["requests"]
    return max(windows * b["per_s"] + math.ceil(last / in_flight) * latency,
               math.ceil(b["count"] / in_flight) * latency)


def bulk(insight):
    """Each way of making the creates, with the client's rate limit on (set
    to the emulator's limits) and off, against one emulator enforcing them."""
    b = BULK
    emu = Emulator(extra=["--limit-concurrent", str(b["max_concurrent"]),
                          "--limit-requests", str(b["requests"]),
                          "--limit-per", f"{b['per_s']:g}", "--latency", str(b["latency_ms"])])
    limit = f"{b['max_concurrent']},{b['requests']},{b['per_s']:g}"
    runs = {}
    try:
        for how, _ in BULK_HOWS:
            for on in (True, False):
                log(f"bulk: {how}, rate limit {'on' if on else 'off'}")
                out, _, _ = run_child([BIN, "bulk", "--base", emu.url, "--insight", insight,
                                       "--count", str(b["count"]), "--how", how,
                                       "--rate-limit", limit if on else "off"], timeout=900)
                runs[f"{how} {'on' if on else 'off'}"] = json_line(out)[-1]
    finally:
        emu.stop()
    return runs


BULK_HEADING = "## Bulk under Graph's limits"


def bulk_block(runs):
    b = BULK
    rows = [
        BULK_HEADING,
        "",
        f"{b['count']} creates against `graph-emulator --limit-concurrent {b['max_concurrent']} "
        f"--limit-requests {b['requests']} --limit-per {b['per_s']:g} --latency "
        f"{b['latency_ms']}`: Graph's Insights limits (4 in flight, 10,000 per 600 s) with the "
        f"window scaled down in time, each request (and batch item) taking "
        f"{b['latency_ms']} ms. Rate limit on: the client's `RateLimit` set to the same limits "
        "(`{max_concurrent: 4, requests: 100, per: 2 s}`); off: `rate_limit(None)`, the "
        "default retry policy (3 retries, `Retry-After` honoured). The floor is the least "
        "time the limits allow (see `bulk_floor` in run.py). 429s: answers the emulator's "
        "limits gave (requests and batch items), against the items sent. `create_many` "
        "with the rate limit on sends parallel batches of 4 at concurrency 1 and chains of 20 "
        "(`dependsOn`, 4 batches in flight) at concurrency 4; off, batches of 20 items Graph "
        "runs in parallel (docs/DECISIONS.md, \"The batch shape\"). One run each "
        f"(date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
        f"machine: {machine()}).",
        "",
        "| how | rate limit | time | floor | × floor | 429s | HTTP requests | created, failed, stored | target |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for how, label in BULK_HOWS:
        floor = bulk_floor(how)
        for on in (True, False):
            r = runs[f"{how} {'on' if on else 'off'}"]
            ratio = r["wall_s"] / floor
            share = r["throttled"] / max(1, r["items_sent"])
            whole = r["creates"] == b["count"] and r["stored"] == r["creates"]
            target = ""
            if on:
                ok = ratio <= 1.10 and share <= 0.01 and whole
                target = verdict(ok, "≤ 1.10× floor, ≤ 1 % throttled, nothing lost")
            rows.append(
                f"| {label} | {'on' if on else 'off'} | {r['wall_s']:.2f} s | {floor:.2f} s | "
                f"{ratio:.2f}× | {r['throttled']} ({share:.1%}) | {r['http_requests']} | "
                f"{r['creates']}, {r['failed']}, {r['stored']} | {target} |")
    rows.append("")
    rows.append("Off, a failed create is one whose retries ran out against the emulator's 429s: "
                "reported to the caller as a 429 `Graph` error, not created; nothing is lost "
                "silently either way (created + failed = " + str(b["count"]) + ").")
    return "\n".join(rows) + "\n"


def write_bulk_only(block):
    """Replaces the bulk section of results/latest.md (or adds it)."""
    path = os.path.join(BENCH, "results", "latest.md")
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    if BULK_HEADING in text:
        text = text[:text.index(BULK_HEADING)].rstrip("\n") + "\n"
    with open(path, "w") as f:
        f.write(text + ("\n" if text else "") + block)


def micro(opts):
    out, _, _ = run_child(["cargo", "bench", "-j2", "-q", "-p", "used-insight-bench",
                           "--bench", "model"], timeout=900)
    found = {}
    units = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
    for line in out.splitlines():
        m = re.match(r"^[├╰│ ─]*\s*(\w+)\s+([\d.]+) (ns|µs|us|ms|s)\s+│\s+([\d.]+) (ns|µs|us|ms|s)"
                     r"\s+│\s+([\d.]+) (ns|µs|us|ms|s)", line)
        if m:
            name = m.group(1)
            fastest = float(m.group(2)) * units[m.group(3)]
            slowest = float(m.group(4)) * units[m.group(5)]
            median = float(m.group(6)) * units[m.group(7)]
            found[name] = (fastest, median, slowest)
    if not found:
        raise RuntimeError(f"could not read divan's output:\n{out}")
    return found


# ---------------------------------------------------------------- the table

def machine():
    info = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    except OSError:
        pass
    cpu = info.get("Model name", "unknown CPU")
    if "CPU family" in info and "Model" in info:
        cpu += f" (family {info['CPU family']}, model {info['Model']})"
    if info.get("Hypervisor vendor"):
        cpu += f", {info['Hypervisor vendor']} guest"
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}"


def versions(opts):
    def first_line(cmd):
        try:
            p = subprocess.run(cmd, capture_output=True, text=True)
            return (p.stdout or p.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    v = {
        "nginx": first_line(["nginx", "-v"]).replace("nginx version: ", ""),
        "wrk": first_line(["wrk", "-v"]).split(" [")[0],
        "rustc": first_line(["rustc", "--version"]),
        "python": first_line([opts.python, "--version"]),
        "requests": first_line([opts.python, "-c", "import requests; print(requests.__version__)"]),
    }
    if opts.msgraph_python:
        v["msgraph-sdk"] = first_line([opts.msgraph_python, "-c",
                                       "import importlib.metadata as m; print(m.version('msgraph-sdk'))"])
    return v


def fmt_rate(x):
    return f"{x:,.0f}"


def fmt_ratio(x):
    return f"{x:.2f}×"


def verdict(ok, text):
    return f"{'✅' if ok else '❌'} {text}"


def build_table(opts, seq, seq_tls, thr, start, mny, mic, wire, sizes, load):
    rows = []

    def row(measure, unit, values=None, med_s=None, vs_wrk="", vs_core="", cpu="", target=""):
        if values is not None:
            lo, med, hi = stats(values)
            med_s = med_s or unit(med)
            rng = f"{unit(lo)} – {unit(hi)}"
        else:
            rng = ""
        rows.append(f"| {measure} | {med_s} | {rng} | {vs_wrk} | {vs_core} | {cpu} | {target} |")

    def section(title):
        rows.append(f"| **{title}** | | | | | | |")

    def sequential_rows(seq, labels, targets):
        """One row per contestant; ratios to this section's wrk and core.
        Returns the medians."""
        rate = {n: [r["creates"] / r["wall_s"] for r in runs] for n, runs in seq.items()}
        cpu_us = {n: statistics.median(r["cpu_s"] / r["creates"] * 1e6 for r in runs)
                  for n, runs in seq.items()}
        med = {n: statistics.median(v) for n, v in rate.items()}
        for n in seq:
            t = verdict(*targets(med)[n]) if n in targets(med) else ""
            row(labels[n], fmt_rate, rate[n], vs_wrk=fmt_ratio(med[n] / med["wrk"]),
                vs_core=fmt_ratio(med[n] / med["core"]), cpu=f"{cpu_us[n]:,.0f}", target=t)
        return med

    section(f"Sequential creates/s against nginx (1 connection, {opts.rounds} rounds × "
            f"{opts.seconds:g} s, alternated)")
    labels = {
        "wrk": "wrk -t1 -c1 (the limit)", "ureq": "bare ureq loop, fixed bytes",
        "ureq-timeouts": "bare ureq loop + the core's timeouts (diagnostic)",
        "core": "core `Client::create`", "C": "C `used_insight_create`",
        "core-json": "core `Client::create_json` (JSON text in and out, as the C call)",
        "core-limited": "core `Client::create`, rate limit on, never binding (diagnostic)",
        "Python": "Python `Client.create` (wheel)",
        "Python async": "Python `await AsyncClient.create` (one loop, one after the other)",
        "requests": "requests.Session, fixed bytes",
        "msgraph-sdk": f"msgraph-sdk ({opts.msgraph_creates} creates in all)",
    }
    med = sequential_rows(seq, labels, lambda med: {
        "core": (med["core"] >= 0.95 * med["ureq"], f"≥ 0.95× ureq: {med['core'] / med['ureq']:.2f}×"),
        "C": (med["C"] >= 0.95 * med["core-json"],
              f"≥ 0.95× core `create_json`: {med['C'] / med['core-json']:.2f}×"),
        "Python": (med["Python"] >= 0.5 * med["wrk"], f"≥ 0.5× wrk: {med['Python'] / med['wrk']:.2f}×"),
    })
    wrk, core = med["wrk"], med["core"]
    if "Python async" in med:
        # What an await adds to a create: the hop to the client's thread and
        # back (medians of the two sequential rows above).
        extra = 1e6 / med["Python async"] - 1e6 / med["Python"]
        rows.append(f"| AsyncClient: extra time per create vs `Client.create` | "
                    f"{extra:,.0f} µs | | | | | |")

    section(f"Sequential creates/s over TLS against nginx (1 connection, keep-alive, "
            f"{opts.rounds} rounds × {opts.seconds:g} s, alternated)")
    sequential_rows(seq_tls, {
        "wrk": "wrk -t1 -c1, https (the limit)",
        "ureq": "bare ureq loop over TLS, fixed bytes, trusting the CA",
        "core": "core `Client::create`, `add_root_certificates_file`",
        "C": "C `used_insight_create`, `…_add_root_certificates_file`",
        "Python": "Python `Client.create`, `ca_file=`",
    }, lambda med: {
        "core": (med["core"] >= 0.95 * med["ureq"],
                 f"≥ 0.95× ureq over TLS: {med['core'] / med['ureq']:.2f}×"),
    })

    section(f"Threads sharing one client, creates/s against nginx ({opts.rounds} rounds × "
            f"{opts.thread_seconds:g} s)")
    for (layer, n), runs in thr.items():
        r = [x["creates"] / x["wall_s"] for x in runs]
        c = statistics.median(x["cpu_s"] / x["creates"] * 1e6 for x in runs)
        name = "core" if layer == "core" else "Python"
        row(f"{name}, {n} thread{'s' if n > 1 else ''}", fmt_rate, r,
            vs_wrk=fmt_ratio(statistics.median(r) / wrk),
            vs_core=fmt_ratio(statistics.median(r) / core), cpu=f"{c:,.0f}")

    section(f"Start-up and footprint (fresh processes, {opts.startup_runs} runs each, alternated)")
    ms = lambda x: f"{x * 1e3:.1f} ms"
    walls = {k: [w for w, _ in v] for k, v in start.items()}
    rss = {k: [r / 1024 for _, r in v] for k, v in start.items() if v and v[0][1] is not None}
    base_py = statistics.median(walls["python -c pass"])
    row("`python -c pass`", ms, walls["python -c pass"])
    imp = statistics.median(walls["import used_insight"])
    row("`python -c 'import used_insight'`", ms, walls["import used_insight"],
        target=verdict(imp <= 1.5 * base_py, f"≤ 1.5× pass: {imp / base_py:.2f}×"))
    if "import msgraph" in walls:
        m = statistics.median(walls["import msgraph"])
        row("`python -c 'import msgraph'`", ms, walls["import msgraph"],
            target=f"{m / base_py:.1f}× pass")
    layers = ("core", "core TLS", "C", "C TLS", "Python", "Python TLS", "msgraph-sdk")

    def name(layer):
        return layer.replace(" TLS", " over TLS (handshake included)")

    for layer in layers:
        k = f"first create: {layer}"
        if k in walls:
            v = statistics.median(walls[k])
            t = verdict(v <= 0.060, "≤ 60 ms") if layer != "msgraph-sdk" else ""
            if layer.endswith(" TLS"):
                plain = statistics.median(walls[k[:-len(" TLS")]])
                t += f"; +{(v - plain) * 1e3:.1f} ms over plain"
            row(f"first create in a fresh process: {name(layer)}", ms, walls[k], target=t)
    mib = lambda x: f"{x:.1f} MiB"
    for layer in layers:
        k = f"first create: {layer}"
        if k in rss:
            v = statistics.median(rss[k])
            row(f"peak RSS after one create: {name(layer).split(' (')[0]}", mib, rss[k],
                target=verdict(v <= 20, "≤ 20 MiB") if layer != "msgraph-sdk" else "")
    row("peak RSS of a bare `python -c`", mib, rss["rss: python"])
    wheel = sizes["wheel"]
    row("wheel size", None, med_s=f"{wheel / 1e6:.2f} MB",
        target=verdict(wheel <= 3e6, "≤ 3 MB"))
    row("libused_insight.so size (as built; stripped)", None,
        med_s=f"{sizes['so'] / 1e6:.2f} MB; {sizes['so_stripped'] / 1e6:.2f} MB")

    section(f"create_many vs a create loop, {opts.many_count:,} creates against graph-emulator "
            f"({opts.many_rounds} rounds)")
    for name, runs in mny.items():
        py = name.startswith("py-")
        loop = mny["py-single-loop" if py else "single-loop"]
        single = statistics.median(r["creates"] / r["wall_s"] for r in loop)
        r = [x["creates"] / x["wall_s"] for x in runs]
        c = statistics.median(x["cpu_s"] / x["creates"] * 1e6 for x in runs)
        is_loop = name.endswith("single-loop")
        layer = "Python" if py else "core"
        fn = "create_many" if py else "create_many_with"
        label = (f"{layer}: `create` loop" if is_loop
                 else f"{layer}: `{fn}`, concurrency {name.split('-c')[-1]}")
        row(label, fmt_rate, r, cpu=f"{c:,.0f}",
            target="" if is_loop else f"{statistics.median(r) / single:.1f}× the loop")

    section("Micro (divan): model work on the full insight, per call")
    us = lambda x: f"{x:.2f} µs"
    for name in ("parse", "validate", "serialize", "serialize_validate_parse"):
        if name in mic:
            lo, m, hi = mic[name]
            label = {"serialize_validate_parse": "serialize + validate + parse",
                     "parse": "parse (`UsedInsight::from_json`)",
                     "validate": "validate (`.validate()`)",
                     "serialize": "serialize (`.to_json()`)"}[name]
            rows.append(f"| {label} | {us(m)} | {us(lo)} – {us(hi)} | | | | |")

    head = [
        "| measure | median | min – max | vs wrk -c1 | vs core | client CPU µs/create | target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    wire_ok = [n for n, d in wire.items() if not d and not n.endswith(" over TLS")]
    wire_ok_tls = [n[:-len(" over TLS")] for n, d in wire.items()
                   if not d and n.endswith(" over TLS")]
    wire_diff = {n: d for n, d in wire.items() if d}
    notes = [
        f"Machine: {machine()}. Other work on it: CPUs {load[0]:.0%} busy in the second "
        f"before the run, {load[1]:.0%} in the second after.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions(opts).items()) + ".",
        f"Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"command: `bench/run.sh{' --with-msgraph' if opts.msgraph_python else ''}"
        f"{' --quick' if opts.quick else ''}`.",
    ]
    foot = [
        "",
        "Same request for everyone: " + ", ".join(wire_ok) +
        (f", and over TLS {', '.join(wire_ok_tls)}," if wire_ok_tls else "") +
        f" sent the same method, path, body bytes ({sizes['body']} bytes) and headers "
        "(the core's `client-request-id` is a fresh UUID per call) — checked against "
        "graph-emulator (over TLS: `graph-emulator --tls`) before the run." +
        "".join(f" {n} differs: {'; '.join(d)}." for n, d in wire_diff.items()),
        "Client CPU is user + system time of the client process around its request loop "
        "(wrk: its whole process); the server (nginx, one worker) shares the same 2 cores.",
        "Over TLS: the same nginx server on a second port (TLS 1.2 and 1.3 offered), its "
        "certificate (ECDSA P-256; localhost, 127.0.0.1) signed by a throwaway CA made with "
        "`openssl` for the run; every client but wrk verifies it against that CA. The "
        "handshake is outside the timed loops; the first-create rows include it.",
        "Peak RSS is VmHWM of the program itself (getrusage's ru_maxrss would carry over the "
        "forked parent's peak).",
    ]
    return "\n".join(notes + [""] + head + rows + foot) + "\n"


# ---------------------------------------------------------------- main

def main():
    # SIGTERM (and SIGINT) end the run through the finally below, which stops
    # nginx and the emulator.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--python", help="the bench venv's python (wheel installed)")
    p.add_argument("--msgraph-python", help="the msgraph-sdk venv's python (--with-msgraph)")
    p.add_argument("--wheel")
    p.add_argument("--bulk-only", action="store_true",
                   help="only the bulk section, written over its part of results/latest.md")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int)
    p.add_argument("--seconds", type=float)
    args = p.parse_args()
    if args.bulk_only:
        os.makedirs(WORK, exist_ok=True)
        insight = os.path.join(WORK, "bulk-insight.json")
        with open(os.path.join(BENCH, "fixtures", "fixed_201_body.json")) as f:
            doc = json.load(f)
        doc.pop("id")
        with open(insight, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        block = bulk_block(bulk(insight))
        write_bulk_only(block)
        print(block, end="")
        return
    if not args.python or not args.wheel:
        p.error("--python and --wheel are needed (unless --bulk-only)")
    quick = args.quick
    # Many short rounds rather than a few long ones: on a shared 2-core
    # guest a burst of other work spoils a round, and the median of nine
    # shrugs off more spoiled rounds than the median of five.
    args.rounds = args.rounds or (5 if quick else 9)
    args.seconds = args.seconds or 1.0
    args.thread_seconds = 1.0
    args.startup_runs = 10 if quick else 20
    args.msgraph_startup_runs = 3
    args.msgraph_creates = 300
    args.many_count = 10_000
    args.many_rounds = 2 if quick else 3

    os.makedirs(WORK, exist_ok=True)
    busy0 = cpu_busy()
    if busy0 > 0.05:
        log(f"the CPUs were {busy0:.0%} busy before the run: other work on this machine "
            "will make the figures noisy")
    tmp = tempfile.mkdtemp(prefix="used-insight-bench-")
    emu = nginx = None
    try:
        emu = Emulator()
        with open(os.path.join(BENCH, "fixtures", "fixed_201_body.json")) as f:
            fixed_body = f.read().strip()
        # The insight every contestant creates: the fixed body without the
        # id Graph assigns, in the core's own serialization.
        insight = os.path.join(WORK, "insight.json")
        doc = json.loads(fixed_body)
        doc.pop("id")
        with open(insight, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        template = capture_request(emu, insight)
        with open(insight, "w") as f:
            f.write(template["body"])
        log(f"request: POST {template['path']}, {len(template['body'])} body bytes, "
            f"headers {', '.join(k for k, _ in template['headers'])}")

        log("wire check against graph-emulator")
        wire = wire_check(args, emu, template, insight)
        # A fresh emulator for create_many later; this one has served its turn.
        emu.stop()
        emu = None
        log("wire check over TLS against graph-emulator --tls")
        emu = Emulator(tls=True)
        wire.update({f"{n} over TLS": d for n, d in wire_check(args, emu, template, insight).items()})
        emu.stop()
        emu = None
        for n, d in wire.items():
            log(f"  {n}: {'same request' if not d else '; '.join(d)}")

        ca, cert, key = make_certificates(tmp)
        nginx = Nginx(tmp, fixed_body, (cert, key))
        for conn in (http.client.HTTPConnection("127.0.0.1", nginx.port),
                     http.client.HTTPSConnection(
                         "127.0.0.1", nginx.tls_port,
                         context=ssl.create_default_context(cafile=ca))):
            conn.request("POST", template["path"], body=template["body"],
                         headers=dict(template["headers"]))
            r = conn.getresponse()
            if r.status != 201 or r.read().decode() != fixed_body:
                raise RuntimeError(f"nginx answered {r.status}")
            conn.close()
        log(f"nginx on {nginx.base} and {nginx.tls_base}")

        c = Contestants(args, template, nginx.base, insight)
        names = ["wrk", "ureq", "ureq-timeouts", "core", "core-json", "core-limited", "C", "Python", "Python async",
                 "requests"]
        if args.msgraph_python:
            names.append("msgraph-sdk")
        seq = sequential(args, c, names)
        c_tls = Contestants(args, template, nginx.tls_base, insight, ca=ca, name="nginx-tls")
        seq_tls = sequential(args, c_tls, ["wrk", "ureq", "core", "C", "Python"],
                             "sequential over TLS")
        thr = threaded(args, c)
        log("start-up and footprint")
        start = startup(args, nginx.base, nginx.tls_base, ca, insight)
        nginx.stop()
        nginx = None
        log(f"create_many: {args.many_count} creates against graph-emulator")
        emu = Emulator()
        mny = many(args, emu, insight)
        emu.stop()
        emu = None
        blk = bulk(insight)
        log("micro-benchmark (divan)")
        mic = micro(args)

        so = os.path.join(RELEASE, "libused_insight.so")
        stripped = os.path.join(tmp, "libused_insight.stripped.so")
        subprocess.run(["strip", "-o", stripped, so], check=True)
        sizes = {"wheel": os.path.getsize(args.wheel), "so": os.path.getsize(so),
                 "so_stripped": os.path.getsize(stripped), "body": len(template["body"])}
        busy1 = cpu_busy()
        table = build_table(args, seq, seq_tls, thr, start, mny, mic, wire, sizes,
                            (busy0, busy1)) + "\n" + bulk_block(blk)
        os.makedirs(os.path.join(BENCH, "results"), exist_ok=True)
        with open(os.path.join(BENCH, "results", "latest.md"), "w") as f:
            f.write(table)
        with open(os.path.join(WORK, "raw.json"), "w") as f:
            json.dump({"sequential": seq, "sequential_tls": seq_tls, "threads": {f"{k[0]}-{k[1]}": v for k, v in thr.items()},
                       "startup": start,
                       "many": mny, "bulk": blk, "micro": mic, "wire": wire}, f, indent=1)
        print(table, end="")
    finally:
        if nginx:
            nginx.stop()
        if emu:
            emu.stop()
        shutil.rmtree(tmp, ignore_errors=True)


BIN = os.path.join(RELEASE, "used-insight-bench")
FIRST_CREATE_PY = f"""
import json, sys
from used_insight import Client
with open(sys.argv[2]) as f:
    insight = json.load(f)
ca = sys.argv[3] if len(sys.argv) > 3 else None
created = Client(token={TOKEN!r}, base_url=sys.argv[1], ca_file=ca, rate_limit=None).create({USER!r}, insight)
assert created.id
with open("/proc/self/status") as f:
    hwm = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
print(json.dumps({{"peak_rss_kib": hwm}}))
"""
C_DRIVER = os.path.join(WORK, "c-driver")
PY_DRIVER = os.path.join(BENCH, "py", "driver.py")

if __name__ == "__main__":
    main()
