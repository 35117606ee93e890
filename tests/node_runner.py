"""Running JavaScript tests with Node's own test runner, from pytest."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from flask_sockpub.testing import LiveServer

ROOT = Path(__file__).resolve().parent.parent


def run_node_tests(path: str, server: LiveServer | None = None) -> int:
    """Run ``node --test`` on ``path`` (relative to the repository root); return how many passed.

    With ``server``, its URL is given in ``SOCKPUB_SERVER_URL`` and its log is
    shown when a test fails.
    """
    node = shutil.which("node")
    assert node, "Node.js is needed for this test: install Node.js 18 or newer"
    assert (ROOT / "node_modules" / "socket.io-client").is_dir(), (
        "the npm packages are missing: run `npm ci` at the repository root (scripts/test does)"
    )
    env = dict(os.environ)
    if server is not None:
        env["SOCKPUB_SERVER_URL"] = server.url
    result = subprocess.run(
        [node, "--test", "--test-timeout=20000", path],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = f"node --test said:\n{result.stdout}\n{result.stderr}"
    if server is not None:
        report += f"\nthe server said:\n{server.log()}"
    assert result.returncode == 0, report
    assert "# fail 0" in result.stdout, report
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) > 0, report
    return int(passed.group(1))
