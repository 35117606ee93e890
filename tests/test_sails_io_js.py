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


def run_node_tests(test_file: str, server: LiveServer) -> None:
    """Run one of tests/node's files against ``server``; fail with node's and the server's output."""
    node = shutil.which("node")
    assert node, "Node.js is needed for this test: install Node.js 18 or newer"
    assert (ROOT / "node_modules" / "sails.io.js").is_dir(), (
        "the npm packages are missing: run `npm ci` at the repository root (scripts/test does)"
    )
    result = subprocess.run(
        [node, "--test", "--test-timeout=20000", str(NODE_TESTS / test_file)],
        cwd=ROOT,
        env={**os.environ, "SOCKPUB_SERVER_URL": server.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = f"node --test said:\n{result.stdout}\n{result.stderr}\nthe server said:\n{server.log()}"
    assert result.returncode == 0, report
    assert "# fail 0" in result.stdout, report
    assert "# pass 0" not in result.stdout, report


@pytest.mark.parametrize("variant_server", ["threading", "gevent", "eventlet"], indirect=True)
def test_sails_io_js_talks_to_flask_views(variant_server: LiveServer) -> None:
    run_node_tests("sails-io.test.js", variant_server)


@pytest.mark.usefixtures("fresh_rows")
def test_sails_io_js_drives_a_crud_blueprint(blueprint_server: LiveServer) -> None:
    run_node_tests("blueprints.test.js", blueprint_server)
