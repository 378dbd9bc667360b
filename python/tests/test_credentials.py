"""Credentials end to end against graph-emulator playing Microsoft Entra ID
and the managed identity endpoints (``entra`` in conftest): the token
request on the wire, the token Graph then accepts (the emulator accepts
only tokens it issued), caching and renewal, Entra's refusals as
TokenProviderError with nothing sent to Graph, and azure-core-style
credential objects.

Every test runs with the AZURE_* and IDENTITY_* variables removed and the
metadata service pointed at a closed loopback port: nothing here may reach
169.254.169.254 or any other address than loopback.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from conftest import (
    APP_PEM,
    CERT_CLIENT,
    CERTS,
    FEDERATED,
    FEDERATED_CLIENT,
    IDENTITY_HEADER,
    SECRET,
    SECRET_CLIENT,
    TENANT,
    TOKEN,
    USER_ASSIGNED,
    Emulator,
    entra_options,
    free_port,
    start_emulator,
)
from used_insight import (
    AccessToken,
    CertificateCredential,
    Client,
    ClientSecretCredential,
    ConfigurationError,
    DefaultAzureCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    TokenProviderError,
    UsedInsight,
    WorkloadIdentityCredential,
    used_insight_create,
)

if TYPE_CHECKING:
    from used_insight._native import _TokenCredential

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
USER = "alice@contoso.com"
TOKEN_PATHS = ("/oauth2/v2.0/token", "/msi/token", "/metadata/identity/")
VARIABLES = [
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # Never the real metadata address: a loopback port nothing listens on.
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{free_port()}")


def token_requests(emu: Emulator) -> list[dict[str, Any]]:
    return [r for r in emu.requests() if any(p in r["path"] for p in TOKEN_PATHS)]


def graph_requests(emu: Emulator) -> list[dict[str, Any]]:
    return [r for r in emu.requests() if not any(p in r["path"] for p in TOKEN_PATHS)]


def form(request: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(request["body"]).items()}


def query(request: dict[str, Any]) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(request["path"]).query).items()}


def bearers(emu: Emulator) -> list[str]:
    return [str(r["headers"].get("authorization", "")) for r in graph_requests(emu)]


def secret_credential(emu: Emulator, secret: str = SECRET) -> ClientSecretCredential:
    return ClientSecretCredential(TENANT, SECRET_CLIENT, secret, authority=emu.base_url)


def create_three(credential: _TokenCredential, emu: Emulator, insight: UsedInsight) -> None:
    with Client(credential=credential, base_url=emu.base_url) as client:
        for _ in range(3):
            assert client.create(USER, insight).id


# ------------------------------------------------------------ each credential


def test_client_secret_three_creates_one_token_request(entra: Emulator, insight: UsedInsight) -> None:
    credential = secret_credential(entra)
    with Client(credential=credential, base_url=entra.base_url) as client:
        for _ in range(3):
            assert client.create(USER, insight).id
        shown = repr(client)
    [request] = token_requests(entra)
    assert request["method"] == "POST"
    assert request["path"] == f"/{TENANT}/oauth2/v2.0/token"
    assert form(request) == {
        "grant_type": "client_credentials",
        "client_id": SECRET_CLIENT,
        "client_secret": SECRET,
        "scope": GRAPH_SCOPE,
    }
    seen = bearers(entra)
    assert len(seen) == 3 and len(set(seen)) == 1 and seen[0].startswith("Bearer ey")
    assert "credential='client_secret'" in shown
    for text in (shown, repr(credential)):
        assert SECRET not in text and seen[0][7:] not in text
    assert repr(credential) == (
        f"ClientSecretCredential(tenant_id='{TENANT}', client_id='{SECRET_CLIENT}', "
        f"authority='{entra.base_url}')"
    )


@pytest.mark.parametrize("source", ["file", "bytes"])
def test_certificate_from_a_file_or_pem_bytes(entra: Emulator, insight: UsedInsight, source: str) -> None:
    if source == "file":
        credential = CertificateCredential(TENANT, CERT_CLIENT, APP_PEM, authority=entra.base_url)
        assert str(APP_PEM) in repr(credential)
    else:
        data = APP_PEM.read_bytes()
        credential = CertificateCredential(TENANT, CERT_CLIENT, certificate_data=data, authority=entra.base_url)
        assert "PRIVATE" not in repr(credential)
    create_three(credential, entra, insight)
    [request] = token_requests(entra)
    sent = form(request)
    assert sent["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert sent["client_assertion"].count(".") == 2  # a JWT, which the emulator verified
    assert "client_secret" not in sent
    assert len(graph_requests(entra)) == 3


def test_workload_identity_from_arguments_and_from_the_environment(
    entra: Emulator, insight: UsedInsight, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(FEDERATED + "\n", encoding="ascii")
    given = WorkloadIdentityCredential(
        tenant_id=TENANT, client_id=FEDERATED_CLIENT, token_file_path=token_file, authority=entra.base_url
    )
    create_three(given, entra, insight)
    [request] = token_requests(entra)
    assert form(request)["client_assertion"] == FEDERATED
    assert form(request)["client_id"] == FEDERATED_CLIENT

    entra.reset()
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", FEDERATED_CLIENT)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", entra.base_url)
    create_three(WorkloadIdentityCredential(), entra, insight)
    [request] = token_requests(entra)
    assert request["path"] == f"/{TENANT}/oauth2/v2.0/token"
    assert form(request)["client_assertion"] == FEDERATED


def test_workload_identity_names_what_is_missing() -> None:
    with pytest.raises(ConfigurationError) as raised:
        WorkloadIdentityCredential(tenant_id=TENANT)
    assert "AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE are not set" in str(raised.value)


def test_managed_identity_from_identity_endpoint_and_header(
    entra: Emulator, insight: UsedInsight, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{entra.base_url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    create_three(ManagedIdentityCredential(), entra, insight)
    [request] = token_requests(entra)
    assert request["method"] == "GET"
    assert request["path"].startswith("/msi/token?")
    assert request["headers"]["x-identity-header"] == IDENTITY_HEADER
    assert query(request) == {"api-version": "2019-08-01", "resource": "https://graph.microsoft.com"}

    entra.reset()
    user_assigned = ManagedIdentityCredential(client_id=USER_ASSIGNED)
    assert repr(user_assigned) == f"ManagedIdentityCredential(client_id='{USER_ASSIGNED}')"
    create_three(user_assigned, entra, insight)
    [request] = token_requests(entra)
    assert query(request)["client_id"] == USER_ASSIGNED
    assert IDENTITY_HEADER not in repr(user_assigned)


def test_managed_identity_from_the_metadata_service_at_the_pod_identity_host(
    entra: Emulator, insight: UsedInsight, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", entra.base_url)
    create_three(ManagedIdentityCredential(), entra, insight)
    [request] = token_requests(entra)
    assert request["path"].startswith("/metadata/identity/oauth2/token?")
    assert request["headers"]["metadata"] == "true"
    assert query(request)["resource"] == "https://graph.microsoft.com"


def secret_environment(monkeypatch: pytest.MonkeyPatch, emu: Emulator) -> None:
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_CLIENT_ID", SECRET_CLIENT)
    monkeypatch.setenv("AZURE_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", emu.base_url)


def test_environment_credential_reads_the_azure_variables(
    entra: Emulator, insight: UsedInsight, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_environment(monkeypatch, entra)
    credential = EnvironmentCredential()
    assert repr(credential) == "EnvironmentCredential()"
    with Client(credential=credential, base_url=entra.base_url) as client:
        client.create(USER, insight)
        assert "credential='environment'" in repr(client)
    [request] = token_requests(entra)
    assert form(request)["client_secret"] == SECRET

    entra.reset()
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    monkeypatch.setenv("AZURE_CLIENT_CERTIFICATE_PATH", str(APP_PEM))
    monkeypatch.setenv("AZURE_CLIENT_ID", CERT_CLIENT)
    create_three(EnvironmentCredential(), entra, insight)
    [request] = token_requests(entra)
    assert "client_assertion" in form(request)


def test_environment_credential_without_variables_is_refused_naming_them(entra: Emulator) -> None:
    with pytest.raises(ConfigurationError) as raised:
        Client(credential=EnvironmentCredential(), base_url=entra.base_url)
    assert "AZURE_TENANT_ID" in str(raised.value) and "AZURE_CLIENT_ID" in str(raised.value)
    assert entra.requests() == []


def test_default_credential_takes_the_environment_first(
    entra: Emulator, insight: UsedInsight, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_environment(monkeypatch, entra)
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", entra.base_url)
    with Client(credential=DefaultAzureCredential(), base_url=entra.base_url) as client:
        client.create(USER, insight)
        assert "credential='default'" in repr(client)
    [request] = token_requests(entra)
    assert form(request)["client_secret"] == SECRET


def test_default_credential_falls_back_to_managed_identity(
    entra: Emulator, insight: UsedInsight, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", entra.base_url)
    create_three(DefaultAzureCredential(), entra, insight)
    [request] = token_requests(entra)
    assert request["path"].startswith("/metadata/identity/oauth2/token?")


def test_default_credential_with_nothing_configured_says_why_for_each_link(
    entra: Emulator, insight: UsedInsight
) -> None:
    with Client(credential=DefaultAzureCredential(), base_url=entra.base_url) as client:
        with pytest.raises(TokenProviderError) as raised:
            client.create(USER, insight)
    text = str(raised.value)
    for link in ("EnvironmentCredential", "WorkloadIdentityCredential", "ManagedIdentityCredential"):
        assert link in text
    assert raised.value.credential == "DefaultAzureCredential"
    assert not raised.value.request_may_have_been_processed
    assert entra.requests() == []


# ------------------------------------------------------------ caching, renewal


def test_an_expiring_token_is_renewed_before_graph_would_refuse_it(insight: UsedInsight) -> None:
    emu = start_emulator(*entra_options("--token-lifetime", "2"))
    try:
        with Client(credential=secret_credential(emu), base_url=emu.base_url) as client:
            client.create(USER, insight)
            time.sleep(2.3)  # the first token has expired: Graph would answer 401
            client.create(USER, insight)
        assert len(token_requests(emu)) == 2
        first, second = bearers(emu)
        assert first != second
        # Two creates, two Graph requests: no 401 round trip.
        assert len(graph_requests(emu)) == 2
    finally:
        emu.stop()


def test_eight_threads_on_a_fresh_client_make_one_token_request(entra: Emulator, insight: UsedInsight) -> None:
    # A slow token endpoint, so that every thread needs the token while it
    # is being requested.
    entra.fault(path_contains="/oauth2/v2.0/token", delay_ms=300)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def create(client: Client) -> None:
        try:
            barrier.wait()
            client.create(USER, insight)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    with Client(credential=secret_credential(entra), base_url=entra.base_url) as client:
        threads = [threading.Thread(target=create, args=(client,)) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert len(token_requests(entra)) == 1
    assert len(set(bearers(entra))) == 1 and len(bearers(entra)) == 8


def test_get_token_on_its_own_is_cached_and_never_shown(entra: Emulator) -> None:
    with secret_credential(entra) as credential:
        before = time.time()
        token = credential.get_token(GRAPH_SCOPE)
        again = credential.get_token(GRAPH_SCOPE, enable_cae=True)
    assert isinstance(token, AccessToken) and isinstance(token, tuple)
    assert token.token.startswith("ey") and isinstance(token.expires_on, int)
    assert before + 3500 < token.expires_on < time.time() + 3600
    assert again == token
    token_text, expires_on = token
    assert (token_text, expires_on) == (token.token, token.expires_on)
    assert token.token not in repr(token) and "<redacted>" in repr(token)
    assert len(token_requests(entra)) == 1
    with pytest.raises(ConfigurationError, match="no scope"):
        credential.get_token()
    with pytest.raises(ConfigurationError, match="claims"):
        credential.get_token(GRAPH_SCOPE, claims='{"access_token":{}}')
    with pytest.raises(TypeError, match="scope must be a str"):
        credential.get_token(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------- refusals


def test_a_wrong_secret_is_entras_refusal_and_nothing_reaches_graph(
    entra: Emulator, insight: UsedInsight
) -> None:
    wrong = "not-the-secret"
    with Client(credential=secret_credential(entra, wrong), base_url=entra.base_url) as client:
        with pytest.raises(TokenProviderError) as raised:
            client.create(USER, insight)
    e = raised.value
    assert e.credential == "ClientSecretCredential"
    assert e.status == 401
    assert e.error == "invalid_client"
    assert e.aadsts_code == "AADSTS7000215"
    assert e.error_description is not None and e.error_description.startswith("AADSTS7000215: ")
    assert e.correlation_id and e.trace_id
    assert "AADSTS7000215" in str(e) and "nothing was sent to Graph" in str(e)
    assert wrong not in str(e)
    assert not e.request_may_have_been_processed
    assert len(token_requests(entra)) == 1
    assert graph_requests(entra) == []


def test_an_assertion_signed_by_another_key_is_refused(entra: Emulator, insight: UsedInsight) -> None:
    other = CertificateCredential(
        TENANT, CERT_CLIENT, CERTS / "entra-test-other-app.pem", authority=entra.base_url
    )
    with Client(credential=other, base_url=entra.base_url) as client:
        with pytest.raises(TokenProviderError) as raised:
            client.create(USER, insight)
    assert raised.value.aadsts_code == "AADSTS700027"
    assert raised.value.credential == "CertificateCredential"
    assert graph_requests(entra) == []


def test_certificate_arguments_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="certificate_path or certificate_data is required"):
        CertificateCredential(TENANT, CERT_CLIENT)
    with pytest.raises(ConfigurationError, match="not both"):
        CertificateCredential(TENANT, CERT_CLIENT, APP_PEM, certificate_data=APP_PEM.read_bytes())
    with pytest.raises(TypeError, match="certificate_data must be bytes"):
        CertificateCredential(TENANT, CERT_CLIENT, certificate_data=APP_PEM.read_text())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="cannot read the certificate"):
        CertificateCredential(TENANT, CERT_CLIENT, CERTS / "missing.pem")
    # Core refuses encrypted keys, and says how to remove the password.
    with pytest.raises(ConfigurationError, match="password-protected key.*openssl pkcs8"):
        CertificateCredential(
            TENANT, CERT_CLIENT, CERTS / "entra-test-app-encrypted.pem", password="test-only-password"
        )
    with pytest.raises(ConfigurationError, match="not password-protected"):
        CertificateCredential(TENANT, CERT_CLIENT, APP_PEM, password="test-only-password")


def test_secret_credential_arguments_are_checked() -> None:
    with pytest.raises(ConfigurationError, match="secret is empty"):
        ClientSecretCredential(TENANT, SECRET_CLIENT, "")
    with pytest.raises(ConfigurationError, match="only https"):
        ClientSecretCredential(TENANT, SECRET_CLIENT, SECRET, authority="http://login.example")
    # A host alone is an https authority.
    ClientSecretCredential(TENANT, SECRET_CLIENT, SECRET, authority="login.microsoftonline.us")


def test_exactly_one_token_source(entra: Emulator) -> None:
    credential = secret_credential(entra)
    with pytest.raises(ConfigurationError, match="not both token and credential"):
        Client(token=TOKEN, credential=credential)
    with pytest.raises(ConfigurationError, match="not all three"):
        Client(token=TOKEN, token_provider=lambda: TOKEN, credential=credential)
    with pytest.raises(TypeError, match="azure-core's get_token"):
        Client(credential=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no token"):
        Client(base_url=entra.base_url)


# ---------------------------------------------------- azure-core credentials


class CoreAccessToken(NamedTuple):
    """azure-core's AccessToken, as azure-identity returns it."""

    token: str
    expires_on: int


class VaultCredential:
    """A credential of the caller's own, shaped as azure-core's protocol."""

    def __init__(self, token: str = TOKEN, lifetime: int = 3600, fail: bool = False) -> None:
        self.token = token
        self.lifetime = lifetime
        self.fail = fail
        self.calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> CoreAccessToken:
        self.calls.append((scopes, kwargs))
        if self.fail:
            raise PermissionError("the vault is sealed")
        return CoreAccessToken(self.token, int(time.time()) + self.lifetime)


def test_an_azure_core_credential_is_asked_once_and_cached(entra: Emulator, insight: UsedInsight) -> None:
    vault = VaultCredential()
    with Client(credential=vault, base_url=entra.base_url) as client:
        for _ in range(3):
            client.create(USER, insight)
        assert "credential='custom'" in repr(client)
    assert vault.calls == [((GRAPH_SCOPE,), {})]
    assert bearers(entra) == [f"Bearer {TOKEN}"] * 3


def test_an_azure_core_credential_that_raises_is_the_cause_and_nothing_is_sent(
    entra: Emulator, insight: UsedInsight
) -> None:
    with Client(credential=VaultCredential(fail=True), base_url=entra.base_url) as client:
        with pytest.raises(TokenProviderError) as raised:
            client.create(USER, insight)
    assert isinstance(raised.value.__cause__, PermissionError)
    assert "the vault is sealed" in str(raised.value)
    assert raised.value.credential is None and raised.value.aadsts_code is None
    assert entra.requests() == []


def test_an_azure_core_credential_returning_no_token_is_refused(entra: Emulator, insight: UsedInsight) -> None:
    class Broken:
        def get_token(self, *scopes: str, **kwargs: Any) -> object:
            return ("tuple", "without names")

    with Client(credential=Broken(), base_url=entra.base_url) as client:  # type: ignore[arg-type]
        with pytest.raises(TokenProviderError) as raised:
            client.create(USER, insight)
    assert isinstance(raised.value.__cause__, TypeError)
    assert "expected azure-core's AccessToken" in str(raised.value)
    assert entra.requests() == []


def test_our_credential_wrapped_as_an_azure_core_one(entra: Emulator, insight: UsedInsight) -> None:
    # What azure-identity's own objects look like to the client: anything
    # with get_token, here delegating to a credential of this package.
    inner = secret_credential(entra)

    class Wrapper:
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            return inner.get_token(*scopes, **kwargs)

    create_three(Wrapper(), entra, insight)
    assert len(token_requests(entra)) == 1
    assert len(graph_requests(entra)) == 3


def test_the_one_shot_function_takes_a_credential(entra: Emulator, insight: UsedInsight) -> None:
    created = used_insight_create(USER, insight, credential=secret_credential(entra), base_url=entra.base_url)
    assert created.id
    assert len(token_requests(entra)) == 1

