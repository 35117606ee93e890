"""The browser SDK, ``sockpub.js``, served at ``SOCKPUB_CLIENT_URL``.

The bundle is built from ``flask_sockpub/static/src`` (our code plus
socket.io-client from npm, bundled by esbuild) into
``flask_sockpub/static/dist/sockpub.js`` by :data:`BUILD_COMMAND`. Wheels and
sdists carry it; a clone of the repository builds it (``scripts/demo`` and
``scripts/test`` do). It is never committed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response, send_file

logger = logging.getLogger("flask_sockpub")

#: The built bundle.
BUNDLE = Path(__file__).resolve().parent.parent / "static" / "dist" / "sockpub.js"
#: What builds :data:`BUNDLE`, run at the root of a clone of flask_sockpub.
BUILD_COMMAND = "npm ci && npm run build"
#: The endpoint of the SDK's route: ``url_for("sockpub_client")`` in templates.
ENDPOINT = "sockpub_client"


def register_client_route(app: Flask) -> None:
    """Serve the SDK at ``SOCKPUB_CLIENT_URL``, unless that setting is ``None``."""
    url = app.config["SOCKPUB_CLIENT_URL"]
    if url:
        app.add_url_rule(url, endpoint=ENDPOINT, view_func=client_script)


def client_script() -> Response:
    """The bundle, or a 503 that says how to build it when it is missing."""
    # Looked up per request rather than once, so that building the bundle
    # while the server runs is enough: no restart needed.
    if not BUNDLE.is_file():
        logger.error(
            "the browser SDK is not built: %s is missing. Build it with `%s` at the root "
            "of a clone of flask_sockpub (scripts/demo and scripts/test do), or install "
            "flask-sockpub from a wheel or sdist, which carry it.",
            BUNDLE, BUILD_COMMAND,
        )  # fmt: skip
        return Response(
            f"// sockpub.js is not built: run `{BUILD_COMMAND}` (see the server's log)\n",
            503,
            mimetype="text/javascript",
        )
    return send_file(BUNDLE, mimetype="text/javascript", conditional=True)
