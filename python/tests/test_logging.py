"""Core's log records reach Python's logging under `used_insight`."""

from __future__ import annotations

import logging
import sys

import pytest

import used_insight
from used_insight import Client, UsedInsight

from conftest import TOKEN, Emulator


def test_retries_are_logged_as_warnings(
    emu: Emulator, insight: UsedInsight, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="used_insight")
    emu.fault(status=429, retry_after="0")
    with Client(token=TOKEN, base_url=emu.base_url) as client:
        client.create("alice@contoso.com", insight)
    [record] = [r for r in caplog.records if r.name.startswith("used_insight")]
    assert record.levelno == logging.WARNING
    assert record.name == "used_insight.client"
    assert "HTTP 429" in record.getMessage()
    assert TOKEN not in record.getMessage()


def test_debug_records_follow_the_python_level(
    emu: Emulator, insight: UsedInsight, caplog: pytest.LogCaptureFixture
) -> None:
    # Levels are read when a Client is made (and cached for speed)...
    caplog.set_level(logging.DEBUG, logger="used_insight")
    with Client(token=TOKEN, base_url=emu.base_url) as client:
        client.create("alice@contoso.com", insight)
        debug = [r for r in caplog.records if r.name.startswith("used_insight")]
        assert any("POST" in r.getMessage() for r in debug)
        assert all(TOKEN not in r.getMessage() for r in debug)
        # ...and again after reset_logging_cache() when changed at run time.
        caplog.clear()
        logging.getLogger("used_insight").setLevel(logging.INFO)
        used_insight.reset_logging_cache()
        client.create("alice@contoso.com", insight)
        assert [r for r in caplog.records if r.name.startswith("used_insight")] == []


def test_only_used_insight_records_are_forwarded(
    emu: Emulator, insight: UsedInsight, caplog: pytest.LogCaptureFixture
) -> None:
    # The HTTP library's own records stay on the Rust side, whatever the level.
    caplog.set_level(logging.DEBUG)
    with Client(token=TOKEN, base_url=emu.base_url) as client:
        client.create("alice@contoso.com", insight)
    names = {r.name for r in caplog.records}
    assert "used_insight.client" in names
    assert all(n == "used_insight" or n.startswith("used_insight.") for n in names), names


def test_deprecation_notice_is_logged_once_per_client(
    emu: Emulator, insight: UsedInsight, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="used_insight")
    notice = {"Deprecation": "@1798675200", "Sunset": "Sat, 01 Jan 2028 00:00:00 GMT"}
    emu.fault(headers=notice, times=2)
    with Client(token=TOKEN, base_url=emu.base_url) as client:
        client.create("alice@contoso.com", insight)
        client.create("alice@contoso.com", insight)
    warnings = [r for r in caplog.records if r.name.startswith("used_insight")]
    assert len(warnings) == 1
    assert "deprecat" in warnings[0].getMessage().lower()


def test_a_raising_log_filter_does_not_break_the_create(
    emu: Emulator, insight: UsedInsight, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            raise RuntimeError("broken filter")

    unraisable: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(u.exc_value))
    logger = logging.getLogger("used_insight.client")
    broken = Broken()
    logger.addFilter(broken)
    try:
        emu.fault(status=503, retry_after="0")
        with Client(token=TOKEN, base_url=emu.base_url) as client:
            assert client.create("alice@contoso.com", insight).id
    finally:
        logger.removeFilter(broken)
    assert [str(e) for e in unraisable] == ["broken filter"]
