"""The official sails.io.js client (npm, on socket.io-client 4) against real servers.

The JavaScript side is tests/node/sails-io.test.js, run with Node's own test
runner; this test serves tests/apps/clients.py in each async mode and runs it.
``scripts/test`` installs the npm packages (``npm ci``) before pytest runs.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from flask_sockpub.testing import LiveServer

ROOT = Path(__file__).resolve().parent.parent
NODE_TESTS = ROOT / "tests" / "node"


@pytest.mark.parametrize("variant_server", ["threading", "gevent", "eventlet"], indirect=True)
def test_sails_io_js_talks_to_flask_views(variant_server: LiveServer) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for this test: install Node.js 18 or newer"
    assert (ROOT / "node_modules" / "sails.io.js").is_dir(), (
        "the npm packages are missing: run `npm ci` at the repository root (scripts/test does)"
    )
    result = subprocess.run(
        [node, "--test", "--test-timeout=20000", str(NODE_TESTS)],
        cwd=ROOT,
        env={**os.environ, "SOCKPUB_SERVER_URL": variant_server.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = f"node --test said:\n{result.stdout}\n{result.stderr}\nthe server said:\n{variant_server.log()}"
    assert result.returncode == 0, report
    assert "# fail 0" in result.stdout, report
    assert "# pass 0" not in result.stdout, report
