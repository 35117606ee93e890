"""CRUD blueprints: REST for one model over HTTP and sockets, with Sails list parameters and pubsub.

``sockpub.blueprint(User)`` builds a Flask ``Blueprint`` with these routes
(the seed's "Using CRUD Blueprints"):

=================================  ==========================================
route                              action
=================================  ==========================================
``GET /user``                      list (Sails ``where``/``sort``/``limit``/``skip``)
``GET /user/<id>``                 one, or 404
``POST /user``                     create: 201 with the record
``PUT``/``PATCH /user/<id>``       update: 200 with the record, or 404
``DELETE /user/<id>``              destroy: 200 with the record as it was, or 404
=================================  ==========================================

Over a socket, list and get subscribe the requesting socket to what it read;
create, update and destroy publish to everybody subscribed, over HTTP too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from .bodies import Columns, InvalidBody
from .coerce import coerce, column_kind
from .criteria import DEFAULT_MAX_LIMIT, DEFAULT_PAGE_SIZE, ListCriteria
from .errors import FieldErrors, json_error
from .pubsub import ModelRooms, model_rooms
from .serialize import SERIALIZE_HOOK, serialize
from .sockets import Socket, find_current_socket

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

#: Every action a blueprint can have, in the order routes are added.
ACTIONS = ("list", "get", "create", "update", "destroy")
#: A function taking a view and returning it decorated (``login_required``...).
Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]
#: The id converter of a route, by the kind of the primary key column.
ID_CONVERTERS = {"integer": "int", "uuid": "uuid"}


def crud_blueprint(
    db: SQLAlchemy,
    model: type[Any],
    url_prefix: str | None = None,
    *,
    name: str | None = None,
    actions: Iterable[str] = ACTIONS,
    read_only: Iterable[str] = (),
    hidden: Iterable[str] = (),
    page_size: int = DEFAULT_PAGE_SIZE,
    max_limit: int = DEFAULT_MAX_LIMIT,
    query: Callable[[], sa.Select[Any]] | None = None,
    authorize: Callable[[Socket, Any], bool] | None = None,
    decorators: Sequence[Decorator] | Mapping[str, Decorator | Sequence[Decorator]] = (),
    mirror: bool = False,
    shortcuts: bool = False,
) -> Blueprint:
    """The CRUD blueprint of ``model``; see :meth:`flask_sockpub.SockPub.blueprint` for the options."""
    chosen = tuple(actions)
    unknown = sorted(set(chosen) - set(ACTIONS))
    if unknown:
        raise ValueError(f"unknown actions {', '.join(unknown)}; choose from {', '.join(ACTIONS)}")
    columns = Columns.of(model, hidden=hidden, read_only=read_only)
    _refuse_binary_columns(columns)
    rooms = model_rooms(model)
    views = CrudViews(
        db,
        columns,
        ListCriteria(model, columns.exposed, page_size=page_size, max_limit=max_limit),
        rooms,
        query=query,
        authorize=authorize,
        mirror=mirror,
    )
    blueprint = Blueprint(
        name or f"sockpub_{rooms.identity}".replace(".", "_"),
        model.__module__,
        url_prefix=f"/{rooms.identity}" if url_prefix is None else url_prefix,
    )
    key = f"<{ID_CONVERTERS.get(column_kind(columns.columns[columns.primary_key].type) or '', 'string')}:id>"
    wrap = _decorating(decorators)
    # action -> (rule, methods, endpoint, view)
    routes: dict[str, list[tuple[str, list[str], str, Callable[..., Any]]]] = {
        "list": [("", ["GET"], "list", views.list)],
        "get": [(f"/{key}", ["GET"], "get", views.get)],
        "create": [("", ["POST"], "create", views.create)],
        "update": [(f"/{key}", ["PUT", "PATCH"], "update", views.update)],
        "destroy": [(f"/{key}", ["DELETE"], "destroy", views.destroy)],
    }
    if shortcuts:
        # Sails' GET shortcuts write on a GET: a CSRF hole, hence off by default.
        routes["create"].append(("/create", ["GET"], "create_shortcut", views.create_shortcut))
        routes["update"].append(
            (f"/update/{key}", ["GET"], "update_shortcut", views.update_shortcut)
        )
        routes["destroy"].append((f"/destroy/{key}", ["GET"], "destroy_shortcut", views.destroy))
    for action in ACTIONS:
        if action in chosen:
            for rule, methods, endpoint, view in routes[action]:
                blueprint.add_url_rule(
                    rule, endpoint, wrap(action, view), methods=methods, strict_slashes=False
                )
    blueprint.register_error_handler(HTTPException, json_error)
    blueprint.register_error_handler(FieldErrors, field_errors)
    return blueprint


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
        socket = find_current_socket()
        if socket is not None:
            # A scoped list stays out of the class room: that room hears every create.
            if self.query is None and self.allowed(socket, None):
                self.rooms.subscribe(socket)
            self.rooms.subscribe(socket, [row for row in rows if self.allowed(socket, row)])
        response = jsonify([self.record(row) for row in rows])
        response.headers["X-Total-Count"] = str(total)
        return response

    def get(self, id: Any) -> dict[str, Any]:
        """``GET /user/<id>``: one record; the socket joins its room."""
        row = self.find(id)
        socket = find_current_socket()
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
        self.commit()
        record = self.record(row)
        key = record[self.columns.primary_key]
        self.rooms.publish_create(record, omit=self.omitted())
        socket = find_current_socket()
        if socket is not None and self.allowed(socket, row):
            self.rooms.subscribe(socket, key)
        return record, 201, {"Location": f"{request.base_url.rstrip('/')}/{key}"}

    def update(self, id: Any, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """``PUT``/``PATCH /user/<id>``: the changed record, announced to its room."""
        row = self.find(id)
        values = self.columns.checked_values(self.body() if body is None else body, creating=False)
        previous = self.record(row)
        for name, value in values.items():
            setattr(row, name, value)
        self.commit()
        record = self.record(row)
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
        self.commit()
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
        """The request's values: a JSON object, or a form; ``{}`` for an empty body."""
        if request.is_json:
            body = request.get_json(silent=True)
            if body is None:
                raise InvalidBody("the body is not valid JSON", {})
            if not isinstance(body, dict):
                raise InvalidBody(f"the body must be a JSON object, not {type(body).__name__}", {})
            return body
        if request.form:
            return request.form.to_dict()
        if request.get_data(cache=True):
            raise InvalidBody("send the values as JSON or form-encoded", {})
        return {}

    def commit(self) -> None:
        """Commit, or roll back and explain a constraint violation to the client."""
        session = self.db.session
        try:
            session.commit()
        except DBAPIError as exc:
            session.rollback()
            raise self.columns.database_refusal(exc) from None

    def omitted(self) -> Socket | None:
        """Who is left out of the messages this request publishes: the requester, unless ``mirror``."""
        return None if self.mirror else find_current_socket()

    def allowed(self, socket: Socket, row: Any) -> bool:
        """Whether ``socket`` may subscribe to ``row`` (``None``: the class room)."""
        return self.authorize is None or bool(self.authorize(socket, row))


def field_errors(error: FieldErrors) -> tuple[Response, int]:
    """``{"error": ..., "fields": {...}}`` with the error's status."""
    return jsonify(error=error.message, fields=error.fields), error.status


def _shortcut_values() -> dict[str, Any]:
    return {name: value for name, value in request.args.items() if name != "_"}


def _decorating(
    decorators: Sequence[Decorator] | Mapping[str, Decorator | Sequence[Decorator]],
) -> Callable[[str, Callable[..., Any]], Callable[..., Any]]:
    """A function decorating an action's view: all views alike, or per action."""
    if isinstance(decorators, Mapping):
        unknown = sorted(set(decorators) - set(ACTIONS))
        if unknown:
            raise ValueError(f"decorators for unknown actions {', '.join(unknown)}")
        per_action = {
            action: [found] if callable(found) else list(found)
            for action, found in decorators.items()
        }
    else:
        per_action = {action: list(decorators) for action in ACTIONS}

    def wrap(action: str, view: Callable[..., Any]) -> Callable[..., Any]:
        # Flask's convention (View.decorators): each wraps the previous, the last is outermost.
        for decorator in per_action.get(action, ()):
            view = decorator(view)
        return view

    return wrap


def _refuse_binary_columns(columns: Columns) -> None:
    if hasattr(columns.model, SERIALIZE_HOOK):
        return
    for name in columns.exposed:
        if isinstance(columns.columns[name].type, sa.LargeBinary):
            raise ValueError(
                f"{columns.model.__name__}.{name} holds bytes, which JSON cannot carry: "
                f"hide it (hidden=[{name!r}]) or define {SERIALIZE_HOOK}"
            )
