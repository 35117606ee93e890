"""The messages model rooms send, in the two styles of ``SOCKPUB_EVENT_STYLE``.

``"message"`` (the default, Sails 0.9's): every message is the event
``message`` carrying ``{"model", "verb", "id", "data"}``::

    {"model": "user", "verb": "create", "id": 3, "data": {"id": 3, "name": "Randy"}}
    {"model": "user", "verb": "update", "id": 7, "data": {"name": "Amanda"}}
    {"model": "user", "verb": "destroy", "id": 7}

``"model"`` (Sails 1.x, what sails.io.js 1.x apps expect): the event is named
by the model identity and carries ``{"verb", "id", "data"}`` with the verbs
``created``, ``updated`` and ``destroyed``, plus ``previous`` on update and
destroy when the publisher knows it::

    socket.on("user", ...)  ->  {"verb": "updated", "id": 7, "data": {...}, "previous": {...}}

A scoped subscription (a blueprint's ``scope=``) also hears a row leave its
scope (``leave`` / ``left``, without ``data``) and enter it (``enter`` /
``entered``, with the record as ``data``)::

    {"model": "post", "verb": "leave", "id": 5}
    {"model": "post", "verb": "enter", "id": 5, "data": {"id": 5, ...}}

Each function returns the event name and the payload; the payload is built once
per publish and Socket.IO encodes it once per emit, whatever the audience.
"""

from __future__ import annotations

from typing import Any

#: The event every message of Sails 0.9's style is sent as.
MESSAGE_EVENT = "message"
#: Verbs of Sails 0.9's style, by what happened.
SEED_VERBS = {
    "created": "create",
    "updated": "update",
    "destroyed": "destroy",
    "left": "leave",
    "entered": "enter",
}

Message = tuple[str, dict[str, Any]]


def created(style: str, identity: str, id: Any, data: dict[str, Any]) -> Message:
    """The message announcing a new instance."""
    return _message(style, identity, "created", id, data=data)


def updated(
    style: str, identity: str, id: Any, data: dict[str, Any], previous: dict[str, Any] | None = None
) -> Message:
    """The message announcing a change; ``data`` is exactly the values published."""
    return _message(style, identity, "updated", id, data=data, previous=previous)


def destroyed(
    style: str, identity: str, id: Any, previous: dict[str, Any] | None = None
) -> Message:
    """The message announcing a destroyed instance; it has no ``data``."""
    return _message(style, identity, "destroyed", id, previous=previous)


def left(style: str, identity: str, id: Any) -> Message:
    """The message telling a scope's subscribers that a row left their scope; no ``data``.

    They may no longer see the row, so nothing of it is sent.
    """
    return _message(style, identity, "left", id)


def entered(style: str, identity: str, id: Any, data: dict[str, Any]) -> Message:
    """The message introducing a row that entered a scope, with the record as ``data``."""
    return _message(style, identity, "entered", id, data=data)


def custom_event(style: str, identity: str) -> str:
    """The event ``publish(instances, message)`` sends its message under, as it is."""
    return MESSAGE_EVENT if style == "message" else identity


def _message(
    style: str,
    identity: str,
    verb: str,
    id: Any,
    *,
    data: dict[str, Any] | None = None,
    previous: dict[str, Any] | None = None,
) -> Message:
    if style == "message":
        # Sails 0.9's format: no "previous", whatever the publisher knows.
        seed: dict[str, Any] = {"model": identity, "verb": SEED_VERBS[verb], "id": id}
        if data is not None:
            seed["data"] = data
        return MESSAGE_EVENT, seed
    payload: dict[str, Any] = {"verb": verb, "id": id}
    if data is not None:
        payload["data"] = data
    if previous is not None:
        payload["previous"] = previous
    return identity, payload
