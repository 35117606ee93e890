"""sockpub.js in Chromium: the global socket, io.socket, queueing, and reconnection after a server restart."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import requests
from playwright.sync_api import Page

from flask_sockpub.testing import LiveServer, free_port, live_server
from tests.browser.conftest import WAIT_MS, wait_until_connected

#: Bound on waiting for a page to reconnect to a restarted server: the server
#: needs a second or two to start, and the SDK's back-off (1 s doubling, 5 s
#: at most, +-50% jitter) may be between attempts then.
RECONNECT_WAIT_MS = 15000


def say(server: LiveServer, room: str, text: str) -> None:
    """Broadcast to ``room`` from an HTTP request."""
    response = requests.post(f"{server.url}/rooms/{room}/say", json={"text": text}, timeout=5)
    assert response.status_code == 200


def seen(page: Page) -> Any:
    return page.evaluate("() => window.seen")


def test_a_request_made_before_the_socket_connects_waits_and_is_answered(
    pages_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(pages_server.url + "/pages/early.html")
    page.wait_for_function("() => window.early.body")
    assert page.evaluate("() => window.early") == {
        "connectedWhenAsked": False,
        "body": {"success": True, "message": "early"},
    }


def test_io_socket_is_the_global_socket_with_sails_io_js_shapes(
    pages_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(pages_server.url + "/pages/early.html")
    wait_until_connected(page)
    result = page.evaluate(
        """async () => {
             const viaRequest = await new Promise((resolve) => io.socket.request(
               {method: 'post', url: '/echo', params: {message: 'posted'}},
               (body, jwr) => resolve({body, status: jwr.statusCode, pojo: jwr.toPOJO().statusCode})));
             const other = io.sails.connect();
             const fromOther = await other.get('/echo', {message: 'second socket'});
             const ids = [io.socket.raw.id, other.raw.id];
             other.disconnect();
             return {same: io.socket === socket, viaRequest, fromOther, distinct: ids[0] !== ids[1]};
           }"""
    )
    assert result == {
        "same": True,
        "viaRequest": {"body": {"success": True, "message": "posted"}, "status": 200, "pojo": 200},
        "fromOther": {"success": True, "message": "second socket"},
        "distinct": True,
    }


def test_a_page_reconnects_after_its_server_restarts_and_hears_its_room_again(
    open_page: Callable[..., Page],
) -> None:
    port = free_port()
    room = f"restart-{uuid.uuid4().hex[:8]}"
    with live_server("tests.apps.browser:create_app", port=port) as server:
        page = open_page(f"{server.url}/pages/room.html?room={room}")
        page.wait_for_function("() => window.seen.answers.length === 1")
        assert seen(page)["answers"][0]["subscribed"] == "1"
        say(server, room, "before")
        page.wait_for_function("() => window.seen.messages.length === 1")
        # A request still waiting for its answer when the server goes away.
        page.evaluate(
            """() => { window.cutOff = socket.get('/slow', {seconds: 30})
                 .then(() => 'answered', (jwr) => [jwr.statusCode, jwr.error.message]); }"""
        )
    page.wait_for_function("() => window.seen.disconnects === 1")
    assert page.evaluate("() => window.cutOff") == [
        0,
        "the socket disconnected (transport close) before GET /slow was answered",
    ]
    with live_server("tests.apps.browser:create_app", port=port) as server:
        # The SDK sent GET /rooms/<room> again (its answer said it subscribed),
        # so the new server put the new socket in the room.
        page.wait_for_function(
            "() => window.seen.reconnects.length === 1", timeout=RECONNECT_WAIT_MS
        )
        page.wait_for_function("() => window.seen.answers.length === 2", timeout=WAIT_MS)
        say(server, room, "after")
        page.wait_for_function("() => window.seen.messages.length === 2", timeout=WAIT_MS)
    result = seen(page)
    assert [message["text"] for message in result["messages"]] == ["before", "after"]
    assert result["reconnects"] == [{"resubscribed": 1}]
    assert [answer["body"] for answer in result["answers"]] == [{"room": room}, {"room": room}]


def test_script_tag_settings_and_a_socket_of_the_pages_own(
    pages_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(pages_server.url + "/pages/settings.html")
    page.wait_for_function("() => window.result.me && window.result.globalSocket")
    assert page.evaluate("() => window.result") == {
        "environment": "production",
        "me": {"auth": {"token": "abc"}, "client": "dashboard"},
        "globalSocket": "undefined",  # autoconnect="false": no global socket
        "ioSocket": "undefined",
    }
