"""Trust and proxies: the Client's network keywords, what core refuses for
them, what repr shows, and how a proxy failure is reported. Loopback only.
HTTPS end to end, against graph-emulator --tls, is test_tls.py; a real
proxy (tinyproxy) in the way is test_proxy.py."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from used_insight import (
    Client,
    ConfigurationError,
    TransportError,
    UsedInsight,
    UsedInsightError,
    used_insight_create,
    used_insight_create_many,
)

from conftest import REPO, TOKEN, Emulator

ROOTS = REPO / "core" / "tests" / "certs" / "two_roots.pem"
PASSWORD = "s3cret-proxy-password"
PROXY_VARIABLES = ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port: int = unused.getsockname()[1]
    return port


@pytest.fixture
def proxy_env_on_a_closed_port(monkeypatch: pytest.MonkeyPatch) -> str:
    """Every proxy variable pointing at a closed port, NO_PROXY unset."""
    proxy = f"http://user:{PASSWORD}@127.0.0.1:{closed_port()}"
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    return proxy


@pytest.mark.parametrize("as_path", [str, Path, lambda p: [ROOTS, p], lambda p: (str(p),)])
def test_an_unreadable_ca_file_is_a_configuration_error_naming_it(
    tmp_path: Path, as_path: Any
) -> None:
    missing = tmp_path / "corp-root.pem"
    with pytest.raises(ConfigurationError) as caught:
        Client(token=TOKEN, ca_file=as_path(missing))
    assert str(missing) in str(caught.value)
    assert "cannot read root certificates" in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_a_ca_file_without_a_certificate_is_a_configuration_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pem"
    empty.write_text("no certificates here\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="holds no certificate") as caught:
        Client(token=TOKEN, ca_file=empty)
    assert str(empty) in str(caught.value)


@pytest.mark.parametrize("pem", ["", "not PEM at all\n", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_ca_pem_without_a_certificate_is_a_configuration_error(pem: str) -> None:
    with pytest.raises(ConfigurationError, match="PEM text"):
        Client(token=TOKEN, ca_pem=pem)


def test_extra_roots_from_files_and_text_build_a_working_client(emu: Emulator, insight: UsedInsight) -> None:
    # Plain http to the emulator uses no certificate; this shows the roots
    # are read and accepted, and that the client still works.
    pem = ROOTS.read_text(encoding="utf-8")
    files: list[str | Path | Sequence[str | Path]] = [ROOTS, str(ROOTS), [ROOTS, str(ROOTS)], (ROOTS,), []]
    for ca_file in files:
        with Client(token=TOKEN, base_url=emu.base_url, ca_file=ca_file, ca_pem=pem) as client:
            assert client.create("alice@contoso.com", insight).id


def test_a_socks_proxy_is_refused_without_showing_its_password() -> None:
    with pytest.raises(ConfigurationError, match="SOCKS") as caught:
        Client(token=TOKEN, proxy=f"socks5://user:{PASSWORD}@proxy.corp:1080")
    assert PASSWORD not in str(caught.value)
    assert "proxy.corp:1080" in str(caught.value)


def test_repr_shows_network_settings_only_when_set_and_never_proxy_credentials(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = f"Client(base_url='{emu.base_url}', api_version='v1.0', credential='token', timeout=60.0, max_retries=3"
    assert repr(Client(token=TOKEN, base_url=emu.base_url)) == start + ")"
    assert repr(Client(token=TOKEN, base_url=emu.base_url, system_roots=False, proxy=None)) == start + ")"

    with_proxy = Client(token=TOKEN, base_url=emu.base_url, proxy=f"http://user:{PASSWORD}@proxy.corp:3128/")
    assert repr(with_proxy) == start + ", proxy='http://proxy.corp:3128')"
    assert PASSWORD not in repr(with_proxy) and "user" not in repr(with_proxy)
    assert repr(Client(token=TOKEN, base_url=emu.base_url, proxy=False)) == start + ", proxy=False)"

    # The system store, made deterministic: SSL_CERT_FILE names it.
    monkeypatch.setenv("SSL_CERT_FILE", str(ROOTS))
    trusting = Client(
        token=TOKEN,
        base_url=emu.base_url,
        ca_file=[ROOTS, ROOTS],
        ca_pem=ROOTS.read_text(encoding="utf-8"),
        system_roots=True,
    )
    assert repr(trusting) == start + ", system_roots=True, extra_root_sources=3)"
    trusting.close()
    assert repr(trusting).endswith("extra_root_sources=3, closed=True)")


def test_an_unreachable_explicit_proxy_is_a_connect_error_naming_it(emu: Emulator, insight: UsedInsight) -> None:
    port = closed_port()
    proxy = f"http://user:{PASSWORD}@127.0.0.1:{port}"
    with Client(token=TOKEN, base_url=emu.base_url, proxy=proxy) as client:
        with pytest.raises(TransportError) as caught:
            client.create("alice@contoso.com", insight)
    error = caught.value
    assert error.kind == "connect"
    assert error.request_may_have_been_processed is False
    assert f"127.0.0.1:{port}" in str(error)
    assert "proxy" in str(error)
    assert PASSWORD not in str(error)
    assert error.client_request_id
    assert emu.requests() == []


def test_an_unreachable_proxy_fails_every_item_of_create_many_unsent(
    emu: Emulator, insight: UsedInsight
) -> None:
    proxy = f"http://user:{PASSWORD}@127.0.0.1:{closed_port()}"
    results = used_insight_create_many(
        [("alice@contoso.com", insight), ("bob@contoso.com", insight)],
        token=TOKEN,
        base_url=emu.base_url,
        proxy=proxy,
    )
    for result in results:
        assert isinstance(result, TransportError), result
        assert (result.kind, result.request_may_have_been_processed) == ("connect", False)
        assert PASSWORD not in str(result)
    assert emu.requests() == []


def test_proxy_false_ignores_the_environment(
    emu: Emulator, insight: UsedInsight, proxy_env_on_a_closed_port: str
) -> None:
    assert os.environ["HTTPS_PROXY"] == proxy_env_on_a_closed_port
    with Client(token=TOKEN, base_url=emu.base_url, proxy=False) as client:
        assert client.create("alice@contoso.com", insight).id
    created = used_insight_create("bob@contoso.com", insight, token=TOKEN, base_url=emu.base_url, proxy=False)
    assert created.id
    assert len(emu.requests()) == 2


def test_loopback_never_goes_through_the_environment_s_proxy(
    emu: Emulator, insight: UsedInsight, proxy_env_on_a_closed_port: str
) -> None:
    # The default (proxy=None) reads the environment as curl does, except
    # for loopback hosts such as the emulator.
    with Client(token=TOKEN, base_url=emu.base_url) as client:
        assert repr(client).endswith("max_retries=3)")
        assert client.create("alice@contoso.com", insight).id


def test_the_one_shot_functions_pass_the_network_keywords_on(
    emu: Emulator, insight: UsedInsight, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError, match="SOCKS"):
        used_insight_create("alice@contoso.com", insight, token=TOKEN, proxy="socks5://proxy.corp:1080")
    with pytest.raises(ConfigurationError, match="corp-root.pem"):
        used_insight_create_many([], token=TOKEN, ca_file=tmp_path / "corp-root.pem")
    with pytest.raises(ConfigurationError, match="PEM text"):
        used_insight_create("alice@contoso.com", insight, token=TOKEN, ca_pem="")
    results = used_insight_create_many(
        [("alice@contoso.com", insight)],
        token=TOKEN,
        base_url=emu.base_url,
        ca_file=[ROOTS],
        system_roots=False,
        proxy=False,
    )
    assert [type(r) for r in results] == [UsedInsight]


def test_wrong_types_are_type_errors() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ca_file": 42}, "ca_file must be a path"),
        ({"ca_file": [ROOTS, 42]}, "not int"),
        ({"ca_file": b"/etc/ssl/cert.pem"}, "not bytes"),
        ({"proxy": True}, "not True"),
        ({"proxy": 3128}, "not int"),
        ({"ca_pem": b"-----BEGIN CERTIFICATE-----"}, "ca_pem"),
        ({"system_roots": "yes"}, "system_roots"),
    ]
    for settings, words in cases:
        with pytest.raises(TypeError, match=words):
            Client(token=TOKEN, **settings)
        with pytest.raises(TypeError):
            used_insight_create_many([], token=TOKEN, **settings)
    with pytest.raises(TypeError):
        Client(TOKEN, None, None)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Client(token=TOKEN, proxy=True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Client(token=TOKEN, ca_file=42)  # type: ignore[arg-type]


def test_errors_of_a_proxy_are_used_insight_errors() -> None:
    error = TransportError("the proxy refused", kind="proxy")
    assert isinstance(error, UsedInsightError) and isinstance(error, ConnectionError)
    assert (error.kind, error.request_may_have_been_processed) == ("proxy", False)
