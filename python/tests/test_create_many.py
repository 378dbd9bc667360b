"""Client.create_many against the emulator: one result per input, in input
order, failures returned (not raised) as the exceptions create() raises;
progress; misuse raises before anything is sent; the GIL is free meanwhile."""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
import time
from datetime import datetime
from typing import Any, Iterator, Union

import pytest
import tqdm
from tqdm import tqdm as progress_bar

from used_insight import (
    Cancelled,
    Client,
    GraphApiError,
    TokenProviderError,
    TransportError,
    UsedInsight,
    UsedInsightError,
    ValidationError,
    used_insight_create_many,
)

from conftest import TOKEN, Emulator

Input = Union[UsedInsight, dict[str, Any]]
USERS = [f"user{u}@contoso.com" for u in range(4)]


@pytest.fixture
def client(emu: Emulator) -> Iterator[Client]:
    """Graph's full batches of 20, so without a rate limit (which makes
    batches of 4): these tests are about batching; test_limits.py is about
    the limits."""
    with Client(token=TOKEN, base_url=emu.base_url, rate_limit=None) as client:
        yield client


def wire(i: int) -> dict[str, Any]:
    return {
        "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
        "resourceVisualization": {"title": f"doc {i}", "type": "Word"},
        "resourceReference": {"webUrl": f"https://contoso.sharepoint.com/sites/finance/doc{i}.docx"},
    }


def items(n: int) -> list[tuple[str, Input]]:
    """Models at even indexes, wire-shape dicts at odd ones; titled "doc i"."""
    out: list[tuple[str, Input]] = []
    for i in range(n):
        insight: Input = UsedInsight.from_dict(wire(i)) if i % 2 == 0 else wire(i)
        out.append((USERS[i % 4], insight))
    return out


def title(created: UsedInsight) -> str | None:
    assert created.resource_visualization is not None
    return created.resource_visualization.title


def stored_titles(emu: Emulator) -> list[str]:
    return [s["resourceVisualization"]["title"] for u in USERS for s in emu.stored(u)]


def batch_ids(emu: Emulator) -> list[list[str]]:
    """The request ids of each $batch request the emulator received."""
    batches = []
    for request in emu.requests():
        assert request["path"] == "/v1.0/$batch", request["path"]
        batches.append([r["id"] for r in json.loads(request["body"])["requests"]])
    return batches


@pytest.mark.parametrize("concurrency", [1, 3])
def test_45_items_2_invalid_3_throttled_1_batch_lost(client: Client, emu: Emulator, concurrency: int) -> None:
    inputs = items(45)
    invalid_dict = inputs[7][1]
    assert isinstance(invalid_dict, dict)
    invalid_dict["resourceReference"]["webUrl"] = "not a url"
    invalid_model = inputs[30][1]
    assert isinstance(invalid_model, UsedInsight)
    invalid_model.last_used = None
    # Batches hold inputs 0-20 (less 7), 21-41 (less 30) and 42-44; each
    # fault finds its batch by a request id inside it, whatever the timing,
    # and picks items by position: inputs 3 and 10, then 26.
    emu.fault(body_contains='"id":"0"', batch_items=[3, 9], status=429, retry_after="0.3")
    emu.fault(body_contains='"id":"21"', batch_items=[5], status=503, retry_after="0.1")
    emu.fault(body_contains='"id":"42"', drop_connection=True)
    calls: list[tuple[int, int]] = []
    threads: set[int] = set()

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        threads.add(threading.get_ident())

    results = client.create_many(inputs, concurrency=concurrency, progress=progress)

    assert len(results) == 45, "one result per input"
    assert calls == [(n, 45) for n in range(1, 46)]
    if concurrency > 1:
        # Called from core's worker threads too, each holding the GIL.
        assert threads - {threading.get_ident()}
    created: set[str] = set()
    for i, result in enumerate(results):
        if i in (7, 30):
            assert isinstance(result, ValidationError), (i, result)
            # The very error create() raises for the same input.
            with pytest.raises(ValidationError) as raised:
                client.create(*inputs[i])
            assert result.problems == raised.value.problems
        elif i >= 42:
            assert isinstance(result, TransportError), (i, result)
            assert result.kind == "connection_lost"
            assert result.request_may_have_been_processed is True
        else:
            assert isinstance(result, UsedInsight), (i, result)
            assert result.id
            assert title(result) == f"doc {i}", "results are in input order"
            created.add(f"doc {i}")
    assert [p for p, _ in results[7].problems] == ["resourceReference.webUrl"]  # type: ignore[union-attr]
    assert [p for p, _ in results[30].problems] == ["lastUsed"]  # type: ignore[union-attr]
    # The three items of the lost batch share its client-request-id.
    lost = {r.client_request_id for r in results[42:] if isinstance(r, TransportError)}
    assert len(lost) == 1 and None not in lost
    assert len(created) == 40

    # The wire: three batches, then the throttled items alone; nothing invalid
    # sent, and no batch item id other than the input's index.
    batches = batch_ids(emu)
    assert sorted(len(b) for b in batches) == [1, 2, 3, 20, 20]
    assert sorted(batches, key=len)[:2] == [["26"], ["3", "10"]]
    sent = [i for b in batches for i in b]
    assert "7" not in sent and "30" not in sent
    assert sorted(set(sent), key=int) == [str(i) for i in range(45) if i not in (7, 30)]
    # The emulator holds exactly what was reported created, nothing twice.
    stored = stored_titles(emu)
    assert len(stored) == 40
    assert set(stored) == created


def test_models_and_dicts_mix_and_come_back_as_models(client: Client, emu: Emulator) -> None:
    inputs = items(4)
    inputs[1][1]["futureProperty"] = [1, 2]  # type: ignore[index]
    results = client.create_many(inputs)
    assert all(isinstance(r, UsedInsight) for r in results)
    assert [title(r) for r in results] == ["doc 0", "doc 1", "doc 2", "doc 3"]  # type: ignore[arg-type]
    assert results[1].additional_data["futureProperty"] == [1, 2]  # type: ignore[union-attr]
    [batch] = [json.loads(r["body"]) for r in emu.requests()]
    bodies = [r["body"] for r in batch["requests"]]
    # A model is sent as create() sends it.
    assert bodies[0] == inputs[0][1].to_dict()  # type: ignore[union-attr]
    assert bodies[1]["futureProperty"] == [1, 2]
    assert [r["url"] for r in batch["requests"]] == [f"/users/{u}/insights/used" for u in USERS]


def test_inputs_this_layer_rejects_keep_their_index(client: Client, emu: Emulator) -> None:
    naive = UsedInsight.from_dict(wire(1))
    assert naive.last_used is not None
    naive.last_used.last_accessed_date_time = datetime(2026, 11, 28, 10)
    not_json = wire(2)
    not_json["lastUsed"]["extra"] = {1, 2}
    inputs: list[tuple[str, Input]] = [
        ("alice@contoso.com", wire(0)),
        ("alice@contoso.com", naive),
        ("alice@contoso.com", not_json),
        ("bad\udc00user", wire(3)),
        ("alice@contoso.com", wire(4)),
    ]
    calls: list[int] = []
    results = client.create_many(inputs, progress=lambda done, total: calls.append(done))
    assert isinstance(results[0], UsedInsight) and isinstance(results[4], UsedInsight)
    for i in (1, 2):
        invalid = results[i]
        assert isinstance(invalid, ValidationError)
        with pytest.raises(ValidationError) as raised:
            client.create(*inputs[i])
        assert invalid.problems == raised.value.problems
    assert [p for p, _ in results[1].problems] == ["lastUsed.lastAccessedDateTime"]  # type: ignore[union-attr]
    assert [p for p, _ in results[2].problems] == ["lastUsed.extra"]  # type: ignore[union-attr]
    assert isinstance(results[3], ValidationError)
    assert results[3].problems == [("usersId", "is not valid Unicode text (it holds a lone surrogate)")]
    assert calls == [1, 2, 3, 4, 5]
    assert batch_ids(emu) == [["0", "4"]]


def test_graph_errors_are_returned_with_their_fields(client: Client, emu: Emulator) -> None:
    emu.fault(batch_items=[1], status=403, code="accessDenied", message="Not for you")
    results = client.create_many(items(3))
    assert isinstance(results[0], UsedInsight) and isinstance(results[2], UsedInsight)
    forbidden = results[1]
    assert isinstance(forbidden, GraphApiError)
    assert (forbidden.status, forbidden.code, forbidden.message) == (403, "accessDenied", "Not for you")
    assert forbidden.attempts == 1
    assert forbidden.request_may_have_been_processed is False
    [request] = emu.requests()
    assert forbidden.client_request_id == request["headers"]["client-request-id"]
    assert sorted(stored_titles(emu)) == ["doc 0", "doc 2"]


def test_an_item_throttled_past_the_budget_gets_its_429(client: Client, emu: Emulator) -> None:
    emu.fault(batch_items=[0], status=429, retry_after="0", times=10)
    throttled, created = client.create_many(items(2))
    assert isinstance(created, UsedInsight)
    # max_retries=3: sent 4 times, created never; its last answer.
    assert isinstance(throttled, GraphApiError)
    assert (throttled.status, throttled.code, throttled.attempts) == (429, "TooManyRequests", 4)
    assert throttled.retry_after == 0
    assert stored_titles(emu) == ["doc 1"]


def test_a_failing_token_provider_is_every_items_result(emu: Emulator) -> None:
    def provider() -> str:
        raise OSError("vault unreachable")

    with Client(token_provider=provider, base_url=emu.base_url) as client:
        results = client.create_many(items(3))
    assert all(isinstance(r, TokenProviderError) for r in results), results
    assert "vault unreachable" in str(results[0])
    assert emu.requests() == []


def test_empty_input_sends_nothing(client: Client, emu: Emulator) -> None:
    calls: list[int] = []
    assert client.create_many([], progress=lambda done, total: calls.append(done)) == []
    assert client.create_many(iter(()), concurrency=4) == []
    assert calls == []
    assert emu.requests() == []


def test_any_iterable_of_pairs_is_read_once(client: Client, emu: Emulator) -> None:
    def generate() -> Iterator[tuple[str, Input]]:
        yield from items(3)

    results = client.create_many(generate())
    assert [title(r) for r in results] == ["doc 0", "doc 1", "doc 2"]  # type: ignore[arg-type]
    pairs = zip(USERS, [wire(0), wire(1)])
    assert len(client.create_many(pairs)) == 2


@pytest.mark.parametrize(
    ("arguments", "error", "words"),
    [
        ({"items": 5}, TypeError, r"items must be an iterable of \(user_id, insight\) tuples, not int"),
        ({"items": [("u", "not an insight")]}, TypeError, r"items\[0\]\[1\] \(the insight\) must be a UsedInsight"),
        ({"items": [("u",)]}, TypeError, r"items\[0\] must be a \(user_id, insight\) tuple, not a tuple of 1"),
        ({"items": ["ab"]}, TypeError, r"items\[0\] must be a \(user_id, insight\) tuple, not str"),
        ({"items": [["u", wire(0)]]}, TypeError, r"not list"),
        ({"items": [(5, wire(0))]}, TypeError, r"items\[0\]\[0\] \(the user id\) must be a str, not int"),
        ({"items": [], "concurrency": 0}, ValueError, "concurrency must be 1 or more, not 0"),
        ({"items": [], "concurrency": -3}, ValueError, "not -3"),
        ({"items": [], "concurrency": "2"}, TypeError, "concurrency"),
        ({"items": [], "progress": 5}, TypeError, "progress must be a callable taking"),
    ],
)
def test_misuse_raises_before_anything_is_sent(
    client: Client, emu: Emulator, arguments: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        client.create_many(**arguments)
    assert emu.requests() == []


def test_a_bad_item_after_good_ones_still_sends_nothing(client: Client, emu: Emulator) -> None:
    inputs: list[Any] = [*items(25), ("alice@contoso.com", 42)]
    with pytest.raises(TypeError, match=r"items\[25\]"):
        client.create_many(inputs)

    def broken() -> Iterator[tuple[str, Input]]:
        yield from items(2)
        raise LookupError("the source failed")

    with pytest.raises(LookupError, match="the source failed"):
        client.create_many(broken())
    assert emu.requests() == []


def test_a_closed_client_raises(client: Client) -> None:
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.create_many(items(1))


def test_a_progress_that_raises_is_reported_and_not_called_again(
    client: Client, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    reported: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if done == 3:
            raise ZeroDivisionError("bar broke")

    results = client.create_many(items(30), concurrency=2, progress=progress)
    assert all(isinstance(r, UsedInsight) for r in results), "no result is lost"
    assert calls == [1, 2, 3]
    [unraisable] = reported
    assert isinstance(unraisable.exc_value, ZeroDivisionError)
    assert unraisable.object is progress
    assert len(stored_titles(emu)) == 30


def test_a_keyboard_interrupt_in_progress_stops_the_call_as_ctrl_c_does(
    client: Client, emu: Emulator
) -> None:
    calls: list[int] = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as stopped:
        client.create_many(items(25), progress=progress)
    assert calls == [1]
    # The first batch was answered (all of it); no other was sent after.
    [sent] = batch_ids(emu)
    results = stopped.value.used_insight_results  # type: ignore[attr-defined]
    assert len(results) == 25
    assert [isinstance(r, UsedInsight) for r in results] == [str(i) in sent for i in range(25)]
    cancelled = [r for r in results if isinstance(r, Cancelled)]
    assert len(cancelled) == 25 - len(sent)
    assert not any(r.request_may_have_been_processed for r in cancelled)
    assert {r.phase for r in cancelled} == {"before its batch was sent"}
    assert len(stored_titles(emu)) == len(sent)


def test_a_raising_log_filter_breaks_neither_results_nor_progress(
    client: Client, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            raise RuntimeError("broken filter")

    reported: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    logger = logging.getLogger("used_insight.batch")
    broken = Broken()
    logger.addFilter(broken)
    calls: list[int] = []
    try:
        # The resend is logged (and the filter raises) on the calling thread,
        # before progress is called for the resent items.
        emu.fault(batch_items=[0, 1], status=429, retry_after="0")
        results = client.create_many(items(3), progress=lambda done, total: calls.append(done))
    finally:
        logger.removeFilter(broken)
    assert all(isinstance(r, UsedInsight) for r in results)
    assert calls == [1, 2, 3]
    assert [str(e) for e in reported] == ["broken filter"]


def test_tqdm_as_progress(client: Client, emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 0)  # no monitor thread
    out = io.StringIO()
    inputs = items(45)
    with progress_bar(total=len(inputs), file=out, mininterval=0) as bar:
        results = client.create_many(inputs, concurrency=3, progress=lambda done, total: bar.update())
        assert bar.n == 45
    assert len(results) == 45
    assert "45/45" in out.getvalue()


def test_progress_can_drive_a_bar_by_the_counts(client: Client, emu: Emulator) -> None:
    class Bar:
        """The tqdm-like shape: total and n, updated by a difference."""

        def __init__(self) -> None:
            self.n = 0
            self.total: int | None = None

        def update(self, n: int = 1) -> None:
            assert n > 0, "done only goes up"
            self.n += n

    bar = Bar()

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    client.create_many(items(41), concurrency=3, progress=progress)
    assert (bar.n, bar.total) == (41, 41)


@pytest.mark.slow
def test_python_threads_run_while_a_batch_waits(client: Client, emu: Emulator) -> None:
    emu.fault(path_contains="$batch", delay_ms=800)
    counted = 0
    done = threading.Event()

    def count() -> None:
        nonlocal counted
        while not done.is_set():
            counted += 1

    results: list[UsedInsight | UsedInsightError] = []
    counter = threading.Thread(target=count)
    create = threading.Thread(target=lambda: results.extend(client.create_many(items(5))))
    create.start()
    time.sleep(0.1)  # the batch is now waiting on the emulator
    counter.start()
    before = counted
    time.sleep(0.4)
    during = counted - before
    create.join()
    done.set()
    counter.join()
    assert len(results) == 5
    # Hundreds of thousands of spins in 0.4 s when the GIL is free; none
    # at all if the waiting batch held it.
    assert during > 10_000, during


@pytest.mark.slow
def test_batches_in_flight_overlap(client: Client, emu: Emulator) -> None:
    emu.fault(path_contains="$batch", delay_ms=600, times=3)
    started = time.monotonic()
    results = client.create_many(items(60), concurrency=3)
    elapsed = time.monotonic() - started
    assert all(isinstance(r, UsedInsight) for r in results)
    assert elapsed < 1.5, f"3 slow batches at concurrency 3 took {elapsed:.2f} s"


def test_one_shot_function(emu: Emulator) -> None:
    results = used_insight_create_many(items(3), token=TOKEN, base_url=emu.base_url, concurrency=2)
    assert [title(r) for r in results] == ["doc 0", "doc 1", "doc 2"]  # type: ignore[arg-type]
    assert len(emu.requests()) == 1
