"""The security pass, from Python: no secret reaches ``logging`` at its
lowest level through whole creates, retries and failures; every string that
ends up in a header is refused with CR/LF or another byte a header cannot
carry, naming the setting, before anything is sent; redirects to anything
but http or https are refused, saying Graph did not carry the create out.
"""

from __future__ import annotations

import base64
import logging
import time
import urllib.parse
from typing import Any, Callable, NamedTuple

import pytest

from conftest import (
    APP_PEM,
    CERT_CLIENT,
    SECRET,
    SECRET_CLIENT,
    TENANT,
    TOKEN,
    Emulator,
    TunnelProxy,
)
from used_insight import (
    CertificateCredential,
    Client,
    ClientSecretCredential,
    ConfigurationError,
    GraphApiError,
    TokenProviderError,
    TransportError,
    UsedInsight,
)

USER = "alice@contoso.com"
PROXY_USER = "proxy-user"
PROXY_PASSWORD = "pw-4Rn8Ks1Vb6Qz3Xm9Jt2Lc7"
PROVIDED_TOKEN = "provided-3Jf8Nc5Bq2Xy7Gv4Rt9Ue1"
WRONG_SECRET = "wrong-secret-2Hc6Tv9Lq3Sj8Wd1Rx5"
# A token Graph (the emulator) refuses: known up front, so it is not
# counted among the tokens Entra issued.
REFUSED_TOKEN = "refused-8Dk4Mw1Pz6Ls9Hy3Cv7Qn2"
TOKEN_PATHS = ("/oauth2/v2.0/token", "/msi/token", "/metadata/identity/")

# Values a header cannot carry: CR/LF (header injection), each alone, NUL,
# DEL, another control character, a tab, non-ASCII.
NOT_HEADER_VALUES = [
    pytest.param("abc\r\nX-Injected: 1", id="CR-LF"),
    pytest.param("abc\nX-Injected: 1", id="LF"),
    pytest.param("abc\rX-Injected: 1", id="CR"),
    pytest.param("abc\x00X-Injected", id="NUL"),
    pytest.param("abc\x7fX-Injected", id="DEL"),
    pytest.param("abc\x0cX-Injected", id="form-feed"),
    pytest.param("abc\tX-Injected", id="tab"),
    pytest.param("abc-X-Injected-tökén", id="non-ASCII"),
]


class CoreAccessToken(NamedTuple):
    """azure-core's AccessToken, as azure-identity returns it."""

    token: str
    expires_on: int


class FixedCredential:
    """A credential of the caller's own, azure-core's shape, with one token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> CoreAccessToken:
        return CoreAccessToken(self.token, int(time.time()) + 3600)


def graph_requests(emu: Emulator) -> list[dict[str, Any]]:
    return [r for r in emu.requests() if not any(p in r["path"] for p in TOKEN_PATHS)]


# ------------------------------------------------------------------ logging


def create_retry_and_fail(emu: Emulator, client: Client, insight: UsedInsight) -> None:
    """A success, a success after a 503 and a 429, and a 403."""
    assert client.create(USER, insight).id
    emu.fault(path_contains="/insights/used", status=503, retry_after="0")
    emu.fault(path_contains="/insights/used", status=429, retry_after="0")
    assert client.create(USER, insight).id
    emu.fault(path_contains="/insights/used", status=403, code="ErrorAccessDenied", message="Access is denied.")
    with pytest.raises(GraphApiError) as raised:
        client.create(USER, insight)
    assert raised.value.status == 403


def test_no_secret_reaches_logging_at_its_lowest_level(
    entra: Emulator,
    tunnel_proxy: Callable[..., TunnelProxy],
    insight: UsedInsight,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Every logger, every level; read when each Client is made.
    caplog.set_level(1)
    proxy = tunnel_proxy(entra, "--basic", f"{PROXY_USER}:{PROXY_PASSWORD}")
    proxy_url = proxy.url_with(PROXY_USER, PROXY_PASSWORD)

    def client(**settings: Any) -> Client:
        return Client(base_url=entra.base_url, proxy=proxy_url, **settings)

    with client(token=TOKEN) as c:
        create_retry_and_fail(entra, c, insight)
    with client(token=REFUSED_TOKEN) as c, pytest.raises(GraphApiError) as refused:
        c.create(USER, insight)
    assert refused.value.status == 401
    with client(token_provider=lambda: PROVIDED_TOKEN) as c, pytest.raises(GraphApiError) as refused:
        c.create(USER, insight)
    assert refused.value.status == 401
    entra.fault(path_contains="/oauth2/v2.0/token", status=503, retry_after="0")
    with client(credential=ClientSecretCredential(TENANT, SECRET_CLIENT, SECRET, authority=entra.base_url)) as c:
        create_retry_and_fail(entra, c, insight)
    with client(credential=CertificateCredential(TENANT, CERT_CLIENT, APP_PEM, authority=entra.base_url)) as c:
        create_retry_and_fail(entra, c, insight)
    wrong = ClientSecretCredential(TENANT, SECRET_CLIENT, WRONG_SECRET, authority=entra.base_url)
    with client(credential=wrong) as c, pytest.raises(TokenProviderError):
        c.create(USER, insight)

    # Every secret the wire carried, read back from what the emulator got.
    secrets = {
        TOKEN,
        PROVIDED_TOKEN,
        SECRET,
        # As the token request's form carries it (SECRET holds a '~').
        urllib.parse.quote(SECRET, safe=""),
        WRONG_SECRET,
        REFUSED_TOKEN,
        PROXY_PASSWORD,
        base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode(),
    }
    issued = assertions = 0
    for request in entra.requests():
        bearer = str(request["headers"].get("authorization", "")).removeprefix("Bearer ")
        if bearer and bearer not in secrets:
            issued += 1
            secrets.add(bearer)
        form = urllib.parse.parse_qs(request["body"])
        for assertion in form.get("client_assertion", []):
            assertions += 1
            secrets.add(assertion)
    assert issued >= 2 and assertions >= 1
    assert proxy.connects(), "the proxy was used"

    records = caplog.records
    assert any(r.name.startswith("used_insight") and r.levelno == logging.DEBUG for r in records)
    assert any(r.levelno == logging.WARNING and "HTTP 503" in r.getMessage() for r in records)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in records:
        text = " ".join([formatter.format(record), repr(record.args), repr(record.__dict__)])
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{leaked} in {text}"


# ------------------------------------------------------------ header values


@pytest.mark.parametrize("value", NOT_HEADER_VALUES)
def test_a_token_user_agent_or_proxy_password_that_no_header_can_carry_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="the token") as raised:
        Client(token=value)
    assert "Injected" not in str(raised.value)
    with pytest.raises(ConfigurationError, match="the user agent") as raised:
        Client(token=TOKEN, user_agent=value)
    assert "Injected" not in str(raised.value)


def test_a_proxy_password_with_crlf_is_refused_naming_the_proxy() -> None:
    for url in [
        "http://user:Zq%0D%0AX-Injected:1@127.0.0.1:3128",
        "http://user:Zq\r\nX-Injected:1@127.0.0.1:3128",
    ]:
        with pytest.raises(ConfigurationError, match=r"proxy `http://127\.0\.0\.1:3128`") as raised:
            Client(token=TOKEN, proxy=url)
        assert "Injected" not in str(raised.value) and "Zq" not in str(raised.value)


@pytest.mark.parametrize("value", NOT_HEADER_VALUES)
def test_a_token_provider_or_credential_token_no_header_can_carry_is_not_sent(
    emu: Emulator, insight: UsedInsight, value: str
) -> None:
    with Client(token_provider=lambda: value, base_url=emu.base_url) as client:
        with pytest.raises(TokenProviderError, match="nothing was sent to Graph") as raised:
            client.create(USER, insight)
    assert "cannot carry" in str(raised.value) and "Injected" not in str(raised.value)
    assert not raised.value.request_may_have_been_processed
    with Client(credential=FixedCredential(value), base_url=emu.base_url) as client:
        with pytest.raises(TokenProviderError, match="the token the credential returned") as raised:
            client.create(USER, insight)
    assert "Injected" not in str(raised.value)
    assert emu.requests() == []


def test_an_access_token_from_entra_with_crlf_is_refused_and_graph_gets_nothing(
    entra: Emulator, insight: UsedInsight
) -> None:
    answer = '{"token_type":"Bearer","expires_in":3599,"access_token":"abc\\r\\nX-Injected: 1"}'
    entra.fault(path_contains="/oauth2/v2.0/token", status=200, body=answer, content_type="application/json")
    credential = ClientSecretCredential(TENANT, SECRET_CLIENT, SECRET, authority=entra.base_url)
    with Client(credential=credential, base_url=entra.base_url) as client:
        with pytest.raises(TokenProviderError, match="access_token") as raised:
            client.create(USER, insight)
    assert "nothing was sent to Graph" in str(raised.value) and "Injected" not in str(raised.value)
    assert graph_requests(entra) == []


# ---------------------------------------------------------------- redirects


@pytest.mark.parametrize(
    "location", ["ftp://files.example.com/x", "file:///etc/passwd", "javascript:alert(1)", "data:text/html,hi"]
)
def test_redirects_to_other_schemes_are_refused_not_processed(
    client: Client, emu: Emulator, insight: UsedInsight, location: str
) -> None:
    emu.fault(status=302, headers={"Location": location})
    with pytest.raises(TransportError) as raised:
        client.create(USER, insight)
    assert raised.value.kind == "redirect"
    scheme = location.split(":")[0]
    assert f"`{scheme}:`" in str(raised.value) and "only http and https" in str(raised.value)
    assert "not carried out" in str(raised.value)
    assert not raised.value.request_may_have_been_processed
    assert len(emu.requests()) == 1
    assert emu.stored(USER) == []
