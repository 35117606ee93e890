"""Connections have Nagle's algorithm off, WebSockets and keep-alive HTTP, under every server."""

from __future__ import annotations

import pytest
import requests

from flask_sockpub.client import Client
from flask_sockpub.testing import live_server


@pytest.mark.parametrize("async_mode", ["threading", "gevent", "eventlet"])
def test_websocket_connections_are_tcp_nodelay(async_mode: str) -> None:
    with live_server("tests.apps.models:create_app", async_mode=async_mode) as server:
        with Client(server.url) as client:
            assert client.get("/my/nodelay").body == {"nodelay": True}


@pytest.mark.parametrize("async_mode", ["threading", "gevent", "eventlet"])
def test_keep_alive_http_connections_are_tcp_nodelay(async_mode: str) -> None:
    with live_server("tests.apps.models:create_app", async_mode=async_mode) as server:
        with requests.Session() as http:
            for _ in range(2):  # the second request reuses the connection
                response = http.get(f"{server.url}/my/nodelay", timeout=5)
                assert response.json() == {"nodelay": True}
