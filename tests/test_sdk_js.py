"""The browser SDK's JavaScript unit tests (tests/js/, Node's own test runner).

They drive the SDK's logic (queueing, promise and callback shapes,
disconnection, resubscription after a reconnect, settings and back-off)
against a fake socket; the browser tests (tests/browser/) drive the built
bundle in Chromium. ``scripts/test`` installs the npm packages first.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_sdk_unit_tests_pass() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for this test: install Node.js 18 or newer"
    assert (ROOT / "node_modules" / "socket.io-client").is_dir(), (
        "the npm packages are missing: run `npm ci` at the repository root (scripts/test does)"
    )
    result = subprocess.run(
        [node, "--test", "--test-timeout=20000", "tests/js/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = f"node --test said:\n{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, report
    assert "# fail 0" in result.stdout, report
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) >= 30, report
