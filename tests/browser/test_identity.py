"""A page that logs in and out over its socket hears exactly what its current identity may (Chromium).

The app is ``tests.apps.hearing``: an inbox room per user (``login_required``)
and a public room. The SDK sends the page's subscribing requests again after
each change of identity; a bystander page stays logged in as alice throughout.
With server-side sessions, a login over the socket rotates the session and the
page's cookie follows it, so a planted session id is worth nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
import requests
from playwright.sync_api import BrowserContext, Page

from flask_sockpub.testing import LiveServer, live_server
from tests.browser.conftest import wait_until_connected

REDIS_URL = "redis://127.0.0.1:6379/0"
APP = "tests.apps.hearing:served_app"


@pytest.fixture(scope="module")
def hearing_server() -> Iterator[LiveServer]:
    with live_server(APP) as server:
        yield server


@pytest.fixture(scope="module")
def hearing_redis_server() -> Iterator[LiveServer]:
    prefix = f"sockpub-hearing-browser-{uuid.uuid4().hex}:"
    env = {
        "SOCKPUB_TEST_SESSION_TYPE": "redis",
        "SOCKPUB_TEST_SESSION_KEY_PREFIX": prefix,
        "SOCKPUB_TEST_REDIS_URL": REDIS_URL,
    }
    try:
        with live_server(APP, env=env) as server:
            yield server
    finally:
        store = redis.Redis.from_url(REDIS_URL)
        keys = list(store.scan_iter(match=f"{prefix}*"))
        if keys:
            store.delete(*keys)
        store.close()


def send(server: LiveServer, inbox: str, text: str) -> None:
    """Broadcast to a user's inbox (or the public room) from an HTTP request."""
    path = "/public/say" if inbox == "public" else f"/inbox/{inbox}"
    assert requests.post(f"{server.url}{path}", json={"text": text}, timeout=5).status_code == 200


def identity_page(
    server: LiveServer, open_page: Callable[..., Page], context: BrowserContext
) -> Page:
    page = open_page(f"{server.url}/pages/identity.html", context)
    wait_until_connected(page)
    return page


def become(page: Page, name: str | None, inbox_answers: int) -> None:
    """Log the page's socket in as ``name`` (out for ``None``); wait for the resubscriptions."""
    page.evaluate("(name) => as(name)", name)
    page.wait_for_function("(n) => window.seen.inbox.length === n", arg=inbox_answers)


def heard_in_order(page: Page, server: LiveServer, marker: str) -> list[str]:
    """What the page heard until ``marker`` (sent to the public room, which it always hears)."""
    send(server, "public", marker)
    page.wait_for_function("(m) => window.seen.messages.includes(m)", arg=marker)
    messages: list[str] = page.evaluate("() => window.seen.messages.splice(0)")
    return messages


def test_a_page_logging_in_and_out_over_its_socket_hears_what_its_identity_may(
    hearing_server: LiveServer,
    open_page: Callable[..., Page],
    new_context: Callable[[], BrowserContext],
) -> None:
    server = hearing_server
    bystander = identity_page(server, open_page, new_context())
    become(bystander, "alice", 1)
    page = identity_page(server, open_page, new_context())

    become(page, "alice", 1)
    send(server, "alice", "to alice 1")
    assert heard_in_order(page, server, "mark 1") == ["to alice 1", "mark 1"]

    become(page, "bob", 2)
    send(server, "alice", "to alice 2")
    send(server, "bob", "to bob 1")
    assert heard_in_order(page, server, "mark 2") == ["to bob 1", "mark 2"]

    become(page, None, 3)
    send(server, "alice", "to alice 3")
    send(server, "bob", "to bob 2")
    assert heard_in_order(page, server, "mark 3") == ["mark 3"]
    assert page.evaluate("() => window.seen.inbox") == ["alice", "bob", 401]
    assert page.evaluate("() => window.seen.identityChanges") == 3

    # The bystander, alice all along, heard every message to alice.
    assert heard_in_order(bystander, server, "mark 4") == [
        "to alice 1", "mark 1", "to alice 2", "mark 2", "to alice 3", "mark 3", "mark 4",
    ]  # fmt: skip


def test_a_login_over_the_socket_rotates_a_planted_session_and_the_page_follows(
    hearing_redis_server: LiveServer,
    open_page: Callable[..., Page],
    context: BrowserContext,
    new_context: Callable[[], BrowserContext],
) -> None:
    server = hearing_redis_server
    attacker = requests.Session()
    attacker.post(f"{server.url}/value", json={"value": "planted"}, timeout=5).raise_for_status()
    planted = attacker.cookies["session"]
    context.add_cookies([{"name": "session", "value": planted, "url": server.url}])
    bystander = identity_page(server, open_page, new_context())
    become(bystander, "mallory", 1)
    page = identity_page(server, open_page, context)

    become(page, "victim", 1)
    page.wait_for_function(
        "async () => (await (await fetch('/me')).json()).user === 'victim'", polling=100
    )
    cookie = next(c["value"] for c in context.cookies(server.url) if c["name"] == "session")
    assert cookie != planted
    assert attacker.get(f"{server.url}/me", timeout=5).json() == {"user": None}
    # The page's socket and its HTTP requests share the rotated session.
    send(server, "victim", "to the victim")
    assert heard_in_order(page, server, "mark") == ["to the victim", "mark"]
    assert page.evaluate("async () => (await socket.get('/me')).user") == "victim"
    assert bystander.evaluate("async () => (await socket.get('/me')).user") == "mallory"
