"""A small program using used_insight the way a user would; scripts/test-python.sh
runs `mypy --strict` on it (against the installed wheel) to prove the
package's types are complete and usable."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

import used_insight
from used_insight import (
    Client,
    ConfigurationError,
    GraphApiError,
    InvalidResponseError,
    RequestTimeout,
    ResourceReference,
    ResourceVisualization,
    TokenProviderError,
    TransportError,
    UsageDetails,
    UsedInsight,
    UsedInsightError,
    ValidationError,
    used_insight_create,
    used_insight_create_many,
)

log = logging.getLogger("user_script")


def token() -> str:
    return os.environ.get("GRAPH_TOKEN", "token")


def document(title: str, url: str) -> UsedInsight:
    return UsedInsight(
        last_used=UsageDetails(last_accessed_date_time=datetime.now(timezone.utc)),
        resource_visualization=ResourceVisualization(title=title, type="Word"),
        resource_reference=ResourceReference(web_url=url),
    )


def record(client: Client, user: str, insight: UsedInsight | dict[str, Any]) -> str | None:
    try:
        created: UsedInsight = client.create(user, insight)
    except ValidationError as invalid:
        problems: list[tuple[str, str]] = invalid.problems
        for path, reason in problems:
            log.error("%s: %s", path, reason)
        return None
    except GraphApiError as error:
        wait: float | None = error.retry_after
        status: int = error.status
        log.error("HTTP %d %s (retry after %s s) %s", status, error.code, wait, error.request_id)
        return None
    except (TransportError, RequestTimeout) as lost:
        if lost.request_may_have_been_processed:
            log.warning("may exist already: %s", lost.client_request_id)
        return None
    except (InvalidResponseError, TokenProviderError, ConfigurationError) as other:
        log.error("%s", other)
        return None
    except UsedInsightError:
        raise
    last_used = created.last_used
    if last_used is not None and last_used.last_accessed_date_time is not None:
        log.info("accessed at %s", last_used.last_accessed_date_time.isoformat())
    wire: dict[str, Any] = created.to_dict()
    assert UsedInsight.from_dict(wire) == created
    details: UsageDetails = UsageDetails.from_dict({"lastAccessedDateTime": "2026-11-28T10:00:00Z"})
    log.debug("%r", details)
    return created.id


def report(client: Client) -> None:
    items: list[tuple[str, UsedInsight | dict[str, Any]]] = [
        ("alice@contoso.com", document("Plan", "https://contoso.com/plan.docx")),
        ("bob@contoso.com", document("Notes", "https://contoso.com/notes.docx").to_dict()),
        ("carol@contoso.com", {"lastUsed": {}}),
    ]
    done_so_far: list[int] = []

    def progress(done: int, total: int) -> None:
        done_so_far.append(done * 100 // total)

    results: list[UsedInsight | UsedInsightError] = client.create_many(
        items, concurrency=2, progress=progress
    )
    created = 0
    for (user, _), result in zip(items, results):
        if isinstance(result, UsedInsight):
            created += result.id is not None
        elif isinstance(result, ValidationError):
            log.error("%s: %s", user, result.problems)
        elif result.request_may_have_been_processed:
            log.warning("%s may exist already: %s", user, result.client_request_id)
    print(f"created {created} of {len(results)}")
    again: list[UsedInsight | UsedInsightError] = used_insight_create_many(
        [], token=token(), progress=lambda done, total: None
    )
    assert again == [] and done_so_far[-1] == 100


def main() -> None:
    base_url = os.environ.get("GRAPH_BASE_URL")
    with Client(token_provider=token, base_url=base_url, timeout=10.0, max_retries=2) as client:
        docs = [document(f"Report {n}", f"https://contoso.com/r{n}.docx") for n in range(4)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            ids = list(pool.map(lambda d: record(client, "alice@contoso.com", d), docs))
        print(ids, client.closed)
        report(client)
    one = used_insight_create(
        "bob@contoso.com",
        {"lastUsed": {}, "resourceVisualization": {}, "resourceReference": {}},
        token=token(),
        base_url=base_url,
        cloud="global",
        api_version="beta",
    )
    print(one.id, used_insight.__version__)
    used_insight.reset_logging_cache()


if __name__ == "__main__":
    main()
