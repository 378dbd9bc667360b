#!/usr/bin/env python3
"""The soak benchmark: 100,000 creates through one Rust client and 20,000
through one Python client, one after the other, against graph-emulator,
with the client process's resident memory (VmRSS) and open file
descriptors sampled as it goes.

Started by bench/soak.sh once everything is built; see bench/README.md.
Judges the samples: after a warm-up (the first 20% of the creates), the
resident memory may not grow by 1 MiB or more (`--growth-kib`), and no file
descriptor may be left open (none more than at the end of the warm-up).
Writes bench/results/soak.md (and prints it); exits 1 when a bound is
broken. Progress goes to stderr.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
WORK = os.path.join(TARGET, "bench")
RELEASE = os.path.join(TARGET, "release")


def log(msg):
    print(f"[soak {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Emulator:
    """graph-emulator (release build) on a free loopback port; any token."""

    def __init__(self):
        self.proc = subprocess.Popen([os.path.join(RELEASE, "graph-emulator"), "--port", "0"],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError(f"graph-emulator did not start: {line!r}")
        self.base = line.removeprefix("listening on ")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def run_driver(cmd):
    """Runs a soak driver; returns its samples and its summary line."""
    log(" ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({out.returncode}):\n{out.stderr}{out.stdout}")
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    samples = [line for line in lines if "done" in line]
    summary = next(line for line in lines if "soak" in line)
    return samples, summary


def judge(name, samples, summary, warmup, growth_kib):
    """One row of the result table, and whether it keeps the bounds."""
    count = summary["creates"]
    warm = next(s for s in samples if s["done"] >= warmup * count)
    after = [s for s in samples if s["done"] >= warm["done"]]
    growth = max(s["rss_kib"] for s in after) - warm["rss_kib"]
    end_growth = after[-1]["rss_kib"] - warm["rss_kib"]
    fd_growth = max(s["fds"] for s in after) - warm["fds"]
    ok = growth < growth_kib and fd_growth <= 0
    return ok, {
        "client": name,
        "creates": count,
        "wall_s": summary["wall_s"],
        "rate": count / summary["wall_s"],
        "rss_start": samples[0]["rss_kib"],
        "rss_warm": warm["rss_kib"],
        "warm_done": warm["done"],
        "rss_end": after[-1]["rss_kib"],
        "growth": growth,
        "end_growth": end_growth,
        "fds": (samples[0]["fds"], warm["fds"], after[-1]["fds"], max(s["fds"] for s in after)),
        "ok": ok,
        "samples": samples,
    }


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    rustc = subprocess.run(["rustc", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; {rustc}; "
            f"Python {platform.python_version()}; commit {commit or '?'}")


def table(rows, growth_kib, warmup):
    out = [
        "# Soak",
        "",
        f"`bench/soak.sh`, {datetime.date.today().isoformat()}: {machine()}.",
        "",
        "Creates one after the other through one client, against graph-emulator (release,",
        "its store emptied every 10,000 creates), no rate limit. The client process's",
        "resident memory (`VmRSS`) and open file descriptors are sampled as it goes. Bounds,",
        f"after a warm-up of the first {warmup:.0%} of the creates: resident memory grows by",
        f"less than {growth_kib} KiB (the highest sample after the warm-up against the one",
        "that ends it), and no more file descriptors are open than at the end of the warm-up.",
        "",
        "| client | creates | creates/s | RSS at start | RSS after warm-up | RSS at end | "
        "growth after warm-up (max, end) | fds (start, warm, end, max) | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['client']} | {r['creates']:,} | {r['rate']:,.0f} | {r['rss_start']:,} KiB | "
            f"{r['rss_warm']:,} KiB (at {r['warm_done']:,}) | {r['rss_end']:,} KiB | "
            f"{r['growth']:+,} KiB, {r['end_growth']:+,} KiB | {', '.join(map(str, r['fds']))} | "
            f"{'flat' if r['ok'] else '**GROWS**'} |")
    out += ["", "Resident memory (KiB) every tenth of the run:", ""]
    for r in rows:
        step = max(1, len(r["samples"]) // 10)
        points = r["samples"][::step] + ([r["samples"][-1]] if (len(r["samples"]) - 1) % step else [])
        out.append(f"- {r['client']}: " + ", ".join(f"{s['done']:,}: {s['rss_kib']:,}" for s in points))
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--python", required=True, help="a python with the used_insight wheel installed")
    p.add_argument("--rust-count", type=int, default=100_000)
    p.add_argument("--python-count", type=int, default=20_000)
    p.add_argument("--warmup", type=float, default=0.2, help="the warm-up, a fraction of the creates")
    p.add_argument("--growth-kib", type=int, default=1024)
    p.add_argument("--out", default=os.path.join(BENCH, "results", "soak.md"))
    args = p.parse_args()

    os.makedirs(WORK, exist_ok=True)
    with open(os.path.join(BENCH, "fixtures", "fixed_201_body.json")) as f:
        doc = json.load(f)
    doc.pop("id")  # Graph assigns it
    insight = os.path.join(WORK, "soak-insight.json")
    with open(insight, "w") as f:
        json.dump(doc, f, separators=(",", ":"))

    emu = Emulator()
    rows = []
    try:
        samples, summary = run_driver([
            os.path.join(RELEASE, "used-insight-bench"), "soak", "--base", emu.base,
            "--insight", insight, "--count", str(args.rust_count),
            "--sample-every", str(max(1, args.rust_count // 100))])
        rows.append(judge("Rust `Client::create`", samples, summary, args.warmup, args.growth_kib)[1])
        samples, summary = run_driver([
            args.python, os.path.join(BENCH, "py", "driver.py"), "soak", "--base", emu.base,
            "--insight", insight, "--count", str(args.python_count),
            "--sample-every", str(max(1, args.python_count // 100))])
        rows.append(judge("Python `Client.create`", samples, summary, args.warmup,
                          args.growth_kib)[1])
    finally:
        emu.stop()

    text = table(rows, args.growth_kib, args.warmup)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)
    broken = [r["client"] for r in rows if not r["ok"]]
    if broken:
        log(f"over the bounds: {', '.join(broken)}")
        return 1
    log(f"flat; written to {os.path.relpath(args.out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
