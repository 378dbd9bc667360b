"""A client used across fork(): a warm client inherited by a forked
multiprocessing pool keeps working in every worker and in the parent, each
answer reaching the create that asked for it (core gives a forked child an
empty connection pool of its own)."""

from __future__ import annotations

import multiprocessing
import os
import warnings
from typing import Any

import pytest

from used_insight import Client, UsedInsight

from conftest import Emulator

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
