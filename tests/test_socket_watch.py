"""Sails 0.9's "coming soon" socket methods: ``current_socket.watch(instances)`` and ``current_socket.subscribe_to(Model)``."""

from __future__ import annotations

import pytest
import requests

from flask_sockpub.client import Client
from flask_sockpub.testing import Inbox, LiveServer
from tests.blueprint_support import Caller, make_user

pytestmark = pytest.mark.usefixtures("fresh_rows")


def test_watch_hears_the_updates_and_destroys_of_those_instances_only(
    caller: Caller, listener: Client
) -> None:
    watched, other = make_user(caller, "Watched"), make_user(caller, "Other")
    heard = Inbox(listener)
    answer = listener.get("/watching/users", {"ids": str(watched["id"])})
    assert answer.body == {"watching": True}
    caller.patch(f"/user/{other['id']}", {"age": 5})
    make_user(caller, "Newcomer")  # a create: the class room's, not watched
    updated = caller.patch(f"/user/{watched['id']}", {"age": 40}).body
    caller.delete(f"/user/{watched['id']}")
    arrived = heard.until(lambda item: item.data["verb"] == "destroy")
    assert [item.data for item in arrived] == [
        {"model": "user", "verb": "update", "id": watched["id"], "data": updated},
        {"model": "user", "verb": "destroy", "id": watched["id"]},
    ]


def test_watch_and_subscribe_to_over_http_subscribe_nothing(
    listener: Client, blueprint_server: LiveServer
) -> None:
    user = make_user(listener, "Nobody")
    url = blueprint_server.url
    watching = requests.get(f"{url}/watching/users", params={"ids": user["id"]}, timeout=10)
    assert watching.json() == {"watching": False}
    assert requests.get(f"{url}/watching/user-creates", timeout=10).json() == {"watching": False}


def test_subscribe_to_hears_creates_and_is_introduced_to_each_new_instance(
    caller: Caller, listener: Client
) -> None:
    heard = Inbox(listener)
    assert listener.get("/watching/user-creates").body == {"watching": True}
    created = make_user(caller, "Fresh")
    updated = caller.patch(f"/user/{created['id']}", {"age": 2}).body
    arrived = heard.until(lambda item: item.data["verb"] == "update")
    assert [item.data for item in arrived] == [
        {"model": "user", "verb": "create", "id": created["id"], "data": created},
        {"model": "user", "verb": "update", "id": created["id"], "data": updated},
    ]
