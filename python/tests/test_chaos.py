"""Chaos: 8 threads x 500 creates on one Client, then the same through
create_many, against a graph-emulator of its own with chaos on (Dev Proxy's
random Graph errors for POST, answers lost after the insight was stored,
slow answers).

Whatever happens, every call ends in a created UsedInsight or a typed
exception, and what the emulator stored is exactly the successes plus some
of the creates reported as "may have been processed": none stored twice,
none that an exception called "not processed". The same test as
core/tests/chaos.rs and tests/c/test_chaos.c.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator

import pytest

from used_insight import (
    Client,
    GraphApiError,
    RequestTimeout,
    ResourceReference,
    ResourceVisualization,
    TransportError,
    UsageDetails,
    UsedInsight,
    UsedInsightError,
)

from conftest import ACCESSED, TOKEN, Emulator, start_emulator

THREADS = 8
PER_THREAD = 500
CHAOS_STATUSES = {429, 500, 502, 503, 504, 507}

pytestmark = pytest.mark.slow


@pytest.fixture
def chaos_emu() -> Iterator[Emulator]:
    """Errors for 10% of POSTs, 3% answers lost after storing, 3% slow (up
    to 400 ms), short Retry-After, a fixed seed."""
    emulator = start_emulator(
        "--chaos", "10", "--chaos-lost", "3", "--chaos-slow", "3", "--chaos-slow-ms", "400",
        "--chaos-retry-after-ms", "50", "--chaos-seed", "20260101",
    )  # fmt: skip
    yield emulator
    emulator.stop()


@dataclass
class Outcome:
    """How one create ended."""

    created_id: str | None = None
    error: UsedInsightError | None = None


def outcome_of(result: UsedInsight | UsedInsightError) -> Outcome:
    """A create's result, checked to be a success or an error chaos causes
    that says truthfully whether it may have been processed (timeouts are
    checked against what was stored)."""
    if isinstance(result, UsedInsight):
        assert result.id is not None
        return Outcome(created_id=result.id)
    assert isinstance(result, UsedInsightError), repr(result)
    if isinstance(result, GraphApiError):
        assert result.status in CHAOS_STATUSES, result
        assert not result.request_may_have_been_processed, result
    elif isinstance(result, TransportError):
        assert result.kind == "connection_lost", result
        assert result.request_may_have_been_processed, result
    else:
        # Waiting for a slot under the rate limit (nothing sent), or for
        # the answer (the work may be done).
        assert isinstance(result, RequestTimeout), repr(result)
    return Outcome(error=result)


def insight(title: str) -> UsedInsight:
    return UsedInsight(
        last_used=UsageDetails(last_accessed_date_time=ACCESSED),
        resource_visualization=ResourceVisualization(title=title, type="Word"),
        resource_reference=ResourceReference(web_url="https://contoso.sharepoint.com/report.docx"),
    )


def chaos_client(emu: Emulator) -> Client:
    # One client for every thread, with its default rate limit (4 in
    # flight); a timeout shorter than the slowest answers; a first back-off
    # of 20 ms (as core/tests/chaos.rs) for chaos's 503s and 504s, which
    # carry no Retry-After, where the default 1 s would be mostly waiting.
    return Client(TOKEN, base_url=emu.base_url, timeout=0.25, retry_delay=0.02)


def stored_titles(emu: Emulator, user: str) -> dict[str, list[str]]:
    """Each stored title's ids, once the emulator has stored all it will
    (a request may still be arriving when its client gave up)."""
    count = -1
    for _ in range(40):
        stored = emu.stored(user)
        if len(stored) == count:
            break
        count = len(stored)
        time.sleep(0.25)
    titles: dict[str, list[str]] = {}
    for item in stored:
        titles.setdefault(item["resourceVisualization"]["title"], []).append(item["id"])
    return titles


def check(emu: Emulator, user: str, outcomes: dict[str, Outcome]) -> None:
    assert len(outcomes) == THREADS * PER_THREAD
    stored = stored_titles(emu, user)
    assert set(stored) <= set(outcomes), "stored what was never created"
    counts: Counter[str] = Counter()
    for title, outcome in outcomes.items():
        ids = stored.get(title, [])
        assert len(ids) <= 1, f"{title} stored {len(ids)} times"
        if outcome.created_id is not None:
            counts["created"] += 1
            assert ids == [outcome.created_id], title
        elif outcome.error is not None and not outcome.error.request_may_have_been_processed:
            counts["not processed"] += 1
            assert ids == [], f"{title} stored, but the error said not: {outcome.error}"
        else:
            counts["may have been processed"] += 1
            counts["of them stored"] += len(ids)
        if outcome.error is not None:
            counts[type(outcome.error).__name__] += 1
    report = emu.chaos_report()
    print(f"{user}: {dict(counts)}; chaos {report}")
    assert counts["created"] > THREADS * PER_THREAD // 2
    assert counts["not processed"] > 0 and counts["of them stored"] > 0, counts
    assert report["lost"] > 0 and report["errors"], report


def test_creates_from_many_threads_under_chaos_are_each_stored_once_or_truthfully_not(
    chaos_emu: Emulator,
) -> None:
    user = "chaos-py-single@contoso.com"
    with chaos_client(chaos_emu) as client:

        def work(thread: int) -> list[tuple[str, Outcome]]:
            done = []
            for i in range(PER_THREAD):
                title = f"chaos single {thread} {i}"
                result: UsedInsight | UsedInsightError
                try:
                    result = client.create(user, insight(title))
                except UsedInsightError as e:
                    result = e
                done.append((title, outcome_of(result)))
            return done

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            outcomes = dict(pair for batch in pool.map(work, range(THREADS)) for pair in batch)
    check(chaos_emu, user, outcomes)


def test_create_many_from_many_threads_under_chaos_stores_each_once_or_truthfully_not(
    chaos_emu: Emulator,
) -> None:
    user = "chaos-py-many@contoso.com"
    with chaos_client(chaos_emu) as client:

        def work(thread: int) -> list[tuple[str, Outcome]]:
            titles = [f"chaos many {thread} {i}" for i in range(PER_THREAD)]
            results = client.create_many([(user, insight(title)) for title in titles])
            assert len(results) == len(titles)
            return [(title, outcome_of(result)) for title, result in zip(titles, results)]

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            outcomes = dict(pair for batch in pool.map(work, range(THREADS)) for pair in batch)
    check(chaos_emu, user, outcomes)
