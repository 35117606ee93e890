"""The todo demo (examples/todo, the README's demo command): tabs see each other's changes live."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests
from playwright.sync_api import Page, expect

from flask_sockpub.testing import LiveServer, free_port, live_server
from tests.browser.conftest import keep_screenshot

#: Bound on waiting for a page to reconnect to a restarted server (see test_sdk.py).
RECONNECT_WAIT_MS = 15000


def clear(server: LiveServer) -> None:
    """Delete every todo, over HTTP (the blueprint answers HTTP too)."""
    for todo in requests.get(f"{server.url}/todo", params={"limit": 1000}, timeout=5).json():
        requests.delete(f"{server.url}/todo/{todo['id']}", timeout=5).raise_for_status()


def open_todos(open_page: Callable[..., Page], server: LiveServer) -> Page:
    page = open_page(server.url + "/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    expect(page.locator("#count")).not_to_be_empty()  # the list arrived
    return page


def add(page: Page, title: str) -> None:
    page.fill("#title", title)
    page.press("#title", "Enter")


def row(page: Page, title: str):  # type: ignore[no-untyped-def]
    return page.locator("#todos li", has_text=title)


def test_two_tabs_see_each_others_creates_updates_and_deletes(
    todo_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    clear(todo_server)
    first = open_todos(open_page, todo_server)
    second = open_todos(open_page, todo_server)
    expect(second.locator("#count")).to_have_text("Nothing to do.")

    add(first, "Buy milk")
    expect(row(second, "Buy milk")).to_be_visible()
    add(second, "Walk the dog")
    expect(row(first, "Walk the dog")).to_be_visible()
    expect(first.locator("#todos .title")).to_have_text(["Buy milk", "Walk the dog"])
    expect(second.locator("#todos .title")).to_have_text(["Buy milk", "Walk the dog"])

    row(second, "Buy milk").locator("input[type=checkbox]").check()
    expect(row(first, "Buy milk")).to_have_class("done")
    expect(row(first, "Buy milk").locator("input[type=checkbox]")).to_be_checked()
    expect(first.locator("#count")).to_have_text("1 of 2 left")

    row(first, "Walk the dog").locator("button").click()
    expect(row(second, "Walk the dog")).to_have_count(0)
    expect(second.locator("#todos li")).to_have_count(1)
    expect(second.locator("#count")).to_have_text("0 of 1 left")


def test_changes_over_http_reach_the_page_too(
    todo_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    page = open_todos(open_page, todo_server)
    created = requests.post(
        f"{todo_server.url}/todo", json={"title": "Sent with curl"}, timeout=5
    ).json()
    expect(row(page, "Sent with curl")).to_be_visible()
    requests.patch(
        f"{todo_server.url}/todo/{created['id']}", json={"title": "Renamed with curl"}, timeout=5
    )
    expect(row(page, "Renamed with curl")).to_be_visible()
    requests.delete(f"{todo_server.url}/todo/{created['id']}", timeout=5)
    expect(row(page, "Renamed with curl")).to_have_count(0)


def test_screenshot_of_the_todo_demo(
    todo_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    clear(todo_server)
    page = open_todos(open_page, todo_server)
    for title in ("Read the seed", "Write the browser SDK", "Try it in two tabs"):
        add(page, title)
        expect(row(page, title)).to_be_visible()
    row(page, "Read the seed").locator("input[type=checkbox]").check()
    expect(page.locator("#count")).to_have_text("2 of 3 left")
    other = open_todos(open_page, todo_server)
    expect(other.locator("#count")).to_have_text("2 of 3 left")
    page.set_viewport_size({"width": 900, "height": 420})
    keep_screenshot(page, "todo-demo.png")


def test_a_tab_whose_server_restarts_reconnects_and_catches_up(
    open_page: Callable[..., Page], tmp_path: Path
) -> None:
    port = free_port()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'todo.sqlite'}"}
    with live_server("examples.todo.app:create_app", port=port, env=env) as server:
        page = open_todos(open_page, server)
        requests.post(f"{server.url}/todo", json={"title": "Before the restart"}, timeout=5)
        expect(row(page, "Before the restart")).to_be_visible()
    expect(page.locator("#connection")).to_have_attribute("data-state", "disconnected")
    with live_server("examples.todo.app:create_app", port=port, env=env) as server:
        # Made while the page is still away: its list catches up when the SDK
        # sends GET /todo again after reconnecting.
        requests.post(f"{server.url}/todo", json={"title": "While it was away"}, timeout=5)
        expect(page.locator("#connection")).to_have_attribute(
            "data-state", "connected", timeout=RECONNECT_WAIT_MS
        )
        expect(row(page, "While it was away")).to_be_visible()
        # And it hears new changes again, without a reload.
        requests.post(f"{server.url}/todo", json={"title": "After it came back"}, timeout=5)
        expect(row(page, "After it came back")).to_be_visible()
        expect(page.locator("#todos .title")).to_have_text(
            ["Before the restart", "While it was away", "After it came back"]
        )
