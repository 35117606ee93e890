"""Command lines: ``flask sockpub routes``, ``run``, ``publish``, ``rooms``, and ``python -m flask_sockpub run``.

``SockPub.init_app`` adds the ``sockpub`` group to the app's ``flask``
command (as Flask-Migrate adds ``flask db``)::

    flask --app myapp sockpub routes   # what each route does over a socket
    flask --app myapp sockpub run      # serve HTTP and sockets on one port
    flask --app myapp sockpub publish user update 7 --data '{"name": "Amanda"}'
    flask --app myapp sockpub rooms    # the rooms of every server process

``publish`` and ``rooms`` reach the server processes through the app's
message queue (``SOCKPUB_MESSAGE_QUEUE``); without one they refuse, as a
shell process holds no socket.

``python -m flask_sockpub run myapp:app`` serves an app without ``flask``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo, pass_script_info

from .emitter import Emitter
from .model import identity_of
from .rooms.model_rooms import model_rooms
from .rooms.names import MODEL_ROOM_PREFIX, USER_ROOM_PREFIX, scope_room
from .serving.async_mode import ASYNC_MODES, pick_async_mode
from .state import app_state, has_state

#: Code that monkey-patches the interpreter, then runs this command again, for
#: ``python -m flask_sockpub`` (``-m``) and for ``flask sockpub run``
#: (``flask``). gevent and eventlet must patch before anything else is
#: imported, and by the time either command runs, the app is imported already.
PATCH_THEN_RUN = {
    "gevent": "from gevent import monkey; monkey.patch_all(); ",
    "eventlet": "import eventlet; eventlet.monkey_patch(); ",
}
RUN_AGAIN = {
    "-m": "from flask_sockpub.cli import main; main()",
    "flask": "from flask.cli import main; main()",
}
PATCHED_FLAG = "FLASK_SOCKPUB_PATCHED"
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


# python -m flask_sockpub


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line of ``python -m flask_sockpub`` and run the command."""
    parser = argparse.ArgumentParser(prog="python -m flask_sockpub")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an app: HTTP and sockets on one port")
    run.add_argument("app", help="module:name of a Flask app, or of a function returning one")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=5000)
    run.add_argument(
        "--async-mode", choices=ASYNC_MODES, default=None,
        help="gevent and eventlet monkey-patch the process first (default: threading, "
        "or whatever the app asks for)",
    )  # fmt: skip
    run.add_argument(
        "--log-level", default="INFO", help="INFO shows one access-log line per request"
    )
    args = parser.parse_args(argv)
    run_app(args.app, args.host, args.port, args.async_mode, args.log_level)


def run_app(target: str, host: str, port: int, async_mode: str | None, log_level: str) -> None:
    """Serve the app named by ``target`` until the process is stopped."""
    patch_then_run_again(async_mode, "-m")
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    serve(load_app(target), target, host, port)


def patch_then_run_again(async_mode: str | None, command: str) -> None:
    """Run this process's command again in a process monkey-patched for ``async_mode``, if it needs one."""
    if async_mode in PATCH_THEN_RUN and pick_async_mode() != async_mode:
        if os.environ.get(PATCHED_FLAG):
            raise SystemExit(f"flask_sockpub: monkey-patching for {async_mode} did not take")
        os.environ[PATCHED_FLAG] = "1"
        code = PATCH_THEN_RUN[async_mode] + RUN_AGAIN[command]
        os.execv(sys.executable, [sys.executable, "-c", code, *sys.argv[1:]])


def serve(app: Flask, name: str, host: str, port: int) -> None:
    """Serve ``app`` (called ``name`` in the banner) with its SockPub until the process is stopped."""
    if not has_state(app):
        raise SystemExit(f"flask_sockpub: {name} is a Flask app without SockPub")
    state = app_state(app)
    print(
        f"flask_sockpub: serving {name} on http://{host}:{port} "
        f"(async mode {state.socketio.async_mode})",
        flush=True,
    )
    state.sockpub.run(app, host=host, port=port)


def load_app(target: str) -> Flask:
    """The Flask app named ``module:name``; ``name`` may be a factory taking no arguments."""
    module_name, _, name = target.partition(":")
    sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    found = getattr(module, name or "app")
    if not isinstance(found, Flask) and callable(found):
        found = found()
    if not isinstance(found, Flask):
        raise SystemExit(f"flask_sockpub: {target} is not a Flask app or app factory")
    return found


# flask sockpub

#: ``flask sockpub``: added to ``app.cli`` by ``SockPub.init_app``.
sockpub_commands = AppGroup(
    "sockpub",
    help="SockPub: socket routes, a server for HTTP and sockets, and a running cluster's "
    "messages and rooms.",
)
#: What ``publish`` and ``rooms`` say without a message queue.
NO_QUEUE = (
    "{command} needs the app's SOCKPUB_MESSAGE_QUEUE (a Redis or AMQP URL) and the "
    "SOCKPUB_QUEUE_CHANNEL of its server processes: a shell process cannot reach "
    "sockets it does not hold"
)
#: The verbs of ``flask sockpub publish``.
PUBLISH_VERBS = ("create", "update", "destroy", "publish")


@dataclass(frozen=True)
class CrudBlueprint:
    """What ``flask sockpub routes`` needs to know of a blueprint made by ``sockpub.blueprint``."""

    model: type[Any]
    #: ``"scope"`` or ``"query"``: the option that narrows what it answers, if any.
    scoping: str | None
    mirror: bool


@sockpub_commands.command("routes")
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS too.")
def routes_command(all_methods: bool) -> None:
    """Every route, and what it does to rooms when a socket requests it.

    Every URL the app answers over HTTP also answers socket requests; the
    CRUD blueprints' routes also subscribe the socket to model rooms or
    publish to them.
    """
    rows = [("Endpoint", "Methods", "Rule", "Over a socket")]
    hidden = set() if all_methods else {"HEAD", "OPTIONS"}
    for rule in sorted(
        current_app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)
    ):
        methods = ", ".join(sorted((rule.methods or set()) - hidden))
        rows.append((rule.endpoint, methods, rule.rule, socket_effect(current_app, rule.endpoint)))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    rows.insert(1, ("-" * widths[0], "-" * widths[1], "-" * widths[2], "-" * len(rows[0][3])))
    for *cells, effect in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths))
        click.echo(f"{line}  {effect}".rstrip())


def socket_effect(app: Flask, endpoint: str) -> str:
    """What a socket request to ``endpoint`` does to rooms ("" for an ordinary view)."""
    blueprint_name, _, action = endpoint.rpartition(".")
    state = app_state(app)
    crud = state.sockpub.crud_blueprint_models.get(blueprint_name)
    if crud is None:
        return ""
    rooms = model_rooms(crud.model)
    class_room, instance_room = rooms.room(), rooms.room() + ":<id>"
    if crud.scoping == "scope":
        # The rooms of the request's scope; a publish reaches them while the row is inside.
        class_room = scope_room(rooms.identity, "<scope>")
        instance_room = scope_room(rooms.identity, "<scope>", "<id>")
    model_style = state.event_style == "model"
    publish = f"publishes {rooms.identity} " if model_style else "publishes "
    requester = "" if crud.mirror else ", not to the requester"
    action = action.removesuffix("_shortcut")
    opaque = crud.scoping == "query"
    if action in ("list", "get") and opaque:
        return "subscribes nothing (query=)"
    if action == "list":
        return f"subscribes to {class_room} and to {instance_room} of each listed record"
    if action == "get":
        return f"subscribes to {instance_room}"
    if action == "create":
        verb = "created" if model_style else "create"
        subscribed = "" if opaque else f"; subscribes to {instance_room} of the new record"
        where = " of each scope selecting it" if crud.scoping == "scope" else ""
        return f"{publish}{verb} to {class_room}{where}{requester}{subscribed}"
    if action == "update":
        verb = "updated" if model_style else "update"
        scoped = "; leave/enter as it leaves/enters scopes" if crud.scoping == "scope" else ""
        return f"{publish}{verb} to {instance_room}{requester}{scoped}"
    if action == "destroy":
        verb = "destroyed" if model_style else "destroy"
        return f"{publish}{verb} to {instance_room}{requester}; every socket leaves it"
    return ""


@sockpub_commands.command("run", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="The interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="The port to listen on.")
@click.option(
    "--async-mode", type=click.Choice(ASYNC_MODES), default=None,
    help="gevent and eventlet monkey-patch the process first (default: threading, "
    "or whatever the app asks for).",
)  # fmt: skip
@click.option(
    "--log-level", default="INFO", show_default=True, help="INFO logs one line per request."
)
@pass_script_info
def run_command(
    info: ScriptInfo, host: str, port: int, async_mode: str | None, log_level: str
) -> None:
    """Serve the app: HTTP and sockets on one port (as python -m flask_sockpub run does)."""
    patch_then_run_again(async_mode, "flask")
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    app = info.load_app()
    # Flask's app.run, which Flask-SocketIO serves threading mode with, does
    # nothing when it sees it runs under the flask command.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    serve(app, app.import_name, host, port)


@sockpub_commands.command("publish")
@click.argument("model")
@click.argument("verb", type=click.Choice(PUBLISH_VERBS))
@click.argument("id")
@click.option(
    "--data",
    default=None,
    help="A JSON object: the values (create, update), or the message (publish).",
)
def publish_command(model: str, verb: str, id: str, data: str | None) -> None:
    """Send a model message to the sockets of every server process, through the message queue.

    MODEL is the model's identity (``user``), VERB create, update, destroy or
    publish (a custom message), ID the instance's id. The message is the one
    ``User.publish_update(7, data)`` sends in a server process (hidden fields
    left out), and a create introduces the class room's sockets to the new
    instance.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = model_by_identity(app, model)
    values = parse_data(data, verb)
    try:
        rooms = model_rooms(found)  # UnsupportedModel (a ValueError) for a composite key
        key = rooms.id_of(id)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    queue = app.config.get("SOCKPUB_MESSAGE_QUEUE")
    if not queue:
        raise click.ClickException(NO_QUEUE.format(command="flask sockpub publish"))
    try:
        emitter = Emitter(
            queue,
            event_style=app.config["SOCKPUB_EVENT_STYLE"],
            channel=app.config["SOCKPUB_QUEUE_CHANNEL"],
        )
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    publisher = emitter.model(found)
    if verb == "create":
        publisher.publish_create({**values, rooms.key_attribute: key})
    elif verb == "update":
        publisher.publish_update(key, values)
    elif verb == "destroy":
        publisher.publish_destroy(key, previous=values or None)
    else:
        publisher.publish(key, values)
    channel = app.config["SOCKPUB_QUEUE_CHANNEL"]
    click.echo(f"published {verb} of {rooms.identity} {key} on channel {channel}")


def model_by_identity(app: Flask, identity: str) -> type[Any]:
    """The model of the app (among its CRUD blueprints' and its SQLAlchemy models) named ``identity``."""
    sockpub = app_state(app).sockpub
    models = {crud.model for crud in sockpub.crud_blueprint_models.values()}
    if sockpub.db is not None:
        models |= {mapper.class_ for mapper in sockpub.db.Model.registry.mappers}
    known: dict[str, type[Any]] = {}
    for model in models:
        try:
            known[identity_of(model)] = model
        except ValueError:
            continue  # not a model with model rooms
    if identity not in known:
        raise click.ClickException(
            f"no model of the app is called {identity!r}; its models are "
            f"{', '.join(sorted(known)) or 'none'}"
        )
    return known[identity]


def parse_data(data: str | None, verb: str) -> dict[str, Any]:
    """The JSON object of ``--data`` (``{}`` without it)."""
    if data is None:
        if verb == "publish":
            raise click.ClickException("publish needs the message: --data '{...}'")
        return {}
    try:
        values = json.loads(data)
    except ValueError as exc:
        raise click.ClickException(f"--data is not JSON: {exc}") from None
    if not isinstance(values, dict):
        raise click.ClickException(f"--data must be a JSON object, not {data}")
    return values


@sockpub_commands.command("rooms")
@click.option(
    "--timeout", type=float, default=None,
    help="Seconds to wait for the server processes (default: SOCKPUB_CLUSTER_TIMEOUT).",
)  # fmt: skip
def rooms_command(timeout: float | None) -> None:
    """The rooms of every running server process, and how many sockets are in each.

    User rooms (``listen``) are shown by their name, model rooms as ``user``
    (the class room) and ``user:7`` (an instance room). The last line says
    whether every live process answered, as ``subscribers()`` does.
    """
    state = app_state(current_app)
    cluster = state.rooms.cluster
    if cluster is None:
        raise click.ClickException(NO_QUEUE.format(command="flask sockpub rooms"))
    wait = cluster.timeout if timeout is None else timeout
    try:
        if not cluster.wait_for_peers(wait):
            raise click.ClickException(
                f"no server process answered within {wait} s on channel "
                f"{current_app.config['SOCKPUB_QUEUE_CHANNEL']}"
            )
        sizes = cluster.room_sizes(wait)
    finally:
        cluster.stop()  # a goodbye: the servers stop counting this process at once
    rows = [("Kind", "Room", "Sockets")]
    rows.extend(sorted((*room_kind_and_name(room), str(size)) for room, size in sizes.items()))
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    rows.insert(1, ("-" * widths[0], "-" * widths[1], "-" * len(rows[0][2])))
    for kind, name, size in rows:
        click.echo(f"{kind.ljust(widths[0])}  {name.ljust(widths[1])}  {size}")
    # This process answered itself: not one of those it reports on.
    counts = f"{sizes.answered - 1} of {sizes.live - 1} live processes answered"
    if sizes.complete:
        click.echo(f"complete: {counts}")
    else:
        click.echo(f"incomplete: {counts} within {wait} s")


def room_kind_and_name(room: str) -> tuple[str, str]:
    """``("room", "lobby")`` for a user room, ``("model", "user:7")`` for a model room."""
    if room.startswith(USER_ROOM_PREFIX):
        return "room", room.removeprefix(USER_ROOM_PREFIX)
    if room.startswith(MODEL_ROOM_PREFIX):
        return "model", room.removeprefix(MODEL_ROOM_PREFIX)
    return "other", room
