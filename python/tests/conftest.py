"""Fixtures: a real graph-emulator process for the whole session, reset
before every test, and fresh inputs.

The emulator binary is $GRAPH_EMULATOR, or target/debug/graph-emulator of
this workspace (scripts/test-python.sh builds it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest

import used_insight
from used_insight import (
    Client,
    ResourceReference,
    ResourceVisualization,
    UsageDetails,
    UsedInsight,
)

REPO = Path(__file__).resolve().parents[2]
TOKEN = "test-token"
ACCESSED = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)


def emulator_binary() -> Path:
    if "GRAPH_EMULATOR" in os.environ:
        return Path(os.environ["GRAPH_EMULATOR"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "graph-emulator"


class Emulator:
    """A running graph-emulator and its control protocol."""

    def __init__(self, process: subprocess.Popen[str], base_url: str) -> None:
        self.process = process
        self.base_url = base_url
        # Never through a proxy from the environment: this is loopback.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _control(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        with self._opener.open(request, timeout=10) as answer:
            return json.loads(answer.read())

    def fault(self, **fault: Any) -> None:
        """Queue one fault for the next matching request(s)."""
        self._control("POST", "/_emulator/faults", fault)

    def requests(self) -> list[dict[str, Any]]:
        """What the emulator received, in order (control requests excluded)."""
        return list(self._control("GET", "/_emulator/requests")["requests"])

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.requests()]

    def stored(self, user_id: str) -> list[dict[str, Any]]:
        """The insights stored for a user, in creation order, read back as
        from Graph (this GET is recorded: read requests() before)."""
        path = f"/v1.0/users/{urllib.parse.quote(user_id, safe='')}/insights/used"
        answer = self._control("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
        return list(answer["value"])

    def reset(self) -> None:
        self._control("POST", "/_emulator/reset", {})


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    binary = emulator_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `cargo build -p graph-emulator` first")
    process = subprocess.Popen(
        [str(binary), "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        pytest.fail(f"graph-emulator did not start: {line!r}")
    yield Emulator(process, line.removeprefix("listening on "))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0
    process.stdout.close()


@pytest.fixture
def emu(emulator: Emulator) -> Emulator:
    """The session's emulator with no faults, requests or insights."""
    emulator.reset()
    return emulator


@pytest.fixture
def client(emu: Emulator) -> Iterator[Client]:
    with Client(token=TOKEN, base_url=emu.base_url) as client:
        yield client


@pytest.fixture
def insight() -> UsedInsight:
    return UsedInsight(
        last_used=UsageDetails(last_accessed_date_time=ACCESSED),
        resource_visualization=ResourceVisualization(
            title="Quarterly report",
            type="Word",
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            container_display_name="Finance",
        ),
        resource_reference=ResourceReference(
            web_url="https://contoso.sharepoint.com/sites/finance/report.docx",
            id="drives/b!abc/items/01XYZ",
            type="microsoft.graph.driveItem",
        ),
    )


@pytest.fixture
def wire_insight() -> dict[str, Any]:
    """The same insight as a dict in Graph's camelCase wire shape."""
    return {
        "lastUsed": {"lastAccessedDateTime": "2026-11-28T10:00:00Z"},
        "resourceVisualization": {
            "title": "Quarterly report",
            "type": "Word",
            "mediaType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "containerDisplayName": "Finance",
        },
        "resourceReference": {
            "webUrl": "https://contoso.sharepoint.com/sites/finance/report.docx",
            "id": "drives/b!abc/items/01XYZ",
            "type": "microsoft.graph.driveItem",
        },
    }


def pytest_report_header() -> str:
    return f"used_insight {used_insight.__version__} from {Path(used_insight.__file__).parent}"
