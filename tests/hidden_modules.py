"""Servers started without gevent-websocket, as if it were not installed.

Under gevent, Flask-SocketIO serves WebSockets with gevent-websocket whenever
it is importable (it never compresses), else with simple-websocket. The test
extras install it, so the tests hide it from the servers that must run without.
"""

from __future__ import annotations

from pathlib import Path


def without_gevent_websocket(directory: Path) -> str:
    """Make ``directory`` a place whose ``geventwebsocket`` fails to import; returns it.

    Put first on a server's ``PYTHONPATH``, it hides the installed package.
    """
    package = directory / "geventwebsocket"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text(
        'raise ImportError("gevent-websocket is hidden from this server by the tests")\n'
    )
    return str(directory)
