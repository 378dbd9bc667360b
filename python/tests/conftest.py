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
- ``tinyproxy``: starts real CONNECT proxies (tinyproxy, from the
  distribution's packages; scripts/test-python.sh installs it, and a test
  using it fails, saying so, when it is missing) on free loopback ports,
  each with its config and log in a temporary directory; all stopped after
  the test.
- ``entra`` (reset before the test; ``entra_emulator`` for the session):
  an emulator also playing Microsoft Entra ID and the managed identity
  endpoints, with the test apps of ``entra_options`` registered and Graph
  accepting only tokens it issued.
- ``graph_emu``: an HTTPS emulator of its own whose certificate also names
  Graph's own host and ``::ffff:127.0.0.1``; ``tunnel_proxy``: starts
  graph-emulator's ``tunnel-proxy`` (next to the emulator binary), which
  leads every CONNECT, whatever its host, to one emulator, and prints a line
  per request (read back with ``requests()``/``connects()``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

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
        """Clear faults, requests, stored insights, and lift any limits."""
        self._control("POST", "/_emulator/reset", {})
        self._control("POST", "/_emulator/limits", {})

    def limits(self, **limits: Any) -> None:
        """Enforce Graph's limits (``max_concurrent``, ``requests`` per
        ``per_ms``, ``latency_ms``); ``reset`` lifts them."""
        self._control("POST", "/_emulator/limits", limits)

    def chaos_report(self) -> dict[str, Any]:
        """The chaos in force (``--chaos*``), its ``seed``, and ``errors``
        (by status), ``lost``, ``slow``, ``passed`` since it was set."""
        report: dict[str, Any] = self._control("GET", "/_emulator/chaos")
        return report

    def limits_report(self) -> dict[str, Any]:
        """The limits in force, and ``admitted``, ``throttled``,
        ``peak_in_flight`` since they were set."""
        report: dict[str, Any] = self._control("GET", "/_emulator/limits")
        return report


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


class Tinyproxy:
    """A tinyproxy in the foreground (``tinyproxy -d -c CONFIG``) on a free
    loopback port, its config, output and log in ``directory``."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, directory: Path) -> None:
        self.process = process
        self.port = port
        self.directory = directory

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, as errors and repr name it."""
        return f"http://127.0.0.1:{self.port}"

    def url_with(self, user: str, password: str) -> str:
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return (self.directory / "tinyproxy.log").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def output(self) -> str:
        try:
            return (self.directory / "tinyproxy.out").read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def tunnels(self) -> list[str]:
        """The targets of the CONNECT requests the proxy received, in order
        (``Request (file descriptor 5): CONNECT 127.0.0.1:8080 HTTP/1.1``)."""
        return [
            line.split("): CONNECT ", 1)[1].split(" ", 1)[0]
            for line in self.log().splitlines()
            if "): CONNECT " in line
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def free_port() -> int:
    """A loopback port nothing listens on now (bound, then released)."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port: int = unused.getsockname()[1]
    return port


def try_start_tinyproxy(directory: Path, only_port_443: bool, extra: str) -> Tinyproxy | str:
    """One attempt: the proxy once it accepts connections, or why not."""
    port = free_port()
    log = directory / "tinyproxy.log"
    # No User/Group: tinyproxy 1.11 then stays the user it was started as
    # (root included, with a warning in its log). No PidFile: nothing is
    # written outside the temporary directory.
    config = (
        "Listen 127.0.0.1\n"
        f"Port {port}\n"
        "Allow 127.0.0.1\n"
        f'LogFile "{log}"\n'
        "LogLevel Info\n"
        "MaxClients 64\n"
        "Timeout 30\n"
    )
    if only_port_443:
        config += "ConnectPort 443\n"
    config += extra
    config_path = directory / "tinyproxy.conf"
    config_path.write_text(config, encoding="utf-8")
    with open(directory / "tinyproxy.out", "wb") as out:
        process = subprocess.Popen(
            ["tinyproxy", "-d", "-c", str(config_path)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    proxy = Tinyproxy(process, port, directory)
    deadline = time.monotonic() + 10
    while True:
        status = process.poll()
        if status is not None:
            proxy.stop()
            return f"tinyproxy exited ({status}) on port {port}:\n{proxy.output()}\n{proxy.log()}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proxy
        except OSError:
            pass
        if time.monotonic() > deadline:
            proxy.stop()
            return f"tinyproxy does not accept connections on port {port}:\n{proxy.output()}\n{proxy.log()}"
        time.sleep(0.02)


@pytest.fixture
def tinyproxy() -> Iterator[Callable[..., Tinyproxy]]:
    """``tinyproxy(only_port_443=False, extra="")`` starts a proxy for this
    test: tunnels to every port, or (``only_port_443``, tinyproxy's
    ``ConnectPort 443``) refuses a CONNECT to any other port with 403;
    ``extra`` is appended to its config (e.g. ``BasicAuth user password``)."""
    if shutil.which("tinyproxy") is None:
        pytest.fail(
            "tinyproxy is not installed, and the proxy tests need it: run "
            "scripts/test-python.sh (it installs tinyproxy), or install the "
            "`tinyproxy` package (apt-get install tinyproxy)",
            pytrace=False,
        )
    started: list[Tinyproxy] = []
    directories: list[tempfile.TemporaryDirectory[str]] = []

    def start(only_port_443: bool = False, extra: str = "") -> Tinyproxy:
        # The free port may be taken between its release and tinyproxy's
        # bind: a failed start is tried again, in a fresh directory.
        failure = ""
        for _ in range(5):
            directory = tempfile.TemporaryDirectory(prefix="tinyproxy-")
            directories.append(directory)
            attempt = try_start_tinyproxy(Path(directory.name), only_port_443, extra)
            if isinstance(attempt, Tinyproxy):
                started.append(attempt)
                return attempt
            failure = attempt
        pytest.fail(f"tinyproxy did not start: {failure}")

    try:
        yield start
    finally:
        for proxy in started:
            proxy.stop()
        for directory in directories:
            directory.cleanup()


@pytest.fixture
def graph_emu() -> Iterator[Emulator]:
    """HTTPS with a certificate from the CA for 127.0.0.1 (its controls),
    graph.microsoft.com and ::ffff:127.0.0.1, the hosts the tunnel proxy
    brings clients to it for."""
    emulator = start_emulator("--tls-names", "127.0.0.1,graph.microsoft.com,::ffff:127.0.0.1")
    yield emulator
    emulator.stop()


class TunnelProxy:
    """A running ``tunnel-proxy --to EMULATOR``; its stdout goes to
    ``output``: the announcement, then one line per request, written before
    the request is answered (``CONNECT graph.microsoft.com:443 user=-
    status=200``)."""

    def __init__(self, process: subprocess.Popen[bytes], output: Path, url: str, ca_path: Path | None) -> None:
        self.process = process
        self.output = output
        self.url = url
        self.ca_path = ca_path

    def url_with(self, user: str, password: str) -> str:
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://{user}:{password}@{rest}"

    def requests(self) -> list[str]:
        """Every request line so far, in order."""
        lines = self.output.read_text(encoding="utf-8").splitlines()
        return [line for line in lines if not line.startswith(("listening on ", "ca "))]

    def connects(self) -> list[str]:
        """The targets of the CONNECT requests so far, whatever was answered."""
        return [line.split(" ")[1] for line in self.requests() if line.startswith("CONNECT ")]

    def stop(self) -> None:
        """SIGTERM, then expect a clean exit (status 0)."""
        try:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=10) == 0
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def tunnel_proxy() -> Iterator[Callable[..., TunnelProxy]]:
    """``tunnel_proxy(emulator, *options)`` starts a tunnel proxy to that
    emulator for this test (options: ``--tls``, ``--basic USER:PASSWORD``);
    all stopped after it."""
    binary = emulator_binary().with_name("tunnel-proxy")
    if not binary.exists():
        pytest.fail(f"{binary} is missing: run `cargo build -p graph-emulator` first")
    started: list[TunnelProxy] = []
    directory = tempfile.TemporaryDirectory(prefix="tunnel-proxy-")

    def start(emulator: Emulator, *options: str) -> TunnelProxy:
        output = Path(directory.name) / f"proxy-{len(started)}.out"
        with open(output, "wb") as out:
            process = subprocess.Popen(
                [str(binary), "--to", emulator.base_url, *options],
                stdin=subprocess.DEVNULL,
                stdout=out,
            )
        tls = "--tls" in options
        deadline = time.monotonic() + 10
        while True:
            lines = output.read_text(encoding="utf-8").splitlines()
            if len(lines) >= (2 if tls else 1) or process.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        url = lines[0].removeprefix("listening on ") if lines else ""
        ca = Path(lines[1].removeprefix("ca ")) if tls and len(lines) > 1 else None
        if not url.startswith("https://" if tls else "http://") or (tls and ca is None):
            process.kill()
            process.wait()
            pytest.fail(f"tunnel-proxy {' '.join(options)} did not start: {lines!r}")
        proxy = TunnelProxy(process, output, url, ca)
        started.append(proxy)
        return proxy

    try:
        yield start
    finally:
        for proxy in started:
            proxy.stop()
        directory.cleanup()


# The Entra ID test apps of core/tests/common/entra.rs (test-only values).
TENANT = "aaaaaaaa-0000-4000-8000-000000000001"
SECRET_CLIENT = "cccccccc-0000-4000-8000-000000000001"
CERT_CLIENT = "cccccccc-0000-4000-8000-000000000002"
FEDERATED_CLIENT = "cccccccc-0000-4000-8000-000000000003"
SECRET = "test-only-secret~value"
FEDERATED = "eyJhbGciOiJSUzI1NiJ9.test-only-federated-token.sig"
IDENTITY_HEADER = "test-only-identity-header"
USER_ASSIGNED = "77777777-0000-0000-0000-000000000001"
CERTS = REPO / "core" / "tests" / "certs"
APP_PEM = CERTS / "entra-test-app.pem"


def entra_options(*extra: str) -> list[str]:
    """graph-emulator options playing Entra ID with the test apps (one with
    a secret, one with the test certificate, one trusting a federated token)
    and a managed identity, its Graph accepting only unexpired tokens it
    issued (besides the test token, which the control reads need)."""
    return [
        "--entra-app", f"{TENANT}:{SECRET_CLIENT}:{SECRET}",
        "--entra-app-cert", f"{TENANT}:{CERT_CLIENT}:{APP_PEM}",
        "--entra-app-federated", f"{TENANT}:{FEDERATED_CLIENT}:{FEDERATED}",
        "--managed-identity", f"{IDENTITY_HEADER}:{USER_ASSIGNED}",
        "--require-issued-tokens",
        *extra,
    ]


@pytest.fixture(scope="session")
def entra_emulator() -> Iterator[Emulator]:
    emulator = start_emulator(*entra_options())
    yield emulator
    emulator.stop()


@pytest.fixture
def entra(entra_emulator: Emulator) -> Emulator:
    """The session's Entra ID emulator (``entra_options``), reset: its
    start-up apps, no tokens issued, no requests, faults or insights."""
    entra_emulator.reset()
    return entra_emulator


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
