"""The view functions of a CRUD blueprint: list, get, create, update, destroy.

Over a socket, list and get subscribe the requesting socket to what it read
(``HEAD`` subscribes nothing); create, update and destroy publish to everybody
subscribed, over HTTP too (an update that changes nothing publishes nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response, abort, current_app, g, jsonify, request
from sqlalchemy.exc import DBAPIError

from ..internals import detached_copy
from ..rooms.authorization import allows, note_reauthorize
from ..rooms.autopublish import MIRROR_KEY, is_autopublished
from ..rooms.model_rooms import ModelRooms
from ..scopes import Scope, column_values, scope_of
from ..serialize import serialize
from ..sockets import Socket, find_current_socket
from ..storable import refuses_nul
from .coerce import coerce
from .columns import Columns, InvalidBody, out_of_range
from .criteria import CriteriaError, ListCriteria
from .query_timeout import time_bound

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

#: ``g`` key: the scope of each scoped blueprint's views in this request.
SCOPE_KEY = "_sockpub_scopes"


class CrudViews:
    """The view functions of one model's blueprint."""

    def __init__(
        self,
        db: SQLAlchemy,
        columns: Columns,
        criteria: ListCriteria,
        rooms: ModelRooms,
        *,
        query: Callable[[], sa.Select[Any]] | None,
        scope: Callable[[], Any] | None = None,
        authorize: Callable[[Socket, Any], bool] | None,
        reauthorize: bool = False,
        mirror: bool,
    ) -> None:
        self.db = db
        self.columns = columns
        self.model = columns.model
        self.criteria = criteria
        self.rooms = rooms
        self.query = query
        self.scope = scope
        self.authorize = authorize
        self.reauthorize = reauthorize
        self.mirror = mirror

    # The routes

    def list(self) -> Response:
        """``GET /user``: a page of records; the socket joins the class room and their rooms."""
        config = current_app.config
        listing = self.criteria.parse(
            request.args,
            max_text_conditions=config["SOCKPUB_MAX_TEXT_CONDITIONS"],
            nul_refused=self.nul_refused(),
        )
        base = self.base()
        session = self.db.session
        timeout = config["SOCKPUB_LIST_QUERY_TIMEOUT"]
        try:
            with time_bound(session, timeout, mapper=self.model, what="the list query") as bound:
                rows = session.scalars(listing.apply(base)).all()
                if len(rows) < listing.limit and (rows or listing.offset == 0):
                    total = listing.offset + len(rows)  # the last page: it gives the total
                else:
                    bound.restart()
                    total = session.scalar(listing.count(base))
        except DBAPIError as exc:
            if not out_of_range(exc):
                raise
            session.rollback()
            raise CriteriaError(
                "invalid list parameters: a value is out of range for its column", {}
            ) from None
        socket = self.reader()
        if socket is not None and self.query is None:
            allowed = [row for row in rows if self.allowed(socket, row)]
            scope = self.request_scope()
            if scope is None:
                self.rooms.subscribe_authorized(socket, self.authorize)
                self.rooms.subscribe(socket, allowed)
            else:
                self.rooms.subscribe_scoped(socket, scope, self.authorize, allowed, whole=True)
            self.note_reauthorize(socket)
        response = jsonify([self.record(row) for row in rows])
        response.headers["X-Total-Count"] = str(total)
        return response

    def get(self, id: Any) -> dict[str, Any]:
        """``GET /user/<id>``: one record; the socket joins its room."""
        row = self.find(id)
        socket = self.reader()
        if socket is not None and self.query is None and self.allowed(socket, row):
            self.subscribe_row(socket, row)
        return self.record(row)

    def create(
        self, body: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        """``POST /user``: a new record, announced to the class room."""
        values = self.columns.checked_values(
            self.body() if body is None else body, creating=True, nul_refused=self.nul_refused()
        )
        row = self.model(**values)
        self.db.session.add(row)
        published = self.commit()
        record = self.record(row)
        key = record[self.columns.primary_key]
        if not published:
            self.rooms.publish_create(row if self.rooms.scoped else record, omit=self.omitted())
        socket = find_current_socket()
        if socket is not None and self.query is None and self.allowed(socket, row):
            self.subscribe_row(socket, row)
        location = f"{request.base_url.rstrip('/')}/{quote(str(key), safe='')}"
        return record, 201, {"Location": location}

    def update(self, id: Any, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``PUT``/``PATCH /user/<id>``: the changed record, announced to its room.

        An update that changes nothing answers the record and announces nothing.
        """
        row = self.find(id)
        previous = self.record(row)
        # A scoped model's publish needs every column before the change (the record hides some).
        before = (
            detached_copy(self.model, column_attributes(row)) if self.rooms.scoped else previous
        )
        values = self.columns.checked_values(
            self.body() if body is None else body,
            creating=False,
            stored=previous,
            nul_refused=self.nul_refused(),
        )
        for name, value in values.items():
            setattr(row, name, value)
        published = self.commit()
        record = self.record(row)
        changed = record != previous or (  # a scope may read a hidden column
            self.rooms.scoped and column_values(row) != column_values(before)
        )
        if not published and changed:
            self.rooms.publish_update(
                record[self.columns.primary_key],
                row if self.rooms.scoped else record,
                omit=self.omitted(),
                previous=before,
            )
        return record

    def destroy(self, id: Any) -> dict[str, Any]:
        """``DELETE /user/<id>``: the record as it was; its room hears it and is emptied."""
        row = self.find(id)
        record = self.record(row)
        key = record[self.columns.primary_key]
        self.db.session.delete(row)
        if not self.commit():
            self.rooms.publish_destroy(key, omit=self.omitted(), previous=record)
        socket = find_current_socket()
        if socket is not None:
            self.rooms.unsubscribe(socket, key)  # nobody stays, the requester included
            scope = self.request_scope()
            if scope is not None:
                self.rooms.unsubscribe_scoped(socket, scope, key)
        return record

    def create_shortcut(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """``GET /user/create?name=x`` (only with ``shortcuts=True``)."""
        return self.create(_shortcut_values())

    def update_shortcut(self, id: Any) -> dict[str, Any]:
        """``GET /user/update/<id>?name=x`` (only with ``shortcuts=True``)."""
        return self.update(id, _shortcut_values())

    # Helpers

    def base(self) -> sa.Select[Any]:
        """The rows this request may see: the ``query`` option's, the ``scope`` option's, or all."""
        if self.query is not None:
            return self.query()
        scope = self.request_scope()
        if scope is not None:
            return sa.select(self.model).where(scope.clause())
        return sa.select(self.model)

    def request_scope(self) -> Scope | None:
        """The scope of this request (the ``scope`` option's expression), once per request."""
        if self.scope is None:
            return None
        cache = g.setdefault(SCOPE_KEY, {})
        found = cache.get(id(self))
        if found is None:
            found = cache[id(self)] = scope_of(self.model, self.scope())
        return found  # type: ignore[no-any-return]

    def subscribe_row(self, socket: Socket, row: Any) -> None:
        """Subscribe ``socket`` to ``row``: under the request's scope when it selects the row."""
        self.note_reauthorize(socket)
        scope = self.request_scope()
        if scope is None:
            self.rooms.subscribe(socket, row)
        elif scope.selects(column_values(row)):
            self.rooms.subscribe_scoped(socket, scope, self.authorize, [row])

    def find(self, id: Any) -> Any:
        """The visible row with primary key ``id``, or a 404."""
        column = self.columns.columns[self.columns.primary_key]
        try:
            key = coerce(id, column.type)  # bounded: a 2**70 id is a 404, not an overflow
        except ValueError:
            key = None
        if isinstance(key, str) and "\x00" in key and self.nul_refused():
            key = None  # the database cannot hold it, so no row has it
        row = None
        if key is not None:
            session = self.db.session
            try:
                row = session.scalars(self.base().where(column == key)).first()
            except DBAPIError as exc:
                if not out_of_range(exc):
                    raise
                session.rollback()  # PostgreSQL: wider than the column, so no row has it
        if row is None:
            abort(404, f"no {self.rooms.identity} with id {id}")
        return row

    def record(self, row: Any) -> dict[str, Any]:
        """A row as clients see it: serialised, without hidden attributes."""
        return self.columns.shown(serialize(row))

    def body(self) -> Mapping[str, Any]:
        """The request's values: a JSON object, or a form; ``{}`` for an empty body.

        A form's CSRF token field (Flask-WTF's ``CSRFProtect`` checked it
        already) is not a value.
        """
        if request.is_json:
            try:
                body = request.get_json(silent=True)
            except RecursionError:
                # The standard library's parser recurses once per level.
                raise InvalidBody("the body is nested too deeply", {}) from None
            if body is None:
                raise InvalidBody("the body is not valid JSON", {})
            if not isinstance(body, dict):
                raise InvalidBody(f"the body must be a JSON object, not {type(body).__name__}", {})
            return body
        if request.form:
            values = request.form.to_dict()
            if "csrf" in current_app.extensions:
                values.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
            return values
        if request.get_data(cache=True):
            raise InvalidBody("send the values as JSON or form-encoded", {})
        return {}

    def commit(self) -> bool:
        """Commit, or roll back and explain a constraint violation to the client.

        :returns: whether the commit published the change itself (the model is
            published automatically); if not, the view publishes it.
        """
        session = self.db.session
        published = is_autopublished(self.model)
        if published and self.mirror:
            g.setdefault(MIRROR_KEY, True)
        try:
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            raise self.columns.database_refusal(exc) from None
        return published

    def reader(self) -> Socket | None:
        """The socket a list or get subscribes: the requester's; nobody for HTTP and for ``HEAD``."""
        return None if request.method == "HEAD" else find_current_socket()

    def nul_refused(self) -> bool:
        """Whether the model's database cannot store NUL characters in text (PostgreSQL)."""
        return refuses_nul(self.db.session.get_bind(mapper=self.model).dialect.name)

    def omitted(self) -> Socket | None:
        """Who is left out of the messages this request publishes: the requester, unless ``mirror``."""
        return None if self.mirror else find_current_socket()

    def note_reauthorize(self, socket: Socket) -> None:
        """With ``reauthorize=True``: the hook is asked again about ``socket`` on every update of its rows."""
        if self.reauthorize and self.authorize is not None:
            note_reauthorize(socket, self.rooms.identity, self.authorize)

    def allowed(self, socket: Socket, row: Any) -> bool:
        """Whether ``socket`` may subscribe to ``row`` (``None``: the class room)."""
        return self.authorize is None or allows(self.authorize, socket, row)


def column_attributes(row: Any) -> dict[str, Any]:
    """Every column attribute of ``row``, as the row holds it (a copy, taken before a change)."""
    return {prop.key: getattr(row, prop.key) for prop in sa.inspect(type(row)).column_attrs}


def _shortcut_values() -> dict[str, Any]:
    return {name: value for name, value in request.args.items() if name != "_"}
