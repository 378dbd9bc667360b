"""Proxies proven against a real CONNECT proxy: tinyproxy (the
``tinyproxy`` fixture in conftest.py; scripts/test-python.sh installs it,
and these tests fail, saying so, when it is missing). The client tunnels
with ``CONNECT host:port`` for http and https targets alike, so the
emulator's plain http goes through the tunnel as Graph's https would. An
environment proxy is never used for loopback, so these tests name their
proxy explicitly. Each test checks what the proxy logged and what the
emulator received. The same cases as core/tests/proxy.rs, and HTTPS through
the tunnel (graph-emulator --tls).

The proxy taken from the environment is tested with graph-emulator's
tunnel-proxy (the ``tunnel_proxy`` fixture), which leads every CONNECT to
one emulator whatever host it names: a client left on the default cloud,
https://graph.microsoft.com, reaches the emulator only through the proxy
its environment names, and nothing leaves loopback. A direct connection to
Graph's host would, so one is risked only after the same environment was
seen at work on https://[::ffff:127.0.0.1]:PORT, the IPv4-mapped 127.0.0.1:
loopback, yet not exempted by core's rule; NO_PROXY is proven on that
address. The same tunnel proxy with --tls is an https:// proxy."""

from __future__ import annotations

import socket
import urllib.parse
from typing import Any, Callable

import pytest

from used_insight import (
    Client,
    TransportError,
    UsedInsight,
    used_insight_create,
    used_insight_create_many,
)

from conftest import TOKEN, Emulator, Tinyproxy, TunnelProxy

StartProxy = Callable[..., Tinyproxy]
StartTunnel = Callable[..., TunnelProxy]

USER = "proxyuser"
PASSWORD = "pr0xy-pa55-9d1e"


def target(emu: Emulator) -> str:
    """The emulator as a CONNECT target: ``127.0.0.1:PORT``."""
    url = urllib.parse.urlsplit(emu.base_url)
    assert url.hostname == "127.0.0.1" and url.port, emu.base_url
    return f"127.0.0.1:{url.port}"


def titled(insight: UsedInsight, title: str) -> UsedInsight:
    wire = insight.to_dict()
    wire["resourceVisualization"]["title"] = title
    return UsedInsight.from_dict(wire)


def assert_no_secret(proxy: Tinyproxy) -> None:
    """The token travelled inside the tunnel: the proxy never saw it."""
    log = proxy.log()
    assert TOKEN not in log and "Bearer" not in log, f"the token is outside the tunnel:\n{log}"


def refused(client: Client, insight: UsedInsight) -> TransportError:
    with client:
        with pytest.raises(TransportError) as caught:
            client.create("alice@contoso.com", insight)
    return caught.value


def test_an_explicit_proxy_tunnels_to_the_emulator_and_never_sees_the_token(
    emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy
) -> None:
    proxy = tinyproxy()
    with Client(token=TOKEN, base_url=emu.base_url, proxy=proxy.url) as client:
        assert repr(client).endswith(f", proxy='{proxy.url}')"), repr(client)
        created = client.create("alice@contoso.com", insight)

    assert created.id
    assert proxy.tunnels() == [target(emu)], f"one tunnel, to the emulator:\n{proxy.log()}"
    assert_no_secret(proxy)
    requests = emu.requests()
    assert len(requests) == 1, "exactly one create"
    request = requests[0]
    assert request["method"] == "POST"
    assert request["path"] == "/v1.0/users/alice@contoso.com/insights/used"
    assert request["headers"].get("authorization") == f"Bearer {TOKEN}"
    assert "proxy-authorization" not in request["headers"]
    assert [s["id"] for s in emu.stored("alice@contoso.com")] == [created.id]


def test_proxy_credentials_work_and_never_show_in_repr_or_errors(
    emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy
) -> None:
    proxy = tinyproxy()
    with Client(token=TOKEN, base_url=emu.base_url, proxy=proxy.url_with(USER, PASSWORD)) as client:
        shown = repr(client)
        assert shown.endswith(f", proxy='{proxy.url}')"), shown
        assert PASSWORD not in shown and USER not in shown, shown
        # Without BasicAuth, tinyproxy ignores Proxy-Authorization.
        assert client.create("alice@contoso.com", insight).id
    assert proxy.tunnels() == [target(emu)]
    assert PASSWORD not in proxy.log()
    requests = emu.requests()
    assert len(requests) == 1
    assert all(PASSWORD not in value for value in requests[0]["headers"].values()), (
        "the credentials are for the proxy, not Graph",
        requests[0]["headers"],
    )

    # A failure through the same credentials names the proxy without them.
    refusing = tinyproxy(only_port_443=True)
    client = Client(token=TOKEN, base_url=emu.base_url, proxy=refusing.url_with(USER, PASSWORD))
    assert PASSWORD not in repr(client) and USER not in repr(client)
    error = refused(client, insight)
    for text in [str(error), repr(error), *map(str, error.args)]:
        assert PASSWORD not in text and USER not in text, text
        assert refusing.url in text, text
    assert len(emu.requests()) == 1, "the refused create never arrived"


def test_a_proxy_asking_for_credentials_gets_them_from_the_url(
    emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy
) -> None:
    proxy = tinyproxy(extra=f"BasicAuth {USER} {PASSWORD}\n")
    created = used_insight_create(
        "alice@contoso.com", insight, token=TOKEN, base_url=emu.base_url, proxy=proxy.url_with(USER, PASSWORD)
    )
    assert created.id

    # Without them, or with a wrong password, the tunnel is refused.
    for url in [proxy.url, proxy.url_with(USER, "wrong-password")]:
        error = refused(Client(token=TOKEN, base_url=emu.base_url, proxy=url), insight)
        assert (error.kind, error.request_may_have_been_processed) == ("proxy", False), error
        assert proxy.url in str(error), error
        assert "wrong-password" not in str(error) and "wrong-password" not in repr(error)
    assert len(emu.requests()) == 1, "only the authorised create arrived"
    assert proxy.tunnels() == [target(emu)] * 3
    assert_no_secret(proxy)


def test_a_proxy_refusing_the_tunnel_is_a_proxy_error_and_nothing_is_sent(
    emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy
) -> None:
    proxy = tinyproxy(only_port_443=True)
    error = refused(Client(token=TOKEN, base_url=emu.base_url, proxy=proxy.url), insight)

    assert error.kind == "proxy", error
    assert error.request_may_have_been_processed is False
    message = str(error)
    assert proxy.url in message and "403" in message and "nothing was sent" in message, message
    assert error.client_request_id
    assert proxy.tunnels() == [target(emu)], f"asked once, not retried:\n{proxy.log()}"
    assert emu.requests() == [], "the emulator received nothing"
    assert emu.stored("alice@contoso.com") == []


def test_a_refused_tunnel_fails_every_item_of_create_many_unsent(
    emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy
) -> None:
    proxy = tinyproxy(only_port_443=True)
    results = used_insight_create_many(
        [("alice@contoso.com", insight), ("bob@contoso.com", insight)],
        token=TOKEN,
        base_url=emu.base_url,
        proxy=proxy.url,
    )
    for result in results:
        assert isinstance(result, TransportError), result
        assert (result.kind, result.request_may_have_been_processed) == ("proxy", False)
        assert "nothing was sent" in str(result)
    assert emu.requests() == []


def test_proxy_false_goes_direct_past_a_running_proxy(
    emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = tinyproxy()
    # The environment names the proxy too; proxy=False never uses one.
    for name in ["https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]:
        monkeypatch.setenv(name, proxy.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)

    with Client(token=TOKEN, base_url=emu.base_url, proxy=False) as client:
        assert repr(client).endswith(", proxy=False)"), repr(client)
        assert client.create("alice@contoso.com", insight).id
    assert used_insight_create("bob@contoso.com", insight, token=TOKEN, base_url=emu.base_url, proxy=False).id

    assert len(emu.requests()) == 2
    assert proxy.tunnels() == [], f"no CONNECT went through the proxy:\n{proxy.log()}"
    assert len(emu.stored("alice@contoso.com")) == 1 and len(emu.stored("bob@contoso.com")) == 1


def test_create_many_goes_through_the_proxy(emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy) -> None:
    proxy = tinyproxy()
    items = [(f"user{i % 3}@contoso.com", titled(insight, f"doc {i}")) for i in range(45)]
    with Client(token=TOKEN, base_url=emu.base_url, proxy=proxy.url) as client:
        results = client.create_many(items, concurrency=2)

    assert len(results) == 45
    for i, result in enumerate(results):
        assert isinstance(result, UsedInsight), (i, result)
        assert result.id
        assert result.resource_visualization is not None
        assert result.resource_visualization.title == f"doc {i}"
    requests = emu.requests()
    # Batches of 4, the items Graph lets run at once (the default rate limit).
    assert len(requests) == 12 and all(r["path"] == "/v1.0/$batch" for r in requests), [
        r["path"] for r in requests
    ]
    tunnels = proxy.tunnels()
    assert tunnels and all(t == target(emu) for t in tunnels), f"every batch through a tunnel:\n{proxy.log()}"
    assert len(tunnels) <= len(requests)
    assert_no_secret(proxy)
    assert sum(len(emu.stored(f"user{u}@contoso.com")) for u in range(3)) == 45, "every item created"


def test_https_goes_through_the_proxy_s_tunnel(
    https_emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy
) -> None:
    proxy = tinyproxy()
    settings: dict[str, Any] = {"base_url": https_emu.base_url, "ca_file": https_emu.ca_path, "proxy": proxy.url}
    assert https_emu.base_url.startswith("https://")
    with Client(token=TOKEN, max_retries=0, **settings) as client:
        created = client.create("alice@contoso.com", insight)
        results = client.create_many([(f"user{i}@contoso.com", insight) for i in range(3)])

    assert created.id
    assert all(isinstance(r, UsedInsight) and r.id for r in results), results
    tunnels = proxy.tunnels()
    assert tunnels and all(t == target(https_emu) for t in tunnels), f"a CONNECT, the tunnel:\n{proxy.log()}"
    assert_no_secret(proxy)
    requests = https_emu.requests()
    assert [r["path"] for r in requests] == ["/v1.0/users/alice@contoso.com/insights/used", "/v1.0/$batch"]
    assert [s["id"] for s in https_emu.stored("alice@contoso.com")] == [created.id]


def test_https_through_the_proxy_still_checks_the_certificate(
    https_emu: Emulator, insight: UsedInsight, tinyproxy: StartProxy
) -> None:
    # The tunnel is end to end: without the emulator's CA the handshake
    # inside it fails as TLS, before anything was sent.
    proxy = tinyproxy()
    error = refused(Client(token=TOKEN, base_url=https_emu.base_url, proxy=proxy.url, max_retries=0), insight)
    assert (error.kind, error.request_may_have_been_processed) == ("tls", False), error
    assert "nothing was sent" in str(error)
    assert proxy.tunnels() == [target(https_emu)], proxy.log()
    assert https_emu.requests() == []


# ------------------------------------------------ the environment's proxy

ENVIRONMENT_PROXY_VARIABLES = [
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
]
GRAPH = "graph.microsoft.com:443"


def only_these_proxy_variables(monkeypatch: pytest.MonkeyPatch, **variables: str) -> None:
    """The proxy variables exactly as given (the others unset), until the
    test ends. A Client reads them when it is made."""
    for name in ENVIRONMENT_PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def mapped(emu: Emulator) -> tuple[str, str]:
    """The emulator as https://[::ffff:127.0.0.1]:PORT, and as a CONNECT target."""
    port = urllib.parse.urlsplit(emu.base_url).port
    return f"https://[::ffff:127.0.0.1]:{port}", f"[::ffff:127.0.0.1]:{port}"


def create(emu: Emulator, insight: UsedInsight, user: str, base_url: str | None = None, **settings: Any) -> None:
    """One create with the environment as it is now, trusting emu's CA
    (unless ``ca_file`` says otherwise); the emulator stored it."""
    if base_url is not None:
        settings["base_url"] = base_url
    settings.setdefault("ca_file", emu.ca_path)
    with Client(token=TOKEN, max_retries=0, **settings) as client:
        created = client.create(user, insight)
    assert [s["id"] for s in emu.stored(user)] == [created.id]


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
def test_the_environment_s_proxy_tunnels_graph_s_own_host_to_the_emulator(
    graph_emu: Emulator,
    insight: UsedInsight,
    tunnel_proxy: StartTunnel,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    proxy = tunnel_proxy(graph_emu)
    only_these_proxy_variables(monkeypatch, **{variable: proxy.url})
    url, target = mapped(graph_emu)

    create(graph_emu, insight, "mapped@contoso.com", url)
    assert proxy.connects() == [target], "the environment's proxy is at work"
    create(graph_emu, insight, "alice@contoso.com")  # the default cloud

    assert proxy.requests() == [f"CONNECT {target} user=- status=200", f"CONNECT {GRAPH} user=- status=200"]
    hosts = [r["headers"]["host"] for r in graph_emu.requests() if r["method"] == "POST"]
    assert hosts == [target, "graph.microsoft.com"]


def test_lowercase_https_proxy_wins_and_credentials_reach_the_proxy_only(
    graph_emu: Emulator, insight: UsedInsight, tunnel_proxy: StartTunnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = tunnel_proxy(graph_emu, "--basic", f"{USER}:{PASSWORD}")
    refusing = tunnel_proxy(graph_emu, "--basic", f"{USER}:another")
    only_these_proxy_variables(
        monkeypatch, https_proxy=proxy.url_with(USER, PASSWORD), HTTPS_PROXY=refusing.url_with(USER, PASSWORD)
    )
    url, target = mapped(graph_emu)

    create(graph_emu, insight, "mapped@contoso.com", url)
    assert proxy.connects() == [target]
    create(graph_emu, insight, "alice@contoso.com")

    assert proxy.requests() == [f"CONNECT {target} user={USER} status=200", f"CONNECT {GRAPH} user={USER} status=200"]
    assert refusing.requests() == []
    assert all(PASSWORD not in value for r in graph_emu.requests() for value in r["headers"].values())


def test_an_environment_proxy_asking_for_other_credentials_is_a_proxy_error_nothing_sent(
    graph_emu: Emulator, insight: UsedInsight, tunnel_proxy: StartTunnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = tunnel_proxy(graph_emu, "--basic", f"{USER}:{PASSWORD}")
    only_these_proxy_variables(monkeypatch, HTTPS_PROXY=proxy.url_with(USER, "wrong-password"))
    url, target = mapped(graph_emu)

    error = refused(Client(token=TOKEN, base_url=url, ca_file=graph_emu.ca_path, max_retries=0), insight)

    assert (error.kind, error.request_may_have_been_processed) == ("proxy", False), error
    assert proxy.url in str(error) and "407" in str(error) and "nothing was sent" in str(error), error
    assert "wrong-password" not in str(error) and "wrong-password" not in repr(error)
    assert proxy.requests() == [f"CONNECT {target} user={USER} status=407"]
    assert graph_emu.requests() == []


@pytest.mark.parametrize("variable", ["NO_PROXY", "no_proxy"])
@pytest.mark.parametrize("no_proxy", [" example.org , ::ffff:127.0.0.1 ", "example.org,::ffff:127.0.0.0/104"])
def test_no_proxy_listing_the_address_goes_direct(
    graph_emu: Emulator,
    insight: UsedInsight,
    tunnel_proxy: StartTunnel,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    no_proxy: str,
) -> None:
    proxy = tunnel_proxy(graph_emu)
    url, target = mapped(graph_emu)
    only_these_proxy_variables(monkeypatch, HTTPS_PROXY=proxy.url)
    create(graph_emu, insight, "via-proxy@contoso.com", url)
    assert proxy.connects() == [target]

    monkeypatch.setenv(variable, no_proxy)
    create(graph_emu, insight, "direct@contoso.com", url)

    assert proxy.connects() == [target], "no tunnel for the listed address"
    assert len(graph_emu.requests()) == 4  # two creates, two reads of what was stored


def test_a_direct_attempt_where_nothing_listens_is_a_connect_error_nothing_sent(
    graph_emu: Emulator, insight: UsedInsight, tunnel_proxy: StartTunnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = tunnel_proxy(graph_emu)
    only_these_proxy_variables(monkeypatch, HTTPS_PROXY=proxy.url, NO_PROXY="::ffff:127.0.0.1")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    client = Client(token=TOKEN, base_url=f"https://[::ffff:127.0.0.1]:{port}", max_retries=0)
    error = refused(client, insight)

    assert (error.kind, error.request_may_have_been_processed) == ("connect", False), error
    assert "nothing was sent" in str(error) and "proxy" not in str(error), error
    assert proxy.requests() == []


def test_an_https_proxy_is_reached_over_tls(
    graph_emu: Emulator, insight: UsedInsight, tunnel_proxy: StartTunnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = tunnel_proxy(graph_emu, "--tls")
    assert proxy.url.startswith("https://")
    assert proxy.ca_path is not None and graph_emu.ca_path is not None
    only_these_proxy_variables(monkeypatch)
    roots = [graph_emu.ca_path, proxy.ca_path]

    with Client(token=TOKEN, base_url=graph_emu.base_url, ca_file=roots, proxy=proxy.url, max_retries=0) as client:
        assert repr(client).endswith(f", proxy='{proxy.url}')"), repr(client)
        created = client.create("alice@contoso.com", insight)

    assert created.id
    assert proxy.connects() == [urllib.parse.urlsplit(graph_emu.base_url).netloc]
    assert [s["id"] for s in graph_emu.stored("alice@contoso.com")] == [created.id]

    # From the environment, for Graph's own host, once seen at work.
    url, target = mapped(graph_emu)
    only_these_proxy_variables(monkeypatch, HTTPS_PROXY=proxy.url)
    create(graph_emu, insight, "mapped@contoso.com", url, ca_file=roots)
    assert proxy.connects()[-1] == target
    create(graph_emu, insight, "bob@contoso.com", ca_file=roots)
    assert proxy.connects()[-1] == GRAPH


def test_an_https_proxy_whose_certificate_is_not_trusted_is_a_tls_error_nothing_sent(
    graph_emu: Emulator, insight: UsedInsight, tunnel_proxy: StartTunnel
) -> None:
    proxy = tunnel_proxy(graph_emu, "--tls")
    client = Client(
        token=TOKEN, base_url=graph_emu.base_url, ca_file=graph_emu.ca_path, proxy=proxy.url, max_retries=0
    )
    error = refused(client, insight)

    assert (error.kind, error.request_may_have_been_processed) == ("tls", False), error
    assert "nothing was sent" in str(error)
    assert proxy.requests() == [], "no CONNECT before the handshake with the proxy"
    assert graph_emu.requests() == []
