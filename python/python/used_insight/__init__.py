"""used-insight: Microsoft Graph's *Create used* (``POST
/users/{usersId}/insights/used``) for Python, on a Rust core.

    from datetime import datetime, timezone
    from used_insight import Client, UsedInsight, UsageDetails, \\
        ResourceVisualization, ResourceReference

    with Client(token="eyJ0eXAi...") as client:
        created = client.create(
            "alice@contoso.com",
            UsedInsight(
                last_used=UsageDetails(last_accessed_date_time=datetime.now(timezone.utc)),
                resource_visualization=ResourceVisualization(title="Q3 report", type="Word"),
                resource_reference=ResourceReference(
                    web_url="https://contoso.sharepoint.com/sites/finance/q3.docx"
                ),
            ),
        )
    print(created.id)

``AsyncClient`` takes the same arguments for asyncio code: ``await
client.create(...)``, ``await client.create_many(...)``.

``client.create_many(items, concurrency=1, progress=None)`` creates many
``(user_id, insight)`` pairs in Graph JSON batches and returns one result per
input, in order: the created ``UsedInsight`` or the exception for that input.

A client keeps to Graph's limits for usedInsight (4 requests in flight,
10,000 per 10 minutes), shared by its threads: ``Client(...,
rate_limit=RateLimit(max_concurrent=2, requests=5_000, per=600.0))`` to
change them, ``rate_limit=None`` to turn the limiter off.
Instead of a token, ``Client(credential=...)`` takes a credential that gets
tokens from Microsoft Entra ID — ``ClientSecretCredential``,
``CertificateCredential``, ``WorkloadIdentityCredential``,
``ManagedIdentityCredential``, ``EnvironmentCredential``,
``DefaultAzureCredential`` (azure-identity's names and arguments) — or any
azure-core credential, such as azure-identity's own.

Log records go to the ``logging`` logger ``used_insight`` (and its children).
"""

from ._api import used_insight_create, used_insight_create_many
from ._async import AsyncClient
from ._credentials import AccessToken
from ._errors import (
    Cancelled,
    ConfigurationError,
    GraphApiError,
    InvalidResponseError,
    RequestTimeout,
    TokenProviderError,
    TransportError,
    UsedInsightError,
    ValidationError,
)
from ._models import ResourceReference, ResourceVisualization, UsageDetails, UsedInsight
from ._native import (
    CancelToken,
    CertificateCredential,
    Client,
    ClientSecretCredential,
    DefaultAzureCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    RateLimit,
    WorkloadIdentityCredential,
    __version__,
    reset_logging_cache,
)

__all__ = [
    "Client",
    "RateLimit",
    "CancelToken",
    "AsyncClient",
    "used_insight_create",
    "used_insight_create_many",
    "UsedInsight",
    "UsageDetails",
    "ResourceVisualization",
    "ResourceReference",
    "UsedInsightError",
    "ValidationError",
    "ConfigurationError",
    "GraphApiError",
    "TransportError",
    "RequestTimeout",
    "InvalidResponseError",
    "TokenProviderError",
    "ClientSecretCredential",
    "CertificateCredential",
    "WorkloadIdentityCredential",
    "ManagedIdentityCredential",
    "EnvironmentCredential",
    "DefaultAzureCredential",
    "AccessToken",
    "Cancelled",
    "reset_logging_cache",
    "__version__",
]
