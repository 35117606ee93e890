"""The quickstart, followed word by word on a fresh clone: its commands give a live todo page.

The commands are read from docs/quickstart.rst: the ``git clone`` of its
"Try it" section clones this checkout's committed HEAD
(``REPOSITORY``, the page says, is where you got flask_sockpub from); then
``cd`` and ``scripts/demo``, with ``PORT`` set to a free port (the page says
``PORT`` changes where it listens). Then two tabs of the page it names see
each other's changes.

What is reused, to keep the test command short: the dependencies, Python
and JavaScript. Before ``scripts/demo`` runs, the test makes the clone's
``.venv`` (without pip) with a ``.pth`` file putting this checkout's venv's
site-packages on its path, so ``scripts/demo`` skips making the venv, and its
install step (``pip install -e`` of the clone, which still runs) finds every
dependency installed, setuptools included (``PIP_NO_BUILD_ISOLATION=0``: no
build environment to fill). It also hard-links this checkout's
``node_modules`` into the clone with a fresh install stamp, so ``npm ci`` is
skipped; the SDK build runs. ``SOCKPUB_QUICKSTART_FRESH=1`` reuses nothing:
``scripts/demo`` then makes the venv and installs everything (pip and npm
from their caches or the registries): 59 s against 12 s on the shared machine.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import site
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from flask_sockpub.testing import free_port, wait_until_listening
from tests.docs_blocks import ROOT, read_page

#: How long scripts/demo may take to install and start (a hang guard, not a goal).
START_TIMEOUT = 600


def quickstart_commands() -> list[list[str]]:
    """The commands of the quickstart's "Try it" block, comments dropped."""
    page = read_page(ROOT / "docs" / "quickstart.rst")
    (block,) = [block for block in page.blocks if "git clone" in block.code]
    return [shlex.split(line, comments=True) for line in block.code.splitlines() if line.strip()]


def reuse_dependencies(clone: Path) -> None:
    """Give ``clone`` a venv with this venv's site-packages on its path, and this checkout's npm packages."""
    venv = clone / ".venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60
    )
    (own,) = [path for path in site.getsitepackages() if path.startswith(sys.prefix)]
    (theirs,) = venv.glob("lib/python*/site-packages")
    (theirs / "reused-dependencies.pth").write_text(own + "\n")
    shutil.copytree(
        ROOT / "node_modules", clone / "node_modules", copy_function=os.link, symlinks=True
    )
    stamp = (
        clone / "node_modules" / ".sockpub-installed"
    )  # scripts/common.sh's: newer than package-lock.json
    stamp.unlink(missing_ok=True)
    stamp.touch()


def test_the_quickstart_gives_a_page_whose_tabs_see_each_others_changes(
    tmp_path: Path, open_page: Callable[..., Page]
) -> None:
    text = (ROOT / "docs" / "quickstart.rst").read_text()
    assert "Open http://127.0.0.1:5000 in two tabs" in text
    assert re.search(r"``PORT``\s+change where it listens", text)
    *setup, serve = quickstart_commands()
    assert setup[0][:2] == ["git", "clone"] and setup[0][2] == "REPOSITORY", setup
    assert serve == ["scripts/demo"], serve

    cwd = tmp_path
    for command in setup:
        if command[0] == "cd":
            cwd = cwd / command[1]
            continue
        command = [str(ROOT) if word == "REPOSITORY" else word for word in command]
        subprocess.run(command, cwd=cwd, check=True, timeout=120)

    fresh = os.environ.get("SOCKPUB_QUICKSTART_FRESH") == "1"
    if not fresh:
        reuse_dependencies(cwd)

    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("SOCKPUB_VENV", "VIRTUAL_ENV", "PYTHONPATH")
    }
    env["PORT"] = str(port)
    if not fresh:
        env["PIP_NO_BUILD_ISOLATION"] = "0"  # pip's spelling of --no-build-isolation
    with open(tmp_path / "demo.log", "w+b") as log:
        demo = subprocess.Popen(
            [str(cwd / serve[0]), *serve[1:]], cwd=cwd, env=env,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        class Watched:
            def check_alive(self) -> None:
                if demo.poll() is not None:
                    raise RuntimeError(f"scripts/demo exited with {demo.returncode}:\n{self.log()}")

            def log(self) -> str:
                log.seek(0)
                return log.read().decode(errors="replace")

        try:
            wait_until_listening(Watched(), "127.0.0.1", port, START_TIMEOUT)
            assert ("creating virtualenv" in Watched().log()) == fresh
            assert f"installing flask_sockpub into {cwd / '.venv'}" in Watched().log()
            assert ("npm ci" in Watched().log()) == fresh
            url = f"http://127.0.0.1:{port}"
            first, second = open_page(url), open_page(url)
            for page in (first, second):
                expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
                expect(page.locator("#count")).to_have_text("Nothing to do.")
            first.fill("#title", "Follow the quickstart")
            first.press("#title", "Enter")
            added = second.locator("#todos li", has_text="Follow the quickstart")
            expect(added).to_be_visible()
            added.locator("input[type=checkbox]").check()
            expect(first.locator("#todos li", has_text="Follow the quickstart")).to_have_class(
                "done"
            )
        finally:
            os.killpg(demo.pid, signal.SIGTERM)
            demo.wait(timeout=30)
