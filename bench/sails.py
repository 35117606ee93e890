"""The benchmark's Sails peer: ``bench/sails_app/`` installed with npm into ``bench/.sails/`` at bench time.

The app's own files (``app.js``, the ``Item`` model, the ``echo`` action and
the ``package.json`` pinning Sails and its hooks) are in ``bench/sails_app/``;
:func:`prepare` copies them into ``bench/.sails/`` (git-ignored) and runs
``npm install`` there, only when ``package.json`` changed since the last
install (or nothing is installed yet), so a second run does not reinstall.
The harness then starts ``node bench/.sails/app.js PORT`` pinned to the
servers' CPU, like the Python servers.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from . import processes

SOURCE = processes.ROOT / "bench" / "sails_app"
FOLDER = processes.ROOT / "bench" / ".sails"
#: Holds the SHA-256 of the package.json last installed in FOLDER.
STAMP = FOLDER / ".sockpub-installed"
NPM_INSTALL = ("npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--omit=dev")
INSTALL_TIMEOUT_S = 900


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def installed() -> bool:
    """Whether ``bench/.sails/`` holds the packages of the current ``package.json``."""
    return (
        STAMP.is_file()
        and STAMP.read_text().strip() == _digest(SOURCE / "package.json")
        and (FOLDER / "node_modules" / "sails").is_dir()
    )


def prepare(progress: Callable[[str], None]) -> None:
    """Copy the app into ``bench/.sails/`` and install its packages unless they already are."""
    if shutil.which("npm") is None:
        raise SystemExit(
            "bench: npm is missing (the Sails peer is installed with it; --no-sails skips Sails)"
        )
    FOLDER.mkdir(exist_ok=True)
    shutil.rmtree(
        FOLDER / "api", ignore_errors=True
    )  # no stale model or action from an earlier copy
    shutil.copytree(SOURCE, FOLDER, dirs_exist_ok=True)
    if installed():
        return
    progress(
        f"installing the Sails peer's packages into {FOLDER.relative_to(processes.ROOT)} (npm install)"
    )
    STAMP.unlink(missing_ok=True)
    try:
        subprocess.run(NPM_INSTALL, cwd=FOLDER, check=True, timeout=INSTALL_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SystemExit(f"bench: npm install of the Sails peer failed: {exc}") from exc
    STAMP.write_text(_digest(SOURCE / "package.json") + "\n")


def command(port: int) -> list[str]:
    """The command serving the Sails app on ``port`` (after :func:`prepare`)."""
    return ["node", str(FOLDER / "app.js"), str(port)]
