"""The CRUD blueprint of a model: its routes, decorators and error handlers.

``sockpub.blueprint(User)`` builds a Flask ``Blueprint`` with these routes
(Sails 0.9's "Using CRUD Blueprints"):

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

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, jsonify
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from ..cross_site import refuse_cross_site_write
from ..errors import json_error
from ..internals import LateSetupBlueprint
from ..model import hide
from ..rooms.authorization import register_reauthorize
from ..rooms.model_rooms import model_rooms
from ..serialize import SERIALIZE_HOOK
from ..sockets import Socket
from ..state import app_state, has_state
from .coerce import column_kind
from .columns import Columns
from .criteria import DEFAULT_MAX_LIMIT, DEFAULT_PAGE_SIZE, ListCriteria
from .errors import FieldErrors, field_errors
from .query_timeout import QueryTimeout
from .views import CrudViews

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
    scope: Callable[[], Any] | None = None,
    authorize: Callable[[Socket, Any], bool] | None = None,
    reauthorize: bool = False,
    decorators: Sequence[Decorator] | Mapping[str, Decorator | Sequence[Decorator]] = (),
    mirror: bool = False,
    shortcuts: bool = False,
) -> Blueprint:
    """The CRUD blueprint of ``model``; see :meth:`flask_sockpub.SockPub.blueprint` for the options."""
    chosen = tuple(actions)
    unknown = sorted(set(chosen) - set(ACTIONS))
    if unknown:
        raise ValueError(f"unknown actions {', '.join(unknown)}; choose from {', '.join(ACTIONS)}")
    if scope is not None and query is not None:
        raise ValueError(
            "give scope= or query=, not both: scope= is a query whose rows sockets hear "
            "while they stay inside it"
        )
    if reauthorize and authorize is None:
        raise ValueError("reauthorize=True asks the authorize hook again: give authorize= too")
    columns = Columns.of(model, hidden=hidden, read_only=read_only)
    _refuse_binary_columns(columns)
    rooms = model_rooms(model)
    blueprint_name = name or f"sockpub_{rooms.identity}".replace(".", "_")
    # Hidden by one blueprint, hidden in every message about the model; its
    # authorize guards what publish_create and introduce give the sockets it admitted.
    hide(model, blueprint_name, columns.hidden)
    if authorize is None:
        rooms.authorizers.pop(blueprint_name, None)
    else:
        rooms.add_authorizer(blueprint_name, authorize)
    if scope is not None or reauthorize:
        rooms.scoped = True
    if reauthorize:
        register_reauthorize(rooms.identity, model)
    if query is not None:
        warnings.warn(
            f"the blueprint of {model.__name__} has query=, so its sockets subscribe to "
            "nothing: sockets cannot be told when a row enters or leaves an opaque query. "
            "Use scope= (a condition on the model's columns) to subscribe them under it",
            UserWarning,
            stacklevel=3,
        )
    views = CrudViews(
        db,
        columns,
        ListCriteria(model, columns.exposed, page_size=page_size, max_limit=max_limit),
        rooms,
        query=query,
        scope=scope,
        authorize=authorize,
        reauthorize=reauthorize,
        mirror=mirror,
    )
    blueprint = LateSetupBlueprint(
        blueprint_name,
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
    blueprint.before_request(refuse_cross_site_write)
    blueprint.register_error_handler(HTTPException, json_error)
    blueprint.register_error_handler(FieldErrors, field_errors)
    blueprint.register_error_handler(QueryTimeout, query_timeout)
    blueprint.record(_answer_routing_errors_as_json)
    return blueprint


def query_timeout(error: QueryTimeout) -> tuple[Response, int]:
    """``{"error": ...}`` with 503: a list query ran past ``SOCKPUB_LIST_QUERY_TIMEOUT``."""
    return jsonify(error=error.message), error.status


def _answer_routing_errors_as_json(state: BlueprintSetupState) -> None:
    # A 404 or 405 from routing happens before the blueprint's handlers apply:
    # the app-wide handler answers it as JSON under this prefix.
    app = state.app
    if isinstance(app, Flask) and has_state(app):
        app_state(app).json_error_prefixes.append(state.url_prefix or "/")


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
