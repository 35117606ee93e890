"""The welcome page of examples/echo, and the seed's browser examples, in Chromium."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from flask_sockpub.testing import LiveServer
from tests.browser.conftest import wait_until_connected


def test_the_welcome_page_shows_the_connection_and_echoes_over_the_socket(
    echo_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(echo_server.url + "/")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    expect(page.locator("#connection")).to_have_text("connected")
    page.fill("#message", "hi from the welcome page")
    page.click("#echo-form button")
    answer = page.locator("#answer")
    expect(answer).to_contain_text('"message": "hi from the welcome page"')
    expect(answer).to_contain_text("200")
    expect(page.locator("#echoes")).to_contain_text("hi from the welcome page (over socket")


def test_the_seeds_socket_get_works_from_the_page(
    echo_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(echo_server.url + "/")
    answer = page.evaluate(
        """() => new Promise((resolve) => {
             socket.get('/echo', {message: 'hi there!'}, (body, jwr) => resolve({body, status: jwr.statusCode}));
           })"""
    )
    assert answer == {"body": {"success": True, "message": "hi there!"}, "status": 200}
    assert page.evaluate("() => socket.get('/echo', {message: 'as a promise'})") == {
        "success": True,
        "message": "as a promise",
    }


def test_an_error_status_rejects_the_promise_with_the_jwr(
    echo_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(echo_server.url + "/")
    wait_until_connected(page)
    failure = page.evaluate(
        """() => socket.get('/no/such/page').then(
             () => 'resolved',
             (jwr) => ({status: jwr.statusCode, error: jwr.body.error, message: jwr.error.message}))"""
    )
    assert failure["status"] == 404
    assert "not found" in failure["error"].lower()
    assert failure["message"].startswith("the server answered 404")
