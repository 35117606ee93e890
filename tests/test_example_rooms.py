"""The model rooms example the docs include runs as documented."""

from __future__ import annotations

import subprocess
import sys

from flask_sockpub.testing import live_server
from tests.docs_blocks import ROOT, read_page


def test_the_rooms_example_client_hears_create_update_publish_and_destroy() -> None:
    with live_server("examples.rooms.app:create_app", async_mode="gevent") as server:
        run = subprocess.run(
            [sys.executable, "-m", "examples.rooms.client", server.url],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr
    # What docs/model-rooms.rst says it prints.
    (printed,) = [
        block
        for block in read_page(ROOT / "docs" / "model-rooms.rst").blocks
        if "'wave'" in block.code
    ]
    assert (
        run.stdout.splitlines()
        == printed.code.splitlines()
        == [
            "{'model': 'user', 'verb': 'create', 'id': 1, 'data': {'id': 1, 'name': 'Randy'}}",
            "{'model': 'user', 'verb': 'update', 'id': 1, 'data': {'name': 'Amanda'}}",
            "{'wave': 'Bob'}",
            "{'model': 'user', 'verb': 'destroy', 'id': 1}",
        ]
    )
