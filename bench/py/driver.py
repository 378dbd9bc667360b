"""Python contestants for bench/run.py; each run prints one JSON line.

    driver.py layer    --base URL --insight FILE --seconds S [--threads N] [--ca PEM]
    driver.py async    --base URL --insight FILE --seconds S               (AsyncClient)
    driver.py requests --request FILE --seconds S
    driver.py msgraph  --base URL --insight FILE --count N     (msgraph-sdk's own venv)
    driver.py first-msgraph --base URL --insight FILE          (fresh process, one create)
    driver.py many     --base EMULATOR_URL --insight FILE --count N [--rounds R]
    driver.py soak     --base EMULATOR_URL --insight FILE --count N [--sample-every K] [--reset-every R]

Wall and CPU time (getrusage of this process, all threads) are taken around
the request loop only: interpreter start-up, imports, client construction and
the first connection stay outside, as for the Rust and C drivers. With an
https:// base URL, --ca names the PEM file of the CA that signed the
server's certificate (Client(..., ca_file=...)).
"""

import argparse
import json
import resource
import sys
import threading
import time

TOKEN = "bench-token"
USER = "alice@contoso.com"


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def peak_rss_kib():
    """VmHWM: the peak RSS of this program (getrusage's ru_maxrss carries
    over the peak of the process that forked us)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def report(contestant, threads, creates, wall, cpu):
    peak = peak_rss_kib()
    print(json.dumps({"contestant": contestant, "threads": threads, "creates": creates,
                      "wall_s": wall, "cpu_s": cpu, "peak_rss_kib": peak}), flush=True)


def timed(threads, one, seconds=None, count=None):
    """Runs `one()` on `threads` threads until `seconds` pass or `count`
    creates are done; returns (creates, wall, cpu)."""
    counts = [0] * threads
    barrier = threading.Barrier(threads + 1)
    deadline = [None]
    failure = []

    def work(i):
        barrier.wait()
        end = deadline[0]
        limit = count // threads if count is not None else None
        n = 0
        try:
            while (limit is None or n < limit) and (end is None or time.perf_counter() < end):
                one()
                n += 1
        except BaseException as e:  # reported below; a worker must not die silently
            failure.append(e)
        counts[i] = n

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    cpu0 = cpu_s()
    t0 = time.perf_counter()
    deadline[0] = t0 + seconds if seconds is not None else None
    barrier.wait()
    for w in workers:
        w.join()
    wall, cpu = time.perf_counter() - t0, cpu_s() - cpu0
    if failure:
        raise failure[0]
    return sum(counts), wall, cpu


def layer_client(args):
    from used_insight import Client

    # No rate limit: these rows measure the layer's own cost (the limits'
    # floor is the bulk section's, bench/src/bulk.rs).
    client = Client(token=TOKEN, base_url=args.base, ca_file=args.ca, rate_limit=None)
    with open(args.insight) as f:
        insight = json.load(f)
    return client, insight


def run_layer(args):
    client, insight = layer_client(args)
    threads = max(1, args.threads)
    # One connection per thread before the clock starts.
    warm = [threading.Thread(target=client.create, args=(USER, insight)) for _ in range(threads)]
    for w in warm:
        w.start()
    for w in warm:
        w.join()
    n, wall, cpu = timed(threads, lambda: client.create(USER, insight), args.seconds, args.count)
    report("python-tls" if args.ca else "python", threads, n, wall, cpu)


def run_async(args):
    """AsyncClient: one create awaited after the other on one event loop,
    as `layer` does with Client on one thread; the difference per create
    is what the hop to the client's thread and back costs."""
    import asyncio

    from used_insight import AsyncClient

    with open(args.insight) as f:
        insight = json.load(f)

    async def main():
        # No rate limit, as every driver: Graph's default (10,000 per 600 s)
        # would end a fast round waiting for the window.
        async with AsyncClient(token=TOKEN, base_url=args.base, ca_file=args.ca, rate_limit=None) as client:
            await client.create(USER, insight)  # the connection, before the clock starts
            n = 0
            cpu0, t0 = cpu_s(), time.perf_counter()
            end = t0 + args.seconds
            while time.perf_counter() < end:
                await client.create(USER, insight)
                n += 1
            return n, time.perf_counter() - t0, cpu_s() - cpu0

    n, wall, cpu = asyncio.run(main())
    report("python-async", 1, n, wall, cpu)


def run_many(args):
    """Client.create_many (concurrency 1 and 4) against a create loop, the
    same count each, graph-emulator's store emptied before each part."""
    import urllib.request

    client, insight = layer_client(args)
    items = [(USER, insight)] * args.count

    def reset():
        req = urllib.request.Request(args.base.rstrip("/") + "/_emulator/reset", data=b"",
                                     method="POST")
        urllib.request.urlopen(req).close()

    client.create(USER, insight)
    for _ in range(max(1, args.rounds)):
        reset()
        n, wall, cpu = timed(1, lambda: client.create(USER, insight), count=args.count)
        report("py-single-loop", 1, n, wall, cpu)
        for c in (1, 4):
            reset()
            cpu0, t0 = cpu_s(), time.perf_counter()
            results = client.create_many(items, concurrency=c)
            wall, cpu = time.perf_counter() - t0, cpu_s() - cpu0
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed or len(results) != len(items):
                raise RuntimeError(f"create_many: {len(failed)} of {len(items)} failed: "
                                   f"{failed[:1]}")
            report(f"py-create_many-c{c}", c, len(results), wall, cpu)


def run_requests(args):
    import requests

    with open(args.request) as f:
        req = json.load(f)
    body = req["body"].encode()
    session = requests.Session()
    # Exactly the template's headers, none of requests' defaults.
    session.headers.clear()
    session.headers.update(dict(req["headers"]))
    url = req["url"]

    def one():
        r = session.post(url, data=body)
        if r.status_code != 201 or not r.content:
            raise RuntimeError(f"unexpected answer: HTTP {r.status_code}")

    one()
    n, wall, cpu = timed(1, one, args.seconds, args.count)
    report("requests", 1, n, wall, cpu)


def msgraph_setup(args):
    """msgraph-sdk's GraphServiceClient on a request adapter pointed at the
    local server, with a fixed bearer token (its default credential flow
    needs Azure AD)."""
    import asyncio

    from kiota_abstractions.authentication import (
        AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider)
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.models.usage_details import UsageDetails
    from msgraph.generated.models.used_insight import UsedInsight
    import datetime

    class FixedToken(AccessTokenProvider):
        async def get_authorization_token(self, uri, additional_authentication_context=None):
            return TOKEN

        def get_allowed_hosts_validator(self):
            return AllowedHostsValidator([])

    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(FixedToken()))
    adapter.base_url = args.base.rstrip("/") + "/v1.0"
    client = GraphServiceClient(request_adapter=adapter)
    with open(args.insight) as f:
        d = json.load(f)
    lu, rv, rr = d["lastUsed"], d["resourceVisualization"], d["resourceReference"]
    parse = datetime.datetime.fromisoformat
    # msgraph-sdk treats resourceVisualization and resourceReference as
    # read-only and leaves them out of a create (which Graph then rejects);
    # they go in through additional_data so it sends the full insight too.
    body = UsedInsight(
        last_used=UsageDetails(
            last_accessed_date_time=parse(lu["lastAccessedDateTime"].replace("Z", "+00:00")),
            last_modified_date_time=parse(lu["lastModifiedDateTime"].replace("Z", "+00:00"))),
        additional_data={"resourceVisualization": rv, "resourceReference": rr},
    )
    used = client.users.by_user_id(USER).insights.used

    async def one():
        created = await used.post(body)
        if created is None or not created.id:
            raise RuntimeError("msgraph-sdk returned no usedInsight")

    return asyncio, one


def run_msgraph(args):
    asyncio, one = msgraph_setup(args)

    async def main():
        await one()
        cpu0, t0 = cpu_s(), time.perf_counter()
        n = 0
        while (args.count is None or n < args.count) and (
                args.seconds is None or time.perf_counter() - t0 < args.seconds):
            await one()
            n += 1
        return n, time.perf_counter() - t0, cpu_s() - cpu0

    n, wall, cpu = asyncio.run(main())
    report("msgraph", 1, n, wall, cpu)


def run_first_msgraph(args):
    asyncio, one = msgraph_setup(args)
    asyncio.run(one())
    print(json.dumps({"peak_rss_kib": peak_rss_kib()}))


def rss_kib():
    """VmRSS: the resident set size now."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def run_soak(args):
    """Many creates through one Client, one after the other, against
    graph-emulator: a JSON line with this process's resident memory and
    open file descriptors every --sample-every creates, then a summary
    (bench/soak.py judges them). The emulator's store is emptied every
    --reset-every creates. No rate limit, as in bench/src/soak.rs."""
    import os
    import urllib.request

    client, insight = layer_client(args)

    def sample(done):
        print(json.dumps({"done": done, "rss_kib": rss_kib(), "fds": len(os.listdir("/proc/self/fd")),
                          "elapsed_s": time.perf_counter() - t0}), flush=True)

    t0 = time.perf_counter()
    sample(0)
    for done in range(1, args.count + 1):
        created = client.create(f"soak{done % 100}@contoso.com", insight)
        if created.id is None:
            raise RuntimeError(f"create {done}: no id")
        if done % args.reset_every == 0:
            req = urllib.request.Request(args.base.rstrip("/") + "/_emulator/reset", data=b"",
                                         method="POST")
            urllib.request.urlopen(req).close()
        if done % args.sample_every == 0:
            sample(done)
    print(json.dumps({"soak": "python", "creates": args.count,
                      "wall_s": time.perf_counter() - t0}), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["layer", "async", "requests", "msgraph", "first-msgraph",
                                    "many", "soak"])
    p.add_argument("--base")
    p.add_argument("--insight")
    p.add_argument("--request")
    p.add_argument("--ca")
    p.add_argument("--seconds", type=float)
    p.add_argument("--count", type=int)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--sample-every", type=int, default=500)
    p.add_argument("--reset-every", type=int, default=10_000)
    args = p.parse_args()
    {"layer": run_layer, "async": run_async, "requests": run_requests, "msgraph": run_msgraph,
     "first-msgraph": run_first_msgraph, "many": run_many, "soak": run_soak}[args.mode](args)


if __name__ == "__main__":
    sys.exit(main())
