"""``flask sockpub routes`` and ``flask sockpub run``: the command group SockPub adds to ``flask``."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import requests

from flask_sockpub.client import Client
from flask_sockpub.testing import LiveServer, free_port, stop_process, wait_until_listening
from tests.apps.command_line import create_app

FLASK = Path(sys.executable).with_name("flask")


def routes(**settings: object) -> dict[str, tuple[str, str, str]]:
    """``flask sockpub routes`` of the two-blueprint app: endpoint -> (methods, rule, over a socket)."""
    result = create_app(**settings).test_cli_runner().invoke(args=["sockpub", "routes"])
    assert result.exit_code == 0, result.output
    header, dashes, *lines = result.output.splitlines()
    assert header.split() == ["Endpoint", "Methods", "Rule", "Over", "a", "socket"]
    columns = [len(dash) for dash in dashes.split("  ")]
    found = {}
    for line in lines:
        cells, start = [], 0
        for width in columns[:3]:
            cells.append(line[start : start + width].strip())
            start += width + 2
        found[cells[0]] = (cells[1], cells[2], line[start:])
    return found


def test_routes_lists_what_each_blueprint_action_does_over_a_socket() -> None:
    found = routes()
    assert found["sockpub_article.list"] == (
        "GET", "/article",
        "subscribes to sockpub:model:article and to sockpub:model:article:<id> of each listed record",
    )  # fmt: skip
    assert found["sockpub_article.get"] == (
        "GET",
        "/article/<int:id>",
        "subscribes to sockpub:model:article:<id>",
    )
    assert found["sockpub_article.create"] == (
        "POST", "/article",
        "publishes create to sockpub:model:article, not to the requester; "
        "subscribes to sockpub:model:article:<id> of the new record",
    )  # fmt: skip
    assert found["sockpub_article.update"] == (
        "PATCH, PUT", "/article/<int:id>",
        "publishes update to sockpub:model:article:<id>, not to the requester",
    )  # fmt: skip
    assert found["sockpub_article.destroy"] == (
        "DELETE", "/article/<int:id>",
        "publishes destroy to sockpub:model:article:<id>, not to the requester; every socket leaves it",
    )  # fmt: skip


def test_routes_names_the_rooms_of_the_requests_scope_for_a_scoped_blueprint() -> None:
    found = routes()
    assert found["draft.list"][2] == (
        "subscribes to sockpub:scope:article:<scope> and to "
        "sockpub:scope:article:<scope>:<id> of each listed record"
    )
    assert found["draft.update"][2] == (
        "publishes update to sockpub:scope:article:<scope>:<id>, not to the requester; "
        "leave/enter as it leaves/enters scopes"
    )


def test_routes_leaves_out_the_actions_turned_off() -> None:
    found = routes()
    comment = sorted(endpoint for endpoint in found if endpoint.startswith("sockpub_comment."))
    assert comment == ["sockpub_comment.get", "sockpub_comment.list"]
    assert found["sockpub_comment.get"][2] == "subscribes to sockpub:model:comment:<id>"


def test_routes_lists_ordinary_views_as_reachable_with_no_room_effect() -> None:
    found = routes()
    assert found["hello"] == ("GET", "/hello", "")
    assert found["sockpub_client"] == ("GET", "/sockpub/sockpub.js", "")


def test_routes_speaks_the_sails_1_event_style_when_the_app_uses_it() -> None:
    found = routes(SOCKPUB_EVENT_STYLE="model")
    assert found["sockpub_article.update"][2] == (
        "publishes article updated to sockpub:model:article:<id>, not to the requester"
    )


@pytest.mark.parametrize("async_mode", ["threading", "gevent"])
def test_flask_sockpub_run_serves_http_and_sockets_on_one_port(async_mode: str) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        "FLASK_APP": "tests.apps.command_line:create_app",
    }
    command = [str(FLASK), "sockpub", "run", "--port", str(port), "--async-mode", async_mode]
    with tempfile.NamedTemporaryFile() as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        watched = LiveServer(url, server, log)
        try:
            wait_until_listening(watched, "127.0.0.1", port, timeout=30)
            assert requests.get(f"{url}/hello?name=http", timeout=10).json() == {"hello": "http"}
            with Client(url) as client:
                assert client.get("/hello", {"name": "socket"}).body == {"hello": "socket"}
                assert client.post("/article", {"title": "Flask"}).status_code == 201
            assert f"async mode {async_mode}" in watched.log()
        finally:
            stop_process(server)
