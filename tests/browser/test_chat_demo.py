"""The chat demo (examples/chat) with two visitors, each in a browser profile of their own."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect

from flask_sockpub.testing import LiveServer
from tests.browser.conftest import keep_screenshot


def enter(
    open_page: Callable[..., Page],
    server: LiveServer,
    nick: str,
    context: BrowserContext | None = None,
) -> Page:
    """Pick a nickname (an HTTP form: it goes in the session) and land in the lobby."""
    page = open_page(server.url + "/", context)
    page.fill("input[name=nick]", nick)
    page.click("button[type=submit]")
    expect(page).to_have_url(server.url + "/r/lobby")
    expect(page.locator("#connection")).to_have_attribute("data-state", "connected")
    return page


def lines(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("#lines li").all_inner_texts()]


def test_two_visitors_chat_and_see_who_comes_and_goes(
    chat_server: LiveServer,
    open_page: Callable[..., Page],
    new_context: Callable[[], BrowserContext],
) -> None:
    randy = enter(open_page, chat_server, "Randy")
    expect(randy.locator("#people")).to_have_text("Randy")
    amanda = enter(open_page, chat_server, "Amanda", new_context())

    # Randy hears Amanda arrive, and both see who is here.
    expect(randy.locator("#lines li").last).to_contain_text("Amanda joined #lobby")
    for page in (randy, amanda):
        expect(page.locator("#people li")).to_have_text(["Amanda", "Randy"])

    amanda.fill("#text", "Hi Randy, how is the lobby?")
    amanda.press("#text", "Enter")
    randy.fill("#text", "Quiet, until you came.")
    randy.click("#say button")
    for page in (randy, amanda):
        expect(page.locator("#lines li").last).to_contain_text("RandyQuiet, until you came.")
        expect(page.locator("#lines li").nth(-2)).to_contain_text(
            "AmandaHi Randy, how is the lobby?"
        )
    expect(amanda.locator("#text")).to_have_value("")

    # The nickname came from the session: the server said who spoke.
    assert any("Amanda" in line and "Hi Randy" in line for line in lines(randy))
    randy.set_viewport_size({"width": 900, "height": 560})
    keep_screenshot(randy, "chat-demo.png")

    amanda.close()
    expect(randy.locator("#lines li").last).to_contain_text("Amanda left #lobby")
    expect(randy.locator("#people li")).to_have_text(["Randy"])


def test_a_room_keeps_its_history_for_the_next_visitor(
    chat_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    first = enter(open_page, chat_server, "Ada")
    first.goto(chat_server.url + "/r/history-test")
    expect(first.locator("#connection")).to_have_attribute("data-state", "connected")
    first.fill("#text", "Remember this.")
    first.press("#text", "Enter")
    expect(first.locator("#lines li").last).to_contain_text("Remember this.")
    later = open_page(chat_server.url + "/r/history-test")
    expect(later.locator("#lines")).to_contain_text("AdaRemember this.")
    expect(later.locator("#rooms")).to_contain_text("#history-test")


def test_without_a_nickname_the_chat_asks_for_one(
    chat_server: LiveServer, open_page: Callable[..., Page]
) -> None:
    page = open_page(chat_server.url + "/r/lobby")
    expect(page).to_have_url(chat_server.url + "/")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_have_text("Pick a nickname.")
