"""The browser SDK's JavaScript unit tests (tests/js/, Node's own test runner).

They drive the SDK's logic (queueing, promise and callback shapes,
disconnection, resubscription after a reconnect, settings and back-off)
against a fake socket; the browser tests (tests/browser/) drive the built
bundle in Chromium. ``scripts/test`` installs the npm packages first.
"""

from __future__ import annotations

from tests.node_runner import run_node_tests


def test_sdk_unit_tests_pass() -> None:
    assert run_node_tests("tests/js/") >= 30
