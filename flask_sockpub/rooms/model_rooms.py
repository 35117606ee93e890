"""Model rooms: Sails 0.9's pubsub methods, for ``PubSub`` models and for any model.

Every model has a class room, where creates are announced, and an instance
room per primary key, where updates and destroys of that instance are. The
methods live on :class:`ModelRooms`; the :class:`PubSub` mixin offers them as
class methods (``User.subscribe(socket)``), and ``sockpub.model(Model)`` offers
them for a model that does not use the mixin.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from werkzeug.local import LocalProxy

from ..blueprints.coerce import TEXT, coerce, column_kind
from ..model import identity_of, primary_key_of
from ..scopes import Scope, column_values
from ..serialize import column_keys, json_safe, serialize, unproxied, without_hidden
from ..sockets import Socket, as_socket
from ..state import app_state
from . import messages, scoped
from .authorization import Authorize, allows, forget_admissions, note_admission, register_hooks
from .membership import enter, leave
from .names import NAMESPACE, model_room, scope_room

if TYPE_CHECKING:
    from ..cluster import Publisher, Subscribers

#: Where a model's ``ModelRooms`` is kept, on the class itself.
_CACHE_ATTRIBUTE = "_sockpub_model_rooms"


class _ClassRoom:
    """Stands for "no instances given": the class room."""

    def __repr__(self) -> str:
        return "CLASS_ROOM"


#: The default of ``instances`` in ``subscribe``/``unsubscribe``: the class
#: room. Not the same as ``[]``, which names no room at all (as in Sails 0.9).
CLASS_ROOM: Any = _ClassRoom()


class ModelRooms:
    """The model room methods of one model; ``sockpub.model(Model)`` returns it.

    ::

        products = sockpub.model(Product)

        @app.get("/sale")
        def sale():
            sale_items = Product.query.filter_by(on_sale=True).all()
            products.subscribe(current_socket, sale_items)
            return [serialize(item) for item in sale_items]

    Wherever a method takes a ``socket``, it accepts a
    :class:`~flask_sockpub.Socket`, a socket id, or nothing (the socket of the
    current request: subscribing does nothing and returns ``False`` during an
    HTTP request, so one view serves both). Wherever it takes ``instances``,
    it accepts an instance, a primary key (any type; ``"7"`` and ``7`` name
    one room when the key is an integer), a dict carrying the primary key, or
    a list (any iterable, a query too) of those. ``omit`` is a socket (or
    socket id) left out of the message.

    Publishing works wherever an app context is pushed: views answering HTTP
    or sockets, CLI commands, background tasks.
    """

    def __init__(self, model: type[Any]) -> None:
        key = primary_key_of(model)
        column = key.column
        #: The model class.
        self.model = model
        #: The model's name in room names and messages.
        self.identity = identity_of(model)
        #: The attribute holding the primary key (the message key is ``id`` whatever it is).
        self.key_attribute: str = key.attribute
        #: The primary key column's SQLAlchemy type, which ids are converted through.
        self.key_column_type = column.type
        self._key_kind = column_kind(column.type)
        try:
            self._key_python_type: type | None = column.type.python_type
        except NotImplementedError:
            self._key_python_type = None
        #: The ``authorize`` hooks of the model's blueprints, by blueprint name.
        #: Empty (the usual case): introductions copy the class room whole.
        self.authorizers: dict[str, Authorize] = {}
        #: Whether a blueprint of the model subscribes sockets under scopes:
        #: then every publish is one operation each process applies to its
        #: sockets (:mod:`flask_sockpub.rooms.scoped`). ``False`` (the usual
        #: case): publishes take the plain path.
        self.scoped = False

    def __repr__(self) -> str:
        return f"<ModelRooms {self.identity}>"

    # Names and ids

    def room(self, id: Any = None) -> str:
        """The room of instance ``id``, or the class room when ``id`` is ``None``.

        Class room ``sockpub:model:user``, instance rooms
        ``sockpub:model:user:7``: never equal to a socket id, nor to a room of
        :func:`~flask_sockpub.listen`.
        """
        if id is None:
            return model_room(self.identity)
        return model_room(self.identity, str(self.id_of(id)))

    def id_of(self, instance: Any) -> Any:
        """The primary key an instance, a dict or an id names, as the column's type.

        :raises ValueError: no primary key, or one the column's type cannot hold.
        """
        instance = unproxied(instance)
        if isinstance(instance, self.model):
            state = sa.inspect(instance)
            # The identity key needs no load, so it works on expired and deleted rows too.
            key = state.identity[0] if state.identity else getattr(instance, self.key_attribute)
            if key is None:
                raise ValueError(
                    f"{instance!r} has no primary key yet: flush or commit it before publishing"
                )
            return key
        if isinstance(instance, Mapping):
            key = instance.get(self.key_attribute, instance.get("id"))
            if key is None:
                raise ValueError(
                    f"{dict(instance)!r} carries no {self.key_attribute!r}, "
                    f"the primary key of {self.model.__name__}"
                )
            return self._converted(key)
        if instance is None:
            raise ValueError(f"None is not an id of {self.model.__name__}")
        return self._converted(instance)

    def _converted(self, key: Any) -> Any:
        if type(key) is self._key_python_type:
            return key  # already what the column holds: the common case, kept cheap
        if self._key_kind is None:
            return key  # a type ids cannot be converted to: taken as given
        if (
            self._key_kind == TEXT
            and isinstance(key, (int, uuid.UUID))
            and not isinstance(key, bool)
        ):
            key = str(key)  # subscribe(socket, 7) means "7" for a text key
        try:
            return coerce(key, self.key_column_type)
        except ValueError as exc:
            raise ValueError(f"{key!r} is not an id of {self.model.__name__}: {exc}") from None

    def _ids(self, instances: Any) -> list[Any]:
        if instances is CLASS_ROOM:
            raise TypeError("this method needs instances or ids")
        single = isinstance(instances, (str, bytes, Mapping, self.model))
        if single or not isinstance(instances, Iterable):
            return [self.id_of(instances)]
        # dict: without duplicates, in the order given
        return list(dict.fromkeys(self.id_of(instance) for instance in instances))

    def _instance_rooms(self, instances: Any) -> list[str]:
        return [model_room(self.identity, str(key)) for key in self._ids(instances)]

    # Subscribing

    def subscribe(
        self,
        socket: Socket | str | None = None,
        instances: Any = CLASS_ROOM,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Subscribe ``socket`` to the class room, or to the rooms of ``instances``.

        ``subscribe(socket)`` joins the class room (every ``publish_create``);
        ``subscribe(socket, instances)`` joins instance rooms (their
        ``publish_update`` and ``publish_destroy``); ``subscribe(socket, [])``
        joins nothing.

        A socket held by another server process (with a message queue) is
        subscribed there: the call waits for that process's answer, at most
        ``timeout`` seconds (default ``SOCKPUB_CLUSTER_TIMEOUT``).

        :returns: ``True`` when the socket was subscribed; ``False`` when there
            is no socket (an HTTP request), or no server process holds a
            socket of that id (the same answer with or without a queue), or
            the process holding it did not answer in time.
        """
        rooms = [self.room()] if instances is CLASS_ROOM else self._instance_rooms(instances)
        state = app_state()
        target = as_socket(state.server, socket)
        if target is None:
            return False
        _check_namespace(target)
        entered = bool(state.rooms.enter(target, rooms, timeout))
        if instances is CLASS_ROOM and self.authorizers:
            note_admission(target, self.identity, None)  # the view's own decision
        return entered

    def add_authorizer(self, name: str, authorize: Authorize) -> None:
        """Keep blueprint ``name``'s ``authorize`` hook: introductions now ask it."""
        self.authorizers[name] = authorize
        register_hooks(self.identity, self)

    def subscribe_authorized(self, socket: Socket, authorize: Authorize | None) -> bool:
        """Subscribe ``socket`` (of this process) to the class room if ``authorize`` lets it.

        Blueprints join a socket this way, so that the instances introduced
        to it later are asked about with the same hook (``None``: no hook).
        """
        if authorize is not None and not allows(authorize, socket, None):
            return False
        _check_namespace(socket)
        entered = enter(socket.server, socket, self.room())
        if self.authorizers:
            note_admission(socket, self.identity, authorize)
        return entered

    def subscribe_scoped(
        self,
        socket: Socket,
        scope: Scope,
        authorize: Authorize | None,
        instances: Any,
        *,
        whole: bool = False,
    ) -> bool:
        """Subscribe ``socket`` (of this process) to ``instances`` under ``scope``, and to its class room when ``whole``.

        What a scoped blueprint's views do: the socket hears those rows while
        ``scope`` selects them, and (``whole``) every row entering ``scope``,
        unless ``authorize`` refuses it the class room.
        """
        _check_namespace(socket)
        server = socket.server
        entered = True
        if whole and (authorize is None or allows(authorize, socket, None)):
            entered = scoped.subscribe_class(server, socket, scope, self.identity)
            if self.authorizers:
                note_admission(socket, self.identity, authorize)
        keys = self._ids(instances)
        return scoped.subscribe_instances(server, socket, scope, self.identity, keys) and entered

    def unsubscribe_scoped(self, socket: Socket, scope: Scope, instances: Any) -> None:
        """Take ``socket`` (of this process) out of the rooms of ``instances`` under ``scope``."""
        for key in self._ids(instances):
            leave(socket.server, socket, scope_room(self.identity, scope.digest, str(key)))
        scoped.prune(socket.server, self.identity, scope.digest)

    def instance_for_hooks(self, key_text: str) -> Any:
        """The row an ``authorize`` hook is asked about when it joins an instance room; needs an app context."""
        db = app_state().sockpub.db
        if db is None:
            return None
        return db.session.get(self.model, self.id_of(key_text))

    def unsubscribe(
        self,
        socket: Socket | str | None = None,
        instances: Any = CLASS_ROOM,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Take ``socket`` out of the class room, or out of the rooms of ``instances``.

        A socket held by another server process is handled as in :meth:`subscribe`.

        :returns: ``False`` when there is no socket or no server process holds it.
        """
        rooms = [self.room()] if instances is CLASS_ROOM else self._instance_rooms(instances)
        state = app_state()
        target = as_socket(state.server, socket)
        if target is None:
            return False
        if instances is CLASS_ROOM and target.environ is not None:
            forget_admissions(target.environ, self.identity)
        return state.rooms.leave(target, rooms, timeout)  # type: ignore[no-any-return]

    def introduce(self, id: Any, omit: Socket | str | None = None) -> None:
        """Subscribe every socket of the class room (but ``omit``) to the room of ``id``.

        With a message queue, on every server process. A socket that joined
        the class room through a blueprint with ``authorize`` joins only when
        the hook allows it the instance.
        """
        self._introduce(app_state().rooms, id, omit)

    # Publishing

    def publish_create(self, values: Any, omit: Socket | str | None = None) -> None:
        """Announce a new instance to the class room, whose sockets join its room.

        :param values: the instance, or a dict of its values; either must
            carry the primary key.
        """
        self._create(app_state().rooms, values, omit)

    def publish_update(
        self, id: Any, values: Any, omit: Socket | str | None = None, *, previous: Any = None
    ) -> None:
        """Announce a change of instance ``id`` to its room only.

        :param values: the values to send as ``data``, exactly (a dict), or an
            instance, sent whole.
        :param previous: the instance (or dict) before the change; sent as
            ``previous`` in the ``"model"`` event style.
        """
        self._update(app_state().rooms, id, values, omit, previous)

    def publish_destroy(
        self, id: Any, omit: Socket | str | None = None, *, previous: Any = None
    ) -> None:
        """Announce to the room of ``id`` that it is gone; its sockets (but ``omit``) then leave it.

        With a message queue, sockets leave on every server process, and
        ``omit`` stays wherever it is held.

        :param previous: the instance (or dict) as it was; sent as
            ``previous`` in the ``"model"`` event style.
        """
        self._destroy(app_state().rooms, id, omit, previous)

    def publish(self, instances: Any, message: Any, omit: Socket | str | None = None) -> None:
        """Send ``message`` as it is to the rooms of ``instances``: each socket once.

        It goes as the event ``message`` (``"model"`` style: the event named by
        the model's identity). ``publish(None, message)`` sends it to the class
        room (Sails' meaning); ``publish([], message)`` sends nothing.
        """
        self._publish(app_state().rooms, instances, message, omit)

    def subscribers(self, id: Any = None, timeout: float | None = None) -> Subscribers:
        """The sockets in the room of ``id``, or in the class room when ``id`` is ``None``.

        With a message queue, the sockets of every live server process: each
        is asked, and the answer waits for them at most ``timeout`` seconds
        (default ``SOCKPUB_CLUSTER_TIMEOUT``). The result is a list of
        :class:`~flask_sockpub.Socket` whose ``complete`` attribute says
        whether every live process answered in time
        (:class:`~flask_sockpub.Subscribers`).
        """
        return app_state().rooms.subscribers(self.room(id), timeout)  # type: ignore[no-any-return]

    # The publishing itself, for a server process or an emitter

    def _introduce(self, publisher: Publisher, id: Any, omit: Socket | str | None) -> None:
        publisher.introduce(self.room(), self.room(id), _socket_id(omit))

    def _create(
        self,
        publisher: Publisher,
        values: Any,
        omit: Socket | str | None,
        *,
        columns: dict[str, Any] | None = None,
    ) -> None:
        """Publish a create; ``columns``: the row's column values, when known."""
        key = self.id_of(values)
        skip = _socket_id(omit)
        data = self._data(values)
        event, payload = messages.created(publisher.event_style, self.identity, _json_id(key), data)
        if self.scoped or publisher.always_scoped:
            now, record = (
                (columns, data) if columns else self._values_now(publisher, key, values, None, data)
            )
            self._publish_scoped(publisher, "created", key, event, payload, skip, record, now)
            return
        # Introduce first: a socket told of the instance is already in its room,
        # and copying the room's table is cheap next to sending to every member
        # (under threading the send hands each socket's packet to its thread,
        # which then competes with the copy). With a queue, the introduce goes
        # before the announcement on the queue too.
        publisher.introduce(self.room(), self.room(key), skip)
        publisher.emit(event, payload, [self.room()], skip)

    def _update(
        self,
        publisher: Publisher,
        id: Any,
        values: Any,
        omit: Socket | str | None,
        previous: Any,
        *,
        columns: dict[str, Any] | None = None,
        previous_columns: dict[str, Any] | None = None,
    ) -> None:
        """Publish an update; ``columns`` and ``previous_columns``: the row's column values, when known."""
        key = self.id_of(id)
        data = self._data(values)
        event, payload = messages.updated(
            publisher.event_style, self.identity, _json_id(key), data, self._previous(previous)
        )
        if self.scoped or publisher.always_scoped:
            now, record = (
                (columns, data)
                if columns
                else self._values_now(publisher, key, values, previous, data)
            )
            before = previous_columns or self._column_values(previous)
            self._publish_scoped(
                publisher, "updated", key, event, payload, _socket_id(omit), record, now, before
            )
            return
        publisher.emit(event, payload, [self.room(key)], _socket_id(omit))

    def _destroy(
        self, publisher: Publisher, id: Any, omit: Socket | str | None, previous: Any
    ) -> None:
        key = self.id_of(id)
        skip = _socket_id(omit)
        event, payload = messages.destroyed(
            publisher.event_style, self.identity, _json_id(key), self._previous(previous)
        )
        if self.scoped or publisher.always_scoped:
            self._publish_scoped(publisher, "destroyed", key, event, payload, skip)
            return
        room = self.room(key)
        publisher.emit(event, payload, [room], skip)
        publisher.empty(room, skip)

    def _publish(
        self, publisher: Publisher, instances: Any, message: Any, omit: Socket | str | None
    ) -> None:
        rooms = [self.room()] if instances is None else self._instance_rooms(instances)
        event = messages.custom_event(publisher.event_style, self.identity)
        data = json_safe(message, f"{self.identity} message")
        publisher.emit(event, data, rooms, _socket_id(omit))

    def _data(self, values: Any) -> dict[str, Any]:
        values = unproxied(values)
        if isinstance(values, self.model):
            return serialize(values)
        if isinstance(values, Mapping):
            return json_safe(without_hidden(self.model, values), self.identity)  # type: ignore[no-any-return]
        raise TypeError(
            f"values must be a {self.model.__name__} or a dict, not {type(values).__name__}"
        )

    def _previous(self, previous: Any) -> dict[str, Any] | None:
        return None if previous is None else self._data(previous)

    # Scoped publishing

    def _publish_scoped(
        self,
        publisher: Publisher,
        verb: str,
        key: Any,
        event: str,
        payload: dict[str, Any],
        skip: str | None,
        record: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
        previous: dict[str, Any] | None = None,
    ) -> None:
        """Send one publish as the operation each process applies to its sockets (:mod:`.scoped`)."""
        publisher.publish_scoped(
            {
                "identity": self.identity,
                "verb": verb,
                "id": _json_id(key),
                "key": str(key),
                "style": publisher.event_style,
                "event": event,
                "payload": payload,
                "record": record,
                "values": values,
                "previous": previous,
                "skip": skip,
            }
        )

    def _values_now(
        self, publisher: Publisher, key: Any, values: Any, previous: Any, data: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Every column of the row after the change (JSON-safe), and the row as clients see it.

        An instance gives both. A dict is laid over ``previous``; when columns
        are still missing, a server process loads the row (one query per
        publish, not per scope nor per socket). An emitter cannot: scopes
        reading a missing column count the row where its subscribers had it.
        """
        values = unproxied(values)
        if isinstance(values, self.model):
            return column_values(values), data
        known = dict(self._column_values(previous) or {})
        known.update(json_safe(dict(values), self.identity))
        if set(column_keys(self.model)) <= known.keys():
            return known, {**(self._previous(previous) or {}), **data}
        row = publisher.load(self.model, key) if publisher.can_load else None
        if row is None:
            return known, data
        return column_values(row), serialize(row)

    def _column_values(self, values: Any) -> dict[str, Any] | None:
        values = unproxied(values)
        if values is None:
            return None
        if isinstance(values, self.model):
            return column_values(values)
        if isinstance(values, Mapping):
            return json_safe(dict(values), self.identity)  # type: ignore[no-any-return]
        return None


class PubSub:
    """Mixin giving a model Sails 0.9's pubsub methods as class methods.

    ::

        class User(PubSub, db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String(80))

        User.subscribe(current_socket)            # the class room
        User.subscribe(current_socket, [7, 3])    # instance rooms
        User.publish_update(7, {"name": "Amanda"})

    Each method is the :class:`ModelRooms` method of the same name; see there.
    Set ``__sockpub_identity__`` to name the model otherwise than its
    lowercase class name, and define ``__sockpub_serialize__(self)`` to choose
    what its messages carry (:mod:`flask_sockpub.serialize`).
    """

    @classmethod
    def subscribe(
        cls,
        socket: Socket | str | None = None,
        instances: Any = CLASS_ROOM,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Subscribe ``socket`` to the class room, or to the rooms of ``instances``."""
        return model_rooms(cls).subscribe(socket, instances, timeout=timeout)

    @classmethod
    def unsubscribe(
        cls,
        socket: Socket | str | None = None,
        instances: Any = CLASS_ROOM,
        *,
        timeout: float | None = None,
    ) -> bool:
        """Take ``socket`` out of the class room, or out of the rooms of ``instances``."""
        return model_rooms(cls).unsubscribe(socket, instances, timeout=timeout)

    @classmethod
    def introduce(cls, id: Any, omit: Socket | str | None = None) -> None:
        """Subscribe every socket of the class room (but ``omit``) to the room of ``id``."""
        model_rooms(cls).introduce(id, omit)

    @classmethod
    def publish_create(cls, values: Any, omit: Socket | str | None = None) -> None:
        """Announce a new instance to the class room, whose sockets join its room."""
        model_rooms(cls).publish_create(values, omit)

    @classmethod
    def publish_update(
        cls, id: Any, values: Any, omit: Socket | str | None = None, *, previous: Any = None
    ) -> None:
        """Announce a change of instance ``id`` to its room only."""
        model_rooms(cls).publish_update(id, values, omit, previous=previous)

    @classmethod
    def publish_destroy(
        cls, id: Any, omit: Socket | str | None = None, *, previous: Any = None
    ) -> None:
        """Announce to the room of ``id`` that it is gone; its sockets (but ``omit``) leave it."""
        model_rooms(cls).publish_destroy(id, omit, previous=previous)

    @classmethod
    def publish(cls, instances: Any, message: Any, omit: Socket | str | None = None) -> None:
        """Send ``message`` as it is to the rooms of ``instances`` (``None``: the class room)."""
        model_rooms(cls).publish(instances, message, omit)

    @classmethod
    def room(cls, id: Any = None) -> str:
        """The room of instance ``id``, or the class room when ``id`` is ``None``."""
        return model_rooms(cls).room(id)

    @classmethod
    def subscribers(cls, id: Any = None, timeout: float | None = None) -> Subscribers:
        """The sockets in the room of ``id`` (class room when ``None``) on every server process."""
        return model_rooms(cls).subscribers(id, timeout)


def model_rooms(model: type[Any]) -> ModelRooms:
    """The :class:`ModelRooms` of ``model``, made once and kept on the class."""
    rooms = model.__dict__.get(_CACHE_ATTRIBUTE)
    if rooms is None:
        rooms = ModelRooms(model)
        # On the class itself (not a registry), so it goes when the class goes;
        # __dict__, so a subclass gets its own.
        setattr(model, _CACHE_ATTRIBUTE, rooms)
    return rooms  # type: ignore[no-any-return]


def _socket_id(socket: Socket | str | None) -> str | None:
    """The id of the socket to omit; ``None`` (nobody) for ``current_socket`` in an HTTP request."""
    if isinstance(socket, LocalProxy):
        socket = socket._get_current_object()
    if socket is None or isinstance(socket, str):
        return socket
    if isinstance(socket, Socket):
        return socket.id
    raise TypeError(f"omit must be a Socket, a socket id or None, not {type(socket).__name__}")


def _json_id(key: Any) -> Any:
    return json_safe(key, "id")


def _check_namespace(socket: Socket) -> None:
    if socket.namespace != NAMESPACE:
        raise ValueError(
            f"model rooms live in the namespace {NAMESPACE!r}; socket {socket.id} "
            f"is on {socket.namespace!r}"
        )
