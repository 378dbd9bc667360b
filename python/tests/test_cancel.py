"""Ctrl+C during a call: SIGINT sent to a child Python process while its
create or create_many waits (for a slow answer, a Retry-After, a free slot
under the client's rate limit, batches) raises KeyboardInterrupt within
0.2 s, sends nothing more, and leaves on the exception what happened to
each input. Other signals' handlers run on time without stopping the call.

Delays are measured from the parent's ``os.kill`` to the child's ``except``,
both on ``time.monotonic()`` (CLOCK_MONOTONIC, one clock for the machine),
and printed (``pytest -s`` shows them).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

from conftest import TOKEN, Emulator

# The bound for create; create_many abandons its batch in flight
# too, so the same bound holds there.
PROMPT = 0.2

CHILD = textwrap.dedent(
    """
    import json, signal, sys, threading, time
    from used_insight import Client, Cancelled, UsedInsight

    BASE, TOKEN, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
    INSIGHT = {
        "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
        "resourceVisualization": {"title": "Quarterly report", "type": "Word"},
        "resourceReference": {"webUrl": "https://contoso.sharepoint.com/report.docx"},
    }
    usr1 = []
    signal.signal(signal.SIGUSR1, lambda signo, frame: usr1.append(time.monotonic()))
    ticks = []

    def ticker():
        while True:
            ticks.append(time.monotonic())
            time.sleep(0.01)

    threading.Thread(target=ticker, daemon=True).start()

    def describe(result):
        if isinstance(result, UsedInsight):
            return {"created": result.id}
        return {
            "error": type(result).__name__,
            "phase": getattr(result, "phase", None),
            "may_have_been_processed": result.request_may_have_been_processed,
        }

    client = Client(token=TOKEN, base_url=BASE, timeout=30)
    report = {"usr1": usr1}
    if CASE == "limiter":
        # Graph's limit, the default: 4 in flight. Four slow creates hold
        # every slot; the create below waits for one.
        for _ in range(4):
            threading.Thread(target=client.create, args=("bob", INSIGHT), daemon=True).start()
        time.sleep(0.5)
    started = time.monotonic()
    print("calling", flush=True)
    try:
        if CASE.startswith("many"):
            concurrency = 2 if CASE == "many2" else 1
            result = client.create_many([("alice", INSIGHT)] * 100, concurrency=concurrency)
            report["returned"] = [describe(r) for r in result]
        else:
            report["returned"] = describe(client.create("alice", INSIGHT))
    except KeyboardInterrupt as stop:
        report["caught"] = time.monotonic()
        if hasattr(stop, "used_insight_results"):
            report["outcome"] = [describe(r) for r in stop.used_insight_results]
        else:
            report["outcome"] = describe(stop.used_insight_result)
    report["ended"] = time.monotonic()
    report["ticks_during"] = len([t for t in ticks if started <= t <= report["ended"]])
    report["started"] = started
    print(json.dumps(report), flush=True)
    """
)


def run_child(emu: Emulator, case: str, signals: list[tuple[float, int]]) -> tuple[dict[str, Any], dict[int, float]]:
    """Runs the child for `case`; once it is calling, sends each signal
    after its delay (seconds from the call). Returns the child's report and
    when each signal was sent."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, emu.base_url, TOKEN, case],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "calling"
        calling = time.monotonic()
        sent: dict[int, float] = {}
        for delay, signo in signals:
            time.sleep(max(0.0, calling + delay - time.monotonic()))
            sent[signo] = time.monotonic()
            os.kill(child.pid, signo)
        out, _ = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
    assert child.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1]), sent


def interrupted(emu: Emulator, case: str, what: str, after: float = 1.0) -> dict[str, Any]:
    """SIGINT `after` seconds into the call: KeyboardInterrupt within PROMPT."""
    report, sent = run_child(emu, case, [(after, signal.SIGINT)])
    assert "caught" in report, f"the call was not interrupted: {report}"
    delay = report["caught"] - sent[signal.SIGINT]
    print(f"\n{what}: KeyboardInterrupt {delay * 1e3:.1f} ms after SIGINT")
    assert delay < PROMPT, f"{what}: {delay:.3f} s"
    return report


def assert_nothing_more_sent(emu: Emulator, count: int) -> None:
    time.sleep(0.3)
    assert len(emu.requests()) == count


def test_ctrl_c_during_a_slow_answer(emu: Emulator) -> None:
    emu.fault(method="POST", delay_ms=5000)
    report = interrupted(emu, "create", "create waiting for a slow answer")
    # Sent, its answer abandoned: it may have been created.
    assert report["outcome"] == {
        "error": "Cancelled",
        "phase": "while waiting for the answer",
        "may_have_been_processed": True,
    }
    assert_nothing_more_sent(emu, 1)
    # The GIL was released while waiting: another thread kept running
    # (one tick per 10 ms; at least half of them).
    waited = report["ended"] - report["started"]
    assert report["ticks_during"] >= waited / 0.01 / 2, report


def test_ctrl_c_during_a_retry_after_wait(emu: Emulator) -> None:
    emu.fault(method="POST", status=429, retry_after="10")
    report = interrupted(emu, "create", "create waiting out Retry-After: 10")
    # Graph refused the only request it got: nothing was created.
    assert report["outcome"]["error"] == "Cancelled"
    assert report["outcome"]["may_have_been_processed"] is False
    assert_nothing_more_sent(emu, 1)


def test_ctrl_c_during_the_wait_for_a_free_slot(emu: Emulator) -> None:
    emu.fault(method="POST", path_contains="/users/bob/", delay_ms=3000, times=4)
    report = interrupted(emu, "limiter", "create waiting for a slot under the rate limit")
    assert report["outcome"] == {
        "error": "Cancelled",
        "phase": "while waiting for a free request slot under the client's rate limit",
        "may_have_been_processed": False,
    }
    assert [r["path"].split("/")[3] for r in emu.requests()] == ["bob"] * 4


def ctrl_c_during_create_many(emu: Emulator, case: str) -> None:
    emu.fault(path_contains="$batch", delay_ms=300, times=1000)
    report = interrupted(emu, case, f"create_many ({case}) of batches of 300 ms")
    received = len(emu.requests())
    outcome = report["outcome"]
    assert len(outcome) == 100
    created = sum(1 for r in outcome if "created" in r)
    uncertain = [r for r in outcome if r.get("may_have_been_processed") is True]
    not_sent = [r for r in outcome if r.get("may_have_been_processed") is False]
    assert created + len(uncertain) + len(not_sent) == 100
    print(f"{case}: {created} created, {len(uncertain)} may have been processed, "
          f"{len(not_sent)} not sent; {received} batches received")
    assert created > 0 and uncertain and not_sent
    # Never sent: not started, or (with workers) waiting for a slot.
    assert {r["phase"] for r in not_sent} <= {
        "before its batch was sent",
        "while waiting for a free request slot under the client's rate limit",
    }
    assert {r["phase"] for r in uncertain} == {"while waiting for the answer"}
    # Whole batches, all of the same size (Graph's limit: 4 in flight).
    per_batch = (created + len(uncertain)) // received
    assert per_batch * received == created + len(uncertain)
    assert len(uncertain) % per_batch == 0
    assert_nothing_more_sent(emu, received)


def test_ctrl_c_during_create_many(emu: Emulator) -> None:
    ctrl_c_during_create_many(emu, "many")


def test_ctrl_c_during_create_many_with_workers(emu: Emulator) -> None:
    ctrl_c_during_create_many(emu, "many2")


def test_other_signal_handlers_run_on_time_and_do_not_stop_the_call(emu: Emulator) -> None:
    emu.fault(method="POST", delay_ms=1500)
    report, sent = run_child(emu, "create", [(0.5, signal.SIGUSR1)])
    assert "created" in report["returned"], report
    [ran] = report["usr1"]
    delay = ran - sent[signal.SIGUSR1]
    print(f"\nSIGUSR1 handler ran {delay * 1e3:.1f} ms after the signal, during a create")
    assert delay < PROMPT
    assert len(emu.requests()) == 1


def test_a_cancel_token_stops_create_from_another_thread(emu: Emulator) -> None:
    import threading

    from used_insight import CancelToken, Cancelled, Client

    emu.fault(method="POST", delay_ms=5000)
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    insight = {
        "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
        "resourceVisualization": {"title": "Quarterly report", "type": "Word"},
        "resourceReference": {"webUrl": "https://contoso.sharepoint.com/report.docx"},
    }
    with Client(TOKEN, base_url=emu.base_url) as client:
        started = time.monotonic()
        with pytest.raises(Cancelled) as raised:
            client.create("alice@contoso.com", insight, cancel=token)
        took = time.monotonic() - started
        assert took < 1.0, f"create returned {took:.2f} s after it started"
        assert raised.value.request_may_have_been_processed  # it had been sent
        assert token.cancelled and repr(token) == "CancelToken(cancelled=True)"
        # A cancelled token sends nothing more.
        results = client.create_many([("bob@contoso.com", insight)] * 3, cancel=token)
        assert all(isinstance(r, Cancelled) and not r.request_may_have_been_processed
                   for r in results), results
    assert len(emu.requests()) == 1
