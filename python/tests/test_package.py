"""The installed package: layout, public names, exception classes."""

from __future__ import annotations

import pickle
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import used_insight
from used_insight import (
    Cancelled,
    ConfigurationError,
    GraphApiError,
    InvalidResponseError,
    RequestTimeout,
    TokenProviderError,
    TransportError,
    UsedInsightError,
    ValidationError,
)


def test_suite_runs_against_the_installed_wheel_not_the_source_tree() -> None:
    package = Path(used_insight.__file__).resolve().parent
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert package.parent == site_packages
    native = [p.name for p in package.iterdir() if p.name.startswith("_native")]
    assert sorted(native) == ["_native.abi3.so", "_native.pyi"]
    assert (package / "py.typed").exists()


def test_public_names_and_version() -> None:
    assert set(used_insight.__all__) == {
        "Client",
        "RateLimit",
        "CancelToken",
        "AsyncClient",
        "used_insight_create",
        "used_insight_create_many",
        "UsedInsight",
        "UsageDetails",
        "ResourceVisualization",
        "ResourceReference",
        "UsedInsightError",
        "ValidationError",
        "ConfigurationError",
        "GraphApiError",
        "TransportError",
        "RequestTimeout",
        "InvalidResponseError",
        "TokenProviderError",
        "ClientSecretCredential",
        "CertificateCredential",
        "WorkloadIdentityCredential",
        "ManagedIdentityCredential",
        "EnvironmentCredential",
        "DefaultAzureCredential",
        "AccessToken",
        "Cancelled",
        "reset_logging_cache",
        "__version__",
    }
    for name in used_insight.__all__:
        assert getattr(used_insight, name) is not None
    from importlib.metadata import version

    assert used_insight.__version__ == version("used-insight")
    assert used_insight.Client.__module__ == "used_insight"
    assert used_insight.DefaultAzureCredential.__module__ == "used_insight"


@pytest.mark.parametrize(
    ("exception", "builtin"),
    [
        (ValidationError, ValueError),
        (ConfigurationError, ValueError),
        (TransportError, ConnectionError),
        (RequestTimeout, TimeoutError),
        (GraphApiError, Exception),
        (InvalidResponseError, Exception),
        (TokenProviderError, Exception),
        (Cancelled, Exception),
    ],
)
def test_every_exception_is_a_used_insight_error_and_its_builtin(
    exception: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(exception, UsedInsightError)
    assert issubclass(exception, builtin)


def test_exceptions_survive_pickling() -> None:
    graph = GraphApiError("boom", status=429, code="TooManyRequests", retry_after=1.5)
    copy = pickle.loads(pickle.dumps(graph))
    assert (copy.status, copy.code, copy.retry_after, str(copy)) == (429, "TooManyRequests", 1.5, "boom")
    invalid = ValidationError([("lastUsed", "is required")])
    assert pickle.loads(pickle.dumps(invalid)).problems == [("lastUsed", "is required")]
    lost = TransportError("reset", kind="connection_lost", request_may_have_been_processed=True)
    copy_lost = pickle.loads(pickle.dumps(lost))
    assert (copy_lost.kind, copy_lost.request_may_have_been_processed) == ("connection_lost", True)


def test_import_stays_light() -> None:
    # Import time is part of the product: no logging, json, typing or
    # dataclasses until they are needed.
    code = "import sys, used_insight; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    for heavy in ["logging", "json", "typing", "dataclasses", "inspect"]:
        assert heavy not in loaded
