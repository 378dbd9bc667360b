"""The README's "Bad input" table, Python's column, row by row against real
emulators: what each class of bad input raises, and whether anything was
sent. (Header values: test_security.py.)"""

from __future__ import annotations

import datetime
import socket
from typing import Any, Callable

import pytest

from conftest import TOKEN, Emulator, TunnelProxy
from used_insight import (
    Client,
    ConfigurationError,
    GraphApiError,
    InvalidResponseError,
    TransportError,
    UsedInsight,
    ValidationError,
)

USER = "alice@contoso.com"


def wire(insight: UsedInsight, **top: Any) -> dict[str, Any]:
    """The insight as a dict, with top-level properties replaced or added."""
    return {**insight.to_dict(), **top}


def problems(client: Client, emu: Emulator, user_id: Any, insight: Any) -> list[tuple[str, str]]:
    """The ValidationError's problems; nothing may have been sent."""
    with pytest.raises(ValidationError) as raised:
        client.create(user_id, insight)
    assert isinstance(raised.value, ValueError)
    assert not raised.value.request_may_have_been_processed
    assert emu.requests() == []
    return list(raised.value.problems)


def test_anything_but_a_model_or_dict_is_a_type_error(client: Client, emu: Emulator) -> None:
    for not_an_insight in ['{"lastUsed": {}}', b"{}", [1, 2], None]:
        with pytest.raises(TypeError, match="insight must be a UsedInsight or a dict"):
            client.create(USER, not_an_insight)  # type: ignore[arg-type]
    assert emu.requests() == []


def test_wrong_types_and_values_json_cannot_hold_are_named(
    client: Client, emu: Emulator, insight: UsedInsight
) -> None:
    array = wire(insight, lastUsed=[])
    assert problems(client, emu, USER, array) == [("lastUsed", "expected an object, found an array")]
    [(path, reason)] = problems(client, emu, USER, wire(insight, resourceVisualization={"title": 5, "type": "Word"}))
    assert path == "resourceVisualization.title" and "expected a string" in reason
    for value, words in [(object(), "expected a JSON value"), (float("nan"), "NaN"), ("a\udc80", "lone surrogate")]:
        [(path, reason)] = problems(client, emu, USER, wire(insight, note=value))
        assert path == "note" and words in reason


def test_missing_objects_are_each_named(client: Client, emu: Emulator) -> None:
    assert problems(client, emu, USER, {}) == [
        ("lastUsed", "is required"),
        ("resourceVisualization", "is required"),
        ("resourceReference", "is required"),
    ]


def test_bad_dates_are_named(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    for date in ["2026-11-28 10:00", "2026-11-28T10:00:00", "2026-02-30T10:00:00Z", datetime.datetime(2026, 1, 1)]:
        [(path, _)] = problems(client, emu, USER, wire(insight, lastUsed={"lastAccessedDateTime": date}))
        assert path == "lastUsed.lastAccessedDateTime"


def test_bad_urls_are_named_and_a_bad_base_url_is_a_configuration_error(
    client: Client, emu: Emulator, insight: UsedInsight
) -> None:
    for url in ["javascript:alert(1)", "/relative/report.docx", "ftp://contoso.com/report.docx"]:
        [(path, reason)] = problems(client, emu, USER, wire(insight, resourceReference={"webUrl": url}))
        assert path == "resourceReference.webUrl" and "http or https" in reason
    for base in ["not a url", "ftp://graph.example.com", "http://graph.example.com"]:
        with pytest.raises(ConfigurationError, match=f"`{base}`"):
            Client(token=TOKEN, base_url=base)


def test_bad_user_ids_are_named(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    for user_id, reason in [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("..", "`.` or `..`"),
        ("a" * 1025, "at most 1024"),
        ("alice\r\nX-Injected: 1", "control characters"),
        ("alice\x00", "control characters"),
    ]:
        [(path, why)] = problems(client, emu, user_id, insight)
        assert path == "usersId" and reason in why


def test_none_and_text_that_is_not_unicode_name_the_argument(
    client: Client, emu: Emulator, insight: UsedInsight
) -> None:
    # Python's own conversions, with a note naming the argument.
    for user_id, error in [(None, TypeError), (b"alice", TypeError), ("alice\udc80", UnicodeEncodeError)]:
        with pytest.raises(error) as raised:
            client.create(user_id, insight)  # type: ignore[arg-type]
        assert "user_id" in " ".join(getattr(raised.value, "__notes__", [])), raised.value
    assert emu.requests() == []


def test_a_body_over_4_mib_is_refused(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    [(path, reason)] = problems(client, emu, USER, wire(insight, pad="a" * (4 * 1024 * 1024)))
    assert path == "" and "at most 4194304" in reason


def test_answers_that_are_not_json_not_a_used_insight_or_too_large(
    client: Client, emu: Emulator, insight: UsedInsight
) -> None:
    faults: list[dict[str, Any]] = [
        {"status": 201, "body": "<html>ok</html>"},
        {"status": 201, "body": '{"lastUsed": 5}', "content_type": "application/json"},
        {"body_bytes": 5 * 1024 * 1024},
    ]
    for fault in faults:
        emu.fault(**fault)
        with pytest.raises(InvalidResponseError) as raised:
            client.create(USER, insight)
        assert raised.value.request_may_have_been_processed, fault  # a 2xx: Graph did it
    emu.fault(status=502, body="<html>Bad gateway</html>")
    with pytest.raises(GraphApiError) as graph:
        client.create(USER, insight)
    assert graph.value.status == 502 and not graph.value.request_may_have_been_processed
    # Cut short after Graph stored it: lost, may have been processed.
    emu.fault(truncate=True)
    with pytest.raises(TransportError) as lost:
        client.create(USER, insight)
    assert lost.value.kind == "connection_lost" and lost.value.request_may_have_been_processed


def not_sent(emu: Emulator, client: Client, insight: UsedInsight) -> TransportError:
    with client, pytest.raises(TransportError) as raised:
        client.create(USER, insight)
    assert not raised.value.request_may_have_been_processed
    assert "nothing was sent" in str(raised.value)
    assert emu.requests() == []
    return raised.value


def test_tls_and_proxy_failures_are_transport_errors_and_nothing_is_sent(
    emu: Emulator, https_emu: Emulator, tunnel_proxy: Callable[..., TunnelProxy], insight: UsedInsight
) -> None:
    # The HTTPS emulator's throwaway CA is not trusted.
    assert not_sent(https_emu, Client(token=TOKEN, base_url=https_emu.base_url), insight).kind == "tls"
    proxy = tunnel_proxy(emu, "--basic", "user:right")
    refused = not_sent(
        emu, Client(token=TOKEN, base_url=emu.base_url, proxy=proxy.url_with("user", "wrong"), max_retries=0), insight
    )
    assert refused.kind == "proxy" and "407" in str(refused) and "wrong" not in str(refused)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    unreachable = not_sent(emu, Client(token=TOKEN, base_url=emu.base_url, proxy=f"http://127.0.0.1:{closed}"), insight)
    assert unreachable.kind == "connect" and "proxy" in str(unreachable)
    for url in ["socks5://127.0.0.1:1080", "http://[::1", "http://proxy\udc80.example:8080"]:
        with pytest.raises(ConfigurationError, match="proxy"):
            Client(token=TOKEN, base_url=emu.base_url, proxy=url)
