"""``python -m flask_sockpub``: command-line entry points."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from flask import Flask

from .serving.async_mode import ASYNC_MODES, pick_async_mode
from .state import app_state, has_state

#: Code that monkey-patches the interpreter, then runs this command again.
#: gevent and eventlet must patch before anything else is imported, and by the
#: time ``python -m flask_sockpub`` runs, the package is imported already.
PATCH_THEN_RUN = {
    "gevent": "from gevent import monkey; monkey.patch_all(); "
    "from flask_sockpub.cli import main; main()",
    "eventlet": "import eventlet; eventlet.monkey_patch(); "
    "from flask_sockpub.cli import main; main()",
}
PATCHED_FLAG = "FLASK_SOCKPUB_PATCHED"


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the command."""
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
    if async_mode in PATCH_THEN_RUN and pick_async_mode() != async_mode:
        if os.environ.get(PATCHED_FLAG):
            raise SystemExit(f"flask_sockpub: monkey-patching for {async_mode} did not take")
        os.environ[PATCHED_FLAG] = "1"
        os.execv(sys.executable, [sys.executable, "-c", PATCH_THEN_RUN[async_mode], *sys.argv[1:]])
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    app = load_app(target)
    if not has_state(app):
        raise SystemExit(f"flask_sockpub: {target} is a Flask app without SockPub")
    state = app_state(app)
    print(
        f"flask_sockpub: serving {target} on http://{host}:{port} "
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
