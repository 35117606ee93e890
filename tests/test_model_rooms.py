"""The seed's pubsub methods, each example as written, over real sockets.

Every test runs against real servers (threading and gevent) in both event
styles, with python-socketio clients. The views of ``tests.apps.models`` call
the methods exactly as the seed's examples do (``User.subscribe(socket, [7,
3])``, ``Player.subscribe(socket, todays_lucky_guests)``, ...).

Sockets are shared by the tests of a server (closing one costs 3 s under
threading); each test starts with fresh inboxes, and with sockets that have left
every model room. "Nothing arrived" is checked without sleeping: a socket
request on the same socket comes back after every message sent to it before.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from flask_sockpub.client import Client
from flask_sockpub.testing import Inbox, LiveServer, Received, live_server

#: Every event a model message can come as: the seed's, and one per identity.
EVENTS = ("message", "user", "player", "product", "pass")
FIRST_TICKET = "00000000-0000-0000-0000-000000000001"

SERVERS = [
    ("threading", "message"),
    ("gevent", "message"),
    ("threading", "model"),
    ("gevent", "model"),
]


@dataclass
class Served:
    server: LiveServer
    style: str
    sockets: list[Client]

    def message(
        self, model: str, verb: str, id: Any, data: Any = None, previous: Any = None
    ) -> Received:
        """What a socket receives for a create/update/destroy, in this server's event style."""
        if self.style == "message":
            payload = {"model": model, "verb": verb, "id": id}
            if data is not None:
                payload["data"] = data
            return Received("message", payload)
        payload = {"verb": verb + ("d" if verb.endswith("e") else "ed"), "id": id}
        if data is not None:
            payload["data"] = data
        if previous is not None:
            payload["previous"] = previous
        return Received(model, payload)

    def custom(self, model: str, message: Any) -> Received:
        """What a socket receives for ``publish(instances, message)``."""
        return Received("message" if self.style == "message" else model, message)


def close_all(sockets: list[Client]) -> None:
    # In parallel: under threading each close waits 3 s for a close frame.
    closers = [threading.Thread(target=socket.close) for socket in sockets]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join()


@pytest.fixture(scope="module", params=SERVERS, ids=["-".join(pair) for pair in SERVERS])
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    async_mode, style = request.param
    env = {"FLASK_SOCKPUB_EVENT_STYLE": style}
    with live_server("tests.apps.models:create_app", async_mode=async_mode, env=env) as server:
        sockets = [Client(server.url) for _ in range(3)]
        try:
            yield Served(server, style, sockets)
        finally:
            close_all(sockets)


@pytest.fixture
def sockets(served: Served) -> Iterator[tuple[Client, Client, Client]]:
    """Three sockets on the server, in no model room, with empty sessions."""
    for socket in served.sockets:
        left = socket.post("/my/rooms/reset").body["rooms"]
        assert left == [socket.sid]
    first, second, third = served.sockets
    yield first, second, third


@pytest.fixture
def inboxes(sockets: tuple[Client, Client, Client]) -> tuple[Inbox, Inbox, Inbox]:
    first, second, third = sockets
    return Inbox(first, *EVENTS), Inbox(second, *EVENTS), Inbox(third, *EVENTS)


def settled(socket: Client, inbox: Inbox) -> list[Received]:
    """Everything ``socket`` received until now, messages still in flight included."""
    assert socket.get("/my/rooms").status_code == 200
    return list(inbox.items)


def rooms_of(socket: Client) -> list[str]:
    return [room for room in socket.get("/my/rooms").body["rooms"] if room != socket.sid]


# The class room


def test_user_subscribe_socket_joins_the_class_room(served: Served, sockets: Any) -> None:
    first, _, _ = sockets
    assert first.post("/user/subscribe").body == {"subscribed": True}
    assert rooms_of(first) == ["sockpub:model:user"]


def test_publish_create_reaches_class_room_members_with_the_seeds_json(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, third = sockets
    first.post("/user/subscribe")
    second.post("/user/subscribe")
    third.post("/user/create", {"values": {"id": 3, "name": "Randy"}})
    expected = served.message("user", "create", 3, {"id": 3, "name": "Randy"})
    assert inboxes[0].wait(1) == [expected]
    assert inboxes[1].wait(1) == [expected]
    assert settled(third, inboxes[2]) == []
    if served.style == "message":
        # exactly the seed's JSON, no more keys
        assert inboxes[0].items[0].data == {
            "data": {"id": 3, "name": "Randy"},
            "id": 3,
            "model": "user",
            "verb": "create",
        }


def test_publish_create_introduces_class_room_members_to_the_new_instance(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, third = sockets
    first.post("/user/subscribe")
    third.post("/user/create", {"values": {"id": 3, "name": "Randy"}})
    assert rooms_of(first) == ["sockpub:model:user", "sockpub:model:user:3"]
    assert rooms_of(second) == []
    third.post("/user/3/update", {"values": {"name": "Amanda"}})
    assert inboxes[0].wait(2)[1] == served.message("user", "update", 3, {"name": "Amanda"})
    assert settled(second, inboxes[1]) == []


def test_publish_create_of_an_instance_serialises_its_columns(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe")
    second.post(
        "/user/50/create-row", {"name": "Row"}
    )  # each server runs this once, on a fresh database
    assert inboxes[0].wait(1) == [served.message("user", "create", 50, {"id": 50, "name": "Row"})]


# Instance rooms: the seed's examples


def test_user_subscribe_socket_7_and_3_joins_those_instance_rooms(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    assert first.post("/user/subscribe/seven-and-three").body == {"subscribed": True}
    assert rooms_of(first) == ["sockpub:model:user:3", "sockpub:model:user:7"]
    for id in (7, 5, 3):
        second.post(f"/user/{id}/update", {"values": {"name": f"name {id}"}})
    second.post("/user/create", {"values": {"id": 11, "name": "not for instance rooms"}})
    assert settled(first, inboxes[0]) == [
        served.message("user", "update", 7, {"name": "name 7"}),
        served.message("user", "update", 3, {"name": "name 3"}),
    ]


def test_player_subscribe_socket_todays_lucky_guests(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    assert first.post("/player/subscribe/lucky").body == {"subscribed": True}
    assert rooms_of(first) == ["sockpub:model:player:2", "sockpub:model:player:5"]
    for id in (1, 2, 5):
        second.post(f"/player/{id}/update", {"values": {"score": id}})
    assert settled(first, inboxes[0]) == [
        served.message("player", "update", 2, {"score": 2}),
        served.message("player", "update", 5, {"score": 5}),
    ]


@pytest.mark.parametrize("user_id", [4, "4"], ids=["int", "text"])
def test_user_subscribe_socket_session_user_id(
    served: Served, sockets: Any, inboxes: Any, user_id: Any
) -> None:
    first, second, _ = sockets
    assert first.post("/login", {"user_id": user_id}).body == {"user_id": user_id}
    assert first.post("/user/subscribe/me").body == {"subscribed": True}
    assert rooms_of(first) == ["sockpub:model:user:4"]
    second.post("/user/4/update", {"values": {"name": "me"}})
    assert inboxes[0].wait(1) == [served.message("user", "update", 4, {"name": "me"})]


def test_product_subscribe_socket_sale_items_through_sockpub_model(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    assert first.post("/product/subscribe/sale").body == {"subscribed": True}
    assert rooms_of(first) == ["sockpub:model:product:A-1", "sockpub:model:product:C-3"]
    for sku in ("A-1", "B-2", "C-3"):
        second.post(f"/product/{sku}/update", {"values": {"price": "1.00"}})
    assert settled(first, inboxes[0]) == [
        served.message("product", "update", "A-1", {"price": "1.00"}),
        served.message("product", "update", "C-3", {"price": "1.00"}),
    ]


def test_subscribe_socket_to_an_empty_list_joins_nothing(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    assert first.post("/user/subscribe/nothing").body == {"subscribed": True}
    assert rooms_of(first) == []
    second.post("/user/create", {"values": {"id": 12, "name": "Nobody hears"}})
    second.post("/user/7/update", {"values": {"name": "Nobody"}})
    assert settled(first, inboxes[0]) == []


def test_ids_given_as_text_name_the_same_room_as_numbers(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe/ids", {"ids": ["7", 8]})
    assert rooms_of(first) == ["sockpub:model:user:7", "sockpub:model:user:8"]
    second.post("/user/7/update", {"values": {"name": "seven"}})  # the URL's "7" is text
    assert inboxes[0].wait(1) == [served.message("user", "update", 7, {"name": "seven"})]


def test_uuid_primary_keys_and_a_models_own_serialiser(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    first.post("/ticket/subscribe/ids", {"ids": [FIRST_TICKET.replace("-", "").upper()]})
    assert rooms_of(first) == [f"sockpub:model:pass:{FIRST_TICKET}"]
    second.post(f"/ticket/{FIRST_TICKET}/update-row")
    expected = {"id": FIRST_TICKET, "holder_id": 1, "issued": "2024-05-17T09:30:00"}
    assert inboxes[0].wait(1) == [served.message("pass", "update", FIRST_TICKET, expected)]


# Update and destroy reach the instance room only


def test_publish_update_reaches_only_instance_room_members(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, third = sockets
    first.post("/user/subscribe/ids", {"ids": [7]})
    second.post("/user/subscribe")  # the class room hears creates, not updates
    third.post("/user/7/update", {"values": {"name": "Amanda"}})
    assert inboxes[0].wait(1) == [served.message("user", "update", 7, {"name": "Amanda"})]
    assert settled(second, inboxes[1]) == []
    assert settled(third, inboxes[2]) == []


def test_publish_destroy_reaches_the_instance_room_which_then_empties(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, third = sockets
    first.post("/user/subscribe/ids", {"ids": [7, 8]})
    second.post("/user/subscribe/ids", {"ids": [7]})
    third.post("/user/subscribe")
    third.post("/user/7/destroy")
    destroyed = served.message("user", "destroy", 7)
    assert inboxes[0].wait(1) == [destroyed]
    assert inboxes[1].wait(1) == [destroyed]
    assert settled(third, inboxes[2]) == []
    assert rooms_of(first) == ["sockpub:model:user:8"]
    assert rooms_of(second) == []
    third.post("/user/7/update", {"values": {"name": "ghost"}})
    assert settled(first, inboxes[0]) == [destroyed]


def test_previous_is_sent_in_the_model_style_only(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe/ids", {"ids": [6]})
    second.post("/user/6/update", {"values": {"name": "new"}, "previous": {"id": 6, "name": "old"}})
    second.post("/user/6/destroy", {"previous": {"id": 6, "name": "new"}})
    update, destroy = inboxes[0].wait(2)
    if served.style == "model":
        assert update == Received(
            "user",
            {
                "verb": "updated",
                "id": 6,
                "data": {"name": "new"},
                "previous": {"id": 6, "name": "old"},
            },
        )
        assert destroy == Received(
            "user", {"verb": "destroyed", "id": 6, "previous": {"id": 6, "name": "new"}}
        )
    else:
        assert update == served.message("user", "update", 6, {"name": "new"})
        assert destroy == served.message("user", "destroy", 6)


# omit, everywhere


def test_publish_create_omits_the_given_socket_and_does_not_introduce_it(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe")
    second.post("/user/subscribe")
    first.post("/user/create", {"values": {"id": 21, "name": "mine"}, "omit_me": True})
    assert inboxes[1].wait(1) == [served.message("user", "create", 21, {"id": 21, "name": "mine"})]
    assert settled(first, inboxes[0]) == []
    assert rooms_of(first) == ["sockpub:model:user"]
    assert rooms_of(second) == ["sockpub:model:user", "sockpub:model:user:21"]


def test_publish_update_omits_the_given_socket(served: Served, sockets: Any, inboxes: Any) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe/ids", {"ids": [7]})
    second.post("/user/subscribe/ids", {"ids": [7]})
    first.post("/user/7/update", {"values": {"name": "x"}, "omit_me": True})
    assert inboxes[1].wait(1) == [served.message("user", "update", 7, {"name": "x"})]
    assert settled(first, inboxes[0]) == []


def test_publish_destroy_omits_the_given_socket_which_stays_in_the_room(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe/ids", {"ids": [7]})
    second.post("/user/subscribe/ids", {"ids": [7]})
    first.post("/user/7/destroy", {"omit_me": True})
    assert inboxes[1].wait(1) == [served.message("user", "destroy", 7)]
    assert settled(first, inboxes[0]) == []
    assert rooms_of(first) == ["sockpub:model:user:7"]
    assert rooms_of(second) == []


def test_introduce_omits_the_given_socket(served: Served, sockets: Any) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe")
    second.post("/user/subscribe")
    assert first.post("/user/9/introduce", {"omit_me": True}).body == {"introduced": True}
    assert rooms_of(first) == ["sockpub:model:user"]
    assert rooms_of(second) == ["sockpub:model:user", "sockpub:model:user:9"]


def test_publish_omits_the_given_socket(served: Served, sockets: Any, inboxes: Any) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe/ids", {"ids": [7]})
    second.post("/user/subscribe/ids", {"ids": [7]})
    first.post("/user/publish", {"ids": [7], "message": {"hello": 1}, "omit_me": True})
    assert inboxes[1].wait(1) == [served.custom("user", {"hello": 1})]
    assert settled(first, inboxes[0]) == []


# introduce, publish, room, subscribers, unsubscribe


def test_introduce_puts_class_room_members_in_the_instance_room(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, third = sockets
    first.post("/user/subscribe")
    second.post("/user/subscribe")
    third.post("/user/9/introduce")
    assert rooms_of(first) == rooms_of(second) == ["sockpub:model:user", "sockpub:model:user:9"]
    assert rooms_of(third) == []
    third.post("/user/9/update", {"values": {"name": "nine"}})
    assert (
        inboxes[0].wait(1)
        == inboxes[1].wait(1)
        == [served.message("user", "update", 9, {"name": "nine"})]
    )


def test_publish_sends_the_message_as_it_is_once_per_socket(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, third = sockets
    first.post("/user/subscribe/ids", {"ids": [7, 2]})
    second.post("/user/subscribe/ids", {"ids": [2]})
    # The seed's User.publish([{id: 7}, {id: 2}], {latitude: ..., longitude: ...})
    message = {"latitude": 31.2325, "longitude": 22.1135}
    third.post("/user/publish", {"ids": [{"id": 7}, {"id": 2}], "message": message})
    assert settled(first, inboxes[0]) == [served.custom("user", message)]
    assert settled(second, inboxes[1]) == [served.custom("user", message)]
    assert settled(third, inboxes[2]) == []


def test_publish_to_no_instances_sends_nothing(served: Served, sockets: Any, inboxes: Any) -> None:
    first, second, third = sockets
    first.post("/user/subscribe")
    second.post("/user/subscribe/ids", {"ids": [7]})
    third.post("/user/publish", {"ids": [], "message": {"to": "nobody"}})
    for socket, inbox in zip(sockets, inboxes):
        assert settled(socket, inbox) == []


def test_publish_to_none_sends_to_the_class_room_over_sockets_and_http(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, third = sockets
    first.post("/user/subscribe")
    second.post("/user/subscribe/ids", {"ids": [7]})
    # Sails' Model.publish(null, message): the class room, from a socket request...
    assert third.post("/user/publish", {"ids": None, "message": {"n": 1}}).status_code == 200
    # ...and from an HTTP request.
    request = urllib.request.Request(
        f"{served.server.url}/user/publish",
        data=b'{"ids": null, "message": {"n": 2}}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert inboxes[0].wait(2) == [served.custom("user", {"n": 1}), served.custom("user", {"n": 2})]
    assert settled(second, inboxes[1]) == []
    assert settled(third, inboxes[2]) == []


def test_room_names_the_class_room_and_instance_rooms(served: Served, sockets: Any) -> None:
    first, _, _ = sockets
    assert first.get("/user/room").body == {"room": "sockpub:model:user"}
    assert first.get("/user/room", {"id": 3}).body == {"room": "sockpub:model:user:3"}
    assert first.get("/ticket/room").body == {"room": "sockpub:model:pass"}
    assert first.get("/product/room", {"id": "A-1"}).body == {"room": "sockpub:model:product:A-1"}


def test_subscribers_lists_the_sockets_of_a_room(served: Served, sockets: Any) -> None:
    first, second, third = sockets
    first.post("/user/subscribe")
    second.post("/user/subscribe/ids", {"ids": [7]})
    third.post("/user/subscribe/ids", {"ids": [7]})
    assert third.get("/user/subscribers").body == {"subscribers": [first.sid]}
    assert first.get("/user/subscribers", {"id": 7}).body == {
        "subscribers": sorted([second.sid, third.sid])
    }
    assert first.get("/user/subscribers", {"id": 8}).body == {"subscribers": []}


def test_unsubscribe_by_id_and_by_instance(served: Served, sockets: Any, inboxes: Any) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe/ids", {"ids": [1, 2, 3, 4]})
    assert first.post("/user/unsubscribe", {"ids": [1, "2"]}).body == {"unsubscribed": True}
    assert first.post("/user/unsubscribe", {"ids": [3], "as_instances": True}).body == {
        "unsubscribed": True
    }
    assert rooms_of(first) == ["sockpub:model:user:4"]
    for id in (1, 2, 3, 4):
        second.post(f"/user/{id}/update", {"values": {"n": id}})
    assert settled(first, inboxes[0]) == [served.message("user", "update", 4, {"n": 4})]


def test_unsubscribe_without_instances_leaves_the_class_room(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe")
    first.post("/user/subscribe/ids", {"ids": [5]})
    assert first.post("/user/unsubscribe").body == {"unsubscribed": True}
    assert rooms_of(first) == ["sockpub:model:user:5"]
    second.post("/user/create", {"values": {"id": 30, "name": "unheard"}})
    assert settled(first, inboxes[0]) == []


# Publishing from outside socket requests


def test_publish_from_an_http_request_reaches_sockets(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, _, _ = sockets
    first.post("/user/subscribe/ids", {"ids": [7]})
    request = urllib.request.Request(
        f"{served.server.url}/user/7/update",
        data=b'{"values": {"name": "over http"}}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert inboxes[0].wait(1) == [served.message("user", "update", 7, {"name": "over http"})]


def test_subscribing_over_http_is_a_no_op_returning_false(served: Served) -> None:
    request = urllib.request.Request(f"{served.server.url}/user/subscribe", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"subscribed": False}


def test_publish_from_a_background_task_reaches_sockets(
    served: Served, sockets: Any, inboxes: Any
) -> None:
    first, second, _ = sockets
    first.post("/user/subscribe/ids", {"ids": [8]})
    assert second.post("/user/8/update-later", {"name": "later"}).body == {"scheduled": True}
    assert inboxes[0].wait(1) == [served.message("user", "update", 8, {"name": "later"})]
