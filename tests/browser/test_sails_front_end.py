"""A Sails 1.x front end (io.socket, SOCKPUB_EVENT_STYLE = "model") against a Flask app, in Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from playwright.sync_api import Page

from flask_sockpub.testing import LiveServer


def seen(page: Page) -> Any:
    return page.evaluate("() => window.seen")


def test_io_socket_get_and_on_work_as_in_sails(
    pages_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    url = pages_server.url
    randy = requests.post(f"{url}/user", json={"name": "Randy"}, timeout=5).json()
    page = open_page(f"{url}/pages/sails.html")
    page.wait_for_function("() => window.seen.users !== null")
    listed = seen(page)
    assert listed["status"] == 200
    assert {"id": randy["id"], "name": "Randy"} in listed["users"]

    amanda = requests.post(f"{url}/user", json={"name": "Amanda"}, timeout=5).json()
    requests.patch(
        f"{url}/user/{randy['id']}", json={"name": "Randall"}, timeout=5
    ).raise_for_status()
    requests.delete(f"{url}/user/{amanda['id']}", timeout=5).raise_for_status()
    page.wait_for_function("() => window.seen.events.length >= 3")
    created, updated, destroyed = seen(page)["events"][:3]
    assert created == {
        "verb": "created",
        "id": amanda["id"],
        "data": {"id": amanda["id"], "name": "Amanda"},
    }
    assert updated["verb"] == "updated"
    assert updated["id"] == randy["id"]
    assert updated["data"] == {"id": randy["id"], "name": "Randall"}
    assert destroyed["verb"] == "destroyed"
    assert destroyed["id"] == amanda["id"]


def test_a_sails_page_writes_with_io_socket_and_another_page_hears_it(
    pages_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    writer = open_page(f"{pages_server.url}/pages/sails.html")
    listener = open_page(f"{pages_server.url}/pages/sails.html")
    for page in (writer, listener):
        page.wait_for_function("() => window.seen.users !== null")
    answer = writer.evaluate(
        """() => new Promise((resolve) => io.socket.post('/user', {name: 'Written by io.socket'},
             (user, jwr) => resolve({user, status: jwr.statusCode, error: jwr.error || null})))"""
    )
    assert answer["status"] == 201
    assert answer["error"] is None
    user = answer["user"]
    listener.wait_for_function(
        f"() => window.seen.events.some((event) => event.verb === 'created' && event.id === {user['id']})"
    )
    refused = writer.evaluate(
        """() => new Promise((resolve) => io.socket.post('/user', {nickname: 'no such attribute'},
             (body, jwr) => resolve({status: jwr.statusCode, error: body.error, isError: jwr.error instanceof Error})))"""
    )
    assert refused["status"] == 400
    assert "nickname" in refused["error"]
    assert refused["isError"] is True
