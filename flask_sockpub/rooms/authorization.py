"""Who may join a model's rooms: the ``authorize`` hooks of its blueprints.

A blueprint made with ``authorize=`` asks its hook before its list and get
subscribe a socket. A socket that joined the class room through such a
blueprint is also asked about again wherever it would gain an instance room
without a request of its own: the introduction of ``publish_create`` and
``introduce``. Each check runs in the process holding the socket, in a request
context of the socket's handshake (its session, so ``current_user`` is the
socket's user, never the publisher's): :func:`allows` and :func:`admitted` are
what a process applies to a socket it holds.

A model none of whose blueprints has a hook pays nothing for this: its class
room is copied into the instance room in one table update, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from flask import has_app_context, has_request_context, request

from ..sockets import CONNECTION_KEY, Socket, socket_of_request
from .membership import copy_members, enter, members
from .names import MODEL_ROOM_PREFIX, NAMESPACE, SCOPE_ROOM_PREFIX

if TYPE_CHECKING:
    import socketio

logger = logging.getLogger("flask_sockpub")

#: ``authorize(socket, instance) -> bool``: may ``socket`` join the room of
#: ``instance`` (``None``: the class room).
Authorize = Callable[[Socket, Any], bool]

#: Connection environ key: model identity -> the hooks that let the socket into
#: that model's class room (``None`` among them: joined without a hook).
ADMISSIONS_KEY = "sockpub.admissions"
#: Connection environ key: model identity -> the hooks marked ``reauthorize``
#: that let the socket into rooms of that model: asked again on every update.
REAUTHORIZE_KEY = "sockpub.reauthorize"


def allows(hook: Authorize, socket: Socket, instance: Any) -> bool:
    """Ask ``hook`` whether ``socket`` may join the room of ``instance``, as the socket.

    In a request of the socket itself the hook runs there; otherwise in a
    request context of the socket's handshake, with a fresh ``g`` and the
    socket's session. A hook that fails outside the socket's own request
    counts as a refusal (logged): one socket's failure must not stop a
    publish to the others.
    """
    if has_request_context():
        if socket_of_request(request.environ) == socket or (
            getattr(request, "sid", None) == socket.id and socket.namespace == NAMESPACE
        ):
            return bool(hook(socket, instance))
    connection = socket.environ
    if connection is None:
        return False  # gone meanwhile
    app = connection["flask.app"]
    connection[CONNECTION_KEY] = True  # the socket's session, as in its plain handlers
    try:
        with app.app_context(), app.request_context(connection):
            request.sid = socket.id  # type: ignore[attr-defined]  # current_socket, as in plain handlers
            request.namespace = socket.namespace  # type: ignore[attr-defined]
            return bool(hook(socket, instance))
    except Exception:
        logger.exception("authorize failed for socket %s; it does not join the room", socket.id)
        return False


def note_admission(socket: Socket, identity: str, hook: Authorize | None) -> None:
    """Remember that ``socket`` joined the class room of model ``identity`` through ``hook``."""
    connection = socket.environ
    if connection is not None:
        connection.setdefault(ADMISSIONS_KEY, {}).setdefault(identity, set()).add(hook)


def forget_admissions(connection: dict[str, Any], identity: str | None = None) -> None:
    """Forget how the socket of ``connection`` joined the class room of ``identity`` (or of every model)."""
    admissions = connection.get(ADMISSIONS_KEY)
    if admissions is not None:
        if identity is None:
            admissions.clear()
        else:
            admissions.pop(identity, None)


def admitted(socket: Socket, identity: str, instance: Callable[[], Any]) -> bool:
    """Whether class-room member ``socket`` may join the room of an instance of model ``identity``.

    A socket that joined the class room without a hook (a view's own
    ``subscribe``, a blueprint without ``authorize``) may; one that joined
    through hooks may when one of them allows it.

    :param instance: returns the instance (loaded only when a hook is asked).
    """
    connection = socket.environ
    if connection is None:
        return False
    hooks = connection.get(ADMISSIONS_KEY, {}).get(identity)
    if not hooks or None in hooks:
        return True
    row = instance()
    if row is None:
        return False
    return any(allows(hook, socket, row) for hook in list(hooks) if hook is not None)


class HookedModel(Protocol):
    """What :func:`introduce_here` needs of a model's rooms (a ``ModelRooms``)."""

    authorizers: dict[str, Authorize]

    def instance_for_hooks(self, key_text: str) -> Any:
        """The row the hooks are asked about; needs an app context."""


#: Model identity -> its rooms, for models with ``authorize`` hooks: what a
#: process applying an introduction looks up from the room's name. One
#: registration per identity: two apps of one process with hooks on
#: different models of the same identity would share it.
_HOOKED: dict[str, HookedModel] = {}


def register_hooks(identity: str, model: HookedModel) -> None:
    """Let :func:`introduce_here` ask the hooks of ``model`` (identity ``identity``)."""
    _HOOKED[identity] = model


def introduce_here(server: socketio.Server, source: str, target: str, skip_sid: str | None) -> None:
    """The sockets of this process in class room ``source`` (but ``skip_sid``) join instance room ``target``.

    What every process applies for ``introduce`` and ``publish_create``. When
    the model has no ``authorize`` hook the whole room is copied at once;
    otherwise each socket admitted through a hook is asked about the row
    (loaded once, and only when a hook is asked).
    """
    identity, key_text = _identity_and_key(target)
    hooked = _HOOKED.get(identity) if identity is not None else None
    if hooked is None or not hooked.authorizers:
        copy_members(server, source, target, skip_sid)
        return
    loaded: list[Any] = []

    def instance() -> Any:
        if not loaded:
            loaded.append(_load(server, source, hooked, key_text))
        return loaded[0]

    introduce_admitted(server, identity or "", source, target, skip_sid, instance)


def _identity_and_key(room: str) -> tuple[str | None, str]:
    """The model identity and key text of an instance room's name (held under a scope or not)."""
    if room.startswith(MODEL_ROOM_PREFIX):
        identity, _, key = room[len(MODEL_ROOM_PREFIX) :].partition(":")
        return identity, key
    if room.startswith(SCOPE_ROOM_PREFIX):
        identity, _, rest = room[len(SCOPE_ROOM_PREFIX) :].partition(":")
        return identity, rest.partition(":")[2]
    return None, ""


def _load(server: socketio.Server, source: str, hooked: HookedModel, key_text: str) -> Any:
    """The row, loaded in an app context: the current one, or the app of a socket in ``source``."""
    if has_app_context():
        return hooked.instance_for_hooks(key_text)
    for sid in members(server, source):
        connection = server.get_environ(sid, namespace=NAMESPACE)
        if connection is not None:
            with connection["flask.app"].app_context():
                return hooked.instance_for_hooks(key_text)
    return None


def introduce_admitted(
    server: socketio.Server,
    identity: str,
    source: str,
    target: str,
    skip_sid: str | None,
    instance: Callable[[], Any],
) -> None:
    """Put each socket of this process in room ``source`` (but ``skip_sid``) in ``target`` when :func:`admitted`."""
    for sid in members(server, source):
        if sid != skip_sid:
            socket = Socket(server, sid, NAMESPACE)
            if admitted(socket, identity, instance):
                enter(server, socket, target)


# Hooks asked again on every update (a blueprint's ``reauthorize=True``)

#: Model identity -> model class, for models with a hook asked again: what a
#: process applying an update makes the row's copy of.
_REAUTHORIZED: dict[str, type[Any]] = {}


def register_reauthorize(identity: str, model: type[Any]) -> None:
    """Let updates of ``model`` (identity ``identity``) ask its sockets' ``reauthorize`` hooks again."""
    _REAUTHORIZED[identity] = model


def note_reauthorize(socket: Socket, identity: str, hook: Authorize) -> None:
    """Remember that ``socket`` joined rooms of model ``identity`` through ``hook``, to be asked again."""
    connection = socket.environ
    if connection is not None:
        connection.setdefault(REAUTHORIZE_KEY, {}).setdefault(identity, set()).add(hook)


def refused_again(
    server: socketio.Server, identity: str, sids: Iterable[str], row: Callable[[], Any]
) -> set[str]:
    """The sockets of ``sids`` (of this process) that a hook marked ``reauthorize`` now refuses the row.

    A socket admitted through such hooks stays when one of them allows it
    the row as it now is. Each hook runs in the socket's own context
    (:func:`allows`): one call per socket so admitted, per update.

    :param row: returns the row (a detached copy, made once and only when a hook is asked).
    """
    if identity not in _REAUTHORIZED:
        return set()
    refused = set()
    for sid in sids:
        socket = Socket(server, sid, NAMESPACE)
        connection = socket.environ
        hooks = connection.get(REAUTHORIZE_KEY, {}).get(identity) if connection else None
        if hooks and not any(allows(hook, socket, row()) for hook in list(hooks)):
            refused.add(sid)
    return refused


def reauthorized_model(identity: str) -> type[Any] | None:
    """The model whose updates ask ``reauthorize`` hooks again, by identity; ``None`` when none does."""
    return _REAUTHORIZED.get(identity)
