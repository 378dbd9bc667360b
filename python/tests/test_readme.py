"""The README's Python example, and the type-checked user script, run
against the emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO, SECRET, SECRET_CLIENT, TENANT, TOKEN, Emulator, free_port

README = REPO / "README.md"
# The package's own page on the package index shows the same section.
PACKAGE_README = REPO / "python" / "README-python.md"


def examples_in(readme: Path) -> list[str]:
    text = readme.read_text(encoding="utf-8")
    section = text.split("## Using it from Python", 1)[1]
    blocks = re.findall(r"^```python\n(.*?)^```", section, flags=re.S | re.M)
    assert len(blocks) >= 2, f"{readme} should have a Python example and a create_many one"
    return [str(b) for b in blocks]


def example_in(readme: Path) -> str:
    return examples_in(readme)[0]


def readme_example() -> str:
    return example_in(README)


def create_many_example() -> str:
    [example] = [b for b in examples_in(README) if "progress=" in b]
    return example


def stopping_example() -> str:
    [example] = [b for b in examples_in(README) if "except KeyboardInterrupt" in b]
    return example


def async_example() -> str:
    [example] = [b for b in examples_in(README) if "AsyncClient" in b]
    return example


def credentials_example() -> str:
    [example] = [b for b in examples_in(README) if "DefaultAzureCredential()" in b]
    return example


def run_script(script: Path, env: dict[str, str]) -> str:
    """Runs a Python script as a user would (warnings as errors); it must
    exit 0. Returns what it printed."""
    result = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_example(source: str, name: str, emu: Emulator, tmp_path: Path) -> str:
    """Runs a README example against the emulator with a static token."""
    script = tmp_path / name
    script.write_text(source, encoding="utf-8")
    return run_script(script, {**os.environ, "GRAPH_TOKEN": TOKEN, "GRAPH_BASE_URL": emu.base_url})


def test_package_readme_shows_the_same_example() -> None:
    assert example_in(PACKAGE_README) == readme_example()
    assert examples_in(PACKAGE_README) == examples_in(README)


def test_readme_example_runs(emu: Emulator, tmp_path: Path) -> None:
    stdout = run_example(readme_example(), "example.py", emu, tmp_path)
    lines = stdout.splitlines()
    assert [line.split()[0] for line in lines[:2]] == ["created", "created"]
    assert "invalid: lastUsed.lastAccessedDateTime -" in stdout
    assert "invalid: resourceReference - is required" in stdout
    assert len(emu.requests()) == 2


def test_readme_create_many_example_runs(emu: Emulator, tmp_path: Path) -> None:
    stdout = run_example(create_many_example(), "create_many_example.py", emu, tmp_path)
    lines = stdout.splitlines()
    assert lines[:4] == ["1/4", "2/4", "3/4", "4/4"]
    assert [line.split()[0] for line in lines[4:]] == ["created", "created", "created", "failed"]
    assert lines[7].startswith("failed bob@contoso.com ValidationError(")
    [batch] = emu.requests()
    assert batch["path"] == "/v1.0/$batch"


def test_readme_async_example_runs(emu: Emulator, tmp_path: Path) -> None:
    stdout = run_example(async_example(), "async_example.py", emu, tmp_path)
    lines = stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["created", "q1.docx"],
        ["created", "q2.docx"],
        ["created", "q3.docx"],
    ]
    stored = emu.stored("alice@contoso.com")
    assert sorted(s["id"] for s in stored) == sorted(line.split()[2] for line in lines)


def test_readme_credentials_example_runs(entra: Emulator, tmp_path: Path) -> None:
    script = tmp_path / "credentials_example.py"
    script.write_text(credentials_example(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_"))}
    env.update(
        GRAPH_BASE_URL=entra.base_url,
        AZURE_TENANT_ID=TENANT,
        AZURE_CLIENT_ID=SECRET_CLIENT,
        AZURE_CLIENT_SECRET=SECRET,
        AZURE_AUTHORITY_HOST=entra.base_url,
        # Never the real metadata address.
        AZURE_POD_IDENTITY_AUTHORITY_HOST=f"http://127.0.0.1:{free_port()}",
    )

    def run() -> str:
        return run_script(script, env)

    assert run().startswith("created ")
    assert len(entra.requests()) == 2  # a token, then the create
    entra.reset()
    env["AZURE_CLIENT_SECRET"] = "not-the-secret"
    assert run().startswith("no token: AADSTS7000215 correlation id ")
    assert len(entra.requests()) == 1  # the token request alone


def test_readme_stopping_example_runs_when_not_stopped(emu: Emulator, tmp_path: Path) -> None:
    # Stopped, it is test_cancel.py's case; here it runs to the end.
    stdout = run_example(stopping_example(), "stopping_example.py", emu, tmp_path)
    assert stdout == "100 results\n"


def test_the_type_checked_user_script_also_runs(emu: Emulator) -> None:
    script = Path(__file__).parent / "typecheck" / "user_script.py"
    stdout = run_script(script, {**os.environ, "GRAPH_TOKEN": TOKEN, "GRAPH_BASE_URL": emu.base_url})
    assert len(emu.requests()) == 6
    assert stdout.splitlines()[0].endswith("] False")
    assert stdout.splitlines()[1] == "created 2 of 3"


if __name__ == "__main__":
    # scripts/test-python.sh type-checks the examples: print one.
    examples = {
        "create_many": create_many_example,
        "async": async_example,
        "credentials": credentials_example,
        "stopping": stopping_example,
    }
    print(examples.get(" ".join(sys.argv[1:]), readme_example)(), end="")
