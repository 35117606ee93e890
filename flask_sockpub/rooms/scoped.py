"""Scoped rooms: a socket hears a row only while its scope selects it.

A blueprint made with ``scope=`` subscribes its sockets under the scope of
their request: a list joins the scope's class room
(``sockpub:scope:<identity>:<digest>``), and each row it read is held in the
row's room under that scope (``sockpub:scope:<identity>:<digest>:<id>``),
never in the model's unscoped rooms.

Every publish of a model with scopes is one operation that each server
process applies to the sockets it holds (:func:`apply_publish`; with a
message queue it travels as the cluster op ``publish``, in the queue's order).
The process decides, once per distinct scope its sockets subscribed under
(the :func:`registered` scopes of this process), whether the row is inside
the scope now and was before, from the row's column values carried in the
operation (no query per scope nor per socket):

* inside before and now: the scope's room of the row hears the update;
* inside before only: its sockets hear ``leave`` (those not hearing the
  update through another room) and leave the room;
* inside now only: the sockets of the scope's class room join the row's room
  (asked by ``authorize`` as an introduction is) and hear ``enter`` with the
  record;
* a create reaches the class room of every scope selecting the row, whose
  sockets join its room; a destroy reaches every scope's room of the row.

Each socket gets each message once, whichever rooms it sits in. The
registry of scopes lives per server process and per server: a scope is
forgotten when its last room of this process empties.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .. import internals
from ..blueprints.coerce import coerce
from ..scopes import Scope
from ..sockets import Socket
from . import messages
from .authorization import introduce_here, reauthorized_model, refused_again
from .membership import emit_here, empty_room, enter, leave, members
from .names import NAMESPACE, SCOPE_ROOM_PREFIX, model_room, scope_room

if TYPE_CHECKING:
    import socketio

#: The cluster op (and the key of the message's fields) of a scoped publish.
PUBLISH_OP = "publish"

# server -> model identity -> digest -> scope, for the scopes sockets of this
# process are subscribed under. Weak: a server that goes takes its scopes along.
_REGISTRY: weakref.WeakKeyDictionary[Any, dict[str, dict[str, Scope]]] = weakref.WeakKeyDictionary()


def register(server: socketio.Server, scope: Scope, identity: str) -> None:
    """Note that sockets of this process subscribe under ``scope`` (of model ``identity``)."""
    _REGISTRY.setdefault(server, {}).setdefault(identity, {}).setdefault(scope.digest, scope)


def registered(server: socketio.Server, identity: str | None = None) -> dict[str, Scope]:
    """The scopes of model ``identity`` some socket of this process is subscribed under, by digest.

    Without ``identity``: every scope of every model, keyed ``identity:digest``.
    """
    by_identity = _REGISTRY.get(server, {})
    if identity is not None:
        return dict(by_identity.get(identity, {}))
    return {
        f"{name}:{digest}": scope
        for name, scopes in by_identity.items()
        for digest, scope in scopes.items()
    }


def subscribe_class(server: socketio.Server, socket: Socket, scope: Scope, identity: str) -> bool:
    """Put ``socket`` (of this process) in the class room of ``scope``."""
    entered = enter(server, socket, scope_room(identity, scope.digest))
    # After entering: a prune running meanwhile (another thread) cannot drop it unseen.
    register(server, scope, identity)
    return entered


def subscribe_instances(
    server: socketio.Server, socket: Socket, scope: Scope, identity: str, keys: list[Any]
) -> bool:
    """Hold the rows of ``keys`` for ``socket`` (of this process) under ``scope``."""
    if not keys:
        return True
    entered = all(
        [enter(server, socket, scope_room(identity, scope.digest, str(key))) for key in keys]
    )
    register(server, scope, identity)  # after entering, as in subscribe_class
    return entered


def forget_socket(server: socketio.Server, sid: str) -> None:
    """Forget the scopes whose only subscriber in this process was socket ``sid`` (it is going).

    Called while the socket still sits in its rooms (a disconnect handler)
    or after it left them.
    """
    if not _REGISTRY.get(server):
        return  # no scope in this process: nothing to look for
    table = _table(server)
    held = {
        _scope_of_room(room) for room, sids in table.items() if _is_scope_room(room) and sid in sids
    }
    for identity, digest in held:
        if identity is not None:
            prune(server, identity, digest, leaving_sid=sid)


def prune(
    server: socketio.Server, identity: str, digest: str, leaving_sid: str | None = None
) -> None:
    """Forget scope ``digest`` of ``identity`` if no socket of this process (but ``leaving_sid``) holds a room of it."""
    scopes = _REGISTRY.get(server, {}).get(identity)
    if scopes is None or digest not in scopes:
        return
    prefix = scope_room(identity, digest)
    table = _table(server)
    for room, sids in list(table.items()):
        if room == prefix or (isinstance(room, str) and room.startswith(prefix + ":")):
            if any(sid != leaving_sid for sid in sids):
                return
    scopes.pop(digest, None)
    if not scopes:
        _REGISTRY.get(server, {}).pop(identity, None)


def apply_publish(server: socketio.Server, message: Mapping[str, Any]) -> None:
    """Deliver a scoped publish to the sockets of this process; see the module's docstring.

    ``message`` holds ``identity``, ``verb`` (``created``, ``updated``,
    ``destroyed``), ``id`` (as sent to clients), ``key`` (the id as room
    names hold it), ``style``, ``event`` and ``payload`` (the message as the
    publisher built it), ``record`` (the row as clients see it, for
    ``enter``), ``values`` and ``previous`` (every column of the row now and
    before, JSON-safe; ``None`` or missing columns: unknown) and ``skip``
    (the omitted socket id).
    """
    identity: str = message["identity"]
    key: str = message["key"]
    verb: str = message["verb"]
    skip: str | None = message.get("skip")
    event, payload = message["event"], message["payload"]
    scopes = list(registered(server, identity).values())
    values = message.get("values")
    if verb == "created":
        hearing = [model_room(identity)]
        introduce_here(server, model_room(identity), model_room(identity, key), skip)
        for scope in scopes:
            if _selects(scope, values):
                source = scope_room(identity, scope.digest)
                introduce_here(server, source, scope_room(identity, scope.digest, key), skip)
                hearing.append(source)
        emit_here(server, event, payload, hearing, skip)
        return
    if verb == "destroyed":
        rooms = [model_room(identity, key)]
        rooms.extend(scope_room(identity, scope.digest, key) for scope in scopes)
        emit_here(server, event, payload, rooms, skip)
        for room in rooms:
            empty_room(server, room, skip)
        for scope in scopes:
            prune(server, identity, scope.digest)
        return
    _apply_update(server, message, scopes, identity, key, skip)


def _apply_update(
    server: socketio.Server,
    message: Mapping[str, Any],
    scopes: list[Scope],
    identity: str,
    key: str,
    skip: str | None,
) -> None:
    hearing = [model_room(identity, key)]
    leaving: list[Scope] = []
    entering: list[Scope] = []
    values, previous = message.get("values"), message.get("previous")
    model = reauthorized_model(identity)
    if model is not None and values is not None:
        _reauthorize(server, message, model, [*hearing, *_rooms_of_row(identity, key, scopes)])
    for scope in scopes:
        room = scope_room(identity, scope.digest, key)
        before = _selects(scope, previous)
        if before is None:
            before = bool(members(server, room))  # unknown: as its subscribers were told
        now = _selects(scope, values)
        if now is None:
            now = before  # unknown: nobody joins nor leaves
        if before and now:
            hearing.append(room)
        elif before:
            leaving.append(scope)
        elif now:
            entering.append(scope)
    if not (leaving or entering):
        emit_here(server, message["event"], message["payload"], hearing, skip)
        return
    heard = _members_of(server, hearing)
    style = message["style"]
    if leaving:
        rooms = [scope_room(identity, scope.digest, key) for scope in leaving]
        told = _members_of(server, rooms) - heard - {skip}
        if told:
            event, payload = messages.left(style, identity, message["id"])
            emit_here(server, event, payload, sorted(told))
        for room in rooms:
            empty_room(server, room)  # the omitted socket too: the row is outside its scope
        for scope in leaving:
            prune(server, identity, scope.digest)
    emit_here(server, message["event"], message["payload"], hearing, skip)
    if entering:
        joined: set[str] = set()
        for scope in entering:
            target = scope_room(identity, scope.digest, key)
            already = set(members(server, target))
            introduce_here(server, scope_room(identity, scope.digest), target, skip)
            joined |= set(members(server, target)) - already
        told = joined - heard - {skip}
        if told:
            event, payload = messages.entered(style, identity, message["id"], message["record"])
            emit_here(server, event, payload, sorted(told))


def _reauthorize(
    server: socketio.Server, message: Mapping[str, Any], model: type[Any], rooms: list[str]
) -> None:
    """Ask the ``reauthorize`` hooks of the sockets in the row's ``rooms`` again; the refused hear ``leave`` and leave.

    Before the update goes out, so a refused socket never hears it.
    """
    present = _members_of(server, rooms)
    if not present:
        return
    made: list[Any] = []

    def row() -> Any:
        if not made:
            made.append(_row_of(model, message["values"]))
        return made[0]

    identity = message["identity"]
    refused = refused_again(server, identity, sorted(present), row)
    if not refused:
        return
    told = sorted(refused - {message.get("skip")})
    if told:
        event, payload = messages.left(message["style"], identity, message["id"])
        emit_here(server, event, payload, told)
    for sid in refused:
        socket = Socket(server, sid, NAMESPACE)
        for room in rooms:
            leave(server, socket, room)


def _row_of(model: type[Any], values: Mapping[str, Any]) -> Any:
    """A detached copy of the row of ``values`` (JSON-safe), its values back in their columns' types."""
    columns = {prop.key: prop.columns[0] for prop in sa.inspect(model).column_attrs}
    typed = {}
    for name, value in values.items():
        column = columns.get(name)
        try:
            typed[name] = value if column is None or value is None else coerce(value, column.type)
        except ValueError:
            typed[name] = value
    return internals.detached_copy(model, typed)


def _rooms_of_row(identity: str, key: str, scopes: list[Scope]) -> list[str]:
    return [scope_room(identity, scope.digest, key) for scope in scopes]


class _Unknown(KeyError):
    """A scope read a column the publish did not carry."""


class _Known(Mapping[str, Any]):
    """Column values whose missing columns raise :class:`_Unknown` however they are read."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = values

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise _Unknown(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return self[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def _selects(scope: Scope, values: Mapping[str, Any] | None) -> bool | None:
    """Whether ``scope`` selects the row of ``values``; ``None`` when that is unknown."""
    if values is None:
        return None
    try:
        return scope.selects(_Known(values))
    except _Unknown:
        return None


def _members_of(server: socketio.Server, rooms: list[str]) -> set[str]:
    found: set[str] = set()
    for room in rooms:
        found.update(members(server, room))
    return found


def _table(server: socketio.Server) -> dict[Any, Any]:
    return internals.room_table(server.manager, NAMESPACE) or {}


def _is_scope_room(room: Any) -> bool:
    return isinstance(room, str) and room.startswith(SCOPE_ROOM_PREFIX)


def _scope_of_room(room: str) -> tuple[str | None, str]:
    identity, _, rest = room[len(SCOPE_ROOM_PREFIX) :].partition(":")
    return identity, rest.partition(":")[0]
