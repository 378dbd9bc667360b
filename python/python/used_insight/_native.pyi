"""Type stub for the private native module ``used_insight._native``."""

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar, final

from typing_extensions import Self, disjoint_base

from used_insight._credentials import AccessToken
from used_insight._errors import UsedInsightError
from used_insight._models import UsedInsight

_M = TypeVar("_M")
_StrPath = str | os.PathLike[str]

__all__ = [
    "__version__",
    "Client",
    "RateLimit",
    "CancelToken",
    "_Credential",
    "ClientSecretCredential",
    "CertificateCredential",
    "WorkloadIdentityCredential",
    "ManagedIdentityCredential",
    "EnvironmentCredential",
    "DefaultAzureCredential",
    "to_dict",
    "from_dict",
    "reset_logging_cache",
    "model_fields",
]

__version__: str

class _AccessTokenLike(Protocol):
    """What azure-core's get_token returns: its AccessToken, or anything
    with the same two attributes."""

    @property
    def token(self) -> str: ...
    @property
    def expires_on(self) -> int: ...

class _TokenCredential(Protocol):
    """azure-core's TokenCredential: the credentials of this package and of
    azure-identity, or any object with this get_token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> _AccessTokenLike: ...

@disjoint_base
class _Credential:
    """What every credential class of this package has (azure-core's
    TokenCredential protocol): get_token, close and the context manager."""

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """A token for these scopes (e.g. "https://graph.microsoft.com/.default"),
        kept and renewed by the credential as a Client does; the GIL is
        released while it is requested."""
    def close(self) -> None:
        """Nothing to release; kept for code written for azure-identity."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

@final
class ClientSecretCredential(_Credential):
    """Tokens for an app registration with a client secret."""

    def __new__(
        cls, tenant_id: str, client_id: str, client_secret: str, *, authority: str | None = None
    ) -> Self: ...

@final
class CertificateCredential(_Credential):
    """Tokens for an app registration with a certificate: PEM (a file, or
    bytes) holding its RSA private key, without a password, and the
    certificate."""

    def __new__(
        cls,
        tenant_id: str,
        client_id: str,
        certificate_path: _StrPath | None = None,
        *,
        certificate_data: bytes | None = None,
        password: str | bytes | None = None,
        authority: str | None = None,
    ) -> Self: ...

@final
class WorkloadIdentityCredential(_Credential):
    """Tokens for an app trusting a federated token file (Kubernetes
    workload identity); what is not given is read from AZURE_TENANT_ID,
    AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST."""

    def __new__(
        cls,
        *,
        tenant_id: str | None = None,
        client_id: str | None = None,
        token_file_path: _StrPath | None = None,
        authority: str | None = None,
    ) -> Self: ...

@final
class ManagedIdentityCredential(_Credential):
    """Tokens for the Azure host's managed identity (system-assigned, or
    user-assigned by client_id)."""

    def __new__(cls, *, client_id: str | None = None) -> Self: ...

@final
class EnvironmentCredential(_Credential):
    """Tokens for the app the AZURE_* variables describe, read now."""

    def __new__(cls) -> Self: ...

@final
class DefaultAzureCredential(_Credential):
    """Environment, then workload identity, then managed identity: the
    first that works."""

    def __new__(cls) -> Self: ...

@final
class Client:
    """A Microsoft Graph client for creating usedInsights.

    Safe to share between threads; the GIL is released while a request is
    on the network. Use it as a context manager, or call close(), to drop
    its connection pool.

    The bearer token comes from token, token_provider (a callable called
    before every attempt) or credential: one of this package's credentials
    (ClientSecretCredential…) or any azure-core credential, whose tokens the
    client keeps and renews; exactly one of them.

    max_retries: how often a throttled (429) or unavailable (503, 504)
    answer is retried. retry_delay: the first wait before such a retry when
    Graph sends no Retry-After, in seconds (0 to 60), doubled for each
    further retry, with jitter; a Retry-After is always honoured instead.

    ca_file (a path or a sequence of paths) and ca_pem (PEM text) add roots
    to those trusted for HTTPS: Mozilla's, or the system's store with
    system_roots=True. proxy=None uses the environment's proxy as curl reads
    it, False never a proxy, a str that http(s) proxy.

    rate_limit: the limits the client keeps to, shared by its threads (see
    RateLimit); by default Graph's for usedInsight, None for none.
    """

    def __new__(
        cls,
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
    ) -> Self: ...
    def create(
        self,
        user_id: str,
        insight: UsedInsight | Mapping[str, Any],
        *,
        cancel: CancelToken | None = None,
    ) -> UsedInsight:
        """Create a usedInsight for a user (object id or user principal name)
        and return it as Graph stored it, with its new id.

        Ctrl+C (or another signal handler that raises) stops the call within
        0.2 s; that exception is raised with attribute ``used_insight_result``:
        the created UsedInsight if the answer came first, otherwise a
        Cancelled saying whether Graph may create it. Cancelling the
        ``cancel`` token (from any thread) raises Cancelled, whose
        ``request_may_have_been_processed`` says whether Graph may create it."""
    def create_many(
        self,
        items: Iterable[tuple[str, UsedInsight | Mapping[str, Any]]],
        *,
        concurrency: int = 1,
        progress: Callable[[int, int], object] | None = None,
        cancel: CancelToken | None = None,
    ) -> list[UsedInsight | UsedInsightError]:
        """Create many usedInsights, each a (user_id, insight) pair, in Graph
        JSON batches of up to 20 (no more items in flight than rate_limit
        allows); one result per input, in input order: the created
        UsedInsight, or the exception create() would have raised for it
        (returned, not raised).

        Ctrl+C (or another signal handler that raises) stops the call within
        a fraction of a second, sending no batch after it; that exception is
        raised with attribute ``used_insight_results``: one result per input,
        Cancelled for those without one (``request_may_have_been_processed``
        True for the abandoned batch in flight, False for inputs never sent)."""
    def close(self) -> None:
        """Drop the connection pool; later create() and create_many() calls
        raise RuntimeError."""
    @property
    def closed(self) -> bool:
        """Whether close() was called."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

@final
class CancelToken:
    """Stops the calls it is given to (``cancel=``) from any thread: an
    asyncio task being cancelled, a GUI's Cancel button, a shutdown handler.

    cancel() ends every wait of those calls within about 20 ms; nothing is
    sent after it. A request already sent is abandoned: create raises
    Cancelled, create_many returns Cancelled for the unfinished inputs, with
    request_may_have_been_processed saying whether Graph may still create
    it. A token stays cancelled; use a new one per operation.
    """

    def __new__(cls) -> Self: ...
    def cancel(self) -> None:
        """Cancel the calls using this token, now and later. Safe from any
        thread; never blocks."""
    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""

@final
class RateLimit:
    """The limits a Client keeps to: at most max_concurrent requests in
    flight and at most `requests` requests in any `per` seconds (a sliding
    window), shared by every thread using the client; each create_many batch
    item counts as one request. The default is Graph's published limit for
    usedInsight: 4 in flight, 10,000 per 600 s.

    Requests wait for a free slot (at most the client's timeout: a create
    that gets none raises RequestTimeout and was not sent), and a 429 — or
    any answer with Retry-After — pauses every request of the client until
    Graph's wait has passed. Pass Client(rate_limit=None) to turn both off.

    Raises ConfigurationError for a count below 1, a window that is not more
    than zero or is longer than a day.
    """

    def __new__(cls, max_concurrent: int = 4, requests: int = 10_000, per: float = 600.0) -> Self: ...
    @property
    def max_concurrent(self) -> int:
        """Requests in flight at once."""
    @property
    def requests(self) -> int:
        """Requests in any window of `per` seconds."""
    @property
    def per(self) -> float:
        """The window, in seconds."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def to_dict(model: object) -> dict[str, Any]:
    """A model as a dict in Graph's wire shape."""

def from_dict(cls: type[_M], data: Mapping[str, Any]) -> _M:
    """A model of class ``cls`` read from a dict in Graph's wire shape."""

def reset_logging_cache() -> None:
    """Forget the cached Python loggers and levels: call after changing the
    level of a ``used_insight`` logger at run time."""

def model_fields() -> list[tuple[str, list[tuple[str, str]]]]:
    """Core's field table: each model's class name and its fields as
    (attribute name, wire name), in wire order."""
