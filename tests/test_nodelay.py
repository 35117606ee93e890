"""WebSocket connections have Nagle's algorithm off, under every server."""
from __future__ import annotations

import pytest

from flask_sockpub.client import Client
from flask_sockpub.testing import live_server


@pytest.mark.parametrize("async_mode", ["threading", "gevent", "eventlet"])
def test_websocket_connections_are_tcp_nodelay(async_mode: str) -> None:
    with live_server("tests.apps.models:create_app", async_mode=async_mode) as server:
        with Client(server.url) as client:
            assert client.get("/my/nodelay").body == {"nodelay": True}
