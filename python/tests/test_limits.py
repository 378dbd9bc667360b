"""Living within Graph's limits, against the emulator enforcing them scaled
down in time: RateLimit as a value, threads sharing a client's limiter with
no 429, a paced window, a 429 pausing every thread, create_many under the
limits, a slot not had in time; and without the limiter the emulator does
throttle (so these tests can fail)."""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import used_insight
from used_insight import (
    Client,
    ConfigurationError,
    GraphApiError,
    RateLimit,
    RequestTimeout,
    UsedInsight,
)

from conftest import TOKEN, Emulator


def limited(emu: Emulator, limit: RateLimit | None, **options: Any) -> Client:
    return Client(token=TOKEN, base_url=emu.base_url, rate_limit=limit, **options)


def test_rate_limit_is_a_frozen_value_with_graphs_limits_by_default() -> None:
    graph = RateLimit()
    assert (graph.max_concurrent, graph.requests, graph.per) == (4, 10_000, 600.0)
    assert graph == RateLimit(4, 10_000, 600)
    assert hash(graph) == hash(RateLimit(max_concurrent=4, requests=10_000, per=600.0))
    assert graph != RateLimit(per=2.5)
    assert repr(RateLimit(2, 20, 2.5)) == "RateLimit(max_concurrent=2, requests=20, per=2.5)"
    with pytest.raises(AttributeError):
        graph.per = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_concurrent": 0}, "rate_limit.max_concurrent must be 1 or more, not 0"),
        ({"requests": 0}, "rate_limit.requests must be 1 or more, not 0"),
        ({"requests": -5}, "rate_limit.requests must be 1 or more (at most 4294967295), not -5"),
        ({"per": 0}, "rate_limit.per must be more than zero"),
        ({"per": -1.0}, "rate_limit.per must be a number of seconds more than zero, not -1"),
        ({"per": math.nan}, "rate_limit.per must be a number of seconds more than zero, not NaN"),
        ({"per": 86_401}, "rate_limit.per must be at most 86400 s (a day), not 86401 s"),
    ],
)
def test_bad_limits_are_refused_in_cores_words(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        RateLimit(**arguments)
    assert str(refused.value) == message


def test_rate_limit_argument_is_a_rate_limit_or_none(emu: Emulator) -> None:
    with pytest.raises(TypeError, match="rate_limit must be a RateLimit or None"):
        Client(token=TOKEN, rate_limit=(4, 10, 1.0))  # type: ignore[arg-type]
    assert "rate_limit" not in repr(Client(token=TOKEN))
    assert "rate_limit=None" in repr(limited(emu, None))
    assert "rate_limit=RateLimit(max_concurrent=2, requests=20, per=2.0)" in repr(
        limited(emu, RateLimit(2, 20, 2.0))
    )


def test_sixteen_threads_sharing_a_client_get_no_429(emu: Emulator, insight: UsedInsight) -> None:
    emu.limits(max_concurrent=4, requests=40, per_ms=1000, latency_ms=50)
    with limited(emu, RateLimit(4, 40, 1.0)) as client:
        with ThreadPoolExecutor(max_workers=16) as pool:
            created = list(pool.map(lambda n: client.create(f"user{n % 16}", insight), range(32)))
    assert all(c.id for c in created)
    report = emu.limits_report()
    assert report["throttled"] == 0
    assert report["peak_in_flight"] == 4


def test_a_windowed_limit_is_paced_not_hammered(emu: Emulator, insight: UsedInsight) -> None:
    emu.limits(max_concurrent=4, requests=10, per_ms=500, latency_ms=10)
    with limited(emu, RateLimit(4, 10, 0.5)) as client:
        started = time.monotonic()
        for _ in range(25):
            client.create("alice@contoso.com", insight)
        took = time.monotonic() - started
    # 10 at once, 10 after the window, 5 after the next.
    assert 1.0 <= took < 1.8, took
    assert emu.limits_report()["throttled"] == 0
    assert len(emu.requests()) == 25


def test_a_429_pauses_the_other_threads(emu: Emulator, insight: UsedInsight) -> None:
    """Thread 0's first request gets 429 with Retry-After 0.5: from its
    answer on, no other thread sends more than the one request it may have
    had on its way (without the shared pause each would send one every
    30 ms), and thread 0 waits the whole pause."""
    emu.limits(max_concurrent=4, latency_ms=30)
    with limited(emu, RateLimit(4, 1000, 1.0)) as client:
        for t in range(4):  # connections first
            client.create(f"thread{t}", insight)
        emu.reset()
        emu.limits(max_concurrent=4, latency_ms=30)
        emu.fault(path_contains="thread0", status=429, retry_after="0.5")
        until = time.monotonic() + 1.1

        def work(t: int) -> None:
            while time.monotonic() < until:
                client.create(f"thread{t}", insight)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    requests = emu.requests()

    def sender(r: dict[str, Any]) -> str:
        return str(r["path"]).split("/")[3]

    t0 = next(r["elapsed_ms"] for r in requests if sender(r) == "thread0")
    during: dict[str, list[float]] = {}
    for r in requests:
        if t0 + 5 < r["elapsed_ms"] < t0 + 500:
            during.setdefault(sender(r), []).append(r["elapsed_ms"])
    assert "thread0" not in during, during
    assert all(len(sent) <= 1 for sent in during.values()), (t0, during)
    assert sum(r["elapsed_ms"] >= t0 + 500 for r in requests) >= 4, "work went on after the pause"


@pytest.mark.parametrize("concurrency", [1, 4])
def test_create_many_under_the_limits_gets_no_429(
    emu: Emulator, insight: UsedInsight, concurrency: int
) -> None:
    emu.limits(max_concurrent=4, requests=12, per_ms=500, latency_ms=20)
    with limited(emu, RateLimit(4, 12, 0.5)) as client:
        started = time.monotonic()
        results = client.create_many([("alice@contoso.com", insight)] * 30, concurrency=concurrency)
        took = time.monotonic() - started
    assert all(isinstance(r, UsedInsight) for r in results), results
    assert took >= 1.0
    assert emu.limits_report()["throttled"] == 0
    emu.limits()
    assert len(emu.stored("alice@contoso.com")) == 30, "nothing lost, nothing twice"


def test_without_the_limiter_the_emulator_does_throttle(emu: Emulator, insight: UsedInsight) -> None:
    emu.limits(max_concurrent=4, latency_ms=300)
    with limited(emu, None, max_retries=0) as client:

        def one(n: int) -> UsedInsight | GraphApiError:
            try:
                return client.create(f"user{n}", insight)
            except GraphApiError as e:
                return e

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(one, range(16)))
    throttled = [r for r in results if isinstance(r, GraphApiError)]
    assert throttled and all(e.status == 429 for e in throttled)
    assert emu.limits_report()["throttled"] == len(throttled)


def test_a_slot_not_had_in_time_raises_request_timeout_and_was_not_sent(
    emu: Emulator, insight: UsedInsight
) -> None:
    with limited(emu, RateLimit(4, 1, 60.0), timeout=0.3) as client:
        client.create("alice@contoso.com", insight)
        started = time.monotonic()
        with pytest.raises(RequestTimeout) as timed_out:
            client.create("alice@contoso.com", insight)
        assert time.monotonic() - started >= 0.3
        assert not timed_out.value.request_may_have_been_processed
        assert "nothing was sent" in str(timed_out.value)
        results = client.create_many([("bob@contoso.com", insight)] * 2)
        assert all(isinstance(r, RequestTimeout) for r in results)
    assert len(emu.requests()) == 1


def test_module_functions_take_rate_limit(emu: Emulator, insight: UsedInsight) -> None:
    emu.limits(max_concurrent=1, latency_ms=50)
    created = used_insight.used_insight_create(
        "alice@contoso.com", insight, token=TOKEN, base_url=emu.base_url, rate_limit=RateLimit(1, 10, 1.0)
    )
    assert created.id
    results = used_insight.used_insight_create_many(
        [("alice@contoso.com", insight)] * 3, token=TOKEN, base_url=emu.base_url, rate_limit=RateLimit(1, 10, 1.0)
    )
    assert all(isinstance(r, UsedInsight) for r in results)
    assert emu.limits_report()["throttled"] == 0
