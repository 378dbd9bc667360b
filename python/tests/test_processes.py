"""Clients in other processes: a warm client inherited by a forked
multiprocessing pool keeps working in every worker and in the parent, each
answer reaching the create that asked for it (core gives a forked child an
empty connection pool of its own); a client pickles by its settings, so a
spawned worker can be handed one."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import warnings
from typing import Any

import pytest

from used_insight import (
    Client,
    ClientSecretCredential,
    ManagedIdentityCredential,
    RateLimit,
    UsedInsight,
)

from conftest import TOKEN, Emulator

# What the forked workers inherit (set by the test, before the fork).
_inherited: Client | None = None
_insight: dict[str, Any] = {}


def _create_titled(title: str) -> tuple[int, str, str | None]:
    """In a worker: one create titled `title`; the title the answer holds."""
    assert _inherited is not None
    insight = {**_insight, "resourceVisualization": {**_insight["resourceVisualization"], "title": title}}
    created = _inherited.create("alice@contoso.com", insight)
    answered = created.resource_visualization.title if created.resource_visualization else None
    return os.getpid(), title, answered


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_warm_client_works_in_a_forked_pool(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    global _inherited, _insight
    _inherited, _insight = client, insight.to_dict()
    client.create("alice@contoso.com", insight)  # a pooled connection exists before the fork
    titles = [f"worker-{i}" for i in range(200)]
    with warnings.catch_warnings():
        # Python warns that fork() in a process with threads may deadlock;
        # forking is exactly what this test is about.
        warnings.simplefilter("ignore", DeprecationWarning)
        with multiprocessing.get_context("fork").Pool(4) as pool:
            results = pool.map(_create_titled, titles, chunksize=50)
    assert [answered for _, _, answered in results] == titles
    assert len({pid for pid, _, _ in results}) > 1, "the work was spread over the workers"
    assert os.getpid() not in {pid for pid, _, _ in results}
    # The parent's client still works, on its own pool.
    after = client.create("alice@contoso.com", insight)
    assert after.id is not None
    stored = [i["resourceVisualization"]["title"] for i in emu.stored("alice@contoso.com")]
    assert sorted(stored) == sorted(["Quarterly report"] * 2 + titles)


def _create_with(job: tuple[Client, str]) -> str | None:
    """In a spawned worker: one create with the client it was handed."""
    client, title = job
    insight = {**_WIRE_INSIGHT, "resourceVisualization": {"title": title, "type": "Word"}}
    created = client.create("bob@contoso.com", insight)
    return created.resource_visualization.title if created.resource_visualization else None


_WIRE_INSIGHT: dict[str, Any] = {
    "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
    "resourceReference": {"webUrl": "https://contoso.sharepoint.com/report.docx"},
}


def _provider() -> str:
    return TOKEN


def test_a_client_pickles_by_its_settings(emu: Emulator) -> None:
    client = Client(
        token_provider=_provider,
        base_url=emu.base_url,
        timeout=12.5,
        max_retries=1,
        retry_delay=0.25,
        user_agent="contoso-sync/2.1",
        proxy=False,
        rate_limit=RateLimit(max_concurrent=2, requests=100, per=60.0),
    )
    copy = pickle.loads(pickle.dumps(client))
    assert type(copy) is Client and copy is not client
    assert repr(copy) == repr(client)
    assert copy.create("bob@contoso.com", {**_WIRE_INSIGHT, "resourceVisualization": {"title": "t"}}).id
    unlimited = pickle.loads(pickle.dumps(Client(TOKEN, base_url=emu.base_url, rate_limit=None)))
    assert "rate_limit=None" in repr(unlimited)
    limit = RateLimit(max_concurrent=3, requests=7, per=1.5)
    assert pickle.loads(pickle.dumps(limit)) == limit


def test_credentials_pickle_by_their_arguments() -> None:
    credential = ClientSecretCredential("tenant", "client", "s3cret", authority="http://127.0.0.1:9")
    copy = pickle.loads(pickle.dumps(credential))
    assert type(copy) is ClientSecretCredential and repr(copy) == repr(credential)
    assert "s3cret" not in repr(copy)
    managed = pickle.loads(pickle.dumps(ManagedIdentityCredential(client_id="abc")))
    assert repr(managed) == repr(ManagedIdentityCredential(client_id="abc"))


def test_what_cannot_be_pickled_is_named(emu: Emulator) -> None:
    client = Client(token_provider=lambda: TOKEN, base_url=emu.base_url)
    with pytest.raises(TypeError, match="its token_provider .* cannot be pickled") as raised:
        pickle.dumps(client)
    assert raised.value.__cause__ is not None


def test_a_pickled_client_works_in_a_spawn_pool(emu: Emulator) -> None:
    client = Client(TOKEN, base_url=emu.base_url)
    titles = [f"spawned-{i}" for i in range(8)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        answered = pool.map(_create_with, [(client, t) for t in titles])
    assert answered == titles
    stored = sorted(i["resourceVisualization"]["title"] for i in emu.stored("bob@contoso.com"))
    assert stored == sorted(titles)


def test_an_async_client_pickles_without_its_threads(emu: Emulator) -> None:
    import asyncio

    from used_insight import AsyncClient

    async def main() -> None:
        client = AsyncClient(TOKEN, base_url=emu.base_url, max_in_flight=3)
        await client.create("bob@contoso.com", {**_WIRE_INSIGHT, "resourceVisualization": {"title": "a"}})
        copy = pickle.loads(pickle.dumps(client))  # its thread pool exists by now
        assert copy.max_in_flight == 3 and repr(copy) == repr(client)
        await copy.create("bob@contoso.com", {**_WIRE_INSIGHT, "resourceVisualization": {"title": "b"}})
        client.close()
        copy.close()

    asyncio.run(main())
    assert len(emu.stored("bob@contoso.com")) == 2
