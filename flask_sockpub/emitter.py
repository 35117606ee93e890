"""``SockPub.emitter(queue_url)``: publishing from a process that runs no server.

A worker, a CLI command or a cron job puts on the message queue exactly the
messages an app's ``broadcast`` and model room methods would; every server
process on that queue delivers them to its sockets. It needs no app, no app
context and no database: ids and values are given, not loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import config
from .cluster import METHOD, queue_manager
from .internals import publish_on_queue
from .rooms.model_rooms import ModelRooms, model_rooms
from .rooms.names import NAMESPACE, user_room
from .rooms.scoped import PUBLISH_OP
from .sockets import Socket


class Emitter:
    """Publishes to the sockets of every server process on one message queue.

    Made by :meth:`SockPub.emitter <flask_sockpub.SockPub.emitter>`::

        emitter = SockPub.emitter("amqp://guest:guest@127.0.0.1:5672//")
        emitter.broadcast("lobby", {"text": "hello"})
        users = emitter.model(User)
        users.publish_create({"id": 3, "name": "Randy"})   # class room sockets join its room
        users.publish_update(3, {"name": "Randy Marsh"})
        users.publish_destroy(3)

    ``omit`` takes a socket id. Messages are sent in the event style given
    (the apps' ``SOCKPUB_EVENT_STYLE``).
    """

    def __init__(
        self, queue_url: str, *, event_style: str = "message", channel: str = config.QUEUE_CHANNEL
    ) -> None:
        if event_style not in config.EVENT_STYLES:
            raise ValueError(
                f"event_style must be one of {config.EVENT_STYLES}, not {event_style!r}"
            )
        manager = queue_manager(queue_url, channel, write_only=True)
        if manager is None:
            raise ValueError(
                f"the emitter needs a Redis or kombu (AMQP) queue URL, not {queue_url!r}"
            )
        self.manager = manager
        #: ``"message"`` or ``"model"``, as ``SOCKPUB_EVENT_STYLE``.
        self.event_style = event_style

    def broadcast(self, room: str, data: Any, event: str = "message") -> None:
        """Emit ``event`` with ``data`` to every socket in the room ``room`` of :func:`~flask_sockpub.listen`."""
        self.emit(event, data, [user_room(room)])

    def model(self, model: type[Any]) -> ModelEmitter:
        """The model room methods that publish: ``publish_create``, ``publish_update``, ..."""
        return ModelEmitter(self, model_rooms(model))

    # The publisher model rooms use

    def emit(
        self, event: str, data: Any, rooms: Sequence[str], skip_sid: str | None = None
    ) -> None:
        """Send ``event`` once to every socket in any of ``rooms`` (Socket.IO room names), but ``skip_sid``."""
        if rooms:
            self.manager.emit(event, data, namespace=NAMESPACE, room=list(rooms), skip_sid=skip_sid)

    #: Every model publish goes as the operation server processes apply per
    #: scope: the emitter does not know which models they subscribe under scopes.
    always_scoped = True
    #: No app, no database: values are given, not loaded.
    can_load = False

    def introduce(self, source: str, target: str, skip_sid: str | None = None) -> None:
        """Every socket of room ``source`` (but ``skip_sid``) joins room ``target``."""
        self._send("introduce", source=source, target=target, skip=skip_sid)

    def publish_scoped(self, message: dict[str, Any]) -> None:
        """Every server process applies a model publish to its sockets, their scopes included."""
        self._send(PUBLISH_OP, message=message)

    def load(self, model: type[Any], key: Any) -> Any:
        """Nothing: an emitter has no database."""
        return None

    def empty(self, room: str, keep_sid: str | None = None) -> None:
        """Every socket leaves ``room``, but ``keep_sid``."""
        self._send("empty", room=room, keep=keep_sid)

    def _send(self, op: str, **fields: Any) -> None:
        publish_on_queue(
            self.manager, {"method": METHOD, "op": op, "host_id": self.manager.host_id, **fields}
        )


class ModelEmitter:
    """One model's publishing methods on an :class:`Emitter`; see :class:`~flask_sockpub.ModelRooms`."""

    def __init__(self, emitter: Emitter, rooms: ModelRooms) -> None:
        self.emitter = emitter
        self.rooms = rooms

    def introduce(self, id: Any, omit: Socket | str | None = None) -> None:
        """Subscribe every socket of the class room (but ``omit``) to the room of ``id``."""
        self.rooms._introduce(self.emitter, id, omit)

    def publish_create(self, values: Any, omit: Socket | str | None = None) -> None:
        """Announce a new instance to the class room, whose sockets join its room.

        :param values: a dict of its values carrying the primary key (or an instance).
        """
        self.rooms._create(self.emitter, values, omit)

    def publish_update(
        self, id: Any, values: Any, omit: Socket | str | None = None, *, previous: Any = None
    ) -> None:
        """Announce a change of instance ``id`` to its room only."""
        self.rooms._update(self.emitter, id, values, omit, previous)

    def publish_destroy(
        self, id: Any, omit: Socket | str | None = None, *, previous: Any = None
    ) -> None:
        """Announce to the room of ``id`` that it is gone; its sockets (but ``omit``) then leave it."""
        self.rooms._destroy(self.emitter, id, omit, previous)

    def publish(self, instances: Any, message: Any, omit: Socket | str | None = None) -> None:
        """Send ``message`` as it is to the rooms of ``instances`` (``None``: the class room)."""
        self.rooms._publish(self.emitter, instances, message, omit)

    def room(self, id: Any = None) -> str:
        """The room of instance ``id``, or the class room when ``id`` is ``None``."""
        return self.rooms.room(id)
