"""One client shared between threads; the GIL is free during network waits."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from used_insight import Client, UsedInsight

from conftest import Emulator


def test_eight_threads_share_one_client(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    def work(n: int) -> list[str]:
        ids = []
        for i in range(10):
            created = client.create(f"user{n}-{i}@contoso.com", insight)
            assert created.id is not None
            ids.append(created.id)
        return ids

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = [i for batch in pool.map(work, range(8)) for i in batch]
    assert len(set(ids)) == 80
    requests = emu.requests()
    assert len(requests) == 80
    assert len({r["headers"]["client-request-id"] for r in requests}) == 80


@pytest.mark.slow
def test_slow_answers_overlap_across_threads(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(delay_ms=600, times=8)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: client.create(f"u{n}@contoso.com", insight), range(8)))
    elapsed = time.monotonic() - started
    assert all(r.id for r in results)
    # Holding the GIL through the wait would serialise them: 8 × 0.6 s.
    assert elapsed < 2.0, f"8 slow creates took {elapsed:.2f} s"


@pytest.mark.slow
def test_python_threads_run_while_a_create_waits(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(delay_ms=800)
    counted = 0
    done = threading.Event()

    def count() -> None:
        nonlocal counted
        while not done.is_set():
            counted += 1

    counter = threading.Thread(target=count)
    create = threading.Thread(target=lambda: client.create("alice@contoso.com", insight))
    create.start()
    time.sleep(0.1)  # the create is now waiting on the emulator
    counter.start()
    before = counted
    time.sleep(0.4)
    during = counted - before
    create.join()
    done.set()
    counter.join()
    # Pure Python spins hundreds of thousands of times in 0.4 s when the
    # GIL is free; none at all if the waiting create held it.
    assert during > 10_000, during
