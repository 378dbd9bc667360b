"""The one-shot functions."""

from __future__ import annotations

from ._native import Client, RateLimit

TYPE_CHECKING = False
if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any, Literal

    from ._errors import UsedInsightError
    from ._models import UsedInsight
    from ._native import _TokenCredential

__all__ = ["used_insight_create", "used_insight_create_many"]


def used_insight_create(
    user_id: str,
    insight: UsedInsight | Mapping[str, Any],
    *,
    token: str | None = None,
    token_provider: Callable[[], str] | None = None,
    credential: _TokenCredential | None = None,
    base_url: str | None = None,
    cloud: str = "global",
    api_version: str = "v1.0",
    timeout: float = 60.0,
    max_retries: int = 3,
    retry_delay: float = 1.0,
    user_agent: str | None = None,
    ca_file: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    ca_pem: str | None = None,
    system_roots: bool = False,
    proxy: str | Literal[False] | None = None,
    rate_limit: RateLimit | None = RateLimit(),
) -> UsedInsight:
    """Create one usedInsight with a client made for this call alone.

    Takes the arguments of ``Client`` and ``Client.create``. A program that
    creates more than one should keep a ``Client``: it reuses connections.
    """
    with Client(
        token,
        token_provider=token_provider,
        credential=credential,
        base_url=base_url,
        cloud=cloud,
        api_version=api_version,
        timeout=timeout,
        max_retries=max_retries,
        retry_delay=retry_delay,
        user_agent=user_agent,
        ca_file=ca_file,
        ca_pem=ca_pem,
        system_roots=system_roots,
        proxy=proxy,
        rate_limit=rate_limit,
    ) as client:
        return client.create(user_id, insight)


def used_insight_create_many(
    items: Iterable[tuple[str, UsedInsight | Mapping[str, Any]]],
    *,
    concurrency: int = 1,
    progress: Callable[[int, int], object] | None = None,
    token: str | None = None,
    token_provider: Callable[[], str] | None = None,
    credential: _TokenCredential | None = None,
    base_url: str | None = None,
    cloud: str = "global",
    api_version: str = "v1.0",
    timeout: float = 60.0,
    max_retries: int = 3,
    retry_delay: float = 1.0,
    user_agent: str | None = None,
    ca_file: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
    ca_pem: str | None = None,
    system_roots: bool = False,
    proxy: str | Literal[False] | None = None,
    rate_limit: RateLimit | None = RateLimit(),
) -> list[UsedInsight | UsedInsightError]:
    """Create many usedInsights with a client made for this call alone.

    Takes the arguments of ``Client`` and ``Client.create_many``, and
    returns what ``Client.create_many`` returns: one result per input, in
    input order, each the created ``UsedInsight`` or the exception for that
    input.
    """
    with Client(
        token,
        token_provider=token_provider,
        credential=credential,
        base_url=base_url,
        cloud=cloud,
        api_version=api_version,
        timeout=timeout,
        max_retries=max_retries,
        retry_delay=retry_delay,
        user_agent=user_agent,
        ca_file=ca_file,
        ca_pem=ca_pem,
        system_roots=system_roots,
        proxy=proxy,
        rate_limit=rate_limit,
    ) as client:
        return client.create_many(items, concurrency=concurrency, progress=progress)
