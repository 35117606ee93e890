"""Automatic publishing: what a commit through the Flask-SQLAlchemy session changes is published.

A model opts in with ``__sockpub_autopublish__ = True``; with
``SOCKPUB_AUTO_PUBLISH = True`` every :class:`~flask_sockpub.PubSub` model
does (``__sockpub_autopublish__ = False`` opts one out). Every row of such a
model that a commit inserts, updates or deletes is then published with
``publish_create``, ``publish_update`` or ``publish_destroy`` of its
:class:`~flask_sockpub.ModelRooms`, after the commit succeeded.

How it is captured, and why there:

* during the flush (mapper events): which rows are inserted, updated,
  deleted, and the values a row had before an update or a delete (read from
  the session's history; a value the session never loaded is read from the
  database, before the statement changes it);
* at the end of each flush (``after_flush_postexec``): the row serialised as
  it now is, as the blueprints serialise it. After the commit its attributes
  are expired and no SQL may run, so nothing is read then;
* changes are merged per row and per transaction: several flushes make one
  message per row (created then updated: one create with the last values;
  created then deleted: nothing; an update whose values end as they began:
  nothing). A savepoint's changes join its parent's when it is released and
  are dropped when it is rolled back;
* after the commit (``after_commit`` of the outermost transaction) the
  messages are published; a rollback drops them.

Not published: ``update()``/``delete()``/``insert()`` statements executed on
the session (they bypass the unit of work, so the session never knows the
rows), rows a database ``ON DELETE CASCADE`` removes, and sessions other than
Flask-SQLAlchemy's.
"""

from __future__ import annotations

import logging
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import current_app, g, has_app_context, has_request_context
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event
from sqlalchemy.orm import Mapper, attributes, object_session
from sqlalchemy.orm.base import NO_VALUE

from .. import internals
from ..scopes import column_values
from ..serialize import serialize
from ..sockets import find_current_socket
from ..state import app_state, has_state
from .model_rooms import PubSub, model_rooms
from .names import NAMESPACE

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session, SessionTransaction
    from sqlalchemy.orm.state import InstanceState

logger = logging.getLogger("flask_sockpub")

#: The class attribute by which a model opts in (``True``) or out (``False``).
AUTOPUBLISH_ATTRIBUTE = "__sockpub_autopublish__"
#: ``g`` key set by a blueprint with ``mirror=True``: its requester hears its own changes.
MIRROR_KEY = "_sockpub_mirror"
#: Where a session keeps what it will publish, in ``session.info``.
_PENDING_KEY = "sockpub.autopublish"

CREATE = "create"
UPDATE = "update"
DESTROY = "destroy"

# Apps already warned that nothing they publish automatically can be delivered.
_warned: weakref.WeakSet[Flask] = weakref.WeakSet()
_installed: list[bool] = []


def is_autopublished(model: type[Any], app: Flask | None = None) -> bool:
    """Whether commits of ``model``'s rows are published automatically in ``app`` (default: the current app)."""
    chosen = getattr(model, AUTOPUBLISH_ATTRIBUTE, None)
    if chosen is not None:
        return bool(chosen)
    if app is None:
        if not has_app_context():
            return False
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    return bool(app.config.get("SOCKPUB_AUTO_PUBLISH")) and issubclass(model, PubSub)


def install() -> None:
    """Listen to SQLAlchemy's flush and transaction events (once per process).

    The mapper events reach every model; they return at once for a model
    that is not published automatically. The session events listen to
    Flask-SQLAlchemy's sessions only.
    """
    if _installed:
        return
    _installed.append(True)
    event.listen(Mapper, "after_insert", _inserted)
    event.listen(Mapper, "before_update", _updating)
    event.listen(Mapper, "before_delete", _deleting)
    event.listen(FlaskSession, "after_flush_postexec", _flushed)
    event.listen(FlaskSession, "after_commit", _committed)
    event.listen(FlaskSession, "after_soft_rollback", _rolled_back)
    event.listen(FlaskSession, "after_transaction_end", _ended)


@dataclass
class Change:
    """What one transaction did to one row, merged over its flushes."""

    verb: str
    model: type[Any]
    key: Any = None
    #: The row serialised after the change (create, update).
    data: dict[str, Any] | None = None
    #: The row serialised before the change (update, destroy).
    previous: dict[str, Any] | None = None
    #: The column values before the change, until serialised at the end of the flush.
    old_values: dict[str, Any] | None = None
    #: The instance, kept until the commit (the session holds it weakly).
    instance: Any = None
    #: Every column after and before the change (JSON-safe), for models with
    #: scoped rooms only: scopes may read columns the messages hide.
    columns: dict[str, Any] | None = None
    previous_columns: dict[str, Any] | None = None

    def then(self, later: Change) -> Change | None:
        """This change followed by ``later`` on the same row, as one change (``None``: nothing)."""
        if self.verb == CREATE:
            if later.verb == DESTROY:
                return None
            return Change(
                CREATE,
                self.model,
                later.key,
                data=later.data,
                instance=later.instance,
                columns=later.columns,
            )
        if later.verb == DESTROY:
            return Change(
                DESTROY,
                self.model,
                later.key,
                previous=self.previous,
                previous_columns=self.previous_columns,
            )
        # update then update, or destroy then the same instance inserted again
        return Change(
            UPDATE,
            self.model,
            later.key,
            data=later.data,
            previous=self.previous,
            instance=later.instance,
            columns=later.columns,
            previous_columns=self.previous_columns,
        )


@dataclass
class Pending:
    """A session's changes to publish: per open transaction, and those of the flush under way."""

    app: Flask
    by_transaction: dict[SessionTransaction, dict[InstanceState[Any], Change]] = field(
        default_factory=dict
    )
    flushing: dict[InstanceState[Any], Change] = field(default_factory=dict)


# Capture, during the flush


def _pending(target: Any) -> tuple[Pending, InstanceState[Any]] | None:
    """The pending changes of ``target``'s session, when ``target``'s model is published automatically."""
    model = type(target)
    if getattr(model, AUTOPUBLISH_ATTRIBUTE, None) is False or not has_app_context():
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not has_state(app) or not is_autopublished(model, app):
        return None
    session = object_session(target)
    if session is None:
        return None
    pending = session.info.get(_PENDING_KEY)
    if pending is None or pending.app is not app:
        pending = session.info[_PENDING_KEY] = Pending(app)
    return pending, attributes.instance_state(target)


def _note(found: tuple[Pending, InstanceState[Any]], change: Change) -> None:
    pending, state = found
    earlier = pending.flushing.get(state)
    if earlier is None:
        pending.flushing[state] = change
        return
    # A row written twice in one flush (post_update): its values before the first write count.
    merged = earlier.then(change)
    if merged is None:
        del pending.flushing[state]
    else:
        merged.old_values = earlier.old_values
        pending.flushing[state] = merged


def _inserted(mapper: Mapper[Any], connection: sa.Connection, target: Any) -> None:
    found = _pending(target)
    if found is not None:
        _note(found, Change(CREATE, type(target), instance=target))


def _updating(mapper: Mapper[Any], connection: sa.Connection, target: Any) -> None:
    found = _pending(target)
    if found is not None:
        old = _old_values(mapper, connection, target)
        _note(found, Change(UPDATE, type(target), old_values=old, instance=target))


def _deleting(mapper: Mapper[Any], connection: sa.Connection, target: Any) -> None:
    found = _pending(target)
    if found is not None:
        old = _old_values(mapper, connection, target)
        identity = found[1].identity
        key = identity[0] if identity else None
        _note(found, Change(DESTROY, type(target), key=key, old_values=old))


def _old_values(mapper: Mapper[Any], connection: sa.Connection, target: Any) -> dict[str, Any]:
    """The row's column values before this flush changes it.

    From the session's history; what it never loaded (an attribute set while
    expired, a deferred column) is read from the database, whose row is still
    the old one before this row's statement runs.
    """
    state = attributes.instance_state(target)
    committed = state.committed_state
    loaded = state.dict
    old: dict[str, Any] = {}
    missing: list[str] = []
    for prop in mapper.column_attrs:
        key = prop.key
        if key in committed:
            value = committed[key]
        elif key in loaded:
            value = loaded[key]
        else:
            missing.append(key)
            continue
        if value is NO_VALUE:
            missing.append(key)
        else:
            old[key] = value
    if missing and state.identity:
        columns = [mapper.column_attrs[key].columns[0] for key in missing]
        condition = sa.and_(
            *(column == value for column, value in zip(mapper.primary_key, state.identity))
        )
        row = connection.execute(sa.select(*columns).where(condition)).first()
        if row is not None:
            old.update(zip(missing, row))
    return old


def _flushed(session: Session, flush_context: Any) -> None:
    """Serialise what this flush changed, with the final values, and merge it into its transaction."""
    pending: Pending | None = session.info.get(_PENDING_KEY)
    if pending is None or not pending.flushing:
        return
    changes, pending.flushing = pending.flushing, {}
    transaction = _boundary(session)
    merged = pending.by_transaction.setdefault(transaction, {})
    for state, change in changes.items():
        try:
            scoped = model_rooms(change.model).scoped
            if change.instance is not None:
                change.key = state.identity[0] if state.identity else None
                change.data = serialize(change.instance)
                if scoped:
                    change.columns = column_values(change.instance)
            if change.old_values is not None:
                old = internals.detached_copy(change.model, change.old_values)
                change.previous = serialize(old)
                if scoped:
                    change.previous_columns = column_values(old)
                change.old_values = None
        except Exception:
            # The commit goes on: a row that cannot be serialised is not published.
            logger.exception("the %s of a %s cannot be published", change.verb, change.model)
            continue
        earlier = merged.get(state)
        if earlier is None:
            merged[state] = change
        else:
            combined = earlier.then(change)
            if combined is None:
                del merged[state]
            else:
                merged[state] = combined


def _boundary(session: Session) -> SessionTransaction:
    """The transaction a flush belongs to: the innermost savepoint, else the outermost transaction."""
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None  # a flush always runs in one
    return transaction


# After the commit, or the rollback


def _committed(session: Session) -> None:
    pending: Pending | None = session.info.get(_PENDING_KEY)
    if pending is None:
        return
    nested = session.get_nested_transaction()
    if nested is not None:
        # A savepoint released: its changes become its parent's.
        changes = pending.by_transaction.pop(nested, {})
        if changes:
            parent = _parent_boundary(nested)
            merged = pending.by_transaction.setdefault(parent, {})
            for state, change in changes.items():
                earlier = merged.get(state)
                combined = change if earlier is None else earlier.then(change)
                if combined is None:
                    merged.pop(state, None)
                else:
                    merged[state] = combined
        return
    del session.info[_PENDING_KEY]
    changes = {}
    for by_row in pending.by_transaction.values():
        changes.update(by_row)
    if changes:
        publish(pending.app, list(changes.values()))


def _parent_boundary(transaction: SessionTransaction) -> SessionTransaction:
    parent = transaction.parent
    assert parent is not None
    while not parent.nested and parent.parent is not None:
        parent = parent.parent
    return parent


def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    pending: Pending | None = session.info.get(_PENDING_KEY)
    if pending is None:
        return
    pending.flushing = {}
    if previous_transaction.parent is None:
        del session.info[_PENDING_KEY]
    elif previous_transaction.nested:
        pending.by_transaction.pop(previous_transaction, None)


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # Closed without a commit or a rollback (session.close()): nothing was committed.
        session.info.pop(_PENDING_KEY, None)


# Publishing


def publish(app: Flask, changes: list[Change]) -> None:
    """Publish committed changes through the model rooms of ``app``, never raising: the commit is done."""
    omit = None if (has_request_context() and g.get(MIRROR_KEY)) else find_current_socket()
    _warn_if_undeliverable(app)
    publisher = app_state(app).rooms
    for change in changes:
        rooms = model_rooms(change.model)
        try:
            if change.verb == CREATE:
                rooms._create(publisher, change.data, omit, columns=change.columns)
            elif change.verb == UPDATE:
                # A scope may read a hidden column: its change counts too.
                hidden_change = change.columns != change.previous_columns
                if change.data != change.previous or hidden_change:
                    rooms._update(
                        publisher, change.key, change.data, omit, change.previous,
                        columns=change.columns, previous_columns=change.previous_columns,
                    )  # fmt: skip
            else:
                rooms.publish_destroy(change.key, omit, previous=change.previous)
        except Exception:
            logger.exception(
                "the committed %s of %s %r could not be published", change.verb, rooms.identity,
                change.key,
            )  # fmt: skip


def _warn_if_undeliverable(app: Flask) -> None:
    """Warn once per app when no socket can hear: no queue, no request, no socket in this process."""
    if app in _warned or has_request_context():
        return
    rooms = app_state(app).rooms
    if not rooms.alone:
        return  # a message queue carries it to the server processes
    if internals.has_sockets(rooms.server.manager, NAMESPACE):
        return
    _warned.add(app)
    logger.warning(
        "a commit outside any request published automatically, but SOCKPUB_MESSAGE_QUEUE "
        "is not set and this process holds no socket: nobody can hear it. A CLI command, "
        "worker or background task in a process that runs no server reaches the server's "
        "sockets only through the message queue (set SOCKPUB_MESSAGE_QUEUE in both)"
    )
