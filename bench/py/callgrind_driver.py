"""One case of bench/callgrind.sh: a warm-up, then N operations, nothing else.

    callgrind_driver.py CASE N [--base URL]

bench/callgrind.sh runs it under `valgrind --tool=callgrind` with N = 1000
and N = 3000 and divides the difference of the whole-process instruction
counts by 2000: start-up, imports, the client, its connection and the
warm-up cost the same in both runs and cancel out.

Cases (the insight is the same in all of them; the driver checks that the
dict reads back as the model):

    create-dict   client.create(USER, WIRE), WIRE a wire-shape dict
    create-model  client.create(USER, MODEL), MODEL built from the classes
    from-dict     UsedInsight.from_dict(WIRE), no network
    to-dict       MODEL.to_dict(), no network
    create-many   client.create_many([(USER, WIRE)] * N, concurrency=1)

The create cases need --base, the graph-emulator's URL (token "t").
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from used_insight import (
    Client,
    ResourceReference,
    ResourceVisualization,
    UsageDetails,
    UsedInsight,
    UsedInsightError,
)

TOKEN = "t"
USER = "alice@contoso.com"
WARMUP = 100
ACCESSED = datetime(2026, 11, 28, 10, 0, 0, tzinfo=timezone.utc)

# What a caller typically passes: Graph's camelCase shape, the date-time as
# text, and one property the models do not know.
WIRE: dict[str, Any] = {
    "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
    "resourceVisualization": {
        "title": "Quarterly report",
        "type": "Word",
        "mediaType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "previewImageUrl": "https://contoso.sharepoint.com/preview.png",
        "previewText": "Q1 numbers",
        "containerWebUrl": "https://contoso.sharepoint.com/sites/finance",
        "containerDisplayName": "Finance",
        "containerType": "Site",
    },
    "resourceReference": {
        "webUrl": "https://contoso.sharepoint.com/sites/finance/report.docx",
        "id": "drives/b!abc/items/01XYZ",
        "type": "microsoft.graph.driveItem",
    },
    "contosoTag": "quarterly",
}

MODEL = UsedInsight(
    last_used=UsageDetails(last_accessed_date_time=ACCESSED),
    resource_visualization=ResourceVisualization(
        title="Quarterly report",
        type="Word",
        media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        preview_image_url="https://contoso.sharepoint.com/preview.png",
        preview_text="Q1 numbers",
        container_web_url="https://contoso.sharepoint.com/sites/finance",
        container_display_name="Finance",
        container_type="Site",
    ),
    resource_reference=ResourceReference(
        web_url="https://contoso.sharepoint.com/sites/finance/report.docx",
        id="drives/b!abc/items/01XYZ",
        type="microsoft.graph.driveItem",
    ),
    additional_data={"contosoTag": "quarterly"},
)


def create_loop(client: Client, insight: UsedInsight | dict[str, Any]) -> Callable[[int], None]:
    def run(n: int) -> None:
        for _ in range(n):
            client.create(USER, insight)

    return run


def create_many(client: Client) -> Callable[[int], None]:
    def run(n: int) -> None:
        results = client.create_many([(USER, WIRE)] * n, concurrency=1)
        failed = [r for r in results if isinstance(r, UsedInsightError)]
        if failed or len(results) != n:
            raise RuntimeError(f"create_many: {len(failed)} of {n} failed: {failed[:1]}")

    return run


def from_dict(n: int) -> None:
    for _ in range(n):
        UsedInsight.from_dict(WIRE)


def to_dict(n: int) -> None:
    for _ in range(n):
        MODEL.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "case", choices=["create-dict", "create-model", "from-dict", "to-dict", "create-many"]
    )
    parser.add_argument("n", type=int)
    parser.add_argument("--base", help="graph-emulator URL, for the create cases")
    args = parser.parse_args()

    if UsedInsight.from_dict(WIRE) != MODEL:
        raise SystemExit(f"WIRE and MODEL differ: {UsedInsight.from_dict(WIRE)!r}")
    run: Callable[[int], None]
    if args.case in ("from-dict", "to-dict"):
        run = from_dict if args.case == "from-dict" else to_dict
    else:
        if not args.base:
            parser.error(f"{args.case} needs --base")
        client = Client(token=TOKEN, base_url=args.base, rate_limit=None)
        if args.case == "create-many":
            run = create_many(client)
        else:
            run = create_loop(client, WIRE if args.case == "create-dict" else MODEL)
    run(WARMUP)
    run(args.n)


if __name__ == "__main__":
    main()
