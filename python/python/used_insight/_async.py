"""``used_insight.AsyncClient``: ``Client`` for asyncio.

Each ``await`` hands the call to a thread of the client's own pool
(``loop.run_in_executor`` with a ``ThreadPoolExecutor``), where ``Client``
releases the GIL for the whole network wait: the event loop never blocks,
and concurrent awaits run in parallel, up to ``max_in_flight`` at once.

Chosen by measurement (docs/DECISIONS.md): a native thread per call that
completes an asyncio future through ``call_soon_threadsafe`` cost several
times more per create than this pool; a hand-written pool on a
``queue.SimpleQueue`` saved about a tenth of the overhead, not worth owning
thread start-up, shutdown and fork handling that ``concurrent.futures``
already gets right.
"""

from __future__ import annotations

import os

from ._native import CancelToken, Client

# asyncio, concurrent.futures (which imports logging), functools and
# inspect are imported when first needed: `import used_insight` stays light
# (python/tests/test_package.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from concurrent.futures import ThreadPoolExecutor
    from inspect import Signature
    from types import TracebackType
    from typing import Any, Literal, TypeVar

    from typing_extensions import Self

    from ._errors import UsedInsightError
    from ._models import UsedInsight
    from ._native import RateLimit, _TokenCredential

    _StrPath = str | os.PathLike[str]
    _T = TypeVar("_T")

# As many as core keeps idle connections per host (ClientBuilder's
# max_idle_connections, 16): every worker thread keeps its connection.
DEFAULT_MAX_IN_FLIGHT = 16


class AsyncClient:
    """A Microsoft Graph client for creating usedInsights from asyncio code.

    Takes ``Client``'s arguments (and raises what ``Client`` raises for
    them), plus ``max_in_flight``: how many creates run at once; further
    awaits wait their turn, unsent. ``await create(...)`` and
    ``await create_many(...)`` return and raise exactly what ``Client``'s
    methods do. The calls run on the client's own threads with the GIL
    released while they wait on the network, so the event loop is never
    blocked and concurrent awaits overlap.

    Cancelling an awaiting task (``task.cancel()``, ``asyncio.wait_for``
    timing out) raises ``CancelledError`` in it at once, and cancels the
    call's ``CancelToken``. A create not yet started is then never sent;
    one waiting (for a slot, a retry, a token, the answer) stops within
    about 20 ms and frees its thread, nothing more being sent. A request
    already sent may still reach Graph and complete, and its result is
    dropped: as with a lost answer, do not assume a cancelled create did
    not happen.

    Use it as ``async with AsyncClient(...) as client:``, or call close().
    """

    _client: Client
    _max_in_flight: int
    # Made on first use, again in a forked child; None once closed.
    _pool: ThreadPoolExecutor | None
    _pool_pid: int

    if TYPE_CHECKING:
        # The signature type checkers see: Client's, plus max_in_flight.
        # At run time the arguments go to Client untouched (below), so a
        # new Client argument works here at once; python/tests/test_async.py
        # checks that this declaration stays in step with Client's stub.
        def __init__(
            self,
            token: str | None = None,
            *,
            token_provider: Callable[[], str] | None = None,
            credential: _TokenCredential | None = None,
            base_url: str | None = None,
            cloud: str = "global",
            api_version: str = "v1.0",
            timeout: float = 60.0,
            max_retries: int = 3,
            retry_delay: float = 1.0,
            user_agent: str | None = None,
            ca_file: _StrPath | Sequence[_StrPath] | None = None,
            ca_pem: str | None = None,
            system_roots: bool = False,
            proxy: str | Literal[False] | None = None,
            rate_limit: RateLimit | None = ...,
            max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        ) -> None: ...

    else:

        def __init__(self, *args, max_in_flight=DEFAULT_MAX_IN_FLIGHT, **kwargs):
            # Checked before Client is made, so a bad value leaves nothing
            # behind to close.
            if isinstance(max_in_flight, bool) or not isinstance(max_in_flight, int):
                raise TypeError(f"max_in_flight must be an int, not {type(max_in_flight).__name__}")
            if max_in_flight < 1:
                raise ValueError(f"max_in_flight must be 1 or more, not {max_in_flight}")
            self._client = Client(*args, **kwargs)
            self._max_in_flight = max_in_flight
            self._pool = None
            self._pool_pid = 0

    def __getstate__(self) -> dict[str, Any]:
        # Pickled by its Client's settings and max_in_flight; the copy
        # starts its own thread pool when first used.
        return {"client": self._client, "max_in_flight": self._max_in_flight}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._client = state["client"]
        self._max_in_flight = state["max_in_flight"]
        self._pool = None
        self._pool_pid = 0

    @property
    def client(self) -> Client:
        """The synchronous ``Client`` underneath (shared: closing one
        closes both)."""
        return self._client

    @property
    def max_in_flight(self) -> int:
        """How many creates (or create_many calls) run at once."""
        return self._max_in_flight

    @property
    def closed(self) -> bool:
        """Whether close() was called."""
        return self._client.closed

    async def create(self, user_id: str, insight: UsedInsight | Mapping[str, Any]) -> UsedInsight:
        """Create a usedInsight for a user (object id or user principal name)
        and return it as Graph stored it, with its new id: ``Client.create``
        on one of this client's threads."""
        from functools import partial

        token = CancelToken()
        return await self._run(partial(self._client.create, user_id, insight, cancel=token), token)

    async def create_many(
        self,
        items: Iterable[tuple[str, UsedInsight | Mapping[str, Any]]],
        *,
        concurrency: int = 1,
        progress: Callable[[int, int], object] | None = None,
    ) -> list[UsedInsight | UsedInsightError]:
        """``Client.create_many`` on one of this client's threads: one result
        per input, in input order. ``progress(done, total)`` is called from
        that thread (or core's workers), not the event loop's: to touch
        asyncio objects from it, use ``loop.call_soon_threadsafe``."""
        from functools import partial

        token = CancelToken()
        call = partial(
            self._client.create_many, items, concurrency=concurrency, progress=progress, cancel=token
        )
        return await self._run(call, token)

    def close(self) -> None:
        """Drop the connection pool and let the threads go. Creates already
        running finish; later (and still queued) ones raise RuntimeError, as
        on a closed ``Client``. Does not block."""
        self._client.close()
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Async{self._client!r}"

    async def _run(self, call: Callable[[], _T], token: CancelToken) -> _T:
        from asyncio import CancelledError, get_running_loop

        try:
            return await get_running_loop().run_in_executor(self._threads(), call)
        except CancelledError:
            # The task was cancelled: a call not started never runs; one
            # running stops within a slice of its wait (its thread is free
            # again at once) and its outcome is dropped.
            token.cancel()
            raise

    def _threads(self) -> ThreadPoolExecutor:
        # A forked child inherits the pool's bookkeeping but not its
        # threads (work queued there would wait forever): it gets a pool of
        # its own, as core gives it connections of its own.
        if self._pool is None or self._pool_pid != os.getpid():
            if self._client.closed:
                raise RuntimeError("this AsyncClient is closed")
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(
                max_workers=self._max_in_flight, thread_name_prefix="used_insight"
            )
            self._pool_pid = os.getpid()
        return self._pool


class _ClientSignature:
    """``AsyncClient.__signature__``, made when first read (``help()``,
    ``inspect.signature``, editors that read it at run time): ``Client``'s
    arguments, from ``Client`` itself, plus ``max_in_flight``."""

    def __get__(self, instance: object, owner: type | None = None) -> Signature:
        import inspect

        client = inspect.signature(Client)
        extra = inspect.Parameter(
            "max_in_flight", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_MAX_IN_FLIGHT
        )
        return client.replace(parameters=[*client.parameters.values(), extra])


AsyncClient.__signature__ = _ClientSignature()  # type: ignore[attr-defined]
