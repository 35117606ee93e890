"""The sdist and the wheel: what they carry, twine's check, and the wheel serving the todo demo from an empty venv.

``python -m build`` runs once for the module (an sdist, then a wheel built
from that sdist, each in an isolated environment with the setuptools
pyproject.toml asks for). The empty venv gets the wheel and its dependencies
from PyPI (or the local cache). uv makes the environments and installs: the
same packages as pip would, in a fraction of the time pip takes here (pip
creating and filling the two build environments and the venv took about
three times as long).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer, free_port, stop_process, wait_until_listening

ROOT = Path(__file__).resolve().parents[1]
#: What a build log or an install log must not say.
DEPRECATION = re.compile(r"deprecat", re.IGNORECASE)


@dataclass
class Dist:
    sdist: Path
    wheel: Path
    log: str


@pytest.fixture(scope="module")
def dist() -> Iterator[Dist]:
    """``python -m build`` of this checkout: an sdist and a wheel built from it."""
    with tempfile.TemporaryDirectory(prefix="sockpub-dist-") as out:
        build = subprocess.run(
            [sys.executable, "-m", "build", "--installer", "uv", "--outdir", out, str(ROOT)],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        log = build.stdout + build.stderr
        assert build.returncode == 0, log
        (sdist,) = Path(out).glob("*.tar.gz")
        (wheel,) = Path(out).glob("*.whl")
        yield Dist(sdist, wheel, log)


def test_the_build_log_has_no_deprecation_warning(dist: Dist) -> None:
    warnings = [line for line in dist.log.splitlines() if DEPRECATION.search(line)]
    assert not warnings, "\n".join(warnings)


def test_twine_check_passes(dist: Dist) -> None:
    check = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist.sdist), str(dist.wheel)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_wheel_carries_the_browser_bundle_py_typed_and_the_license(dist: Dist) -> None:
    with zipfile.ZipFile(dist.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(
            next(name for name in names if name.endswith(".dist-info/METADATA"))
        ).decode()
    assert "flask_sockpub/static/dist/sockpub.js" in names
    assert "flask_sockpub/py.typed" in names
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert "License-Expression: MIT" in metadata.splitlines()


def test_the_sdist_carries_the_bundle_its_sources_and_the_changelog(dist: Dist) -> None:
    with tarfile.open(dist.sdist) as sdist:
        names = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    for name in (
        "flask_sockpub/static/dist/sockpub.js", "flask_sockpub/py.typed", "package-lock.json",
        "scripts/build-sdk.mjs", "docs/changelog.rst", "LICENSE",
    ):  # fmt: skip
        assert name in names


def test_the_wheel_in_an_empty_venv_serves_the_todo_demo_with_its_sdk(
    dist: Dist, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "uv", "venv", "--quiet", str(venv)], check=True, timeout=60
    )
    python = venv / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "install", "--python", str(python), str(dist.wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    assert not DEPRECATION.search(install.stdout + install.stderr)
    # The demo, but not the package: from the temporary directory, only the
    # installed flask_sockpub can be imported.
    shutil.copytree(
        ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__")
    )
    where = subprocess.run(
        [str(python), "-c", "import flask_sockpub; print(flask_sockpub.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert Path(where.stdout.strip()).is_relative_to(venv)

    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'todo.sqlite'}"
    command = [
        str(python),
        "-m",
        "flask_sockpub",
        "run",
        "examples.todo.app:create_app",
        "--port",
        str(port),
    ]
    with open(tmp_path / "server.log", "w+b") as log:
        server = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
        )

        url = f"http://127.0.0.1:{port}"
        watched = LiveServer(url, server, log)
        try:
            wait_until_listening(watched, "127.0.0.1", port, timeout=30)
            page = requests.get(f"{url}/", timeout=10)
            assert page.status_code == 200
            assert '<script src="/sockpub/sockpub.js"></script>' in page.text
            assert requests.get(f"{url}/static/todo.js", timeout=10).status_code == 200
            sdk = requests.get(f"{url}/sockpub/sockpub.js", timeout=10)
            assert sdk.status_code == 200
            assert "javascript" in sdk.headers["Content-Type"]
            with zipfile.ZipFile(dist.wheel) as wheel:
                assert sdk.content == wheel.read("flask_sockpub/static/dist/sockpub.js")
            with Client(url) as client:
                created = client.post("/todo", {"title": "from the wheel"})
                assert created.status_code == 201
                assert client.get(f"/todo/{created.body['id']}").body["title"] == "from the wheel"
        finally:
            stop_process(server)
