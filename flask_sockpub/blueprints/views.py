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

from ..rooms.authorization import allows
from ..rooms.autopublish import MIRROR_KEY, is_autopublished
from ..rooms.model_rooms import ModelRooms
from ..serialize import serialize
from ..sockets import Socket, find_current_socket
from .coerce import coerce
from .columns import Columns, InvalidBody
from .criteria import ListCriteria

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy


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
        authorize: Callable[[Socket, Any], bool] | None,
        mirror: bool,
    ) -> None:
        self.db = db
        self.columns = columns
        self.model = columns.model
        self.criteria = criteria
        self.rooms = rooms
        self.query = query
        self.authorize = authorize
        self.mirror = mirror

    # The routes

    def list(self) -> Response:
        """``GET /user``: a page of records; the socket joins the class room and their rooms."""
        listing = self.criteria.parse(request.args)
        base = self.base()
        session = self.db.session
        rows = session.scalars(listing.apply(base)).all()
        total = session.scalar(listing.count(base))
        socket = self.reader()
        if socket is not None:
            # A scoped list stays out of the class room: that room hears every create.
            if self.query is None:
                self.rooms.subscribe_authorized(socket, self.authorize)
            self.rooms.subscribe(socket, [row for row in rows if self.allowed(socket, row)])
        response = jsonify([self.record(row) for row in rows])
        response.headers["X-Total-Count"] = str(total)
        return response

    def get(self, id: Any) -> dict[str, Any]:
        """``GET /user/<id>``: one record; the socket joins its room."""
        row = self.find(id)
        socket = self.reader()
        if socket is not None and self.allowed(socket, row):
            self.rooms.subscribe(socket, row)
        return self.record(row)

    def create(
        self, body: Mapping[str, Any] | None = None
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        """``POST /user``: a new record, announced to the class room."""
        values = self.columns.checked_values(self.body() if body is None else body, creating=True)
        row = self.model(**values)
        self.db.session.add(row)
        published = self.commit()
        record = self.record(row)
        key = record[self.columns.primary_key]
        if not published:
            self.rooms.publish_create(record, omit=self.omitted())
        socket = find_current_socket()
        if socket is not None and self.allowed(socket, row):
            self.rooms.subscribe(socket, key)
        location = f"{request.base_url.rstrip('/')}/{quote(str(key), safe='')}"
        return record, 201, {"Location": location}

    def update(self, id: Any, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``PUT``/``PATCH /user/<id>``: the changed record, announced to its room.

        An update that changes nothing answers the record and announces nothing.
        """
        row = self.find(id)
        previous = self.record(row)
        values = self.columns.checked_values(
            self.body() if body is None else body, creating=False, stored=previous
        )
        for name, value in values.items():
            setattr(row, name, value)
        published = self.commit()
        record = self.record(row)
        if not published and record != previous:
            self.rooms.publish_update(
                record[self.columns.primary_key], record, omit=self.omitted(), previous=previous
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
        return record

    def create_shortcut(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """``GET /user/create?name=x`` (only with ``shortcuts=True``)."""
        return self.create(_shortcut_values())

    def update_shortcut(self, id: Any) -> dict[str, Any]:
        """``GET /user/update/<id>?name=x`` (only with ``shortcuts=True``)."""
        return self.update(id, _shortcut_values())

    # Helpers

    def base(self) -> sa.Select[Any]:
        """The rows this request may see: the ``query`` option's, or all."""
        return self.query() if self.query is not None else sa.select(self.model)

    def find(self, id: Any) -> Any:
        """The visible row with primary key ``id``, or a 404."""
        column = self.columns.columns[self.columns.primary_key]
        try:
            key = coerce(id, column.type)  # bounded: a 2**70 id is a 404, not an overflow
        except ValueError:
            key = None
        row = None
        if key is not None:
            row = self.db.session.scalars(self.base().where(column == key)).first()
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
            body = request.get_json(silent=True)
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

    def omitted(self) -> Socket | None:
        """Who is left out of the messages this request publishes: the requester, unless ``mirror``."""
        return None if self.mirror else find_current_socket()

    def allowed(self, socket: Socket, row: Any) -> bool:
        """Whether ``socket`` may subscribe to ``row`` (``None``: the class room)."""
        return self.authorize is None or allows(self.authorize, socket, row)


def _shortcut_values() -> dict[str, Any]:
    return {name: value for name, value in request.args.items() if name != "_"}
