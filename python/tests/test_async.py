"""AsyncClient: Client for asyncio, against the real emulator.

Each test runs its own event loop (asyncio.run): no plugin needed.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

import used_insight
from used_insight import (
    AsyncClient,
    Client,
    ConfigurationError,
    GraphApiError,
    TransportError,
    UsedInsight,
    ValidationError,
)

from conftest import TOKEN, Emulator

USER = "alice@contoso.com"


async def heartbeat(stop: asyncio.Event, ticks: list[float]) -> None:
    """Ticks every 10 ms while the event loop is free to run it."""
    while not stop.is_set():
        ticks.append(time.monotonic())
        await asyncio.sleep(0.01)


def test_create_returns_what_client_create_returns(emu: Emulator, insight: UsedInsight,
                                                   wire_insight: dict[str, Any]) -> None:
    async def main() -> tuple[UsedInsight, UsedInsight]:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url) as client:
            return await client.create(USER, insight), await client.create(USER, wire_insight)

    from_model, from_dict = asyncio.run(main())
    assert isinstance(from_model, UsedInsight) and isinstance(from_dict, UsedInsight)
    assert from_model.id and from_dict.id and from_model.id != from_dict.id
    assert from_model.resource_reference == insight.resource_reference
    stored = emu.stored(USER)
    assert [s["id"] for s in stored] == [from_model.id, from_dict.id]


def test_create_many_returns_one_result_per_input_in_order(emu: Emulator,
                                                           insight: UsedInsight) -> None:
    items: list[tuple[str, Any]] = [(f"u{n}@contoso.com", insight) for n in range(3)]
    items.insert(1, ("bob@contoso.com", {"lastUsed": {}}))
    seen: list[tuple[int, int]] = []

    async def main() -> list[UsedInsight | used_insight.UsedInsightError]:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url) as client:
            return await client.create_many(
                items, concurrency=2, progress=lambda done, total: seen.append((done, total))
            )

    results = asyncio.run(main())
    assert len(results) == 4
    assert isinstance(results[1], ValidationError)
    assert all(isinstance(r, UsedInsight) and r.id for i, r in enumerate(results) if i != 1)
    assert sorted(seen) == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert [r["path"] for r in emu.requests()] == ["/v1.0/$batch"]


def test_the_same_exceptions_as_client(emu: Emulator, insight: UsedInsight) -> None:
    with pytest.raises(ConfigurationError, match="token"):
        AsyncClient(base_url=emu.base_url)
    with pytest.raises(TypeError, match="token_provider must be a callable"):
        AsyncClient(token_provider="not callable", base_url=emu.base_url)  # type: ignore[arg-type]

    async def main() -> None:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url) as client:
            with pytest.raises(ValidationError) as invalid:
                await client.create(USER, {"lastUsed": {"lastAccessedDateTime": "yesterday"}})
            assert invalid.value.request_may_have_been_processed is False
            assert any(path == "lastUsed.lastAccessedDateTime" for path, _ in invalid.value.problems)
            with pytest.raises(TypeError, match="insight must be a UsedInsight or a dict"):
                await client.create(USER, 42)  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="concurrency must be 1 or more, not 0"):
                await client.create_many([(USER, insight)], concurrency=0)
            emu.fault(status=403, code="accessDenied", message="no")
            with pytest.raises(GraphApiError) as denied:
                await client.create(USER, insight)
            assert (denied.value.status, denied.value.code) == (403, "accessDenied")

    asyncio.run(main())
    assert len(emu.requests()) == 1  # only the create Graph refused was sent


def test_a_transport_error_says_whether_it_was_sent() -> None:
    # A loopback port nothing listens on (bound then closed): not sent.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def main() -> None:
        async with AsyncClient(token=TOKEN, base_url=f"http://127.0.0.1:{port}", max_retries=0) as client:
            with pytest.raises(TransportError) as failed:
                await client.create(USER, {"lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
                                           "resourceVisualization": {"title": "t", "type": "Word"},
                                           "resourceReference": {"webUrl": "https://contoso.sharepoint.com/a"}})
            assert failed.value.kind == "connect"
            assert failed.value.request_may_have_been_processed is False

    asyncio.run(main())


def test_closed_client_raises_runtime_error(emu: Emulator, insight: UsedInsight) -> None:
    async def main() -> AsyncClient:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url) as client:
            assert not client.closed
            await client.create(USER, insight)
        assert client.closed and client.client.closed
        with pytest.raises(RuntimeError, match="closed"):
            await client.create(USER, insight)
        with pytest.raises(RuntimeError, match="closed"):
            await client.create_many([(USER, insight)])
        return client

    client = asyncio.run(main())
    client.close()  # twice is fine
    assert "closed=True" in repr(client)
    assert len(emu.requests()) == 1


@pytest.mark.slow
def test_concurrent_awaits_overlap_and_the_loop_keeps_running(emu: Emulator,
                                                              insight: UsedInsight) -> None:
    emu.fault(delay_ms=600, times=8)
    ticks: list[float] = []

    async def main() -> tuple[list[UsedInsight], float]:
        stop = asyncio.Event()
        beat = asyncio.create_task(heartbeat(stop, ticks))
        async with AsyncClient(token=TOKEN, base_url=emu.base_url) as client:
            started = time.monotonic()
            created = await asyncio.gather(
                *(client.create(f"u{n}@contoso.com", insight) for n in range(8))
            )
            elapsed = time.monotonic() - started
        stop.set()
        await beat
        return created, elapsed

    created, elapsed = asyncio.run(main())
    assert len({c.id for c in created}) == 8
    # One at a time, or with the GIL held through the wait: 8 × 0.6 s.
    assert elapsed < 2.0, f"8 slow creates took {elapsed:.2f} s"
    # The loop ran its 10 ms heartbeat all along: never blocked for long.
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 20 and max(gaps) < 0.3, (len(ticks), max(gaps))


@pytest.mark.slow
def test_max_in_flight_limits_what_runs_at_once(emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(delay_ms=500, times=4)

    async def main() -> float:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url, max_in_flight=2) as client:
            assert client.max_in_flight == 2
            started = time.monotonic()
            await asyncio.gather(*(client.create(USER, insight) for _ in range(4)))
            return time.monotonic() - started

    elapsed = asyncio.run(main())
    # Two rounds of two: at least 1 s, and well below four rounds (2 s).
    assert 0.95 < elapsed < 1.8, elapsed


@pytest.mark.slow
def test_cancelling_a_sent_create_drops_its_result_but_it_may_complete(
    emu: Emulator, insight: UsedInsight
) -> None:
    emu.fault(delay_ms=800)

    async def main() -> tuple[float, UsedInsight]:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url) as client:
            task = asyncio.create_task(client.create(USER, insight))
            await asyncio.sleep(0.3)  # sent; the emulator holds the answer back
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            waited = time.monotonic() - started
            await asyncio.sleep(1.0)  # the create finishes on its thread
            # The client goes on working.
            after = await client.create(USER, insight)
        return waited, after

    waited, after = asyncio.run(main())
    assert waited < 0.3, f"cancel took {waited:.2f} s: it waited for the answer"
    stored = emu.stored(USER)
    # The cancelled create reached Graph, which may have stored it; its
    # result was dropped either way.
    assert len(stored) in (1, 2) and stored[-1]["id"] == after.id


@pytest.mark.slow
def test_cancelling_a_task_stops_its_call_and_frees_its_thread(
    emu: Emulator, insight: UsedInsight
) -> None:
    emu.fault(delay_ms=3000)

    async def main() -> float:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url, max_in_flight=1) as client:
            task = asyncio.create_task(client.create(USER, insight))
            await asyncio.sleep(0.3)  # sent; the answer is held back 3 s
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            started = time.monotonic()
            # The only thread: free once the cancelled call has stopped.
            await client.create(USER, insight)
            return time.monotonic() - started

    freed_after = asyncio.run(main())
    assert freed_after < 1.0, f"the next create waited {freed_after:.2f} s for the thread"



@pytest.mark.slow
def test_wait_for_timing_out_is_a_cancellation(emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(delay_ms=800)

    async def main() -> None:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url) as client:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.create(USER, insight), timeout=0.2)
            await asyncio.sleep(1.0)

    asyncio.run(main())
    # Sent before the timeout, then abandoned: Graph may or may not have
    # stored it (this emulator stores once its delay is over, and the
    # connection is gone by then).
    assert len(emu.requests()) == 1 and len(emu.stored(USER)) <= 1


@pytest.mark.slow
def test_cancelling_a_create_not_yet_started_never_sends_it(emu: Emulator,
                                                            insight: UsedInsight) -> None:
    emu.fault(delay_ms=500)

    async def main() -> None:
        async with AsyncClient(token=TOKEN, base_url=emu.base_url, max_in_flight=1) as client:
            first = asyncio.create_task(client.create("first@contoso.com", insight))
            await asyncio.sleep(0.1)
            # The only thread is busy with `first`: this one waits its turn.
            second = asyncio.create_task(client.create("second@contoso.com", insight))
            await asyncio.sleep(0.1)
            second.cancel()
            with pytest.raises(asyncio.CancelledError):
                await second
            assert (await first).id
            await asyncio.sleep(0.3)  # time enough to send it, were it queued still

    asyncio.run(main())
    assert [r["path"] for r in emu.requests()] == ["/v1.0/users/first@contoso.com/insights/used"]


def test_max_in_flight_is_checked() -> None:
    with pytest.raises(ValueError, match="max_in_flight must be 1 or more, not 0"):
        AsyncClient(token=TOKEN, max_in_flight=0)
    with pytest.raises(TypeError, match="max_in_flight must be an int, not str"):
        AsyncClient(token=TOKEN, max_in_flight="4")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_in_flight must be an int, not bool"):
        AsyncClient(token=TOKEN, max_in_flight=True)


def test_every_client_argument_passes_through(emu: Emulator) -> None:
    kwargs: dict[str, Any] = dict(
        base_url=emu.base_url, api_version="beta", timeout=5.0, max_retries=1,
        user_agent="app/1.0", system_roots=True, proxy=False,
    )
    client = AsyncClient(TOKEN, **kwargs)
    assert repr(client) == "Async" + repr(Client(TOKEN, **kwargs))
    client.close()


def _parameters(stub: Path, cls: str, method: str) -> list[str]:
    """A method's parameters in a stub or module, as written: name, kind,
    annotation and default."""
    tree = ast.parse(stub.read_text(encoding="utf-8"))
    [klass] = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls]
    [func] = [n for n in ast.walk(klass) if isinstance(n, ast.FunctionDef) and n.name == method
              and n.args.args[0].arg == ("cls" if method == "__new__" else "self")
              and n.returns is not None]
    a = func.args
    positional = a.args[1:]
    defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
    out = [f"{p.arg}: {ast.unparse(p.annotation) if p.annotation else ''} = "
           f"{ast.unparse(d) if d else ''}" for p, d in zip(positional, defaults)]
    out += [f"*{p.arg}: {ast.unparse(p.annotation) if p.annotation else ''} = "
            f"{ast.unparse(d) if d else ''}" for p, d in zip(a.kwonlyargs, a.kw_defaults)]
    return out


def test_the_typed_signature_is_clients_plus_max_in_flight() -> None:
    package = Path(used_insight.__file__).parent
    client = _parameters(package / "_native.pyi", "Client", "__new__")
    async_client = _parameters(package / "_async.py", "AsyncClient", "__init__")
    assert async_client[-1] == "*max_in_flight: int = DEFAULT_MAX_IN_FLIGHT"
    assert async_client[:-1] == client, "AsyncClient's declared signature is not Client's"
    # And at run time (help(), editors), from Client itself.
    runtime = list(inspect.signature(AsyncClient).parameters)
    assert runtime == [*inspect.signature(Client).parameters, "max_in_flight"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_gets_a_thread_pool_of_its_own(emu: Emulator, insight: UsedInsight) -> None:
    # The parent's pool has a thread (idle) when the child is forked: the
    # child has none of it, and work queued there would wait forever.
    client = AsyncClient(token=TOKEN, base_url=emu.base_url)
    asyncio.run(client.create(USER, insight))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork() with threads: on purpose
        pid = os.fork()
    if pid == 0:  # the child: exit code 0 only if its create completes in time
        code = 1
        try:
            created = asyncio.run(asyncio.wait_for(client.create(USER, insight), timeout=10))
            code = 0 if created.id else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # And the parent goes on with its own pool.
    assert asyncio.run(client.create(USER, insight)).id
    client.close()
    assert len(emu.stored(USER)) == 3
