"""Creates over real TLS, against graph-emulator's HTTPS mode (a throwaway
CA made at start-up; see conftest.py): trusted through ca_file, ca_pem or
the system store (SSL_CERT_FILE) → created; the CA not trusted, a
certificate for another name or an expired one → a TransportError of kind
"tls" that says nothing was sent, and nothing was. The same cases as
core/tests/tls.rs and core/tests/system_roots.rs."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from used_insight import (
    Client,
    TransportError,
    UsedInsight,
    used_insight_create,
    used_insight_create_many,
)

from conftest import REPO, TOKEN, Emulator

UNRELATED_ROOTS = REPO / "core" / "tests" / "certs" / "two_roots.pem"


def https_client(emu: Emulator, **settings: Any) -> Client:
    assert emu.base_url.startswith("https://127.0.0.1:"), emu.base_url
    return Client(token=TOKEN, base_url=emu.base_url, timeout=10, max_retries=0, **settings)


def tls_failure(emu: Emulator, insight: UsedInsight, **settings: Any) -> TransportError:
    """Create with these settings; expect a TLS failure before anything was
    sent, and check the emulator received nothing. Returns the error."""
    with https_client(emu, **settings) as client:
        with pytest.raises(TransportError) as caught:
            client.create("alice@contoso.com", insight)
    error = caught.value
    assert error.kind == "tls", error
    assert error.request_may_have_been_processed is False
    assert "nothing was sent" in str(error)
    assert error.client_request_id
    # The handshake failed: no request reached the emulator (so nothing
    # was stored either; stored() would record its own GET).
    assert emu.requests() == [], "nothing may reach the server"
    return error


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_the_emulator_s_ca_as_ca_file_is_trusted_and_the_create_goes_through(
    https_emu: Emulator, insight: UsedInsight, as_path: Callable[[Path], str | Path]
) -> None:
    assert https_emu.ca_path is not None
    with https_client(https_emu, ca_file=as_path(https_emu.ca_path)) as client:
        created = client.create("alice@contoso.com", insight)
    assert created.id
    assert [s["id"] for s in https_emu.stored("alice@contoso.com")] == [created.id]


def test_the_emulator_s_ca_as_ca_pem_text_is_trusted(https_emu: Emulator, insight: UsedInsight) -> None:
    with https_client(https_emu, ca_pem=https_emu.ca_pem) as client:
        assert client.create("alice@contoso.com", insight).id
    created = used_insight_create(
        "bob@contoso.com", insight, token=TOKEN, base_url=https_emu.base_url, ca_pem=https_emu.ca_pem
    )
    assert created.id
    assert len(https_emu.requests()) == 2


def test_without_the_ca_the_create_fails_as_tls_and_nothing_is_sent(
    https_emu: Emulator, insight: UsedInsight
) -> None:
    error = tls_failure(https_emu, insight)
    assert "authority this client does not trust" in str(error)
    # The same emulator, trusted, takes the next create: it was up all along.
    with https_client(https_emu, ca_file=https_emu.ca_path) as client:
        assert client.create("alice@contoso.com", insight).id
    assert len(https_emu.requests()) == 1


@pytest.mark.parametrize("setting", ["ca_file", "ca_pem"])
def test_an_unrelated_root_does_not_help(https_emu: Emulator, insight: UsedInsight, setting: str) -> None:
    roots: str | Path = UNRELATED_ROOTS if setting == "ca_file" else UNRELATED_ROOTS.read_text(encoding="utf-8")
    error = tls_failure(https_emu, insight, **{setting: roots})
    assert "does not trust" in str(error)


def test_a_certificate_for_another_name_is_refused(wrong_name_emu: Emulator, insight: UsedInsight) -> None:
    error = tls_failure(wrong_name_emu, insight, ca_file=wrong_name_emu.ca_path)
    assert "not valid for this host name" in str(error)


def test_an_expired_certificate_is_refused(expired_emu: Emulator, insight: UsedInsight) -> None:
    error = tls_failure(expired_emu, insight, ca_pem=expired_emu.ca_pem)
    assert "expired" in str(error)


def test_system_roots_follow_ssl_cert_file(
    https_emu: Emulator, insight: UsedInsight, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(https_emu.ca_path))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with https_client(https_emu, system_roots=True) as client:
        assert repr(client).endswith("system_roots=True)")
        assert client.create("alice@contoso.com", insight).id
    assert len(https_emu.stored("alice@contoso.com")) == 1
    https_emu.reset()
    # The compiled-in (Mozilla) roots, the default, do not know the CA.
    tls_failure(https_emu, insight)
    # Nor does a system store that is something else.
    monkeypatch.setenv("SSL_CERT_FILE", str(UNRELATED_ROOTS))
    tls_failure(https_emu, insight, system_roots=True)


def test_create_many_over_tls_creates_everything(https_emu: Emulator, insight: UsedInsight) -> None:
    # Seven $batch requests: of 4 items each (the default rate limit's 4 in
    # flight), the last of 1.
    users = [f"user{i}@contoso.com" for i in range(25)]
    with https_client(https_emu, ca_file=https_emu.ca_path) as client:
        results = client.create_many([(user, insight) for user in users], concurrency=2)
    assert all(isinstance(r, UsedInsight) and r.id for r in results), results
    assert len(https_emu.requests()) == 7
    assert all(len(https_emu.stored(user)) == 1 for user in users)

    https_emu.reset()
    results = used_insight_create_many(
        [(user, insight) for user in users[:3]], token=TOKEN, base_url=https_emu.base_url, ca_pem=https_emu.ca_pem
    )
    assert [type(r) for r in results] == [UsedInsight] * 3
    assert len(https_emu.requests()) == 1


def test_create_many_without_the_ca_fails_every_item_unsent(https_emu: Emulator, insight: UsedInsight) -> None:
    with https_client(https_emu) as client:
        results = client.create_many([("alice@contoso.com", insight), ("bob@contoso.com", insight)])
    for result in results:
        assert isinstance(result, TransportError), result
        assert (result.kind, result.request_may_have_been_processed) == ("tls", False)
        assert "nothing was sent" in str(result)
    assert https_emu.requests() == []


def test_faults_and_retries_work_over_tls_too(https_emu: Emulator, insight: UsedInsight) -> None:
    https_emu.fault(status=429, retry_after="0.1")
    with Client(token=TOKEN, base_url=https_emu.base_url, ca_file=https_emu.ca_path) as client:
        assert client.create("alice@contoso.com", insight).id
    assert [r["headers"].get("retry-attempt") for r in https_emu.requests()] == [None, "1"]
