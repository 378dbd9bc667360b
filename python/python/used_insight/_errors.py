"""The exceptions used_insight raises.

Catch ``UsedInsightError`` for every failure of a call, or a subclass by
kind; each one also subclasses the matching built-in, so code that already
handles ``ValueError``, ``ConnectionError`` or ``TimeoutError`` keeps working.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "UsedInsightError",
    "ConfigurationError",
    "ValidationError",
    "GraphApiError",
    "TransportError",
    "RequestTimeout",
    "InvalidResponseError",
    "TokenProviderError",
    "Cancelled",
]


class UsedInsightError(Exception):
    """Base class of every error used_insight raises.

    Attributes:
        client_request_id: the ``client-request-id`` header sent with the
            request, when one was sent; quote it (with ``request_id``) when
            asking Microsoft about a failure.
        request_may_have_been_processed: True when the request may have
            reached Graph and been carried out although no usable answer
            came back. Such a create is never resent automatically.
    """

    client_request_id: str | None
    request_may_have_been_processed: bool

    def __init__(
        self,
        *args: object,
        client_request_id: str | None = None,
        request_may_have_been_processed: bool = False,
    ) -> None:
        super().__init__(*args)
        self.client_request_id = client_request_id
        self.request_may_have_been_processed = request_may_have_been_processed


class ConfigurationError(UsedInsightError, ValueError):
    """The Client's settings are unusable: no token, an unknown cloud, plain
    ``http://`` to a remote host, a token a header cannot carry…"""


class ValidationError(UsedInsightError, ValueError):
    """The input breaks a rule; nothing was sent.

    ``problems`` lists every problem at once as ``(path, reason)`` tuples.
    ``path`` is the JSON path in Graph's camelCase
    (``resourceReference.webUrl``), ``usersId`` for the user id, or ``""``
    for the whole body.
    """

    problems: list[tuple[str, str]]

    def __init__(self, problems: Iterable[tuple[str, str]]) -> None:
        self.problems = [(str(path), str(reason)) for path, reason in problems]
        super().__init__(self.problems)

    def __str__(self) -> str:
        count = len(self.problems)
        lines = [f"{count} problem{'' if count == 1 else 's'} with the input:"]
        lines += [
            f"  {path}: {reason}" if path else f"  {reason}"
            for path, reason in self.problems
        ]
        return "\n".join(lines)


class GraphApiError(UsedInsightError):
    """Graph answered with an error status (after any retries).

    Attributes:
        status: the HTTP status, e.g. 400, 401, 429.
        code: Graph's error code, e.g. ``"InvalidAuthenticationToken"``.
        message: Graph's error message.
        request_id: Graph's ``request-id``.
        date: the ``date`` Graph put in ``innerError``, as written.
        retry_after: seconds Graph asked the caller to wait, or None.
        body_snippet: the start of the body when it was not a Graph error.
        attempts: requests made, counting retries.
    """

    status: int
    code: str | None
    message: str | None
    request_id: str | None
    date: str | None
    retry_after: float | None
    body_snippet: str | None
    attempts: int

    def __init__(
        self,
        *args: object,
        status: int = 0,
        code: str | None = None,
        message: str | None = None,
        request_id: str | None = None,
        date: str | None = None,
        retry_after: float | None = None,
        body_snippet: str | None = None,
        attempts: int = 1,
        client_request_id: str | None = None,
        request_may_have_been_processed: bool = False,
    ) -> None:
        super().__init__(
            *args,
            client_request_id=client_request_id,
            request_may_have_been_processed=request_may_have_been_processed,
        )
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.date = date
        self.retry_after = retry_after
        self.body_snippet = body_snippet
        self.attempts = attempts


class TransportError(UsedInsightError, ConnectionError):
    """No usable HTTP answer: could not connect, TLS failed, the proxy
    refused, the connection broke, or a redirect was refused.

    Attributes:
        kind: ``"connect"`` (the host, or the proxy in the way, could not
            be reached), ``"tls"`` (handshake or certificate failure),
            ``"proxy"`` (the proxy refused the tunnel), ``"connection_lost"``,
            ``"redirect"`` or ``"other"``. Nothing was sent to Graph after
            ``connect``, ``tls`` or ``proxy``:
            ``request_may_have_been_processed`` is False.
    """

    kind: str

    def __init__(
        self,
        *args: object,
        kind: str = "other",
        client_request_id: str | None = None,
        request_may_have_been_processed: bool = False,
    ) -> None:
        super().__init__(
            *args,
            client_request_id=client_request_id,
            request_may_have_been_processed=request_may_have_been_processed,
        )
        self.kind = kind


class RequestTimeout(UsedInsightError, TimeoutError):
    """No answer within the Client's ``timeout``.

    Attributes:
        phase: the step that ran out of time, e.g. ``"connect"`` or
            ``"response"``.
    """

    phase: str

    def __init__(
        self,
        *args: object,
        phase: str = "response",
        client_request_id: str | None = None,
        request_may_have_been_processed: bool = False,
    ) -> None:
        super().__init__(
            *args,
            client_request_id=client_request_id,
            request_may_have_been_processed=request_may_have_been_processed,
        )
        self.phase = phase


class InvalidResponseError(UsedInsightError):
    """An answer arrived that is not what Graph sends: not JSON, not a
    usedInsight, or too large. After a 2xx status the insight was probably
    created (``request_may_have_been_processed`` is True).

    Attributes:
        status: the HTTP status, when the status line was read.
        body_snippet: the start of the body.
        request_id: Graph's ``request-id`` header, if present.
    """

    status: int | None
    body_snippet: str
    request_id: str | None

    def __init__(
        self,
        *args: object,
        status: int | None = None,
        body_snippet: str = "",
        request_id: str | None = None,
        client_request_id: str | None = None,
        request_may_have_been_processed: bool = False,
    ) -> None:
        super().__init__(
            *args,
            client_request_id=client_request_id,
            request_may_have_been_processed=request_may_have_been_processed,
        )
        self.status = status
        self.body_snippet = body_snippet
        self.request_id = request_id


class TokenProviderError(UsedInsightError):
    """No token, so nothing was sent to Graph: the ``token_provider`` or an
    azure-core credential raised (its exception is ``__cause__``) or returned
    something that is not a usable token, or a credential of this package
    could not get one (Microsoft Entra ID refused, or could not be reached).

    Attributes (None unless a credential of this package failed; quote
    ``correlation_id`` and ``trace_id`` when asking Microsoft):
        credential: the credential that failed, e.g.
            ``"ClientSecretCredential"``.
        status: the HTTP status of the token endpoint's answer, when it
            answered.
        error: Entra's ``error``, e.g. ``"invalid_client"``.
        error_description: Entra's ``error_description`` as sent, starting
            with the ``AADSTS…`` code.
        aadsts_code: that code alone, e.g. ``"AADSTS7000215"`` (a wrong
            client secret).
        correlation_id: Entra's ``correlation_id`` for the token request.
        trace_id: Entra's ``trace_id`` for the token request.
    """

    credential: str | None
    status: int | None
    error: str | None
    error_description: str | None
    aadsts_code: str | None
    correlation_id: str | None
    trace_id: str | None

    def __init__(
        self,
        *args: object,
        credential: str | None = None,
        status: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        aadsts_code: str | None = None,
        correlation_id: str | None = None,
        trace_id: str | None = None,
        client_request_id: str | None = None,
        request_may_have_been_processed: bool = False,
    ) -> None:
        super().__init__(
            *args,
            client_request_id=client_request_id,
            request_may_have_been_processed=request_may_have_been_processed,
        )
        self.credential = credential
        self.status = status
        self.error = error
        self.error_description = error_description
        self.aadsts_code = aadsts_code
        self.correlation_id = correlation_id
        self.trace_id = trace_id


class Cancelled(UsedInsightError):
    """The call was stopped before it had an answer. Raised by ``create``
    (and ``AsyncClient.create``) when its ``cancel=`` token is cancelled; an
    item of ``create_many``'s results for the inputs that had none yet when
    its token was cancelled; and what ``used_insight_result`` /
    ``used_insight_results`` hold on the exception of a Ctrl+C (or another
    signal handler that raised).

    ``request_may_have_been_processed`` is True when the request had been
    sent and its answer abandoned (Graph may still create the insight);
    False when it was not processed (never sent, or refused by Graph and
    waiting for its retry).

    Attributes:
        phase: what the call was doing, e.g. ``"while waiting for the
            answer"`` or ``"before its batch was sent"``.
    """

    phase: str

    def __init__(
        self,
        *args: object,
        phase: str = "",
        client_request_id: str | None = None,
        request_may_have_been_processed: bool = False,
    ) -> None:
        super().__init__(
            *args,
            client_request_id=client_request_id,
            request_may_have_been_processed=request_may_have_been_processed,
        )
        self.phase = phase
