"""Fixtures: a real graph-emulator process for the whole session, reset
before every test, and fresh inputs.

The emulator binary is $GRAPH_EMULATOR, or target/debug/graph-emulator of
this workspace (scripts/test-python.sh builds it).

- ``emulator`` (session) / ``emu`` (reset before the test): plain http.
- ``https_emu``, ``wrong_name_emu``, ``expired_emu``: a graph-emulator of
  its own for one test, serving HTTPS (``--tls``; ``--tls-names
  wrong.example``; ``--tls-expired``) with a throwaway CA whose PEM file is
  ``ca_path`` (read from the second stdout line, ``ca PATH``); stopped
  (SIGTERM, which removes the CA file) after the test. Their control
  requests trust that CA alone; for the two bad certificates they skip the
  host name check, and for the expired one all verification (loopback to
  a child process of ours, bad on purpose).
"""

from __future__ import annotations

import json
import os
import signal
import ssl
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

    def __init__(self, process: subprocess.Popen[str], base_url: str, ca_path: Path | None = None) -> None:
        self.process = process
        self.base_url = base_url
        # With --tls: the throwaway CA's PEM file, and the context the
        # control requests use (trusting that CA alone; loosen it for
        # certificates bad on purpose).
        self.ca_path = ca_path
        self.control_tls: ssl.SSLContext | None = None
        # Never through a proxy from the environment: this is loopback.
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if ca_path is not None:
            self.control_tls = ssl.create_default_context(cafile=str(ca_path))
            handlers.append(urllib.request.HTTPSHandler(context=self.control_tls))
        self._opener = urllib.request.build_opener(*handlers)

    @property
    def ca_pem(self) -> str:
        """The throwaway CA certificate as PEM text (--tls only)."""
        assert self.ca_path is not None, "not an HTTPS emulator"
        return self.ca_path.read_text(encoding="ascii")

    def stop(self) -> None:
        """SIGTERM, then expect a clean exit (status 0)."""
        assert self.process.stdout is not None
        try:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=10) == 0
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()

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


def start_emulator(*options: str) -> Emulator:
    """Start graph-emulator on a free loopback port with the test token and
    these extra options; read its URL (and, with TLS, its CA file)."""
    binary = emulator_binary()
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `cargo build -p graph-emulator` first")
    process = subprocess.Popen(
        [str(binary), "--port", "0", "--token", TOKEN, *options],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    base_url = line.removeprefix("listening on ")
    ca_path = None
    if base_url.startswith("https://"):
        ca_line = process.stdout.readline().strip()
        ca_path = Path(ca_line.removeprefix("ca ")) if ca_line.startswith("ca ") else None
        line += f" / {ca_line!r}"
    if not line.startswith("listening on ") or (base_url.startswith("https://") and ca_path is None):
        process.kill()
        process.wait()
        process.stdout.close()
        pytest.fail(f"graph-emulator {' '.join(options)} did not start: {line!r}")
    return Emulator(process, base_url, ca_path)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    emulator = start_emulator()
    yield emulator
    emulator.stop()


@pytest.fixture
def https_emu() -> Iterator[Emulator]:
    """An emulator of this test's own serving HTTPS with a valid certificate
    for 127.0.0.1 from its throwaway CA (``ca_path``, ``ca_pem``)."""
    emulator = start_emulator("--tls")
    assert emulator.ca_path is not None and emulator.ca_path.is_file()
    yield emulator
    emulator.stop()
    assert not emulator.ca_path.exists(), "SIGTERM removes the temporary CA file"


@pytest.fixture
def wrong_name_emu() -> Iterator[Emulator]:
    """HTTPS with a certificate from the CA for wrong.example only."""
    emulator = start_emulator("--tls-names", "wrong.example")
    assert emulator.control_tls is not None
    emulator.control_tls.check_hostname = False  # the chain is still checked
    yield emulator
    emulator.stop()


@pytest.fixture
def expired_emu() -> Iterator[Emulator]:
    """HTTPS with a certificate from the CA that expired yesterday."""
    emulator = start_emulator("--tls-expired")
    assert emulator.control_tls is not None
    emulator.control_tls.check_hostname = False
    emulator.control_tls.verify_mode = ssl.CERT_NONE  # ssl cannot skip only the dates
    yield emulator
    emulator.stop()


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
