"""``SockPub``, the extension: configuration and wiring to Flask-SocketIO."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from functools import partial
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, current_app
from socketio.pubsub_manager import PubSubManager

from . import config, internals
from .admission import install as install_limits
from .blueprints.routes import crud_blueprint
from .blueprints.textmatch import register_sqlite_lower
from .cli import CrudBlueprint, sockpub_commands
from .cluster import Cluster, Rooms, Subscribers, queue_manager
from .cross_site import install_csrf_for_http_only
from .emitter import Emitter
from .errors import install_error_handler
from .identity import connect_login_signals, log_out_sockets, register_follow_route
from .limits import Limits, LimitSettings
from .rooms.autopublish import install as install_autopublish
from .rooms.model_rooms import ModelRooms, model_rooms
from .rooms.names import user_room
from .serving.async_mode import ASYNC_MODES, pick_async_mode
from .serving.connections import SocketIO, register_handlers
from .serving.fanout import share_frames
from .serving.green import blocking_driver
from .serving.middleware import DeclineCompression, EndWerkzeugWebSocket, NoDelay
from .serving.origins import origin_policy
from .serving.proxies import trusted_proxies
from .serving.run import serve
from .serving.sdk import register_client_route
from .sessions import session_interface
from .sockets import Socket
from .state import SockPubState, app_state, has_state, set_state
from .wholeframes import WholeFrames
from .wire.packets import packet_class
from .wire.socket_request import protected_headers

if TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

    from .testing import SocketTestClient

logger = logging.getLogger("flask_sockpub")


class SockPub:
    """Sails-style realtime for Flask: socket requests, model rooms, CRUD blueprints.

    ::

        app = Flask(__name__)
        db = SQLAlchemy(app)
        sockpub = SockPub(app, db=db)

    or, with an app factory, ``sockpub = SockPub(db=db)`` and later
    ``sockpub.init_app(app)``. Keyword options other than ``db`` go to
    Flask-SocketIO (``async_mode``, ``ping_interval``, ...). Like
    Flask-SocketIO, one ``SockPub`` serves one app at a time.

    :param db: the Flask-SQLAlchemy extension whose models get model rooms and
        blueprints.
    """

    def __init__(
        self, app: Flask | None = None, *, db: SQLAlchemy | None = None, **socketio_options: Any
    ) -> None:
        self.db = db
        self.socketio_options = socketio_options
        #: CRUD blueprints made by :meth:`blueprint`, registered on every app
        #: ``init_app`` sets up, including apps set up later.
        self.crud_blueprints: list[Blueprint] = []
        #: The model and options of each of them, by blueprint name, for ``flask sockpub routes``.
        self.crud_blueprint_models: dict[str, CrudBlueprint] = {}
        # The apps set up so far, so that a blueprint made after init_app is
        # registered too; weak, so a test's discarded app can go.
        self._apps: weakref.WeakSet[Flask] = weakref.WeakSet()
        #: The underlying ``flask_socketio.SocketIO`` (Sails 0.9's ``sails.io``).
        #: Plain ``@sockpub.socketio.on(...)`` handlers work beside SockPub's.
        self.socketio = SocketIO()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Set SockPub up for ``app``.

        Reads these ``app.config`` keys, each optional (defaults in
        :mod:`flask_sockpub.config`): ``SOCKPUB_MESSAGE_QUEUE``,
        ``SOCKPUB_QUEUE_CHANNEL``, ``SOCKPUB_HEARTBEAT_INTERVAL``,
        ``SOCKPUB_HEARTBEAT_EXPIRY``, ``SOCKPUB_CLUSTER_TIMEOUT``,
        ``SOCKPUB_CORS_ALLOWED_ORIGINS``, ``SOCKPUB_EVENT_STYLE``,
        ``SOCKPUB_CLIENT_URL``, ``SOCKPUB_MAX_PAYLOAD``,
        ``SOCKPUB_WEBSOCKET_COMPRESSION``, ``SOCKPUB_MAX_URL_LENGTH``,
        ``SOCKPUB_SESSION_IDENTITY``, ``SOCKPUB_SESSION_FOLLOW_URL``,
        ``SOCKPUB_AUTO_PUBLISH``, ``SOCKPUB_PROTECTED_HEADERS``,
        ``SOCKPUB_TRUSTED_PROXIES``, ``SOCKPUB_MAX_BINARY_BYTES``, and the limits of
        :mod:`flask_sockpub.limits`: ``SOCKPUB_MAX_REQUESTS_IN_FLIGHT``,
        ``SOCKPUB_MAX_REQUESTS_RUNNING``, ``SOCKPUB_MAX_REQUESTS_PER_SECOND``,
        ``SOCKPUB_MAX_SOCKETS_PER_ADDRESS``, ``SOCKPUB_MAX_QUEUED_BYTES``,
        ``SOCKPUB_REFUSED_LOG_RATE``, ``SOCKPUB_MAX_TEXT_CONDITIONS``,
        ``SOCKPUB_LIST_QUERY_TIMEOUT``. Gives ``MAX_CONTENT_LENGTH`` a default
        (16 MiB) when the app sets none.

        With a message queue, the process starts listening to it here (and
        waits until it hears itself, a few seconds at most), so it is part of
        the cluster before it serves anything.
        """
        if has_state(app):
            raise RuntimeError(
                "SockPub is already set up for this app: call init_app once per app."
            )
        for key, value in config.DEFAULTS.items():
            app.config.setdefault(key, value)
        if app.config.get("MAX_CONTENT_LENGTH") is None:
            app.config["MAX_CONTENT_LENGTH"] = config.DEFAULT_MAX_CONTENT_LENGTH
        event_style = app.config["SOCKPUB_EVENT_STYLE"]
        if event_style not in config.EVENT_STYLES:
            raise ValueError(
                f"SOCKPUB_EVENT_STYLE must be one of {config.EVENT_STYLES}, not {event_style!r}"
            )
        protected = protected_headers(app.config["SOCKPUB_PROTECTED_HEADERS"])
        trusted_proxies(app)  # a wrong SOCKPUB_TRUSTED_PROXIES fails here, not at a request
        max_payload = int(app.config["SOCKPUB_MAX_PAYLOAD"])
        options = self.socketio_server_options(app, max_payload)
        # Start clean, so an app never inherits another app's message queue.
        internals.reset_server_options(self.socketio)
        self.socketio.init_app(app, **options)
        server = self.socketio.server
        register_handlers(self.socketio, server)
        internals.ping_on_timers(server.eio)
        internals.read_websockets_inline(server.eio)
        limits = Limits(LimitSettings.from_config(app.config))
        install_limits(server, limits)
        share_frames(server, self.socketio.async_mode, limits.settings.max_queued_bytes)
        cluster = None
        if isinstance(server.manager, internals.QueueHooks):
            cluster = Cluster(
                server,
                server.manager,
                heartbeat_interval=float(app.config["SOCKPUB_HEARTBEAT_INTERVAL"]),
                heartbeat_expiry=float(app.config["SOCKPUB_HEARTBEAT_EXPIRY"]),
                timeout=float(app.config["SOCKPUB_CLUSTER_TIMEOUT"]),
            )
            cluster.start()
        if not app.config["SOCKPUB_WEBSOCKET_COMPRESSION"]:
            app.wsgi_app = DeclineCompression(app.wsgi_app)  # type: ignore[method-assign]
        elif self.socketio.async_mode == "gevent" and find_spec("geventwebsocket") is not None:
            logger.warning(
                "SOCKPUB_WEBSOCKET_COMPRESSION is on, but under gevent Flask-SocketIO serves "
                "WebSockets with gevent-websocket, which never compresses (uninstall "
                "gevent-websocket to have simple-websocket serve them)"
            )
        app.wsgi_app = NoDelay(app.wsgi_app)  # type: ignore[method-assign]
        if self.socketio.async_mode == "threading":
            app.wsgi_app = EndWerkzeugWebSocket(app.wsgi_app)  # type: ignore[method-assign]
        # A frame that cannot leave within Engine.IO's ping deadline ends the connection.
        write_deadline = partial(internals.ping_deadline, server.eio)
        app.wsgi_app = WholeFrames(app.wsgi_app, write_deadline)  # type: ignore[method-assign]
        blocking = blocking_driver(self.socketio.async_mode)
        if blocking is not None:
            logger.warning("%s (see the deployment docs)", blocking)
        install_error_handler(app)
        install_csrf_for_http_only(app)
        session_interface(app)
        register_client_route(app)
        register_follow_route(app)
        connect_login_signals()
        app.cli.add_command(sockpub_commands)
        install_autopublish()
        set_state(
            app,
            SockPubState(
                sockpub=self,
                socketio=self.socketio,
                server=server,
                max_payload=max_payload,
                max_url_length=int(app.config["SOCKPUB_MAX_URL_LENGTH"]),
                event_style=event_style,
                protected_headers=protected,
                rooms=Rooms(
                    server,
                    event_style,
                    cluster,
                    alone=not isinstance(server.manager, PubSubManager),
                ),
                limits=limits,
            ),
        )
        for blueprint in self.crud_blueprints:
            app.register_blueprint(blueprint)
        self.register_database_functions(app)
        self._apps.add(app)

    def register_database_functions(self, app: Flask) -> None:
        """Give the app's SQLite engines the function case-insensitive filters use.

        When ``db.init_app(app)`` has not run yet, it is done at the app's
        first request instead.
        """
        db = self.db
        if db is None:
            return
        if "sqlalchemy" in app.extensions:
            with app.app_context():
                for engine in db.engines.values():
                    register_sqlite_lower(engine)
            return
        pending = [True]

        def register_at_first_request() -> None:
            if pending and "sqlalchemy" in app.extensions:
                pending.clear()
                for engine in db.engines.values():
                    register_sqlite_lower(engine)

        app.before_request(register_at_first_request)

    def socketio_server_options(self, app: Flask, max_payload: int) -> dict[str, Any]:
        """The options SockPub gives Flask-SocketIO; the app's own options win."""
        async_mode = self.socketio_options.get("async_mode") or pick_async_mode()
        if async_mode not in ASYNC_MODES:
            raise ValueError(f"async_mode must be one of {ASYNC_MODES}, not {async_mode!r}")
        options: dict[str, Any] = {
            "async_mode": async_mode,
            "cors_allowed_origins": origin_policy(app.config["SOCKPUB_CORS_ALLOWED_ORIGINS"]),
            "max_http_buffer_size": config.transport_limit(max_payload),
            "message_queue": app.config["SOCKPUB_MESSAGE_QUEUE"],
            "serializer": packet_class(int(app.config["SOCKPUB_MAX_BINARY_BYTES"])),
            # Plain handlers open and save the socket's session through SockPub's
            # session interface, like virtual requests (see sessions.py).
            "manage_session": False,
        }
        options.update(self.socketio_options)
        options["async_mode"] = async_mode
        channel = options.pop("channel", None) or app.config["SOCKPUB_QUEUE_CHANNEL"]
        url = options.get("message_queue")
        if url and "client_manager" not in options:
            manager = queue_manager(url, channel)
            if manager is None:
                logger.warning(
                    "SOCKPUB_MESSAGE_QUEUE %s: emits reach every process, but introduce, "
                    "subscribers() and subscribing sockets held elsewhere need Redis or a "
                    "kombu queue (RabbitMQ)",
                    url.split(":", 1)[0],
                )
                options["channel"] = channel
            else:
                options["client_manager"] = manager
        return options

    def on_connect(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Register a function run when a socket connects; it may refuse the socket.

        The function gets the ``auth`` payload (``None`` if the client sent
        none; ``{"token": ...}`` for an ``Authorization: Bearer ...``
        handshake header) and runs in a request context of the handshake, so
        ``request.headers``, ``request.sid`` and ``session`` are there. Returning
        ``False`` refuses the socket; raising
        ``flask_socketio.ConnectionRefusedError`` refuses it with a reason the
        client sees (not Python's built-in exception of the same name, which
        counts as a failure of the hook: the client is told "internal server
        error")::

            from flask_socketio import ConnectionRefusedError

            @sockpub.on_connect
            def check_token(auth):
                if auth is None:
                    return                    # anonymous sockets are welcome
                if not valid(auth.get("token")):
                    raise ConnectionRefusedError("invalid token")

        Views read the payload later as ``current_socket.auth``. Hooks and
        ``@sockpub.socketio.on("connect")`` handlers run in the order they
        were registered; the first refusal wins.
        """
        self.socketio.connect_handlers.append(handler)
        return handler

    def on_disconnect(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Register a function run when a socket disconnects; it gets the reason.

        It runs in a request context of the socket's handshake;
        ``current_socket`` is the socket that leaves. A hook that fails is
        logged, and the others still run::

            @sockpub.on_disconnect
            def gone(reason):
                broadcast("presence", {"left": current_socket.id})
        """
        self.socketio.disconnect_handlers.append(handler)
        return handler

    def subscribers(self, room: str, timeout: float | None = None) -> Subscribers:
        """The sockets in the room ``room`` of :func:`~flask_sockpub.listen`, on every server process.

        Needs an app context. With a message queue every live process is asked
        and the answer waits for them at most ``timeout`` seconds (default
        ``SOCKPUB_CLUSTER_TIMEOUT``); its ``complete`` attribute says whether
        all of them answered in time::

            present = sockpub.subscribers("lobby", timeout=0.5)
            if not present.complete:
                logger.info("a server process did not answer; the list may be short")
        """
        return app_state().rooms.subscribers(user_room(room), timeout)  # type: ignore[no-any-return]

    @staticmethod
    def emitter(
        queue_url: str, *, event_style: str = "message", channel: str = config.QUEUE_CHANNEL
    ) -> Emitter:
        """A publisher for a process that runs no server: a worker, a CLI command, a cron job.

        It puts on the queue exactly the messages an app's publish would, so
        they reach subscribers on every server process::

            emitter = SockPub.emitter("redis://127.0.0.1:6379/0")
            emitter.broadcast("lobby", {"text": "maintenance at noon"})
            emitter.model(User).publish_update(7, {"name": "Amanda"})

        :param event_style: the apps' ``SOCKPUB_EVENT_STYLE``.
        :param channel: the apps' ``SOCKPUB_QUEUE_CHANNEL``.
        """
        return Emitter(queue_url, event_style=event_style, channel=channel)

    def log_out_sockets(self, identity: Any, app: Flask | None = None) -> list[Socket]:
        """Log out the sockets of ``identity`` (a user id, as the session holds it) on this process.

        For cookie sessions, where a logout over HTTP cannot reach the
        sockets' own copies of the session: each such socket's session is
        cleared, it leaves every room, and its page is told (the browser SDK
        sends its subscribing requests again, now anonymous)::

            @app.post("/logout")
            def logout():
                user_id = current_user.get_id()
                logout_user()
                sockpub.log_out_sockets(user_id)
                return {"user": None}

        With server-side sessions a logout over HTTP already reaches the
        sockets sharing that session; this call then only takes the rooms of
        the user's other sessions' sockets.

        :returns: the sockets logged out.
        """
        return log_out_sockets(app or current_app._get_current_object(), identity)  # type: ignore[attr-defined]

    def model(self, model: type[Any]) -> ModelRooms:
        """The model room methods for ``model``, a model without the :class:`~flask_sockpub.PubSub` mixin.

        ``sockpub.model(Product).subscribe(socket, sale_items)`` is
        ``Product.subscribe(socket, sale_items)`` for a ``PubSub`` model.
        """
        return model_rooms(model)

    def blueprint(
        self, model: type[Any], url_prefix: str | None = None, **options: Any
    ) -> Blueprint:
        """Build and register the CRUD blueprint of ``model`` (Sails 0.9's "CRUD Blueprints").

        Routes, under ``url_prefix`` (default: ``/`` + the model identity, e.g. ``/user``):
        ``GET /user`` (list, with Sails ``where``, ``sort``, ``limit``,
        ``skip`` and bare attribute parameters), ``GET /user/<id>``,
        ``POST /user``, ``PUT``/``PATCH /user/<id>``, ``DELETE /user/<id>``.
        Over a socket, list and get subscribe the socket to what it read;
        create, update and destroy publish to the model's rooms, over HTTP too.
        May be called before or after :meth:`init_app`. Returns the Flask
        ``Blueprint``, so hooks and error handlers can be added to it.

        :param actions: which of ``list``, ``get``, ``create``, ``update``,
            ``destroy`` exist (default: all).
        :param read_only: attributes shown but never written by clients.
        :param hidden: attributes never shown, filtered, sorted, written, nor
            sent in any message; hidden for the model, so no message or
            answer about it carries them, whoever sends it (the model's own
            ``__sockpub_hidden__`` are added).
        :param page_size: records per page when the client sends no ``limit`` (30).
        :param max_limit: the largest ``limit`` honoured (1,000).
        :param scope: a function returning, per request, a condition on the
            model's columns (``Note.owner_id == current_user.id``; equality,
            ``in_``, ``is None``, ``and_``/``or_``): list, get, update and
            destroy only reach the rows it selects, and sockets subscribe
            under it: they hear a row only while it selects it (``leave`` and
            ``enter`` messages when a row leaves or enters it), and a scoped
            list hears the creates inside its scope.
        :param query: a function returning the base ``select()`` for the current
            request: list, get, update and destroy only reach its rows, and
            sockets subscribe to nothing (warned when the blueprint is made;
            use ``scope``). Not with ``scope``.
        :param authorize: ``authorize(socket, instance) -> bool``: may this
            socket subscribe to this instance (``None``: to the class room).
            Asked wherever a socket gains a room: list and get, and the
            introductions of ``publish_create`` and ``introduce`` for sockets
            this blueprint let into the class room (then in that socket's own
            request context).
        :param reauthorize: with ``authorize``: its answer depends on the row,
            so it is asked again, on every update of the model, about each
            socket it admitted that is in the row's rooms; a refused socket
            hears ``leave`` and leaves them. One hook call per such socket per
            update.
        :param decorators: decorators for every view, or a dict of them per action.
        :param mirror: send the requesting socket its own create/update/destroy messages.
        :param shortcuts: add Sails' ``GET /user/create?name=x``,
            ``/user/update/<id>?...`` and ``/user/destroy/<id>`` routes. Off by
            default: a GET that writes is a CSRF hole.
        :param name: the blueprint's name (default ``sockpub_<identity>``).

        ::

            sockpub.blueprint(User, hidden=["password_hash"], read_only=["created_at"])
        """
        if self.db is None:
            raise RuntimeError("blueprints need the database: create SockPub(db=db)")
        blueprint = crud_blueprint(self.db, model, url_prefix, **options)
        self.crud_blueprints.append(blueprint)
        self.crud_blueprint_models[blueprint.name] = CrudBlueprint(
            model,
            scoping="scope" if options.get("scope") else "query" if options.get("query") else None,
            mirror=bool(options.get("mirror")),
        )
        for app in self._apps:
            app.register_blueprint(blueprint)
        return blueprint

    def blueprints(self, *models: type[Any], **options: Any) -> list[Blueprint]:
        """The CRUD blueprints of several models, with the same options."""
        return [self.blueprint(model, **options) for model in models]

    def run(
        self, app: Flask, host: str | None = None, port: int | None = None, **options: Any
    ) -> None:
        """Serve HTTP and sockets for ``app`` on one port (default 127.0.0.1:5000).

        Works without a terminal (under a process manager or in the
        background). Other options go to Flask-SocketIO's ``run``.
        """
        serve(self.socketio, app, host or "127.0.0.1", 5000 if port is None else port, **options)

    def test_client(self, app: Flask, **options: Any) -> SocketTestClient:
        """A socket connected to ``app`` without a network, for tests.

        See :class:`flask_sockpub.testing.SocketTestClient` for the options.
        """
        from .testing import SocketTestClient

        return SocketTestClient(app, **options)
