"""Room names: user rooms, class rooms and instance rooms never collide.

Socket.IO rooms share one namespace with socket ids, so every room SockPub
makes carries a prefix with a ``:``, a character socket ids never contain:

* ``sockpub:room:<name>`` for rooms named by users (``listen``/``broadcast``);
* ``sockpub:model:<identity>`` (the class room) and
  ``sockpub:model:<identity>:<id>`` (an instance room) for models. An identity
  never contains ``:``, so the two kinds cannot be mistaken for each other;
* ``sockpub:scope:<identity>:<digest>`` (a scope's class room) and
  ``sockpub:scope:<identity>:<digest>:<id>`` (an instance held under that
  scope) for scoped subscriptions; a digest is hex, never containing ``:``.
"""

from __future__ import annotations

USER_ROOM_PREFIX = "sockpub:room:"
MODEL_ROOM_PREFIX = "sockpub:model:"
SCOPE_ROOM_PREFIX = "sockpub:scope:"
#: The Socket.IO namespace model rooms live in, and messages are sent on.
NAMESPACE = "/"


def user_room(name: str) -> str:
    """The Socket.IO room behind the room ``name`` given to :func:`listen` and :func:`broadcast`.

    Use it to reach such a room with Flask-SocketIO directly::

        sockpub.socketio.emit("message", data, to=user_room("lobby"))
    """
    if not isinstance(name, str):
        raise TypeError(f"a room name must be a string, not {type(name).__name__}")
    return USER_ROOM_PREFIX + name


def model_room(identity: str, key: str | None = None) -> str:
    """The class room of model ``identity``, or the instance room of ``key`` (an id as text)."""
    if key is None:
        return MODEL_ROOM_PREFIX + identity
    return f"{MODEL_ROOM_PREFIX}{identity}:{key}"


def scope_room(identity: str, digest: str, key: str | None = None) -> str:
    """The class room of a scope (``digest``) of model ``identity``, or the room of ``key`` under it."""
    if key is None:
        return f"{SCOPE_ROOM_PREFIX}{identity}:{digest}"
    return f"{SCOPE_ROOM_PREFIX}{identity}:{digest}:{key}"
