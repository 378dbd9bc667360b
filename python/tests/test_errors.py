"""Every exception class, with its fields, against real faults."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from used_insight import (
    Client,
    ConfigurationError,
    GraphApiError,
    InvalidResponseError,
    RequestTimeout,
    TokenProviderError,
    TransportError,
    UsedInsight,
    UsedInsightError,
    ValidationError,
)

from conftest import TOKEN, Emulator


def test_graph_error_carries_everything_graph_said(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(status=400, code="invalidRequest", message="lastUsed is wrong")
    with pytest.raises(GraphApiError) as caught:
        client.create("alice@contoso.com", insight)
    error = caught.value
    [request] = emu.requests()
    assert error.status == 400
    assert error.code == "invalidRequest"
    assert error.message == "lastUsed is wrong"
    assert error.request_id
    assert error.client_request_id == request["headers"]["client-request-id"]
    assert error.retry_after is None
    assert error.attempts == 1
    assert error.request_may_have_been_processed is False
    assert "HTTP 400 invalidRequest: lastUsed is wrong" in str(error)


def test_wrong_token_is_a_401_graph_error(emu: Emulator, insight: UsedInsight) -> None:
    with Client(token="not-the-token", base_url=emu.base_url) as client:
        with pytest.raises(GraphApiError) as caught:
            client.create("alice@contoso.com", insight)
    assert (caught.value.status, caught.value.code) == (401, "InvalidAuthenticationToken")
    assert "not-the-token" not in str(caught.value)


def test_429_is_retried_after_retry_after(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(status=429, retry_after="0.5")
    created = client.create("alice@contoso.com", insight)
    assert created.id
    first, second = emu.requests()
    assert first["headers"]["client-request-id"] == second["headers"]["client-request-id"]
    assert second["headers"]["retry-attempt"] == "1"
    assert second["elapsed_ms"] - first["elapsed_ms"] >= 450


def test_a_503_without_retry_after_waits_the_retry_delay(emu: Emulator, insight: UsedInsight) -> None:
    # The first back-off wait is between half and all of retry_delay
    # (jitter): 100-200 ms here, far from the default 1 s (at least 500 ms).
    emu.fault(status=503)
    with Client(token=TOKEN, base_url=emu.base_url, retry_delay=0.2) as client:
        assert client.create("alice@contoso.com", insight).id
    first, second = emu.requests()
    assert second["headers"]["retry-attempt"] == "1"
    assert 100 <= second["elapsed_ms"] - first["elapsed_ms"] < 480


@pytest.mark.parametrize(
    ("retry_delay", "message"),
    [
        (-0.5, "retry_delay must be a number of seconds, 0 or more, not -0.5"),
        (float("nan"), "retry_delay must be a number of seconds, 0 or more, not NaN"),
        (float("inf"), "retry_delay must be a number of seconds, 0 or more, not inf"),
        (60.5, "retry_delay must be at most 60 s (the longest single wait), not 60.5 s"),
        (1e300, "retry_delay must be at most 60 s (the longest single wait), not 1e300 s"),
    ],
)
def test_a_retry_delay_core_refuses_is_a_configuration_error(retry_delay: float, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Client(token="t", retry_delay=retry_delay)
    assert str(caught.value) == message


def test_a_retry_delay_of_another_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="retry_delay"):
        Client(token="t", retry_delay="1")  # type: ignore[arg-type]


def test_throttling_past_the_retries_reports_retry_after(emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(status=429, retry_after="0.25", times=2)
    with Client(token=TOKEN, base_url=emu.base_url, max_retries=1) as client:
        with pytest.raises(GraphApiError) as caught:
            client.create("alice@contoso.com", insight)
    error = caught.value
    assert (error.status, error.code, error.attempts) == (429, "TooManyRequests", 2)
    assert error.retry_after == pytest.approx(0.25)
    assert isinstance(error.retry_after, float)
    assert len(emu.requests()) == 2


def test_a_dropped_connection_is_reported_and_not_resent(
    client: Client, emu: Emulator, insight: UsedInsight
) -> None:
    emu.fault(drop_connection=True)
    with pytest.raises(TransportError) as caught:
        client.create("alice@contoso.com", insight)
    error = caught.value
    assert isinstance(error, ConnectionError)
    assert error.kind == "connection_lost"
    assert error.request_may_have_been_processed is True
    assert "not resent" in str(error)
    [request] = emu.requests()
    assert error.client_request_id == request["headers"]["client-request-id"]


def test_a_refused_connection_was_certainly_not_processed(insight: UsedInsight) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with Client(token=TOKEN, base_url=f"http://127.0.0.1:{port}") as client:
        with pytest.raises(TransportError) as caught:
            client.create("alice@contoso.com", insight)
    assert caught.value.kind == "connect"
    assert caught.value.request_may_have_been_processed is False


@pytest.mark.slow
def test_no_answer_in_time_is_a_request_timeout(emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(delay_ms=1500)
    with Client(token=TOKEN, base_url=emu.base_url, timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(RequestTimeout) as caught:
            client.create("alice@contoso.com", insight)
        elapsed = time.monotonic() - started
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert elapsed < 1.2
    assert error.request_may_have_been_processed is True
    assert error.phase
    assert len(emu.requests()) == 1


def test_a_non_graph_answer_is_an_invalid_response(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(status=201, body="<html>", content_type="text/html")
    with pytest.raises(InvalidResponseError) as caught:
        client.create("alice@contoso.com", insight)
    error = caught.value
    assert error.status == 201
    assert error.body_snippet.startswith("<html>")
    # A 2xx means Graph probably did the work.
    assert error.request_may_have_been_processed is True


def test_non_json_error_page_still_gives_a_graph_error(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    emu.fault(status=502, body="<html>Bad Gateway</html>")
    with pytest.raises(GraphApiError) as caught:
        client.create("alice@contoso.com", insight)
    assert caught.value.status == 502
    assert caught.value.code is None
    assert "Bad Gateway" in (caught.value.body_snippet or "")


def test_validation_lists_every_problem_and_sends_nothing(client: Client, emu: Emulator) -> None:
    bad: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.user",
        "lastUsed": {"lastAccessedDateTime": "yesterday"},
        "resourceReference": {"webUrl": "/relative/report.docx"},
        "resourceVisualization": {"previewImageUrl": "ftp://contoso.com/p.png", "title": "x" * 5000},
    }
    with pytest.raises(ValidationError) as caught:
        client.create("", bad)
    problems = dict(caught.value.problems)
    assert set(problems) == {
        "usersId",
        "@odata.type",
        "lastUsed.lastAccessedDateTime",
        "resourceReference.webUrl",
        "resourceVisualization.previewImageUrl",
        "resourceVisualization.title",
    }
    assert isinstance(caught.value, ValueError)
    assert emu.requests() == []


def test_validation_of_dicts_joins_type_shape_and_rule_problems(client: Client, emu: Emulator) -> None:
    bad: dict[str, Any] = {
        "id": 5,
        "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
        "resourceVisualization": {"title": "Quarterly report"},
        "resourceReference": {"webUrl": "contoso.com/report.docx"},
        "extra": {1, 2},
    }
    with pytest.raises(ValidationError) as caught:
        client.create("alice@contoso.com", bad)
    # Python types first, then the shape core reads, then Graph's rules.
    assert [path for path, _ in caught.value.problems] == ["extra", "id", "resourceReference.webUrl"]
    assert caught.value.problems[1] == ("id", "expected a string, found a number")
    assert emu.requests() == []


def test_validation_of_models_joins_type_and_rule_problems(client: Client, emu: Emulator, insight: UsedInsight) -> None:
    from datetime import datetime

    assert insight.last_used is not None and insight.resource_reference is not None
    insight.last_used.last_accessed_date_time = datetime(2026, 11, 28, 10)
    insight.resource_reference.web_url = "contoso.com/report.docx"
    insight.resource_visualization = None
    with pytest.raises(ValidationError) as caught:
        client.create("alice@contoso.com", insight)
    assert [path for path, _ in caught.value.problems] == [
        "lastUsed.lastAccessedDateTime",
        "resourceVisualization",
        "resourceReference.webUrl",
    ]
    assert "naive datetime" in caught.value.problems[0][1]
    assert emu.requests() == []


def test_wrong_input_type_is_a_type_error(client: Client) -> None:
    with pytest.raises(TypeError):
        client.create("alice@contoso.com", ["not", "an", "insight"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({}, "no token"),
        ({"token": "t", "cloud": "mars"}, "unknown cloud"),
        ({"token": "t", "api_version": "v2"}, "unknown API version"),
        ({"token": "t", "base_url": "http://graph.contoso.com"}, "https"),
        ({"token": "t", "timeout": -1}, "timeout"),
        ({"token": "t", "timeout": float("nan")}, "timeout"),
        ({"token": "t", "max_retries": -1}, "max_retries"),
        ({"token": "t", "token_provider": lambda: "t"}, "not both"),
        ({"token": "line\nbreak"}, "token"),
    ],
)
def test_unusable_settings_are_configuration_errors(settings: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigurationError, match=words) as caught:
        Client(**settings)
    assert isinstance(caught.value, ValueError)
    assert "line\nbreak" not in str(caught.value)


def test_token_provider_is_called_for_every_attempt(emu: Emulator, insight: UsedInsight) -> None:
    tokens = iter([TOKEN, TOKEN, "never-used"])
    calls = []

    def provider() -> str:
        calls.append(1)
        return next(tokens)

    emu.fault(status=503, retry_after="0")
    with Client(token_provider=provider, base_url=emu.base_url) as client:
        assert client.create("alice@contoso.com", insight).id
    assert len(calls) == 2
    assert all(r["headers"]["authorization"] == f"Bearer {TOKEN}" for r in emu.requests())


def test_token_provider_failure_keeps_the_original_as_cause(emu: Emulator, insight: UsedInsight) -> None:
    class VaultDown(Exception):
        pass

    def provider() -> str:
        raise VaultDown("vault unreachable")

    with Client(token_provider=provider, base_url=emu.base_url) as client:
        with pytest.raises(TokenProviderError) as caught:
            client.create("alice@contoso.com", insight)
    assert isinstance(caught.value, UsedInsightError)
    assert isinstance(caught.value.__cause__, VaultDown)
    assert "vault unreachable" in str(caught.value)
    assert emu.requests() == []


def test_token_provider_must_return_a_string(emu: Emulator, insight: UsedInsight) -> None:
    with Client(token_provider=lambda: 42, base_url=emu.base_url) as client:  # type: ignore[arg-type,return-value]
        with pytest.raises(TokenProviderError) as caught:
            client.create("alice@contoso.com", insight)
    assert isinstance(caught.value.__cause__, TypeError)
    with pytest.raises(TypeError):
        Client(token_provider="not callable")  # type: ignore[arg-type]


def test_repr_never_shows_the_token(emu: Emulator) -> None:
    client = Client(token="secret-token-value", base_url=emu.base_url, user_agent="contoso/1")
    assert repr(client) == (
        f"Client(base_url='{emu.base_url}', api_version='v1.0', credential='token', "
        "timeout=60.0, max_retries=3, user_agent='contoso/1')"
    )
    assert repr(Client(token="t")).startswith("Client(base_url='https://graph.microsoft.com'")
    assert repr(Client(token="t", max_retries=5, retry_delay=0.02)).endswith(
        "timeout=60.0, max_retries=5, retry_delay=0.02)"
    )
    assert repr(Client(token_provider=lambda: "t", cloud="us_gov", api_version="beta")) == (
        "Client(base_url='https://graph.microsoft.us', api_version='beta', "
        "credential='token_provider', timeout=60.0, max_retries=3)"
    )


def test_a_closed_client_refuses_work(emu: Emulator, insight: UsedInsight) -> None:
    with Client(token=TOKEN, base_url=emu.base_url) as client:
        assert not client.closed
    assert client.closed
    assert repr(client).endswith("closed=True)")
    with pytest.raises(RuntimeError, match="closed"):
        client.create("alice@contoso.com", insight)
